#!/usr/bin/env python
"""Speed and memory of ``stdit denoise`` against the classical tools, on one machine, in one run.

    python scripts/benchmark_speed.py                      # everything (long on a CPU)
    python scripts/benchmark_speed.py --models unet --sizes 640x272 --frames 40 --repeats 3 --memory --memory-4k 0 --model-only
    python scripts/benchmark_speed.py --models unet --sizes 854x480 --memory 60 600

Clips: real footage (a DAVIS-2016 sequence, 854x480, played forwards and backwards to reach the
frame count), scaled and centre-cropped to each size, Gaussian noise sigma 25 added, written as
H.264 (crf 10, yuv420p: what a user's noisy file looks like).

Rows:
- ``stdit denoise`` as a user times it (the whole process: Python start-up, imports, model load,
  decode, model, encode) and its video loop alone (the time the CLI reports for the video), for
  each model, with the default settings and with ``--fast``;
- ffmpeg ``nlmeans`` (p=7, r=15) and ``hqdn3d`` end to end (decode + filter in yuv444p + the same
  H.264 encode stdit does), and ffmpeg ``nlmeans`` as a user types it (``ffmpeg -i noisy.mp4 -vf
  nlmeans out.mp4``: the filter on the file's yuv420p planes, ffmpeg's default x264 encode; about
  two thirds of the time of the yuv444p row, so stdit's ratios against it are lower), OpenCV ``fastNlMeansDenoisingColoredMulti`` (window 5; denoising only) and
  CBM3D per frame (``bm3d.bm3d_rgb``; a few frames), each with its ratio against ffmpeg nlmeans;
- model-only frames/s of each model against its arithmetic floor (FLOPs per frame, counted by
  ``torch.utils.flop_counter``, over the measured fp32/bf16 matmul rate of the device), in fp32
  and, on CUDA or a CPU with native bf16 (AVX512-BF16/AMX), in bf16;
- peak resident memory (the process's own VmHWM) of a 60- and a 600-frame 854x480 run, and of a 4K clip;
- on CUDA: 1920x1080 frames/s in fp32 and bf16 autocast, and peak GPU memory.

Writes ``speed.json`` and ``speed.md`` under ``--out`` and prints the table. Pause other jobs first:
every figure shares the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import reflect_index, run_cbm3d, run_opencv  # noqa: E402
from gpu_model_speed import matmul_rate  # noqa: E402

from stdit_cli.choices import MODEL_NAMES  # noqa: E402
from stdit_cli.pipeline.adapters import ADAPTERS  # noqa: E402
from stdit_cli.pipeline.denoiser import ENCODE  # noqa: E402
from stdit_cli.runtime import cpu_has_native_bf16  # noqa: E402

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SIGMA = 25.0
# classical strengths at sigma 25: the tuned values of scripts/benchmark_quality.py (speed does
# not depend on them)
NLMEANS = "nlmeans=s=10:p=7:r=15"
HQDN3D = "hqdn3d=luma_spatial=30"
OPENCV_H = 15.0
MODELS = MODEL_NAMES  # every registered backbone
#: --modes: (table label, extra `stdit denoise` options)
MODES = {
    "default": ("default (one view, --steps 1)", []),
    "fast": ("--fast", ["--fast"]),
    "steps2": ("--steps 2", ["--steps", "2"]),
    "bf16": ("--precision bf16", ["--precision", "bf16"]),
    "fp32": ("--precision fp32", ["--precision", "fp32"]),
    "fast-fp32": ("--fast --precision fp32", ["--fast", "--precision", "fp32"]),
    # the original default settings (half-window overlap, fp32): the "before" of the speed changes
    "old-default": ("--window-overlap 2 --precision fp32", ["--window-overlap", "2", "--precision", "fp32"]),
    "compile": ("--compile", ["--compile"]),
    # on a GPU the automatic batch size takes half the free memory (63-68 GiB on an H200 at 1080p):
    # what smaller batches cost there is the next GPU session's question
    "batch1": ("--batch-size 1", ["--batch-size", "1"]),
    "batch4": ("--batch-size 4", ["--batch-size", "4"]),
    "batch8": ("--batch-size 8", ["--batch-size", "8"]),
    "batch16": ("--batch-size 16", ["--batch-size", "16"]),
    # the quality operating point: a self-ensemble over symmetric views of each window
    "ensemble2": ("--ensemble 2", ["--ensemble", "2"]),
    "ensemble4": ("--ensemble 4", ["--ensemble", "4"]),
    "ensemble8": ("--ensemble 8", ["--ensemble", "8"]),
    # the default until 2026-11-30: one view, consecutive windows sharing a frame
    "one-view": ("--ensemble 1 --window-overlap 1", ["--ensemble", "1", "--window-overlap", "1"]),
}


# ---------------------------------------------------------------------------- clips
def source_frames(data: Path, sequence: str, count: int, width: int, height: int) -> np.ndarray:
    """``count`` frames of a DAVIS sequence (ping-pong looped), scaled to cover and centre-cropped."""
    paths = sorted((data / "davis2016_val_480p" / sequence).glob("*.jpg"))
    frames = []
    for i in range(count):
        image = Image.open(paths[reflect_index(i % (2 * len(paths) - 2), len(paths))]).convert("RGB")
        scale = max(width / image.width, height / image.height)
        size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
        image = image.resize(size, Image.BICUBIC) if size != image.size else image
        left, top = (image.width - width) // 2, (image.height - height) // 2
        frames.append(np.asarray(image.crop((left, top, left + width, top + height))))
    return np.stack(frames)


def write_noisy_clip(path: Path, clean: np.ndarray, seed: int = 0) -> Path:
    """Add sigma-25 noise frame by frame (a long clip never sits in memory as float), encode H.264."""
    height, width = clean.shape[1:3]
    rng = np.random.default_rng(seed)
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=30, codec="libx264", quality=None,
                                         pix_fmt_out="yuv420p", output_params=["-crf", "10"], macro_block_size=1)  # fmt: skip
    writer.send(None)
    for frame in clean:
        writer.send(np.clip(np.round(frame + SIGMA * rng.standard_normal(frame.shape)), 0, 255).astype(np.uint8))
    writer.close()
    return path


def noisy_clip(work: Path, data: Path, frames: int, width: int, height: int) -> Path:
    path = work / f"noisy_{width}x{height}_{frames}f.mp4"
    if not path.exists():
        write_noisy_clip(path, source_frames(data, "bmx-trees", frames, width, height))
    return path


def decode(path: Path) -> np.ndarray:
    from stdit_cli.video import VideoReader

    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


# ---------------------------------------------------------------------------- runs
def run_timed(command: list[str]) -> float:
    """Run ``command``; return its wall-clock seconds."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])}… failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall


