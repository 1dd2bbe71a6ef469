"""Parts of a picture that hold no noise, found before its noise level is read.

No camera, at any noise level, records a 16x16 patch of one exact colour: shot noise alone varies
every pixel. Patches like that come from bars and canvases added around a video, and from
pictures that were made rather than filmed. Neither estimator sees them for what they are.

- **Bars** (:func:`picture_bounds`): letterbox and pillarbox bars (with any subtitles in them), the
  flat canvas around a video placed on a larger frame, an encoder's padding rows: rows and
  columns of one colour across the picture, at its edges. They are not the picture, and read
  with it they pull its level down: crops of bars read as no noise. Camera noise on 13 held-out
  clips read 10-35% low with letterbox bars of a sixth of the height (the learned level; white
  noise at sigma 25 by patch PCA 25.1 -> 23.4). Every level is read on the picture inside them.
- **Blurred bands** (:func:`_blurred_bands`): a portrait phone video in a landscape frame (or a
  landscape one in a portrait frame) over an enlarged, blurred copy of itself, the "blur fill" of
  editors and platforms. The blur took the noise out of the fill, so the whole frame read 42-57%
  of the picture's level, and the picture came out up to 3 dB worse (48 clips of
  ``scripts/benchmark_blur_fill.py``: 29.61 -> 31.19 dB once cut). Bands on both sides, smooth,
  with a straight edge where the detail steps up, are cut like bars.
- **Made pictures** (:func:`noise_free`): screen recordings, slides, interfaces, code, flat-shaded
  animation. The learned estimator takes their glyph and line edges for noise (7-13 on interface
  and code recordings, about 50 on a page of 1-pixel text) and the real-noise weights then soften
  or wipe them (33-37 dB from the input, 18 on the page). Such a picture has patches of one exact
  colour away from black and white (not clipped highlights or shadows) in at least
  :data:`FLAT_SHARE` of its 16x16 windows, and nearly every crop of it (:data:`PLATEAU_CROPS`) is
  mostly one brightness, the background behind text and lines, where noise spreads every crop's
  values. It is read as noise-free: level 0.

Measured 2026-12-06 (``scripts/probe_flat_areas.py``, ``scripts/benchmark_screen_content.py``;
``scripts/results/2026-12-06_flat_areas.md``): none of 888 noisy and clean filmed clips (white
noise lossless and H.264, camera noise as video and stills, phone noise, PolyU's JPEG photos, gray
camera noise, clean footage lossless and H.264, letterboxed noise) reads as noise-free; at most
0.34% of their windows are flat (PolyU's JPEG, whose quantiser flattens 8x8 blocks: the windows
are set off that grid, on it 1.6%). Eight made clips (an interface, code, a cartoon, a slide;
lossless and H.264) all do, at 1.2-76% flat windows. A noisy video beside flat graphics (a
lower-third banner, a video in an interface's window) keeps its level: its crops of noisy picture
are not mostly one brightness; one under a tenth of an interface recording does not (left with
its noise). Both tests together cost 27 ms on a 1080p sample.
"""

from __future__ import annotations

import numpy as np

