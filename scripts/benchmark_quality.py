#!/usr/bin/env python
"""Vid4 denoising quality: stdit's shipped models against the classical tools a user would pick.

For each Vid4 sequence (first 20 frames) at sigma 10, 25 and 50 (protocol of
../shared/data/README.md: white Gaussian noise added once per sequence with a fixed seed, clipped,
rounded to uint8, stored losslessly as libx264rgb -qp 0 MP4 and read back bit-exact), PSNR
(total MSE over all frames and RGB channels, peak 255), SSIM (scikit-image, mean over frames),
frames/s and temporal flicker of:

- the noisy input;
- each shipped model (or ``--checkpoint NAME=PATH``) through the real CLI,
  ``stdit denoise noisy.mp4 --model X --lossless -o out.mkv --sigma S --quiet``, once with the
  true sigma and once with ``--sigma auto``;
- ffmpeg ``hqdn3d``, ``nlmeans`` and ``bm3d`` (basic estimate: the final one needs a second,
  reference stream), OpenCV ``fastNlMeansDenoisingColoredMulti`` (temporal window 5) and CBM3D
  per frame (PyPI ``bm3d``, ``bm3d_rgb``; slow, so ``--cbm3d-frames`` evenly spaced frames, with
  every method's PSNR on the same frames reported beside it).

Each classical tool's strength is tuned against sigma on one sequence (``--tune-sequence``,
default walk, first ``--tune-frames`` frames, with its own noise seed), cached in
``<work>/tuning.json`` (``--retune`` redoes it); the rules are printed and stored.
Flicker: mean |x[t+1] - x[t]| of the output over that of the clean video (1 is ideal).

Needs the benchmark extra: ``pip install -e ".[bench]"`` (opencv-python-headless, bm3d,
scikit-image). Writes ``<out>.md`` and ``<out>.json`` and prints the Markdown.

``--reuse PATH.json`` (repeatable) merges the per-(method, sequence, sigma) results of earlier runs
into this run's table (this run wins on conflicts, a later ``--reuse`` over an earlier one; the
noisy input is kept from whichever run covers more frames, after checking that the runs' noisy
clips agree on the frames they share). The noise is seeded per (sequence, sigma) and drawn in
frame order, so a ``--frames 5`` run sees exactly the first 5 frames of the 20-frame clips. Rows
covering fewer frames, sigmas or sequences than the table are marked with a note, and every such
coverage gets a table of every method's PSNR/SSIM on the same frames and sequences (computed
from the per-frame MSE/SSIM in the JSON). ``--merge-only`` runs nothing and only merges.

    python scripts/benchmark_quality.py                                        # the full run
    python scripts/benchmark_quality.py --sequences walk --sigmas 25 --frames 5 --cbm3d-frames 1 \\
        --checkpoint unet=ckpt/                                                # a quick check
    python scripts/benchmark_quality.py --models --out runs/benchmark_quality/classical
    python scripts/benchmark_quality.py --tools --models unet --reuse runs/benchmark_quality/classical.json \\
        --out runs/benchmark_quality/unet                                      # + the UNet rows
    python scripts/benchmark_quality.py --tools --models stdit diffuser segdit --sigmas 25 --frames 5 \\
        --reuse runs/benchmark_quality/unet.json --out runs/benchmark_quality/quality   # + slow DiTs
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import (  # noqa: E402
    TOOLS, TUNED_TOOLS, flicker, frame_mse, frame_ssim, load_clean, noisy_clip, psnr_db, read_video, rule_text,
    rule_value, subset_frames, tune, apply_tool,
)  # fmt: skip

from stdit_cli.weights import shipped_checkpoint_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEQUENCES = ("calendar", "city", "foliage", "walk")
MODEL_NAMES = ("unet", "stdit", "diffuser", "segdit")
BENCH_SEED, TUNE_SEED = 2024, 7  # noise seeds: benchmark clips, tuning clips
NOISY = "noisy input"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "vid4", help="Vid4 folder")
    parser.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=SEQUENCES)
    parser.add_argument("--sigmas", nargs="+", type=float, default=[10.0, 25.0, 50.0], help="on 0..255")
    parser.add_argument("--frames", type=int, default=20, help="first N frames of each sequence")
    parser.add_argument("--models", nargs="*", default=None, choices=MODEL_NAMES,
                        help="models whose shipped weights to run (default: every model with shipped weights)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                        help="also benchmark a checkpoint folder as model NAME (repeatable)")
    parser.add_argument("--denoise-args", default="", help='extra `stdit denoise` options, e.g. "--steps 4 --threads 2"')
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=list(TOOLS), help="classical tools to run")
    parser.add_argument("--cbm3d-frames", type=int, default=4, help="evenly spaced frames per clip for CBM3D (slow)")
    parser.add_argument("--tune-sequence", default="walk", choices=SEQUENCES)
    parser.add_argument("--tune-frames", type=int, default=6)
    parser.add_argument("--retune", action="store_true", help="redo the tuning instead of reading <work>/tuning.json")
    parser.add_argument("--tune-only", action="store_true", help="tune (or read the cache), print the rules, stop")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "benchmark_quality", help="noisy clips, outputs, tuning cache")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "benchmark_quality" / "quality", help="prefix of .md and .json")
    parser.add_argument("--reuse", type=Path, action="append", default=[], metavar="PATH.json",
                        help="merge the results of an earlier run's JSON into this run's table (repeatable; this run "
                             "wins on conflicts, then the later --reuse)")
    parser.add_argument("--merge-only", action="store_true", help="run nothing: only merge the --reuse JSONs into --out")
    args = parser.parse_args()  # fmt: skip
    if args.frames < 1 or args.cbm3d_frames < 1 or args.tune_frames < 1:
        parser.error("--frames, --cbm3d-frames and --tune-frames must be >= 1")
    if args.merge_only and not args.reuse:
        parser.error("--merge-only needs at least one --reuse PATH.json")
    for path in args.reuse:
        if not path.is_file():
            parser.error(f"--reuse {path}: no such file")
    return args


def model_runs(args: argparse.Namespace) -> list[tuple[str, str, Path | None]]:
    """``(label, model name, checkpoint or None)`` for every model to benchmark."""
    names = [n for n in MODEL_NAMES if shipped_checkpoint_dir(n) is not None] if args.models is None else args.models
    runs = []
    for name in names:
        if shipped_checkpoint_dir(name) is None:
            sys.exit(f"error: no weights ship for --models {name}; pass --checkpoint {name}=PATH instead")
        runs.append((name, name, None))
    for spec in args.checkpoint:
        name, _, path = spec.partition("=")
        if name not in MODEL_NAMES or not path or not Path(path).exists():
            sys.exit(f"error: --checkpoint wants NAME=PATH with NAME in {MODEL_NAMES} and an existing PATH, got {spec!r}")
        runs.append((f"{name}:{Path(path).name}", name, Path(path)))
    return runs


def run_model(name: str, checkpoint: Path | None, sigma_arg: str, noisy_path: Path, out_path: Path,
              extra: list[str]) -> tuple[np.ndarray, float, dict]:  # fmt: skip
    """The real CLI as a subprocess; seconds are its wall time (model load, decode and encode included)."""
    stdit = [shutil.which("stdit")] if shutil.which("stdit") else [sys.executable, "-m", "stdit_cli"]
    command = [*stdit, "denoise", str(noisy_path), "--model", name, *(["--checkpoint", str(checkpoint)] if checkpoint else []),
               "--lossless", "-o", str(out_path), "--overwrite", "--sigma", sigma_arg, "--quiet", "--json", *extra]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if done.returncode != 0 or report.get("status") != "ok":
        raise RuntimeError(f"stdit denoise failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-400:]}")
    detail = {"command": shlex.join(["stdit", *command[len(stdit):]]), "sigma_used": report["sigma"],
              "cli_seconds": report["seconds"]}  # fmt: skip
    return read_video(out_path), seconds, detail


def record(method: str, sequence: str, sigma_255: float, clean: np.ndarray, out: np.ndarray, frames: list[int],
           seconds: float | None, **detail) -> dict:  # fmt: skip
    """Per-frame MSE/SSIM (frames ``frames`` of the clip), PSNR, flicker and speed of one output."""
    mse, ssim = frame_mse(clean[frames], out), frame_ssim(clean[frames], out)
    whole = len(frames) == len(clean)
    result = {"method": method, "sequence": sequence, "sigma": sigma_255, "frames": frames, "mse": mse, "ssim": ssim,
              "psnr": psnr_db(mse), "ssim_mean": float(np.mean(ssim)), "flicker": flicker(clean, out) if whole else None,
              "seconds": seconds, "fps": len(frames) / seconds if seconds else None, **detail}  # fmt: skip
    fl = result["flicker"]
    log(f"{sequence} σ{sigma_255:g} {method}: {result['psnr']:.2f} dB, SSIM {result['ssim_mean']:.4f}"
        + (f", flicker {fl['ratio']:.2f}" if fl else "") + (f", {result['fps']:.2f} frames/s" if seconds else ""))
    return result


def subset_psnr(rec: dict, frames: list[int]) -> float:
    return psnr_db([m for f, m in zip(rec["frames"], rec["mse"]) if f in frames])


def summarize(records: list[dict], sigmas: list[float]) -> dict[str, dict]:
    """Per method: mean over sequences of PSNR/SSIM/flicker per sigma, and frames/s over all runs."""
    summary: dict[str, dict] = {}
    for method in dict.fromkeys(r["method"] for r in records):
        mine = [r for r in records if r["method"] == method]
        timed = [r for r in mine if r["seconds"]]
        fps = sum(len(r["frames"]) for r in timed) / sum(r["seconds"] for r in timed) if timed else None
        per_sigma = {}
        for s in sigmas:
            at = [r for r in mine if r["sigma"] == s]
            if at:
                ratios = [r["flicker"]["ratio"] for r in at if r["flicker"]]
                per_sigma[f"{s:g}"] = {"psnr": float(np.mean([r["psnr"] for r in at])),
                                       "ssim": float(np.mean([r["ssim_mean"] for r in at])),
                                       "flicker_ratio": float(np.mean(ratios)) if ratios else None,
                                       "flicker_err": float(np.mean([r["flicker"]["err"] for r in at if r["flicker"]])) if ratios else None,
                                       "sequences": len(at), "frames_each": len(at[0]["frames"])}  # fmt: skip
        summary[method] = {"per_sigma": per_sigma, "fps": fps}
    return summary


def cell(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(state: dict) -> str:
    """The main table (mean over sequences), the CBM3D-subset table and the per-sequence tables."""
    sigmas, records, summary = state["sigmas"], state["records"], state["summary"]
    subset_methods = {r["method"] for r in records if len(r["frames"]) < state["frames"]}
    keys = [f"{s:g}" for s in sigmas]
    lines = [f"Command: `{state['command']}`", "",
             f"Vid4 {', '.join(state['sequences'])}, first {state['frames']} frames, noise σ {', '.join(keys)} "
             "(0..255, clipped, uint8, lossless). PSNR/SSIM are means over the sequences.", "",
             "| method | " + " | ".join(f"PSNR σ{k} | SSIM σ{k}" for k in keys)
             + " | frames/s | flicker Δt ratio (" + "/".join(f"σ{k}" for k in keys) + ") |",
             "|---|" + "---:|---:|" * len(keys) + "---:|---:|"]  # fmt: skip
    for method, entry in summary.items():
        star = "*" if method in subset_methods else ""
        values = [entry["per_sigma"].get(k, {}) for k in keys]
        metrics = " | ".join(f"{cell(v.get('psnr'), 2)} | {cell(v.get('ssim'), 4)}" for v in values)
        flick = "/".join(cell(v.get("flicker_ratio"), 2) for v in values)
        lines.append(f"| {method}{star} | {metrics} | {cell(entry['fps'], 2)} | {flick} |")
    if subset_methods:
        frames = subset_frames(state["frames"], state["cbm3d_frames"])
        lines += ["", f"\\* on {len(frames)} evenly spaced frame(s) per clip (indices {frames}); every method on the same frames:", "",
                  "| method | " + " | ".join(f"PSNR σ{k}" for k in keys) + " |", "|---|" + "---:|" * len(keys)]  # fmt: skip
        for method in summary:
            row = [np.mean([subset_psnr(r, frames) for r in records if r["method"] == method and r["sigma"] == s] or [np.nan]) for s in sigmas]
            lines.append(f"| {method} | " + " | ".join(cell(None if np.isnan(v) else v, 2) for v in row) + " |")
    lines += ["", "Per sequence (PSNR / SSIM / flicker ratio):"]
    for s in sigmas:
        lines += ["", f"| σ {s:g} | " + " | ".join(state["sequences"]) + " |", "|---|" + "---:|" * len(state["sequences"])]
        for method in summary:
            cells = []
            for seq in state["sequences"]:
                r = next((r for r in records if r["method"] == method and r["sigma"] == s and r["sequence"] == seq), None)
                fl = r and r["flicker"]
                cells.append("—" if r is None else f"{r['psnr']:.2f} / {r['ssim_mean']:.4f} / {cell(fl and fl['ratio'], 2)}")
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "Tuning rules (tuned on " + state["tuning_on"] + "):", ""]
    lines += [f"- {text}" for text in state["rule_texts"]]
    lines += ["", "frames/s: models = frames / wall time of the `stdit denoise` subprocess (model load, decode, "
              "encode included); ffmpeg = frames / wall time of `ffmpeg -i noisy.mp4 -vf ... out.mkv`; OpenCV and "
              "CBM3D = frames / time of the denoising calls alone. Flicker ratio = mean |x[t+1]-x[t]| of the output "
              "over that of the clean clip (1 is ideal). ffmpeg filters run in yuv444p (8-bit; the RGB round trip alone is "
              "54.9 dB), bm3d with its basic estimate (the final one needs a reference stream).", ""]  # fmt: skip
    return "\n".join(lines)


def save(state: dict) -> str:
    state["summary"] = summarize(state["records"], state["sigmas"])
    text = markdown(state)
    args_out = Path(state["out"])
    args_out.parent.mkdir(parents=True, exist_ok=True)
    args_out.with_suffix(".md").write_text(text)
    args_out.with_suffix(".json").write_text(json.dumps(state, indent=1) + "\n")
    return text


def main() -> None:
    args = parse_args()
    work, extra = args.work, shlex.split(args.denoise_args)
    models = model_runs(args)
    tools = [TOOLS[k] for k in args.tools]
    if not models:
        log("note: no shipped weights and no --checkpoint: only the classical tools are benchmarked")

    # 1. tune the classical tools on one sequence (cached)
    tune_clean = load_clean(args.data, args.tune_sequence, args.tune_frames)
    settings = {"sequence": args.tune_sequence, "frames": args.tune_frames, "seed": TUNE_SEED}
    rules = tune([t for t in tools if t.key in TUNED_TOOLS], args.sigmas,
                 lambda s: (tune_clean, *noisy_clip(work, tune_clean, args.tune_sequence, s, TUNE_SEED)),
                 work / "tuning", work / "tuning.json", settings, args.retune, log)["tools"]  # fmt: skip
    state = {"command": shlex.join(["python", "scripts/benchmark_quality.py", *sys.argv[1:]]), "out": str(args.out),
             "sequences": args.sequences, "sigmas": args.sigmas, "frames": args.frames, "cbm3d_frames": args.cbm3d_frames,
             "noise_seed": f"[{BENCH_SEED}, crc32(sequence), round(100*sigma)]",
             "tuning_on": f"{args.tune_sequence}, first {args.tune_frames} frames, its own noise seed {TUNE_SEED}",
             "rules": {t.key: rules.get(t.key) for t in tools},
             "rule_texts": [rule_text(t, rules.get(t.key)) for t in tools],
             "models": [{"label": l, "model": n, "checkpoint": str(c) if c else "shipped"} for l, n, c in models],
             "records": []}  # fmt: skip
    for text in state["rule_texts"]:
        log(text)
    if args.tune_only:
        return

    # 2. every method on every clip
    outputs = work / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    for sequence in args.sequences:
        clean = load_clean(args.data, sequence, args.frames)
        every = list(range(len(clean)))
        for sigma_255 in args.sigmas:
            noisy_path, noisy = noisy_clip(work, clean, sequence, sigma_255, BENCH_SEED)
            add = state["records"].append
            add(record(NOISY, sequence, sigma_255, clean, noisy, every, None, file=str(noisy_path)))
            for label, name, checkpoint in models:
                for mode, sigma_arg in (("σ oracle", f"{sigma_255:g}"), ("σ auto", "auto")):
                    out_path = outputs / f"{sequence}_s{sigma_255:g}_{label.replace(':', '_')}_{sigma_arg}.mkv"
                    out, seconds, detail = run_model(name, checkpoint, sigma_arg, noisy_path, out_path, extra)
                    add(record(f"{label} ({mode})", sequence, sigma_255, clean, out, every, seconds, **detail))
            for tool in tools:
                value = rule_value(tool, rules.get(tool.key), sigma_255)
                frames = subset_frames(len(clean), args.cbm3d_frames) if tool.key == "cbm3d" else every
                out_path = outputs / f"{sequence}_s{sigma_255:g}_{tool.key}.mkv"
                out, seconds, ran = apply_tool(tool, value, noisy_path, noisy, out_path, frames)
                add(record(tool.label, sequence, sigma_255, clean, out, frames, seconds, value=value, ran=ran))
            save(state)
    print(save(state))


if __name__ == "__main__":
    main()
