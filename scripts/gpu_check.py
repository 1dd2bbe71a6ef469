#!/usr/bin/env python
"""GPU correctness and speed in one short run (for a machine with an NVIDIA GPU).

    python scripts/gpu_check.py [--out DIR]        # a few minutes on one GPU

1. Correctness: the shipped default denoises 10 frames of DAVIS "bmx-trees" (854x480, sigma 25,
   lossless round trip) on CUDA in fp32 and in bf16 autocast, and on the CPU in fp32. Both CUDA
   outputs must be finite, their PSNR against the clean frames within 0.1 dB of each other, and
   the CUDA fp32 output (windows cut and blended on the GPU) within 0.05 dB of the CPU's. The same
   noisy frames as 16-bit samples (the path of 10-bit video: int16 frames on the GPU) must come out
   in 16 bits within 0.05 dB of the 8-bit bf16 run.
2. Speed: the GPU rows of ``scripts/benchmark_speed.py`` (1920x1080 end to end in fp32 and bf16,
   peak GPU memory, model-only frames/s against the FLOP floor; ``--frames`` frames, default 120),
   then ffmpeg nlmeans/hqdn3d on 10 frames of the same footage for the ratio (at 1080p nlmeans
   runs well under one frame per second: timed last and short, it cannot starve the GPU rows).
   ``--modes``, ``--tools``, ``--frames``, ``--model-only`` size it to the time a lent GPU has.

On a lent machine (bare: no diffusers, decord or imageio-ffmpeg) after ``. scripts/device_setup.sh``;
the run of 2026-12-04: ``python3 scripts/gpu_check.py --data .benchdata --out /tmp/check --frames 60 300
--modes default fast --model-only`` (.benchdata: the first 20 frames of DAVIS bmx-trees). Next:
``--frames 120 --modes default batch4 batch8 batch16 fast``: the automatic batch size took 63-68 GiB
of the H200 at 1080p, and what a bounded one costs in speed decides the default bound.

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
from benchmark_common import add_noise, frame_mse, noise_seed, psnr_db, read_video  # noqa: E402
from benchmark_speed import source_frames  # noqa: E402

from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser  # noqa: E402
from stdit_cli.video import VideoReader, VideoWriter  # noqa: E402
from stdit_cli.weights import resolve_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def correctness(data: Path, work: Path, gpu: str = "cuda") -> dict:
    clean = source_frames(data, "bmx-trees", 10, 854, 480)
    noisy = add_noise(clean, 25.0, noise_seed("bmx-trees", 25.0, 0))
    noisy_path = work / "bmx_s25.mkv"
    with VideoWriter(noisy_path, clean.shape[2], clean.shape[1], 25, lossless=True) as writer:
        writer.write(noisy)
    report = {}
    for device, precision in ((gpu, "fp32"), (gpu, "bf16"), ("cpu", "fp32")):
        options = DenoiseOptions(sigma_255=25.0, device=device, precision=precision, lossless=True)
        denoiser = VideoDenoiser(resolve_checkpoint("unet", None), options)
        name = f"{device}_{precision}"
        result = denoiser.denoise_file(noisy_path, work / f"bmx_{name}.mkv")
        out = read_video(work / f"bmx_{name}.mkv")
        report[name] = {"psnr": psnr_db(frame_mse(clean, out)), "fps": result.fps, "peak_device_mib": result.peak_device_mib}
    report["bf16_vs_fp32_db"] = abs(report[f"{gpu}_fp32"]["psnr"] - report[f"{gpu}_bf16"]["psnr"])
    report["gpu_vs_cpu_db"] = abs(report[f"{gpu}_fp32"]["psnr"] - report["cpu_fp32"]["psnr"])
    # the same frames as 16-bit samples (frames of a 10-bit video cross the bus as int16): the same picture
    deep_path = work / "bmx_s25_16bit.mkv"
    with VideoWriter(deep_path, clean.shape[2], clean.shape[1], 25, lossless=True, bit_depth=16) as writer:
        writer.write(noisy.astype(np.uint16) * 257)
    options = DenoiseOptions(sigma_255=25.0, device=gpu, precision="bf16", lossless=True)
    result = VideoDenoiser(resolve_checkpoint("unet", None), options).denoise_file(deep_path, work / "bmx_16bit.mkv")
    with VideoReader(work / "bmx_16bit.mkv", backend="pyav", bit_depth=None) as reader:
        deep = reader.read(0, len(reader)).astype(np.float64) / 257.0
    report["16bit_bf16"] = {"psnr": psnr_db(frame_mse(clean, deep)), "fps": result.fps, "bits": result.bits}
    report["16bit_vs_8bit_db"] = abs(report["16bit_bf16"]["psnr"] - report[f"{gpu}_bf16"]["psnr"])
    finite = all(np.isfinite(report[name]["psnr"]) for name in (f"{gpu}_fp32", f"{gpu}_bf16", "16bit_bf16"))
    report["ok"] = bool(finite and report["bf16_vs_fp32_db"] <= 0.1 and report["gpu_vs_cpu_db"] <= 0.05
                        and report["16bit_vs_8bit_db"] <= 0.05 and result.bits == 16)  # fmt: skip
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu_check")
    parser.add_argument("--frames", type=int, nargs="+", default=[120], help="frames of the 1920x1080 speed clips (the first: the fp32/bf16 rows)")
    parser.add_argument("--repeats", type=int, default=1, help="time each speed row N times and keep the fastest")
    parser.add_argument("--modes", nargs="+", default=["default", "one-view", "fast", "ensemble8"], help="stdit rows at 1920x1080 (benchmark_speed.py's MODES)")
    parser.add_argument("--tools", nargs="*", default=["nlmeans", "hqdn3d"], help="ffmpeg rows at 1920x1080")
    parser.add_argument("--tool-frames", type=int, default=10, help="frames of the ffmpeg rows (nlmeans runs under 1 frame/s at 1080p)")
    parser.add_argument("--model-only", nargs="*", default=["unet"], help="models timed without I/O (none: scripts/gpu_model_speed.py has them)")
    parser.add_argument("--size", default="1920x1080", help="the speed rows' size (smaller for a dry run on the CPU)")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script on a machine without a GPU")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: no CUDA device (torch.cuda.is_available() is False)")
    args.out.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "none (dry run on the CPU)"
    report = {"gpu": name, "torch": torch.__version__, "correctness": correctness(args.data, args.out, args.device)}
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2), flush=True)
    speed = [sys.executable, str(ROOT / "scripts" / "benchmark_speed.py"), "--device", args.device, "--sizes", args.size,
             "--frames", *map(str, args.frames), "--repeats", str(args.repeats), "--tool-frames", str(args.tool_frames), "--models", "unet", "--modes", *args.modes,
             "--tools", *args.tools, "--memory", "--memory-4k", "0",
             "--model-only", *args.model_only, "--data", str(args.data), "--out", str(args.out / "speed")]  # fmt: skip
    subprocess.run(speed, check=True)
    sys.exit(0 if report["correctness"]["ok"] else 1)


if __name__ == "__main__":
    main()
