"""Pictures made in part and filmed in part (`stdit_cli.pipeline.made_areas`)."""

from __future__ import annotations

import numpy as np
import pytest
from test_flat_areas import _interface, _noisy, _textured

from stdit_cli.pipeline.made_areas import (
    BLOCK, MadeAreas, filmed_area, filmed_grid, filmed_weight, filmed_windows, made_parts,
)

#: where the webcam sits in :func:`_recording`: rows, columns
WEBCAM = (slice(112, 240), slice(144, 304))


def _recording(frames: int = 4, sigma: float = 12.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A 256x320 interface recording with a noisy filmed picture (128x160) at :data:`WEBCAM`: (recorded, clean)."""
    clean = _interface(frames, height=256, width=320)
    clean[(slice(None), *WEBCAM)] = _textured(frames, height=128, width=160, seed=seed)
    recorded = clean.copy()
    recorded[(slice(None), *WEBCAM)] = _noisy(clean[(slice(None), *WEBCAM)], sigma, seed)
    return recorded, clean


def test_text_and_flat_areas_are_made_and_noise_is_filmed():
    made = _interface(1, height=192, width=256)[0]
    assert not filmed_windows(made).any()
    noise = _noisy(np.full((192, 256, 3), 128, np.uint8), 8)
    assert filmed_windows(noise).all()
    # one level of noise leaves most pixels within two of the median: a plateau, as flat as it gets
    assert not filmed_windows(_noisy(np.full((192, 256, 3), 128, np.uint8), 0.7)).any()


def test_lone_filmed_squares_go_and_holes_in_a_filmed_part_fill():
    frame = _interface(1, height=192, width=256)[0].copy()
    frame[40:72, 40:72] = _noisy(np.full((32, 32, 3), 128, np.uint8), 10)  # an icon's worth: one square
    assert filmed_windows(frame).any() and not filmed_grid(frame).any()
    recorded, _ = _recording(1)
    flat_wall = recorded[0].copy()
    flat_wall[164:188, 212:236] = 90  # a flat wall inside the webcam
    grid = filmed_grid(flat_wall)
    inside = grid[WEBCAM[0].start // BLOCK : WEBCAM[0].stop // BLOCK - 1, WEBCAM[1].start // BLOCK : WEBCAM[1].stop // BLOCK - 1]
    assert inside.all()


def test_the_filmed_part_is_found_to_a_block():
    recorded, _ = _recording()
    rows, cols = filmed_area(recorded)
    for found, true in ((rows, WEBCAM[0]), (cols, WEBCAM[1])):
        assert abs(found.start - true.start) <= BLOCK and abs(found.stop - true.stop) <= BLOCK


def test_made_parts_tells_made_part_made_and_filmed_pictures_apart():
    recorded, _ = _recording()
    assert made_parts(_interface(4, height=256, width=320)) == (True, None)
    noise_free, filmed = made_parts(recorded)
    assert not noise_free and filmed is not None
    # filmed throughout: no area of one exact colour, so nothing is made
    assert made_parts(_noisy(_textured(4, height=256, width=320), 10)) == (False, None)
    # too small a filmed part (under 64x64) is no part: the picture reads as made
    small = _interface(4, height=256, width=320)
    small[:, 100:148, 150:198] = _noisy(_textured(4, height=48, width=48), 12)
    assert made_parts(small)[1] is None


def test_the_weight_is_one_in_the_filmed_part_and_zero_away_from_it():
    recorded, _ = _recording(1)
    weight = filmed_weight(recorded[0])
    assert weight.shape == recorded.shape[1:3] and weight.dtype == np.float32
    assert np.all(weight[128:224, 160:288] == 1.0)  # the webcam, a block in from its edges
    assert np.all(weight[:80] == 0.0) and np.all(weight[:, :112] == 0.0)
    assert filmed_weight(_interface(1, height=256, width=320)[0]) is None


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_made_areas_put_the_input_back_outside_the_filmed_part(dtype):
    recorded, _ = _recording(6)
    frames = recorded.astype(dtype) * (257 if dtype == np.uint16 else 1)
    made = MadeAreas()
    chunks = [frames[:4], frames[4:]]
    # a stand-in for the denoiser: every pixel changed by 10 levels
    denoised = [(chunk.astype(np.int64) + 10 * (257 if dtype == np.uint16 else 1)).clip(0, np.iinfo(dtype).max).astype(dtype)
                for chunk in made.noted(chunks)]  # fmt: skip
    out = np.concatenate(list(made.restored(denoised)))
    assert out.dtype == dtype and out.shape == frames.shape
    assert np.array_equal(out[:, :64], frames[:, :64])  # the interface, as it went in
    assert np.array_equal(out[:, 128:224, 160:288], np.concatenate(denoised)[:, 128:224, 160:288])  # the webcam, denoised


def test_a_frame_with_nothing_filmed_comes_out_as_it_went_in():
    frames = _interface(2, height=256, width=320)
    made = MadeAreas()
    out = np.concatenate(list(made.restored(chunk // 2 for chunk in made.noted([frames]))))
    assert np.array_equal(out, frames)
