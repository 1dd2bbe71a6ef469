"""Tests for the training content mix (stdit_cli/train/content.py) through ClipSampler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stdit_cli.train.content import ContentMix, area_resize, gaussian_blur, smooth_field
from stdit_cli.train.data import ClipSampler, TrainingData


def checkerboard_data(frames: int = 6, size: int = 96) -> TrainingData:
    """One sequence of a 1-pixel checkerboard (0/255): any 2x area downscale of it is flat grey."""
    yy, xx = np.mgrid[0:size, 0:size]
    board = ((yy + xx) % 2 * 255).astype(np.uint8)
    return TrainingData([np.repeat(np.repeat(board[None, :, :, None], 3, 3), frames, 0)], [])


def test_content_mix_rejects_bad_ranges():
    with pytest.raises(ValueError, match="scale_range"):
        ContentMix(scale_range=(0.5, 2.0))
    with pytest.raises(ValueError, match="soft_fraction"):
        ContentMix(soft_fraction=1.5)
    assert not ContentMix().active and ContentMix(smooth_fraction=0.1).active


def test_a_2x_scale_averages_the_checkerboard_to_flat_grey_and_native_keeps_it():
    native = ClipSampler(checkerboard_data(), frames=3, crop=32, seed=3).batch(4)
    halved = ClipSampler(checkerboard_data(), frames=3, crop=32, seed=3, content=ContentMix(scale_range=(2.0, 2.0))).batch(4)
    assert native.shape == halved.shape == (4, 3, 3, 32, 32)
    assert native.std() > 0.9  # +-1 pixels
    # every 2x2 block of a checkerboard, wherever it starts, holds two black and two white pixels
    assert halved.std() < 0.01 and abs(float(halved.mean())) < 0.01


def test_smooth_fraction_one_gives_only_smooth_clips():
    sampler = ClipSampler(checkerboard_data(), frames=4, crop=48, seed=5, content=ContentMix(smooth_fraction=1.0))
    clips = sampler.batch(6)  # [B, 3, T, H, W] in [-1, 1]
    # neighbouring pixels of a smooth field differ by a few levels at most; the checkerboard by 255
    step = (clips[..., 1:] - clips[..., :-1]).abs().amax().item() * 127.5
    assert step < 6


def test_smooth_field_kinds_and_motion():
    rng = np.random.default_rng(0)
    kinds = [smooth_field(5, 40, rng, torch.device("cpu")) for _ in range(12)]
    assert all(k.shape == (5, 40, 40, 3) and k.dtype == torch.uint8 for k in kinds)
    flat = [k for k in kinds if (k == k[0, 0, 0]).all()]
    assert flat and len(flat) < len(kinds)  # some flat fields, some gradients or blobs


def test_gaussian_blur_keeps_a_constant_and_removes_most_noise():
    constant = torch.full((2, 30, 30, 3), 77, dtype=torch.uint8)
    assert torch.equal(gaussian_blur(constant, 1.5), constant)
    noise = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 60, 60, 3)).astype(np.uint8))
    assert gaussian_blur(noise, 1.5).float().std() < 0.3 * noise.float().std()


def test_area_resize_is_a_mean_of_blocks():
    clip = torch.arange(16, dtype=torch.uint8).view(1, 4, 4, 1).expand(1, 4, 4, 3).contiguous()
    small = area_resize(clip, 2)
    # block means 2.5, 4.5, 10.5, 12.5, rounded half to even like torch.round
    assert small[0, :, :, 0].tolist() == [[2, 4], [10, 12]]


def test_glyph_crops_are_dense_sharp_print_repeatable_by_seed():
    from stdit_cli.train.glyphs import render_glyph_crop

    first = [render_glyph_crop(64, np.random.default_rng(3)) for _ in range(2)]
    assert first[0].shape == (64, 64, 3) and first[0].dtype == np.uint8
    assert np.array_equal(first[0], first[1])  # the same seed, the same pixels
    crops = [render_glyph_crop(64, np.random.default_rng(seed)) for seed in range(12)]
    assert not all(np.array_equal(crops[0], crop) for crop in crops[1:])
    for crop in crops:
        luma = crop.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        # print has strong one-pixel steps somewhere in the crop (glyph edges)
        assert np.abs(np.diff(luma, axis=1)).max() > 40


def test_glyph_crops_can_be_drawn_over_the_given_photo():
    from stdit_cli.train.glyphs import render_glyph_crop

    photo = np.zeros((80, 80, 3), np.uint8)
    photo[:, :, 1] = 200  # pure green: no flat or graded background of _colour's draws is this
    over_photo = [crop for crop in (render_glyph_crop(64, np.random.default_rng(seed), photo) for seed in range(20))
                  if np.mean(np.all(crop == (0, 200, 0), axis=-1)) > 0.2]  # fmt: skip
    assert 2 <= len(over_photo) <= 18  # about OVER_PHOTO of them


def test_the_estimator_scripts_glyph_share_replaces_crops_and_zero_draws_nothing():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from train_noise_estimator import with_glyphs

    clean = torch.zeros(6, 3, 1, 32, 32)
    rng = np.random.default_rng(0)
    same, none = with_glyphs(clean, rng, 0.0)
    assert same is clean and not none.any()
    assert rng.random() == np.random.default_rng(0).random()  # no draw at share 0
    replaced, marked = with_glyphs(clean, np.random.default_rng(1), 1.0)
    assert marked.all()
    assert replaced.shape == clean.shape and replaced.abs().amax(dim=(1, 2, 3, 4)).gt(0).all()
    assert clean.abs().max() == 0  # the input is left as it was
