"""The training objective: real 8-bit noise at a chosen level, mapped to a diffusion state.

For a clean clip ``x`` and a noise level ``sigma_255`` the noisy clip is what an 8-bit file
holds, ``y = clip(round(x_255 + sigma_255 * n)) `` back on ``[-1, 1]``. The sampler starts at
``t = start_timestep(sigma)`` from ``x_t = sqrt(abar_t) * y`` (see ``stdit_cli.pipeline.sampler``), so the
model is trained on exactly that state. Its target is the epsilon (or v) that maps ``x_t`` back
to ``x`` under the schedule, so one DDIM step from ``t`` recovers ``x`` for a perfect model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from stdit_cli.pipeline.sampler import noise_to_signal

#: noise levels users denoise, on the 0..255 scale
SIGMA_RANGE_255 = (1.0, 75.0)


@dataclass
class NoisyClips:
    """Clips of a batch noised outside :func:`make_training_pair` (e.g. camera noise)."""

    picked: torch.Tensor  # [B] bool: which clips of the batch these replace
    y: torch.Tensor  # [B, C, T, H, W] in [-1, 1], the noisy clips (anything where not picked)
    sigma_255: torch.Tensor  # [B] their noise level: the RMS of noisy - clean on 0..255
    # [B, C, T, H, W] in [-1, 1]: the whole batch's clean clips with the picked ones' own targets
    # (a sharpened clip's sharpened clean frames), or None: the batch's clean clips are the targets
    clean: torch.Tensor | None = None


@dataclass
class TrainingPair:
    x_t: torch.Tensor  # [B, C, T, H, W] model input
    timestep: torch.Tensor  # [B] int64
    target: torch.Tensor  # [B, C, T, H, W] epsilon or v
    sigma_255: torch.Tensor  # [B]


def sample_sigma_255(batch: int, generator: torch.Generator, low: float = SIGMA_RANGE_255[0], high: float = SIGMA_RANGE_255[1]) -> torch.Tensor:
    """Noise levels, half log-uniform over ``[low, high]`` (dense at low noise), half uniform.

    Drawn on the generator's device."""
    u = torch.rand(batch, generator=generator, device=generator.device)
    # Python scalars, not host tensors: copying one to a GPU would wait for the queued work
    log_uniform = torch.exp(math.log(low) + u * math.log(high / low))
    uniform = low + u * (high - low)
    pick_log = torch.rand(batch, generator=generator, device=generator.device) < 0.5
    return torch.where(pick_log, log_uniform, uniform)


def sigma_loss_weight(sigma_255: torch.Tensor, power: float) -> torch.Tensor:
    """Per-clip loss weight ``(sigma_255 / 25) ** power`` (all ones at ``power=0``).

    The epsilon loss is the clean-clip error divided by sigma²: at sigma 50 a clip's error counts
    25 times less than the same error at sigma 10. In PSNR terms (relative error) that still
    under-weights high noise, whose attainable error grows more slowly than sigma² (on Vid4 the
    shipped unet's error grows about 9.5x from sigma 10 to 50, not 25x); ``power`` between 0 and
    about 0.6 moves the training effort towards high noise.
    """
    return (sigma_255 / 25.0) ** power


def timesteps_for_sigmas(alphas_cumprod: torch.Tensor, sigma_unit: torch.Tensor) -> torch.Tensor:
    """Vectorised ``start_timestep``: nearest training step in log noise-to-signal ratio."""
    log_nsr = torch.log(noise_to_signal(alphas_cumprod.double()))  # [K]
    distance = (log_nsr[None, :] - torch.log(sigma_unit.double())[:, None]).abs()  # [B, K]
    return distance.argmin(dim=1)


def make_training_pair(
    x_clean: torch.Tensor,
    alphas_cumprod: torch.Tensor,
    generator: torch.Generator,
    prediction_type: str = "epsilon",
    sigma_255: torch.Tensor | None = None,
    noisy: NoisyClips | None = None,
) -> TrainingPair:
    """Noise ``x_clean`` (``[B, C, T, H, W]`` in ``[-1, 1]``) like an 8-bit file and build the target.

    ``x_clean``, ``alphas_cumprod`` and ``generator`` share a device (on a GPU the noise is drawn there).
    ``noisy``: clips already noised another way (camera noise, :mod:`stdit_cli.train.camera_noise`);
    they replace the white-noise version of the clips it picks, at their measured noise level, and
    its ``clean`` (when set) replaces ``x_clean`` as what the model should recover.
    """
    batch = x_clean.shape[0]
    if sigma_255 is None:
        sigma_255 = sample_sigma_255(batch, generator)
    noise = torch.randn(x_clean.shape, generator=generator, device=x_clean.device)
    sigma_b = sigma_255.view(-1, 1, 1, 1, 1)
    # noisy 8-bit file: add, clip, round on 0..255, back to [-1, 1]
    y_255 = torch.clamp(torch.round((x_clean + 1.0) * 127.5 + sigma_b * noise), 0, 255)
    y = y_255 / 127.5 - 1.0
    if noisy is not None:
        picked = noisy.picked.to(x_clean.device)
        y = torch.where(picked.view(-1, 1, 1, 1, 1), noisy.y.to(x_clean.device), y)
        sigma_255 = torch.where(picked, noisy.sigma_255.to(sigma_255), sigma_255)
        if noisy.clean is not None:
            x_clean = torch.where(picked.view(-1, 1, 1, 1, 1), noisy.clean.to(x_clean), x_clean)
    timestep = timesteps_for_sigmas(alphas_cumprod, 2.0 * sigma_255 / 255.0)
    abar = alphas_cumprod[timestep].float().view(-1, 1, 1, 1, 1)
    x_t = abar.sqrt() * y
    epsilon = (x_t - abar.sqrt() * x_clean) / (1.0 - abar).sqrt()
    if prediction_type == "epsilon":
        target = epsilon
    elif prediction_type == "v_prediction":
        target = abar.sqrt() * epsilon - (1.0 - abar).sqrt() * x_clean
    else:
        raise ValueError(f"prediction_type must be 'epsilon' or 'v_prediction', got {prediction_type!r}")
    return TrainingPair(x_t=x_t, timestep=timestep, target=target, sigma_255=sigma_255)
