#!/usr/bin/env python3
"""Camera noise on video: held-out clips noised like a phone's sensor, encoded like its video, denoised.

Clips that no checkpoint trains on (the validation suite's held-out DAVIS clips at 854x480 and
Vid4 calendar and walk) get camera noise (``stdit_cli.train.camera_noise.add_camera_noise``:
Poisson-Gaussian on a Bayer mosaic, demosaiced, colour matrix and tone curve) at four fixed
cameras, from a bright day to a phone at night (noise of RMS about 29 on 0..255, the strong end of
real phone footage), fresh noise per frame; then they are encoded as a
phone stores video (H.264 CRF 20, 4:2:0). The camera noise model is the one the real-noise
checkpoint trains with, so this measures the video side (temporal windows, H.264) on
held-out content, not the gap to real sensors: PolyU (``scripts/benchmark_real_noise.py``) does that.

``--still``: each clip's first frame, noised once and repeated ``--frames`` times, stored losslessly
(FFV1) without H.264: a noisy photo as a clip, the protocol of PolyU and of real-noise photo
benchmarks, where the frames carry the same noise and the temporal window cannot average it away.

Methods: stdit as a user runs it (no number given), stdit ``--noise gaussian`` (the white-noise
weights and estimate), ffmpeg ``nlmeans`` at every strength of ``NLMEANS_STRENGTHS`` and at
the best one per clip (an oracle). PSNR (8-bit RGB) against the clean frames.

    python scripts/benchmark_camera_noise.py --out scripts/results/DATE_camera_noise_video
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, FPS, TOOLS, ffmpeg_chain, frame_mse, psnr_db, read_video, yuv_colour_args  # noqa: E402
from validation_suite import load_clip  # noqa: E402

from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise  # noqa: E402

CLIPS = ("davis/blackswan", "davis/car-shadow", "davis/dog", "davis/kite-surf", "davis/scooter-black", "vid4/calendar", "vid4/walk")
#: (label, shot gain, in-camera noise blur in pixels): read noise from Brooks et al.'s fit at its mean
CAMERAS = (("bright", 5e-4, 0.0), ("indoor", 2.5e-3, 0.7), ("dark", 8e-3, 1.0), ("night", 3e-2, 1.2))
#: ``--clean``: no camera at all
CLEAN = (("clean", 0.0, 0.0),)
NLMEANS_STRENGTHS = (1, 2, 3, 5, 8, 12, 16, 24)
CRF = 20


def camera(shot: float) -> CameraNoise:
    ccm = np.array([[1.6, -0.5, -0.1], [-0.2, 1.5, -0.3], [0.0, -0.6, 1.6]])
    return CameraNoise(shot=shot, read=float(np.exp(2.18 * np.log(shot) + 1.20)), red_gain=2.1, blue_gain=1.7, ccm=ccm)


def to_gray(frames: np.ndarray) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 -> the same with BT.601 luma, rounded, in all three channels."""
    luma = np.clip(frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114]), 0, 255).round().astype(np.uint8)
    return np.repeat(luma[..., None], 3, axis=-1)


def encode_h264(frames: np.ndarray, path: Path, crf: int = CRF) -> Path:
    """``[T, H, W, 3]`` uint8 -> H.264 at ``crf`` (default 20), 4:2:0 (a phone's video; HD as BT.709, tagged), through a raw pipe."""
    height, width = frames.shape[1:3]
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-crf", str(crf), "-preset", "medium", "-pix_fmt", "yuv420p",
               *yuv_colour_args(width, height), str(path)]  # fmt: skip
    subprocess.run(command, input=frames.tobytes(), check=True)
    return path


def encode_lossless(frames: np.ndarray, path: Path) -> Path:
    """``[T, H, W, 3]`` uint8 -> FFV1 RGB (bit-exact), through a raw pipe."""
    height, width = frames.shape[1:3]
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", str(FPS), "-i", "-", "-c:v", "ffv1", "-level", "3", "-pix_fmt", "bgr0", str(path)]  # fmt: skip
    subprocess.run(command, input=frames.tobytes(), check=True)
    return path


