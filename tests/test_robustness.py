"""Bad, odd and hostile inputs and outputs, on files the tests make; the inputs never change.

Every case of issue #6 has its behaviour asserted here:

- not videos (empty, text named .mp4, audio only), MP4 cut short (header first: refused, the
  header promises frames that are missing; header last: unreadable), MKV cut short (the
  complete frames are denoised);
- a 1-frame video, grayscale, 10-bit, variable frame rate, phone rotation (every display
  matrix, against FFmpeg's own autorotate), 4096x64 and 16x16 frames, names with spaces and
  unicode: denoised, with the identity checkpoint and --lossless giving back exactly the frames
  as displayed;
- an output folder without write permission, a file size limit (`ulimit -f`) and, where a tiny
  file system can be mounted, a full disk: one clear line, nothing partial left;
- SIGINT and SIGTERM in the middle of a batch: no partial file, finished outputs kept, the report
  says what was done, and a rerun with --skip-existing finishes the rest.

After each of them, `assert_untouched` checks every input's bytes, time stamp and folder.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import make_video
from stdit_cli.batch.interrupts import InterruptGuard, Interrupted
from stdit_cli.cli import main
from stdit_cli.video.colour import frame_to_rgb
from stdit_cli.video import VideoError, VideoReader, VideoWarning, VideoWriter, decord_available, probe_video

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
REPO = Path(__file__).resolve().parents[1]



def _same_frames(written: np.ndarray, source: np.ndarray, label: str = "") -> None:
    """An identity model's output is its input as decoded, but for the decoder's YUV -> RGB bias, which
    the pipeline puts back (``VideoDenoiser.decode_shift``): within 2 levels, frame for frame."""
    assert written.shape == source.shape, label
    assert np.abs(written.astype(np.int16) - source.astype(np.int16)).max() <= 2, label

def ffmpeg(*args) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *map(str, args)], check=True)


def lavfi_clip(path: Path, *codec, size="48x32", frames=4, rate="25") -> Path:
    """A lossless-friendly moving pattern with grain (testsrc2 rounds odd sizes: crop after)."""
    width, height = (int(v) for v in size.split("x"))
    source = f"testsrc2=size={width + 1}x{height + 1}:rate={rate},crop={width}:{height}:0:0,noise=alls=16:allf=t"
    ffmpeg("-f", "lavfi", "-i", source, "-frames:v", frames, *codec, path)
    return path


def decoded_by_ffmpeg(path: Path) -> np.ndarray:
    """Frames as FFmpeg's command line shows them (autorotate on), uint8 RGB [t, H, W, 3]."""
    info = probe_video(path)
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                         check=True, capture_output=True).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(-1, info.height, info.width, 3)


