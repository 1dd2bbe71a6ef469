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
    python scripts/benchmark_quality.py --sequences vid4/walk --sigmas 25 --frames 5 --cbm3d-frames 1 \\
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
    FFMPEG, TOOLS, TUNED_TOOLS, flicker, frame_mse, frame_ssim, noisy_clip, psnr_db, read_video, rule_text,
    rule_value, subset_frames, tune, apply_tool,
)  # fmt: skip

from validation_suite import EXTRA_CLIPS, SUITE, h264_encode, is_compressed, load_clip  # noqa: E402

from stdit_cli.choices import MODEL_NAMES as CLI_MODEL_NAMES  # noqa: E402
from stdit_cli.weights import shipped_checkpoint_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEQUENCES = SUITE
MODEL_NAMES = CLI_MODEL_NAMES  # every registered backbone
BENCH_SEED, TUNE_SEED = 2024, 7  # noise seeds: benchmark clips, tuning clips
NOISY = "noisy input"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="../shared/data")
    parser.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=SEQUENCES + EXTRA_CLIPS, metavar="CLIP",
                        help="suite clips (scripts/validation_suite.py; default: all of the suite; also large/* and "
                             "large1080/*, the held-out DAVIS clips upscaled to 1280x720 and 1920x1080)")
    parser.add_argument("--sigmas", nargs="+", type=float, default=[10.0, 25.0, 50.0], help="on 0..255")
    parser.add_argument("--frames", type=int, default=10, help="first N frames of each clip")
    parser.add_argument("--models", nargs="*", default=None, choices=MODEL_NAMES,
                        help="models whose shipped weights to run (default: every model with shipped weights)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                        help="also benchmark a checkpoint folder as model NAME (repeatable)")
    parser.add_argument("--denoise-args", default="", help='extra `stdit denoise` options, e.g. "--steps 4 --threads 2"')
    parser.add_argument("--variants-only", action="store_true", help="run the --variant settings only, not the plain models")
    parser.add_argument("--sigma-modes", nargs="+", default=["oracle", "auto"], choices=["oracle", "auto"],
                        help="run the models with the true sigma, with --sigma auto, or both")
    parser.add_argument("--variant", action="append", default=[], metavar="SUFFIX=OPTIONS",
                        help='also run every model with these extra options, labelled "<model> SUFFIX", e.g. --variant fast=--fast')
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=list(TOOLS), help="classical tools to run")
    parser.add_argument("--cbm3d-frames", type=int, default=1, help="evenly spaced frames per clip for CBM3D (slow)")
    parser.add_argument("--opencv-frames", type=int, default=3, help="evenly spaced frames per clip for OpenCV NLM (slow)")
    parser.add_argument("--cbm3d-sigmas", nargs="+", type=float, default=[25.0], help="run CBM3D at these sigmas only")
    parser.add_argument("--tune-sequence", default="vid4/walk", choices=SEQUENCES)
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


def model_runs(args: argparse.Namespace) -> list[tuple[str, str, Path | None, list[str]]]:
    """``(label, model name, checkpoint or None, extra options)`` for every model and variant to benchmark."""
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
    variants = [] if args.variants_only else [("", [])]
    for spec in args.variant:
        suffix, _, options = spec.partition("=")
        if not suffix or not options:
            sys.exit(f'error: --variant wants SUFFIX=OPTIONS, e.g. fast=--fast, got {spec!r}')
        variants.append((f" {suffix}", shlex.split(options)))
    return [(label + suffix, name, path, options) for label, name, path in runs for suffix, options in variants]


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
    """Per-frame MSE/SSIM (frames ``frames`` of the clip), PSNR, flicker and speed of one output.

    ``frames`` are indices into the sequence (the clips are its first ``clip_frames`` frames, and
    the noise of a shorter clip is a prefix of a longer one's, so indices compare across runs).
    """
    mse, ssim = frame_mse(clean[frames], out), frame_ssim(clean[frames], out)
    whole = len(frames) == len(clean)
    result = {"method": method, "sequence": sequence, "sigma": sigma_255, "frames": frames, "clip_frames": len(clean),
              "mse": mse, "ssim": ssim, "psnr": psnr_db(mse), "ssim_mean": float(np.mean(ssim)),
              "flicker": flicker(clean, out) if whole else None,
              "seconds": seconds, "fps": len(frames) / seconds if seconds else None, **detail}  # fmt: skip
    fl = result["flicker"]
    log(f"{sequence} σ{sigma_255:g} {method}: {result['psnr']:.2f} dB, SSIM {result['ssim_mean']:.4f}"
        + (f", flicker {fl['ratio']:.2f}" if fl else "") + (f", {result['fps']:.2f} frames/s" if seconds else ""))
    return result


