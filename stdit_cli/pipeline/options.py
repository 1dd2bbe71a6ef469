"""What a user asks of ``stdit denoise`` and what it reports back: plain dataclasses, no torch.

The CLI builds :class:`DenoiseOptions` before anything heavy is imported, so a typo or a missing
file fails in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DenoiseOptions:
    """Everything ``stdit denoise`` lets a user choose, with the CLI defaults."""

    sigma_255: float | None = None  # None = estimate from the video
    steps: int = 1
    scheduler: str = "ddim"
    eta: float = 0.0
    seed: int = 0
    tile: int | None = None  # None = the backbone's default tile
    tile_overlap: int | None = None  # None = the backbone's default
    window_overlap: int | None = None  # None = DEFAULT_WINDOW_OVERLAP
    batch_size: int | None = None  # None = auto: 1 on CPU (measured fastest), from free memory on GPUs
    fast: bool = False
    compile: bool = False
    device: str = "auto"
    precision: str = "auto"
    lossless: bool = False
    ensemble: int | None = None  # views averaged per window (stdit_cli.pipeline.ensemble); None = DEFAULT_ENSEMBLE (--fast: FAST_ENSEMBLE)


@dataclass
class DenoiseResult:
    """What happened to one video (the CLI prints it; ``--json`` dumps it)."""

    input: str
    output: str
    model: str
    sigma: float
    sigma_estimated: bool
    t_start: int
    steps: int
    scheduler: str
    device: str
    precision: str
    frames: int
    width: int
    height: int
    seconds: float
    peak_device_mib: float | None = None  # CUDA only: peak memory allocated by torch
    ensemble: int = 1  # views averaged per window
    checkpoint: str = ""  # where the weights came from (--fast picks a model's cheaper shipped checkpoint)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0
