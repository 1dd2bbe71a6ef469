#!/usr/bin/env python3
"""What the output encode costs: denoised frames stored at each x264 setting, against the clean frames.

A user's output is the file ``stdit denoise`` writes, so its encode is part of the quality a user
gets. For each clip and sigma: Gaussian noise (clipped, rounded), stored as a camera would (H.264
CRF 20, 4:2:0); ``stdit denoise --lossless`` gives the denoised frames; those are then encoded the
way ``stdit_cli.video.writer`` does (BT.709, limited range) at each (chroma, preset, CRF), and
read back. PSNR (8-bit RGB) against the clean frames, bytes and the encoder's CPU time (user +
system of the ffmpeg process), averaged over the clips.

    python scripts/benchmark_output_encode.py --out scripts/results/DATE_output_encode
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import encode_h264  # noqa: E402
from benchmark_common import FFMPEG, FPS, psnr_db, read_video  # noqa: E402
from validation_suite import load_clip  # noqa: E402

CLIPS = ("davis/dog", "vid4/walk", "anim/blackswan")
SIGMAS = (10, 25)
#: (chroma, preset, CRF); None: lossless RGB (libx264rgb -qp 0)
SETTINGS = (("yuv420p", "veryfast", 14), ("yuv420p", "veryfast", 10), ("yuv420p", "superfast", 11), ("yuv420p", "superfast", 9),
            ("yuv420p", "veryfast", 8), ("yuv444p", "veryfast", 14), ("yuv444p", "veryfast", 10), None)  # fmt: skip


def encode(frames: np.ndarray, path: Path, setting: tuple[str, str, int] | None) -> float:
    """Encode ``[T, H, W, 3]`` uint8 as the writer does; return the encoder's CPU seconds."""
    height, width = frames.shape[1:3]
    if setting is None:
        codec = ["-c:v", "libx264rgb", "-qp", "0", "-preset", "veryfast", "-pix_fmt", "rgb24"]
    else:
        chroma, preset, crf = setting
        codec = ["-vf", f"scale=out_color_matrix=bt709:out_range=tv,format={chroma},"
                        "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
                 "-c:v", "libx264", "-crf", str(crf), "-preset", preset]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                    "-r", str(FPS), "-i", "-", *codec, str(path)], input=frames.tobytes(), check=True)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    return psnr_db([float(np.mean((out.astype(np.float64) - clean) ** 2)) for out, clean in zip(out, clean)])


def label(setting: tuple[str, str, int] | None) -> str:
    return "lossless RGB (libx264rgb -qp 0)" if setting is None else f"{setting[0]}, {setting[1]}, CRF {setting[2]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("runs/output_encode"))
    parser.add_argument("--out", type=Path, default=Path("runs/output_encode/result"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, dict[str, list[float]]]] = {}
    inputs: dict[str, float] = {}
    for sigma in SIGMAS:
        for index, name in enumerate(CLIPS):
            clean = load_clip(args.data, name, args.frames)
            clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
            rng = np.random.default_rng([index, sigma])
            noisy = np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255).astype(np.uint8)
            stem = f"{name.replace('/', '_')}_s{sigma}"
            noisy_path = encode_h264(noisy, args.work / f"{stem}_noisy.mp4")
            inputs[stem] = noisy_path.stat().st_size / 1e3
            denoised_path = args.work / f"{stem}_denoised.mkv"
            subprocess.run(["stdit", "denoise", str(noisy_path), "-o", str(denoised_path), "--lossless", "--overwrite", "--quiet"], check=True)
            denoised = read_video(denoised_path)
            for setting in SETTINGS:
                path = args.work / f"{stem}_out.mp4"
                seconds = encode(denoised, path, setting)
                entry = rows.setdefault(sigma, {}).setdefault(label(setting), {"psnr": [], "kB": [], "cpu_s": []})
                entry["psnr"].append(psnr(read_video(path), clean))
                entry["kB"].append(path.stat().st_size / 1e3)
                entry["cpu_s"].append(seconds)
    frames_note = f"{args.frames} frames of {', '.join(CLIPS)}"
    lines = [f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`", "",
             f"{frames_note}; Gaussian noise, H.264 CRF 20 4:2:0 input (mean {np.mean(list(inputs.values())):.0f} kB), "
             "`stdit denoise --lossless` (the shipped default weights, no number given), then each encode. Means over the clips.", ""]  # fmt: skip
    for sigma, settings in rows.items():
        lines += [f"## sigma {sigma}", "", "| output encode | PSNR (dB) | kB | encoder CPU (s) |", "|---|---:|---:|---:|"]
        for name, entry in settings.items():
            lines.append(f"| {name} | {np.mean(entry['psnr']):.3f} | {np.mean(entry['kB']):.0f} | {np.mean(entry['cpu_s']):.2f} |")
        lines.append("")
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows, "input_kB": inputs}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
