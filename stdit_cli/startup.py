"""Keep `stdit denoise`'s start-up to what the command uses.

``diffusers.utils.torch_utils`` imports ``torch._dynamo`` (about 1 s, over half of everything the
pipeline imports after torch itself) for one decorator, ``allow_in_graph``, that only matters to
``torch.compile``; when that import fails it falls back to a no-op. Without ``--compile`` the
pipeline is imported inside :func:`without_torch_dynamo`, so that fallback is taken; with
``--compile`` nothing is held back and dynamo loads as usual.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from typing import Iterator

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
