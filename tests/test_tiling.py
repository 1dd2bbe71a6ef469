"""Windows, tiles and blending: nothing lost, nothing duplicated, no seams."""

import numpy as np
import pytest
import torch

from stdit_cli.pipeline.tiling import StreamingBlender, TileGrid, WindowPlan, ramp_weights, reflect_index, tile_layout


def _chunks(video, chunk):
    for start in range(0, len(video), chunk):
        yield video[start : start + chunk]


def _run(video, window=5, overlap=2, tile=16, tile_overlap=4, batch=3, chunk=4, denoise=lambda u: u):
    blender = StreamingBlender(denoise, WindowPlan.from_overlap(window, overlap), tile, tile_overlap, batch)
    out = list(blender.run(_chunks(video, chunk)))
    return np.concatenate(out) if out else np.zeros((0,) + video.shape[1:], np.uint8)


@pytest.mark.parametrize("num_frames", [1, 2, 3, 7, 8, 13, 20])
@pytest.mark.parametrize("window,overlap", [(1, 0), (3, 0), (3, 1), (5, 0), (5, 2), (5, 4)])
@pytest.mark.parametrize("tile", [16, 64])  # 12 tiles, or one tile covering the frame
def test_identity_model_returns_input_bit_exactly(num_frames, window, overlap, tile):
    rng = np.random.default_rng(num_frames)
    video = rng.integers(0, 256, (num_frames, 37, 45, 3), dtype=np.uint8)
    out = _run(video, window=window, overlap=overlap, tile=tile)
    assert out.shape == video.shape and np.array_equal(out, video)


@pytest.mark.parametrize("num_frames,window,overlap,windows", [
    (30, 5, 0, 6),  # --fast: six windows, every frame denoised once (centring the first window on frame 0 took 7)
    (8, 5, 0, 2),  # the second window moves back to frames 3..7
    (13, 5, 0, 3),
    (6, 5, 1, 2),  # the default: frames 1..5 end the video
    (7, 5, 1, 2),
    (20, 5, 1, 5),  # windows at 0, 4, 8, 12, 15
    (3, 5, 1, 1),  # shorter than a window: one window, reflected at the end
])
@pytest.mark.parametrize("chunk", [1, 4, 50])
def test_windows_are_aligned_to_the_video_and_none_is_wasted(num_frames, window, overlap, windows, chunk):
    # the first window starts on frame 0 and the last ends on the last frame: no forward pass is
    # spent on reflected copies, whatever the chunking (the last window's start is only known
    # once the stream has ended)
    video = np.random.default_rng(0).integers(0, 256, (num_frames, 12, 16, 3), dtype=np.uint8)
    firsts = []

    def record(units):
        firsts.append(units[0, 0, :, 0, 0].clone())
        return units

    out = _run(video, window=window, overlap=overlap, tile=64, batch=1, chunk=chunk, denoise=record)
    plan = WindowPlan.from_overlap(window, overlap)
    assert np.array_equal(out, video) and len(firsts) == windows == plan.count(num_frames)
    # each window holds the frames its plan says, in order
    pixel = torch.from_numpy(video[:, 0, 0, 0]).float() / 127.5 - 1
    for k, seen in enumerate(firsts):
        start = plan.start(k, num_frames)
        expected = pixel[[reflect_index(start + i, num_frames) for i in range(window)]]
        assert torch.allclose(seen, expected), k
    assert plan.start(windows - 1, num_frames) + window >= num_frames


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_chunking_does_not_change_result(chunk):
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (11, 20, 24, 3), dtype=np.uint8)
    # a model whose output depends on the whole window and tile: blending must still be deterministic
    blur = lambda u: u.mean(dim=2, keepdim=True).expand_as(u) * 0.5 + u * 0.5  # noqa: E731
    ref = _run(video, chunk=50, denoise=blur)
    assert np.array_equal(_run(video, chunk=chunk, denoise=blur), ref)


