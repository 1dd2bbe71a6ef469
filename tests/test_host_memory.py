import sys

import pytest

from stdit_cli import host_memory

glibc_only = pytest.mark.skipif(host_memory._LIBC is None, reason="needs glibc (malloc_trim)")


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


@glibc_only
def test_release_free_memory_returns_fragmented_heap_pages():
    # 4000 x 64 KiB blocks (below the mmap threshold: they live in the heap), each followed by a
    # 1 KiB block that stays (over pymalloc's 512 B limit, so malloc's too): freeing the big ones
    # leaves 250 MiB of holes that free() alone cannot give back
    blocks, kept = [], []
    for _ in range(4000):
        blocks.append(bytearray(64 * 1024))
        kept.append(bytearray(1024))
    del blocks
    before = _rss_mib()
    assert host_memory.release_free_memory()
    after = _rss_mib()
    assert before - after > 150, (before, after)
    del kept


@glibc_only
def test_limit_malloc_arenas_is_accepted():
    assert host_memory.limit_malloc_arenas(2)


@glibc_only
def test_reuse_freed_memory_keeps_large_blocks_mapped():
    # a 48 MiB block (above glibc's default mmap ceiling of 32 MiB) freed and allocated again: with
    # the default settings every allocation is a fresh mapping whose pages fault in again
    def faults_of_reallocating() -> int:
        import resource

        block = bytearray(48 << 20)  # touches every page
        del block
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = bytearray(48 << 20)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        del block
        return after - before

    assert host_memory.reuse_freed_memory()
    faults_of_reallocating()  # the heap grows once
    assert faults_of_reallocating() < 1000  # 48 MiB is 12288 pages of 4 KiB


def test_without_glibc_they_are_no_ops(monkeypatch):
    monkeypatch.setattr(host_memory, "_LIBC", None)
    assert host_memory.release_free_memory() is False
    assert host_memory.limit_malloc_arenas() is False
    assert host_memory.reuse_freed_memory() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc detection is Linux-only")
def test_glibc_is_found_on_this_linux():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not a glibc system")
    assert host_memory._LIBC is not None
