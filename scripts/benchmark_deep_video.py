#!/usr/bin/env python3
"""Video of more than 8 bits per sample: denoised in 16 bits and written in 10, against the 8-bit path.

A phone's HDR video and most camera files hold 10 bits per sample. Until 2026-12-06 stdit read
them as 8-bit frames and wrote 8-bit H.264: the denoised picture, smooth where the noise was, was
cut to 256 levels and banded (a sky, a wall, a dim gradient). Now such video is read as uint16
frames and written as 10-bit HEVC (`stdit_cli.video.depth`). This measures both paths on 10-bit
clips made from held-out footage:

- clips: the clean frames area-downscaled 2x in floating point (averages of four pixels: detail
  finer than 8 bits, as a camera's own downscale gives), and a dim, slow gradient (an evening sky:
  levels 40-60 of 255 across the frame, where 8 bits leave 20 bands), each quantised to 10 bits;
- Gaussian noise of ``--sigmas`` (on the 0..255 scale) added before the 10-bit quantisation,
  stored losslessly (FFV1, ``gbrp10le``);
- "8-bit": the noisy clip rounded to 8 bits, `stdit denoise --sigma S --lossless` (what the 8-bit
  path computed), then its output encoded as the 8-bit default does (H.264 4:2:0, ``veryfast``,
  CRF 10); "16-bit": `stdit denoise --sigma S --lossless -o x.mkv` on the 10-bit clip (16-bit
  FFV1: the model's output exactly), then encoded as a deep lossy output is (HEVC 4:2:0 10-bit,
  by default x265 ``ultrafast`` at CRF 10, what the writer picks where 8-bit video gets x264
  ``veryfast`` at CRF 10; ``--x265`` lists the settings compared).

PSNR against the clean 10-bit frames on the 0..255 scale, bytes, the encoder's CPU seconds, and the
banding: the RMS of the error averaged over 16 pixels along each row (the steps between flat bands
stay, residual noise averages out).

    python scripts/benchmark_deep_video.py --out scripts/results/2026-12-06_deep_video
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG  # noqa: E402
from validation_suite import load_clip  # noqa: E402

import stdit_cli.video.encoding as encoding  # noqa: E402
from stdit_cli.video import VideoReader, VideoWriter  # noqa: E402

FPS = Fraction(25)
CLIPS = ("davis/dog", "davis/kite-surf", "gradient")
GRADIENT_SIZE = (272, 640)


def ten_bit(frames_255: np.ndarray) -> np.ndarray:
    """Float frames on 0..255 -> uint16 frames holding 10-bit values as FFmpeg scales them (v10 * 64 + v10 // 16)."""
    v10 = np.clip(np.round(frames_255 * 1023 / 255), 0, 1023).astype(np.uint16)
    return (v10 << 6) | (v10 >> 4)


def clean_clip(data: Path, name: str, frames: int) -> np.ndarray:
    """Clean float frames on 0..255 with detail finer than 8 bits."""
    if name == "gradient":
        height, width = GRADIENT_SIZE
        xx = np.linspace(0.0, 1.0, width)[None, :].repeat(height, 0)
        yy = np.linspace(0.0, 1.0, height)[:, None].repeat(width, 1)
        sky = np.stack([40 + 20 * xx, 45 + 15 * xx + 3 * yy, 55 + 10 * xx], -1)
        return np.repeat(sky[None], frames, 0)
    uint8 = load_clip(data, name, frames).astype(np.float64)
    t, h, w, c = uint8.shape
    # [T, H, W, 3] -> [T, H/2, 2, W/2, 2, 3] -> mean over each 2x2 block
    return uint8[:, : h // 2 * 2, : w // 2 * 2].reshape(t, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def write_raw(frames: np.ndarray, path: Path, pix_fmt_in: str, codec: list[str]) -> float:
    """Pipe frames into FFmpeg; return its CPU seconds."""
    height, width = frames.shape[1:3]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", pix_fmt_in, "-s", f"{width}x{height}",
                    "-r", "25", "-i", "-", *codec, str(path)], input=np.ascontiguousarray(frames).tobytes(), check=True)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def read_255(path: Path) -> np.ndarray:
    """Every frame as float on 0..255, at the file's own depth."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with VideoReader(path, backend="pyav", bit_depth=None) as reader:
            frames = reader.read(0, len(reader)).astype(np.float64)
            return frames if reader.bit_depth == 8 else frames / 257.0


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((out - clean) ** 2)))


def banding(frames: np.ndarray, clean: np.ndarray, run: int = 16) -> float:
    """RMS (0..255) of the error averaged over ``run`` pixels along each row: steps between bands
    (flat runs tens of pixels wide) stay, residual noise averages out."""
    error = frames - clean  # [T, H, W, 3]
    sums = np.cumsum(np.pad(error, ((0, 0), (0, 0), (1, 0), (0, 0))), axis=2)
    return float(np.sqrt(np.mean(((sums[:, :, run:] - sums[:, :, :-run]) / run) ** 2)))


def encode(frames_255: np.ndarray, path: Path, bit_depth: int, setting: tuple[int, int] = (2, 0)) -> float:
    """Encode as `stdit denoise` writes a lossy 4:2:0 output, a deep one with x265 ``setting`` =
    (presets faster than x264's, CRF offset); return the encoder's CPU seconds."""
    encoding.X265_PRESET_STEPS, encoding.X265_CRF_OFFSET = setting
    frames = (np.round(frames_255).astype(np.uint8) if bit_depth == 8
              else np.round(frames_255 * 257).astype(np.uint16))  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with VideoWriter(path, frames.shape[2], frames.shape[1], FPS, crf=10, preset="veryfast", bit_depth=bit_depth) as writer:
        writer.write(frames)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def stdit(source: Path, out: Path, sigma: float) -> None:
    subprocess.run([sys.executable, "-m", "stdit_cli", "denoise", str(source), "-o", str(out), "--sigma", str(sigma),
                    "--lossless", "--overwrite", "--quiet"], check=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--sigmas", nargs="+", type=float, default=[5.0, 10.0])
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--x265", nargs="+", default=["2:0", "0:2", "0:4"],
                        help="deep encodes to compare, STEPS:OFFSET: x265 presets faster than x264 veryfast, CRF over 10")
    parser.add_argument("--work", type=Path, default=Path("runs/deep_video"))
    parser.add_argument("--out", type=Path, default=Path("runs/deep_video/result"))
    args = parser.parse_args()
    settings = [tuple(int(v) for v in text.split(":")) for text in args.x265]
    names = [f"{encoding._X264_PRESETS[encoding._X264_PRESETS.index('veryfast') + steps]} CRF {10 + offset}"
             for steps, offset in settings]  # fmt: skip
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.clips:
        clean = ten_bit(clean_clip(args.data, name, args.frames)).astype(np.float64) / 257.0
        for sigma in args.sigmas:
            stem = f"{name.replace('/', '_')}_s{sigma:g}"
            rng = np.random.default_rng([2026, len(name), round(sigma * 10)])
            noisy16 = ten_bit(clean + sigma * rng.standard_normal(clean.shape))
            noisy10 = args.work / f"{stem}_noisy10.mkv"
            write_raw(noisy16, noisy10, "rgb48le", ["-c:v", "ffv1", "-pix_fmt", "gbrp10le"])
            noisy8 = args.work / f"{stem}_noisy8.mkv"
            write_raw(np.round(noisy16 / 257.0).astype(np.uint8), noisy8, "rgb24", ["-c:v", "ffv1", "-pix_fmt", "bgr0"])
            out8, out16 = args.work / f"{stem}_out8.mkv", args.work / f"{stem}_out16.mkv"
            stdit(noisy8, out8, sigma)
            stdit(noisy10, out16, sigma)
            denoised8, denoised16 = read_255(out8), read_255(out16)
            row = {"clip": name, "sigma": sigma, "noisy": psnr(read_255(noisy10), clean),
                   "lossless 8-bit": psnr(denoised8, clean), "lossless 16-bit": psnr(denoised16, clean),
                   "bands 8-bit": banding(denoised8, clean), "bands 16-bit": banding(denoised16, clean)}  # fmt: skip
            path = args.work / f"{stem}_h264.mp4"
            row["h264 8-bit cpu"] = encode(denoised8, path, 8)
            row["h264 8-bit"], row["h264 8-bit bytes"] = psnr(read_255(path), clean), path.stat().st_size
            row["bands h264 8-bit"] = banding(read_255(path), clean)
            for setting, label in zip(settings, names):
                path = args.work / f"{stem}_hevc_{label.replace(' ', '')}.mp4"
                row[f"{label} cpu"] = encode(denoised16, path, 16, setting)
                decoded = read_255(path)
                row[label], row[f"{label} bytes"] = psnr(decoded, clean), path.stat().st_size
                row[f"bands {label}"] = banding(decoded, clean)
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    lines = [f"`python scripts/benchmark_deep_video.py {' '.join(sys.argv[1:])}`", "",
             "PSNR (dB, 0..255 scale) against the clean 10-bit frames (bytes and the encoder's CPU seconds in brackets); banding: "
             "RMS (0..255) of the error averaged over 16 px along rows (band steps stay, residual noise averages out).", "",
             "| clip | sigma | noisy | lossless 8-bit | lossless 16-bit | H.264 8-bit CRF 10 | "
             + " | ".join(f"HEVC 10-bit, x265 {name}" for name in names) + f" | banding: lossless 8-bit / 16-bit / H.264 / HEVC {names[0]} |",
             "|---|---:|" + "---:|" * (5 + len(names))]  # fmt: skip
    for r in rows:
        hevc = " | ".join(f"{r[n]:.2f} ({r[f'{n} bytes'] / 1024:.0f} KiB, {r[f'{n} cpu']:.2f} s)" for n in names)
        lines.append(f"| {r['clip']} | {r['sigma']:g} | {r['noisy']:.2f} | {r['lossless 8-bit']:.2f} | {r['lossless 16-bit']:.2f} | "
                     f"{r['h264 8-bit']:.2f} ({r['h264 8-bit bytes'] / 1024:.0f} KiB, {r['h264 8-bit cpu']:.2f} s) | {hevc} | "
                     f"{r['bands 8-bit']:.3f} / {r['bands 16-bit']:.3f} / {r['bands h264 8-bit']:.3f} / "
                     f"{r[f'bands {names[0]}']:.3f} |")  # fmt: skip
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
