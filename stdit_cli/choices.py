"""The names the command line offers, importable without torch (so that `stdit --help` is instant).

`stdit_cli.pipeline.adapters` registers one adapter per model name and checks it matches `MODEL_NAMES`.
"""

from __future__ import annotations

MODEL_NAMES = ("unet", "stdit", "diffuser", "segdit")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
#: ``--noise``: what kind of noise the video holds (``stdit_cli.pipeline.options.DenoiseOptions.resolve_noise``)
NOISE_MODES = ("auto", "real", "gaussian")

#: the largest ``--strength``: denoise as if the noise were this many times the given or estimated level
MAX_STRENGTH = 3.0
