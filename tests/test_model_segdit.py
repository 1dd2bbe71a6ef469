"""SegDiTTransformer2DModel: shapes, conditioning, errors, save/load, dtypes, gradients (tiny preset)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import torch
import yaml
from diffusers.models.embeddings import get_2d_sincos_pos_embed
from diffusers.models.modeling_outputs import Transformer2DModelOutput
from diffusers.models.transformers.dit_transformer_2d import DiTTransformer2DModel

from stdit_cli.models.segdit import SegDiTTransformer2DModel

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "segdit"
SIGNATURE = inspect.signature(SegDiTTransformer2DModel.__init__)
INIT_ARGS = [name for name in SIGNATURE.parameters if name != "self"]


def tiny_config(**overrides) -> dict:
    with open(CONFIG_DIR / "tiny.yaml") as f:
        config = yaml.safe_load(f)
    config.update(overrides)
    return config


def make_model(trained: bool = False, **overrides) -> SegDiTTransformer2DModel:
    """Tiny model in eval mode; ``trained`` replaces the zero-initialised tensors so outputs depend on inputs."""
    torch.manual_seed(0)
    model = SegDiTTransformer2DModel(**tiny_config(**overrides)).eval()
    if trained:
        zero_init = [model.proj_out_1, model.proj_out_2] + [block.norm1.linear for block in model.transformer_blocks]
        with torch.no_grad():
            for layer in zero_init:
                layer.weight.normal_(std=0.2)
                layer.bias.normal_(std=0.2)
    return model


def frames(batch: int, channels: int, height: int, width: int) -> torch.Tensor:
    return torch.randn(batch, channels, height, width, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("preset", ["tiny", "small", "base"])
def test_preset_yaml_matches_init_signature(preset):
    with open(CONFIG_DIR / f"{preset}.yaml") as f:
        config = yaml.safe_load(f)
    assert list(config) == INIT_ARGS
    for name, value in config.items():
        default = SIGNATURE.parameters[name].default
        assert type(value) is type(default), f"{preset}.yaml {name}: {type(value)} vs default {type(default)}"


def test_docstring_documents_every_arg_with_its_default():
    pattern = re.compile(r"^\s{8}(\w+) \(`[^`]+`(?:, \*optional\*, defaults to (.+?))?\):$", re.M)
    documented = {name: value for name, value in pattern.findall(SegDiTTransformer2DModel.__doc__)}
    assert sorted(documented) == sorted(INIT_ARGS)
    for name, value in documented.items():
        assert ast.literal_eval(value) == SIGNATURE.parameters[name].default, name


def test_tiny_preset_size_and_properties():
    model = make_model()
    assert sum(p.numel() for p in model.parameters()) <= 100_000
    assert model.num_frames == 1
    assert model.spatial_multiple == 2
    with pytest.raises(AttributeError):
        model.spatial_multiple = 4


@pytest.mark.parametrize("height,width", [(32, 32), (17, 23), (48, 40), (1, 1)])
def test_output_shape_any_size(height, width):
    model = make_model(trained=True)
    with torch.no_grad():
        out = model(frames(2, 3, height, width), timestep=torch.tensor([3, 700]))
    assert isinstance(out, Transformer2DModelOutput)
    assert out.sample.shape == (2, 3, height, width)
    assert torch.isfinite(out.sample).all()


def test_return_tuple_and_batch_of_one():
    model = make_model(trained=True)
    x = frames(1, 3, 17, 23)
    with torch.no_grad():
        (sample,) = model(x, timestep=5, return_dict=False)
        expected = model(x, timestep=5).sample
    assert torch.equal(sample, expected)


def test_fresh_model_predicts_zero():
    model = make_model()
    with torch.no_grad():
        sample = model(frames(2, 3, 17, 23), timestep=500).sample
    assert torch.count_nonzero(sample) == 0
    for block in model.transformer_blocks:
        assert torch.count_nonzero(block.norm1.linear.weight) == 0


def test_matches_diffusers_dit_at_sample_size():
    model = make_model(trained=True)
    config = {k: v for k, v in model.config.items() if k in INIT_ARGS}
    reference = DiTTransformer2DModel(**config).eval()
    reference.load_state_dict(model.state_dict())
    x, steps, labels = frames(2, 3, 32, 32), torch.tensor([10, 600]), torch.tensor([0, 1])
    with torch.no_grad():
        expected = reference(x, timestep=steps, class_labels=labels).sample
        got = model(x, timestep=steps, class_labels=labels).sample
    assert torch.allclose(got, expected, atol=1e-6)


def test_unpatchify_puts_each_patch_back_in_place():
    # fresh blocks are identities (zero gates), so each output patch depends on its own input patch only
    model = make_model()
    torch.nn.init.normal_(model.proj_out_2.weight)
    x = frames(1, 3, 17, 23)
    bumped = x.clone()
    bumped[0, :, 16, 9] += 1.0  # pixel (16, 9) lies in the patch of rows 16-17, cols 8-9
    with torch.no_grad():
        changed = (model(bumped, timestep=10).sample - model(x, timestep=10).sample).abs().sum(dim=(0, 1)) > 0
    expected = torch.zeros(17, 23, dtype=torch.bool)
    expected[16:18, 8:10] = True
    assert torch.equal(changed, expected)


def test_token_grid_matches_patch_embedding():
    model = make_model()
    grid = model.token_grid(17, 23)
    assert grid == {"padded_size": [18, 24], "patch_grid": [9, 12], "num_tokens": 108}
    tokens = model.pos_embed(torch.zeros(1, 3, 18, 24))
    assert tokens.shape == (1, grid["num_tokens"], 32)


def test_position_embedding_recomputed_for_other_sizes():
    model = make_model()
    bias = model.pos_embed.proj.bias
    with torch.no_grad():
        # at sample_size the stored table is used
        at_sample = model.pos_embed(torch.zeros(1, 3, 32, 32)) - bias
        assert torch.allclose(at_sample, model.pos_embed.pos_embed)
        # 24x40 is a 12x20 grid: a fresh, non-square table with one distinct position per token
        other = (model.pos_embed(torch.zeros(1, 3, 24, 40)) - bias)[0]
    expected = get_2d_sincos_pos_embed(32, (12, 20), base_size=16, output_type="pt").float()
    assert other.shape == (240, 32)
    assert torch.allclose(other, expected, atol=1e-6)
    assert torch.unique(other.round(decimals=4), dim=0).shape[0] == 240


def test_timestep_forms_broadcast_and_matter():
    model = make_model(trained=True)
    x = frames(2, 3, 16, 16)
    with torch.no_grad():
        reference = model(x, timestep=torch.tensor([250, 250])).sample
        for form in (250, 250.0, torch.tensor(250), torch.tensor([250.0])):
            assert torch.allclose(model(x, timestep=form).sample, reference, atol=1e-6)
        assert not torch.allclose(model(x, timestep=900).sample, reference, atol=1e-4)


def test_class_labels_none_is_null_label_and_labels_matter():
    model = make_model(trained=True)
    x = frames(2, 3, 16, 16)
    with torch.no_grad():
        unconditional = model(x, timestep=10).sample
        null = model(x, timestep=10, class_labels=torch.tensor([1, 1])).sample
        labelled = model(x, timestep=10, class_labels=0).sample
    assert torch.equal(unconditional, null)
    assert not torch.allclose(labelled, unconditional, atol=1e-4)


def test_segmentation_is_concatenated_and_changes_output():
    model = make_model(trained=True, in_channels=4)
    x = frames(2, 3, 17, 23)
    mask = torch.zeros(2, 1, 17, 23)
    with torch.no_grad():
        empty = model(x, timestep=10, segmentation=mask).sample
        full = model(x, timestep=10, segmentation=mask + 1).sample
        manual = model(torch.cat([x, mask], dim=1), timestep=10).sample
    assert empty.shape == (2, 3, 17, 23)
    assert torch.equal(empty, manual)
    assert not torch.allclose(empty, full, atol=1e-4)


def test_cross_attention_kwargs_scale_is_accepted():
    model = make_model(trained=True)
    x = frames(1, 3, 16, 16)
    with torch.no_grad():
        plain = model(x, timestep=10).sample
        scaled = model(x, timestep=10, cross_attention_kwargs={"scale": 0.5}).sample
    assert torch.equal(plain, scaled)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"hidden_states": torch.zeros(3, 16, 16)}, "hidden_states"),
        ({"hidden_states": torch.zeros(1, 3, 2, 16, 16)}, "hidden_states"),
        ({"hidden_states": torch.zeros(1, 2, 16, 16)}, "in_channels = 3"),
        ({"segmentation": torch.zeros(1, 1, 16, 16)}, "segmentation"),
        ({"timestep": None}, "timestep"),
        ({"timestep": torch.tensor([1, 2, 3])}, "timestep"),
        ({"class_labels": torch.tensor([[0]])}, "class_labels"),
        ({"class_labels": 2}, "class_labels"),
        ({"class_labels": -1}, "class_labels"),
        ({"class_labels": torch.tensor([0.5])}, "class_labels"),
    ],
)
def test_wrong_inputs_raise_value_error(kwargs, match):
    model = make_model()
    call = {"hidden_states": torch.zeros(1, 3, 16, 16), "timestep": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        model(**call)


@pytest.mark.parametrize(
    "hidden_states,segmentation",
    [
        (torch.zeros(1, 3, 16, 16), None),  # segmentation missing
        (torch.zeros(1, 3, 16, 16), torch.zeros(1, 2, 16, 16)),  # S + C != in_channels
        (torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 16, 15)),  # W differs
        (torch.zeros(2, 3, 16, 16), torch.zeros(1, 1, 16, 16)),  # B differs
        (torch.zeros(1, 3, 16, 16), torch.zeros(1, 16, 16)),  # wrong ndim
    ],
)
def test_wrong_segmentation_raises_value_error(hidden_states, segmentation):
    model = make_model(in_channels=4)
    with pytest.raises(ValueError, match="expected"):
        model(hidden_states, timestep=10, segmentation=segmentation)


def test_save_and_load_round_trip(tmp_path):
    model = make_model(trained=True, in_channels=4)
    x, mask = frames(2, 3, 17, 23), torch.ones(2, 1, 17, 23)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").exists()
    loaded = SegDiTTransformer2DModel.from_pretrained(tmp_path).eval()
    assert {k: loaded.config[k] for k in INIT_ARGS} == {k: model.config[k] for k in INIT_ARGS}
    with torch.no_grad():
        expected = model(x, timestep=42, class_labels=0, segmentation=mask).sample
        got = loaded(x, timestep=42, class_labels=0, segmentation=mask).sample
    assert torch.count_nonzero(expected) > 0
    assert torch.equal(got, expected)


def test_bf16_model_forward():
    model = make_model(trained=True).to(torch.bfloat16)
    with torch.no_grad():
        sample = model(frames(2, 3, 17, 23).bfloat16(), timestep=torch.tensor([1.5, 999.0])).sample
    assert sample.dtype == torch.bfloat16
    assert sample.shape == (2, 3, 17, 23)
    assert torch.isfinite(sample).all()


def test_autocast_bf16_forward_close_to_fp32():
    model = make_model(trained=True)
    x = frames(2, 3, 17, 23)
    with torch.no_grad():
        reference = model(x, timestep=100).sample
        with torch.autocast("cpu", dtype=torch.bfloat16):
            sample = model(x, timestep=100).sample
    assert sample.shape == reference.shape
    assert torch.isfinite(sample).all()
    assert (sample.float() - reference).abs().max() < 0.1 * reference.abs().max()


def test_gradients_fresh_model_reach_output_projection():
    model = make_model().train()
    target = frames(2, 3, 17, 23)
    sample = model(target + 0.1, timestep=10, class_labels=0).sample
    (sample - target).square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    assert torch.count_nonzero(model.proj_out_2.weight.grad) > 0


def test_gradients_reach_every_parameter_once_zero_init_is_trained():
    model = make_model(trained=True, in_channels=4)
    sample = model(frames(2, 3, 17, 23), timestep=10, class_labels=0, segmentation=torch.ones(2, 1, 17, 23)).sample
    sample.square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert torch.count_nonzero(param.grad) > 0, name


def test_gradient_checkpointing_gives_same_loss_and_grads():
    x = frames(2, 3, 17, 23)
    grads = []
    for checkpointing in (False, True):
        model = make_model(trained=True)
        if checkpointing:
            model.enable_gradient_checkpointing()
        loss = model(x, timestep=10, class_labels=0).sample.square().mean()
        loss.backward()
        grads.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.equal(grads[0][0], grads[1][0])
    for plain, checkpointed in zip(grads[0][1], grads[1][1]):
        assert torch.allclose(plain, checkpointed, atol=1e-6)
