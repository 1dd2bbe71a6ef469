"""Tests for opening a video (and reading its level sample) while the model loads (stdit_cli/pipeline/opening.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import make_still, make_video
from stdit_cli.pipeline.noise_level import estimate_sigma_255
from stdit_cli.pipeline.opening import SIGMA_SAMPLE_FRAMES, BackgroundOpening, open_video, same_picture
from stdit_cli.video import VideoError, VideoReader


def test_the_opening_holds_the_level_sample_and_its_leading_frames(tmp_path):
    path = make_video(tmp_path / "clip.mp4", frames=12, size="64x48", lossless=True)
    opening = open_video(path, read_level=True)
    with opening.reader:
        assert len(opening.sample) == len(opening.picks) == SIGMA_SAMPLE_FRAMES
        with VideoReader(path) as reference:
            every = reference.read(0, len(reference))
        np.testing.assert_array_equal(opening.sample, every[opening.picks])
        assert opening.white == pytest.approx(estimate_sigma_255(every[opening.picks]))
        # a short clip: the sample is its first frames, and the streaming pass starts after them
        np.testing.assert_array_equal(opening.leading, every[:SIGMA_SAMPLE_FRAMES])
    plain = open_video(path, read_level=False)  # --sigma N: the same frames, no level measured
    with plain.reader:
        assert plain.white is None and plain.binned is None
        np.testing.assert_array_equal(plain.sample, opening.sample)
        assert not plain.still  # moving test pattern


def test_a_still_is_one_picture_within_what_compression_leaves(tmp_path):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (1, 32, 48, 3), dtype=np.uint8)
    repeated = np.repeat(photo, 5, axis=0)
    assert same_picture(repeated) and same_picture(photo)  # a single frame is a still too
    wobble = repeated.astype(np.int16)
    wobble[1:] += rng.integers(-1, 2, wobble[1:].shape, dtype=np.int16)  # about 0.67 mean absolute change
    assert not same_picture(np.clip(wobble, 0, 255).astype(np.uint8))
    touched = repeated.copy()
    touched[2, :2, :2] = 255 - touched[2, :2, :2]  # four pixels differ (mean 0.2): still within the bound
    assert same_picture(touched)
    assert not same_picture(repeated[:0])

    opening = open_video(make_still(tmp_path / "still.mkv", size="64x48"), read_level=False)
    with opening.reader:
        assert opening.still


def test_a_background_opening_reads_the_same_and_hands_its_reader_over(tmp_path):
    path = make_video(tmp_path / "clip.mp4", frames=12, size="64x48", lossless=True)
    with BackgroundOpening(path, read_level=True) as background:
        opening = background.take()
    with opening.reader:
        expected = open_video(path, read_level=True)
        with expected.reader:
            np.testing.assert_array_equal(opening.sample, expected.sample)
            assert opening.white == expected.white
        assert len(opening.reader.read(0, 2)) == 2  # taken: still open after the block


def test_a_background_opening_not_taken_is_closed_and_its_error_reaches_the_caller(tmp_path):
    path = make_video(tmp_path / "clip.mp4", frames=6, size="64x48", lossless=True)
    with BackgroundOpening(path, read_level=True) as background:
        pass  # e.g. the model failed to load
    assert background._opening is not None
    with pytest.raises(Exception):  # closed: nothing to read from any more
        background._opening.reader.read(0, 1)

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with BackgroundOpening(broken, read_level=True) as background:
        with pytest.raises(VideoError):
            background.take()


def test_the_first_video_opens_while_torch_loads(tmp_path):
    """`stdit denoise` imports torch with the first video's opening thread already running."""
    path = make_video(tmp_path / "clip.mp4", frames=6, size="64x48", lossless=True)
    probe = f"""
import sys, threading
import stdit_cli.batch.runner as runner
import stdit_cli.pipeline.opening as opening
seen, gate = {{}}, threading.Event()
original_open, original_ready = opening.open_video, runner._Batch.ready_denoiser
def open_video(*args, **kwargs):
    seen["opened in"] = threading.current_thread().name
    gate.wait(60)  # held until the model starts loading: both are then under way at once
    return original_open(*args, **kwargs)
def ready(self):
    seen["torch before"] = "torch" in sys.modules
    gate.set()
    return original_ready(self)
opening.open_video, runner._Batch.ready_denoiser = open_video, ready
from stdit_cli.cli import main
try:
    main(["denoise", {str(path)!r}, "-o", {str(tmp_path / "out.mp4")!r}, "--quiet"])
except SystemExit:
    pass
print(seen)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120).stdout
    assert "'torch before': False" in out, out
    assert "'opened in': 'stdit-open'" in out, out
    assert (tmp_path / "out.mp4").is_file()


def test_a_short_clip_that_opens_on_a_title_card_is_sampled_past_it(tmp_path):
    # one GOP of 30 frames (a phone's short clip, x264's default keyframe interval): its first 8 frames
    # were the whole sample, so a title card (or a fade from black) before noisy footage read as no noise
    import imageio_ffmpeg

    rng = np.random.default_rng(0)
    card = np.full((10, 48, 64, 3), (30, 60, 140), np.uint8)
    footage = np.clip(rng.normal(128, 15, (20, 48, 64, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "intro.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x48", "-r", "25",
                    "-i", "-", "-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv444p", str(path)],
                   input=np.concatenate([card, footage]).tobytes(), check=True)  # fmt: skip
    opening = open_video(path, read_level=True)
    with opening.reader:
        assert opening.reader.keyframes() == [0]
        assert max(opening.picks) >= 20 and np.count_nonzero(opening.picks >= 10) >= 4
        assert opening.white > 5  # the footage's noise is in the sample (the card alone reads about 0)
        assert not opening.noise_free
