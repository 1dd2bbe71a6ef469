#!/usr/bin/env python
"""The README's before/after picture: a crop of the bundled sample, noisy beside `stdit denoise`'s output.

    python scripts/render_before_after.py [--out docs/before_after.png] [-- extra stdit denoise options]

Runs the real CLI on ``stdit_cli/samples/coffee_sigma25.mp4`` (the shipped default weights), takes
the middle frame, crops the same window of both and writes one small PNG, noisy on the left.
Re-run it whenever the shipped weights change, so the picture stays true.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from stdit_cli.video import VideoReader

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "stdit_cli" / "samples" / "coffee_sigma25.mp4"


def middle_frame(path: Path) -> np.ndarray:
    with VideoReader(path) as reader:
        return reader.read(len(reader) // 2, len(reader) // 2 + 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "before_after.png")
    parser.add_argument("--crop", type=int, nargs=4, default=[24, 16, 208, 160], metavar=("LEFT", "TOP", "RIGHT", "BOTTOM"))
    parser.add_argument("extra", nargs="*", help="extra `stdit denoise` options")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        denoised = Path(tmp) / "denoised.mkv"
        subprocess.run([sys.executable, "-m", "stdit_cli", "denoise", str(SAMPLE), "-o", str(denoised), "--lossless",
                        "--quiet", *args.extra], check=True)  # fmt: skip
        left, top, right, bottom = args.crop
        noisy, clean = (middle_frame(p)[top:bottom, left:right] for p in (SAMPLE, denoised))
    gap = np.full((noisy.shape[0], 4, 3), 255, np.uint8)
    picture = Image.fromarray(np.concatenate([noisy, gap, clean], axis=1))
    picture = picture.resize((picture.width * 2, picture.height * 2), Image.NEAREST)  # pixels visible
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(args.out, optimize=True)
    print(f"{args.out}: {picture.width}x{picture.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
