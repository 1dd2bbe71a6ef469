"""Many processes on one batch: `torchrun --nproc-per-node 2` on the CPU (gloo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import make_video
from stdit_cli.video import probe_video


def torchrun(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "stdit_cli", "denoise", *map(str, args)]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_two_ranks_share_the_inputs_and_rank_0_merges_the_report(tmp_path, identity_checkpoint):
    clips = [make_video(tmp_path / f"clip {i}.mp4", frames=2 + i % 2, size="24x16") for i in range(4)]
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(p.name for p in [clips[0], clips[1], bad, clips[2], clips[3]]) + "\n")
    out = tmp_path / "out"
    result = torchrun("--inputs-from", listing, "-o", "out/", "--report", "out/report.jsonl",
                      "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet", cwd=tmp_path)  # fmt: skip
    assert result.returncode != 0  # notes.mp4 failed (rank 0 says so for the whole batch)
    for our_module in ("batch/runner.py", "batch/inputs.py", "video/reader.py", "pipeline/denoiser.py"):
        assert our_module not in result.stderr, result.stderr  # no traceback of ours
    records = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    # every input exactly once, in list order, round-robin over the ranks
    assert [r["index"] for r in records] == [0, 1, 2, 3, 4]
    assert [r["rank"] for r in records] == [0, 1, 0, 1, 0]
    assert [Path(r["input"]).name for r in records] == ["clip 0.mp4", "clip 1.mp4", "notes.mp4", "clip 2.mp4", "clip 3.mp4"]
    assert [r["status"] for r in records] == ["ok", "ok", "failed", "ok", "ok"]
    assert "error: rank 0: notes.mp4: not a readable video" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"clip {i}.denoised.mp4" for i in range(4)] + ["report.jsonl"]
    for i, clip in enumerate(clips):
        assert probe_video(out / f"clip {i}.denoised.mp4").num_frames == probe_video(clip).num_frames
