"""Tests for stdit_cli.video: probing, chunked decoding (decord and PyAV), encoding, paths.

Clips are generated with the FFmpeg binary from imageio-ffmpeg (lavfi testsrc2 / sine), tiny
(64x48 or 33x17, 10-30 frames) so that the whole file runs in seconds on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from stdit_cli.video import (
    OutputExistsError,
    VideoError,
    VideoReader,
    VideoWarning,
    VideoWriter,
    cheap_frame_sample,
    decord_available,
    default_output_path,
    probe_video,
    resolve_output_path,
)

from stdit_cli.video.reader import DECODE_AHEAD  # noqa: E402

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
BACKENDS = [
    pytest.param("decord", marks=pytest.mark.skipif(not decord_available(), reason="decord not installed")),
    "pyav",
]
NTSC = Fraction(30000, 1001)


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def make_clip(path: Path, *codec: str, size="64x48", rate="25", frames=10, audio=False, grain=False) -> Path:
    """A testsrc2 clip (sizes are rounded to even by testsrc2), with a sine track if asked.

    grain: add temporal noise, so that no two frames are alike (testsrc2 repeats some).
    """
    source = f"testsrc2=size={size}:rate={rate}" + (",noise=alls=12:allf=t" if grain else "")
    inputs = ["-f", "lavfi", "-i", source]
    if audio:  # as long as the video
        duration_s = float(frames / Fraction(rate))
        inputs += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", f"{duration_s:.4f}"]
    ffmpeg(*inputs, "-frames:v", str(frames), *codec, path)
    return path


def pattern_frames(frames=10, width=64, height=48) -> np.ndarray:
    """Smooth, colourful uint8 RGB frames [t, H, W, 3] (testsrc2, cropped to odd sizes if asked)."""
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-frames:v", str(frames),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(frames, 48, 64, 3)[:, :height, :width].copy()


def noise_frames(frames=10, width=33, height=17) -> np.ndarray:
    """Incompressible uint8 frames: any lossy step shows up as a changed value."""
    return np.random.default_rng(0).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def write_video(path: Path, frames_uint8: np.ndarray, fps=Fraction(25), **kwargs) -> Path:
    height, width = frames_uint8.shape[1:3]
    with VideoWriter(path, width, height, fps, **kwargs) as writer:
        writer.write(frames_uint8[:4])  # two writes: frames arrive in chunks
        writer.write(frames_uint8[4:])
    return path


def read_all(path: Path, backend="auto") -> np.ndarray:
    with VideoReader(path, backend=backend) as reader:
        return reader.read(0, len(reader))


def stream_info(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return {
            "pix_fmt": video.format.name,
            "colour": (video.codec_context.colorspace, video.codec_context.color_primaries,
                       video.codec_context.color_trc),  # fmt: skip
            "start_s": float(video.start_time * video.time_base),
            "audio": [s.codec_context.name for s in container.streams.audio],
            "duration_s": container.duration / av.time_base,
        }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "stdit-tmp" in p.name)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Source clips shared by the reading tests."""
    d = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_clip(
            d / "h264.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "8", frames=30, grain=True
        ),
        "mkv": make_clip(d / "ffv1.mkv", "-c:v", "ffv1"),
        "mov": make_clip(d / "h264.mov", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        "avi": make_clip(d / "mpeg4.avi", "-c:v", "mpeg4", "-q:v", "3"),
        "webm": make_clip(d / "vp9.webm", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"),
        "ntsc_audio": make_clip(
            d / "ntsc_audio.mp4", "-c:v", "libx264", "-c:a", "aac", rate="30000/1001", audio=True
        ),
        "lossless": make_clip(d / "rgb.mkv", "-c:v", "libx264rgb", "-qp", "0", size="32x16"),
    }


# --- probing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name, fps, has_audio", [("mp4", Fraction(25), False), ("ntsc_audio", NTSC, True)])
def test_probe_reports_size_count_and_exact_rate(clips, name, fps, has_audio):
    info = probe_video(clips[name])
    assert (info.width, info.height, info.num_frames) == (64, 48, 30 if name == "mp4" else 10)
    assert info.fps == fps and isinstance(info.fps, Fraction)
    assert info.has_audio is has_audio
    assert info.codec == "h264"


def test_probe_counts_packets_when_container_has_no_count(clips):
    # MKV declares no frame count: it comes from a demux pass.
    assert probe_video(clips["mkv"]).num_frames == 10


def _not_videos(folder: Path) -> dict[str, Path]:
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "text.mp4").write_text("this is not a video\n")
    ffmpeg("-f", "lavfi", "-i", "sine", "-t", "0.2", "-c:a", "aac", folder / "audio_only.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine", "-f", "lavfi", "-i", "color=c=red:size=16x16", "-t", "0.2",
           "-frames:v", "1", "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "mjpeg",
           "-disposition:v", "attached_pic", folder / "cover_art.m4a")  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", "testsrc2", "-frames:v", "0", "-c:v", "libx264", folder / "no_frames.mp4")
    return {
        "missing": folder / "missing.mp4",
        "empty": folder / "empty.mp4",
        "text": folder / "text.mp4",
        "audio_only": folder / "audio_only.mp4",
        "cover_art": folder / "cover_art.m4a",
        "no_frames": folder / "no_frames.mp4",
        "folder": folder,
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_not_a_video_raises_one_line_video_error(tmp_path, backend):
    for kind, path in _not_videos(tmp_path).items():
        for open_it in (probe_video, lambda p: VideoReader(p, backend=backend)):
            with pytest.raises(VideoError) as caught:
                open_it(path)
            message = str(caught.value)
            assert str(path) in message and "\n" not in message, (kind, message)


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["mp4", "mkv", "mov", "avi", "webm"])
def test_reads_common_containers(clips, name, backend):
    with VideoReader(clips[name], backend=backend) as reader:
        assert reader.backend == backend
        frames_uint8 = reader.read(0, len(reader))
    assert frames_uint8.dtype == np.uint8
    assert frames_uint8.shape == (30 if name == "mp4" else 10, 48, 64, 3)
    # testsrc2 is colourful and moves: frames are neither blank nor all the same.
    assert frames_uint8.std() > 20 and not np.array_equal(frames_uint8[0], frames_uint8[-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunks_are_all_frames_in_order_and_match_random_access(clips, backend):
    # 30 frames of H.264 with B-frames and a keyframe every 8: seeks land between keyframes.
    with VideoReader(clips["mp4"], backend=backend) as reader:
        chunks = list(reader.iter_chunks(7))
        full = reader.read(0, 30)
        out_of_order = {start: reader.read(start, start + 5) for start in (21, 3, 12, 0, 25)}
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(np.concatenate(chunks), full)
    for start, frames_uint8 in out_of_order.items():
        np.testing.assert_array_equal(frames_uint8, full[start : start + 5], err_msg=f"frames {start}..")
    assert len({f.tobytes() for f in full}) == 30  # every frame distinct, so order is checked


def test_pyav_gives_the_same_frames_as_decord(clips):
    if not decord_available():
        pytest.skip("decord not installed")
    np.testing.assert_array_equal(read_all(clips["lossless"], "pyav"), read_all(clips["lossless"], "decord"))
    np.testing.assert_array_equal(read_all(clips["mp4"], "pyav"), read_all(clips["mp4"], "decord"))


def test_auto_backend_is_decord_when_installed(clips):
    with VideoReader(clips["mkv"]) as reader:
        assert reader.backend == ("decord" if decord_available() else "pyav")


def test_auto_backend_falls_back_to_pyav_where_decord_cannot_open(tmp_path):
    # decord 0.6 bundles FFmpeg 4.1, which finds no decodable video stream in AV1 files.
    av1 = make_clip(tmp_path / "av1.mkv", "-c:v", "libaom-av1", "-cpu-used", "8")
    with VideoReader(av1) as reader:
        assert reader.backend == "pyav" or decord_can_open(av1)
        frames_uint8 = reader.read(0, len(reader))
    assert frames_uint8.shape == (10, 48, 64, 3) and frames_uint8.std() > 20


def decord_can_open(path: Path) -> bool:
    try:
        import decord

        decord.VideoReader(str(path))
    except Exception:
        return False
    return True


def test_read_rejects_ranges_outside_the_video(clips):
    with VideoReader(clips["mkv"]) as reader:
        for start, stop in [(-1, 2), (5, 5), (8, 11)]:
            with pytest.raises(IndexError):
                reader.read(start, stop)


_CLOSE_WHILE_READING = """
import sys, threading, time
from stdit_cli.video import VideoReader
reader = VideoReader(sys.argv[1], backend=sys.argv[2])
errors = []
def read_all():
    try:
        while True:
            for _ in reader.iter_chunks(8):
                pass
    except ValueError as error:
        errors.append(str(error))
thread = threading.Thread(target=read_all)
thread.start()
time.sleep(float(sys.argv[3]))
reader.close()
thread.join()
print(errors)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_closing_while_another_thread_reads_is_a_clean_error_not_a_crash(tmp_path, backend):
    # FFmpeg crashes (SIGSEGV) when a container is closed in the middle of a decode; the reader
    # makes close wait for the read in progress. Without that, most of these runs crashed.
    clip = make_clip(tmp_path / "clip.mp4", "-c:v", "libx264", size="320x240", frames=60)
    for delay_s in ("0.02", "0.1", "0.25"):
        run = subprocess.run([sys.executable, "-c", _CLOSE_WHILE_READING, clip, backend, delay_s],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        assert "read() on a closed VideoReader" in run.stdout


@pytest.mark.parametrize("backend", ["auto", *BACKENDS])
def test_truncated_mp4_raises_before_decoding(tmp_path, backend):
    # moov first (faststart), then the file cut in half: the header promises 30 frames.
    source = make_clip(tmp_path / "full.mp4", "-c:v", "libx264", "-movflags", "+faststart", frames=30)
    data = source.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert probe_video(cut).num_frames == 30  # the header alone cannot tell
    # decord fails to index the file; "auto" then asks PyAV, which says what is missing.
    expected = r"declares 30 frames but only \d+ are present"
    if backend == "decord":
        expected = "truncated or corrupt"
    with pytest.raises(VideoError, match=expected) as caught:
        VideoReader(cut, backend=backend)
    assert "cut.mp4" in str(caught.value) and "\n" not in str(caught.value)
    # Cut before the header (moov at the end): not readable at all.
    tail_moov = make_clip(tmp_path / "tail.mp4", "-c:v", "libx264", frames=30)
    data = tail_moov.read_bytes()
    tail_moov.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="not a readable video"):
        probe_video(tail_moov)


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_mkv_reads_the_complete_frames(tmp_path, backend):
    # MKV declares no frame count: a cut file is read up to its last complete packet.
    source = make_clip(tmp_path / "full.mkv", "-c:v", "ffv1", frames=30)
    data = source.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    with VideoReader(cut, backend=backend) as reader:
        assert 0 < len(reader) < 30
        frames_uint8 = np.concatenate(list(reader.iter_chunks(4)))
    np.testing.assert_array_equal(frames_uint8, read_all(source, backend)[: len(frames_uint8)])


# --- writing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, codec", [(".mp4", "h264"), (".mkv", "ffv1"), (".mov", "h264")])
def test_lossless_round_trip_is_bit_exact(tmp_path, suffix, codec):
    frames_uint8 = noise_frames(width=33, height=17)  # odd size, incompressible content
    out = write_video(tmp_path / f"out{suffix}", frames_uint8, fps=NTSC, lossless=True)
    info = probe_video(out)
    assert (info.width, info.height, info.num_frames, info.fps, info.codec) == (33, 17, 10, NTSC, codec)
    for backend in ("auto", "pyav"):
        np.testing.assert_array_equal(read_all(out, backend), frames_uint8)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask  # a normal file, not a 0600 temp file


@pytest.mark.parametrize(
    "width, height, fps, pix_fmt", [(64, 48, Fraction(25), "yuv420p"), (33, 17, NTSC, "yuv444p")]
)
def test_default_encoding_keeps_size_count_and_exact_rate(tmp_path, width, height, fps, pix_fmt):
    frames_uint8 = pattern_frames(width=width, height=height)
    out = write_video(tmp_path / "out.mp4", frames_uint8, fps=fps)
    info = probe_video(out)
    assert (info.width, info.height, info.num_frames, info.fps) == (width, height, 10, fps)
    assert info.codec == "h264"
    assert not info.has_audio
    assert stream_info(out)["pix_fmt"] == pix_fmt
    error = np.abs(read_all(out).astype(np.int16) - frames_uint8).mean()
    assert error < 4, f"mean abs error {error:.2f} at crf 16"


def test_default_encoding_is_bt709_and_keeps_saturated_colours(tmp_path):
    # Swapped channels, a range or a BT.601/BT.709 mix-up move this colour by 20 levels or more.
    frames_uint8 = np.empty((3, 48, 64, 3), np.uint8)
    frames_uint8[...] = (255, 32, 16)
    out = write_video(tmp_path / "flat.mp4", frames_uint8)
    assert np.abs(read_all(out).astype(np.int16) - frames_uint8).max() <= 4
    assert stream_info(out)["colour"] == (1, 1, 1)  # matrix, primaries, transfer: BT.709


def test_audio_is_copied_and_nothing_is_cut(clips, tmp_path):
    source = clips["ntsc_audio"]
    frames_uint8 = read_all(source)
    out = write_video(tmp_path / "out.mp4", frames_uint8, fps=probe_video(source).fps, audio_source=source)
    info = probe_video(out)
    assert info.has_audio and info.num_frames == 10 and info.fps == NTSC
    assert stream_info(out)["audio"] == ["aac"]
    assert stream_info(out)["duration_s"] >= stream_info(source)["duration_s"] - 0.01
    # Lossy colours aside, the video is the one we wrote, not the source's.
    assert np.abs(read_all(out).astype(np.int16) - frames_uint8).mean() < 4


def test_audio_source_without_audio_gives_silent_output(clips, tmp_path):
    out = write_video(tmp_path / "out.mkv", read_all(clips["mkv"]), audio_source=clips["mkv"])
    assert not probe_video(out).has_audio and probe_video(out).num_frames == 10
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("audio_codec, suffix", [("libopus", ".mov"), ("pcm_s16le", ".mp4"), ("wmav2", ".mov")])
def test_audio_is_reencoded_to_aac_when_a_copy_will_not_do(tmp_path, audio_codec, suffix):
    # Opus cannot be copied into .mov (the copy fails, then AAC); PCM in .mp4 plays almost nowhere;
    # WMA would be copied into .mov under no codec tag, which nothing decodes.
    source = make_clip(tmp_path / "source.mkv", "-c:v", "ffv1", "-c:a", audio_codec, audio=True)
    with pytest.warns(VideoWarning, match=r"1 audio track \(\w+\) re-encoded as AAC at 192 kb/s"):  # said, not silent
        out = write_video(tmp_path / f"out{suffix}", read_all(source), audio_source=source)
    assert stream_info(out)["audio"] == ["aac"]
    assert leftovers(tmp_path) == []


def test_video_that_starts_after_the_audio_stays_in_sync(tmp_path):
    source = tmp_path / "late.mp4"
    ffmpeg("-itsoffset", "0.2", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
           "-f", "lavfi", "-i", "sine", "-frames:v", "10", "-t", "0.6",
           "-c:v", "libx264", "-c:a", "aac", source)  # fmt: skip
    assert stream_info(source)["start_s"] == pytest.approx(0.2, abs=0.01)
    out = write_video(tmp_path / "out.mp4", read_all(source), audio_source=source)
    assert stream_info(out)["start_s"] == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("exception", [RuntimeError, KeyboardInterrupt])
def test_exception_in_the_with_block_leaves_no_output(tmp_path, exception):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(exception):
        with VideoWriter(out, 64, 48, Fraction(25)) as writer:
            writer.write(pattern_frames(frames=3))
            assert leftovers(tmp_path), "the writer should be writing a temporary file"
            raise exception("stop")
    assert writer._process.poll() is not None, "ffmpeg still running"
    assert out.read_bytes() == b"previous result"
    assert leftovers(tmp_path) == []


def test_ffmpeg_failure_raises_video_error_with_its_message(tmp_path):
    with pytest.raises(VideoError, match="invalid preset 'nonexistent'"):
        write_video(tmp_path / "out.mp4", pattern_frames(), preset="nonexistent")
    assert list(tmp_path.iterdir()) == []


def test_closing_without_frames_raises(tmp_path):
    with pytest.raises(VideoError, match="no frames"):
        with VideoWriter(tmp_path / "out.mp4", 64, 48, Fraction(25)):
            pass
    assert list(tmp_path.iterdir()) == []


def test_write_checks_shape_and_dtype(tmp_path):
    with VideoWriter(tmp_path / "out.mp4", 64, 48, Fraction(25)) as writer:
        good = pattern_frames(frames=2)
        for bad in (good.astype(np.float32), good[0], good[:, :, :32], good[..., :1]):
            with pytest.raises(ValueError):
                writer.write(bad)
        writer.write(good)
    assert probe_video(tmp_path / "out.mp4").num_frames == 2


def test_rejects_float_rates_and_unknown_containers(tmp_path):
    with pytest.raises(TypeError):
        VideoWriter(tmp_path / "out.mp4", 64, 48, 29.97)
    with pytest.raises(VideoError, match="unsupported output extension"):
        VideoWriter(tmp_path / "out.avi", 64, 48, Fraction(25))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_raises_video_error(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("")
    with pytest.raises(VideoError, match="cannot write in"):
        VideoWriter(not_a_folder / "out.mp4", 64, 48, Fraction(25))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return  # root ignores folder permissions
    read_only = tmp_path / "read_only"
    read_only.mkdir(mode=0o555)
    with pytest.raises(VideoError, match="cannot write in"):
        VideoWriter(read_only / "out.mp4", 64, 48, Fraction(25))


# --- output paths ----------------------------------------------------------------------------


def test_default_output_path_is_beside_the_input(tmp_path):
    assert default_output_path(tmp_path / "clip.final.mov") == tmp_path / "clip.final.denoised.mp4"


def test_resolve_output_path(tmp_path):
    source = tmp_path / "in.mkv"
    source.write_bytes(b"video")
    folder = tmp_path / "results"
    folder.mkdir()
    assert resolve_output_path(source, None) == tmp_path / "in.denoised.mp4"
    assert resolve_output_path(source, folder) == folder / "in.denoised.mp4"
    assert resolve_output_path(source, f"{folder}/") == folder / "in.denoised.mp4"
    assert resolve_output_path(source, tmp_path / "x.mkv") == tmp_path / "x.mkv"
    with pytest.raises(VideoError, match="does not exist"):
        resolve_output_path(source, f"{tmp_path}/missing/")
    with pytest.raises(VideoError, match="unsupported output extension"):
        resolve_output_path(source, tmp_path / "x.avi")

    existing = folder / "in.denoised.mp4"
    existing.write_bytes(b"old")
    with pytest.raises(OutputExistsError) as caught:
        resolve_output_path(source, folder)
    assert isinstance(caught.value, FileExistsError) and isinstance(caught.value, VideoError)
    assert resolve_output_path(source, folder, overwrite=True) == existing


def test_resolve_output_path_never_returns_the_input(tmp_path):
    source = tmp_path / "in.mp4"
    source.write_bytes(b"video")
    (tmp_path / "sub").mkdir()
    os.symlink(source, tmp_path / "link.mp4")
    os.link(source, tmp_path / "hard.mp4")
    for same in (source, tmp_path / "sub" / ".." / "in.mp4", tmp_path / "link.mp4", tmp_path / "hard.mp4"):
        with pytest.raises(VideoError, match="overwrite the input"):
            resolve_output_path(source, same, overwrite=True)


# --- cheap random access ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_keyframes_are_the_frames_decoding_can_start_from(clips, backend):
    # x264 with -g 8 and no scene cuts in testsrc2: a keyframe every 8 frames
    with VideoReader(clips["mp4"], backend=backend) as reader:
        assert reader.keyframes() == [0, 8, 16, 24]



@pytest.mark.parametrize("backend", BACKENDS)
def test_every_frame_of_an_intra_codec_is_a_keyframe(tmp_path, backend):
    clip = make_clip(tmp_path / "intra.avi", "-c:v", "mjpeg", frames=6)
    with VideoReader(clip, backend=backend) as reader:
        assert reader.keyframes() == list(range(6))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_camera_mjpeg_video_with_exif_in_every_frame_is_read(tmp_path, backend):
    # older cameras record Motion JPEG whose every frame carries EXIF; FFmpeg 8 attaches it to the
    # decoded frame as side data of a type PyAV 18 does not know (31), which raised when listed and,
    # for a PNG, crashed the process when the frame was freed
    from PIL import Image

    frames = list(pattern_frames(6))
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 1, "Camera"  # upright, as cameras write it in a video's frames
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / f"f{index:02d}.jpg", exif=exif.tobytes(), quality=95)
    clip = tmp_path / "camera.avi"
    ffmpeg("-framerate", "25", "-i", tmp_path / "f%02d.jpg", "-c", "copy", clip)
    info = probe_video(clip)
    assert (info.codec, info.width, info.height, info.num_frames) == ("mjpeg", 64, 48, 6)
    with VideoReader(clip, backend=backend) as reader:
        read = reader.read(0, 6)
    # the pictures as FFmpeg's command line decodes them (Pillow upsamples the colour otherwise)
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "f%02d.jpg"), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout  # fmt: skip
    decoded = np.frombuffer(raw, np.uint8).reshape(6, 48, 64, 3)
    assert np.abs(read.astype(int) - decoded).mean() < 1


def test_cheap_frame_sample_reads_from_keyframes_spread_over_the_video():
    # one GOP (a short x264 clip): the first frames, not a decode of the whole clip per pick
    np.testing.assert_array_equal(cheap_frame_sample(60, [0], 8), np.arange(8))
    # ... unless places may lie `ahead` frames past their keyframe (a title card before the footage):
    # spread over the clip; a long GOP still from its keyframe
    np.testing.assert_array_equal(cheap_frame_sample(60, [0], 8, ahead=DECODE_AHEAD), [0, 1, 20, 21, 39, 40, 59])
    np.testing.assert_array_equal(cheap_frame_sample(60, [0], 8, ahead=30), [0, 1, 2, 3, 20, 21, 22, 23])
    np.testing.assert_array_equal(cheap_frame_sample(600, [0], 8, ahead=DECODE_AHEAD), np.arange(8))
    # x264's default GOP of 250 on 3000 frames: two frames after each of 4 keyframes spread out
    picks = cheap_frame_sample(3000, list(range(0, 3000, 250)), 8)
    np.testing.assert_array_equal(picks, [0, 1, 1000, 1001, 1750, 1751, 2750, 2751])
    # all-intra (FFV1, ProRes): exactly the spread targets
    np.testing.assert_array_equal(cheap_frame_sample(100, range(100), 4), [0, 33, 66, 99])
    # shorter than asked, and open-GOP files whose first keyframe is not frame 0
    np.testing.assert_array_equal(cheap_frame_sample(3, [0], 8), [0, 1, 2])
    assert cheap_frame_sample(40, [5, 20], 8)[0] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_cheap_sample_frames_are_the_frames_at_those_indices(clips, backend):
    with VideoReader(clips["mp4"], backend=backend) as reader:
        picks = cheap_frame_sample(len(reader), reader.keyframes(), 8)
        sampled = np.concatenate([reader.read(int(i), int(i) + 1) for i in picks])
        full = reader.read(0, len(reader))
    np.testing.assert_array_equal(picks, [0, 1, 8, 9, 16, 17, 24, 25])
    np.testing.assert_array_equal(sampled, full[picks])
    with VideoReader(clips["mp4"], backend=backend) as reader:  # read where they lie: decoded on from a keyframe
        ahead = cheap_frame_sample(len(reader), reader.keyframes(), 8, ahead=DECODE_AHEAD)
        sampled = np.concatenate([reader.read(int(i), int(i) + 1) for i in ahead])
    np.testing.assert_array_equal(ahead, [0, 1, 10, 11, 19, 20, 29])
    np.testing.assert_array_equal(sampled, full[ahead])


@pytest.mark.parametrize(
    "codec_args, lossless, subsampled",
    [
        (["-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p"], False, True),  # every camera and web video
        (["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p"], True, True),  # x264's lossless mode
        (["-c:v", "ffv1", "-pix_fmt", "yuv420p"], True, True),
        (["-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24"], True, False),  # its profile says nothing, x264's settings do
        (["-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv444p"], False, False),  # the same profile, lossy
    ],
)
def test_probe_tells_a_lossless_stream_from_a_lossy_one(tmp_path, codec_args, lossless, subsampled):
    path = tmp_path / ("clip.mkv" if "ffv1" in codec_args else "clip.mp4")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=32x32:rate=25",
                    "-frames:v", "2", *codec_args, str(path)], check=True)  # fmt: skip
    info = probe_video(path)
    assert (info.lossless, info.chroma_subsampled) == (lossless, subsampled)
    assert info.full_resolution_colour == (not subsampled)
    from stdit_cli.pipeline.noise_kind import stored_lossily

    assert stored_lossily(info) == (subsampled and not lossless)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
@pytest.mark.parametrize("audio", [False, True])
def test_the_output_keeps_the_sources_container_tags(tmp_path, suffix, audio):
    # a phone video's tags: when and where it was shot, Apple's keys among them
    source = tmp_path / "IMG_0001.mov"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25"]
    if audio:
        command += ["-f", "lavfi", "-i", "sine=frequency=440", "-c:a", "aac"]
    command += ["-t", "0.2", "-c:v", "libx264", "-metadata", "creation_time=2024-05-01T10:20:30Z", "-metadata", "title=Trip",
                "-metadata", "com.apple.quicktime.location.ISO6709=+48.8584+002.2945/", "-movflags", "use_metadata_tags",
                str(source)]  # fmt: skip
    subprocess.run(command, check=True)
    out = tmp_path / f"out{suffix}"
    with VideoWriter(out, 64, 48, Fraction(25), audio_source=source if audio else None, metadata_source=source) as writer:
        writer.write(np.zeros((2, 48, 64, 3), np.uint8))
    with av.open(str(out)) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
    assert tags["title"] == "Trip"
    assert tags["com.apple.quicktime.location.iso6709"] == "+48.8584+002.2945/"
    assert "qt" not in tags.get("major_brand", "")  # the source file's own tags stay behind
    # one time, which FFmpeg parses (the source, written with mdta keys, reads as two joined by ";")
    assert tags["creation_time"] == "2024-05-01T10:20:30.000000Z"
    if suffix == ".mp4":  # and a remux that keeps the tags keeps it
        again = tmp_path / "again.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(out), "-map_metadata", "0",
                        "-c", "copy", str(again)], check=True)  # fmt: skip
        with av.open(str(again)) as container:
            assert container.metadata.get("creation_time") == "2024-05-01T10:20:30.000000Z"


@pytest.mark.parametrize("suffix", [".mov", ".mp4", ".mkv"])
def test_a_camera_files_timecode_is_kept(tmp_path, suffix, identity_checkpoint):
    # a camera's MOV: a QuickTime timecode track (drop-frame at 29.97), and its sound
    source = tmp_path / "A001C003.mov"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30000/1001",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.2", "-c:v", "libx264", "-c:a", "aac",
                    "-timecode", "10:20:30;12", str(source)], check=True)  # fmt: skip
    assert probe_video(source).timecode == "10:20:30;12"
    from click.testing import CliRunner

    from stdit_cli.cli import main

    out = tmp_path / f"out{suffix}"
    result = CliRunner().invoke(main, ["denoise", str(source), "-o", str(out), "--checkpoint", str(identity_checkpoint),
                                       "--sigma", "5", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert probe_video(out).timecode == "10:20:30;12"
    with av.open(str(out)) as container:
        kinds = sorted(stream.type for stream in container.streams)
    assert kinds == (["audio", "data", "video"] if suffix != ".mkv" else ["audio", "video"])  # MP4/MOV: a tmcd track
    plain = tmp_path / "plain.mp4"
    with VideoWriter(plain, 64, 48, Fraction(25)) as writer:
        writer.write(np.zeros((2, 48, 64, 3), np.uint8))
    assert probe_video(plain).timecode is None


def test_a_writer_publishes_only_when_its_block_succeeds():
    from stdit_cli.video.atomic import PublishOnSuccess

    class Recording(PublishOnSuccess):
        def __init__(self):
            self.calls = []

        def close(self):
            self.calls.append("close")

        def abort(self):
            self.calls.append("abort")

    with Recording() as done:
        pass
    assert done.calls == ["close"]
    with pytest.raises(KeyboardInterrupt):
        with Recording() as stopped:
            raise KeyboardInterrupt
    assert stopped.calls == ["abort"]
    with pytest.raises(TypeError):  # a writer must say how it publishes and how it aborts
        type("Incomplete", (PublishOnSuccess,), {})()


def test_a_transparent_vp9_webm_warns_that_its_alpha_is_not_kept(tmp_path):
    # VP9 keeps transparency beside the picture (WebM `alpha_mode` 1); FFmpeg's own VP9 decoder
    # gives yuv420p without it, so the pixel format alone said nothing was lost
    webm = tmp_path / "sticker.webm"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=0.12", "-vf",
                    "format=yuva420p,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='4*X'", "-c:v", "libvpx-vp9",
                    "-pix_fmt", "yuva420p", str(webm)], check=True)  # fmt: skip
    info = probe_video(webm)
    assert info.pix_fmt == "yuv420p" and info.alpha_side_channel and info.has_alpha
    with pytest.warns(VideoWarning, match="VP9 alpha channel .* not kept"):
        VideoReader(webm).close()
    opaque = tmp_path / "opaque.webm"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=0.12", "-c:v", "libvpx-vp9",
                    "-pix_fmt", "yuv420p", str(opaque)], check=True)  # fmt: skip
    assert not probe_video(opaque).has_alpha


def test_a_second_video_stream_is_said_to_be_left_out(tmp_path):
    # two camera angles in one MKV: the first is denoised, and the warning says the second is not
    two = tmp_path / "two angles.mkv"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=48x32:r=25:d=0.12", "-f", "lavfi", "-i",
                    "mandelbrot=s=32x24:r=25", "-map", "0:v", "-map", "1:v", "-t", "0.12", "-c:v", "ffv1", str(two)],
                   check=True)  # fmt: skip
    info = probe_video(two)
    assert info.other_video_streams == 1 and (info.width, info.height) == (48, 32)
    with pytest.warns(VideoWarning, match="1 more video stream besides the first"):
        VideoReader(two).close()
    # an MP3 with cover art has a picture, not a video
    song = tmp_path / "song.mp3"
    cover = tmp_path / "cover.png"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=32x32", "-frames:v", "1", str(cover)], check=True)
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=d=0.2", "-i", str(cover), "-map", "0:a", "-map", "1:v",
                    "-c:v", "png", "-disposition:v", "attached_pic", str(song)], check=True)  # fmt: skip
    with pytest.raises(VideoError, match=r"no video stream \(found: audio, cover picture\)"):
        probe_video(song)


def test_an_output_another_run_wrote_meanwhile_is_never_replaced(tmp_path):
    # two runs writing one path at once: the one that finishes second must not replace the other's
    from stdit_cli.video.frame_folder import FrameFolderWriter
    from stdit_cli.video.image_writer import ImageWriter

    frames_uint8 = np.random.default_rng(0).integers(0, 255, (3, 24, 32, 3), dtype=np.uint8)
    for path, writer in [
        (tmp_path / "same.mp4", lambda p: VideoWriter(p, 32, 24, Fraction(25))),
        (tmp_path / "same.png", lambda p: ImageWriter(p, 32, 24)),
        (tmp_path / "same", lambda p: FrameFolderWriter(p, 32, 24, ("a.png", "b.png", "c.png"))),
    ]:
        with pytest.raises(VideoError, match="another run wrote this output"):
            with writer(path) as out:
                out.write(frames_uint8[:1] if path.suffix == ".png" else frames_uint8)
                if path.suffix:
                    path.write_bytes(b"the other run's")  # it finished first
                else:
                    path.mkdir()
                    (path / "a.png").write_bytes(b"the other run's")
        kept = path if path.suffix else path / "a.png"
        assert kept.read_bytes() == b"the other run's"
        assert [p.name for p in tmp_path.iterdir() if "stdit-" in p.name] == []
    # an output that was there when the run started, checked as one to replace (--overwrite), is replaced
    old = tmp_path / "old.mp4"
    old.write_bytes(b"old")
    write_video(old, frames_uint8)
    assert probe_video(old).num_frames == 3


def _flat(frames: np.ndarray) -> np.ndarray:
    """``[T, H, W]`` True where a pixel's 7x7 neighbourhood is one colour: away from colour edges,
    where decoders interpolate chroma each their own way."""
    from numpy.lib.stride_tricks import sliding_window_view

    summed = np.pad(frames.astype(np.int32).sum(-1), ((0, 0), (3, 3), (3, 3)), mode="edge")
    windows = sliding_window_view(summed, (7, 7), axis=(1, 2))
    return windows.max(axis=(-1, -2)) == windows.min(axis=(-1, -2))


def _player_rgb(path, matrix: str) -> np.ndarray:
    """``[T, H, W, 3]`` as FFmpeg shows ``path`` decoded with ``matrix`` (exact rounding, bilinear chroma)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf",
                          f"scale=in_color_matrix={matrix}:in_range=tv:flags=bilinear+accurate_rnd+full_chroma_int,format=rgb24",
                          "-f", "rawvideo", "-"], capture_output=True, check=True).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


