"""`stdit train --teacher`: a frozen checkpoint's prediction blended into the training target."""

from __future__ import annotations

from contextlib import nullcontext

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler

from stdit_cli.models import UNetSTIC
from stdit_cli.pipeline.adapters import adapter_for
from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE
from stdit_cli.presets import load_preset
from stdit_cli.train.distill import Teacher
from stdit_cli.train.loop import TrainConfig, Trainer
from stdit_cli.train.objective import make_training_pair
from stdit_cli.weights import CheckpointError, save_checkpoint

CPU = torch.device("cpu")


def _tiny_unet(seed: int = 0) -> UNetSTIC:
    torch.manual_seed(seed)
    model = UNetSTIC(**load_preset("unet", "tiny"))
    # the output layer starts at zero (a fresh model predicts nothing): give it weights of its own
    torch.nn.init.normal_(model.conv_out.weight, std=0.1)
    return model.eval()


@pytest.fixture
def teacher_folder(tmp_path):
    return save_checkpoint(_tiny_unet(), tmp_path / "teacher", DEFAULT_SCHEDULE)


def _pair(frames: int = 3):
    generator = torch.Generator().manual_seed(3)
    clean = torch.rand(2, 3, frames, 16, 16, generator=generator) * 2 - 1
    alphas_cumprod = DDPMScheduler.from_config(DEFAULT_SCHEDULE).alphas_cumprod
    return make_training_pair(clean, alphas_cumprod, generator, sigma_255=torch.tensor([10.0, 40.0]))


def test_the_teacher_weight_moves_the_target_from_the_plain_one_to_the_teachers_prediction(teacher_folder):
    pair = _pair()
    with torch.no_grad():
        # [B, C, T, H, W]: what the saved model itself predicts for the pair
        taught = adapter_for("unet").predict(_tiny_unet(), pair.x_t, pair.timestep)
    assert float((taught - pair.target).abs().max()) > 0.1  # the two ends differ
    targets = {w: Teacher.load(teacher_folder, w, DEFAULT_SCHEDULE, 3, CPU).target(pair, nullcontext) for w in (0.0, 0.5, 1.0)}
    assert torch.equal(targets[0.0], pair.target)
    torch.testing.assert_close(targets[1.0], taught, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(targets[0.5], (pair.target + taught) / 2, atol=1e-5, rtol=1e-5)


def test_a_teacher_of_another_schedule_window_or_weight_is_refused(tmp_path, teacher_folder):
    other = save_checkpoint(_tiny_unet(), tmp_path / "v", {**DEFAULT_SCHEDULE, "prediction_type": "v_prediction"})
    with pytest.raises(CheckpointError, match="prediction_type"):
        Teacher.load(other, 0.5, DEFAULT_SCHEDULE, 3, CPU)
    with pytest.raises(CheckpointError, match="3-frame windows"):
        Teacher.load(teacher_folder, 0.5, DEFAULT_SCHEDULE, 5, CPU)
    with pytest.raises(ValueError, match="weight"):
        Teacher.load(teacher_folder, 1.5, DEFAULT_SCHEDULE, 3, CPU)


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "seq" / "clip"
    folder.mkdir(parents=True)
    yy, xx = np.mgrid[0:40, 0:40]
    for t in range(5):
        iio.imwrite(folder / f"{t:05d}.png", np.stack([(xx + 3 * t) * 5 % 256, yy * 6 % 256, (xx * yy) % 256], -1).astype(np.uint8))
    return str(tmp_path / "seq")


def _first_loss(tmp_path, clips, name, **teaching) -> float:
    config = TrainConfig(model="unet", preset="tiny", data=[clips], out=str(tmp_path / name), frames=3, crop=16, batch_size=2,
                         steps=2, warmup=0, seed=5, device="cpu", init_from=str(tmp_path / "teacher"), **teaching)  # fmt: skip
    return float(Trainer(config, log=lambda _: None).train_step())


def test_a_student_taught_fully_by_its_own_weights_starts_with_nothing_to_learn(tmp_path, clips, teacher_folder):
    plain = _first_loss(tmp_path, clips, "plain")
    taught = _first_loss(tmp_path, clips, "taught", teacher=str(teacher_folder), teacher_weight=1.0)
    half = _first_loss(tmp_path, clips, "half", teacher=str(teacher_folder), teacher_weight=0.5)
    # the student starts from the teacher's weights: its training forward pass (autograd) and the
    # teacher's (inference shortcuts) predict the same, so imitating it costs nothing at first
    assert plain > 1e-2 and taught < 1e-8
    # halfway: the error to the midpoint is half of the error to the plain target
    assert half == pytest.approx(plain / 4, rel=1e-3)
