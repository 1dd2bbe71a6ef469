"""Camera noise's coarse colour band, denoised at half size.

Phone and camera noise is not only fine grain. A phone's processing leaves colour noise as
blotches several pixels wide (its chroma noise reduction and 4:2:0 video keep the low frequencies).
The backbones see a window of the frame at its own resolution and take out fine grain well, but
leave part of those blotches, which to them look like texture. The same network run on the frames
area-downscaled 2x sees each blotch at half its width, as the finer noise it removes (the classical
multi-scale argument: Lebrun, Colom and Morel, "Multiscale image blind denoising", IEEE TIP 2015).

So on the real-noise path, where the level read is at least :data:`COARSE_FROM_LEVEL` (``--fast``
too: its weights leave more of the blotches), the video is denoised twice, at full and at half size
(a quarter of the pixels: about +25% model time), and the output keeps its full-size detail but
takes part of its coarse colour band from the half-size pass:

    out = fine + w * chroma(up(coarse) - up(down(fine)))

``down`` the 2x2 area average, ``up`` bilinear, ``chroma`` the part across gray (luma untouched).
``w`` follows the colour noise the full-size pass removed (its standard deviation across gray,
8-bit levels): 0 up to :data:`CHROMA_FROM`, :data:`CHROMA_SHARE` from :data:`CHROMA_FULL`, linear
between. Weak colour noise (a DSLR's JPEG, whose camera took most of it out) leaves the output as
it was. Measured on the whole real-noise suite, 2026-12-07 (``scripts/results/2026-12-07_coarse_band.md``):
phone-like noise on stills +0.2 to +0.8 dB by level, camera video +0.07, PolyU's real DSLR crops
level; replacing the colour band fully everywhere cost PolyU 0.09 dB on average (-1.03 on its
worst crop), and the luma band too cost camera video 0.1-0.6 dB per clip. Under ``--fast``
(``scripts/results/2026-12-07_fast_coarse_band.md``): phone-like stills +0.53 dB, phone-like video
+0.10, camera video +0.07, PolyU level.

Each output chunk gets its weight from its own frames (noise changes slowly, and a fade from
black gets the pass once there is noise to see). :class:`CoarseBandBlender` runs the two passes in
step over one stream of chunks, with the interface of a
:class:`~stdit_cli.pipeline.tiling.StreamingBlender`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

#: the level run (0..255, the learned RMS) from which the real-noise path runs the half-size pass
COARSE_FROM_LEVEL = 6.0
#: the half-size frames' shorter side must be at least this (a 176x144 phone-call clip runs at 88x72)
MIN_COARSE_SIDE = 32
#: colour noise removed by the full-size pass (std across gray, 8-bit levels): the chroma weight's ramp
CHROMA_FROM, CHROMA_FULL = 2.0, 4.0
#: the chroma weight at the top of its ramp (1: camera video at night lost up to 0.38 dB; 0.5 lost
#: nowhere, 2026-12-07)
CHROMA_SHARE = 0.5


def ramp(value: float, start: float, full: float) -> float:
    """0 up to ``start``, 1 from ``full``, linear between."""
    return float(np.clip((value - start) / (full - start), 0.0, 1.0))


@dataclass(frozen=True)
class BandWeights:
    """How much of the half-size pass's coarse band replaces the full-size pass's, per colour part."""

    luma: float
    chroma: float

    @classmethod
    def from_removed(cls, noisy: np.ndarray, fine: np.ndarray) -> BandWeights:
        """Weights for ``fine``, the full-size output of ``noisy`` (both ``[t, H, W, 3]``, uint8 or
        uint16), from the colour noise the full-size pass removed: its standard deviation across gray,
        in 8-bit levels, over every other row (a frame at a time: bounded memory). The luma part keeps
        the full-size pass's coarse band (replacing it lost 0.1-0.6 dB on camera video)."""
        scale = 255.0 / np.iinfo(noisy.dtype).max  # to 8-bit levels
        total, squares, values = 0.0, 0.0, 0
        for before, after in zip(noisy, fine):
            # [H/2, W, 3] removed noise -> its part across gray
            removed = torch.from_numpy(before[::2]).double() - torch.from_numpy(after[::2]).double()
            chroma = removed - removed.mean(dim=-1, keepdim=True)
            total, squares, values = total + float(chroma.sum()), squares + float((chroma * chroma).sum()), values + chroma.numel()
        chroma_std = np.sqrt(max(squares / values - (total / values) ** 2, 0.0)) * scale
        return cls(luma=0.0, chroma=CHROMA_SHARE * ramp(chroma_std, CHROMA_FROM, CHROMA_FULL))

    @property
    def any(self) -> bool:
        return self.luma > 0 or self.chroma > 0