def _vm_hwm_kib(pid: int) -> int:
    """Peak resident set (VmHWM) of a running process in KiB; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_stdit(clip: Path, out: Path, model: str, extra: list[str], threads: int | None) -> dict:
    """``stdit denoise`` in a fresh process; frames/s from the time it reports for the video."""
    command = [sys.executable, "-m", "stdit_cli", "denoise", str(clip), "-o", str(out), "--overwrite",
               "--model", model, "--json", "-q", *extra]  # fmt: skip
    if threads:
        command += ["--threads", str(threads)]
    log_path = out.with_suffix(".log")
    with open(log_path, "w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        # the JSON line is short enough for the pipe buffer. Peak RSS: the child's own VmHWM (a
        # high-water mark, so polling misses nothing but its last 50 ms). Not wait4's ru_maxrss:
        # at exec Linux records the old (forked) address space's high-water mark into the child's,
        # so that figure is at least this script's own resident size (1719 MiB once it had made the
        # 600-frame clip, for a run whose own peak was 1014 MiB).
        peak_kib = 0
        while process.poll() is None:
            peak_kib = max(peak_kib, _vm_hwm_kib(process.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), log_path.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"stdit denoise {clip.name} --model {model} {' '.join(extra)} failed: {stderr.strip()[-400:]}")
    record = json.loads(stdout.strip().splitlines()[-1])
    return {"frames": record["frames"], "seconds": record["seconds"], "fps": record["frames"] / record["seconds"],
            "wall_seconds": round(wall, 2), "whole_fps": record["frames"] / wall,
            "startup_seconds": round(wall - record["seconds"], 2),
            "peak_rss_mib": round(peak_kib / 1024, 1), "device": record["device"],
            "precision": record["precision"], "peak_device_mib": record.get("peak_device_mib")}  # fmt: skip


def best_of(repeats: int, run) -> dict:
    """The fastest of ``repeats`` runs of ``run()`` by whole-process time (every run's figures kept
    in ``fps_runs`` and ``wall_runs``): other load on a shared machine only ever slows a run down."""
    rows = [run() for _ in range(max(1, repeats))]
    best = max(rows, key=lambda row: row.get("whole_fps", row["fps"]))
    return {**best, "fps_runs": [round(row["fps"], 3) for row in rows],
            "wall_runs": [row.get("wall_seconds") for row in rows]}


def run_ffmpeg_filter(clip: Path, out: Path, chain: str, frames: int) -> dict:
    """ffmpeg decode + filter + the H.264 encode stdit's default does (``ENCODE``: preset and CRF)."""
    preset, crf = ENCODE
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(clip), "-vf", f"format=yuv444p,{chain},format=yuv420p",
               "-c:v", "libx264", "-crf", str(crf), "-preset", preset, str(out)]  # fmt: skip
    wall = run_timed(command)
    return {"frames": frames, "seconds": round(wall, 3), "fps": frames / wall, "wall_seconds": round(wall, 2),
            "whole_fps": frames / wall, "command": " ".join(["ffmpeg", *command[1:]])}


