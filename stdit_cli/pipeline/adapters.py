"""Layout adapters: one canonical video tensor in, each backbone's own layout out.

The pipeline keeps a single canonical layout, ``video_bcthw`` = ``[B, C, T, H, W]`` in
``[-1, 1]``. Each backbone is called through an adapter that permutes to its layout, adds the
conditioning it expects (null text tokens / learned null context where it has cross-attention)
and brings the prediction back to ``[B, C, T, H, W]``.

Adding a backbone = one model file in ``stdit_cli/models`` + one entry in ``ADAPTERS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from einops import rearrange

from stdit_cli.choices import MODEL_NAMES
from stdit_cli.pipeline.borders import DEFAULT_MARGIN
from stdit_cli.models import DiffuserSTDiT, SegDiTTransformer2DModel, STDiT, UNetSTIC


@dataclass(frozen=True)
class BackboneAdapter:
    """How the pipeline talks to one backbone.

    Attributes:
        name: CLI name (``--model``).
        model_class: the ``ModelMixin`` class.
        input_layout: the backbone's input layout, e.g. ``"B T C H W"``.
        permutation: how the canonical tensor becomes ``input_layout`` (einops pattern).
        conditioning: model kwargs the adapter fills, with what it passes (for ``inspect-shapes``).
        default_tile: spatial tile side used by ``stdit denoise`` unless ``--tile`` says otherwise
            (the DiTs default to their training crop: their sincos positions are absolute).
        default_tile_overlap: pixels shared by neighbouring tiles unless ``--tile-overlap`` says otherwise.
        cpu_tile: the default tile side on a CPU where it differs (``None``: ``default_tile``). A CPU
            runs a conv backbone faster, in less memory, on tiles whose feature maps stay small: the
            default unet's video loop at 854x480 is 1.1-1.4x as fast on two 640-px tiles as on the
            whole frame, at 1280x720 1.2x, and within 0.012 dB of it on every validation clip.
        cpu_tile_overlap: the default overlap with ``cpu_tile`` (``None``: ``default_tile_overlap``).
        to_inputs: ``(model, video_bcthw, timestep[B]) -> forward kwargs``.
        to_canonical: ``(output, batch, frames) -> [B, C, T, H, W]``.
        token_grid: ``(model, T, H, W) -> dict`` of the transformer's token layout (DiTs only).
        channels_last: run the model and its inputs in ``torch.channels_last`` (conv backbones:
            oneDNN/cuDNN convolutions are faster in NHWC).
        edge_margin: least pixels each unit is mirrored outwards by before the model and cropped
            back after (``stdit_cli.pipeline.borders``): conv backbones, whose zero padding leaves
            the outermost pixels barely denoised. 0: none (the DiTs, which pad whole patches).
    """

    name: str
    model_class: type
    input_layout: str
    permutation: str
    conditioning: dict[str, str]
    default_tile: int
    default_tile_overlap: int
    to_inputs: Callable[[Any, torch.Tensor, torch.Tensor], dict[str, Any]]
    to_canonical: Callable[[Any, int, int], torch.Tensor]
    token_grid: Callable[[Any, int, int, int], dict[str, Any]] | None = None
    channels_last: bool = False
    edge_margin: int = 0
    cpu_tile: int | None = None
    cpu_tile_overlap: int | None = None

    def tiling_for(self, device: torch.device) -> tuple[int, int]:
        """The default ``(tile side, tile overlap)`` on ``device``."""
        if device.type == "cpu" and self.cpu_tile is not None:
            overlap = self.default_tile_overlap if self.cpu_tile_overlap is None else self.cpu_tile_overlap
            return self.cpu_tile, overlap
        return self.default_tile, self.default_tile_overlap

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """Put ``model`` in the memory format this backbone runs fastest in: with ``channels_last``,
        its 2-D convolution weights channels-last and its 3-D ones ``channels_last_3d``."""
        if not self.channels_last:
            return model
        # per tensor, not nn.Module.to(memory_format=...): that refuses a model holding 5-D weights
        # (and diffusers' override of it imports torch._dynamo: stdit_cli.startup)
        formats = {4: torch.channels_last, 5: torch.channels_last_3d}
        for tensor in (*model.parameters(), *model.buffers()):
            if tensor.dim() in formats and tensor.is_floating_point():
                tensor.data = tensor.data.contiguous(memory_format=formats[tensor.dim()])
        return model

    def predict(self, model: torch.nn.Module, video_bcthw: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        """Run ``model`` on ``video_bcthw`` and return its prediction as ``[B, C, T, H, W]``."""
        batch, _, frames = video_bcthw.shape[:3]
        output = model(**self.to_inputs(model, video_bcthw, timestep))
        return self.to_canonical(output, batch, frames)


def _unet_inputs(model, video_bcthw, timestep):
    # [B, C, T, H, W] -> [B, T, C, H, W]
    x = rearrange(video_bcthw, "b c t h w -> b t c h w")
    return {"x": x, "timestep": timestep, "encoder_hidden_states": None}


def _stdit_inputs(model, video_bcthw, timestep):
    return {"x": video_bcthw, "timestep": timestep, "y": None}


def _diffuser_inputs(model, video_bcthw, timestep):
    return {"x": video_bcthw, "timestep": timestep, "encoder_hidden_states": None}


def _segdit_inputs(model, video_bcthw, timestep):
    frames = video_bcthw.shape[2]
    # [B, C, T, H, W] -> [B*T, C, H, W]: every frame is an image
    images = rearrange(video_bcthw, "b c t h w -> (b t) c h w")
    # [B] -> [B*T]: each frame keeps its window's timestep
    return {"hidden_states": images, "timestep": timestep.repeat_interleave(frames)}


def _video_tokens(model, frames, height, width):
    return model.token_grid(frames, height, width)


def _frame_tokens(model, frames, height, width):
    return {"per_frame": model.token_grid(height, width), "frames_in_batch": frames}


def _sample_bcthw(output, batch, frames):
    return output.sample


def _plain_bcthw(output, batch, frames):
    return output


def _frames_to_bcthw(output, batch, frames):
    # [B*T, C, H, W] -> [B, C, T, H, W]
    return rearrange(output.sample, "(b t) c h w -> b c t h w", b=batch, t=frames)


ADAPTERS: dict[str, BackboneAdapter] = {
    "unet": BackboneAdapter(
        name="unet",
        model_class=UNetSTIC,
        input_layout="B T C H W",
        permutation="b c t h w -> b t c h w",
        conditioning={"encoder_hidden_states": "None -> learned null context", "cond_image": "None"},
        default_tile=1024,
        default_tile_overlap=16,
        to_inputs=_unet_inputs,
        to_canonical=_sample_bcthw,
        channels_last=True,
        edge_margin=DEFAULT_MARGIN,
        cpu_tile=640,
        cpu_tile_overlap=32,
    ),
    "stdit": BackboneAdapter(
        name="stdit",
        model_class=STDiT,
        input_layout="B C T H W",
        permutation="identity",
        conditioning={"y": "None -> learned null caption tokens", "mask": "None", "cond_image": "None"},
        default_tile=32,
        default_tile_overlap=8,
        to_inputs=_stdit_inputs,
        to_canonical=_plain_bcthw,
        token_grid=_video_tokens,
    ),
    "diffuser": BackboneAdapter(
        name="diffuser",
        model_class=DiffuserSTDiT,
        input_layout="B C T H W",
        permutation="identity",
        conditioning={"encoder_hidden_states": "None -> learned null caption tokens", "cond_image": "None"},
        default_tile=32,
        default_tile_overlap=8,
        to_inputs=_diffuser_inputs,
        to_canonical=_sample_bcthw,
        token_grid=_video_tokens,
    ),
    "segdit": BackboneAdapter(
        name="segdit",
        model_class=SegDiTTransformer2DModel,
        input_layout="(B T) C H W",
        permutation="b c t h w -> (b t) c h w",
        conditioning={"class_labels": "None -> unconditional label", "segmentation": "None"},
        default_tile=32,
        default_tile_overlap=8,
        to_inputs=_segdit_inputs,
        to_canonical=_frames_to_bcthw,
        token_grid=_frame_tokens,
    ),
}

if tuple(ADAPTERS) != MODEL_NAMES:  # the CLI lists the names without importing this module
    raise ImportError(f"stdit_cli.choices.MODEL_NAMES {MODEL_NAMES} != the registered adapters {tuple(ADAPTERS)}")


def adapter_for(model_name: str) -> BackboneAdapter:
    """The adapter registered under ``model_name``."""
    if model_name not in ADAPTERS:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODEL_NAMES)}")
    return ADAPTERS[model_name]


def adapter_for_class(class_name: str) -> BackboneAdapter:
    """The adapter whose model class is called ``class_name`` (``_class_name`` of a config.json)."""
    for adapter in ADAPTERS.values():
        if adapter.model_class.__name__ == class_name:
            return adapter
    raise ValueError(f"no backbone is registered for model class {class_name!r}")
