"""How a decoded frame becomes RGB: the matrix a player would use, and swscale's exact path.

Two things FFmpeg's default conversion (PyAV's ``to_ndarray``) gets wrong for video people hold:

- **Untagged HD is decoded with BT.601.** swscale takes an unspecified matrix as BT.601 whatever
  the size, while players (mpv, VLC, browsers, QuickTime) take untagged HD as BT.709, and every
  output stdit writes is tagged BT.709: an untagged 1280x720 clip came back with its saturated
  colours moved by up to 33 levels (a cyan bar 14,210,186 -> 31,231,185 as a player shows them).
  An untagged YUV frame is now read with BT.709 where it is HD (at least 1280 wide or more than
  576 high, mpv's rule) and BT.601 below; a tagged one with its tag, as before.
- **The fast path is about a level dark and blocky in colour.** Without accurate rounding, 8-bit
  4:2:0 read 0.3-1.2 levels dark on average (a 75% green bar 191 read 188), and without
  interpolation chroma is copied to full resolution, so colour edges read up to 83 levels off an
  interpolated decode. :data:`EXACT` is swscale's bilinear chroma upsampling with accurate
  rounding (`FFmpeg -vf scale=flags=accurate_rnd+full_chroma_int` gives the same values): 6.7
  against 2.3 ms a 1080p frame on one core, in the decode thread.
"""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import Colorspace, Interpolation

#: swscale flags of the exact conversion: bilinear, accurate rounding, full-resolution chroma
EXACT = int(Interpolation.BILINEAR) | int(Interpolation.ACCURATE_RND) | int(Interpolation.FULL_CHR_H_INT)

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
    """``[H, W, 3]`` RGB of a decoded frame (``rgb24`` or ``rgb48le``), as a player shows it."""
    matrix = source_matrix(frame)
    if matrix is None:
        return frame.to_ndarray(format=format, interpolation=EXACT)
    return frame.to_ndarray(format=format, interpolation=EXACT, src_colorspace=matrix)
