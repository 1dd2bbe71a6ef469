"""NoiseLevelEstimator: a small CNN that reads the noise level of an image crop, blind.

Real camera noise is signal-dependent, spatially and colour-correlated by demosaicing and the
camera's own noise reduction, then compressed: a high-frequency statistic (the median absolute
wavelet coefficient of ``stdit_cli.pipeline.noise_level``) sees only the small white part of it and
reads 0.3 where the noise's RMS is 4. This network is trained on the same synthetic mix the
real-noise backbone is trained on (white noise, camera noise, JPEG, clean footage) to regress the
quantity that backbone is conditioned on: the RMS of ``noisy - clean`` on the 0..255 scale. The
pipeline turns that level into the sampler's start step, like a ``--sigma`` the user gave.

Layout: ``[N, 3, H, W]`` in ``[-1, 1]`` (H and W even) -> pixel-unshuffle by 2 (each 2x2 Bayer-like
cell in the channels, where demosaicing correlates it) -> ``depth`` 3x3 conv + ReLU layers ->
mean and standard deviation of the features over the crop -> a two-layer head -> ``log_sigma [N]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn


@dataclass
class NoiseLevelOutput(BaseOutput):
    """Output of :class:`NoiseLevelEstimator`: ``log_sigma`` is ``[N]``, the natural log of the
    noise RMS on the 0..255 scale (at least ``log(min_sigma_255)``)."""

    log_sigma: torch.Tensor

    @property
    def sigma_255(self) -> torch.Tensor:
        return self.log_sigma.exp()


class FeatureStack(nn.Module):
    """``depth`` 3x3 convolutions with ReLU, the first from ``in_channels``."""

    def __init__(self, in_channels: int, channels: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = []
        for index in range(depth):
            layers += [nn.Conv2d(in_channels if index == 0 else channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class NoiseLevelEstimator(ModelMixin, ConfigMixin):
    """Blind noise-level regressor: image crops -> the log RMS of their noise on 0..255.

    Args:
        channels: width of the feature convolutions.
        depth: number of 3x3 convolutions (receptive field ``2 * (2 * depth + 1)`` pixels).
        min_sigma_255: the lowest level it reports (clean footage): the training targets are
            clamped to it, so a clean crop reads about this much.
    """

    @register_to_config
    def __init__(self, channels: int = 32, depth: int = 5, min_sigma_255: float = 0.5):
        super().__init__()
        self.features = FeatureStack(12, channels, depth)
        self.head = nn.Sequential(nn.Linear(2 * channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, 1))

    def forward(self, x: torch.Tensor, return_dict: bool = True) -> NoiseLevelOutput | tuple[torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] % 2 or x.shape[3] % 2:
            raise ValueError(f"expected [N, 3, H, W] with even H and W, got {tuple(x.shape)}")
        # [N, 3, H, W] -> [N, 12, H/2, W/2]
        cells = F.pixel_unshuffle(x, 2)
        features = self.features(cells)  # [N, C, H/2, W/2]
        # [N, C, H/2, W/2] -> [N, 2C]: mean and standard deviation over the crop
        pooled = torch.cat([features.mean(dim=(2, 3)), features.std(dim=(2, 3))], dim=1)
        raw = self.head(pooled).squeeze(1)  # [N]
        log_sigma = torch.log(torch.tensor(self.config.min_sigma_255, dtype=raw.dtype, device=raw.device)) + F.softplus(raw)
        if not return_dict:
            return (log_sigma,)
        return NoiseLevelOutput(log_sigma=log_sigma)
