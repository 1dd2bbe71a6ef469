"""A batch of videos behind `stdit denoise`: inputs, outputs, the report, ranks and signals.

- `inputs`: the input list (`--inputs-from`), where each output goes, `--skip-existing`.
- `runner`: the orchestration (`DenoiseJob`, `run_denoise`): one model load, a progress bar per
  video, the report and the summary.
- `report`: one record per input, the JSONL report and the summary table.
- `sharding`: `torchrun` ranks sharing the inputs; rank 0 merges the reports.
- `pipes`: `-` as the input (stdin, spooled to a temporary file) or as `-o` (stdout).
- `interrupts`: stopping cleanly on SIGINT/SIGTERM/SIGHUP (`InterruptGuard`, `shielded`).

Nothing is imported here: import from the submodules (`from stdit_cli.batch.runner import
run_denoise`), so that a light one (`interrupts`, used by the video writer) stays light.
"""
