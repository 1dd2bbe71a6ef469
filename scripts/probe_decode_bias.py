#!/usr/bin/env python
"""The validation suite's two H.264 clips (white noise, then CRF 20 4:2:0), first 10 frames, at
sigma 10 / 25 / 50, denoised with ``--sigma N`` (the Gaussian weights) and with no number (the
H.264 weights): PSNR against the clean frames, and the mean error per channel (the decoder's bias
shows there). Run it before and after a change to compare; the noisy clips come from
``benchmark_quality.py``'s work folder.

    python scripts/probe_decode_bias.py LABEL [--work runs/suite] [--modes oracle auto]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import frame_mse, psnr_db, read_video  # noqa: E402
from validation_suite import load_clip  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/suite"))
    parser.add_argument("--modes", nargs="+", default=["oracle", "auto"], choices=["oracle", "auto"])
    args = parser.parse_args()
    results = {}
    for clip in ("dog", "scooter-black"):
        clean = load_clip(args.data, f"h264/{clip}", 10)
        for sigma in (10, 25, 50):
            noisy = args.work / "noisy" / "h264" / f"{clip}_sigma{sigma}_seed2024_10f_h264.mp4"
            for mode in args.modes:
                out = args.work / f"decode_bias_{args.label}.mkv"
                level = ["--sigma", str(sigma)] if mode == "oracle" else []
                done = subprocess.run(["stdit", "denoise", str(noisy), "-o", str(out), "--lossless", "--overwrite", "-q", "--json", *level],
                                      capture_output=True, text=True, check=True)  # fmt: skip
                record = json.loads(done.stdout.strip().splitlines()[-1])
                output = read_video(out)
                error = (output.astype(float) - clean[: len(output)]).mean(axis=(0, 1, 2))
                key = f"h264/{clip} sigma {sigma} {mode}"
                results[key] = {"psnr": psnr_db(frame_mse(clean[: len(output)], output)), "mean_error": error.round(2).tolist(),
                                "weights": Path(record["checkpoint"]).name}  # fmt: skip
                print(f"{key:32s} {results[key]['psnr']:.3f} dB  mean error {results[key]['mean_error']}  ({results[key]['weights']})", flush=True)
    (args.work / f"decode_bias_{args.label}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
