"""Overlapping spatio-temporal windows and their seamless blending, streamed in bounded memory.

A video is cut into temporal windows of the model's frame count (aligned to its first and last frames), each
window into equal-size spatial tiles; every (window, tile) is one *unit* the model denoises, and
units of the same size are batched into one forward pass. Outputs are blended with weights that
fall off towards window and tile borders (where the model saw the least context), normalised by
the summed weights, so a constant video stays constant and an identity model returns its input.

Frames are consumed chunk by chunk and emitted as soon as no later window touches them: memory
holds about one window plus one chunk of frames, whatever the video's length. Frames are uint8, or
uint16 for video of more than 8 bits per sample (:class:`SampleFormat`); they come out as they went in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

#: ``denoise_units(units [N, C, T, h, w] in [-1, 1]) -> [N, C, T, h, w]``
UnitDenoiser = Callable[[torch.Tensor], torch.Tensor]


def reflect_index(index: int, num_frames: int) -> int:
    """Mirror ``index`` into ``[0, num_frames)`` without repeating the border frame (…2 1 0 1 2…)."""
    if num_frames == 1:
        return 0
    period = 2 * (num_frames - 1)
    index %= period
    return index if index < num_frames else period - index


def tile_layout(size: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """Equal tiles of side at most ``tile`` covering ``size`` with at least ``overlap`` shared.

    Uses the fewest tiles that fit, then shrinks them to share the length evenly (so a 1080-row
    frame with 1024-pixel tiles gets two 552-row tiles, not two 1024-row ones). Returns the tile
    side and the start offsets.
    """
    if size <= tile:
        return size, [0]
    count = int(np.ceil((size - overlap) / (tile - overlap)))
    side = min(tile, int(np.ceil((size + (count - 1) * overlap) / count)))
    return side, [int(round(s)) for s in np.linspace(0, size - side, count)]


def ramp_weights(length: int, ramp: int) -> torch.Tensor:
    """1-D blending weights: rise over ``ramp`` samples at each end, flat 1 in between, never 0."""
    position = torch.arange(length, dtype=torch.float32)
    distance = torch.minimum(position + 1, length - position)
    return torch.clamp(distance / max(ramp, 1), max=1.0)


@dataclass(frozen=True)
class SampleFormat:
    """How frames of one sample type are held on the device and mapped to the model's ``[-1, 1]``.

    A sample ``d`` as held maps to ``(d + offset) / half_range - 1``. uint16 frames are held as
    int16, offset by 32768 (``v ^ 0x8000`` read as int16): every device has int16 kernels, while
    PyTorch's uint16 has few, and the frames cross the bus at their own size.
    """

    host: type[np.unsignedinteger]  # np.uint8 or np.uint16
    held: torch.dtype  # torch.uint8 or torch.int16
    offset: float
    half_range: float

    @staticmethod
    def of(dtype: np.dtype) -> "SampleFormat":
        """The format of frames of numpy ``dtype`` (uint8 or uint16); ValueError for any other."""
        formats = {np.dtype(np.uint8): UINT8, np.dtype(np.uint16): UINT16}
        if np.dtype(dtype) not in formats:
            raise ValueError(f"frames must be uint8 or uint16, got {np.dtype(dtype).name}")
        return formats[np.dtype(dtype)]

    def to_held(self, frames: np.ndarray) -> torch.Tensor:
        """``[t, H, W, 3]`` host frames -> the same as :attr:`held` samples (CPU tensor)."""
        if self.host is np.uint8:
            return torch.from_numpy(np.ascontiguousarray(frames))
        # v -> v - 32768 as int16: flipping the top bit and reading the bits as signed
        return torch.from_numpy(np.ascontiguousarray(frames ^ np.uint16(0x8000)).view(np.int16))

    def to_unit_(self, held_as_float: torch.Tensor) -> torch.Tensor:
        """Samples as held, already float, -> ``[-1, 1]`` in place."""
        return held_as_float.div_(self.half_range).add_(self.offset / self.half_range - 1.0)

    def from_unit_(self, unit: torch.Tensor) -> torch.Tensor:
        """``[-1, 1]`` (clamped here) -> whole samples as held, still float, in place."""
        return unit.clamp_(-1, 1).add_(1).mul_(self.half_range).sub_(self.offset).round_()

    def to_host(self, held: torch.Tensor) -> np.ndarray:
        """Samples as held (any device) -> host frames of :attr:`host`."""
        array = held.cpu().numpy()
        return array if self.host is np.uint8 else array.view(np.uint16) ^ np.uint16(0x8000)


UINT8 = SampleFormat(np.uint8, torch.uint8, offset=0.0, half_range=127.5)
UINT16 = SampleFormat(np.uint16, torch.int16, offset=32768.0, half_range=32767.5)


@dataclass(frozen=True)
class WindowPlan:
    """Temporal windows of ``window`` frames every ``stride`` frames, aligned to the video.

    The first window starts on frame 0 and the last one ends on the last frame: when the length
    is not a whole number of strides, the last window moves back and shares more frames with the
    one before it. No window holds reflected frames unless the video is shorter than a window, and
    a video of ``n`` frames takes ``ceil((n - overlap) / stride)`` windows. (Centring the first
    window on frame 0 instead spent a forward pass on reflected copies at each end: 7 passes for a
    30-frame clip with 5-frame windows and no overlap, where 6 cover it.)
    """

    window: int
    stride: int

    @classmethod
    def from_overlap(cls, window: int, overlap: int) -> "WindowPlan":
        if not 0 <= overlap < window or window < 1:
            raise ValueError(f"window overlap must be in [0, {window - 1}] for a {window}-frame window, got {overlap}")
        return cls(window=window, stride=window - overlap)

    def start(self, k: int, num_frames: int | None = None) -> int:
        """First frame of window ``k`` (``num_frames`` once the length is known: the last window
        is moved back to end on the last frame)."""
        first = k * self.stride
        if num_frames is not None and first + self.window > num_frames:
            first = max(num_frames - self.window, 0)
        return first

    def is_last(self, k: int, num_frames: int) -> bool:
        """Whether window ``k`` reaches the last frame."""
        return k * self.stride + self.window >= num_frames

    def count(self, num_frames: int) -> int:
        """Windows covering a video of ``num_frames`` frames."""
        return next(k + 1 for k in itertools.count() if self.is_last(k, num_frames))

    def weights(self) -> torch.Tensor:
        """Per-frame weights of a window: triangular, highest at its centre."""
        return ramp_weights(self.window, (self.window + 1) // 2)


@dataclass(frozen=True)
class TileGrid:
    """Equal-size spatial tiles covering an ``H x W`` frame, with their blending weights."""

    height: int
    width: int
    tile_h: int
    tile_w: int
    starts: tuple[tuple[int, int], ...]
    weight_hw: torch.Tensor  # [tile_h, tile_w]

    @classmethod
    def cover(cls, height: int, width: int, tile: int, overlap: int) -> "TileGrid":
        tile_h, tops = tile_layout(height, tile, overlap)
        tile_w, lefts = tile_layout(width, tile, overlap)
        starts = tuple((top, left) for top in tops for left in lefts)
        # [h] x [w] -> [h, w] separable weights, low near tile borders
        weight_hw = torch.outer(ramp_weights(tile_h, overlap), ramp_weights(tile_w, overlap))
        return cls(height, width, tile_h, tile_w, starts, weight_hw)


@dataclass
class _Unit:
    window: int  # window index k
    first: int  # its first frame
    tile: int  # index into TileGrid.starts
    video_cthw: torch.Tensor  # [3, T, h, w] in [-1, 1]


class StreamingBlender:
    """Denoise a stream of frame chunks window by window and yield finished frames in order.

    Args:
        denoise_units: the model + sampler applied to a batch of units ``[N, 3, T, h, w]``.
        plan: temporal windowing.
        tile: spatial tile side (a frame no larger than this is one tile).
        tile_overlap: pixels shared by neighbouring tiles.
        batch_size: units per forward pass.
        device: where frames, windows and the blending sums live. On a GPU only the frames cross
            the bus, at their own size (in once, out once); windows are cut and outputs blended on
            the device.
    """

    def __init__(self, denoise_units: UnitDenoiser, plan: WindowPlan, tile: int, tile_overlap: int, batch_size: int,
                 device: torch.device | str = "cpu"):  # fmt: skip
        if not 0 <= tile_overlap < tile:
            raise ValueError(f"tile overlap must be in [0, {tile - 1}] for {tile}-pixel tiles, got {tile_overlap}")
        self.denoise_units = denoise_units
        self.plan = plan
        self.tile = tile
        self.tile_overlap = tile_overlap
        self.batch_size = max(1, batch_size)
        self.device = torch.device(device)

    def run(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Consume ``[t, H, W, 3]`` uint8 or uint16 chunks, yield denoised chunks of the same dtype in order."""
        state = _StreamState(self)
        for chunk in chunks:
            state.add_frames(chunk)
            yield from state.advance(end_of_stream=False)
        yield from state.advance(end_of_stream=True)


