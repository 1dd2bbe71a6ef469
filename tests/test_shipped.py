"""The checkpoints that ship inside the package, on the clip that ships with them."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from stdit_cli.choices import MODEL_NAMES
from stdit_cli.cli import main
from stdit_cli.pipeline.noise_level import estimate_sigma_255
from stdit_cli.video import VideoReader
from stdit_cli.weights import load_checkpoint, resolve_checkpoint, shipped_checkpoint_dir

SAMPLE = Path(str(resources.files("stdit_cli") / "samples" / "coffee_sigma25.mp4"))
#: dB a gray night camera's clip must gain (2026-12-06: +2.95 with weights/unet-real-gray; the colour
#: real-noise weights it ran before gained +0.17)
GRAY_NIGHT_GAIN_DB = 1.5
#: ... and with --fast (+1.75 with weights/unet-fast-real-gray; the colour ones: -0.11)
GRAY_NIGHT_GAIN_FAST_DB = 1.0


def block_means(frames_uint8: np.ndarray, block: int = 16) -> np.ndarray:
    """``[T, H/block, W/block, 3]``: what is left of the picture once the noise is averaged away."""
    t, h, w, c = frames_uint8.shape
    blocks = frames_uint8[:, : h - h % block, : w - w % block].astype(np.float64)
    return blocks.reshape(t, h // block, block, w // block, block, c).mean(axis=(2, 4))  # [T, h, w, 3]


def test_the_default_command_cleans_the_bundled_sample(tmp_path):
    # the README's first command, with the shipped unet: the noise goes, the picture stays
    out = tmp_path / "coffee.denoised.mp4"
    result = CliRunner().invoke(main, ["denoise", str(SAMPLE), "-o", str(out), "--lossless", "-q"])
    assert result.exit_code == 0, result.output
    with VideoReader(SAMPLE) as reader:
        noisy = reader.read(0, len(reader))
    with VideoReader(out) as reader:
        assert reader.info.has_audio
        denoised = reader.read(0, len(reader))
    assert denoised.shape == noisy.shape == (16, 192, 256, 3)
    assert estimate_sigma_255(noisy) == pytest.approx(25, rel=0.1)
    assert estimate_sigma_255(denoised) < 0.25 * estimate_sigma_255(noisy)
    # 16x16 block means of the noisy clip carry noise of about 25/16 grey levels
    assert np.abs(block_means(denoised) - block_means(noisy)).mean() < 2.5


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_ships_small_trained_weights(model):
    folder = shipped_checkpoint_dir(model)
    assert folder is not None, f"no weights ship for {model}"
    assert (folder / "diffusion_pytorch_model.safetensors").stat().st_size < 30e6
    checkpoint = load_checkpoint(folder, model)
    assert checkpoint.metadata["trained_steps"] > 0


def _flops_per_frame(checkpoint) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    model = checkpoint.model
    frames = int(model.num_frames)
    video = torch.zeros(1, frames, 3, 64, 64)  # [B, T, C, H, W], UNetSTIC's layout
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(video, torch.tensor([300]))
    return counter.get_total_flops() // frames


def test_fast_selects_the_cheaper_shipped_unet_and_only_without_checkpoint(tmp_path):
    default, fast = resolve_checkpoint("unet", None), resolve_checkpoint("unet", None, fast=True)
    assert Path(fast.source).name == "unet-fast" and Path(default.source).name == "unet"
    assert fast.metadata["trained_steps"] > 0
    assert _flops_per_frame(fast) < 0.7 * _flops_per_frame(default)
    # a model without a cheaper checkpoint keeps its own under --fast; --checkpoint always wins
    assert Path(resolve_checkpoint("segdit", None, fast=True).source).name == "segdit"
    assert resolve_checkpoint("unet", default.source, fast=True).source == default.source


def test_fast_denoises_the_bundled_sample_with_the_cheaper_checkpoint(tmp_path):
    out = tmp_path / "coffee.fast.mp4"
    result = CliRunner().invoke(main, ["denoise", str(SAMPLE), "-o", str(out), "--fast", "--lossless", "--json", "-q"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert Path(record["checkpoint"]).name == "unet-fast"
    with VideoReader(SAMPLE) as reader:
        noisy = reader.read(0, len(reader))
    with VideoReader(out) as reader:
        denoised = reader.read(0, len(reader))
    assert estimate_sigma_255(denoised) < 0.3 * estimate_sigma_255(noisy)
    assert np.abs(block_means(denoised) - block_means(noisy)).mean() < 2.5


def _denoise_json(*args) -> dict:
    result = CliRunner().invoke(main, ["denoise", *[str(a) for a in args], "--lossless", "--json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _camera_noise_clip(path: Path) -> Path:
    """The bundled sample's picture, denoised, with camera noise (indoor: blotchy, signal-dependent) instead."""
    from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise
    from stdit_cli.video import VideoWriter

    clean = path.with_name("clean.mp4")
    _denoise_json(SAMPLE, "-o", clean, "--sigma", "25")
    with VideoReader(clean) as reader:
        frames = reader.read(0, 6)
    camera = CameraNoise(shot=8e-3, read=1e-5, red_gain=2.0, blue_gain=1.7, ccm=np.array([[1.5, -0.3, -0.2], [-0.2, 1.4, -0.2], [-0.1, -0.4, 1.5]]))
    noisy = add_camera_noise(frames, np.random.default_rng(0), camera, noise_blur=1.0)
    with VideoWriter(path, noisy.shape[2], noisy.shape[1], 25, lossless=True) as writer:
        writer.write(noisy)
    return path


