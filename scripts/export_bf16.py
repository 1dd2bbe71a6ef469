#!/usr/bin/env python
"""Copy a checkpoint folder with its weights in bf16: half the bytes, for committing and shipping.

    python scripts/export_bf16.py runs/gpu-chunk stdit_cli/weights/unet-gpu

Writes ``config.json``, ``diffusion_pytorch_model.safetensors`` (floating tensors as bf16),
``scheduler_config.json`` and ``stdit.json`` (with ``trained_steps`` added to the steps of the
checkpoint it was initialised from, so chunked runs count their total). ``load_checkpoint`` turns
the weights back into fp32 parameters; the pipeline's autocast picks the precision it runs in.
Fails if the weights file would exceed ``--max-mib`` (a device run brings back 16 MiB per file).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from stdit_cli.weights import LEVEL_ESTIMATOR, copy_level_estimator, readable_as_umask_allows

WEIGHTS = "diffusion_pytorch_model.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--max-mib", type=float, default=16.0)
    args = parser.parse_args()
    state = load_file(str(args.source / WEIGHTS))
    compact = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}
    size_mib = sum(v.numel() * v.element_size() for v in compact.values()) / 2**20
    if size_mib > args.max_mib:
        print(f"error: {args.source}: {size_mib:.1f} MiB in bf16, over --max-mib {args.max_mib:g}", file=sys.stderr)
        return 1
    metadata = json.loads((args.source / "stdit.json").read_text()) if (args.source / "stdit.json").is_file() else {}
    init_from = metadata.get("train_config", {}).get("init_from")
    if init_from and (Path(init_from) / "stdit.json").is_file():
        before = json.loads((Path(init_from) / "stdit.json").read_text()).get("trained_steps_total")
        before = before if before is not None else json.loads((Path(init_from) / "stdit.json").read_text()).get("trained_steps", 0)
        metadata["trained_steps_total"] = before + metadata.get("trained_steps", 0)
    args.target.mkdir(parents=True, exist_ok=True)
    tmp = args.target / (WEIGHTS + ".tmp")
    save_file(compact, str(tmp), metadata={"format": "pt"})
    readable_as_umask_allows(tmp)  # safetensors writes 0600
    tmp.replace(args.target / WEIGHTS)
    for name in ("config.json", "scheduler_config.json"):
        shutil.copyfile(args.source / name, args.target / name)
    if (args.source / LEVEL_ESTIMATOR / "config.json").is_file():  # weights trained on its readings read with it
        copy_level_estimator(args.source / LEVEL_ESTIMATOR, args.target)
    (args.target / "stdit.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    print(f"{args.target}: {size_mib:.1f} MiB (bf16), {metadata.get('trained_steps_total', metadata.get('trained_steps'))} steps in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
