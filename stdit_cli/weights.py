"""Resolve, load and save checkpoints (diffusers ``save_pretrained`` folders).

A checkpoint folder holds ``config.json`` + ``diffusion_pytorch_model.safetensors`` (the model,
via ``save_pretrained``), ``scheduler_config.json`` (the noise schedule it was trained with) and
optionally ``stdit.json`` (how it was trained). A bare ``.safetensors`` file is accepted when a
``config.json`` (or ``<stem>.json``) sits beside it. Shipped checkpoints live in
``stdit_cli/weights/<model>/``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from diffusers.schedulers.scheduling_ddpm import DDPMScheduler
from safetensors import SafetensorError
from safetensors.torch import load_file

from stdit_cli.pipeline.adapters import BackboneAdapter, adapter_for, adapter_for_class
from stdit_cli.pipeline.sampler import DEFAULT_SCHEDULE

METADATA_FILE = "stdit.json"
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or does not match the model."""


@dataclass
class Checkpoint:
    """A loaded model with the schedule it was trained with."""

    model: torch.nn.Module
    adapter: BackboneAdapter
    schedule: dict[str, Any]
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)


#: the name that stands for the weights that ship for a model (what ``stdit denoise --model M``
#: runs): ``inspect-shapes --checkpoint shipped``, ``train --init-from shipped``
SHIPPED = "shipped"


def shipped_checkpoint_dir(model_name: str) -> Path | None:
    """The folder of the checkpoint shipped for ``model_name``, or ``None``."""
    folder = Path(str(resources.files("stdit_cli") / "weights" / model_name))
    return folder if (folder / "config.json").is_file() else None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: cannot read JSON ({error})") from error


def _config_for(weights_file: Path) -> Path:
    for candidate in (weights_file.with_suffix(".json"), weights_file.parent / "config.json"):
        if candidate.is_file():
            return candidate
    raise CheckpointError(f"{weights_file}: no model config found (expected {weights_file.stem}.json or config.json beside it)")


def load_checkpoint(path: str | Path, model_name: str | None = None) -> Checkpoint:
    """Load a checkpoint folder or ``.safetensors`` file; check it is a ``model_name`` model."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    folder = path if path.is_dir() else path.parent
    config_path = folder / "config.json" if path.is_dir() else _config_for(path)
    if not config_path.is_file():
        raise CheckpointError(f"{path}: not a checkpoint folder (no config.json)")
    config = _read_json(config_path)
    try:
        adapter = adapter_for_class(config.get("_class_name", ""))
    except ValueError as error:
        raise CheckpointError(f"{config_path}: {error}") from error
    if model_name is not None and adapter.name != model_name:
        raise CheckpointError(f"{path}: checkpoint holds a '{adapter.name}' model, not '{model_name}' "
                              f"(pass --model {adapter.name} to use it, or pick another checkpoint)")  # fmt: skip
    weights_file = path / WEIGHTS_NAME if path.is_dir() else path
    try:
        model = _build_with_weights(adapter, config, weights_file)
    except SafetensorError as error:
        raise CheckpointError(f"{weights_file}: not a readable safetensors file ({_first_lines(error)})") from None
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:
        first_line = _first_lines(error).split(" If you want to instead overwrite")[0]  # diffusers' advice does not apply
        raise CheckpointError(f"{path}: checkpoint does not match the {adapter.name} model ({first_line})") from error
    schedule_path = folder / "scheduler_config.json"
    schedule = _read_json(schedule_path) if schedule_path.is_file() else dict(DEFAULT_SCHEDULE)
    metadata_path = folder / METADATA_FILE
    metadata = _read_json(metadata_path) if metadata_path.is_file() else {}
    return Checkpoint(model=model.eval(), adapter=adapter, schedule=schedule, source=str(path), metadata=metadata)


def _first_lines(error: BaseException, limit: int = 200) -> str:
    """An error's first line, and the one after it where the first only introduces it ("Error(s) in
    loading state_dict for UNetSTIC:" then which keys), cut to ``limit`` characters."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()] or [type(error).__name__]
    text = f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _build_with_weights(adapter: BackboneAdapter, config: dict[str, Any], weights_file: Path) -> torch.nn.Module:
    """The model of ``config`` holding the tensors of ``weights_file`` (safetensors straight into
    it, no copy), as fp32 parameters.

    Not ``from_pretrained`` or ``ModelMixin.to``/``float``: those import diffusers' hooks and
    loaders, and with them ``torch._dynamo`` (about 1 s of start-up, see ``stdit_cli.startup``).
    (Building on the meta device would skip the random initialisation, 0.03 s for these models,
    but torch's device context imports dynamo too.) Compact checkpoints store bf16; the pipeline
    runs fp32 parameters under autocast.
    """
    if not weights_file.is_file():
        raise OSError(f"no weights file {weights_file.name}")
    model = adapter.model_class.from_config(config)
    model.load_state_dict(load_file(str(weights_file)), strict=True, assign=True)
    return torch.nn.Module.float(model)


