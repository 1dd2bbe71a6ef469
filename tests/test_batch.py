"""Batches: input lists, output planning, --skip-existing, --report, the summary, signals.

The pure parts of `stdit_cli.batch` (`inputs`, `report`, `interrupts`, `sharding.Shard`) are
tested directly; the command on tiny generated clips with the identity checkpoint, in-process
through Click.
"""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from conftest import make_video
from stdit_cli.batch.inputs import BatchError, OutputPlan, parse_input_list, plan_batch, read_input_list, unique_inputs
from stdit_cli.batch.interrupts import InterruptGuard, Interrupted, shielded
from stdit_cli.batch.report import SUMMARY_ROWS, Record, ReportWriter, rank_report_path, rank_reports, summary_table, totals
from stdit_cli.batch.sharding import Shard, ShardError
from stdit_cli.cli import main
from stdit_cli.video import probe_video


def denoise(*args, **kwargs):
    return CliRunner().invoke(main, ["denoise", *map(str, args)], catch_exceptions=False, **kwargs)


def report_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- the input list --------------------------------------------------------------------------------


def test_input_list_format():
    data = b"# footage of day 1\n\n a.mp4 \r\nsub dir/b c.mov\r\n   # indented comment\nnot#comment.mkv\n\xff\xfe odd.mp4\n"
    paths = parse_input_list(data)
    assert [str(p) for p in paths[:3]] == ["a.mp4", "sub dir/b c.mov", "not#comment.mkv"]
    assert os.fsencode(paths[3]) == b"\xff\xfe odd.mp4"  # bytes that are not UTF-8 survive
    assert len(paths) == 4
    # a list saved by Windows Notepad: a UTF-8 byte-order mark before the first path, CRLF endings
    assert parse_input_list(b"\xef\xbb\xbfclip one.mp4\r\nclip two.mp4\r\n") == [Path("clip one.mp4"), Path("clip two.mp4")]


def test_input_list_separated_by_nul_bytes():
    # `find . -name '*.mp4' -print0 | stdit denoise --inputs-from -`: names exactly as found
    data = b"./a.mp4\0./# not a comment.mp4\0./two\nlines.mp4\0 lead space.mp4\0"
    assert parse_input_list(data) == [Path("./a.mp4"), Path("./# not a comment.mp4"), Path("./two\nlines.mp4"), Path(" lead space.mp4")]


def test_read_input_list_from_stdin_and_errors(tmp_path):
    assert read_input_list("-", stdin=io.BytesIO(b"x.mp4\n# y\n")) == [Path("x.mp4")]
    with pytest.raises(BatchError, match="cannot read the list"):
        read_input_list(str(tmp_path / "missing.txt"))


def test_unique_inputs_keeps_the_first_spelling(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "a.mp4", tmp_path / "link.mp4")
    paths = [tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "sub" / ".." / "a.mp4", tmp_path / "link.mp4", tmp_path / "b.mp4"]
    assert unique_inputs(paths) == [tmp_path / "a.mp4", tmp_path / "b.mp4"]


# --- where outputs go ------------------------------------------------------------------------------


def test_output_plan_reads_o(tmp_path):
    assert OutputPlan.from_option(None, 3, None) == OutputPlan(None, False)
    assert OutputPlan.from_option(f"{tmp_path}/new.d/", 1, None).is_folder  # trailing slash: a folder
    assert OutputPlan.from_option(str(tmp_path), 1, None).is_folder  # an existing folder
    assert OutputPlan.from_option(str(tmp_path / "results"), 1, None).is_folder  # no suffix
    assert not OutputPlan.from_option(str(tmp_path / "x.mp4"), 1, None).is_folder
    for output, count, relative_to, message in [
        (str(tmp_path / "x.mp4"), 2, None, "several inputs need -o to be a folder"),
        (None, 1, tmp_path, "--relative-to needs -o"),
        (str(tmp_path / "x.mp4"), 1, tmp_path, "--relative-to needs -o to be a folder"),
    ]:
        with pytest.raises(BatchError, match=message):
            OutputPlan.from_option(output, count, relative_to)


