"""The names the command line offers, importable without torch (so that `stdit --help` is instant).

`stdit_cli.pipeline.adapters` registers one adapter per model name and checks it matches `MODEL_NAMES`.
"""

from __future__ import annotations

import click

MODEL_NAMES = ("unet", "stdit", "diffuser", "segdit")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: ``--noise``: what kind of noise the video holds (``stdit_cli.pipeline.options.DenoiseOptions.resolve_noise``)
NOISE_MODES = ("auto", "real", "gaussian")

#: the largest ``--strength``: denoise as if the noise were this many times the given or estimated level
MAX_STRENGTH = 3.0

#: the exit status of a command that cannot run as given (Click's for usage errors): a bad option
#: value, and a checkpoint, preset or device that cannot be used, found before any video is written
USAGE_EXIT_CODE = 2


class SetupError(click.ClickException):
    """The command cannot run as given (a checkpoint, preset, model or device that cannot be used):
    one line, with the exit status of a usage error."""

    exit_code = USAGE_EXIT_CODE
