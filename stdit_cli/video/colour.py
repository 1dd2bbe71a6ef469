"""How a decoded frame becomes RGB: the matrix a player would use.

swscale (PyAV's ``to_ndarray``) takes an unspecified matrix as BT.601 whatever the size, while
players (mpv, VLC, browsers, QuickTime) take untagged HD as BT.709, and every output stdit writes
is tagged BT.709: an untagged 1280x720 clip came back with its saturated colours moved by up to
33 levels (a cyan bar 14,210,186 -> 31,231,185 as a player shows them). An untagged YUV frame is
read with BT.709 where it is HD (at least 1280 wide or more than 576 high, mpv's rule) and BT.601
below; a tagged one with its tag, as before.

Measured, not used (2026-12-06): swscale's exact path (bilinear chroma to full resolution,
accurate rounding; ``-vf scale=flags=accurate_rnd+full_chroma_int``) instead of its default fast
one, which reads 8-bit 4:2:0 0.3-1.2 levels dark and copies chroma without interpolating it. The
shipped weights were trained on the fast path's decodes (``train.compressed_noise.h264_round_trip``
decodes the same way), and on the validation suite's H.264 4:2:0 clips the exact path scored
+0.20 / -0.02 / -0.33 dB at sigma 10 / 25 / 50 with the true sigma and -0.20 / -0.18 / -0.16
with no number given (accurate rounding alone: -0.14 / -0.10 / -0.31, -0.08 / -0.06 / -0.07):
the switch waits for weights trained on the exact decode
(``scripts/results/2026-12-06_decode_conversion.md``).
"""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import Colorspace

#: AVColorSpace's "unspecified"
_UNSPECIFIED = 2


def is_hd(width: int, height: int) -> bool:
    """Whether players take an untagged picture of this size as BT.709 (mpv's rule)."""
    return width >= 1280 or height > 576


def source_matrix(frame: av.VideoFrame) -> Colorspace | None:
    """The matrix to read ``frame`` with where it has no tag: BT.709 for HD YUV, BT.601 below;
    None where the frame's own tag applies (a tagged frame, RGB or grey)."""
    if int(frame.colorspace) != _UNSPECIFIED or frame.format.is_rgb or len(frame.format.components) < 3:
        return None
    return Colorspace.ITU709 if is_hd(frame.width, frame.height) else Colorspace.ITU601


def frame_to_rgb(frame: av.VideoFrame, format: str = "rgb24") -> np.ndarray:
    """``[H, W, 3]`` RGB of a decoded frame (``rgb24`` or ``rgb48le``), in the colours a player shows."""
    matrix = source_matrix(frame)
    if matrix is None:
        return frame.to_ndarray(format=format)
    return frame.to_ndarray(format=format, src_colorspace=matrix)
