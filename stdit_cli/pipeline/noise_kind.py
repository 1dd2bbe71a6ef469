"""``--noise auto`` with no number given: which weights a video's noise calls for.

The model ships two sets of weights: the Gaussian ones, exact for white noise at a given sigma,
and the real-noise ones, for camera and phone noise (signal-dependent, spatially correlated,
compressed), conditioned on the learned blind level. Each is 0.4-3.8 dB worse on the other's
noise (2026-12-04: white noise through the real-noise weights 0.5-1.2 dB below ``--sigma N``;
camera noise through the Gaussian weights at their level 0.4-1.1 dB below, more as the noise
gets more correlated), so ``auto`` looks at each video's noise before it picks.

Two measurements of the level sample decide it, both already at hand or nearly free:

- **level agreement**: the patch-PCA level (:mod:`stdit_cli.pipeline.noise_level`) against the
  learned level (:mod:`stdit_cli.pipeline.learned_level`). On white noise the two agree (ratio
  0.63-1.36 over 63 noisy validation clips at sigma 10-50, the low end on fine text at sigma 10);
  patch PCA reads a tenth of camera noise on photos (PolyU: 0.05-0.11) and on clean footage it
  reads almost nothing (0.06), while the learned estimator reads texture as noise of 4-8. Clean
  content with a few patches of noise-like texture goes the other way: patch PCA averages them
  over the frame, the learned level leaves them out with its trimmed crops (a test pattern with
  random-pixel squares: 7.5 against 3.2).
- **whiteness**: the patch-PCA level of the sample binned 2x2, doubled, against the level at full
  resolution. Averaging four independent pixels halves white noise, so the ratio is 1 for white
  noise (0.90-1.12 on those clips stored losslessly); demosaicing, noise reduction and
  compression correlate neighbouring pixels, so camera noise keeps more of its level when binned
  (1.9-4.1 on 28 camera-noise video clips, some of whose level ratios reach 0.80).

A video is treated as white noise when its levels agree within a factor :data:`LEVEL_AGREEMENT`
and either its whiteness is at most :data:`MAX_WHITENESS` or patch PCA reads at least the learned
level. The second case is white noise that H.264 has made partly correlated (whiteness up to 2.6
at sigma 10): patch PCA still reads all of its level (1.16-1.36 times the learned one), which it
never does for camera noise (at most 0.80), and the Gaussian weights at that level beat the
real-noise ones there by 0.2-0.6 dB (`scripts/results/2026-12-04_noise_kind.md`). Its whiteness
stays at most :data:`MAX_H264_WHITENESS`: dense texture whose patch-PCA level reads above the
learned one but far more correlated (gravel, clean or under phone-like noise, 4.1-4.8) is not white
noise, and the real-noise weights do better there (`scripts/results/2026-12-07_rms_level.md`).

Light white noise on dense texture is white too when the learned level reads far more: a sample
whose whiteness is at most :data:`MAX_WHITENESS` and whose patch-PCA level is at least
:data:`MIN_WHITE_LEVEL` reads as white noise whatever the learned level. The learned estimator
takes fine text and foliage for noise (clean, it reads 4-13 there), so at sigma 5 on `calendar`,
`kodim08` and a 176x144 clip it read 10.6-13.2 against patch PCA's 5.0-5.2 (whiteness 1.00-1.42)
and sent them to the real-noise weights at that level: 2.9 dB below the noisy input on
`calendar`. Over 400 clips of camera noise (video and stills), PolyU, synthetic phone noise and
clean footage (lossless and H.264) whiteness never fell below 1.85, so none of them changes its
pick; the floor keeps a sample read at the level of 8-bit quantisation (0.29) or below on the
old rule. Sigma 1-1.5 on `davis/dog` and `foliage` (read as camera noise of 4.2-8.2 before, up to
9 dB below the noisy input) now comes out above its input
(`scripts/results/2026-12-06_noise_kind_light_noise.md`).

White noise in a video stored lossily in 4:2:0 (:func:`stored_lossily`: every camera and web
video) goes to weights trained on exactly that, where they ship (``weights/<model>-h264``,
:mod:`stdit_cli.train.compressed_noise`), at the same level: the encoder has thinned the colour
noise, quantised the finest part of the rest and carried it along motion vectors, and weights
that have seen it gain most where the encode was strongest (CRF 25-28: +0.1 to +2.6 dB over the
Gaussian weights, but -2.2 on a flat field at sigma 10, 49.6 -> 47.5 dB; CRF 20 0.0 to +0.3; CRF
10-14 -0.2 to +0.2,
`scripts/results/2026-12-05_compressed_white.md`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from stdit_cli.pipeline.noise_level import LUMA_NOISE_GAIN, luma_uint8

if TYPE_CHECKING:
    from stdit_cli.video import VideoInfo

#: most factor between the patch-PCA and the learned level, either way, that reads as white noise
LEVEL_AGREEMENT = 2.0
#: most 2x2-binned/full-resolution level ratio (binned level doubled) that reads as white noise
MAX_WHITENESS = 1.5
#: most whiteness at which a sample whose patch-PCA level reads all of the learned one still reads as
#: white noise that H.264 made partly correlated: such noise reads 1.0-2.6 at sigma 10-50 and up to
#: 3.1 through CRF 28 (`vid4/calendar`); gravel read 4.1-4.8 (clean, and under phone-like noise),
#: whose texture raises patch PCA above the learned level
MAX_H264_WHITENESS = 3.5
#: least patch-PCA level at which a sample that bins as white noise reads as white noise however
#: far above it the learned level reads (texture it takes for noise); below it (8-bit
#: quantisation reads 0.29) the levels must agree
MIN_WHITE_LEVEL = 1.0
#: least share of the patch-PCA level that the median cell of a 4x4 grid must hold of it (its
#: high-pass level, :func:`white_spread`) for the sample to read as white noise: noise drawn over the
#: whole picture reads at least its level in every cell, texture only adds to it
MIN_SPREAD = 0.5
#: cells of :func:`white_spread`'s grid per side
SPREAD_GRID = 4
#: white noise in a chroma-subsampled video runs the Gaussian weights at this share of its level
#: (see :func:`gaussian_level`) ...
SUBSAMPLED_LEVEL_SCALE = 0.85
#: ... while its whiteness is at most the first of these; from the second on at the full level; linearly between
SUBSAMPLED_WHITENESS_RANGE = (1.15, 1.4)


def binned_2x2(frames_uint8: np.ndarray) -> np.ndarray:
    """``[T, H, W, C]`` uint8 -> ``[T, H//2, W//2, C]`` uint8, each pixel the rounded mean of a 2x2 block."""
    count, height, width, channels = frames_uint8.shape
    if height < 2 or width < 2:
        raise ValueError(f"frames of shape {list(frames_uint8.shape)} are too small to bin 2x2")
    binned = np.empty((count, height // 2, width // 2, channels), dtype=np.uint8)
    for frame, out in zip(frames_uint8, binned):  # one frame at a time: no float copy of the sample
        even = frame[: height - height % 2, : width - width % 2]
        # the four pixels of each 2x2 block, [H/2, W/2, C] each, summed in uint16 (at most 1020)
        sums = even[0::2, 0::2].astype(np.uint16)
        for row, col in ((0, 1), (1, 0), (1, 1)):
            sums += even[row::2, col::2]
        # the mean rounded half to even, as np.rint: quotient, +1 above half, +1 at half on an odd quotient
        quotient, remainder = np.divmod(sums, 4)
        out[...] = quotient + (remainder > 2) + ((remainder == 2) & (quotient % 2 == 1))
    return binned


def white_spread(frames_uint8: np.ndarray, white: float) -> float:
    """How much of the patch-PCA level ``white`` of ``[n, H, W, 3]`` uint8 frames lies over the whole
    picture: the median, over a :data:`SPREAD_GRID` x :data:`SPREAD_GRID` grid of cells, of each cell's
    high-pass level (Immerkaer's 3x3 Laplacian-difference estimate on luma, stated as i.i.d. RGB noise
    like ``white``), over ``white``. White noise reads about 1 or more (texture adds to it); noise-like
    patches in a small part of a clean picture (a test pattern's random-pixel squares, a screen of
    static in a corner), which patch PCA averages over the frame, read near 0. Each cell's level is
    read over all the frames, as patch PCA reads them (an edited video's sample holds several shots,
    each with its own noise): 0.08 s for 8 frames of 1080p."""
    _, height, width, _ = frames_uint8.shape
    if height < 3 * SPREAD_GRID or width < 3 * SPREAD_GRID or white <= 0:
        return float("inf")  # too small to split, or nothing to spread: no evidence against white noise
    # [n, H, W, 3] uint8 -> [n, H, W] int16 luma (BT.601, rounded as a stored plane); the mask below stays within +-2040
    luma = luma_uint8(frames_uint8)[..., 0].astype(np.int16)
    # the 3x3 mask [[1, -2, 1], [-2, 4, -2], [1, -2, 1]] (the difference of two Laplacians): [n, H-2, W-2]
    rows = luma[:, :-2] - 2 * luma[:, 1:-1] + luma[:, 2:]  # [n, H-2, W], second difference down
    mask = np.abs(rows[:, :, :-2] - 2 * rows[:, :, 1:-1] + rows[:, :, 2:])  # [n, H-2, W-2]
    # for white noise of std s the mask's output has std 6 s; mean |.| = 6 s sqrt(2 / pi)
    scale = np.sqrt(np.pi / 2) / 6 / LUMA_NOISE_GAIN
    edges_y = np.linspace(0, mask.shape[1], SPREAD_GRID + 1).astype(int)
    edges_x = np.linspace(0, mask.shape[2], SPREAD_GRID + 1).astype(int)
    cells = [mask[:, top:bottom, left:right].mean() * scale
             for top, bottom in zip(edges_y[:-1], edges_y[1:]) for left, right in zip(edges_x[:-1], edges_x[1:])]  # fmt: skip
    return float(np.median(cells)) / white


def whiteness(white: float, binned: float) -> float:
    """Twice the binned level over the full-resolution one: 1 for white noise, more for correlated noise."""
    return 2.0 * binned / max(white, 1e-6)


def reads_as_white(white: float, binned: float | None, learned: float, spread: float | None = None) -> bool:
    """Whether a sample with these three levels (patch PCA at full resolution and binned 2x2, and
    the learned level) carries white noise, for the Gaussian weights; not when there is no binned
    level (frames too small for it), nor when ``spread`` (:func:`white_spread`, where measured) says
    that the level lies in a small part of the picture."""
    if binned is None:
        return False
    if white > LEVEL_AGREEMENT * learned:  # noise-like patches on clean content, averaged over the frame by patch PCA
        return False
    if spread is not None and spread < MIN_SPREAD:  # the same, where the learned level reads them higher
        return False
    if whiteness(white, binned) <= MAX_WHITENESS:  # binning halves it: white, unless both levels are faint and disagree
        return white >= learned / LEVEL_AGREEMENT or white >= MIN_WHITE_LEVEL
    # correlated, yet patch PCA reads all the level there is: white noise through H.264, unless far more
    # correlated than an encode leaves it (dense texture raising patch PCA)
    return white >= learned and whiteness(white, binned) <= MAX_H264_WHITENESS


def gaussian_level(white: float, binned: float | None, chroma_subsampled: bool) -> float:
    """The level to run the Gaussian weights at for white noise read as ``white`` (patch PCA).

    In a 4:2:0 or 4:2:2 video the level is read on luma and stated as the i.i.d. RGB noise the
    weights were trained on, but subsampling averaged the colour noise over 2x2 blocks, so the RGB
    frames hold less noise than that (RMS about 0.8 of it). At 0.85 of the level the shipped
    default scores +0.3 to +1.4 dB on white noise stored as 4:2:0 H.264 at CRF 10 (ten clips at
    sigma 10-50) and at CRF 20 (the validation suite's compressed clips, five of six cases +0.13 to
    +0.69, the sixth -0.05). A strong encode (CRF 28 at sigma 25) has already taken much of the
    noise, and the level read, down: there 0.85 of it loses 0.6-0.9 dB. Those videos read less
    white (whiteness 1.37-1.84; at CRF 10-20 at sigma 25 and 50 1.00-1.17 on all but one clip,
    1.35), so the share goes back to 1 over :data:`SUBSAMPLED_WHITENESS_RANGE`
    (`scripts/results/2026-12-05_subsampled_level.md`). Videos without subsampled colour (RGB,
    4:4:4), and samples too small to bin, keep the level as read.
    """
    if not chroma_subsampled or binned is None:
        return white
    low, high = SUBSAMPLED_WHITENESS_RANGE
    # 0 at or below `low`, 1 at or above `high`: the share of the level moves from the scale to 1
    toward_full = min(max((whiteness(white, binned) - low) / (high - low), 0.0), 1.0)
    return white * (SUBSAMPLED_LEVEL_SCALE + (1.0 - SUBSAMPLED_LEVEL_SCALE) * toward_full)


def stored_lossily(info: VideoInfo) -> bool:
    """Whether a video's noise went through a lossy 4:2:0 (or 4:2:2) encode, as nearly every camera
    and web video's has: chroma-subsampled and not a lossless codec or mode."""
    return info.chroma_subsampled and not info.lossless