def run_stdit(label: str, options: str, clips: list[Path], work: Path) -> tuple[dict[str, np.ndarray], dict[str, float], float]:
    out_dir = work / f"stdit-{label}"
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = work / f"inputs-{label}.txt"
    listing.write_text("".join(f"{clip}\n" for clip in clips))
    command = ["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out_dir), "--lossless", "--overwrite", "--quiet", "--json",
               *shlex.split(options)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stdit failed ({shlex.join(command)}): {done.stderr.strip()[-500:]}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return ({r["input"]: read_video(Path(r["output"])) for r in records}, {r["input"]: r["sigma"] for r in records}, seconds)


def run_nlmeans(strength: float, clip: Path, work: Path) -> np.ndarray:
    out = work / "nlmeans" / f"{clip.stem}-s{strength:g}.mkv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file() and out.stat().st_mtime >= clip.stat().st_mtime:  # from an earlier run on the same noisy clip
        return read_video(out)
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(clip), "-vf", ffmpeg_chain(TOOLS["nlmeans"], strength),
               "-c:v", "ffv1", "-level", "3", str(out)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return read_video(out)


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    """PSNR of ``out`` against ``clean``; where ``clean`` has fewer rows (``--letterbox``: the picture
    without its bars), ``out``'s rows inside the bars."""
    bar = (out.shape[1] - clean.shape[1]) // 2
    return psnr_db(frame_mse(clean, out[:, bar : bar + clean.shape[1]]))


def letterboxed(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """``[T, H, W, 3]`` -> its middle rows as a 2.39:1 picture (an even number of rows) and the bar
    height that puts it back in an ``H``-row frame."""
    rows = min(frames.shape[1], int(round(frames.shape[2] / 2.39 / 2)) * 2)
    bar = (frames.shape[1] - rows) // 2
    return frames[:, bar : bar + rows], bar


def with_bars(picture: np.ndarray, bar: int) -> np.ndarray:
    """``picture`` between black bars of ``bar`` rows above and below."""
    return np.pad(picture, ((0, 0), (bar, bar), (0, 0), (0, 0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), metavar="CLIP",
                        help="validation-suite clips (scripts/validation_suite.py), e.g. tiny/dog anim/blackswan "
                             "(default: the held-out DAVIS clips and Vid4 calendar and walk; use another --work)")  # fmt: skip
    parser.add_argument("--stdit", action="append", metavar="LABEL=OPTIONS",
                        help='stdit runs (default: "default=" and "gaussian=--noise gaussian")')  # fmt: skip
    parser.add_argument("--still", action="store_true", help="each clip's first frame noised once, repeated, stored losslessly")
    parser.add_argument("--clean", action="store_true",
                        help="no noise: each clip stored losslessly as it is, scored against itself (clean footage must be left alone)")
    parser.add_argument("--gray", action="store_true",
                        help="black-and-white video (an infrared night camera): the noisy and clean frames' BT.601 luma in all three channels")
    parser.add_argument("--letterbox", action="store_true",
                        help="a 2.39:1 picture between black bars (each clip's middle rows, noised, then the bars added, then "
                             "encoded); scored inside the bars (use another --work)")  # fmt: skip
    parser.add_argument("--cfa-phase", choices=["0", "mixed"], default="0",
                        help="Bayer phase of the noise: 0 (RGGB from the top-left pixel, as before 2026-12-04 night), or mixed "
                             "(each clip and camera another of the four; use another --work)")  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("runs/camera_noise"))
    parser.add_argument("--out", type=Path, default=Path("runs/camera_noise/video"))
    args = parser.parse_args()
    runs = [entry.partition("=")[::2] for entry in (args.stdit or ["default=", "gaussian=--noise gaussian"])]

    cases: dict[str, tuple[Path, np.ndarray]] = {}  # name -> (noisy H.264 clip, clean frames)
    for index, name in enumerate(args.clips):
        clean = load_clip(args.data, name, args.frames)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]  # the Bayer mosaic wants even sizes
        if args.still:
            clean = np.repeat(clean[:1], args.frames, axis=0)  # [T, H, W, 3]: one photo, T times
        bar = 0
        if args.letterbox:
            clean, bar = letterboxed(clean)  # [T, H, W, 3] -> [T, h, W, 3]; the bars go on after the noise
        for level, (label, shot, blur) in enumerate(CLEAN if args.clean else CAMERAS):
            case = f"{name.replace('/', '_')}{'_gray' if args.gray else ''}_{label}"
            phase = (index + level) % 4 if args.cfa_phase == "mixed" else 0
            path = args.work / "noisy" / (f"{case}_still{args.frames}.mkv" if args.still else f"{case}_{args.frames}f.mp4")
            if args.clean:
                path = path.with_suffix(".mkv")
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                if args.clean:
                    encode_lossless(with_bars(to_gray(clean) if args.gray else clean, bar), path)
                elif args.still:
                    noisy = add_camera_noise(clean[:1], np.random.default_rng([index, level, 7]), camera(shot), noise_blur=blur, cfa_phase=phase)
                    encode_lossless(with_bars(np.repeat(to_gray(noisy) if args.gray else noisy, args.frames, axis=0), bar), path)
                else:
                    noisy = add_camera_noise(clean, np.random.default_rng([index, level, 7]), camera(shot), noise_blur=blur, cfa_phase=phase)
                    encode_h264(with_bars(to_gray(noisy) if args.gray else noisy, bar), path)
            cases[case] = (path, to_gray(clean) if args.gray else clean)

    noisy_key = "input (clean, lossless)" if args.clean else "noisy input (lossless)" if args.still else "noisy input (H.264)"
    description = (
        f"{len(args.clips)} held-out clips x {len(CAMERAS)} cameras ({', '.join(f'{l}: shot {s:g}, noise blur {b:g} px' for l, s, b in CAMERAS)}), "
        + (f"the first frame noised once and repeated {args.frames} times, lossless (FFV1); " if args.still else
           f"first {args.frames} frames, camera noise then H.264 CRF {CRF} 4:2:0; ")
        + ("in gray (the noisy and clean frames' BT.601 luma, R = G = B); " if args.gray else "")
        + ("letterboxed: each clip's middle rows as a 2.39:1 picture, noised, then black bars to its height, scored inside the bars; "
           if args.letterbox else "")
        + ("Bayer phase per clip and camera (index + camera) mod 4; " if args.cfa_phase == "mixed" else "Bayer phase RGGB from the top-left pixel; ")
        + "PSNR (dB) against the clean frames. "
    )  # fmt: skip
    if args.clean:
        description = f"{len(args.clips)} held-out clips, first {args.frames} frames, clean, lossless (FFV1)" + \
            (" in gray (BT.601 luma, R = G = B)" if args.gray else "") + "; PSNR (dB) of the output against its input. "
    compare(cases, [label for label, _, _ in (CLEAN if args.clean else CAMERAS)], runs, noisy_key, description, args.work, args.out)


def compare(cases: dict[str, tuple[Path, np.ndarray]], levels: list[str], runs: list[tuple[str, str]], noisy_key: str,
            description: str, work: Path, out: Path) -> None:  # fmt: skip
    """Score the noisy input, nlmeans at each of ``NLMEANS_STRENGTHS`` and its per-clip best (an
    oracle), and each stdit run (``(label, options)``) on ``cases`` (name ending ``_<level>`` ->
    (noisy clip, reference frames)); write ``out``.md (a table per method: mean, per level, worst
    clip, clips above the oracle, median level read) and ``out``.json, and print the table."""
    rows: dict[str, dict[str, float]] = {noisy_key: {c: psnr(read_video(p), clean) for c, (p, clean) in cases.items()}}
    for strength in NLMEANS_STRENGTHS:
        rows[f"nlmeans s={strength:g}"] = {c: psnr(run_nlmeans(strength, p, work), clean) for c, (p, clean) in cases.items()}
    nl_keys = [f"nlmeans s={s:g}" for s in NLMEANS_STRENGTHS]
    best_fixed = max(nl_keys, key=lambda key: statistics.mean(rows[key].values()))
    oracle = {c: max(rows[key][c] for key in nl_keys) for c in cases}
    sigmas, seconds = {}, {}
    for label, options in runs:
        outputs, used, took = run_stdit(label, options, [p for p, _ in cases.values()], work)
        key = f"stdit {label}" + (f" ({options})" if options else " (no options)")
        rows[key] = {c: psnr(outputs[str(p)], clean) for c, (p, clean) in cases.items()}
        sigmas[key], seconds[key] = {c: used[str(p)] for c, (p, _) in cases.items()}, took

    table = {noisy_key: rows[noisy_key], f"{best_fixed} (best single strength)": rows[best_fixed],
             "nlmeans, best s per clip (oracle)": oracle, **{k: v for k, v in rows.items() if k.startswith("stdit")}}  # fmt: skip
    lines = [
        f"Command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`",
        "",
        description + f"nlmeans: ffmpeg `nlmeans=s=S:p=7:r=15`, S in {NLMEANS_STRENGTHS}.",
        "",
        "| method | mean | " + " | ".join(levels) + " | worst clip | clips above the nlmeans oracle | level read (median) |",
        "|---|---:|" + "---:|" * len(levels) + "---:|---:|---:|",
    ]
    for key, values in table.items():
        per_level = [statistics.mean(v for c, v in values.items() if c.endswith(f"_{level}")) for level in levels]
        worst = min(values, key=values.get)
        above = sum(values[c] > oracle[c] for c in cases)
        level = f"{statistics.median(sigmas[key].values()):.1f}" if key in sigmas else "—"
        lines.append(f"| {key} | {statistics.mean(values.values()):.2f} | " + " | ".join(f"{v:.2f}" for v in per_level)
                     + f" | {values[worst]:.2f} ({worst}) | {above} / {len(cases)} | {level} |")  # fmt: skip
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "psnr": rows, "oracle_nlmeans": oracle,
                                                    "sigmas": sigmas, "seconds": seconds}, indent=1))  # fmt: skip
    print(text)


if __name__ == "__main__":
    main()
