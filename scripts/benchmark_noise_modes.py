#!/usr/bin/env python3
"""What ``--noise auto`` (no number given: the real-noise weights, the learned level) does to
white Gaussian noise and to clean footage, against ``--noise gaussian`` and the true sigma.

Gaussian clips: validation-suite clips (``scripts/validation_suite.py``, first 6 frames, noise
added once, clipped, rounded, stored losslessly; one H.264 CRF 20 case). Clean clips: held-out
DAVIS frames stored losslessly, and the same encoded H.264 CRF 20 (clean footage as a camera
stores it); the figure there is PSNR of the output against the input (a denoiser should leave it
alone: 38 dB or more). One ``stdit denoise`` batch per mode.

    python scripts/benchmark_noise_modes.py --out scripts/results/DATE_noise_modes
    python scripts/benchmark_noise_modes.py --clean-only --clean-options "--noise real --checkpoint runs/x"
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FPS, frame_mse, psnr_db, read_video  # noqa: E402
from benchmark_camera_noise import encode_h264  # noqa: E402
from validation_suite import load_clip  # noqa: E402

from stdit_cli.video import VideoWriter  # noqa: E402

GAUSSIAN = [("vid4/calendar", 10), ("vid4/calendar", 25), ("vid4/walk", 25), ("davis/dog", 10), ("davis/dog", 25),
            ("davis/blackswan", 25), ("davis/blackswan", 50)]  # fmt: skip
CLEAN = ["davis/blackswan", "davis/kite-surf", "vid4/foliage"]
MODES = {"auto (no number)": "", "--noise gaussian": "--noise gaussian", "--sigma true": None}


def write_lossless(frames: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(path, frames.shape[2], frames.shape[1], FPS, lossless=True) as writer:
        writer.write(frames)
    return path


def denoise(clip: Path, out: Path, options: str) -> tuple[np.ndarray, dict]:
    out.parent.mkdir(parents=True, exist_ok=True)
    command = ["stdit", "denoise", str(clip), "-o", str(out), "--lossless", "--overwrite", "--quiet", "--json", *shlex.split(options)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return read_video(out), json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path("runs/noise_modes"))
    parser.add_argument("--out", type=Path, default=Path("runs/noise_modes/result"))
    parser.add_argument("--clean-only", action="store_true", help="only the clean footage (no Gaussian clips)")
    parser.add_argument("--clean-options", default="", help="stdit denoise options for the clean footage (default: none)")
    parser.add_argument("--clean-clips", nargs="+", default=CLEAN, metavar="CLIP",
                        help="validation-suite clips used as clean footage (default: %(default)s)")
    args = parser.parse_args()
    rows, lines = [], [f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`", ""]
    gaussian = [] if args.clean_only else GAUSSIAN + [("h264/dog", 25)]
    if gaussian:
        lines += ["White Gaussian noise (PSNR against the clean frames, dB; level used in brackets):", "",
                  "| clip | sigma | noisy | " + " | ".join(MODES) + " |", "|---|---:|---:|" + "---:|" * len(MODES)]  # fmt: skip
    for name, sigma in gaussian:
        clean = load_clip(args.data, name.replace("h264/", "davis/"), args.frames)
        noise = np.random.default_rng([len(name), sigma]).standard_normal(clean.shape) * sigma
        noisy = np.clip(np.round(clean + noise), 0, 255).astype(np.uint8)
        stem = f"{name.replace('/', '_')}_s{sigma}"
        clip = (encode_h264(noisy, args.work / f"{stem}.mp4") if name.startswith("h264")
                else write_lossless(noisy, args.work / f"{stem}.mkv"))  # fmt: skip
        cells, record = [], {"clip": name, "sigma": sigma, "noisy": psnr_db(frame_mse(clean, read_video(clip)))}
        for mode, options in MODES.items():
            out, result = denoise(clip, args.work / "out" / f"{stem}_{len(cells)}.mkv", options if options is not None else f"--sigma {sigma}")
            record[mode] = {"psnr": psnr_db(frame_mse(clean, out)), "level": result["sigma"], "noise": result["noise"]}
            cells.append(f"{record[mode]['psnr']:.2f} ({result['sigma']:.1f})")
        rows.append(record)
        lines.append(f"| {name} | {sigma} | {record['noisy']:.2f} | " + " | ".join(cells) + " |")
    lines += ["", f"Clean footage, {'`' + args.clean_options + '`' if args.clean_options else 'no number given'} (PSNR of the output against the input, dB; level read in brackets):", "",
              "| clip | stored as | output vs input |", "|---|---|---:|"]  # fmt: skip
    for name in args.clean_clips:
        clean = load_clip(args.data, name, args.frames)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
        stem = name.replace("/", "_")
        for label, clip in (("lossless", write_lossless(clean, args.work / f"clean_{stem}.mkv")),
                            ("H.264 CRF 20", encode_h264(clean, args.work / f"clean_{stem}.mp4"))):  # fmt: skip
            source = read_video(clip)
            out, result = denoise(clip, args.work / "out" / f"clean_{stem}_{label[:4]}.mkv", args.clean_options)
            value = psnr_db(frame_mse(source, out))
            rows.append({"clip": name, "clean": label, "psnr_vs_input": value, "level": result["sigma"]})
            lines.append(f"| {name} | {label} | {value:.2f} ({result['sigma']:.1f}) |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
