"""Building blocks of STDiT (Open-Sora style): one class per box of the architecture figure.

Tokens travel as ``[B, T * S, D]`` (``T`` latent frames of ``S = h * w`` patches each, hidden size
``D``). Spatial attention regroups them per frame, temporal attention per patch position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from diffusers.models.embeddings import (
    PixArtAlphaTextProjection,
    TimestepEmbedding,
    Timesteps,
    get_1d_sincos_pos_embed_from_grid,
    get_2d_sincos_pos_embed_from_grid,
)
from einops import rearrange
from torch import nn

# Width of the sinusoidal timestep features fed to the timestep MLP (as in DiT / Open-Sora).
TIMESTEP_FREQ_DIM = 256
# adaLN parameters per block: (shift, scale, gate) for spatial attention, temporal attention and MLP.
NUM_BLOCK_MODULATIONS = 9


def sincos_pos_embed_3d(dim: int, frames: int, height: int, width: int, device: torch.device) -> torch.Tensor:
    """Fixed sin/cos position embedding ``[frames * height * width, dim]`` for a token grid.

    Spatial 2-D embedding (half the channels for x, half for y) plus temporal 1-D embedding, in
    token units so a grid of any size gets the same code for the same offset.
    """
    rows = torch.arange(height, device=device, dtype=torch.float32)
    cols = torch.arange(width, device=device, dtype=torch.float32)
    grid_y, grid_x = torch.meshgrid(rows, cols, indexing="ij")  # [h, w] each
    # [2, h, w] -> [2, h * w]; x first, like diffusers.get_2d_sincos_pos_embed
    grid = torch.stack([grid_x, grid_y]).reshape(2, height * width)
    spatial = get_2d_sincos_pos_embed_from_grid(dim, grid)  # [h * w, D]
    temporal = get_1d_sincos_pos_embed_from_grid(dim, torch.arange(frames, device=device, dtype=torch.float32))  # [T, D]
    # [T, 1, D] + [1, h * w, D] -> [T * h * w, D]
    return (temporal[:, None, :] + spatial[None, :, :]).reshape(frames * height * width, dim).float()


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: ``x * (1 + scale) + shift`` with per-sample ``shift``/``scale`` ``[B, D]``."""
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