def test_constant_video_stays_constant_with_any_window_model():
    video = np.full((9, 40, 50, 3), 77, dtype=np.uint8)
    # a model that returns a constant per unit, varying between units, would leave seams;
    # one that keeps constants constant must give back the constant everywhere
    out = _run(video, tile=16, tile_overlap=6, denoise=lambda u: u.mean(dim=(1, 2, 3, 4), keepdim=True).expand_as(u))
    assert np.array_equal(out, video)


@pytest.mark.parametrize("tile", [16, 64])  # 4 tiles, or one tile covering the frame
def test_blend_is_the_time_weighted_mean_of_the_windows(tile):
    # every unit of window k adds 0.07 * k (in [-1, 1] units) to its input: each emitted frame
    # must be the time-weighted mean of the offsets of the windows that cover it
    video = np.full((7, 20, 24, 3), 60, dtype=np.uint8)
    plan = WindowPlan.from_overlap(3, 1)
    tiles = len(TileGrid.cover(20, 24, tile, 4).starts)
    calls = []

    def offset(units):
        calls.append(None)
        return units + 0.07 * ((len(calls) - 1) // tiles)

    out = _run(video, window=3, overlap=1, tile=tile, batch=1, denoise=offset)
    weights = plan.weights().double()
    for frame in range(len(video)):
        starts = [plan.start(k, len(video)) for k in range(plan.count(len(video)))]
        covering = [(float(weights[frame - start]), 0.07 * k) for k, start in enumerate(starts) if 0 <= frame - start < plan.window]
        mean = sum(w * o for w, o in covering) / sum(w for w, _ in covering)
        assert np.all(out[frame] == np.round(60 + mean * 127.5)), frame


def test_blending_weights_distinguish_tiles():
    # a model that adds a different offset per unit: overlaps must average, not pick one unit
    video = np.full((6, 30, 30, 3), 100, dtype=np.uint8)
    calls = []

    def offset(units):
        calls.append(units.shape[0])
        bumps = torch.arange(units.shape[0], dtype=units.dtype).view(-1, 1, 1, 1, 1) * (20 / 127.5)
        return units + bumps

    out = _run(video, window=3, overlap=1, tile=16, tile_overlap=8, batch=4, denoise=offset)
    assert sum(calls) > 1 and max(calls) <= 4
    assert len(np.unique(out)) > 2  # averaged values between the unit offsets exist


def test_reflect_index_mirrors_without_repeating_edges():
    assert [reflect_index(i, 4) for i in range(-3, 8)] == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]
    assert reflect_index(-5, 1) == 0 and reflect_index(9, 1) == 0


def test_tiles_cover_frame_with_overlap():
    side, starts = tile_layout(100, 32, 8)
    assert side <= 32 and starts[0] == 0 and starts[-1] == 100 - side
    assert all(b - a <= side - 8 for a, b in zip(starts, starts[1:]))
    assert tile_layout(20, 32, 8) == (20, [0])
    # the fewest tiles, shrunk to share the length evenly
    assert tile_layout(1080, 1024, 16) == (548, [0, 532])
    w = ramp_weights(10, 4)
    assert w.min() > 0 and w.max() == 1 and torch.equal(w, w.flip(0))


def test_bad_overlap_rejected():
    with pytest.raises(ValueError):
        WindowPlan.from_overlap(5, 5)
    with pytest.raises(ValueError):
        StreamingBlender(lambda u: u, WindowPlan(5, 3), tile=16, tile_overlap=16, batch_size=1)


def test_frames_stream_through_in_bounded_memory():
    """Output keeps pace with input: a long video is never held whole."""
    rng = np.random.default_rng(3)
    consumed = 0

    def source():
        nonlocal consumed
        for _ in range(60):
            consumed += 1
            yield rng.integers(0, 256, (1, 12, 12, 3), dtype=np.uint8)

    blender = StreamingBlender(lambda u: u, WindowPlan.from_overlap(5, 2), tile=8, tile_overlap=2, batch_size=2)
    emitted, worst_lag = 0, 0
    for chunk in blender.run(source()):
        emitted += len(chunk)
        worst_lag = max(worst_lag, consumed - emitted)
    assert emitted == 60
    assert worst_lag <= 5 + 3 + 2  # one window, one stride, one batch of windows in flight
