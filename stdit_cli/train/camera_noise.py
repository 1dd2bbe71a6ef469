"""Realistic camera noise for training clips: unprocess to raw, add sensor noise, process back.

Real noise in phone and camera footage is not white Gaussian: it is added on the sensor, where
shot noise grows with the light, then demosaicing correlates it across neighbouring pixels and
colours, the colour matrix mixes the channels, the tone curve bends it (more in the shadows), and
compression removes its finest part. :func:`add_camera_noise` follows that road, after Brooks et
al., "Unprocessing Images for Learned Raw Denoising" (CVPR 2019), and the synthesis of SCUNet
(Zhang et al., 2022):

1. sRGB -> linear: inverse smoothstep tone curve, inverse gamma 2.2;
2. linear RGB -> camera RGB: the inverse of a random colour matrix, then inverse white balance;
3. RGGB Bayer mosaic;
4. Poisson-Gaussian noise: variance ``shot * x + read`` with ``log(read)`` tied to ``log(shot)``
   (Brooks' fit), one (shot, read) pair per clip over a wide ISO-like range, fresh noise per frame;
5. bilinear demosaic, white balance, colour matrix, gamma, tone curve: back to sRGB, clipped and
   rounded like an 8-bit file;
6. optionally JPEG at a random quality (what phones and stills cameras store).

Everything runs in numpy on ``[T, H, W, 3]`` uint8 clips, drawing from the caller's generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import numpy as np
from PIL import Image

#: log-uniform range of the shot-noise gain (Brooks et al.: 1e-4 .. 1.2e-2; ISO ~100 to ~12800)
SHOT_RANGE = (1e-4, 1.2e-2)


@dataclass(frozen=True)
class CameraNoise:
    """One clip's camera: noise gains, white balance and colour matrix.

    ``shot`` and ``read`` are on the linear 0..1 raw scale (variance ``shot * x + read``).
    """

    shot: float
    read: float
    red_gain: float
    blue_gain: float
    ccm: np.ndarray  # [3, 3] camera RGB -> linear sRGB, rows summing to 1

    @classmethod
    def random(cls, rng: np.random.Generator, shot_range: tuple[float, float] = SHOT_RANGE) -> "CameraNoise":
        log_shot = rng.uniform(np.log(shot_range[0]), np.log(shot_range[1]))
        log_read = 2.18 * log_shot + 1.20 + rng.normal(0.0, 0.26)  # Brooks et al.'s fit
        # a colour matrix like a camera's: each output colour takes 1 + s of its own channel and
        # s away from the other two (s in 0.2..0.8), rows summing to 1 (grey stays grey); strictly
        # diagonally dominant, so invertible
        ccm = np.eye(3)
        for row in range(3):
            strength, split = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
            others = [c for c in range(3) if c != row]
            ccm[row, row] += strength
            ccm[row, others[0]] -= strength * split
            ccm[row, others[1]] -= strength * (1 - split)
        return cls(float(np.exp(log_shot)), float(np.exp(log_read)), float(rng.uniform(1.9, 2.4)),
                   float(rng.uniform(1.5, 1.9)), ccm)  # fmt: skip


def _inverse_tone(srgb: np.ndarray) -> np.ndarray:
    """Inverse of the smoothstep tone curve ``3x^2 - 2x^3``."""
    srgb = np.clip(srgb, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * srgb) / 3.0)


def _tone(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return 3.0 * linear**2 - 2.0 * linear**3


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """``[..., H, W, 3]`` -> ``[..., H, W]`` RGGB Bayer samples (H and W even)."""
    raw = rgb[..., 1].copy()
    raw[..., 0::2, 0::2] = rgb[..., 0::2, 0::2, 0]
    raw[..., 1::2, 1::2] = rgb[..., 1::2, 1::2, 2]
    return raw


def demosaic(raw: np.ndarray) -> np.ndarray:
    """Bilinear RGGB demosaic: ``[T, H, W]`` -> ``[T, H, W, 3]`` (reflected borders)."""
    t, h, w = raw.shape
    masks = np.zeros((3, h, w), dtype=raw.dtype)
    masks[0, 0::2, 0::2] = 1
    masks[1, 0::2, 1::2] = masks[1, 1::2, 0::2] = 1
    masks[2, 1::2, 1::2] = 1
    kernel_rb = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    kernel_g = np.array([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])
    out = np.empty((t, h, w, 3), dtype=raw.dtype)
    for c, kernel in enumerate((kernel_rb, kernel_g, kernel_rb)):
        # [T, H, W] samples of channel c, zero elsewhere, padded by reflection -> 3x3 weighted sum
        padded = np.pad(raw * masks[c], ((0, 0), (1, 1), (1, 1)), mode="reflect")
        acc = np.zeros((t, h, w), dtype=raw.dtype)
        for dy in range(3):
            for dx in range(3):
                if kernel[dy, dx]:
                    acc += kernel[dy, dx] * padded[:, dy : dy + h, dx : dx + w]
        out[..., c] = np.where(masks[c] > 0, raw, acc)
    return out


def _jpeg(frame_uint8: np.ndarray, quality: int) -> np.ndarray:
    buffer = BytesIO()
    Image.fromarray(frame_uint8).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(BytesIO(buffer.getvalue())).convert("RGB"))


def add_camera_noise(clean_uint8: np.ndarray, rng: np.random.Generator, camera: CameraNoise | None = None,
                     jpeg_quality: tuple[int, int] | None = None) -> np.ndarray:  # fmt: skip
    """Noisy ``[T, H, W, 3]`` uint8 frames as ``camera`` would record ``clean_uint8`` (even H and W).

    ``camera``: a random one when None. ``jpeg_quality``: ``(low, high)`` to JPEG every frame at one
    quality drawn per clip, or None to keep the noise uncompressed.
    """
    assert clean_uint8.ndim == 4 and clean_uint8.shape[-1] == 3, f"expected [T, H, W, 3], got {clean_uint8.shape}"
    assert clean_uint8.shape[1] % 2 == 0 and clean_uint8.shape[2] % 2 == 0, f"H and W must be even, got {clean_uint8.shape[1:3]}"
    camera = camera or CameraNoise.random(rng)
    gains = np.array([camera.red_gain, 1.0, camera.blue_gain])
    inverse_ccm = np.linalg.inv(camera.ccm)
    # 1-2. sRGB -> linear sRGB -> camera RGB, white balance undone  [T, H, W, 3]
    linear = _inverse_tone(clean_uint8 / 255.0) ** 2.2
    camera_rgb = np.clip(linear @ inverse_ccm.T / gains, 0.0, 1.0)
    # 3-4. Bayer samples with Poisson-Gaussian noise, fresh per frame  [T, H, W]
    raw = mosaic(camera_rgb)
    raw = raw + rng.standard_normal(raw.shape) * np.sqrt(camera.shot * raw + camera.read)
    # 5. demosaic and process back to sRGB
    rgb = np.clip(demosaic(raw) * gains, 0.0, 1.0) @ camera.ccm.T
    srgb = _tone(np.clip(rgb, 0.0, 1.0) ** (1 / 2.2))
    noisy = np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        quality = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
        noisy = np.stack([_jpeg(frame, quality) for frame in noisy])
    return noisy
