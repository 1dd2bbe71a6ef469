"""The blind noise level of ``--noise real``: the estimator model, its crops, and the shipped weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stdit_cli.models import NoiseLevelEstimator
from stdit_cli.pipeline.learned_level import LearnedNoiseLevel, blind_level, combine_levels, crop_grid, rms_level
from stdit_cli.pipeline.options import DenoiseOptions
from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise
from stdit_cli.weights import load_noise_estimator


def scene(frames: int = 2, height: int = 192, width: int = 256, seed: int = 0) -> np.ndarray:
    """``[T, H, W, 3]`` uint8: smooth colour gradients with a few soft-edged shapes (a clean picture)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    picture = np.stack([60 + 120 * x, 70 + 100 * y, 150 - 60 * x * y], axis=-1)
    for _ in range(6):
        cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.2)
        inside = 1 / (1 + np.exp((np.hypot(y - cy * height / max(height, width), x - cx) - r) * 80))
        picture += inside[..., None] * rng.uniform(-50, 50, 3)
    return np.repeat(np.clip(picture, 0, 255).round().astype(np.uint8)[None], frames, axis=0)


def test_crop_grid_spreads_square_crops_over_each_frame():
    frames = np.zeros((2, 200, 300, 3), np.uint8)
    crops = crop_grid(frames, crop=64, per_frame=48)
    assert crops.shape == (2 * 3 * 4, 64, 64, 3)  # 3 rows x 4 columns per frame
    assert crop_grid(frames, crop=64, per_frame=5).shape == (10, 64, 64, 3)
    assert crop_grid(np.zeros((1, 31, 45, 3), np.uint8), crop=64).shape == (1, 30, 30, 3)  # small frames: one even crop
    with pytest.raises(ValueError, match="too small"):
        crop_grid(np.zeros((1, 6, 40, 3), np.uint8))


def test_combined_level_is_the_rms_without_the_outliers():
    assert combine_levels(np.array([3.0] * 18 + [60.0, 0.0])) == pytest.approx(3.0)
    assert combine_levels(np.array([3.0, 4.0])) == pytest.approx(math.sqrt(12.5))


def test_blind_reading_takes_the_lower_agreeing_level_and_camera_noise_the_learned_one():
    assert blind_level(learned=15.7, white=10.1) == 10.1  # white noise on fine text: patch PCA is exact
    assert blind_level(learned=19.6, white=24.7) == 19.6  # compressed white noise: the RMS left, not the sigma added
    assert blind_level(learned=2.4, white=0.3) == 2.4  # camera noise: patch PCA sees a fraction of it
    assert blind_level(learned=30.0, white=1.0) == 30.0  # heavy camera noise: as read, not raised
    assert blind_level(learned=30.0, white=25.0) == 25.0  # heavy white noise: patch PCA, never raised


def test_weights_trained_on_the_noise_rms_run_at_the_learned_level_whatever_patch_pca_reads():
    # phone noise at night on gravel: patch PCA reads the texture (8.4 at every light level), the
    # learned estimator the noise (13.9); the smaller of the two held the noise down by 0.8 dB
    assert rms_level(learned=13.9, white=8.4) == 13.9
    assert blind_level(learned=13.9, white=8.4) == 8.4
    assert rms_level(learned=2.4, white=0.3) == 2.4


def test_estimator_shapes_floor_and_round_trip(tmp_path):
    torch.manual_seed(0)
    model = NoiseLevelEstimator(channels=8, depth=2, min_sigma_255=0.5)
    out = model(torch.rand(3, 3, 32, 48) * 2 - 1)
    assert out.log_sigma.shape == (3,)
    assert (out.log_sigma >= math.log(0.5)).all()
    with pytest.raises(ValueError, match="even"):
        model(torch.zeros(1, 3, 31, 32))
    model.save_pretrained(str(tmp_path), safe_serialization=True)
    loaded = load_noise_estimator(tmp_path)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(loaded(x).log_sigma, model(x).log_sigma)


def test_noise_mode_follows_what_the_user_gave():
    assert DenoiseOptions().resolve_noise(real_ships=True) == "real"
    assert DenoiseOptions(sigma_255=25).resolve_noise(real_ships=True) == "gaussian"  # a number: added white noise
    assert DenoiseOptions(fast=True).resolve_noise(real_ships=True) == "real"  # --fast reads the noise too
    assert DenoiseOptions().resolve_noise(real_ships=False) == "gaussian"
    assert DenoiseOptions(noise="real", sigma_255=6).resolve_noise(real_ships=True) == "real"
    assert DenoiseOptions(noise="gaussian").resolve_noise(real_ships=True) == "gaussian"
    with pytest.raises(ValueError, match="noise must be one of"):
        DenoiseOptions(noise="film")


