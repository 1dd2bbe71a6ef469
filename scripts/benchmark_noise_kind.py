#!/usr/bin/env python3
"""What ``--noise auto`` with no number picks, clip by clip: the Gaussian weights (noise that reads
as white) or the real-noise ones (``stdit_cli.pipeline.noise_kind``).

For every clip of every group: the patch-PCA level of its level sample at full resolution and
binned 2x2, the learned level, their ratio, the whiteness (binned level doubled over the full
one) and the pick, as ``stdit denoise`` computes them (same 8-frame sample). The clips are the
noisy inputs the other benchmarks write (``benchmark_quality.py``, ``benchmark_camera_noise.py``,
``benchmark_real_noise.py``, ``benchmark_noise_modes.py``); nothing is denoised.

    python scripts/benchmark_noise_kind.py \\
        --group 'white noise=runs/suite/noisy/**/*_6f.mp4' --group 'camera noise=runs/camera_noise/noisy/*.mp4' \\
        --group 'PolyU=runs/real_noise/noisy/*.mp4' --group 'clean=runs/noise_modes/clean_*' --out runs/noise_kind
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

from stdit_cli.pipeline.learned_level import LearnedNoiseLevel
from stdit_cli.pipeline.noise_kind import LEVEL_AGREEMENT, MAX_WHITENESS, MIN_SPREAD, MIN_WHITE_LEVEL, reads_as_white, white_spread, whiteness
from stdit_cli.pipeline.opening import open_video


def measure(path: str, estimator: LearnedNoiseLevel) -> dict:
    opening = open_video(path, read_level=True)
    with opening.reader:
        learned = estimator.estimate(opening.sample)
        spread = white_spread(opening.level_frames, opening.white)
    return {"clip": path, "white": opening.white, "binned": opening.binned, "learned": learned,
            "ratio": opening.white / learned, "whiteness": whiteness(opening.white, opening.binned), "spread": spread,
            "gaussian": reads_as_white(opening.white, opening.binned, learned, spread)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", action="append", required=True, metavar="LABEL=GLOB", help="a group of noisy clips (repeatable; ** recurses)")
    parser.add_argument("--out", type=Path, default=Path("runs/noise_kind"))
    parser.add_argument("--estimator", type=Path, default=None, help="a level estimator's folder (default: the shipped one)")
    args = parser.parse_args()
    estimator = LearnedNoiseLevel.shipped(folder=args.estimator)
    groups: dict[str, list[dict]] = {}
    for spec in args.group:
        label, pattern = spec.split("=", 1)
        clips = sorted(glob.glob(pattern, recursive=True))
        if not clips:
            sys.exit(f"error: no clips match {pattern}")
        groups[label] = [measure(clip, estimator) for clip in clips]
    lines = [
        f"Command: `python {' '.join(sys.argv)}`", "",
        f"Rule: the Gaussian weights when patch PCA / learned is at most {LEVEL_AGREEMENT:g} and either whiteness <= {MAX_WHITENESS:g} "
        f"(with the ratio at least {1 / LEVEL_AGREEMENT:g} or patch PCA at least {MIN_WHITE_LEVEL:g}) or the ratio >= 1, "
        f"and the median cell's high-pass level at least {MIN_SPREAD:g} of patch PCA's (spread), else the real-noise weights.", "",
        "| group | clips | ratio patch PCA / learned | whiteness (2 x binned / full) | spread | picked Gaussian |",
        "|---|---:|---|---|---|---:|",
    ]  # fmt: skip
    for label, rows in groups.items():
        ratios, white, spread = [r["ratio"] for r in rows], [r["whiteness"] for r in rows], [r["spread"] for r in rows]
        picked = sum(r["gaussian"] for r in rows)
        lines.append(f"| {label} | {len(rows)} | {min(ratios):.2f}-{max(ratios):.2f} | {min(white):.2f}-{max(white):.2f} "
                     f"| {min(spread):.2f}-{max(spread):.2f} | {picked} / {len(rows)} |")  # fmt: skip
    lines += ["", "Per clip (levels on 0..255):", "", "| group | clip | patch PCA | binned | learned | ratio | whiteness | spread | pick |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for label, rows in groups.items():
        for r in rows:
            pick = "gaussian" if r["gaussian"] else "real"
            lines.append(f"| {label} | {r['clip']} | {r['white']:.2f} | {r['binned']:.2f} | {r['learned']:.2f} | {r['ratio']:.3f} | {r['whiteness']:.2f} | {r['spread']:.2f} | {pick} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "groups": groups}, indent=1))
    print("\n".join(lines[:6 + len(groups)]))


if __name__ == "__main__":
    main()
