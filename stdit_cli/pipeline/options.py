"""What a user asks of ``stdit denoise`` and what it reports back: plain dataclasses, no torch.

The CLI builds :class:`DenoiseOptions` before anything heavy is imported, so a typo or a missing
file fails in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from stdit_cli.choices import MAX_STRENGTH, NOISE_MODES


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
    lossless: bool | None = None  # None: as the input (see output_lossless)
    ensemble: int | None = None  # views averaged per window (stdit_cli.pipeline.ensemble); None = DEFAULT_ENSEMBLE (--fast: FAST_ENSEMBLE)
    strength: float = 1.0  # see Strength
    noise: str = "auto"  # NOISE_MODES; see resolve_noise
    frame_rate: Fraction | None = None  # a frame folder's rate as a video; None = FOLDER_FPS (videos keep their own)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= MAX_STRENGTH:
            raise ValueError(f"strength must be within 0..{MAX_STRENGTH:g}, got {self.strength:g}")
        if self.noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {', '.join(NOISE_MODES)}, got {self.noise!r}")

    def output_lossless(self, input_lossless: bool) -> bool:
        """Whether the output is stored losslessly: ``--lossless`` / ``--lossy`` when given, else as
        the input was (a lossless source, e.g. FFV1 or x264 ``-qp 0``, is not turned lossy unasked)."""
        return input_lossless if self.lossless is None else self.lossless

    def resolve_noise(self, real_ships: bool) -> str:
        """``--noise`` as run: ``"real"`` or ``"gaussian"``.

        - ``real``: camera and phone noise (signal-dependent, correlated, compressed): the model's
          real-noise checkpoint, and the noise level read by the learned blind estimator unless
          ``--sigma N`` gives it (then N is the noise's RMS on 0..255).
        - ``gaussian``: white Gaussian noise of a known or estimated sigma: the model's
          Gaussian checkpoint, ``--sigma N`` exact, ``--sigma auto`` the patch-PCA estimate.
        - ``auto`` (the default): ``real`` when no number is given and a real-noise checkpoint
          ships for the model (``real_ships``: not with ``--checkpoint``; with ``--fast`` the
          cheaper real-noise weights where they ship), else ``gaussian``. A user who knows the
          sigma of added white noise gets the exact model for it.
          With ``real`` resolved this way, each video whose noise then reads as white still gets
          the Gaussian weights (``stdit_cli.batch.runner``, ``stdit_cli.pipeline.noise_kind``).
        """
        if self.noise != "auto":
            return self.noise
        return "real" if real_ships and self.sigma_255 is None else "gaussian"


@dataclass(frozen=True)
class Strength:
    """What ``--strength S`` does to the output, split into its two regimes.

    - ``S <= 1`` keeps grain: the output is ``denoised + (1 - S) * (input - denoised)``, so a
      share ``1 - S`` of the noise the model removed is put back, unchanged in character (white
      noise stays white, film grain stays grain). ``S = 0`` returns the input.
    - ``S > 1`` denoises harder: the model runs as if the noise level were ``S`` times the given
      or estimated one (a later start step), which smooths more, including noise that is
      correlated or that the estimate under-reads, at the cost of fine detail.
    """

    sigma_scale: float  # the model denoises sigma * sigma_scale
    keep_input: float  # share of (input - denoised) added back

    @classmethod
    def from_user(cls, strength: float) -> "Strength":
        return cls(sigma_scale=max(strength, 1.0), keep_input=1.0 - min(strength, 1.0))


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
    strength: float = 1.0  # --strength (Strength): grain kept below 1, harder denoising above
    noise: str = "gaussian"  # --noise as run (DenoiseOptions.resolve_noise)
    lossless: bool = False  # the output is stored losslessly (DenoiseOptions.output_lossless)
    bits: int = 8  # bits per sample the output stores (10 for a deep source's lossy video: video.depth)
    shots: int = 1  # shots the video was denoised as, one after the other (cuts: pipeline.shots)
    shot_sigmas: list[float] | None = None  # each shot's level, where each was read on its own (pipeline.shots)
    coarse_sigma: float | None = None  # the half-size pass's level, where one ran (the first shot's: pipeline.coarse_band)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0
