#!/usr/bin/env python
"""Grayscale footage: black-and-white film, infrared night cameras, scientific video.

The validation suite's clips (not the compressed group) turned to luma (BT.601 weights), white
noise of sigma 10 / 25 / 50 added to that one plane, clipped, rounded, stored losslessly as RGB
with R = G = B, the first ``--frames`` frames. stdit runs on every clip of a sigma in one process
(``--inputs-from``), with no number and with ``--sigma k*sigma`` for each ``--factors`` k; ffmpeg
``nlmeans`` (p=7:r=15) on the gray plane at each of ``--nlmeans`` strengths, its best per clip
kept (an oracle). PSNR on the luma plane (the output's channel mean, as ``stdit denoise`` writes a
gray video since 2026-12-06) against the clean luma; how far the output strays from gray (largest
channel difference) is reported too.

    python scripts/benchmark_gray.py --out scripts/results/DATE_gray
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, read_video  # noqa: E402
from benchmark_camera_noise import encode_h264, encode_lossless  # noqa: E402
from validation_suite import SUITE, is_compressed, load_clip  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((out.astype(np.float64) - clean) ** 2)))


def run_stdit(clips: list[Path], out_dir: Path, options: list[str]) -> dict[str, dict]:
    """One ``stdit denoise`` process over ``clips``; the ``--json`` record of each, by clip stem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = out_dir / "inputs.txt"
    listing.write_text("".join(f"{clip}\n" for clip in clips))
    command = ["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out_dir), "--overwrite", "--json", "-q", *options]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return {Path(r["input"]).stem: r for r in map(json.loads, result.stdout.strip().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[10.0, 25.0, 50.0])
    parser.add_argument("--factors", type=float, nargs="*", default=[1.0])
    parser.add_argument("--nlmeans", type=float, nargs="*", default=[3.0, 5.0, 8.0, 12.0, 18.0, 24.0, 30.0])
    parser.add_argument("--clips", nargs="+", default=[c for c in SUITE if not is_compressed(c)])
    parser.add_argument("--options", default="", help="more `stdit denoise` options for every stdit run, one string (e.g. --fast)")
    parser.add_argument("--h264", action="store_true", help="store the noisy clips as H.264 CRF 20 4:2:0 (a black-and-white film as it usually arrives) instead")
    parser.add_argument("--work", type=Path, default=Path("runs/gray"))
    parser.add_argument("--out", type=Path, default=Path("runs/gray/result"))
    args = parser.parse_args()

    clean = {name: load_clip(args.data, name, args.frames).astype(np.float64) @ LUMA for name in args.clips}  # [T, H, W]
    rows: dict[str, dict[str, float]] = {}  # "clip@sigma" -> method -> PSNR
    strays: dict[str, int] = {}
    for sigma in args.sigmas:
        clips = []
        for index, (name, luma) in enumerate(clean.items()):
            path = args.work / "noisy" / f"{name.replace('/', '_')}_g{sigma:g}{'_h264.mp4' if args.h264 else '.mkv'}"
            noisy = np.clip(luma + np.random.default_rng([index, int(sigma * 100), 11]).normal(0, sigma, luma.shape), 0, 255).round()
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                store = encode_h264 if args.h264 else encode_lossless
                store(np.repeat(noisy.astype(np.uint8)[..., None], 3, axis=-1), path)  # [T, H, W, 3], R = G = B
            if args.h264:
                noisy = read_video(path).astype(np.float64).mean(axis=-1)
            clips.append(path)
            rows[f"{name}@{sigma:g}"] = {"noisy": psnr(noisy, luma)}
        runs = [("stdit, no number", [])] + [(f"stdit --sigma {k:g}x", ["--sigma", f"{k * sigma:g}"]) for k in args.factors]
        for label, options in runs:
            records = run_stdit(clips, args.work / "out" / f"{sigma:g}_{'_'.join(options) or 'auto'}", [*options, *args.options.split()])
            for name, path in zip(clean, clips):
                out = read_video(Path(records[path.stem]["output"])).astype(np.int32)
                key = f"{name}@{sigma:g}"
                rows[key][label] = psnr(out.mean(axis=-1), clean[name])
                strays[f"{key} {label}"] = int(np.abs(out - out[..., :1]).max())
        for name, path in zip(clean, clips):
            best = -np.inf
            for strength in args.nlmeans:
                target = args.work / "nlmeans" / f"{path.stem}_s{strength:g}.mkv"
                if not target.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(path), "-vf", f"format=gray,nlmeans=s={strength:g}:p=7:r=15",
                                    "-c:v", "ffv1", str(target)], check=True)  # fmt: skip
                best = max(best, psnr(read_video(target).astype(np.float64).mean(axis=-1), clean[name]))
            rows[f"{name}@{sigma:g}"]["nlmeans, best s per clip"] = best

    methods = list(next(iter(rows.values())))
    lines = [f"Command: `python {' '.join(sys.argv)}`", "",
             f"{len(args.clips)} clips in gray (BT.601 luma), first {args.frames} frames, white noise on the one plane, stored as "
             + ("H.264 CRF 20 4:2:0 (neutral colour planes); " if args.h264 else "RGB with R = G = B (lossless); ") +
             "PSNR (dB) of the output's channel mean against the clean luma.", "",
             "| method | " + " | ".join(f"mean σ{s:g} | worst σ{s:g} (margin over nlmeans)" for s in args.sigmas) + " |",
             "|---|" + "---:|---:|" * len(args.sigmas)]  # fmt: skip
    for method in methods:
        cells = []
        for sigma in args.sigmas:
            keys = [k for k in rows if k.endswith(f"@{sigma:g}")]
            mean = np.mean([rows[k][method] for k in keys])
            margin = min(keys, key=lambda k: rows[k][method] - rows[k]["nlmeans, best s per clip"])
            cells.append(f"{mean:.2f} | {rows[margin][method] - rows[margin]['nlmeans, best s per clip']:+.2f} ({margin.split('@')[0]})")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", f"Largest channel difference in an output frame (0: gray): {max(strays.values())} "
              f"({max(strays, key=strays.get)})", "", "Per clip:", "",
              "| clip@sigma | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]  # fmt: skip
    lines += [f"| {key} | " + " | ".join(f"{values[m]:.2f}" for m in methods) + " |" for key, values in rows.items()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows, "strays": strays}, indent=1))
    print("\n".join(lines[: 6 + len(methods) + 2]))


if __name__ == "__main__":
    main()
