#!/usr/bin/env python3
"""What the level sample reads on clean and lightly noisy footage stored as H.264: is texture told from noise?

For each clip, sigma (0 = clean) and CRF: Gaussian noise (clipped, rounded), H.264 4:2:0 at that
CRF (``benchmark_camera_noise.encode_h264``), then the three levels ``--noise auto`` decides with
(``stdit_cli.pipeline.noise_kind``): patch PCA at full resolution ("white") and binned 2x2, their
whiteness, the learned level, and whether the video reads as white noise.

    python scripts/probe_compressed_texture.py > scripts/results/DATE_compressed_texture_levels.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import encode_h264  # noqa: E402
from validation_suite import load_clip  # noqa: E402

from stdit_cli.pipeline.learned_level import LearnedNoiseLevel  # noqa: E402
from stdit_cli.pipeline.noise_kind import reads_as_white, whiteness  # noqa: E402
from stdit_cli.pipeline.opening import open_video  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--clips", nargs="+", default=["vid4/calendar", "vid4/foliage", "vid4/city", "davis/dog", "still/kodim08"])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0, 5, 10])
    parser.add_argument("--crfs", type=int, nargs="+", default=[20, 23, 28])
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("runs/compressed_texture"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    estimator = LearnedNoiseLevel.shipped()
    print(f"Command: `python {' '.join(sys.argv)}`\n")
    print("| clip | sigma | CRF | patch PCA | binned 2x2 | whiteness | learned | reads as white |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for index, name in enumerate(args.clips):
        clean = load_clip(args.data, name, args.frames)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
        for sigma in args.sigmas:
            rng = np.random.default_rng([index, int(sigma)])
            noisy = clean if sigma == 0 else np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255).astype(np.uint8)
            for crf in args.crfs:
                path = encode_h264(noisy, args.work / f"{name.replace('/', '_')}_s{sigma:g}_crf{crf}.mp4", crf)
                opening = open_video(path, read_level=True)
                with opening.reader:
                    learned = estimator.estimate(opening.sample)
                white = reads_as_white(opening.white, opening.binned, learned)
                print(f"| {name} | {sigma:g} | {crf} | {opening.white:.2f} | {opening.binned:.2f} | "
                      f"{whiteness(opening.white, opening.binned):.2f} | {learned:.2f} | {'yes' if white else 'no'} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
