"""Device and precision resolution."""

import numpy as np
import pytest
import torch

from conftest import make_video
from stdit_cli import runtime
from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
from stdit_cli.video import VideoReader
from stdit_cli.weights import load_checkpoint

CPU = torch.device("cpu")


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cpu_is_bf16_only_where_the_cpu_has_it(monkeypatch, native, expected):
    monkeypatch.setattr(runtime, "cpu_has_native_bf16", lambda: native)
    assert runtime.resolve_precision("auto", CPU) == expected
    assert runtime.resolve_precision("fp32", CPU) == "fp32"  # an explicit choice always wins


@pytest.mark.parametrize("avx512_bf16, amx", [(True, False), (False, True), (False, False)])
def test_native_bf16_means_avx512_bf16_or_amx(monkeypatch, avx512_bf16, amx):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert runtime.cpu_has_native_bf16() is (avx512_bf16 or amx)


def test_auto_precision_elsewhere_is_fp32():
    assert runtime.resolve_precision("auto", torch.device("mps")) == "fp32"


def test_unknown_precision_is_refused():
    with pytest.raises(runtime.RuntimeSetupError, match="unknown precision"):
        runtime.resolve_precision("fp8", CPU)


def _frames(path):
    with VideoReader(path) as reader:
        return reader.read(0, len(reader)).astype(np.int16)


def test_bf16_output_on_cpu_stays_close_to_fp32(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=5, size="64x48")
    outputs = {}
    for precision in ("fp32", "bf16"):
        denoiser = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=20, precision=precision, lossless=True))
        assert denoiser.precision == precision
        result = denoiser.denoise_file(clip, tmp_path / f"out-{precision}.mkv")
        assert result.precision == precision
        outputs[precision] = _frames(tmp_path / f"out-{precision}.mkv")
    assert not np.array_equal(outputs["fp32"], _frames(clip))  # the model does change its input
    assert np.abs(outputs["bf16"] - outputs["fp32"]).mean() < 1.0


def test_autocast_weights_are_a_copy_with_convolutions_and_linear_layers_rounded_once():
    from stdit_cli.models import UNetSTIC
    from stdit_cli.presets import load_preset

    torch.manual_seed(0)
    model = UNetSTIC(**load_preset("unet", "tiny")).eval()
    torch.nn.init.normal_(model.conv_out.weight, std=0.1)  # a fresh output layer is all zeros
    lowered = runtime.with_autocast_weights(model, "bf16")
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the original is untouched
    assert lowered.conv_in.weight.dtype == lowered.time_embedding.linear_1.weight.dtype == torch.bfloat16
    assert torch.equal(lowered.conv_in.weight, model.conv_in.weight.to(torch.bfloat16))  # autocast's own rounding
    assert lowered.conv_norm_out.weight.dtype == torch.float32  # normalisation runs in fp32 under autocast
    sample, timestep = torch.rand(1, 3, 3, 16, 16) * 2 - 1, torch.tensor([300])
    with torch.no_grad(), runtime.autocast(CPU, "bf16"):
        expected, got = model(sample, timestep).sample, lowered(sample, timestep).sample
    assert got.dtype == expected.dtype and float(expected.abs().max()) > 0.05
    # the same bf16 weights; only where fp32 biases were summed before rounding does the result move
    assert float((got - expected).float().pow(2).mean().sqrt()) < 0.02 * float(expected.float().pow(2).mean().sqrt())


def test_a_bf16_denoiser_reruns_non_finite_windows_on_the_fp32_weights(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=5, size="64x48")
    fp32 = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=20, precision="fp32", lossless=True))
    fp32.denoise_file(clip, tmp_path / "fp32.mkv")
    bf16 = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=20, precision="bf16", lossless=True))
    lowered = bf16.lowered_forward.model
    assert lowered is not bf16.model and lowered.conv_in.weight.dtype == torch.bfloat16
    # the bf16 pass of every window comes out as NaN: each is run again in fp32, on the fp32 weights
    lowered.register_forward_hook(lambda module, inputs, output: type(output)(sample=torch.full_like(output.sample, float("nan"))))
    with pytest.warns(RuntimeWarning, match="non-finite values in bf16"):
        bf16.denoise_file(clip, tmp_path / "rerun.mkv")
    assert np.array_equal(_frames(tmp_path / "rerun.mkv"), _frames(tmp_path / "fp32.mkv"))


def test_non_finite_output_in_fp32_too_writes_nothing(tmp_path, trained_like_checkpoint):
    # a sampler pushed out of range (it was `--eta 2`) gives NaN in fp32 as well: no black video
    clip = make_video(tmp_path / "in.mp4", frames=5, size="64x48")
    fp32 = VideoDenoiser(load_checkpoint(trained_like_checkpoint), DenoiseOptions(sigma_255=20, precision="fp32", lossless=True))
    fp32.model.register_forward_hook(lambda module, inputs, output: type(output)(sample=torch.full_like(output.sample, float("nan"))))
    with pytest.raises(RuntimeError, match="non-finite values .* even in fp32; nothing was written"):
        fp32.denoise_file(clip, tmp_path / "out.mkv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