@pytest.mark.parametrize("sigma", [5.0, 15.0, 40.0])
def test_shipped_estimator_reads_white_noise(sigma):
    clean = scene()
    rng = np.random.default_rng(int(sigma))
    noisy = np.clip(np.round(clean + rng.standard_normal(clean.shape) * sigma), 0, 255).astype(np.uint8)
    rms = np.sqrt(np.mean((noisy.astype(np.float64) - clean) ** 2))
    assert LearnedNoiseLevel.shipped().estimate(noisy) == pytest.approx(rms, rel=0.25)


@pytest.mark.parametrize("shot", [5e-4, 4e-3])
def test_shipped_estimator_reads_camera_noise_that_patch_statistics_miss(shot):
    from stdit_cli.pipeline.noise_level import estimate_sigma_255

    clean = scene()
    camera = CameraNoise(shot=shot, read=shot**2 * 2, red_gain=2.0, blue_gain=1.7,
                         ccm=np.array([[1.6, -0.5, -0.1], [-0.2, 1.5, -0.3], [0.0, -0.6, 1.6]]))  # fmt: skip
    estimator = LearnedNoiseLevel.shipped()
    raw = add_camera_noise(clean, np.random.default_rng(1), camera)
    raw_rms = np.sqrt(np.mean((raw.astype(np.float64) - clean) ** 2))
    assert estimator.estimate(raw) == pytest.approx(raw_rms, rel=0.25)
    assert estimate_sigma_255(raw) < 0.3 * raw_rms  # patch PCA sees a fraction of it
    # noise reduced in camera and JPEG-compressed: read low (a known limit, README), still far above patch PCA
    processed = add_camera_noise(clean, np.random.default_rng(1), camera, jpeg_quality=(85, 85), noise_blur=1.0)
    rms = np.sqrt(np.mean((processed.astype(np.float64) - clean) ** 2))
    learned = estimator.estimate(processed)
    assert 0.5 * rms < learned < 1.2 * rms
    assert learned > 3 * estimate_sigma_255(processed)


def test_shipped_estimator_reads_clean_footage_as_almost_no_noise():
    assert LearnedNoiseLevel.shipped().estimate(scene()) < 2.0


def _constant_estimator(folder, level_bias: float) -> None:
    """A saved estimator that reads every crop as ``0.5 * exp(softplus(level_bias))``."""
    model = NoiseLevelEstimator(channels=8, depth=2, min_sigma_255=0.5)
    with torch.no_grad():
        model.head[-1].weight.zero_()
        model.head[-1].bias.fill_(level_bias)
    model.save_pretrained(str(folder), safe_serialization=True)


def test_weights_trained_on_an_estimators_levels_read_with_that_estimator(tmp_path, identity_checkpoint):
    # black-and-white weights learn what each level their estimator read stands for (stdit train
    # --camera-gray-level learned): they carry it in level-estimator/ and read videos with it, while
    # the shipped estimator reads the same opening for the other weights, each kept apart
    import shutil

    from conftest import make_video

    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.opening import open_video
    from stdit_cli.weights import LEVEL_ESTIMATOR, load_checkpoint

    paired = tmp_path / "paired"
    shutil.copytree(identity_checkpoint, paired)
    _constant_estimator(paired / LEVEL_ESTIMATOR, level_bias=3.0)
    expected = 0.5 * math.exp(math.log1p(math.exp(3.0)))  # 10.54
    clip = make_video(tmp_path / "clip.mp4", frames=4, size="128x128", lossless=True)
    own = VideoDenoiser(load_checkpoint(paired), DenoiseOptions(noise="real"))
    shipped = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(noise="real"))
    assert own.learned_level.source == str(paired / LEVEL_ESTIMATOR)
    opening = open_video(clip, read_level=True)
    with opening.reader:
        assert own.learned_of(opening) == pytest.approx(expected, rel=1e-4)
        assert shipped.learned_of(opening) != pytest.approx(expected, rel=0.05)  # the shipped estimator reads the grain
        assert own.learned_of(opening) == pytest.approx(expected, rel=1e-4)  # each reading kept under its estimator
    assert len(opening.learned) == 2
    # the level each runs at: the paired weights were labelled with blind readings (the lower of two
    # agreeing levels), the others with the noise's RMS, which the learned level estimates
    assert own.level_rule is blind_level and shipped.level_rule is rms_level
    assert own._level(white=8.0, binned=16.0, chroma_subsampled=False, learned=lambda: expected) == 8.0
    assert shipped._level(white=8.0, binned=16.0, chroma_subsampled=False, learned=lambda: expected) == expected
