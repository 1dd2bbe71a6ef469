#!/usr/bin/env python
"""Backbone speed on a GPU without video I/O: frames/s of one full-frame window, peak GPU memory.

    python scripts/gpu_model_speed.py --out runs/gpu_speed.json            # 1920x1080, bf16 and fp32
    python scripts/gpu_model_speed.py --device cpu --size 640x272 --repeats 1   # a dry run on a CPU

For a lent machine that carries the training data rather than the video wheels (decord and
imageio-ffmpeg alone are 40 MiB of the 64 MiB a device command takes along): it needs torch,
diffusers and this package, nothing that decodes or encodes video. Times each model's backbone on
one ``[1, 3, T, H, W]`` window (the default's one view, windows that share no frame, so frames/s is
``T`` over the call's time) at ``--size``, in bf16 autocast and fp32; reports FLOPs per frame, the
measured bf16/fp32 matmul rate and the fraction of that floor the backbone reaches. Models: the
shipped ``unet`` (the CPU default, also the CUDA default until ``weights/unet-gpu`` ships) and
the GPU-class preset ``gpu`` (freshly initialised: its speed does not depend on its weights).
The end-to-end GPU rows (decode, transfers, x264 on the host) are ``scripts/gpu_check.py``'s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from stdit_cli.models import UNetSTIC
from stdit_cli.pipeline.adapters import adapter_for
from stdit_cli.presets import load_preset
from stdit_cli.weights import load_checkpoint, shipped_checkpoint_dir


def matmul_rate(device: torch.device, dtype: torch.dtype, size: int = 4096, repeats: int = 10) -> float:
    """Measured dense matmul rate in FLOP/s: the arithmetic ceiling."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    (a @ b).sum().item()
    start = time.perf_counter()
    for _ in range(repeats):
        c = a @ b
    c.sum().item()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_backbone(name: str, model: torch.nn.Module, width: int, height: int, device: torch.device,
                  precision: str, repeats: int) -> dict:  # fmt: skip
    """Frames/s of ``model`` on one full-frame window in ``precision`` (autocast for bf16)."""
    adapter = adapter_for("unet")
    model = adapter.prepare(model.to(device).eval())
    frames = model.config.num_frames
    window = torch.rand(1, 3, frames, height, width, device=device) * 2 - 1  # [B, C, T, H, W] in [-1, 1]
    timestep = torch.full((1,), 300, device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    with torch.inference_mode(), autocast:
        with FlopCounterMode(display=False) as counter:
            adapter.predict(model, window, timestep)
        flops_per_frame = counter.get_total_flops() / frames
        adapter.predict(model, window, timestep)  # warm-up (cuDNN autotuning)
        synchronize(device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        for _ in range(repeats):
            adapter.predict(model, window, timestep)
        synchronize(device)
        seconds = (time.perf_counter() - start) / repeats
    rate = matmul_rate(device, torch.bfloat16 if precision == "bf16" else torch.float32)
    fps = frames / seconds
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"model": name, "size": f"{width}x{height}", "precision": precision, "frames_per_window": frames,
            "fps": round(fps, 2), "gflop_per_frame": round(flops_per_frame / 1e9, 1),
            "matmul_tflops": round(rate / 1e12, 1), "floor_fps": round(rate / flops_per_frame, 1),
            "efficiency": round(fps / (rate / flops_per_frame), 4),
            "peak_gpu_mib": round(peak, 1) if peak is not None else None}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/gpu_model_speed.json"))
    args = parser.parse_args()
    device = torch.device(args.device)
    width, height = (int(v) for v in args.size.split("x"))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    models = {"unet (shipped default)": lambda: load_checkpoint(shipped_checkpoint_dir("unet"), "unet").model,
              "unet preset gpu (untrained)": lambda: UNetSTIC(**load_preset("unet", "gpu"))}  # fmt: skip
    rows = []
    for name, build in models.items():
        for precision in ("bf16", "fp32"):
            rows.append(time_backbone(name, build(), width, height, device, precision, args.repeats))
            print(json.dumps(rows[-1]), flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
                                            "torch": torch.__version__, "rows": rows}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
