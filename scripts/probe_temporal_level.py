"""Probe: does frame-to-frame agreement bound a video's noise level? (measured 2026-12-05, not used)

Noise is drawn afresh in every frame; texture moves with the picture. So for a block of one frame
matched to the next frame (best integer shift within +-3 px, luma), ``sqrt(MSE / 2)`` bounds the
noise level from above, tightly where the match is exact. A low quantile of that bound over the
blocks of a video could cap the level with no number given, where the spatial estimators take
dense clean texture for noise (``tiny/scooter-black`` clean: read as 9.7).

    python scripts/probe_temporal_level.py CLIP...            # bound quantiles of existing clips
    python scripts/probe_temporal_level.py --static --work runs/temporal_probe
        # a still scene with fresh noise per frame, stored as H.264 CRF 20 and 28 (yuv420p)

    python scripts/probe_temporal_level.py --camera          # camera noise stored losslessly
        # against clean clips, both against the level the real-noise path runs at

The second run is the counter-example: H.264 skips blocks whose change is below its quantiser,
which freezes the noise of a static scene in place, and the bound then reads 0-1 where the frames
still hold noise of RMS 3.7-6.3 (`scripts/results/2026-12-05_temporal_level_probe.md`). The third
is why even lossless video cannot use it (`scripts/results/2026-12-06_temporal_bound_camera.md`):
camera noise is quiet where the tone curve flattens it (highlights), so a low quantile of the block
bounds reads the quiet blocks, and the bound over the level the real-noise path runs at falls as
low as it does on clean dense texture.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import read_video  # noqa: E402
from validation_suite import load_clip  # noqa: E402

#: BT.601 luma weights; luma noise of i.i.d. RGB noise of std 1 has std |LUMA|
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
QUANTILES = (0.1, 0.25, 0.5)


def block_bounds(frames_uint8: np.ndarray, radius: int = 3, max_blocks: int = 64) -> np.ndarray:
    """Per-block noise bounds (RGB-equivalent sigma, 0..255) of ``[T, H, W, 3]`` frames, over consecutive pairs."""
    luma = frames_uint8.astype(np.float32) @ LUMA  # [T, H, W]
    _, height, width = luma.shape
    side = 16 if min(height, width) < 240 else 32
    cells = [(radius + r * side, radius + c * side)
             for r in range((height - 2 * radius) // side) for c in range((width - 2 * radius) // side)]  # fmt: skip
    keep = np.unique(np.linspace(0, len(cells) - 1, min(max_blocks, len(cells))).round().astype(int))
    bounds = []
    for current, following in zip(luma[:-1], luma[1:]):
        # [N, s, s] blocks of this frame, [N, s + 2r, s + 2r] search areas of the next
        blocks = np.stack([current[i : i + side, j : j + side] for i, j in (cells[k] for k in keep)])
        areas = np.stack([following[i - radius : i + side + radius, j - radius : j + side + radius] for i, j in (cells[k] for k in keep)])
        best = np.full(len(blocks), np.inf, np.float32)
        for dy in range(2 * radius + 1):
            for dx in range(2 * radius + 1):
                best = np.minimum(best, ((blocks - areas[:, dy : dy + side, dx : dx + side]) ** 2).mean(axis=(1, 2)))
        bounds.append(np.sqrt(best / 2) / np.linalg.norm(LUMA))
    return np.concatenate(bounds)


def describe(path: Path, frames_uint8: np.ndarray) -> str:
    q = np.quantile(block_bounds(frames_uint8), QUANTILES)
    return f"| {path.name} | {frames_uint8.shape[2]}x{frames_uint8.shape[1]} | " + " | ".join(f"{v:.2f}" for v in q) + " |"


def static_scenes(data: Path, work: Path) -> list[str]:
    """A still frame repeated, fresh Gaussian noise per frame, stored as x264 yuv420p at CRF 20 and 28."""
    work.mkdir(parents=True, exist_ok=True)
    lines = ["| scene | sigma | CRF | noise RMS in the file | bound q10 | q25 | q50 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("still/kodim03", "vid4/walk", "davis/car-shadow"):
        scene = np.repeat(load_clip(data, name, 10)[:1], 10, axis=0)
        for sigma in (5, 10, 25):
            noise = np.random.default_rng(1).standard_normal(scene.shape) * sigma
            noisy = np.clip(np.round(scene + noise), 0, 255).astype(np.uint8)
            _, height, width, _ = noisy.shape
            for crf in (20, 28):
                path = work / f"{name.replace('/', '_')}_s{sigma}_crf{crf}.mp4"
                subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                                "-s", f"{width}x{height}", "-r", "25", "-i", "-", "-c:v", "libx264", "-crf", str(crf),
                                "-pix_fmt", "yuv420p", str(path)], input=noisy.tobytes(), check=True)  # fmt: skip
                stored = read_video(path)
                rms = float(np.sqrt(((stored.astype(np.float32) - scene) ** 2).mean()))
                q = np.quantile(block_bounds(stored), QUANTILES)
                lines.append(f"| {name} | {sigma} | {crf} | {rms:.2f} | " + " | ".join(f"{v:.2f}" for v in q) + " |")
    return lines


def camera_against_clean(data: Path, frames: int = 8) -> list[str]:
    """Bound q25 over the real-noise path's level: camera noise (lossless, 3 gains per clip) and clean clips."""
    import warnings

    from stdit_cli.pipeline.learned_level import LearnedNoiseLevel, blind_level
    from stdit_cli.pipeline.noise_level import estimate_sigma_255
    from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise
    from validation_suite import SUITE

    warnings.simplefilter("ignore")
    learned = LearnedNoiseLevel.shipped()
    rng = np.random.default_rng(11)
    lines = ["| clip | noise | RMS | level (real path) | bound q25 | q25 / level |", "|---|---|---:|---:|---:|---:|"]
    ratios: dict[str, list[float]] = {"camera": [], "clean": []}
    for name in [c for c in SUITE if not c.startswith(("h264", "flat"))]:
        clean = load_clip(data, name, frames)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]
        cases = [("clean", clean)]
        for shot in (3e-4, 2e-3, 1.2e-2):
            camera = CameraNoise.random(rng, (shot, shot))
            noisy = add_camera_noise(clean, rng, camera, noise_blur=float(rng.choice([0.0, 1.0])),
                                     chroma_blur=float(rng.choice([0.0, 3.0])))  # fmt: skip
            cases.append((f"camera, shot {shot:g}", noisy))
        for label, video in cases:
            level = blind_level(learned.estimate(video), estimate_sigma_255(video))
            bound = float(np.quantile(block_bounds(video), 0.25))
            rms = float(np.sqrt(np.mean((video.astype(np.float64) - clean) ** 2)))
            ratios["clean" if label == "clean" else "camera"].append(bound / level)
            lines.append(f"| {name} | {label} | {rms:.2f} | {level:.2f} | {bound:.2f} | {bound / level:.2f} |")
    for kind, values in ratios.items():
        lines.append(f"\n{kind}: q25 / level from {min(values):.2f} to {max(values):.2f} (median {np.median(values):.2f})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--static", action="store_true", help="the still-scene H.264 counter-example")
    parser.add_argument("--camera", action="store_true", help="lossless camera noise against clean clips")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/temporal_probe"))
    args = parser.parse_args()
    if args.clips:
        print("| clip | size | bound q10 | q25 | q50 |\n|---|---|---:|---:|---:|")
        for path in args.clips:
            print(describe(path, read_video(path)))
    if args.static:
        print("\n".join(static_scenes(args.data, args.work)))
    if args.camera:
        print("\n".join(camera_against_clean(args.data)))


if __name__ == "__main__":
    main()
