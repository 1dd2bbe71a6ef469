"""Realistic camera noise for training clips: unprocess to raw, add sensor noise, process back.

Real noise in phone and camera footage is not white Gaussian: it is added on the sensor, where
shot noise grows with the light, then demosaicing correlates it across neighbouring pixels and
colours, the colour matrix mixes the channels, the tone curve bends it (more in the shadows), and
compression removes its finest part. :func:`add_camera_noise` follows that road, after Brooks et
al., "Unprocessing Images for Learned Raw Denoising" (CVPR 2019), and the synthesis of SCUNet
(Zhang et al., 2022):

1. sRGB -> linear: inverse smoothstep tone curve, inverse gamma 2.2;
2. linear RGB -> camera RGB: the inverse of a random colour matrix, then inverse white balance;
3. RGGB Bayer mosaic, optionally at a random phase against the crop (the same mosaic on the
   frame mirrored: BGGR, GRBG or GBRG as the crop sees it);
4. Poisson-Gaussian noise: variance ``shot * x + read`` with ``log(read)`` tied to ``log(shot)``
   (Brooks' fit), one (shot, read) pair per clip over a wide ISO-like range, fresh noise per frame;
5. bilinear demosaic, white balance, colour matrix, gamma, tone curve: back to sRGB, clipped and
   rounded like an 8-bit file;
6. optionally an unsharp mask on luma (phones sharpen what their noise reduction left), the
   clean target sharpened alike: the model learns to remove the noise, not the sharpening;
7. optionally JPEG at a random quality (what phones and stills cameras store).

Everything runs in numpy on ``[T, H, W, 3]`` uint8 clips, drawing from the caller's generator.
:class:`CameraNoiseMix` noises a share of each training batch this way (``stdit train
--camera-fraction``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import torch
from PIL import Image

from stdit_cli.train.compressed_noise import X264_PRESETS, h264_round_trip
from stdit_cli.train.objective import NoisyClips

#: log-uniform range of the shot-noise gain (Brooks et al.: 1e-4 .. 1.2e-2; ISO ~100 to ~12800)
SHOT_RANGE = (1e-4, 1.2e-2)


@dataclass(frozen=True)
class CameraNoise:
    """One clip's camera: noise gains, white balance and colour matrix.

    ``shot`` and ``read`` are on the linear 0..1 raw scale (variance ``shot * x + read``).
    """

    shot: float
    read: float
    red_gain: float
    blue_gain: float
    ccm: np.ndarray  # [3, 3] camera RGB -> linear sRGB, rows summing to 1

    @classmethod
    def random(cls, rng: np.random.Generator, shot_range: tuple[float, float] = SHOT_RANGE) -> "CameraNoise":
        log_shot = rng.uniform(np.log(shot_range[0]), np.log(shot_range[1]))
        log_read = 2.18 * log_shot + 1.20 + rng.normal(0.0, 0.26)  # Brooks et al.'s fit
        # a colour matrix like a camera's: each output colour takes 1 + s of its own channel and
        # s away from the other two (s in 0.2..0.8), rows summing to 1 (grey stays grey); strictly
        # diagonally dominant, so invertible
        ccm = np.eye(3)
        for row in range(3):
            strength, split = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
            others = [c for c in range(3) if c != row]
            ccm[row, row] += strength
            ccm[row, others[0]] -= strength * split
            ccm[row, others[1]] -= strength * (1 - split)
        return cls(float(np.exp(log_shot)), float(np.exp(log_read)), float(rng.uniform(1.9, 2.4)),
                   float(rng.uniform(1.5, 1.9)), ccm)  # fmt: skip


def _inverse_tone(srgb: np.ndarray) -> np.ndarray:
    """Inverse of the smoothstep tone curve ``3x^2 - 2x^3``."""
    srgb = np.clip(srgb, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * srgb) / 3.0)


def _tone(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return 3.0 * linear**2 - 2.0 * linear**3


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """``[..., H, W, 3]`` -> ``[..., H, W]`` RGGB Bayer samples (H and W even)."""
    raw = rgb[..., 1].copy()
    raw[..., 0::2, 0::2] = rgb[..., 0::2, 0::2, 0]
    raw[..., 1::2, 1::2] = rgb[..., 1::2, 1::2, 2]
    return raw


def demosaic(raw: np.ndarray) -> np.ndarray:
    """Bilinear RGGB demosaic: ``[T, H, W]`` -> ``[T, H, W, 3]`` (reflected borders)."""
    t, h, w = raw.shape
    masks = np.zeros((3, h, w), dtype=raw.dtype)
    masks[0, 0::2, 0::2] = 1
    masks[1, 0::2, 1::2] = masks[1, 1::2, 0::2] = 1
    masks[2, 1::2, 1::2] = 1
    kernel_rb = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
    kernel_g = np.array([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])
    out = np.empty((t, h, w, 3), dtype=raw.dtype)
    for c, kernel in enumerate((kernel_rb, kernel_g, kernel_rb)):
        # [T, H, W] samples of channel c, zero elsewhere, padded by reflection -> 3x3 weighted sum
        padded = np.pad(raw * masks[c], ((0, 0), (1, 1), (1, 1)), mode="reflect")
        acc = np.zeros((t, h, w), dtype=raw.dtype)
        for dy in range(3):
            for dx in range(3):
                if kernel[dy, dx]:
                    acc += kernel[dy, dx] * padded[:, dy : dy + h, dx : dx + w]
        out[..., c] = np.where(masks[c] > 0, raw, acc)
    return out


def _jpeg(frame_uint8: np.ndarray, quality: int) -> np.ndarray:
    buffer = BytesIO()
    Image.fromarray(frame_uint8).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(BytesIO(buffer.getvalue())).convert("RGB"))


def to_gray(frames_uint8: np.ndarray) -> np.ndarray:
    """``[..., 3]`` uint8 -> the same with each pixel's BT.601 luma, rounded, in all three channels."""
    luma = np.clip(np.round(frames_uint8 @ np.array([0.299, 0.587, 0.114])), 0, 255).astype(np.uint8)
    # [...] -> [..., 3]
    return np.repeat(luma[..., None], 3, axis=-1)