def run_ffmpeg_as_typed(clip: Path, out: Path, frames: int) -> dict:
    """``ffmpeg -i clip -vf nlmeans out.mp4``, nothing else: nlmeans on the file's own pixel format
    (yuv420p: chroma at a quarter of the pixels) and ffmpeg's default encode (libx264 ``medium``, CRF 23)."""
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(clip), "-vf", "nlmeans", str(out)]
    wall = run_timed(command)
    return {"frames": frames, "seconds": round(wall, 3), "fps": frames / wall, "wall_seconds": round(wall, 2),
            "whole_fps": frames / wall, "command": " ".join(["ffmpeg", *command[1:]])}


def run_opencv_clip(clip: Path, frames: int) -> dict:
    noisy = decode(clip)[:frames]
    _, seconds = run_opencv(noisy, OPENCV_H)
    return {"frames": len(noisy), "seconds": round(seconds, 3), "fps": len(noisy) / seconds}


def run_cbm3d_clip(clip: Path, frames: int) -> dict:
    noisy = decode(clip)[:frames]
    _, seconds = run_cbm3d(noisy, SIGMA)
    return {"frames": len(noisy), "seconds": round(seconds, 3), "fps": len(noisy) / seconds}


# ---------------------------------------------------------------------------- model-only
def _mkldnn_conv_flop(x_shape, w_shape, _bias, _padding, _stride, _dilation, _groups, *, out_shape, **kwargs) -> int:
    """FLOPs of ``torch.mkldnn_convolution`` (FlopCounterMode counts only ``aten.convolution``)."""
    from torch.utils.flop_counter import conv_flop_count

    return conv_flop_count(x_shape, w_shape, out_shape)


