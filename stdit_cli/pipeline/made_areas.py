"""A picture that is part made, part filmed: each part gets what it needs.

A screen recording with a webcam in a corner, a slide or an interface with a video in it: the made
part (text, lines and flat areas drawn by a program) holds no noise, the filmed part holds a
camera's. Read as one picture, the learned estimator took the text's glyph edges for noise
(23.6 where the webcam's was 15), and at any one level the text was wiped: an interface recording
with a noisy webcam over a quarter of it came out with its text 26.1 dB from clean, against 40.7
for its noisy input. Once such a sample is told apart (:func:`filmed_area`: it has made content,
``flat_areas.flat_window_share``, and a region of picture that is not mostly one brightness), its
level is read inside that region only, and every frame comes out as it went in outside it
(:class:`MadeAreas`: one mask a frame, so a window that moves or text that scrolls is followed).

The test is the one ``flat_areas`` reads whole crops with, on a finer grid: a ``WINDOW``-pixel
square is made when :data:`~stdit_cli.pipeline.flat_areas.PLATEAU_PIXELS` of its pixels have one
of its few commonest lumas, or :data:`~stdit_cli.pipeline.flat_areas.NEAR_MEDIAN_PIXELS` of them lie
within two levels of its median (the background behind text, which H.264 rings around); noise
spreads a filmed square's values. Squares are read every ``BLOCK`` pixels and decide the
``BLOCK``-pixel block at their centre. Filmed blocks are then kept only in groups of at least
3x3 (a glyph-dense square of text alone is not a region of picture), and each group of at least
:data:`MIN_FILMED_BLOCKS` is denoised in the box around it: a flat wall, a dark corner or a clipped
highlight in a webcam is part of it (plateaus too, they would be left noisy). The mask is feathered
over :data:`FEATHER` pixels. Noisy video beside flat graphics (a banner, a player's frame) is
denoised as before in its box; only the graphics outside it are kept.
"""

from __future__ import annotations

import collections
from typing import Iterable, Iterator

import numpy as np

from stdit_cli.pipeline.flat_areas import (
    FLAT_SHARE, NEAR_MEDIAN_PIXELS, NEAR_MEDIAN_TOLERANCE, PLATEAU_CROPS, PLATEAU_PIXELS, PLATEAU_VALUES, flat_window_share,
    plateau_crop_share,
)
from stdit_cli.pipeline.flat_areas import WINDOW as FLAT_WINDOW

#: side of the blocks decided, in pixels, and of the squares (centred on them) each decision reads
BLOCK = 16
WINDOW = 2 * BLOCK
#: least filmed area, in blocks, for a sample to read as part filmed (64x64 pixels), and least side
#: of the box around it (the level estimators' crop)
MIN_FILMED_BLOCKS = 16
MIN_FILMED_SIDE = 64
#: width in pixels of the ramp between a made and a filmed part
FEATHER = 9

