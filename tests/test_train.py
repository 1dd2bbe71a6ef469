"""`stdit train` on tiny generated data: a few optimiser steps, checkpoints, exact resume."""

from __future__ import annotations

import json
import os

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file

from conftest import make_video
from stdit_cli.choices import MODEL_NAMES
from stdit_cli.cli import main
from stdit_cli.pipeline.sampler import DiffusionSampler, sigma_255_to_unit
from stdit_cli.presets import load_preset
from stdit_cli.train.data import ClipSampler, DataError, load_training_data, still_to_clip
from stdit_cli.train.objective import make_training_pair, sigma_loss_weight
from stdit_cli.weights import load_checkpoint


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A frame-sequence folder (a smooth moving gradient) and a folder of unrelated stills."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    seq = root / "seq" / "clip1"
    seq.mkdir(parents=True)
    yy, xx = np.mgrid[0:48, 0:56]
    for t in range(6):
        frame = np.stack([(xx + 2 * t) * 4 % 256, yy * 5 % 256, (xx + yy + t) * 2 % 256], axis=-1)
        iio.imwrite(seq / f"{t:05d}.png", frame.astype(np.uint8))
    stills = root / "stills"
    stills.mkdir()
    for i in range(3):
        iio.imwrite(stills / f"{i}.png", rng.integers(0, 256, (60, 70, 3), dtype=np.uint8))
    return root


def _train(out, data_root, steps, resume=None, stop_at=None, extra=()):
    args = ["train", "--model", "unet", "--config", "tiny", "--data", str(data_root / "seq"), "--data", str(data_root / "stills"),
            "--frames", "3", "--crop", "16", "--batch-size", "2", "--steps", str(steps), "--warmup", "1",
            "--checkpoint-every", "2", "--val-every", "2", "--out", str(out), "--seed", "5", "--device", "cpu"]  # fmt: skip
    if resume:
        args += ["--resume", resume]
    if stop_at:
        args += ["--stop-at", str(stop_at)]
    args += list(extra)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_data_kinds_are_detected(data_root):
    data = load_training_data([str(data_root / "seq"), str(data_root / "stills")])
    assert len(data.sequences) == 1 and data.sequences[0].shape == (6, 48, 56, 3)
    assert len(data.stills) == 3
    forced = load_training_data([f"stills:{data_root / 'seq'}"])
    assert len(forced.sequences) == 0 and len(forced.stills) == 6
    with pytest.raises(DataError):
        load_training_data([str(data_root / "nothing-here")])


def test_still_becomes_a_moving_clip():
    image = np.random.default_rng(1).integers(0, 256, (80, 90, 3), dtype=np.uint8)
    clip = still_to_clip(image, 5, np.random.default_rng(2))
    assert clip.shape[0] == 5 and clip.shape[1:3] == (80 - 48, 90 - 48)
    assert any(not np.array_equal(clip[0], clip[i]) for i in range(1, 5))


def test_sampler_clips_are_augmented_and_reproducible(data_root):
    data = load_training_data([str(data_root / "seq"), str(data_root / "stills")])
    a = ClipSampler(data, frames=3, crop=16, seed=7).batch(4)
    b = ClipSampler(data, frames=3, crop=16, seed=7).batch(4)
    assert a.shape == (4, 3, 3, 16, 16) and torch.equal(a, b) and a.min() >= -1 and a.max() <= 1


