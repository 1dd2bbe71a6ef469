"""``stdit denoise`` for many inputs: one model load, a progress bar per video, a summary."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from stdit_cli.pipeline import DenoiseOptions, DenoiseResult, VideoDenoiser
from stdit_cli.runtime import RuntimeSetupError, set_threads
from stdit_cli.video import VideoError, resolve_output_path
from stdit_cli.weights import CheckpointError, resolve_checkpoint


@dataclass
class DenoiseJob:
    inputs: list[Path]
    output: Path | None
    overwrite: bool
    model_name: str
    checkpoint: Path | None
    options: DenoiseOptions
    threads: int | None = None
    quiet: bool = False
    as_json: bool = False


@dataclass
class Outcome:
    input: Path
    result: DenoiseResult | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def to_json(self) -> str:
        if self.result is not None:
            record = {"status": "ok", **asdict(self.result), "fps": round(self.result.fps, 3)}
        else:
            record = {"status": "failed", "input": str(self.input), "error": self.error}
        return json.dumps(record)


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


def _denoise_one(denoiser: VideoDenoiser, job: DenoiseJob, input_path: Path, console: Console) -> Outcome:
    try:
        output_path = resolve_output_path(input_path, job.output, job.overwrite)
        if job.quiet or job.as_json:
            return Outcome(input_path, denoiser.denoise_file(input_path, output_path))
        with _progress(console) as progress:
            tasks = []  # the bar appears once the video has opened and its length is known

            def update(done: int, total: int) -> None:
                if not tasks:
                    tasks.append(progress.add_task(input_path.name, total=total, fps=0.0))
                elapsed = progress.tasks[0].elapsed or 0.0
                progress.update(tasks[0], completed=done, total=total, fps=done / elapsed if elapsed else 0.0)

            return Outcome(input_path, denoiser.denoise_file(input_path, output_path, update))
    except (VideoError, OSError, RuntimeError, ValueError) as error:
        return Outcome(input_path, error=_one_line(error))


def _summary(outcomes: list[Outcome], denoiser: VideoDenoiser) -> Table:
    title = f"stdit denoise: model {denoiser.adapter.name} on {denoiser.device} ({denoiser.precision})"
    table = Table(title=title)
    for column in ("input", "status", "output / error", "sigma", "t*", "steps", "frames", "fps", "time"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        r = outcome.result
        if r is None:
            error = outcome.error or ""
            error = error[len(str(outcome.input)) + 2 :] if error.startswith(f"{outcome.input}: ") else error
            table.add_row(outcome.input.name, "[red]failed[/]", error, "", "", "", "", "", "")
            continue
        sigma = f"{r.sigma:.1f} {'auto' if r.sigma_estimated else 'given'}"
        table.add_row(outcome.input.name, "[green]ok[/]", r.output, sigma, str(r.t_start), f"{r.steps} {r.scheduler}",
                      str(r.frames), f"{r.fps:.2f}", f"{r.seconds:.1f}s")  # fmt: skip
    return table


def run_denoise(job: DenoiseJob) -> int:
    """Denoise every input; return the exit code (0 all done, 1 any failed)."""
    console = Console(stderr=True)
    set_threads(job.threads)
    try:
        checkpoint = resolve_checkpoint(job.model_name, job.checkpoint)
        denoiser = VideoDenoiser(checkpoint, job.options)
    except (CheckpointError, RuntimeSetupError, ValueError) as error:
        raise click.ClickException(_one_line(error)) from None
    outcomes = []
    for input_path in job.inputs:
        outcome = _denoise_one(denoiser, job, input_path, console)
        outcomes.append(outcome)
        if job.as_json:
            click.echo(outcome.to_json())
        elif not outcome.ok and not job.quiet:
            console.print(f"[red]error:[/] {outcome.error}")
    if not job.quiet and not job.as_json:
        Console().print(_summary(outcomes, denoiser))
    elif job.quiet:
        for outcome in outcomes:
            if not outcome.ok:
                click.echo(f"error: {outcome.error}", err=True)
    return 0 if all(o.ok for o in outcomes) else 1