def test_no_number_picks_the_weights_for_the_noise_and_a_number_means_white_noise(tmp_path):
    # the default reads the noise: the bundled sample's white noise gets the Gaussian weights at
    # the patch-PCA level, camera noise the real-noise weights at the learned level
    # (one batch: each video gets its own pick, the second model loads when first needed)
    clip = _camera_noise_clip(tmp_path / "camera.mp4")
    result = CliRunner().invoke(main, ["denoise", str(clip), str(SAMPLE), "-o", str(tmp_path / "out"), "--lossless", "--json", "-q"])
    assert result.exit_code == 0, result.output
    camera, white = (json.loads(line) for line in result.output.strip().splitlines())
    assert camera["noise"] == "real" and Path(camera["checkpoint"]).name == "unet-real" and camera["sigma_estimated"]
    assert white["noise"] == "gaussian" and Path(white["checkpoint"]).name == "unet" and white["sigma_estimated"]
    assert white["sigma"] == pytest.approx(25, rel=0.1)
    # --sigma N is white noise, exactly; --noise real is real noise whatever it reads
    gaussian = _denoise_json(SAMPLE, "-o", tmp_path / "gaussian.mp4", "--sigma", "25")
    assert gaussian["noise"] == "gaussian" and Path(gaussian["checkpoint"]).name == "unet" and gaussian["sigma"] == 25
    real = _denoise_json(SAMPLE, "-o", tmp_path / "real.mp4", "--noise", "real")
    assert real["noise"] == "real" and Path(real["checkpoint"]).name == "unet-real"


