"""The command line end to end, on files the tests make."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from fractions import Fraction

import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import make_video
from stdit_cli.cli import main
from stdit_cli.pipeline.adapters import MODEL_NAMES
from stdit_cli.video import VideoReader, probe_video


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _frames(path):
    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_help_lists_commands():
    result = _run("--help")
    assert result.exit_code == 0
    for command in ("denoise", "inspect-shapes", "train"):
        assert command in result.output


@pytest.mark.parametrize("option, value", [("--strength", "nan"), ("--eta", "nan"), ("--eta", "2"), ("--eta", "inf")])
def test_numbers_out_of_range_or_not_finite_are_usage_errors(tmp_path, option, value):
    # nan passes a plain FloatRange, and a DDIM eta above 1 turned every frame black
    result = CliRunner().invoke(main, ["denoise", str(tmp_path / "in.mp4"), option, value])
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output and "Traceback" not in result.output


def test_a_tile_overlap_past_half_the_tile_is_said(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=2, size="48x40")
    result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--sigma", "5", "--tile", "32", "--tile-overlap", "40", "--quiet")
    assert result.exit_code == 0 and "--tile-overlap 40 is more than half of --tile 32: tiles share 16 pixels" in result.output


@pytest.mark.parametrize("native", [False, True])
def test_fp16_on_a_cpu_without_fp16_hardware_is_said(tmp_path, identity_checkpoint, monkeypatch, native):
    import stdit_cli.pipeline.denoiser as denoiser

    monkeypatch.setattr(denoiser, "cpu_has_native_fp16", lambda: native)
    clip = make_video(tmp_path / "in.mp4", frames=2, size="48x40")
    result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--sigma", "5", "--device", "cpu", "--precision", "fp16", "--quiet")
    assert result.exit_code == 0
    assert ("--precision fp16 on this CPU runs in software" in result.output) == (not native)


def test_more_steps_than_the_level_allows_are_said(tmp_path, identity_checkpoint):
    # a low level starts the chain near its end: --steps 200 at sigma 5 runs one step per training step from there
    clip = make_video(tmp_path / "in.mp4", frames=2, size="48x40")
    result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--sigma", "5", "--steps", "200", "--json")
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == 0 and record["steps"] < 200
    said = f"--steps 200: at noise level 5.0 the diffusion starts at step {record['t_start']}, so {record['steps']} steps run"
    assert any(said in warning for warning in record["warnings"])
    few = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--sigma", "5", "--steps", "2", "--json", "-o", tmp_path / "two.mp4")
    assert json.loads(few.stdout.strip().splitlines()[-1])["warnings"] == []


@pytest.mark.parametrize("command", ["denoise", "inspect-shapes", "train"])
def test_help_text_is_printed_as_written(command):
    # Click prints help verbatim (no %-formatting): an escaped "%%" would reach the user as is
    result = _run(command, "--help")
    assert result.exit_code == 0
    assert "%%" not in result.output


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_inspect_shapes_json_for_every_model(model):
    result = _run("inspect-shapes", "--model", model, "--frames", "2", "--height", "17", "--width", "23", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    stages = {s["stage"] + ":" + s["name"]: s for s in report["stages"]}
    assert stages["decode:frames"]["shape"] == [2, 17, 23, 3]
    assert stages["normalise:video_bcthw"]["shape"] == [1, 3, 2, 17, 23]
    # a conv backbone (an edge margin) sees each unit mirrored outwards (2 px at least, to whole
    # multiples of its spatial_multiple), cropped back after; the transformers see the frames as they are
    from stdit_cli.pipeline.adapters import ADAPTERS

    adapter = ADAPTERS[model]
    assert ("edge margin:unit_bcthw" in stages) == (adapter.edge_margin > 0)
    unit_hw = [17, 23]
    if adapter.edge_margin > 0:
        unit_hw = stages["edge margin:unit_bcthw"]["shape"][-2:]
        assert unit_hw[0] >= 17 + 4 and unit_hw[1] >= 23 + 4
        assert stages["crop:x0_bcthw"]["shape"] == [1, 3, 2, 17, 23]
    assert stages["canonical output:eps_bcthw"]["shape"] == [1, 3, 2, *unit_hw]
    assert stages["back to frames:frames"]["shape"] == [2, 17, 23, 3]
    assert report["parameters"] > 0
    model_inputs = [s for s in report["stages"] if s["stage"] == "model input" and s["shape"]]
    # the canonical [B, C, T, H, W] unit in the backbone's own layout (its adapter's input_layout)
    sizes = dict(zip("BCTHW", [1, 3, 2, *unit_hw], strict=True))
    axes = re.findall(r"\([^)]*\)|\S+", adapter.input_layout)  # "(B T) C H W": B and T folded into one axis
    expected = [math.prod(sizes[name] for name in axis.strip("()").split()) for axis in axes]
    assert model_inputs[0]["shape"] == expected, (adapter.input_layout, model_inputs[0]["shape"])
    assert (report["token_grid"] is None) == (adapter.token_grid is None)


def test_inspect_shapes_table_and_video(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", frames=4, size="36x20")
    result = _run("inspect-shapes", "--model", "unet", "--video", clip)
    assert result.exit_code == 0, result.output
    assert "UNetSTIC" in result.output and "clip.mp4" in result.output


def test_inspect_shapes_of_trained_weights_shipped_or_a_checkpoint_folder(tmp_path):
    from safetensors import safe_open

    from stdit_cli.weights import shipped_checkpoint_dir

    clip = make_video(tmp_path / "clip.mp4", frames=5, size="36x20")
    for model in ("unet", "segdit"):
        result = _run("inspect-shapes", "--model", model, "--checkpoint", "shipped", "--video", clip, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        folder = shipped_checkpoint_dir(model)
        with safe_open(str(folder / "diffusion_pytorch_model.safetensors"), "pt") as weights:
            stored = sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())
        # the network `stdit denoise --model M` runs, not the random tiny preset
        assert (report["model"], report["preset"], report["parameters"]) == (model, f"weights/{model}", stored)
    # a checkpoint folder without --model: the backbone it holds, named by its path
    result = _run("inspect-shapes", "--checkpoint", str(shipped_checkpoint_dir("segdit")))
    assert result.exit_code == 0, result.output
    assert "SegDiTTransformer2DModel (segdit, " in result.output
    result = _run("inspect-shapes", "--checkpoint", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "checkpoint not found" in result.output and "Traceback" not in result.output
    result = _run("inspect-shapes", "--checkpoint", "shipped", "--config", "small")
    assert result.exit_code == 2 and "not both" in result.output


def test_inspect_shapes_unknown_preset_is_one_line_error():
    result = CliRunner().invoke(main, ["inspect-shapes", "--model", "unet", "--config", "huge"])
    assert result.exit_code == 2 and "unknown preset 'huge'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("text, message", [
    ("block_out_channels: [48, 64\n", "not valid YAML at line 2"),
    ("just: text\n", "UNetSTIC has no argument just"),
    ("patch_size: two\n", "patch_size should be a number (like its default, 1), got 'two'"),
    ("- 1\n- 2\n", "expected a mapping of constructor arguments, got list"),
])  # fmt: skip
@pytest.mark.parametrize("command", ["inspect-shapes", "train"])
def test_a_bad_preset_file_is_one_line_error(tmp_path, text, message, command):
    preset = tmp_path / "mine.yaml"
    preset.write_text(text)
    args = ["--model", "unet", "--config", str(preset)]
    if command == "train":
        args += ["--data", str(tmp_path), "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(main, [command, *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_non_square_pixels_keep_their_shape(tmp_path, identity_checkpoint, suffix):
    # DV/DVD-style anamorphic video: 32:27 pixels; without them the output plays squeezed
    square = make_video(tmp_path / "square.mp4", frames=3, size="48x32", audio=True)
    wide = tmp_path / "wide.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(square), "-c:a", "copy", "-c:v", "libx264",
                    "-vf", "setsar=32/27", str(wide)], check=True)  # fmt: skip
    assert probe_video(wide).sample_aspect_ratio == Fraction(32, 27) and probe_video(square).sample_aspect_ratio is None
    out = tmp_path / f"out{suffix}"
    result = _run("denoise", wide, "--checkpoint", identity_checkpoint, "--sigma", "5", "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    info = probe_video(out)
    assert info.sample_aspect_ratio == Fraction(32, 27) and info.has_audio and (info.width, info.height) == (48, 32)


def test_lossless_identity_round_trip_is_bit_exact(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=7, size="45x33", rate="30000/1001", audio=True)
    out = tmp_path / "out.mp4"
    result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--lossless", "--sigma", "20", "-o", out, "--quiet", "--tile", "32", "--tile-overlap", "8")
    assert result.exit_code == 0, result.output
    assert np.array_equal(_frames(out), _frames(clip))
    info = probe_video(out)
    assert (info.width, info.height, info.num_frames, info.fps, info.has_audio) == (45, 33, 7, Fraction(30000, 1001), True)


def test_output_is_stored_as_the_input_was(tmp_path, identity_checkpoint):
    # a lossless source (x264 -qp 0 in RGB, as the quality benchmarks store noisy clips) stays lossless
    # unasked; --lossy gives H.264 with the source's full-resolution colour; a 4:2:0 camera file gives 4:2:0
    source = make_video(tmp_path / "in.mp4", frames=5, size="48x32", lossless=True)
    camera = tmp_path / "camera-in.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(camera)], check=True)  # fmt: skip
    runs = {"auto": (source, []), "lossy": (source, ["--lossy"]), "camera": (camera, [])}
    records = {}
    for name, (clip, extra) in runs.items():
        result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--sigma", "20", "-o", tmp_path / f"{name}.mp4",
                      "--quiet", "--json", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        records[name] = json.loads(result.output.strip().splitlines()[-1])
    assert [records[name]["lossless"] for name in runs] == [True, False, False]
    assert np.array_equal(_frames(tmp_path / "auto.mp4"), _frames(source))
    assert [probe_video(tmp_path / f"{name}.mp4").pix_fmt for name in runs] == ["gbrp", "yuv444p", "yuv420p"]


def test_denoise_default_output_name_json_and_no_overwrite(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "my clip.mp4", frames=3)
    before = _sha(clip)
    result = _run("denoise", clip, "--checkpoint", trained_like_checkpoint, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    expected = tmp_path / "my clip.denoised.mp4"
    assert record["status"] == "ok" and record["output"] == str(expected) and expected.exists()
    assert record["sigma_estimated"] is True and record["frames"] == 3 and record["model"] == "unet"
    assert not np.array_equal(_frames(expected), _frames(clip))  # the perturbed model changed it
    again = _run("denoise", clip, "--checkpoint", trained_like_checkpoint, "--json")
    assert again.exit_code == 1 and "already exists" in again.output
    forced = _run("denoise", clip, "--checkpoint", trained_like_checkpoint, "--json", "--overwrite")
    assert forced.exit_code == 0
    assert _sha(clip) == before


def test_same_seed_same_bytes_with_ddpm(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=4)
    outputs = []
    for name, seed in (("a.mkv", 3), ("b.mkv", 3), ("c.mkv", 4)):
        args = ["denoise", clip, "--checkpoint", trained_like_checkpoint, "--scheduler", "ddpm", "--steps", "3",
                "--sigma", "30", "--seed", seed, "--lossless", "-o", tmp_path / name, "--quiet"]  # fmt: skip
        assert _run(*args).exit_code == 0
        outputs.append(_frames(tmp_path / name))
    assert np.array_equal(outputs[0], outputs[1]) and not np.array_equal(outputs[0], outputs[2])


def test_many_inputs_one_failure_does_not_stop_the_others(tmp_path, identity_checkpoint):
    good = make_video(tmp_path / "good.mp4", frames=3)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.mov"
    whole = make_video(tmp_path / "whole.mp4", frames=12).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole[: len(whole) // 2])
    audio_only = make_video(tmp_path / "tone.mkv", frames=3, audio=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(audio_only), "-vn", "-c:a", "copy",
                    str(tmp_path / "audio_only.mp4")], check=True)  # fmt: skip
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=32x32",
                    "-frames:v", "0", str(tmp_path / "zero_frames.mp4")], check=True)  # fmt: skip
    outdir = tmp_path / "out"
    outdir.mkdir()
    names = ["notes.mp4", "good.mp4", "empty.mkv", "missing.mov", "truncated.mp4", "audio_only.mp4", "zero_frames.mp4"]
    result = _run("denoise", *[tmp_path / n for n in names], "--checkpoint", identity_checkpoint, "-o", outdir, "--json")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    records = [json.loads(line) for line in result.output.strip().splitlines() if line.startswith("{")]
    assert [r["status"] for r in records] == ["failed", "ok", "failed", "failed", "failed", "failed", "failed"]
    assert all(n in r["input"] and "\n" not in (r.get("error") or "") for n, r in zip(names, records))
    assert sorted(p.name for p in outdir.iterdir()) == ["good.denoised.mp4"]
    assert text.read_text() == "this is not a video\n" and empty.read_bytes() == b""
    assert not missing.exists() and probe_video(good).num_frames == 3  # nothing made up, the good input intact


def test_bad_inputs_give_one_line_errors(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=3)
    cases = {
        "output is the input": ["-o", clip, "--overwrite"],
        "unwritable folder": ["-o", "/proc/"],
    }
    for label, extra in cases.items():
        result = _run("denoise", clip, "--checkpoint", identity_checkpoint, "--json", *extra)
        assert result.exit_code == 1, label
        record = json.loads(result.stdout.strip().splitlines()[-1])
        assert record["status"] == "failed" and "\n" not in record["error"], label
        assert f"error: {record['error']}" in " ".join(result.stderr.split()), label  # and for people, on stderr
    assert probe_video(clip).num_frames == 3


def test_checkpoint_that_does_not_match_model(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=2)
    result = CliRunner().invoke(main, ["denoise", str(clip), "--model", "stdit", "--checkpoint", str(identity_checkpoint)])
    assert result.exit_code == 2 and "holds a 'unet' model, not 'stdit'" in result.output
    broken = tmp_path / "broken"
    broken.mkdir()
    config = json.loads((identity_checkpoint / "config.json").read_text())
    config["block_out_channels"] = [c * 2 for c in config["block_out_channels"]]
    (broken / "config.json").write_text(json.dumps(config))
    (broken / "diffusion_pytorch_model.safetensors").write_bytes((identity_checkpoint / "diffusion_pytorch_model.safetensors").read_bytes())
    result = CliRunner().invoke(main, ["denoise", str(clip), "--checkpoint", str(broken)])
    assert result.exit_code == 2 and "does not match" in result.output and "Traceback" not in result.output


def test_real_noise_mode_without_real_weights_is_one_line(tmp_path):
    clip = make_video(tmp_path / "in.mp4", frames=2)
    out = tmp_path / "out.mp4"
    result = CliRunner().invoke(main, ["denoise", str(clip), "--model", "segdit", "--noise", "real", "-o", str(out)])
    assert result.exit_code == 2 and "no real-noise weights ship for --model segdit" in result.output
    assert "Traceback" not in result.output and not out.exists()
    # --noise auto falls back to the white-noise weights where no real-noise ones ship
    result = _run("denoise", clip, "--model", "segdit", "-o", out, "--json", "-q")
    assert result.exit_code == 0 and json.loads(result.output.strip().splitlines()[-1])["noise"] == "gaussian"


def test_usage_errors_exit_2(tmp_path):
    assert CliRunner().invoke(main, ["denoise"]).exit_code == 2
    assert CliRunner().invoke(main, ["denoise", "x.mp4", "--noise", "film"]).exit_code == 2
    assert CliRunner().invoke(main, ["denoise", "x.mp4", "--sigma", "loud"]).exit_code == 2
    assert CliRunner().invoke(main, ["denoise", "a.mp4", "b.mp4", "-o", str(tmp_path / "one.mp4")]).exit_code == 2


def test_json_reader_that_goes_away_does_not_stop_the_batch(tmp_path, identity_checkpoint):
    clips = [make_video(tmp_path / f"clip{i}.mp4", frames=3) for i in range(3)]
    command = [sys.executable, "-m", "stdit_cli", "denoise", *map(str, clips), "-o", str(tmp_path / "out"),
               "--checkpoint", str(identity_checkpoint), "--sigma", "10", "--json"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(process.stdout.readline())  # like `| head -1`: read one line, hang up
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert first["status"] == "ok"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"clip{i}.denoised.mp4" for i in range(3)]


def test_help_and_version_do_not_import_torch():
    # `stdit --help` in a shell loop should answer at once, not after torch's 1-3 s import
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from stdit_cli.cli import main\n"
        "for args in (['--version'], ['--help'], ['denoise', '--help'], ['train', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'decord', 'av') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_cli_model_names_are_the_registered_adapters():
    from stdit_cli.choices import MODEL_NAMES
    from stdit_cli.pipeline.adapters import ADAPTERS

    assert tuple(ADAPTERS) == MODEL_NAMES


def test_ensemble_is_reported_and_checked(tmp_path, trained_like_checkpoint):
    clip = make_video(tmp_path / "in.mp4", frames=3)
    # a clip this small gets eight views by default (as many as fit in one view's model time at 640x272)
    for extra, views in (((), 8), (("--ensemble", "2"), 2), (("--fast", "--ensemble", "4"), 4), (("--fast",), 1)):
        result = _run("denoise", clip, "--checkpoint", trained_like_checkpoint, *extra, "--sigma", "10", "--json", "--overwrite")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output.strip().splitlines()[-1])["ensemble"] == views, extra
    refused = _run("denoise", clip, "--checkpoint", trained_like_checkpoint, "--ensemble", "3", "-o", tmp_path / "x.mp4")
    assert refused.exit_code == 2 and "'3' is not one of" in refused.output and not (tmp_path / "x.mp4").exists()


_IMPORTS_PROBE = """
import sys
from click.testing import CliRunner
from stdit_cli.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
heavy = sorted(name for name in ("torch", "diffusers", "decord") if name in sys.modules)
print(result.exit_code, ",".join(heavy) or "-")
"""


@pytest.mark.parametrize("args, exit_code", [
    (["--help"], 0),
    (["denoise", "--help"], 0),
    (["denoise", "no/such/video.mp4"], 1),
    (["denoise", "--sigam", "25", "x.mp4"], 2),
])  # fmt: skip
def test_help_typos_and_missing_files_never_import_torch(tmp_path, args, exit_code):
    """A typo or a missing file is answered before torch (1-2 s of imports) is loaded."""
    done = subprocess.run([sys.executable, "-c", _IMPORTS_PROBE, *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(exit_code), "-"]


def test_the_model_loads_at_the_first_readable_input_and_a_bad_checkpoint_is_one_line(tmp_path):
    """A missing --checkpoint is a usage error before anything runs; unreadable inputs fail without
    the model being loaded (a broken checkpoint goes unnoticed); the first readable one loads it,
    and a broken checkpoint then stops the batch."""
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    missing = str(tmp_path / "missing")
    result = CliRunner().invoke(main, ["denoise", str(bad), "--checkpoint", missing, "--quiet"])
    assert result.exit_code == 2 and "does not exist" in result.output and "bad.mp4" not in result.output
    broken = tmp_path / "broken"
    broken.mkdir()
    result = CliRunner().invoke(main, ["denoise", str(bad), "--checkpoint", str(broken), "--quiet"])
    assert result.exit_code == 1
    assert "checkpoint" not in result.output and "bad.mp4" in result.output
    good = make_video(tmp_path / "good.mp4", frames=3, size="32x32")
    result = CliRunner().invoke(main, ["denoise", str(bad), str(good), "--checkpoint", str(broken), "--quiet"])
    assert result.exit_code == 2  # the checkpoint cannot be used: a usage error, whatever failed before
    assert result.output.strip().splitlines()[-1] == f"Error: {broken}: not a checkpoint folder (no config.json)"
    assert not (tmp_path / "good.denoised.mp4").exists()


def test_a_checkpoint_that_does_not_load_is_named_in_one_line(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "clip.mp4", frames=3, size="32x32")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "config.json").write_text((identity_checkpoint / "config.json").read_text())
    (junk / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00" * 4)
    result = CliRunner().invoke(main, ["denoise", str(clip), "--checkpoint", str(junk), "--quiet"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "internal error" not in result.output
    assert "diffusion_pytorch_model.safetensors: not a readable safetensors file" in result.output
    assert not (tmp_path / "clip.denoised.mp4").exists()


_DYNAMO_PROBE = """
import sys
from click.testing import CliRunner
from stdit_cli.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
print(result.exit_code, "torch._dynamo" in sys.modules, "diffusers" in sys.modules)
"""


def test_denoise_never_imports_torch_dynamo_without_compile(tmp_path, identity_checkpoint):
    """diffusers imports torch._dynamo (about 1 s) for a compile-only decorator, and its ModelMixin
    .to()/from_pretrained through its hooks: a denoise run without --compile touches none of it."""
    video = make_video(tmp_path / "in.mp4", frames=3)
    args = ["denoise", str(video), "--checkpoint", str(identity_checkpoint), "--quiet", "--sigma", "10"]
    done = subprocess.run([sys.executable, "-c", _DYNAMO_PROBE, *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ["0", "False", "True"]
    assert (tmp_path / "in.denoised.mp4").is_file()


def test_without_torch_dynamo_holds_back_only_that_module_and_only_inside():
    probe = """
