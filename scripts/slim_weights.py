#!/usr/bin/env python3
"""A narrower UNetSTIC initialised from a trained one: every tensor sliced to the narrower shapes.

    python scripts/slim_weights.py stdit_cli/weights/unet halfres-fast --out runs/fast-init

The student has the teacher's layout (levels, blocks, stem) with fewer channels per level. Each
channel space keeps, from every GroupNorm group of the teacher, its first channels (so a
student group is a subset of one teacher group, and the group statistics stay those of related
channels); the temporal convolutions' taps (``(3 C)`` outputs) and the up path's concatenated
inputs (``[hidden, skip]``) are sliced part by part; the sinusoidal time features keep the
frequencies nearest the student's. The result is a start for training (``stdit train --init-from``),
not a model: the sliced network barely denoises (its function is not the teacher's), but it trains
faster than a fresh one (docs/training.md, the ``--fast`` checkpoint).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import torch

from stdit_cli.models import UNetSTIC
from stdit_cli.presets import load_preset
from stdit_cli.weights import load_checkpoint, readable_as_umask_allows

# the up path's resnets read torch.cat([hidden, skip]): these tensors' input channels come in two parts
_CONCAT_INPUT = re.compile(r"up_blocks\.(\d+)\.layers\.(\d+)\.resnet\.(norm1\.(weight|bias)|conv1\.weight|conv_shortcut\.weight)$")
_TEMPORAL_TAPS = re.compile(r"\.temp_conv\.conv[12]\.(weight|bias)$")


def up_concat_parts(config: dict, block: int, layer: int) -> tuple[int, int]:
    """(hidden, skip) channels that ``up_blocks.<block>.layers.<layer>`` concatenates (UNetSTIC's constructor)."""
    reversed_channels = list(reversed(config["block_out_channels"]))
    levels = len(reversed_channels)
    prev = reversed_channels[0]
    for i, channels in enumerate(reversed_channels):
        if i == block:
            last = config["layers_per_block"]  # an up block has layers_per_block + 1 layers
            skip = reversed_channels[min(i + 1, levels - 1)] if layer == last else channels
            return (prev if layer == 0 else channels), skip
        prev = channels
    raise ValueError(f"no up block {block}")


def group_indices(teacher: int, student: int, groups: int) -> torch.Tensor:
    """Indices of ``student`` of ``teacher`` channels: the first ``student / groups`` of each group."""
    if teacher % groups or student % groups:
        return torch.arange(student)
    per_t, per_s = teacher // groups, student // groups
    return torch.tensor([g * per_t + r for g in range(groups) for r in range(per_s)])


def spread_indices(teacher: int, student: int) -> torch.Tensor:
    """Evenly spread indices (for sinusoidal features: the nearest frequencies)."""
    return torch.round(torch.arange(student) * (teacher - 1) / max(student - 1, 1)).long()


def slice_dim(tensor: torch.Tensor, dim: int, parts_t: list[int], parts_s: list[int], pick) -> torch.Tensor:
    """Slice ``dim`` part by part: part k of the teacher's size ``parts_t[k]`` becomes ``parts_s[k]``."""
    pieces, start = [], 0
    for size_t, size_s in zip(parts_t, parts_s):
        index = pick(size_t, size_s) + start
        pieces.append(tensor.index_select(dim, index))
        start += size_t
    return torch.cat(pieces, dim=dim)


def slim_state_dict(teacher: dict[str, torch.Tensor], student_shapes: dict[str, torch.Size], t_config: dict,
                    s_config: dict) -> dict[str, torch.Tensor]:  # fmt: skip
    groups = s_config["norm_num_groups"]
    out = {}
    for name, shape in student_shapes.items():
        tensor = teacher[name]
        for dim, (size_t, size_s) in enumerate(zip(tensor.shape, shape)):
            if size_t == size_s:
                continue
            parts_t, parts_s = [size_t], [size_s]
            pick = lambda t, s: group_indices(t, s, groups)  # noqa: E731
            concat = _CONCAT_INPUT.search(name)
            if concat and dim == (0 if "norm1" in name else 1):
                block, layer = int(concat.group(1)), int(concat.group(2))
                parts_t = list(up_concat_parts(t_config, block, layer))
                parts_s = list(up_concat_parts(s_config, block, layer))
            elif _TEMPORAL_TAPS.search(name) and dim == 0:
                parts_t, parts_s = [size_t // 3] * 3, [size_s // 3] * 3
            elif name == "time_embedding.linear_1.weight" and dim == 1:
                # [cos(half), sin(half)] features of the timestep: the nearest frequencies
                parts_t, parts_s = [size_t // 2] * 2, [size_s // 2] * 2
                pick = spread_indices
            tensor = slice_dim(tensor, dim, parts_t, parts_s, pick)
        out[name] = tensor.contiguous()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("teacher", type=Path, help="checkpoint folder of the trained unet")
    parser.add_argument("preset", help="the narrower preset (a name in configs/unet or a YAML path)")
    parser.add_argument("--out", type=Path, required=True, help="the checkpoint folder to write")
    args = parser.parse_args()

    checkpoint = load_checkpoint(args.teacher, "unet")
    t_config = dict(checkpoint.model.config)
    s_config = load_preset("unet", args.preset)
    student = UNetSTIC(**s_config)
    for key in ("patch_size", "down_block_types", "up_block_types", "layers_per_block", "norm_num_groups"):
        if s_config.get(key) != t_config.get(key):
            raise SystemExit(f"{key} differs ({t_config.get(key)} vs {s_config.get(key)}): only channel counts may")
    shapes = {k: v.shape for k, v in student.state_dict().items()}
    teacher = {k: v.float() for k, v in checkpoint.model.state_dict().items()}
    student.load_state_dict(slim_state_dict(teacher, shapes, t_config, s_config), strict=True)
    args.out.mkdir(parents=True, exist_ok=True)
    student.save_pretrained(args.out)
    readable_as_umask_allows(args.out)  # safetensors writes 0600
    shutil.copy(args.teacher / "scheduler_config.json", args.out)
    metadata = json.loads((args.teacher / "stdit.json").read_text())
    metadata = {"frames": metadata.get("frames", 5), "trained_steps": 0, "sliced_from": str(args.teacher)}
    (args.out / "stdit.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"{args.out}: {sum(p.numel() for p in student.parameters()) / 1e6:.2f} M parameters, sliced from {args.teacher}")


if __name__ == "__main__":
    main()
