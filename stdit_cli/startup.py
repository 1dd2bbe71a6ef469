"""Keep `stdit`'s start-up, and its exit, to what the command uses.

``diffusers.utils.torch_utils`` imports ``torch._dynamo`` (about 1 s, over half of everything the
pipeline imports after torch itself) for one decorator, ``allow_in_graph``, that only matters to
``torch.compile``; when that import fails it falls back to a no-op. Without ``--compile`` the
pipeline is imported inside :func:`without_torch_dynamo`, so that fallback is taken; with
``--compile`` nothing is held back and dynamo loads as usual.

``diffusers.utils.import_utils`` also calls ``importlib.metadata.packages_distributions()`` once
at import, which reads the file list (RECORD) of every installed distribution: 0.1 s alone in a
60-package virtualenv (0.04 s off the pipeline's import there), more in a large one. The map it builds serves only three optional
quantisation backends whose import name differs from their distribution name (optimum,
flashinfer, modelopt), none of which a denoise run uses. :func:`without_distribution_scan` gives
it an empty map instead; diffusers then looks each name up as its own distribution name.
:func:`lean_pipeline_import` is both, as ``stdit denoise`` imports the pipeline.

At exit, once torch is loaded, the interpreter's teardown (finalising thousands of modules and
objects) takes 0.13-0.20 s after the last output line, a tenth of a short clip's start-up.
:func:`exit_quickly` skips it when nothing is left that it would finish: every output renamed
into place, every file closed, no other thread or child process running.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
import threading
from typing import Iterator, NoReturn

#: imported only by ``torch.compile`` (and by ``diffusers`` for a compile-only decorator)
COMPILE_ONLY_MODULE = "torch._dynamo"


class _HoldBack(importlib.abc.MetaPathFinder):
    """An import finder that refuses one module (its importers handle ``ImportError``)."""

    def __init__(self, name: str):
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            raise ImportError(f"{self.name} is held back while the pipeline imports (no --compile)", name=fullname)
        return None


@contextlib.contextmanager
def without_torch_dynamo() -> Iterator[None]:
    """Imports inside this block see ``torch._dynamo`` as missing, unless it is already loaded."""
    if COMPILE_ONLY_MODULE in sys.modules:
        yield
        return
    finder = _HoldBack(COMPILE_ONLY_MODULE)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _no_distributions() -> dict[str, list[str]]:
    return {}


@contextlib.contextmanager
def without_distribution_scan() -> Iterator[None]:
    """Inside this block ``importlib.metadata.packages_distributions()`` returns an empty map
    (nothing is read from disk); outside it, the real function again."""
    import importlib.metadata as metadata  # here: `stdit --help` and typos never need it

    scan = metadata.packages_distributions
    metadata.packages_distributions = _no_distributions
    try:
        yield
    finally:
        metadata.packages_distributions = scan


@contextlib.contextmanager
def lean_pipeline_import(compile_model: bool = False) -> Iterator[None]:
    """Import the pipeline inside this block: without the distribution scan, and without
    ``torch._dynamo`` unless ``compile_model`` (``--compile``)."""
    with without_distribution_scan(), contextlib.nullcontext() if compile_model else without_torch_dynamo():
        yield


def teardown_is_idle() -> bool:
    """Whether exiting without the interpreter's teardown loses nothing.

    True once torch is loaded (before that the teardown costs nothing worth skipping) with only
    this thread running, no child process and no process group of ``torchrun`` still open.
    """
    if "torch" not in sys.modules or threading.active_count() > 1:
        return False
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        return False
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return False
    return True


def exit_quickly(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code`` and no teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)
