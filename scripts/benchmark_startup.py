#!/usr/bin/env python
"""Where `stdit denoise`'s start-up goes: each piece timed in a fresh process, as the CLI runs it.

    python scripts/benchmark_startup.py [--repeats 5] [--checkpoint PATH]

Pieces, in the order the CLI meets them: the interpreter with the CLI (``stdit --help``), a typo
or a missing file (answered before torch), importing torch, importing the pipeline (diffusers
with ``torch._dynamo`` held back, as without ``--compile``, and without its scan of the installed
distributions: ``stdit_cli.startup``), loading the checkpoint and building
the ``VideoDenoiser`` (with no number given, the default: the real-noise weights and the learned
level estimator), and, given ``--clip``, opening the video and reading its noise level (8 frames
decoded, patch PCA at full resolution and binned 2x2, the estimator, and where that reads as white
noise the Gaussian weights loaded: ``stdit_cli.pipeline.noise_kind``): what happens before the first window. With ``--clip``, also
the start-up as ``stdit denoise`` runs it, where the first video opens and its 8 frames are decoded
and measured in a thread while torch and the model load (``stdit_cli.pipeline.opening``), so it
is less than the sum. Last, the exit after the last output line, with and without the
interpreter's teardown (``stdit_cli.startup.exit_quickly``, what the ``stdit`` executable does
since 2026-12-04). Each is the median of ``--repeats`` fresh processes; prints Markdown.

    python scripts/benchmark_startup.py --repeats 5 --clip runs/speed40_real/clips/noisy_640x272_40f.mp4
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
from stdit_cli.startup import lean_pipeline_import
with lean_pipeline_import():
    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.options import DenoiseOptions
    from stdit_cli.weights import resolve_checkpoint
t2 = time.perf_counter()
from stdit_cli.weights import real_noise_ships
options = DenoiseOptions()
options.noise = options.resolve_noise(real_ships=not sys.argv[1] and real_noise_ships("unet"))
checkpoint = resolve_checkpoint("unet", sys.argv[1] or None, real=options.noise == "real")
t3 = time.perf_counter()
denoiser = VideoDenoiser(checkpoint, options)
t4 = time.perf_counter()
pieces = {"import torch": t1 - t0, "import the pipeline": t2 - t1, "load the checkpoint": t3 - t2,
          "build the denoiser (and the level estimator)": t4 - t3}
if sys.argv[2]:
    from stdit_cli.pipeline.opening import open_video, read_sample
    opening = open_video(sys.argv[2], read_level=False)
    with opening.reader as reader:
        t5 = time.perf_counter()
        sample = read_sample(reader)
        white = options.noise == "real" and denoiser.reads_as_white(sample)
        t6 = time.perf_counter()
        if white:  # --noise auto picks the Gaussian weights for this video (stdit_cli.batch.runner)
            options.noise = "gaussian"
            denoiser = VideoDenoiser(resolve_checkpoint("unet", None), options)
        t7 = time.perf_counter()
        denoiser.level_of(sample)
        t8 = time.perf_counter()
    pieces |= {"open the video": t5 - t4, "read the noise level and its kind": t6 - t5 + t8 - t7,
               "load the Gaussian weights (noise read as white)": t7 - t6}
print(json.dumps({**pieces, "noise": options.noise, "dynamo imported": "torch._dynamo" in sys.modules}))
"""


