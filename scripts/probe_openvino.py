#!/usr/bin/env python
"""Would OpenVINO run the shipped unet faster than PyTorch on a CPU? One window, no video I/O.

    pip install openvino      # not a dependency of stdit: this probe only
    python scripts/probe_openvino.py --weights unet unet-fast --size 640x272

Times one ``[1, T, 3, H, W]`` window of the shipped weights as ``stdit denoise`` runs them on a CPU
(bf16 autocast over a bf16 copy of the weights, ``runtime.with_autocast_weights``) against the same
network converted with ``openvino.convert_model`` (from ``torch.export``) and compiled for the CPU
in bf16 and f32, the fastest of ``--repeats`` calls after two warm-up calls each; also the largest
and mean absolute difference from PyTorch fp32. The network is exported with autograd on, so the
unet's eager-only oneDNN fast paths (``models/unet_fusions.py``) step aside for the plain PyTorch
calls they stand in for (the same sums).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from stdit_cli.runtime import with_autocast_weights
from stdit_cli.weights import load_checkpoint, shipped_checkpoint_dir


class _Backbone(torch.nn.Module):
    """The unet as a function of ``(x [B, T, C, H, W], timestep [B])`` -> the prediction."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return self.model(x=x, timestep=timestep, encoder_hidden_states=None).sample


def _fastest(call, repeats: int) -> float:
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def probe(weights: str, width: int, height: int, repeats: int, bf16: bool) -> None:
    import openvino as ov

    checkpoint = load_checkpoint(shipped_checkpoint_dir(weights), "unet")
    model = checkpoint.adapter.prepare(checkpoint.model).eval()
    frames = int(model.num_frames)
    x = torch.randn(1, frames, 3, height, width, generator=torch.Generator().manual_seed(0)) * 0.5
    timestep = torch.tensor([300])
    backbone = _Backbone(model).eval()
    with torch.no_grad():
        reference = backbone(x, timestep).float()
    lowered = _Backbone(with_autocast_weights(model, "bf16")).eval()

    def run_torch():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return lowered(x, timestep)

    def run_torch_fp32():
        with torch.no_grad():
            return backbone(x, timestep)

    seconds = _fastest(run_torch_fp32, repeats)
    print(f"{weights} {width}x{height}, PyTorch fp32: {seconds:.3f} s a window ({frames / seconds:.1f} frames/s)")
    if bf16:
        seconds = _fastest(run_torch, repeats)
        error = (run_torch().float() - reference).abs()
        print(f"{weights} {width}x{height}, PyTorch bf16: {seconds:.3f} s a window ({frames / seconds:.1f} frames/s), "
              f"|diff| max {float(error.max()):.4f} mean {float(error.mean()):.5f}")  # fmt: skip
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    start = time.perf_counter()
    with torch.enable_grad():  # the eager-only fast paths step aside (module docstring)
        converted = ov.convert_model(torch.export.export(backbone, (x, timestep)))
    print(f"  converted in {time.perf_counter() - start:.1f} s")
    inputs = [x.numpy(), timestep.numpy()]
    for precision in ("bf16", "f32") if bf16 else ("f32",):
        start = time.perf_counter()
        compiled = ov.Core().compile_model(converted, "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"})
        request = compiled.create_infer_request()
        compile_s = time.perf_counter() - start
        seconds = _fastest(lambda: request.infer(inputs), repeats)
        error = (torch.from_numpy(request.infer(inputs)[0]) - reference).abs()
        print(f"  OpenVINO {precision}: {seconds:.3f} s a window ({frames / seconds:.1f} frames/s; compiled in {compile_s:.1f} s), "
              f"|diff| max {float(error.max()):.4f} mean {float(error.mean()):.5f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", default=["unet", "unet-fast"], help="shipped weights folders (stdit_cli/weights/NAME)")
    parser.add_argument("--size", default="640x272")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 rows (a CPU without bf16 arithmetic emulates it slowly)")
    args = parser.parse_args()
    try:
        import openvino  # noqa: F401
    except ImportError:
        sys.exit("probe_openvino.py needs OpenVINO, which stdit does not depend on: pip install openvino")
    width, height = (int(v) for v in args.size.split("x"))
    for weights in args.weights:
        probe(weights, width, height, args.repeats, not args.no_bf16)


if __name__ == "__main__":
    main()