# ---------------------------------------------------------------------------- merging runs (--reuse)
def key_of(rec: dict) -> tuple[str, str, float]:
    return rec["method"], rec["sequence"], float(rec["sigma"])


def read_json(path: Path) -> dict:
    """A JSON file that another run may be rewriting right now: retry a torn read."""
    for attempt in range(10):
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            if attempt == 9:
                raise
            time.sleep(1.0)
    raise AssertionError


def run_info(state: dict) -> dict:
    """What one invocation ran (the provenance kept for each command in a merged JSON)."""
    return {k: state.get(k) for k in ("command", "out", "sequences", "sigmas", "frames", "cbm3d_frames", "tuning_on", "reuse")}


def load_reused(path: Path, noise_seed: str) -> dict:
    """An earlier run's JSON (plain or itself merged), every record tagged with the command that made it."""
    data = read_json(path)
    if data.get("noise_seed") != noise_seed:
        sys.exit(f"error: --reuse {path}: noise seed {data.get('noise_seed')!r} differs from this run's {noise_seed!r}")
    runs = data.get("runs") or [run_info(data)]
    for rec in data["records"]:
        rec.setdefault("origin", data["command"])  # a plain (unmerged) run: its own command
        rec.setdefault("clip_frames", data["frames"])  # older JSONs: every clip had the run's --frames
        rec["sigma"] = float(rec["sigma"])
    texts, rules = data.get("rule_texts") or [], data.get("rules") or {}
    tuning = {k: {"rule": rules[k], "text": t, "tuning_on": data.get("tuning_on")} for k, t in zip(rules, texts)}
    tuning = tuning if len(texts) == len(rules) else {}
    log(f"--reuse {path}: {len(data['records'])} results from {len(runs)} command(s)")
    return {"path": str(path), "records": data["records"], "runs": runs, "tuning": tuning, "models": data.get("models", [])}


def same_noise(a: dict, b: dict, where: str = "") -> None:
    """Two noisy-input records must agree (MSE and SSIM) on every frame they share, else the runs'
    noisy clips differ (other data, seed or protocol) and their results cannot share a table."""
    shared = sorted(set(a["frames"]) & set(b["frames"]))
    pick = lambda rec, name: np.array([v for f, v in zip(rec["frames"], rec[name]) if f in shared])  # noqa: E731
    for name in ("mse", "ssim"):
        if not np.allclose(pick(a, name), pick(b, name), rtol=1e-9, atol=1e-12):
            sys.exit(f"error: the noisy {a['sequence']} σ{a['sigma']:g} clips differ on frames {shared} ({name}) "
                     f"between `{a.get('origin')}` and `{b.get('origin')}`{where}; refusing to merge them")  # fmt: skip


def merge_records(sources: list[tuple[str, list[dict]]]) -> list[dict]:
    """One record per (method, sequence, sigma) from ``(name, records)`` sources; a later source wins,
    except that the noisy input is kept from the source covering more frames (after checking that
    the two agree)."""
    merged: dict[tuple, dict] = {}
    came_from: dict[tuple, str] = {}
    for name, records in sources:
        for rec in records:
            old = merged.get(key_of(rec))
            if old is not None and rec["method"] == NOISY:
                same_noise(old, rec, f" (in {came_from[key_of(rec)]} and {name})")
                if len(old["frames"]) > len(rec["frames"]):
                    continue
            merged[key_of(rec)], came_from[key_of(rec)] = rec, name
    labels = [t.label for t in TOOLS.values()]

    def rank(item: tuple[int, dict]) -> tuple:
        rec = item[1]
        if rec["method"] == NOISY:
            return 0, 0
        if rec["method"] in labels:
            return 2, labels.index(rec["method"])
        return 1, 0  # a model

    return [rec for _, rec in sorted(enumerate(merged.values()), key=lambda item: (rank(item), item[0]))]


