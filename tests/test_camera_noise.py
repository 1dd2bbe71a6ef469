"""Tests for the camera noise model (stdit_cli/train/camera_noise.py)."""

from __future__ import annotations

import numpy as np
import pytest

from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise, demosaic, mosaic

IDENTITY_CCM = np.eye(3)
CAMERA_CCM = np.array([[1.6, -0.5, -0.1], [-0.2, 1.5, -0.3], [0.0, -0.6, 1.6]])  # typical camera RGB -> sRGB


def flat(level: int, frames: int = 2, size: int = 64) -> np.ndarray:
    return np.full((frames, size, size, 3), level, np.uint8)


def residual(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    return noisy.astype(np.float64) - clean


def test_without_noise_a_smooth_colour_comes_back():
    clean = np.zeros((1, 32, 32, 3), np.uint8) + np.array([180, 120, 60], np.uint8)
    camera = CameraNoise(shot=0.0, read=0.0, red_gain=2.1, blue_gain=1.7, ccm=CameraNoise.random(np.random.default_rng(0)).ccm)
    out = add_camera_noise(clean, np.random.default_rng(1), camera)
    assert np.abs(residual(out, clean)).max() <= 1


def test_mosaic_then_demosaic_keeps_a_flat_field():
    rgb = np.zeros((1, 8, 8, 3)) + np.array([0.2, 0.5, 0.7])
    np.testing.assert_allclose(demosaic(mosaic(rgb)), rgb, atol=1e-12)


def test_noise_is_spatially_and_colour_correlated_unlike_white_noise():
    rng = np.random.default_rng(2)
    camera = CameraNoise(shot=4e-3, read=1e-4, red_gain=2.0, blue_gain=1.7, ccm=CAMERA_CCM)
    clean = flat(110, frames=3)
    noise = residual(add_camera_noise(clean, rng, camera), clean)
    horizontal = np.corrcoef(noise[..., :-1, 1].ravel(), noise[..., 1:, 1].ravel())[0, 1]
    red_green = np.corrcoef(noise[..., 0].ravel(), noise[..., 1].ravel())[0, 1]
    assert horizontal > 0.2  # demosaicing spreads each sample over its neighbours
    assert abs(red_green) > 0.1  # and the colour matrix mixes the channels
    white = rng.standard_normal(noise.shape)
    assert abs(np.corrcoef(white[..., :-1, 1].ravel(), white[..., 1:, 1].ravel())[0, 1]) < 0.05


def test_read_noise_is_stronger_in_the_shadows_and_every_frame_is_new():
    camera = CameraNoise(shot=0.0, read=4e-5, red_gain=2.0, blue_gain=1.7, ccm=IDENTITY_CCM)
    rng = np.random.default_rng(3)
    dark, bright = flat(30), flat(200)
    dark_std = residual(add_camera_noise(dark, rng, camera), dark).std()
    bright_std = residual(add_camera_noise(bright, rng, camera), bright).std()
    assert dark_std > 2 * bright_std  # the tone curve and gamma lift the shadows' noise
    noisy = add_camera_noise(flat(120, frames=2), rng, camera)
    assert not np.array_equal(noisy[0], noisy[1])


@pytest.mark.parametrize("seed", range(4))
def test_random_cameras_span_a_range_and_jpeg_smooths_the_finest_noise(seed):
    rng = np.random.default_rng(seed)
    camera = CameraNoise.random(rng)
    assert 1e-4 <= camera.shot <= 1.2e-2 and camera.read > 0
    np.testing.assert_allclose(camera.ccm.sum(axis=1), 1.0)
    clean = flat(100)
    raw = residual(add_camera_noise(clean, np.random.default_rng(10), camera), clean)
    compressed = residual(add_camera_noise(clean, np.random.default_rng(10), camera, jpeg_quality=(30, 30)), clean)
    assert compressed.std() <= raw.std() + 1e-9


def test_odd_sizes_are_refused_with_a_message():
    with pytest.raises(AssertionError, match="even"):
        add_camera_noise(np.zeros((1, 5, 6, 3), np.uint8), np.random.default_rng(0))
