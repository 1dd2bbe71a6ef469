"""Shot boundaries: an edited video's cuts split the frame stream, and no window spans one."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from stdit_cli.cli import main
from stdit_cli.pipeline.shots import frame_signature, shot_change, split_shots, with_signatures
from stdit_cli.video import VideoReader, VideoWriter


def _scene(count: int, tint: tuple[int, int, int], seed: int, height: int = 48, width: int = 64, speed: int = 0) -> np.ndarray:
    """A landscape in ``tint``'s colours (smooth hills, fine random texture), panning ``speed`` pixels a frame."""
    rng = np.random.default_rng(seed)
    canvas_width = width + count * speed
    y, x = np.mgrid[0:height, 0:canvas_width]
    hills = 0.5 + 0.25 * np.sin(x / 37 + seed) + 0.2 * np.sin(y / 23 + x / 61)
    texture = np.kron(rng.random((height // 4 + 1, canvas_width // 4 + 1)), np.ones((4, 4)))[:height, :canvas_width]
    canvas = (0.8 * hills + 0.2 * texture)[..., None] * np.array(tint) + 30  # [H, W', 3]
    return np.clip(np.stack([canvas[:, t * speed : t * speed + width] for t in range(count)]), 0, 255).astype(np.uint8)


def _noisy(frames: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noise = sigma * np.random.default_rng(seed).standard_normal(frames.shape)
    return np.clip(np.round(frames + noise), 0, 255).astype(np.uint8)


def _shots(frames: np.ndarray, chunk: int) -> list[int]:
    chunks = [frames[i : i + chunk] for i in range(0, len(frames), chunk)]
    lengths = []
    for shot in split_shots(with_signatures(chunks)):
        lengths.append(sum(len(c) for c in shot))
    return lengths


def test_a_cut_splits_the_stream_wherever_it_falls_and_keeps_every_frame():
    video = np.concatenate([_scene(6, (200, 120, 40), 1, speed=3), _scene(7, (40, 90, 210), 2, speed=3), _scene(3, (120, 200, 60), 3)])
    for chunk in (1, 3, 4, 6, 16):  # cuts inside chunks, on their edges, one chunk for all
        assert _shots(video, chunk) == [6, 7, 3], chunk
    chunks = [video[i : i + 4] for i in range(0, len(video), 4)]
    frames = np.concatenate([c for shot in split_shots(chunks) for c in shot])  # plain chunks too
    np.testing.assert_array_equal(frames, video)


def test_motion_and_heavy_noise_are_no_cut_and_a_cut_reads_through_noise():
    panning = _scene(12, (180, 140, 90), 4, height=96, width=128, speed=8)  # a sixteenth of the frame a step
    assert _shots(panning, 4) == [12]
    assert _shots(_noisy(panning, 50), 4) == [12]
    video = np.concatenate([_scene(5, (200, 120, 40), 1), _scene(5, (40, 90, 210), 2)])
    assert _shots(_noisy(video, 50), 4) == [5, 5]
    same = frame_signature(video[0])
    assert shot_change(same, same) == 0.0 and 0.0 < shot_change(same, frame_signature(video[-1])) <= 1.0
    deep = frame_signature(video[0].astype(np.uint16) * 257)  # 16-bit frames read alike
    assert shot_change(same, deep) < 1e-6


def test_light_that_changes_only_the_exposure_is_no_cut_and_a_cut_under_other_light_still_is():
    scene = _scene(24, (180, 140, 90), 4, height=96, width=128, speed=2).astype(np.float64)
    flicker = 1 + 0.08 * np.sin(np.arange(24) * 2.1)  # lamps against the shutter: up to 16% from frame to frame
    assert _shots(_noisy(scene * flicker[:, None, None, None], 8), 4) == [24]
    fade = np.linspace(0.0, 1.0, 24)  # a fade from black
    assert _shots(_noisy(scene * fade[:, None, None, None], 8), 4) == [24]
    # a cut to another scene that is also darker: still a cut
    other = 0.6 * _scene(8, (40, 90, 210), 2, height=96, width=128).astype(np.float64)
    assert _shots(_noisy(np.concatenate([scene[:8], other]), 8), 4) == [8, 8]


def _denoise(*args):
    return CliRunner().invoke(main, ["denoise", *map(str, args), "--quiet", "--json", "--lossless"], catch_exceptions=False)


def test_frames_before_a_cut_come_out_as_if_what_follows_were_not_there(tmp_path, trained_like_checkpoint):
    first, second = _noisy(_scene(7, (200, 120, 40), 1, speed=2), 10), _noisy(_scene(6, (40, 90, 210), 2, speed=2), 10, seed=1)
    outputs = {}
    for name, frames in (("first", first), ("both", np.concatenate([first, second]))):
        with VideoWriter(tmp_path / f"{name}.mkv", 64, 48, 25, lossless=True) as writer:
            writer.write(frames)
        # a model that changes its input and mixes frames: what a window holds shows in its output
        result = _denoise(tmp_path / f"{name}.mkv", "--checkpoint", trained_like_checkpoint, "--sigma", "10", "-o", tmp_path / f"{name}.out.mkv")
        assert result.exit_code == 0, result.output
        outputs[name] = json.loads(result.output.strip().splitlines()[-1])["shots"]
        with VideoReader(tmp_path / f"{name}.out.mkv") as reader:
            outputs[name + "_frames"] = reader.read(0, len(reader))
    assert (outputs["first"], outputs["both"]) == (1, 2)
    np.testing.assert_array_equal(outputs["both_frames"][:7], outputs["first_frames"])
    assert not np.array_equal(outputs["first_frames"], first)  # the model did change them


def test_a_folder_of_unrelated_photos_comes_out_as_each_photo_alone(tmp_path, trained_like_checkpoint):
    from PIL import Image

    folder = tmp_path / "trip"
    folder.mkdir()
    pictures = [_noisy(_scene(1, (200, 120, 40), 1), 10)[0], _noisy(_scene(1, (40, 90, 210), 2), 10, seed=1)[0],
                _noisy(_scene(1, (120, 200, 60), 3), 10, seed=2)[0]]  # fmt: skip
    for i, picture in enumerate(pictures):
        Image.fromarray(picture).save(folder / f"IMG_{i}.png")
    result = CliRunner().invoke(main, ["denoise", str(folder), "--checkpoint", str(trained_like_checkpoint), "--sigma", "10",
                                       "--quiet", "--json"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["shots"] == 3
    for i in range(3):  # the same photo denoised on its own (two views, as for any photo)
        alone = CliRunner().invoke(main, ["denoise", str(folder / f"IMG_{i}.png"), "-o", str(tmp_path / f"alone_{i}.png"),
                                          "--checkpoint", str(trained_like_checkpoint), "--sigma", "10", "--quiet"], catch_exceptions=False)  # fmt: skip
        assert alone.exit_code == 0, alone.output
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "trip.denoised" / f"IMG_{i}.png")),
                                      np.asarray(Image.open(tmp_path / f"alone_{i}.png")))  # fmt: skip


def test_each_shot_of_an_edited_video_is_denoised_at_its_own_noise_level(tmp_path, identity_checkpoint):
    # a dim room (sigma 25) cut to a sunny street (sigma 5), no number given
    room = _noisy(_scene(12, (90, 60, 40), 1, height=96, width=128, speed=2), 25)
    street = _noisy(_scene(12, (60, 150, 220), 2, height=96, width=128, speed=2), 5, seed=1)
    for name, frames in (("edit", np.concatenate([room, street])), ("room", room)):
        with VideoWriter(tmp_path / f"{name}.mkv", 128, 96, 25, lossless=True) as writer:
            writer.write(frames)
    result = CliRunner().invoke(main, ["denoise", str(tmp_path / "edit.mkv"), "--checkpoint", str(identity_checkpoint),
                                       "--noise", "gaussian", "--quiet", "--json"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["shots"] == 2
    room_level, street_level = record["shot_sigmas"]
    assert abs(room_level - 25) < 5 and abs(street_level - 5) < 2, record["shot_sigmas"]
    assert street_level < record["sigma"] < room_level  # the one level of the whole video fits neither
    one_scene = CliRunner().invoke(main, ["denoise", str(tmp_path / "room.mkv"), "--checkpoint", str(identity_checkpoint),
                                          "--noise", "gaussian", "--quiet", "--json"], catch_exceptions=False)  # fmt: skip
    assert json.loads(one_scene.output.strip().splitlines()[-1])["shot_sigmas"] is None  # one scene: the video's level
