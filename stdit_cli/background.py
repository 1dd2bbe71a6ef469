"""Decode and encode in background threads, overlapping the model, through bounded queues.

``Prefetcher`` runs an iterator (the decoder) one or two items ahead of its consumer;
``BackgroundWriter`` hands frames to a writer (the encoder) without waiting for it. Both queues
are bounded, so memory stays flat whatever the video's length, and an error in either thread is
raised in the caller's thread at its next call.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Generic, Iterable, Iterator, TypeVar

Item = TypeVar("Item")

#: how often a blocked thread re-checks whether it was asked to stop (seconds)
_POLL_SECONDS = 0.1


class _Done:
    """End-of-stream marker (a class, so it can never be a real item)."""


class Prefetcher(Generic[Item]):
    """Iterate ``source`` in a daemon thread, at most ``depth`` items ahead of the consumer.

    Use as a context manager: leaving it (normally or by an exception) stops the thread and waits
    for it, so the source (e.g. an open video reader) can be closed safely afterwards.
    """

    def __init__(self, source: Iterable[Item], depth: int = 2, name: str = "stdit-decode"):
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer's thread
            self._error = error
        self._put(_Done)

    def __iter__(self) -> Iterator[Item]:
        while True:
            item = self._queue.get()
            if item is _Done:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> "Prefetcher[Item]":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class BackgroundWriter(Generic[Item]):
    """Call ``write(item)`` for each submitted item in a daemon thread, in order.

    ``submit`` blocks only when ``depth`` items are already waiting. ``finish`` waits for every
    item to be written and re-raises the writer's error, if any; ``abandon`` (on failure) drops
    what is queued and stops the thread.
    """

    def __init__(self, write: Callable[[Item], None], depth: int = 2, name: str = "stdit-encode"):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name=name, daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _Done:
                return
            if self._error is None and not self._stop.is_set():
                try:
                    self._write(item)
                except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = error

    def _raise_pending(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, item: Item) -> None:
        self._raise_pending()
        while True:
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                self._raise_pending()
                if not self._thread.is_alive():
                    raise RuntimeError("the background writer stopped unexpectedly")

    def finish(self) -> None:
        self._queue.put(_Done)
        self._thread.join()
        self._raise_pending()

    def abandon(self) -> None:
        self._stop.set()
        self._thread.join()
