"""Mirrored margins around each unit, so no output pixel sits on the backbone's zero-padded edge.

A convolution backbone zero-pads every layer, so its outermost pixels see a border of zeros where
the rest of the frame sees picture: they come out barely denoised. With the default unet (a 2x2
pixel-unshuffle stem) the outer two rows and columns of a flat grey field at sigma 25 kept an error
std of 8-9 grey levels against 3.1 inside (``scripts/results/2026-12-03_edge_margin.md``). Every
unit is therefore mirrored outwards by at least ``margin`` pixels on each side before the model
sees it, and cropped back after: a whole number of the stem's pixel blocks before the frame (the
blocks stay the ones the model would see without the margin), and after it as much as makes the
padded size a whole ``spatial_multiple`` (the model's own bottom/right replicate padding then adds
nothing), so it costs at most one multiple per axis: 4% more pixels at 640x272, 3% at 854x480.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: least mirrored pixels on each side of a unit (2: one pixel of the unet's half-resolution top level)
DEFAULT_MARGIN = 2


def margins(size: int, multiple: int, margin: int, phase: int = 1) -> tuple[int, int]:
    """``(before, after)`` padding of an axis of ``size``: at least ``margin`` each side, ``before``
    a multiple of ``phase`` and the total rounded up so ``size + before + after`` is a multiple of
    ``multiple``.

    ``phase`` is the backbone's pixel-unshuffle stem: padding an odd number of pixels before the
    frame would regroup every 2x2 block the stem packs into channels, and the output changes
    everywhere, not only at the edges (camera noise on an 854x480 clip: -0.37 dB with 5 px before,
    +0.02 with 4 px before and 6 after)."""
    if margin <= 0:
        return 0, 0
    multiple, phase = max(multiple, 1), max(phase, 1)
    total = 2 * margin + (-(size + 2 * margin)) % multiple
    # about half before, rounded down to whole stem blocks, never less than the margin
    before = max(total // 2 // phase * phase, -(-margin // phase) * phase)
    while total - before < margin:
        total += multiple
    return before, total - before


@dataclass(frozen=True)
class EdgeMargin:
    """Mirror ``[N, C, T, h, w]`` units outwards before the backbone and crop its output back."""

    margin: int = DEFAULT_MARGIN
    multiple: int = 1
    phase: int = 1

    @classmethod
    def for_model(cls, margin: int, model) -> "EdgeMargin":
        """The margin for ``model``: its ``spatial_multiple`` and its stem's ``patch_size``."""
        patch = getattr(getattr(model, "config", None), "patch_size", 1)
        return cls(margin, int(getattr(model, "spatial_multiple", 1)), int(patch) if isinstance(patch, int) else 1)

    def pad(self, units: torch.Tensor) -> tuple[torch.Tensor, tuple[slice, slice]]:
        """The padded units and the ``(rows, cols)`` slices that crop an output back to ``units``' size."""
        height, width = units.shape[-2:]
        top, bottom = margins(height, self.multiple, self.margin, self.phase)
        left, right = margins(width, self.multiple, self.margin, self.phase)
        if top == bottom == left == right == 0:
            return units, (slice(None), slice(None))
        # reflect needs the pad to be smaller than the side; a tiny frame is replicated instead
        mode = "reflect" if max(top, bottom) < height and max(left, right) < width else "replicate"
        lead = units.shape[:-2]
        # [N, C, T, h, w] -> [N, C*T, h, w] (F.pad's reflect pads the last two axes of a 4-D tensor)
        flat = units.reshape(lead[0], -1, height, width)
        flat = F.pad(flat, (left, right, top, bottom), mode=mode)
        # [N, C*T, h', w'] -> [N, C, T, h', w']
        padded = flat.reshape(*lead, height + top + bottom, width + left + right)
        return padded, (slice(top, top + height), slice(left, left + width))

    @staticmethod
    def crop(output: torch.Tensor, window: tuple[slice, slice]) -> torch.Tensor:
        """``[N, C, T, h', w']`` -> ``[N, C, T, h, w]``: the unit's own pixels."""
        rows, cols = window
        return output[..., rows, cols]
