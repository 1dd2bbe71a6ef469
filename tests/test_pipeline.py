"""The denoising pipeline on real files: sigma estimation, precision guard, weights resolution."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from conftest import make_video
from stdit_cli import weights
from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
from stdit_cli.video import VideoReader
from stdit_cli.weights import CheckpointError, load_checkpoint, resolve_checkpoint


def _frames(path):
    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


def test_auto_sigma_is_estimated_and_reported(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=4, size="64x48")
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(lossless=True))
    result = denoiser.denoise_file(clip, tmp_path / "out.mkv")
    assert result.sigma_estimated and result.sigma > 1
    assert result.t_start == denoiser.sampler.start_timestep(result.sigma)
    assert result.frames == 4 and (result.width, result.height) == (64, 48)


def test_non_finite_reduced_precision_is_rerun_in_fp32(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=3)
    checkpoint = load_checkpoint(identity_checkpoint)
    plain = checkpoint.adapter

    def nan_under_autocast(output, batch, frames):
        sample = plain.to_canonical(output, batch, frames)
        return sample * float("nan") if torch.is_autocast_enabled("cpu") else sample

    checkpoint.adapter = dataclasses.replace(plain, to_canonical=nan_under_autocast)
    denoiser = VideoDenoiser(checkpoint, DenoiseOptions(precision="bf16", sigma_255=10, lossless=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        denoiser.denoise_file(clip, tmp_path / "out.mkv")
    assert sum("re-running" in str(w.message) for w in caught) == 1  # warned once per video
    assert np.array_equal(_frames(tmp_path / "out.mkv"), _frames(clip))  # fp32 rerun = identity


def test_missing_weights_message_says_how_to_get_them(monkeypatch):
    monkeypatch.setattr(weights, "shipped_checkpoint_dir", lambda name: None)
    with pytest.raises(CheckpointError, match=r"stdit train --model segdit"):
        resolve_checkpoint("segdit", None)


def test_bare_safetensors_file_with_config_beside_it(identity_checkpoint):
    checkpoint = load_checkpoint(identity_checkpoint / "diffusion_pytorch_model.safetensors", "unet")
    assert checkpoint.adapter.name == "unet" and checkpoint.schedule["num_train_timesteps"] == 1000
