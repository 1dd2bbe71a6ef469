"""Noise level ↔ diffusion timestep, and the DDIM/DDPM loop that denoises from there.

A noisy video ``y = x + sigma * n`` (``[-1, 1]`` scale) is a diffusion state: with
``abar = alphas_cumprod[t]``, ``x_t = sqrt(abar) * x + sqrt(1 - abar) * n``, so
``x_t / sqrt(abar) = x + nsr(t) * n`` where ``nsr(t) = sqrt(1 - abar) / sqrt(abar)``.
Denoising starts at the step ``t_start`` whose ``nsr`` matches ``sigma``, sets
``x_t_start = sqrt(abar_t_start) * y`` and steps down to 0 with diffusers' schedulers.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np
import torch
from diffusers.schedulers.scheduling_ddim import DDIMScheduler, DDIMSchedulerOutput
from diffusers.schedulers.scheduling_ddpm import DDPMScheduler

#: The noise schedule every checkpoint of this project is trained with (stored with it as
#: ``scheduler_config.json``; a checkpoint may carry another one and the sampler follows it).
DEFAULT_SCHEDULE: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_schedule": "linear",
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "prediction_type": "epsilon",
    "clip_sample": False,
}

SCHEDULER_KINDS = ("ddim", "ddpm")

#: ``eps_predictor(x_t [B, C, T, H, W], timestep [B]) -> model output [B, C, T, H, W]``
EpsPredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def scheduler_from_config(scheduler_class: type, config: dict[str, Any], **overrides: Any):
    """``scheduler_class`` built from the config keys its constructor takes (plus ``overrides``).

    Not ``SchedulerMixin.from_config``: that looks up every "compatible" scheduler class on the
    diffusers package, importing some twenty scheduler modules (and SciPy), seconds of start-up,
    to decide which unknown keys to warn about.
    """
    accepted = inspect.signature(scheduler_class.__init__).parameters
    return scheduler_class(**{k: v for k, v in config.items() if k in accepted}, **overrides)


def sigma_255_to_unit(sigma_255: float) -> float:
    """Noise standard deviation on the 0..255 scale → on the ``[-1, 1]`` scale."""
    return 2.0 * sigma_255 / 255.0


def noise_to_signal(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """``sqrt(1 - abar) / sqrt(abar)`` per training timestep."""
    return torch.sqrt(1.0 - alphas_cumprod) / torch.sqrt(alphas_cumprod)


def start_timestep(alphas_cumprod: torch.Tensor, sigma_unit: float) -> int:
    """The training timestep whose noise-to-signal ratio is closest to ``sigma_unit`` (in log scale)."""
    if sigma_unit <= 0:
        return 0
    nsr = noise_to_signal(alphas_cumprod.double())
    return int(torch.argmin(torch.abs(torch.log(nsr) - math.log(sigma_unit))))


def sampling_timesteps(t_start: int, steps: int) -> list[int]:
    """``steps`` descending timesteps from ``t_start`` (inclusive) towards 0, evenly spaced and distinct.

    The last one is ``round(t_start / steps)``; the step after it lands on the clean signal.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    grid = np.round(np.linspace(t_start, 0, steps + 1)[:-1]).astype(np.int64)
    return [int(t) for t in sorted(set(grid.tolist()), reverse=True)]


class SubsequenceDDIMScheduler(DDIMScheduler):
    """diffusers' DDIM update over an explicit descending sub-sequence of training timesteps.

    ``DDIMScheduler.step`` moves from ``t`` to ``t - num_train_timesteps // num_inference_steps``,
    one fixed stride over the whole schedule, which cannot start at an arbitrary ``t_start``.
    DDIM itself is defined on any sub-sequence (Song et al. 2021, sec. 4.2), so this class leaves
    the update untouched and re-indexes ``alphas_cumprod`` to the visited timesteps with stride 1:
    index ``i`` holds ``abar`` of the ``i``-th smallest visited timestep and index ``-1`` is the
    clean signal (``final_alpha_cumprod``, 1 with ``set_alpha_to_one``).
    """

    def set_subsequence(self, timesteps: list[int]) -> None:
        """Visit ``timesteps`` (descending); then :meth:`step` takes those timesteps."""
        if not hasattr(self, "train_alphas_cumprod"):
            self.train_alphas_cumprod = self.alphas_cumprod.clone()
        ascending = sorted(timesteps)
        self.alphas_cumprod = self.train_alphas_cumprod[ascending]
        self.num_inference_steps = self.config.num_train_timesteps  # stride 1 over the re-indexed table
        self.timesteps = torch.tensor(timesteps, dtype=torch.int64)
        self._table_index = {t: i for i, t in enumerate(ascending)}

    def step(self, model_output, timestep, sample, eta: float = 0.0, *args, **kwargs):
        """DDIM step from ``timestep`` (a visited training timestep) to the next visited one."""
        index = self._table_index[int(timestep)]
        if index == 0 and self._lands_on_clean_signal(eta) and kwargs.get("return_dict", True):
            x0 = self._clean_estimate(model_output, float(self.alphas_cumprod[0]), sample)
            return DDIMSchedulerOutput(prev_sample=x0, pred_original_sample=x0)
        return super().step(model_output, index, sample, eta, *args, **kwargs)

    def _lands_on_clean_signal(self, eta: float) -> bool:
        """Whether the last step's update is exactly the model's estimate of x0: deterministic,
        to ``abar = 1``, with x0 neither clipped nor thresholded."""
        plain = not (self.config.clip_sample or self.config.thresholding)
        return eta == 0 and self.final_alpha_cumprod == 1.0 and plain and self.config.prediction_type in _X0_FROM

    def _clean_estimate(self, model_output: torch.Tensor, abar: float, sample: torch.Tensor) -> torch.Tensor:
        """x0 from the model output at ``abar``, in one new tensor. diffusers' step gives the same
        value (plus ``0 * eps`` and ``1 * x0``) through seven full-size temporaries, a fifth of the
        non-model time per frame at 854x480 on a CPU."""
        return _X0_FROM[self.config.prediction_type](model_output, sample, math.sqrt(abar), math.sqrt(1.0 - abar))


