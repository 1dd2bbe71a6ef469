#!/usr/bin/env python3
"""Real camera noise: PolyU's 100 noisy crops against their references, stdit against ffmpeg nlmeans.

Each noisy crop (``../shared/data/polyu_real_noise/*_real.JPG``, five DSLRs at ISO 1600-12800,
JPEG as the camera wrote it) becomes a 5-frame lossless clip of that one still, so the temporal
window brings no extra information; PSNR (8-bit RGB) is taken against the ``*_mean.JPG`` reference
(the average of many shots), over every frame. stdit runs as a user runs it (one ``stdit denoise``
process over the batch, ``--lossless``; the default is ``--sigma auto``, no number given). ffmpeg
``nlmeans`` (p=7:r=15, per frame, in yuv444p) runs at its default strength ``s=1``, at the single
strength best over the 100 crops, and at the best strength per crop (an oracle no user has), with
``s`` in 1..9.

    python scripts/benchmark_real_noise.py --out scripts/results/DATE_real_noise_polyu
    python scripts/benchmark_real_noise.py --stdit default= --stdit "strength2=--strength 2"
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, FPS, TOOLS, ffmpeg_chain, frame_mse, psnr_db, read_video  # noqa: E402

from stdit_cli.video import VideoWriter

CLIP_FRAMES = 5
NLMEANS_STRENGTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9)


def load_pairs(folder: Path, limit: int | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, noisy, reference)`` uint8 ``[H, W, 3]`` for each ``*_real.JPG`` with its ``*_mean.JPG``."""
    pairs = []
    for noisy_path in sorted(folder.glob("*_real.JPG"))[:limit]:
        name = noisy_path.name[: -len("_real.JPG")]
        reference_path = folder / f"{name}_mean.JPG"
        noisy = np.asarray(Image.open(noisy_path).convert("RGB"))
        reference = np.asarray(Image.open(reference_path).convert("RGB"))
        pairs.append((name, noisy, reference))
    if not pairs:
        raise SystemExit(f"{folder}: no *_real.JPG / *_mean.JPG pairs")
    return pairs


def psnr(out_uint8: np.ndarray, reference: np.ndarray) -> float:
    """PSNR over every frame of ``out_uint8`` ``[T, H, W, 3]`` against one reference image."""
    return psnr_db(frame_mse(np.broadcast_to(reference, out_uint8.shape), out_uint8))


def write_clip(path: Path, frames: np.ndarray) -> Path:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with VideoWriter(path, frames.shape[2], frames.shape[1], FPS, lossless=True) as writer:
            writer.write(frames)
    return path