@pytest.mark.parametrize("size, matrix", [("1280x720", "bt709"), ("640x480", "smpte170m")])
def test_untagged_video_is_read_with_the_matrix_players_assume_for_its_size(tmp_path, size, matrix):
    # colour bars converted with `matrix`, stored with no colour tags: players take HD as BT.709, SD as BT.601
    path = tmp_path / "untagged.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"smptehdbars=s={size}:r=25",
                    "-frames:v", "1", "-vf", f"scale=out_color_matrix={matrix}:out_range=tv,format=yuv420p,"
                    "setparams=colorspace=unknown:color_primaries=unknown:color_trc=unknown:range=unknown",
                    "-c:v", "libx264", "-qp", "0", str(path)], check=True)  # fmt: skip
    with av.open(str(path)) as container:
        assert int(next(container.decode(video=0)).colorspace) == 2  # unspecified
    assert probe_video(path).untagged_hd == (matrix == "bt709")
    player = _player_rgb(path, matrix).astype(np.int16)
    flat = _flat(player)
    # "auto" too: decord reads untagged HD as BT.601, so the reader picks PyAV for it (a benchmark's
    # 720p clips read that way came out 4 levels off the pipeline's in a blue sky)
    for backend in ("pyav", "auto"):
        with VideoReader(path, backend=backend) as reader:
            frames = reader.read(0, 1).astype(np.int16)
        # the same colours as a player shows, up to swscale's fast path's rounding (BT.601 on HD moved
        # the bars by up to 33 levels)
        assert flat.mean() > 0.8 and np.abs(frames - player)[flat].max() <= 3 and abs(float((frames - player)[flat].mean())) < 1
    if matrix == "bt709" and decord_available():
        with pytest.raises(VideoError, match="no colour matrix tag"):
            VideoReader(path, backend="decord")


