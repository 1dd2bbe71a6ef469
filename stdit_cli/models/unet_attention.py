"""The two attention layers of :class:`~stdit_cli.models.UNetSTIC`'s lowest levels.

They are diffusers' ``Transformer2DModel`` (continuous input, linear projections,
``only_cross_attention``) and ``TransformerTemporalModel`` reduced to the configuration the UNet
uses, built from the same ``BasicTransformerBlock`` with the same parameter names, so checkpoints
saved with either load into the other. Importing any module of ``diffusers.models.transformers``
runs that package's ``__init__``, which imports some sixty other transformer models (and SciPy):
about 0.8 s of every ``stdit denoise`` start-up for two classes. ``tests/test_model_unet.py``
checks that both give diffusers' outputs to float precision.
"""

from __future__ import annotations

import torch
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.attention_processor import Attention, AttnProcessor, AttnProcessor2_0
from torch import nn
from torch.nn import functional as F


class FewTokensAttnProcessor(AttnProcessor2_0):
    """diffusers' ``AttnProcessor2_0`` (the same sums) with self-attention over a few tokens as two
    batched matmuls at CPU inference.

    The unet's temporal attention attends over the ``T`` frames at each pixel: thousands of
    sequences of 5 tokens, for which PyTorch's CPU attention kernel (tiled for long sequences) is
    slow in bf16. As one batched ``q k^T``, a softmax and one batched product with ``v``, the
    attention of a temporal layer at the lowest level of a 640x272 window (3192 pixels x 3 heads),
    projections included, takes 5.2 ms instead of 8.2 (2026-12-05, Intel Xeon with AMX, 2 threads),
    as far from the fp32 result as before. Anything else (training, GPUs, masks, cross-attention,
    normalised queries, longer sequences) goes to ``AttnProcessor2_0``.
    """

    #: longest sequence taken by the matmul path
    max_tokens = 16

    def __call__(self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None, *args, **kwargs) -> torch.Tensor:  # fmt: skip
        if (
            torch.is_grad_enabled()
            or hidden_states.device.type != "cpu"  # measured on CPUs only; GPUs keep their attention kernels
            or encoder_hidden_states is not None
            or attention_mask is not None
            or hidden_states.ndim != 3
            or hidden_states.shape[1] > self.max_tokens
            or attn.norm_q is not None
            or attn.norm_k is not None
            or not _attends_plainly(attn)
            or args
            or kwargs
        ):
            return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)
        batch, tokens, _ = hidden_states.shape
        # [N, T, inner] -> [N, T, heads, head_dim]
        query, key, value = (
            projection(hidden_states).unflatten(-1, (attn.heads, -1)) for projection in (attn.to_q, attn.to_k, attn.to_v)
        )
        # [N, T, heads, d] x [N, S, heads, d] -> [N, heads, T, S], scaled as scaled_dot_product_attention scales
        scores = torch.einsum("nthd,nshd->nhts", query, key) * query.shape[-1] ** -0.5
        # [N, heads, T, S] x [N, S, heads, d] -> [N, T, heads, d] -> [N, T, inner]
        hidden_states = torch.einsum("nhts,nshd->nthd", scores.softmax(dim=-1), value).flatten(2)
        return attn.to_out[1](attn.to_out[0](hidden_states))


def _attends_plainly(attn: Attention) -> bool:
    """True when ``attn`` is softmax attention and nothing else: ``to_out(softmax(q k^T) v)``."""
    return (
        isinstance(attn.processor, (AttnProcessor2_0, AttnProcessor))
        and not attn.norm_cross
        and not attn.residual_connection
        and attn.rescale_output_factor == 1
        and attn.group_norm is None
        and attn.spatial_norm is None
        and (not attn.training or attn.to_out[1].p == 0)
    )


def single_token_attention(attn: Attention, context: torch.Tensor) -> torch.Tensor:
    """What ``attn`` returns at every query when its keys are one context token: ``[N, 1, D]`` -> ``[N, 1, inner]``.

    The softmax over a single key is 1 whatever the query (and whatever finite mask bias is
    added to that key), so the output is the token's value through ``to_out``, the same vector
    at every query. For the unet's learned null context (one token) this replaces both
    attentions of a :class:`CrossAttention2D` block, queries and all, with a constant.
    """
    return attn.to_out[1](attn.to_out[0](attn.to_v(context)))


