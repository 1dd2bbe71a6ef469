"""A folder of numbered pictures is read as a video and comes back as a folder of pictures."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stdit_cli.cli import main
from stdit_cli.video import VideoError, VideoReader, probe_video
from stdit_cli.video.frame_folder import FrameFolderWriter, frame_files


def _frames(count: int = 7, height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def _folder(path, frames: np.ndarray, suffix: str = ".png", name=lambda i: f"f{i + 1}"):
    """Pictures named f1, f2 ... f10 (natural order differs from sorted order past 9)."""
    path.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(path / f"{name(i)}{suffix}")
    return path


def _read_folder(path, names) -> np.ndarray:
    return np.stack([np.asarray(Image.open(path / name).convert("RGB")) for name in names])


def _denoise(*args):
    return CliRunner().invoke(main, ["denoise", *map(str, args), "--quiet", "--json"], catch_exceptions=False)


def _record(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_frame_folder_is_probed_and_read_in_natural_order(tmp_path):
    frames = _frames(count=11)
    folder = _folder(tmp_path / "clip", frames)
    (folder / "notes.txt").write_text("not a frame")
    (folder / ".f99.png").write_bytes(b"a hidden file")
    names = frame_files(folder)
    assert names[:3] == ("f1.png", "f2.png", "f3.png") and names[-2:] == ("f10.png", "f11.png")
    info = probe_video(folder)
    assert (info.num_frames, info.width, info.height, info.fps, info.lossless) == (11, 32, 24, 25, True)
    with VideoReader(folder) as reader:
        assert reader.keyframes() == list(range(11))  # every picture decodes on its own
        np.testing.assert_array_equal(reader.read(0, 11), frames)
        np.testing.assert_array_equal(reader.read(9, 11), frames[9:])


def test_folders_that_are_not_frames_fail_in_one_line(tmp_path):
    empty = tmp_path / "videos"
    empty.mkdir()
    (empty / "a.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="no pictures .* find .* stdit denoise --inputs-from -"):
        probe_video(empty)
    mixed = _folder(tmp_path / "mixed", _frames(2))
    Image.fromarray(_frames(1)[0]).save(mixed / "f3.jpg")
    with pytest.raises(VideoError, match=r"several formats \(1 \.jpg, 2 \.png\)"):
        probe_video(mixed)
    card = _folder(tmp_path / "100CANON", _frames(2), suffix=".jpg", name=lambda i: f"IMG_{i:04d}")
    (card / "MVI_0003.MOV").write_bytes(b"a clip")
    with pytest.raises(VideoError, match="holds videos beside its 2 pictures"):
        probe_video(card)
    sizes = _folder(tmp_path / "sizes", _frames(2))
    Image.fromarray(_frames(1, height=30)[0]).save(sizes / "f3.png")
    with VideoReader(sizes) as reader, pytest.raises(VideoError, match="f3.png: is 32x30, the folder's first picture 32x24"):
        reader.read(0, 3)
    phone = tmp_path / "iPhone photos"  # photos, each one its own: the hint says how to take them
    phone.mkdir()
    (phone / "IMG_0001.HEIC").write_bytes(b"a photo")
    with pytest.raises(VideoError, match=r"holds \.HEIC photos, which are not read as frames .* stdit denoise '.*iPhone photos'/\*\.HEIC"):
        probe_video(phone)


def test_the_cli_writes_a_frame_folder_back_as_pictures_of_the_same_names(tmp_path, identity_checkpoint):
    frames = _frames(count=11)
    folder = _folder(tmp_path / "clip", frames)
    result = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    out = tmp_path / "clip.denoised"
    record = _record(result)
    assert (record["output"], record["frames"], record["lossless"]) == (str(out), 11, True)
    assert sorted(os.listdir(out)) == sorted(frame_files(folder))
    # identity model, PNG in and out: the frames back bit for bit, each under its own name
    np.testing.assert_array_equal(_read_folder(out, frame_files(folder)), frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip", "clip.denoised"]  # no temporary left

    again = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert again.exit_code == 1 and "already exists (pass --overwrite" in again.output
    skipped = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "--skip-existing")
    assert _record(skipped)["status"] == "skipped"
    (out / "f1.png").unlink()  # an incomplete folder is done again
    redone = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "--skip-existing")
    assert _record(redone)["status"] == "ok" and len(os.listdir(out)) == 11

    video = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "-o", tmp_path / "clip.mkv")
    assert video.exit_code == 0, video.output
    with VideoReader(tmp_path / "clip.mkv") as reader:
        assert reader.info.fps == 25
        np.testing.assert_array_equal(reader.read(0, len(reader)), frames)


@pytest.mark.parametrize(("asked", "rate"), [("24", Fraction(24)), ("29.97", Fraction(30000, 1001)), ("12.5", Fraction(25, 2))])
def test_a_frame_folder_becomes_a_video_at_the_rate_asked(tmp_path, identity_checkpoint, asked, rate):
    folder = _folder(tmp_path / "render", _frames(count=3))
    out = tmp_path / "render.mp4"
    result = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "--frame-rate", asked, "-o", out)
    assert result.exit_code == 0, result.output
    info = probe_video(out)
    assert (info.fps, info.num_frames) == (rate, 3)
    assert info.duration_s == pytest.approx(3 / rate, abs=1e-3)


@pytest.mark.parametrize("name", ["clip.gif", "clip.webm", "clip.avi"])
def test_a_frame_folder_asked_for_as_a_video_stdit_does_not_write_is_refused(tmp_path, identity_checkpoint, name):
    # `-o clip.webm` asks for a video: not a folder of pictures named clip.webm
    folder = _folder(tmp_path / "render", _frames(count=2))
    result = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "-o", tmp_path / name)
    assert result.exit_code == 1 and "unsupported output extension" in _record(result)["error"]
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("asked", ["fast", "0", "-24", "1/0"])
def test_a_frame_rate_that_is_no_rate_is_refused_in_one_line(tmp_path, asked):
    result = CliRunner().invoke(main, ["denoise", str(tmp_path), "--frame-rate", asked])
    assert result.exit_code == 2 and "Invalid value for '--frame-rate'" in result.output
    assert "Traceback" not in result.output and list(tmp_path.iterdir()) == []


def test_jpeg_frames_come_back_as_jpeg_and_refuse_lossless(tmp_path, identity_checkpoint):
    folder = _folder(tmp_path / "scan", _frames(count=3), suffix=".jpg", name=lambda i: f"{i:04d}")
    result = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path / "out" / "scan.denoised")) == ["0000.jpg", "0001.jpg", "0002.jpg"]
    assert _record(result)["lossless"] is False
    refused = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5", "--lossless", "--overwrite", "-o", tmp_path / "out")
    assert refused.exit_code == 1 and "JPEG frames cannot be written back losslessly" in refused.output


def test_an_aborted_folder_leaves_nothing_and_a_replaced_one_is_swapped_whole(tmp_path):
    frames = _frames(count=3)
    names = ("a.png", "b.png", "c.png")
    with pytest.raises(RuntimeError):
        with FrameFolderWriter(tmp_path / "out", 32, 24, names) as writer:
            writer.write(frames[:2])
            raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(VideoError, match="wrote 2 of 3 frames"):
        with FrameFolderWriter(tmp_path / "out", 32, 24, names) as writer:
            writer.write(frames[:2])
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.png").write_bytes(b"an earlier output")
    with FrameFolderWriter(tmp_path / "out", 32, 24, names) as writer:
        writer.write(frames)
    assert sorted(os.listdir(tmp_path / "out")) == list(names)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_inspect_shapes_reads_a_frame_folder(tmp_path):
    folder = _folder(tmp_path / "clip", _frames(count=6))
    result = CliRunner().invoke(main, ["inspect-shapes", "--model", "unet", "--video", str(folder), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stages = {stage["stage"]: stage for stage in json.loads(result.output)["stages"]}
    assert stages["decode"]["shape"][1:] == [24, 32, 3] and stages["decode"]["dtype"] == "uint8"


def test_pictures_keep_their_exif_orientation_since_they_are_written_as_stored(tmp_path, identity_checkpoint):
    folder = _folder(tmp_path / "phone", _frames(count=2), suffix=".jpg", name=lambda i: f"IMG_{i}")
    exif = Image.Exif()
    exif[0x0112] = 6  # shot upright: viewers turn it 90 degrees
    Image.fromarray(_frames(count=1)[0]).save(folder / "IMG_1.jpg", exif=exif.tobytes())
    result = _denoise(folder, "--checkpoint", identity_checkpoint, "--sigma", "5")
    assert result.exit_code == 0, result.output
    out = tmp_path / "phone.denoised"
    assert Image.open(out / "IMG_1.jpg").getexif().get(0x0112) == 6
    assert Image.open(out / "IMG_1.jpg").size == (32, 24)  # as stored
