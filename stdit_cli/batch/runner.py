"""``stdit denoise`` over a batch: one model load, a progress bar per video, a report, a summary.

The parts live in their own modules: the input list, the outputs and `--skip-existing` in
`inputs`, records and the JSONL report in `report`, signals in `interrupts`, torchrun in
`sharding`. This module runs them in order and talks to the user: errors and warnings go to
stderr one line each, `--json` lines and the summary table to stdout, and nothing a user can
cause ends in a traceback.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stdit_cli.batch.inputs import (
    BatchError,
    BatchItem,
    OutputPlan,
    is_finished,
    plan_batch,
    prepare_output,
    read_input_list,
    unique_inputs,
)
from stdit_cli.batch.interrupts import InterruptGuard, Interrupted
from stdit_cli.batch.report import (
    Record, ReportWriter, check_report_path, rank_report_path, rank_reports, summary_table, write_report,
)  # fmt: skip
from stdit_cli.batch.sharding import RankGroup, Shard, ShardError
from stdit_cli.choices import SetupError
from stdit_cli.pipeline.options import DenoiseOptions, DenoiseResult
from stdit_cli.video import OUTPUT_SUFFIXES, VideoError, VideoWarning, probe_video
from stdit_cli.video.frame_folder import check_folder_output
from stdit_cli.video.image_writer import check_image_output

if TYPE_CHECKING:
    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.opening import Opening

#: warnings meant for the user, kept in each video's record (others are shown the usual way)
_USER_WARNINGS = (VideoWarning, RuntimeWarning)


@dataclass
class DenoiseJob:
    """Everything ``stdit denoise`` was asked to do."""

    inputs: list[Path]
    output: str | None
    overwrite: bool
    model_name: str | None  # None: the backbone --checkpoint holds
    checkpoint: Path | None
    options: DenoiseOptions
    threads: int | None = None
    quiet: bool = False
    as_json: bool = False
    inputs_from: str | None = None  # a file of paths, or "-" for stdin
    skip_existing: bool = False
    report: Path | None = None
    relative_to: Path | None = None
    summary_to_stderr: bool = False  # stdout carries the video (`-o -`, `stdit_cli.batch.pipes`)
    #: temporary paths standing for a pipe -> how records and messages name it ("- (stdin)")
    shown_as: dict[str, str] = field(default_factory=dict)


@dataclass
class _Batch:
    """What every video of a running batch shares."""

    job: DenoiseJob
    plan: OutputPlan
    shard: Shard
    guard: InterruptGuard
    console: Console
    denoiser: VideoDenoiser | None = None  # loaded when the first input opens as a video
    #: ``--noise auto`` with no number: the real-noise model above, and the Gaussian one for videos
    #: whose noise reads as white (`stdit_cli.pipeline.noise_kind`), loaded when the first such video comes
    picks_weights: bool = False
    white_denoiser: VideoDenoiser | None = None
    #: ... and the one for white noise in lossy 4:2:0 video, where it ships (`weights/<model>-h264`)
    compressed_ships: bool = False
    compressed_denoiser: VideoDenoiser | None = None
    #: the real-noise model for black-and-white video, where it ships (`weights/<model>-real-gray`), loaded
    #: when the first gray video reads as camera noise
    gray_ships: bool = False
    gray_denoiser: VideoDenoiser | None = None
    records: list[Record] = field(default_factory=list)

    def ready_denoiser(self) -> VideoDenoiser:
        """The loaded model, loading it (and torch) on first use: a batch of unreadable inputs
        fails without either."""
        if self.denoiser is None:
            self.denoiser = _load_denoiser(self.job, self.shard)
            self.picks_weights = self.job.options.noise == "auto" and self.denoiser.options.noise == "real"
            # trained on the level the estimator reads, so for levels read, not for a --sigma given
            if self.denoiser.options.noise == "real" and self.job.checkpoint is None and self.job.options.sigma_255 is None:
                from stdit_cli.weights import gray_real_noise_ships

                self.gray_ships = gray_real_noise_ships(self.job.model_name)
            if self.picks_weights:
                from stdit_cli.weights import compressed_noise_ships

                # --fast keeps its own (cheaper) Gaussian weights for compressed white noise too
                self.compressed_ships = not self.job.options.fast and compressed_noise_ships(self.job.model_name)
        return self.denoiser

    def denoiser_for(self, opening: Opening) -> VideoDenoiser:
        """The model for this video: with ``--noise auto`` and no number, the Gaussian one when
        its noise reads as white (the one for compressed white noise when the video is lossy 4:2:0
        and that ships), else the one loaded first: the real-noise one, or for a black-and-white video
        the real-noise one trained on gray camera noise, where that ships."""
        from stdit_cli.pipeline.gray import frames_are_gray

        if not (self.picks_weights and self.denoiser.reads_as_white(opening)):
            if self.gray_ships and frames_are_gray(opening.sample):
                if self.gray_denoiser is None:
                    self.gray_denoiser = _load_denoiser(self.job, self.shard, noise="real", gray=True)
                return self.gray_denoiser
            return self.denoiser
        from stdit_cli.pipeline.noise_kind import stored_lossily

        # a gray video's noise is made i.i.d. RGB noise before the model sees it (pipeline.gray): the
        # weights for that, not the ones for 4:2:0 colour noise (gray H.264 at sigma 25: +0.6 dB)
        # a noise-free picture (flat_areas) runs at level 0: the plain Gaussian weights, nothing else to load
        lossy_colour = stored_lossily(opening.reader.info) and not frames_are_gray(opening.sample)
        if self.compressed_ships and lossy_colour and not opening.noise_free:
            if self.compressed_denoiser is None:
                self.compressed_denoiser = _load_denoiser(self.job, self.shard, noise="gaussian", compressed=True)
            return self.compressed_denoiser
        if self.white_denoiser is None:
            self.white_denoiser = _load_denoiser(self.job, self.shard, noise="gaussian")
        return self.white_denoiser

    @property
    def show_progress(self) -> bool:
        return not (self.job.quiet or self.job.as_json or self.shard.rank > 0)

    def say(self, kind: str, style: str, message: str) -> None:
        """One line on stderr: `error: ...`, `warning: ...` (prefixed by the rank under torchrun)."""
        rank = f"rank {self.shard.rank}: " if self.shard.distributed else ""
        self.console.print(f"[{style}]{kind}:[/] {rank}{escape(message)}", soft_wrap=True, highlight=False)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TextColumn("{task.fields[fps]:.2f} fps"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _ready(batch: _Batch, input_path: Path) -> tuple[VideoDenoiser, Opening | None]:
    """The model, and for the batch's first video the video opened (and its level sample read) in a
    thread while torch and the model load (`stdit_cli.pipeline.opening`); later videos open as they go."""
    if batch.denoiser is not None:
        return batch.denoiser, None
    from stdit_cli.pipeline.opening import BackgroundOpening

    with BackgroundOpening(input_path, read_level=batch.job.options.sigma_255 is None) as opening:
        denoiser = batch.ready_denoiser()
        return denoiser, opening.take()


def _chosen(batch: _Batch, input_path: Path) -> tuple[VideoDenoiser, Opening | None]:
    """:func:`_ready`, then the model for this video's kind of noise (`_Batch.denoiser_for`)."""
    denoiser, opening = _ready(batch, input_path)
    if not (batch.picks_weights or batch.gray_ships):
        return denoiser, opening
    from stdit_cli.pipeline.opening import open_video

    if opening is None:
        opening = open_video(input_path, read_level=True)
    try:
        return batch.denoiser_for(opening), opening
    except BaseException:
        opening.reader.close()
        raise