class CrossAttention2D(nn.Module):
    """GroupNorm -> linear in -> ``BasicTransformerBlock`` (both attentions over the context tokens) -> linear out, residual.

    Pixels attend only to ``encoder_hidden_states``, never to each other, so the cost is linear in
    ``H * W``. ``attention_mask`` ``[N, seq]`` (1 keep, 0 drop) is applied to both attentions.
    """

    def __init__(self, channels: int, heads: int, head_dim: int, cross_attention_dim: int, norm_num_groups: int):
        super().__init__()
        inner = heads * head_dim
        self.norm = nn.GroupNorm(norm_num_groups, channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(channels, inner)
        self.transformer_blocks = nn.ModuleList([
            BasicTransformerBlock(inner, heads, head_dim, cross_attention_dim=cross_attention_dim,
                                  activation_fn="geglu", only_cross_attention=True, double_self_attention=False)
        ])  # fmt: skip
        self.proj_out = nn.Linear(inner, channels)

    def _one_token_shortcut(self, context: torch.Tensor) -> bool:
        """At inference with one context token, both attentions of each block add a constant (:func:`single_token_attention`)."""
        return (
            not torch.is_grad_enabled()
            and context.shape[1] == 1
            and all(
                block.norm_type == "layer_norm" and block.pos_embed is None and block.only_cross_attention
                and _attends_plainly(block.attn1) and (block.attn2 is None or _attends_plainly(block.attn2))
                for block in self.transformer_blocks
            )
        )

    def forward(self, hidden_states: torch.Tensor, context: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``[N, C, H, W]`` with context ``[N, seq, D]`` -> ``[N, C, H, W]``."""
        if self._one_token_shortcut(context):
            return self._forward_one_token(hidden_states, context)
        batch, channels, height, width = hidden_states.shape
        bias = None
        if attention_mask is not None:
            # [N, seq] keep/drop -> [N, 1, seq] additive bias (diffusers' convention)
            bias = ((1 - attention_mask.to(hidden_states.dtype)) * -10000.0).unsqueeze(1)
        residual = hidden_states
        # [N, C, H, W] -> [N, H*W, C] -> [N, H*W, inner]
        tokens = self.norm(hidden_states).permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        tokens = self.proj_in(tokens)
        for block in self.transformer_blocks:
            tokens = block(tokens, attention_mask=bias, encoder_hidden_states=context, encoder_attention_mask=bias)
        # [N, H*W, inner] -> [N, H*W, C] -> [N, C, H, W]
        tokens = self.proj_out(tokens)
        return tokens.reshape(batch, height, width, channels).permute(0, 3, 1, 2).contiguous() + residual

    def _forward_one_token(self, hidden_states: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` when every pixel attends to one context token: the same sums without queries or keys.

        Each block's two attentions add the same vector at every pixel, so only the feed-forward
        remains per pixel; the first block's vector joins ``proj_in``'s bias when every frame has
        the same context (the learned null context always does).
        """
        batch, channels, height, width = hidden_states.shape
        residual = hidden_states
        # [N, C, H, W] -> [N, H, W, C] (a view of channels_last frames) -> [N, H*W, C]
        tokens = self.norm(hidden_states).permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        for index, block in enumerate(self.transformer_blocks):
            # [N, 1, D] -> [N, 1, inner]: both attentions' outputs, the same at every pixel
            offset = single_token_attention(block.attn1, context)
            if block.attn2 is not None:
                offset = offset + single_token_attention(block.attn2, context)
            if index == 0 and torch.equal(offset, offset[:1].expand_as(offset)):
                # [N, 1, inner] -> [inner], added by proj_in's matmul instead of a pass over the tokens
                tokens = F.linear(tokens, self.proj_in.weight, self.proj_in.bias + offset[0, 0])
            else:
                if index == 0:
                    tokens = self.proj_in(tokens)
                tokens = tokens + offset
            tokens = tokens + block.ff(block.norm3(tokens))
        tokens = self.proj_out(tokens)
        # [N, H*W, C] -> [N, H, W, C] -> [N, C, H, W] (channels_last, as the frames came)
        return tokens.reshape(batch, height, width, channels).permute(0, 3, 1, 2) + residual


class TemporalSelfAttention(nn.Module):
    """Self-attention across the ``T`` frames at each pixel: GroupNorm over the clip -> linear in ->
    ``BasicTransformerBlock`` -> linear out, residual."""

    def __init__(self, channels: int, heads: int, head_dim: int, norm_num_groups: int):
        super().__init__()
        inner = heads * head_dim
        self.norm = nn.GroupNorm(norm_num_groups, channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(channels, inner)
        self.transformer_blocks = nn.ModuleList([
            BasicTransformerBlock(inner, heads, head_dim, activation_fn="geglu", double_self_attention=False)
        ])  # fmt: skip
        for block in self.transformer_blocks:
            block.attn1.set_processor(FewTokensAttnProcessor())  # T tokens per pixel
        self.proj_out = nn.Linear(inner, channels)

    def forward(self, hidden_states: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[(B T), C, H, W]`` -> ``[(B T), C, H, W]``."""
        batch_frames, channels, height, width = hidden_states.shape
        batch = batch_frames // num_frames
        residual = hidden_states
        # [(B T), C, H, W] -> [B, C, T, H, W]: the norm's statistics cover the whole clip
        video = hidden_states.reshape(batch, num_frames, channels, height, width).permute(0, 2, 1, 3, 4)
        video = self.norm(video)
        # [B, C, T, H, W] -> [(B H W), T, C] (contiguous: a strided 3-D input would make nn.Linear
        # copy its weight once per pixel)
        tokens = video.permute(0, 3, 4, 2, 1).reshape(batch * height * width, num_frames, channels).contiguous()
        tokens = self.proj_in(tokens)
        for block in self.transformer_blocks:
            tokens = block(tokens)
        tokens = self.proj_out(tokens)
        # [(B H W), T, C] -> [B, H, W, T, C]
        tokens = tokens.reshape(batch, height, width, num_frames, channels)
        if residual.is_contiguous(memory_format=torch.channels_last):
            # channels_last frames are [B, T, H, W, C] in memory: the sum goes straight into that
            # layout, so the layers after keep it (and their convolutions fuse their sums)
            # [(B T), C, H, W] -> [(B T), H, W, C] -> [B, T, H, W, C] (views)
            pixels = residual.permute(0, 2, 3, 1).unflatten(0, (batch, num_frames))
            # [B, H, W, T, C] -> [B, T, H, W, C] (a view), summed -> [(B T), H, W, C] -> [(B T), C, H, W]
            return (pixels + tokens.permute(0, 3, 1, 2, 4)).flatten(0, 1).permute(0, 3, 1, 2)
        # [B, H, W, T, C] -> [B, T, C, H, W] -> [(B T), C, H, W]
        return tokens.permute(0, 3, 4, 1, 2).reshape(batch_frames, channels, height, width) + residual
