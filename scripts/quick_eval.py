#!/usr/bin/env python3
"""A one-minute check of a checkpoint during model work (not a benchmark: scripts/benchmark_quality.py is).

One window (5 frames) per case, one DDIM step from t*, no tiling or views: the flat field and the
gradient (residual error std on 0..255, lower is better) and 256 px centre crops of held-out clips
(PSNR, dB) at sigma 10/25/50. Compares checkpoints on the same noise.

    python scripts/quick_eval.py stdit_cli/weights/unet runs/some-run
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validation_suite import load_clip  # noqa: E402

from stdit_cli.pipeline.sampler import DiffusionSampler
from stdit_cli.weights import load_checkpoint

CLIPS = ["vid4/calendar", "davis/dog", "davis/blackswan", "soft/car-shadow", "still/kodim03"]


def cases(data: Path, size: int, frames: int):
    yy, xx = np.mgrid[0:size, 0:size]
    yield "flat", np.full((frames, size, size, 3), 128.0)
    gradient = np.stack([60 + 100 * xx / size, 80 + 60 * yy / size, 120 + 0 * xx], -1)
    yield "gradient", np.repeat(gradient[None], frames, 0)
    for name in CLIPS:
        clip = load_clip(data, name, frames).astype(np.float64)
        h, w = clip.shape[1:3]
        top, left = (h - size) // 2, (w - size) // 2
        yield name, clip[:, top:top + size, left:left + size]


@torch.no_grad()
def denoise(checkpoint, noisy: np.ndarray, sigma: float) -> np.ndarray:
    sampler = DiffusionSampler(checkpoint.schedule, "ddim", steps=1)
    # [T, H, W, 3] on 0..255 -> [1, 3, T, H, W] in [-1, 1]
    video = torch.from_numpy(noisy).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        estimate = sampler.denoise(lambda x, t: checkpoint.adapter.predict(checkpoint.model, x, t), video, sigma)
    # [1, 3, T, H, W] -> [T, H, W, 3] on 0..255, rounded like a file
    return torch.round((estimate.float().clamp(-1, 1) + 1) * 127.5)[0].permute(1, 2, 3, 0).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sigmas", type=float, nargs="+", default=[10, 25, 50])
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    models = {path: load_checkpoint(path, "unet") for path in args.checkpoints}
    for model in models.values():
        model.model.eval()
    rng = np.random.default_rng(0)
    rows: dict[str, dict[str, str]] = {path: {} for path in models}
    for name, clean in cases(args.data, args.size, 5):
        for sigma in args.sigmas:
            noisy = np.clip(np.round(clean + sigma * rng.standard_normal(clean.shape)), 0, 255)
            for path, checkpoint in models.items():
                error = denoise(checkpoint, noisy, sigma) - np.round(clean)
                if name in ("flat", "gradient"):
                    rows[path][f"{name} {sigma:g}"] = f"{error.std():.2f}"
                else:
                    rows[path][f"{name} {sigma:g}"] = f"{10 * math.log10(255**2 / np.mean(error**2)):.2f}"
    keys = list(next(iter(rows.values())))
    print("| checkpoint | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for path, row in rows.items():
        print(f"| {path} | " + " | ".join(row[k] for k in keys) + " |")


if __name__ == "__main__":
    main()
