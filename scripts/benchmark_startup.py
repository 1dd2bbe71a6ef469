#!/usr/bin/env python
"""Where `stdit denoise`'s start-up goes: each piece timed in a fresh process, as the CLI runs it.

    python scripts/benchmark_startup.py [--repeats 5] [--checkpoint PATH]

Pieces, in the order the CLI meets them: the interpreter with the CLI (``stdit --help``), a typo
or a missing file (answered before torch), importing torch, importing the pipeline (diffusers
with ``torch._dynamo`` held back, as without ``--compile``), loading the checkpoint and building
the ``VideoDenoiser``. Each is the median of ``--repeats`` fresh processes; prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

PIECES = r"""
import json, sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
from stdit_cli.startup import without_torch_dynamo
with without_torch_dynamo():
    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.options import DenoiseOptions
    from stdit_cli.weights import resolve_checkpoint
t2 = time.perf_counter()
checkpoint = resolve_checkpoint("unet", sys.argv[1] or None)
t3 = time.perf_counter()
VideoDenoiser(checkpoint, DenoiseOptions())
t4 = time.perf_counter()
print(json.dumps({"import torch": t1 - t0, "import the pipeline": t2 - t1, "load the checkpoint": t3 - t2,
                  "build the denoiser": t4 - t3, "dynamo imported": "torch._dynamo" in sys.modules}))
"""


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", default="")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "stdit_cli"]
    rows = {"`stdit --help` (interpreter + CLI)": [wall([*cli, "--help"]) for _ in range(args.repeats)],
            "`stdit denoise missing.mp4` (error, exit 1)": [wall([*cli, "denoise", "missing.mp4"]) for _ in range(args.repeats)]}
    pieces = [json.loads(subprocess.run([sys.executable, "-c", PIECES, args.checkpoint], capture_output=True, text=True,
                                        check=True).stdout) for _ in range(args.repeats)]  # fmt: skip
    for name in ("import torch", "import the pipeline", "load the checkpoint", "build the denoiser"):
        rows[name] = [p[name] for p in pieces]
    print(f"| piece (median of {args.repeats} fresh processes) | seconds |\n|---|---:|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    print(f"\ntorch._dynamo imported: {any(p['dynamo imported'] for p in pieces)}")


if __name__ == "__main__":
    main()
