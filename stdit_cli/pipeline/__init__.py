"""The denoising pipeline: decode → windows/tiles → sampler + backbone → blend → encode.

- `denoiser`: `VideoDenoiser` (one loaded model, many videos).
- `options`: `DenoiseOptions` and `DenoiseResult`, plain dataclasses (no torch).
- `sampler`: noise level ↔ diffusion timestep, and the DDIM/DDPM loop (`DiffusionSampler`).
- `tiling`: overlapping spatio-temporal windows and their streamed, seamless blending.
- `ensemble`: the self-ensemble over flips and transposes of each window (`--ensemble`).
- `noise_level`: estimating a video's sigma from its frames (`--sigma auto`).
- `adapters`: one canonical `[B, C, T, H, W]` tensor in, each backbone's own layout out.
- `background`: decode and encode threads that overlap the model (`Prefetcher`, `BackgroundWriter`).

`from stdit_cli.pipeline import VideoDenoiser, DenoiseOptions, DenoiseResult` is the public entry
point. The names load on first access (PEP 562), so importing this package, or a light submodule
such as `noise_level`, does not import torch or diffusers: `stdit --help` and a bad-input error
stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name → the submodule that defines it (imported on first access)
_LAZY = {
    "DenoiseOptions": "options",
    "DenoiseResult": "options",
    "VideoDenoiser": "denoiser",
}

__all__ = ["DenoiseOptions", "DenoiseResult", "VideoDenoiser"]

if TYPE_CHECKING:
    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.options import DenoiseOptions, DenoiseResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
