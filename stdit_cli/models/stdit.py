"""STDiT: spatio-temporal diffusion transformer for video (Open-Sora style), and its diffusers wrapper.

``STDiT`` predicts, from a noisy video ``[B, C, T, H, W]`` and a diffusion step, a tensor of the same
frames and size. Any ``T``, ``H`` and ``W`` work: the video is padded to whole patches and the output
cropped back. Blocks live in :mod:`stdit_cli.models.stdit_blocks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from einops import rearrange
from torch import nn

from .shapes import check_shape, crop_to, pad_to_multiple
from .stdit_blocks import (
    NUM_BLOCK_MODULATIONS,
    CaptionEmbedder,
    FinalLayer,
    PatchEmbed3D,
    STDiTBlock,
    TimestepEmbedder,
    sincos_pos_embed_3d,
)


@dataclass
class DiffuserSTDiTModelOutput(BaseOutput):
    """Output of :class:`DiffuserSTDiT`: ``sample`` ``[B, out_channels, T, H, W]``."""

    sample: torch.Tensor


def _timestep_batch(timestep: torch.Tensor | float | int, batch: int, device: torch.device) -> torch.Tensor:
    """Diffusion step as a float tensor ``[B]``; a scalar or one-element tensor is broadcast."""
    t = torch.as_tensor(timestep, device=device, dtype=torch.float32)
    if t.ndim == 0:
        t = t[None]  # [] -> [1]
    if t.ndim != 1 or t.shape[0] not in (1, batch):
        raise ValueError(f"timestep: expected a scalar or a tensor of shape [{batch}], got shape {list(t.shape)}")
    return t.expand(batch)


class STDiT(ModelMixin, ConfigMixin):
    """Spatio-temporal DiT: per-frame spatial attention, per-position temporal attention, caption cross-attention.

    Args:
        input_size (`tuple`, *optional*, defaults to (5, 64, 64)):
            Default window ``(T, H, W)`` the model is meant for (``num_frames`` is ``T``). Inputs of any
            size are accepted; position embeddings follow the actual token grid.
        in_channels (`int`, *optional*, defaults to 3):
            Channels of ``x`` plus ``cond_image`` (they are concatenated).
        out_channels (`int`, *optional*, defaults to 3):
            Channels of the output.
        patch_size (`tuple`, *optional*, defaults to (1, 2, 2)):
            Patch size ``(pt, ph, pw)`` in frames, rows and columns of one token.
        hidden_size (`int`, *optional*, defaults to 128):
            Token width ``D``; a multiple of ``num_heads`` and of 4 (2-D sin/cos embedding).
        depth (`int`, *optional*, defaults to 4):
            Number of ``STDiTBlock`` s.
        num_heads (`int`, *optional*, defaults to 4):
            Attention heads of every attention.
        mlp_ratio (`float`, *optional*, defaults to 4.0):
            Width of the block MLP relative to ``hidden_size``.
        caption_channels (`int`, *optional*, defaults to 32):
            Channels of the caption tokens ``y``; 0 removes caption cross-attention altogether.
        model_max_length (`int`, *optional*, defaults to 1):
            Tokens of the learned null caption used when ``y`` is None (a given ``y`` may have any length).
    """

    @register_to_config
    def __init__(
        self,
        input_size: tuple[int, int, int] = (5, 64, 64),
        in_channels: int = 3,
        out_channels: int = 3,
        patch_size: tuple[int, int, int] = (1, 2, 2),
        hidden_size: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        caption_channels: int = 32,
        model_max_length: int = 1,
    ):
        super().__init__()
        if len(input_size) != 3 or len(patch_size) != 3:
            raise ValueError(f"input_size and patch_size must be (T, H, W), got {input_size} and {patch_size}")
        if hidden_size % num_heads or hidden_size % 4:
            raise ValueError(f"hidden_size must be a multiple of num_heads and of 4, got {hidden_size}, {num_heads}")
        if caption_channels > 0 and model_max_length < 1:
            raise ValueError(f"model_max_length must be >= 1 with captions, got {model_max_length}")
        self.patch_size = tuple(int(p) for p in patch_size)

        self.x_embedder = PatchEmbed3D(self.patch_size, in_channels, hidden_size)
        self.t_embedder = TimestepEmbedder(hidden_size)
        # One timestep MLP gives every block its shift/scale/gate (plus a per-block learned offset).
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, NUM_BLOCK_MODULATIONS * hidden_size))
        self.y_embedder = (
            CaptionEmbedder(caption_channels, hidden_size, model_max_length) if caption_channels > 0 else None
        )
        self.blocks = nn.ModuleList(
            STDiTBlock(hidden_size, num_heads, mlp_ratio, cross_attention=caption_channels > 0) for _ in range(depth)
        )
        self.final_layer = FinalLayer(hidden_size, self.patch_size, out_channels)
        self._init_weights()

    def _init_weights(self) -> None:
        """DiT init: xavier linears, and zero gates, cross-attention outputs and final projection."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        # patch conv as a linear map over the flattened patch
        weight = self.x_embedder.proj.weight
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.zeros_(self.x_embedder.proj.bias)
        for linear in (self.t_embedder.mlp.linear_1, self.t_embedder.mlp.linear_2):
            nn.init.normal_(linear.weight, std=0.02)
        if self.y_embedder is not None:
            for linear in (self.y_embedder.proj.linear_1, self.y_embedder.proj.linear_2):
                nn.init.normal_(linear.weight, std=0.02)
        # Zero timestep modulation => zero gates: every block starts as the identity.
        nn.init.zeros_(self.t_block[1].weight)
        nn.init.zeros_(self.t_block[1].bias)
        for block in self.blocks:
            if self.y_embedder is not None:
                nn.init.zeros_(block.cross_attn.proj.weight)
                nn.init.zeros_(block.cross_attn.proj.bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    @property
    def spatial_multiple(self) -> int:
        """Height and width are padded internally to a multiple of this."""
        return math.lcm(self.patch_size[1], self.patch_size[2])

    @property
    def num_frames(self) -> int:
        """Default temporal window: ``input_size[0]``."""
        return int(self.config.input_size[0])

    def token_grid(self, frames: int, height: int, width: int) -> dict:
        """Token layout for a ``frames x height x width`` input.

        Returns ``padded_size`` ``[T', H', W']`` (after padding), ``patch_grid`` ``[T'/pt, H'/ph, W'/pw]``,
        ``tokens_per_frame`` and ``num_tokens``.
        """
        pt, ph, pw = self.patch_size
        multiple = self.spatial_multiple
        padded = [
            math.ceil(frames / pt) * pt,
            math.ceil(height / multiple) * multiple,
            math.ceil(width / multiple) * multiple,
        ]
        grid = [padded[0] // pt, padded[1] // ph, padded[2] // pw]
        return {
            "padded_size": padded,
            "patch_grid": grid,
            "tokens_per_frame": grid[1] * grid[2],
            "num_tokens": grid[0] * grid[1] * grid[2],
        }

    def _caption_tokens(
        self, y: torch.Tensor | None, mask: torch.Tensor | None, batch: int, dtype: torch.dtype
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Embedded caption ``[B, N, D]`` and keep-mask ``[B, N]`` bool (or None), after shape checks."""
        caption_channels = self.config.caption_channels
        if self.y_embedder is None:
            if y is not None or mask is not None:
                raise ValueError("y/mask: this model has caption_channels=0 (no caption conditioning), got a caption")
            return None, None
        if y is not None:
            if y.ndim == 4:
                check_shape("y", y, "[B, 1, N, caption_channels]", (batch, 1, None, caption_channels))
                y = y[:, 0]  # [B, 1, N, Cc] -> [B, N, Cc]
            else:
                check_shape("y", y, "[B, N, caption_channels]", (batch, None, caption_channels))
            y = y.to(dtype)
        cond = self.y_embedder(y, batch)  # [B, N, D]
        keep = None
        if mask is not None:
            check_shape("mask", mask, "[B, N]", (batch, cond.shape[1]))
            keep = mask != 0
        return cond, keep

    def forward(
        self,
        x: torch.Tensor,
        timestep: torch.Tensor | float | int,
        y: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cond_image: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict ``[B, out_channels, T, H, W]`` for a noisy video.

        Args:
            x: ``[B, C, T, H, W]`` noisy video; any ``T >= 1``, ``H``, ``W``.
            timestep: diffusion step in ``[0, 1000)``: tensor ``[B]``, 0-d tensor or python number.
            y: caption tokens ``[B, 1, N, caption_channels]`` or ``[B, N, caption_channels]``; None uses
                the learned null caption ``[model_max_length, caption_channels]``.
            mask: ``[B, N]`` 1 = attend to the caption token, 0 = drop it.
            cond_image: ``[B, Cc, T, H, W]`` spatial conditioning, concatenated to ``x`` on channels
                (``C + Cc == in_channels``).

        Returns:
            ``[B, out_channels, T, H, W]`` tensor.
        """
        in_channels = self.config.in_channels
        # 0. check shapes and join the conditioning  [B, C, T, H, W] + [B, Cc, T, H, W] -> [B, C + Cc, T, H, W]
        if cond_image is None:
            check_shape("x", x, "[B, C, T, H, W]", (None, in_channels, None, None, None))
        else:
            check_shape("x", x, "[B, C, T, H, W]", (None, None, None, None, None))
            batch, _, frames, height, width = x.shape
            check_shape("cond_image", cond_image, "[B, Cc, T, H, W]", (batch, None, frames, height, width))
            if x.shape[1] + cond_image.shape[1] != in_channels:
                raise ValueError(
                    f"x + cond_image: expected {in_channels} channels in all (in_channels), "
                    f"got {x.shape[1]} + {cond_image.shape[1]}"
                )
            x = torch.cat([x, cond_image.to(x.dtype)], dim=1)
        batch, _, frames, height, width = x.shape
        if min(frames, height, width) < 1:
            raise ValueError(f"x: expected at least one frame, row and column, got shape {list(x.shape)}")
        t = _timestep_batch(timestep, batch, x.device)
        cond, keep = self._caption_tokens(y, mask, batch, x.dtype)

        # 1. pad  [B, C_in, T, H, W] -> [B, C_in, T', H', W'] (last frame repeated, replicate-padded edges)
        grid = self.token_grid(frames, height, width)
        pad_frames = grid["padded_size"][0] - frames
        if pad_frames:
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, pad_frames, -1, -1)], dim=2)
        x, size_hw = pad_to_multiple(x, self.spatial_multiple)

        # 2. patchify  [B, C_in, T', H', W'] -> [B, T'' * S, D], plus sin/cos positions of this grid
        x = self.x_embedder(x)
        grid_t, grid_h, grid_w = grid["patch_grid"]
        x = x + sincos_pos_embed_3d(x.shape[-1], grid_t, grid_h, grid_w, x.device).to(x.dtype)

        # 3. timestep conditioning  [B] -> [B, D] -> [B, 9 * D]
        t_emb = self.t_embedder(t)
        t_mod = self.t_block(t_emb)

        # 4. transformer blocks  [B, T'' * S, D]
        for block in self.blocks:
            x = block(x, t_mod, grid_t, cond, keep)

        # 5. final layer  [B, T'' * S, D] -> [B, T'' * S, pt * ph * pw * C_out]
        x = self.final_layer(x, t_emb)

        # 6. unpatchify and crop  -> [B, C_out, T', H', W'] -> [B, C_out, T, H, W]
        pt, ph, pw = self.patch_size
        x = rearrange(
            x,
            "B (T H W) (pt ph pw C) -> B C (T pt) (H ph) (W pw)",
            T=grid_t, H=grid_h, W=grid_w, pt=pt, ph=ph, pw=pw,
        )
        return crop_to(x[:, :, :frames], size_hw)