def _reference_clip(sampler: ClipSampler, sequences: list[np.ndarray], stills: list[np.ndarray]) -> np.ndarray:
    """The clip the sampler's numbers pick, cut with numpy on the host (how clips were made
    before they were cut on the training device)."""
    rng, t, crop = sampler.rng, sampler.frames, sampler.crop
    if rng.random() < sampler.still_fraction:
        still = stills[rng.integers(len(stills))]
        h, w = still.shape[:2]
        margin = min(24, (min(h, w) - crop) // 2)
        size = crop + 2 * margin
        top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        clip = still_to_clip(still[top : top + size, left : left + size], t, rng, max_shift=margin)
    else:
        sequence = sequences[rng.choice(len(sequences), p=sampler.sequence_weights)]
        start = rng.integers(0, len(sequence) - t + 1)
        clip = sequence[start : start + t]
    top, left = rng.integers(0, clip.shape[1] - crop + 1), rng.integers(0, clip.shape[2] - crop + 1)
    clip = clip[:, top : top + crop, left : left + crop]
    if rng.random() < 0.5:
        clip = clip[:, :, ::-1]
    if rng.random() < 0.5:
        clip = clip[:, ::-1]
    if rng.random() < 0.5:
        clip = clip[::-1]
    return clip


def test_sampler_cuts_on_the_device_exactly_the_clips_its_numbers_pick(data_root):
    # the crops are cut from tensors held on the training device; the same seed must give the
    # same clips as cutting the loaded arrays on the host (runs stay reproducible across devices)
    data = load_training_data([str(data_root / "seq"), str(data_root / "stills")])
    sampler = ClipSampler(data, frames=3, crop=16, seed=11)
    reference = ClipSampler(data, frames=3, crop=16, seed=11)
    sequences = [s for s in data.sequences if len(s) >= 3]
    stills = [s for s in data.stills if min(s.shape[:2]) >= 24]
    clips = sampler.batch(40)
    expected = np.stack([_reference_clip(reference, sequences, stills) for _ in range(40)])
    # [B, T, H, W, 3] -> [B, 3, T, H, W] in [-1, 1]
    expected = torch.from_numpy(expected.copy()).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
    assert torch.equal(clips, expected)
    assert sampler.sequences[0].data_ptr() == torch.from_numpy(data.sequences[0]).data_ptr()  # no copy on the CPU


def test_training_target_is_what_the_sampler_inverts():
    x = torch.rand(2, 3, 2, 8, 8) * 2 - 1
    sampler = DiffusionSampler(steps=1)
    sigma = torch.tensor([10.0, 40.0])
    pair = make_training_pair(x, sampler.alphas_cumprod, torch.Generator().manual_seed(0), sigma_255=sigma)
    for i in range(2):
        # the target epsilon, used as the model's prediction, gives back the clean clip in one step
        y = pair.x_t[i : i + 1] / sampler.alphas_cumprod[pair.timestep[i]].sqrt()
        assert pair.timestep[i] == sampler.start_timestep(float(sigma[i]))
        out = sampler.denoise(lambda s, t, i=i: pair.target[i : i + 1], y, float(sigma[i]))
        assert torch.allclose(out, x[i : i + 1], atol=1e-5)
    # the noisy clip holds real 8-bit values
    y_255 = (pair.x_t / sampler.alphas_cumprod[pair.timestep].sqrt().view(-1, 1, 1, 1, 1) + 1) * 127.5
    assert torch.allclose(y_255, y_255.round(), atol=1e-3)
    assert abs(float((y_255 / 127.5 - 1 - x)[1].std()) - sigma_255_to_unit(40)) < 0.03


def test_sigma_loss_weight_leaves_the_epsilon_loss_alone_at_power_0_and_favours_high_noise_above():
    sigma = torch.tensor([1.0, 10.0, 25.0, 50.0])
    assert torch.equal(sigma_loss_weight(sigma, 0.0), torch.ones(4))
    weight = sigma_loss_weight(sigma, 0.6)
    assert float(weight[2]) == pytest.approx(1.0)
    assert bool((weight.diff() > 0).all())
    assert float(weight[3] / weight[1]) == pytest.approx(5**0.6)


def test_sigma_weight_power_changes_training_and_is_recorded(tmp_path, data_root):
    _train(tmp_path / "plain", data_root, steps=2)
    _train(tmp_path / "weighted", data_root, steps=2, extra=["--sigma-weight-power", "1"])
    plain = load_file(tmp_path / "plain" / "diffusion_pytorch_model.safetensors")
    weighted = load_checkpoint(tmp_path / "weighted", "unet")
    assert weighted.metadata["train_config"]["sigma_weight_power"] == 1.0
    # same seed, same clips and noise: only the per-clip weights differ
    assert any(not torch.equal(plain[k], v) for k, v in weighted.model.state_dict().items())


def test_train_writes_loadable_checkpoints_and_resumes_exactly(tmp_path, data_root):
    mask = os.umask(0o022)
    try:
        _train(tmp_path / "straight", data_root, steps=4)
    finally:
        os.umask(mask)
    # readable by others as any new file here (safetensors alone writes 0600)
    modes = {path.relative_to(tmp_path).as_posix(): oct(path.stat().st_mode & 0o777) for path in (tmp_path / "straight").rglob("*") if path.is_file()}
    assert set(modes.values()) == {"0o644"}, modes
    # a run stopped at step 2 and resumed from its checkpoint ends with the same weights
    _train(tmp_path / "resumed", data_root, steps=4, resume=str(tmp_path / "straight" / "checkpoint-2"))
    straight = load_file(tmp_path / "straight" / "diffusion_pytorch_model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "diffusion_pytorch_model.safetensors")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    checkpoint = load_checkpoint(tmp_path / "straight" / "checkpoint-2", "unet")
    assert checkpoint.metadata["trained_steps"] == 2
    fresh = load_checkpoint(tmp_path / "straight", "unet")
    assert fresh.schedule["prediction_type"] == "epsilon"
    assert json.loads((tmp_path / "straight" / "train_config.json").read_text())["steps"] == 4
    # training moved the weights away from the zero-initialised output layer
    assert float(straight["conv_out.weight"].abs().sum()) > 0


def test_camera_noise_changes_training_is_recorded_and_resumes_exactly(tmp_path, data_root):
    camera = ["--camera-fraction", "0.5", "--camera-jpeg-fraction", "1"]
    _train(tmp_path / "plain", data_root, steps=4)
    _train(tmp_path / "camera", data_root, steps=4, extra=camera)
    _train(tmp_path / "resumed", data_root, steps=4, resume=str(tmp_path / "camera" / "checkpoint-2"), extra=camera)
    plain, camera_run, resumed = (load_file(tmp_path / run / "diffusion_pytorch_model.safetensors") for run in ("plain", "camera", "resumed"))
    assert any(not torch.equal(plain[k], camera_run[k]) for k in plain)  # same clips, other noise
    assert all(torch.equal(camera_run[k], resumed[k]) for k in camera_run)  # the camera noise's generator resumes too
    config = load_checkpoint(tmp_path / "camera", "unet").metadata["train_config"]
    assert config["camera_fraction"] == 0.5 and config["camera_jpeg_fraction"] == 1.0


def test_stop_at_ends_early_on_the_same_schedule_and_resume_finishes_it(tmp_path, data_root):
    _train(tmp_path / "straight", data_root, steps=4)
    _train(tmp_path / "boxed", data_root, steps=4, stop_at=2)
    assert load_checkpoint(tmp_path / "boxed", "unet").metadata["trained_steps"] == 2
    _train(tmp_path / "boxed", data_root, steps=4, resume="latest")
    straight = load_file(tmp_path / "straight" / "diffusion_pytorch_model.safetensors")
    boxed = load_file(tmp_path / "boxed" / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(straight[k], boxed[k]) for k in straight)


def test_init_from_starts_a_fine_tune_from_a_checkpoint(tmp_path, data_root):
    _train(tmp_path / "base", data_root, steps=2)
    base = load_file(tmp_path / "base" / "diffusion_pytorch_model.safetensors")
    # learning rate 0: the fine-tune's weights are exactly the ones it started from, not a fresh init
    _train(tmp_path / "still", data_root, steps=2, extra=["--init-from", str(tmp_path / "base"), "--lr", "0"])
    still = load_file(tmp_path / "still" / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(base[k], still[k]) for k in base)
    # a real fine-tune moves on from them, with its own step count and schedule
    _train(tmp_path / "tuned", data_root, steps=2, extra=["--init-from", str(tmp_path / "base"), "--crop", "24"])
    tuned = load_checkpoint(tmp_path / "tuned", "unet")
    assert tuned.metadata["trained_steps"] == 2
    assert tuned.metadata["train_config"]["init_from"] == str(tmp_path / "base")
    assert any(not torch.equal(base[k], v) for k, v in tuned.model.state_dict().items())


def test_a_fine_tune_stopped_part_way_goes_on_with_resume_latest_beside_init_from(tmp_path, data_root):
    # how scripts/train_defaults.sh runs every fine-tune stage: the same command again after a stop
    _train(tmp_path / "base", data_root, steps=2)
    stage = ["--init-from", str(tmp_path / "base")]
    _train(tmp_path / "straight", data_root, steps=4, resume="latest", extra=stage)  # no checkpoint yet: from the base
    _train(tmp_path / "boxed", data_root, steps=4, resume="latest", stop_at=2, extra=stage)
    result = _train(tmp_path / "boxed", data_root, steps=4, resume="latest", extra=stage)
    said = " ".join(result.output.split())  # Rich wraps long lines
    assert "resumed from" in said and "the run goes on" in said and "initialised from" not in said, said
    straight = load_checkpoint(tmp_path / "straight", "unet")
    boxed = load_checkpoint(tmp_path / "boxed", "unet")
    assert boxed.metadata["trained_steps"] == 4
    base = load_file(tmp_path / "base" / "diffusion_pytorch_model.safetensors")
    assert any(not torch.equal(base[k], v) for k, v in straight.model.state_dict().items())
    assert all(torch.equal(v, boxed.model.state_dict()[k]) for k, v in straight.model.state_dict().items())


def test_init_from_another_preset_is_a_one_line_error(tmp_path, data_root):
    _train(tmp_path / "base", data_root, steps=2)
    args = ["train", "--model", "unet", "--config", "small", "--data", str(data_root / "seq"), "--crop", "16",
            "--steps", "1", "--init-from", str(tmp_path / "base"), "--out", str(tmp_path / "x"), "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2  # a checkpoint that cannot be used: a usage error
    assert "different unet configuration" in result.output and "Traceback" not in result.output
    assert "--config tiny builds its network" in " ".join(result.output.split())  # the preset it was trained with
    assert len(result.output.strip().splitlines()) == 1


def test_init_from_shipped_fine_tunes_the_weights_stdit_denoise_runs(tmp_path, data_root):
    from stdit_cli.weights import shipped_checkpoint_dir

    shipped = load_file(shipped_checkpoint_dir("unet") / "diffusion_pytorch_model.safetensors")
    args = ["train", "--model", "unet", "--config", "halfres-wide", "--data", str(data_root / "seq"), "--frames", "3",
            "--crop", "16", "--batch-size", "1", "--steps", "1", "--lr", "0", "--val-every", "1",
            "--init-from", "shipped", "--out", str(tmp_path / "tuned"), "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    tuned = load_file(tmp_path / "tuned" / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(shipped[k].float(), tuned[k].float()) for k in shipped)  # lr 0: the shipped weights, not a fresh init
    # the CLI's default preset is not the shipped one: the error names the one that is
    result = CliRunner().invoke(main, [*args[:3], *args[5:-4], "--out", str(tmp_path / "small"), "--device", "cpu"])
    assert result.exit_code == 2 and "--config halfres-wide builds its network" in " ".join(result.output.split()), result.output


def test_init_partial_derives_another_configuration_from_the_shared_tensors(tmp_path, data_root):
    _train(tmp_path / "base", data_root, steps=2)
    lean = load_preset("unet", "tiny") | {"up_block_types": ["UpBlockST", "UpBlockST"]}  # no attention on the way up
    preset = tmp_path / "tiny-lean.yaml"
    preset.write_text(yaml.safe_dump(lean))
    derive = ["--config", str(preset), "--init-from", str(tmp_path / "base"), "--lr", "0"]
    # another configuration needs the explicit flag
    refused = CliRunner().invoke(main, ["train", "--model", "unet", "--data", str(data_root / "seq"), "--crop", "16", "--steps", "1",
                                        "--out", str(tmp_path / "x"), "--device", "cpu", *derive])  # fmt: skip
    assert refused.exit_code == 2 and "--init-partial" in refused.output and "Traceback" not in refused.output
    result = _train(tmp_path / "lean", data_root, steps=2, extra=[*derive, "--init-partial"])
    base = load_file(tmp_path / "base" / "diffusion_pytorch_model.safetensors")
    derived = load_file(tmp_path / "lean" / "diffusion_pytorch_model.safetensors")
    assert derived.keys() < base.keys()
    assert all(torch.equal(base[k], derived[k]) for k in derived)  # lr 0: exactly the shared tensors
    said = " ".join(result.output.split())
    assert "dropped from the checkpoint: up_blocks.0.layers.0, up_blocks.0.layers.1; freshly initialised: none" in said
    assert load_checkpoint(tmp_path / "lean", "unet").model.config.up_block_types == ["UpBlockST", "UpBlockST"]


def test_init_partial_copies_equal_shapes_and_reinitialises_the_others(tmp_path, data_root):
    _train(tmp_path / "base", data_root, steps=2)
    narrow = load_preset("unet", "tiny") | {"block_out_channels": [8, 8]}  # the lower level narrower: 16 -> 8
    preset = tmp_path / "tiny-narrow.yaml"
    preset.write_text(yaml.safe_dump(narrow))
    result = _train(tmp_path / "narrow", data_root, steps=2,
                    extra=["--config", str(preset), "--init-from", str(tmp_path / "base"), "--init-partial", "--lr", "0"])
    base = load_file(tmp_path / "base" / "diffusion_pytorch_model.safetensors")
    derived = load_file(tmp_path / "narrow" / "diffusion_pytorch_model.safetensors")
    copied = [k for k in derived if k in base and base[k].shape == derived[k].shape]
    reshaped = [k for k in derived if k in base and base[k].shape != derived[k].shape]
    assert copied and reshaped  # (8 -> 8 channels also needs no shortcut: dropped)
    assert all(torch.equal(base[k], derived[k]) for k in copied)  # lr 0: exactly the checkpoint's
    assert "conv_in.weight" in copied and "down_blocks.1.layers.0.resnet.conv1.weight" in reshaped
    said = " ".join(result.output.split())
    assert "down_blocks.1.layers.0" in said.split("another shape, freshly initialised: ")[1]


def test_init_partial_refuses_a_checkpoint_with_nothing_in_common(tmp_path, data_root):
    _train(tmp_path / "base", data_root, steps=2)
    args = ["train", "--model", "unet", "--config", "small", "--data", str(data_root / "seq"), "--crop", "16", "--steps", "1",
            "--init-from", str(tmp_path / "base"), "--init-partial", "--out", str(tmp_path / "x"), "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "no tensor of equal name and shape" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_backbone_trains_and_its_checkpoint_denoises(tmp_path, data_root, model):
    args = ["train", "--model", model, "--config", "tiny", "--data", str(data_root / "seq"), "--crop", "16",
            "--batch-size", "2", "--steps", "2", "--warmup", "1", "--checkpoint-every", "2", "--val-every", "2",
            "--out", str(tmp_path / model), "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    checkpoint = load_checkpoint(tmp_path / model, model)
    weights_after = load_file(tmp_path / model / "diffusion_pytorch_model.safetensors")
    assert checkpoint.metadata["trained_steps"] == 2 and any(float(w.abs().sum()) > 0 for w in weights_after.values())
    clip = make_video(tmp_path / "clip.mp4", frames=3, size="40x32")
    denoised = CliRunner().invoke(main, ["denoise", str(clip), "--checkpoint", str(tmp_path / model), "--sigma", "20", "--json",
                                         "-o", str(tmp_path / "out.mp4")], catch_exceptions=False)  # fmt: skip
    record = json.loads(denoised.stdout.strip().splitlines()[-1])
    assert denoised.exit_code == 0 and record["status"] == "ok" and record["model"] == model and record["frames"] == 3, denoised.output


def test_compressed_noise_changes_training_is_recorded_and_resumes_exactly(tmp_path, data_root):
    compressed = ["--compressed-fraction", "0.5", "--compressed-crf", "18", "24"]
    _train(tmp_path / "plain", data_root, steps=4)
    _train(tmp_path / "h264", data_root, steps=4, extra=compressed)
    _train(tmp_path / "resumed", data_root, steps=4, resume=str(tmp_path / "h264" / "checkpoint-2"), extra=compressed)
    plain, h264, resumed = (load_file(tmp_path / run / "diffusion_pytorch_model.safetensors") for run in ("plain", "h264", "resumed"))
    assert any(not torch.equal(plain[k], h264[k]) for k in plain)  # same clips, some of them encoded
    assert all(torch.equal(h264[k], resumed[k]) for k in h264)  # the encodes' generator resumes too
    config = load_checkpoint(tmp_path / "h264", "unet").metadata["train_config"]
    assert config["compressed_fraction"] == 0.5 and tuple(config["compressed_crf"]) == (18, 24)


def _train_result(out, data_root, *extra, data=None):
    args = ["train", "--model", "unet", "--config", "tiny", "--data", str(data or data_root / "seq"), "--frames", "3",
            "--crop", "16", "--batch-size", "2", "--steps", "2", "--warmup", "1", "--checkpoint-every", "1",
            "--val-every", "2", "--out", str(out), "--seed", "5", "--device", "cpu", *map(str, extra)]  # fmt: skip
    return CliRunner().invoke(main, args)


def _one_line_error(result, message):
    # the run's own log lines ("training data: ...") may come first; the error is one last line
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last, result.output


def test_an_earlier_run_is_resumed_or_refused_never_mixed(tmp_path, data_root):
    out = tmp_path / "run"
    assert _train_result(out, data_root).exit_code == 0
    # again without --resume: the two runs' checkpoints would mix
    _one_line_error(_train_result(out, data_root, "--seed", "7"), "holds an earlier run (its checkpoints up to step 2)")
    # a save stopped part-way (no state) and a folder kept by hand are not checkpoints of the run
    (out / "checkpoint-9").mkdir()
    (out / "checkpoint-9" / "config.json").write_text("{}")
    (out / "checkpoint-best").mkdir()
    result = _train_result(out, data_root, "--steps", "3", "--resume", "latest")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "resumed from" in said and "checkpoint-2 at step 2" in said
    assert not any(p.name.startswith(".checkpoint-") for p in out.iterdir())  # saves land whole, by rename


def test_training_input_errors_are_one_line(tmp_path, data_root):
    afile = tmp_path / "afile"
    afile.write_text("x")
    _one_line_error(_train_result(afile, data_root), "is a file, not a folder")
    _one_line_error(_train_result(afile / "sub", data_root), "is a file, not a folder")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "b.mp4").write_text("not a video")
    _one_line_error(_train_result(tmp_path / "r1", data_root, data=junk), "b.mp4")
    broken = tmp_path / "broken"
    broken.mkdir()
    for index, source in enumerate(sorted((data_root / "seq" / "clip1").iterdir())):
        (broken / f"f{index}.png").write_bytes(source.read_bytes())
    (broken / "f9.png").write_text("not a picture")
    _one_line_error(_train_result(tmp_path / "r2", data_root, data=broken), "f9.png: not a readable picture")
    result = _train_result(tmp_path / "r3", data_root, "--val", tmp_path / "missing")
    _one_line_error(result, "--val ")


def test_resuming_with_another_preset_is_one_line(tmp_path, data_root):
    out = tmp_path / "run"
    assert _train_result(out, data_root).exit_code == 0
    preset = tmp_path / "wider.yaml"
    preset.write_text(yaml.safe_dump({**load_preset("unet", "tiny"), "block_out_channels": [16, 24]}))
    args = ["train", "--model", "unet", "--config", str(preset), "--data", str(data_root / "seq"), "--frames", "3", "--crop", "16",
            "--batch-size", "2", "--steps", "3", "--out", str(out), "--device", "cpu", "--resume", "latest"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    # a checkpoint that does not fit the run asked for: a usage error (exit 2), like --init-from's
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "trained with another --config (block_out_channels" in result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("extra, message", [
    (["--scale-range", "2", "1"], "LOW 2 is above HIGH 1"),
    (["--camera-fraction", "1", "--camera-shot-range", "0.1", "0.001"], "LOW 0.1 is above HIGH 0.001"),
    (["--compressed-fraction", "1", "--compressed-crf", "40", "10"], "LOW 40 is above HIGH 10"),
    (["--lr", "-1"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--ema-decay", "2"], "--ema-decay"), (["--sigma-weight-power", "nan"], "--sigma-weight-power"),
    (["--init-from", "somewhere", "--resume", "elsewhere"], "give one of them"),
    (["--stop-at", "9"], "--stop-at 9 is past the run's end (--steps 2)"),
    (["--precision", "fp16"], "--precision fp16 trains on a CUDA GPU only"),
])  # fmt: skip
def test_training_options_that_cannot_work_are_usage_errors_before_any_work(tmp_path, data_root, extra, message):
    # each of these once ended in a traceback mid-run, or trained something else without a word
    result = _train_result(tmp_path / "run", data_root, *extra)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_training_on_a_missing_gpu_is_refused(tmp_path, data_root):
    # accelerate fell back to the CPU and the run's config said "cuda"
    result = _train_result(tmp_path / "run", data_root, "--device", "cuda")
    assert result.exit_code == 2 and "--device cuda: no CUDA device is available" in result.output, result.output


def test_options_a_run_would_ignore_are_said(tmp_path, data_root):
    result = _train_result(tmp_path / "run", data_root, "--real-fraction", "0.5", "--camera-h264-fraction", "0.5", "--teacher-weight", "0.5")
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert said == ["warning: --camera-h264-fraction acts only with --camera-fraction above 0; ignored",
                    "warning: --real-fraction acts only with --real-pairs FOLDER; ignored",
                    "warning: --teacher-weight acts only with --teacher CHECKPOINT; ignored"], said  # fmt: skip


def test_the_printed_hint_is_a_command_to_copy_and_a_missing_resume_is_named(tmp_path, data_root):
    out = tmp_path / "my [bold]run"  # a space and what Rich would read as markup
    result = _train_result(out, data_root)
    assert result.exit_code == 0, result.output
    hint = result.output.strip().splitlines()[-1]
    assert hint.endswith(f"use them with: stdit denoise --checkpoint '{out}' VIDEO"), hint
    result = _train_result(tmp_path / "other", data_root, "--resume", tmp_path / "missing")
    assert result.exit_code == 1 and f"--resume {tmp_path / 'missing'}: no such run or checkpoint folder" in result.output, result.output
    assert not (tmp_path / "other").exists()  # no empty --out left behind
    again = _train_result(out, data_root, "--resume", "latest")  # a finished run: said, not a `loss nan` bar
    assert again.exit_code == 0 and "already at step 2 of 2: nothing to train" in " ".join(again.output.split()), again.output
    fresh = _train_result(tmp_path / "fresh", data_root, "--resume", "latest")
    said = " ".join(fresh.output.split())  # Rich wraps long lines
    assert fresh.exit_code == 0 and "--resume latest: no checkpoint in" in said and "a fresh run starts" in said, said


def test_weights_labelled_by_an_estimator_are_saved_with_it(tmp_path, data_root):
    # --camera-gray-level learned: the labels are an estimator's readings, so the checkpoint carries
    # that estimator (level-estimator/) and `stdit denoise` reads its videos' levels with it
    from stdit_cli.weights import LEVEL_ESTIMATOR, level_estimator_of, load_checkpoint, shipped_checkpoint_dir

    out = tmp_path / "gray"
    _train(out, data_root, steps=2, extra=["--camera-fraction", "1.0", "--camera-gray-fraction", "1.0", "--camera-gray-level", "learned"])
    carried = level_estimator_of(load_checkpoint(out))
    shipped = shipped_checkpoint_dir("noise-estimator")
    assert carried == out / LEVEL_ESTIMATOR
    assert (carried / "diffusion_pytorch_model.safetensors").read_bytes() == (shipped / "diffusion_pytorch_model.safetensors").read_bytes()
    # labelled by RMS: no estimator comes along
    plain = tmp_path / "rms"
    _train(plain, data_root, steps=2, extra=["--camera-fraction", "1.0", "--camera-gray-fraction", "1.0"])
    assert level_estimator_of(load_checkpoint(plain)) is None
