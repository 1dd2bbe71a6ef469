"""Pipes: ``-`` as the input (stdin) or as the output (stdout), as FFmpeg users chain commands.

    ffmpeg -i in.mov -c copy -f matroska - | stdit denoise - -o out.mp4
    stdit denoise in.mp4 -o - | ffplay -
    stdit denoise - -o - < in.mkv > out.mkv

stdit reads a video more than once (a level sample, then every frame), which a pipe cannot give.
So a piped input (``-``, or a path naming a pipe: ``/dev/stdin`` fed by ``|``, a process
substitution's ``/dev/fd/63``) is first copied whole into a temporary folder (under ``$TMPDIR``),
named by the container sniffed from its content (``stdin.mkv``, ``stdin.ts``, ``stdin.png``), and read
from there. A piped input needs ``-o`` (not ``--relative-to``): there is no folder beside it to
write into. Records, messages and the progress bar name it as given (``- (stdin)``).

``-o -`` writes the output to a temporary file, as every output is written, and copies it to stdout
once it is complete: a failed or interrupted run puts nothing there and exits non-zero. A video goes
to stdout as Matroska (streamable, and it holds every audio and subtitle codec as it is), a photo in
its own image format. It takes one input, and stdout then carries nothing else: the summary goes to
stderr, and ``--json`` or a ``--report`` that is stdout is refused. The temporary files are removed
when the command ends, a signal included.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable

import click

from stdit_cli.batch.interrupts import InterruptGuard, Interrupted

if TYPE_CHECKING:
    from stdit_cli.batch.runner import DenoiseJob

#: the name of stdin, and of stdout, on the command line
PIPE = "-"

#: an output streamed to stdout, for a video input
STDOUT_VIDEO_SUFFIX = ".mkv"

#: FFmpeg demuxer names (the first of a comma-separated list) -> the extension a spooled input gets
_SUFFIXES = {
    "matroska": ".mkv", "mov": ".mov", "mpegts": ".ts", "mpeg": ".mpg", "avi": ".avi", "flv": ".flv", "nut": ".nut",
    "ivf": ".ivf", "h264": ".h264", "hevc": ".hevc", "yuv4mpegpipe": ".y4m", "gif": ".gif", "asf": ".wmv", "dv": ".dv",
    "mxf": ".mxf", "png_pipe": ".png", "jpeg_pipe": ".jpg", "webp_pipe": ".webp", "tiff_pipe": ".tif", "bmp_pipe": ".bmp",
}  # fmt: skip


def run_piped(job: DenoiseJob, run_batch: Callable[[DenoiseJob], int]) -> int:
    """``run_batch`` on ``job`` with its pipes as files: the piped inputs spooled first, the output for
    stdout delivered after; a signal while spooling or delivering stops the command as it would a
    batch (128 + N, the temporary files removed, nothing on stdout)."""
    with InterruptGuard() as guard:
        try:
            with guard.interruptible():
                piped = PipedJob.start(job)
        except Interrupted as stop:
            click.echo(f"stopped: {stop} while reading the piped input; nothing was written", err=True)
            return stop.exit_code
    with piped:
        code = run_batch(piped.job)
        with InterruptGuard() as guard:
            try:
                with guard.interruptible():
                    return piped.deliver(code)
            except Interrupted as stop:
                click.echo(f"stopped: {stop} while writing to stdout; the output there is incomplete", err=True)
                return stop.exit_code


def is_pipe(path: Path) -> bool:
    """``-``, or a path that names a pipe or a socket (``/dev/stdin`` fed by ``|``; not a device
    such as ``/dev/zero``, which would never end: the batch refuses those as not regular files)."""
    if str(path) == PIPE:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # missing: the batch says so in its own words
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def uses_pipes(job: DenoiseJob) -> bool:
    return job.output == PIPE or any(is_pipe(path) for path in job.inputs)


def sniffed_suffix(path: Path) -> str:
    """The extension of the container FFmpeg finds in ``path`` ("" if none)."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _SUFFIXES.get(container.format.name.split(",")[0], "")
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return ""  # not a video: the batch says so when it opens it


