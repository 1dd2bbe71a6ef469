"""Training clips from folders of videos, frame sequences or still images, held in memory.

Every source becomes a list of uint8 sequences ``[T, H, W, 3]``; stills become short clips with
synthetic camera motion. ``ClipSampler`` draws random crops of ``frames`` consecutive frames
with flips and time reversal from one seeded generator, so a run is reproducible and resumable.
The material sits on the training device and the crops are cut there: the host only draws the
random numbers, and no frame crosses the bus after the start (the same clips on every device).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import imageio.v3 as iio
import numpy as np
import torch

from stdit_cli.train.content import ContentMix, area_resize, gaussian_blur, smooth_field

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v")
SOURCE_KINDS = ("auto", "video", "frames", "stills")

#: consecutive images differing less than this (mean |diff| on 0..255) are one sequence
_SEQUENCE_DIFF = 40.0


class DataError(ValueError):
    """A ``--data`` entry that yields no usable training material."""


def _read_rgb(path: Path) -> np.ndarray:
    image = iio.imread(path)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def _downscale(frames: np.ndarray, factor: int) -> np.ndarray:
    """Box-downscale ``[T, H, W, 3]`` uint8 by an integer ``factor`` (averages away sensor noise)."""
    if factor == 1:
        return frames
    t, h, w, c = frames.shape
    h, w = h // factor * factor, w // factor * factor
    # [T, H, W, C] -> [T, H/f, f, W/f, f, C] -> mean over the f x f blocks
    blocks = frames[:, :h, :w].reshape(t, h // factor, factor, w // factor, factor, c).astype(np.float32)
    return np.round(blocks.mean(axis=(2, 4))).astype(np.uint8)


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _looks_like_sequence(pictures: list[np.ndarray]) -> bool:
    if len(pictures) < 2:
        return False
    first, second = pictures[0], pictures[1]
    if first.shape != second.shape:
        return False
    return float(np.abs(first.astype(np.float32) - second.astype(np.float32)).mean()) < _SEQUENCE_DIFF


def still_to_clip(image: np.ndarray | torch.Tensor, frames: int, rng: np.random.Generator, max_shift: int = 24):
    """A clip of ``frames`` frames panning across ``image`` (``[H, W, 3]``, an array or a tensor,
    stacked as the same kind) with constant velocity plus jitter."""
    h, w = image.shape[:2]
    margin = min(max_shift, (h - 1) // 2, (w - 1) // 2)
    velocity = rng.uniform(-1, 1, size=2) * margin / max(frames - 1, 1)
    start = rng.uniform(0, 2 * margin, size=2) - velocity * (frames - 1) / 2 if margin else np.zeros(2)
    out = []
    for i in range(frames):
        dy, dx = np.clip(np.round(start + velocity * i + rng.normal(0, 0.5, 2)), 0, 2 * margin).astype(int)
        out.append(image[dy : h - 2 * margin + dy, dx : w - 2 * margin + dx])
    # frames x [h, w, 3] -> [frames, h, w, 3]
    return torch.stack(out) if isinstance(image, torch.Tensor) else np.stack(out)


@dataclass
class TrainingData:
    """All training sequences (``[T, H, W, 3]`` uint8) and still images (``[H, W, 3]`` uint8)."""

    sequences: list[np.ndarray]
    stills: list[np.ndarray]

    def describe(self) -> str:
        frames = sum(len(s) for s in self.sequences)
        return f"{len(self.sequences)} sequences ({frames} frames), {len(self.stills)} stills"


def load_training_data(entries: list[str], downscale: int = 1, max_frames_per_video: int = 300,
                       option: str = "--data") -> TrainingData:  # fmt: skip
    """Load every ``--data`` entry: ``[video:|frames:|stills:]PATH`` (kind detected when omitted).
    A file that cannot be read is a :class:`DataError` naming it (``option``: how the user gave
    the entries, for the message)."""
    data = TrainingData([], [])
    for entry in entries:
        kind, _, path_text = entry.partition(":") if entry.split(":", 1)[0] in SOURCE_KINDS else ("auto", "", entry)
        root = Path(path_text)
        if not root.is_dir():
            raise DataError(f"{option} {entry}: not a folder")
        before = (len(data.sequences), len(data.stills))
        _load_tree(root, kind, data, downscale, max_frames_per_video)
        if (len(data.sequences), len(data.stills)) == before:
            raise DataError(f"{option} {entry}: no videos, frame sequences or images found")
    return data


def _read_video(path: Path, max_frames: int) -> np.ndarray:
    """The first ``max_frames`` frames of a training video, ``[T, H, W, 3]`` uint8."""
    from stdit_cli.video import VideoError, VideoReader  # video libraries only where there are videos

    try:
        with VideoReader(path) as reader:
            return reader.read(0, min(len(reader), max_frames))
    except VideoError as error:
        raise DataError(f"training data: {error} (move it out of the folder)") from None


def _read_pictures(paths: list[Path]) -> list[np.ndarray]:
    """Each picture as ``[H, W, 3]`` uint8; one that cannot be read is a :class:`DataError` naming it."""
    pictures = []
    for path in paths:
        try:
            pictures.append(_read_rgb(path))
        except (OSError, ValueError, SyntaxError, IndexError) as error:  # Pillow and imageio's ways of saying "not a picture"
            raise DataError(f"training data: {path}: not a readable picture ({type(error).__name__}; move it out of the folder)") from None
    return pictures


def _load_tree(root: Path, kind: str, data: TrainingData, downscale: int, max_frames: int) -> None:
    for folder in sorted([root, *[p for p in root.rglob("*") if p.is_dir()]]):
        if kind in ("auto", "video"):
            for video in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES):
                data.sequences.append(_downscale(_read_video(video, max_frames), downscale))
        images = _images_in(folder)
        if not images or kind == "video":
            continue
        pictures = _read_pictures(images)
        if kind == "frames" or (kind == "auto" and _looks_like_sequence(pictures)):
            if len({picture.shape for picture in pictures}) > 1:
                raise DataError(f"training data: {folder}: its frames are not all one size (a folder of stills? "
                                f"give it as stills:{folder})")  # fmt: skip
            data.sequences.append(_downscale(np.stack(pictures), downscale))
        else:
            data.stills.extend(_downscale(picture[None], downscale)[0] for picture in pictures)


class ClipSampler:
    """Random training clips ``[B, 3, T, crop, crop]`` in ``[-1, 1]`` from :class:`TrainingData`.

    Args:
        data: the loaded material.
        frames: frames per clip.
        crop: square crop side in pixels.
        still_fraction: share of clips made from stills (when there are both kinds).
        seed: seed of the generator (its state is saved with checkpoints for exact resume).
        device: where the material is held and the clips are cut (the training device). On the
            CPU the tensors share the loaded arrays' memory; a GPU gets one copy at the start.
        content: scales, softness and smooth fields mixed into the clips (:mod:`stdit_cli.train.content`);
            the default leaves the material as loaded.
    """

    def __init__(self, data: TrainingData, frames: int, crop: int, still_fraction: float = 0.25, seed: int = 0,
                 device: torch.device | str = "cpu", content: ContentMix = ContentMix()):  # fmt: skip
        sequences = [s for s in data.sequences if len(s) >= frames and min(s.shape[1:3]) >= crop]
        stills = [s for s in data.stills if min(s.shape[:2]) >= crop + 8]
        if not sequences and not stills:
            raise DataError(f"no training material is large enough for {frames}-frame {crop}x{crop} clips")
        self.device = torch.device(device)
        self.sequences = [torch.from_numpy(s).to(self.device) for s in sequences]  # [T, H, W, 3] uint8 each
        self.stills = [torch.from_numpy(s).to(self.device) for s in stills]  # [H, W, 3] uint8 each
        self.frames, self.crop, self.content = frames, crop, content
        self.still_fraction = still_fraction if sequences and stills else float(not sequences)
        weights = np.array([len(s) for s in sequences], dtype=np.float64)
        self.sequence_weights = weights / weights.sum() if len(weights) else weights
        self.rng = np.random.default_rng(seed)

    def _clip(self) -> torch.Tensor:
        """One ``[T, crop, crop, 3]`` uint8 clip on the device (the host draws only its numbers)."""
        rng, t, crop, content = self.rng, self.frames, self.crop, self.content
        if content.smooth_fraction and rng.random() < content.smooth_fraction:
            return smooth_field(t, crop, rng, self.device)
        size = content.source_size(crop, rng) if content.active else crop
        if rng.random() < self.still_fraction:
            still = self.stills[rng.integers(len(self.stills))]
            h, w = still.shape[:2]
            size = min(size, min(h, w) - 8)
            margin = min(24, (min(h, w) - size) // 2)  # camera travel, in pixels
            side = size + 2 * margin
            top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            clip = still_to_clip(still[top : top + side, left : left + side], t, rng, max_shift=margin)
        else:
            sequence = self.sequences[rng.choice(len(self.sequences), p=self.sequence_weights)]
            start = rng.integers(0, len(sequence) - t + 1)
            clip = sequence[start : start + t]
        h, w = clip.shape[1:3]
        size = min(size, h, w)
        top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        clip = area_resize(clip[:, top : top + size, left : left + size], crop)
        if content.soft_fraction and rng.random() < content.soft_fraction:
            clip = gaussian_blur(clip, rng.uniform(*content.blur_sigma))
        flips = [axis for axis in (2, 1, 0) if rng.random() < 0.5]  # horizontal, vertical, time reversal
        return clip.flip(flips) if flips else clip

    def batch(self, batch_size: int) -> torch.Tensor:
        """``[B, 3, T, crop, crop]`` clean clips in ``[-1, 1]`` on the sampler's device."""
        # B x [T, h, w, 3] uint8 -> [B, T, h, w, 3] -> [B, 3, T, h, w] in [-1, 1]
        clips = torch.stack([self._clip() for _ in range(batch_size)])
        return clips.permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