def model_only(model_name: str, width: int, height: int, device: torch.device, precision: str, repeats: int = 2) -> dict:
    """Frames/s of the backbone alone on one window of the frame, up to the tile size (every view of it), and its FLOP floor."""
    from torch.utils.flop_counter import FlopCounterMode

    from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
    from stdit_cli.weights import FAST_SUFFIX, resolve_checkpoint

    # "unet-fast": the checkpoint `--fast` loads (FAST_SUFFIX)
    base_name, fast = model_name.removesuffix(FAST_SUFFIX), model_name.endswith(FAST_SUFFIX)
    checkpoint = resolve_checkpoint(base_name, None, fast=fast)
    # the views the mode runs with: the default's two, --fast's one
    denoiser = VideoDenoiser(checkpoint, DenoiseOptions(device=str(device), precision=precision, fast=fast))
    frames = denoiser.plan.window
    tile = min(denoiser.tile, max(width, height))
    unit = torch.rand(1, 3, frames, min(height, tile), min(width, tile), device=device) * 2 - 1
    timestep = torch.full((1,), 300, device=device)
    predict = denoiser._predict(denoiser.precision)
    with torch.inference_mode():
        # the unet's temporal convolutions call oneDNN directly at inference (unet_fusions._conv3d_over_time)
        with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.mkldnn_convolution: _mkldnn_conv_flop}) as counter:
            predict(unit, timestep)
        flops = counter.get_total_flops()
        predict(unit, timestep)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            predict(unit, timestep)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / repeats
    pixels = unit.shape[-1] * unit.shape[-2]
    frames_per_full = frames * pixels / (width * height)  # frame-equivalents of this call
    dtype = torch.float32 if denoiser.precision == "fp32" else torch.bfloat16
    rate = matmul_rate(device, dtype, size=2048, repeats=5)
    flops_per_frame = flops / frames_per_full
    return {"model": model_name, "size": f"{width}x{height}", "precision": denoiser.precision,
            "fps": frames_per_full / seconds, "gflop_per_frame": flops_per_frame / 1e9,
            "matmul_tflops": rate / 1e12, "floor_fps": rate / flops_per_frame,
            "efficiency": (frames_per_full / seconds) / (rate / flops_per_frame)}  # fmt: skip


# ---------------------------------------------------------------------------- tables
TYPED = "ffmpeg nlmeans, as typed"


def speed_table(rows: list[dict]) -> str:
    """Whole process (what `time stdit denoise clip.mp4` shows) and the video loop alone, each
    against ffmpeg nlmeans on the same clip (ffmpeg starts in milliseconds: its loop is its whole):
    in yuv444p with stdit's encode, and, where it ran, as a user types it (yuv420p, ffmpeg's encode)."""
    lines = ["| method | size | frames | settings | whole process (s) | whole frames/s | × nlmeans | × nlmeans as typed "
             "| start-up (s) | loop frames/s | × nlmeans | peak RSS (MiB) |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    nlmeans = {(r["size"], r["frames"]): r for r in rows if r["method"] == "ffmpeg nlmeans"}
    typed = {(r["size"], r["frames"]): r for r in rows if r["method"] == TYPED}

    def ratio(value: float | None, ref: dict | None, key: str) -> str:
        return f"{value / ref[key]:.2f}" if ref and value and ref.get(key) else "—"

    for r in rows:
        key = (r["size"], r["frames"])
        whole = r.get("whole_fps")
        rss = f"{r['peak_rss_mib']:.0f}" if r.get("peak_rss_mib") else "—"
        settings = r.get("settings", "")
        if r.get("precision"):  # what --precision auto resolved to, for stdit rows
            settings += f" [{r['precision']}]"
        wall = f"{r['wall_seconds']:.2f}" if r.get("wall_seconds") else "—"
        startup = f"{r['startup_seconds']:.2f}" if r.get("startup_seconds") is not None else "—"
        lines.append(f"| {r['method']} | {r['size']} | {r['frames']} | {settings} | {wall} | "
                     + (f"{whole:.2f}" if whole else "—")
                     + f" | {ratio(whole, nlmeans.get(key), 'whole_fps')} | {ratio(whole, typed.get(key), 'whole_fps')}"
                     f" | {startup} | {r['fps']:.2f} | {ratio(r['fps'], nlmeans.get(key), 'fps')} | {rss} |")
    return "\n".join(lines)


def memory_table(rows: list[dict]) -> str:
    lines = ["| run | frames | size | peak RSS (MiB) | frames/s |", "|---|---:|---|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['frames']} | {r['size']} | {r['peak_rss_mib']:.0f} | {r['fps']:.2f} |")
    return "\n".join(lines)


def model_table(rows: list[dict]) -> str:
    lines = ["| model | size | precision | GFLOP/frame | matmul TFLOP/s | floor frames/s | measured frames/s | of floor |",
             "|---|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['model']} | {r['size']} | {r['precision']} | {r['gflop_per_frame']:.1f} | {r['matmul_tflops']:.3f} | "
                     f"{r['floor_fps']:.2f} | {r['fps']:.2f} | {100 * r['efficiency']:.0f}% |")  # fmt: skip
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}; torch {torch.__version__}"


