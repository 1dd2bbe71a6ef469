"""Named model presets: ``configs/<model>/<preset>.yaml`` → constructor keyword arguments.

The YAML files ship inside the package as ``stdit_cli.configs`` (``pyproject.toml`` maps the
top-level ``configs/`` folder there), so ``load_preset("unet", "small")`` works from a wheel as
well as from a checkout.
"""

from __future__ import annotations

import inspect
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


def _read_preset(model_name: str, preset: str | Path) -> tuple[dict[str, Any], str]:
    """(constructor kwargs, where they came from) for a preset name or a YAML file."""
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
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise PresetError(f"{source}: not valid YAML{where} ({problem})") from None
    if not isinstance(config, dict):
        raise PresetError(f"{source}: expected a mapping of constructor arguments, got {type(config).__name__}")
    return config, source


def load_preset(model_name: str, preset: str | Path) -> dict[str, Any]:
    """Constructor kwargs of ``model_name`` from a preset name or a path to a YAML file."""
    return _read_preset(model_name, preset)[0]


def _kind_of(value: Any) -> str | None:
    """What sort of YAML value an argument takes, judged by its default (None: anything)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return None


def build_from_preset(model_class: type, model_name: str, preset: str | Path) -> tuple[Any, dict[str, Any]]:
    """``(model_class(**kwargs), kwargs)`` for a preset, or a one-line :class:`PresetError` naming the
    file when its keys are not the class's arguments or its values do not build a model."""
    config, source = _read_preset(model_name, preset)
    parameters = {name: p for name, p in inspect.signature(model_class.__init__).parameters.items() if name != "self"}
    unknown = sorted(str(key) for key in config if key not in parameters)
    if unknown:
        raise PresetError(f"{source}: {model_class.__name__} has no argument {', '.join(unknown)} "
                          f"(it takes {', '.join(sorted(parameters))})")  # fmt: skip
    for name, value in config.items():
        expected = _kind_of(parameters[name].default)
        if expected is not None and _kind_of(value) != expected and not (expected == "number" and value is None):
            raise PresetError(f"{source}: {name} should be a {expected} (like its default, "
                              f"{parameters[name].default!r}), got {value!r}")  # fmt: skip
    try:
        return model_class(**config), config
    except (TypeError, ValueError, AssertionError, ZeroDivisionError, RuntimeError) as error:
        lines = str(error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        raise PresetError(f"{source}: cannot build {model_class.__name__} from it ({reason})") from None
