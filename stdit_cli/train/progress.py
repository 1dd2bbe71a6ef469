"""Rich progress display for a training run: loss, steps/s and validation PSNR."""

from __future__ import annotations

import shlex
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stdit_cli.train.loop import TrainConfig, Trainer


def run_with_progress(config: TrainConfig) -> None:
    """Train with a live display (main process only); print where the weights went."""
    console = Console(stderr=True)
    trainer = Trainer(config, log=console.print)
    trainer.start()  # a checkpoint that cannot be resumed says so before any display
    if not trainer.accelerator.is_main_process:
        trainer.run()
        return
    columns = (
        TextColumn(f"train {config.model}/{config.preset}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[rate]:.2f} steps/s"),
        TextColumn("val PSNR@25 {task.fields[psnr]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started, first_step = time.perf_counter(), None
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("train", total=config.steps, loss=float("nan"), rate=0.0, psnr="-")

        def on_step(step: int, loss: float, val_psnr: float | None) -> None:
            nonlocal first_step
            first_step = step - 1 if first_step is None else first_step
            rate = (step - first_step) / max(time.perf_counter() - started, 1e-9)
            fields = {"loss": loss, "rate": rate}
            if val_psnr is not None:
                fields["psnr"] = f"{val_psnr:.2f} dB"
                console.log(f"step {step}: loss {loss:.4f}, {rate:.2f} steps/s, val PSNR@25 {val_psnr:.2f} dB")
            elif not console.is_terminal and step % 50 == 0:
                console.log(f"step {step}: loss {loss:.4f}, {rate:.2f} steps/s")  # logs without a live display
            progress.update(task, completed=step, **fields)

        try:
            out = trainer.run(on_step)
        except KeyboardInterrupt:
            progress.stop()
            latest = trainer.latest_checkpoint()
            where = f"from {latest}" if latest is not None else "from the start (no checkpoint was saved yet)"
            console.print(f"stopped at step {trainer.step}; the same command with --resume latest goes on {where}")
            raise SystemExit(130) from None
    # as plain text, unwrapped, the path quoted for a shell: a command to copy
    console.print(f"weights (EMA) written to {out}; use them with: stdit denoise --checkpoint {shlex.quote(str(out))} VIDEO",
                  markup=False, highlight=False, soft_wrap=True)