# ---------------------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    parser.add_argument("--sizes", nargs="*", default=["640x272", "854x480", "1280x720", "1920x1080"])
    parser.add_argument("--frames", type=int, nargs="+", default=[40], help="clip lengths for unet and the classical tools (e.g. 40 600)")
    parser.add_argument("--tool-frames", type=int, default=None, help="frames per clip for ffmpeg/OpenCV/CBM3D (default: --frames)")
    parser.add_argument("--dit-frames", type=int, default=5, help="frames per clip for the (slow) transformer models")
    parser.add_argument("--dit-sizes", nargs="*", default=None, help="sizes for the transformers (default: --sizes)")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--modes", nargs="*", default=["default", "fast"], choices=list(MODES))
    parser.add_argument("--tools", nargs="*", default=["nlmeans", "nlmeans-typed", "hqdn3d", "opencv", "cbm3d"])
    parser.add_argument("--opencv-frames", type=int, default=10)
    parser.add_argument("--cbm3d-frames", type=int, default=1)
    parser.add_argument("--memory", nargs="*", type=int, default=[60, 600], help="frame counts of the 854x480 RSS runs")
    parser.add_argument("--memory-4k", type=int, default=2, help="frames of the 3840x2160 RSS run (0: skip)")
    parser.add_argument("--model-only", nargs="*", default=["unet"], help="models timed without I/O against their FLOP floor (unet-fast: the checkpoint --fast loads)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1, help="time each ffmpeg/stdit speed row N times and keep the fastest")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark_speed"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    work = args.out / "clips"
    work.mkdir(parents=True, exist_ok=True)
    outputs = args.out / "outputs"
    outputs.mkdir(exist_ok=True)
    device_args = [] if args.device == "auto" else ["--device", args.device]
    results = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "sigma": SIGMA,
               "speed": [], "memory": [], "model_only": [], "gpu": []}  # fmt: skip

    def save() -> None:
        (args.out / "speed.json").write_text(json.dumps(results, indent=2) + "\n")

    def log(row: dict) -> None:
        print(json.dumps(row), flush=True)
        save()

    for size, clip_frames in [(size, frames) for size in args.sizes for frames in args.frames]:
        width, height = (int(v) for v in size.split("x"))
        clip = noisy_clip(work, args.data, clip_frames, width, height)
        for model in args.models:
            dit = ADAPTERS[model].token_grid is not None  # a transformer: --dit-sizes, --dit-frames
            if dit and args.dit_sizes is not None and size not in args.dit_sizes:
                continue
            model_clip = noisy_clip(work, args.data, args.dit_frames, width, height) if dit else clip
            for mode in args.modes:
                extra = MODES[mode][1] + device_args
                row = best_of(args.repeats, lambda: run_stdit(model_clip, outputs / f"{model}_{mode}.mp4", model, extra, args.threads))
                row.update(method=f"stdit {model}", size=size,
                           settings=MODES[mode][0])  # fmt: skip
                results["speed"].append(row)
                log(row)

        # the classical tools after the models: at large sizes they are the slow rows
        tool_clip = noisy_clip(work, args.data, args.tool_frames, width, height) if args.tool_frames else clip
        tool_frames = args.tool_frames or clip_frames
        for tool in args.tools:
            if tool == "nlmeans":
                row = best_of(args.repeats, lambda: run_ffmpeg_filter(tool_clip, outputs / "nlmeans.mp4", NLMEANS, tool_frames))
                row.update(method="ffmpeg nlmeans", settings="p=7:r=15, yuv444p, stdit's encode")
            elif tool == "nlmeans-typed":
                row = best_of(args.repeats, lambda: run_ffmpeg_as_typed(tool_clip, outputs / "nlmeans_typed.mp4", tool_frames))
                row.update(method=TYPED, settings="`ffmpeg -i in.mp4 -vf nlmeans out.mp4` (yuv420p, x264 medium CRF 23)")
            elif tool == "hqdn3d":
                row = best_of(args.repeats, lambda: run_ffmpeg_filter(tool_clip, outputs / "hqdn3d.mp4", HQDN3D, tool_frames))
                row.update(method="ffmpeg hqdn3d", settings="")
            elif tool == "opencv":
                row = run_opencv_clip(tool_clip, args.opencv_frames)
                row.update(method="OpenCV NLM multi-frame", settings="window 5, denoising only")
            elif tool == "cbm3d" and size == args.sizes[0] and clip_frames == args.frames[0]:
                row = run_cbm3d_clip(tool_clip, args.cbm3d_frames)
                row.update(method="CBM3D per frame", settings="bm3d_rgb, denoising only")
            else:
                continue
            results["speed"].append({"size": size, **row})
            log(results["speed"][-1])
    for frames in args.memory:
        clip = noisy_clip(work, args.data, frames, 854, 480)
        row = run_stdit(clip, outputs / "memory.mp4", "unet", device_args, args.threads)
        results["memory"].append({"label": f"stdit unet default [{row['precision']}]", "size": "854x480", **row})
        log(results["memory"][-1])
    if args.memory_4k:
        clip = noisy_clip(work, args.data, args.memory_4k, 3840, 2160)
        row = run_stdit(clip, outputs / "memory4k.mp4", "unet", device_args, args.threads)
        results["memory"].append({"label": f"stdit unet default [{row['precision']}]", "size": "3840x2160", **row})
        log(results["memory"][-1])

    device = torch.device("cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    for model in args.model_only:
        native_bf16 = device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())
        for precision in (["fp32", "bf16"] if native_bf16 else ["fp32"]):
            size = "1920x1080" if device.type == "cuda" else args.sizes[0]
            width, height = (int(v) for v in size.split("x"))
            results["model_only"].append(model_only(model, width, height, device, precision))
            log(results["model_only"][-1])
    if device.type == "cuda":
        clip = noisy_clip(work, args.data, args.frames[0], 1920, 1080)
        for precision in ("fp32", "bf16"):
            row = run_stdit(clip, outputs / f"gpu_{precision}.mp4", "unet", ["--device", "cuda", "--precision", precision], None)
            results["gpu"].append({"precision": precision, **row})
            log(results["gpu"][-1])

    markdown = [f"Machine: {results['machine']}", "", f"`{results['command']}`", "",
                f"Noisy input: sigma {SIGMA:g}, H.264 crf 10. Whole process: the wall time of the command, start-up "
                "included (Python, imports, model load), as `time stdit denoise clip.mp4` shows it; start-up = whole "
                "process minus the time `stdit denoise --json` reports for the video; loop frames/s = frames / that "
                "reported time (decode + model + encode). × nlmeans: against ffmpeg nlmeans in yuv444p (the quality "
                "tables' setting) with stdit's own encode; × nlmeans as typed: against `ffmpeg -i in.mp4 -vf nlmeans "
                "out.mp4`, which filters the file's yuv420p planes (half the samples) and encodes with ffmpeg's default."
                + (f" Each speed row is the fastest of {args.repeats} runs (all in JSON)." if args.repeats > 1 else ""), "",
                speed_table(results["speed"])]  # fmt: skip
    if results["memory"]:
        markdown += ["", "Peak resident memory (VmHWM of the `stdit denoise` process, read until it exits):", "", memory_table(results["memory"])]
    if results["model_only"]:
        markdown += ["", "Model only (one full-frame window, no I/O) against the arithmetic floor:", "", model_table(results["model_only"])]
    if device.type != "cuda":
        markdown += ["", "GPU rows: not measured (no CUDA device on this machine)."]
    else:
        markdown += ["", "GPU end to end, 1920x1080:", "",
                     "\n".join(f"- {r['precision']}: {r['fps']:.1f} frames/s, peak GPU memory {r['peak_device_mib']} MiB"
                               for r in results["gpu"])]  # fmt: skip
    text = "\n".join(markdown) + "\n"
    (args.out / "speed.md").write_text(text)
    save()
    print(text)


if __name__ == "__main__":
    main()