def spool(source: BinaryIO, folder: Path, stem: str) -> Path:
    """Copy ``source`` whole into ``folder`` as ``stem`` plus its sniffed extension."""
    raw = folder / stem
    with open(raw, "wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    named = raw.with_name(stem + sniffed_suffix(raw))
    os.replace(raw, named)
    return named


@dataclass
class PipedJob:
    """A job whose piped inputs are spooled to files and whose ``-o -`` output goes to a temporary file."""

    job: DenoiseJob  # the job as the batch runs it: files only
    folder: Path  # the temporary folder holding the spooled inputs and the output for stdout
    stdout_output: Path | None = None
    spooled: list[Path] = field(default_factory=list)

    @classmethod
    def start(cls, job: DenoiseJob, stdin: BinaryIO | None = None) -> PipedJob:
        """Check how the pipes are used (`click.UsageError`), then spool the piped inputs."""
        _check_usage(job)
        folder = Path(tempfile.mkdtemp(prefix="stdit-pipe-"))
        piped = cls(job, folder)
        try:
            inputs = [piped._spooled(path, stdin) for path in job.inputs]
            shown_as = {str(spooled): _name_of(path) for path, spooled in zip(job.inputs, inputs, strict=True) if spooled != path}
            output = job.output
            if job.output == PIPE:
                piped.stdout_output = folder / _stdout_name(inputs[0])
                output = str(piped.stdout_output)
                shown_as[output] = "- (stdout)"
            piped.job = replace(job, inputs=inputs, output=output, summary_to_stderr=job.output == PIPE, shown_as=shown_as)
        except BaseException:
            piped.close()
            raise
        return piped

    def _spooled(self, path: Path, stdin: BinaryIO | None) -> Path:
        if not is_pipe(path):
            return path
        stem = "stdin" if str(path) == PIPE else path.name
        try:
            if str(path) == PIPE:
                source = stdin if stdin is not None else sys.stdin.buffer
                spooled = spool(source, self.folder, stem)
            else:
                with open(path, "rb") as source:
                    spooled = spool(source, self.folder, stem)
        except OSError as error:
            raise click.ClickException(f"{path}: cannot save the piped input in {self.folder.parent} "
                                       f"({error.strerror or error}); set TMPDIR to a folder with room") from None  # fmt: skip
        self.spooled.append(spooled)  # empty: the batch fails it alone ("empty file (0 bytes)"), as any empty input
        return spooled

    def deliver(self, code: int, stdout: BinaryIO | None = None) -> int:
        """After the batch: its output to stdout when it succeeded; the exit code."""
        if self.stdout_output is None or code != 0:
            return code
        target = stdout if stdout is not None else sys.stdout.buffer
        try:
            with open(self.stdout_output, "rb") as output:
                shutil.copyfileobj(output, target, 1 << 20)
            target.flush()
        except BrokenPipeError:
            if stdout is None:  # the reader went away (`| head -c`): later writes, and the exit's flush, go nowhere
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            click.echo("error: stdout was closed before the whole output was written", err=True)
            return 1
        return code

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PipedJob:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _name_of(path: Path) -> str:
    """How a piped input is named in records and messages: as given, stdin as ``- (stdin)``."""
    return "- (stdin)" if str(path) == PIPE else str(path)


def _check_usage(job: DenoiseJob) -> None:
    """The uses of ``-`` that cannot work, refused before stdin is read."""
    from_stdin = [path for path in job.inputs if str(path) == PIPE]
    if len(from_stdin) > 1:
        raise click.UsageError("- (stdin) is given more than once")
    if from_stdin and job.inputs_from == PIPE:
        raise click.UsageError("- (stdin) cannot be both a video and --inputs-from -: give the list as a file")
    if from_stdin and sys.stdin is None:
        raise click.UsageError("- reads a video from stdin, which is closed")
    if from_stdin and sys.stdin.isatty():
        raise click.UsageError("- reads a video from stdin, which is a terminal: pipe one in (... | stdit denoise - -o out.mp4)")
    piped = [path for path in job.inputs if is_pipe(path)]
    if job.output is None and piped:
        raise click.UsageError("a piped input has no folder to write beside: give -o FILE, -o FOLDER, or -o - for stdout")
    if piped and job.relative_to is not None:
        raise click.UsageError("a piped input has no folder to recreate under -o with --relative-to")
    if job.output != PIPE:
        return
    if len(job.inputs) != 1 or job.inputs_from is not None:
        raise click.UsageError("-o - (stdout) takes one input, given on the command line")
    if job.as_json:
        raise click.UsageError("-o - puts the video on stdout, where --json would print: write --report FILE instead")
    if job.skip_existing or job.relative_to is not None:
        raise click.UsageError("-o - (stdout) has no output file for --skip-existing or --relative-to")
    if sys.stdout is None:
        raise click.UsageError("-o - writes the video to stdout, which is closed")
    if sys.stdout.isatty():
        raise click.UsageError("-o - writes the video to stdout, which is a terminal: redirect it (> out.mkv) or pipe it (| ffplay -)")
    if job.report is not None and _is_stdout(job.report):
        raise click.UsageError(f"-o - puts the video on stdout, where --report {job.report} would write: name a file for the report")
    if str(job.inputs[0]) != PIPE and Path(job.inputs[0]).is_dir():
        raise click.UsageError("-o - (stdout) takes a video or a photo, not a folder of pictures")


def _is_stdout(path: Path) -> bool:
    """Whether ``path`` is this process's stdout (``/dev/stdout``, ``/dev/fd/1``, or the file it was redirected to)."""
    if os.path.abspath(path) in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        return True
    try:
        named, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (named.st_dev, named.st_ino) == (out.st_dev, out.st_ino)


def _stdout_name(input_path: Path) -> str:
    """The temporary output's name: a video as Matroska, a photo in its own format."""
    from stdit_cli.video import default_output_path
    from stdit_cli.video.image_writer import IMAGE_SUFFIXES

    default = default_output_path(input_path)
    suffix = default.suffix if default.suffix.lower() in IMAGE_SUFFIXES else STDOUT_VIDEO_SUFFIX
    return default.stem + suffix
