"""White noise as noisy footage usually arrives: added, then stored as 4:2:0 H.264.

A noisy video is rarely kept losslessly: the camera, the phone or the next edit encodes it, and
H.264 in 4:2:0 averages the colour noise over 2x2 blocks, quantises the finest part of the rest
in 4x4 and 8x8 transforms and smears it along motion vectors from frame to frame. What reaches
the denoiser is partly correlated, block-structured noise over slightly blocky content, which the
Gaussian weights, trained on i.i.d. noise alone, half treat as texture (the validation suite's
`h264/*` clips, 2026-12-05: 0.4-0.7 dB below ffmpeg bm3d at sigma 10).

:class:`CompressedNoiseMix` gives a share of each training batch that treatment (``stdit train
--compressed-fraction``): white Gaussian noise at a level drawn like the lossless clips', clipped
and rounded, then encoded with libx264 in memory (PyAV) at a CRF drawn per clip and decoded back.
Each clip is labelled with the level the pipeline runs the Gaussian weights at on such a video
with no number given (:func:`compressed_label`: the luma patch-PCA level and its 2x2-binned
twin through :func:`stdit_cli.pipeline.noise_kind.gaussian_level`), so the model learns the
diffusion state it is actually started from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import torch

from stdit_cli.pipeline.noise_kind import binned_2x2, gaussian_level
from stdit_cli.pipeline.noise_level import estimate_sigma_255_from_luma
from stdit_cli.train.objective import SIGMA_RANGE_255, NoisyClips

#: x264 presets drawn per clip: a phone's fast hardware-like encode and ffmpeg's default
X264_PRESETS = ("veryfast", "medium")
#: lowest label: an encode can erase weak noise entirely, and the diffusion state needs a level
MIN_LABEL = 0.5


def h264_round_trip(frames_uint8: np.ndarray, crf: int, preset: str = "medium", fps: int = 25) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 RGB (even H and W) through libx264 in 4:2:0 at ``crf`` and back, in memory."""
    count, height, width, _ = frames_uint8.shape
    if height % 2 or width % 2:
        raise ValueError(f"4:2:0 H.264 needs an even frame size, got {width}x{height}")
    buffer = BytesIO()
    import av  # PyAV, only where clips are encoded (a training run without H.264 clips does not need it)

    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for frame in frames_uint8:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())  # flush the encoder's delayed frames
    buffer.seek(0)
    with av.open(buffer) as container:
        # [H, W, 3] per decoded frame -> [T, H, W, 3]
        decoded = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    if len(decoded) != count:
        raise RuntimeError(f"H.264 round trip returned {len(decoded)} of {count} frames")
    return decoded


def compressed_label(frames_uint8: np.ndarray) -> float:
    """The level the pipeline runs the Gaussian weights at on these 4:2:0 frames (``[T, H, W, 3]``
    uint8) when no number is given: :func:`stdit_cli.pipeline.opening.read_sample`'s two luma
    levels through :func:`gaussian_level`."""
    white = estimate_sigma_255_from_luma(frames_uint8)
    try:
        binned = estimate_sigma_255_from_luma(binned_2x2(frames_uint8))
    except ValueError:  # too small once binned: the pipeline keeps the level as read
        binned = None
    return gaussian_level(white, binned, chroma_subsampled=True)


def draw_sigma_255(rng: np.random.Generator, low: float = SIGMA_RANGE_255[0], high: float = SIGMA_RANGE_255[1]) -> float:
    """One level like :func:`stdit_cli.train.objective.sample_sigma_255`: half the time log-uniform, else uniform."""
    u = rng.random()
    return math.exp(math.log(low) + u * math.log(high / low)) if rng.random() < 0.5 else low + u * (high - low)


@dataclass(frozen=True)
class CompressedNoiseMix:
    """Which training clips get white noise stored as 4:2:0 H.264, and how.

    Args:
        fraction: share of the clips not already noised otherwise (camera noise) that get it.
        crf: range the x264 CRF is drawn from, per clip (inclusive; 18-23 is what phones and
            editors keep, 28 a strong web encode that has erased most noise below sigma 25).
        presets: x264 presets drawn from, per clip.
        clean_fraction: share of picked clips encoded without noise, labelled all the same with
            the level read on them: dense clean texture reads as noise of up to 11 there, and
            such a clip should come back unchanged.
    """

    fraction: float = 0.0
    crf: tuple[int, int] = (12, 30)
    presets: tuple[str, ...] = X264_PRESETS
    clean_fraction: float = 0.0

    @property
    def active(self) -> bool:
        return self.fraction > 0

    def noisy_clips(self, clean: torch.Tensor, rng: np.random.Generator, already: NoisyClips | None = None) -> NoisyClips | None:
        """``already`` (clips noised otherwise) with a share of the other clips of ``clean``
        (``[B, C, T, H, W]`` in ``[-1, 1]``) given compressed white noise."""
        batch = clean.shape[0]
        taken = already.picked.numpy() if already is not None else np.zeros(batch, dtype=bool)
        picked = (rng.random(batch) < self.fraction) & ~taken
        if not picked.any():
            return already
        # [B, C, T, H, W] in [-1, 1] -> [B, T, H, W, C] uint8 on the host
        clean_uint8 = torch.round((clean.detach().float().cpu() + 1.0) * 127.5).clamp(0, 255).to(torch.uint8)
        clean_uint8 = clean_uint8.permute(0, 2, 3, 4, 1).numpy()
        if already is not None:  # [B, C, T, H, W] in [-1, 1] -> [B, T, H, W, C] uint8
            noisy = torch.round((already.y.float() + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 4, 1).numpy()
            sigma = already.sigma_255.numpy().astype(np.float64)
        else:
            noisy, sigma = clean_uint8.copy(), np.zeros(batch)
        for b in np.flatnonzero(picked):
            level = 0.0 if self.clean_fraction and rng.random() < self.clean_fraction else draw_sigma_255(rng)
            lossless = np.clip(np.round(clean_uint8[b] + level * rng.standard_normal(clean_uint8[b].shape)), 0, 255)
            crf = int(rng.integers(self.crf[0], self.crf[1] + 1))
            preset = self.presets[int(rng.integers(0, len(self.presets)))]
            noisy[b] = h264_round_trip(lossless.astype(np.uint8), crf, preset)
            try:
                sigma[b] = max(compressed_label(noisy[b]), MIN_LABEL)
            except ValueError:  # a crop too small for patch PCA: the RMS of what was added
                sigma[b] = max(float(np.sqrt(np.mean((noisy[b].astype(np.float64) - clean_uint8[b]) ** 2))), MIN_LABEL)
        # [B, T, H, W, C] uint8 -> [B, C, T, H, W] in [-1, 1]
        y = torch.from_numpy(noisy).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
        targets = already.clean if already is not None else None  # its clips' own targets; these ones' are the batch's
        return NoisyClips(picked=torch.from_numpy(picked | taken), y=y, sigma_255=torch.from_numpy(sigma).float(), clean=targets)