# ---------------------------------------------------------------------------- coverage and summary
def frames_text(frames: list[int], total: int) -> str:
    if frames == list(range(total)):
        return f"all {total} frames"
    if frames == list(range(len(frames))):
        return f"first {len(frames)} of {total} frames"
    which = f"index {frames[0]}" if len(frames) == 1 else f"indices {', '.join(map(str, frames))}"
    return f"{len(frames)} of {total} frames ({which})"


def coverage(mine: list[dict], sequences: list[str], sigmas: list[float], total: int) -> dict:
    """Which sigmas, sequences and frames one method covers, and a note where it is less than the table."""
    per_sigma = {}
    for s in sigmas:
        at = [r for r in mine if r["sigma"] == s]
        if at:
            per_sigma[f"{s:g}"] = {"sequences": [q for q in sequences if any(r["sequence"] == q for r in at)],
                                   "frames": [list(f) for f in dict.fromkeys(tuple(r["frames"]) for r in at)]}  # fmt: skip
    notes = []
    if len(per_sigma) < len(sigmas):
        notes.append(", ".join(f"σ{k}" for k in per_sigma) + " only")
    parts = {}  # per sigma: what is missing there
    for k, v in per_sigma.items():
        missing = [] if v["sequences"] == sequences else ["sequences " + "/".join(v["sequences"]) + " only"]
        frames = " or ".join(frames_text(f, total) for f in v["frames"])
        missing += [] if frames == frames_text(list(range(total)), total) else [frames]
        parts[k] = ", ".join(missing)
    if any(parts.values()):
        uniform = len(set(parts.values())) == 1
        notes.append(next(iter(parts.values())) if uniform else "; ".join(f"σ{k}: {p or 'complete'}" for k, p in parts.items()))
    clips = sorted({r["clip_frames"] for r in mine if r["seconds"]})
    if clips and clips != [total]:
        notes.append(f"frames/s from {'/'.join(map(str, clips))}-frame clips")
    return {"per_sigma": per_sigma, "note": "; ".join(notes)}


def summarize(records: list[dict], sequences: list[str], sigmas: list[float], total: int) -> dict[str, dict]:
    """Per method: mean over sequences of PSNR/SSIM/flicker per sigma, frames/s over all runs, coverage."""
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
        summary[method] = {"per_sigma": per_sigma, "fps": fps, "coverage": coverage(mine, sequences, sigmas, total)}
    return summary


def subset_groups(records: list[dict], sequences: list[str], total: int) -> dict[tuple, dict]:
    """Every (frames, sequences) that some method covers at a sigma, other than the whole table's:
    ``{(frames, sequences): {"sigmas": [...], "methods": [the methods covering exactly that]}}``."""
    groups: dict[tuple, dict] = {}
    for method, s in dict.fromkeys((r["method"], r["sigma"]) for r in records):
        at = [r for r in records if r["method"] == method and r["sigma"] == s]
        for frames in dict.fromkeys(tuple(r["frames"]) for r in at):
            seqs = tuple(q for q in sequences if any(r["sequence"] == q and tuple(r["frames"]) == frames for r in at))
            if frames != tuple(range(total)) or seqs != tuple(sequences):
                group = groups.setdefault((frames, seqs), {"sigmas": [], "methods": []})
                group["sigmas"] = sorted({*group["sigmas"], s})
                group["methods"] += [method] if method not in group["methods"] else []
    return groups


def on_subset(rec: dict | None, frames: tuple[int, ...]) -> tuple[float, float] | None:
    """PSNR and mean SSIM of a record on ``frames`` (None unless it covers them all)."""
    if rec is None or not frames or not set(frames) <= set(rec["frames"]):
        return None
    mse = [m for f, m in zip(rec["frames"], rec["mse"]) if f in frames]
    ssim = [v for f, v in zip(rec["frames"], rec["ssim"]) if f in frames]
    return psnr_db(mse), float(np.mean(ssim))