def _luma(frame: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 -> ``[H, W]`` uint8 BT.601 luma, (77 R + 150 G + 29 B + 128) >> 8: the rounded
    luma within a level."""
    wide = frame.astype(np.uint16)
    return ((77 * wide[..., 0] + 150 * wide[..., 1] + 29 * wide[..., 2] + 128) >> 8).astype(np.uint8)


def filmed_windows(frame: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 -> ``[H // BLOCK - 1, W // BLOCK - 1]`` bool: whether each ``WINDOW``-pixel
    square at a ``BLOCK``-pixel stride (square ``(i, j)`` spans rows ``BLOCK*i .. BLOCK*i + WINDOW``)
    is filmed, i.e. has no plateau of one brightness."""
    rows, cols = frame.shape[0] // BLOCK, frame.shape[1] // BLOCK
    luma = _luma(frame[: rows * BLOCK, : cols * BLOCK])
    # [rows * B, cols * B] -> [rows, B, cols, B] -> each pixel's block number * 256 + its luma
    block = ((np.arange(rows)[:, None, None, None] * cols + np.arange(cols)[None, None, :, None]) * 256).astype(np.int32)
    keys = block + luma.reshape(rows, BLOCK, cols, BLOCK)
    counts = np.bincount(keys.ravel(), minlength=rows * cols * 256).reshape(rows, cols, 256)
    # [rows, cols, 256] -> [rows - 1, cols - 1, 256]: each square's histogram is its 2x2 blocks'
    squares = counts[:-1, :-1] + counts[1:, :-1] + counts[:-1, 1:] + counts[1:, 1:]
    total = WINDOW * WINDOW
    commonest = np.partition(squares, -PLATEAU_VALUES, axis=-1)[..., -PLATEAU_VALUES:].sum(axis=-1)
    cumulative = np.cumsum(squares, axis=-1)  # [r, c, 256]
    median = np.argmax(cumulative >= total / 2, axis=-1)  # [r, c]
    upper = np.take_along_axis(cumulative, np.minimum(median + NEAR_MEDIAN_TOLERANCE, 255)[..., None], axis=-1)[..., 0]
    below = median - NEAR_MEDIAN_TOLERANCE - 1
    lower = np.where(below >= 0, np.take_along_axis(cumulative, np.maximum(below, 0)[..., None], axis=-1)[..., 0], 0)
    plateau = (commonest >= PLATEAU_PIXELS * total) | (upper - lower >= NEAR_MEDIAN_PIXELS * total)
    return ~plateau


def _dilated(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation of a 2-D bool grid (edges repeated)."""
    padded = np.pad(mask, 1, mode="edge")
    rows, cols = mask.shape
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= padded[dy : dy + rows, dx : dx + cols]
    return out


def _eroded(mask: np.ndarray) -> np.ndarray:
    return ~_dilated(~mask)


def filmed_grid(frame: np.ndarray) -> np.ndarray:
    """:func:`filmed_windows` of ``frame``, in groups of at least 3x3 squares with their holes filled."""
    windows = filmed_windows(frame)
    if windows.size == 0:
        return windows
    grouped = _dilated(_eroded(windows))  # opening: lone squares (dense text) go
    return _eroded(_dilated(grouped))  # closing: holes (a flat wall in the filmed part) fill


def _groups(grid: np.ndarray) -> list[np.ndarray]:
    """The 4-connected groups of True cells of a 2-D bool grid, each as a grid of its own, largest first."""
    labels = np.zeros(grid.shape, np.int32)
    sizes = []
    for start in zip(*np.nonzero(grid)):
        if labels[start]:
            continue
        label = len(sizes) + 1
        labels[start], stack, size = label, [start], 0
        while stack:
            row, col = stack.pop()
            size += 1
            for near in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
                if 0 <= near[0] < grid.shape[0] and 0 <= near[1] < grid.shape[1] and grid[near] and not labels[near]:
                    labels[near] = label
                    stack.append(near)
        sizes.append(size)
    return [labels == label + 1 for label in np.argsort(sizes)[::-1]]


def filmed_boxes(frame: np.ndarray, margin: int = 0) -> list[tuple[slice, slice]]:
    """The boxes, in pixels, around each filmed part of an ``[H, W, 3]`` uint8 frame (each group of at
    least :data:`MIN_FILMED_BLOCKS` blocks of :func:`filmed_grid`, with a side of at least
    :data:`MIN_FILMED_SIDE`), largest first, ``margin`` pixels out from where the blocks place their
    edges (within half a block). A box holds all of its part: a flat wall or a dark corner in a
    webcam is filmed with the rest of it."""
    height, width = frame.shape[:2]
    if min(height, width) < 3 * WINDOW:
        return []
    boxes = []
    for group in _groups(filmed_grid(frame)):
        if np.count_nonzero(group) < MIN_FILMED_BLOCKS:
            break
        rows, cols = np.nonzero(group)
        # square (i, j) decides the block at rows BLOCK*i + BLOCK/2 .. + 3*BLOCK/2 (the grid's edge squares reach the frame's edges)
        top = 0 if rows.min() == 0 else BLOCK * rows.min() + BLOCK // 2
        bottom = height if rows.max() == group.shape[0] - 1 else BLOCK * rows.max() + 3 * BLOCK // 2
        left = 0 if cols.min() == 0 else BLOCK * cols.min() + BLOCK // 2
        right = width if cols.max() == group.shape[1] - 1 else BLOCK * cols.max() + 3 * BLOCK // 2
        if min(bottom - top, right - left) >= MIN_FILMED_SIDE:
            top, left, bottom, right = max(top - margin, 0), max(left - margin, 0), min(bottom + margin, height), min(right + margin, width)
            boxes.append((slice(int(top), int(bottom)), slice(int(left), int(right))))
    return boxes


def _area(box: tuple[slice, slice]) -> int:
    return (box[0].stop - box[0].start) * (box[1].stop - box[1].start)


def filmed_area(frames_uint8: np.ndarray) -> tuple[slice, slice] | None:
    """The box, in pixels, where the level of ``[n, H, W, 3]`` uint8 frames is read when they are made in
    part: around the largest filmed part (:func:`filmed_boxes`) of the frame where it is largest; None
    when no frame has one (all made, or too small to tell)."""
    boxes = [box for frame in frames_uint8 for box in filmed_boxes(frame)[:1]]
    return max(boxes, key=_area) if boxes else None


def made_parts(frames_uint8: np.ndarray) -> tuple[bool, tuple[slice, slice] | None]:
    """Whether ``[n, H, W, 3]`` uint8 frames (inside their bars) are a made picture with no noise
    (``flat_areas``), and the box around their filmed part when they are made only in part
    (:func:`filmed_area`): a picture with made areas (``flat_areas.FLAT_SHARE`` of its windows
    one exact colour) and a group of filmed blocks in it. Made throughout: noise-free when nearly
    all of its crops are mostly one brightness (``flat_areas.PLATEAU_CROPS``)."""
    if min(frames_uint8.shape[1:3]) < FLAT_WINDOW or flat_window_share(frames_uint8) < FLAT_SHARE:
        return False, None
    filmed = filmed_area(frames_uint8)
    if filmed is not None:
        return False, filmed
    return plateau_crop_share(frames_uint8) >= PLATEAU_CROPS, None


def _ramp(span: slice, length: int) -> np.ndarray:
    """``[length]`` float32: 1 on ``span``, 0 elsewhere, averaged over :data:`FEATHER` neighbours (edges repeated)."""
    inside = np.zeros(length + 2 * FEATHER, np.float32)
    inside[FEATHER + span.start : FEATHER + span.stop] = 1.0
    inside[:FEATHER], inside[FEATHER + length :] = inside[FEATHER], inside[FEATHER + length - 1]
    return np.convolve(inside, np.full(FEATHER, 1.0 / FEATHER, np.float32), mode="same")[FEATHER : FEATHER + length]


def filmed_weight(frame: np.ndarray) -> np.ndarray | None:
    """``[H, W, 3]`` uint8 -> ``[H, W]`` float32: 1 in the boxes of its filmed parts (:func:`filmed_boxes`,
    out by half a block and the feather's half), 0 in the rest, its made part, feathered over
    :data:`FEATHER` pixels; None when no part of it reads as filmed."""
    # out by half a block and the feather: a strip of noisy picture along a denoised one shows more
    # than a strip of screen denoised (a tenth-of-the-picture webcam: 92% of it denoised, 100% so)
    boxes = filmed_boxes(frame, margin=BLOCK // 2 + FEATHER // 2)
    if not boxes:
        return None
    height, width = frame.shape[:2]
    weight = np.zeros((height, width), np.float32)
    for rows, cols in boxes:  # a feathered box is the product of its feathered sides
        np.maximum(weight, np.outer(_ramp(rows, height), _ramp(cols, width)), out=weight)
    return weight


class MadeAreas:
    """Every frame of a part-made video comes out as it went in outside its filmed part.

    :meth:`noted` wraps the decoded chunks (it may run in the decode thread) and keeps each frame
    with its :func:`filmed_weight`; :meth:`restored` wraps the denoised ones, frame for frame in the
    same order (as ``gray.GrayFrames``), and puts the input back where the weight is below 1. Frames
    wait here only while their window is in the model: a few chunks.
    """

    def __init__(self) -> None:
        self._kept: collections.deque[tuple[np.ndarray, np.ndarray | None]] = collections.deque()

    def noted(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``chunks`` ``[t, H, W, 3]`` unchanged, each frame and its filmed part kept."""
        from stdit_cli.video.depth import to_8_bits

        for chunk in chunks:
            for frame in chunk:
                self._kept.append((frame.copy(), filmed_weight(to_8_bits(frame[None])[0])))
            yield chunk

    def restored(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Denoised ``chunks`` ``[t, H, W, 3]`` with each frame's made part put back as it was."""
        for chunk in chunks:
            out = np.empty_like(chunk)
            for index, denoised in enumerate(chunk):
                original, weight = self._kept.popleft()
                out[index] = original
                if weight is None:  # nothing filmed in this frame: all of it as it was
                    continue
                # the box around the filmed parts and their ramps: [h, w, 3] of the frame's [H, W, 3]
                rows, cols = np.flatnonzero(weight.any(axis=1)), np.flatnonzero(weight.any(axis=0))
                part = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
                kept = original[part].astype(np.float32)
                mixed = kept + weight[part][..., None] * (denoised[part].astype(np.float32) - kept)
                out[index][part] = np.clip(np.rint(mixed), 0, np.iinfo(chunk.dtype).max).astype(chunk.dtype)
            yield out
