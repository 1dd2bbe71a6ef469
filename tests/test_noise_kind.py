"""``--noise auto`` with no number: white noise reads as white, camera noise does not."""

from __future__ import annotations

import numpy as np
import pytest

from stdit_cli.pipeline.noise_kind import (
    MAX_H264_WHITENESS,
    MAX_WHITENESS,
    MIN_SPREAD,
    SUBSAMPLED_LEVEL_SCALE,
    SUBSAMPLED_WHITENESS_RANGE,
    binned_2x2,
    gaussian_level,
    reads_as_white,
    white_spread,
    whiteness,
)
from stdit_cli.pipeline.noise_level import estimate_sigma_255
from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise, blur_spatially


def _scene(frames: int = 4, size: int = 96) -> np.ndarray:
    """``[T, H, W, 3]`` uint8: smooth colour gradients with a few edges, away from 0 and 255."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    base = np.stack([60 + 120 * x, 70 + 100 * y, 90 + 60 * (x * y > 0.2)], axis=-1)
    return np.repeat(base[None], frames, axis=0).round().astype(np.uint8)


def _levels(frames_uint8: np.ndarray) -> tuple[float, float]:
    return estimate_sigma_255(frames_uint8), estimate_sigma_255(binned_2x2(frames_uint8))


def test_binned_2x2_averages_blocks_and_drops_an_odd_edge():
    frames = np.arange(2 * 5 * 7 * 3, dtype=np.uint8).reshape(2, 5, 7, 3)
    binned = binned_2x2(frames)
    assert binned.shape == (2, 2, 3, 3) and binned.dtype == np.uint8
    expected = frames[:, :4, :6].astype(np.float64).reshape(2, 2, 2, 3, 2, 3).mean(axis=(2, 4))
    assert np.abs(binned - expected).max() <= 0.5


def test_binned_2x2_rounds_half_to_even_like_a_float_mean():
    # random blocks and two exact ties: the integer path must match np.rint of the float mean exactly
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(3, 38, 52, 3), dtype=np.uint8)
    frames[0, :2, :2, 0] = [[0, 1], [0, 1]]  # mean 0.5: rounds down to 0
    frames[0, :2, 2:4, 0] = [[1, 2], [1, 2]]  # mean 1.5: rounds up to 2
    expected = np.rint(frames.astype(np.float64).reshape(3, 19, 2, 26, 2, 3).mean(axis=(2, 4)))
    binned = binned_2x2(frames)
    assert np.array_equal(binned, expected.astype(np.uint8))
    assert binned[0, 0, 0, 0] == 0 and binned[0, 0, 1, 0] == 2


@pytest.mark.parametrize("sigma", [10.0, 25.0])
def test_white_noise_halves_when_binned(sigma):
    rng = np.random.default_rng(1)
    noisy = np.clip(_scene() + rng.normal(0, sigma, _scene().shape), 0, 255).round().astype(np.uint8)
    white, binned = _levels(noisy)
    assert white == pytest.approx(sigma, rel=0.1)
    assert whiteness(white, binned) == pytest.approx(1.0, abs=0.15)
    assert reads_as_white(white, binned, learned=0.9 * sigma)


def test_correlated_noise_keeps_its_level_when_binned():
    # the blotchy noise a camera's noise reduction leaves: white noise blurred by a pixel
    rng = np.random.default_rng(2)
    noise = blur_spatially(rng.normal(0, 25, _scene().shape), 1.0)
    noisy = np.clip(_scene() + noise, 0, 255).round().astype(np.uint8)
    white, binned = _levels(noisy)
    assert whiteness(white, binned) > MAX_WHITENESS
    # patch PCA reads a part of it, as of camera noise: not white, even where it reads all of the level
    # there is: far more correlated than an encode leaves white noise
    assert not reads_as_white(white, binned, learned=1.3 * white)
    assert whiteness(white, binned) > MAX_H264_WHITENESS
    assert not reads_as_white(white, binned, learned=0.85 * white)
    # correlated as H.264 leaves white noise (blurred 0.6 px: whiteness 2.6), patch PCA reading all of it: white
    light = np.clip(_scene() + blur_spatially(rng.normal(0, 25, _scene().shape), 0.6), 0, 255).round().astype(np.uint8)
    white, binned = _levels(light)
    assert MAX_WHITENESS < whiteness(white, binned) <= MAX_H264_WHITENESS
    assert reads_as_white(white, binned, learned=0.85 * white)
    assert not reads_as_white(white, binned, learned=1.3 * white)


def test_camera_noise_reads_as_camera_noise():
    camera = CameraNoise(shot=8e-3, read=1e-5, red_gain=2.0, blue_gain=1.7, ccm=np.array([[1.5, -0.3, -0.2], [-0.2, 1.4, -0.2], [-0.1, -0.4, 1.5]]))
    noisy = add_camera_noise(_scene(), np.random.default_rng(3), camera, noise_blur=1.0)
    white, binned = _levels(noisy)
    assert not reads_as_white(white, binned, learned=12.0)


def test_levels_that_disagree_are_not_white_noise():
    # patch PCA reads a tenth of what the learned estimator reads: camera noise, or texture on clean footage
    assert not reads_as_white(white=0.4, binned=0.2, learned=5.0)
    # patch PCA reads far more: a few noise-like patches on clean content, averaged over the frame
    assert not reads_as_white(white=7.5, binned=5.0, learned=3.2)
    assert reads_as_white(white=10.0, binned=5.2, learned=14.0)  # fine text over white noise: learned reads high


def test_white_noise_through_h264_is_white_and_gravel_as_correlated_is_not():
    # patch PCA reads all of the learned level on correlated noise: white noise that H.264 correlated
    # (sigma 10 at CRF 28 on vid4/calendar: whiteness 2.89) ...
    assert reads_as_white(white=9.52, binned=13.75, learned=8.75)
    # ... not gravel under phone-like noise (whiteness 4.09) nor clean gravel stored as H.264 (4.45),
    # whose texture raises patch PCA: the real-noise weights, 0.16 dB better there and 3.2 dB nearer a clean input
    assert not reads_as_white(white=7.96, binned=16.29, learned=7.46)
    assert not reads_as_white(white=5.18, binned=11.53, learned=4.47)


def test_light_white_noise_on_dense_texture_is_white_however_high_the_learned_level_reads():
    # sigma 5 on vid4/calendar: the learned estimator takes the text for noise of 13
    assert reads_as_white(white=5.22, binned=3.70, learned=13.15)
    assert reads_as_white(white=5.04, binned=2.76, learned=10.91)  # a 176x144 clip
    # the same disagreement with correlated noise is camera noise (patch PCA reads a part of it) ...
    assert not reads_as_white(white=5.22, binned=5.0, learned=13.15)
    assert reads_as_white(white=1.14, binned=0.76, learned=8.16)  # sigma 1 on foliage
    # ... and with a level at 8-bit quantisation's the learned one stands
    assert not reads_as_white(white=0.5, binned=0.25, learned=6.0)


def test_noise_in_a_corner_of_a_clean_picture_is_not_the_videos_white_noise():
    # a clean picture with a square of fresh random pixels in one corner (a test pattern, a screen of
    # static): patch PCA averages it over the frame into a white level, the grid's median cell reads none
    rng = np.random.default_rng(4)
    clean = np.repeat(_scene(frames=2, size=128), 1, axis=0)
    patched = clean.copy()
    patched[:, :24, :24] = rng.integers(0, 256, size=(2, 24, 24, 3), dtype=np.uint8)
    white, binned = _levels(patched)
    assert white > 3 and whiteness(white, binned) <= MAX_WHITENESS  # the levels alone read it as white noise
    assert white_spread(patched, white) < 0.2 * MIN_SPREAD
    assert reads_as_white(white, binned, learned=white) and not reads_as_white(white, binned, learned=white, spread=white_spread(patched, white))
    # the same level of noise over the whole picture reads all of it in every cell
    noisy = np.clip(clean + rng.normal(0, white, clean.shape), 0, 255).round().astype(np.uint8)
    white, binned = _levels(noisy)
    assert white_spread(noisy, white) == pytest.approx(1.0, abs=0.2)
    assert reads_as_white(white, binned, learned=white, spread=white_spread(noisy, white))


@pytest.mark.parametrize("saturated", [0, 255])
def test_white_noise_over_a_mostly_clipped_picture_still_spreads(saturated):
    # four fifths of the picture blown out (a white sky) or black: its noise clipped to one side
    rng = np.random.default_rng(6)
    clean = _scene(frames=2, size=128).astype(np.float64)
    clean[:, : 128 * 4 // 5] = saturated
    noisy = np.clip(clean + rng.normal(0, 10, clean.shape), 0, 255).round().astype(np.uint8)
    white, _ = _levels(noisy)
    assert white == pytest.approx(10, rel=0.1)  # patch PCA models the clipping
    assert MIN_SPREAD < white_spread(noisy, white) < 0.8  # the clipped cells read about half of it


def test_no_binned_level_is_not_white_noise():
    assert not reads_as_white(white=10.0, binned=None, learned=10.0)


def test_gaussian_level_is_the_level_read_without_subsampled_colour():
    assert gaussian_level(white=25.0, binned=12.5, chroma_subsampled=False) == 25.0
    assert gaussian_level(white=25.0, binned=None, chroma_subsampled=True) == 25.0  # too small to bin: as read


def test_gaussian_level_in_subsampled_video_follows_the_whiteness():
    low, high = SUBSAMPLED_WHITENESS_RANGE
    white = 20.0

    def at(whiteness_wanted: float) -> float:
        return gaussian_level(white, binned=whiteness_wanted * white / 2, chroma_subsampled=True)

    # white noise (binning halves it): the share for colour averaged 2x2
    assert at(1.0) == pytest.approx(SUBSAMPLED_LEVEL_SCALE * white)
    assert at(low) == pytest.approx(SUBSAMPLED_LEVEL_SCALE * white)
    # noise an encoder has already thinned reads less white: back to the level as read
    assert at(high) == pytest.approx(white)
    assert at(3.0) == pytest.approx(white)
    assert at((low + high) / 2) == pytest.approx((SUBSAMPLED_LEVEL_SCALE + 1) / 2 * white)