def cell(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def superscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def markdown(state: dict) -> str:
    """The main table (mean over sequences) with notes on rows covering less, one table per such
    coverage (every method on the same frames and sequences), and the per-sequence tables."""
    sigmas, records, summary, total = state["sigmas"], state["records"], state["summary"], state["frames"]
    sequences, keys = state["sequences"], [f"{s:g}" for s in sigmas]
    index = {key_of(r): r for r in records}
    tables = {}  # (frames, sequences) -> {method: [(PSNR, SSIM) or None per sigma]}, 2 rows at least
    for (frames, seqs), group in subset_groups(records, sequences, total).items():
        rows = {}
        for method in summary:
            row = []
            for s in group["sigmas"]:
                got = [on_subset(index.get((method, q, s)), frames) for q in seqs]
                row.append(None if None in got else (float(np.mean([g[0] for g in got])), float(np.mean([g[1] for g in got]))))
            if any(row):
                rows[method] = row
        if len(rows) >= 2:
            tables[(frames, seqs)] = {**group, "rows": rows}
    groups = tables
    letters = {g: chr(ord("A") + i) for i, g in enumerate(groups)}
    notes: dict[str, int] = {}
    marks = {}
    for method, entry in summary.items():
        note = entry["coverage"]["note"]
        mine = [letters[g] for g, group in groups.items() if method in group["methods"]]
        if note and mine:
            note += f" — every method on the same frames and sequences: table {', '.join(mine)}"
        marks[method] = superscript(notes.setdefault(note, len(notes) + 1)) if note else ""
    if len(state["commands"]) == 1:
        lines = [f"Command: `{state['commands'][0]}`", ""]
    else:
        lines = [f"Merged from {len(state['commands'])} commands (on a conflict the later one wins; the noisy input is "
                 "kept from the run covering more frames, checked equal on the frames they share):", ""]  # fmt: skip
        lines += [f"{i}. `{c}`" for i, c in enumerate(state["commands"], 1)] + [""]
    lines += [f"Validation suite ({len(sequences)} clips: {', '.join(sequences)}), first {total} frames, noise σ {', '.join(keys)} "
              "(0..255, clipped, uint8, lossless). PSNR/SSIM are means over the sequences; a marked row covers less "
              "(see its note) and — is not measured.", "",
              "| method | " + " | ".join(f"PSNR σ{k} | SSIM σ{k}" for k in keys)
              + " | frames/s | flicker Δt ratio (" + "/".join(f"σ{k}" for k in keys) + ") |",
              "|---|" + "---:|---:|" * len(keys) + "---:|---:|"]  # fmt: skip
    for method, entry in summary.items():
        values = [entry["per_sigma"].get(k, {}) for k in keys]
        metrics = " | ".join(f"{cell(v.get('psnr'), 2)} | {cell(v.get('ssim'), 4)}" for v in values)
        flick = "/".join(cell(v.get("flicker_ratio"), 2) for v in values)
        lines.append(f"| {method}{marks[method]} | {metrics} | {cell(entry['fps'], 2)} | {flick} |")
    if notes:
        lines += [""] + [f"{superscript(n)} {note}." for note, n in notes.items()]
    for (frames, seqs), group in groups.items():
        at = group["sigmas"]
        lines += ["", f"Table {letters[(frames, seqs)]} — {frames_text(list(frames), total)} of {', '.join(seqs)}, "
                  f"{', '.join(f'σ{s:g}' for s in at)}: every method measured there, on these frames (mean over the "
                  "sequences; rows from longer clips are restricted to these frames):", "",
                  "| method | " + " | ".join(f"PSNR σ{s:g} | SSIM σ{s:g}" for s in at) + " |",
                  "|---|" + "---:|---:|" * len(at)]  # fmt: skip
        for method, row in group["rows"].items():
            lines.append(f"| {method}{marks[method]} | "
                         + " | ".join("— | —" if v is None else f"{v[0]:.2f} | {v[1]:.4f}" for v in row) + " |")
    lines += ["", "Per sequence (PSNR / SSIM / flicker ratio):"]
    for s in sigmas:
        lines += ["", f"| σ {s:g} | " + " | ".join(sequences) + " |", "|---|" + "---:|" * len(sequences)]
        for method in summary:
            cells = []
            for seq in sequences:
                r = index.get((method, seq, s))
                fl = r and r["flicker"]
                cells.append("—" if r is None else f"{r['psnr']:.2f} / {r['ssim_mean']:.4f} / {cell(fl and fl['ratio'], 2)}")
            if any(c != "—" for c in cells):
                lines.append(f"| {method}{marks[method]} | " + " | ".join(cells) + " |")
    lines += ["", "Tuning rules (tuned on " + state["tuning_on"] + "):", ""]
    lines += [f"- {text}" for text in state["rule_texts"]]
    lines += ["", "frames/s: models = frames / wall time of the `stdit denoise` subprocess (model load, decode, "
              "encode included); ffmpeg = frames / wall time of `ffmpeg -i noisy.mp4 -vf ... out.mkv`; OpenCV and "
              "CBM3D = frames / time of the denoising calls alone. Flicker ratio = mean |x[t+1]-x[t]| of the output "
              "over that of the clean clip (1 is ideal), over the frames a row covers. ffmpeg filters run in yuv444p "
              "(8-bit; the RGB round trip alone is 54.9 dB), bm3d with its basic estimate (the final one needs a "
              "reference stream).", ""]  # fmt: skip
    return "\n".join(lines)


def gap_db(mine: dict, rival: dict) -> float:
    """PSNR of ``mine`` minus ``rival``'s, on the frames both ran on (None when they share none)."""
    shared = tuple(sorted(set(mine["frames"]) & set(rival["frames"])))
    if not shared:
        return None
    return on_subset(mine, shared)[0] - on_subset(rival, shared)[0]


def suite_lines(state: dict) -> list[str]:
    """Worst case over the suite: each model's margin over the best classical tool per clip, and the
    residual error (RMSE on 0..255) on the flat clips, where the ideal output is known."""
    records, sigmas, sequences = state["records"], state["sigmas"], state["sequences"]
    index = {key_of(r): r for r in records}
    whole = [TOOLS[k].label for k in ("nlmeans", "bm3d", "hqdn3d", "opencv") if k in TOOLS]  # the classical rivals
    models = [m for m in dict.fromkeys(r["method"] for r in records) if m != NOISY and m not in [t.label for t in TOOLS.values()]]
    keys = [f"{s:g}" for s in sigmas]
    common = min(r["clip_frames"] for r in records)
    lines = ["", f"Suite summary (means over the first {common} frames of each clip, or the ones a row ran on among "
             "them): per model, the mean PSNR over the clips, then the worst clip's margin over the best "
             "of ffmpeg nlmeans, ffmpeg bm3d, hqdn3d and OpenCV NLM on that clip, each compared on the frames it ran on "
             "(dB, higher is better), and where it is. OpenCV and CBM3D run on a few frames per clip (see the "
             "coverage notes above); their means are over those frames:", "",
             "| method | " + " | ".join(f"mean σ{k} | worst margin σ{k}" for k in keys) + " |",
             "|---|" + "---:|---:|" * len(keys)]  # fmt: skip
    for method in [NOISY, *models, *[t.label for t in TOOLS.values()]]:
        cells = []
        for s in sigmas:
            mine = [r for q in sequences if (r := index.get((method, q, s))) is not None]
            # means over the frames every full-clip row covers (runs may differ in --frames)
            psnrs = [v[0] for r in mine if (v := on_subset(r, tuple(f for f in r["frames"] if f < common))) is not None]
            if not psnrs:
                cells.append("— | —")
                continue
            margins = []
            for r in mine:  # against each rival on the frames the rival ran on
                rivals = [index.get((t, r["sequence"], s)) for t in whole if t != method]
                gaps = [g for x in rivals if x is not None and (g := gap_db(r, x)) is not None]
                if gaps:
                    margins.append((min(gaps), r["sequence"]))
            worst = min(margins) if margins else None
            cells.append(f"{np.mean(psnrs):.2f} | "
                         + ("—" if worst is None else f"{worst[0]:+.2f} ({worst[1]})"))  # fmt: skip
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    cbm3d = TOOLS["cbm3d"].label
    for s in sigmas:
        pairs = [(index.get((m, q, s)), index.get((cbm3d, q, s))) for m in models for q in sequences]
        if not any(c for _, c in pairs):
            continue
        lines += ["", f"Against CBM3D at σ{s:g} on the frames it ran on (mean over the clips it ran on):", "",
                  "| method | mean PSNR on CBM3D's frames | CBM3D | difference |", "|---|---:|---:|---:|"]
        for method in models:
            got = [(on_subset(index.get((method, q, s)), tuple(c["frames"])), c["psnr"]) for q in sequences
                   if (c := index.get((cbm3d, q, s))) and index.get((method, q, s))]  # fmt: skip
            got = [(m[0], c) for m, c in got if m is not None]
            if got:
                ours, theirs = float(np.mean([g[0] for g in got])), float(np.mean([g[1] for g in got]))
                lines.append(f"| {method} | {ours:.2f} | {theirs:.2f} | {ours - theirs:+.2f} |")
    flats = [q for q in sequences if q.startswith("flat/")]
    if flats:
        lines += ["", "Residual error on the flat clips (RMSE on 0..255, 0 is perfect; lower is better):", "",
                  "| method | " + " | ".join(f"{q} σ{k}" for q in flats for k in keys) + " |",
                  "|---|" + "---:|" * (len(flats) * len(keys))]  # fmt: skip
        for method in [NOISY, *models, *[t.label for t in TOOLS.values()]]:
            cells = [index.get((method, q, s)) for q in flats for s in sigmas]
            if any(cells):
                rmse = [None if r is None else np.sqrt(np.mean([m for f, m in zip(r["frames"], r["mse"]) if f < common] or [np.nan]))
                        for r in cells]  # fmt: skip
                lines.append(f"| {method} | " + " | ".join("—" if v is None or np.isnan(v) else f"{v:.2f}" for v in rmse) + " |")
    return lines


def save(state: dict, this_run: list[dict], reused: list[dict]) -> str:
    """Merge this run's records over the reused ones and (atomically) write ``<out>.md`` and ``.json``."""
    records = merge_records([(r["path"], r["records"]) for r in reused] + [("this run", this_run)])
    state["records"] = records
    state["sequences"] = [q for q in SEQUENCES + EXTRA_CLIPS if any(r["sequence"] == q for r in records)]
    state["sigmas"] = sorted({r["sigma"] for r in records})
    state["frames"] = max((max(r["clip_frames"], max(r["frames"]) + 1) for r in records), default=state["run"]["frames"])
    runs = {run["command"]: run for source in reused for run in source["runs"]}
    runs[state["command"]] = state["run"]
    origins = dict.fromkeys(r["origin"] for r in records)
    state["commands"] = [c for c in runs if c in origins] or [state["command"]]
    state["runs"] = [runs[c] for c in state["commands"]]
    state["summary"] = summarize(records, state["sequences"], state["sigmas"], state["frames"])
    text = "\n".join([markdown(state), *suite_lines(state)])
    args_out = Path(state["out"])
    args_out.parent.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".md", text), (".json", json.dumps(state, indent=1) + "\n")):
        path = args_out.with_suffix(suffix)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content)
        os.replace(tmp, path)  # a reader (another run's --reuse) never sees half a file
    return text


