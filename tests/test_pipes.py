"""`-` as the input (stdin) and as `-o` (stdout), and pipes named by path (stdit_cli.batch.pipes)."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
from click.testing import CliRunner
from conftest import make_video

from stdit_cli.cli import main
from stdit_cli.video import VideoReader, probe_video


def _frames(path):
    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


def _denoise(checkpoint, *args, stdin: bytes | None = None):
    options = ["denoise", *map(str, args), "--checkpoint", str(checkpoint), "--sigma", "5"]
    return CliRunner().invoke(main, options, input=stdin, catch_exceptions=False)


def test_a_video_piped_in_and_out_is_denoised_as_the_file_is(tmp_path, identity_checkpoint, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    clip = make_video(tmp_path / "clip.mkv", frames=6, lossless=True)
    reference = tmp_path / "reference.mkv"
    assert _denoise(identity_checkpoint, clip, "-o", reference, "--quiet").exit_code == 0
    # `ffmpeg ... -f matroska - | stdit denoise - -o out.mkv`
    piped_in = tmp_path / "piped_in.mkv"
    result = _denoise(identity_checkpoint, "-", "-o", piped_in, "--quiet", stdin=clip.read_bytes())
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(_frames(piped_in), _frames(reference))
    # `stdit denoise clip.mkv -o - | ffplay -`: the complete video on stdout (Matroska), nothing else there
    result = _denoise(identity_checkpoint, clip, "-o", "-", "--report", tmp_path / "report.jsonl")
    assert result.exit_code == 0, result.output
    piped_out = tmp_path / "piped_out.mkv"
    piped_out.write_bytes(result.stdout_bytes)
    assert probe_video(piped_out).codec == "ffv1"  # a lossless input stays lossless
    np.testing.assert_array_equal(_frames(piped_out), _frames(reference))
    # both ways at once; the report names the pipes, not the temporary files standing for them
    result = _denoise(identity_checkpoint, "-", "-o", "-", "--report", tmp_path / "both.jsonl", stdin=clip.read_bytes())
    assert result.exit_code == 0, result.output
    both = tmp_path / "both.mkv"
    both.write_bytes(result.stdout_bytes)
    np.testing.assert_array_equal(_frames(both), _frames(reference))
    record = json.loads((tmp_path / "both.jsonl").read_text().splitlines()[0])
    assert (record["input"], record["output"], record["status"]) == ("- (stdin)", "- (stdout)", "ok")
    assert os.listdir(tmp_path / "tmp") == []  # the spooled input and the output for stdout are gone


def test_a_named_pipe_is_read_whole_first(tmp_path, identity_checkpoint):
    # `stdit denoise <(ffmpeg -i in.mov -f matroska -) -o out.mp4`, `cat clip | stdit denoise /dev/stdin -o ...`
    clip = make_video(tmp_path / "clip.mkv", frames=6, lossless=True)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(clip.read_bytes()), daemon=True)
    writer.start()
    out = tmp_path / "out.mkv"
    result = _denoise(identity_checkpoint, fifo, "-o", out, "--quiet")
    if writer.is_alive():  # nothing read the pipe: open it for reading so the writer ends
        with open(fifo, "rb") as unblock:
            unblock.read()
    writer.join(timeout=10)
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(_frames(out), _denoise_reference(tmp_path, clip, identity_checkpoint))


def _denoise_reference(tmp_path, clip, checkpoint):
    reference = tmp_path / "reference.mkv"
    assert _denoise(checkpoint, clip, "-o", reference, "--quiet").exit_code == 0
    return _frames(reference)


def test_pipes_used_in_ways_that_cannot_work_are_refused(tmp_path, identity_checkpoint):
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    cases = [
        (["-"], "give -o FILE, -o FOLDER, or -o - for stdout"),  # no folder beside stdin
        ([clip, clip, "-o", "-"], "-o - (stdout) takes one input"),
        ([clip, "-o", "-", "--json"], "where --json would print"),
        (["-", "-", "-o", tmp_path / "out"], "given more than once"),
        ([clip, "-o", "-", "--skip-existing"], "no output file for --skip-existing"),
        ([clip, "-o", "-", "--report", "/dev/stdout"], "where --report /dev/stdout would write"),
        (["-", "-o", tmp_path / "out", "--relative-to", tmp_path], "no folder to recreate under -o with --relative-to"),
        ([clip, "-o", tmp_path / "out", "--report", "-"], "--report -: name a file for the report"),
    ]
    for args, message in cases:
        result = _denoise(identity_checkpoint, *args, "--quiet", stdin=clip.read_bytes())
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert not (tmp_path / "-").exists()  # `-o -` was once a folder named "-"


def test_a_failed_run_puts_nothing_on_stdout(tmp_path, identity_checkpoint):
    result = _denoise(identity_checkpoint, "-", "-o", "-", "--quiet", stdin=b"not a video at all")
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert "- (stdin): not a readable video" in result.stderr
    # an empty stdin fails alone, as an empty file does; the rest of the batch goes on
    clip = make_video(tmp_path / "clip.mp4", frames=3)
    result = _denoise(identity_checkpoint, clip, "-", "-o", f"{tmp_path}/out/", "--quiet", "--report", tmp_path / "r.jsonl", stdin=b"")
    assert result.exit_code == 1 and "- (stdin): empty file (0 bytes)" in result.output, result.output
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["input"], r["status"]) for r in records] == [(str(clip), "ok"), ("- (stdin)", "failed")]


def test_pipes_are_named_as_given_whatever_the_container(tmp_path, identity_checkpoint):
    # a PPM piped in has no extension of its own: its temporary file is ".../stdin", the start of its output's name
    from PIL import Image

    picture = tmp_path / "frame.ppm"
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(picture)
    result = _denoise(identity_checkpoint, "-", "-o", "-", "--report", tmp_path / "r.jsonl", stdin=picture.read_bytes())
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "r.jsonl").read_text())
    assert (record["input"], record["output"]) == ("- (stdin)", "- (stdout)")
    assert "- (stdin)" in result.stderr and "stdit-pipe-" not in result.stderr  # the summary and the bar


def test_no_room_for_ffmpeg_to_say_so_is_still_named():
    # with $TMPDIR full, FFmpeg's own log has no room: its exit status (AVERROR(ENOSPC)) is all there is
    from stdit_cli.video.writer import _no_room_cause

    assert _no_room_cause("", 228) == "no space left on device (the partial output was removed)"
    assert _no_room_cause("", 1) is None


def test_a_reader_that_goes_away_is_a_one_line_error(tmp_path, capsys):
    # `stdit denoise clip.mp4 -o - | head -c 1000`: the reader closes before the whole video is written
    from stdit_cli.batch.pipes import PipedJob

    class ClosedPipe:
        def write(self, data):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

    output = tmp_path / "out.mkv"
    output.write_bytes(b"x" * 100)
    piped = PipedJob(job=None, folder=tmp_path, stdout_output=output)
    assert piped.deliver(0, ClosedPipe()) == 1
    assert "stdout was closed before the whole output was written" in capsys.readouterr().err
    assert piped.deliver(3, ClosedPipe()) == 3  # a failed run writes nothing, and keeps its own code


def test_a_signal_while_stdin_is_read_stops_cleanly(tmp_path):
    # `cat endless_stream | stdit denoise - -o out.mp4`, then Ctrl-C or kill: 128 + N, no temporary folder left
    import signal
    import subprocess
    import sys
    import time

    spool_root = tmp_path / "tmp"
    spool_root.mkdir()
    command = [sys.executable, "-m", "stdit_cli", "denoise", "-", "-o", str(tmp_path / "out.mp4")]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(spool_root)})
    process.stdin.write(b"\x1aE\xdf\xa3" + b"\0" * 4096)  # a Matroska start, and no end
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not any(spool_root.iterdir()) and time.monotonic() < deadline:  # spooling has begun
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    process.stdin.close()
    assert process.returncode in (143, -signal.SIGTERM), stderr
    assert b"SIGTERM while reading the piped input" in stderr
    assert list(spool_root.iterdir()) == [] and not (tmp_path / "out.mp4").exists()
