"""Video of more than 8 bits per sample is denoised in 16 bits and written back in more than 8."""

from __future__ import annotations

import json
import subprocess
import warnings
from fractions import Fraction

import av
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner

from stdit_cli.cli import main
from stdit_cli.pipeline.tiling import UINT16, SampleFormat, StreamingBlender, WindowPlan
from stdit_cli.video import VideoError, VideoReader, VideoWarning, VideoWriter
from stdit_cli.video.depth import to_8_bits
from stdit_cli.video.image_writer import ImageWriter

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _as_16_bits(v10: np.ndarray) -> np.ndarray:
    """10-bit values as FFmpeg scales them to 16 bits."""
    return (v10 << 6) | (v10 >> 4)


def _pipe(frames_uint16: np.ndarray, path, *codec: str):
    height, width = frames_uint16.shape[1:3]
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{width}x{height}",
                    "-r", "25", "-i", "-", *codec, str(path)], input=frames_uint16.tobytes(), check=True)  # fmt: skip
    return path


def _gradient_10_bit(frames: int = 6, height: int = 32, width: int = 64) -> np.ndarray:
    """A dim, slow gradient (levels 40-60 of 255 across the frame) in 10-bit steps, as uint16."""
    ramp = np.linspace(40 * 1023 / 255, 60 * 1023 / 255, width)
    v10 = np.round(np.broadcast_to(ramp[None, None, :, None], (frames, height, width, 3))).astype(np.uint16)
    return _as_16_bits(v10)


def _finer_than_8_bits(row_uint16: np.ndarray) -> float:
    """Distinct values in a row of a smooth ramp over the most an 8-bit row spanning the same range holds."""
    span_255 = (int(row_uint16.max()) - int(row_uint16.min())) / 257
    return len(np.unique(row_uint16)) / (np.floor(span_255) + 1)


