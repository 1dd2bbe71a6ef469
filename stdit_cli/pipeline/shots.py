"""Shot boundaries: where an edited video cuts to unrelated content, windows stop.

The model denoises a frame from a window of its neighbours. Across a hard cut those neighbours
show another scene: the model's temporal layers take them in, and the frames next to the cut
come out worse than with no neighbours at all (8 unrelated Kodak photos as one 5-frame-window
stream: -0.07 to -0.43 dB each, mean -0.21, against each photo alone). :func:`split_shots` cuts
the frame stream at each hard cut, and the pipeline denoises every shot as a video of its own
(windows mirrored at its ends, as at a video's ends), so no window ever spans a cut. A folder of
unrelated photos read as frames (`video.frame_folder`) becomes one shot per photo.

A cut is read on small colour thumbnails (each pixel the mean of a block about 1/36 of the frame's
short side, where even heavy noise averages out): the colour histograms of consecutive thumbnails
(16 bins a channel) share less than :data:`CUT_LEVEL` short of all of their mass. Histograms, not
pixel differences: within a shot, fast motion moves everything (consecutive DAVIS frames of
`motocross-jump` differ by a mean of 52 of 255 in luma, more than many cuts do) but keeps the
colours; a cut changes them. And twice: as the frame is, and with its exposure evened out (the
thumbnail scaled to a mean of :data:`EXPOSURE_MEAN`); a cut is read only where both say so, so
light that flickers (mains-powered lamps filmed at a shutter out of step with them, auto-exposure
hunting in a dim room) and fades move nothing but the exposure and are not read as cuts.
Calibrated with ``python scripts/probe_shot_cuts.py`` (``scripts/results/2026-12-06_shot_cuts.md``): of 801 consecutive pairs of DAVIS, Vid4 and the
validation suite's cel animations, at their size and at 176x144, clean and with noise of sigma 25
and 50, none reads as a cut (the highest 0.126), and 38-41 of 42 cuts do (DAVIS sequences back to
back, Kodak photos). With the gain moved by up to 5% a frame (flicker), 0 of 580 DAVIS pairs read
as cuts in dim footage and 5 at full brightness (48 and 184 until the exposure was evened out). A
missed cut costs what it cost before; a cut read inside a shot costs the frames around it their
neighbours on one side.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from stdit_cli.pipeline.tiling import StreamingBlender

if TYPE_CHECKING:
    from stdit_cli.pipeline.coarse_band import CoarseBandBlender

#: histogram distance (0: the same colours, 1: none in common) of consecutive thumbnails from which
#: frames are in two shots
CUT_LEVEL = 0.15
#: thumbnail pixels along the frame's short side
THUMBNAIL_SIDE = 36
#: histogram bins per colour channel
BINS = 16
#: the mean level (0..255, over the thumbnail's pixels and channels) the exposure-free histogram scales a thumbnail to
EXPOSURE_MEAN = 96.0
#: thumbnails darker than this (mean, 0..255) are not scaled: black frames have no exposure to even out
EXPOSURE_FLOOR = 4.0


def colour_thumbnail(frame: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 or uint16 frame -> ``[h, w, 3]`` float32 on 0..255, each pixel the mean of a
    ``b x b`` block (``b`` about ``min(H, W) / THUMBNAIL_SIDE``; the edges that do not fill a block dropped).
    Two contiguous sums (rows, then columns): 2 ms at 1920x1080, where a mean over a 5-D view took 29."""
    height, width = frame.shape[:2]
    block = max(1, min(height, width) // THUMBNAIL_SIDE)
    rows, cols = height // block, width // block
    # [H, W, 3] -> [h, b, w*b*3] -> sum over the block's rows -> [h, w*b*3]
    row_sums = frame[: rows * block, : cols * block].reshape(rows, block, cols * block * 3).sum(axis=1, dtype=np.uint32)
    # [h, w*b*3] -> [h, w, b, 3] -> sum over the block's columns -> [h, w, 3]
    sums = row_sums.reshape(rows, cols, block, 3).sum(axis=2)
    return sums.astype(np.float32) * np.float32(255.0 / np.iinfo(frame.dtype).max / block**2)


def colour_histogram(thumbnail: np.ndarray) -> np.ndarray:
    """``[h, w, 3]`` thumbnail on 0..255 -> ``[3 * BINS]`` histograms, each channel's summing to 1."""
    bins = np.clip((thumbnail * (BINS / 256.0)).astype(np.int64), 0, BINS - 1).reshape(-1, 3)  # [h*w, 3]
    return np.concatenate([np.bincount(bins[:, c], minlength=BINS) for c in range(3)]) / len(bins)


def histogram_distance(previous: np.ndarray, current: np.ndarray) -> float:
    """Distance between two :func:`colour_histogram` s: 1 - their intersection, per channel, averaged."""
    return float(1.0 - np.minimum(previous, current).sum() / 3.0)


def shot_change(previous: np.ndarray, current: np.ndarray) -> float:
    """Distance between two frames' :func:`frame_signature` s (0: the same colours, 1: none in common):
    the smaller of the histograms' distance as the frames are and with their exposure evened out."""
    # [2 * 3 * BINS] -> [2, 3 * BINS]: the histogram as the frame is, then with its exposure evened out
    before, after = previous.reshape(2, -1), current.reshape(2, -1)
    return min(histogram_distance(before[0], after[0]), histogram_distance(before[1], after[1]))


def even_exposure(thumbnail: np.ndarray) -> np.ndarray:
    """``thumbnail`` on 0..255 scaled to a mean of :data:`EXPOSURE_MEAN` (unless nearly black)."""
    mean = float(thumbnail.mean())
    return thumbnail * np.float32(EXPOSURE_MEAN / mean) if mean >= EXPOSURE_FLOOR else thumbnail


def frame_signature(frame: np.ndarray) -> np.ndarray:
    """What :func:`split_shots` compares consecutive frames by: ``[2 * 3 * BINS]``, the colour histogram
    of the frame's thumbnail, then that of the thumbnail with its exposure evened out."""
    thumbnail = colour_thumbnail(frame)
    return np.concatenate([colour_histogram(thumbnail), colour_histogram(even_exposure(thumbnail))])


def several_scenes(frames: np.ndarray, cut_level: float | None = None) -> bool:
    """Whether frames spread over a video (its level sample, in order) show more than one scene: two
    consecutive ones as far apart as a cut. Then its shots may differ in noise too (a vlog's dim
    room and sunny street), and the pipeline reads each shot's level from its own first frames."""
    cut_level = CUT_LEVEL if cut_level is None else cut_level
    signatures = [frame_signature(frame) for frame in frames]
    return any(shot_change(a, b) >= cut_level for a, b in zip(signatures[:-1], signatures[1:]))


@dataclass(frozen=True)
class SignedChunk:
    """A chunk of frames ``[t, H, W, 3]`` with each frame's :func:`frame_signature` ``[t, 3 * BINS]``."""

    frames: np.ndarray
    signatures: np.ndarray


def with_signatures(chunks: Iterable[np.ndarray]) -> Iterator[SignedChunk]:
    """Each chunk with its frames' signatures: run it where the frames are decoded (the pipeline's
    decode thread), and :func:`split_shots` only compares them (0.7 ms a frame at 640x272, 3 ms at 1080p)."""
    for chunk in chunks:
        yield SignedChunk(chunk, np.stack([frame_signature(frame) for frame in chunk]))


def split_shots(chunks: Iterable[SignedChunk | np.ndarray], cut_level: float | None = None) -> Iterator[Iterator[np.ndarray]]:
    """Frame chunks ``[t, H, W, 3]`` (or :class:`SignedChunk` s) -> one iterator of frame chunks per shot, in order.

    Each shot's iterator must be consumed before the next is taken (as a ``for`` loop over the
    shots does); chunks are split where a cut falls inside one. Memory: one chunk.
    ``cut_level``: :data:`CUT_LEVEL` unless given (above 1: never cut).
    """
    cut_level = CUT_LEVEL if cut_level is None else cut_level
    source = (chunk if isinstance(chunk, SignedChunk) else next(with_signatures([chunk])) for chunk in chunks)
    state: dict = {"pending": None, "previous": None, "done": False}

    def next_chunk() -> SignedChunk | None:
        if state["pending"] is not None:
            chunk, state["pending"] = state["pending"], None
            return chunk
        return next(source, None)

    def one_shot(first: SignedChunk) -> Iterator[np.ndarray]:
        chunk = first
        while chunk is not None:
            cut = None
            for index, signature in enumerate(chunk.signatures):
                previous, state["previous"] = state["previous"], signature
                opens_shot = index == 0 and chunk is first
                if not opens_shot and previous is not None and shot_change(previous, signature) >= cut_level:
                    cut = index
                    break
            if cut is not None:
                if cut:
                    yield chunk.frames[:cut]
                # the frame after the cut opens the next shot
                state["pending"] = SignedChunk(chunk.frames[cut:], chunk.signatures[cut:])
                return
            yield chunk.frames
            chunk = next_chunk()
        state["done"] = True

    while not state["done"]:
        first = next_chunk()
        if first is None:
            return
        yield one_shot(first)


#: first frames of a shot its level is read from, where each shot's is (:func:`several_scenes`)
SHOT_LEVEL_FRAMES = 8

#: ``blender_for(first_frames, single_picture)``: the blender that denoises a shot, given its first frames
#: (a StreamingBlender, or a CoarseBandBlender, which runs two in step with the same ``run``)
BlenderFor = Callable[[np.ndarray, bool], "StreamingBlender | CoarseBandBlender"]


def denoise_by_shot(blender_for: BlenderFor, chunks: Iterator[SignedChunk], shots: list[int]) -> Iterator[np.ndarray]:
    """Denoised chunks, each shot a video of its own (`shots` gets each one's frame count): no window
    spans a cut. Each shot's blender comes from its first frames (up to :data:`SHOT_LEVEL_FRAMES`),
    and from whether the shot is a single picture (a photo among unrelated ones in a frame folder)."""
    for shot in split_shots(chunks):
        head, count = [], 0
        for chunk in shot:
            head.append(chunk)
            count += len(chunk)
            if count >= SHOT_LEVEL_FRAMES:
                break
        else:  # the shot ended within its first frames
            if not head:
                continue
        # fewer than SHOT_LEVEL_FRAMES frames means the loop ran to the shot's end: one frame is a single picture
        blender = blender_for(np.concatenate(head) if len(head) > 1 else head[0], count == 1)
        shots.append(0)
        for denoised in blender.run(itertools.chain(head, shot)):
            shots[-1] += len(denoised)
            yield denoised