def read_all(path: Path, backend="auto", bit_depth=8) -> np.ndarray:
    with VideoReader(path, backend=backend if bit_depth == 8 else "pyav", bit_depth=bit_depth) as reader:
        return reader.read(0, len(reader))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Zoo:
    """The input folder of every test here, and what it held when it was made."""

    folder: Path
    files: dict[str, Path]
    fingerprint: dict[str, tuple[str, int]]  # name -> (sha256, mtime_ns)


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (sha256(p), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def assert_untouched(zoo: Zoo) -> None:
    """Same files, same bytes, same time stamps, nothing added to the input folder."""
    assert fingerprint(zoo.folder) == zoo.fingerprint


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> Zoo:
    folder = tmp_path_factory.mktemp("zoo") / "in put ü"
    folder.mkdir()
    f = {}
    f["empty"] = folder / "empty.mp4"
    f["empty"].write_bytes(b"")
    f["text"] = folder / "notes.mp4"
    f["text"].write_text("this is not a video\n")
    f["audio_only"] = folder / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=sample_rate=16000", "-t", "0.3", "-c:a", "aac", f["audio_only"])
    full = lavfi_clip(folder.parent / "full.mp4", "-c:v", "libx264", "-movflags", "+faststart", frames=30)
    f["cut_header_first"] = folder / "cut header first.mp4"
    f["cut_header_first"].write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    tail = lavfi_clip(folder.parent / "tail.mp4", "-c:v", "libx264", frames=30)
    f["cut_header_last"] = folder / "cut header last.mp4"
    f["cut_header_last"].write_bytes(tail.read_bytes()[: tail.stat().st_size // 2])
    mkv = lavfi_clip(folder.parent / "full.mkv", "-c:v", "ffv1", frames=30)
    f["cut_mkv"] = folder / "cut.mkv"
    f["cut_mkv"].write_bytes(mkv.read_bytes()[: mkv.stat().st_size // 2])
    f["one_frame"] = lavfi_clip(folder / "one frame.mp4", "-c:v", "libx264rgb", "-qp", "0", frames=1)
    f["gray"] = lavfi_clip(folder / "gray.mkv", "-c:v", "ffv1", "-pix_fmt", "gray")
    f["ten_bit"] = lavfi_clip(folder / "ten bit.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p10le")
    f["vfr"] = folder / "vfr.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=48x32:rate=25", "-frames:v", "8",
           "-vf", "setpts='if(lt(N,4),N*0.04,0.16+(N-4)*0.12)/TB'", "-fps_mode", "vfr",
           "-c:v", "libx264rgb", "-qp", "0", f["vfr"])  # fmt: skip
    upright = lavfi_clip(folder.parent / "upright.mp4", "-c:v", "libx264rgb", "-qp", "0", size="48x32")
    f["rotated"] = folder / "phone rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", upright, "-c", "copy", f["rotated"])
    f["wide"] = lavfi_clip(folder / "wide.mp4", "-c:v", "libx264rgb", "-qp", "0", size="4096x64", frames=2)
    f["small"] = lavfi_clip(folder / "small.mp4", "-c:v", "libx264rgb", "-qp", "0", size="16x16")
    f["unicode"] = lavfi_clip(folder / "été — 東京 clip.mp4", "-c:v", "libx264rgb", "-qp", "0")
    return Zoo(folder, f, fingerprint(folder))


def denoise(*args):
    return CliRunner().invoke(main, ["denoise", *map(str, args)], catch_exceptions=False)


def records_of(report: Path) -> dict[str, dict]:
    return {Path(r["input"]).name: r for r in map(json.loads, report.read_text().splitlines())}


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if "stdit-tmp" in p.name)


# --- every kind of input in one batch ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore::stdit_cli.video.VideoWarning")  # the test's own reads; the CLI keeps its own
def test_batch_over_every_kind_of_input(zoo, identity_checkpoint, tmp_path):
    out = tmp_path / "out"
    report = tmp_path / "report.jsonl"
    result = denoise(*zoo.files.values(), "--checkpoint", identity_checkpoint, "--lossless", "--sigma", "10",
                     "-o", f"{out}/", "--report", report, "--quiet")  # fmt: skip
    assert result.exit_code == 1, result.output  # some inputs are meant to fail
    assert "Traceback" not in result.output
    records = records_of(report)
    f = zoo.files
    failed = {
        "empty": "empty file (0 bytes)",
        "text": "not a readable video",
        "audio_only": "no video stream (found: audio)",
        "cut_header_first": "truncated or corrupt: the container declares 30 frames but only",
        "cut_header_last": "not a readable video",
    }
    for key, reason in failed.items():
        record = records[f[key].name]
        assert record["status"] == "failed" and reason in record["error"], record
        assert "\n" not in record["error"] and not Path(record["output"]).exists()
        assert f"error: {f[key]}" in result.output  # one line on stderr
    ok = [key for key in f if key not in failed]
    for key in ok:
        record = records[f[key].name]
        assert record["status"] == "ok", record
        output = Path(record["output"])
        assert output.parent == out and output.name == f"{f[key].stem}.denoised.mp4"
        if key == "ten_bit":  # denoised in 16 bits, stored losslessly in 12 (HEVC: what .mp4 holds)
            assert records[f[key].name]["bits"] == 12
            assert np.abs(read_all(output, bit_depth=16).astype(int) - read_all(f[key], bit_depth=16)).max() < 2**4
            continue
        # identity model + lossless: the output is the input as displayed (a YUV input's decoder bias put back)
        _same_frames(read_all(output), read_all(f[key]), key)
    cut = records[f["cut_mkv"].name]
    assert 0 < cut["frames"] < 30  # an MKV cut short: its complete frames are denoised
    assert records[f["one_frame"].name]["frames"] == 1
    assert (records[f["wide"].name]["width"], records[f["wide"].name]["height"]) == (4096, 64)
    assert (records[f["small"].name]["width"], records[f["small"].name]["height"]) == (16, 16)
    assert (records[f["rotated"].name]["width"], records[f["rotated"].name]["height"]) == (32, 48)
    # 10 bits and a variable frame rate are kept: no warning
    assert all(records[f[key].name]["warnings"] == [] for key in ok)
    assert leftovers(out) == []
    assert_untouched(zoo)


# --- what each odd input becomes -----------------------------------------------------------------


def test_grayscale_is_read_as_three_equal_channels(zoo):
    frames_uint8 = read_all(zoo.files["gray"])
    assert frames_uint8.std() > 10
    assert np.array_equal(frames_uint8[..., 0], frames_uint8[..., 1])
    assert np.array_equal(frames_uint8[..., 1], frames_uint8[..., 2])


def test_ten_bit_input_warns_and_keeps_its_colours_in_8_bits(tmp_path):
    flat = tmp_path / "flat10.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x3366CC:size=64x48:rate=25", "-frames:v", "3",
           "-c:v", "libx264", "-pix_fmt", "yuv420p10le", flat)  # fmt: skip
    for backend in ("auto", "pyav"):
        with pytest.warns(VideoWarning, match="yuv420p10le has 10 bits per sample"):
            frames_uint8 = read_all(flat, backend=backend)
        assert frames_uint8.dtype == np.uint8 and frames_uint8.shape == (3, 48, 64, 3)
        assert np.abs(frames_uint8.reshape(-1, 3).astype(int) - (0x33, 0x66, 0xCC)).max() <= 3, backend


def shown_at_s(path: Path) -> np.ndarray:
    """Each frame's presentation time in seconds, from the stored packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return np.array(sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.size))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_keeps_each_frames_time(zoo, identity_checkpoint, tmp_path, recwarn, suffix):
    source = zoo.files["vfr"]  # 5 frames 40 ms apart, then 3 more 120 ms apart
    times_s = shown_at_s(source)
    assert np.diff(times_s) == pytest.approx([0.04] * 4 + [0.12] * 3, abs=1e-6)  # the clip is what it says
    for backend in ("decord", "pyav") if decord_available() else ("pyav",):
        with VideoReader(source, backend=backend) as reader:
            assert reader.frame_times().seconds() == pytest.approx(times_s - times_s[0], abs=1e-6), backend
    assert [w for w in recwarn if issubclass(w.category, VideoWarning)] == []  # nothing is lost: no warning
    out = tmp_path / f"vfr.denoised{suffix}"
    result = denoise(source, "--checkpoint", identity_checkpoint, "--lossless", "--sigma", "5", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["warnings"] == []
    np.testing.assert_array_equal(read_all(out), read_all(source))
    # each frame shown when it was in the input (Matroska stores milliseconds), and for as long in all
    assert shown_at_s(out) == pytest.approx(times_s - times_s[0], abs=1e-3 if suffix == ".mkv" else 1e-6)
    assert probe_video(out).duration_s == pytest.approx(probe_video(source).duration_s, abs=1e-3)
    assert_untouched(zoo)


def test_an_avi_that_dropped_frames_is_not_taken_for_a_truncated_file(tmp_path, identity_checkpoint):
    # an AVI header counts time slots at its constant rate: a capture that dropped frames holds
    # fewer frames than it declares, with gaps in their timestamps (a cut-short file has no gaps)
    source = tmp_path / "capture.avi"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=48x32:rate=30", "-frames:v", "12",
           "-vf", "setpts='if(lt(N,6),N,8+2*(N-6))'", "-fps_mode", "vfr", "-c:v", "ffv1", source)  # fmt: skip
    assert probe_video(source).num_frames > 12  # the header's slots
    out = tmp_path / "capture.mkv"
    result = denoise(source, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["frames"] == 12
    _same_frames(read_all(out), read_all(source))
    assert shown_at_s(out) == pytest.approx(shown_at_s(source), abs=1e-3)  # the gaps kept
    # its result holds fewer frames than the header's slots, at their times: finished all the same
    again = denoise(source, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", out, "--json",
                    "--skip-existing")  # fmt: skip
    assert json.loads(again.output.splitlines()[-1])["status"] == "skipped", again.output


def _first_shown_s(path: Path) -> tuple[float, float]:
    """(first decoded video frame, audio start) in seconds."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        first = next(container.decode(video))
        return float(first.pts * video.time_base), float(audio.start_time * audio.time_base)


def test_mpeg_ts_recordings_whole_and_cut_mid_gop_are_read(tmp_path, identity_checkpoint):
    # broadcast and camcorder .ts: FFmpeg seeks in it by estimated byte positions and landed past the
    # keyframe asked for (a whole two-GOP file failed); a recording cut part-way through a GOP starts
    # with packets no decoder turns into frames (counted as frames, every read ended early)
    whole = tmp_path / "recording.ts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "3",
           "-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "mp2", whole)  # fmt: skip
    sequential = read_all(whole, backend="pyav")
    assert len(sequential) == 75
    with VideoReader(whole, backend="pyav") as reader:
        assert reader.keyframes() == [0]  # no random access where it lands wrong
        for start in (40, 10, 60):  # asked for anyway: decoded forward, the same frames
            np.testing.assert_array_equal(reader.read(start, start + 3), sequential[start : start + 3])
    data = whole.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(data[(len(data) // 188 // 3) * 188 :])  # from a transport packet a third of the way in
    for source in (whole, cut):
        out = tmp_path / f"{source.stem}.denoised.mkv"
        result = denoise(source, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", out, "--json")
        assert result.exit_code == 0, result.output
        frames = json.loads(result.output.splitlines()[-1])["frames"]
        with av.open(str(source)) as container:  # the frames a decoder gives (FFmpeg's command line
            decodable = sum(1 for _ in container.decode(video=0))  # would repeat the first to fill the gap)
        assert frames == decodable and (frames == 75) == (source == whole), (source.name, frames, decodable)
        # the video starts as long after the audio as the first frame a decoder gives did in the input
        (video_in, audio_in), (video_out, audio_out) = _first_shown_s(source), _first_shown_s(out)
        assert video_out - audio_out == pytest.approx(video_in - audio_in, abs=0.002)


def test_a_video_trimmed_without_reencoding_keeps_only_its_shown_frames(tmp_path, identity_checkpoint):
    # a phone's or QuickTime's Trim (or ffmpeg -ss -c copy) keeps the GOP before the cut as an edit
    # list's pre-roll: decoded, never shown. Counted as frames it failed the read ("the stream ended
    # after 81 of 120 frames"), and decord returns it as frames
    whole = tmp_path / "whole.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-t", "4", "-c:v", "libx264", "-g", "60", "-bf", "2", whole)
    trimmed = tmp_path / "trimmed.mp4"
    ffmpeg("-ss", "1.3", "-i", whole, "-c", "copy", trimmed)
    with av.open(str(trimmed)) as container:
        shown = np.stack([frame_to_rgb(frame) for frame in container.decode(video=0)])  # as stdit reads them
    assert 60 < len(shown) < 90  # from 1.3 s on: the pre-roll from the keyframe at 0 s is not shown
    info = probe_video(trimmed)
    assert info.preroll and info.num_frames == len(shown)
    if decord_available():
        with pytest.raises(VideoError, match="edit list's pre-roll .* read it with the pyav backend"):
            VideoReader(trimmed, backend="decord")
    out = tmp_path / "trimmed.mkv"
    result = denoise(trimmed, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    _same_frames(read_all(out), shown)
    assert not probe_video(whole).preroll


def test_a_stream_whose_picture_size_changes_is_scaled_to_its_first_size(tmp_path, identity_checkpoint):
    # a recording that switched quality part-way, or clips joined: FFmpeg's command line scales the
    # frames of another size to the first; stdit refused the whole video
    parts = []
    for size in ("64x48", "32x24"):
        part = tmp_path / f"{size}.ts"
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10", "-t", "1", "-c:v", "libx264", "-qp", "0", part)
        parts.append(part.read_bytes())
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(parts))
    out = tmp_path / "joined.mkv"
    result = denoise(joined, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", out, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.splitlines()[-1])
    assert record["frames"] == 20 and (record["width"], record["height"]) == (64, 48)
    assert any("the picture size changes at frame 10, from 64x48 to 32x24" in w for w in record["warnings"])
    assert any("its timestamps start again part-way" in w for w in record["warnings"])  # each part's start at 1.4 s
    written = read_all(out)
    assert written.shape == (20, 48, 64, 3)
    _same_frames(written[:10], read_all(tmp_path / "64x48.ts", "pyav"))  # as the stream was read


def test_a_device_is_refused_in_one_line(tmp_path):
    # `stdit denoise /dev/zero`: no end and no size (a pipe is read whole first: tests/test_pipes.py)
    result = denoise("/dev/zero", "--sigma", "5", "-o", tmp_path / "out.mp4")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not a regular file; stdit reads a video more than once" in result.output and "save it to a file" in result.output
    assert list(tmp_path.iterdir()) == []


def test_output_names_up_to_the_file_system_limit(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "clip.mp4", frames=2)
    longest = tmp_path / ("n" * (255 - len(".mp4")) + ".mp4")  # the temporary name must fit as well
    result = denoise(clip, "-o", longest, "--sigma", "5", "--checkpoint", identity_checkpoint)
    assert result.exit_code == 0, result.output
    assert probe_video(longest).num_frames == 2
    too_long = tmp_path / ("n" * 300 + ".mp4")
    result = denoise(clip, "-o", too_long, "--sigma", "5", "--checkpoint", identity_checkpoint)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "name is longer than a file name can be (255 bytes)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["clip.mp4", longest.name])


def test_dev_stdin_redirected_from_a_file_is_that_file(tmp_path, identity_checkpoint):
    # `stdit denoise /dev/stdin < clip.mp4`: the FFmpeg children (the encoder takes the input's
    # tags and sound) have their own stdin, so they must be given the file itself
    clip = make_video(tmp_path / "clip.mp4", frames=3, audio=True)
    out = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "stdit_cli", "denoise", "/dev/stdin", "-o", str(out), "--sigma", "5",
               "--checkpoint", str(identity_checkpoint), "--quiet"]  # fmt: skip
    with open(clip, "rb") as stdin:
        result = subprocess.run(command, stdin=stdin, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert probe_video(out).num_frames == 3 and probe_video(out).has_audio
    # with no -o, the output goes beside the file, named after it (not into /dev)
    with open(clip, "rb") as stdin:
        result = subprocess.run(command[:5] + command[7:], stdin=stdin, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert probe_video(tmp_path / "clip.denoised.mp4").num_frames == 3


def test_constant_rate_video_has_no_frame_times(zoo):
    with VideoReader(zoo.files["unicode"]) as reader:
        assert reader.frame_times() is None  # written at its constant rate, as before


def test_constant_rate_clips_do_not_warn(zoo, recwarn):
    for key in ("one_frame", "gray", "small", "unicode", "wide"):
        VideoReader(zoo.files[key]).close()
    assert [str(w.message) for w in recwarn if issubclass(w.category, VideoWarning)] == []


ORIENTATIONS = [(angle, flip) for angle in (0, 90, 180, 270, -90) for flip in ("", "-display_hflip", "-display_vflip")]


@pytest.mark.parametrize("angle, flip", ORIENTATIONS)
def test_rotation_is_applied_exactly_like_ffmpeg_autorotate(tmp_path, angle, flip):
    upright = lavfi_clip(tmp_path / "upright.mp4", "-c:v", "libx264rgb", "-qp", "0", size="24x16", frames=2)
    phone = tmp_path / "phone.mp4"
    ffmpeg("-display_rotation", angle, *([flip] if flip else []), "-i", upright, "-c", "copy", phone)
    expected = decoded_by_ffmpeg(phone)
    with VideoReader(phone) as reader:
        assert reader.backend == ("pyav" if (angle or flip) else ("decord" if decord_available() else "pyav"))
        assert (reader.info.width, reader.info.height) == (expected.shape[2], expected.shape[1])
        np.testing.assert_array_equal(reader.read(0, 2), expected)
        np.testing.assert_array_equal(reader.read(1, 2), expected[1:])  # random access too
    if angle % 180:
        assert expected.shape[1:3] == (24, 16)  # sanity: the reference did rotate
    if decord_available() and (angle or flip):
        with pytest.raises(VideoError, match="use|pyav"):
            VideoReader(phone, backend="decord")


def test_rotation_that_is_not_a_multiple_of_90_is_left_as_stored(tmp_path):
    upright = lavfi_clip(tmp_path / "upright.mp4", "-c:v", "libx264rgb", "-qp", "0", size="24x16", frames=2)
    tilted = tmp_path / "tilted.mp4"
    ffmpeg("-display_rotation", "30", "-i", upright, "-c", "copy", tilted)
    with pytest.warns(VideoWarning, match="not a multiple of 90"):
        frames_uint8 = read_all(tilted)
    np.testing.assert_array_equal(frames_uint8, read_all(upright))


# --- outputs that cannot be written ----------------------------------------------------------------


def _drop_root_file_permission_bypass() -> None:
    """As root, give up CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (prctl PR_CAPBSET_DROP) so
    that folder permissions apply, as they do to everyone else (CI often runs tests as root)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # 24: PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _permissions_apply(folder: Path) -> bool:
    """Whether a child process (with the bypass dropped) is refused a read-only folder."""
    locked = folder / "probe"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    try:
        probe = subprocess.run(["sh", "-c", f'touch "{locked}/x"'], preexec_fn=_drop_root_file_permission_bypass,
                               capture_output=True)  # fmt: skip
    except subprocess.SubprocessError:  # root without CAP_SETPCAP cannot drop the bypass
        return False
    finally:
        locked.chmod(0o755)
    return probe.returncode != 0


def _run_stdit(args: list, as_plain_user: bool = False, limit_file_bytes: int | None = None):
    """`python -m stdit_cli denoise ...` in a child process, with permissions enforced even for
    root (`as_plain_user`) or a file size limit (`ulimit -f`)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    def limit() -> None:
        if as_plain_user:
            _drop_root_file_permission_bypass()
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    command = [sys.executable, "-m", "stdit_cli", "denoise", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, preexec_fn=limit, timeout=300)


def test_output_folder_without_write_permission(zoo, identity_checkpoint, tmp_path):
    if not _permissions_apply(tmp_path):
        pytest.skip("this process can write anywhere (root without CAP_SETPCAP): permissions cannot be tested")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    report = tmp_path / "report.jsonl"
    inputs = [zoo.files["small"], zoo.files["unicode"]]
    # flat: the temporary file cannot be created; nested (--relative-to): nor the subfolder
    for extra in ([], ["--relative-to", zoo.folder.parent]):
        result = _run_stdit([*inputs, "--checkpoint", identity_checkpoint, "-o", f"{locked}/", "--sigma", "5",
                             "--report", report, "--quiet", *extra], as_plain_user=True)  # fmt: skip
        assert result.returncode == 1, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 2 and all("Permission denied" in line for line in lines), result.stderr
        assert "Traceback" not in result.stderr
        assert ("cannot create the output folder" in lines[0]) == bool(extra), lines[0]
        assert ("cannot write in" in lines[0]) != bool(extra), lines[0]
        assert [r["status"] for r in map(json.loads, report.read_text().splitlines())] == ["failed", "failed"]
        assert list(locked.iterdir()) == []
    locked.chmod(0o755)
    assert_untouched(zoo)


def test_file_size_limit_is_a_clear_error_and_leaves_nothing(zoo, identity_checkpoint, tmp_path):
    big = lavfi_clip(tmp_path / "big.mp4", "-c:v", "libx264rgb", "-qp", "0", size="160x120", frames=6)
    out = tmp_path / "out"
    report = tmp_path / "report.jsonl"
    limit = 48 * 1024  # the lossless 160x120 output is far larger; the 16x16 one fits
    assert big.stat().st_size > 2 * limit
    result = _run_stdit([big, zoo.files["small"], "--checkpoint", identity_checkpoint, "--lossless", "--sigma", "5",
                         "-o", f"{out}/", "--report", report, "--quiet"], limit_file_bytes=limit)  # fmt: skip
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "file size limit was reached" in errors[0] and "big.denoised.mp4" in errors[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["small.denoised.mp4"]  # no partial file, no temp file
    statuses = {Path(r["input"]).name: r["status"] for r in map(json.loads, report.read_text().splitlines())}
    assert statuses == {"big.mp4": "failed", "small.mp4": "ok"}
    assert_untouched(zoo)


def _can_mount_tmpfs() -> bool:
    """True where an unprivileged user namespace may mount a tmpfs (not in every container)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            'mount -t tmpfs -o size=64k tmpfs "$(mktemp -d)"'], capture_output=True)  # fmt: skip
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no unprivileged mount namespace here to make a tiny file system")
def test_full_disk_is_a_clear_error_and_leaves_nothing(zoo, identity_checkpoint, tmp_path):
    big = lavfi_clip(tmp_path / "big.mp4", "-c:v", "libx264rgb", "-qp", "0", size="160x120", frames=6)
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$1" || exit 99; '
        '"$2" -m stdit_cli denoise "$3" --checkpoint "$4" --lossless --sigma 5 -o "$1/" --quiet; '
        'echo "rc=$?"; echo "left=[$(ls -A "$1")]"'
    )
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh",
                             disk, sys.executable, big, identity_checkpoint],
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "rc=1" in result.stdout and "left=[]" in result.stdout, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no space left on device (the partial output was removed)" in errors[0]
    assert "Traceback" not in result.stderr
    assert_untouched(zoo)


# --- signals in the middle of a batch --------------------------------------------------------------


def _wait_for(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_batch_keeps_finished_outputs_and_rerun_finishes(zoo, identity_checkpoint, tmp_path, signum, code):
    slow = lavfi_clip(tmp_path / "slow.mp4", "-c:v", "libx264", size="64x48", frames=12)
    inputs = [zoo.files["small"], slow, zoo.files["one_frame"]]
    out = tmp_path / "out"
    report = tmp_path / "report.jsonl"
    # many sampler steps: the slow video takes seconds, long enough to be caught in the middle
    args = [*inputs, "--checkpoint", identity_checkpoint, "--sigma", "60", "--steps", "20", "-o", f"{out}/",
            "--report", report, "--quiet", "--skip-existing"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "stdit_cli", "denoise", *map(str, args)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for(lambda: out.is_dir() and any(p.name.startswith(".slow.denoised.stdit-tmp") for p in out.iterdir()))
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and f"{signal.Signals(signum).name}: 1 of 3 inputs done" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["small.denoised.mp4"]  # no partial or temporary file
    assert probe_video(out / "small.denoised.mp4").num_frames == 4
    statuses = [r["status"] for r in map(json.loads, report.read_text().splitlines())]
    assert statuses == ["ok", "interrupted", "not_started"]
    if signum == signal.SIGTERM:  # the same command again resumes the batch
        rerun = subprocess.run([sys.executable, "-m", "stdit_cli", "denoise", *map(str, args)], env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr
        statuses = [r["status"] for r in map(json.loads, report.read_text().splitlines())]
        assert statuses == ["skipped", "ok", "ok"]
        assert probe_video(out / "slow.denoised.mp4").num_frames == 12
        assert probe_video(out / "one frame.denoised.mp4").num_frames == 1
    assert leftovers(out) == []
    assert_untouched(zoo)


def test_signal_while_ffmpeg_starts_leaves_no_file_and_no_process(tmp_path, monkeypatch):
    """The narrowest window: the signal lands while Popen starts FFmpeg (before it returns the
    process handle). The real FFmpeg is started; only the timing of the signal is arranged."""
    real_popen = subprocess.Popen
    started = []

    def popen_then_signal(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        started.append(process)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10**5):  # unshielded, the handler would raise here and lose `process`
            pass
        return process

    monkeypatch.setattr(subprocess, "Popen", popen_then_signal)
    with InterruptGuard() as guard, pytest.raises(Interrupted):
        with guard.interruptible():
            VideoWriter(tmp_path / "out.mp4", 64, 48, Fraction(25))
    assert started and started[0].wait(timeout=10) != 0  # killed, not left encoding
    time.sleep(0.2)
    assert list(tmp_path.iterdir()) == []


def test_output_is_never_the_input(zoo, identity_checkpoint):
    source = zoo.files["small"]
    for target in (source, source.parent / ".." / source.parent.name / source.name):
        result = denoise(source, "--checkpoint", identity_checkpoint, "-o", target, "--overwrite", "--json")
        assert result.exit_code == 1 and "would overwrite the input" in result.output
    assert_untouched(zoo)


def test_probe_keeps_the_exact_rate_of_a_rotated_clip(zoo):
    info = probe_video(zoo.files["rotated"])
    # -display_rotation 90 is counterclockwise; FFmpeg's get_rotation (clockwise) reads 270
    assert info.fps == Fraction(25) and info.orientation == "cclock" and info.rotation_deg == 270
    assert info.coded_size == (48, 32) and (info.width, info.height) == (32, 48)
    with av.open(str(zoo.files["rotated"])) as container:  # the file itself is not rotated
        assert (container.streams.video[0].codec_context.width, container.streams.video[0].codec_context.height) == (48, 32)


def test_names_with_a_colon_are_files_not_urls(tmp_path, monkeypatch, identity_checkpoint):
    # FFmpeg reads "10:20:30.mp4" as a URL of protocol "10" unless given as a path it cannot mistake
    clip = lavfi_clip(tmp_path / "10:20:30.mp4", "-c:v", "libx264rgb", "-qp", "0")
    monkeypatch.chdir(tmp_path)
    result = denoise("10:20:30.mp4", "-o", "out:put.mp4", "--checkpoint", identity_checkpoint, "--sigma", "10",
                     "--lossless", "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    with VideoReader("out:put.mp4") as out, VideoReader(clip) as source:
        np.testing.assert_array_equal(out.read(0, len(out)), source.read(0, len(source)))


def _subtitle_texts(path) -> list[list[str]]:
    """Each subtitle stream's cue texts, as FFmpeg decodes them."""
    with av.open(str(path)) as container:
        texts = [[] for _ in container.streams.subtitles]
        for position, stream in enumerate(container.streams.subtitles):
            for packet in container.demux(stream):
                texts[position] += [bytes(packet).decode("utf-8", "replace")] if packet.size else []
            container.seek(0)
    return texts


@pytest.mark.parametrize("source_suffix, out_suffix", [(".mkv", ".mkv"), (".mkv", ".mp4"), (".mp4", ".mkv"), (".mp4", ".mov")])
def test_subtitles_are_copied_in_the_outputs_own_format(tmp_path, identity_checkpoint, source_suffix, out_suffix):
    # a film's two subtitle tracks (and its sound): text, kept as the output's container stores text
    clip = lavfi_clip(tmp_path / "plain.mp4", "-c:v", "libx264rgb", "-qp", "0")
    tracks = []
    for language, line in (("eng", "Hello there"), ("fra", "Bonjour")):
        tracks.append(tmp_path / f"{language}.srt")
        tracks[-1].write_text(f"1\n00:00:00,000 --> 00:00:00,100\n{line}\n", encoding="utf-8")
    film = tmp_path / f"film{source_suffix}"
    text_codec = "srt" if source_suffix == ".mkv" else "mov_text"
    ffmpeg("-i", clip, "-f", "lavfi", "-i", "sine=duration=0.2", "-i", tracks[0], "-i", tracks[1], "-map", "0:v", "-map", "1:a",
           "-map", "2", "-map", "3", "-c:v", "copy", "-c:a", "aac", "-c:s", text_codec, film)  # fmt: skip
    out = tmp_path / f"out{out_suffix}"
    result = denoise(film, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["warnings"] == []
    texts = _subtitle_texts(out)
    assert len(texts) == 2 and "Hello there" in "".join(texts[0]) and "Bonjour" in "".join(texts[1])
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1


def test_subtitles_an_mp4_cannot_hold_are_named(tmp_path, identity_checkpoint):
    # Blu-ray bitmaps have no place in an MP4: the output says which streams stayed behind
    from stdit_cli.video.subtitles import plan_subtitles

    plan = plan_subtitles(["hdmv_pgs_subtitle", "subrip", "dvd_subtitle"], ".mp4")
    assert plan.kept == ((1, "mov_text"), (2, "copy")) and plan.dropped == ("hdmv_pgs_subtitle",)
    assert plan.ffmpeg_args(1) == ["-map", "1:s:1", "-c:s:0", "mov_text", "-map", "1:s:2", "-c:s:1", "copy"]
    assert plan_subtitles(["hdmv_pgs_subtitle", "mov_text"], ".mkv").kept == ((0, "copy"), (1, "srt"))
    # and a real file: ASS into .mp4 converts; a frame folder holds none and says nothing of them
    clip = lavfi_clip(tmp_path / "plain.mp4", "-c:v", "libx264rgb", "-qp", "0")
    subtitles = tmp_path / "film.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:00,100\nHello\n", encoding="utf-8")
    film = tmp_path / "film.mkv"
    ffmpeg("-i", clip, "-i", subtitles, "-map", "0", "-map", "1", "-c:v", "copy", "-c:s", "ass", film)
    result = denoise(film, "-o", tmp_path / "out.mp4", "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet")
    assert result.exit_code == 0 and "subtitle" not in result.output
    assert "Hello" in "".join(_subtitle_texts(tmp_path / "out.mp4")[0])


def test_subtitles_ffmpeg_refuses_leave_the_rest_of_the_file_and_are_said(tmp_path, identity_checkpoint, monkeypatch):
    # a codec the plan thought the container held (SubRip copied into .mp4, which FFmpeg refuses)
    import stdit_cli.video.writer as writer
    from stdit_cli.video.subtitles import SubtitlePlan

    monkeypatch.setattr(writer, "plan_subtitles", lambda codecs, suffix: SubtitlePlan(kept=((0, "copy"),), dropped=()))
    clip = lavfi_clip(tmp_path / "plain.mp4", "-c:v", "libx264rgb", "-qp", "0")
    subtitles = tmp_path / "film.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:00,100\nHello\n", encoding="utf-8")
    film = tmp_path / "film.mkv"
    ffmpeg("-i", clip, "-f", "lavfi", "-i", "sine=duration=0.2", "-i", subtitles, "-map", "0:v", "-map", "1:a", "-map", "2",
           "-c:v", "copy", "-c:a", "aac", "-c:s", "srt", film)  # fmt: skip
    out = tmp_path / "out.mp4"
    result = denoise(film, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout.strip().splitlines()[-1])["warnings"]
    said = r"1 subtitle stream \((srt|subrip)\) not copied to the output: FFmpeg could not store it in a \.mp4 file"
    assert any(re.search(said, w) for w in warnings), warnings
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1 and len(container.streams.subtitles) == 0


def test_ctrl_c_while_the_command_line_imports_is_one_line(tmp_path):
    # the interrupt arriving during `import click` (the first tenth of a second of every command)
    hook = tmp_path / "sitecustomize.py"
    hook.write_text(
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "stdit_cli", "denoise", "in.mp4"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "SIGINT: interrupted before the command started"


def _audio_start_after_video_s(path) -> float:
    with av.open(str(path)) as container:
        video = next(frame for frame in container.decode(video=0))
        container.seek(0)
        audio = next(packet for packet in container.demux(audio=0) if packet.pts is not None)
        return float(audio.pts * audio.time_base) - float(video.pts * video.time_base)


@pytest.mark.parametrize("suffix, audio_codec", [(".ts", "aac"), (".mpg", "mp2")])
def test_audio_that_starts_after_the_video_stays_in_sync(tmp_path, identity_checkpoint, suffix, audio_codec):
    # a broadcast recording or a camcorder's MPEG-PS: its sound starts half a second into the picture.
    # FFmpeg restarts such a file's audio at 0 when only its audio is mapped: 0.48 s out of sync
    source = tmp_path / f"late{suffix}"
    video_codec = "mpeg2video" if suffix == ".mpg" else "libx264"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2", "-itsoffset", "0.5", "-f", "lavfi", "-i",
           "sine=f=440:sample_rate=48000:duration=2", "-c:v", video_codec, "-pix_fmt", "yuv420p", "-c:a", audio_codec, source)  # fmt: skip
    gap = _audio_start_after_video_s(source)
    assert gap > 0.4
    for out_suffix in (".mp4", ".mkv"):
        out = tmp_path / f"out{out_suffix}"
        result = denoise(source, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet")
        assert result.exit_code == 0, result.output
        assert abs(_audio_start_after_video_s(out) - gap) < 0.045, out_suffix


def test_each_audio_track_is_copied_where_the_container_plays_it_and_conversions_are_said(tmp_path, identity_checkpoint):
    # a film: AC-3 5.1 (a .mov plays it), FLAC (it does not) and MP3 (decoded by "mp3float")
    source = tmp_path / "film.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i", "sine=f=440:duration=1",
           "-map", "0:v", "-map", "1:a", "-map", "1:a", "-map", "1:a", "-c:v", "libx264", "-c:a:0", "ac3", "-c:a:1", "flac",
           "-c:a:2", "libmp3lame", source)  # fmt: skip
    out = tmp_path / "film.mov"
    result = denoise(source, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--json")
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        assert [stream.codec_context.codec.canonical_name for stream in container.streams.audio] == ["ac3", "aac", "mp3"]
    warnings = json.loads(result.stdout.strip().splitlines()[-1])["warnings"]
    assert any("1 audio track (flac) re-encoded as AAC at 192 kb/s: a .mov file does not play it as it is" in w for w in warnings), warnings


def test_audio_resampled_by_its_re_encode_is_said_with_both_rates(tmp_path, identity_checkpoint):
    # a field recorder's 192 kHz PCM: .mp4 plays no PCM, and AAC holds 96 kHz at most
    source = tmp_path / "recorder.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i", "sine=f=440:sample_rate=192000:duration=1",
           "-c:v", "libx264", "-c:a", "pcm_s24le", source)  # fmt: skip
    out = tmp_path / "out.mp4"
    result = denoise(source, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--json")
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        rate = container.streams.audio[0].codec_context.sample_rate
    assert rate < 192000
    warnings = json.loads(result.stdout.strip().splitlines()[-1])["warnings"]
    said = f"1 audio track (pcm_s24le) re-encoded as AAC at 192 kb/s, resampled from 192 to {rate / 1000:g} kHz"
    assert any(said in w for w in warnings), warnings


def test_audio_no_codec_of_the_container_can_hold_is_refused_before_any_work(tmp_path, identity_checkpoint):
    # 12 channels of PCM (7.1.4 from an audio workstation): .mp4 plays no PCM and AAC stops at 7.1
    source = tmp_path / "atmos.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i",
           "aevalsrc=" + "|".join(["sin(440*2*PI*t)"] * 12) + ":s=48000:d=1", "-c:v", "libx264", "-c:a", "pcm_s16le", source)  # fmt: skip
    result = denoise(source, "-o", tmp_path / "out.mp4", "--checkpoint", identity_checkpoint, "--sigma", "5", "--json")
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == 1 and record["frames"] is None  # refused at the start, nothing denoised
    assert "pcm_s16le audio has 12 channels" in record["error"] and "write a .mov or .mkv output instead" in record["error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atmos.mov"]
    kept = denoise(source, "-o", tmp_path / "out.mov", "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet")
    assert kept.exit_code == 0, kept.output
    with av.open(str(tmp_path / "out.mov")) as container:
        assert container.streams.audio[0].codec_context.channels == 12


def test_styled_subtitles_keep_their_attached_fonts_in_mkv(tmp_path, identity_checkpoint):
    # an anime or film release: ASS subtitles and the fonts they name, attached to the .mkv
    clip = lavfi_clip(tmp_path / "plain.mp4", "-c:v", "libx264rgb", "-qp", "0")
    subtitles = tmp_path / "film.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:00,100\nHello\n", encoding="utf-8")
    font = tmp_path / "Title.ttf"
    font.write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)) * 4)  # stands in for a TrueType file
    film = tmp_path / "film.mkv"
    ffmpeg("-i", clip, "-i", subtitles, "-map", "0", "-map", "1", "-c:v", "copy", "-c:s", "ass", "-attach", font,
           "-metadata:s:t", "mimetype=application/x-truetype-font", film)  # fmt: skip
    out = tmp_path / "out.mkv"
    result = denoise(film, "-o", out, "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet")
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        attachments = [stream for stream in container.streams if stream.type == "attachment"]
        assert len(container.streams.subtitles) == 1 and len(attachments) == 1
        assert attachments[0].metadata.get("filename") == "Title.ttf"