@pytest.mark.parametrize("source_pix_fmt, codec", [("yuv422p10le", "prores_ks"), ("yuv422p", "mjpeg")])
def test_a_422_source_keeps_its_colour_rows(tmp_path, identity_checkpoint, source_pix_fmt, codec):
    # colour that alternates row by row (4:2:2 keeps it, 4:2:0 averages each pair of rows away)
    source = tmp_path / "stripes.mov"
    pix_fmt = "yuvj422p" if codec == "mjpeg" else source_pix_fmt
    stripes = "geq=r='if(mod(Y,2),200,30)':g='60':b='if(mod(Y,2),30,200)'"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x48:r=25",
                    "-frames:v", "3", "-vf", f"format=rgb24,{stripes},scale=out_color_matrix=bt709,format={pix_fmt}",
                    "-c:v", codec, "-q:v", "2", str(source)], check=True)  # fmt: skip
    info = probe_video(source)
    assert info.half_width_colour and not info.full_resolution_colour
    out = tmp_path / "out.mp4"
    from click.testing import CliRunner

    from stdit_cli.cli import main

    result = CliRunner().invoke(main, ["denoise", str(source), "-o", str(out), "--checkpoint", str(identity_checkpoint),
                                       "--sigma", "5", "--quiet"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "422" in probe_video(out).pix_fmt
    with VideoReader(source, backend="pyav", bit_depth=None) as before, VideoReader(out, backend="pyav", bit_depth=None) as after:
        scale = 257.0 if before.bit_depth == 16 else 1.0
        red_rows = [frames[0, 10:40, 20, 0].astype(float) / scale for frames in (before.read(0, 1), after.read(0, 1))]
    # the rows still alternate (averaged in pairs they would all read about 115)
    assert np.abs(red_rows[1] - red_rows[0]).mean() < 12 and np.ptp(red_rows[1]) > 100


@pytest.mark.parametrize("space, trc", [("smpte170m", "smpte170m"), ("bt470bg", "bt470bg")])
def test_sd_video_tagged_bt601_is_written_as_it_was_tagged(tmp_path, identity_checkpoint, space, trc):
    # NTSC / PAL DV and DVD: a BT.601 matrix with its own primaries; relabelled BT.709 without a gamut
    # conversion, colour-managed players (QuickTime, Safari) showed the saturated colours moved
    source = tmp_path / "dvd.mp4"
    scale_matrix = "bt470" if space == "bt470bg" else "smpte170m"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "smptebars=s=160x120:r=25",
                    "-frames:v", "2", "-vf", f"scale=out_color_matrix={scale_matrix}:out_range=tv,format=yuv420p,"
                    f"setparams=colorspace={space}:color_primaries={space}:color_trc={trc}:range=tv",
                    "-c:v", "libx264", "-crf", "12", str(source)], check=True)  # fmt: skip
    assert probe_video(source).sd_colour == (space, space, trc)
    from click.testing import CliRunner

    from stdit_cli.cli import main

    for lossless in ([], ["--lossless"]):
        out = tmp_path / f"out{len(lossless)}.mp4"
        result = CliRunner().invoke(main, ["denoise", str(source), "-o", str(out), "--checkpoint", str(identity_checkpoint),
                                           "--sigma", "5", "--quiet", *lossless], catch_exceptions=False)  # fmt: skip
        assert result.exit_code == 0, result.output
        with av.open(str(out)) as container:
            context = container.streams.video[0].codec_context
            tags = (str(context.color_primaries), str(context.color_trc))
            expected_space = {"smpte170m": 6, "bt470bg": 5}[space]
            assert (int(context.color_primaries), int(context.color_trc)) == (expected_space, expected_space), tags
            if not lossless:
                assert int(context.colorspace) == expected_space
        with VideoReader(source, backend="pyav") as before, VideoReader(out, backend="pyav") as after:
            difference = before.read(0, 2).astype(int) - after.read(0, 2).astype(int)
        flat = _flat(_player_rgb(source, scale_matrix))  # the same colours, up to the read's rounding
        assert np.abs(difference)[flat].mean() < 1.5