def run_stdit(label: str, options: str, clips: list[Path], work: Path) -> tuple[list[np.ndarray], list[float], float]:
    """One ``stdit denoise`` batch over the clips; returns the outputs, the sigmas used, the seconds."""
    out_dir = work / f"stdit-{label}"
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = work / f"inputs-{label}.txt"
    listing.write_text("".join(f"{clip}\n" for clip in clips))
    command = ["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out_dir), "--lossless", "--overwrite",
               "--quiet", "--json", *shlex.split(options)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stdit failed ({shlex.join(command)}): {done.stderr.strip()[-500:]}")
    by_input = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            by_input[record["input"]] = record
    outputs, sigmas = [], []
    for clip in clips:
        record = by_input[str(clip)]
        outputs.append(read_video(Path(record["output"])))
        sigmas.append(record.get("sigma", float("nan")))
    return outputs, sigmas, seconds


def run_nlmeans(strength: float, all_noisy: Path, work: Path) -> tuple[np.ndarray, float]:
    """nlmeans over the one-frame-per-crop video (it filters each frame on its own)."""
    out = work / f"nlmeans-s{strength:g}.mkv"
    timing = work / f"nlmeans-s{strength:g}.seconds"
    if out.is_file() and timing.is_file() and out.stat().st_mtime > all_noisy.stat().st_mtime:  # reused: the same input and filter
        return read_video(out), float(timing.read_text())
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(all_noisy), "-vf",
               ffmpeg_chain(TOOLS["nlmeans"], strength), "-c:v", "ffv1", "-level", "3", str(out)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    timing.write_text(f"{seconds:.3f}\n")
    return read_video(out), seconds


def summary(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} | {statistics.median(values):.2f} | {min(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--stdit", action="append", metavar="LABEL=OPTIONS",
                        help='a stdit run, e.g. "default=" or "strength2=--strength 2" (repeatable; default: "default=")')
    parser.add_argument("--limit", type=int, default=None, help="first N crops only (a quick look)")
    parser.add_argument("--work", type=Path, default=Path("runs/real_noise"))
    parser.add_argument("--out", type=Path, default=Path("runs/real_noise/polyu"))
    args = parser.parse_args()
    runs = [entry.partition("=")[::2] for entry in (args.stdit or ["default="])]

    pairs = load_pairs(args.data / "polyu_real_noise", args.limit)
    names = [name for name, _, _ in pairs]
    references = [reference for _, _, reference in pairs]
    clips = [write_clip(args.work / "noisy" / f"{name}.mp4", np.repeat(noisy[None], CLIP_FRAMES, 0)) for name, noisy, _ in pairs]
    shapes = {noisy.shape for _, noisy, _ in pairs}
    if len(shapes) != 1:
        raise SystemExit(f"crops of different sizes {shapes}: nlmeans runs on one video of all of them")
    all_noisy = write_clip(args.work / f"all-noisy-{len(pairs)}.mp4", np.stack([noisy for _, noisy, _ in pairs]))

    rows: dict[str, list[float]] = {"noisy input": [psnr(noisy[None], ref) for (_, noisy, _), ref in zip(pairs, references)]}
    seconds: dict[str, float] = {}
    sigmas: dict[str, list[float]] = {}
    for strength in NLMEANS_STRENGTHS:
        filtered, took = run_nlmeans(strength, all_noisy, args.work)
        rows[f"nlmeans s={strength:g}"] = [psnr(frame[None], ref) for frame, ref in zip(filtered, references)]
        seconds[f"nlmeans s={strength:g}"] = took
    nlmeans_keys = [f"nlmeans s={s:g}" for s in NLMEANS_STRENGTHS]
    best_fixed = max(nlmeans_keys, key=lambda key: statistics.mean(rows[key]))
    oracle = [max(rows[key][i] for key in nlmeans_keys) for i in range(len(pairs))]
    for label, options in runs:
        outputs, used, took = run_stdit(label, options, clips, args.work)
        key = f"stdit {label}" + (f" ({options})" if options else " (no options: --noise auto, i.e. real)")
        rows[key] = [psnr(out, ref) for out, ref in zip(outputs, references)]
        seconds[key], sigmas[key] = took, used

    lines = [
        f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`",
        "",
        f"PolyU real camera noise, {len(pairs)} crops of 512x512 (five DSLRs, ISO 1600-12800, JPEG), each a "
        f"{CLIP_FRAMES}-frame lossless clip of the one noisy still; PSNR (dB, 8-bit RGB) against the mean-of-many-shots "
        "reference. nlmeans: ffmpeg `nlmeans=s=S:p=7:r=15` in yuv444p, per frame.",
        "",
        "| method | mean | median | worst crop | crops above nlmeans default (s=1) | above the best fixed nlmeans | above per-crop oracle nlmeans | sigma used (median) | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    default_nl, fixed_nl = rows["nlmeans s=1"], rows[best_fixed]
    table = {"noisy input": rows["noisy input"], "nlmeans s=1 (ffmpeg's default)": default_nl,
             f"{best_fixed} (best single strength, picked on these crops)": fixed_nl, "nlmeans, best s per crop (oracle)": oracle}
    table.update({key: rows[key] for key in rows if key.startswith("stdit")})
    for key, values in table.items():
        above = [sum(v > r for v, r in zip(values, ref)) for ref in (default_nl, fixed_nl, oracle)]
        sigma = f"{statistics.median(sigmas[key]):.1f}" if key in sigmas else "—"
        took = f"{seconds[key]:.0f}" if key in seconds else "—"
        lines.append(f"| {key} | {summary(values)} | {above[0]} | {above[1]} | {above[2]} | {sigma} | {took} |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    payload = {"command": sys.argv, "crops": names, "psnr": rows, "oracle_nlmeans": oracle, "best_fixed_nlmeans": best_fixed,
               "sigmas": sigmas, "seconds": seconds}  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=1))
    print(text)


if __name__ == "__main__":
    main()
