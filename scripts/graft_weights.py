#!/usr/bin/env python
"""Carry a fine-tune over to newer base weights: ``new_base + alpha * (tuned - old_base)``.

    python scripts/graft_weights.py --old-base runs/defaults/unet-hw --tuned runs/defaults/unet-real4 \\
        --new-base runs/defaults/unet-hw2 --out runs/defaults/unet-real-hw2

The difference ``tuned - old_base`` is what a fine-tune learnt (for the real-noise unet: four
stages on camera noise, about 2 CPU hours); when the base it started from gets a further stage of
its own (the default unet's second stage), adding that difference to the newer base gives both
without re-running the fine-tune ("task arithmetic": Ilharco et al., "Editing Models with Task
Arithmetic", ICLR 2023). The three checkpoints must share one architecture (same tensor names and
shapes). ``alpha`` scales the fine-tune's share; 1 adds it whole.

Each argument is a checkpoint folder (``diffusion_pytorch_model.safetensors`` beside its
``config.json``) or a ``.safetensors`` file. The output folder gets the weights in fp32 (``--bf16``:
halved, as shipped), the tuned checkpoint's ``config.json``/``scheduler_config.json``, and its
``stdit.json`` with a ``graft`` record of the inputs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from stdit_cli.weights import readable_as_umask_allows

WEIGHTS = "diffusion_pytorch_model.safetensors"


def weights_file(path: Path) -> Path:
    return path / WEIGHTS if path.is_dir() else path


def graft(old_base: dict[str, torch.Tensor], tuned: dict[str, torch.Tensor], new_base: dict[str, torch.Tensor],
          alpha: float = 1.0) -> dict[str, torch.Tensor]:
    """``new_base + alpha * (tuned - old_base)`` per floating tensor (in fp32); other tensors from ``new_base``."""
    if not (old_base.keys() == tuned.keys() == new_base.keys()):
        missing = sorted(set(old_base) ^ set(tuned) | set(tuned) ^ set(new_base))
        raise ValueError(f"the checkpoints hold different tensors, e.g. {missing[:3]}")
    out = {}
    for name, base in new_base.items():
        if not (base.shape == tuned[name].shape == old_base[name].shape):
            raise ValueError(f"{name}: shapes differ ({tuple(old_base[name].shape)}, {tuple(tuned[name].shape)}, {tuple(base.shape)})")
        if base.is_floating_point():
            out[name] = base.float() + alpha * (tuned[name].float() - old_base[name].float())
        else:
            out[name] = base
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-base", type=Path, required=True, help="the weights the fine-tune started from")
    parser.add_argument("--tuned", type=Path, required=True, help="the fine-tune's result (its folder supplies the config)")
    parser.add_argument("--new-base", type=Path, required=True, help="the newer base weights")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--bf16", action="store_true", help="store the result in bf16 (the shipped, compact form)")
    args = parser.parse_args()
    try:
        state = graft(*(load_file(str(weights_file(p))) for p in (args.old_base, args.tuned, args.new_base)), alpha=args.alpha)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.bf16:
        state = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}
    config_dir = args.tuned if args.tuned.is_dir() else args.tuned.parent
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = args.out / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    readable_as_umask_allows(tmp)  # safetensors writes 0600
    tmp.replace(args.out / WEIGHTS)
    for name in ("config.json", "scheduler_config.json"):
        if (config_dir / name).is_file() and config_dir.resolve() != args.out.resolve():
            shutil.copyfile(config_dir / name, args.out / name)
    metadata = json.loads((config_dir / "stdit.json").read_text()) if (config_dir / "stdit.json").is_file() else {}
    metadata["graft"] = {"old_base": str(args.old_base), "tuned": str(args.tuned), "new_base": str(args.new_base), "alpha": args.alpha}
    (args.out / "stdit.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    print(f"{args.out}: {args.new_base} + {args.alpha:g} x ({args.tuned} - {args.old_base})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
