"""Synthetic printed text and line graphics as clean training content.

Dense, sharp glyphs (a calendar, a page, a sign, a label, a product box) are what a noise-level
estimator trained on natural footage takes for noise: their edges are as fine as the noise and
cover the whole crop. Phones then sharpen them. :func:`render_glyph_crop` draws such content,
clean, for the estimator to learn that it is not noise: lines of random characters at several
sizes and colours (Pillow's bundled font, so the same seed gives the same pixels everywhere),
table rules and boxes, over a flat or graded background or over a photo crop, rendered at up to
twice the size and area-downscaled (anti-aliased small print), and at times sharpened with an
unsharp mask as a phone's pipeline does.
"""

from __future__ import annotations

import string
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

#: characters drawn: letters, digits and common punctuation
CHARACTERS = string.ascii_letters + string.digits + ".,:;-/()%&+"
#: font sizes in pixels at the rendering scale
FONT_SIZES = (8, 10, 12, 14, 18, 24, 32)
#: share of crops drawn over the given photo crop instead of a flat or graded background
OVER_PHOTO = 0.4
#: share of crops sharpened (unsharp mask, radius 0.7-1.5 px, 40-120%)
SHARPENED = 0.5


@lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, size=3))


def _contrasting(background: tuple[int, int, int], rng: np.random.Generator) -> tuple[int, int, int]:
    """A colour at least 60 levels of luma away from ``background``."""
    luma = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2]
    for _ in range(16):
        colour = _colour(rng)
        if abs(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] - luma) >= 60:
            return colour
    return (0, 0, 0) if luma > 127 else (255, 255, 255)


def _background(side: int, rng: np.random.Generator, photo: np.ndarray | None) -> tuple[Image.Image, tuple[int, int, int]]:
    """The canvas (``side`` x ``side`` RGB) and a representative colour of it."""
    if photo is not None and rng.random() < OVER_PHOTO:
        image = Image.fromarray(photo).resize((side, side), Image.BICUBIC)
        return image, tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(axis=0))
    base = _colour(rng)
    if rng.random() < 0.5:
        return Image.new("RGB", (side, side), base), base
    # a gentle linear gradient of up to 40 levels along a random direction
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * np.linspace(-1, 1, side)[None, :] + np.sin(angle) * np.linspace(-1, 1, side)[:, None]
    # [side, side] ramp -> [side, side, 3] around the base colour
    canvas = np.clip(np.asarray(base, np.float64) + rng.uniform(5, 20) * ramp[..., None], 0, 255)
    return Image.fromarray(np.round(canvas).astype(np.uint8)), base


def _draw_text(draw: ImageDraw.ImageDraw, side: int, background: tuple[int, int, int], rng: np.random.Generator) -> None:
    size = int(rng.choice(FONT_SIZES))
    font = _font(size)
    colour = _contrasting(background, rng)
    y = int(rng.integers(-size // 2, size))
    line_gap = size + int(rng.integers(1, max(2, size // 2)))
    while y < side:
        x = int(rng.integers(-size, size))
        while x < side:
            word = "".join(rng.choice(list(CHARACTERS), size=int(rng.integers(1, 9))))
            draw.text((x, y), word, fill=colour, font=font)
            x += int(draw.textlength(word, font=font)) + int(rng.integers(size // 3 + 1, size + 2))
        y += line_gap
        if rng.random() < 0.15:  # a new block: another size and colour
            size = int(rng.choice(FONT_SIZES))
            font, colour = _font(size), _contrasting(background, rng)
            line_gap = size + int(rng.integers(1, max(2, size // 2)))


def _draw_rules(draw: ImageDraw.ImageDraw, side: int, background: tuple[int, int, int], rng: np.random.Generator) -> None:
    """Table rules and boxes: thin straight lines of one colour."""
    colour = _contrasting(background, rng)
    width = int(rng.integers(1, 3))
    for _ in range(int(rng.integers(1, 6))):
        if rng.random() < 0.5:
            y = int(rng.integers(0, side))
            draw.line([(0, y), (side, y)], fill=colour, width=width)
        else:
            x = int(rng.integers(0, side))
            draw.line([(x, 0), (x, side)], fill=colour, width=width)
    if rng.random() < 0.5:
        left, top = (int(v) for v in rng.integers(0, side // 2, size=2))
        right, bottom = left + int(rng.integers(side // 4, side)), top + int(rng.integers(side // 4, side))
        draw.rectangle([left, top, right, bottom], outline=colour, width=width)


def render_glyph_crop(crop: int, rng: np.random.Generator, photo: np.ndarray | None = None) -> np.ndarray:
    """A clean ``[crop, crop, 3]`` uint8 crop of printed text and rules.

    ``photo`` (``[h, w, 3]`` uint8, optional) is drawn on instead of a flat or graded background in
    :data:`OVER_PHOTO` of the crops."""
    scale = float(rng.uniform(1.0, 2.0))
    side = max(crop, int(round(crop * scale)))
    image, background = _background(side, rng, photo)
    draw = ImageDraw.Draw(image)
    _draw_text(draw, side, background, rng)
    if rng.random() < 0.5:
        _draw_rules(draw, side, background, rng)
    if side != crop:
        image = image.resize((crop, crop), Image.BOX)  # area downscale: anti-aliased small print
    if rng.random() < SHARPENED:
        image = image.filter(ImageFilter.UnsharpMask(radius=float(rng.uniform(0.7, 1.5)), percent=int(rng.integers(40, 121)), threshold=0))
    return np.asarray(image, dtype=np.uint8).copy()