def test_relative_to_mirrors_the_tree_and_collisions_are_refused(tmp_path):
    root = tmp_path / "footage"
    inputs = [root / "day 1" / "clip.mp4", root / "day 2" / "clip.mp4", root / "top.mov", root / "day 1" / "clip.mkv"]
    tree = plan_batch(inputs, OutputPlan(tmp_path / "out", True, root))
    assert [item.output for item in tree] == [
        tmp_path / "out" / "day 1" / "clip.denoised.mp4",
        tmp_path / "out" / "day 2" / "clip.denoised.mp4",
        tmp_path / "out" / "top.denoised.mp4",
        tmp_path / "out" / "day 1" / "clip.denoised.mp4",
    ]
    assert [item.error is None for item in tree] == [True, True, True, False]
    assert "also the output of" in tree[3].error and str(inputs[0]) in tree[3].error
    flat = plan_batch(inputs[:2], OutputPlan(tmp_path / "out", True))
    assert flat[1].error is not None and "use --relative-to" in flat[1].error
    outside = plan_batch([tmp_path / "elsewhere" / "x.mp4"], OutputPlan(tmp_path / "out", True, root))
    assert "is not inside --relative-to" in outside[0].error
    assert [item.index for item in tree] == [0, 1, 2, 3]


# --- records, the report, the summary ---------------------------------------------------------------


def test_record_keys_and_round_trip():
    record = Record(3, "in.mp4", "out.mp4", "failed", error="in.mp4: no such file", rank=1)
    data = record.to_dict()
    assert list(data)[:10] == ["input", "output", "status", "error", "sigma", "frames", "seconds", "warnings", "index", "rank"]
    assert Record.from_dict(json.loads(record.to_json())) == record
    with pytest.raises(AssertionError):
        Record(0, "x", None, "exploded")


def test_report_writer_on_a_full_disk_keeps_going():
    writer = ReportWriter(Path("/dev/full"))  # every write fails with ENOSPC
    writer.write(Record(0, "a.mp4", None, "not_started"))
    writer.close()
    assert writer.error is not None and "No space left on device" in writer.error


def test_rank_reports_are_found_beside_the_report(tmp_path):
    report = tmp_path / "report.jsonl"
    for name in ("report.rank0.jsonl", "report.rank12.jsonl", "report.rankX.jsonl", "other.rank0.jsonl"):
        (tmp_path / name).write_text("")
    assert rank_report_path(report, 12) == tmp_path / "report.rank12.jsonl"
    assert rank_reports(report) == [tmp_path / "report.rank0.jsonl", tmp_path / "report.rank12.jsonl"]


def test_summary_of_a_big_batch_lists_only_what_needs_attention():
    records = [Record(i, f"clip{i}.mp4", f"out/clip{i}.denoised.mp4", "skipped", frames=3) for i in range(SUMMARY_ROWS + 5)]
    records[7] = Record(7, "clip7.mp4", None, "failed", error="clip7.mp4: not a readable video")
    records[9] = Record(9, "clip9.mp4", None, "interrupted")
    console = Console(record=True, width=200)
    console.print(summary_table(records, "title"))
    text = console.export_text()
    assert "clip7.mp4" in text and "not a readable video" in text and "clip9.mp4" in text
    assert "clip8.mp4" not in text
    assert f"{SUMMARY_ROWS + 3} skipped, 1 failed, 1 interrupted" in text
    assert totals(records[:2]) == "2 skipped"


# --- signals -----------------------------------------------------------------------------------------


def test_interrupt_guard_raises_only_inside_interruptible():
    previous = signal.getsignal(signal.SIGTERM)
    with InterruptGuard() as guard:
        with pytest.raises(Interrupted) as caught:
            with guard.interruptible():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**6):  # the handler runs between bytecodes: at once
                    pass
        assert caught.value.exit_code == 143 and guard.exit_code == 143
        os.kill(os.getpid(), signal.SIGINT)  # a second signal: ignored, the first one counts
        assert guard.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is previous


