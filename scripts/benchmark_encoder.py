#!/usr/bin/env python3
"""The x264 settings of ``stdit denoise``'s lossy output: encoder CPU time, size and fidelity.

A denoised video is encoded the way ``stdit_cli.video.VideoWriter`` encodes it (RGB frames piped
to ffmpeg, BT.709 limited range, ``yuv420p``, libx264 at a preset and CRF) for each setting asked
for; each row gives the encoder's CPU time (user + system of the ffmpeg process), the file size,
and the PSNR of the decoded result against the frames that went in (8-bit RGB, every frame).
The encoder shares the CPU with the model while a video is denoised, so its CPU seconds are
what it costs the whole process on a machine with few cores.

    python scripts/benchmark_encoder.py denoised_lossless.mkv
    python scripts/benchmark_encoder.py clip.mkv --setting medium:16 --setting veryfast:14 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, frame_mse, psnr_db, read_video  # noqa: E402

DEFAULT_SETTINGS = ("medium:16", "fast:16", "faster:16", "faster:15", "veryfast:15", "veryfast:14", "superfast:11")


def encode(frames: np.ndarray, fps: float, preset: str, crf: int, out: Path) -> float:
    """Encode ``frames`` ``[T, H, W, 3]`` uint8 as stdit does; return the encoder's CPU seconds."""
    _, height, width, _ = frames.shape
    command = [FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}",
               "-i", "-", "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
               "-c:v", "libx264", "-crf", str(crf), "-preset", preset, str(out)]  # fmt: skip
    before = os.times()
    subprocess.run(command, input=frames.tobytes(), check=True)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, help="a denoised video, ideally lossless (stdit denoise --lossless)")
    parser.add_argument("--setting", action="append", metavar="PRESET:CRF", help=f"default: {' '.join(DEFAULT_SETTINGS)}")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--repeats", type=int, default=3, help="CPU time: the lowest of this many encodes")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    frames = read_video(args.video)  # [T, H, W, 3] uint8
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for setting in args.setting or DEFAULT_SETTINGS:
            preset, crf = setting.split(":")
            out = Path(scratch) / f"{preset}_{crf}.mp4"
            cpu = min(encode(frames, args.fps, preset, int(crf), out) for _ in range(args.repeats))
            decoded = read_video(out)
            rows.append({"preset": preset, "crf": int(crf), "cpu_seconds": round(cpu, 3),
                         "cpu_ms_per_frame": round(1000 * cpu / len(frames), 1), "bytes": out.stat().st_size,
                         "psnr_db": round(psnr_db(frame_mse(frames, decoded)), 2)})  # fmt: skip
    base = rows[0]
    t, h, w, _ = frames.shape
    print(f"{args.video.name}: {t} frames of {w}x{h}; ratios against {base['preset']} CRF {base['crf']}\n")
    print("| preset | CRF | encoder CPU (ms/frame) | × CPU | size (bytes) | × size | PSNR vs input (dB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['preset']} | {row['crf']} | {row['cpu_ms_per_frame']} | {row['cpu_seconds'] / base['cpu_seconds']:.2f} "
              f"| {row['bytes']} | {row['bytes'] / base['bytes']:.2f} | {row['psnr_db']} |")  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps({"video": str(args.video), "frames": t, "width": w, "height": h, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
