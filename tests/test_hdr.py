"""HDR (HLG, PQ) video keeps its colour: read as its BT.2020 signal, written and tagged the same way."""

from __future__ import annotations

import subprocess
import warnings
from fractions import Fraction

import av
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner

from stdit_cli.cli import main
from stdit_cli.video import VideoReader, VideoWriter, probe_video

TAGS = {"hlg": ("arib-std-b67", 18), "pq": ("smpte2084", 16)}


def _hdr_clip(path, transfer: str):
    """A 10-bit HEVC clip of colour bars in BT.2020 with ``transfer``, as phones record HDR video."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "smptehdbars=size=64x48:rate=25",
                    "-frames:v", "3", "-vf", "scale=out_color_matrix=bt2020:out_range=tv,format=yuv420p10le,"
                    f"setparams=colorspace=bt2020nc:color_primaries=bt2020:color_trc={transfer}:range=tv",
                    "-c:v", "libx265", "-x265-params", "log-level=error", "-crf", "4", str(path)], check=True)  # fmt: skip
    return path


def _tags(path):
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return int(context.color_primaries), int(context.color_trc)


def _frames(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 10-bit caveat
        with VideoReader(path) as reader:
            return reader.read(0, len(reader)).astype(int)


@pytest.mark.parametrize("kind", ["hlg", "pq"])
@pytest.mark.parametrize("suffix, lossless", [(".mp4", False), (".mp4", True), (".mkv", True)])
def test_an_hdr_video_is_written_back_as_hdr_with_its_colours(tmp_path, kind, suffix, lossless):
    transfer, code = TAGS[kind]
    source = _hdr_clip(tmp_path / "in.mov", transfer)
    info = probe_video(source)
    assert info.hdr_transfer == transfer
    frames = _frames(source).astype(np.uint8)
    out = tmp_path / f"out{suffix}"
    with VideoWriter(out, info.width, info.height, Fraction(25), lossless=lossless, hdr_transfer=info.hdr_transfer) as writer:
        writer.write(frames)
    assert _tags(out) == (9, code)  # BT.2020 primaries, the input's transfer: what players read
    if lossless:  # the RGB signal itself, bit for bit
        np.testing.assert_array_equal(_frames(out), frames)


def test_sdr_video_stays_bt709_and_the_cli_keeps_hdr_tags(tmp_path, identity_checkpoint):
    sdr = tmp_path / "sdr.mp4"
    with VideoWriter(sdr, 64, 48, Fraction(25)) as writer:
        writer.write(np.full((2, 48, 64, 3), 90, np.uint8))
    assert probe_video(sdr).hdr_transfer is None and _tags(sdr) == (1, 1)
    source = _hdr_clip(tmp_path / "phone.mov", TAGS["hlg"][0])
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "5",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output  # its 10 bits are kept too (tests/test_deep_video.py)
    assert _tags(tmp_path / "phone.denoised.mp4") == (9, 18)


def test_hdr_tags_hold_on_10_bit_hevc_and_an_8_bit_image_says_hdr_was_kept(tmp_path):
    source = _hdr_clip(tmp_path / "in.mov", TAGS["pq"][0])
    info = probe_video(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with VideoReader(source, bit_depth=None) as reader:
            frames = reader.read(0, len(reader))
    with VideoWriter(tmp_path / "out.mp4", info.width, info.height, Fraction(25), hdr_transfer=info.hdr_transfer, bit_depth=16) as writer:
        writer.write(frames)
    assert _tags(tmp_path / "out.mp4") == (9, 16)
    from stdit_cli.video.caveats import bits_lost

    assert bits_lost(info, 10, "10-bit HEVC") is None
    assert "PQ HDR kept" in bits_lost(info, 8, "an 8-bit image")


def test_hdr10_mastering_display_and_light_levels_are_kept(tmp_path, identity_checkpoint):
    # an HDR10 grade: its mastering display (BT.2020 primaries, 0.0001-1000 cd/m2) and MaxCLL / MaxFALL
    hdr10 = "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400"
    source = tmp_path / "grade.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "smptehdbars=size=64x48:rate=25",
                    "-frames:v", "3", "-vf", "scale=out_color_matrix=bt2020:out_range=tv,format=yuv420p10le,"
                    "setparams=colorspace=bt2020nc:color_primaries=bt2020:color_trc=smpte2084:range=tv",
                    "-c:v", "libx265", "-x265-params", f"log-level=error:hdr10=1:{hdr10}", str(source)], check=True)  # fmt: skip
    assert probe_video(source).hdr10_metadata == hdr10
    result = CliRunner().invoke(main, ["denoise", str(source), "--checkpoint", str(identity_checkpoint), "--sigma", "5",
                                       "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    out = probe_video(tmp_path / "grade.denoised.mp4")
    assert (out.hdr_transfer, out.hdr10_metadata) == ("smpte2084", hdr10)
    # and in the lossless output (12-bit lossless HEVC), where it was dropped
    lossless = tmp_path / "grade.lossless.mp4"
    result = CliRunner().invoke(main, ["denoise", str(source), "-o", str(lossless), "--checkpoint", str(identity_checkpoint),
                                       "--sigma", "5", "--lossless", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (probe_video(lossless).hdr_transfer, probe_video(lossless).hdr10_metadata) == ("smpte2084", hdr10)
    # lossless in .mkv, where FFV1 has no place for it: lossless HEVC there too
    in_mkv = tmp_path / "grade.lossless.mkv"
    result = CliRunner().invoke(main, ["denoise", str(source), "-o", str(in_mkv), "--checkpoint", str(identity_checkpoint),
                                       "--sigma", "5", "--lossless", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (probe_video(in_mkv).codec, probe_video(in_mkv).hdr10_metadata) == ("hevc", hdr10)
    assert probe_video(_hdr_clip(tmp_path / "hlg.mov", TAGS["hlg"][0])).hdr10_metadata is None  # HLG carries none