#: where stderr is not a terminal (a log file, Slurm's output), a plain progress line this often:
#: a bar is drawn there only once, when the video is done
LOG_EVERY_S = 30.0


def _progress_line(name: str, done: int, total: int, elapsed: float) -> str:
    """``clip.mp4: 1200 / 5000 frames, 12.31 fps, 5:08 left``."""
    fps = done / elapsed if elapsed else 0.0
    left = f", {_clock((total - done) / fps)} left" if fps and done < total else ""
    return f"{name}: {done} / {total} frames, {fps:.2f} fps{left}"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _denoise_file(batch: _Batch, input_path: Path, output_path: Path) -> DenoiseResult:
    """One video through the model, with a progress bar unless quiet (and, in a log, a line every
    :data:`LOG_EVERY_S` seconds)."""
    denoiser, opening = _chosen(batch, input_path)
    if not batch.show_progress:
        return denoiser.denoise_file(input_path, output_path, opening=opening)
    logged = [] if batch.console.is_terminal else [time.monotonic()]  # when the last line was written
    shown_name = batch.job.shown_as.get(str(input_path), input_path.name)  # "- (stdin)", not its temporary file
    with _progress(batch.console) as progress:
        tasks = []  # the bar appears once the video has opened and its length is known

        def update(done: int, total: int) -> None:
            if not tasks:
                tasks.append(progress.add_task(escape(shown_name), total=total, fps=0.0))
            elapsed = progress.tasks[0].elapsed or 0.0
            progress.update(tasks[0], completed=done, total=total, fps=done / elapsed if elapsed else 0.0)
            if logged and 0 < done < total and time.monotonic() - logged[0] >= LOG_EVERY_S:
                logged[0] = time.monotonic()
                progress.console.print(_progress_line(shown_name, done, total, elapsed), highlight=False, markup=False)

        return denoiser.denoise_file(input_path, output_path, update, opening=opening)


