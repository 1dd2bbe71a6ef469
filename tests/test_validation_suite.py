"""The validation suite's clip groups (scripts/validation_suite.py) on a stand-in data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from validation_suite import ANIM_COLOURS, SUITE, load_clip  # noqa: E402


@pytest.fixture
def davis_dir(tmp_path: Path) -> Path:
    """A DAVIS-shaped folder: one 854x480 sequence of smooth colour blobs over noise-free texture."""
    seq = tmp_path / "davis2016_val_480p" / "dog"
    seq.mkdir(parents=True)
    yy, xx = np.mgrid[0:480, 0:854]
    for t in range(3):
        frame = np.stack([128 + 100 * np.sin((xx + 7 * t) / 40), 128 + 90 * np.cos(yy / 30), 60 + 0.2 * xx], -1)
        frame[(xx - 300 - 5 * t) ** 2 + (yy - 240) ** 2 < 80**2] = (230, 40, 40)
        Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8)).save(seq / f"{t:05d}.jpg", quality=95)
    return tmp_path


def test_tiny_clips_are_qcif_area_downscales_of_the_centre_crop(davis_dir):
    clip = load_clip(davis_dir, "tiny/dog", 3)
    assert clip.shape == (3, 144, 176, 3) and clip.dtype == np.uint8
    # the centre crop is 587 px wide (11:9 of 480): its area average matches the clip's
    source = np.asarray(Image.open(davis_dir / "davis2016_val_480p" / "dog" / "00000.jpg")).astype(np.float64)
    left = (854 - 587) // 2
    assert abs(source[:, left : left + 587].mean() - clip[0].mean()) < 1.0
    assert abs(source.mean() - clip[0].mean()) > 1.0  # not the whole frame squeezed


def test_anim_clips_are_flat_colour_regions_from_a_palette_fixed_per_clip(davis_dir):
    pytest.importorskip("cv2")  # the benchmarks' extra (pip install -e ".[bench]")
    clip = load_clip(davis_dir, "anim/dog", 3)
    assert clip.shape == (3, 360, 640, 3) and clip.dtype == np.uint8
    assert np.array_equal(clip, load_clip(davis_dir, "anim/dog", 3))  # deterministic
    # the palette: the first frame's most frequent colours cover most of every frame (outlines and
    # their anti-aliasing are the rest), the same colours in every frame
    values, counts = np.unique(clip[0].reshape(-1, 3), axis=0, return_counts=True)
    palette = values[np.argsort(counts)[::-1][: ANIM_COLOURS + 1]]  # + the outline grey
    for frame in clip:
        in_palette = np.any(np.all(frame.reshape(-1, 1, 3) == palette[None], -1), -1)
        assert in_palette.mean() > 0.6
    # flat regions: most neighbouring pixels are equal (natural footage: almost none)
    frame = clip[0].astype(np.int16)
    assert np.mean(np.all(frame[:, 1:] == frame[:, :-1], -1)) > 0.5


def test_the_suite_lists_the_new_groups_once():
    assert len(set(SUITE)) == len(SUITE)
    assert {"tiny", "anim"} <= {name.split("/")[0] for name in SUITE}


def test_the_hd_clips_are_named_apart_from_the_suite_and_load_at_their_size(davis_dir):
    from validation_suite import EXTRA_CLIPS

    assert not set(EXTRA_CLIPS) & set(SUITE)  # never in a default suite run: the tools take minutes a clip there
    assert {"large/dog", "large1080/dog"} <= set(EXTRA_CLIPS)
    clip = load_clip(davis_dir, "large/dog", 2)
    assert clip.shape == (2, 720, 1280, 3) and clip.dtype == np.uint8


def test_the_quality_benchmark_accepts_the_hd_clips_by_name_and_refuses_unknown_ones(tmp_path, monkeypatch):
    import benchmark_quality

    monkeypatch.setattr(sys, "argv", ["benchmark_quality.py", "--sequences", "large/dog", "vid4/walk", "--sigmas", "25"])
    args = benchmark_quality.parse_args()
    assert args.sequences == ["large/dog", "vid4/walk"]
    monkeypatch.setattr(sys, "argv", ["benchmark_quality.py", "--sequences", "large/nonesuch"])
    with pytest.raises(SystemExit):
        benchmark_quality.parse_args()
