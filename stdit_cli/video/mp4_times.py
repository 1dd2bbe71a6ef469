"""Set the creation time of an MP4/MOV file in its movie, track and media headers.

Why: with ``-movflags use_metadata_tags`` (how the writer keeps a phone's ``com.apple.*`` /
``com.android.*`` keys) FFmpeg writes every container tag as an ``mdta`` key, ``creation_time``
included, besides the binary time of the movie header (``mvhd``). FFmpeg then reads the file's
creation time as both joined, ``2024-05-01T10:00:00.000000Z;2024-05-01T10:00:00.000000Z``, which it
cannot parse: ``ffmpeg -i out.mp4 -map_metadata 0 -c copy again.mp4`` (a remux that keeps the tags)
or a second ``stdit denoise`` writes no time at all ("Failed to parse creation_time"). So the writer leaves ``creation_time`` out of the tags in that mode
and sets the headers' binary times here instead, as FFmpeg would have: one time, read back once.

Only fixed-size integers inside the ``moov`` box change (the creation and modification times of
``mvhd``, each ``trak``'s ``tkhd`` and its ``mdia/mdhd``), so no box moves and no offset changes.
"""

from __future__ import annotations

import os
import struct
from datetime import datetime, timezone

#: seconds from 1904-01-01, the QuickTime epoch, to 1970-01-01
QUICKTIME_EPOCH_OFFSET = 2082844800

#: full boxes holding (creation, modification) times right after their version and flags
_TIMED_BOXES = (b"mvhd", b"tkhd", b"mdhd")
#: container boxes on the way to them
_PARENTS = {b"moov": (b"mvhd", b"trak"), b"trak": (b"tkhd", b"mdia"), b"mdia": (b"mdhd",)}


class Mp4LayoutError(ValueError):
    """The file's boxes are not laid out as an MP4/MOV file's (no ``moov``, a box past the end)."""


def parse_creation_time(value: str) -> datetime | None:
    """A container's ``creation_time`` tag as an aware datetime; None when it does not parse.

    Takes the first of several joined by ``;`` (what FFmpeg reads from a file holding it twice).
    """
    text = value.split(";")[0].strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _boxes(data: bytes | memoryview, start: int, end: int):
    """(type, offset, header size, box size) of each box in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:  # 64-bit size after the type
            if offset + 16 > end:
                raise Mp4LayoutError(f"a {kind!r} box's size runs past the end")
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:  # to the end of the enclosing space
            size = end - offset
        if size < header or offset + size > end:
            raise Mp4LayoutError(f"a {kind!r} box of {size} bytes at {offset} does not fit in {end}")
        yield kind, offset, header, size
        offset += size


def _find_moov(file) -> tuple[int, bytes]:
    """The ``moov`` box's file offset and bytes (top-level boxes are walked by their headers only)."""
    file_size = os.fstat(file.fileno()).st_size
    offset = 0
    while offset + 8 <= file_size:
        file.seek(offset)
        head = file.read(16)
        size, kind = struct.unpack_from(">I4s", head)
        if size == 1:
            (size,) = struct.unpack_from(">Q", head, 8)
        elif size == 0:
            size = file_size - offset
        if size < 8 or offset + size > file_size:
            raise Mp4LayoutError(f"a {kind!r} box of {size} bytes at {offset} runs past the end of the file")
        if kind == b"moov":
            file.seek(offset)
            return offset, file.read(size)
        offset += size
    raise Mp4LayoutError("no moov box")


def _timed_boxes(moov: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset in ``moov`` after its header, version) of every header box under it that holds times."""
    found = []

    def walk(start: int, end: int, wanted: tuple[bytes, ...]) -> None:
        for kind, offset, header, size in _boxes(moov, start, end):
            if kind not in wanted:
                continue
            if kind in _TIMED_BOXES:
                found.append((kind, offset + header, moov[offset + header]))
            else:
                walk(offset + header, offset + size, _PARENTS[kind])

    _, _, header, size = next(_boxes(moov, 0, len(moov)))
    walk(header, size, _PARENTS[b"moov"])
    return found


def set_creation_time(path: str | os.PathLike, when: datetime) -> int:
    """Write ``when`` as the creation and modification time of the movie, each track and each
    track's media in the MP4/MOV file at ``path``; returns how many headers were set."""
    seconds = int(when.timestamp()) + QUICKTIME_EPOCH_OFFSET
    if seconds < 0:
        raise ValueError(f"{when.isoformat()} is before 1904, which an MP4 header cannot hold")
    with open(path, "r+b") as file:
        moov_offset, moov = _find_moov(file)
        boxes = _timed_boxes(moov)
        if not any(kind == b"mvhd" for kind, _, _ in boxes):
            raise Mp4LayoutError("the moov box has no mvhd")
        for _, start, version in boxes:
            # version 1: 64-bit times after version and flags; version 0: 32-bit
            if version == 1:
                value = struct.pack(">QQ", seconds, seconds)
            elif seconds < 2**32:
                value = struct.pack(">II", seconds, seconds)
            else:
                raise ValueError(f"{when.isoformat()} needs 64-bit MP4 times, and this header has 32")
            file.seek(moov_offset + start + 4)
            file.write(value)
    return len(boxes)