_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def _gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return taps / taps.sum()


def blur_spatially(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of ``[T, H, W, C]`` float frames over H and W (reflected borders)."""
    kernel = _gaussian_kernel(sigma)
    radius = len(kernel) // 2
    for axis in (1, 2):
        pad = [(0, 0)] * frames.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(frames, pad, mode="reflect")
        size = frames.shape[axis]
        frames = sum(k * np.take(padded, np.arange(i, i + size), axis=axis) for i, k in enumerate(kernel))
    return frames


def unsharp_mask(frames: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """A camera's sharpening: ``[T, H, W, 3]`` float frames plus ``amount`` times their luma detail.

    The detail is BT.601 luma minus its Gaussian blur (``sigma`` pixels), added to R, G and B
    alike, so luma gains ``amount`` x its detail and Cb, Cr are unchanged. Unclipped.
    """
    luma = frames @ _RGB_TO_YCC[0]  # [T, H, W]
    detail = luma - blur_spatially(luma[..., None], sigma)[..., 0]
    return frames + amount * detail[..., None]


def sharpened(clean_uint8: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 through :func:`unsharp_mask`, clipped and rounded: the target of a sharpened clip."""
    return np.clip(np.round(unsharp_mask(clean_uint8 / 255.0, amount, sigma) * 255.0), 0, 255).astype(np.uint8)


def _mirror(frames: np.ndarray, cfa_phase: int) -> np.ndarray:
    """``[T, H, W, ...]`` mirrored left-right (bit 1 of ``cfa_phase``) and/or upside down (bit 2); its own inverse."""
    axes = tuple(axis for bit, axis in ((1, 2), (2, 1)) if cfa_phase & bit)
    return np.flip(frames, axes) if axes else frames


def add_camera_noise(clean_uint8: np.ndarray, rng: np.random.Generator, camera: CameraNoise | None = None,
                     jpeg_quality: tuple[int, int] | None = None, noise_blur: float = 0.0, chroma_blur: float = 0.0,
                     cfa_phase: int = 0, sharpen: tuple[float, float] | None = None,
                     chroma_gain: float | None = None) -> np.ndarray:  # fmt: skip
    """Noisy ``[T, H, W, 3]`` uint8 frames as ``camera`` would record ``clean_uint8`` (even H and W).

    ``camera``: a random one when None. ``jpeg_quality``: ``(low, high)`` to JPEG every frame at one
    quality drawn per clip, or None to keep the noise uncompressed. ``noise_blur``: Gaussian sigma
    (pixels) of a blur applied to the noise alone, the blotchy low-frequency noise a camera's own
    noise reduction leaves behind (0: none). ``chroma_blur``: the same for the noise's colour part
    only (BT.601 Cb and Cr), which cameras smooth hardest: PolyU's colour noise keeps its
    amplitude over 4x4-pixel averages, its luma noise does not. ``cfa_phase`` (0-3): where the
    Bayer pattern's red sample sits in each 2x2 block of the clip, (row, column) = (bit 2, bit 1)
    set: 0 is RGGB from the top-left pixel. A backbone that folds 2x2 blocks into channels sees
    the demosaicing's correlation differently at each phase, and a real camera's phase relative to
    the frame is anything. ``sharpen``: ``(amount, sigma)`` of an unsharp mask on the noisy frames
    after the noise reduction, before any JPEG (:func:`unsharp_mask`; its clean counterpart is
    :func:`sharpened`), or None. ``chroma_gain``: with ``chroma_blur``, the colour noise's RMS after
    the blur as a multiple of its RMS before (None: what the blur leaves, a fraction of it): the
    blotches of full amplitude that a phone's video keeps in low light, where its noise reduction
    moved the colour noise to low frequencies without taking it out.
    """
    assert 0 <= cfa_phase <= 3, f"cfa_phase must be 0-3, got {cfa_phase}"
    assert clean_uint8.ndim == 4 and clean_uint8.shape[-1] == 3, f"expected [T, H, W, 3], got {clean_uint8.shape}"
    assert clean_uint8.shape[1] % 2 == 0 and clean_uint8.shape[2] % 2 == 0, f"H and W must be even, got {clean_uint8.shape[1:3]}"
    camera = camera or CameraNoise.random(rng)
    gains = np.array([camera.red_gain, 1.0, camera.blue_gain])
    inverse_ccm = np.linalg.inv(camera.ccm)
    # 1-2. sRGB -> linear sRGB -> camera RGB, white balance undone  [T, H, W, 3]
    linear = _inverse_tone(clean_uint8 / 255.0) ** 2.2
    camera_rgb = np.clip(linear @ inverse_ccm.T / gains, 0.0, 1.0)
    # 3-4. Bayer samples with Poisson-Gaussian noise, fresh per frame  [T, H, W]
    # (mosaicked mirrored and mirrored back: the red samples land on the phase's pixels)
    raw = mosaic(_mirror(camera_rgb, cfa_phase))
    raw = raw + rng.standard_normal(raw.shape) * np.sqrt(camera.shot * raw + camera.read)
    # 5. demosaic and process back to sRGB
    rgb = np.clip(_mirror(demosaic(raw), cfa_phase) * gains, 0.0, 1.0) @ camera.ccm.T
    srgb = _tone(np.clip(rgb, 0.0, 1.0) ** (1 / 2.2))
    if noise_blur > 0 or chroma_blur > 0:  # in-camera noise reduction: the noise's finest part removed, the signal kept
        clean = clean_uint8 / 255.0
        noise = srgb - clean  # [T, H, W, 3]
        if noise_blur > 0:
            noise = blur_spatially(noise, noise_blur)
        if chroma_blur > 0:
            # RGB -> YCbCr (BT.601), blur Cb and Cr, back
            ycc = noise @ _RGB_TO_YCC.T
            before = float(np.sqrt(np.mean(ycc[..., 1:] ** 2)))
            ycc[..., 1:] = blur_spatially(ycc[..., 1:], chroma_blur)
            if chroma_gain is not None:  # the blotches at a chosen share of the colour noise's amplitude
                ycc[..., 1:] *= chroma_gain * before / max(float(np.sqrt(np.mean(ycc[..., 1:] ** 2))), 1e-12)
            noise = ycc @ np.linalg.inv(_RGB_TO_YCC).T
        srgb = clean + noise
    if sharpen is not None:  # the phone's sharpening, after its noise reduction
        srgb = unsharp_mask(srgb, *sharpen)
    noisy = np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        quality = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1))
        noisy = np.stack([_jpeg(frame, quality) for frame in noisy])
    return noisy


