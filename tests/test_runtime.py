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