#: x0 from (model output, x_t, sqrt(abar), sqrt(1 - abar)) per ``prediction_type`` (DDIM eq. 12)
_X0_FROM: dict[str, Callable[[torch.Tensor, torch.Tensor, float, float], torch.Tensor]] = {
    # (x_t - sqrt(1 - abar) * eps) / sqrt(abar)
    "epsilon": lambda eps, x_t, a, b: torch.sub(x_t, eps, alpha=b).div_(a),
    # sqrt(abar) * x_t - sqrt(1 - abar) * v
    "v_prediction": lambda v, x_t, a, b: torch.mul(x_t, a).sub_(v, alpha=b),
    "sample": lambda x0, x_t, a, b: x0,
}


class DiffusionSampler:
    """Denoise ``y = x + sigma * n`` by running the reverse diffusion from ``t_start``.

    Args:
        schedule: the checkpoint's scheduler config (``DEFAULT_SCHEDULE`` keys).
        kind: ``"ddim"`` (deterministic for ``eta=0``) or ``"ddpm"`` (ancestral, stochastic).
        steps: number of model evaluations; 1 is the model's one-shot estimate of ``x``.
        eta: DDIM noise weight (0 = deterministic); ignored by DDPM.
    """

    def __init__(self, schedule: dict[str, Any] | None = None, kind: str = "ddim", steps: int = 1, eta: float = 0.0):
        if kind not in SCHEDULER_KINDS:
            raise ValueError(f"scheduler must be one of {SCHEDULER_KINDS}, got {kind!r}")
        self.schedule = dict(DEFAULT_SCHEDULE if schedule is None else schedule)
        self.kind = kind
        self.steps = steps
        self.eta = eta
        self.alphas_cumprod = scheduler_from_config(DDPMScheduler, self.schedule).alphas_cumprod
        self._schedulers: dict[tuple[int, ...], Any] = {}

    def start_timestep(self, sigma_255: float) -> int:
        """``t_start`` for a noise level on the 0..255 scale."""
        return start_timestep(self.alphas_cumprod, sigma_255_to_unit(sigma_255))

    def timesteps(self, sigma_255: float) -> list[int]:
        """The timesteps the model is evaluated at for this noise level."""
        return sampling_timesteps(self.start_timestep(sigma_255), self.steps)

    def _scheduler(self, timesteps: list[int]):
        key = tuple(timesteps)
        if key not in self._schedulers:
            if self.kind == "ddim":
                scheduler = scheduler_from_config(SubsequenceDDIMScheduler, self.schedule, set_alpha_to_one=True)
                scheduler.set_subsequence(timesteps)
            else:
                scheduler = scheduler_from_config(DDPMScheduler, self.schedule)
                scheduler.set_timesteps(timesteps=timesteps)
            self._schedulers[key] = scheduler
        return self._schedulers[key]

    @torch.no_grad()
    def denoise(
        self,
        predict: EpsPredictor,
        y_unit: torch.Tensor,
        sigma_255: float,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Estimate the clean ``x`` from ``y_unit`` (``[B, C, T, H, W]``, ``[-1, 1]`` scale)."""
        timesteps = self.timesteps(sigma_255)
        scheduler = self._scheduler(timesteps)
        abar_start = float(self.alphas_cumprod[timesteps[0]])
        sample = math.sqrt(abar_start) * y_unit.float()
        step_kwargs: dict[str, Any] = {"generator": generator}
        if self.kind == "ddim":
            step_kwargs["eta"] = self.eta
        for t in timesteps:
            t_batch = torch.full((sample.shape[0],), t, device=sample.device, dtype=torch.int64)
            # [B, C, T, H, W], float32 and contiguous: backbones may return a permuted view (the unet
            # does), and elementwise updates on mismatched strides run several times slower
            model_output = predict(sample, t_batch).to(torch.float32, memory_format=torch.contiguous_format)
            sample = scheduler.step(model_output, t, sample, **step_kwargs).prev_sample
        return sample
