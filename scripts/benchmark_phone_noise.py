#!/usr/bin/env python3
"""Phone-like noise that no checkpoint trains on: a cross-check of the real-noise path.

``benchmark_camera_noise.py`` noises clips with the camera model the real-noise weights train on
(``stdit_cli.train.camera_noise``), so it measures the video side, not how far that model reaches.
This script noises the same held-out clips the way a phone's pipeline leaves noise, written
independently of the training code and never used to choose anything before it was measured:

1. sRGB -> linear (gamma 2.2);
2. Poisson-Gaussian sensor noise drawn at twice the video's resolution and box-averaged 2x2 (a
   12-megapixel sensor recording 1080p or less), independent per colour;
3. the ISP's noise reduction: the noise's luma part low-passed (Gaussian, ``luma_blur`` px) and the
   chroma part drawn at a quarter of the resolution and upsampled (the blotchy colour noise phones
   leave), each scaled to keep its variance's share;
4. gamma back, an unsharp mask on luma (amount 0.6, radius 1 px: phones sharpen), 8-bit;
5. H.264 CRF 23 4:2:0 (a phone's video bitrate).

The reference is the clean clip through the same unsharp mask (as a real benchmark's reference
went through the phone's own processing): a denoiser should remove the noise, not the sharpening.

Methods: stdit as a user runs it (no number), ffmpeg ``nlmeans`` at several strengths and the best
one per clip (an oracle). PSNR (8-bit RGB) against the clean frames; the worst clip is reported.

    python scripts/benchmark_phone_noise.py --out scripts/results/DATE_phone_noise

``--still``: each clip's first frame noised once (steps 1-4, no H.264) and repeated ``--frames``
times, stored losslessly: a phone photo as a benchmark of real smartphone noise stores it (processed
sRGB, lossless) and as a user hands it over, with no temporal help.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter, zoom

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import CLIPS, compare, encode_h264, encode_lossless  # noqa: E402
from validation_suite import load_clip  # noqa: E402

#: (label, shot gain, read variance, luma noise blur in px) on the linear 0..1 scale of one sensor pixel
PHONES = (("bright", 1.5e-3, 6e-6, 0.5), ("indoor", 4e-3, 2e-5, 0.6), ("dark", 1.2e-2, 8e-5, 0.8), ("night", 3e-2, 3e-4, 1.0))
#: heavier than the default levels, by ``--levels``: noise RMS about 35, the heavy end of phone photos in dim light
EXTRA_LEVELS = (("dim", 8e-2, 1e-3, 1.2),)
#: BT.601 luma weights; the chroma directions are the two unit vectors orthogonal to grey
LUMA = np.array([0.299, 0.587, 0.114])
CRF = 23


def _chroma_basis() -> np.ndarray:
    """``[2, 3]``: two orthonormal RGB directions orthogonal to grey (1, 1, 1)."""
    first = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
    second = np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0)
    return np.stack([first, second])


#: the unsharp mask's amount (``--sharpen``; 0: none, to see what the sharpening alone costs)
SHARPEN = {"amount": 0.6}


def sharpen(frames: np.ndarray) -> np.ndarray:
    """A phone's unsharp mask on luma (amount 0.6, radius 1 px): ``[H, W, 3]`` float in 0..1 -> the same, unclipped."""
    # [H, W, 3] -> [H, W] luma
    luma = frames @ LUMA
    return frames + SHARPEN["amount"] * (luma - gaussian_filter(luma, 1.0))[..., None]


def to_uint8(frames: np.ndarray) -> np.ndarray:
    return np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)