class _StreamState:
    """Book-keeping of one :meth:`StreamingBlender.run`: frames in, windows queued, frames out."""

    def __init__(self, blender: StreamingBlender):
        self.blender = blender
        self.plan = blender.plan
        self.device = blender.device
        self.time_weights = self.plan.weights()
        self.grid: TileGrid | None = None
        self.samples: SampleFormat | None = None  # the first chunk's
        self.frames: dict[int, torch.Tensor] = {}  # frame index -> [3, H, W] samples as held
        self.accum: dict[int, torch.Tensor] = {}  # frame index -> [3, H, W] weighted sum
        self.weight_sum: dict[int, torch.Tensor] = {}  # frame index -> [H, W] summed weights
        self.unit_weights: dict[int, torch.Tensor] = {}  # frame offset in a unit -> [h, w] weights
        self.pending: list[_Unit] = []
        self.decoded = 0
        self.total: int | None = None  # known once the stream ends
        self.next_window = 0
        self.windows_done = False
        self.emitted = 0

    def add_frames(self, chunk: np.ndarray) -> None:
        if chunk.ndim != 4 or chunk.shape[-1] != 3 or chunk.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"expected uint8 or uint16 frame chunks [t, H, W, 3], got {chunk.dtype} {list(chunk.shape)}")
        if self.grid is None:
            self.grid = TileGrid.cover(chunk.shape[1], chunk.shape[2], self.blender.tile, self.blender.tile_overlap)
            self.samples = SampleFormat.of(chunk.dtype)
        elif chunk.shape[1:3] != (self.grid.height, self.grid.width):
            raise ValueError(f"frame size changed mid-stream: {list(chunk.shape[1:3])} after {[self.grid.height, self.grid.width]}")
        elif chunk.dtype != self.samples.host:
            raise ValueError(f"frame dtype changed mid-stream: {chunk.dtype} after {np.dtype(self.samples.host).name}")
        # [t, H, W, 3] -> t x [3, H, W] (one copy to the device for the whole chunk, at the samples' size)
        for frame in self.samples.to_held(chunk).to(self.device).permute(0, 3, 1, 2):
            self.frames[self.decoded] = frame.clone()
            self.decoded += 1

    def advance(self, end_of_stream: bool) -> Iterator[np.ndarray]:
        """Queue every window whose frames are here, run full batches, yield finished frames."""
        if end_of_stream:
            self.total = self.decoded
        if self.decoded == 0:
            return
        while not self.windows_done and self._window_ready(self.next_window):
            if self.total is not None and self.next_window > 0 and self.plan.is_last(self.next_window - 1, self.total):
                self.windows_done = True  # the stream ended inside the previous window
                break
            self._enqueue_window(self.next_window)
            if self.total is not None and self.plan.is_last(self.next_window, self.total):
                self.windows_done = True
            self.next_window += 1
            while len(self.pending) >= self.blender.batch_size:
                self._run_batch()
        if end_of_stream:
            while self.pending:
                self._run_batch()
        yield from self._emit_up_to(self._frontier())
        self._forget_old_frames()

    def _window_ready(self, k: int) -> bool:
        return self.total is not None or self.plan.start(k) + self.plan.window - 1 < self.decoded

    def _enqueue_window(self, k: int) -> None:
        num_frames = self.total if self.total is not None else self.decoded
        first = self.plan.start(k, self.total)
        indices = [reflect_index(first + offset, num_frames) for offset in range(self.plan.window)]
        # T x [3, H, W] samples -> [3, T, H, W] in [-1, 1]: each frame converted straight into its
        # slot of one float tensor, then scaled in place
        window = torch.empty(3, len(indices), self.grid.height, self.grid.width, device=self.device)
        for slot, index in enumerate(indices):
            window[:, slot].copy_(self.frames[index])
        self.samples.to_unit_(window)
        grid = self.grid
        for tile_index, (top, left) in enumerate(grid.starts):
            tile = window[:, :, top : top + grid.tile_h, left : left + grid.tile_w]
            self.pending.append(_Unit(k, first, tile_index, tile))

    def _run_batch(self) -> None:
        batch, self.pending = self.pending[: self.blender.batch_size], self.pending[self.blender.batch_size :]
        # N x [3, T, h, w] -> [N, 3, T, h, w] (one unit: a view, no copy)
        units = [unit.video_cthw for unit in batch]
        outputs = self.blender.denoise_units(units[0].unsqueeze(0) if len(units) == 1 else torch.stack(units))
        outputs = outputs.float().to(self.device)
        for unit, output in zip(batch, outputs):
            self._accumulate(unit, output)

    def _accumulate(self, unit: _Unit, output_cthw: torch.Tensor) -> None:
        grid = self.grid
        top, left = grid.starts[unit.tile]
        limit = self.total if self.total is not None else self.decoded
        for offset in range(self.plan.window):
            index = unit.first + offset
            if index >= limit:
                continue  # reflected copies (a video shorter than a window) are context only
            weight_hw = self._unit_weights(offset)
            if index not in self.accum and len(grid.starts) == 1:
                # the only tile covers the frame: its weighted output is the first sum, no zero fill
                # [3, H, W] * [H, W] -> [3, H, W]
                self.accum[index] = torch.mul(output_cthw[:, offset], weight_hw)
                self.weight_sum[index] = weight_hw.clone()
                continue
            if index not in self.accum:
                self.accum[index] = torch.zeros(3, grid.height, grid.width, device=self.device)
                self.weight_sum[index] = torch.zeros(grid.height, grid.width, device=self.device)
            region = (slice(top, top + grid.tile_h), slice(left, left + grid.tile_w))
            # [3, h, w] * [h, w] -> weighted tile added into the full frame (fused, no temporary)
            self.accum[index][(slice(None), *region)].addcmul_(output_cthw[:, offset], weight_hw)
            self.weight_sum[index][region] += weight_hw

    def _unit_weights(self, offset: int) -> torch.Tensor:
        """``[h, w]`` blending weights of frame ``offset`` of a unit (computed once per offset)."""
        if offset not in self.unit_weights:
            self.unit_weights[offset] = (self.time_weights[offset] * self.grid.weight_hw).to(self.device)
        return self.unit_weights[offset]

    def _frontier(self) -> int:
        """Frames below this index will receive no further contribution."""
        if self.windows_done and not self.pending:
            return self.total
        return self.pending[0].first if self.pending else self._next_window_start()

    def _next_window_start(self) -> int:
        """The first frame the next window may use. Until the stream ends it may turn out to be
        the last window, moved back to end on the last frame: no earlier than a window before the
        frames decoded so far."""
        if self.total is not None:
            return self.plan.start(self.next_window, self.total)
        return max(min(self.plan.start(self.next_window), self.decoded - self.plan.window), 0)

    def _emit_up_to(self, frontier: int) -> Iterator[np.ndarray]:
        count = frontier - self.emitted
        if count <= 0:
            return
        ready = torch.empty(count, self.grid.height, self.grid.width, 3, dtype=self.samples.held, device=self.device)
        for slot in ready:
            # [3, H, W] weighted sum / [H, W] summed weights, to whole samples in place
            frame = self.samples.from_unit_(self.accum.pop(self.emitted).div_(self.weight_sum.pop(self.emitted)))
            # [3, H, W] float -> [H, W, 3] as held (the values are whole numbers in its range)
            slot.copy_(frame.permute(1, 2, 0))
            self.emitted += 1
        yield self.samples.to_host(ready)

    def _forget_old_frames(self) -> None:
        # queued windows have cut their frames already; no later window starts before this one
        keep_from = self._next_window_start()
        for index in [i for i in self.frames if i < keep_from]:
            del self.frames[index]