def half_size(frames: np.ndarray) -> np.ndarray:
    """``[t, H, W, 3]`` uint8/uint16 -> ``[t, H // 2, W // 2, 3]``, the 2x2 area average, rounded
    (an odd last row or column is left out)."""
    # [t, H, W, 3] -> [t, 3, H, W] -> [t, 3, H/2, W/2] -> [t, H/2, W/2, 3]
    small = F.avg_pool2d(torch.from_numpy(frames).float().permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    return small.round_().clamp_(0, np.iinfo(frames.dtype).max).numpy().astype(frames.dtype)


def _up(band: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``[1, 3, h, w]`` -> ``[1, 3, height, width]``: bilinear 2x, an odd last row or column repeated."""
    # [1, 3, h, w] -> [1, 3, 2h, 2w] -> [1, 3, height, width]
    up = F.interpolate(band, scale_factor=2.0, mode="bilinear", align_corners=False)
    return F.pad(up, (0, width - up.shape[-1], 0, height - up.shape[-2]), mode="replicate")


def replace_coarse_band(fine: np.ndarray, coarse: np.ndarray, weights: BandWeights) -> np.ndarray:
    """``fine`` (``[t, H, W, 3]``) with its coarse band taken from ``coarse`` (``[t, H // 2, W // 2, 3]``,
    the half-size pass over the same frames) by ``weights``; the dtype of ``fine``. Frame by frame:
    a 4K chunk in float32 would hold gigabytes."""
    height, width = fine.shape[1:3]
    top = np.iinfo(fine.dtype).max
    # [3] weights along gray (luma) and across it (chroma): w_c * x + (w_l - w_c) * mean(x)
    out = np.empty_like(fine)
    for index in range(len(fine)):
        # [H, W, 3] -> [1, 3, H, W]
        frame = torch.from_numpy(fine[index]).float().permute(2, 0, 1)[None]
        small = torch.from_numpy(coarse[index]).float().permute(2, 0, 1)[None]  # [1, 3, h, w]
        # the coarse band's difference at half size, then up: up(coarse) - up(down(fine)), up being linear
        difference = _up(small - F.avg_pool2d(frame, 2), height, width)  # [1, 3, H, W]
        luma = difference.mean(dim=1, keepdim=True)  # [1, 1, H, W]
        fused = frame + weights.chroma * (difference - luma) + weights.luma * luma
        # [1, 3, H, W] -> [H, W, 3]
        out[index] = fused[0].permute(1, 2, 0).round_().clamp_(0, top).numpy().astype(fine.dtype)
    return out


class CoarseBandBlender:
    """A full-size and a half-size blender run in step over one stream of chunks; each output chunk
    the full-size one's with its coarse band replaced (:func:`replace_coarse_band`), by weights read
    from that chunk (:meth:`BandWeights.from_removed`). ``run`` as
    :meth:`~stdit_cli.pipeline.tiling.StreamingBlender.run`."""

    def __init__(self, fine, coarse, weights_of: Callable[[np.ndarray, np.ndarray], BandWeights] = BandWeights.from_removed):
        self.fine = fine  # StreamingBlender on the frames
        self.coarse = coarse  # StreamingBlender on them at half size (its own level)
        self.weights_of = weights_of

    def run(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Consume ``[t, H, W, 3]`` chunks, yield denoised chunks of the same dtype in order."""
        # one stream read by three: the two passes and the frames each output chunk is weighed on
        # (itertools.tee holds what one has read and the others not yet: the passes' lookahead)
        for_fine, for_coarse, for_weights = itertools.tee(chunks, 3)
        coarse_chunks = self.coarse.run(half_size(chunk) for chunk in for_coarse)
        coarse_frames = _Frames(lambda: next(coarse_chunks))
        input_frames = _Frames(lambda: next(for_weights))
        for fine in self.fine.run(for_fine):
            if not len(fine):
                continue
            noisy, coarse = input_frames.take(len(fine)), coarse_frames.take(len(fine))
            weights = self.weights_of(noisy, fine)
            yield replace_coarse_band(fine, coarse, weights) if weights.any else fine


class _Frames:
    """Frames from a stream of chunks (``next_chunk()``: the next ``[t, H, W, 3]`` chunk), taken
    ``count`` at a time whatever the chunks' lengths."""

    def __init__(self, next_chunk: Callable[[], np.ndarray]):
        self.next_chunk = next_chunk
        self.held: list[np.ndarray] = []
        self.count = 0

    def take(self, count: int) -> np.ndarray:
        """The next ``count`` frames, ``[count, H, W, 3]``."""
        while self.count < count:
            chunk = self.next_chunk()
            self.held.append(chunk)
            self.count += len(chunk)
        joined = np.concatenate(self.held) if len(self.held) > 1 else self.held[0]
        rest = joined[count:]
        self.held, self.count = ([rest] if len(rest) else []), len(rest)
        return joined[:count]