class PatchEmbed3D(nn.Module):
    """Cut a video into non-overlapping ``(pt, ph, pw)`` patches and project each to ``D`` channels."""

    def __init__(self, patch_size: tuple[int, int, int], in_channels: int, hidden_size: int):
        super().__init__()
        self.proj = nn.Conv3d(in_channels, hidden_size, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # [B, C, T, H, W] -> [B, D, T/pt, H/ph, W/pw]
        return rearrange(x, "B D T H W -> B (T H W) D")


class TimestepEmbedder(nn.Module):
    """Diffusion step ``[B]`` -> sinusoidal features -> MLP -> ``[B, D]`` (diffusers' Timesteps + TimestepEmbedding)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.freq = Timesteps(TIMESTEP_FREQ_DIM, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.mlp = TimestepEmbedding(TIMESTEP_FREQ_DIM, hidden_size)

    def forward(self, timestep: torch.Tensor) -> torch.Tensor:
        freq = self.freq(timestep).to(self.mlp.linear_1.weight.dtype)  # [B] -> [B, 256]
        return self.mlp(freq)  # [B, 256] -> [B, D]


class CaptionEmbedder(nn.Module):
    """Caption tokens ``[B, N, Cc]`` -> ``[B, N, D]``; a learned null caption stands in when none is given."""

    def __init__(self, caption_channels: int, hidden_size: int, model_max_length: int):
        super().__init__()
        self.y_embedding = nn.Parameter(torch.randn(model_max_length, caption_channels) / caption_channels**0.5)
        self.proj = PixArtAlphaTextProjection(caption_channels, hidden_size, act_fn="gelu_tanh")

    def forward(self, y: torch.Tensor | None, batch: int) -> torch.Tensor:
        if y is None:
            # [L, Cc] -> [B, L, Cc]
            y = self.y_embedding[None].expand(batch, -1, -1)
        return self.proj(y)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the middle axis of ``[N, L, D]`` (scaled_dot_product_attention)."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N, L, 3D] -> 3 x [N, heads, L, D/heads]
        q, k, v = rearrange(self.qkv(x), "N L (three H Dh) -> three N H L Dh", three=3, H=self.num_heads)
        out = F.scaled_dot_product_attention(q, k, v)
        out = rearrange(out, "N H L Dh -> N L (H Dh)")  # [N, heads, L, D/heads] -> [N, L, D]
        return self.proj(out)


class CrossAttention(nn.Module):
    """Multi-head attention from video tokens ``[B, L, D]`` to caption tokens ``[B, N, D]``."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(hidden_size, hidden_size)
        self.kv = nn.Linear(hidden_size, 2 * hidden_size)
        self.proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """``keep`` ``[B, N]`` bool marks the caption tokens to attend to (``None``: all)."""
        q = rearrange(self.q(x), "B L (H Dh) -> B H L Dh", H=self.num_heads)  # [B, L, D] -> [B, heads, L, Dh]
        # [B, N, 2D] -> 2 x [B, heads, N, Dh]
        k, v = rearrange(self.kv(cond), "B N (two H Dh) -> two B H N Dh", two=2, H=self.num_heads)
        attn_mask = None
        if keep is not None:
            has_tokens = keep.any(dim=-1)  # [B]
            # A sample with every token dropped attends to all (no NaN) and its result is zeroed below.
            attn_mask = (keep | ~has_tokens[:, None])[:, None, None, :]  # [B, N] -> [B, 1, 1, N]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = self.proj(rearrange(out, "B H L Dh -> B L (H Dh)"))  # [B, heads, L, Dh] -> [B, L, D]
        if keep is not None:
            out = out * has_tokens[:, None, None].to(out.dtype)
        return out


class STDiTBlock(nn.Module):
    """Spatial attention, temporal attention, optional caption cross-attention and MLP, adaLN-modulated."""

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float, cross_attention: bool):
        super().__init__()
        self.norm_spatial = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn_spatial = SelfAttention(hidden_size, num_heads)
        self.norm_temporal = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn_temporal = SelfAttention(hidden_size, num_heads)
        if cross_attention:
            self.norm_cross = nn.LayerNorm(hidden_size, eps=1e-6)
            self.cross_attn = CrossAttention(hidden_size, num_heads)
        self.norm_mlp = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.mlp = FeedForward(hidden_size, mult=mlp_ratio, activation_fn="gelu-approximate")
        # Per-block offset added to the shared timestep modulation (PixArt / Open-Sora).
        self.scale_shift_table = nn.Parameter(torch.zeros(NUM_BLOCK_MODULATIONS, hidden_size))

    def forward(
        self,
        x: torch.Tensor,
        t_mod: torch.Tensor,
        frames: int,
        cond: torch.Tensor | None,
        keep: torch.Tensor | None,
    ) -> torch.Tensor:
        """``x`` ``[B, T*S, D]``, ``t_mod`` ``[B, 9*D]``, ``cond`` ``[B, N, D]`` or None, ``keep`` ``[B, N]``."""
        # [B, 9*D] -> [B, 9, D] -> 9 x [B, D]
        mods = self.scale_shift_table[None] + t_mod.reshape(t_mod.shape[0], NUM_BLOCK_MODULATIONS, -1)
        shift_sa, scale_sa, gate_sa, shift_ta, scale_ta, gate_ta, shift_mlp, scale_mlp, gate_mlp = mods.unbind(1)

        # 1. spatial self-attention within each frame
        h = modulate(self.norm_spatial(x), shift_sa, scale_sa)
        h = rearrange(h, "B (T S) C -> (B T) S C", T=frames)
        h = self.attn_spatial(h)
        h = rearrange(h, "(B T) S C -> B (T S) C", T=frames)
        x = x + gate_sa[:, None, :] * h

        # 2. temporal self-attention across frames at each patch position
        h = modulate(self.norm_temporal(x), shift_ta, scale_ta)
        # contiguous: on the strided view nn.Linear runs a batched matmul over one copy of the qkv
        # weight per patch position (B * S copies)
        h = rearrange(h, "B (T S) C -> (B S) T C", T=frames).contiguous()
        h = self.attn_temporal(h)
        h = rearrange(h, "(B S) T C -> B (T S) C", B=x.shape[0])
        x = x + gate_ta[:, None, :] * h

        # 3. cross-attention to the caption tokens  [B, T*S, D] x [B, N, D] -> [B, T*S, D]
        if cond is not None:
            x = x + self.cross_attn(self.norm_cross(x), cond, keep)

        # 4. MLP
        h = modulate(self.norm_mlp(x), shift_mlp, scale_mlp)
        return x + gate_mlp[:, None, :] * self.mlp(h)


class FinalLayer(nn.Module):
    """adaLN-modulated norm, then a linear map from each token to its patch of output pixels."""

    def __init__(self, hidden_size: int, patch_size: tuple[int, int, int], out_channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.scale_shift_table = nn.Parameter(torch.zeros(2, hidden_size))
        self.linear = nn.Linear(hidden_size, patch_size[0] * patch_size[1] * patch_size[2] * out_channels)

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, L, D]``, ``t_emb`` ``[B, D]`` -> ``[B, L, pt*ph*pw*C_out]``."""
        # [2, D] + [B, 1, D] -> [B, 2, D] -> 2 x [B, D]
        shift, scale = (self.scale_shift_table[None] + t_emb[:, None, :]).unbind(1)
        return self.linear(modulate(self.norm(x), shift, scale))
