"""Real noisy/reference photo pairs as training clips (stdit_cli/train/real_pairs.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from stdit_cli.train.camera_noise import CameraNoiseMix
from stdit_cli.train.real_pairs import RealPairMix, load_real_pairs


def write_pairs(folder, cameras=("CamA", "CamB"), size=(40, 48), offset=9):
    """Per camera one pair: a smooth reference and the same plus ``offset`` (a noise of RMS ``offset``), as PNG bytes named .JPG."""
    y, x = np.mgrid[0 : size[0], 0 : size[1]]
    reference = np.stack([x * 2, y * 3, x + y], axis=-1).astype(np.uint8) + 40
    for camera in cameras:
        Image.fromarray(reference).save(folder / f"{camera}_1_mean.JPG", format="PNG")
        Image.fromarray(reference + offset).save(folder / f"{camera}_1_real.JPG", format="PNG")
    return reference


def clean_batch(batch=6, frames=3, size=16):
    return torch.rand(batch, 3, frames, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_the_picked_clips_become_still_crops_of_a_real_pair_at_its_measured_level(tmp_path):
    write_pairs(tmp_path)
    mix = RealPairMix.from_folder(tmp_path, ["CamA"], fraction=1.0)
    assert [name for _, _, name in mix.pairs] == ["CamA_1_real.JPG"] and mix.active
    clean = clean_batch()
    new_clean, noisy = mix.mix(clean, None, np.random.default_rng(0))
    assert noisy.picked.all() and new_clean.shape == clean.shape == noisy.y.shape
    # every frame of a clip is the same picture: a photo has one noise draw
    assert torch.equal(new_clean[:, :, :1].expand_as(new_clean), new_clean) and torch.equal(noisy.y[:, :, :1].expand_as(noisy.y), noisy.y)
    # noisy = reference + 9 on 0..255 everywhere, whatever the turn and flip of the crop
    torch.testing.assert_close((noisy.y - new_clean) * 127.5, torch.full_like(clean, 9.0), atol=1e-3, rtol=0)
    torch.testing.assert_close(noisy.sigma_255, torch.full((6,), 9.0))
    assert not torch.equal(new_clean, clean) and float(new_clean.min()) >= -1.0


def test_real_pairs_replace_only_their_share_and_keep_the_camera_clips_elsewhere(tmp_path):
    write_pairs(tmp_path)
    clean = clean_batch(64)
    camera = CameraNoiseMix(fraction=1.0, jpeg_fraction=0.0, shot_range=(2e-3, 4e-3)).noisy_clips(clean, np.random.default_rng(1))
    new_clean, noisy = RealPairMix.from_folder(tmp_path, ["CamB"], fraction=0.25).mix(clean, camera, np.random.default_rng(2))
    real = (noisy.sigma_255 == 9.0)
    assert 6 < int(real.sum()) < 26 and noisy.picked.all()  # the camera clips stay picked
    assert torch.equal(new_clean[~real], clean[~real]) and torch.equal(noisy.y[~real], camera.y[~real])
    assert not torch.equal(new_clean[real], clean[real])
    assert RealPairMix.from_folder(None, ["CamA"], fraction=0.25).active is False


def test_the_other_cameras_stay_for_validation_and_a_folder_without_the_cameras_is_refused(tmp_path):
    write_pairs(tmp_path)
    assert [name for *_, name in load_real_pairs(tmp_path, {"CamA"}, train=False)] == ["CamB_1_real.JPG"]
    with pytest.raises(ValueError, match="CamZ"):
        RealPairMix.from_folder(tmp_path, ["CamZ"], fraction=0.5)
    with pytest.raises(ValueError, match="square"):
        RealPairMix.from_folder(tmp_path, ["CamA"], fraction=1.0).mix(torch.zeros(2, 3, 3, 16, 24), None, np.random.default_rng(0))


def test_the_train_command_passes_the_real_pairs_to_the_config(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import stdit_cli.train.progress as progress
    from stdit_cli.cli import main

    seen = {}
    monkeypatch.setattr(progress, "run_with_progress", lambda config: seen.setdefault("config", config))
    result = CliRunner().invoke(main, ["train", "--model", "unet", "--data", f"frames:{tmp_path}", "--real-pairs", str(tmp_path),
                                       "--real-cameras", "CamA", "--real-cameras", "CamB", "--real-fraction", "0.3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert (config.real_pairs, config.real_cameras, config.real_fraction) == (str(tmp_path), ("CamA", "CamB"), 0.3)


def test_pairs_are_found_whatever_the_case_of_their_names_and_a_missing_reference_is_named(tmp_path):
    reference = write_pairs(tmp_path, cameras=("CamA",))
    (tmp_path / "CamA_1_real.JPG").rename(tmp_path / "CamA_1_Real.jpg")
    (tmp_path / "CamA_1_mean.JPG").rename(tmp_path / "CamA_1_MEAN.JPG")
    [(noisy, clean, name)] = load_real_pairs(tmp_path, {"CamA"}, train=True)
    assert name == "CamA_1_Real.jpg" and np.array_equal(clean, reference) and np.array_equal(noisy, reference + 9)
    (tmp_path / "CamA_1_MEAN.JPG").unlink()
    with pytest.raises(FileNotFoundError, match="no reference CamA_1_mean.jpg"):
        load_real_pairs(tmp_path, {"CamA"}, train=True)


def test_pairs_made_gray_are_gray_clips_labelled_as_the_pipeline_reads_them(tmp_path):
    # --camera-gray-fraction reaches the real pairs: an infrared camera's stills, real sensor noise in gray
    write_pairs(tmp_path)
    reads = []

    def reader(frames: np.ndarray) -> float:
        assert frames.shape == (3, 16, 16, 3) and np.array_equal(frames[..., 0], frames[..., 2])
        reads.append(frames)
        return 2.5

    clean = clean_batch()
    new_clean, noisy = RealPairMix.from_folder(tmp_path, ["CamA"], 1.0, gray_fraction=1.0, gray_level=reader).mix(clean, None, np.random.default_rng(0))
    for clips in (new_clean, noisy.y):
        assert torch.equal(clips[:, 0], clips[:, 1]) and torch.equal(clips[:, 0], clips[:, 2])
    assert len(reads) == 6 and torch.equal(noisy.sigma_255, torch.full((6,), 2.5))
    # measured instead when no reader is given: the gray pictures' difference (9 in every channel stays 9 in luma)
    _, measured = RealPairMix.from_folder(tmp_path, ["CamA"], 1.0, gray_fraction=1.0).mix(clean, None, np.random.default_rng(0))
    torch.testing.assert_close(measured.sigma_255, torch.full((6,), 9.0), atol=0.6, rtol=0)
