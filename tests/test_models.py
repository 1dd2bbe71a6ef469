"""Contract checks shared by every registered backbone (per-model details live in test_model_*.py)."""

from __future__ import annotations

import ast
import inspect
import re

import pytest
import torch

from stdit_cli.pipeline.adapters import ADAPTERS
from stdit_cli.presets import PRESET_NAMES, available_presets, load_preset

DOC_ARG = re.compile(r"^\s+(\w+) \(`[^`]*`(?:, \*optional\*)?(?:, defaults to (.+?))?\):\s*$", re.MULTILINE)


def _documented(cls) -> dict[str, str | None]:
    return {name: default for name, default in DOC_ARG.findall(cls.__doc__ or "")}


def _normalise(value):
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize("cls", sorted({adapter.model_class for adapter in ADAPTERS.values()}, key=lambda c: c.__name__))
def test_docstring_documents_every_argument_with_its_default(cls):
    documented = _documented(cls)
    signature = inspect.signature(cls.__init__)
    params = {n: p for n, p in signature.parameters.items() if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}
    assert set(documented) == set(params), f"undocumented: {set(params) - set(documented)}, stale: {set(documented) - set(params)}"
    for name, param in params.items():
        if param.default is inspect.Parameter.empty:
            assert documented[name] is None, f"{name} has no default but the docstring gives {documented[name]}"
            continue
        text = documented[name].strip("`")
        assert _normalise(ast.literal_eval(text)) == _normalise(param.default), f"{cls.__name__}.{name}: doc {text} vs {param.default!r}"


@pytest.mark.parametrize("model_name", list(ADAPTERS))
def test_every_model_ships_tiny_small_base_presets(model_name):
    assert set(PRESET_NAMES) <= set(available_presets(model_name))
    cls = ADAPTERS[model_name].model_class
    signature = inspect.signature(cls.__init__)
    for preset in PRESET_NAMES:
        assert set(load_preset(model_name, preset)) <= set(signature.parameters), preset


@pytest.mark.parametrize("model_name", list(ADAPTERS))
def test_adapter_round_trip_any_size_and_save_load(model_name, tmp_path):
    adapter = ADAPTERS[model_name]
    torch.manual_seed(0)
    model = adapter.model_class(**load_preset(model_name, "tiny")).eval()
    with torch.no_grad():  # leave zero-init: make the output depend on the input
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    video = torch.rand(2, 3, 3, 19, 13) * 2 - 1
    t = torch.tensor([10, 400])
    with torch.inference_mode():
        out = adapter.predict(model, video, t)
    assert out.shape == video.shape and torch.isfinite(out).all()
    model.save_pretrained(tmp_path / model_name)
    loaded = adapter.model_class.from_pretrained(tmp_path / model_name).eval()
    with torch.inference_mode():
        assert torch.equal(adapter.predict(loaded, video, t), out)
    assert list((tmp_path / model_name).glob("*.safetensors"))
