"""Stopping a batch cleanly on SIGINT (Ctrl-C), SIGTERM (kill, Slurm, torchrun) and SIGHUP.

While an `InterruptGuard` is active, the first of these signals stops the batch:

- inside `guard.interruptible()` (a video being denoised) it raises `Interrupted` at once, which
  unwinds through the video writer: FFmpeg is killed and the temporary file removed, so no
  partial output ever appears (outputs are only renamed into place once complete);
- elsewhere (between videos, writing the report) it is only remembered, and the batch stops
  before the next video.

Later signals are ignored until the guard ends, so that a second Ctrl-C cannot cut the cleanup
short. Code that must not be cut in the middle (starting FFmpeg: an exception while `Popen`
waits for the exec would orphan a process that goes on writing the temporary file) runs
`with shielded():`, and the interrupt is raised when that block ends instead. Python runs signal handlers between bytecodes, so a signal that arrives during a long
torch operation takes effect when that operation returns. Signals that were ignored when the
guard started (`nohup`, a background job's SIGINT) stay ignored. The exit status of an
interrupted batch is the shell's convention, 128 + the signal number (130 SIGINT, 143 SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator, NoReturn

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Shield:
    """How deep the main thread is in `shielded()` blocks, and the guard that owns the signals."""

    depth = 0
    guard: "InterruptGuard | None" = None


class Interrupted(BaseException):
    """A signal stopped the batch (a BaseException, like KeyboardInterrupt, so that the
    per-video `except Exception` handlers do not swallow it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class InterruptGuard:
    """Context manager that turns the first SIGINT/SIGTERM/SIGHUP into a clean stop."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal received
        self._depth = 0  # > 0 inside interruptible()
        self._raised = False
        self._previous: dict[int, object] = {}

    @property
    def stop_requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum

    def __enter__(self) -> "InterruptGuard":
        if threading.current_thread() is not threading.main_thread():
            return self  # signal handlers can only be installed from the main thread
        for signum in SIGNALS:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            self._previous[signum] = previous
            signal.signal(signum, self._handle)
        _Shield.guard = self
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if _Shield.guard is self:
            _Shield.guard = None

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        if self._depth > 0 and _Shield.depth == 0:
            self._raise()

    def _raise(self) -> None:
        self._raised = True
        raise Interrupted(self.signum)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block that a signal stops at once (raises `Interrupted`)."""
        if self.signum is not None and not self._raised:
            self._raise()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A block that a stopping signal does not cut: the interrupt is raised when it ends.

    A no-op without an active `InterruptGuard` (library use, where Ctrl-C stays Python's own).
    """
    _Shield.depth += 1
    try:
        yield
    finally:
        _Shield.depth -= 1
    guard = _Shield.guard
    if _Shield.depth == 0 and guard is not None and guard.signum is not None and guard._depth > 0 and not guard._raised:
        guard._raise()


def exit_after_signal(code: int) -> NoReturn:
    """Leave a run that a signal stopped, skipping the interpreter's teardown.

    By now every finished output is in place, the partial one removed, the report closed and
    the summary printed: nothing is left that the teardown would save, and what it would tear
    down are native thread pools (FFmpeg's, OpenMP's) that the signal caught mid-work. (The one
    SIGSEGV seen here after a signal turned out to be a decode thread outliving its reader; see
    `stdit_cli.pipeline.background`. This exit is kept as a second line.)
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
