"""STDiT and DiffuserSTDiT on the tiny preset: shapes, conditioning, errors, round trip, bf16, gradients."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import torch
import yaml

from stdit_cli.models.stdit import DiffuserSTDiT, DiffuserSTDiTModelOutput, STDiT

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread is fastest, and stays fast on a shared, loaded machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def preset(name: str, model: str = "stdit") -> dict:
    return yaml.safe_load((REPO / "configs" / model / f"{name}.yaml").read_text())


def make(cls=STDiT, **overrides):
    torch.manual_seed(0)
    return cls(**{**preset("tiny"), **overrides}).eval()


def randomize(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every weight (zero-init ones included) so each input can reach the output."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


def video(batch=2, channels=3, frames=3, height=16, width=16, seed=0):
    return torch.randn(batch, channels, frames, height, width, generator=torch.Generator().manual_seed(seed))


def caption(batch=2, tokens=3, channels=16, seed=2):
    return torch.randn(batch, 1, tokens, channels, generator=torch.Generator().manual_seed(seed))


def test_presets_match_signature_sizes_and_diffuser():
    signature = [p for p in inspect.signature(STDiT.__init__).parameters if p != "self"]
    limits = {"tiny": (10_000, 100_000), "small": (300_000, 4_000_000), "base": (10_000_000, 30_000_000)}
    for name, (low, high) in limits.items():
        config = preset(name)
        assert sorted(config) == sorted(signature)
        assert preset(name, "diffuser") == config
        with torch.device("meta"):
            count = sum(p.numel() for p in STDiT(**config).parameters())
        assert low <= count <= high, f"{name}: {count} parameters"


@pytest.mark.parametrize("frames,height,width", [(3, 32, 32), (3, 17, 23), (1, 8, 8), (2, 1, 1), (4, 9, 30)])
def test_output_shape_any_size(frames, height, width):
    model = randomize(make())
    out = model(video(frames=frames, height=height, width=width), torch.tensor([10.0, 500.0]))
    assert out.shape == (2, 3, frames, height, width)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("frames,height,width", [(1, 17, 23), (3, 17, 23), (2, 32, 32)])
def test_output_shape_with_every_conditioning(frames, height, width):
    model = randomize(make(in_channels=5))
    x = video(frames=frames, height=height, width=width)
    cond_image = video(channels=2, frames=frames, height=height, width=width, seed=3)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    out = model(x, 10, y=caption(), mask=mask, cond_image=cond_image)
    assert out.shape == (2, 3, frames, height, width)
    out_3d = model(x, 10, y=caption()[:, 0], cond_image=cond_image)
    assert out_3d.shape == (2, 3, frames, height, width)


def test_fresh_model_predicts_zero():
    out = make()(video(), 100)
    assert out.abs().max() == 0


def test_caption_channels_zero_has_no_cross_attention():
    model = randomize(make(caption_channels=0))
    names = [name for name, _ in model.named_modules()]
    assert not any("cross" in name or "y_embedder" in name for name in names)
    assert model(video(), 5).shape == (2, 3, 3, 16, 16)
    with pytest.raises(ValueError, match="caption"):
        model(video(), 5, y=caption())
    with pytest.raises(ValueError, match="caption"):
        model(video(), 5, mask=torch.ones(2, 3))


def test_mask_drops_caption_tokens():
    model = randomize(make())
    x, y = video(), caption()
    full = model(x, 10, y=y)
    assert torch.allclose(model(x, 10, y=y, mask=torch.ones(2, 3)), full)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    masked = model(x, 10, y=y, mask=mask)
    assert not torch.allclose(masked, full, atol=1e-4)
    # a dropped token's content no longer matters
    y_changed = y.clone()
    y_changed[:, :, 2] = 5.0
    assert torch.allclose(model(x, 10, y=y_changed, mask=mask), masked, atol=1e-6)
    assert not torch.allclose(model(x, 10, y=y_changed), full, atol=1e-4)
    # a sample with every token dropped stays finite and ignores its caption
    empty = torch.tensor([[0, 0, 0], [1, 1, 1]])
    out_empty = model(x, 10, y=y, mask=empty)
    assert torch.isfinite(out_empty).all()
    assert torch.allclose(model(x, 10, y=y_changed, mask=empty)[0], out_empty[0], atol=1e-6)


def test_caption_layouts_and_null_caption():
    model = randomize(make())
    x, y = video(), caption()
    assert torch.allclose(model(x, 10, y=y), model(x, 10, y=y[:, 0]))
    null = model.y_embedder.y_embedding.detach()
    null_batch = null[None, None].expand(2, 1, -1, -1)  # [L, Cc] -> [B, 1, L, Cc]
    assert torch.allclose(model(x, 10), model(x, 10, y=null_batch))
    assert not torch.allclose(model(x, 10), model(x, 10, y=y), atol=1e-4)


def test_timestep_forms_broadcast_and_condition():
    model = randomize(make())
    x = video()
    reference = model(x, torch.tensor([7.0, 7.0]))
    for timestep in (7, 7.0, torch.tensor(7), torch.tensor([7.0]), torch.tensor([7, 7])):
        assert torch.allclose(model(x, timestep), reference, atol=1e-6), timestep
    mixed = model(x, torch.tensor([7.0, 900.0]))
    assert torch.allclose(mixed[0], reference[0], atol=1e-6)
    assert not torch.allclose(mixed[1], reference[1], atol=1e-4)


def test_frames_and_pixels_interact_within_a_sample_only():
    model = randomize(make())
    x = video(frames=4)
    x_changed = x.clone()
    x_changed[0, :, 0, 0, 0] += 3.0  # one pixel of the first frame of sample 0
    delta = (model(x_changed, 10) - model(x, 10)).abs()
    assert delta[0, :, 3, 15, 15].max() > 1e-5  # spatial then temporal attention reach the far corner
    assert delta[1].max() == 0


def test_cond_image_is_concatenated_and_checked():
    model = randomize(make(in_channels=5))
    x, cond_image = video(), video(channels=2, seed=4)
    out = model(x, 10, cond_image=cond_image)
    assert not torch.allclose(out, model(x, 10, cond_image=cond_image + 1.0), atol=1e-4)
    with pytest.raises(ValueError, match="5 channels"):
        model(x, 10, cond_image=video(channels=3))
    with pytest.raises(ValueError, match="cond_image"):
        model(x, 10, cond_image=video(channels=2, frames=2))
    with pytest.raises(ValueError, match="cond_image"):
        model(x, 10, cond_image=video(channels=2, height=8))
    with pytest.raises(ValueError, match="cond_image"):
        model(x, 10, cond_image=video(batch=1, channels=2))
    with pytest.raises(ValueError, match="x"):
        model(x, 10)  # cond_image missing: 3 channels where 5 are expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"x": torch.randn(2, 3, 16, 16)},
        {"x": torch.randn(2, 4, 3, 16, 16)},
        {"x": torch.randn(2, 3, 0, 16, 16)},
        {"y": torch.randn(2, 1, 3, 8)},
        {"y": torch.randn(3, 1, 3, 16)},
        {"y": torch.randn(2, 2, 3, 16)},
        {"y": torch.randn(2, 3)},
        {"y": torch.randn(2, 1, 3, 16), "mask": torch.ones(2, 4)},
        {"y": torch.randn(2, 1, 3, 16), "mask": torch.ones(1, 3)},
        {"mask": torch.ones(2, 3)},
        {"timestep": torch.tensor([1.0, 2.0, 3.0])},
        {"timestep": torch.ones(2, 1)},
    ],
)
def test_wrong_shapes_raise_value_error(kwargs):
    model = make()
    call = {"x": video(), "timestep": 10, **kwargs}
    with pytest.raises(ValueError, match="expected"):
        model(**call)


def test_token_grid_matches_forward():
    model = make()
    grid = model.token_grid(3, 17, 23)
    assert grid == {"padded_size": [3, 18, 24], "patch_grid": [3, 9, 12], "tokens_per_frame": 108, "num_tokens": 324}
    seen = []
    model.x_embedder.register_forward_hook(lambda module, args, out: seen.append(out.shape[1]))
    model(video(frames=3, height=17, width=23), 10)
    assert seen == [324]


def test_temporal_patches_pad_frames_and_uneven_patches():
    model = randomize(make(patch_size=[2, 2, 3]))
    assert model.spatial_multiple == 6
    assert model.token_grid(3, 7, 7)["padded_size"] == [4, 12, 12]
    assert model.token_grid(3, 7, 7)["patch_grid"] == [2, 6, 4]
    for frames in (1, 3, 4):
        assert model(video(frames=frames, height=7, width=7), 10).shape == (2, 3, frames, 7, 7)


def test_properties():
    model = make()
    assert model.spatial_multiple == 2
    assert model.num_frames == 3
    wrapper = make(DiffuserSTDiT)
    assert wrapper.spatial_multiple == 2 and wrapper.num_frames == 3
    assert wrapper.token_grid(3, 17, 23) == model.token_grid(3, 17, 23)


@pytest.mark.parametrize("cls", [STDiT, DiffuserSTDiT])
def test_save_pretrained_round_trip(cls, tmp_path):
    model = randomize(make(cls))
    model.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    loaded = cls.from_pretrained(tmp_path).eval()
    x, y, mask = video(frames=2, height=9, width=13), caption(), torch.tensor([[1, 0, 1], [1, 1, 1]])
    if cls is STDiT:
        outputs = [m(x, 10, y=y, mask=mask) for m in (model, loaded)]
    else:
        outputs = [m(x, 10, encoder_hidden_states=y, mask=mask).sample for m in (model, loaded)]
    assert torch.equal(*outputs)
    assert loaded.config.input_size == [3, 32, 32]


def test_bf16_model_and_autocast():
    model = randomize(make())
    x, y = video(), caption()
    reference = model(x, 10, y=y)
    scale = reference.abs().max()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        autocast_out = model(x, 10, y=y)
    assert torch.isfinite(autocast_out).all()
    assert (autocast_out.float() - reference).abs().max() < 0.1 * scale
    model.to(torch.bfloat16)
    out = model(x.bfloat16(), 10, y=y.bfloat16(), mask=torch.tensor([[1, 1, 0], [1, 0, 0]]))
    assert out.dtype == torch.bfloat16 and out.shape == reference.shape
    assert torch.isfinite(out).all()
    assert (model(x.bfloat16(), 10, y=y.bfloat16()).float() - reference).abs().max() < 0.1 * scale


def test_gradients_reach_every_used_parameter():
    target = video(seed=5)
    fresh = make()
    torch.nn.functional.mse_loss(fresh(video(), 10), target).backward()
    for name, param in fresh.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    assert fresh.final_layer.linear.weight.grad.abs().max() > 0

    model = randomize(make(in_channels=5))
    cond_image = video(channels=2, seed=6)
    torch.nn.functional.mse_loss(model(video(), 10, cond_image=cond_image), target).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().max() > 0, name
    model.zero_grad(set_to_none=True)
    torch.nn.functional.mse_loss(model(video(), 10, y=caption(), cond_image=cond_image), target).backward()
    assert model.y_embedder.y_embedding.grad is None  # a given caption replaces the null caption
    assert model.blocks[0].cross_attn.kv.weight.grad.abs().max() > 0


def test_diffuser_wrapper_matches_stdit():
    stdit = randomize(make())
    wrapper = make(DiffuserSTDiT)
    wrapper.model.load_state_dict(stdit.state_dict())
    x, y = video(frames=2, height=17, width=23), caption()
    mask = torch.tensor([[1, 0, 1], [1, 1, 0]])
    expected = stdit(x, 10, y=y, mask=mask)
    output = wrapper(x, 10, encoder_hidden_states=y[:, 0], mask=mask)
    assert isinstance(output, DiffuserSTDiTModelOutput)
    assert torch.equal(output.sample, expected)
    (sample,) = wrapper(x, 10, encoder_hidden_states=y, mask=mask, return_dict=False)
    assert torch.equal(sample, expected)
    with pytest.raises(ValueError, match="expected"):
        wrapper(x, 10, encoder_hidden_states=torch.randn(2, 3, 8))


@pytest.mark.parametrize("cls", [STDiT, DiffuserSTDiT])
def test_docstring_documents_every_argument_with_its_default(cls):
    documented = {}
    for name, default in re.findall(r"^\s{8}(\w+) \(`[^`]+`(?:, \*optional\*, defaults to (.+?))?\):$", cls.__doc__, re.M):
        documented[name] = default
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        assert name in documented, name
        value = ast.literal_eval(documented[name])
        default = list(param.default) if isinstance(param.default, tuple) else param.default
        assert (list(value) if isinstance(value, tuple) else value) == default, name


def test_temporal_attention_projects_a_contiguous_input():
    # the "(B S) T C" fold is a strided view; nn.Linear on it would run a batched matmul over one
    # copy of the qkv weight per patch position
    model = make()
    seen = []
    for block in model.modules():
        if hasattr(block, "attn_temporal"):
            block.attn_temporal.qkv.register_forward_hook(lambda m, args, out: seen.append(args[0].is_contiguous()))
    with torch.no_grad():
        model(video()[:1], 5)  # one clip: the fold is a view, not a copy
    assert seen and all(seen)
