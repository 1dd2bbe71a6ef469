#!/usr/bin/env python3
"""How much of the coarse band to take from a half-size pass: calibrates `pipeline.coarse_band`.

For each case of three real-noise sets, the shipped real-noise path's output (the half-size pass
off) and the same path run on the noisy frames area-downscaled 2x and 4x are cached
(``--work``/cache/SET/CASE.npz); then every rule below is applied offline and scored, so rules
are compared on the same outputs without re-running the model:

- ``polyu``: PolyU's 100 real DSLR crops (``benchmark_real_noise.py``'s 5-frame clips in
  ``runs/real_noise/noisy``; first frame scored against the mean-of-shots reference);
- ``still``: phone-like stills (``benchmark_phone_noise.py --still --levels bright indoor dark night
  dim``'s clips in ``runs/phone_still/noisy``; first frame);
- ``camera``: camera video (``benchmark_camera_noise.py --frames 3``'s clips in
  ``runs/camera_noise/noisy``; all 3 frames);
- ``camstill``: camera-model stills (``benchmark_camera_noise.py --still --frames 3``'s clips in
  ``runs/camera_still/noisy``; first frame).

Run the benchmarks once first (they write those clips). A rule is a luma and a chroma weight for
the half-size correction, each a function of the noise the full-size pass removed (its standard
deviation along and across gray, 8-bit levels); ``quarter`` rules also replace the half-size
output's own coarse band from the quarter-size pass. The shipped rule is ``chroma 0.5 ramp(2-4)``.

    python scripts/probe_coarse_band.py polyu still camera      # 30-40 CPU minutes the first time
    python scripts/probe_coarse_band.py polyu still camera camstill --fast   # the same for --fast

2026-12-07: `scripts/results/2026-12-07_coarse_band.md`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser, denoiser  # noqa: E402
from stdit_cli.pipeline.coarse_band import BandWeights, half_size, ramp, replace_coarse_band  # noqa: E402
from stdit_cli.video import VideoReader  # noqa: E402
from stdit_cli.weights import resolve_checkpoint  # noqa: E402

LEVELS = {"still": ("bright", "indoor", "dark", "night", "dim"), "camera": ("bright", "indoor", "dark", "night"),
          "camstill": ("bright", "indoor", "dark", "night")}

#: name -> (luma weight, chroma weight, quarter) from (luma std, chroma std) of the removed noise
RULES: dict[str, Callable[[float, float], tuple[float, float, bool]]] = {
    "none": lambda luma, chroma: (0.0, 0.0, False),
    "chroma 1": lambda luma, chroma: (0.0, 1.0, False),
    "chroma 1, luma 1": lambda luma, chroma: (1.0, 1.0, False),
    "chroma 1, quarter": lambda luma, chroma: (0.0, 1.0, True),
    "chroma ramp(2-4)": lambda luma, chroma: (0.0, ramp(chroma, 2, 4), False),
    "chroma ramp(2-4), luma 0.5 ramp(5-10)": lambda luma, chroma: (0.5 * ramp(luma, 5, 10), ramp(chroma, 2, 4), False),
    "chroma ramp(2-4), luma ramp(5-10)": lambda luma, chroma: (ramp(luma, 5, 10), ramp(chroma, 2, 4), False),
    "chroma 0.75 ramp(2-4)": lambda luma, chroma: (0.0, 0.75 * ramp(chroma, 2, 4), False),
    "chroma 0.5 ramp(2-4)": lambda luma, chroma: (0.0, 0.5 * ramp(chroma, 2, 4), False),
}


def read(path: Path) -> np.ndarray:
    with VideoReader(str(path), bit_depth=None) as reader:
        return reader.read(0, len(reader))


def cases(which: str, data: Path) -> list[tuple[str, Path, np.ndarray]]:
    """``(case, noisy clip, reference [T or 1, H, W, 3] uint8)`` of one set."""
    if which == "polyu":
        from benchmark_real_noise import load_pairs

        return [(name, Path(f"runs/real_noise/noisy/{name}.mp4"), ref[None]) for name, _, ref in load_pairs(data / "polyu_real_noise", None)]
    from benchmark_camera_noise import CLIPS
    from benchmark_phone_noise import sharpened_reference
    from validation_suite import load_clip

    found = []
    for name in CLIPS:
        clean = load_clip(data, name, 5 if which == "still" else 3)
        if which == "camstill":
            clean = clean[:1, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
        if which == "still":
            clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
            clean = sharpened_reference(clean[:1])
        for level in LEVELS[which]:
            case = f"{name.replace('/', '_')}_{level}"
            clip = {"still": f"runs/phone_still/noisy/{case}_still5.mkv", "camstill": f"runs/camera_still/noisy/{case}_still3.mkv"}
            found.append((case, Path(clip.get(which, f"runs/camera_noise/noisy/{case}_3f.mp4")), clean))
    return found


def cache(which: str, data: Path, work: Path, fast: bool = False) -> list[Path]:
    """The full-, half- and quarter-size outputs of every case (computed once; ``fast``: ``--fast``'s
    real-noise path, cached apart)."""
    folder = work / ("cache_fast" if fast else "cache") / which
    folder.mkdir(parents=True, exist_ok=True)
    denoiser.COARSE_FROM_LEVEL = float("inf")  # the full-size pass alone, as shipped before the half-size pass
    model = VideoDenoiser(resolve_checkpoint("unet", None, fast=fast, real=True), DenoiseOptions(noise="real", fast=fast))
    paths = []
    for case, clip, reference in cases(which, data):
        path = folder / f"{case}.npz"
        if not path.is_file():
            noisy = read(clip)
            half = half_size(noisy)
            outputs = [model.denoise_frames(frames) for frames in (noisy, half, half_size(half))]
            np.savez_compressed(path, ref=reference, noisy=noisy, full=outputs[0], half=outputs[1], quarter=outputs[2])
            print(f"{which} {case}", flush=True)
        paths.append(path)
    return paths


def removed_stds(noisy: np.ndarray, full: np.ndarray) -> tuple[float, float]:
    """Luma and chroma standard deviations (8-bit levels) of the noise the full-size pass removed."""
    removed = noisy.astype(np.float64) - full
    luma = removed.mean(axis=-1, keepdims=True)
    return float(luma.std()), float((removed - luma).std())


def psnr(frames: np.ndarray, reference: np.ndarray) -> float:
    error = frames.astype(np.float64) - np.broadcast_to(reference, frames.shape)
    return float(10 * np.log10(255.0**2 / np.mean(error**2)))


def score(which: str, paths: list[Path]) -> None:
    frames = slice(None) if which == "camera" else slice(0, 1)
    table: dict[str, list[float]] = {rule: [] for rule in RULES}
    names = []
    for path in paths:
        stored = np.load(path)
        noisy, full, half, quarter = (stored[key][frames] for key in ("noisy", "full", "half", "quarter"))
        reference = stored["ref"][frames] if which == "camera" else stored["ref"][:1]
        luma_std, chroma_std = removed_stds(noisy, full)
        names.append(path.stem)
        for rule, weights_of in RULES.items():
            luma, chroma, two_levels = weights_of(luma_std, chroma_std)
            coarse = replace_coarse_band(half, quarter, BandWeights(0.0, 1.0)) if two_levels else half
            out = replace_coarse_band(full, coarse, BandWeights(luma, chroma)) if (luma or chroma) else full
            table[rule].append(psnr(out, reference))
    base = np.array(table["none"])
    groups = {"all": names} | {level: [n for n in names if n.endswith(f"_{level}")] for level in LEVELS.get(which, ())}
    print(f"\n{which} ({len(names)} cases): mean PSNR (dB) by group; change per case: worst, best, cases down by more than 0.05")
    print(f"| rule | {' | '.join(groups)} | worst | best | down |\n|---|{'---:|' * (len(groups) + 3)}")
    for rule, values in table.items():
        values = np.array(values)
        change = values - base
        means = " | ".join(f"{np.mean([values[names.index(n)] for n in members]):.2f}" for members in groups.values())
        print(f"| {rule} | {means} | {change.min():+.2f} | {change.max():+.2f} | {int((change < -0.05).sum())} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", choices=("polyu", "still", "camera", "camstill"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/coarse_band"))
    parser.add_argument("--fast", action="store_true", help="--fast's real-noise path (weights/unet-fast-real)")
    args = parser.parse_args()
    for which in args.sets:
        score(which, cache(which, args.data, args.work, args.fast))


if __name__ == "__main__":
    main()
