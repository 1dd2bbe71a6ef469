"""Keep resident host memory flat over long videos (glibc malloc tuning; a no-op elsewhere).

Every forward pass allocates and frees hundreds of MiB of activations, mostly in blocks below
glibc's (adaptive, up to 32 MiB) mmap threshold. Freed blocks go back to the malloc arenas, not
to the OS, and fragment there, so resident memory creeps up for the first hundred or so frames
and a long video peaks higher than a short one. Returning free pages to the OS every few
batches (``malloc_trim``; the pipeline's ``RELEASE_MEMORY_EVERY``) keeps the peak near what one
forward pass needs; capping the number of
arenas stops the decode, encode and compute threads from each keeping their own free memory.

Between those trims, the memory a forward pass frees should serve the next one as it is: glibc
maps every block above its mmap threshold (at most 32 MiB by default; a 640x272 window's
full-size activations in fp32 are 43 MiB) fresh and unmaps it on ``free``, and gives the top of
the heap back whenever 128 KiB of it are free, so each pass page-faulted its activations in again,
zeroed by the kernel (a 40-frame 640x272 video: 730 k page faults, 1.9 s of system time).
``reuse_freed_memory`` raises both limits (page faults 173 k, system time 0.7 s, the video loop
8.6 -> 7.2-7.9 s, peak memory the same; 60 frames of 854x480: 6.8 M -> 0.5 M page faults, peak
memory 1215 -> 1381 MiB: ``scripts/results/2026-12-04_memory_reuse.md``).
"""

from __future__ import annotations

import ctypes
import sys

#: ``mallopt`` parameter numbers in glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: blocks below this come from the heap, so a freed activation is reused by the next pass
MMAP_THRESHOLD = 1 << 30
#: free memory at the top of the heap kept (up to ``TRIM_THRESHOLD``), and extra asked of the OS
#: each time the heap grows; ``release_free_memory`` still hands everything back
TRIM_THRESHOLD = 1 << 30
TOP_PAD = 256 << 20

#: arenas shared by all threads (decode, encode, compute): one is contended, two is enough
MALLOC_ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    # musl and other C libraries have no malloc_trim/mallopt
    if not (hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt")):
        return None
    return libc


_LIBC = _glibc()


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Cap the malloc arenas new threads may create; True if the C library took the setting."""
    return _LIBC is not None and _LIBC.mallopt(_M_ARENA_MAX, count) == 1


def reuse_freed_memory() -> bool:
    """Keep freed blocks (up to ``MMAP_THRESHOLD`` each) for reuse instead of unmapping them;
    True if the C library took the settings."""
    if _LIBC is None:
        return False
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD))
    return all(_LIBC.mallopt(parameter, value) == 1 for parameter, value in settings)


def release_free_memory() -> bool:
    """Hand free heap pages back to the OS; True if any memory was released."""
    return _LIBC is not None and _LIBC.malloc_trim(0) == 1