#: suffix of the folder holding a model's cheaper shipped checkpoint, chosen by ``--fast``
FAST_SUFFIX = "-fast"
#: suffix of the folder holding a model's larger checkpoint, the default on a CUDA device
GPU_SUFFIX = "-gpu"
#: suffix of the folder holding a model's real-noise checkpoint (``--noise real``)
REAL_SUFFIX = "-real"
#: suffix of the folder holding a model's checkpoint for white noise stored lossily in 4:2:0 (H.264):
#: what ``--noise auto`` with no number runs on such a video (``stdit_cli.pipeline.noise_kind``)
COMPRESSED_SUFFIX = "-h264"
#: suffix of the folder holding a model's real-noise checkpoint for black-and-white video (an infrared
#: night camera's): what a gray video runs where it would run ``<model>-real`` (``stdit_cli.pipeline.gray``)
GRAY_SUFFIX = "-gray"
#: the shipped blind noise-level estimator of ``--noise real`` (``stdit_cli.models.NoiseLevelEstimator``)
NOISE_ESTIMATOR = "noise-estimator"
#: a checkpoint trained on levels that an estimator read (``stdit train --camera-gray-level learned``)
#: carries that estimator in this subfolder, and reads its videos' levels with it: what each level
#: stands for is what that estimator read, not what a later one reads
LEVEL_ESTIMATOR = "level-estimator"


def real_noise_ships(model_name: str) -> bool:
    """Whether a real-noise checkpoint (``weights/<model>-real``) ships for ``model_name``."""
    return shipped_checkpoint_dir(model_name + REAL_SUFFIX) is not None


def gray_real_noise_ships(model_name: str) -> bool:
    """Whether a real-noise checkpoint for black-and-white video (``weights/<model>-real-gray``) ships for ``model_name``."""
    return shipped_checkpoint_dir(model_name + REAL_SUFFIX + GRAY_SUFFIX) is not None


def compressed_noise_ships(model_name: str) -> bool:
    """Whether a checkpoint for white noise in lossy 4:2:0 video (``weights/<model>-h264``) ships for ``model_name``."""
    return shipped_checkpoint_dir(model_name + COMPRESSED_SUFFIX) is not None


