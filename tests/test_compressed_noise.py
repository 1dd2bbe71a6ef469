"""Tests for white noise stored as 4:2:0 H.264 for training (stdit_cli/train/compressed_noise.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stdit_cli.pipeline.noise_kind import binned_2x2, whiteness
from stdit_cli.pipeline.noise_level import estimate_sigma_255_from_luma
from stdit_cli.train.compressed_noise import CompressedNoiseMix, compressed_label, draw_sigma_255, h264_round_trip
from stdit_cli.train.objective import NoisyClips


def gradient_clip(frames: int = 5, size: int = 64) -> np.ndarray:
    """``[T, H, W, 3]`` uint8: a smooth colour gradient drifting one pixel per frame."""
    y, x = np.mgrid[0:size, 0:size + frames].astype(np.float64)
    picture = np.stack([60 + 2 * x, 80 + y, 160 - x], axis=-1)
    return np.stack([picture[:, t : t + size] for t in range(frames)]).round().astype(np.uint8)


def with_noise(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(clean + sigma * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)))


def test_the_round_trip_is_lossy_4_2_0_and_a_higher_crf_takes_more_noise():
    clean = gradient_clip()
    noisy = with_noise(clean, 20.0)
    fine, coarse = h264_round_trip(noisy, crf=12), h264_round_trip(noisy, crf=30)
    assert fine.shape == noisy.shape and fine.dtype == np.uint8
    assert not np.array_equal(fine, noisy)
    # 4:2:0 and quantisation take noise away, a coarse encode far more; neither leaves it clean
    assert 3.0 < rms(coarse, clean) < rms(fine, clean) < rms(noisy, clean)
    # what is left is no longer white: it keeps more of its level when binned 2x2
    white = estimate_sigma_255_from_luma(noisy)
    assert whiteness(white, estimate_sigma_255_from_luma(binned_2x2(noisy))) < 1.2
    left = estimate_sigma_255_from_luma(coarse)
    assert whiteness(left, estimate_sigma_255_from_luma(binned_2x2(coarse))) > 1.3


def test_odd_frame_sizes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="even frame size"):
        h264_round_trip(np.zeros((2, 15, 16, 3), np.uint8), crf=20)


def test_the_label_follows_the_noise_and_the_encode():
    clean = gradient_clip()
    labels = [compressed_label(h264_round_trip(with_noise(clean, s), crf=18)) for s in (5.0, 15.0, 30.0)]
    assert labels[0] < labels[1] < labels[2]
    # near the level that was added (the pipeline reads luma, stated as RGB noise)
    assert 0.5 * 15 < labels[1] < 1.2 * 15
    noisy = with_noise(clean, 15.0)
    assert compressed_label(h264_round_trip(noisy, crf=34)) < 0.7 * labels[1]


def test_levels_are_drawn_over_the_training_range():
    rng = np.random.default_rng(0)
    levels = np.array([draw_sigma_255(rng) for _ in range(400)])
    assert levels.min() >= 1.0 and levels.max() <= 75.0
    assert (levels < 10).mean() > 0.22 and (levels > 50).mean() > 0.1  # log-uniform half, uniform half


def clean_batch(batch: int = 4) -> torch.Tensor:
    """``[B, 3, 5, 64, 64]`` in ``[-1, 1]``: the gradient clip."""
    # [T, H, W, 3] uint8 -> [1, 3, T, H, W] in [-1, 1], repeated B times
    clip = torch.from_numpy(gradient_clip()).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
    return clip.repeat(batch, 1, 1, 1, 1)


def test_the_mix_noises_only_clips_left_white_and_keeps_the_others():
    clean = clean_batch()
    assert CompressedNoiseMix(fraction=0.0).noisy_clips(clean, np.random.default_rng(0)) is None
    assert not CompressedNoiseMix(fraction=0.0).active and CompressedNoiseMix(fraction=0.3).active
    # clip 0 already carries other noise (say a camera's): it stays as it was
    other = torch.full_like(clean, 0.25)
    already = NoisyClips(picked=torch.tensor([True, False, False, False]), y=other, sigma_255=torch.tensor([7.0, 0.0, 0.0, 0.0]))
    mixed = CompressedNoiseMix(fraction=1.0, crf=(16, 16)).noisy_clips(clean, np.random.default_rng(1), already)
    assert mixed.picked.all()
    torch.testing.assert_close(mixed.y[0], other[0], atol=1 / 255, rtol=0)
    assert mixed.sigma_255[0] == 7.0
    for b in (1, 2, 3):
        error = (mixed.y[b] - clean[b]).abs().mean() * 127.5
        assert error > 0.2  # noised (even the weakest level drawn leaves some)
        assert mixed.sigma_255[b] >= 0.5
    assert len({round(float(s), 3) for s in mixed.sigma_255[1:]}) == 3  # a level per clip


def test_the_mix_picks_about_its_share():
    clean = clean_batch(40)[:, :, :2, :16, :16].contiguous()
    mixed = CompressedNoiseMix(fraction=0.25).noisy_clips(clean, np.random.default_rng(2))
    assert 3 <= int(mixed.picked.sum()) <= 18


def test_the_clean_share_is_encoded_without_noise_and_labelled_with_the_level_read():
    clean = clean_batch(3)
    mixed = CompressedNoiseMix(fraction=1.0, crf=(16, 16), clean_fraction=1.0).noisy_clips(clean, np.random.default_rng(3))
    assert mixed.picked.all()
    for b in range(3):
        assert (mixed.y[b] - clean[b]).pow(2).mean().sqrt() * 127.5 < 2.0  # only the encode's own error
    # the label is what the pipeline reads there (near nothing on a smooth gradient), not a drawn level
    assert (mixed.sigma_255 < 3).all() and (mixed.sigma_255 >= 0.5).all()
    noisy = CompressedNoiseMix(fraction=1.0, crf=(16, 16)).noisy_clips(clean, np.random.default_rng(3))
    assert (noisy.y - clean).pow(2).mean().sqrt() * 127.5 > 2.0
