"""Outputs that appear only when complete: the context-manager half of every writer."""

from __future__ import annotations


class PublishOnSuccess:
    """Base of a writer with ``close`` (finish and move the output into place) and ``abort`` (drop
    everything, no output): as a context manager it publishes only when the block ends without an
    exception, and aborts otherwise (an interrupt included)."""

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