import sys
from stdit_cli.startup import without_torch_dynamo
with without_torch_dynamo():
    import torch.nn
    try:
        import torch._dynamo
        print("imported")
    except ImportError:
        print("held back")
import torch._dynamo
print("torch._dynamo" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["held", "back", "True"]


def test_exit_quickly_flushes_keeps_the_code_and_skips_the_teardown():
    # the executable's exit once torch is loaded: what was printed arrives (stdout to a pipe is
    # block-buffered), the exit code is kept, and atexit/teardown work is skipped
    probe = """
import atexit, sys, threading
from stdit_cli.startup import exit_quickly, teardown_is_idle
print("before torch", teardown_is_idle())
import torch
release = threading.Event()
waiting = threading.Thread(target=release.wait)
waiting.start()
print("thread running", teardown_is_idle())
release.set()
waiting.join()
atexit.register(print, "teardown ran")
sys.stdout.write("idle " + str(teardown_is_idle()))
exit_quickly(3)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert done.stdout.splitlines() == ["before torch False", "thread running False", "idle True"]


def test_executable_exit_codes_after_the_model_loaded(tmp_path, identity_checkpoint):
    # one video denoised, one input that is no video: exit 1 from the quick exit, output in place
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    command = [sys.executable, "-m", "stdit_cli", "denoise", str(clip), str(bad), "-o", str(tmp_path / "out"),
               "--checkpoint", str(identity_checkpoint), "--sigma", "10", "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    statuses = [json.loads(line)["status"] for line in done.stdout.splitlines()]
    assert sorted(statuses) == ["failed", "ok"]
    assert (tmp_path / "out" / "clip.denoised.mp4").exists()


def test_lean_pipeline_import_skips_the_distribution_scan_only_inside():
    # diffusers maps import names to distributions at import (reading every installed RECORD);
    # inside the block the map is empty, diffusers still imports, and outside it the scan is back
    probe = """
import importlib.metadata as metadata
from stdit_cli.startup import lean_pipeline_import
with lean_pipeline_import():
    print(len(metadata.packages_distributions()))
    from diffusers.utils import import_utils
    print(len(import_utils._package_map), import_utils.is_torch_available())
print(len(metadata.packages_distributions()) > 10)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "True", "True"]
