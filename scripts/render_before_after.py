#!/usr/bin/env python
"""The README's before/after picture: real photographic noise on top, the bundled sample below.

    python scripts/render_before_after.py [--out docs/before_after.png] [-- extra stdit denoise options]

Top row: a crop of scikit-image's ``astronaut`` photo (NASA, public domain), a scanned film
photograph whose grain is real noise nobody added, written as a PNG and denoised by the real CLI
with no options (``stdit denoise photo.png -o out.png``: its noise is read and denoised as camera
noise), shown at 3x. Bottom row: a crop of the middle frame of the bundled sample
``stdit_cli/samples/coffee_sigma25.mp4`` (sigma-25 Gaussian noise), the same command, at 2x.
Noisy on the left of each row. Re-run it whenever the shipped weights change, so the picture stays
true; needs scikit-image (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from stdit_cli.video import VideoReader

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "stdit_cli" / "samples" / "coffee_sigma25.mp4"
REAL_CROP = (170, 60, 294, 156)  # left, top, right, bottom: the face (skin grain beside eyes, teeth, hair)
SAMPLE_CROP = (24, 16, 208, 160)
GAP = 6


def middle_frame(path: Path) -> np.ndarray:
    with VideoReader(path) as reader:
        return reader.read(len(reader) // 2, len(reader) // 2 + 1)[0]


def denoise(source: Path, output: Path, extra: list[str]) -> dict:
    """`stdit denoise` as a user runs it; its --json record."""
    result = subprocess.run([sys.executable, "-m", "stdit_cli", "denoise", str(source), "-o", str(output), "--json",
                             *extra], check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(result.stdout.splitlines()[-1])


def side_by_side(noisy: np.ndarray, clean: np.ndarray, crop: tuple[int, int, int, int], zoom: int) -> np.ndarray:
    left, top, right, bottom = crop
    gap = np.full((bottom - top, GAP, 3), 255, np.uint8)
    row = np.concatenate([noisy[top:bottom, left:right], gap, clean[top:bottom, left:right]], axis=1)
    return row.repeat(zoom, axis=0).repeat(zoom, axis=1)  # pixels visible


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "before_after.png")
    parser.add_argument("extra", nargs="*", help="extra `stdit denoise` options")
    args = parser.parse_args()
    try:
        from skimage import data  # scikit-image: the bench extra
    except ImportError:
        print('error: this script needs scikit-image (its photo): pip install -e ".[bench]"', file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "astronaut.png"
        Image.fromarray(data.astronaut()).save(photo)
        record = denoise(photo, Path(tmp) / "astronaut.denoised.png", args.extra)
        real = side_by_side(np.asarray(Image.open(photo).convert("RGB")),
                            np.asarray(Image.open(record["output"]).convert("RGB")), REAL_CROP, 3)  # fmt: skip
        print(f"astronaut: noise {record['noise']}, level {record['sigma']}")
        sample_out = Path(tmp) / "sample.denoised.mkv"
        denoise(SAMPLE, sample_out, ["--lossless", *args.extra])
        sample = side_by_side(middle_frame(SAMPLE), middle_frame(sample_out), SAMPLE_CROP, 2)
    width = max(real.shape[1], sample.shape[1])
    rows = [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255) for row in (real, sample)]
    picture = np.concatenate([rows[0], np.full((GAP * 2, width, 3), 255, np.uint8), rows[1]], axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(args.out, optimize=True)
    print(f"{args.out}: {picture.shape[1]}x{picture.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
