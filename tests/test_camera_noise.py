"""Tests for the camera noise model (stdit_cli/train/camera_noise.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stdit_cli.train.camera_noise import CameraNoise, CameraNoiseMix, add_camera_noise, blur_spatially, demosaic, mosaic, unsharp_mask

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


def test_blurring_the_noise_keeps_a_constant_and_lowers_the_finest_noise():
    constant = np.full((1, 16, 16, 3), 0.4)
    np.testing.assert_allclose(blur_spatially(constant, 1.0), constant, atol=1e-12)
    camera = CameraNoise(shot=4e-3, read=1e-4, red_gain=2.0, blue_gain=1.7, ccm=CAMERA_CCM)
    clean = flat(110)
    sharp = residual(add_camera_noise(clean, np.random.default_rng(4), camera), clean)
    blotchy = residual(add_camera_noise(clean, np.random.default_rng(4), camera, noise_blur=1.5), clean)
    assert blotchy.std() < 0.7 * sharp.std()
    # what is left is coarser: neighbours agree more
    def neighbour_correlation(noise):
        return np.corrcoef(noise[..., :-1, 1].ravel(), noise[..., 1:, 1].ravel())[0, 1]

    assert neighbour_correlation(blotchy) > neighbour_correlation(sharp) + 0.2


def clean_batch(batch: int = 6) -> torch.Tensor:
    """``[B, 3, 2, 32, 32]`` in ``[-1, 1]``: mid-grey ramps (no clipping)."""
    ramp = torch.linspace(-0.4, 0.4, 32)
    return ramp.view(1, 1, 1, 1, 32).expand(batch, 3, 2, 32, 32).clone()


def test_camera_mix_noises_the_picked_clips_at_their_measured_level():
    clean = clean_batch()
    assert CameraNoiseMix(fraction=0.0).noisy_clips(clean, np.random.default_rng(0)) is None
    noisy = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3)).noisy_clips(clean, np.random.default_rng(0))
    assert noisy.picked.all() and noisy.y.shape == clean.shape
    # the level is the RMS of noisy - clean on 0..255, clip by clip
    rms = (((noisy.y - clean) * 127.5) ** 2).flatten(1).mean(dim=1).sqrt()
    torch.testing.assert_close(noisy.sigma_255, rms, atol=0.05, rtol=0.01)
    assert (noisy.sigma_255 > 3).all()
    half = CameraNoiseMix(fraction=0.5).noisy_clips(clean_batch(64), np.random.default_rng(1))
    assert 16 < int(half.picked.sum()) < 48


def test_camera_mix_leaves_its_clean_share_clean_under_a_level_label():
    clean = clean_batch(64)
    mix = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3), clean_fraction=0.5, clean_level=(3.0, 10.0))
    noisy = mix.noisy_clips(clean, np.random.default_rng(3))
    rms = (((noisy.y - clean) * 127.5) ** 2).flatten(1).mean(dim=1).sqrt()
    left_clean = rms < 0.3  # the uint8 round trip of the ramp only
    assert 16 < int(left_clean.sum()) < 48
    labels = noisy.sigma_255[left_clean]
    assert (labels >= 3.0).all() and (labels <= 10.0).all() and labels.std() > 1.0  # drawn, not fixed
    # the noised ones keep their measured level
    torch.testing.assert_close(noisy.sigma_255[~left_clean], rms[~left_clean], atol=0.05, rtol=0.01)
    # without the option nothing is left clean
    assert (CameraNoiseMix(fraction=1.0, shot_range=(2e-3, 4e-3)).noisy_clips(clean, np.random.default_rng(3)).sigma_255 > 3).all()


def test_training_pairs_take_the_camera_clips_and_their_level():
    from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE, DiffusionSampler
    from stdit_cli.train.objective import make_training_pair, timesteps_for_sigmas

    clean = clean_batch(4)
    alphas = DiffusionSampler(DEFAULT_SCHEDULE).alphas_cumprod
    noisy = CameraNoiseMix(fraction=1.0).noisy_clips(clean, np.random.default_rng(2))
    noisy.picked[1] = False  # clip 1 keeps white noise
    pair = make_training_pair(clean, alphas, torch.Generator().manual_seed(0), noisy=noisy)
    abar = alphas[pair.timestep].view(-1, 1, 1, 1, 1)
    for b in (0, 2, 3):
        torch.testing.assert_close(pair.x_t[b] / abar[b].sqrt(), noisy.y[b])
        assert pair.sigma_255[b] == noisy.sigma_255[b]
    assert not torch.allclose(pair.x_t[1] / abar[1].sqrt(), noisy.y[1])
    torch.testing.assert_close(pair.timestep, timesteps_for_sigmas(alphas, 2.0 * pair.sigma_255 / 255.0))


#: RGB -> BT.601 YCbCr
YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def box_std(noise: np.ndarray, k: int) -> float:
    """Std of the k x k block means of a ``[1, H, W]`` plane."""
    h, w = noise.shape[1] // k * k, noise.shape[2] // k * k
    return noise[:, :h, :w].reshape(1, h // k, k, w // k, k).mean(axis=(2, 4)).std()


def colour_noise(clean: np.ndarray, camera: CameraNoise, **options) -> np.ndarray:
    """``[T, H, W, 3]`` noise of ``add_camera_noise`` (seed 5) on ``clean``, as BT.601 Y, Cb, Cr."""
    return residual(add_camera_noise(clean, np.random.default_rng(5), camera, **options), clean) @ YCC.T


def test_chroma_blur_leaves_blotchy_colour_noise_and_the_luma_noise_alone():
    camera = CameraNoise(shot=1e-3, read=1e-6, red_gain=2.0, blue_gain=1.7, ccm=CAMERA_CCM)
    clean = flat(110, frames=1, size=128)
    plain = colour_noise(clean, camera)
    blotchy = colour_noise(clean, camera, chroma_blur=2.5)
    assert blotchy[..., 0].std() == pytest.approx(plain[..., 0].std(), rel=0.05)  # luma: the same noise
    assert blotchy[..., 1:].std() < 0.5 * plain[..., 1:].std()

    # what is left of the colour noise survives 4x4 averaging, as in processed camera footage
    assert box_std(blotchy[..., 1], 4) > 0.6 * box_std(blotchy[..., 1], 1)
    assert box_std(plain[..., 1], 4) < 0.6 * box_std(plain[..., 1], 1)


def test_blotches_keep_the_colour_noise_amplitude_the_blur_alone_takes_away():
    camera = CameraNoise(shot=1e-3, read=1e-6, red_gain=2.0, blue_gain=1.7, ccm=CAMERA_CCM)
    clean = flat(110, frames=1, size=128)
    plain = colour_noise(clean, camera)
    faint = colour_noise(clean, camera, chroma_blur=3.0)
    kept = colour_noise(clean, camera, chroma_blur=3.0, chroma_gain=1.0)
    half = colour_noise(clean, camera, chroma_blur=3.0, chroma_gain=0.5)
    assert faint[..., 1:].std() < 0.5 * plain[..., 1:].std()
    assert kept[..., 1:].std() == pytest.approx(plain[..., 1:].std(), rel=0.1)  # blotches at full amplitude
    assert half[..., 1:].std() == pytest.approx(0.5 * plain[..., 1:].std(), rel=0.1)
    assert kept[..., 0].std() == pytest.approx(plain[..., 0].std(), rel=0.05)  # luma untouched
    # low-frequency like the faint ones: most of it survives 4x4 averaging, unlike the plain colour noise
    assert box_std(kept[..., 1], 4) > 0.6 * box_std(kept[..., 1], 1)
    assert box_std(plain[..., 1], 4) < 0.6 * box_std(plain[..., 1], 1)


def test_the_camera_mix_keeps_the_blotches_of_its_blotch_share_only():
    clean = clean_batch(32)
    base = dict(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3), blur_fraction=0.0, chroma_fraction=1.0, chroma_sigma=(3.0, 3.0))
    before = CameraNoiseMix(**base).noisy_clips(clean, np.random.default_rng(4))
    # no draw without blotches: the same clips as before the option existed
    again = CameraNoiseMix(**base, blotch_fraction=0.0).noisy_clips(clean, np.random.default_rng(4))
    torch.testing.assert_close(again.y, before.y)
    blotchy = CameraNoiseMix(**base, blotch_fraction=1.0, blotch_gain=(1.0, 1.0)).noisy_clips(clean, np.random.default_rng(4))
    assert (blotchy.sigma_255 > 1.3 * before.sigma_255).float().mean() > 0.9  # louder, and labelled so


def test_the_train_config_sets_how_often_and_how_much_the_noise_is_blurred():
    from stdit_cli.train.loop import TrainConfig

    def neighbour_correlation(mix: CameraNoiseMix) -> float:
        clean = clean_batch(6)
        noisy = mix.noisy_clips(clean, np.random.default_rng(4))
        # [B, C, T, H, W] noise on 0..255 -> its luma [B, T, H, W], less its mean at each column (the ramp's bias)
        noise = ((noisy.y - clean) * 127.5).numpy()
        luma = np.tensordot(np.array([0.299, 0.587, 0.114]), noise, axes=([0], [1]))
        luma = luma - luma.mean(axis=(0, 1, 2), keepdims=True)
        return float(np.corrcoef(luma[..., :-1].ravel(), luma[..., 1:].ravel())[0, 1])

    base = dict(model="unet", preset="tiny", data=[], out="unused", camera_fraction=1.0, camera_jpeg_fraction=0.0)
    unblurred = TrainConfig(**base, camera_blur_fraction=0.0).camera_mix()
    blurred = TrainConfig(**base, camera_blur_fraction=1.0, camera_blur_sigma=(1.5, 2.0)).camera_mix()
    assert (unblurred.blur_fraction, blurred.blur_fraction, blurred.blur_sigma) == (0.0, 1.0, (1.5, 2.0))
    # luma noise between neighbours: PolyU's processed camera noise 0.63 (median of its crops); demosaiced only: far less
    assert neighbour_correlation(unblurred) < 0.55 < 0.8 < neighbour_correlation(blurred)


def test_the_train_config_sets_the_cameras_shot_range_and_a_wider_one_reaches_phone_noise_levels():
    from stdit_cli.train.loop import TrainConfig

    base = dict(model="unet", preset="tiny", data=[], out="unused", camera_fraction=1.0, camera_jpeg_fraction=0.0, camera_blur_fraction=0.0)
    default = TrainConfig(**base).camera_mix()
    dim = TrainConfig(**base, camera_shot_range=(4e-2, 1e-1)).camera_mix()
    assert default.shot_range == (1e-5, 1.2e-2) and dim.shot_range == (4e-2, 1e-1)
    levels = dim.noisy_clips(clean_batch(4), np.random.default_rng(2)).sigma_255
    # dim phone footage: noise of RMS 20-40 on 0..255 and more, where the default range stops near 30 at its very top
    assert (levels > 25).all(), levels


@pytest.mark.parametrize("phase", [0, 1, 2, 3])
def test_the_cfa_phase_puts_the_red_samples_where_it_says(phase):
    # read noise only, no colour mixing: at the red samples the red channel holds the raw noise,
    # elsewhere the average of two or four of them (half or a quarter of the variance)
    camera = CameraNoise(shot=0.0, read=4e-4, red_gain=1.0, blue_gain=1.0, ccm=IDENTITY_CCM)
    clean = flat(128, frames=4, size=32)
    red = residual(add_camera_noise(clean, np.random.default_rng(phase), camera, cfa_phase=phase), clean)[..., 0]
    # [T, H, W] -> [T, H/2, 2, W/2, 2] -> variance at each of the four positions of a 2x2 block
    variance = red.reshape(4, 16, 2, 16, 2).var(axis=(0, 1, 3))
    row, column = np.unravel_index(np.argmax(variance), (2, 2))
    assert (row, column) == (phase >> 1, phase & 1)
    assert variance.max() > 1.5 * np.sort(variance.ravel())[-2]


def test_the_train_config_draws_the_cfa_phase_when_asked():
    from stdit_cli.train.loop import TrainConfig

    base = dict(model="unet", preset="tiny", data=[], out="unused", camera_fraction=1.0)
    assert not TrainConfig(**base).camera_mix().random_cfa_phase
    assert TrainConfig(**base, camera_random_cfa=True).camera_mix().random_cfa_phase
    with pytest.raises(AssertionError, match="cfa_phase"):
        add_camera_noise(flat(128), np.random.default_rng(0), cfa_phase=4)


def test_the_h264_share_is_stored_as_phones_store_video_and_labelled_with_what_is_left():
    clean = clean_batch(4)
    plain = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(4e-3, 6e-3)).noisy_clips(clean, np.random.default_rng(4))
    video = CameraNoiseMix(fraction=1.0, jpeg_fraction=1.0, shot_range=(4e-3, 6e-3), h264_fraction=1.0,
                           h264_crf=(30, 30)).noisy_clips(clean, np.random.default_rng(4))  # fmt: skip
    assert video.picked.all()
    # a coarse encode takes much of the noise away (and no JPEG on top of it)
    assert (video.sigma_255 < 0.8 * plain.sigma_255).all()
    rms = ((video.y - clean) * 127.5).pow(2).flatten(1).mean(dim=1).sqrt()
    torch.testing.assert_close(video.sigma_255, rms, atol=0.05, rtol=0.01)


def test_the_unsharp_mask_raises_luma_detail_and_leaves_colour_and_flat_areas_alone():
    rng = np.random.default_rng(5)
    frames = np.clip(0.5 + 0.1 * blur_spatially(rng.standard_normal((1, 32, 32, 3)), 1.0), 0, 1)
    out = unsharp_mask(frames, amount=0.8, sigma=1.0)
    before, after = frames @ YCC.T, out @ YCC.T
    np.testing.assert_allclose(after[..., 1:], before[..., 1:], atol=1e-12)  # Cb, Cr untouched
    assert (after[..., 0] - after[..., 0].mean()).std() > 1.2 * (before[..., 0] - before[..., 0].mean()).std()
    np.testing.assert_allclose(unsharp_mask(np.full((1, 16, 16, 3), 0.3), 0.8, 1.0), 0.3)  # nothing to sharpen


def test_sharpening_after_the_noise_sharpens_the_noise_too():
    camera = CameraNoise(shot=2e-3, read=1e-6, red_gain=2.0, blue_gain=1.7, ccm=CAMERA_CCM)
    luma = np.array([0.299, 0.587, 0.114])
    plain = residual(add_camera_noise(flat(110), np.random.default_rng(8), camera), flat(110)) @ luma
    sharp = residual(add_camera_noise(flat(110), np.random.default_rng(8), camera, sharpen=(1.0, 1.0)), flat(110)) @ luma
    assert sharp.std() > 1.2 * plain.std()
    # a high-pass: neighbouring pixels' noise less alike than before
    def neighbours(noise: np.ndarray) -> float:
        return float(np.corrcoef(noise[..., :-1].ravel(), noise[..., 1:].ravel())[0, 1])

    assert neighbours(sharp) < neighbours(plain) - 0.1


def test_a_sharpened_clip_is_measured_and_trained_against_its_sharpened_target():
    from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE, DiffusionSampler
    from stdit_cli.train.camera_noise import sharpened
    from stdit_cli.train.objective import make_training_pair

    # [B, 3, 2, 32, 32]: a vertical wave (detail the mask sharpens), mid grey
    wave = 0.3 * torch.sin(torch.arange(32.0) * 0.8)
    clean = wave.view(1, 1, 1, 1, 32).expand(4, 3, 2, 32, 32).clone()
    mix = dict(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3))
    assert CameraNoiseMix(**mix).noisy_clips(clean, np.random.default_rng(6)).clean is None  # the batch's clips are the targets
    noisy = CameraNoiseMix(**mix, sharpen_fraction=1.0, sharpen_amount=(0.8, 0.8), sharpen_sigma=(1.0, 1.0)).noisy_clips(clean, np.random.default_rng(6))
    # [B, C, T, H, W] in [-1, 1] -> [B, T, H, W, C] uint8, sharpened, and back
    clean_uint8 = torch.round((clean + 1) * 127.5).to(torch.uint8).permute(0, 2, 3, 4, 1).numpy()
    expected = torch.from_numpy(np.stack([sharpened(clip, 0.8, 1.0) for clip in clean_uint8])).permute(0, 4, 1, 2, 3) / 127.5 - 1
    torch.testing.assert_close(noisy.clean, expected.float())
    assert (noisy.clean.amax(dim=(1, 2, 3, 4)) > clean.amax() + 0.05).all()  # overshoot at the peaks
    # the label counts what the camera added on top of the sharpened picture
    to_target = ((noisy.y - noisy.clean) * 127.5).pow(2).flatten(1).mean(dim=1).sqrt()
    torch.testing.assert_close(noisy.sigma_255, to_target, atol=0.05, rtol=0.01)
    # the training pair's epsilon points from the noisy clip to the sharpened target
    alphas = DiffusionSampler(DEFAULT_SCHEDULE).alphas_cumprod
    pair = make_training_pair(clean, alphas, torch.Generator().manual_seed(0), noisy=noisy)
    abar = alphas[pair.timestep].float().view(-1, 1, 1, 1, 1)
    recovered = (pair.x_t - (1 - abar).sqrt() * pair.target) / abar.sqrt()
    torch.testing.assert_close(recovered, noisy.clean, atol=1e-4, rtol=1e-4)


def test_the_train_config_passes_the_sharpening_to_the_camera_mix():
    from stdit_cli.train.loop import TrainConfig

    mix = TrainConfig(model="unet", camera_fraction=1.0, camera_sharpen_fraction=0.4, camera_sharpen_amount=(0.3, 0.9)).camera_mix()
    assert mix.sharpen_fraction == 0.4 and mix.sharpen_amount == (0.3, 0.9)
    assert TrainConfig(model="unet").camera_mix().sharpen_fraction == 0.0


def test_the_train_config_passes_the_blotches_to_the_camera_mix(tmp_path):
    from click.testing import CliRunner

    from stdit_cli.cli import main
    from stdit_cli.train.loop import TrainConfig

    mix = TrainConfig(model="unet", camera_fraction=1.0, camera_chroma_fraction=0.7, camera_blotch_fraction=0.5).camera_mix()
    assert mix.blotch_fraction == 0.5 and mix.chroma_fraction == 0.7
    assert TrainConfig(model="unet").camera_mix().blotch_fraction == 0.0
    # the command line checks the share before anything loads
    result = CliRunner().invoke(main, ["train", "--camera-blotch-fraction", "1.5", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "--camera-blotch-fraction" in result.output


def test_a_gray_camera_clip_is_gray_noise_on_a_gray_target():
    from stdit_cli.train.camera_noise import to_gray

    # [B, 3, 2, 32, 32]: a colour ramp (R, G, B apart), so a colour target cannot pass for gray
    ramp = torch.linspace(-0.6, 0.6, 32)
    clean = torch.stack([ramp.view(1, 32).expand(32, 32), ramp.view(32, 1).expand(32, 32), -ramp.view(1, 32).expand(32, 32)])
    clean = clean.view(1, 3, 1, 32, 32).expand(4, 3, 2, 32, 32).clone()
    mix = CameraNoiseMix(fraction=1.0, jpeg_fraction=1.0, jpeg_quality=(80, 80), shot_range=(2e-3, 4e-3), gray_fraction=1.0)
    noisy = mix.noisy_clips(clean, np.random.default_rng(3))
    for clips in (noisy.y, noisy.clean):  # noisy and target: three equal channels
        assert torch.equal(clips[:, 0], clips[:, 1]) and torch.equal(clips[:, 0], clips[:, 2])
    # the target is the clean clip's luma (BT.601)
    clean_uint8 = torch.round((clean + 1) * 127.5).to(torch.uint8).permute(0, 2, 3, 4, 1).numpy()
    expected = torch.from_numpy(to_gray(clean_uint8)).permute(0, 4, 1, 2, 3) / 127.5 - 1
    torch.testing.assert_close(noisy.clean, expected.float())
    # it carries noise, measured against that gray target
    to_target = ((noisy.y - noisy.clean) * 127.5).pow(2).flatten(1).mean(dim=1).sqrt()
    assert (to_target > 1.0).all()
    torch.testing.assert_close(noisy.sigma_255, to_target, atol=0.05, rtol=0.01)
    # without the option the clips keep their colour
    colour = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3)).noisy_clips(clean, np.random.default_rng(3))
    assert not torch.equal(colour.y[:, 0], colour.y[:, 2])


def test_the_train_config_passes_the_gray_share_to_the_camera_mix():
    from stdit_cli.train.loop import TrainConfig

    mix = TrainConfig(model="unet", camera_fraction=1.0, camera_gray_fraction=0.3).camera_mix()
    assert mix.gray_fraction == 0.3 and mix.gray_level is None
    assert TrainConfig(model="unet").camera_mix().gray_fraction == 0.0
    # --camera-gray-level learned: the shipped estimator's blind level, as `stdit denoise` reads it
    learned = TrainConfig(model="unet", camera_fraction=1.0, camera_gray_fraction=0.3, camera_gray_level="learned").camera_mix()
    noisy = np.clip(128 + np.random.default_rng(0).normal(0, 12, (2, 64, 64, 1)), 0, 255).round().astype(np.uint8)
    level = learned.gray_level(np.repeat(noisy, 3, axis=-1))
    assert 4 < level < 30
    # --level-estimator: another estimator reads the labels (the one the shipped gray weights carry)
    from stdit_cli.weights import LEVEL_ESTIMATOR, resolve_checkpoint

    carried = Path(resolve_checkpoint("unet", None, real=True, gray=True).source) / LEVEL_ESTIMATOR
    other = TrainConfig(model="unet", camera_fraction=1.0, camera_gray_fraction=0.3, camera_gray_level="learned",
                        level_estimator=str(carried)).camera_mix()  # fmt: skip
    assert 4 < other.gray_level(np.repeat(noisy, 3, axis=-1)) < 30


def test_gray_clips_can_be_labelled_with_the_level_the_pipeline_reads():
    # the estimator reads heavy gray noise low; weights for gray video learn the level it reads
    clean = torch.linspace(-0.5, 0.5, 32).view(1, 1, 1, 1, 32).expand(3, 3, 2, 32, 32).clone()
    seen = []

    def reader(frames: np.ndarray) -> float:
        assert frames.shape == (2, 32, 32, 3) and frames.dtype == np.uint8
        assert np.array_equal(frames[..., 0], frames[..., 1])  # it reads the gray clip as the pipeline will
        seen.append(frames)
        return 4.25

    mix = dict(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3), gray_fraction=1.0)
    labelled = CameraNoiseMix(**mix, gray_level=reader).noisy_clips(clean, np.random.default_rng(5))
    assert len(seen) == 3 and torch.equal(labelled.sigma_255, torch.full((3,), 4.25))
    measured = CameraNoiseMix(**mix).noisy_clips(clean, np.random.default_rng(5))
    assert torch.equal(measured.y, labelled.y) and not torch.allclose(measured.sigma_255, labelled.sigma_255)
    # a clip left clean is labelled with what is read on it too, not a random level
    clean_ones = CameraNoiseMix(**mix, gray_level=reader, clean_fraction=1.0).noisy_clips(clean, np.random.default_rng(5))
    assert torch.equal(clean_ones.y, clean_ones.clean) and torch.equal(clean_ones.sigma_255, torch.full((3,), 4.25))
    # colour clips keep the RMS of their noise
    colour = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3), gray_level=reader).noisy_clips(clean, np.random.default_rng(5))
    assert len(seen) == 6 and (colour.sigma_255 != 4.25).all()