def test_colour_narrower_than_luma_at_its_full_height_is_kept_as_422():
    # 4:2:2 and NTSC DV's 4:1:1 keep every colour row, which 4:2:0 would halve
    from stdit_cli.video.encoding import chroma_layout
    from stdit_cli.video.probe import VideoInfo

    def info(pix_fmt):
        return VideoInfo(path=Path("x"), width=64, height=48, num_frames=1, fps=Fraction(25), has_audio=False, codec="h264",
                         duration_s=0.04, pix_fmt=pix_fmt)  # fmt: skip

    assert [info(f).half_width_colour for f in ("yuv422p", "yuv411p", "yuv422p10le", "yuv420p", "yuv444p", "rgb24", "gray")] == [
        True, True, True, False, False, False, False]
    assert chroma_layout(64, 48, False, True) == "422" and chroma_layout(63, 48, False, True) == "444"
    assert chroma_layout(64, 47, False, True) == "422" and chroma_layout(64, 47, False) == "444"


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_the_video_streams_language_title_and_handler_are_kept(tmp_path, suffix):
    source = tmp_path / "take.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-f", "lavfi", "-i", "sine", "-t", "0.2", "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-c:a", "aac", "-metadata:s:v:0", "language=fra", "-metadata:s:v:0", "title=Caméra B",
           "-metadata:s:v:0", "handler_name=CamHandler", source)  # fmt: skip
    out = tmp_path / f"out{suffix}"
    with VideoWriter(out, 64, 48, Fraction(25), audio_source=source, metadata_source=source) as writer:
        writer.write(np.zeros((2, 48, 64, 3), np.uint8))
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        tags = {key.lower(): value for key, value in video.metadata.items()}
        assert tags["language"] == "fra" and tags["handler_name"] == "CamHandler"
        assert tags.get("title", tags.get("name")) == "Caméra B"
        assert video.disposition & av.stream.Disposition.default


