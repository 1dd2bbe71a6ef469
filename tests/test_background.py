"""Background decode/encode threads: order, bounded look-ahead, errors surface, clean stop."""

import threading
import time

import pytest

from stdit_cli.background import BackgroundWriter, Prefetcher


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
    writer = BackgroundWriter(written.append, depth=2)
    for i in range(20):
        writer.submit(i)
    writer.finish()
    assert written == list(range(20))


def test_background_writer_error_reaches_the_caller():
    def write(item):
        raise OSError("No space left on device")

    writer = BackgroundWriter(write, depth=1)
    with pytest.raises(OSError, match="No space left"):
        for i in range(100):
            writer.submit(i)
        writer.finish()


def test_background_writer_abandon_drops_queued_items():
    gate = threading.Event()
    written = []

    def slow_write(item):
        gate.wait()
        written.append(item)

    writer = BackgroundWriter(slow_write, depth=4)
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
