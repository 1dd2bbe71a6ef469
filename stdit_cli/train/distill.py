"""Distillation: a trained backbone's prediction blended into the training target.

Trained on the clean clip alone, a model learns the conditional mean ``E[x | y]`` from targets
that each carry the error no denoiser can remove (the detail the noise destroyed): at sigma 25 most
of every pixel's squared error, and the same share of every gradient's noise. A stronger model's
prediction estimates that same mean with far less spread, so blending it into the target gives the
student the direction to its optimum with less noise per step; the knowledge distillation that
compact denoisers and super-resolution networks are commonly trained with. ``stdit train
--teacher DIR --teacher-weight W`` trains on ``(1 - W) * target + W * teacher``: ``W = 0`` is the
plain objective, ``W = 1`` pure imitation (the student can then at best equal the teacher).

The teacher sees exactly the student's input and timestep, without autograd, in the run's
autocast precision, so it must be trained on the same noise schedule with the same prediction
type and read windows of the same length; :meth:`Teacher.load` checks all three.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from stdit_cli.pipeline.adapters import BackboneAdapter
from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE
from stdit_cli.train.objective import TrainingPair
from stdit_cli.weights import CheckpointError, load_checkpoint

#: the schedule entries a teacher's predictions depend on: they must equal the student's
SCHEDULE_KEYS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type")


@dataclass
class Teacher:
    """A frozen backbone whose prediction joins the training target with weight ``weight``."""

    model: torch.nn.Module
    adapter: BackboneAdapter
    weight: float

    @classmethod
    def load(cls, path: str | Path, weight: float, schedule: dict[str, Any], frames: int, device: torch.device) -> "Teacher":
        """The checkpoint at ``path`` as a teacher for a student trained on ``schedule`` with ``frames``-frame clips."""
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"the teacher's weight must be in [0, 1], got {weight}")
        checkpoint = load_checkpoint(path)
        differing = [key for key in SCHEDULE_KEYS
                     if checkpoint.schedule.get(key, DEFAULT_SCHEDULE.get(key)) != schedule.get(key, DEFAULT_SCHEDULE.get(key))]  # fmt: skip
        if differing:
            raise CheckpointError(f"{path}: the teacher was trained with another noise schedule ({', '.join(differing)} differ)")
        window = getattr(checkpoint.model, "num_frames", None)
        if window is not None and int(window) != frames:
            raise CheckpointError(f"{path}: the teacher reads {int(window)}-frame windows, the run trains on {frames}-frame clips")
        model = checkpoint.adapter.prepare(checkpoint.model).to(device).eval().requires_grad_(False)
        return cls(model=model, adapter=checkpoint.adapter, weight=weight)

    @torch.no_grad()
    def target(self, pair: TrainingPair, autocast: Callable[[], AbstractContextManager]) -> torch.Tensor:
        """``pair.target`` (``[B, C, T, H, W]``) moved a share :attr:`weight` of the way to the teacher's prediction."""
        with autocast():
            # [B, C, T, H, W], the prediction of the same kind as the target (epsilon or v)
            taught = self.adapter.predict(self.model, pair.x_t, pair.timestep)
        return torch.lerp(pair.target, taught.float(), self.weight)
