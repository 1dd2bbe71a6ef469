"""Outputs that appear only when complete: the context-manager half of every writer."""

from __future__ import annotations

from abc import ABC, abstractmethod


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
