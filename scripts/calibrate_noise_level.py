#!/usr/bin/env python3
"""How the blind level estimate of ``--noise real`` compares with the true level, on footage it never saw.

Held-out clean frames (Kodak24, and the validation suite's five DAVIS clips, 8 frames each: neither
trains the estimator nor the backbones) are given synthetic camera noise by the training's own
generator (``CameraNoiseMix``, the mix of the real-noise backbone's last stage) or white Gaussian
noise; each video's learned level (``LearnedNoiseLevel.estimate``: per-crop estimates combined as
a trimmed RMS) is divided by the true level, the RMS of noisy minus clean on 0..255 that the
backbone was trained to be conditioned on; also the level ``--noise real`` runs at
(``blind_level``: patch PCA when the two agree). Per band of true level, the median ratio shows
where the estimate regresses to the middle. Prints Markdown; ``--json`` keeps every clip.

    python scripts/calibrate_noise_level.py [--estimator stdit_cli/weights/noise-estimator] [--draws 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stdit_cli.pipeline.learned_level import LearnedNoiseLevel, blind_level  # noqa: E402
from stdit_cli.pipeline.noise_level import estimate_sigma_255  # noqa: E402
from stdit_cli.train.camera_noise import CameraNoiseMix  # noqa: E402
from stdit_cli.weights import load_noise_estimator  # noqa: E402

HELD_OUT_DAVIS = ("blackswan", "car-shadow", "dog", "kite-surf", "scooter-black")
#: the camera-noise mix of the real-noise backbone's third stage (scripts/train_defaults.sh unet-real), less its shot range
CAMERA = dict(fraction=1.0, jpeg_fraction=0.5, blur_fraction=0.9, blur_sigma=(0.6, 2.0), chroma_fraction=0.7)
WHITE_SIGMAS = (5.0, 15.0, 30.0)


def clean_videos(data: Path) -> dict[str, np.ndarray]:
    """``name -> [T, H, W, 3]`` uint8: Kodak24 stills (one frame) and 8 frames of each held-out DAVIS clip."""
    videos = {}
    for path in sorted((data / "kodak24").glob("*.png")):
        frame = np.asarray(Image.open(path).convert("RGB"))
        videos[f"kodak/{path.stem}"] = frame[None, : frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2]
    for name in HELD_OUT_DAVIS:
        paths = sorted((data / "davis2016_val_480p" / name).glob("*.jpg"))[:8]
        videos[f"davis/{name}"] = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    return videos


def camera_noise(clean: np.ndarray, rng: np.random.Generator, camera: CameraNoiseMix) -> tuple[np.ndarray, float]:
    """``[T, H, W, 3]`` uint8 -> (noisy uint8, its RMS level on 0..255)."""
    # [T, H, W, 3] uint8 -> [1, 3, T, H, W] in [-1, 1]
    video = torch.from_numpy(clean.copy()).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
    noisy = camera.noisy_clips(video, rng)
    # [1, 3, T, H, W] in [-1, 1] -> [T, H, W, 3] uint8
    frames = torch.round((noisy.y[0] + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 3, 0).numpy()
    return frames, float(noisy.sigma_255[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--estimator", default=None, help="a NoiseLevelEstimator folder (default: the shipped one)")
    parser.add_argument("--draws", type=int, default=3, help="camera noises per clip (a random camera each)")
    parser.add_argument("--camera-shot-range", type=float, nargs=2, default=(1e-5, 1.2e-2),
                        help="log-uniform range of the cameras' shot-noise gain (1e-5 1e-1 reaches dim phone footage's levels)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    torch.set_num_threads(max(1, torch.get_num_threads()))
    learned = LearnedNoiseLevel(load_noise_estimator(args.estimator))
    camera = CameraNoiseMix(**CAMERA, shot_range=tuple(args.camera_shot_range))
    rng = np.random.default_rng(0)
    rows = []
    for name, clean in clean_videos(args.data).items():
        for _ in range(args.draws):
            noisy, level = camera_noise(clean, rng, camera)
            if level < 1.0:  # a camera that barely adds noise: the ratio would measure rounding
                continue
            read = learned.estimate(noisy)
            rows.append({"clip": name, "noise": "camera", "level": round(level, 3), "learned": round(read, 3),
                         "blind": round(blind_level(read, estimate_sigma_255(noisy)), 3)})  # fmt: skip
        for sigma in WHITE_SIGMAS:
            noisy = np.clip(np.round(clean + rng.standard_normal(clean.shape) * sigma), 0, 255).astype(np.uint8)
            level = float(np.sqrt(np.mean((noisy.astype(np.float64) - clean) ** 2)))
            read = learned.estimate(noisy)
            rows.append({"clip": name, "noise": f"white {sigma:g}", "level": round(level, 3), "learned": round(read, 3),
                         "blind": round(blind_level(read, estimate_sigma_255(noisy)), 3)})  # fmt: skip

    print(f"Estimator: {args.estimator or 'shipped'}; {args.draws} camera noises per clip, shot range {args.camera_shot_range}\n")
    print("| noise | clips | true level (median) | learned / true: median | 10th-90th percentile | blind level (as run) / true: median |")
    print("|---|---:|---:|---:|---:|---:|")
    for noise in ["camera", *(f"white {s:g}" for s in WHITE_SIGMAS)]:
        kept = [r for r in rows if r["noise"] == noise]
        ratio = np.array([r["learned"] / r["level"] for r in kept])
        blind = np.array([r["blind"] / r["level"] for r in kept])
        print(f"| {noise} | {len(kept)} | {np.median([r['level'] for r in kept]):.2f} | {np.median(ratio):.3f} | "
              f"{np.percentile(ratio, 10):.2f}-{np.percentile(ratio, 90):.2f} | {np.median(blind):.3f} |")  # fmt: skip
    camera = [r for r in rows if r["noise"] == "camera"]
    print("\nCamera noise by true level:\n\n| true level | clips | learned / true: median | blind level / true: median |\n|---|---:|---:|---:|")
    for low, high in ((1, 3), (3, 5), (5, 8), (8, 15), (15, 25), (25, 100)):
        band = [r for r in camera if low <= r["level"] < high]
        if band:
            learned_ratio = np.median([r["learned"] / r["level"] for r in band])
            blind_ratio = np.median([r["blind"] / r["level"] for r in band])
            print(f"| {low}-{high} | {len(band)} | {learned_ratio:.2f} | {blind_ratio:.2f} |")
    if args.json is not None:
        args.json.write_text(json.dumps({"estimator": args.estimator or "shipped", "camera_shot_range": list(args.camera_shot_range), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
