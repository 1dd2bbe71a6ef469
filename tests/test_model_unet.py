"""Tests for UNetSTIC (stdit_cli/models/unet_stic.py) on the tiny preset."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

from stdit_cli.models.unet_blocks import TemporalConv
from stdit_cli.models.unet_fusions import _conv3d_over_time
from stdit_cli.models.unet_stic import UNetSTIC, UNetSTICOutput

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "unet"


def load_preset(name: str) -> dict:
    with open(CONFIG_DIR / f"{name}.yaml") as f:
        return yaml.safe_load(f)


def make_model(seed: int = 0, randomize: bool = True, **overrides) -> UNetSTIC:
    """Tiny preset; ``randomize`` fills the zero-initialised weights so every path reaches the output."""
    torch.manual_seed(seed)
    model = UNetSTIC(**{**load_preset("tiny"), **overrides}).eval()
    if randomize:
        with torch.no_grad():
            for param in model.parameters():
                if param.ndim >= 2 and not param.any():
                    param.normal_(std=0.1)
    return model


def inputs(batch=2, frames=3, channels=3, height=8, width=8, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, channels, height, width, generator=gen)


def context(batch=2, tokens=4, dim=16, seed=2):
    return torch.randn(batch, tokens, dim, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("preset, low, high", [("tiny", 10_000, 100_000), ("small", 1_000_000, 4_000_000),
                                               ("base", 10_000_000, 30_000_000), ("small-lean", 1_000_000, 4_000_000),
                                               ("small-lean-fullres", 1_000_000, 4_000_000), ("fast", 1_000_000, 2_000_000),
                                               ("halfres", 2_000_000, 4_000_000), ("halfres-wide", 2_000_000, 4_000_000),
                                               ("halfres-fast", 1_000_000, 1_500_000)])
def test_presets_hold_exactly_the_init_arguments_and_fit_their_size(preset, low, high):
    config = load_preset(preset)
    assert set(config) == set(inspect.signature(UNetSTIC.__init__).parameters) - {"self"}
    with torch.device("meta"):
        model = UNetSTIC(**config)
    assert low <= sum(p.numel() for p in model.parameters()) <= high
    assert model.num_frames == config["num_frames"]
    assert model.spatial_multiple == config["patch_size"] * 2 ** (len(config["block_out_channels"]) - 1)


def test_patch_stem_keeps_shapes_and_pads_to_its_multiple():
    model = UNetSTIC(**{**load_preset("tiny"), "patch_size": 2}).eval()
    assert model.spatial_multiple == 4
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
        out = model(inputs(frames=2, height=7, width=10), 5).sample
    assert out.shape == (2, 3, 2, 7, 10) and torch.isfinite(out).all() and out.abs().sum() > 0


@pytest.mark.parametrize("frames, height, width", [(3, 16, 16), (1, 17, 23), (2, 5, 9), (4, 1, 1)])
@pytest.mark.parametrize("use_context, use_mask", [(False, False), (True, False), (True, True)])
def test_output_shape_any_size(frames, height, width, use_context, use_mask):
    model = make_model(in_channels=5)
    x = inputs(2, frames, 3, height, width)
    cond = inputs(2, frames, 2, height, width, seed=3)
    ehs = context() if use_context else None
    mask = torch.tensor([[1, 0, 1, 1], [1, 1, 1, 0]]) if use_mask else None
    with torch.no_grad():
        out = model(x, 10, encoder_hidden_states=ehs, cond_image=cond, mask=mask)
    assert isinstance(out, UNetSTICOutput)
    assert out.sample.shape == (2, 3, frames, height, width)
    assert torch.isfinite(out.sample).all()


def test_without_cond_image_and_tuple_return():
    model = make_model()
    x = inputs(1, 2, 3, 12, 20)
    with torch.no_grad():
        (sample,) = model(x, torch.tensor(999), return_dict=False)
    assert sample.shape == (1, 3, 2, 12, 20)


def test_fresh_model_predicts_zero():
    model = make_model(randomize=False)
    with torch.no_grad():
        sample = model(inputs(), 500).sample
    assert torch.equal(sample, torch.zeros_like(sample))


def test_cond_image_is_joined_on_the_channel_axis_of_the_x_layout():
    model = make_model(in_channels=5)
    x, cond = inputs(2, 3, 3, 8, 8), inputs(2, 3, 2, 8, 8, seed=3)
    with torch.no_grad():
        split = model(x, 10, cond_image=cond).sample
        joined = model(torch.cat([x, cond], dim=2), 10).sample
    torch.testing.assert_close(split, joined)


def test_output_layout_is_b_c_t_h_w_and_batches_do_not_mix():
    model = make_model()
    x = inputs(2, 3, 3, 8, 8)
    x_other = x.clone()
    x_other[1] = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        out = model(x, 10).sample
        out_other = model(x_other, 10).sample
        # run item 0 frame by frame is wrong for a temporal model, but alone as a batch of one it must agree
        out_single = model(x[:1], 10).sample
    torch.testing.assert_close(out[0], out_other[0])
    assert not torch.allclose(out[1], out_other[1])
    torch.testing.assert_close(out[:1], out_single, atol=1e-5, rtol=1e-4)


def test_frames_are_mixed_in_time():
    model = make_model()
    x = inputs(1, 5, 3, 8, 8)
    x_changed = x.clone()
    x_changed[:, 0] += 1.0
    with torch.no_grad():
        out = model(x, 10).sample
        out_changed = model(x_changed, 10).sample
    # [B, C, T, H, W]: frame 4 must feel a change of frame 0
    assert not torch.allclose(out[:, :, 4], out_changed[:, :, 4])


def _temporal_taps_reference(conv, hidden, frames):
    """Frame t = tap 0 of frame t-1 + tap 1 of t + tap 2 of t+1, each tap a 1x1 conv with its bias; no tap past the clip."""
    taps = F.conv2d(hidden, conv.weight, conv.bias).unflatten(0, (-1, frames))  # [B, T, 3*C, H, W]
    before, center, after = taps.chunk(3, dim=2)
    out = []
    for t in range(frames):
        frame = center[:, t]
        if t > 0:
            frame = frame + before[:, t - 1]
        if t < frames - 1:
            frame = frame + after[:, t + 1]
        out.append(frame)
    return torch.stack(out, dim=1).flatten(0, 1)


@pytest.mark.parametrize("frames", [1, 2, 5])
@pytest.mark.parametrize("channels_last", [False, True])
def test_temporal_conv_adds_each_frames_taps_from_its_neighbours(frames, channels_last):
    torch.manual_seed(0)
    layer = TemporalConv(8, 4)
    with torch.no_grad():
        for conv in (layer.conv1, layer.conv2):
            conv.weight.normal_(std=0.3)
            conv.bias.normal_()  # biases at the clip ends are where a plain padded conv3d would differ
    x = torch.randn(2 * frames, 8, 3, 4)
    with torch.no_grad():
        residual = _temporal_taps_reference(layer.conv1, F.silu(layer.norm1(x)), frames)
        residual = _temporal_taps_reference(layer.conv2, F.silu(layer.norm2(residual)), frames)
        expected = x + residual
        if channels_last:
            layer = layer.to(memory_format=torch.channels_last)
            x = x.to(memory_format=torch.channels_last)
        out = layer(x, frames)
    torch.testing.assert_close(out, expected)
    # channels_last frames stay channels_last: no layout change between the 2-D layers
    assert out.is_contiguous(memory_format=torch.channels_last) == channels_last


def test_temporal_conv3d_at_inference_keeps_channels_last_and_the_sums():
    # one small clip in fp32: PyTorch's own dispatch sends it to its im2col fallback, whose output is not channels_last
    torch.manual_seed(0)
    video = torch.randn(1, 16, 5, 6, 10).to(memory_format=torch.channels_last_3d)
    weight, bias = torch.randn(16, 16, 3, 1, 1), torch.randn(16)
    expected = F.conv3d(video, weight, bias, padding=(1, 0, 0))
    with torch.inference_mode():
        out = _conv3d_over_time(video, weight, bias)
    torch.testing.assert_close(out, expected)
    assert out.is_contiguous(memory_format=torch.channels_last_3d)
    grad_video = video.clone().requires_grad_()  # training: autograd through F.conv3d
    _conv3d_over_time(grad_video, weight, bias).sum().backward()
    assert grad_video.grad is not None


def test_timestep_forms_agree_and_matter():
    model = make_model()
    x = inputs()
    with torch.no_grad():
        outs = [model(x, t).sample for t in (7, 7.0, torch.tensor(7), torch.tensor([7, 7]), torch.tensor([7.0]))]
        other = model(x, torch.tensor([7, 900])).sample
    for out in outs[1:]:
        torch.testing.assert_close(out, outs[0])
    torch.testing.assert_close(other[0], outs[0][0])
    assert not torch.allclose(other[1], outs[0][1])


def test_null_context_is_the_learned_parameter():
    model = make_model()
    x = inputs()
    with torch.no_grad():
        model.null_context.normal_()
        default = model(x, 10).sample
        explicit = model(x, 10, encoder_hidden_states=model.null_context.expand(2, -1, -1)).sample
        other = model(x, 10, encoder_hidden_states=context(tokens=1)).sample
    torch.testing.assert_close(default, explicit)
    assert not torch.allclose(default, other)


def test_mask_removes_tokens_from_cross_attention():
    model = make_model()
    x, ehs = inputs(), context()
    keep_all = torch.ones(2, 4)
    drop_2 = torch.tensor([[1, 1, 0, 1], [1, 1, 0, 1]])
    ehs_changed = ehs.clone()
    ehs_changed[:, 2] += 3.0
    with torch.no_grad():
        plain = model(x, 10, encoder_hidden_states=ehs).sample
        all_kept = model(x, 10, encoder_hidden_states=ehs, mask=keep_all).sample
        masked = model(x, 10, encoder_hidden_states=ehs, mask=drop_2).sample
        masked_changed = model(x, 10, encoder_hidden_states=ehs_changed, mask=drop_2.bool()).sample
        unmasked_changed = model(x, 10, encoder_hidden_states=ehs_changed).sample
    torch.testing.assert_close(all_kept, plain)
    assert not torch.allclose(masked, plain)
    # a masked token is ignored: changing it changes nothing, unless it is unmasked
    torch.testing.assert_close(masked_changed, masked)
    assert not torch.allclose(unmasked_changed, plain)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=torch.randn(2, 3, 16, 16)), "x"),
        (dict(x=torch.randn(2, 3, 4, 8, 8)), "in_channels"),
        (dict(x=torch.randn(2, 3, 3, 8, 8), cond_image=torch.randn(2, 3, 1, 8, 8)), "in_channels"),
        (dict(x=torch.randn(2, 3, 2, 8, 8), cond_image=torch.randn(2, 2, 1, 8, 8)), "cond_image"),
        (dict(x=torch.randn(2, 3, 2, 8, 8), cond_image=torch.randn(2, 3, 1, 8, 9)), "cond_image"),
        (dict(x=torch.randn(2, 3, 2, 8, 8), cond_image=torch.randn(2, 3, 1, 8)), "cond_image"),
        (dict(encoder_hidden_states=torch.randn(2, 4, 17)), "encoder_hidden_states"),
        (dict(encoder_hidden_states=torch.randn(1, 4, 16)), "encoder_hidden_states"),
        (dict(encoder_hidden_states=torch.randn(2, 16)), "encoder_hidden_states"),
        (dict(encoder_hidden_states=torch.randn(2, 4, 16), mask=torch.ones(2, 3)), "mask"),
        (dict(mask=torch.ones(2, 2)), "mask"),
        (dict(timestep=torch.tensor([1, 2, 3])), "timestep"),
    ],
)
def test_wrong_shapes_raise_value_error(kwargs, message):
    model = make_model(randomize=False)
    call = {"x": torch.randn(2, 3, 3, 8, 8), "timestep": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        model(**call)


@pytest.mark.parametrize(
    "overrides",
    [
        dict(down_block_types=["DownBlockST", "DownBlockST"]),
        dict(down_block_types=["DownBlockST", "CrossAttnBlock"]),
        dict(up_block_types=["UpBlockST"]),
        dict(block_out_channels=[8, 18]),
        dict(attention_head_dim=12),
        dict(full_res_channels=-1),
    ],
)
def test_bad_configs_raise_value_error(overrides):
    with pytest.raises(ValueError):
        UNetSTIC(**{**load_preset("tiny"), **overrides})


def test_save_and_load_round_trip(tmp_path):
    model = make_model()
    x, ehs = inputs(), context()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").exists()
    loaded = UNetSTIC.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        expected = model(x, 10, encoder_hidden_states=ehs).sample
        got = loaded(x, 10, encoder_hidden_states=ehs).sample
    assert torch.equal(expected, got)
    assert loaded.config.block_out_channels == [8, 16]


def test_channels_last_model_matches():
    model = make_model()
    x, ehs = inputs(1, 3, 3, 9, 13), context(1)
    with torch.no_grad():
        expected = model(x, 10, encoder_hidden_states=ehs).sample
        model.to(memory_format=torch.channels_last)
        got = model(x, 10, encoder_hidden_states=ehs).sample
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_bf16_model_and_autocast():
    model = make_model()
    x, ehs, mask = inputs(), context(), torch.tensor([[1, 1, 0, 1], [1, 1, 1, 1]])
    with torch.no_grad():
        expected = model(x, 10, encoder_hidden_states=ehs, mask=mask).sample
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = model(x, 10, encoder_hidden_states=ehs, mask=mask).sample
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.to(torch.bfloat16)
        bf16 = model(x.bfloat16(), 10, encoder_hidden_states=ehs.bfloat16(), mask=mask).sample
    assert bf16.dtype == torch.bfloat16
    scale = expected.abs().max()
    for got in (autocast, bf16):
        assert torch.isfinite(got).all()
        assert (got.float() - expected).abs().max() < 0.1 * scale


def test_full_resolution_head_starts_as_the_model_without_it_and_then_corrects_it():
    # --init-partial from a trained model: the head is new, its zero last conv leaves the output as it was
    trained = make_model(patch_size=2)
    derived = UNetSTIC(**{**load_preset("tiny"), "patch_size": 2, "full_res_channels": 4}).eval()
    missing, unexpected = derived.load_state_dict(trained.state_dict(), strict=False)
    assert not unexpected and missing and all(name.startswith("full_res_head.") for name in missing)
    x = inputs(frames=2, height=7, width=10)
    with torch.no_grad():
        expected = trained(x, 10).sample
        assert torch.equal(derived(x, 10).sample, expected)
        derived.full_res_head.conv_out.weight.normal_(std=0.1)
        corrected = derived(x, 10).sample
    assert corrected.shape == expected.shape == (2, 3, 2, 7, 10)
    assert (corrected - expected).abs().amax(dim=(0, 1, 2)).min() > 0  # every pixel is corrected

    # the head itself works on each folded frame at full resolution, three 3x3 convs deep:
    # a change to one input pixel reaches that frame's 7x7 neighbourhood and nothing else
    head = derived.full_res_head
    sample, prediction, temb = torch.randn(4, 3, 12, 12), torch.randn(4, 3, 12, 12), torch.randn(4, head.time_emb_proj.in_features)
    moved = sample.clone()
    moved[1, :, 6, 6] += 1.0
    with torch.no_grad():
        delta = (head(moved, prediction, temb) - head(sample, prediction, temb)).abs().sum(dim=1)
    reached = (delta > 0).nonzero().tolist()
    assert reached and {n for n, _, _ in reached} == {1}
    assert all(3 <= row <= 9 and 3 <= col <= 9 for _, row, col in reached)


def test_full_resolution_head_folds_a_shared_timestep_into_its_first_conv_exactly():
    # inference gives every frame the same timestep: the FiLM is folded into conv_in's weights;
    # training mixes timesteps: it scales and shifts the activations. Both must agree.
    model = make_model(patch_size=2, full_res_channels=4)
    head = model.full_res_head
    with torch.no_grad():
        head.time_emb_proj.weight.normal_(std=0.3)
        head.conv_out.weight.normal_(std=0.1)
        sample, prediction = torch.randn(2, 3, 9, 11), torch.randn(2, 3, 9, 11)
        temb = torch.randn(2, head.time_emb_proj.in_features)
        mixed = head(sample, prediction, temb)  # two timesteps: per-frame FiLM
        for i in range(2):
            shared = head(sample[i : i + 1].expand(3, -1, -1, -1), prediction[i : i + 1].expand(3, -1, -1, -1),
                          temb[i : i + 1].expand(3, -1))  # one timestep for 3 frames: folded
            torch.testing.assert_close(shared, mixed[i : i + 1].expand(3, -1, -1, -1), atol=1e-5, rtol=1e-5)
        # and the FiLM is not a no-op: another timestep changes the correction
        assert not torch.allclose(head(sample[:1], prediction[:1], temb[1:]), mixed[:1], atol=1e-3)


def test_gradients_reach_every_parameter():
    fresh = make_model(randomize=False).train()
    x = inputs(1, 3, 3, 8, 8)
    noise = torch.randn(1, 3, 3, 8, 8)
    F.mse_loss(fresh(x, 10).sample, noise).backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in fresh.parameters())
    assert fresh.conv_out.weight.grad.abs().sum() > 0

    model = make_model(patch_size=2, full_res_channels=4).train()
    loss = model(x, 10, encoder_hidden_states=context(1), mask=torch.tensor([[1, 1, 0, 1]])).sample.square().mean()
    loss = loss + model(x, 10).sample.square().mean()
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_temporal_attention_projects_a_contiguous_input():
    # a strided [(B H W), T, C] view would make nn.Linear run a batched matmul over one copy of
    # the weight per pixel
    model = make_model().to(memory_format=torch.channels_last)
    seen = []
    for module in model.modules():
        if module.__class__.__name__ == "TemporalSelfAttention":
            module.proj_in.register_forward_hook(lambda m, args, out: seen.append(args[0].is_contiguous()))
    with torch.no_grad():
        model(torch.randn(1, 3, 3, 32, 40), 10)
    assert seen and all(seen)


def test_attention_layers_match_diffusers_transformers_with_the_same_weights():
    """CrossAttention2D / TemporalSelfAttention are diffusers' Transformer2DModel / TransformerTemporalModel
    in the UNet's configuration: same parameter names, same outputs (checkpoints load into either)."""
    from diffusers.models.transformers.transformer_2d import Transformer2DModel
    from diffusers.models.transformers.transformer_temporal import TransformerTemporalModel

    from stdit_cli.models.unet_attention import CrossAttention2D, TemporalSelfAttention

    torch.manual_seed(0)
    ours = CrossAttention2D(32, 2, 16, cross_attention_dim=24, norm_num_groups=8).eval()
    theirs = Transformer2DModel(num_attention_heads=2, attention_head_dim=16, in_channels=32, cross_attention_dim=24,
                                norm_num_groups=8, use_linear_projection=True, only_cross_attention=True).eval()
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    with torch.no_grad():
        for param in ours.parameters():
            param.normal_(std=0.2)
    theirs.load_state_dict(ours.state_dict())
    frames, context = torch.randn(6, 32, 5, 7), torch.randn(6, 3, 24)
    mask = torch.tensor([[1.0, 1.0, 0.0]]).expand(6, -1)
    with torch.no_grad():
        expected = theirs(frames, encoder_hidden_states=context, attention_mask=mask, encoder_attention_mask=mask).sample
        torch.testing.assert_close(ours(frames, context, mask), expected)
        assert not torch.allclose(ours(frames, context, None), expected)  # the mask is applied

    ours_t = TemporalSelfAttention(32, 2, 16, norm_num_groups=8).eval()
    theirs_t = TransformerTemporalModel(num_attention_heads=2, attention_head_dim=16, in_channels=32, norm_num_groups=8,
                                        double_self_attention=False).eval()
    assert ours_t.state_dict().keys() == theirs_t.state_dict().keys()
    with torch.no_grad():
        for param in ours_t.parameters():
            param.normal_(std=0.2)
    theirs_t.load_state_dict(ours_t.state_dict())
    with torch.no_grad():
        expected = theirs_t(frames, num_frames=3).sample
        torch.testing.assert_close(ours_t(frames, num_frames=3), expected)
        # channels_last frames: the same sums, and the output keeps the layout
        out = ours_t(frames.to(memory_format=torch.channels_last), num_frames=3)
        torch.testing.assert_close(out, expected)
        assert out.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("in_channels", [8, 12])  # 12: a conv_shortcut
