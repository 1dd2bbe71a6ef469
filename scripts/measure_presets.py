#!/usr/bin/env python
"""Parameters and one forward pass time of every backbone preset (CPU, fp32).

    python scripts/measure_presets.py [--frames 8 --size 64 --threads N]

Each model gets a canonical ``[1, 3, T, S, S]`` clip through its adapter (SegDiT sees the T
frames as a batch), under ``torch.inference_mode``; the time is the median of 3 runs after one
warm-up. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from stdit_cli.pipeline.adapters import ADAPTERS
from stdit_cli.presets import PRESET_NAMES, load_preset


def time_forward(model_name: str, preset: str, frames: int, size: int) -> tuple[int, float]:
    adapter = ADAPTERS[model_name]
    model = adapter.model_class(**load_preset(model_name, preset)).eval()
    video = torch.rand(1, 3, frames, size, size) * 2 - 1
    timestep = torch.tensor([100])
    times = []
    with torch.inference_mode():
        for _ in range(4):
            started = time.perf_counter()
            adapter.predict(model, video, timestep)
            times.append(time.perf_counter() - started)
    return sum(p.numel() for p in model.parameters()), statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"| model | preset | parameters | forward {args.frames}x{args.size}x{args.size} (s) |")
    print("|---|---|---:|---:|")
    for model_name in ADAPTERS:
        for preset in PRESET_NAMES:
            params, seconds = time_forward(model_name, preset, args.frames, args.size)
            print(f"| {model_name} | {preset} | {params:,} | {seconds:.3f} |", flush=True)
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
