"""Tests for the MP4/MOV header times (stdit_cli/video/mp4_times.py)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import av
import imageio_ffmpeg
import pytest

from stdit_cli.video.mp4_times import Mp4LayoutError, parse_creation_time, set_creation_time


def _clip(path, *options: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=32x32:rate=10",
                    "-f", "lavfi", "-i", "sine", "-t", "0.3", "-c:v", "libx264", "-c:a", "aac", *options, str(path)], check=True)  # fmt: skip


def _times(path) -> list[str | None]:
    """The container's creation time, then each stream's, as FFmpeg reads them."""
    with av.open(str(path)) as container:
        return [container.metadata.get("creation_time"), *(stream.metadata.get("creation_time") for stream in container.streams)]


@pytest.mark.parametrize("suffix, options", [(".mp4", ()), (".mp4", ("-movflags", "+faststart")), (".mov", ())])
def test_the_movie_and_every_track_get_the_time_once(tmp_path, suffix, options):
    path = tmp_path / f"clip{suffix}"
    _clip(path, *options)  # no time: FFmpeg leaves the headers at zero
    assert _times(path) == [None, None, None]
    size = path.stat().st_size
    when = datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)
    assert set_creation_time(path, when) == 5  # mvhd, and tkhd + mdhd of two tracks
    assert _times(path) == ["2024-05-01T10:20:30.000000Z"] * 3
    assert path.stat().st_size == size
    with av.open(str(path)) as container:  # still a file that decodes
        assert sum(1 for _ in container.decode(video=0)) == 3


def test_a_file_that_is_not_mp4_is_refused_untouched(tmp_path):
    path = tmp_path / "clip.mkv"
    _clip(path)
    before = path.read_bytes()
    with pytest.raises(Mp4LayoutError):
        set_creation_time(path, datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("2024-05-01T10:20:30.000000Z", datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("2024-05-01T10:20:30.000000Z;2024-05-01T10:20:30Z", datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)),  # read twice
        ("2024-05-01 10:20:30", datetime(2024, 5, 1, 10, 20, 30, tzinfo=timezone.utc)),  # no zone: UTC, as FFmpeg takes it
        ("", None),
        ("yesterday", None),
    ],
)
def test_creation_time_tags_parse_as_ffmpeg_writes_and_reads_them(tag, expected):
    assert parse_creation_time(tag) == expected
