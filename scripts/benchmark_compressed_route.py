#!/usr/bin/env python3
"""White noise stored lossily: which weights should no number given run? A routing benchmark.

White noise that went through H.264 4:2:0 reads as white with no number given, and ``--noise
auto`` sends it to the weights trained on white noise then x264 (``weights/unet-h264``) at the
level read. This benchmark measures that route against the Gaussian weights at the same level
(``--noise gaussian``, no number) and any other ``--route LABEL=OPTIONS``, on the validation
suite's clips with its noise (same seeds: ``benchmark_common.noisy_clip``), encoded
``ffmpeg -c:v libx264 -crf C -preset medium -pix_fmt yuv420p`` at several CRFs. Each route is one
``stdit denoise`` process over every clip (``--inputs-from``); PSNR over the clip's frames against
its clean frames; the level read and the weights each clip ran are taken from ``--json``.

    python scripts/benchmark_compressed_route.py --work runs/route --out runs/route/table
    python scripts/benchmark_compressed_route.py --cases h264/dog@10@20 vid4/walk@25@28 --route 'x=--checkpoint DIR'

A case is ``CLIP@SIGMA@CRF`` (``h264/*`` clips: the suite's own CRF-20 files). The default cases are
the 38 of ``scripts/results/2026-12-05_compressed_white.md``, on which ``weights/unet-h264`` was chosen.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, frame_mse, noisy_clip, psnr_db, read_video, stdit_batch  # noqa: E402
from validation_suite import H264_CRF, h264_encode, is_compressed, load_clip  # noqa: E402

BENCH_SEED = 2024  # the validation suite's noise seed (scripts/benchmark_quality.py)


def _cases(clips: str, sigmas: str, crf: int) -> list[str]:
    return [f"{clip}@{sigma}@{crf}" for clip in clips.split() for sigma in sigmas.split()]


#: the 38 cases of 2026-12-05 (``2026-12-05_compressed_white.md``): CRF 20 (the suite's H.264 clips),
#: 10, 14, 28, and 25 (what imageio-ffmpeg writes by default) on clips of other kinds
DEFAULT_CASES = (
    *_cases("h264/dog h264/scooter-black", "10 25 50", H264_CRF),
    *_cases("vid4/walk davis/kite-surf still/kodim03", "10 25 50", 10),
    *_cases("davis/car-shadow", "10 25 50", 14), "vid4/city@25@14",
    *_cases("vid4/walk davis/kite-surf", "25 50", 28), *_cases("still/kodim03", "10 25 50", 28),
    *_cases("anim/car-shadow vid4/foliage", "25 50", 25), *_cases("flat/field", "10 25 50", 25),
    *_cases("tiny/dog", "25 50", 25), *_cases("tiny/scooter-black", "10 25 50", 25),
)  # fmt: skip
#: frames per clip, as in 2026-12-05: 10 for the suite's H.264 clips, the photos and the 176x144 clips, else 6
LONG_GROUPS = ("h264", "still", "tiny")


def frames_for(clip: str, frames: int | None) -> int:
    return frames or (10 if clip.split("/")[0] in LONG_GROUPS else 6)


def encoded_clip(work: Path, data: Path, clip: str, sigma: int, crf: int, frames: int) -> tuple[Path, np.ndarray]:
    """The case's noisy clip stored as H.264 CRF ``crf`` 4:2:0 (made once), and its clean frames."""
    clean = load_clip(data, clip, frames)
    lossless, _ = noisy_clip(work, clean, clip, float(sigma), BENCH_SEED)
    target = lossless.with_name(f"{lossless.stem}_crf{crf}.mp4")
    if not target.is_file():
        h264_encode(FFMPEG, lossless, target, crf)
    return target, clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), metavar="CLIP@SIGMA@CRF")
    parser.add_argument("--route", action="append", default=[], metavar="LABEL=OPTIONS",
                        help="another way to run them (`stdit denoise` options); always run: 'shipped=' (no options) "
                             "and 'gaussian=--noise gaussian'")  # fmt: skip
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (default: 10 for H.264, photo and 176x144 clips, else 6)")
    parser.add_argument("--work", type=Path, default=Path("runs/route"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None, help="prefix of a .json with every figure")
    parser.add_argument("--reuse", type=Path, default=None, help="an earlier run's .json: its routes are not run again")
    args = parser.parse_args()
    routes = {"shipped": "", "gaussian": "--noise gaussian"}
    for item in args.route:
        label, sep, options = item.partition("=")
        if not sep or not label:
            parser.error(f"--route {item!r}: expected LABEL=OPTIONS")
        routes[label] = options

    inputs, cleans = [], {}
    for case in args.cases:
        clip, sigma, crf = case.split("@")
        frames = frames_for(clip, args.frames)
        if is_compressed(clip):  # the suite's own CRF-20 files, made by scripts/benchmark_quality.py
            clean = load_clip(args.data, clip, frames)
            lossless, _ = noisy_clip(args.work, clean, clip, float(sigma), BENCH_SEED)
            path = lossless.with_name(f"{lossless.stem}_h264.mp4")
            if not path.is_file():
                h264_encode(FFMPEG, lossless, path, int(crf))
        else:
            path, clean = encoded_clip(args.work, args.data, clip, int(sigma), int(crf), frames)
        inputs.append(path.resolve())
        cleans[case] = clean

    if len({p.stem for p in inputs}) < len(inputs):
        parser.error("two cases make clips of one name (one output folder holds every route's outputs)")
    results: dict[str, dict] = {case: {} for case in args.cases}
    if args.reuse is not None:
        earlier = json.loads(args.reuse.read_text())
        for case in args.cases:
            results[case].update(earlier["results"].get(case, {}))
    for label, options in routes.items():
        if all(label in results[case] for case in args.cases):
            continue  # measured in the --reuse run
        route_dir = args.work / "route" / label
        route_dir.mkdir(parents=True, exist_ok=True)
        records = stdit_batch(inputs, route_dir, *options.split())
        for case, path in zip(args.cases, inputs):
            record = records[str(path)]
            out = read_video(Path(record["output"]))[: len(cleans[case])]
            psnr = psnr_db(frame_mse(cleans[case], out))
            results[case][label] = {"psnr": psnr, "sigma": record["sigma"], "weights": Path(record.get("checkpoint") or "").name,
                                    "noise": record.get("noise")}  # fmt: skip

    labels = list(routes)
    print("| case (clip, sigma, CRF) | level read | weights (shipped) | " + " | ".join(labels) + " |")
    print("|---|---:|---|" + "---:|" * len(labels))
    for case in args.cases:
        row = results[case]
        shipped = row["shipped"]
        print(f"| {case.replace('@', ' / ')} | {shipped['sigma']:.2f} | {shipped['weights']} | "
              + " | ".join(f"{row[label]['psnr']:.2f}" for label in labels) + " |")  # fmt: skip
    for label in labels[1:]:
        diffs = np.array([results[c][label]["psnr"] - results[c]["shipped"]["psnr"] for c in args.cases])
        print(f"\n{label} - shipped: mean {diffs.mean():+.3f} dB, {int((diffs > 0).sum())} of {len(diffs)} up, "
              f"worst {diffs.min():+.2f}, best {diffs.max():+.2f}")  # fmt: skip
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": sys.argv, "routes": routes, "results": results}
        args.out.with_suffix(".json").write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
