"""Bit depth: frames of more than 8 bits per sample, and their 8-bit view.

`stdit denoise` reads video of more than 8 bits per sample (a phone's 10-bit HDR video, 10/12-bit
camera and ProRes files, 16-bit FFV1) as uint16 RGB on the full 0..65535 scale and writes it back
in more than 8 bits (`writer`), so the denoised gradients do not band. What measures the noise (the
patch-PCA and learned levels, whether a video is a still) works on 0..255 and on 8-bit samples, as
it was calibrated: it gets :func:`to_8_bits` of the frames.
"""

from __future__ import annotations

import numpy as np


def to_8_bits(frames: np.ndarray) -> np.ndarray:
    """uint8 frames as they are; uint16 samples (0..65535) -> the nearest uint8 samples (0..255)."""
    if frames.dtype == np.uint8:
        return frames
    if frames.dtype != np.uint16:
        raise ValueError(f"frames must be uint8 or uint16, got {frames.dtype}")
    # v / 257 rounded: 65535 = 255 * 257
    return ((frames.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
