"""``--noise real``: a video's noise level read blind by the learned estimator.

The patch-PCA estimate of :mod:`stdit_cli.pipeline.noise_level` is exact for white noise and
reads almost nothing of camera noise, whose energy sits at low spatial frequencies after
demosaicing, noise reduction and compression. :class:`LearnedNoiseLevel` runs the shipped
:class:`~stdit_cli.models.NoiseLevelEstimator` (trained on the real-noise backbone's noise mix by
``scripts/train_noise_estimator.py``) over a grid of crops of the sampled frames and combines the
per-crop levels into one RMS: the level the real-noise backbone is conditioned on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stdit_cli.models import NoiseLevelEstimator

#: side of the crops the estimator reads (its training crop)
CROP = 64
#: most crops read per video, shared between the sampled frames (evenly spread over a grid of
#: non-overlapping crops in each): about 0.1 s on a 2-core CPU
MAX_CROPS = 128
#: share of the lowest and of the highest per-crop levels left out of the combined RMS
#: (a textured crop can read as noisy, a saturated one as clean)
TRIM = 0.1
#: crops per forward pass
BATCH = 64
#: the white-noise (patch-PCA) level is taken into account when it is at least this share of the
#: learned one (:func:`blind_level`): on white noise the two agree (Vid4 calendar at sigma 10: patch
#: PCA 10.1, the learned estimator 15.7, its fine text taken for noise), on camera noise patch PCA
#: reads a tenth to a third of it (PolyU: 0.3 against 2.4)
WHITE_AGREEMENT = 0.6


def blind_level(learned: float, white: float) -> float:
    """The blind reading weights trained on it run at (the black-and-white weights, whose clips were
    labelled with :meth:`LearnedNoiseLevel.blind_level_of`): the smaller of the two estimates when
    they agree within :data:`WHITE_AGREEMENT`, else the ``learned`` one (camera noise, which patch PCA
    mostly misses), as read.

    Weights trained on the noise's own RMS run at :func:`rms_level` instead: once white noise went
    to the Gaussian weights (``noise_kind``), what made the two agree on the real-noise path was
    mostly texture raising patch PCA (gravel, fine text: 8-16 whatever the noise), so the smaller of
    the two held heavy camera noise down (phone-like noise at night on ``scooter-black``: 8.4 run
    where 13.9 was read, 0.8 dB lost; `scripts/results/2026-12-07_rms_level.md`)."""
    return min(white, learned) if white >= WHITE_AGREEMENT * learned else learned


def rms_level(learned: float, white: float) -> float:
    """The level weights trained on the RMS of their noise run at: the learned estimate of that RMS,
    as read (``white``, the patch-PCA level, is not used: see :func:`blind_level`)."""
    return learned


def crop_grid(frames_uint8: np.ndarray, crop: int = CROP, per_frame: int = 16) -> np.ndarray:
    """``[n, H, W, 3]`` uint8 -> ``[N, s, s, 3]`` crops on a grid of non-overlapping ``s x s`` cells,
    ``s = crop`` (smaller, and even, for frames smaller than that), at most ``per_frame`` per frame."""
    _, height, width, _ = frames_uint8.shape
    side = min(crop, height - height % 2, width - width % 2)
    if side < 8:
        raise ValueError(f"frames of {width}x{height} are too small to read a noise level from")
    rows, cols = height // side, width // side
    top0, left0 = (height - rows * side) // 2, (width - cols * side) // 2
    cells = [(top0 + r * side, left0 + c * side) for r in range(rows) for c in range(cols)]
    keep = np.unique(np.linspace(0, len(cells) - 1, min(per_frame, len(cells))).round().astype(int))
    return np.stack([frame[top : top + side, left : left + side] for frame in frames_uint8 for top, left in (cells[k] for k in keep)])


def combine_levels(levels: np.ndarray, trim: float = TRIM) -> float:
    """One RMS noise level from per-crop levels, the ``trim`` share at each end left out."""
    ordered = np.sort(np.asarray(levels, dtype=np.float64))
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] if len(ordered) > 2 * cut else ordered
    return float(np.sqrt(np.mean(kept**2)))


class LearnedNoiseLevel:
    """The shipped (or any) :class:`NoiseLevelEstimator`, applied to video frames."""

    def __init__(self, estimator: NoiseLevelEstimator, device: torch.device | str = "cpu", source: str = ""):
        self.device = torch.device(device)
        self.estimator = torch.nn.Module.to(estimator, self.device).eval()  # not ModelMixin.to: no dynamo import
        #: where the estimator came from (its folder; "" for one built in memory): what a level read by it is kept under
        self.source = source

    @classmethod
    def shipped(cls, device: torch.device | str = "cpu", folder: str | Path | None = None) -> "LearnedNoiseLevel":
        """The shipped estimator, or the one in ``folder`` (a checkpoint's own: ``weights.level_estimator_of``)."""
        from stdit_cli.weights import NOISE_ESTIMATOR, load_noise_estimator

        return cls(load_noise_estimator(folder), device, source=str(folder) if folder is not None else NOISE_ESTIMATOR)

    @torch.inference_mode()
    def crop_levels(self, frames_uint8: np.ndarray) -> np.ndarray:
        """The level of each crop of :func:`crop_grid` (RMS on 0..255)."""
        crops = crop_grid(frames_uint8, per_frame=max(1, MAX_CROPS // len(frames_uint8)))
        levels = []
        for start in range(0, len(crops), BATCH):
            # [N, s, s, 3] uint8 -> [N, 3, s, s] in [-1, 1]
            batch = torch.from_numpy(np.ascontiguousarray(crops[start : start + BATCH])).permute(0, 3, 1, 2)
            batch = batch.to(self.device).float() / 127.5 - 1.0
            levels.append(self.estimator(batch).sigma_255.float().cpu().numpy())
        return np.concatenate(levels)

    def estimate(self, frames_uint8: np.ndarray) -> float:
        """The noise level of ``frames_uint8`` (``[n, H, W, 3]``), RMS on 0..255."""
        return combine_levels(self.crop_levels(frames_uint8))

    def blind_level_of(self, frames_uint8: np.ndarray) -> float:
        """The blind reading of ``frames_uint8`` (``[n, H, W, 3]``, full-colour or gray, not chroma-subsampled):
        :func:`blind_level` of this estimate and the frames' patch-PCA level, what weights trained on
        these readings are labelled with and run at."""
        from stdit_cli.pipeline.noise_level import estimate_sigma_255

        return blind_level(self.estimate(frames_uint8), estimate_sigma_255(frames_uint8))