def test_decode_bias_measures_how_dark_the_fast_yuv_conversion_reads(tmp_path):
    # swscale's fast YUV -> RGB path truncates: a flat colour stored as 4:2:0 H.264 reads a level or two dark
    from stdit_cli.video.colour import decode_bias, frame_to_rgb

    colour = np.array([39, 89, 199], np.uint8)
    path = tmp_path / "flat.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x48", "-r", "25", "-i", "-",
                    "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", str(path)],
                   input=np.broadcast_to(colour, (4, 48, 64, 3)).tobytes(), check=True)  # fmt: skip
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        rgb = frame_to_rgb(frame)
        bias = decode_bias(frame, rgb)
    fast = rgb.reshape(-1, 3).mean(axis=0)
    assert np.all(bias > 0.2) and np.all(bias < 2.0)
    # fast + bias is what was encoded, to the encoder's own rounding; the fast path alone is further off
    np.testing.assert_allclose(fast + bias, colour, atol=1.0)
    assert np.abs(fast + bias - colour).mean() < 0.5 * np.abs(fast - colour).mean()
    with VideoReader(path, backend="pyav") as reader:  # the reader measures the first frames it converts
        reader.read(0, 2)
        np.testing.assert_allclose(reader.decode_bias(), bias, atol=0.3)
    rgb_clip = make_clip(tmp_path / "rgb.mkv", "-c:v", "ffv1", "-pix_fmt", "bgr0")  # RGB: nothing converted, nothing measured
    with VideoReader(rgb_clip, backend="pyav") as reader:
        reader.read(0, 2)
        assert reader.decode_bias() is None