def test_interrupt_guard_outside_interruptible_only_remembers():
    with InterruptGuard() as guard:
        os.kill(os.getpid(), signal.SIGHUP)
        assert guard.stop_requested and guard.exit_code == 129
        with pytest.raises(Interrupted):  # the next interruptible block stops at once
            with guard.interruptible():
                pass


def test_shielded_defers_the_interrupt_to_the_end_of_the_block():
    steps = []
    with InterruptGuard() as guard:
        with pytest.raises(Interrupted):
            with guard.interruptible():
                with shielded():
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(10**5):
                        pass
                    steps.append("the shielded block ran to its end")
                steps.append("never: the interrupt is raised as the block ends")
    assert steps == ["the shielded block ran to its end"]


def test_interrupt_guard_leaves_ignored_signals_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with InterruptGuard() as guard:
            os.kill(os.getpid(), signal.SIGHUP)
            assert not guard.stop_requested
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


# --- torchrun ranks ----------------------------------------------------------------------------------


def test_shard_from_env_and_assignment():
    assert Shard.from_env({}) == Shard(0, 1, 0, 1)
    shard = Shard.from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert (shard.rank, shard.world_size, shard.local_rank, shard.distributed) == (3, 4, 1, True)
    for bad in ({"RANK": "4", "WORLD_SIZE": "4"}, {"RANK": "x", "WORLD_SIZE": "2"}, {"LOCAL_RANK": "2", "LOCAL_WORLD_SIZE": "2"}):
        with pytest.raises(ShardError):
            Shard.from_env(bad)
    items = list(range(11))
    for world_size in range(1, 6):
        parts = [Shard(rank, world_size).take(items) for rank in range(world_size)]
        assert sorted(sum(parts, [])) == items  # every item exactly once
        assert parts == [Shard(rank, world_size).take(items) for rank in range(world_size)]  # deterministic


# --- the command ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {name: make_video(folder / f"{name}.mp4", frames=frames, size="24x16") for name, frames in (("a", 3), ("b", 2), ("c", 4))}


