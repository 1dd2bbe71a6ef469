"""Frame times of variable-frame-rate video (`stdit_cli.video.timeline`) and the writer that keeps them."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from stdit_cli.video import VideoReader, VideoWriter
from stdit_cli.video.caveats import what_is_lost
from stdit_cli.video.probe import probe_video
from stdit_cli.video.timeline import FrameTimes, is_variable_rate


def test_frame_times_from_packets_in_decode_order():
    # B-frames: packets in decode order, the stream starting at 1 s
    times = FrameTimes.from_packets([1000, 3000, 2000, 5000], [1000, 1000, 1000, 500], Fraction(1, 1000))
    assert times.pts == (0, 1000, 2000, 4000) and times.end == 4500  # the last frame shown for its 500
    assert times.seconds() == pytest.approx([0, 1, 2, 4])
    assert FrameTimes.from_packets([0, 10, 40], [10, 30, 0], Fraction(1, 100)).end is None  # no duration said


def test_frames_past_the_end_follow_the_last_interval():
    times = FrameTimes((0, 10, 40), Fraction(1, 100))
    assert [times.pts_of(i) for i in range(5)] == [0, 10, 40, 70, 100]
    assert [times.duration_of(i) for i in range(4)] == [10, 30, 30, 30]
    ended = FrameTimes((0, 10, 40), Fraction(1, 100), end=45)
    assert [ended.duration_of(i) for i in range(3)] == [10, 30, 5]


@pytest.mark.parametrize("pts", [[0], [0, 40, 40, 80], [0, None, 80]])
def test_packets_that_cannot_time_frames_one_by_one_give_none(pts):
    assert FrameTimes.from_packets(pts, [40] * len(pts), Fraction(1, 1000)) is None


def test_frame_times_refuse_an_unordered_timeline():
    with pytest.raises(ValueError, match="increase strictly"):
        FrameTimes((0, 20, 10), Fraction(1, 1000))
    with pytest.raises(ValueError, match="must come after the last frame"):
        FrameTimes((0, 20), Fraction(1, 1000), end=20)


def test_variable_rate_is_half_an_interval_off_an_even_spacing():
    even = np.arange(10) / 25
    assert not is_variable_rate(even + np.r_[0, 0.019, np.zeros(8)], Fraction(25))  # jitter under 20 ms
    assert is_variable_rate(np.r_[even[:5], even[5:] + 0.021], Fraction(25))  # a frame 21 ms late
    # two frames are enough to be off the rate: a 25 fps clip whose second frame comes 0.16 s in
    assert is_variable_rate(np.array([0.0, 0.16]), Fraction(25)) and not is_variable_rate(np.array([0.0, 0.04]), Fraction(25))


def test_times_that_cannot_be_kept_are_warned_about(tmp_path):
    info = probe_video(_clip(tmp_path / "even.mp4", [i / 25 for i in range(6)]))
    (message,) = what_is_lost(info, np.array([0, 0.04, 0.08, 0.3, 0.34, 0.38]))
    assert message.startswith("variable frame rate: frames are up to 180 ms away from a constant 25 fps")
    (message,) = what_is_lost(info, np.array([0, 0.04, 0.08, 0, 0.04, 0.08]))  # two clips joined
    assert message.startswith("its timestamps start again part-way (clips joined into one stream)")


def _clip(path, times_s, size=(32, 24), time_base=Fraction(1, 12800)):
    """A lossless clip whose frame i (a flat grey of 10 * i) is shown at ``times_s[i]``."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=25, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = *size, "rgb24"
        stream.codec_context.time_base = time_base
        for i, t in enumerate(times_s):
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 10 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = round(t / time_base), time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _shown_at_s(path) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return np.array(sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.size))


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_writer_stamps_each_frame_with_its_time(tmp_path, bit_depth):
    # a phone in low light: 30 fps, then 15, then 24
    times_s = [i / 30 for i in range(6)] + [0.2 + i / 15 for i in range(4)] + [0.4667 + i / 24 for i in range(4)]
    source = _clip(tmp_path / "phone.mp4", times_s)
    with VideoReader(source, bit_depth=bit_depth, backend="pyav") as reader:
        frames, frame_times, fps = reader.read(0, len(reader)), reader.frame_times(), reader.info.fps
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 32, 24, fps, frame_times=frame_times, bit_depth=bit_depth, lossless=True) as writer:
        writer.write(frames[:5])  # chunks: the times follow the frames across writes
        writer.write(frames[5:])
    assert _shown_at_s(out) == pytest.approx(np.array(times_s) - times_s[0], abs=1e-4)
    with VideoReader(out, bit_depth=bit_depth, backend="pyav") as reader:
        tolerance = 0 if bit_depth == 8 else 2**4  # 12-bit lossless HEVC in .mp4
        assert np.abs(reader.read(0, len(reader)).astype(int) - frames).max() <= tolerance


def test_timed_writer_that_fails_leaves_nothing(tmp_path):
    out = tmp_path / "out.mp4"
    times = FrameTimes((0, 10, 30), Fraction(1, 100))
    with pytest.raises(RuntimeError, match="the model failed"):
        with VideoWriter(out, 32, 24, Fraction(20), frame_times=times) as writer:
            writer.write(np.zeros((2, 24, 32, 3), np.uint8))
            raise RuntimeError("the model failed")
    assert list(tmp_path.iterdir()) == []