def resolve_checkpoint(model_name: str | None, checkpoint: str | Path | None, fast: bool = False, gpu: bool = False,
                       real: bool = False, compressed: bool = False, gray: bool = False) -> Checkpoint:  # fmt: skip
    """``--checkpoint`` when given, else the weights shipped for ``--model``: with ``real``
    (``--noise real``), the model's real-noise checkpoint (``weights/<model>-real``), which must
    ship (with ``fast``, its cheaper one, ``weights/<model>-fast-real``, where that ships; with ``gray``, for
    black-and-white video, ``weights/<model>-real-gray``, which must ship, or with ``fast`` ``weights/<model>-fast-real-gray``
    where that ships); with ``compressed``, its checkpoint for white noise in lossy 4:2:0 video
    (``weights/<model>-h264``), which must ship; with ``fast``, the model's cheaper shipped checkpoint (``weights/<model>-fast``) where one
    ships; else, on a GPU (``gpu``), its larger one (``weights/<model>-gpu``) where one ships."""
    if checkpoint is not None:
        return load_checkpoint(checkpoint, model_name)
    if real and gray:
        cheaper = shipped_checkpoint_dir(model_name + FAST_SUFFIX + REAL_SUFFIX + GRAY_SUFFIX) if fast else None
        folder = cheaper or shipped_checkpoint_dir(model_name + REAL_SUFFIX + GRAY_SUFFIX)
        if folder is None:
            raise CheckpointError(f"no real-noise weights for black-and-white video ship for --model {model_name}")
        return load_checkpoint(folder, model_name)
    if real:
        cheaper = shipped_checkpoint_dir(model_name + FAST_SUFFIX + REAL_SUFFIX) if fast else None
        folder = cheaper or shipped_checkpoint_dir(model_name + REAL_SUFFIX)
        if folder is None:
            adapter_for(model_name)  # unknown names fail with the list of models
            raise CheckpointError(f"no real-noise weights ship for --model {model_name}; use --noise gaussian, or --checkpoint "
                                  "with weights trained with `stdit train --camera-fraction`")  # fmt: skip
        return load_checkpoint(folder, model_name)
    if compressed:
        folder = shipped_checkpoint_dir(model_name + COMPRESSED_SUFFIX)
        if folder is None:
            raise CheckpointError(f"no weights for compressed white noise ship for --model {model_name}")
        return load_checkpoint(folder, model_name)
    suffix = FAST_SUFFIX if fast else GPU_SUFFIX if gpu else None
    variant = shipped_checkpoint_dir(model_name + suffix) if suffix else None
    if variant is not None:
        return load_checkpoint(variant, model_name)
    shipped = shipped_checkpoint_dir(model_name)
    if shipped is None:
        adapter_for(model_name)  # unknown names fail with the list of models
        raise CheckpointError(
            f"no trained weights ship for --model {model_name} yet; train some with "
            f"`stdit train --model {model_name} --data DIR --out ckpt/` and pass --checkpoint ckpt/"
        )
    return load_checkpoint(shipped, model_name)


def level_estimator_of(checkpoint: Checkpoint) -> Path | None:
    """The estimator ``checkpoint``'s levels were labelled with (its :data:`LEVEL_ESTIMATOR` subfolder), or
    None: the shipped estimator then reads its levels."""
    folder = Path(checkpoint.source) / LEVEL_ESTIMATOR
    return folder if (folder / "config.json").is_file() else None


def copy_level_estimator(source: str | Path | None, checkpoint_folder: str | Path) -> Path:
    """Copy the estimator in ``source`` (None: the shipped one) into ``checkpoint_folder``'s
    :data:`LEVEL_ESTIMATOR` subfolder, for weights trained on its readings."""
    source = Path(source) if source is not None else shipped_checkpoint_dir(NOISE_ESTIMATOR)
    target = Path(checkpoint_folder) / LEVEL_ESTIMATOR
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", WEIGHTS_NAME, "stdit.json"):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    return target


def load_noise_estimator(folder: str | Path | None = None):
    """The blind noise-level estimator of ``--noise real`` (the shipped one unless ``folder``)."""
    from stdit_cli.models import NoiseLevelEstimator

    folder = Path(folder) if folder is not None else shipped_checkpoint_dir(NOISE_ESTIMATOR)
    if folder is None:
        raise CheckpointError("no noise-level estimator ships with this install (stdit_cli/weights/noise-estimator); use --sigma N or --noise gaussian")
    config = _read_json(folder / "config.json")
    try:
        estimator = NoiseLevelEstimator.from_config(config)
        estimator.load_state_dict(load_file(str(folder / WEIGHTS_NAME)), strict=True, assign=True)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{folder}: not a noise-level estimator ({str(error).strip().splitlines()[0]})") from error
    return torch.nn.Module.float(estimator).eval()


def save_checkpoint(model, folder: str | Path, schedule: dict[str, Any], metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (safetensors), its noise schedule and training metadata to ``folder``."""
    folder = Path(folder)
    model.save_pretrained(str(folder), safe_serialization=True)
    DDPMScheduler.from_config(schedule).save_config(str(folder))
    if metadata:
        (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    readable_as_umask_allows(folder)
    return folder


def readable_as_umask_allows(path: str | Path) -> None:
    """Give ``path`` (a file, or every file under a folder) the permissions a new file gets here.

    safetensors writes its files through a private temporary file (mode 0600), so weights were
    readable by their owner alone: a colleague on a shared machine could not load a checkpoint,
    and a package built from the tree would ship weights only root can read.
    """
    mask = os.umask(0)
    os.umask(mask)
    path = Path(path)
    for file in [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file()):
        os.chmod(file, 0o666 & ~mask)