def _process(batch: _Batch, item: BatchItem) -> Record:
    """Skip, denoise or refuse one input; raises only `Interrupted` and what the caller reports."""
    rank = batch.shard.rank
    output = None if item.output is None else str(item.output)
    if item.error is not None:
        return Record(item.index, str(item.input), output, "failed", error=item.error, rank=rank)
    info = probe_video(item.input)  # a bad input fails here, before any folder is made or model loaded
    job = batch.job
    output_path = prepare_output(item, batch.plan, overwrite=job.overwrite or job.skip_existing)
    check_image_output(output_path, info.num_frames, job.options.lossless)  # one frame, not --lossless JPEG
    if output_path.suffix.lower() not in OUTPUT_SUFFIXES:  # pictures back into a folder: not --lossless JPEG
        check_folder_output(info, job.options.lossless)
    if job.skip_existing:
        finished, frames = is_finished(output_path, info)
        if finished:
            return Record(item.index, str(item.input), str(output_path), "skipped", frames=frames, rank=rank)
        if output_path.exists():
            found = "does not open as a complete video" if frames is None else f"has {frames} of {info.num_frames} frames"
            warnings.warn(f"{output_path}: replacing it, it {found}", RuntimeWarning, stacklevel=1)
    with batch.guard.interruptible():
        result = _denoise_file(batch, item.input, output_path)
    return Record.from_result(item.index, result, [], rank=rank)


