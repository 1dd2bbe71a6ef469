#!/usr/bin/env python
"""Wrap a trained STDiT checkpoint as a DiffuserSTDiT checkpoint (the same network, diffusers API).

    python scripts/stdit_to_diffuser.py runs/defaults/stdit runs/defaults/diffuser

``DiffuserSTDiT`` holds an ``STDiT`` with the same configuration as ``self.model``, so its
weights are the STDiT weights under the ``model.`` prefix; the noise schedule and training
metadata are carried over. The outputs of the two checkpoints are identical (checked here).
"""

from __future__ import annotations

import argparse

import torch

from stdit_cli.models import DiffuserSTDiT
from stdit_cli.weights import load_checkpoint, save_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stdit_checkpoint")
    parser.add_argument("out")
    args = parser.parse_args()
    source = load_checkpoint(args.stdit_checkpoint, "stdit")
    config = {k: v for k, v in source.model.config.items() if not k.startswith("_")}
    wrapper = DiffuserSTDiT(**config).eval()
    wrapper.model.load_state_dict(source.model.state_dict(), strict=True)
    video = torch.rand(1, 3, 3, 20, 20) * 2 - 1
    with torch.inference_mode():
        same = torch.equal(wrapper(video, 50).sample, source.model(video, 50))
    if not same:
        raise SystemExit("the wrapped model does not reproduce the STDiT outputs")
    metadata = {**source.metadata, "converted_from": str(args.stdit_checkpoint)}
    save_checkpoint(wrapper, args.out, source.schedule, metadata)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