def main() -> None:
    args = parse_args()
    work, extra = args.work, shlex.split(args.denoise_args)
    models = [] if args.merge_only else model_runs(args)
    tools = [] if args.merge_only else [TOOLS[k] for k in args.tools]
    if not models and not args.merge_only:
        log("note: no shipped weights and no --checkpoint: only the classical tools are benchmarked")
    noise_seed = f"[{BENCH_SEED}, crc32(sequence), round(100*sigma)]"
    reused = [load_reused(path, noise_seed) for path in args.reuse]
    merge_records([(r["path"], r["records"]) for r in reused])  # the reused runs' noisy clips must agree

    # 1. tune the classical tools on one sequence (cached)
    tuned = [t for t in tools if t.key in TUNED_TOOLS]
    rules = {}
    if tuned:
        tune_clean = load_clip(args.data, args.tune_sequence, args.tune_frames)
        settings = {"sequence": args.tune_sequence, "frames": args.tune_frames, "seed": TUNE_SEED}
        rules = tune(tuned, args.sigmas, lambda s: (tune_clean, *noisy_clip(work, tune_clean, args.tune_sequence, s, TUNE_SEED)),
                     work / "tuning", work / "tuning.json", settings, args.retune, log)["tools"]  # fmt: skip
    tuning_on = f"{args.tune_sequence}, first {args.tune_frames} frames, its own noise seed {TUNE_SEED}"
    tuning = {k: v for source in reused for k, v in source["tuning"].items()}
    if not tuned:  # this run tuned nothing: the table's rules come from the reused runs
        tuning_on = next((v["tuning_on"] for v in reversed(tuning.values()) if v.get("tuning_on")), tuning_on)
    tuning.update({t.key: {"rule": rules.get(t.key), "text": rule_text(t, rules.get(t.key)), "tuning_on": tuning_on} for t in tools})
    tuning = {k: tuning[k] for k in TOOLS if k in tuning}
    for entry in tuning.values():  # a reused rule tuned otherwise than the table's header says
        if entry.get("tuning_on") not in (None, tuning_on) and "[tuned on" not in entry["text"]:
            entry["text"] += f" [tuned on {entry['tuning_on']}]"
    model_list = {m["label"]: m for source in reused for m in source["models"]}
    model_list.update({l: {"label": l, "model": n, "checkpoint": str(c) if c else "shipped", "options": shlex.join(o)}
                       for l, n, c, o in models})  # fmt: skip
    command = shlex.join(["python", "scripts/benchmark_quality.py", *sys.argv[1:]])
    state = {"command": command, "out": str(args.out), "data": str(args.data),
             "sequences": args.sequences, "sigmas": args.sigmas, "frames": args.frames, "cbm3d_frames": args.cbm3d_frames,
             "noise_seed": noise_seed,
             "tuning_on": tuning_on, "reuse": [str(p) for p in args.reuse],
             "rules": {k: v["rule"] for k, v in tuning.items()},
             "rule_texts": [v["text"] for v in tuning.values()],
             "models": list(model_list.values()),
             "records": []}  # fmt: skip
    state["run"] = run_info(state)
    for t in tools:
        log(tuning[t.key]["text"])
    if args.tune_only:
        return
    this_run: list[dict] = []
    if args.merge_only:
        print(save(state, this_run, reused))
        return

    # 2. every method on every clip
    outputs = work / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    reused_noisy = [r for source in reused for r in source["records"] if r["method"] == NOISY]

    def add(rec: dict) -> None:
        this_run.append({**rec, "origin": command})

    for sequence in args.sequences:
        clean = load_clip(args.data, sequence, args.frames)
        every = list(range(len(clean)))
        for sigma_255 in args.sigmas:
            noisy_path, noisy = noisy_clip(work, clean, sequence, sigma_255, BENCH_SEED)
            if is_compressed(sequence):  # noisy, then H.264 as a camera writes it: what everyone denoises
                encoded = noisy_path.with_name(noisy_path.stem + "_h264.mp4")
                if not encoded.is_file():
                    h264_encode(FFMPEG, noisy_path, encoded)
                noisy_path, noisy = encoded, read_video(encoded)
            add(record(NOISY, sequence, sigma_255, clean, noisy, every, None, file=str(noisy_path)))
            for other in reused_noisy:  # fail before the slow part if the noise differs from a reused run's
                if key_of(other) == key_of(this_run[-1]):
                    same_noise(other, this_run[-1], " (a --reuse JSON and this run)")
            for label, name, checkpoint, options in models:
                for mode, sigma_arg in (("σ oracle", f"{sigma_255:g}"), ("σ auto", "auto")):
                    if mode.split()[1] not in args.sigma_modes:
                        continue
                    slug = label.replace(":", "_").replace(" ", "").replace("-", "")
                    out_path = outputs / f"{sequence.replace('/', '_')}_s{sigma_255:g}_{slug}_{sigma_arg}.mkv"
                    out, seconds, detail = run_model(name, checkpoint, sigma_arg, noisy_path, out_path, [*extra, *options])
                    add(record(f"{label} ({mode})", sequence, sigma_255, clean, out, every, seconds, **detail))
            for tool in tools:
                if tool.key == "cbm3d" and sigma_255 not in args.cbm3d_sigmas:
                    continue
                value = rule_value(tool, rules.get(tool.key), sigma_255)
                subset = {"cbm3d": args.cbm3d_frames, "opencv": args.opencv_frames}.get(tool.key)
                frames = every if subset is None else subset_frames(len(clean), subset)
                out_path = outputs / f"{sequence.replace('/', '_')}_s{sigma_255:g}_{tool.key}.mkv"
                out, seconds, ran = apply_tool(tool, value, noisy_path, noisy, out_path, frames)
                add(record(tool.label, sequence, sigma_255, clean, out, frames, seconds, value=value, ran=ran))
            save(state, this_run, reused)
    print(save(state, this_run, reused))


if __name__ == "__main__":
    main()
