#!/usr/bin/env python
"""The noisy and clean clips ``scripts/benchmark_noise_kind.py`` reads, in one place (``--work``).

Camera noise (``benchmark_camera_noise.py``'s four cameras, the Bayer phase mixed per clip) on 13
validation-suite clips, as H.264 CRF 20 video (``camera/``) and as a still noised once and stored
losslessly (``camera_still/``); PolyU's 100 noisy crops as 5-frame clips (``polyu/``); the same 13
clips clean, lossless and as H.264 CRF 20 and 23 (``clean_lossless/``, ``clean_crf20/``,
``clean_crf23/``). White noise comes from ``benchmark_quality.py``'s work folder and phone noise
from ``benchmark_phone_noise.py``'s. Clips already there are kept.

    python scripts/make_noise_kind_clips.py --work runs/noisekind
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import CAMERAS, CLIPS, camera, encode_h264, encode_lossless  # noqa: E402
from benchmark_real_noise import CLIP_FRAMES, load_pairs, write_clip  # noqa: E402
from validation_suite import load_clip  # noqa: E402

from stdit_cli.train.camera_noise import add_camera_noise  # noqa: E402

#: beyond the camera benchmark's clips: small, animated, soft and finely textured footage
EXTRA = ("tiny/dog", "tiny/scooter-black", "anim/blackswan", "soft/kite-surf", "vid4/city", "vid4/foliage")
FRAMES = 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/noisekind"))
    args = parser.parse_args()
    for index, name in enumerate(CLIPS + EXTRA):
        clean = load_clip(args.data, name, FRAMES)
        clean = clean[:, : clean.shape[1] // 2 * 2, : clean.shape[2] // 2 * 2]  # the Bayer mosaic wants even sizes
        stem = name.replace("/", "_")
        for level, (label, shot, blur) in enumerate(CAMERAS):
            phase = (index + level) % 4
            video = args.work / "camera" / f"{stem}_{label}.mp4"
            if not video.is_file():
                video.parent.mkdir(parents=True, exist_ok=True)
                encode_h264(add_camera_noise(clean, np.random.default_rng([index, level, 7]), camera(shot), noise_blur=blur, cfa_phase=phase), video)
            still = args.work / "camera_still" / f"{stem}_{label}.mkv"
            if not still.is_file():
                still.parent.mkdir(parents=True, exist_ok=True)
                noisy = add_camera_noise(clean[:1], np.random.default_rng([index, level, 8]), camera(shot), noise_blur=blur, cfa_phase=phase)
                encode_lossless(np.repeat(noisy, 5, axis=0), still)  # [5, H, W, 3]: one photo, five times
        for crf in (20, 23):
            path = args.work / f"clean_crf{crf}" / f"{stem}.mp4"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                encode_h264(clean, path, crf=crf)
        path = args.work / "clean_lossless" / f"{stem}.mkv"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            encode_lossless(clean, path)
    for name, noisy, _ in load_pairs(args.data / "polyu_real_noise", None):
        path = args.work / "polyu" / f"{name}.mp4"
        if not path.is_file():
            write_clip(path, np.repeat(noisy[None], CLIP_FRAMES, 0))  # [5, H, W, 3]: the crop, five times


if __name__ == "__main__":
    main()