def test_a_black_and_white_video_with_camera_noise_runs_the_weights_for_gray_camera_noise(tmp_path):
    # an infrared night camera: its luma noise is one draw in all three channels, which the colour
    # real-noise weights had never seen and mostly left (2026-12-06, scripts/results/2026-12-06_gray_camera.md)
    from stdit_cli.pipeline.gray import is_gray
    from stdit_cli.train.camera_noise import CameraNoise, add_camera_noise, to_gray
    from stdit_cli.video import VideoWriter

    clean_clip = tmp_path / "clean.mp4"
    _denoise_json(SAMPLE, "-o", clean_clip, "--sigma", "25")
    with VideoReader(clean_clip) as reader:
        clean = to_gray(reader.read(0, 6))
    camera = CameraNoise(shot=3e-2, read=1e-4, red_gain=2.0, blue_gain=1.7, ccm=np.eye(3))
    noisy = to_gray(add_camera_noise(clean, np.random.default_rng(0), camera, noise_blur=1.0))
    clip = tmp_path / "night.mkv"
    with VideoWriter(clip, noisy.shape[2], noisy.shape[1], 25, lossless=True) as writer:
        writer.write(noisy)
    record = _denoise_json(clip, "-o", tmp_path / "night.denoised.mkv")
    assert record["noise"] == "real" and Path(record["checkpoint"]).name == "unet-real-gray" and record["sigma_estimated"]
    # read with the estimator their labels came from, which they carry (the colour weights: the shipped one)
    from stdit_cli.weights import level_estimator_of

    assert level_estimator_of(resolve_checkpoint("unet", None, real=True, gray=True)) is not None
    assert level_estimator_of(resolve_checkpoint("unet", None, real=True, gray=True, fast=True)) is not None
    assert level_estimator_of(resolve_checkpoint("unet", None, real=True)) is None
    with VideoReader(tmp_path / "night.denoised.mkv") as reader:
        out = reader.read(0, 6)
    assert all(is_gray(frame) for frame in out)

    def psnr(frames):
        return 10 * np.log10(255**2 / np.mean((frames.astype(np.float64) - clean) ** 2))

    assert psnr(out) > psnr(noisy) + GRAY_NIGHT_GAIN_DB, (psnr(noisy), psnr(out))
    # --fast has its own
    fast = _denoise_json(clip, "-o", tmp_path / "night.fast.mkv", "--fast")
    assert Path(fast["checkpoint"]).name == "unet-fast-real-gray"
    with VideoReader(tmp_path / "night.fast.mkv") as reader:
        assert psnr(reader.read(0, 6)) > psnr(noisy) + GRAY_NIGHT_GAIN_FAST_DB
    # a number given is white noise, as for any video; --noise real with one, the colour real-noise weights
    assert Path(_denoise_json(clip, "-o", tmp_path / "n.mkv", "--sigma", "10")["checkpoint"]).name == "unet"
    assert Path(_denoise_json(clip, "-o", tmp_path / "r.mkv", "--noise", "real", "--sigma", "10")["checkpoint"]).name == "unet-real"


def test_fast_with_no_number_also_picks_the_weights_for_the_noise(tmp_path):
    # camera noise under --fast: the real-noise weights (the cheaper ones where they ship) at the
    # learned level, not the Gaussian weights at the patch-PCA level, which reads a tenth of it
    # (2026-12-05, camera video: 25.99 dB against 29.64, the noisy input 25.28)
    clip = _camera_noise_clip(tmp_path / "camera.mp4")
    result = CliRunner().invoke(main, ["denoise", str(clip), str(SAMPLE), "-o", str(tmp_path / "out"), "--fast", "--lossless", "--json", "-q"])
    assert result.exit_code == 0, result.output
    camera, white = (json.loads(line) for line in result.output.strip().splitlines())
    cheaper_real = resolve_checkpoint("unet", None, fast=True, real=True)
    assert camera["noise"] == "real" and camera["checkpoint"] == cheaper_real.source and camera["sigma"] > 2
    assert Path(cheaper_real.source).name in ("unet-fast-real", "unet-real")
    # white noise keeps --fast's own Gaussian weights, at the level read
    assert white["noise"] == "gaussian" and Path(white["checkpoint"]).name == "unet-fast"
    assert white["sigma"] == pytest.approx(25, rel=0.1)


def test_real_noise_weights_ship_trained_and_compact():
    checkpoint = resolve_checkpoint("unet", None, real=True)
    assert Path(checkpoint.source).name == "unet-real" and checkpoint.metadata["trained_steps"] > 0
    assert (Path(checkpoint.source) / "diffusion_pytorch_model.safetensors").stat().st_size < 16 * 2**20


