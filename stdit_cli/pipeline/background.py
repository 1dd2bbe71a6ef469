"""Decode and encode in background threads, overlapping the model, through bounded queues.

``Prefetcher`` runs an iterator (the decoder) one or two items ahead of its consumer;
``BackgroundWriter`` hands frames to a writer (the encoder) without waiting for it. Both queues
are bounded, so memory stays flat whatever the video's length, and an error in either thread is
raised in the caller's thread at its next call.

Both are context managers whose thread starts in ``__enter__`` and is stopped and joined in
``__exit__``: a thread never outlives the ``with`` block that owns it. That matters because the
decode thread reads from a video container, and closing a container while another thread
decodes from it crashes the process (SIGSEGV in FFmpeg). ``Thread.start()`` waits for the new
thread, and Python runs signal handlers there, so an interrupt (Ctrl-C, SIGTERM) can land in the
middle of starting it: the start runs ``shielded()`` and, if it still raises, the thread is
stopped and joined before the exception leaves ``__enter__``. The decode thread also waits for a
go-ahead that ``__enter__`` gives only once the start has returned, so even a plain
KeyboardInterrupt (library use, no guard) inside ``start()`` leaves it exiting without having
touched the source.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from stdit_cli.batch.interrupts import shielded

Item = TypeVar("Item")

#: how often a blocked thread re-checks whether it was asked to stop (seconds)
_POLL_SECONDS = 0.1


class _Done:
    """End-of-stream marker (a class, so it can never be a real item)."""


def _start_owned(thread: threading.Thread, stop: Callable[[], None]) -> None:
    """Start ``thread``; if an interrupt lands while it starts, ``stop()`` it before re-raising."""
    try:
        with shielded():  # under stdit's InterruptGuard the interrupt waits until start() returns
            thread.start()
    except BaseException:
        if thread.is_alive():
            stop()
        raise


class Prefetcher(Generic[Item]):
    """Iterate ``source`` in a daemon thread, at most ``depth`` items ahead of the consumer.

    A context manager: the thread starts on entering; leaving (normally or by an exception) stops
    the thread and waits for it, so the source (e.g. an open video reader) can be closed safely
    afterwards.
    """

    def __init__(self, source: Iterable[Item], depth: int = 2, name: str = "stdit-decode"):
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._go = threading.Event()  # set by __enter__ once the thread is safely started
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        while not self._go.wait(_POLL_SECONDS):
            if self._stop.is_set():
                return  # the start was interrupted: leave the source untouched
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer's thread
            self._error = error
        self._put(_Done)

    def __iter__(self) -> Iterator[Item]:
        if self._thread.ident is None:
            raise RuntimeError("iterate a Prefetcher inside its `with` block")
        while True:
            item = self._queue.get()
            if item is _Done:
                if self._error is not None:
                    raise self._error
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> "Prefetcher[Item]":
        try:
            _start_owned(self._thread, self.close)
            self._go.set()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class BackgroundWriter(Generic[Item]):
    """Call ``write(item)`` for each submitted item in a daemon thread, in order.

    A context manager: the thread starts on entering. ``submit`` blocks only when ``depth`` items
    are already waiting. Leaving the block normally (or calling ``finish``) waits for every item
    to be written and re-raises the writer's error, if any; leaving it by an exception (or calling
    ``abandon``) drops what is queued and stops the thread.
    """

    def __init__(self, write: Callable[[Item], None], depth: int = 2, name: str = "stdit-encode"):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name=name, daemon=True)
        self._finished = False

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
        if self._thread.ident is None:
            raise RuntimeError("submit to a BackgroundWriter inside its `with` block")
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
        """Wait until every submitted item is written; re-raise the writer's error."""
        if self._finished:
            return
        try:
            self._queue.put(_Done)
            self._thread.join()
        except BaseException:  # interrupted while waiting: stop the thread before leaving
            self.abandon()
            raise
        self._finished = True
        self._raise_pending()

    def abandon(self) -> None:
        """Drop what is queued and stop the thread (the item being written finishes first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._finished = True

    def __enter__(self) -> "BackgroundWriter[Item]":
        _start_owned(self._thread, self.abandon)
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abandon()
