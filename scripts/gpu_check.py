#!/usr/bin/env python
"""GPU correctness and speed in one short run (for a machine with an NVIDIA GPU).

    python scripts/gpu_check.py [--out DIR]        # a few minutes on one GPU

1. Correctness: the shipped default denoises Vid4 "walk" (first 10 frames, sigma 25, lossless
   round trip) on CUDA in fp32 and in bf16 autocast; both outputs must be finite and their PSNR
   against the clean frames within 0.1 dB of each other.
2. Speed: the GPU rows of ``scripts/benchmark_speed.py`` (1920x1080 end to end in fp32 and bf16,
   peak GPU memory, model-only frames/s against the FLOP floor), plus ffmpeg nlmeans/hqdn3d on
   the same clip for the ratio.

Writes ``gpu_check.json`` (and the speed benchmark's files) under ``--out``; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import add_noise, frame_mse, load_clean, noise_seed, psnr_db, read_video  # noqa: E402

from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser  # noqa: E402
from stdit_cli.video import VideoWriter  # noqa: E402
from stdit_cli.weights import resolve_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def correctness(data: Path, work: Path) -> dict:
    clean = load_clean(data / "vid4", "walk", 10)
    noisy = add_noise(clean, 25.0, noise_seed("walk", 25.0, 0))
    noisy_path = work / "walk_s25.mkv"
    with VideoWriter(noisy_path, clean.shape[2], clean.shape[1], 25, lossless=True) as writer:
        writer.write(noisy)
    report = {}
    for precision in ("fp32", "bf16"):
        options = DenoiseOptions(sigma_255=25.0, device="cuda", precision=precision, lossless=True)
        denoiser = VideoDenoiser(resolve_checkpoint("unet", None), options)
        result = denoiser.denoise_file(noisy_path, work / f"walk_{precision}.mkv")
        out = read_video(work / f"walk_{precision}.mkv")
        report[precision] = {"psnr": psnr_db(frame_mse(clean, out)), "fps": result.fps, "peak_device_mib": result.peak_device_mib}
    report["delta_db"] = abs(report["fp32"]["psnr"] - report["bf16"]["psnr"])
    report["ok"] = bool(report["delta_db"] <= 0.1 and all(np.isfinite(report[p]["psnr"]) for p in ("fp32", "bf16")))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu_check")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: no CUDA device (torch.cuda.is_available() is False)")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "correctness": correctness(args.data, args.out)}
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2), flush=True)
    speed = [sys.executable, str(ROOT / "scripts" / "benchmark_speed.py"), "--device", "cuda", "--sizes", "1920x1080",
             "--models", "unet", "--modes", "default", "fast", "--tools", "nlmeans", "hqdn3d", "--memory", "--memory-4k", "0",
             "--model-only", "unet", "--data", str(args.data), "--out", str(args.out / "speed")]  # fmt: skip
    subprocess.run(speed, check=True)
    sys.exit(0 if report["correctness"]["ok"] else 1)


if __name__ == "__main__":
    main()
