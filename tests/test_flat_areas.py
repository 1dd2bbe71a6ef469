"""Bars and made pictures, found before a noise level is read (`stdit_cli.pipeline.flat_areas`)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from stdit_cli.pipeline.flat_areas import FLAT_SHARE, flat_window_share, noise_free, picture, picture_bounds, plateau_crop_share
from stdit_cli.pipeline.opening import level_frames, white_levels
from stdit_cli.video import VideoInfo


def _textured(frames: int = 4, height: int = 144, width: int = 192, seed: int = 0) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 smooth-ish colour texture, moving a pixel a frame: filmed-looking, no flat patch."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, (height + 16, width + 16 + frames, 3))
    kernel = np.ones(5) / 5
    for axis in (0, 1):
        base = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, base)
    base = 128 + 60 * base / base.std()
    return np.clip(np.stack([base[8 : 8 + height, t : t + width] for t in range(frames)]), 0, 255).round().astype(np.uint8)


def _noisy(clean: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, clean.shape)
    return np.clip(clean + noise, 0, 255).round().astype(np.uint8)


def _interface(frames: int = 4, height: int = 144, width: int = 192) -> np.ndarray:
    """``[T, H, W, 3]`` uint8: a window of an application (title bar, panel, lines of text, a button), scrolling."""
    pages = []
    for t in range(frames):
        page = Image.new("RGB", (width, height), (243, 243, 243))
        draw = ImageDraw.Draw(page)
        draw.rectangle([0, 0, width, 14], fill=(32, 96, 200))
        draw.text((4, 2), "Settings", fill=(255, 255, 255))
        draw.rectangle([8, 20, width - 8, height - 8], fill=(250, 250, 250), outline=(200, 200, 200))
        for line in range(12):
            top = 26 + 14 * line - 2 * t
            if 20 < top < height - 22:
                draw.text((14, top), ["denoise the video", "window level noise", "camera frames"][line % 3], fill=(40, 40, 40))
        draw.rectangle([width - 60, height - 26, width - 14, height - 12], fill=(32, 96, 200))
        pages.append(np.asarray(page))
    return np.stack(pages)


def _info(height: int, width: int) -> VideoInfo:
    return VideoInfo(path=Path("clip.mkv"), width=width, height=height, num_frames=4, fps=Fraction(25), has_audio=False,
                     codec="ffv1", duration_s=0.16, pix_fmt="bgr0")  # fmt: skip


def test_letterbox_and_pillarbox_bars_are_cut_and_the_picture_kept():
    clip = _noisy(_textured(), 10)
    boxed = np.zeros((4, 144 + 40, 192 + 60, 3), np.uint8)
    boxed[:, 24 : 24 + 144, 30 : 30 + 192] = clip  # bars of black, uneven, around the picture
    rows, cols = picture_bounds(boxed)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (24, 168, 30, 222)
    assert np.array_equal(picture(boxed), clip)
    assert picture(clip).shape == clip.shape  # nothing to cut: the whole frame
    flat = np.full((2, 64, 64, 3), 128, np.uint8)
    assert picture(flat).shape == flat.shape  # a frame of one colour is not all bars


def test_subtitles_in_a_letterbox_bar_are_cut_with_it_and_a_small_video_on_a_canvas_is_kept():
    clip = _noisy(_textured(height=96), 10)
    boxed = np.zeros((4, 96 + 80, 192, 3), np.uint8)
    boxed[:, 30:126] = clip
    band = Image.new("RGB", (192, 30))
    ImageDraw.Draw(band).text((30, 10), "I never said she stole it.", fill=(255, 255, 255))
    boxed[:, 136:166] = np.asarray(band)  # a subtitle, in the bottom bar
    rows, cols = picture_bounds(boxed)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (30, 126, 0, 192)
    canvas = np.full((4, 400, 400, 3), 90, np.uint8)
    canvas[:, 100:244, 100:276] = _noisy(_textured(height=144, width=176), 10)  # 176x144 in the middle of 400x400
    assert np.array_equal(picture(canvas), canvas[:, 100:244, 100:276])
    # as H.264 leaves a canvas: a few of its pixels a level or two off in some frames
    rng = np.random.default_rng(3)
    off = rng.random(canvas.shape[:3]) < 0.01
    off[:, 100:244, 100:276] = False
    canvas[off] += rng.integers(1, 3, (int(off.sum()), 1), dtype=np.uint8)
    assert np.array_equal(picture(canvas), canvas[:, 100:244, 100:276])


def test_a_row_that_is_one_colour_in_only_some_frames_is_picture():
    clip = _noisy(_textured(), 10)
    clip[0, :5] = 0  # the first frame fades in from the top
    assert picture(clip).shape == clip.shape


def test_the_level_of_a_letterboxed_video_is_read_on_its_picture():
    # bars read as no noise: patch PCA on the whole frame read 10-35% low on camera and white noise
    clip = _noisy(_textured(frames=4, height=96, width=160), 25)
    boxed = np.zeros((4, 96 + 64, 160, 3), np.uint8)
    boxed[:, 32:128] = clip
    alone, _ = white_levels(clip, chroma_subsampled=False)
    whole_frame, _ = white_levels(boxed, chroma_subsampled=False)
    inside, _ = white_levels(level_frames(boxed, _info(160, 160)), chroma_subsampled=False)
    assert whole_frame < 0.95 * alone  # the failure the cut removes
    assert inside == pytest.approx(alone, rel=1e-6)


def test_the_learned_level_of_a_letterboxed_video_is_read_on_its_picture():
    from stdit_cli.pipeline.learned_level import LearnedNoiseLevel

    estimator = LearnedNoiseLevel.shipped()
    clip = _noisy(_textured(frames=4, height=128, width=192), 12)
    boxed = np.zeros((4, 128 + 64, 192, 3), np.uint8)
    boxed[:, 32:160] = clip
    alone = estimator.estimate(clip)
    assert estimator.estimate(boxed) < 0.9 * alone  # crops of the bars read as no noise
    assert estimator.estimate(level_frames(boxed, _info(192, 192))) == pytest.approx(alone, rel=1e-4)


def _blur_filled(picture: np.ndarray, height: int, width: int, radius: float = 12) -> np.ndarray:
    """``[T, h, w, 3]`` in the middle of a ``height x width`` frame over its enlarged copy blurred by ``radius``."""
    from PIL import ImageFilter

    _, rows, cols, _ = picture.shape
    scale = max(width / cols, height / rows)
    out = np.empty((len(picture), height, width, 3), np.uint8)
    top, left = (height - rows) // 2, (width - cols) // 2
    for index, frame in enumerate(picture):
        big = Image.fromarray(frame).resize((int(round(cols * scale)), int(round(rows * scale))), Image.BILINEAR)
        x, y = (big.width - width) // 2, (big.height - height) // 2
        out[index] = np.asarray(big.crop((x, y, x + width, y + height)).filter(ImageFilter.GaussianBlur(radius)))
        out[index, top : top + rows, left : left + cols] = frame
    return out


@pytest.mark.parametrize("portrait", [True, False])
def test_a_video_on_a_blurred_copy_of_itself_is_read_inside_the_blur(portrait):
    # a portrait phone video in a landscape frame (or the reverse) over its own blurred copy: the blur
    # took the noise out of the fill, which read the whole frame's level at about half the picture's
    shape, frame = ((160, 96), (160, 288)) if portrait else ((96, 160), (288, 160))
    clip = _noisy(_textured(frames=4, height=shape[0], width=shape[1]), 15)
    filled = _blur_filled(clip, *frame)
    rows, cols = picture_bounds(filled)
    top, left = (frame[0] - shape[0]) // 2, (frame[1] - shape[1]) // 2
    for found, start, length in ((rows, top, shape[0]), (cols, left, shape[1])):
        assert abs(found.start - start) <= 3 and abs(found.stop - (start + length)) <= 3
    alone, _ = white_levels(clip, chroma_subsampled=False)
    whole_frame, _ = white_levels(filled, chroma_subsampled=False)
    inside, _ = white_levels(level_frames(filled, _info(*frame)), chroma_subsampled=False)
    assert whole_frame < 0.8 * alone  # the failure the cut removes
    assert inside == pytest.approx(alone, rel=0.1)


def test_a_frame_with_made_areas_is_not_cut_at_blurred_bands():
    # a banner or a logo over the video (flat graphics: made areas) is for `made_areas`, which keeps
    # it as it is: cut at blurred bands, the frame read its video alone and the banner was denoised
    clip = _noisy(_textured(frames=4, height=160, width=96), 15)
    filled = _blur_filled(clip, 160, 288)
    assert picture_bounds(filled) != (slice(0, 160), slice(0, 288))  # cut, as above
    bannered = filled.copy()
    bannered[:, 118:150] = (20, 60, 140)  # a news banner across the frame
    bannered[:, 126:142, 20:260:12] = 255  # its lettering
    assert flat_window_share(bannered) >= FLAT_SHARE
    assert picture_bounds(bannered) == (slice(0, 160), slice(0, 288))


def test_smooth_sides_of_a_filmed_picture_are_not_cut():
    # one smooth side (a sky, a wall) is no blurred band: the two must come in a pair around a centred picture
    clip = _noisy(_textured(frames=4, height=96, width=192), 10)
    one_sided = clip.copy()
    one_sided[:, :, :40] = 120  # flat, then noise of 1: smooth but filmed
    one_sided[:, :, :40] = _noisy(one_sided[:, :, :40], 1)
    assert picture_bounds(one_sided) == (slice(0, 96), slice(0, 192))
    assert picture_bounds(clip) == (slice(0, 96), slice(0, 192))


def test_an_interface_recording_reads_as_noise_free():
    clip = _interface()
    inside = picture(clip)
    assert flat_window_share(inside) > 0.05 and plateau_crop_share(inside) > 0.9
    assert noise_free(inside)


@pytest.mark.parametrize("sigma", [3, 10])
def test_the_same_interface_with_noise_does_not(sigma):
    assert not noise_free(picture(_noisy(_interface(), sigma)))


def test_filmed_texture_clean_or_noisy_does_not():
    assert not noise_free(picture(_textured()))
    assert not noise_free(picture(_noisy(_textured(), 5)))


def test_clipped_highlights_and_shadows_in_noisy_footage_are_not_flat_areas():
    clip = _noisy(_textured(), 10)
    clip[:, :48, :96] = 255  # a blown-out window
    clip[:, 96:, 96:] = 0  # crushed shadows
    assert flat_window_share(picture(clip)) == 0.0
    assert not noise_free(picture(clip))


def test_noisy_video_beside_flat_graphics_keeps_its_noise():
    # a lower-third banner and an interface panel beside a noisy picture: flat windows there, but the
    # picture's crops are not mostly one brightness
    clip = _noisy(_textured(height=144, width=192), 8)
    clip[:, 112:136] = (20, 60, 140)  # a banner across the bottom
    clip[:, 118:130, 20:120] = 255  # its text, as a white bar
    assert flat_window_share(picture(clip)) > 0.01
    assert not noise_free(picture(clip))
    beside = np.concatenate([clip, _interface(height=144, width=96)], axis=2)  # a video in half an interface
    assert not noise_free(picture(beside))
