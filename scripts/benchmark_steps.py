#!/usr/bin/env python
"""How many sampler steps pay off? PSNR of a checkpoint on Vid4 crops for several --steps.

    python scripts/benchmark_steps.py --checkpoint stdit_cli/weights/unet [--steps 1 2 4] [--sigmas 10 25 50]

For each Vid4 sequence (first ``--frames`` frames, centre ``--crop`` pixels), sigma and step
count: 8-bit Gaussian noise with a fixed seed, the pipeline's own windows/tiles and sampler
(in-process, oracle sigma), PSNR against the clean clip. Prints a Markdown table (mean over
sequences). Used to choose the default of ``stdit denoise --steps``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
from stdit_cli.pipeline.tiling import StreamingBlender
from stdit_cli.weights import load_checkpoint

VID4 = Path(__file__).resolve().parents[2] / "shared" / "data" / "vid4"


def load_clip(sequence: str, frames: int, crop: int) -> np.ndarray:
    files = sorted((VID4 / sequence).glob("hr_*.png"))[:frames]
    clip = np.stack([iio.imread(f)[..., :3] for f in files])
    h, w = clip.shape[1:3]
    top, left = max((h - crop) // 2, 0), max((w - crop) // 2, 0)
    return clip[:, top : top + crop, left : left + crop]


def add_noise(clip: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """8-bit Gaussian noise: added, clipped, rounded (the benchmark protocol)."""
    rng = np.random.default_rng(seed)
    return np.clip(np.round(clip + sigma * rng.standard_normal(clip.shape)), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def denoise(denoiser: VideoDenoiser, noisy: np.ndarray, sigma: float) -> np.ndarray:
    generator = torch.Generator().manual_seed(0)
    blender = StreamingBlender(denoiser._unit_denoiser(sigma, generator), denoiser.plan, denoiser.tile,
                               denoiser.tile_overlap, denoiser.batch_size)  # fmt: skip
    return np.concatenate(list(blender.run([noisy])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--schedulers", nargs="+", default=["ddim", "ddpm"])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[10, 25, 50])
    parser.add_argument("--sequences", nargs="+", default=["calendar", "city", "foliage", "walk"])
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--crop", type=int, default=192)
    args = parser.parse_args()
    clips = {s: load_clip(s, args.frames, args.crop) for s in args.sequences}
    print("| scheduler | steps | " + " | ".join(f"PSNR sigma {s:g}" for s in args.sigmas) + " |")
    print("|---|---:|" + "---:|" * len(args.sigmas))
    noisy_row = []
    for sigma in args.sigmas:
        noisy_row.append(np.mean([psnr(add_noise(clip, sigma, 1000 + i), clip) for i, clip in enumerate(clips.values())]))
    print("| noisy input | - | " + " | ".join(f"{v:.2f}" for v in noisy_row) + " |", flush=True)
    for scheduler in args.schedulers:
        for steps in args.steps:
            if scheduler == "ddpm" and steps == 1:
                continue  # one step is the same one-shot estimate for both
            denoiser = VideoDenoiser(load_checkpoint(args.checkpoint), DenoiseOptions(steps=steps, scheduler=scheduler))
            row = []
            for sigma in args.sigmas:
                outputs = [denoise(denoiser, add_noise(clip, sigma, 1000 + i), sigma) for i, clip in enumerate(clips.values())]
                row.append(np.mean([psnr(out, clip) for out, clip in zip(outputs, clips.values())]))
            print(f"| {scheduler} | {steps} | " + " | ".join(f"{v:.2f}" for v in row) + " |", flush=True)


if __name__ == "__main__":
    main()