@pytest.mark.parametrize("shared_temb", [True, False])
def test_lean_resnet_block_matches_diffusers_block(in_channels, shared_temb):
    from diffusers.models.resnet import ResnetBlock2D

    from stdit_cli.models.unet_blocks import LeanResnetBlock2D

    torch.manual_seed(0)
    lean = LeanResnetBlock2D(in_channels=in_channels, out_channels=8, temb_channels=16, groups=4)
    reference = ResnetBlock2D(in_channels=in_channels, out_channels=8, temb_channels=16, groups=4)
    reference.load_state_dict(lean.state_dict())
    x = torch.randn(6, in_channels, 5, 7).to(memory_format=torch.channels_last)
    temb = torch.randn(1, 16).expand(6, 16) if shared_temb else torch.randn(6, 16)
    with torch.no_grad():
        expected = reference(x.clone(), temb)
        out = lean(x, temb)
    torch.testing.assert_close(out, expected)
    assert torch.equal(x, x.clone())  # the input is left as it was (a skip connection may hold it)
    # with autograd (training, contiguous: GroupNorm's backward on channels_last crashes torch 2.13 on the CPU)
    # it is diffusers' forward: gradients reach every parameter
    lean(x.contiguous(), temb).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in lean.parameters())


@pytest.mark.parametrize("shared_context", [True, False])
def test_cross_attention_with_one_context_token_skips_the_queries_and_keeps_the_sums(shared_context):
    """One context token (the learned null context): softmax over one key is 1, so inference adds
    to_out(to_v(context)) at every pixel without computing queries, keys or the attention."""
    from stdit_cli.models.unet_attention import CrossAttention2D

    torch.manual_seed(0)
    layer = CrossAttention2D(32, 2, 16, cross_attention_dim=24, norm_num_groups=8).eval()
    with torch.no_grad():
        for param in layer.parameters():
            param.normal_(std=0.2)
    queries = []
    layer.transformer_blocks[0].attn1.to_q.register_forward_hook(lambda m, args, out: queries.append(1))
    frames = torch.randn(6, 32, 5, 7).to(memory_format=torch.channels_last)
    context = torch.randn(1, 1, 24).expand(6, -1, -1) if shared_context else torch.randn(6, 1, 24)
    mask = torch.ones(6, 1)
    expected = layer(frames, context, mask)  # with autograd: the full block
    assert len(queries) == 1
    with torch.no_grad():
        out = layer(frames, context, mask)
        assert len(queries) == 1  # no queries computed
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
        assert out.is_contiguous(memory_format=torch.channels_last)
        # two context tokens: the full block again
        layer(frames, torch.randn(6, 2, 24), None)
        assert len(queries) == 2


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("autocast", [False, True])
def test_convolution_plus_fuses_the_residual_sum_at_cpu_inference(dims, autocast):
    """conv + residual as oneDNN's post-op: the sum of the two calls (to one bf16 step), in channels-last layout."""
    from stdit_cli.models.unet_fusions import _fuses_residual, convolution_plus

    torch.manual_seed(0)
    layout = torch.channels_last if dims == 2 else torch.channels_last_3d
    shape = (2, 8, 6, 10) if dims == 2 else (1, 8, 5, 6, 10)
    inputs, residual = (torch.randn(shape).contiguous(memory_format=layout) for _ in range(2))
    kernel = (3, 3) if dims == 2 else (3, 1, 1)
    padding = (1, 1) if dims == 2 else (1, 0, 0)
    weight, bias = torch.randn(8, 8, *kernel) * 0.2, torch.randn(8)
    conv = F.conv2d if dims == 2 else F.conv3d

    def convolve(x, w, b):
        return conv(x, w, b, padding=padding)

    if autocast:  # the unet's activations under autocast
        residual = residual.to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        expected = residual + convolve(inputs, weight, bias)  # with autograd: the two calls
        with torch.inference_mode():
            assert _fuses_residual(inputs, residual)
            out = convolution_plus(convolve, inputs, weight, bias, residual, padding)
    assert out.dtype == expected.dtype and out.is_contiguous(memory_format=layout)
    tolerance = 0.07 if autocast else 1e-5  # bf16: one step at |x| up to 8
    torch.testing.assert_close(out.float(), expected.float(), rtol=0, atol=tolerance)
    assert not _fuses_residual(inputs.contiguous(), residual.contiguous())  # other layouts: the two calls
    # a broadcast operand (oneDNN accepts it, in its reference code, 40x slower): the two calls
    assert not _fuses_residual(inputs, residual.narrow(2, 0, 1).contiguous(memory_format=layout))