#: the same start-up as `stdit denoise` runs it (stdit_cli.batch.runner): the first video opens, and
#: its level sample is decoded and measured, in a thread while torch and the model load
OVERLAPPED = r"""
import json, sys, time
t0 = time.perf_counter()
from stdit_cli.pipeline.opening import BackgroundOpening
with BackgroundOpening(sys.argv[2], read_level=True) as background:
    import torch
    from stdit_cli.startup import lean_pipeline_import
    with lean_pipeline_import():
        from stdit_cli.pipeline.denoiser import VideoDenoiser
        from stdit_cli.pipeline.options import DenoiseOptions
    from stdit_cli.weights import real_noise_ships, resolve_checkpoint
    options = DenoiseOptions()
    options.noise = options.resolve_noise(real_ships=not sys.argv[1] and real_noise_ships("unet"))
    denoiser = VideoDenoiser(resolve_checkpoint("unet", sys.argv[1] or None, real=options.noise == "real"), options)
    t1 = time.perf_counter()
    opening = background.take()
with opening.reader:
    if options.noise == "real" and denoiser.reads_as_white(opening):  # as stdit_cli.batch.runner picks
        denoiser = VideoDenoiser(resolve_checkpoint("unet", None), DenoiseOptions(noise="gaussian"))
    denoiser.level_of(opening)
t2 = time.perf_counter()
print(json.dumps({"model loaded": t1 - t0, "first window ready": t2 - t0}))
"""


#: a process as loaded as `stdit denoise` is after its last video: the parent times its exit from
#: the line it prints (argv[1]: "teardown" for Python's normal exit, "quick" for exit_quickly)
EXIT = r"""
import gc, sys
import torch
from stdit_cli.startup import exit_quickly, lean_pipeline_import
with lean_pipeline_import():
    from stdit_cli.pipeline.denoiser import VideoDenoiser
    from stdit_cli.pipeline.options import DenoiseOptions
from stdit_cli.weights import resolve_checkpoint
denoiser = VideoDenoiser(resolve_checkpoint("unet", None, real=True), DenoiseOptions(noise="real"))
gc.freeze()  # as stdit_cli.batch.runner does once the model is loaded
print("done", flush=True)
if sys.argv[1] == "quick":
    exit_quickly(0)
"""


def exit_seconds(how: str) -> float:
    """Seconds from the child's last line to its end."""
    process = subprocess.Popen([sys.executable, "-c", EXIT, how], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()
    printed = time.perf_counter()
    process.wait()
    return time.perf_counter() - printed


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", default="", help="weights to load instead of the shipped default (white-noise path)")
    parser.add_argument("--clip", default="", help="a video: also time opening it and reading its noise level")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "stdit_cli"]
    rows = {"`stdit --help` (interpreter + CLI)": [wall([*cli, "--help"]) for _ in range(args.repeats)],
            "`stdit denoise missing.mp4` (error, exit 1)": [wall([*cli, "denoise", "missing.mp4"]) for _ in range(args.repeats)]}
    pieces = [json.loads(subprocess.run([sys.executable, "-c", PIECES, args.checkpoint, args.clip], capture_output=True, text=True,
                                        check=True).stdout) for _ in range(args.repeats)]  # fmt: skip
    for name in pieces[0]:
        if name not in ("noise", "dynamo imported"):
            rows[name] = [p[name] for p in pieces]
    named = ("import torch", "import the pipeline", "load the checkpoint", "build the denoiser (and the level estimator)",
             "open the video", "read the noise level and its kind", "load the Gaussian weights (noise read as white)")  # fmt: skip
    rows["before the first window (sum of the pieces from import torch on)"] = [sum(p.get(n, 0.0) for n in named) for p in pieces]
    if args.clip:
        overlapped = [json.loads(subprocess.run([sys.executable, "-c", OVERLAPPED, args.checkpoint, args.clip], capture_output=True,
                                                text=True, check=True).stdout) for _ in range(args.repeats)]  # fmt: skip
        rows["before the first window, as `stdit denoise` runs it (the video opened beside the imports)"] = [
            o["first window ready"] for o in overlapped]
    rows["exit after the last line: the interpreter's teardown (until 2026-12-04)"] = [exit_seconds("teardown") for _ in range(args.repeats)]
    rows["exit after the last line: as `stdit` leaves (`exit_quickly`)"] = [exit_seconds("quick") for _ in range(args.repeats)]
    print(f"| piece (median of {args.repeats} fresh processes) | seconds |\n|---|---:|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    print(f"\n--noise as run (the weights picked for the clip): {pieces[0]['noise']}; torch._dynamo imported: {any(p['dynamo imported'] for p in pieces)}")


if __name__ == "__main__":
    main()