class DiffuserSTDiT(ModelMixin, ConfigMixin):
    """Diffusers-style wrapper around :class:`STDiT`: ``encoder_hidden_states`` in, ``DiffuserSTDiTModelOutput`` out.

    Args:
        input_size (`tuple`, *optional*, defaults to (5, 64, 64)):
            Default window ``(T, H, W)`` the model is meant for (``num_frames`` is ``T``). Inputs of any
            size are accepted; position embeddings follow the actual token grid.
        in_channels (`int`, *optional*, defaults to 3):
            Channels of ``x`` plus ``cond_image`` (they are concatenated).
        out_channels (`int`, *optional*, defaults to 3):
            Channels of the output.
        patch_size (`tuple`, *optional*, defaults to (1, 2, 2)):
            Patch size ``(pt, ph, pw)`` in frames, rows and columns of one token.
        hidden_size (`int`, *optional*, defaults to 128):
            Token width ``D``; a multiple of ``num_heads`` and of 4 (2-D sin/cos embedding).
        depth (`int`, *optional*, defaults to 4):
            Number of ``STDiTBlock`` s.
        num_heads (`int`, *optional*, defaults to 4):
            Attention heads of every attention.
        mlp_ratio (`float`, *optional*, defaults to 4.0):
            Width of the block MLP relative to ``hidden_size``.
        caption_channels (`int`, *optional*, defaults to 32):
            Channels of ``encoder_hidden_states``; 0 removes caption cross-attention altogether.
        model_max_length (`int`, *optional*, defaults to 1):
            Tokens of the learned null caption used when ``encoder_hidden_states`` is None.
    """

    @register_to_config
    def __init__(
        self,
        input_size: tuple[int, int, int] = (5, 64, 64),
        in_channels: int = 3,
        out_channels: int = 3,
        patch_size: tuple[int, int, int] = (1, 2, 2),
        hidden_size: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        caption_channels: int = 32,
        model_max_length: int = 1,
    ):
        super().__init__()
        self.model = STDiT(
            input_size=input_size,
            in_channels=in_channels,
            out_channels=out_channels,
            patch_size=patch_size,
            hidden_size=hidden_size,
            depth=depth,
            num_heads=num_heads,
            mlp_ratio=mlp_ratio,
            caption_channels=caption_channels,
            model_max_length=model_max_length,
        )

    @property
    def spatial_multiple(self) -> int:
        """Height and width are padded internally to a multiple of this."""
        return self.model.spatial_multiple

    @property
    def num_frames(self) -> int:
        """Default temporal window: ``input_size[0]``."""
        return self.model.num_frames

    def token_grid(self, frames: int, height: int, width: int) -> dict:
        """Token layout for a ``frames x height x width`` input (see :meth:`STDiT.token_grid`)."""
        return self.model.token_grid(frames, height, width)

    def forward(
        self,
        x: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor | None = None,
        cond_image: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> DiffuserSTDiTModelOutput | tuple[torch.Tensor]:
        """Predict ``sample`` ``[B, out_channels, T, H, W]`` for a noisy video.

        Args:
            x: ``[B, C, T, H, W]`` noisy video; any ``T >= 1``, ``H``, ``W``.
            timestep: diffusion step in ``[0, 1000)``: tensor ``[B]``, 0-d tensor or python number.
            encoder_hidden_states: caption tokens ``[B, N, caption_channels]`` or
                ``[B, 1, N, caption_channels]``; None uses the learned null caption.
            cond_image: ``[B, Cc, T, H, W]`` concatenated to ``x`` on channels (``C + Cc == in_channels``).
            mask: ``[B, N]`` 1 = attend to the caption token, 0 = drop it.
            return_dict: return a :class:`DiffuserSTDiTModelOutput` (True) or a tuple ``(sample,)``.
        """
        sample = self.model(x, timestep, y=encoder_hidden_states, mask=mask, cond_image=cond_image)
        if not return_dict:
            return (sample,)
        return DiffuserSTDiTModelOutput(sample=sample)
