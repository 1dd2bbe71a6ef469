"""Content augmentation for training clips: the scales, softness and flat areas users' footage has.

Frames cut from 2x-downscaled DAVIS are dense texture; a model trained only on them never learns
to smooth hard where the picture is flat or soft, and leaves a fixed fraction of the noise there.
:class:`ContentMix` turns a cut clip into one of several kinds of content, drawn per clip:

- **rescaled**: a crop ``s`` times larger, area-downscaled to the crop (``s`` in ``scale_range``),
  so sharp native frames and denser downscaled ones both occur;
- **soft**: Gaussian blur of ``blur_sigma`` pixels, as an out-of-focus lens or an upscaled source;
- **smooth**: a synthetic smooth field (random colour gradients over a coarse grid, moving slowly),
  where the ideal output is known to be flat.

All of it runs on the clip's device with the sampler's generator drawing every number, so a
run stays reproducible and resumable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ContentMix:
    """Share of each kind of content in the training clips.

    Args:
        scale_range: area-downscale factor drawn uniformly in ``[low, high]``; ``(1, 1)`` keeps the
            native scale.
        soft_fraction: share of clips blurred with a Gaussian of ``blur_sigma`` pixels (drawn uniformly).
        smooth_fraction: share of clips replaced by a synthetic smooth moving field.
        blur_sigma: range of the blur's standard deviation in pixels.
    """

    scale_range: tuple[float, float] = (1.0, 1.0)
    soft_fraction: float = 0.0
    smooth_fraction: float = 0.0
    blur_sigma: tuple[float, float] = (0.6, 2.0)

    def __post_init__(self):
        low, high = self.scale_range
        if not 1.0 <= low <= high:
            raise ValueError(f"scale_range must satisfy 1 <= low <= high, got {self.scale_range}")
        for name in ("soft_fraction", "smooth_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")

    @property
    def active(self) -> bool:
        return self.scale_range != (1.0, 1.0) or self.soft_fraction > 0 or self.smooth_fraction > 0

    def source_size(self, crop: int, rng: np.random.Generator) -> int:
        """Side of the square to cut before the downscale to ``crop`` (at least ``crop``)."""
        low, high = self.scale_range
        return crop if high == 1.0 else max(crop, int(round(crop * rng.uniform(low, high))))


def area_resize(clip_uint8: torch.Tensor, crop: int) -> torch.Tensor:
    """``[T, S, S, 3]`` uint8 -> ``[T, crop, crop, 3]`` uint8 by area averaging (no-op when S == crop)."""
    if clip_uint8.shape[1] == crop:
        return clip_uint8
    # [T, S, S, 3] -> [T, 3, S, S] float -> area-resized -> [T, crop, crop, 3] uint8
    frames = clip_uint8.permute(0, 3, 1, 2).float()
    frames = F.interpolate(frames, size=(crop, crop), mode="area")
    return frames.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def gaussian_blur(clip_uint8: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each frame of ``[T, H, W, 3]`` uint8 with a separable Gaussian (reflected borders)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    taps = torch.arange(-radius, radius + 1, device=clip_uint8.device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    # [T, H, W, 3] -> [T*3, 1, H, W]
    t, h, w, c = clip_uint8.shape
    planes = clip_uint8.permute(0, 3, 1, 2).reshape(t * c, 1, h, w).float()
    planes = F.pad(planes, (radius, radius, radius, radius), mode="reflect")
    planes = F.conv2d(planes, kernel.view(1, 1, 1, -1))
    planes = F.conv2d(planes, kernel.view(1, 1, -1, 1))
    # [T*3, 1, H, W] -> [T, H, W, 3]
    return planes.reshape(t, c, h, w).permute(0, 2, 3, 1).round().clamp(0, 255).to(torch.uint8)


def smooth_field(frames: int, crop: int, rng: np.random.Generator, device: torch.device) -> torch.Tensor:
    """A ``[frames, crop, crop, 3]`` uint8 clip of smooth colour: a flat colour, a linear gradient, or a
    bicubic blend of a coarse random grid, drifting by up to a pixel per frame."""
    kind = rng.integers(3)
    grid = 2 if kind < 2 else int(rng.integers(3, 6))
    base = rng.uniform(16, 240, size=3)
    if kind == 0:  # flat
        corners = np.broadcast_to(base, (grid, grid, 3))
    else:  # gradient (kind 1) or smooth blobs (kind 2), each channel within [0, 255]
        corners = base + rng.uniform(-1, 1, size=(grid, grid, 3)) * rng.uniform(10, 90)
    corners = np.clip(corners, 0, 255)
    # [g, g, 3] -> [1, 3, g, g] -> bicubic to a margin-padded canvas  [1, 3, S, S]
    margin = frames
    canvas = torch.as_tensor(np.ascontiguousarray(corners), dtype=torch.float32, device=device).permute(2, 0, 1)[None]
    canvas = F.interpolate(canvas, size=(crop + 2 * margin,) * 2, mode="bicubic", align_corners=True)[0]
    velocity = rng.uniform(-1, 1, size=2)
    out = []
    for i in range(frames):
        dy, dx = (np.round(velocity * i) + margin).astype(int)
        out.append(canvas[:, dy : dy + crop, dx : dx + crop])
    # frames x [3, crop, crop] -> [frames, crop, crop, 3]
    return torch.stack(out).permute(0, 2, 3, 1).round().clamp(0, 255).to(torch.uint8)
