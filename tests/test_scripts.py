"""The shell scripts: shellcheck-clean, and run for real on folders the tests make."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from conftest import make_video
from stdit_cli.video import VideoReader, probe_video

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def shell_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "STDIT": f"{sys.executable} -m stdit_cli", **extra}


def read_all(path: Path) -> np.ndarray:
    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


def test_scripts_are_shellcheck_clean():
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    scripts = sorted(str(p) for p in SCRIPTS.glob("*.sh"))
    assert {"denoise_dir.sh", "slurm_denoise.sh"} <= {Path(p).name for p in scripts}
    result = subprocess.run([shellcheck, "--severity=style", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_denoise_dir_keeps_the_tree_and_resumes(tmp_path, identity_checkpoint):
    footage = tmp_path / "my footage"
    (footage / "day 1" / "caméra ü").mkdir(parents=True)
    (footage / "day 2").mkdir()
    make_video(footage / "day 1" / "caméra ü" / "take one.MOV", frames=3, size="24x16", lossless=True)
    make_video(footage / "day 2" / "b.mp4", frames=2, size="24x16", lossless=True)
    make_video(footage / "day 2" / "new\nline.mkv", frames=2, size="24x16", lossless=True)
    make_video(footage / "top.denoised.mp4", frames=2, size="24x16")  # an earlier result: not an input
    (footage / "day 2" / "broken.mp4").write_text("not a video\n")
    (footage / "notes.txt").write_text("not a video either, and not a video name\n")
    out = footage / "denoised"  # inside the input folder: never taken for inputs
    before = {p: p.read_bytes() for p in footage.rglob("*") if p.is_file()}
    script = [str(SCRIPTS / "denoise_dir.sh"), str(footage), str(out), "--checkpoint", str(identity_checkpoint),
              "--lossless", "--sigma", "5", "--quiet"]  # fmt: skip
    first = subprocess.run(script, env=shell_env(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stderr  # broken.mp4
    assert "stdit: 4 videos under" in first.stderr and "broken.mp4: not a readable video" in first.stderr
    outputs = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert outputs == ["day 1/caméra ü/take one.denoised.mp4", "day 2/b.denoised.mp4", "day 2/new\nline.denoised.mp4",
                       "stdit-report.jsonl"]  # fmt: skip
    # the options went through: --lossless with the identity model gives the input frames back
    np.testing.assert_array_equal(read_all(out / "day 2" / "b.denoised.mp4"), read_all(footage / "day 2" / "b.mp4"))
    second = subprocess.run(script, env=shell_env(), capture_output=True, text=True, timeout=300)
    assert second.returncode == 1
    report = [json.loads(line) for line in (out / "stdit-report.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in report) == ["failed", "skipped", "skipped", "skipped"]
    assert {p: p.read_bytes() for p in footage.rglob("*") if p.is_file() and out not in p.parents} == before


def test_denoise_dir_usage_and_empty_folder(tmp_path):
    script = str(SCRIPTS / "denoise_dir.sh")
    usage = subprocess.run([script], env=shell_env(), capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    missing = subprocess.run([script, str(tmp_path / "nope"), str(tmp_path / "out")], env=shell_env(), capture_output=True, text=True)
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = subprocess.run([script, str(tmp_path / "empty"), str(tmp_path / "out")], env=shell_env(), capture_output=True, text=True)
    assert empty.returncode == 1 and "no videos under" in empty.stderr


def test_slurm_script_runs_torchrun_on_every_node(tmp_path, identity_checkpoint):
    """With stand-ins for srun and scontrol: one node, two processes, CPU."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text('#!/usr/bin/env bash\nwhile [[ $1 == --* ]]; do shift; done\nexec "$@"\n')
    (bin_dir / "scontrol").write_text('#!/usr/bin/env bash\n[ "$1" = show ] && echo localhost || echo "$*" >> "$SCONTROL_LOG"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    clips = [make_video(tmp_path / f"c{i}.mp4", frames=2, size="24x16") for i in range(3)]
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{clip}\n" for clip in clips))
    env = shell_env(PATH=f"{bin_dir}:{os.environ['PATH']}", PYTHON=sys.executable, NPROC="2", PORT="29517",
                    SLURM_JOB_ID="42", SLURM_JOB_NUM_NODES="1", SLURM_JOB_NODELIST="node1",
                    SCONTROL_LOG=str(tmp_path / "scontrol.log"))  # fmt: skip
    result = subprocess.run([str(SCRIPTS / "slurm_denoise.sh"), str(listing), str(tmp_path / "out"),
                             "--checkpoint", str(identity_checkpoint)], env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = [json.loads(line) for line in (tmp_path / "out" / "report.jsonl").read_text().splitlines()]
    assert [(r["index"], r["rank"], r["status"]) for r in report] == [(0, 0, "ok"), (1, 1, "ok"), (2, 0, "ok")]
    assert all(probe_video(tmp_path / "out" / f"c{i}.denoised.mp4").num_frames == 2 for i in range(3))
    assert not (tmp_path / "scontrol.log").exists()  # finished: no requeue


FAKE_STDIT = """#!/usr/bin/env python3
# records its arguments, and writes the files a real `stdit train --out DIR` leaves for ship()
import json, os, sys
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps(args) + "\\n")
out = args[len(args) - 1 - args[::-1].index("--out") + 1]
os.makedirs(out, exist_ok=True)
for name in ("config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json", "stdit.json"):
    with open(os.path.join(out, name), "w") as f:
        f.write(out)
"""


def _training_tree(tmp_path, *scripts: str, fakes: tuple = (("stdit", FAKE_STDIT),)) -> dict:
    """A scratch tree with copies of ``scripts`` (they ship into <tree>/stdit_cli/weights/) and
    stand-in commands first on PATH; returns the environment to run them in."""
    (tmp_path / "scripts").mkdir()
    for script in scripts:
        shutil.copy(SCRIPTS / script, tmp_path / "scripts")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in fakes:
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"), "OUT": "runs/x", "DATA": "D"}


def _recorded_calls(tmp_path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls").read_text().splitlines()]


def option(call: list[str], name: str) -> str:
    """The value click sees: the last occurrence."""
    return [call[i + 1] for i, a in enumerate(call) if a == name][-1]


def test_train_defaults_runs_the_six_unet_stages_and_ships_the_last(tmp_path):
    env = _training_tree(tmp_path, "train_defaults.sh")
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet"], env=env, check=True)
    calls = _recorded_calls(tmp_path)

    assert [option(c, "--out") for c in calls] == ["runs/x/unet", "runs/x/unet-ft128", "runs/x/unet-ft192", "runs/x/unet-ft192w", "runs/x/unet-lean", "runs/x/unet-lean240"]
    assert [option(c, "--crop") for c in calls] == ["64", "128", "192", "192", "192", "240"]
    assert [c.count("--init-from") and option(c, "--init-from") for c in calls] == [0, "runs/x/unet", "runs/x/unet-ft128", "runs/x/unet-ft192", "runs/x/unet-ft192w", "runs/x/unet-lean"]
    assert [c.count("--data") for c in calls] == [4, 4, 1, 1, 1, 1]
    for stage in calls[2:]:
        assert option(stage, "--data") == "frames:D/davis2016_val_480p" and option(stage, "--warmup") == "100"
    assert [c.count("--sigma-weight-power") and option(c, "--sigma-weight-power") for c in calls] == [0, 0, 0, "0.6", "0.6", "0.6"]
    assert all(option(c, "--val") == "frames:D/vid4/walk" for c in calls)
    # the last stage derives the shipped architecture from the one before
    assert [option(c, "--config") for c in calls] == ["small"] * 4 + ["small-lean"] * 2
    assert ["--init-partial" in c for c in calls] == [False] * 4 + [True, False]
    shipped = tmp_path / "stdit_cli" / "weights" / "unet" / "diffusion_pytorch_model.safetensors"
    assert shipped.read_text() == "runs/x/unet-lean240"


FAKE_CONVERTER = """#!/usr/bin/env python3
# stands in for `python scripts/stdit_to_diffuser.py IN OUT` (and export_bf16.py IN OUT, graft_weights.py ... --out OUT):
# writes OUT's files for ship()
import os, sys
out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else sys.argv[3]
os.makedirs(out, exist_ok=True)
for name in ("config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json", "stdit.json"):
    with open(os.path.join(out, name), "w") as f:
        f.write(out)
"""


def test_train_defaults_with_no_arguments_runs_every_stage_behind_the_shipped_files_in_order(tmp_path):
    env = _training_tree(tmp_path, "train_defaults.sh", fakes=(("stdit", FAKE_STDIT), ("python", FAKE_CONVERTER)))
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh")], env=env, check=True)
    calls = _recorded_calls(tmp_path)

    outs = [option(c, "--out") for c in calls]
    # made by scripts/graft_weights.py, slim_weights.py from runs before them (weights/unet-real: unet-real-clean's average)
    # (and the blotch stages' -init: copies of the shipped weights/unet-real and unet-fast-real they start from)
    grafted = ["runs/x/unet-real-graft", "runs/x/unet-fast-hr-init", "stdit_cli/weights/unet-real", "stdit_cli/weights/unet-fast-real",
               "runs/x/unet-real-blotch-init", "runs/x/unet-fast-real-blotch-init"]
    assert outs.index("runs/x/unet-real4") < outs.index("runs/x/unet-real5") and outs.index("runs/x/unet-hw2") < outs.index("runs/x/unet-real5")
    for index, call in enumerate(calls):  # every stage starts from a run made before it, none from a missing one
        if "--init-from" in call:
            assert option(call, "--init-from") in outs[:index] + grafted, outs[index]
    assert "runs/x/unet-gpu" in outs and outs.index("runs/x/unet-gpu") < outs.index("runs/x/unet-fast")
    assert outs.index("runs/x/unet-real-cfa") < outs.index("runs/x/unet-real-clean")  # the real-noise stage the gray and blotch stages start from
    assert option(calls[outs.index("runs/x/unet-real-clean")], "--camera-clean-fraction") == "0.15"
    # phones' colour blotches: the shipped real-noise stage, after the gray weights took theirs from the one before
    blotch = calls[outs.index("runs/x/unet-real-blotch")]
    assert outs.index("runs/x/unet-real-gray") < outs.index("runs/x/unet-real-blotch")
    assert option(blotch, "--camera-blotch-fraction") == "0.5" and option(blotch, "--camera-clean-fraction") == "0.15"
    # black-and-white camera noise: from the real-noise weights unet-real-clean ships, every camera clip gray
    gray = calls[outs.index("runs/x/unet-real-gray")]
    assert outs.index("runs/x/unet-real-clean") < outs.index("runs/x/unet-real-gray")
    assert option(gray, "--init-from") == "stdit_cli/weights/unet-real" and option(gray, "--camera-gray-fraction") == "1.0"
    assert option(gray, "--camera-gray-level") == "learned" and "--real-pairs" not in gray
    # labelled by the estimator the shipped gray weights carry (and read videos with), not today's shipped one
    assert option(gray, "--level-estimator") == "stdit_cli/weights/unet-real-gray/level-estimator"
    assert (tmp_path / "stdit_cli" / "weights" / "unet-real-gray" / "stdit.json").is_file()
    fast_gray = calls[outs.index("runs/x/unet-fast-real-gray")]
    assert outs.index("runs/x/unet-fast-real2") < outs.index("runs/x/unet-fast-real-gray")
    assert option(fast_gray, "--init-from") == "stdit_cli/weights/unet-fast-real" and option(fast_gray, "--config") == "halfres-fast"
    assert option(fast_gray, "--camera-gray-level") == "learned"
    assert option(fast_gray, "--level-estimator") == "stdit_cli/weights/unet-real-gray/level-estimator"
    fast_blotch = calls[outs.index("runs/x/unet-fast-real-blotch")]
    assert outs.index("runs/x/unet-fast-real-gray") < outs.index("runs/x/unet-fast-real-blotch")
    assert option(fast_blotch, "--config") == "halfres-fast" and option(fast_blotch, "--camera-blotch-fraction") == "0.5"
    # the weights for white noise in lossy 4:2:0 video: from the default's last stage, every white-noise clip encoded
    assert outs.index("runs/x/unet-hw-gpu2") < outs.index("runs/x/unet-h264")
    assert option(calls[outs.index("runs/x/unet-h264")], "--init-from") == "runs/x/unet-hw-gpu2"
    assert option(calls[outs.index("runs/x/unet-h264")], "--compressed-fraction") == "1.0"
    assert (tmp_path / "stdit_cli" / "weights" / "unet-h264" / "stdit.json").is_file() and "runs/x/unet-h264b" not in outs
    # ... carried over to the sixth stage, then shipped halfway to the default (the graft script's --out)
    assert (tmp_path / "runs" / "x" / "unet-h264-gpu3" / "stdit.json").is_file()
    assert (tmp_path / "stdit_cli" / "weights" / "unet-h264" / "stdit.json").read_text() == "stdit_cli/weights/unet-h264"
    weights = tmp_path / "stdit_cli" / "weights"
    shipped = {model: (weights / model / "stdit.json").read_text() for model in ("unet", "unet-fast", "stdit", "diffuser", "segdit")}
    assert outs.index("runs/x/unet-hw2") < outs.index("runs/x/unet-hw3") < outs.index("runs/x/unet-hw-gpu") < outs.index("runs/x/unet-hw-gpu2")
    assert outs.index("runs/x/unet-hw-gpu2") < outs.index("runs/x/unet-fast-hr") < outs.index("runs/x/unet-fast-hr2") < outs.index("runs/x/unet-fast-hr3") < outs.index("runs/x/unet-fast-hr4") < outs.index("runs/x/unet-fast-hr5") < outs.index("runs/x/unet-fast-hr6") < outs.index("runs/x/unet-fast-hr7")  # --fast's weights are sliced from the default's
    # --fast's real-noise weights: from its shipped Gaussian stage, on the real-noise stages' camera mix
    assert outs.index("runs/x/unet-fast-hr7") < outs.index("runs/x/unet-fast-real") < outs.index("runs/x/unet-fast-real2")
    assert option(calls[outs.index("runs/x/unet-fast-real2")], "--init-from") == "runs/x/unet-fast-real"
    fast_real = calls[outs.index("runs/x/unet-fast-real")]
    assert option(fast_real, "--init-from") == "runs/x/unet-fast-hr7" and option(fast_real, "--camera-fraction") == "1.0"
    assert (tmp_path / "stdit_cli" / "weights" / "unet-fast-real" / "stdit.json").is_file()
    # the third GPU chunks: the default's after every stage that slices or starts from the shipped default,
    # --fast's from its seventh CPU stage and after the real-noise stages that start from that one
    third = calls[outs.index("runs/x/unet-hw-gpu3")]
    assert option(calls[outs.index("runs/x/unet-hw-gpu3-dry")], "--init-from") == "runs/x/unet-hw-gpu2"
    assert option(third, "--init-from") == "runs/x/unet-hw-gpu3-dry" and option(third, "--stop-at") == "1500"
    assert outs.index("runs/x/unet-fast-hr") < outs.index("runs/x/unet-hw-gpu3")
    assert outs.index("runs/x/unet-fast-real2") < outs.index("runs/x/unet-fast-gpu")
    assert option(calls[outs.index("runs/x/unet-fast-gpu")], "--init-from") == "runs/x/unet-fast-hr7"
    assert shipped == {"unet": "runs/x/unet-hw-gpu3", "unet-fast": "runs/x/unet-fast-gpu", "stdit": "runs/x/stdit",
                       "diffuser": "runs/x/diffuser", "segdit": "runs/x/segdit"}  # fmt: skip


def test_the_distilled_fast_stage_is_taught_by_the_shipped_default_and_ships_nothing(tmp_path):
    env = _training_tree(tmp_path, "train_defaults.sh")
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-fast-kd"], env=env, check=True)
    (call,) = _recorded_calls(tmp_path)
    assert (option(call, "--config"), option(call, "--init-from")) == ("halfres-fast", "runs/x/unet-fast-hr7")
    assert (option(call, "--teacher"), option(call, "--teacher-weight")) == ("stdit_cli/weights/unet", "0.75")
    assert not (tmp_path / "stdit_cli" / "weights").exists()  # measured, not shipped


def test_train_gpu_tunes_the_unet_the_cpu_tunes_it_further_and_unet_fast_derives_the_cheaper_checkpoint(tmp_path):
    env = _training_tree(tmp_path, "train_defaults.sh", "train_gpu.sh")
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_gpu.sh")], env={**env, "VAL": ""}, check=True)
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-fast"], env=env, check=True)
    weights = tmp_path / "stdit_cli" / "weights"
    assert (weights / "unet" / "stdit.json").read_text() == "runs/x/unet-gpu"
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-tune", "unet-head"], env=env, check=True)
    assert (weights / "unet" / "stdit.json").read_text() == "runs/x/unet-head"  # the shipped unet
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_gpu.sh"), "unet-head-gpu"], env=env, check=True)
    calls = _recorded_calls(tmp_path)

    gpu, fast, fast240, tune, tune2, head, head_gpu = calls
    assert (option(gpu, "--device"), option(gpu, "--precision"), option(gpu, "--steps"), option(gpu, "--batch-size")) == ("cuda", "bf16", "2400", "16")
    assert option(gpu, "--init-from") == "runs/x/unet-lean240" and option(gpu, "--config") == "small-lean" and "--val" not in gpu
    assert option(fast, "--config") == option(fast240, "--config") == "fast"
    assert option(fast, "--init-from") == "runs/x/unet-gpu" and "--init-partial" in fast and option(fast240, "--init-from") == "runs/x/unet-fast"
    assert option(fast, "--device") == "auto" and option(fast, "--val") == "frames:D/vid4/walk"
    assert (weights / "unet-fast" / "stdit.json").read_text() == "runs/x/unet-fast240"
    # the CPU stages after the GPU one: from its weights, then from their own
    assert option(tune, "--init-from") == "runs/x/unet-gpu" and option(tune2, "--init-from") == "runs/x/unet-tune"
    assert [option(c, "--sigma-weight-power") for c in (tune, tune2)] == ["0.3", "0.3"]
    assert [(option(c, "--steps"), option(c, "--seed")) for c in (tune, tune2)] == [("3600", "37"), ("3000", "41")]
    assert option(tune, "--device") == "auto" and option(tune, "--config") == "small-lean"
    # the full-resolution head: derived from the CPU stages' weights (the head is new), then the next GPU stage from it
    assert [option(c, "--config") for c in (head, head_gpu)] == ["small-lean-fullres"] * 2
    assert option(head, "--init-from") == "runs/x/unet-tune2" and "--init-partial" in head
    assert (option(head, "--steps"), option(head, "--seed"), option(head, "--sigma-weight-power")) == ("3000", "43", "0.3")
    assert (option(head_gpu, "--init-from"), option(head_gpu, "--device"), option(head_gpu, "--precision")) == ("runs/x/unet-head", "cuda", "bf16")
    assert "--init-partial" not in head_gpu
    assert (weights / "unet" / "stdit.json").read_text() == "runs/x/unet-head-gpu"


def test_halfres_trains_on_native_davis_without_the_validation_suites_clips_in_two_stages(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from validation_suite import HELD_OUT_DAVIS

    env = _training_tree(tmp_path, "train_defaults.sh")
    data = tmp_path / "data"
    sequences = ["bear", "bmx-trees", *HELD_OUT_DAVIS]
    for name in sequences:
        (data / "davis2016_val_480p" / name).mkdir(parents=True)
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "halfres"], env={**env, "DATA": str(data)}, check=True)
    first, second = _recorded_calls(tmp_path)

    for call in (first, second):
        davis = [a for a in call if "davis2016_val_480p/" in a and not a.endswith("/dog")]  # --val is a held-out clip
        assert sorted(a.rsplit("/", 1)[1] for a in davis) == ["bear", "bmx-trees"]
        assert option(call, "--downscale") == "1" and option(call, "--config") == "halfres"
        assert option(call, "--val") == f"frames:{data}/davis2016_val_480p/dog"
        assert (option(call, "--scale-range"), option(call, "--soft-fraction"), option(call, "--smooth-fraction")) == ("1", "0.2", "0.1")
    assert option(first, "--stop-at") == "500" and option(first, "--steps") == "5000"
    assert option(second, "--init-from") == "runs/x/halfres" and option(second, "--steps") == "1800"
    assert not (tmp_path / "stdit_cli" / "weights").exists()  # an experiment: nothing ships


def test_unet_hw_derives_the_default_from_unet_head_on_native_footage_without_the_suites_clips(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from validation_suite import HELD_OUT_DAVIS

    env = _training_tree(tmp_path, "train_defaults.sh")
    data = tmp_path / "data"
    for name in ["bear", *HELD_OUT_DAVIS]:
        (data / "davis2016_val_480p" / name).mkdir(parents=True)
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-hw"], env={**env, "DATA": str(data)}, check=True)
    call, second = _recorded_calls(tmp_path)

    davis = [a for a in call if "davis2016_val_480p/" in a and not a.endswith("/dog")]
    assert [a.rsplit("/", 1)[1] for a in davis] == ["bear"]  # the suite's clips never train
    assert (option(call, "--config"), option(call, "--init-from")) == ("halfres-wide", "runs/x/unet-head") and "--init-partial" in call
    assert (option(call, "--downscale"), option(call, "--smooth-fraction"), option(call, "--precision")) == ("1", "0.15", "bf16")
    assert (option(call, "--steps"), option(call, "--stop-at"), option(call, "--seed")) == ("3000", "2500", "71")
    # the second stage: from the first, a fresh cosine with more smooth clips, on the same footage; it ships
    assert (option(second, "--init-from"), option(second, "--steps"), option(second, "--lr")) == ("runs/x/unet-hw", "2000", "1.5e-4")
    assert option(second, "--smooth-fraction") == "0.2" and "--init-partial" not in second and "--stop-at" not in second
    assert [a for a in second if "davis2016_val_480p/" in a and not a.endswith("/dog")] == davis
    assert (tmp_path / "stdit_cli" / "weights" / "unet" / "stdit.json").read_text() == "runs/x/unet-hw2"
    # the third stage: from the second, a fresh cosine with more smooth clips again; it ships
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-hw3"], env={**env, "DATA": str(data)}, check=True)
    third = _recorded_calls(tmp_path)[-1]
    assert (option(third, "--init-from"), option(third, "--steps"), option(third, "--lr"), option(third, "--seed")) == ("runs/x/unet-hw2", "1600", "1e-4", "127")
    assert option(third, "--smooth-fraction") == "0.25" and [a for a in third if "davis2016_val_480p/" in a and not a.endswith("/dog")] == davis
    assert (tmp_path / "stdit_cli" / "weights" / "unet" / "stdit.json").read_text() == "runs/x/unet-hw3"


def test_export_bf16_halves_the_weights_and_they_load_back_as_fp32_that_shipped_gpu_weights_win_on_cuda(
        tmp_path, trained_like_checkpoint, monkeypatch):  # fmt: skip
    import stdit_cli.weights as weights
    from stdit_cli.weights import load_checkpoint, resolve_checkpoint

    target = tmp_path / "unet-gpu"
    subprocess.run([sys.executable, str(SCRIPTS / "export_bf16.py"), str(trained_like_checkpoint), str(target)], check=True)
    original = load_checkpoint(trained_like_checkpoint).model.state_dict()
    compact = load_checkpoint(target)
    name = "diffusion_pytorch_model.safetensors"
    assert (target / name).stat().st_size < 0.6 * (trained_like_checkpoint / name).stat().st_size
    for key, value in compact.model.state_dict().items():
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, original[key], rtol=1e-2, atol=1e-2)
    too_small = subprocess.run([sys.executable, str(SCRIPTS / "export_bf16.py"), str(trained_like_checkpoint), str(tmp_path / "x"),
                                "--max-mib", "0.0001"], capture_output=True, text=True)  # fmt: skip
    assert too_small.returncode == 1 and "over --max-mib" in too_small.stderr and not (tmp_path / "x").exists()

    shipped = {"unet": trained_like_checkpoint, "unet-gpu": target}
    monkeypatch.setattr(weights, "shipped_checkpoint_dir", lambda name: shipped.get(name))
    assert resolve_checkpoint("unet", None, gpu=True).source == str(target)
    assert resolve_checkpoint("unet", None).source == str(trained_like_checkpoint)
    assert resolve_checkpoint("unet", None, fast=True, gpu=True).source == str(trained_like_checkpoint)  # no unet-fast here


def test_graft_weights_adds_the_fine_tunes_difference_to_the_new_base(tmp_path, trained_like_checkpoint):
    from safetensors.torch import load_file, save_file

    from stdit_cli.weights import load_checkpoint

    name = "diffusion_pytorch_model.safetensors"
    old_base = load_file(str(trained_like_checkpoint / name))
    tuned_dir, new_dir = tmp_path / "tuned", tmp_path / "new"
    shutil.copytree(trained_like_checkpoint, tuned_dir)
    shutil.copytree(trained_like_checkpoint, new_dir)
    torch.manual_seed(0)
    tuned = {k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v for k, v in old_base.items()}
    new_base = {k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v for k, v in old_base.items()}
    save_file(tuned, str(tuned_dir / name))
    save_file(new_base, str(new_dir / name))
    out = tmp_path / "grafted"
    subprocess.run([sys.executable, str(SCRIPTS / "graft_weights.py"), "--old-base", str(trained_like_checkpoint), "--tuned", str(tuned_dir),
                    "--new-base", str(new_dir), "--out", str(out), "--alpha", "0.5"], check=True, capture_output=True)  # fmt: skip
    grafted = load_file(str(out / name))
    for key, value in grafted.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, new_base[key] + 0.5 * (tuned[key] - old_base[key]))
    assert json.loads((out / "stdit.json").read_text())["graft"]["alpha"] == 0.5
    assert load_checkpoint(out).model is not None  # a checkpoint folder the CLI loads

    first = next(k for k, v in tuned.items() if v.is_floating_point() and v.dim() > 1)
    save_file({**tuned, first: torch.zeros(1)}, str(tuned_dir / name))
    failed = subprocess.run([sys.executable, str(SCRIPTS / "graft_weights.py"), "--old-base", str(trained_like_checkpoint), "--tuned",
                             str(tuned_dir), "--new-base", str(new_dir), "--out", str(tmp_path / "bad")], capture_output=True, text=True)  # fmt: skip
    assert failed.returncode == 1 and "shapes differ" in failed.stderr and not (tmp_path / "bad").exists()


def test_noise_estimator_real_pairs_split_by_camera_and_target_the_rms_against_the_reference(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from PIL import Image
    from train_noise_estimator import load_real_pairs, real_crops

    rng = np.random.default_rng(0)
    for camera, offset in (("CamA", 3), ("CamB", 7)):
        reference = rng.integers(40, 200, (48, 64, 3)).astype(np.uint8)
        # a constant offset survives lossless PNG bytes saved under the .JPG name PIL reads by content
        Image.fromarray(reference).save(tmp_path / f"{camera}_1_mean.JPG", format="PNG")
        Image.fromarray(reference + offset).save(tmp_path / f"{camera}_1_real.JPG", format="PNG")
    train = load_real_pairs(tmp_path, {"CamA"}, train=True)
    validate = load_real_pairs(tmp_path, {"CamA"}, train=False)
    assert [name for _, _, name in train] == ["CamA_1_real.JPG"] and [name for _, _, name in validate] == ["CamB_1_real.JPG"]

    y, rms = real_crops(validate, 5, 32, np.random.default_rng(1))
    assert y.shape == (5, 3, 32, 32) and float(y.min()) >= -1.0 and float(y.max()) <= 1.0
    assert torch.allclose(rms, torch.full((5,), 7.0))  # the noisy crop's RMS against the same crop of its reference


def test_stage_gpu_data_copies_the_training_material_without_the_suites_clips_and_the_gpu_stage_trains_on_it(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from validation_suite import HELD_OUT_DAVIS

    env = _training_tree(tmp_path, "train_defaults.sh", "stage_gpu_data.sh")
    data = tmp_path / "data"
    for name in ["bear", "bmx-trees", *HELD_OUT_DAVIS]:
        (data / "davis2016_val_480p" / name).mkdir(parents=True)
        for i in range(12):
            (data / "davis2016_val_480p" / name / f"{i:05d}.jpg").write_bytes(b"j")
    (data / "bsds500" / "train").mkdir(parents=True)
    for i in range(50):
        (data / "bsds500" / "train" / f"{i:06d}.jpg").write_bytes(b"j")
    staged = tmp_path / "staged"
    subprocess.run(["bash", str(tmp_path / "scripts" / "stage_gpu_data.sh"), str(staged)], env={**env, "DATA": str(data)}, check=True)

    davis = staged / "davis2016_val_480p"
    assert sorted(p.name for p in davis.iterdir()) == ["bear", "bmx-trees", "dog"]  # dog: the --val clip only
    assert len(list((davis / "bear").iterdir())) == 12 and sorted(p.name for p in (davis / "dog").iterdir())[-1] == "00007.jpg"
    assert sorted(p.name for p in (staged / "bsds500" / "train").iterdir()) == [f"{i:06d}.jpg" for i in range(30)]

    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-hw-gpu"], env={**env, "DATA": str(staged)}, check=True)
    (call,) = _recorded_calls(tmp_path)
    trained = [a.rsplit("/", 1)[1] for a in call if "davis2016_val_480p/" in a and not a.endswith("/dog")]
    assert trained == ["bear", "bmx-trees"] and option(call, "--val") == f"frames:{davis}/dog"
    assert f"stills:{staged}/bsds500/train" in call
    # the defaults are the shipped run's: from the third CPU stage, 1400 steps at batch 16 and lr 2e-4
    assert (option(call, "--config"), option(call, "--init-from"), option(call, "--steps")) == ("halfres-wide", "runs/x/unet-hw3", "1400")
    assert (option(call, "--batch-size"), option(call, "--crop"), option(call, "--lr"), option(call, "--seed")) == ("16", "192", "2e-4", "149")
    assert (option(call, "--smooth-fraction"), option(call, "--downscale"), option(call, "--warmup")) == ("0.25", "1", "100")
    assert (tmp_path / "stdit_cli" / "weights" / "unet" / "stdit.json").read_text() == "runs/x/unet-hw-gpu"
    # on a lent GPU: from the committed weights, the variant's learning rate and seed
    gpu_env = {**env, "DATA": str(staged), "HWG_INIT": "stdit_cli/weights/unet", "GPU_LR": "1e-4", "GPU_SEED": "139", "GPU_STEPS": "900"}
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-hw-gpu"], env=gpu_env, check=True)
    again = _recorded_calls(tmp_path)[-1]
    assert (option(again, "--init-from"), option(again, "--lr"), option(again, "--seed"), option(again, "--steps")) == ("stdit_cli/weights/unet", "1e-4", "139", "900")
    # the second GPU chunk (the shipped weights/unet): from the first, its own seed and a larger smooth share
    subprocess.run(["bash", str(tmp_path / "scripts" / "train_defaults.sh"), "unet-hw-gpu2"], env={**env, "DATA": str(staged)}, check=True)
    second = _recorded_calls(tmp_path)[-1]
    assert (option(second, "--init-from"), option(second, "--steps"), option(second, "--batch-size"), option(second, "--seed")) == ("runs/x/unet-hw-gpu", "1500", "16", "169")
    assert (option(second, "--smooth-fraction"), option(second, "--lr")) == ("0.4", "2e-4") and f"stills:{staged}/bsds500/train" in second
    assert (tmp_path / "stdit_cli" / "weights" / "unet" / "stdit.json").read_text() == "runs/x/unet-hw-gpu2"


def test_slim_weights_slices_the_default_into_the_fast_preset_group_by_group_and_part_by_part(tmp_path):
    import importlib.util

    from safetensors.torch import load_file

    from stdit_cli.weights import load_checkpoint

    spec = importlib.util.spec_from_file_location("slim_weights", SCRIPTS / "slim_weights.py")
    slim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(slim)
    teacher_dir = Path(__file__).resolve().parents[1] / "stdit_cli" / "weights" / "unet"
    out = tmp_path / "sliced"
    subprocess.run([sys.executable, str(SCRIPTS / "slim_weights.py"), str(teacher_dir), "halfres-fast", "--out", str(out)], check=True, capture_output=True)
    student = load_checkpoint(out)
    teacher = load_checkpoint(teacher_dir)
    assert list(student.model.config.block_out_channels) == [16, 32, 64] and student.metadata["trained_steps"] == 0
    # the concatenated [hidden, skip] inputs the script assumes are the model's own, in both configurations
    for checkpoint in (teacher, student):
        for i, block in enumerate(checkpoint.model.up_blocks):
            for j, layer in enumerate(block.layers):
                assert sum(slim.up_concat_parts(dict(checkpoint.model.config), i, j)) == layer.resnet.norm1.num_channels
    t = {k: v.float() for k, v in load_file(str(teacher_dir / "diffusion_pytorch_model.safetensors")).items()}
    s = load_file(str(out / "diffusion_pytorch_model.safetensors"))
    keep = torch.tensor([0, 1, 6, 7, 12, 13, 18, 19, 24, 25, 30, 31, 36, 37, 42, 43])  # 2 of each 6-channel group of 48
    torch.testing.assert_close(s["conv_in.weight"], t["conv_in.weight"][keep])
    taps = "down_blocks.0.layers.0.temp_conv.conv1.weight"  # [(3 C), C, 1, 1]: each tap sliced alike
    torch.testing.assert_close(s[taps], torch.cat([t[taps][k * 48 + keep][:, keep] for k in range(3)]))
    concat = "up_blocks.2.layers.1.resnet.conv1.weight"  # input [hidden 48 | skip 48] -> [16 | 16]
    torch.testing.assert_close(s[concat], t[concat][keep][:, torch.cat([keep, 48 + keep])])

    failed = subprocess.run([sys.executable, str(SCRIPTS / "slim_weights.py"), str(teacher_dir), "fast", "--out", str(tmp_path / "bad")],
                            capture_output=True, text=True)  # fmt: skip
    assert failed.returncode != 0 and "patch_size differs" in failed.stderr and not (tmp_path / "bad").exists()


FAKE_STDIT_RATES = FAKE_STDIT.replace("import json, os, sys", "import json, os, sys  # and a calibration run's rate lines") + """
if args[args.index("--steps") + 1] == "120":  # the --fast preset trains twice as fast as the default's
    fast = 2 if args[args.index("--config") + 1] == "halfres-fast" else 1
    print(f"step 50: loss 0.1, {2 * fast:.2f} steps/s")
    print(f"step 100: loss 0.1, {2.5 * fast:.2f} steps/s")
"""


def test_gpu_hw_stage_sizes_each_variant_by_its_own_rate_trains_its_stage_and_never_ships(tmp_path):
    env = _training_tree(tmp_path, "train_defaults.sh", "gpu_hw_stage.sh", fakes=(("stdit", FAKE_STDIT_RATES),))
    for model in ("unet", "unet-fast"):
        (tmp_path / "stdit_cli" / "weights" / model).mkdir(parents=True)
        (tmp_path / "stdit_cli" / "weights" / model / "stdit.json").write_text("committed")
    variants = "e 2e-4 271 0.4;g 3e-4 269 0.5 unet-fast-gpu"
    run_env = {**env, "SKIP_SPEED": "1", "VARIANTS": variants, "DATA": str(tmp_path / "data")}
    subprocess.run(["bash", str(tmp_path / "scripts" / "gpu_hw_stage.sh"), str(tmp_path / "back"), "1000"], env=run_env, check=True)

    trained = [c for c in _recorded_calls(tmp_path) if option(c, "--steps") != "120"]
    by_out = {option(c, "--out"): c for c in trained}
    default, fast = by_out["runs/gpu-e/unet-hw-gpu"], by_out["runs/gpu-g/unet-fast-gpu"]
    # rate 50 / (100 / 2.5 - 50 / 2) = 3.33 steps/s (the --fast run 6.67) x 1000 s x CAL_FACTOR 0.7, in hundreds
    assert (option(default, "--steps"), option(fast, "--steps")) == ("2300", "4600")
    assert (option(default, "--config"), option(default, "--init-from"), option(default, "--seed")) == ("halfres-wide", "runs/hwg-init", "271")
    assert (option(fast, "--config"), option(fast, "--init-from"), option(fast, "--lr")) == ("halfres-fast", "runs/fastg-init", "3e-4")
    assert option(fast, "--smooth-fraction") == "0.5" and option(default, "--smooth-fraction") == "0.4"
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == ["e.safetensors", "g.safetensors", "logs.tar.gz"]
    for model in ("unet", "unet-fast"):  # the runs (and a dry run here) leave the committed weights alone
        assert (tmp_path / "stdit_cli" / "weights" / model / "stdit.json").read_text() == "committed"


def test_device_tree_moves_all_but_the_two_trained_weights_out_and_puts_everything_back(tmp_path):
    env = _training_tree(tmp_path, "device_tree.sh", fakes=(("python", FAKE_CONVERTER),))
    files = {f"stdit_cli/weights/{m}/stdit.json": m for m in ("unet", "unet-fast", "unet-real", "noise-estimator")}
    files |= {"stdit_cli/samples/clip.mp4": "video", "scripts/results/a.json": "{}", "scripts/results/a.md": "# a"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    env = {**env, "STASH": str(tmp_path / "stash")}
    script = str(tmp_path / "scripts" / "device_tree.sh")

    subprocess.run(["bash", script, "out"], env=env, check=True, capture_output=True)
    assert sorted(p.name for p in (tmp_path / "stdit_cli" / "weights").iterdir()) == ["noise-estimator"]
    assert sorted(p.name for p in (tmp_path / ".wts").iterdir()) == ["unet", "unet-fast"]  # what device_setup.sh puts back
    assert not (tmp_path / "stdit_cli" / "samples").exists() and [p.name for p in (tmp_path / "scripts" / "results").iterdir()] == ["a.md"]
    again = subprocess.run(["bash", script, "out"], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "back" in again.stderr  # a second `out` would stash over the first

    subprocess.run(["bash", script, "back"], env=env, check=True, capture_output=True)
    assert {name: (tmp_path / name).read_text() for name in files} == files and not (tmp_path / "stash").exists()


def test_phone_noise_is_correlated_colour_blotches_on_a_sharpened_reference():
    sys.path.insert(0, str(SCRIPTS))
    from benchmark_phone_noise import PHONES, phone_noise, sharpened_reference

    flat = np.full((2, 64, 96, 3), 128, np.uint8)
    _, shot, read, blur = PHONES[-1]
    noise = phone_noise(flat, np.random.default_rng(0), shot, read, blur).astype(np.float64) - sharpened_reference(flat)
    assert 10 < noise.std() < 40  # a phone at night
    # spatially correlated (white noise: about 0), and coloured: the channels do not move together
    grey = noise.mean(axis=3)
    neighbours = np.corrcoef(grey[:, :, :-1].ravel(), grey[:, :, 1:].ravel())[0, 1]
    chroma = noise - noise.mean(axis=3, keepdims=True)
    chroma_neighbours = np.corrcoef(chroma[:, :, :-1, 0].ravel(), chroma[:, :, 1:, 0].ravel())[0, 1]
    assert neighbours > 0.3 and chroma_neighbours > 0.8
    assert chroma.std() > 0.5 * grey.std()
    # fresh noise per frame
    assert abs(np.corrcoef(noise[0].ravel(), noise[1].ravel())[0, 1]) < 0.1


def test_phone_noise_dim_level_is_heavier_than_night():
    sys.path.insert(0, str(SCRIPTS))
    from benchmark_phone_noise import EXTRA_LEVELS, PHONES, phone_noise, sharpened_reference

    flat = np.full((1, 64, 96, 3), 100, np.uint8)
    levels = {label: (shot, read, blur) for label, shot, read, blur in PHONES + EXTRA_LEVELS}
    night, dim = (
        (phone_noise(flat, np.random.default_rng(0), *levels[label]).astype(np.float64) - sharpened_reference(flat)).std()
        for label in ("night", "dim")
    )
    assert dim > 1.3 * night and 25 < dim < 50  # the heavy end of phone photos in dim light


def test_export_bf16_keeps_the_estimator_the_weights_read_levels_with(tmp_path, trained_like_checkpoint):
    import shutil

    from stdit_cli.weights import LEVEL_ESTIMATOR, copy_level_estimator, level_estimator_of, load_checkpoint

    source = tmp_path / "gray-run"
    shutil.copytree(trained_like_checkpoint, source)
    copy_level_estimator(None, source)  # the shipped estimator, as a run labelled by it saves it
    target = tmp_path / "gray-bf16"
    subprocess.run([sys.executable, str(SCRIPTS / "export_bf16.py"), str(source), str(target)], check=True)
    assert level_estimator_of(load_checkpoint(target)) == target / LEVEL_ESTIMATOR
    name = "diffusion_pytorch_model.safetensors"
    assert (target / LEVEL_ESTIMATOR / name).read_bytes() == (source / LEVEL_ESTIMATOR / name).read_bytes()
    # weights without one export without one
    plain = tmp_path / "plain-bf16"
    subprocess.run([sys.executable, str(SCRIPTS / "export_bf16.py"), str(trained_like_checkpoint), str(plain)], check=True)
    assert level_estimator_of(load_checkpoint(plain)) is None
