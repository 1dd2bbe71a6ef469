"""Outputs that appear only when complete: the context-manager half of every writer, the
temporary names they write under, and the move that puts a finished output in place."""

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


def publish(finished: Path, final: Path, replace: bool) -> None:
    """Move a finished output (a file or a folder) to ``final``.

    ``replace``: ``final`` existed when the run started and the user asked for it to be replaced
    (``--overwrite``): it is, in one atomic step. Otherwise nothing at ``final`` is ever replaced:
    an output that appeared there while this run worked (another run writing the same path) is kept,
    and ``FileExistsError`` says so. The move is atomic either way: a hard link, which refuses an
    existing name, for a file (where the file system has no hard links, a check just before a rename);
    a rename, which refuses a folder that is not empty, for a folder.
    """
    if replace:
        os.replace(finished, final)
        return
    if finished.is_dir():
        try:
            os.rename(finished, final)
        except OSError as error:
            if final.exists():
                raise FileExistsError(f"{final}: appeared while this run was writing") from error
            raise
        return
    try:
        os.link(finished, final)
    except FileExistsError:
        raise FileExistsError(f"{final}: appeared while this run was writing") from None
    except OSError:  # no hard links here (FAT, some network shares): the narrowest check there is
        if final.exists():
            raise FileExistsError(f"{final}: appeared while this run was writing") from None
        os.replace(finished, final)
        return
    os.unlink(finished)