#: side of the windows tested for one exact colour, and their stride (half a window)
WINDOW = 16
#: most frames of the sample the two tests read (evenly spread)
MAX_FRAMES = 4
#: values at or beyond these are clipped shadows or highlights, flat in noisy footage too
CLIP_LOW, CLIP_HIGH = 12, 250
#: least share of a sample's windows of one exact colour for it to read as a made picture
FLAT_SHARE = 0.006
#: side of the crops tested for a plateau of one brightness, and most crops per frame
CROP = 64
CROPS_PER_FRAME = 16
#: a crop has a plateau when PLATEAU_PIXELS of its pixels have one of its PLATEAU_VALUES commonest
#: lumas (flat areas of several colours, kept exact by lossless coding and inside H.264's blocks), or
#: when NEAR_MEDIAN_PIXELS of them are within NEAR_MEDIAN_TOLERANCE of its median (one background
#: behind dense text, which H.264 rings around by a level or two)
PLATEAU_PIXELS = 0.5
PLATEAU_VALUES = 3
NEAR_MEDIAN_PIXELS = 0.4
NEAR_MEDIAN_TOLERANCE = 2
#: least share of a sample's crops with a plateau for it to read as a made picture
PLATEAU_CROPS = 0.85
#: bars are not cut where less than this is left of the picture (a flat frame is all one colour)
MIN_PICTURE = 16
#: subtitles and logos sit in bars: a band of rows at most MAX_BAND of the height, each at least
#: BAR_SHARE the bars' colour, between rows all of it, is bar too (a small video on a canvas is not:
#: its rows run on to the far side)
BAR_SHARE = 0.5
MAX_BAND = 0.2
#: a bar row is BAR_ROW_SHARE of one colour, within BAR_TOLERANCE per channel: H.264 leaves a few
#: pixels of a flat canvas a level or two off in some frames (in noisy footage only clipping comes near)
BAR_ROW_SHARE = 0.98
BAR_TOLERANCE = 2
#: a blurred band (the enlarged, blurred copy of a video that fills the rest of a frame of another
#: shape: a portrait phone video in a landscape frame, a landscape one in a portrait frame) has
#: rows of under BAND_DETAIL of the picture's detail (second differences of luma along the row; its
#: noise was blurred away with the rest); the picture's edge is a straight line where the detail
#: steps up EDGE_CONTRAST times between BAND_EDGE rows on either side (leaving out the CODING_REACH
#: rows next to the edge, where H.264's blocks carry it into the band), found where the mean log
#: detail of the rows before a row and of EDGE_WINDOW of the height after it differ most; the bands
#: on the two sides are each at least MIN_BAND of the frame (a 4:3 picture in a 16:9 frame leaves
#: 12.5% on each side, a 9:16 one 34%; dark rows along a letterboxed picture's edges are not a fill)
#: and as tall within BAND_SYMMETRY of it (the picture is centred)
BAND_DETAIL = 0.5
EDGE_CONTRAST = 3.0
BAND_EDGE = 6
CODING_REACH = 8
EDGE_WINDOW = 0.1
MIN_BAND = 0.1
BAND_SYMMETRY = 0.1


def _row_share(frames: np.ndarray, index: int, colour: np.ndarray | None) -> float:
    """Share of row ``index``'s pixels over ``[n, H, W, C]`` frames that are ``colour`` (``[n, 1, C]``;
    None: each frame's first pixel of the row) within :data:`BAR_TOLERANCE` in every channel."""
    row = frames[:, index].astype(np.int16)  # [n, W, C]
    near = np.all(np.abs(row - (row[:, :1] if colour is None else colour)) <= BAR_TOLERANCE, axis=-1)
    return np.count_nonzero(near) / (row.shape[0] * row.shape[1])


def _bar_rows(frames: np.ndarray, from_end: bool) -> int:
    """How many rows of ``[n, H, W, C]`` frames, from the top (or the bottom), are bars: the rows of
    one colour (:data:`BAR_ROW_SHARE`) from the edge in, then on through any band of at most :data:`MAX_BAND` of the height
    whose rows are mostly (:data:`BAR_SHARE`) that colour, a subtitle's, up to the next row all of it.
    Row by row from the edge: a picture without bars costs one."""
    height = frames.shape[1]
    at = (lambda k: height - 1 - k) if from_end else (lambda k: k)
    count = 0
    while count < height and _row_share(frames, at(count), None) >= BAR_ROW_SHARE:
        count += 1
    if count == 0 or count == height:
        return count
    colour = frames[:, at(count - 1), :1].astype(np.int16)  # [n, 1, C]: the bars' colour
    bar = count
    for k in range(count, min(height, count + int(MAX_BAND * height) + 1)):
        share = _row_share(frames, at(k), colour)
        if share < BAR_SHARE:
            break
        if share >= BAR_ROW_SHARE:  # the band ends at bar again: all of it is bar
            bar = k + 1
    return bar