def test_inputs_from_a_file_with_a_report_and_summary(clips, identity_checkpoint, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# three clips, one twice, one missing\n{clips['a']}\n\n{clips['b']}\n{clips['a']}\n{tmp_path / 'gone.mp4'}\n")
    out, report = tmp_path / "out", tmp_path / "logs" / "report.jsonl"
    result = denoise(clips["c"], "--inputs-from", listing, "-o", f"{out}/", "--report", report,
                     "--checkpoint", identity_checkpoint, "--sigma", "5")  # fmt: skip
    assert result.exit_code == 1  # gone.mp4
    lines = report_lines(report)
    assert [(Path(r["input"]).name, r["status"], r["index"]) for r in lines] == [
        ("c.mp4", "ok", 0), ("a.mp4", "ok", 1), ("b.mp4", "ok", 2), ("gone.mp4", "failed", 3)]  # fmt: skip
    assert lines[0]["frames"] == 4 and lines[0]["sigma"] == 5.0 and lines[0]["seconds"] > 0
    assert lines[3]["error"] == f"{tmp_path / 'gone.mp4'}: no such file"
    assert sorted(p.name for p in out.iterdir()) == ["a.denoised.mp4", "b.denoised.mp4", "c.denoised.mp4"]
    assert "3 ok, 1 failed" in result.output and "stdit denoise: model unet" in result.output


def test_inputs_from_stdin_with_json(clips, identity_checkpoint, tmp_path):
    result = denoise("--inputs-from", "-", "-o", tmp_path, "--checkpoint", identity_checkpoint, "--json",
                     input=f"{clips['a']}\n{clips['b']}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    statuses = [json.loads(line)["status"] for line in result.output.splitlines() if line.startswith("{")]
    assert statuses == ["ok", "ok"]


def test_skip_existing_skips_complete_outputs_and_redoes_the_rest(clips, identity_checkpoint, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.jsonl"
    args = [clips["a"], clips["b"], clips["c"], "-o", f"{out}/", "--report", report, "--checkpoint", identity_checkpoint,
            "--sigma", "5", "--quiet", "--skip-existing"]  # fmt: skip
    assert denoise(*args).exit_code == 0
    first = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # b's output replaced by a shorter video, c's by junk: neither is complete
    make_video(out / "b.denoised.mp4", frames=1, size="24x16")
    (out / "c.denoised.mp4").write_bytes(b"not a video")
    result = denoise(*args)
    assert result.exit_code == 0, result.output
    lines = report_lines(report)
    assert [r["status"] for r in lines] == ["skipped", "ok", "ok"]
    assert lines[0]["frames"] == 3 and lines[0]["output"] == str(out / "a.denoised.mp4")
    assert (out / "a.denoised.mp4").stat().st_mtime_ns == first["a.denoised.mp4"]  # not rewritten
    assert probe_video(out / "b.denoised.mp4").num_frames == 2 and probe_video(out / "c.denoised.mp4").num_frames == 4
    assert "replacing it, it has 1 of 2 frames" in result.output
    assert "replacing it, it does not open as a complete video" in result.output


def test_skip_existing_redoes_an_output_cut_short(clips, identity_checkpoint, tmp_path):
    # an MP4 whose header (written first) declares every frame, its data cut off: not complete
    out = tmp_path / "out"
    args = [clips["c"], "-o", f"{out}/", "--checkpoint", identity_checkpoint, "--sigma", "5", "--quiet", "--skip-existing"]
    assert denoise(*args).exit_code == 0
    output = out / "c.denoised.mp4"
    data = output.read_bytes()
    output.write_bytes(data[: len(data) * 2 // 3])
    assert probe_video(output).num_frames == 4  # the header alone still says 4
    result = denoise(*args)
    assert result.exit_code == 0, result.output
    assert "replacing it, it does not open as a complete video" in result.output
    assert output.stat().st_size == len(data) and probe_video(output).num_frames == 4


@pytest.mark.parametrize("target", ["input", "output", "notes"])
def test_report_never_replaces_an_input_an_output_or_another_file(clips, identity_checkpoint, tmp_path, target):
    video = tmp_path / "clip.mp4"
    video.write_bytes(clips["a"].read_bytes())
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    output = tmp_path / "clip.out.mp4"
    report = {"input": video, "output": output, "notes": notes}[target]
    before = {path: path.read_bytes() for path in (video, notes)}
    result = denoise(video, "-o", output, "--report", report, "--checkpoint", identity_checkpoint, "--quiet")
    assert result.exit_code == 2 and "--report" in result.output and "Traceback" not in result.output
    assert {path: path.read_bytes() for path in (video, notes)} == before
    assert not output.exists()


def test_relative_to_recreates_the_folders(clips, identity_checkpoint, tmp_path):
    root = tmp_path / "footage"
    (root / "day 1" / "cam é").mkdir(parents=True)
    (root / "day 2").mkdir()
    (root / "day 1" / "cam é" / "x.mp4").write_bytes(clips["a"].read_bytes())
    (root / "day 2" / "x.mp4").write_bytes(clips["b"].read_bytes())
    result = denoise(root / "day 1" / "cam é" / "x.mp4", root / "day 2" / "x.mp4", "-o", tmp_path / "out",
                     "--relative-to", root, "--checkpoint", identity_checkpoint, "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert probe_video(tmp_path / "out" / "day 1" / "cam é" / "x.denoised.mp4").num_frames == 3
    assert probe_video(tmp_path / "out" / "day 2" / "x.denoised.mp4").num_frames == 2


def test_two_inputs_with_one_output_name_do_not_clobber(clips, identity_checkpoint, tmp_path):
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "a.mp4"
    twin.write_bytes(clips["c"].read_bytes())
    result = denoise(clips["a"], twin, "-o", tmp_path / "out", "--checkpoint", identity_checkpoint, "--json")
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert result.exit_code == 1 and [r["status"] for r in records] == ["ok", "failed"]
    assert "is also the output of" in records[1]["error"]
    assert probe_video(tmp_path / "out" / "a.denoised.mp4").num_frames == 3  # a's, not its twin's


def test_report_that_cannot_be_written_does_not_stop_the_batch(clips, identity_checkpoint, tmp_path):
    result = denoise(clips["a"], "-o", tmp_path, "--report", "/dev/full", "--checkpoint", identity_checkpoint, "--quiet")
    assert result.exit_code == 1
    assert "/dev/full: cannot write the report (No space left on device)" in result.output
    assert probe_video(tmp_path / "a.denoised.mp4").num_frames == 3


@pytest.mark.parametrize("args, env, message", [
    (["--skip-existing", "--overwrite"], {}, "contradict"),
    (["--inputs-from", "EMPTY"], {}, "lists none"),
    ([], {}, "no inputs"),
    (["--inputs-from", "-"], {"RANK": "0", "WORLD_SIZE": "2"}, "cannot be shared by torchrun"),
    (["--inputs-from", "MISSING"], {}, "cannot read the list"),
])  # fmt: skip
def test_batch_usage_errors_exit_2(tmp_path, clips, args, env, message):
    (tmp_path / "EMPTY").write_text("# nothing here\n\n")
    args = [str(tmp_path / a) if a in ("EMPTY", "MISSING") else a for a in args]
    if "--skip-existing" in args:
        args.append(str(clips["a"]))
    result = CliRunner(env=env).invoke(main, ["denoise", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_two_runs_cannot_share_one_report(tmp_path):
    # parallel shell jobs given one --report: the second is refused instead of emptying the first's lines
    report = tmp_path / "report.jsonl"
    first = ReportWriter(report)
    first.write(Record(0, "a.mp4", "a.denoised.mp4", "ok"))
    with pytest.raises(OSError, match="another stdit run is writing this report"):
        ReportWriter(report)
    first.write(Record(1, "b.mp4", "b.denoised.mp4", "ok"))
    first.close()
    assert [r["input"] for r in report_lines(report)] == ["a.mp4", "b.mp4"]
    again = ReportWriter(report)  # once the first run is done, a rerun starts the report afresh
    again.close()
    assert report.read_text() == ""


def test_a_batch_stopped_at_the_model_load_still_reports_every_input(clips, identity_checkpoint, tmp_path):
    # options the model refuses (a window overlap longer than its window) stop the batch at the load
    report = tmp_path / "report.jsonl"
    result = denoise(clips["a"], clips["b"], "-o", f"{tmp_path}/out/", "--checkpoint", identity_checkpoint,
                     "--window-overlap", "50", "--report", report, "--quiet")  # fmt: skip
    assert result.exit_code == 2 and "window overlap must be" in result.output
    lines = report_lines(report)
    assert [r["status"] for r in lines] == ["failed", "not_started"] and "window overlap" in lines[0]["error"]


def test_a_log_gets_plain_progress_lines_as_the_video_goes(tmp_path, identity_checkpoint, monkeypatch):
    # stderr a file (a Slurm log, `2> log`): a bar is drawn there only once, at the end of each video
    from stdit_cli.batch import runner

    monkeypatch.setattr(runner, "LOG_EVERY_S", 0.0)
    clip = make_video(tmp_path / "clip.mp4", frames=12)
    result = CliRunner().invoke(main, ["denoise", str(clip), "-o", str(tmp_path / "out.mp4"), "--checkpoint",
                                       str(identity_checkpoint), "--sigma", "5"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("clip.mp4: ")]
    assert lines and all(" / 12 frames, " in line and " fps" in line and line.endswith(" left") for line in lines), result.stderr
    assert runner._progress_line("a.mp4", 1200, 5000, 100.0) == "a.mp4: 1200 / 5000 frames, 12.00 fps, 5:17 left"
    assert runner._clock(3725) == "1:02:05"
