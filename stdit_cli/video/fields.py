"""Interlaced video as a stream of fields, and back.

An interlaced frame holds two fields shot at different instants (1/50 or 1/60 s apart): its even
rows one, its odd rows the other. Denoised as a progressive frame, moving edges ("combing") look
like fine vertical texture, or like noise, and the model blends the two instants; a restorer
separates the fields first. :func:`split_fields` turns ``[t, H, W, 3]`` frames into ``[2t, H/2, W,
3]`` fields in the order they were shot (top field first for ``"tff"``, bottom first for ``"bff"``),
a video at twice the rate and half the height, which the pipeline denoises like any other;
:func:`weave_fields` puts denoised fields back into frames. The writer then stores the output
interlaced with the same field order, as the input was.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

FIELD_ORDERS = ("tff", "bff")


def _check(order: str) -> None:
    if order not in FIELD_ORDERS:
        raise ValueError(f"field order must be one of {FIELD_ORDERS}, got {order!r}")


def split_fields(frames_uint8: np.ndarray, order: str) -> np.ndarray:
    """``[t, H, W, 3]`` interlaced frames (even H) -> ``[2t, H/2, W, 3]`` fields in time order."""
    _check(order)
    count, height = frames_uint8.shape[:2]
    if height % 2:
        raise ValueError(f"interlaced frames have an even height, got {height}")
    first, second = (0, 1) if order == "tff" else (1, 0)
    # [t, H, W, 3] -> [t, 2, H/2, W, 3] (row parity, field rows) -> fields of each frame in time order
    by_parity = frames_uint8.reshape(count, height // 2, 2, *frames_uint8.shape[2:]).swapaxes(1, 2)
    fields = by_parity[:, [first, second]]  # [t, 2, H/2, W, 3]
    return fields.reshape(2 * count, height // 2, *frames_uint8.shape[2:])  # [2t, H/2, W, 3]


def weave_fields(fields_uint8: np.ndarray, order: str) -> np.ndarray:
    """``[2t, H/2, W, 3]`` fields in time order -> ``[t, H, W, 3]`` frames (:func:`split_fields` undone)."""
    _check(order)
    if len(fields_uint8) % 2:
        raise ValueError(f"fields come in pairs, got {len(fields_uint8)}")
    count, half = len(fields_uint8) // 2, fields_uint8.shape[1]
    pairs = fields_uint8.reshape(count, 2, half, *fields_uint8.shape[2:])  # [t, 2, H/2, W, 3] in time order
    if order == "bff":
        pairs = pairs[:, ::-1]  # -> (top, bottom)
    # [t, 2 (parity), H/2, W, 3] -> [t, H/2, 2, W, 3] -> [t, H, W, 3]
    return np.ascontiguousarray(pairs.swapaxes(1, 2)).reshape(count, 2 * half, *fields_uint8.shape[2:])


def split_chunks(chunks: Iterable[np.ndarray], order: str) -> Iterator[np.ndarray]:
    """Frame chunks -> field chunks."""
    for chunk in chunks:
        yield split_fields(chunk, order)


def weave_chunks(field_chunks: Iterable[np.ndarray], order: str) -> Iterator[np.ndarray]:
    """Field chunks (of any length: a pair may straddle two) -> frame chunks."""
    pending: np.ndarray | None = None  # a first field waiting for its second
    for fields in field_chunks:
        if pending is not None:
            fields = np.concatenate([pending, fields])
            pending = None
        if len(fields) % 2:
            fields, pending = fields[:-1], fields[-1:]
        if len(fields):
            yield weave_fields(fields, order)
    if pending is not None:
        raise ValueError("the fields ended with an unpaired field")
