"""The validation suite: the clips every model decision is made on, none of them trained on.

Each clip is a name ``<group>/<source>`` that resolves to clean uint8 frames ``[T, H, W, 3]`` and a
degradation. The groups cover what users bring, so a model that fits one kind of footage shows it:

- ``vid4/*``: the four Vid4 sequences (sharp, textured; the set earlier choices were made on);
- ``davis/*``: DAVIS-2016 sequences held out of training entirely, at their native 854x480;
- ``soft/*``: two of those, area-downscaled 2x and bicubic-upscaled back (soft, upscaled footage);
- ``flat/field`` and ``flat/gradient``: a flat grey field and a smooth colour gradient (640x272),
  where the ideal output is known and the residual error is the figure;
- ``still/*``: Kodak24 and CBSD68 photos as clips with synthetic camera motion;
- ``tiny/*``: held-out DAVIS clips centre-cropped to 11:9 and area-downscaled to 176x144 (QCIF: a
  phone-call or thumbnail video, where a window holds little context);
- ``anim/*``: held-out DAVIS clips at 640x360 turned into cel-style animation (edge-preserving
  smoothing, a fixed palette per clip, dark outlines, anti-aliased): flat colour regions meeting at
  sharp edges, what cartoons and screen content are made of (added 2026-12-05);
- ``large/*`` and ``large1080/*``: held-out DAVIS clips Lanczos-upscaled to 1280x720 and 1920x1080
  (footage larger than any training frame: per pixel smoother, the noise still at the pixel's
  scale); not in :data:`SUITE`, for the camera- and phone-noise benchmarks' ``--clips`` (added
  2026-12-07);
- ``h264/*``: held-out DAVIS clips noised, then H.264-encoded (CRF 20, 4:2:0), as noisy footage
  usually arrives; the models see them with ``--sigma auto`` as a user would (the "oracle" is the
  sigma added before the encode).

Training (``scripts/train_defaults.sh``) excludes :data:`HELD_OUT_DAVIS`; Vid4, Kodak24 and CBSD68
are never trained on.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

#: DAVIS-2016 sequences kept out of every training run (the other 15 are training material)
HELD_OUT_DAVIS = ("blackswan", "car-shadow", "dog", "kite-surf", "scooter-black")

SUITE = (
    "vid4/calendar", "vid4/city", "vid4/foliage", "vid4/walk",
    *(f"davis/{name}" for name in HELD_OUT_DAVIS),
    "soft/car-shadow", "soft/kite-surf",
    "flat/field", "flat/gradient",
    "still/kodim03", "still/kodim08", "still/cbsd68-119082",
    "h264/dog", "h264/scooter-black",
    "tiny/dog", "tiny/scooter-black", "anim/blackswan", "anim/car-shadow",
)  # fmt: skip
COMPRESSED_GROUP = "h264"
FLAT_SIZE = (272, 640)  # H, W
TINY_SIZE = (144, 176)  # H, W: QCIF
ANIM_SIZE = (360, 640)  # H, W
ANIM_COLOURS = 12
LARGE_SIZES = {"large": (720, 1280), "large1080": (1080, 1920)}  # H, W
#: clips outside the suite's default list that the benchmarks can name: the held-out DAVIS clips
#: upscaled to HD (slow for the classical tools, so not in every suite run)
EXTRA_CLIPS = tuple(f"{group}/{name}" for group in LARGE_SIZES for name in HELD_OUT_DAVIS)
H264_CRF = 20


def _frames_from_pngs(paths: list[Path], frames: int) -> np.ndarray:
    assert len(paths) >= frames, f"expected at least {frames} frames, found {len(paths)} ({paths[:1]})"
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths[:frames]])


def _davis(data: Path, name: str, frames: int) -> np.ndarray:
    return _frames_from_pngs(sorted((data / "davis2016_val_480p" / name).glob("*.jpg")), frames)


def _soften(clean: np.ndarray) -> np.ndarray:
    """Area-downscale 2x, bicubic-upscale back: what an upscaled or soft source looks like."""
    h, w = clean.shape[1:3]
    out = []
    for frame in clean:
        small = Image.fromarray(frame).reduce(2)
        out.append(np.asarray(small.resize((w, h), Image.BICUBIC)))
    return np.stack(out)


def _still_clip(image: np.ndarray, frames: int, seed: int) -> np.ndarray:
    """A still panned by a constant sub-pixel-free velocity with jitter (the training motion model)."""
    from stdit_cli.train.data import still_to_clip

    clip = still_to_clip(image, frames, np.random.default_rng(seed), max_shift=16)
    h, w = clip.shape[1:3]
    return np.ascontiguousarray(clip[:, : h // 8 * 8, : w // 8 * 8])


def _flat(kind: str, frames: int) -> np.ndarray:
    h, w = FLAT_SIZE
    if kind == "field":
        return np.full((frames, h, w, 3), 128, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    gradient = np.stack([60 + 100 * xx / w, 80 + 60 * yy / h, 120 + 0 * xx], -1)  # as ../shared/tools/flat_field.py
    return np.repeat(np.round(gradient)[None], frames, 0).astype(np.uint8)


def _tiny(clean: np.ndarray) -> np.ndarray:
    """Centre-crop to QCIF's 11:9 and area-downscale to 176x144."""
    h, w = clean.shape[1:3]
    out_h, out_w = TINY_SIZE
    crop_w = min(w, round(h * out_w / out_h))
    left = (w - crop_w) // 2
    box = (left, 0, left + crop_w, h)
    return np.stack([np.asarray(Image.fromarray(f).resize((out_w, out_h), Image.BOX, box=box)) for f in clean])


