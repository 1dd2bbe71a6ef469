#!/usr/bin/env python
"""Render the bundled noisy sample clip (16 frames, 256x192, lossless RGB H.264), ``stdit_cli/samples/coffee_sigma25.mp4``.

Source: scikit-image's ``coffee`` photo (CC0, Rachel Michetti), given a synthetic camera pan,
plus a 440 Hz tone the script renders itself, so the clip may be redistributed. Noise follows
the benchmark protocol: white Gaussian, sigma 25 on 0..255, clipped and rounded to uint8.

    python scripts/make_sample.py            # needs scikit-image (pip install scikit-image)
"""

from __future__ import annotations

import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from skimage import data

from stdit_cli.video import VideoWriter

OUT = Path(__file__).resolve().parents[1] / "stdit_cli" / "samples" / "coffee_sigma25.mp4"
FRAMES, WIDTH, HEIGHT, FPS, SIGMA_255, SEED = 16, 256, 192, Fraction(24), 25.0, 2024


def clean_frames() -> np.ndarray:
    """``[T, H, W, 3]`` uint8: a slow diagonal pan across the photo."""
    photo = data.coffee()  # [400, 600, 3]
    tops = np.linspace(60, 120, FRAMES).round().astype(int)
    lefts = np.linspace(120, 240, FRAMES).round().astype(int)
    return np.stack([photo[t : t + HEIGHT, l : l + WIDTH] for t, l in zip(tops, lefts)])


def main() -> None:
    rng = np.random.default_rng(SEED)
    clean = clean_frames().astype(np.float64)
    noisy = np.clip(np.round(clean + SIGMA_255 * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        tone = Path(tmp) / "tone.m4a"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                        f"sine=frequency=440:sample_rate=44100:duration={float(FRAMES / FPS):.4f}", "-c:a", "aac", "-b:a", "64k", str(tone)],
                       check=True)  # fmt: skip
        OUT.parent.mkdir(parents=True, exist_ok=True)
        # lossless: lossy codecs smooth the grain into coloured noise, which is not what the
        # sample is meant to show (and what `--sigma auto` measures as white noise)
        with VideoWriter(OUT, WIDTH, HEIGHT, FPS, audio_source=tone, lossless=True) as writer:
            writer.write(noisy)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
