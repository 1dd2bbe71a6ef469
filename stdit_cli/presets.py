"""Named model presets: ``configs/<model>/<preset>.yaml`` → constructor keyword arguments.

The YAML files ship inside the package as ``stdit_cli.configs`` (``pyproject.toml`` maps the
top-level ``configs/`` folder there), so ``load_preset("unet", "small")`` works from a wheel as
well as from a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PRESET_NAMES = ("tiny", "small", "base")


class PresetError(ValueError):
    """A preset name or file that cannot be loaded."""


def _configs_root():
    return resources.files("stdit_cli.configs")


def available_presets(model_name: str) -> list[str]:
    """Preset names shipped for ``model_name`` (``unet``, ``stdit``, ``diffuser``, ``segdit``)."""
    folder = _configs_root() / model_name
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_preset(model_name: str, preset: str | Path) -> dict[str, Any]:
    """Constructor kwargs of ``model_name`` from a preset name or a path to a YAML file."""
    path = Path(preset)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        text = path.read_text()
        source = str(path)
    else:
        resource = _configs_root() / model_name / f"{preset}.yaml"
        if not resource.is_file():
            names = ", ".join(available_presets(model_name)) or "none"
            raise PresetError(f"unknown preset {preset!r} for model {model_name!r} (available: {names})")
        text = resource.read_text()
        source = f"configs/{model_name}/{preset}.yaml"
    config = yaml.safe_load(text)
    if not isinstance(config, dict):
        raise PresetError(f"{source}: expected a mapping of constructor arguments, got {type(config).__name__}")
    return config
