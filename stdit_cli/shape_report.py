"""``stdit inspect-shapes``: trace one real forward pass through a backbone, stage by stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stdit_cli.pipeline.adapters import adapter_for
from stdit_cli.pipeline.borders import EdgeMargin
from stdit_cli.pipeline.sampler import DiffusionSampler
from stdit_cli.pipeline.tiling import SampleFormat
from stdit_cli.presets import build_from_preset
from stdit_cli.video import VideoReader
from stdit_cli.video.fields import split_fields
from stdit_cli.weights import SHIPPED


@dataclass
class Stage:
    """One row of the report: a tensor (or ``None`` input) on the road from frames to frames."""

    stage: str
    name: str
    shape: list[int] | None
    dtype: str | None
    layout: str
    note: str = ""


@dataclass
class ShapeReport:
    model: str
    model_class: str
    preset: str
    parameters: int
    permutation: str
    input_layout: str
    stages: list[Stage] = field(default_factory=list)
    token_grid: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tensor_stage(stage: str, name: str, tensor: torch.Tensor | np.ndarray, layout: str, note: str = "") -> Stage:
    dtype = str(tensor.dtype).replace("torch.", "")
    return Stage(stage, name, list(tensor.shape), dtype, layout, note)


def _input_frames(video: Path | None, frames: int, height: int, width: int, seed: int) -> tuple[np.ndarray, str, str | None]:
    """The frames, where they come from, and the field order of an interlaced video (else None)."""
    if video is None:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, (frames, height, width, 3), dtype=np.uint8), "random frames", None
    with VideoReader(video, backend="pyav", bit_depth=None) as reader:  # as `stdit denoise` reads it: at its own depth
        order = reader.info.field_order if reader.info.interlaced else None
        count = min(-(-frames // 2) if order else frames, len(reader))  # an interlaced frame holds two fields
        depth = "" if reader.bit_depth == 8 else f"; {reader.info.pix_fmt}, {reader.info.bits_per_sample} bits per sample, as uint16"
        source = f"first {count} frames of {video.name} (decoded with {reader.backend}{depth})"
        return reader.read(0, count), source, order


def _checkpoint_label(source: str) -> str:
    """How the report names a checkpoint: ``weights/unet`` for a shipped one, else its path."""
    path = Path(source)
    return f"weights/{path.name}" if path.parent == Path(str(resources.files("stdit_cli") / "weights")) else source


def build_report(
    model_name: str,
    preset: str = "tiny",
    frames: int | None = None,
    height: int = 64,
    width: int = 64,
    video: Path | None = None,
    sigma_255: float = 25.0,
    seed: int = 0,
    checkpoint: str | Path | None = None,
) -> ShapeReport:
    """Build ``model_name`` from ``preset`` (random weights) and run one forward pass, recording
    every stage. ``checkpoint``: a trained checkpoint instead (a folder or ``.safetensors`` file, or
    :data:`SHIPPED` for the weights ``stdit denoise --model <model_name>`` runs), and its noise schedule."""
    torch.manual_seed(seed)
    schedule = None
    if checkpoint is None:
        adapter = adapter_for(model_name)
        model = build_from_preset(adapter.model_class, model_name, preset)[0].eval()
    else:
        from stdit_cli.weights import resolve_checkpoint

        loaded = resolve_checkpoint(model_name, None if checkpoint == SHIPPED else checkpoint)
        adapter, model, schedule = loaded.adapter, loaded.model, loaded.schedule
        model_name, preset = adapter.name, _checkpoint_label(loaded.source)
    frames = frames or int(model.num_frames)
    frames_thwc, source, field_order = _input_frames(video, frames, height, width, seed)
    decoded = frames_thwc
    if field_order is not None:  # interlaced: the model sees fields (stdit_cli.video.fields)
        # [t, H, W, 3] -> [2t, H/2, W, 3], the first `frames` of them
        frames_thwc = split_fields(frames_thwc, field_order)[:frames]
    count, height, width = frames_thwc.shape[:3]
    samples = SampleFormat.of(frames_thwc.dtype)  # uint8, or uint16 for video of more than 8 bits per sample
    report = ShapeReport(
        model=model_name,
        model_class=type(model).__name__,
        preset=str(preset),
        parameters=sum(p.numel() for p in model.parameters()),
        permutation=adapter.permutation,
        input_layout=adapter.input_layout,
    )
    stages = report.stages
    stages.append(_tensor_stage("decode", "frames", decoded, "T H W C", source))
    if field_order is not None:
        stages.append(_tensor_stage("fields", "fields", frames_thwc, "T H W C",
                                    f"interlaced ({field_order}): each frame's two fields in the order they were shot"))  # fmt: skip

    # [T, H, W, 3] samples -> [1, 3, T, H, W] in [-1, 1]
    video_bcthw = samples.to_unit_(samples.to_held(frames_thwc).permute(3, 0, 1, 2).unsqueeze(0).float())
    stages.append(_tensor_stage("normalise", "video_bcthw", video_bcthw, "B C T H W", "canonical layout, [-1, 1]"))
    edge = EdgeMargin.for_model(adapter.edge_margin, model)
    # [1, 3, T, H, W] -> [1, 3, T, H + top + bottom, W + left + right], mirrored outwards
    unit_bcthw, inside = edge.pad(video_bcthw)
    if unit_bcthw is not video_bcthw:
        rows, cols = inside
        pads = (rows.start, unit_bcthw.shape[-2] - rows.stop, cols.start, unit_bcthw.shape[-1] - cols.stop)
        stages.append(_tensor_stage("edge margin", "unit_bcthw", unit_bcthw, "B C T H W",
                                    "mirrored by {} / {} / {} / {} px (top / bottom / left / right), cropped back after the model".format(*pads)))

    sampler = DiffusionSampler(schedule, steps=1)
    t_start = sampler.start_timestep(sigma_255)
    timestep = torch.full((1,), t_start, dtype=torch.int64)
    x_t = float(sampler.alphas_cumprod[t_start]) ** 0.5 * unit_bcthw
    stages.append(_tensor_stage("diffusion state", "x_t", x_t, "B C T H W", f"sqrt(abar) * y at t*={t_start} (sigma {sigma_255:g})"))

    inputs = adapter.to_inputs(model, x_t, timestep)
    for name, value in inputs.items():
        if value is None:
            note = adapter.conditioning.get(name, "None")
            stages.append(Stage("model input", name, None, None, "-", note))
        else:
            layout = adapter.input_layout if value.ndim >= 4 else "B"
            stages.append(_tensor_stage("model input", name, value, layout, f"permutation: {adapter.permutation}" if value.ndim >= 4 else ""))
    for name, note in adapter.conditioning.items():
        if name not in inputs:
            stages.append(Stage("model input", name, None, None, "-", note))

    if adapter.token_grid is not None:
        report.token_grid = adapter.token_grid(model, count, height, width)

    with torch.inference_mode():
        output = model(**inputs)
    raw = output if isinstance(output, torch.Tensor) else output.sample
    out_layout = "(B T) C H W" if raw.ndim == 4 else "B C T H W"
    stages.append(_tensor_stage("model output", f"{type(output).__name__}.sample" if raw is not output else "output", raw, out_layout, "predicted epsilon"))
    eps_bcthw = adapter.to_canonical(output, 1, count)
    stages.append(_tensor_stage("canonical output", "eps_bcthw", eps_bcthw, "B C T H W"))

    with torch.inference_mode():
        x0 = sampler.denoise(lambda sample, t: adapter.predict(model, sample, t), unit_bcthw, sigma_255)
    if unit_bcthw is not video_bcthw:
        # [1, 3, T, H', W'] -> [1, 3, T, H, W]: the video's own pixels
        x0 = edge.crop(x0, inside)
        stages.append(_tensor_stage("crop", "x0_bcthw", x0, "B C T H W", "the margin dropped"))
    # [1, 3, T, H, W] -> [T, H, W, 3] samples of the input's dtype
    frames_out = samples.to_host(samples.from_unit_(x0.clone()).to(samples.held)[0].permute(1, 2, 3, 0))
    stages.append(_tensor_stage("back to frames", "frames", frames_out, "T H W C", "x0 estimate, clamped and rounded"))
    return report
