"""Estimate a video's noise level (``sigma`` on the 0..255 scale) from its frames.

Robust estimator in the spirit of Donoho & Johnstone: the finest diagonal Haar detail of a frame
is, for white Gaussian noise of standard deviation ``sigma``, Gaussian with the same ``sigma``,
while natural image content there is sparse. The median absolute deviation of those
coefficients over a few frames and the three channels, divided by 0.6745, estimates ``sigma``.
Flat, saturated areas (where 8-bit clipping hides the noise) are left out.
"""

from __future__ import annotations

import numpy as np

#: MAD of a standard normal variable.
_MAD_TO_SIGMA = 1.0 / 0.6744897501960817


def diagonal_detail(frames_uint8: np.ndarray) -> np.ndarray:
    """Finest diagonal Haar coefficients of ``[T, H, W, C]`` frames → ``[T, H//2, W//2, C]``."""
    x = frames_uint8.astype(np.float32)
    height, width = (x.shape[1] // 2) * 2, (x.shape[2] // 2) * 2
    x = x[:, :height, :width]
    # orthonormal HH band: (a - b - c + d) / 2 keeps the noise standard deviation unchanged
    return (x[:, 0::2, 0::2] - x[:, 0::2, 1::2] - x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 2.0


def estimate_sigma_255(frames_uint8: np.ndarray) -> float:
    """Noise standard deviation (0..255 scale) of ``[T, H, W, 3]`` uint8 frames."""
    if frames_uint8.ndim != 4 or frames_uint8.shape[1] < 2 or frames_uint8.shape[2] < 2:
        raise ValueError(f"expected frames [T, H, W, C] with H, W >= 2, got shape {list(frames_uint8.shape)}")
    detail = diagonal_detail(frames_uint8)
    x = frames_uint8.astype(np.float32)
    height, width = detail.shape[1] * 2, detail.shape[2] * 2
    # 2x2 block means: drop blocks that touch the clipping limits, where noise is cut off
    blocks = x[:, :height, :width].reshape(x.shape[0], height // 2, 2, width // 2, 2, -1)
    low, high = blocks.min(axis=(2, 4)), blocks.max(axis=(2, 4))
    usable = (low > 0) & (high < 255)
    coefficients = detail[usable] if usable.mean() > 0.05 else detail.reshape(-1)
    return float(np.median(np.abs(coefficients)) * _MAD_TO_SIGMA)
