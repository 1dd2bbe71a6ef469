"""Shape checks and spatial padding shared by every backbone.

Every backbone accepts any height and width: it pads the input on the bottom/right edge
(replicate padding, so even a 1x1 frame works) up to its ``spatial_multiple`` and crops the
output back. Shape errors a caller can make raise ``ValueError`` naming what was expected and
what arrived.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def check_shape(name: str, tensor: torch.Tensor, layout: str, expected: Sequence[int | None]) -> None:
    """Raise ``ValueError`` unless ``tensor`` matches ``expected`` (``None`` = any size).

    ``layout`` names the axes for the message, e.g. ``"[B, C, T, H, W]"``.
    """
    shape = tuple(tensor.shape)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        want = ", ".join("*" if e is None else str(e) for e in expected)
        raise ValueError(f"{name}: expected a tensor of layout {layout} = [{want}], got shape {list(shape)}")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the last two axes of ``x`` up to a multiple of ``multiple``.

    Returns the padded tensor and the original ``(H, W)`` for :func:`crop_to`.
    Works for any leading layout (``[N, C, H, W]`` or ``[B, C, T, H, W]``).
    """
    height, width = x.shape[-2:]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (height, width)
    lead = x.shape[:-2]
    # [..., H, W] -> [N, 1, H, W] so replicate padding sees a 4-D tensor whatever the layout
    flat = x.reshape(-1, 1, height, width)
    flat = F.pad(flat, (0, pad_w, 0, pad_h), mode="replicate")
    # [N, 1, H', W'] -> [..., H', W']
    return flat.reshape(*lead, height + pad_h, width + pad_w), (height, width)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop the last two axes of ``x`` back to ``size = (H, W)``."""
    height, width = size
    return x[..., :height, :width]
