"""The denoising pipeline on real files: sigma estimation, precision guard, weights resolution."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from conftest import make_still, make_video
from stdit_cli import weights
from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
from stdit_cli.pipeline.adapters import ADAPTERS
from stdit_cli.pipeline.denoiser import NonFiniteGuard
from stdit_cli.pipeline.ensemble import self_ensemble
from stdit_cli.video import VideoReader, VideoWarning, VideoWriter
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


def test_auto_sigma_frames_open_the_stream_without_a_second_decode(tmp_path, identity_checkpoint, monkeypatch):
    # a short clip's sigma sample is its first frames: the streaming pass starts from them
    clip = make_video(tmp_path / "in.mp4", frames=12, size="64x48")
    decoded = []
    read = VideoReader.read
    monkeypatch.setattr(VideoReader, "read", lambda self, start, stop: decoded.extend(range(start, stop)) or read(self, start, stop))
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(lossless=True))
    result = denoiser.denoise_file(clip, tmp_path / "out.mkv")
    assert result.sigma_estimated and sorted(decoded) == list(range(12))  # each frame decoded once
    monkeypatch.setattr(VideoReader, "read", read)
    assert np.array_equal(_frames(tmp_path / "out.mkv"), _frames(clip))  # in order, none lost or repeated


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


@pytest.mark.parametrize("fast,x264_settings", [(False, b"crf=10.0"), (True, b"crf=9.0")])
def test_fast_encodes_with_the_cheaper_x264_settings(tmp_path, identity_checkpoint, fast, x264_settings):
    # x264 writes its settings into the stream (an SEI message): the file says how it was made
    clip = make_video(tmp_path / "in.mp4", frames=3, size="64x48")
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=10, fast=fast))
    denoiser.denoise_file(clip, tmp_path / "out.mp4")
    data = (tmp_path / "out.mp4").read_bytes()
    assert x264_settings in data
    assert (b"subme=1 " in data) == fast and (b"subme=2 " in data) != fast  # superfast vs veryfast


def test_missing_weights_message_says_how_to_get_them(monkeypatch):
    monkeypatch.setattr(weights, "shipped_checkpoint_dir", lambda name: None)
    with pytest.raises(CheckpointError, match=r"stdit train --model segdit"):
        resolve_checkpoint("segdit", None)


def test_bare_safetensors_file_with_config_beside_it(identity_checkpoint):
    checkpoint = load_checkpoint(identity_checkpoint / "diffusion_pytorch_model.safetensors", "unet")
    assert checkpoint.adapter.name == "unet" and checkpoint.schedule["num_train_timesteps"] == 1000


def test_windows_do_not_overlap_by_default_and_an_explicit_overlap_wins(identity_checkpoint):
    checkpoint = load_checkpoint(identity_checkpoint)
    window = checkpoint.model.num_frames
    assert VideoDenoiser(checkpoint, DenoiseOptions()).plan.stride == window
    assert VideoDenoiser(checkpoint, DenoiseOptions(fast=True)).plan.stride == window
    assert VideoDenoiser(checkpoint, DenoiseOptions(window_overlap=1)).plan.stride == window - 1


def test_fast_with_a_given_checkpoint_changes_only_the_encoder(tmp_path, trained_like_checkpoint, monkeypatch):
    # --fast picks a model's cheaper shipped checkpoint and x264 settings; both run one view on a frame
    # of 640x272 or more (this small one would get more by default), so with the checkpoint given and
    # a lossless output the frames are the same
    monkeypatch.setattr("stdit_cli.pipeline.denoiser.VIEW_BUDGET_PIXELS", 64 * 48)
    clip = make_video(tmp_path / "in.mp4", frames=7, size="64x48")
    outputs = {}
    for fast in (False, True):
        denoiser = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=20, fast=fast, lossless=True))
        assert denoiser.ensemble == 1
        denoiser.denoise_file(clip, tmp_path / f"out-{fast}.mkv")
        outputs[fast] = _frames(tmp_path / f"out-{fast}.mkv")
    assert np.array_equal(outputs[True], outputs[False])
    assert not np.array_equal(outputs[False], _frames(clip))  # and the model did change the video


def test_cpu_batch_size_auto_is_one_and_explicit_sizes_are_kept(identity_checkpoint):
    checkpoint = load_checkpoint(identity_checkpoint)
    assert VideoDenoiser(checkpoint, DenoiseOptions(device="cpu")).batch_size_for(1080, 1920) == 1
    assert VideoDenoiser(checkpoint, DenoiseOptions(device="cpu", batch_size=6)).batch_size_for(1080, 1920) == 6


def test_unet_tiles_are_smaller_on_a_cpu_and_explicit_tiles_win(identity_checkpoint):
    # a CPU runs the unet faster on 640-px tiles than on whole frames (1.1-1.4x at 854x480); a GPU keeps 1024
    checkpoint = load_checkpoint(identity_checkpoint)
    assert checkpoint.adapter.name == "unet"
    cpu = VideoDenoiser(checkpoint, DenoiseOptions(device="cpu"))
    assert (cpu.tile, cpu.tile_overlap) == (640, 32)
    assert checkpoint.adapter.tiling_for(torch.device("cuda")) == (1024, 16)
    given = VideoDenoiser(checkpoint, DenoiseOptions(device="cpu", tile=256, tile_overlap=8))
    assert (given.tile, given.tile_overlap) == (256, 8)
    assert ADAPTERS["segdit"].tiling_for(torch.device("cpu")) == (32, 8)  # the DiTs keep their training crop


def test_compile_failure_falls_back_to_eager_with_one_warning(tmp_path, trained_like_checkpoint, monkeypatch):
    clip = make_video(tmp_path / "in.mp4", frames=4)
    eager = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=15, lossless=True))
    eager.denoise_file(clip, tmp_path / "eager.mkv")

    def broken_compile(model, **kwargs):
        def compiled(*args, **kw):
            raise RuntimeError("inductor: no C++ compiler found")
        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    denoiser = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=15, lossless=True, compile=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        denoiser.denoise_file(clip, tmp_path / "compiled.mkv")
    assert sum("torch.compile failed" in str(w.message) for w in caught) == 1
    assert np.array_equal(_frames(tmp_path / "compiled.mkv"), _frames(tmp_path / "eager.mkv"))


def test_encoder_error_removes_the_partial_output(tmp_path, identity_checkpoint, monkeypatch):
    from stdit_cli.video import writer as video_writer

    clip = make_video(tmp_path / "in.mp4", frames=12)

    def failing_write(self, frames):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(video_writer.VideoWriter, "write", failing_write)
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=10))
    with pytest.raises(OSError, match="No space left"):
        denoiser.denoise_file(clip, tmp_path / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_free_host_memory_is_released_every_few_batches(tmp_path, identity_checkpoint, monkeypatch):
    import stdit_cli.pipeline.denoiser as denoiser_module

    released = []
    monkeypatch.setattr(denoiser_module, "release_free_memory", lambda: released.append(1) or True)
    monkeypatch.setattr(denoiser_module, "RELEASE_MEMORY_EVERY", 2)
    clip = make_video(tmp_path / "in.mp4", frames=20, size="64x48")
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=10, fast=True, lossless=True))
    denoiser.denoise_file(clip, tmp_path / "out.mkv")
    windows = -(-20 // denoiser.plan.window)  # --fast: disjoint windows, one unit per batch on CPU
    assert windows >= 4 and len(released) == windows // 2


def test_the_streaming_pass_decodes_on_demand_with_pyav(tmp_path, identity_checkpoint, monkeypatch):
    # decord decodes ahead without bound when the model is slower than it; PyAV does not
    import stdit_cli.pipeline.opening as opening_module

    backends = []

    class SpyReader(VideoReader):
        def __init__(self, path, backend="auto", bit_depth=8):
            super().__init__(path, backend, bit_depth)
            backends.append(self.backend)

    monkeypatch.setattr(opening_module, "VideoReader", SpyReader)
    clip = make_video(tmp_path / "in.mp4", frames=6, size="64x48")
    VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=10, lossless=True)).denoise_file(clip, tmp_path / "out.mkv")
    assert backends == ["pyav"]
    assert np.array_equal(_frames(tmp_path / "out.mkv"), _frames(clip))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_guard_finds_one_bad_value(bad):
    output = torch.rand(1, 3, 5, 48, 64) * 2 - 1
    assert NonFiniteGuard().check(output)
    output[0, 2, 4, 47, 63] = bad
    assert not NonFiniteGuard().check(output)


@pytest.mark.parametrize("size", [2, 4, 8])
def test_self_ensemble_averages_the_symmetric_views(size):
    torch.manual_seed(0)
    # a predictor that is not equivariant: it scales each position by its own weight
    weight = torch.rand(1, 3, 4, 6, 6)

    def predict(sample, timestep):
        return (sample * weight).to(torch.bfloat16)  # reduced precision, as under autocast

    sample = torch.randn(2, 3, 4, 6, 6)
    averaged = self_ensemble(predict, size)(sample, torch.tensor([10, 10]))
    # a view maps back x * weight' with weight' the weight under the inverse symmetry; by hand:
    rotations = [torch.rot90(weight, k, dims=(3, 4)) for k in range(4)]
    symmetries = {
        2: [weight, weight.transpose(3, 4)],
        4: [weight, weight.transpose(3, 4), weight.flip(3, 4), weight.flip(3, 4).transpose(3, 4)],
        8: rotations + [r.transpose(3, 4) for r in rotations],  # the whole group, in any order
    }[size]
    expected = torch.stack([(sample * w).to(torch.bfloat16).float() for w in symmetries]).mean(0)
    assert averaged.dtype == torch.float32
    torch.testing.assert_close(averaged, expected)


def test_self_ensemble_keeps_non_square_frames_in_place():
    # an equivariant predictor gives back its own prediction: every view is undone exactly
    def predict(sample, timestep):
        return sample * 2 + sample.mean()

    sample = torch.randn(1, 3, 2, 5, 7)
    torch.testing.assert_close(self_ensemble(predict, 8)(sample, torch.tensor([3])), predict(sample, None))


def test_ensemble_of_one_is_the_plain_predictor_and_sizes_are_checked(identity_checkpoint):
    def predict(sample, timestep):
        return sample

    assert self_ensemble(predict, 1) is predict
    with pytest.raises(ValueError, match="ensemble size"):
        self_ensemble(predict, 3)
    with pytest.raises(ValueError, match="ensemble size"):
        VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(ensemble=3))


def _forward_passes(checkpoint_dir, clip, tmp_path, runs: dict[str, dict]) -> dict[str, tuple[int, int, np.ndarray]]:
    """For each named set of options (on top of sigma 20, lossless): the backbone's forward passes
    over ``clip``, the views the result reports, and the frames written."""
    checkpoint = load_checkpoint(checkpoint_dir)
    calls = []
    checkpoint.model.register_forward_pre_hook(lambda module, args, kwargs: calls.append(1), with_kwargs=True)
    seen = {}
    for name, options in runs.items():
        calls.clear()
        options = {"sigma_255": 20, "lossless": True, **options}
        result = VideoDenoiser(checkpoint, DenoiseOptions(**options)).denoise_file(clip, tmp_path / f"{name}.mkv")
        seen[name] = (len(calls), result.ensemble, _frames(tmp_path / f"{name}.mkv"))
    return seen


def test_views_by_default_fill_the_model_time_of_one_view_at_640x272():
    from stdit_cli.pipeline.denoiser import views_for_size

    sizes = {(640, 272): 1, (1920, 1080): 1, (641, 272): 1, (352, 288): 1, (320, 240): 2, (176, 144): 4, (96, 64): 8, (16, 16): 8}
    assert {size: views_for_size(*size) for size in sizes} == sizes


def test_ensemble_runs_every_view_through_the_model_by_size_by_default_one_with_fast(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=5, size="48x32")
    runs = _forward_passes(trained_like_checkpoint, clip, tmp_path, {
        "one": {"ensemble": 1, "fast": True}, "two": {"ensemble": 2, "fast": True}, "default": {}, "fast": {"fast": True},
    })  # fmt: skip
    passes = runs["one"][0]
    # 48x32: eight views fit in one view's model time at 640x272
    assert passes > 0 and [runs[n][:2] for n in ("two", "default", "fast")] == [(2 * passes, 2), (8 * passes, 8), (passes, 1)]
    assert not np.array_equal(runs["one"][2], runs["two"][2])  # the transposed view changed the estimate


def test_a_still_gets_two_views_unless_the_views_or_fast_are_asked_for(tmp_path, trained_like_checkpoint, monkeypatch):
    monkeypatch.setattr("stdit_cli.pipeline.denoiser.VIEW_BUDGET_PIXELS", 1)  # no more views for its small size
    still = make_still(tmp_path / "still.mkv", frames=5, size="48x32")
    runs = _forward_passes(trained_like_checkpoint, still, tmp_path, {
        "default": {}, "auto": {"sigma_255": None}, "one": {"ensemble": 1}, "fast": {"fast": True},
    })  # fmt: skip
    passes = runs["one"][0]
    views = {name: run[:2] for name, run in runs.items()}
    assert passes > 0 and views == {"default": (2 * passes, 2), "auto": (2 * passes, 2), "one": (passes, 1), "fast": (passes, 1)}


def test_strength_below_one_puts_back_that_share_of_the_removed_noise(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=5, size="64x48", lossless=True)
    source = _frames(clip).astype(np.float64)
    outputs = {}
    for strength in (1.0, 0.5, 0.0):
        options = DenoiseOptions(sigma_255=20, strength=strength, lossless=True, ensemble=1)
        result = VideoDenoiser(load_checkpoint(trained_like_checkpoint), options).denoise_file(clip, tmp_path / f"{strength}.mkv")
        assert result.strength == strength and result.sigma == 20
        outputs[strength] = _frames(tmp_path / f"{strength}.mkv").astype(np.float64)
    removed = source - outputs[1.0]
    assert np.abs(removed).mean() > 2  # the model changes its input
    assert np.array_equal(outputs[0.0], source)  # nothing removed
    # half of it put back: within a level (each output is rounded to 8 bits), but where windows
    # overlap and the estimate leaves 0..255 (clamped per window, then blended)
    deviation = np.abs(outputs[0.5] - (outputs[1.0] + 0.5 * removed))
    assert np.quantile(deviation, 0.999) <= 1.0 and deviation.mean() < 0.3


def test_strength_above_one_denoises_a_higher_sigma(trained_like_checkpoint):
    from stdit_cli.pipeline.options import Strength

    assert Strength.from_user(2.0) == Strength(sigma_scale=2.0, keep_input=0.0)
    assert Strength.from_user(0.7).sigma_scale == 1.0 and Strength.from_user(0.7).keep_input == pytest.approx(0.3)
    with pytest.raises(ValueError, match="strength"):
        DenoiseOptions(strength=-0.1)


def test_strength_above_one_starts_later_and_is_reported(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=3, size="40x30")
    plain = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=10, lossless=True)).denoise_file(clip, tmp_path / "a.mkv")
    harder = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=10, strength=2.5, lossless=True)).denoise_file(clip, tmp_path / "b.mkv")
    assert harder.sigma == plain.sigma == 10  # the measured or given level is what is reported
    sampler = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions()).sampler
    assert harder.t_start == sampler.start_timestep(25.0) > plain.t_start
    assert not np.array_equal(_frames(tmp_path / "a.mkv"), _frames(tmp_path / "b.mkv"))


def test_channels_last_prepares_2d_and_3d_convolutions_alike():
    # a backbone mixing Conv2d and Conv3d (nn.Module.to(memory_format=channels_last) refuses 5-D weights)
    model = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 3, padding=1), torch.nn.Flatten(1, 2), torch.nn.Conv2d(8, 3, 3, padding=1))
    x = torch.randn(1, 3, 2, 9, 11)
    with torch.no_grad():
        expected = model(x)
        prepared = dataclasses.replace(ADAPTERS["unet"], channels_last=True).prepare(model)
        got = prepared(x)
    assert prepared[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert prepared[2].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(got, expected)


def test_frames_in_memory_are_denoised_as_the_same_frames_in_a_file(tmp_path, trained_like_checkpoint):
    # a researcher's notebook: frames already decoded, no files; the same pass as the file's
    clip = make_video(tmp_path / "clip.mkv", frames=11, size="72x40", lossless=True)
    with VideoReader(clip) as reader:
        frames = reader.read(0, len(reader))
    for sigma in (12.0, None):  # given, and read from the frames as with no number given
        denoiser = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=sigma, lossless=True))
        result = denoiser.denoise_file(clip, tmp_path / "out.mkv")
        with VideoReader(tmp_path / "out.mkv") as reader:
            from_file = reader.read(0, len(reader))
        in_memory = denoiser.denoise_frames(frames)
        assert in_memory.shape == frames.shape and in_memory.dtype == np.uint8
        assert np.abs(in_memory.astype(int) - frames).mean() > 0.5  # the perturbed model changes its input
        np.testing.assert_array_equal(in_memory, from_file)
        (tmp_path / "out.mkv").unlink()
    assert result.sigma_estimated
    # deep frames come back deep; a level given to the call wins over the options'
    deep = denoiser.denoise_frames(frames.astype(np.uint16) * 257, sigma_255=12.0)
    assert deep.dtype == np.uint16 and deep.shape == frames.shape
    with pytest.raises(ValueError, match=r"expected \[T, H, W, 3\] uint8 or uint16 RGB frames"):
        denoiser.denoise_frames(frames[..., 0])
    with pytest.raises(ValueError, match=r"expected \[T, H, W, 3\] uint8 or uint16 RGB frames"):
        denoiser.denoise_frames(frames[:, :0])
    with pytest.raises(ValueError, match="a numpy array"):
        denoiser.denoise_frames(frames.tolist())
    for level in (1000, -5, float("nan"), "10"):  # the CLI's --sigma takes 0..255 only
        with pytest.raises(ValueError, match="sigma_255 must be a number in 0..255"):
            denoiser.denoise_frames(frames, sigma_255=level)


def test_a_part_made_picture_keeps_its_made_part_in_a_file_and_in_memory(tmp_path, trained_like_checkpoint):
    # a screen recording with a webcam (pipeline.made_areas): only the webcam goes through the model,
    # at the level read on it, in the file pass and in denoise_frames alike
    from test_made_areas import WEBCAM, _recording

    frames, _ = _recording(frames=6, sigma=12.0)
    clip = tmp_path / "call.mkv"
    with VideoWriter(clip, frames.shape[2], frames.shape[1], 25, lossless=True) as writer:
        writer.write(frames)
    denoiser = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(lossless=True))
    with pytest.warns(VideoWarning, match="with a filmed part in it"):
        result = denoiser.denoise_file(clip, tmp_path / "out.mkv")
    assert result.sigma == pytest.approx(12, abs=2)  # the webcam's level, not the text's
    from_file = _frames(tmp_path / "out.mkv")
    with pytest.warns(VideoWarning, match="with a filmed part in it"):
        in_memory = denoiser.denoise_frames(frames)
    np.testing.assert_array_equal(in_memory, from_file)
    webcam = (slice(None), *WEBCAM)
    assert np.abs(in_memory[webcam].astype(int) - frames[webcam]).mean() > 0.5  # the perturbed model changes it
    away = WEBCAM[0].start - 24  # a block and the feather above it
    np.testing.assert_array_equal(in_memory[:, :away], frames[:, :away])
    # a number given denoises all of it
    given = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=12, lossless=True)).denoise_frames(frames)
    assert np.abs(given[:, :away].astype(int) - frames[:, :away]).mean() > 0.5


def test_the_decoders_bias_is_put_back_for_weights_that_learnt_from_exact_rgb(tmp_path, identity_checkpoint):
    # swscale's fast path reads 8-bit 4:2:0 a level or two dark; weights trained on exact RGB carry that
    # into their output (--sigma 10 on H.264 white noise: -0.3 dB), so the pipeline adds it back
    import subprocess

    import imageio_ffmpeg

    from stdit_cli.pipeline.adapters import adapter_for
    from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE
    from stdit_cli.presets import load_preset
    from stdit_cli.weights import save_checkpoint

    colour = np.array([39, 89, 199], np.float64)
    path = tmp_path / "flat.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x48", "-r", "25",
                    "-i", "-", "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", str(path)],
                   input=np.broadcast_to(colour.astype(np.uint8), (6, 48, 64, 3)).tobytes(), check=True)  # fmt: skip
    decoded = _frames(path).astype(np.float64).mean(axis=(0, 1, 2))
    exact_rgb = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=5, lossless=True))
    exact_rgb.denoise_file(path, tmp_path / "out.mkv")
    put_back = _frames(tmp_path / "out.mkv").astype(np.float64).mean(axis=(0, 1, 2))
    assert np.abs(put_back - colour).mean() < 0.5 * np.abs(decoded - colour).mean()
    # weights trained on video decoded that way (white noise through H.264) take it out themselves
    torch.manual_seed(0)
    model = adapter_for("unet").model_class(**load_preset("unet", "tiny"))
    trained_on_h264 = save_checkpoint(model, tmp_path / "h264", DEFAULT_SCHEDULE, {"train_config": {"compressed_fraction": 1.0}})
    VideoDenoiser(load_checkpoint(trained_on_h264), DenoiseOptions(sigma_255=5, lossless=True)).denoise_file(path, tmp_path / "as_is.mkv")
    np.testing.assert_array_equal(_frames(tmp_path / "as_is.mkv"), _frames(path))
