"""Outputs that appear only when complete: the context-manager half of every writer."""

from __future__ import annotations

import os
import secrets
from abc import ABC, abstractmethod
from pathlib import Path

#: the longest file name most file systems take (ext4, XFS, APFS, NTFS: 255 bytes or units)
NAME_MAX_BYTES = 255


def temporary_name(path: Path, kind: str = "tmp", keep_suffix: bool = True) -> Path:
    """A hidden name beside ``path`` for its output in progress:
    ``.<stem>.stdit-<kind>-XXXXXXXX<suffix>`` (``keep_suffix``: FFmpeg and Pillow pick the format
    by it), else ``.<name>.stdit-<kind>-XXXXXXXX``. A name near the file system's limit keeps its
    whole suffix and as much of the rest as fits, so any output name that can exist can be written."""
    stem, suffix = (path.stem, path.suffix) if keep_suffix else (path.name, "")
    tail = f".stdit-{kind}-{secrets.token_hex(4)}{suffix}"
    room = NAME_MAX_BYTES - len(os.fsencode("." + tail))
    encoded = os.fsencode(stem)
    if len(encoded) > room:  # a character cut in two is dropped (the name only has to be free and hidden)
        stem = encoded[:room].decode("utf-8", "ignore")
    return path.parent / f".{stem}{tail}"


class PublishOnSuccess(ABC):
    """Base of a writer with ``close`` (finish and move the output into place) and ``abort`` (drop
    everything, no output): as a context manager it publishes only when the block ends without an
    exception, and aborts otherwise (an interrupt included). `VideoWriter` and `ImageWriter`
    implement the two."""

    @abstractmethod
    def close(self) -> None:
        """Finish the output and move it into place; on any failure, abort and raise."""

    @abstractmethod
    def abort(self) -> None:
        """Drop everything written so far: no output appears. Safe to call twice."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