def test_the_default_leaves_clean_footage_alone(tmp_path):
    # a clean clip (smooth gradients, soft shapes, fine texture, moving), no number given: near-identical output
    from conftest import make_video

    clip = make_video(tmp_path / "clean.mp4", frames=10, size="256x192", lossless=True, grain=False)
    out = tmp_path / "clean.denoised.mp4"
    record = _denoise_json(clip, "-o", out)
    with VideoReader(clip) as reader:
        clean = reader.read(0, len(reader)).astype(np.float64)
    with VideoReader(out) as reader:
        denoised = reader.read(0, len(reader)).astype(np.float64)
    psnr = 10 * np.log10(255**2 / np.mean((denoised - clean) ** 2))
    # the level read: 2.8 with the estimator of 2026-12-03, 3.2 with the one fine-tuned on real noise
    # (which reads camera noise nearer its true level), 4.5 with the one taught colour blotches
    # (2026-12-07; 40.5 dB from the input). Its random-pixel squares are noise in a corner of the
    # picture: read as white noise over the frame (7.5, the Gaussian weights) it came out 33.7 dB
    assert record["noise"] == "real" and record["sigma"] < 5 and psnr >= 38, (record["noise"], record["sigma"], psnr)


def test_white_noise_in_a_lossy_4_2_0_video_gets_the_weights_trained_on_it(tmp_path):
    # the bundled sample (white noise, lossless RGB) as a camera or a web upload stores it: H.264 4:2:0
    import imageio_ffmpeg

    lossy = tmp_path / "lossy.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(SAMPLE), "-an", "-c:v", "libx264",
                    "-crf", "20", "-pix_fmt", "yuv420p", str(lossy)], check=True)  # fmt: skip
    record = _denoise_json(lossy, "-o", tmp_path / "out.mp4")
    assert record["noise"] == "gaussian" and Path(record["checkpoint"]).name == "unet-h264" and record["sigma_estimated"]
    assert 15 < record["sigma"] < 25  # 4:2:0 and the encode thinned the sigma-25 noise
    # a number means white noise at that level: the Gaussian weights, as on any video
    exact = _denoise_json(lossy, "-o", tmp_path / "exact.mp4", "--sigma", "20")
    assert Path(exact["checkpoint"]).name == "unet" and exact["sigma"] == 20
    checkpoint = resolve_checkpoint("unet", None, compressed=True)
    assert checkpoint.metadata["trained_steps"] > 0
    assert (Path(checkpoint.source) / "diffusion_pytorch_model.safetensors").stat().st_size < 16 * 2**20


