"""Keep resident host memory flat over long videos (glibc malloc tuning; a no-op elsewhere).

Every forward pass allocates and frees hundreds of MiB of activations, mostly in blocks below
glibc's (adaptive, up to 32 MiB) mmap threshold. Freed blocks go back to the malloc arenas, not
to the OS, and fragment there, so resident memory creeps up for the first hundred or so frames
and a long video peaks higher than a short one. Returning free pages to the OS every few
batches (``malloc_trim``; the pipeline's ``RELEASE_MEMORY_EVERY``) keeps the peak near what one
forward pass needs; capping the number of
arenas stops the decode, encode and compute threads from each keeping their own free memory.
"""

from __future__ import annotations

import ctypes
import sys

#: ``mallopt`` parameter number of ``M_ARENA_MAX`` in glibc's malloc.h
_M_ARENA_MAX = -8

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


def release_free_memory() -> bool:
    """Hand free heap pages back to the OS; True if any memory was released."""
    return _LIBC is not None and _LIBC.malloc_trim(0) == 1
