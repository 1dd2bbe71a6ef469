#!/usr/bin/env python3
"""Which level should a suite clip be denoised at? `stdit denoise --sigma k * base` for several k.

`base` is the clip's true sigma (`--base true`) or the level `stdit denoise` reads with no number
given (`--base auto`, as `--json` reports it; its own output is the "no number" column: what the
user gets, whichever weights the video's noise picked). Each run is the real CLI on the validation suite's
noisy clips (made by `scripts/benchmark_quality.py --work DIR`), PSNR over the clip's frames
against its clean frames. A measurement for model work, not a benchmark table.

    python scripts/sweep_level.py --base auto --factors 0.8 1 1.25 --clips h264/dog@25 h264/scooter-black@10
    python scripts/sweep_level.py --base true --factors 0.85 1 --clips davis/dog@25 vid4/walk@25
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import read_video  # noqa: E402
from validation_suite import is_compressed, load_clip  # noqa: E402


def noisy_path(pattern: str | None, work: Path, clip: str, sigma: int, frames: int) -> Path:
    """The suite's noisy clip, or ``pattern`` filled in ({group}, {name}, {sigma}, {frames})."""
    if pattern is not None:
        group, _, name = clip.partition("/")
        return Path(pattern.format(group=group, name=name, sigma=sigma, frames=frames))
    suffix = "_h264" if is_compressed(clip) else ""
    return work / "noisy" / f"{clip}_sigma{sigma}_seed2024_{frames}f{suffix}.mp4"


def denoise(source: Path, out: Path, options: list[str]) -> dict:
    stdit = shutil.which("stdit") or "stdit"
    done = subprocess.run([stdit, "denoise", str(source), "-o", str(out), "--lossless", "--overwrite", "--quiet", "--json",
                           *options], capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", required=True, help="suite clip@sigma, e.g. h264/dog@25")
    parser.add_argument("--factors", nargs="*", type=float, default=[], help="multiples of the base level to run at (none: with --base auto, only the no-number run)")
    parser.add_argument("--base", choices=["true", "auto"], default="auto")
    parser.add_argument("--frames", type=int, default=10, help="the noisy clips' length (their file names say it)")
    parser.add_argument("--work", type=Path, default=Path("runs/suite"))
    parser.add_argument("--noisy", default=None, help="other noisy clips, e.g. 'runs/crf/{group}_{name}_sigma{sigma}_seed2024_{frames}f_crf10.mp4'")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--options", default="", help="more `stdit denoise` options, one string")
    args = parser.parse_args()
    extra = args.options.split()
    as_run = ["no number"] if args.base == "auto" else []
    print(f"| clip | sigma | base ({args.base}) | " + " | ".join(as_run + [f"x{k:g}" for k in args.factors]) + " |")
    print("|---|---:|---:|" + "---:|" * (len(as_run) + len(args.factors)))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mkv"
        for item in args.clips:
            clip, _, sigma_text = item.partition("@")
            sigma = int(sigma_text)
            clean = load_clip(args.data, clip, args.frames).astype(np.float64)
            source = noisy_path(args.noisy, args.work, clip, sigma, args.frames)

            def psnr_of_output() -> str:
                mse = np.mean((read_video(out)[: len(clean)].astype(np.float64) - clean) ** 2)
                return f"{10 * math.log10(255**2 / mse):.2f}"

            cells = []
            if args.base == "true":
                base = float(sigma)
            else:
                base = denoise(source, out, extra)["sigma"]
                cells.append(psnr_of_output())
            for factor in args.factors:
                denoise(source, out, ["--sigma", f"{factor * base:.3f}", *extra])
                cells.append(psnr_of_output())
            print(f"| {clip} | {sigma} | {base:.2f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