@dataclass(frozen=True)
class CameraNoiseMix:
    """Which training clips get camera noise instead of white Gaussian noise, and how.

    Args:
        fraction: share of clips noised by :func:`add_camera_noise` (a random camera each).
        jpeg_fraction: share of those that are also JPEG-compressed.
        jpeg_quality: range the JPEG quality is drawn from, per clip.
        shot_range: log-uniform range of the shot-noise gain. Lower than Brooks et al.'s 1e-4: a
            camera's own processing leaves footage far cleaner than its raw data (PolyU's
            ISO 1600-12800 JPEGs hold noise of RMS 3-6 on 0..255; ``1e-4`` alone gives 6-7).
        blur_fraction: share of picked clips whose noise is blurred (``blur_sigma`` pixels), as a
            camera's noise reduction leaves it.
        chroma_fraction: share of picked clips whose colour noise is blurred (``chroma_sigma``
            pixels): the blotchy colour noise of processed camera and phone footage.
        blotch_fraction: share of those whose blurred colour noise keeps its amplitude (times a gain
            drawn in ``blotch_gain``; ``add_camera_noise``'s ``chroma_gain``): a phone's low-light
            colour blotches, which the blur alone makes faint. 0: no draw, clips as before.
        random_cfa_phase: each picked clip's Bayer phase drawn from the four (``add_camera_noise``'s
            ``cfa_phase``) instead of always RGGB from the top-left pixel.
        clean_fraction: share of picked clips left clean but labelled with a level drawn uniformly
            in ``clean_level``: the blind estimator reads clean texture as noise of 3-10, and on
            such a clip the model should return its input, not smooth it.
        clean_level: that level's range, on 0..255.
        h264_fraction: share of picked clips stored as 4:2:0 H.264 (x264 at a CRF drawn in
            ``h264_crf``; :func:`stdit_cli.train.compressed_noise.h264_round_trip`) instead of
            JPEG: how phones and cameras store video.
        h264_crf: that CRF's range, inclusive.
        sharpen_fraction: share of picked clips sharpened after the noise (:func:`unsharp_mask`,
            amount drawn in ``sharpen_amount``, radius in ``sharpen_sigma``), their clean target
            sharpened alike: phones sharpen, and the noise they store is sharpened with the picture.
        sharpen_amount: that unsharp mask's amount range.
        sharpen_sigma: its Gaussian sigma range, pixels.
        gray_fraction: share of picked clips made black-and-white after the noise and before any
            compression (:func:`to_gray`: BT.601 luma in all three channels), their clean target
            alike: an infrared night camera's video. Gray noise is one draw in the three channels;
            weights that never saw it leave it (2026-12-06: camera noise in gray at night, 26.25 dB
            against 26.29 for the noisy input).
        gray_level: how a gray clip's level is labelled: None, the RMS of its noise like any other;
            or a function of its noisy ``[T, H, W, 3]`` uint8 frames, the level the pipeline will
            read and run it at (``LearnedNoiseLevel.blind_level_of``). The estimator reads heavy
            gray noise at half its RMS or less (a night camera's: 5-6 for RMS 11-13); weights
            trained on the level it reads learn the noise that level stands for.

    Each picked clip's noise level is what was added: the RMS of noisy minus clean on 0..255,
    so the model learns the diffusion state of that level, whatever the noise's colour (a clean
    clip: the level it is labelled with).
    """

    fraction: float = 0.0
    jpeg_fraction: float = 0.5
    jpeg_quality: tuple[int, int] = (50, 95)
    shot_range: tuple[float, float] = (1e-5, SHOT_RANGE[1])
    blur_fraction: float = 0.3
    blur_sigma: tuple[float, float] = (0.5, 1.5)
    chroma_fraction: float = 0.0
    chroma_sigma: tuple[float, float] = (1.5, 4.0)
    blotch_fraction: float = 0.0
    blotch_gain: tuple[float, float] = (0.6, 1.5)
    random_cfa_phase: bool = False
    clean_fraction: float = 0.0
    clean_level: tuple[float, float] = (3.0, 10.0)
    h264_fraction: float = 0.0
    h264_crf: tuple[int, int] = (16, 28)
    sharpen_fraction: float = 0.0
    sharpen_amount: tuple[float, float] = (0.2, 1.0)
    sharpen_sigma: tuple[float, float] = (0.7, 1.5)
    gray_fraction: float = 0.0
    gray_level: Callable[[np.ndarray], float] | None = None

    @property
    def active(self) -> bool:
        return self.fraction > 0

    def noisy_clips(self, clean: torch.Tensor, rng: np.random.Generator) -> NoisyClips | None:
        """Camera-noised versions of the picked clips of ``clean`` (``[B, C, T, H, W]`` in ``[-1, 1]``)."""
        picked = rng.random(clean.shape[0]) < self.fraction
        if not picked.any():
            return None
        # [B, C, T, H, W] in [-1, 1] -> [B, T, H, W, C] uint8 on the host
        clean_uint8 = torch.round((clean.detach().float().cpu() + 1.0) * 127.5).clamp(0, 255).to(torch.uint8)
        clean_uint8 = clean_uint8.permute(0, 2, 3, 4, 1).numpy()
        noisy = clean_uint8.copy()
        target = clean_uint8  # copied on the first sharpened clip
        sigma = np.zeros(len(picked))
        for b in np.flatnonzero(picked):
            gray = bool(self.gray_fraction) and rng.random() < self.gray_fraction
            if gray:
                target = target.copy() if target is clean_uint8 else target
                target[b] = to_gray(target[b])
            if self.clean_fraction and rng.random() < self.clean_fraction:
                noisy[b] = target[b]
                # left clean: only its label says "noise" (a gray one: what the pipeline will read on it)
                sigma[b] = self.gray_level(noisy[b]) if gray and self.gray_level else rng.uniform(*self.clean_level)
                continue
            camera = CameraNoise.random(rng, self.shot_range)
            h264 = bool(self.h264_fraction) and rng.random() < self.h264_fraction
            jpeg = self.jpeg_quality if rng.random() < self.jpeg_fraction and not h264 else None
            blur = rng.uniform(*self.blur_sigma) if rng.random() < self.blur_fraction else 0.0
            chroma = rng.uniform(*self.chroma_sigma) if self.chroma_fraction and rng.random() < self.chroma_fraction else 0.0
            phase = int(rng.integers(0, 4)) if self.random_cfa_phase else 0
            gain = None  # no draw without blotches: clips as before
            if chroma and self.blotch_fraction and rng.random() < self.blotch_fraction:
                gain = rng.uniform(*self.blotch_gain)
            sharpen = None
            if self.sharpen_fraction and rng.random() < self.sharpen_fraction:
                sharpen = (rng.uniform(*self.sharpen_amount), rng.uniform(*self.sharpen_sigma))
                target = target.copy() if target is clean_uint8 else target
                target[b] = to_gray(sharpened(clean_uint8[b], *sharpen)) if gray else sharpened(clean_uint8[b], *sharpen)
            noisy[b] = add_camera_noise(clean_uint8[b], rng, camera, jpeg_quality=None if gray else jpeg, noise_blur=blur,
                                        chroma_blur=chroma, cfa_phase=phase, sharpen=sharpen, chroma_gain=gain)  # fmt: skip
            if gray:  # the camera's luma only, then stored (JPEG or H.264 below) as a gray picture
                noisy[b] = to_gray(noisy[b])
                if jpeg is not None:
                    quality = int(rng.integers(jpeg[0], jpeg[1] + 1))
                    noisy[b] = np.stack([_jpeg(frame, quality) for frame in noisy[b]])
            if h264:
                crf = int(rng.integers(self.h264_crf[0], self.h264_crf[1] + 1))
                noisy[b] = h264_round_trip(noisy[b], crf, X264_PRESETS[int(rng.integers(0, len(X264_PRESETS)))])
            if gray and self.gray_level is not None:
                sigma[b] = self.gray_level(noisy[b])
            else:
                sigma[b] = np.sqrt(np.mean((noisy[b].astype(np.float64) - target[b]) ** 2))

        # [B, T, H, W, C] uint8 -> [B, C, T, H, W] in [-1, 1]
        def as_clips(frames: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(frames).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0

        x0 = None if target is clean_uint8 else as_clips(target).to(clean)
        return NoisyClips(picked=torch.from_numpy(picked), y=as_clips(noisy), sigma_255=torch.from_numpy(sigma).float(), clean=x0)