def _read(path, bit_depth=None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with VideoReader(path, backend="pyav", bit_depth=bit_depth) as reader:
            return reader.read(0, len(reader))


def _stream(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.format.name, stream.codec_tag


def test_a_reader_returns_the_sources_own_depth_when_asked(tmp_path):
    v10 = np.random.default_rng(0).integers(0, 1024, (3, 24, 32, 3)).astype(np.uint16)
    source = _pipe(_as_16_bits(v10), tmp_path / "ten.mkv", "-c:v", "ffv1", "-pix_fmt", "gbrp10le")
    with VideoReader(source, bit_depth=None) as reader:
        assert (reader.bit_depth, reader.dtype, reader.backend) == (16, np.uint16, "pyav")  # decord decodes 8 bits only
        np.testing.assert_array_equal(reader.read(0, 3), _as_16_bits(v10))
    with pytest.warns(VideoWarning, match="gbrp10le has 10 bits per sample; it is read as 8-bit RGB"):
        with VideoReader(source) as reader:  # the default: 8-bit frames, said so
            assert reader.read(0, 1).dtype == np.uint8
    with pytest.raises(VideoError, match="decord decodes 8-bit frames only"):
        VideoReader(source, backend="decord", bit_depth=16)
    eight = _pipe(_as_16_bits(v10), tmp_path / "eight.mkv", "-c:v", "ffv1", "-pix_fmt", "bgr0")
    with VideoReader(eight, bit_depth=None) as reader:  # 8-bit video stays 8-bit
        assert reader.bit_depth == 8 and reader.read(0, 1).dtype == np.uint8


def test_16_bit_frames_go_through_the_blender_exactly():
    frames = np.random.default_rng(1).integers(0, 65536, (7, 20, 24, 3)).astype(np.uint16)
    blender = StreamingBlender(lambda units: units.clone(), WindowPlan.from_overlap(5, 1), tile=16, tile_overlap=4, batch_size=2)
    out = np.concatenate(list(blender.run([frames[:3], frames[3:]])))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, frames)
    assert SampleFormat.of(np.uint16) is UINT16
    with pytest.raises(ValueError, match="uint8 or uint16"):
        SampleFormat.of(np.float32)


def test_16_bit_frames_are_written_losslessly_in_mkv_and_to_12_bits_in_mp4(tmp_path):
    frames = np.random.default_rng(2).integers(0, 65536, (2, 24, 32, 3)).astype(np.uint16)
    with VideoWriter(tmp_path / "out.mkv", 32, 24, Fraction(25), lossless=True, bit_depth=16) as writer:
        writer.write(frames)
    assert (writer.stored_bits, _stream(tmp_path / "out.mkv")[:2]) == (16, ("ffv1", "gbrp16le"))
    np.testing.assert_array_equal(_read(tmp_path / "out.mkv"), frames)
    with VideoWriter(tmp_path / "out.mp4", 32, 24, Fraction(25), lossless=True, bit_depth=16) as writer:
        writer.write(frames)
    assert (writer.stored_bits, _stream(tmp_path / "out.mp4")) == (12, ("hevc", "gbrp12le", "hvc1"))
    assert np.abs(_read(tmp_path / "out.mp4").astype(int) - frames).max() < 2**4  # to 1/4096
    with pytest.raises(ValueError, match="uint16"):
        writer = VideoWriter(tmp_path / "bad.mp4", 32, 24, Fraction(25), bit_depth=16)
        try:
            writer.write(to_8_bits(frames))
        finally:
            writer.abort()


def test_a_lossy_16_bit_output_is_10_bit_hevc_and_keeps_a_gradient_that_8_bits_would_band(tmp_path):
    gradient = _gradient_10_bit()
    with VideoWriter(tmp_path / "out.mp4", 64, 32, Fraction(25), crf=10, preset="veryfast", bit_depth=16) as writer:
        writer.write(gradient)
    assert (writer.stored_bits, _stream(tmp_path / "out.mp4")) == (10, ("hevc", "yuv420p10le", "hvc1"))
    decoded = _read(tmp_path / "out.mp4")
    # 20 levels of 255 over the frame: 8 bits hold about 15 values along the middle of a row, 10 bits 4x more
    assert _finer_than_8_bits(decoded[0, 16, 8:-8, 1]) > 1.5
    assert np.abs(decoded / 257.0 - gradient / 257.0).max() < 0.5  # within half an 8-bit level everywhere


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_16_bit_png_or_tiff_is_written_in_16_bits_with_its_metadata(tmp_path, suffix):
    from PIL import Image

    frame = np.random.default_rng(0).integers(0, 2**16, (1, 12, 10, 3), dtype=np.uint16)
    tags = Image.Exif()
    tags.update({270: "roll 12, frame 4", 271: "Nikon", 272: "Coolscan", 274: 6, 306: "2026:01:02 03:04:05"})
    profile = b"\x00" * 128 + b"a scanner's colour profile"
    source = tmp_path / f"scan{suffix}"  # Pillow writes the tags and profile as a scanner would
    Image.new("RGB", (10, 12)).save(source, exif=tags.tobytes(), icc_profile=profile)
    out = tmp_path / f"out{suffix}"
    with ImageWriter(out, 10, 12, bit_depth=16, exif_source=source, upright=False) as writer:
        writer.write(frame)
    assert (writer.stored_bits, writer.stored_as) == (16, "a 16-bit image")
    with av.open(str(out)) as container:  # as stored (a reader would turn it as `Orientation` 6 says)
        stored = next(container.decode(video=0)).to_ndarray(format="rgb48le")
    np.testing.assert_array_equal(stored, frame[0])  # every bit of every sample
    with Image.open(out) as written:
        assert written.info["icc_profile"] == profile
        assert {tag: written.getexif().get(tag) for tag in tags} == dict(tags)


def test_a_16_bit_frame_as_jpeg_is_rounded_to_8_bits(tmp_path):
    frame = np.full((1, 8, 8, 3), 257 * 100 + 100, np.uint16)
    with ImageWriter(tmp_path / "out.jpg", 8, 8, bit_depth=16) as writer:
        writer.write(frame)
    assert (writer.stored_bits, writer.stored_as) == (8, "an 8-bit image")
    assert np.abs(_read(tmp_path / "out.jpg").astype(int) - 100).max() <= 1


def _denoise(*args):
    return CliRunner().invoke(main, ["denoise", *map(str, args), "--quiet", "--json"], catch_exceptions=False)


def test_the_cli_denoises_10_bit_video_in_16_bits_end_to_end(tmp_path, identity_checkpoint):
    gradient = _gradient_10_bit()
    lossless = _pipe(gradient, tmp_path / "ten.mkv", "-c:v", "ffv1", "-pix_fmt", "gbrp10le")
    result = _denoise(lossless, "--checkpoint", identity_checkpoint, "--sigma", "5", "-o", tmp_path / "out.mkv")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert (record["bits"], record["lossless"], record["warnings"]) == (16, True, [])
    # identity model, lossless input and output: the 10-bit values back, bit for bit (8 bits would round them)
    np.testing.assert_array_equal(_read(tmp_path / "out.mkv"), gradient)

    lossy = _pipe(gradient, tmp_path / "phone.mov", "-c:v", "libx265", "-x265-params", "log-level=error", "-crf", "4",
                  "-pix_fmt", "yuv420p10le")  # fmt: skip
    result = _denoise(lossy, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert (record["bits"], record["lossless"], record["warnings"]) == (10, False, [])
    out = tmp_path / "phone.denoised.mp4"
    assert _stream(out) == ("hevc", "yuv420p10le", "hvc1")
    assert _finer_than_8_bits(_read(out)[0, 16, 8:-8, 1]) > 1.5  # more levels than 8 bits hold in that range


def test_a_16_bit_png_comes_back_in_16_bits_and_as_jpeg_says_so(tmp_path, identity_checkpoint):
    image = _pipe(_gradient_10_bit(frames=1), tmp_path / "scan.png", "-c:v", "png", "-pix_fmt", "rgb48be", "-frames:v", "1")
    result = _denoise(image, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert (record["bits"], record["warnings"]) == (16, [])
    # identity model: the 16-bit samples back, bit for bit (8 bits would round them)
    np.testing.assert_array_equal(_read(tmp_path / "scan.denoised.png"), _read(image))

    result = _denoise(image, "--checkpoint", identity_checkpoint, "--sigma", "5", "-o", tmp_path / "scan.jpg")
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["bits"] == 8
    assert any("rgb48be has 16 bits per sample; the output is an 8-bit image" in w for w in record["warnings"])


def test_a_folder_of_16_bit_tiff_scans_comes_back_in_16_bits(tmp_path, identity_checkpoint):
    scans = tmp_path / "roll"
    scans.mkdir()
    frames = _gradient_10_bit(frames=3)
    for i, frame in enumerate(frames):
        _pipe(frame[None], scans / f"scan_{i + 1}.tif", "-c:v", "tiff", "-pix_fmt", "rgb48le", "-frames:v", "1")
    result = _denoise(scans, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert (record["bits"], record["warnings"]) == (16, [])
    out = tmp_path / "roll.denoised"
    assert sorted(p.name for p in out.iterdir()) == ["scan_1.tif", "scan_2.tif", "scan_3.tif"]
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(_read(out / f"scan_{i + 1}.tif")[0], frame)


def test_interlaced_10_bit_video_comes_back_interlaced_in_h264_high_10(tmp_path, identity_checkpoint):
    source = tmp_path / "tape.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=50", "-frames:v", "6",
                    "-vf", "interlace=scan=tff,setfield=tff", "-c:v", "libx264", "-pix_fmt", "yuv420p10le",
                    "-flags", "+ilme+ildct", "-x264-params", "tff=1", str(source)], check=True)  # fmt: skip
    result = _denoise(source, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["bits"] == 10
    out = tmp_path / "tape.denoised.mp4"
    with av.open(str(out)) as container:
        context = container.streams.video[0].codec_context
        assert (context.name, context.format.name, context.profile) == ("h264", "yuv420p10le", "High 10")
    from stdit_cli.video import probe_video

    assert probe_video(out).field_order == "tff"
