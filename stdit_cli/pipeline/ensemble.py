"""``--ensemble``: a self-ensemble over the symmetries of the square (flips and transposes of H, W).

The backbones are not exactly equivariant to flipping or transposing a frame, so the same window
seen mirrored or transposed gives an estimate whose errors sit elsewhere; the mean of the views,
each mapped back, is a better estimate (EDSR's "+" models, DRUNet's x8). Reversing time was
measured too and adds nothing (Vid4, shipped unet: +0.006 dB), so the views are the eight
symmetries of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

#: ``predict(sample [B, C, T, H, W], timestep [B]) -> model output [B, C, T, H, W]``
Predictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class View:
    """One symmetry of a ``[B, C, T, H, W]`` window: flip H and/or W, then optionally swap H and W."""

    flip: tuple[int, ...] = ()  # axes to flip: 3 (H) and/or 4 (W)
    transpose: bool = False

    def apply(self, video: torch.Tensor) -> torch.Tensor:
        video = video.flip(self.flip) if self.flip else video
        # [B, C, T, H, W] -> [B, C, T, W, H]
        return video.transpose(3, 4) if self.transpose else video

    def undo(self, video: torch.Tensor) -> torch.Tensor:
        # [B, C, T, W, H] -> [B, C, T, H, W]
        video = video.transpose(3, 4) if self.transpose else video
        return video.flip(self.flip) if self.flip else video


#: in the order views join, so that each size is a group of symmetries: 2 = + transposed;
#: 4 = + rotated 180 degrees, + anti-transposed; 8 = + mirrored left-right, upside down, and rotated
#: 90 degrees both ways
ENSEMBLE_VIEWS: tuple[View, ...] = (
    View(),
    View(transpose=True),
    View(flip=(3, 4)),
    View(flip=(3, 4), transpose=True),
    View(flip=(4,)),
    View(flip=(3,)),
    View(flip=(4,), transpose=True),
    View(flip=(3,), transpose=True),
)
ENSEMBLE_SIZES = (1, 2, 4, 8)


def check_ensemble_size(size: int) -> None:
    if size not in ENSEMBLE_SIZES:
        raise ValueError(f"ensemble size must be one of {ENSEMBLE_SIZES}, got {size}")


def self_ensemble(predict: Predictor, size: int) -> Predictor:
    """``predict`` averaged over the first ``size`` of ``ENSEMBLE_VIEWS``: ``size`` times the model time."""
    check_ensemble_size(size)
    if size == 1:
        return predict
    views = ENSEMBLE_VIEWS[:size]

    def averaged(sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        total = None
        for view in views:
            output = view.undo(predict(view.apply(sample), timestep))
            total = output.float() if total is None else total.add_(output)
        return total.div_(size)

    return averaged