def _upscale(clean: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos-upscale ``[T, h, w, 3]`` to ``size`` (H, W): footage larger than the training frames."""
    out_h, out_w = size
    return np.stack([np.asarray(Image.fromarray(f).resize((out_w, out_h), Image.LANCZOS)) for f in clean])


def _animate(clean: np.ndarray) -> np.ndarray:
    """Cel-style animation from real footage: area-downscaled to 640x360, smoothed by repeated
    bilateral filtering, quantised to a palette fixed per clip (k-means on the first frame, so the
    colours hold still over time), dark outlines where the smoothed luma has edges, and a 0.7-px blur
    (the anti-aliasing of a rendered line). Deterministic."""
    import cv2

    out_h, out_w = ANIM_SIZE
    h, w = clean.shape[1:3]
    crop_h = min(h, round(w * out_h / out_w))
    top = (h - crop_h) // 2
    frames = [cv2.resize(np.ascontiguousarray(f[top : top + crop_h]), (out_w, out_h), interpolation=cv2.INTER_AREA) for f in clean]
    smooth = []
    for frame in frames:
        for _ in range(4):
            frame = cv2.bilateralFilter(frame, 9, 40, 7)
        smooth.append(frame)
    pixels = smooth[0].reshape(-1, 3).astype(np.float32)  # [H*W, 3]
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, _, palette = cv2.kmeans(pixels, ANIM_COLOURS, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    out = []
    for frame in smooth:
        flat = frame.reshape(-1, 1, 3).astype(np.float32)  # [H*W, 1, 3]
        nearest = np.argmin(((flat - palette[None]) ** 2).sum(-1), axis=1)  # [H*W]
        cel = palette[nearest].reshape(frame.shape)  # [H, W, 3]
        luma = cv2.medianBlur(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), 5)
        lines = cv2.adaptiveThreshold(luma, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
        cel = cel * (lines[..., None] > 0) + 20 * (lines[..., None] == 0)  # outlines dark grey
        out.append(cv2.GaussianBlur(cel.astype(np.float32), (0, 0), 0.7))
    return np.clip(np.round(np.stack(out)), 0, 255).astype(np.uint8)


def load_clip(data: Path, name: str, frames: int) -> np.ndarray:
    """Clean uint8 ``[T, H, W, 3]`` frames of suite clip ``name`` (``data``: ``../shared/data``)."""
    group, _, source = name.partition("/")
    if group == "vid4":
        return _frames_from_pngs(sorted((data / "vid4" / source).glob("hr_*.png")), frames)
    if group in ("davis", COMPRESSED_GROUP):
        return _davis(data, source, frames)
    if group == "soft":
        return _soften(_davis(data, source, frames))
    if group == "flat":
        return _flat(source, frames)
    if group == "tiny":
        return _tiny(_davis(data, source, frames))
    if group == "anim":
        return _animate(_davis(data, source, frames))
    if group in LARGE_SIZES:
        return _upscale(_davis(data, source, frames), LARGE_SIZES[group])
    if group == "still":
        if source.startswith("cbsd68-"):
            path = data / "bsds500" / "val" / f"{source.split('-', 1)[1]}.jpg"
        else:
            path = data / "kodak24" / f"{source}.png"
        return _still_clip(np.asarray(Image.open(path).convert("RGB")), frames, seed=len(source))
    raise ValueError(f"unknown suite clip {name!r}; known groups: vid4, davis, soft, flat, still, tiny, anim, large, large1080, {COMPRESSED_GROUP}")


def is_compressed(name: str) -> bool:
    return name.startswith(COMPRESSED_GROUP + "/")


def h264_encode(ffmpeg: str, noisy_lossless: Path, out: Path, crf: int = H264_CRF) -> None:
    """Encode a (lossless) noisy clip as a user's camera or phone would: x264 CRF ``crf``, 4:2:0."""
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(noisy_lossless), "-c:v", "libx264", "-crf", str(crf),
                    "-preset", "medium", "-pix_fmt", "yuv420p", str(out)], check=True)  # fmt: skip