def sharpened_reference(clean: np.ndarray) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 -> the clean frames as the phone would store them without noise."""
    return np.stack([to_uint8(sharpen(frame.astype(np.float64) / 255.0)) for frame in clean])


def phone_noise(clean: np.ndarray, rng: np.random.Generator, shot: float, read: float, luma_blur: float) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 (even H, W) -> the same frames with phone-like noise, sharpened, uint8."""
    frames, height, width, _ = clean.shape
    linear = (clean.astype(np.float64) / 255.0) ** 2.2
    basis = _chroma_basis()
    out = np.empty_like(clean)
    for index in range(frames):
        # sensor noise at 2x: [2H, 2W, 3], box-averaged back to [H, W, 3] (variance / 4)
        sensor = np.repeat(np.repeat(linear[index], 2, axis=0), 2, axis=1)
        noise = rng.standard_normal(sensor.shape) * np.sqrt(shot * sensor + read)
        noise = noise.reshape(height, 2, width, 2, 3).mean(axis=(1, 3))
        # split into luma (along grey) and chroma (orthogonal to grey)
        grey = noise.mean(axis=2, keepdims=True)
        luma_part = gaussian_filter(grey[..., 0], luma_blur)
        luma_part *= grey.std() / max(luma_part.std(), 1e-12)
        chroma_std = (noise - grey).std()
        small = rng.standard_normal((2, (height + 3) // 4, (width + 3) // 4))
        # [2, h/4, w/4] -> [2, H, W] (bicubic) -> [H, W, 3] along the chroma directions
        blotches = np.stack([zoom(plane, 4, order=3)[:height, :width] for plane in small])
        blotches *= chroma_std * 1.5 / max(blotches.std(), 1e-12)
        colour_noise = np.einsum("khw,kc->hwc", blotches, basis)
        noisy = np.clip(linear[index] + luma_part[..., None] + colour_noise, 0.0, 1.0) ** (1 / 2.2)
        out[index] = to_uint8(sharpen(noisy))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), metavar="CLIP")
    parser.add_argument("--stdit", action="append", metavar="LABEL=OPTIONS", help='stdit runs (default: "default=")')
    parser.add_argument("--work", type=Path, default=Path("runs/phone_noise"))
    parser.add_argument("--out", type=Path, default=Path("runs/phone_noise/result"))
    parser.add_argument("--levels", nargs="+", default=[label for label, *_ in PHONES],
                        choices=[label for label, *_ in PHONES + EXTRA_LEVELS], help="the levels of noise (default: the four of PHONES)")
    parser.add_argument("--still", action="store_true",
                        help="each clip's first frame noised once (no H.264), repeated --frames times, stored losslessly (FFV1)")
    parser.add_argument("--sharpen", type=float, default=SHARPEN["amount"],
                        help="the unsharp mask's amount on noisy and reference frames alike (0: none)")
    args = parser.parse_args()
    SHARPEN["amount"] = args.sharpen
    runs = [entry.partition("=")[::2] for entry in (args.stdit or ["default="])]
    levels = [(index, entry) for index, entry in enumerate(PHONES + EXTRA_LEVELS) if entry[0] in args.levels]

    cases: dict[str, tuple[Path, np.ndarray]] = {}
    for index, name in enumerate(args.clips):
        clean = load_clip(args.data, name, args.frames)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
        if args.still:
            clean = np.repeat(clean[:1], args.frames, axis=0)  # [T, H, W, 3]: one photo, T times
        reference = sharpened_reference(clean)
        for level, (label, shot, read, blur) in levels:  # the index in PHONES + EXTRA_LEVELS seeds the noise
            case = f"{name.replace('/', '_')}_{label}"
            sharpened = "" if args.sharpen == 0.6 else f"_sharpen{args.sharpen:g}"
            path = args.work / "noisy" / (f"{case}_still{args.frames}{sharpened}.mkv" if args.still else f"{case}_{args.frames}f{sharpened}.mp4")
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                rng = np.random.default_rng([index, level, 11])
                if args.still:
                    encode_lossless(np.repeat(phone_noise(clean[:1], rng, shot, read, blur), args.frames, axis=0), path)
                else:
                    encode_h264(phone_noise(clean, rng, shot, read, blur), path, CRF)
            cases[case] = (path, reference)

    description = (
        f"{len(args.clips)} held-out clips x {len(levels)} phone levels "
        f"({', '.join(f'{l}: shot {s:g}, read {r:g}, luma blur {b:g} px' for _, (l, s, r, b) in levels)}), "
        + (f"the first frame with phone-like noise (this script's docstring), repeated {args.frames} times, lossless (FFV1); " if args.still
           else f"first {args.frames} frames, phone-like noise (this script's docstring) then H.264 CRF {CRF} 4:2:0; ")
        + f"PSNR (dB) against the clean frames sharpened alike (unsharp amount {args.sharpen:g}). "
    )  # fmt: skip
    noisy_key = "noisy input (lossless)" if args.still else "noisy input (H.264)"
    compare(cases, [label for _, (label, *_) in levels], runs, noisy_key, description, args.work, args.out)


if __name__ == "__main__":
    main()