def test_convolution_plus_falls_back_to_two_calls_where_onednn_refuses(monkeypatch):
    import stdit_cli.models.unet_fusions as fusions

    fused_dtypes = []

    def refuse(inputs, weight, bias, residual, padding):  # no fp32 kernel; bf16 fused as oneDNN would
        if residual.dtype == torch.float32:
            raise RuntimeError("mkldnn::_convolution_pointwise: not supported on this build")
        fused_dtypes.append(residual.dtype)
        return residual + F.conv2d(inputs, weight, bias, padding=padding)

    monkeypatch.setattr(fusions, "_onednn_convolution_add", refuse)
    monkeypatch.setattr(fusions, "_fused_residual_refused", set())
    torch.manual_seed(0)
    inputs, residual = (torch.randn(2, 8, 6, 10).to(memory_format=torch.channels_last) for _ in range(2))
    weight, bias = torch.randn(8, 8, 3, 3), torch.randn(8)

    def convolve(x, w, b):
        return F.conv2d(x, w, b, padding=1)

    with torch.inference_mode():
        out = fusions.convolution_plus(convolve, inputs, weight, bias, residual, (1, 1))
        torch.testing.assert_close(out, residual + convolve(inputs, weight, bias))
        assert fusions._fused_residual_refused == {torch.float32}  # not tried again in this dtype
    # a refusal in one dtype (fp16 on a CPU without fp16 kernels) leaves the others fused
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        fusions.convolution_plus(convolve, inputs, weight, bias, residual.to(torch.bfloat16), (1, 1))
    assert fused_dtypes == [torch.bfloat16] and fusions._fused_residual_refused == {torch.float32}


def test_temporal_attention_runs_its_few_tokens_as_matmuls_at_inference_with_the_same_sums(monkeypatch):
    from stdit_cli.models.unet_attention import TemporalSelfAttention

    torch.manual_seed(0)
    layer = TemporalSelfAttention(32, 2, 16, norm_num_groups=8).eval()
    with torch.no_grad():
        for param in layer.parameters():
            param.normal_(std=0.2)
    calls = []
    kernel = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", lambda *a, **k: calls.append(1) or kernel(*a, **k))
    frames = torch.randn(6, 32, 5, 7)
    with torch.no_grad():
        fast = layer(frames, num_frames=3)
    assert calls == []  # inference: two batched matmuls, no attention kernel
    trained = layer(frames, num_frames=3)  # autograd: diffusers' processor as it is
    assert calls
    torch.testing.assert_close(fast, trained.detach())
