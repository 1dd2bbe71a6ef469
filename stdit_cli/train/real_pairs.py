"""Real noisy photos with a clean reference, as training clips.

A folder like PolyU's (``*_real.JPG`` beside ``*_mean.JPG``, the mean of many shots of the same
static scene; the camera is the name's first ``_`` field) gives pairs of real camera noise, which
the synthetic model of :mod:`stdit_cli.train.camera_noise` only approximates. ``RealPairMix``
replaces a share of a training batch with random crops of such pairs: the reference becomes the
clean clip, the noisy photo the noisy one, both held still over the clip's frames (a photo has one
noise draw, so the clip is a still with repeated noise, which is how the real-noise benchmark
stores PolyU too). Only the named cameras train; the others are kept for validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stdit_cli.train.camera_noise import to_gray
from stdit_cli.train.objective import NoisyClips


def load_real_pairs(folder: Path, cameras: set[str], train: bool) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """``(noisy, reference, name)`` uint8 ``[H, W, 3]`` pairs of the named cameras (``train``) or of the others."""
    pairs = []
    for noisy_path in sorted(Path(folder).glob("*_[Rr][Ee][Aa][Ll].[Jj][Pp][Gg]")):
        camera = noisy_path.name.split("_")[0]
        if (camera in cameras) == train:
            reference = _reference_for(noisy_path)
            pairs.append((np.asarray(Image.open(noisy_path).convert("RGB")), np.asarray(Image.open(reference).convert("RGB")), noisy_path.name))
    return pairs


def _reference_for(noisy_path: Path) -> Path:
    """``X_real.JPG`` -> ``X_mean.JPG``, in whatever case the folder spells it (``x_real.jpg`` ->
    ``x_mean.jpg`` or ``x_MEAN.JPG``...); the error names the expected file when there is none."""
    stem = noisy_path.name[: -len("_real.jpg")]
    wanted = f"{stem}_mean{noisy_path.suffix}".lower()
    for candidate in sorted(noisy_path.parent.glob(f"{stem}_*")):
        if candidate.name.lower() == wanted:
            return candidate
    raise FileNotFoundError(f"{noisy_path}: no reference {stem}_mean{noisy_path.suffix} beside it")


def random_pair_crop(pairs, crop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random ``crop`` x ``crop`` crop of a random pair, turned and flipped at random:
    (noisy, reference), uint8 ``[crop, crop, 3]``. (The draws' order is the one the shipped level
    estimator was trained with, ``scripts/train_noise_estimator.py``.)"""
    noisy, reference, _ = pairs[int(rng.integers(len(pairs)))]
    top, left = int(rng.integers(noisy.shape[0] - crop + 1)), int(rng.integers(noisy.shape[1] - crop + 1))
    pair = np.stack([noisy[top : top + crop, left : left + crop], reference[top : top + crop, left : left + crop]])  # [2, s, s, 3]
    pair = np.rot90(pair, int(rng.integers(4)), axes=(1, 2))
    if rng.random() < 0.5:
        pair = pair[:, :, ::-1]
    return np.ascontiguousarray(pair[0]), np.ascontiguousarray(pair[1])


@dataclass
class RealPairMix:
    """Replace ``fraction`` of a batch's clips with still clips cut from real noisy/reference pairs."""

    pairs: list
    fraction: float
    #: share of the picked pairs made black-and-white (noisy and reference: ``camera_noise.to_gray``), and
    #: how their level is labelled: None, the RMS of their noise; else a function of the noisy
    #: ``[T, H, W, 3]`` uint8 clip (``CameraNoiseMix.gray_level``)
    gray_fraction: float = 0.0
    gray_level: Callable[[np.ndarray], float] | None = None

    @classmethod
    def from_folder(cls, folder: str | None, cameras, fraction: float, gray_fraction: float = 0.0,
                    gray_level: Callable[[np.ndarray], float] | None = None) -> "RealPairMix":  # fmt: skip
        pairs = load_real_pairs(Path(folder), set(cameras), train=True) if folder and fraction > 0 else []
        if folder and fraction > 0 and not pairs:
            raise ValueError(f"{folder}: no *_real.JPG photos (any case) of the cameras {sorted(cameras)}")
        return cls(pairs, fraction, gray_fraction, gray_level)

    @property
    def active(self) -> bool:
        return self.fraction > 0 and bool(self.pairs)

    def mix(self, clean: torch.Tensor, noisy: NoisyClips | None, rng: np.random.Generator) -> tuple[torch.Tensor, NoisyClips | None]:
        """``clean`` ``[B, C, T, H, W]`` in ``[-1, 1]`` and the batch's other noisy clips -> both with the
        picked clips replaced by real pairs (their noise level: the RMS of noisy - reference on 0..255)."""
        picked = rng.random(clean.shape[0]) < self.fraction
        if not picked.any():
            return clean, noisy
        batch, _, frames, height, width = clean.shape
        if height != width:
            raise ValueError(f"real pairs need square training crops, got {height}x{width}")
        clean = clean.clone()
        y = noisy.y.clone() if noisy is not None else torch.zeros_like(clean, device="cpu")
        sigma = noisy.sigma_255.clone() if noisy is not None else torch.zeros(batch)
        targets = noisy.clean.clone() if noisy is not None and noisy.clean is not None else None
        for b in np.flatnonzero(picked):
            noisy_uint8, reference_uint8 = random_pair_crop(self.pairs, height, rng)
            gray = bool(self.gray_fraction) and rng.random() < self.gray_fraction
            if gray:
                noisy_uint8, reference_uint8 = to_gray(noisy_uint8), to_gray(reference_uint8)
            # [H, W, 3] uint8 -> [3, T, H, W] in [-1, 1], the same picture in every frame
            def as_clip(image: np.ndarray) -> torch.Tensor:
                return (torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1.0).unsqueeze(1).expand(-1, frames, -1, -1)

            clean[b] = as_clip(reference_uint8).to(clean)
            if targets is not None:  # a sharpened camera clip's target replaced as well
                targets[b] = clean[b].to(targets)
            y[b] = as_clip(noisy_uint8)
            if gray and self.gray_level is not None:  # [H, W, 3] -> [T, H, W, 3]: the clip the pipeline would read
                sigma[b] = float(self.gray_level(np.repeat(noisy_uint8[None], frames, axis=0)))
            else:
                sigma[b] = float(np.sqrt(np.mean((noisy_uint8.astype(np.float64) - reference_uint8) ** 2)))
        before = noisy.picked if noisy is not None else torch.zeros(batch, dtype=torch.bool)
        return clean, NoisyClips(picked=before | torch.from_numpy(picked), y=y, sigma_255=sigma, clean=targets)
