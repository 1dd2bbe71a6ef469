"""Interlaced video: read with its field order, denoised field by field, written back interlaced."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
from stdit_cli.video import VideoReader, probe_video
from stdit_cli.video.fields import split_fields, weave_chunks, weave_fields
from stdit_cli.weights import load_checkpoint


def _interlaced_clip(path, order: str, codec=("-c:v", "libx264rgb", "-qp", "0")):
    """A moving pattern at 50 images/s woven into 25 interlaced frames/s, flagged ``order`` first."""
    weave = "interleave_top" if order == "tff" else "interleave_bottom"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=48x32:rate=50,noise=alls=12:allf=t", "-frames:v", "12",
                    "-vf", f"tinterlace={weave},setfield={order}", *codec, "-flags", "+ilme+ildct", str(path)],
                   check=True)  # fmt: skip
    return path


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_fields_come_out_in_the_order_they_were_shot_and_weave_back(order):
    frames = np.random.default_rng(0).integers(0, 256, (3, 6, 5, 3), dtype=np.uint8)
    fields = split_fields(frames, order)
    assert fields.shape == (6, 3, 5, 3)
    first, second = (frames[1, 0::2], frames[1, 1::2]) if order == "tff" else (frames[1, 1::2], frames[1, 0::2])
    np.testing.assert_array_equal(fields[2], first)
    np.testing.assert_array_equal(fields[3], second)
    np.testing.assert_array_equal(weave_fields(fields, order), frames)
    # chunks of any length, a pair straddling two of them
    woven = np.concatenate(list(weave_chunks([fields[:3], fields[3:4], fields[4:]], order)))
    np.testing.assert_array_equal(woven, frames)
    with pytest.raises(ValueError, match="unpaired"):
        list(weave_chunks([fields[:3]], order))


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_the_field_order_is_read_from_the_frames(tmp_path, order):
    clip = _interlaced_clip(tmp_path / f"{order}.mp4", order, ("-c:v", "libx264"))
    assert probe_video(clip).field_order == order
    progressive = tmp_path / "progressive.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=48x32",
                    "-frames:v", "2", "-c:v", "libx264", str(progressive)], check=True)  # fmt: skip
    assert probe_video(progressive).field_order == "progressive"


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_interlaced_video_is_denoised_field_by_field_and_stays_interlaced(tmp_path, identity_checkpoint, order):
    clip = _interlaced_clip(tmp_path / "camcorder.mp4", order)
    denoiser = VideoDenoiser(load_checkpoint(identity_checkpoint), DenoiseOptions(sigma_255=10, tile=64))
    seen = []
    unit_denoiser = denoiser._unit_denoiser

    def spying(*args, **kwargs):
        denoise_units = unit_denoiser(*args, **kwargs)

        def recorded(units):
            seen.append(tuple(units.shape[-2:]))
            return denoise_units(units)

        return recorded

    denoiser._unit_denoiser = spying
    out = tmp_path / "out.mp4"
    result = denoiser.denoise_file(clip, out)
    assert result.frames == 12 and result.lossless
    assert set(seen) == {(16, 48)}  # half-height fields, not 32-row frames
    written = probe_video(out)
    assert written.field_order == order
    with VideoReader(out) as output, VideoReader(clip) as source:  # the identity model: the frames come back exactly
        np.testing.assert_array_equal(output.read(0, 12), source.read(0, 12))


def test_inspect_shapes_shows_the_fields_the_model_sees(tmp_path):
    from stdit_cli.shape_report import build_report

    clip = _interlaced_clip(tmp_path / "camcorder.mp4", "bff")
    stages = {stage.stage: stage for stage in build_report("unet", frames=3, video=clip).stages}
    assert stages["decode"].shape == [2, 32, 48, 3]
    assert stages["fields"].shape == [3, 16, 48, 3]
    assert stages["normalise"].shape == [1, 3, 3, 16, 48]