def _text_page(width: int = 176, height: int = 144, frames: int = 6) -> np.ndarray:
    """``[T, H, W, 3]`` uint8: a page of small dark glyphs (1-pixel strokes) scrolling sideways, a pixel a frame."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(5)
    page = Image.new("RGB", (width + frames, height), (235, 230, 220))
    draw = ImageDraw.Draw(page)
    for top in range(0, height, 9):
        left = 0
        while left < width + frames:
            word = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 7))))
            draw.text((left, top), word, fill=tuple(int(v) for v in rng.integers(0, 90, 3)))
            left += 6 * len(word) + 4
    pixels = np.asarray(page)
    return np.stack([pixels[:, t : t + width] for t in range(frames)])


def test_light_white_noise_on_dense_text_gets_the_gaussian_weights_at_its_level(tmp_path):
    # sigma 5 over small text: the learned estimator takes the glyphs for noise of about 45, patch
    # PCA reads about 6 and binning halves it (white). Read as camera noise at the learned level
    # (until 2026-12-06) the output was 17.9 dB from the clean page, the noisy input 34.1
    from stdit_cli.video import VideoWriter

    clean = _text_page()
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 5, clean.shape), 0, 255).round().astype(np.uint8)
    path = tmp_path / "text.mkv"
    with VideoWriter(path, noisy.shape[2], noisy.shape[1], 25, lossless=True) as writer:
        writer.write(noisy)
    report = _denoise_json(path, "-o", tmp_path / "out.mkv")
    assert report["noise"] == "gaussian" and report["sigma"] == pytest.approx(5, abs=1.5)
    with VideoReader(tmp_path / "out.mkv") as reader:
        out = reader.read(0, len(clean)).astype(np.float64)
    psnr = 10 * np.log10(255**2 / np.mean((out - clean) ** 2))
    assert psnr > 29.0  # the model's own limit on 1-pixel glyphs: 31-32 dB (--sigma 5: 32.05)


@pytest.mark.parametrize("lossless", [True, False])
def test_a_clean_interface_recording_is_left_as_it_is(tmp_path, lossless):
    # a screen recording has areas of one exact colour no camera records (stdit_cli.pipeline.flat_areas):
    # read as noise-free, it runs at level 0. Before 2026-12-06 the learned estimator took its text
    # for camera noise and the real-noise weights softened it
    from test_flat_areas import _interface

    from stdit_cli.video import VideoWriter

    clip = _interface(frames=6, height=144, width=192)
    path = tmp_path / ("ui.mkv" if lossless else "ui.mp4")
    with VideoWriter(path, clip.shape[2], clip.shape[1], 25, lossless=lossless) as writer:
        writer.write(clip)
    with VideoReader(path) as reader:
        stored = reader.read(0, len(clip)).astype(np.float64)
    report = _denoise_json(path, "-o", tmp_path / "out.mkv")
    assert report["sigma"] == 0.0 and report["noise"] == "gaussian"
    assert any("made picture with no noise" in warning and "--sigma N" in warning for warning in report["warnings"])
    with VideoReader(tmp_path / "out.mkv") as reader:
        out = reader.read(0, len(clip)).astype(np.float64)
    assert 10 * np.log10(255**2 / np.mean((out - stored) ** 2)) > 45.0


def test_a_screen_recording_with_a_noisy_webcam_denoises_the_webcam_and_leaves_the_screen(tmp_path):
    # made in part, filmed in part (stdit_cli.pipeline.made_areas): before 2026-12-06 the level was
    # read over the text as well, and the whole picture denoised at it, the text with the webcam
    from test_flat_areas import _interface
    from test_made_areas import WEBCAM

    from stdit_cli.video import VideoWriter

    # the webcam: the bundled sample's picture, denoised (a clean stand-in), with white noise of 12
    _denoise_json(SAMPLE, "-o", tmp_path / "clean.mp4", "--sigma", "25")
    with VideoReader(tmp_path / "clean.mp4") as reader:
        footage = reader.read(0, 6)[:, 32:160, 48:208]  # [6, 128, 160, 3]
    clean = _interface(6, height=256, width=320)
    clean[(slice(None), *WEBCAM)] = footage
    recorded = clean.copy()
    noise = np.random.default_rng(1).normal(0, 12, footage.shape)
    recorded[(slice(None), *WEBCAM)] = np.clip(footage + noise, 0, 255).round().astype(np.uint8)
    path = tmp_path / "call.mkv"
    with VideoWriter(path, recorded.shape[2], recorded.shape[1], 25, lossless=True) as writer:
        writer.write(recorded)
    report = _denoise_json(path, "-o", tmp_path / "out.mkv")
    assert any("with a filmed part" in warning and "--sigma N" in warning for warning in report["warnings"])
    assert report["sigma"] == pytest.approx(12, abs=2.5)
    with VideoReader(tmp_path / "out.mkv") as reader:
        out = reader.read(0, len(recorded))
    webcam = (slice(None), *WEBCAM)

    def psnr(frames: np.ndarray) -> float:
        return 10 * np.log10(255**2 / np.mean((frames[webcam].astype(np.float64) - clean[webcam]) ** 2))

    assert psnr(out) > psnr(recorded) + 4.0
    # the interface, a block and the feather away from the webcam, exactly as it went in
    assert np.array_equal(out[:, : WEBCAM[0].start - 24], recorded[:, : WEBCAM[0].start - 24])
    assert np.array_equal(out[:, :, : WEBCAM[1].start - 24], recorded[:, :, : WEBCAM[1].start - 24])
