#!/usr/bin/env python
"""Letterboxed white noise: five suite clips as 2.39:1 pictures with white noise (sigma 10, 25),
black bars added, stored losslessly and as H.264 CRF 20 4:2:0, denoised with no options; PSNR
inside the bars and the level read (`stdit_cli.pipeline.flat_areas`: levels are read inside bars).

    python scripts/probe_letterbox_white.py LABEL [--work runs/letterbox_white]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import encode_h264, encode_lossless, letterboxed, with_bars  # noqa: E402
from benchmark_common import frame_mse, psnr_db, read_video  # noqa: E402
from validation_suite import load_clip  # noqa: E402

CLIPS = ("davis/dog", "davis/kite-surf", "vid4/walk", "anim/blackswan", "still/kodim03")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", help="names this run's outputs and JSON (e.g. before, after)")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/letterbox_white"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    paths, references = [], {}
    for index, name in enumerate(CLIPS):
        picture, bar = letterboxed(load_clip(args.data, name, 6))
        for sigma in (10, 25):
            for kind, suffix, encode in (("lossless", ".mkv", encode_lossless), ("h264", ".mp4", encode_h264)):
                path = args.work / f"{name.replace('/', '_')}_s{sigma}_{kind}{suffix}"
                if not path.is_file():
                    noise = np.random.default_rng([index, sigma]).normal(0, sigma, picture.shape)
                    encode(with_bars(np.clip(picture + noise, 0, 255).round().astype(np.uint8), bar), path)
                paths.append(path)
                references[str(path)] = (picture, bar)
    listing = args.work / "inputs.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    out = args.work / f"out_{args.label}"
    done = subprocess.run(["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out), "--lossless", "--overwrite", "-q", "--json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    results = {}
    for record in (json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")):
        picture, bar = references[record["input"]]
        output = read_video(Path(record["output"]))[:, bar : bar + picture.shape[1]]
        results[Path(record["input"]).name] = (psnr_db(frame_mse(picture, output)), record["sigma"], record["noise"])
    (args.work / f"{args.label}.json").write_text(json.dumps(results, indent=1))
    for name, (psnr, level, noise) in sorted(results.items()):
        print(f"{name:40s} {psnr:.2f} dB  level {level:.2f} ({noise})")


if __name__ == "__main__":
    main()
