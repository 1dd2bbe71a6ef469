"""Shared test material: small real video files made with FFmpeg, and tiny checkpoints."""

from __future__ import annotations

import signal
import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from stdit_cli.pipeline.adapters import adapter_for
from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE
from stdit_cli.presets import load_preset
from stdit_cli.video import VideoReader, VideoWriter
from stdit_cli.weights import save_checkpoint


def make_video(path: Path, frames: int = 6, size: str = "40x30", rate: str = "25", audio: bool = False, lossless: bool = False,
               grain: bool = True) -> Path:  # fmt: skip
    """A short real video file (moving test pattern, with grain unless ``grain=False``), optionally with a sine soundtrack."""
    width, height = (int(v) for v in size.split("x"))
    # testsrc2 rounds sizes to even numbers: draw larger, crop to the exact (possibly odd) size
    source = f"testsrc2=size={width + 1}x{height + 1}:rate={rate},format=rgb24,crop={width}:{height}:0:0"
    if grain:
        source += ",noise=alls=20:allf=t"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if audio:
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    command += ["-frames:v", str(frames)]
    if lossless:
        command += ["-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24"]
    else:
        command += ["-c:v", "libx264", "-pix_fmt", "yuv444p"]
    if audio:
        command += ["-c:a", "aac", "-t", f"{frames / float(eval(rate)):.3f}"]
    subprocess.run([*command, str(path)], check=True)
    return path


def make_still(path: Path, frames: int = 5, size: str = "48x32") -> Path:
    """A photo stored as a clip: one grainy test-pattern frame ``frames`` times, losslessly."""
    source = make_video(path.with_name(f"{path.stem}-frame{path.suffix}"), frames=1, size=size, lossless=True)
    with VideoReader(source) as reader:
        frame = reader.read(0, 1)
    width, height = (int(v) for v in size.split("x"))
    with VideoWriter(path, width, height, Fraction(25), lossless=True) as writer:
        writer.write(np.repeat(frame, frames, axis=0))
    return path


@pytest.fixture(autouse=True)
def interactive_signal_dispositions():
    """Tests send signals to themselves and to stdit subprocesses. A test run started under nohup or
    as a background job inherits SIGHUP/SIGINT ignored, which stdit rightly respects (and children
    inherit); give every test the dispositions of an interactive shell instead."""
    wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL, signal.SIGHUP: signal.SIG_DFL}
    saved = {signum: signal.getsignal(signum) for signum in wanted}
    for signum, handler in wanted.items():
        signal.signal(signum, handler)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture(scope="session")
def identity_checkpoint(tmp_path_factory) -> Path:
    """A freshly initialised tiny UNetSTIC: its zero-initialised output layer predicts epsilon = 0,
    so one sampler step returns the input exactly (an identity denoiser through the real pipeline)."""
    torch.manual_seed(0)
    model = adapter_for("unet").model_class(**load_preset("unet", "tiny"))
    folder = tmp_path_factory.mktemp("ckpt") / "unet-tiny-identity"
    return save_checkpoint(model, folder, DEFAULT_SCHEDULE, {"purpose": "tests"})


@pytest.fixture(scope="session")
def trained_like_checkpoint(tmp_path_factory) -> Path:
    """A tiny UNetSTIC whose output layer is perturbed, so it changes its input (not an identity)."""
    torch.manual_seed(1)
    model = adapter_for("unet").model_class(**load_preset("unet", "tiny"))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    folder = tmp_path_factory.mktemp("ckpt") / "unet-tiny-perturbed"
    return save_checkpoint(model, folder, DEFAULT_SCHEDULE)