def _details(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[n, H, W, C]`` uint8 -> (``[n', H]``, ``[n', W]``) float32: each row's and each column's mean
    absolute second difference of luma along it (noise and texture; a smooth gradient has none), on
    up to :data:`MAX_FRAMES` of the frames."""
    frames = _spread(frames, MAX_FRAMES)
    if frames.shape[-1] == 3:
        wide = frames.astype(np.int16)
        luma = (77 * wide[..., 0] + 150 * wide[..., 1] + 29 * wide[..., 2] + 128) >> 8  # [n, H, W] BT.601, whole levels
    else:
        luma = frames[..., 0].astype(np.int16)
    rows = np.abs(np.diff(luma, n=2, axis=2)).mean(axis=2, dtype=np.float32)
    cols = np.abs(np.diff(luma, n=2, axis=1)).mean(axis=1, dtype=np.float32)
    return rows, cols


def _band_step(typical: np.ndarray) -> int:
    """Where the detail of rows ``typical`` (``[H]``, from the start) steps up most, between
    :data:`MIN_BAND` of the height and two fifths of it: the mean of its logarithm over the rows before
    a row against that over the :data:`EDGE_WINDOW` share of the height after it; 0 for too few rows."""
    height = len(typical)
    window = max(BAND_EDGE, int(EDGE_WINDOW * height))
    low, high = max(BAND_EDGE + CODING_REACH, int(np.ceil(MIN_BAND * height))), int(0.4 * height)
    if high <= low:
        return 0
    logs = np.concatenate([[0.0], np.cumsum(np.log(typical + 0.1))])  # [H + 1]: sums of the rows before each
    ends = np.arange(low, high)
    before = logs[ends] / ends
    after = (logs[np.minimum(ends + window, height)] - logs[ends]) / (np.minimum(ends + window, height) - ends)
    return int(ends[np.argmax(after - before)])


def _is_band(typical: np.ndarray, end: int, inner: float) -> bool:
    """Whether rows ``[0, end)`` of ``typical`` (``[H]``) are a blurred band: under :data:`BAND_DETAIL`
    of the picture's ``inner`` detail, and the :data:`BAND_EDGE` rows from ``end`` on have
    :data:`EDGE_CONTRAST` times the detail of the band and of those before ``end``, but for the
    :data:`CODING_REACH` rows next to it (H.264's blocks carry the picture's edge a few rows into the
    band): the picture's edge is a straight line, while depth of field blurs gradually."""
    if end < BAND_EDGE + CODING_REACH:
        return False
    band = float(np.median(typical[:end]))
    inside = float(np.median(typical[end : end + BAND_EDGE]))
    outside = float(np.median(typical[end - CODING_REACH - BAND_EDGE : end - CODING_REACH]))
    return band < BAND_DETAIL * inner and inside >= EDGE_CONTRAST * max(outside, band, 0.1)


def _blurred_bands(detail: np.ndarray) -> tuple[int, int]:
    """``(first, end)`` of the rows between blurred bands on both sides, from ``[n, H]`` row details
    (:func:`_details`; columns alike): a landscape video filling a portrait frame over a blurred,
    enlarged copy of itself (or a portrait one, in columns); ``(0, H)`` where there are none: both
    bands at least :data:`MIN_BAND` of the height and about as tall (within :data:`BAND_SYMMETRY`), a
    picture of at least a fifth left between them. Each band ends where the detail steps up most
    (:func:`_band_step`); where one side's step is no band's edge (a smooth sky along the picture's
    edge steps up less than the sky's far side), the band is tried at the other side's size, the
    picture being centred. Rows are read in the median frame: an H.264 frame may leave a few blocks
    of a band sharp."""
    height = detail.shape[1]
    inner = float(np.median(detail[:, height // 3 : height - height // 3]))
    if inner <= 0:
        return 0, height
    sides = np.median(detail, axis=0), np.median(detail, axis=0)[::-1]  # [H] each: from the top, from the bottom
    ends = [_band_step(typical) for typical in sides]
    found = [_is_band(typical, end, inner) for typical, end in zip(sides, ends)]
    for side in (0, 1):  # one side's band at the other's size
        other = 1 - side
        if found[other] and not (found[side] and abs(ends[side] - ends[other]) <= max(8, BAND_SYMMETRY * height)):
            if _is_band(sides[side], ends[other], inner):
                ends[side], found[side] = ends[other], True
    top, bottom = ends
    if not all(found) or min(top, bottom) < MIN_BAND * height or abs(top - bottom) > max(8, BAND_SYMMETRY * height) or height - top - bottom < height / 5:
        return 0, height
    return top, height - bottom


def picture_bounds(frames: np.ndarray) -> tuple[slice, slice]:
    """``(rows, cols)`` of ``[n, H, W, C]`` frames inside their bars: the rows (columns) at the
    edges that are one colour across the width (height), with any subtitles in them
    (:func:`_bar_rows`), then, unless what is left has made areas (:data:`FLAT_SHARE` of its windows
    one exact colour: a cartoon's sky, an editor's margins, a news banner over the video), inside
    blurred bands on both sides (:func:`_blurred_bands`). The whole frame when less than
    :data:`MIN_PICTURE` pixels would be left either way."""
    _, height, width, _ = frames.shape
    top, bottom = _bar_rows(frames, False), height - _bar_rows(frames, True)
    columns = frames.transpose(0, 2, 1, 3)  # [n, H, W, C] -> [n, W, H, C]: columns as rows (a view)
    left, right = _bar_rows(columns, False), width - _bar_rows(columns, True)
    if bottom - top < MIN_PICTURE or right - left < MIN_PICTURE:
        return slice(0, height), slice(0, width)
    inside = frames[:, top:bottom, left:right]
    # made areas (a cartoon's sky, an editor's margins, a banner) are no blur fill; until 2026-12-07 only a
    # picture made throughout was spared, and a full-frame video under a news banner read its rows above the
    # banner as the picture, so the banner was denoised with it instead of kept (`made_areas`)
    if min(inside.shape[1:3]) >= 4 * MIN_PICTURE and flat_window_share(inside) < FLAT_SHARE:
        rows, cols = _details(inside)
        (soft_top, soft_bottom), (soft_left, soft_right) = _blurred_bands(rows), _blurred_bands(cols)
        top, bottom, left, right = top + soft_top, top + soft_bottom, left + soft_left, left + soft_right
    return slice(top, bottom), slice(left, right)


def picture(frames: np.ndarray) -> np.ndarray:
    """``frames`` inside their bars (:func:`picture_bounds`), a view."""
    rows, cols = picture_bounds(frames)
    return frames[:, rows, cols]


def _spread(frames: np.ndarray, most: int) -> np.ndarray:
    """Up to ``most`` of ``frames``, evenly spread."""
    return frames[np.unique(np.linspace(0, len(frames) - 1, min(most, len(frames))).round().astype(int))]


def flat_window_share(frames_uint8: np.ndarray) -> float:
    """Share of the ``WINDOW``-pixel windows (stride half a window, off the 8x8 coding grid) of up to
    :data:`MAX_FRAMES` of ``[n, H, W, 3]`` uint8 frames that are one exact colour on every second
    pixel of every second row (64 pixels: no noise leaves that many equal), away from clipping
    (:data:`CLIP_LOW`, :data:`CLIP_HIGH`)."""
    step = WINDOW // 2  # the windows' stride, in pixels
    side = WINDOW // 2  # a window's side on the lattice of every second pixel
    flat = total = 0
    for frame in _spread(frames_uint8, MAX_FRAMES):
        # [H, W, 3] uint8 -> [H/2, W/2] int32 on the lattice, one value per colour
        lattice = frame[::2, ::2]
        packed = (lattice[..., 0].astype(np.int32) << 16) | (lattice[..., 1].astype(np.int32) << 8) | lattice[..., 2]
        # the grid is set off by a quarter window from the 8x8 blocks of JPEG and MPEG, whose quantiser
        # flattens single blocks of noisy photos' darkest areas: a window here spans nine such blocks
        for top in (step // 4, step // 2 + step // 4):
            for left in (step // 4, step // 2 + step // 4):
                rows = (packed.shape[0] - top) // side
                cols = (packed.shape[1] - left) // side
                if rows == 0 or cols == 0:
                    continue
                area = np.s_[top : top + rows * side, left : left + cols * side]
                # [rows * s, cols * s] -> [rows, s, cols, s]: windows on a grid
                windows = packed[area].reshape(rows, side, cols, side)
                one_colour = np.all(windows == windows[:, :1, :, :1], axis=(1, 3))
                colour = windows[:, 0, :, 0]  # [rows, cols]: each window's first value, its colour if it has one
                channels = np.stack([colour >> 16, (colour >> 8) & 255, colour & 255])
                unclipped = np.all((channels >= CLIP_LOW) & (channels <= CLIP_HIGH), axis=0)
                flat += int(np.count_nonzero(one_colour & unclipped))
                total += rows * cols
    return flat / total if total else 0.0


def _has_plateau(luma: np.ndarray) -> bool:
    """Whether a crop's whole-level luma (``[h, w]``) is mostly flat areas (see :data:`PLATEAU_PIXELS`)."""
    counts = np.bincount(luma.ravel().astype(np.int64), minlength=256)
    if np.sort(counts)[-PLATEAU_VALUES:].sum() >= PLATEAU_PIXELS * luma.size:
        return True
    return np.count_nonzero(np.abs(luma - np.median(luma)) <= NEAR_MEDIAN_TOLERANCE) >= NEAR_MEDIAN_PIXELS * luma.size


def plateau_crop_share(frames_uint8: np.ndarray) -> float:
    """Share of up to :data:`CROPS_PER_FRAME` ``CROP``-pixel crops per frame (spread over a grid)
    that are mostly flat areas (:data:`PLATEAU_PIXELS`)."""
    _, height, width, _ = frames_uint8.shape
    side = min(CROP, height, width)
    rows, cols = height // side, width // side
    cells = [(r * side, c * side) for r in range(rows) for c in range(cols)]
    picks = np.unique(np.linspace(0, len(cells) - 1, min(CROPS_PER_FRAME, len(cells))).round().astype(int))
    plateaus = 0
    frames_uint8 = _spread(frames_uint8, MAX_FRAMES)
    for frame in frames_uint8:
        for top, left in (cells[k] for k in picks):
            # [s, s, 3] uint8 -> [s, s] luma (BT.601), whole levels
            luma = np.rint(frame[top : top + side, left : left + side] @ np.array([0.299, 0.587, 0.114]))
            plateaus += int(_has_plateau(luma))
    return plateaus / (len(frames_uint8) * len(picks))


def noise_free(frames_uint8: np.ndarray) -> bool:
    """Whether ``[n, H, W, 3]`` uint8 frames (inside their bars) are a made picture with no noise:
    at least :data:`FLAT_SHARE` of their windows one exact colour and at least
    :data:`PLATEAU_CROPS` of their crops mostly one brightness."""
    if min(frames_uint8.shape[1:3]) < WINDOW:
        return False
    return flat_window_share(frames_uint8) >= FLAT_SHARE and plateau_crop_share(frames_uint8) >= PLATEAU_CROPS
