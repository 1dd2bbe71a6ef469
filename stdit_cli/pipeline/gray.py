"""Grayscale video stays grayscale.

A black-and-white film, an infrared night camera or a scientific camera stores frames whose three
channels are equal (a ``gray`` pixel format, or colour planes at their neutral value). The
backbones denoise RGB and predict each channel on its own, so their output strayed from gray:
channels up to 4-35 levels apart (on 0..255, the largest difference in a frame, per clip) at sigma
10-25 on the validation suite's clips in gray, 2026-12-06. Each output frame whose input frame was
gray is made gray again, the mean of its three channels, which also averages the channels'
separate errors (``scripts/results/2026-12-06_gray.md``).

Before that, white noise on a gray video is made the noise the Gaussian weights were trained on.
Gray noise is the same draw in all three channels: along the gray direction ``(1, 1, 1) / sqrt(3)``
it has sqrt(3) times its per-channel level, across it none. :func:`decorrelated` adds independent
noise of that sqrt(3)-times level along the two directions across gray, so the units carry i.i.d.
RGB noise of sqrt(3) times the level, and the weights run at that level (:data:`GRAY_LEVEL_SCALE`);
the mean of the output's channels is the gray picture. On the suite's 20 uncompressed clips in
gray, with no number given: 35.19 / 29.00 / 24.02 -> 35.53 / 30.78 / 25.82 dB at sigma 10 / 25 /
50, a flat field at sigma 50 24.85 -> 34.87 (the weights had left most of a noise they had never
seen), 9 of 60 cases lower (up to -1.01 dB, fine-texture stills).

Camera noise on a gray video (an infrared night camera's) is not made i.i.d.: such a video runs
real-noise weights of its own, trained on gray camera noise (``weights/unet-real-gray``, chosen in
``stdit_cli.batch.runner``; ``scripts/results/2026-12-06_gray_camera.md``).

The test is per frame, in decode order, so a colour video with a black-and-white scene (or the
other way round) keeps its colour where it has some: :class:`GrayFrames` notes each decoded frame
as the decoder yields it and restores the same frames, in the same order, as the writer takes
them.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where units are denoised: the level sample is read without it
    import torch

#: white noise on a gray video runs the Gaussian weights at this multiple of its level, once
#: :func:`decorrelated` has made it i.i.d. RGB noise of that level
GRAY_LEVEL_SCALE = math.sqrt(3.0)
#: ... but not above the highest level the shipped weights trained at (``train.objective.SIGMA_RANGE_255``),
#: where they fail (sigma 50 gray noise run at 86.6 on a flat field: 22.5 dB; at 75: 34.6)
GRAY_LEVEL_CAP = 75.0
#: ``[2, 3]``: the two unit directions of RGB across gray, orthogonal to ``(1, 1, 1)`` and to each other
_ACROSS_GRAY = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]], dtype=np.float32) / np.array([[math.sqrt(2.0)], [math.sqrt(6.0)]], dtype=np.float32)


def is_gray(frame: np.ndarray) -> bool:
    """Whether an ``[H, W, 3]`` frame has equal channels everywhere (a coarse look first: a colour
    frame is nearly always told by a few pixels)."""
    coarse = frame[::16, ::16]
    if not (np.array_equal(coarse[..., 0], coarse[..., 1]) and np.array_equal(coarse[..., 0], coarse[..., 2])):
        return False
    return bool(np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 0], frame[..., 2]))


def frames_are_gray(frames: np.ndarray) -> bool:
    """Whether every frame of ``[n, H, W, 3]`` is gray (:func:`is_gray`); False for no frames."""
    return len(frames) > 0 and all(is_gray(frame) for frame in frames)


def units_are_gray(units: torch.Tensor) -> bool:
    """Whether every unit of ``[N, C, T, h, w]`` has three equal channels everywhere."""
    import torch

    return units.shape[1] == 3 and bool(torch.equal(units[:, 0], units[:, 1]) and torch.equal(units[:, 0], units[:, 2]))


def gray_level(sigma_255: float) -> float:
    """The level gray units run at once decorrelated: :data:`GRAY_LEVEL_SCALE` times ``sigma_255``, at most
    :data:`GRAY_LEVEL_CAP` (or ``sigma_255`` itself, if that is above it)."""
    return min(sigma_255 * GRAY_LEVEL_SCALE, max(sigma_255, GRAY_LEVEL_CAP))


def decorrelated(units: torch.Tensor, noise_255: float, generator: torch.Generator) -> torch.Tensor:
    """Gray units ``[N, 3, T, h, w]`` in ``[-1, 1]`` carrying white noise of ``noise_255`` (on 0..255)
    on their one plane -> the same with independent noise of ``GRAY_LEVEL_SCALE * noise_255`` added
    across gray: i.i.d. RGB noise of that level, what the Gaussian weights know. Not clamped, so the
    channel mean is exactly the input's (clamped, it shifts near black and white; on quality the
    two are within 0.17 dB either way on four clips, 2026-12-06)."""
    import torch

    count, _, frames, height, width = units.shape
    std = GRAY_LEVEL_SCALE * noise_255 / 127.5  # on [-1, 1]
    draws = torch.randn((count, 2, frames, height, width), generator=generator) * std  # [N, 2, T, h, w], on the generator's device
    # [N, 2, T, h, w] x [2, 3] -> [N, 3, T, h, w]: each draw along its direction across gray
    across = torch.einsum("nktyx,kc->nctyx", draws, torch.from_numpy(_ACROSS_GRAY))
    return units + across.to(units)


def channel_mean(frame: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8/uint16 -> the same with each pixel's three channels replaced by their rounded mean."""
    wide = np.uint32 if frame.dtype == np.uint16 else np.uint16
    total = frame.sum(axis=-1, dtype=wide)  # [H, W]
    mean = ((total + 1) // 3).astype(frame.dtype)  # the nearest integer: a third of a sum is never halfway
    # [H, W] -> [H, W, 3]
    return np.repeat(mean[..., None], 3, axis=-1)


class GrayFrames:
    """Which frames of a video were gray as decoded, for their denoised frames to be gray too.

    :meth:`noted` wraps the decoded chunks (it may run in the decode thread), :meth:`restored` the
    denoised ones, frame for frame in the same order (the pipeline keeps it: frame ``i`` out is
    frame ``i`` in). A deque is safe to append to and pop from in two threads.
    """

    def __init__(self):
        self._gray: collections.deque[bool] = collections.deque()

    def noted(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``chunks`` ``[t, H, W, 3]`` unchanged, each frame's grayness noted."""
        for chunk in chunks:
            self._gray.extend(is_gray(frame) for frame in chunk)
            yield chunk

    def restored(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Denoised ``chunks`` ``[t, H, W, 3]``, with the frames that were gray made gray again."""
        for chunk in chunks:
            flags = [self._gray.popleft() for _ in range(len(chunk))]
            if any(flags):
                chunk = chunk.copy() if not chunk.flags.writeable else chunk
                for index in np.flatnonzero(flags):
                    chunk[index] = channel_mean(chunk[index])
            yield chunk