def _run_item(batch: _Batch, item: BatchItem) -> Record:
    """`_process` with every failure turned into a `failed` record and the warnings kept."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            record = _process(batch, item)
        except _SetupFailed:
            raise  # no model: the whole batch stops
        except (VideoError, OSError, MemoryError, RuntimeError, ValueError) as error:
            record = _failed(batch, item, _one_line(error))
        except Exception as error:  # a bug must not cost the rest of the batch
            record = _failed(batch, item, f"internal error ({type(error).__name__}: {_one_line(error)})")
    record.warnings = _user_warnings(caught, item.input)
    return record


def _failed(batch: _Batch, item: BatchItem, message: str) -> Record:
    if not message.startswith(str(item.input)):
        message = f"{item.input}: {message}"
    output = None if item.output is None else str(item.output)
    return Record(item.index, str(item.input), output, "failed", error=message, rank=batch.shard.rank)


def _user_warnings(caught: list[warnings.WarningMessage], input_path: Path) -> list[str]:
    """Messages of the user-facing warnings, once each, naming the file; the rest re-emitted."""
    messages: list[str] = []
    for warning in caught:
        if not issubclass(warning.category, _USER_WARNINGS):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            continue
        text = _one_line(warning.message)
        if str(input_path) not in text and not isinstance(warning.message, VideoWarning):
            text = f"{input_path}: {text}"
        if text not in messages:
            messages.append(text)
    return messages


def _echo_json(line: str) -> None:
    """One JSON line on stdout; a reader that went away (``--json | head``) does not stop the batch."""
    try:
        click.echo(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # later lines (and the interpreter's final flush) go nowhere instead of raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _shown(record: Record, shown_as: dict[str, str]) -> Record:
    """``record`` with the temporary files that stand for pipes named as the user gave them: the
    input and output fields by exact value, messages by substitution, longest path first (a spooled
    ``.../stdin`` is the start of its output's ``.../stdin.denoised.mkv``)."""
    def show(text: str | None) -> str | None:
        for path in sorted(shown_as, key=len, reverse=True):
            text = None if text is None else text.replace(path, shown_as[path])
        return text

    def exact(value: str | None) -> str | None:
        return shown_as.get(value, value) if value is not None else None

    return replace(record, input=exact(record.input), output=exact(record.output), error=show(record.error),
                   warnings=[show(message) for message in record.warnings])  # fmt: skip


def _emit(batch: _Batch, record: Record, report: ReportWriter) -> None:
    """A finished record: into the report, onto stdout (`--json`), errors/warnings on stderr."""
    if batch.job.shown_as:
        record = _shown(record, batch.job.shown_as)
    batch.records.append(record)
    report.write(record)
    for message in record.warnings:
        batch.say("warning", "yellow", message)
    if batch.job.as_json:
        _echo_json(record.to_json())
    if record.status == "failed":  # on stderr with --json too: the JSON line is for programs, this for people
        batch.say("error", "red", record.error or "failed")


def _run_items(batch: _Batch, items: list[BatchItem], report: ReportWriter) -> None:
    """Every item in order until done or interrupted; the rest are recorded as not started."""
    position = 0
    while position < len(items) and not batch.guard.stop_requested:
        item = items[position]
        try:
            record = _run_item(batch, item)
        except Interrupted:
            output = None if item.output is None else str(item.output)
            record = Record(item.index, str(item.input), output, "interrupted",
                            error=f"{item.input}: interrupted; its partial output was removed", rank=batch.shard.rank)  # fmt: skip
        except _SetupFailed as error:  # no model: the batch stops, and the report says so input by input
            output = None if item.output is None else str(item.output)
            record = Record(item.index, str(item.input), output, "failed", error=str(error), rank=batch.shard.rank)
            batch.records.append(record)
            stopped = [record] + [Record(rest.index, str(rest.input), None if rest.output is None else str(rest.output),
                                         "not_started", rank=batch.shard.rank) for rest in items[position + 1 :]]  # fmt: skip
            for line in stopped:  # the error itself is said once, as the command's (exit 1)
                report.write(line)
                if batch.job.as_json:
                    _echo_json(line.to_json())
            raise
        _emit(batch, record, report)
        position += 1
    for item in items[position:]:
        output = None if item.output is None else str(item.output)
        _emit(batch, Record(item.index, str(item.input), output, "not_started", rank=batch.shard.rank), report)


def _collect_inputs(job: DenoiseJob, shard: Shard) -> list[Path]:
    """The batch's inputs: command line first, then the list; each file once."""
    inputs = list(job.inputs)
    if job.inputs_from is not None:
        if job.inputs_from == "-" and shard.distributed:
            raise BatchError("--inputs-from - (stdin) cannot be shared by torchrun processes: give a file")
        inputs += read_input_list(job.inputs_from)
    inputs = unique_inputs(inputs)
    if not inputs:
        where = f" ({job.inputs_from} lists none)" if job.inputs_from is not None else ""
        raise BatchError(f"no inputs: give video files or --inputs-from FILE{where}")
    return inputs


def _cpu_threads(job: DenoiseJob, shard: Shard) -> int | None:
    """`--threads`; else under torchrun this process's share of the cores (torchrun's default
    OMP_NUM_THREADS=1 would leave cores idle); else OMP_NUM_THREADS when set; else every core."""
    if job.threads is not None:
        return job.threads
    if shard.distributed:
        return shard.cpu_threads()
    from_env = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(from_env) if from_env.isdigit() and int(from_env) > 0 else None


class _SetupFailed(Exception):
    """The model, its checkpoint or the device could not be set up: one line, and the batch stops."""


def _load_denoiser(job: DenoiseJob, shard: Shard, noise: str | None = None, compressed: bool = False,
                   gray: bool = False) -> VideoDenoiser:  # fmt: skip
    """Import torch and the pipeline, set the threads and the GPU, load the weights (for ``noise``,
    else for ``--noise`` as the job resolves it; ``compressed``: those for white noise in lossy 4:2:0 video;
    ``gray``: the real-noise ones for black-and-white video)."""
    from stdit_cli.startup import lean_pipeline_import

    with lean_pipeline_import(job.options.compile):
        from stdit_cli.pipeline.denoiser import VideoDenoiser
        from stdit_cli.runtime import RuntimeSetupError, resolve_device, set_threads
        from stdit_cli.weights import CheckpointError, real_noise_ships, resolve_checkpoint

    try:
        set_threads(_cpu_threads(job, shard))
        shard.use_local_gpu(job.options.device)
        noise = noise or job.options.resolve_noise(real_ships=job.checkpoint is None and real_noise_ships(job.model_name))
        checkpoint = resolve_checkpoint(job.model_name, job.checkpoint, fast=job.options.fast,
                                        gpu=resolve_device(job.options.device).type == "cuda", real=noise == "real",
                                        compressed=compressed, gray=gray)
        denoiser = VideoDenoiser(checkpoint, replace(job.options, noise=noise))
    except (CheckpointError, RuntimeSetupError, ValueError, OSError) as error:
        raise _SetupFailed(_one_line(error)) from None
    # torch, diffusers and the model live until exit: keep the collector from walking them
    # again in every full collection and once more at exit (1 s of teardown)
    gc.freeze()
    return denoiser


def _merge(batch: _Batch, group: RankGroup, report: ReportWriter) -> list[Record] | None:
    """Under torchrun: every rank's records on rank 0, which writes the merged report.

    Returns the merged records on rank 0, [] on the other ranks, None when the gather failed.
    """
    gathered = group.gather([record.to_dict() for record in batch.records])
    if gathered is None:
        batch.say("error", "red", "could not collect the other ranks' records (one stopped early); "
                  "each rank's report says what it did")  # fmt: skip
        return None
    if batch.shard.rank != 0:
        return []
    merged = sorted((Record.from_dict(data) for data in gathered), key=lambda record: record.index)
    report_path = batch.job.report
    if report_path is not None and report.error is None:
        try:
            write_report(report_path, merged)
        except OSError as error:
            batch.say("error", "red", f"{report_path}: cannot write the merged report ({error.strerror}); the rank reports are kept")
            return merged
        for stale in rank_reports(report_path):  # this run's, and any left by an earlier one
            stale.unlink(missing_ok=True)
    return merged


def _exit_code(records: list[Record], guard: InterruptGuard, report: ReportWriter) -> int:
    if guard.exit_code is not None:
        return guard.exit_code
    if report.error is not None:
        return 1
    return 0 if all(record.ok for record in records) else 1


def _print_summary(batch: _Batch, records: list[Record]) -> None:
    denoiser = batch.denoiser
    if denoiser is None:  # no input opened: nothing was loaded
        title = f"stdit denoise: model {batch.job.model_name or 'of ' + str(batch.job.checkpoint)}"
    else:
        title = f"stdit denoise: model {denoiser.adapter.name} on {denoiser.device} ({denoiser.precision})"
    if batch.shard.distributed:
        title += f", {batch.shard.world_size} processes"
    Console(stderr=batch.job.summary_to_stderr).print(summary_table(records, title))


def _finish(batch: _Batch, group: RankGroup, report: ReportWriter) -> int:
    """Close the report, merge under torchrun, print the summary; return the exit code."""
    report.close()
    if report.error is not None:
        batch.say("error", "red", report.error)
    if batch.guard.stop_requested:
        name = signal.Signals(batch.guard.signum).name
        done = sum(record.ok for record in batch.records)
        dropped = "; the video in progress was discarded" if any(r.status == "interrupted" for r in batch.records) else ""
        # a piped input is gone once read, and stdout has no file to find again: no rerun finishes those
        rerun = "" if batch.job.shown_as else "; run again with --skip-existing to finish"
        batch.say("stopped", "yellow", f"{name}: {done} of {len(batch.records)} inputs done{dropped}{rerun}")
    records = batch.records
    if batch.shard.distributed and not batch.guard.stop_requested:
        merged = _merge(batch, group, report)
        if merged is not None and batch.shard.rank != 0:
            return _exit_code([], batch.guard, report)  # rank 0 speaks for the whole batch
        records = merged if merged is not None else records
    if not batch.job.quiet and not batch.job.as_json and batch.shard.rank == 0:
        _print_summary(batch, records)
    return _exit_code(records, batch.guard, report)


def _start(job: DenoiseJob) -> tuple[Shard, OutputPlan, list[BatchItem]]:
    """Read the launch, the inputs and the outputs; usage errors exit 2 before any work."""
    try:
        shard = Shard.from_env()
    except ShardError as error:
        raise click.ClickException(str(error)) from None
    if job.overwrite and job.skip_existing:
        raise click.UsageError("--overwrite and --skip-existing contradict each other: choose one")
    try:
        inputs = _collect_inputs(job, shard)
        plan = OutputPlan.from_option(job.output, len(inputs), job.relative_to)
    except BatchError as error:
        raise click.UsageError(str(error)) from None
    items = plan_batch(inputs, plan)
    if job.report is not None:
        try:  # before anything opens the report for writing
            check_report_path(job.report, inputs, [item.output for item in items if item.output is not None])
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    return shard, plan, items


def run_denoise(job: DenoiseJob) -> int:
    """Denoise every input; return the exit code (0 all done, 1 any failed, 128+N on signal N).
    ``-`` as an input or as ``-o`` (stdin, stdout): `stdit_cli.batch.pipes`."""
    from stdit_cli.batch.pipes import run_piped, uses_pipes

    return run_piped(job, _run_batch) if uses_pipes(job) else _run_batch(job)


def _run_batch(job: DenoiseJob) -> int:
    console = Console(stderr=True)
    with InterruptGuard() as guard:
        shard, plan, items = _start(job)
        group = RankGroup(shard)
        try:
            group.start()
            report_path = job.report
            if report_path is not None and shard.distributed:
                report_path = rank_report_path(report_path, shard.rank)
            report = ReportWriter(report_path)
        except (ShardError, ValueError, OSError) as error:
            group.close()
            raise click.ClickException(_one_line(error)) from None
        batch = _Batch(job, plan, shard, guard, console)
        try:
            _run_items(batch, shard.take(items), report)
            return _finish(batch, group, report)
        except _SetupFailed as error:  # a checkpoint, model or device that cannot be used: as a usage error
            raise SetupError(str(error)) from None
        finally:
            report.close()
            group.close()
