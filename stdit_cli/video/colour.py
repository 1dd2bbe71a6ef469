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
(``scripts/results/2026-12-06_decode_conversion.md``). What the fast path costs in the output's
mean colour is measured instead (:func:`decode_bias`) and put back where the weights learnt from
exact RGB (``VideoDenoiser.decode_shift``; ``scripts/results/2026-12-06_decode_bias.md``).
"""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import Colorspace

#: AVColorSpace's "unspecified"
_UNSPECIFIED = 2
#: AVColorSpace -> (Kr, Kb) of the matrices :func:`decode_bias` knows: BT.709, BT.470BG and SMPTE 170M (BT.601)
_MATRIX_WEIGHTS = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 6: (0.299, 0.114)}
#: the 8-bit three-plane YUV formats :func:`decode_bias` reads, with their full-range (JPEG) flag
_PLANAR_YUV = {"yuv420p": False, "yuv422p": False, "yuv444p": False, "yuvj420p": True, "yuvj422p": True, "yuvj444p": True}


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


def decode_bias(frame: av.VideoFrame, rgb: np.ndarray) -> np.ndarray | None:
    """``[3]``: how much darker, per channel on 0..255, ``rgb`` (:func:`frame_to_rgb` of ``frame``,
    swscale's fast path) is than the exact conversion of the same samples (each chroma sample's own
    pixels, the matrix and range ``frame_to_rgb`` read with). Measured on a grid of the chroma
    samples, every fourth one each way (under 1 ms on a 1080p frame). None for what it does not read: more than 8 bits, other
    matrices (BT.2020), formats other than three-plane YUV.

    The fast path truncates where it should round: 8-bit 4:2:0 comes out 0.3-1.5 levels dark per
    channel (an untagged 854x480 H.264 clip: 1.03 / 1.48 / 1.30), a shift that weights trained on
    exact RGB carry into their output (`pipeline.denoiser`)."""
    full_range = _PLANAR_YUV.get(frame.format.name)
    if full_range is None or rgb.dtype != np.uint8:
        return None
    matrix = source_matrix(frame)
    space = int(matrix) if matrix is not None else int(frame.colorspace)
    if space not in _MATRIX_WEIGHTS:
        return None
    full_range = full_range or int(frame.color_range) == 2  # AVCOL_RANGE_JPEG
    kr, kb = _MATRIX_WEIGHTS[space]
    luma, cb, cr = (np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width] for plane in frame.planes[:3])
    rows, cols = luma.shape[0] // cb.shape[0], luma.shape[1] // cb.shape[1]  # chroma subsampling: 2 or 1 each way
    # every fourth chroma sample each way, and the luma pixel at its top-left: [h, w] float
    cb, cr = cb[::4, ::4].astype(np.float64), cr[::4, ::4].astype(np.float64)
    y = luma[:: 4 * rows, :: 4 * cols][: cb.shape[0], : cb.shape[1]].astype(np.float64)
    fast = rgb[:: 4 * rows, :: 4 * cols][: y.shape[0], : y.shape[1]].astype(np.float64)
    cb, cr = cb[: y.shape[0], : y.shape[1]], cr[: y.shape[0], : y.shape[1]]
    if full_range:
        y, cb, cr = y / 255.0, (cb - 128.0) / 255.0, (cr - 128.0) / 255.0
    else:
        y, cb, cr = (y - 16.0) / 219.0, (cb - 128.0) / 224.0, (cr - 128.0) / 224.0
    red = y + 2.0 * (1.0 - kr) * cr
    blue = y + 2.0 * (1.0 - kb) * cb
    green = (y - kr * red - kb * blue) / (1.0 - kr - kb)
    exact = np.clip(np.stack([red, green, blue], axis=-1) * 255.0, 0.0, 255.0)  # [h, w, 3]
    return (exact - fast).mean(axis=(0, 1))
