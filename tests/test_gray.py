"""Grayscale video stays grayscale (stdit_cli/pipeline/gray.py)."""

from __future__ import annotations

import numpy as np
import pytest

from stdit_cli.pipeline.gray import GrayFrames, channel_mean, is_gray


def _gray(frames=3, height=20, width=24, seed=0) -> np.ndarray:
    luma = np.random.default_rng(seed).integers(0, 256, (frames, height, width), dtype=np.uint8)
    return np.repeat(luma[..., None], 3, axis=-1)  # [T, H, W, 3], R = G = B


def test_a_frame_is_gray_only_when_every_pixel_is():
    frame = _gray(1)[0]
    assert is_gray(frame)
    frame[7, 5, 2] ^= 1  # one channel of one pixel off the coarse grid
    assert not is_gray(frame)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_channel_mean_rounds_to_the_nearest_level(dtype):
    frame = np.array([[[0, 0, 1], [0, 1, 1], [10, 11, 13], [255, 255, 254]]], dtype=dtype)
    top = np.iinfo(dtype).max
    frame = np.concatenate([frame, np.array([[[top, top, top - 1]] * 4], dtype=dtype)])
    out = channel_mean(frame)
    assert out.dtype == dtype and out.shape == frame.shape and is_gray(out)
    assert out[0, :, 0].tolist() == [0, 1, 11, 255] and out[1, 0, 0] == top


def test_frames_that_were_gray_come_back_gray_and_colour_frames_untouched():
    gray, colour = _gray(4), np.random.default_rng(1).integers(0, 256, (3, 20, 24, 3), dtype=np.uint8)
    decoded = [gray[:2], np.concatenate([gray[2:], colour[:1]]), colour[1:]]  # a black-and-white scene, then colour
    frames = GrayFrames()
    noted = list(frames.noted(decoded))
    assert all(a is b for a, b in zip(noted, decoded))  # passed on as they are
    # what a denoiser makes of them: each channel its own error; chunked otherwise than decoded
    rng = np.random.default_rng(2)
    denoised_all = np.clip(np.concatenate(decoded).astype(int) + rng.integers(-3, 4, (7, 20, 24, 3)), 0, 255).astype(np.uint8)
    out = np.concatenate(list(frames.restored([denoised_all[:3], denoised_all[3:]])))
    assert all(is_gray(frame) for frame in out[:4])
    assert np.array_equal(out[:4], channel_mean_all(denoised_all[:4]))
    assert np.array_equal(out[4:], denoised_all[4:])


def channel_mean_all(frames: np.ndarray) -> np.ndarray:
    return np.stack([channel_mean(frame) for frame in frames])


def test_stdit_denoise_keeps_a_black_and_white_scene_gray_and_the_colour_scene_in_colour(tmp_path):
    from click.testing import CliRunner

    from stdit_cli.cli import main
    from stdit_cli.video import VideoReader, VideoWriter

    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:64, 0:96]
    scene = np.stack([(x * 2 + y) % 256, (x + 3 * y) % 256, (200 - x) % 256], axis=-1).astype(np.float64)  # [H, W, 3]
    luma = 60 + 0.8 * x + 0.5 * y  # [H, W]: a smooth gradient, where gray noise shows most
    gray = np.clip(luma + rng.normal(0, 20, (6, 64, 96)), 0, 255).round().astype(np.uint8)  # [T, H, W]
    colour = np.clip(scene + rng.normal(0, 20, (3, 64, 96, 3)), 0, 255).round().astype(np.uint8)
    frames = np.concatenate([np.repeat(gray[..., None], 3, axis=-1), colour])  # [9, H, W, 3]
    path = tmp_path / "film.mkv"
    with VideoWriter(path, 96, 64, 25, lossless=True) as writer:
        writer.write(frames)
    result = CliRunner().invoke(main, ["denoise", str(path), "-o", str(tmp_path / "out.mkv"), "--sigma", "20", "--lossless", "-q"])
    assert result.exit_code == 0, result.output
    with VideoReader(tmp_path / "out.mkv") as reader:
        out = reader.read(0, 9)
    assert all(is_gray(frame) for frame in out[:6])  # before 2026-12-06: channels apart by up to 34 levels
    assert not any(is_gray(frame) for frame in out[6:])
    # the gray noise made i.i.d. RGB noise before the model: 46.6 dB (as it was, one draw in all channels: 36.2)
    psnr = 10 * np.log10(255**2 / np.mean((out[:6, ..., 0].astype(np.float64) - luma) ** 2))
    assert psnr > 42.0


def test_decorrelated_gray_noise_is_iid_rgb_noise_of_sqrt3_times_the_level_and_leaves_the_channel_mean():
    import torch

    from stdit_cli.pipeline.gray import GRAY_LEVEL_SCALE, decorrelated, gray_level, units_are_gray

    generator = torch.Generator().manual_seed(0)
    # gray units [N, 3, T, h, w] on [-1, 1]: mid-gray with the same noise draw in every channel, level 10 on 0..255
    plane = torch.randn(2, 1, 3, 64, 64, generator=generator) * (10 / 127.5)
    units = plane.expand(-1, 3, -1, -1, -1).clone()
    assert units_are_gray(units) and not units_are_gray(units + torch.rand_like(units) * 1e-3)
    out = decorrelated(units, 10.0, generator)
    assert not units_are_gray(out)
    torch.testing.assert_close(out.mean(dim=1), units.mean(dim=1), atol=1e-6, rtol=0)  # nothing added along gray
    # the noise in RGB: every channel sqrt(3) * 10, and uncorrelated with the others
    noise = (out * 127.5).permute(1, 0, 2, 3, 4).reshape(3, -1)  # [3, N*T*h*w]
    covariance = torch.cov(noise)
    expected = (GRAY_LEVEL_SCALE * 10) ** 2
    torch.testing.assert_close(covariance.diagonal(), torch.full((3,), expected), rtol=0.03, atol=0)
    assert covariance.fill_diagonal_(0).abs().max() < 0.03 * expected
    assert gray_level(10.0) == pytest.approx(10 * 3**0.5) and gray_level(50.0) == 75.0 and gray_level(80.0) == 80.0


def test_a_gray_videos_level_is_read_on_its_plane_even_with_subsampled_colour():
    from stdit_cli.pipeline.opening import white_levels

    y, x = np.mgrid[0:96, 0:128]
    luma = (x + y).astype(np.float64)[None].repeat(4, 0)  # [T, H, W]
    noisy = np.clip(luma + np.random.default_rng(0).normal(0, 20, luma.shape), 0, 255).round().astype(np.uint8)
    frames = np.repeat(noisy[..., None], 3, axis=-1)
    as_rgb, _ = white_levels(frames, chroma_subsampled=False)
    as_420, _ = white_levels(frames, chroma_subsampled=True)
    assert as_420 == as_rgb == pytest.approx(20, rel=0.1)  # not restated as the RGB noise of a colour video (about 1.5x)
