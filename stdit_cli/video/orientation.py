"""Display orientation: the rotation/flip a phone video asks players to apply to its frames.

Phones store frames as the sensor saw them and put a display matrix in the container (MP4/MOV
`tkhd` matrix, or a `DISPLAYMATRIX` side data) saying how to turn them upright. FFmpeg's CLI
applies it by default ("autorotate"); decord ignores it; PyAV reports it on every decoded frame.
stdit applies it after decoding, with both backends, exactly as FFmpeg's autorotate does (same
choice of transpose/flip for each matrix, checked against FFmpeg in the tests), so the denoiser
and the output see the video upright and the output needs no display matrix of its own.

Orientations are named after FFmpeg's filters: `clock` (`transpose=clock`, 90° clockwise),
`cclock`, `cclock_flip` (plain transposition), `clock_flip` (anti-transposition), `hflip`,
`vflip`, `rot180`, and `none`. Rotations that are not a multiple of 90° (FFmpeg would rotate
by an arbitrary angle, with black corners) are left as stored, and reported by the caller.

A photo (JPEG, TIFF, PNG, WebP) says the same in its EXIF `Orientation` tag, which FFmpeg's image
decoders leave alone: :func:`orientation_from_exif` reads it, so a phone photo taken upright is
denoised, and written back, upright (the output carries no EXIF to turn it again).
"""

from __future__ import annotations

import math
from typing import Callable

import av
import numpy as np

NONE = "none"

#: what each orientation does to frames `[t, H, W, 3]` (views; the caller makes them contiguous)
_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    NONE: lambda f: f,
    "clock": lambda f: np.rot90(f, k=-1, axes=(1, 2)),
    "cclock": lambda f: np.rot90(f, k=1, axes=(1, 2)),
    "cclock_flip": lambda f: f.transpose(0, 2, 1, 3),  # [t, H, W, 3] -> [t, W, H, 3]
    "clock_flip": lambda f: f[:, ::-1, ::-1].transpose(0, 2, 1, 3),  # [t, H, W, 3] -> [t, W, H, 3]
    "hflip": lambda f: f[:, :, ::-1],
    "vflip": lambda f: f[:, ::-1],
    "rot180": lambda f: f[:, ::-1, ::-1],
}

#: orientations that swap width and height
TRANSPOSING = frozenset({"clock", "cclock", "cclock_flip", "clock_flip"})


def apply_orientation(frames_uint8: np.ndarray, orientation: str) -> np.ndarray:
    """Frames `[t, H, W, 3]` as stored -> frames as displayed (a view where possible)."""
    return _TRANSFORMS[orientation](frames_uint8)


def display_size(coded_width: int, coded_height: int, orientation: str) -> tuple[int, int]:
    """(width, height) of the displayed frames."""
    if orientation in TRANSPOSING:
        return coded_height, coded_width
    return coded_width, coded_height


def _rotation_degrees(matrix: np.ndarray) -> float | None:
    """FFmpeg's `get_rotation`: the clockwise display rotation in [0, 360), or None if degenerate."""
    m = matrix.astype(np.float64) / 65536.0  # 16.16 fixed point
    scale_x, scale_y = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
    if scale_x == 0.0 or scale_y == 0.0:
        return None
    theta = float(round(math.degrees(math.atan2(m[1] / scale_y, m[0] / scale_x))))
    return theta - 360 * math.floor(theta / 360 + 0.9 / 360)


def orientation_from_matrix(matrix: np.ndarray | None) -> tuple[str, float]:
    """The orientation FFmpeg's autorotate applies for a display matrix (9 int32), and its angle.

    Returns (`none`, angle) for a rotation that is not a multiple of 90° (left as stored).
    """
    if matrix is None:
        return NONE, 0.0
    theta = _rotation_degrees(matrix)
    if theta is None:
        return NONE, 0.0
    if abs(theta - 90) < 1:
        return ("cclock_flip" if matrix[3] > 0 else "clock"), theta
    if abs(theta - 180) < 1:
        flips = {(True, True): "rot180", (True, False): "hflip", (False, True): "vflip", (False, False): NONE}
        return flips[(bool(matrix[0] < 0), bool(matrix[4] < 0))], theta
    if abs(theta - 270) < 1:
        return ("clock_flip" if matrix[3] < 0 else "cclock"), theta
    if abs(theta) < 1:
        return ("vflip" if matrix[4] < 0 else NONE), theta
    return NONE, theta


#: EXIF `Orientation` (TIFF tag 274) -> the transform that shows the stored picture upright
#: (values 1-8 as Pillow's `ImageOps.exif_transpose` turns them)
EXIF_ORIENTATIONS = {1: NONE, 2: "hflip", 3: "rot180", 4: "vflip", 5: "cclock_flip", 6: "clock", 7: "clock_flip",
                     8: "cclock"}  # fmt: skip
_EXIF_ORIENTATION_TAG = 0x0112


def orientation_from_exif(path) -> str:
    """The orientation an image file's EXIF `Orientation` tag asks for (`none` without one, or
    when the file is not an image Pillow reads)."""
    from PIL import Image, UnidentifiedImageError  # only for a still's start-up

    try:
        with Image.open(path) as image:
            value = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):  # SyntaxError: Pillow's broken-file signal
        return NONE
    return EXIF_ORIENTATIONS.get(value, NONE)


def _display_matrix(frame: av.VideoFrame) -> np.ndarray | None:
    """The frame's DISPLAYMATRIX side data as 9 int32, or None."""
    side_data_type = getattr(getattr(av, "sidedata", None), "sidedata", None)
    matrix_type = getattr(getattr(side_data_type, "Type", None), "DISPLAYMATRIX", None)
    if matrix_type is None:  # a PyAV without frame side data: nothing to honour
        return None
    side_data = frame.side_data.get(matrix_type)
    if side_data is None or len(bytes(side_data)) != 36:
        return None
    return np.frombuffer(bytes(side_data), dtype=np.int32)


def first_frame(container: av.container.InputContainer, stream) -> av.VideoFrame | None:
    """The stream's first decoded frame, or None where it does not decode (the reader says what
    is wrong with it when it gets there)."""
    try:
        for frame in container.decode(stream):
            return frame
    except (av.FFmpegError, OSError, ValueError):
        pass
    return None


def read_orientation(frame: av.VideoFrame | None) -> tuple[str, float]:
    """The (orientation, angle in degrees) a stream's first frame carries; `none` without a frame."""
    if frame is None:
        return NONE, 0.0
    try:
        matrix = _display_matrix(frame)
    except ValueError:  # PyAV cannot list side data of a type it does not know (a PNG's EXIF: 31)
        return NONE, 0.0
    return orientation_from_matrix(matrix)
