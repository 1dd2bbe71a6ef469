"""Background decode/encode threads: order, bounded look-ahead, errors surface, clean stop."""

import os
import signal
import threading
import time

import pytest

from stdit_cli.batch.interrupts import InterruptGuard, Interrupted
from stdit_cli.pipeline.background import BackgroundWriter, Prefetcher


def test_prefetcher_yields_every_item_in_order():
    with Prefetcher(iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))


def test_prefetcher_runs_at_most_depth_items_ahead():
    produced = []

    def source():
        for i in range(50):
            produced.append(i)
            yield i

    with Prefetcher(source(), depth=2) as items:
        iterator = iter(items)
        assert next(iterator) == 0
        time.sleep(0.3)  # give the producer every chance to run ahead
        # one item consumed, `depth` queued, one more held by the blocked producer
        assert len(produced) <= 1 + 2 + 1


def test_prefetcher_reraises_the_source_error_in_the_consumer():
    def source():
        yield 1
        raise ValueError("corrupt packet")

    with Prefetcher(source()) as items:
        with pytest.raises(ValueError, match="corrupt packet"):
            list(items)


def test_prefetcher_stops_a_blocked_producer_on_exit():
    def endless():
        while True:
            yield 0

    before = threading.active_count()
    with Prefetcher(endless(), depth=1) as items:
        next(iter(items))
    assert threading.active_count() == before


def test_background_writer_writes_in_order_and_finishes():
    written = []
    with BackgroundWriter(written.append, depth=2) as writer:
        for i in range(20):
            writer.submit(i)
    assert written == list(range(20))


def test_background_writer_error_reaches_the_caller():
    def write(item):
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        with BackgroundWriter(write, depth=1) as writer:
            for i in range(100):
                writer.submit(i)


def test_background_writer_abandon_drops_queued_items():
    gate = threading.Event()
    written = []

    def slow_write(item):
        gate.wait()
        written.append(item)

    writer = BackgroundWriter(slow_write, depth=4).__enter__()
    for i in range(4):
        writer.submit(i)  # item 0 blocks in slow_write, 1..3 wait in the queue
    time.sleep(0.2)
    stopper = threading.Thread(target=writer.abandon)
    stopper.start()
    time.sleep(0.2)
    gate.set()
    stopper.join(timeout=5)
    assert not stopper.is_alive()
    assert written == [0]


def test_background_writer_leaving_by_an_exception_drops_queued_items():
    gate = threading.Event()
    written = []

    def slow_write(item):
        gate.wait(0.3)
        written.append(item)

    with pytest.raises(KeyboardInterrupt):
        with BackgroundWriter(slow_write, depth=4) as writer:
            for i in range(4):
                writer.submit(i)
            time.sleep(0.1)  # item 0 is being written
            raise KeyboardInterrupt
    assert written == [0]
    assert not any(t.name == "stdit-encode" for t in threading.enumerate())


def _interrupted_start(monkeypatch):
    """Make Thread.start() raise as a Ctrl-C would when it lands while start() waits for the thread."""
    start = threading.Thread.start

    def start_then_interrupt(thread):
        start(thread)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)


@pytest.mark.parametrize("kind", ["decode", "encode"])
def test_an_interrupt_while_the_thread_starts_leaves_no_thread_running(monkeypatch, kind):
    # The decode thread reads from a video container; left running while the caller unwinds and
    # closes the container, it crashed the process (SIGSEGV). An interrupt that lands inside
    # Thread.start() must stop the thread before it leaves `with`.
    def endless():
        while True:
            yield 0

    _interrupted_start(monkeypatch)
    make = (lambda: Prefetcher(endless(), depth=1)) if kind == "decode" else (lambda: BackgroundWriter(print, depth=1))
    with pytest.raises(KeyboardInterrupt):
        with make():
            pytest.fail("the block must not run")
    assert not any(t.name == f"stdit-{kind}" for t in threading.enumerate())


def test_an_interrupt_while_the_thread_starts_under_the_guard_is_deferred_then_cleaned_up(monkeypatch):
    # Under stdit's InterruptGuard the signal waits for start() to return, then stops the thread.
    start = threading.Thread.start

    def start_with_a_signal(thread):
        os.kill(os.getpid(), signal.SIGTERM)  # delivered at the next bytecode: inside start()
        start(thread)

    def endless():
        while True:
            yield 0

    monkeypatch.setattr(threading.Thread, "start", start_with_a_signal)
    with InterruptGuard() as guard, guard.interruptible():
        with pytest.raises(Interrupted):
            with Prefetcher(endless(), depth=1):
                pytest.fail("the block must not run")
    assert not any(t.name == "stdit-decode" for t in threading.enumerate())


def test_the_decode_thread_touches_its_source_only_after_a_clean_start(monkeypatch):
    # Without stdit's guard (library use) a Ctrl-C inside Thread.start() is not deferred; the
    # thread must still leave the source (an open video reader) alone until __enter__ succeeds.
    advanced = []

    def source():
        while True:
            advanced.append(1)
            yield 0

    start = threading.Thread.start

    def start_then_interrupt_later(thread):
        start(thread)
        time.sleep(0.1)  # ample time for a thread that does not wait to begin reading
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt_later)
    with pytest.raises(KeyboardInterrupt):
        with Prefetcher(source(), depth=1):
            pytest.fail("the block must not run")
    assert advanced == []
    assert not any(t.name == "stdit-decode" for t in threading.enumerate())
