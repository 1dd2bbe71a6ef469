"""UNetSTIC: a spatio-temporal convolutional UNet, the CPU default backbone.

Frames are folded into the batch (``[(B T), C, H, W]``) so spatial layers are 2-D convolutions;
a residual 3-tap convolution across frames follows each ResNet block, and the lowest
resolution(s) add cross-attention to context tokens plus self-attention across frames. Nothing
attends over pixels, so the cost is linear in ``H * W``.

Built from diffusers parts (``ResnetBlock2D``, ``Downsample2D``, ``Upsample2D``,
``Timesteps``, ``TimestepEmbedding``, and the ``BasicTransformerBlock`` of the attention layers in
:mod:`.unet_attention`) in the layout of ``unet_3d_blocks``' ``*Block3D``. Those blocks are not used
as-is: the ``Conv3d`` in their ``TemporalConvLayer`` makes ``model.to(memory_format=torch.channels_last)``
raise, and their cross-attention blocks drop the attention mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from einops import rearrange
from torch import nn

from .shapes import check_shape, crop_to, pad_to_multiple
from .unet_blocks import DownBlockST, FullResolutionHead, SpatioTemporalLayer, UpBlockST

DOWN_BLOCK_TYPES = ("DownBlockST", "CrossAttnDownBlockST")
UP_BLOCK_TYPES = ("UpBlockST", "CrossAttnUpBlockST")


@dataclass
class UNetSTICOutput(BaseOutput):
    """Output of :class:`UNetSTIC`: ``sample`` is ``[B, out_channels, T, H, W]``."""

    sample: torch.Tensor


class UNetSTIC(ModelMixin, ConfigMixin):
    r"""Spatio-temporal UNet with cross-attention to context tokens and channel-concatenated image conditioning.

    2-D ResNet blocks run on frames folded into the batch; temporal convolutions mix neighbouring
    frames after every ResNet block; ``CrossAttn*`` blocks (meant for the lowest resolutions) add
    cross-attention to ``encoder_hidden_states`` and self-attention across frames. The mid block is
    ResNet + temporal conv (+ the same attention pair when the deepest down block is ``CrossAttn*``)
    + ResNet + temporal conv. Nothing attends over pixels, so the cost is linear in ``H * W``.

    Args:
        sample_size (`int`, *optional*, defaults to 64):
            Nominal frame height/width used in training (a default tile size); any H and W are accepted.
        in_channels (`int`, *optional*, defaults to 3):
            Channels of ``x`` plus ``cond_image`` (they are concatenated).
        out_channels (`int`, *optional*, defaults to 3):
            Channels of the predicted ``sample``.
        num_frames (`int`, *optional*, defaults to 5):
            Default temporal window (frames per call) the model is configured for; any T >= 1 works.
        down_block_types (`tuple[str]`, *optional*, defaults to ["DownBlockST", "DownBlockST", "CrossAttnDownBlockST"]):
            One of "DownBlockST" / "CrossAttnDownBlockST" per resolution, highest first; all but the last downsample.
            At least one must be "CrossAttnDownBlockST".
        up_block_types (`tuple[str]`, *optional*, defaults to ["CrossAttnUpBlockST", "UpBlockST", "UpBlockST"]):
            One of "UpBlockST" / "CrossAttnUpBlockST" per resolution, lowest first; all but the last upsample.
        block_out_channels (`tuple[int]`, *optional*, defaults to [32, 64, 96]):
            Channels per resolution, highest first; each must be divisible by ``norm_num_groups``.
        layers_per_block (`int`, *optional*, defaults to 1):
            Spatio-temporal layers per down block; up blocks have one more (to eat the downsample skip).
        norm_num_groups (`int`, *optional*, defaults to 8):
            GroupNorm groups everywhere.
        cross_attention_dim (`int`, *optional*, defaults to 64):
            Last dimension of ``encoder_hidden_states``.
        attention_head_dim (`int`, *optional*, defaults to 32):
            Channels per attention head; must divide the channels of every ``CrossAttn*`` level.
        null_context_tokens (`int`, *optional*, defaults to 1):
            Length of the learned context used when ``encoder_hidden_states`` is None.
        patch_size (`int`, *optional*, defaults to 1):
            Pixel-unshuffle stem: each ``p x p`` block of pixels becomes ``p * p`` channels before
            ``conv_in`` and the output is pixel-shuffled back, so every layer runs at ``1 / p`` of
            the resolution (``p ** 2`` times fewer operations; FFDNet's trick).
        full_res_channels (`int`, *optional*, defaults to 0):
            Channels of a :class:`FullResolutionHead` that corrects the (pixel-shuffled) output at
            full resolution; 0: no head. Meant for ``patch_size > 1``.
    """

    @register_to_config
    def __init__(
        self,
        sample_size: int = 64,
        in_channels: int = 3,
        out_channels: int = 3,
        num_frames: int = 5,
        down_block_types: tuple[str, ...] = ("DownBlockST", "DownBlockST", "CrossAttnDownBlockST"),
        up_block_types: tuple[str, ...] = ("CrossAttnUpBlockST", "UpBlockST", "UpBlockST"),
        block_out_channels: tuple[int, ...] = (32, 64, 96),
        layers_per_block: int = 1,
        norm_num_groups: int = 8,
        cross_attention_dim: int = 64,
        attention_head_dim: int = 32,
        null_context_tokens: int = 1,
        patch_size: int = 1,
        full_res_channels: int = 0,
    ):
        super().__init__()
        levels = len(block_out_channels)
        if not len(down_block_types) == len(up_block_types) == levels:
            raise ValueError(
                f"expected one down and one up block type per entry of block_out_channels ({levels}), "
                f"got {len(down_block_types)} down and {len(up_block_types)} up"
            )
        bad_types = [t for t in down_block_types if t not in DOWN_BLOCK_TYPES]
        bad_types += [t for t in up_block_types if t not in UP_BLOCK_TYPES]
        if bad_types:
            raise ValueError(f"unknown block types {bad_types}; expected {DOWN_BLOCK_TYPES} or {UP_BLOCK_TYPES}")
        if "CrossAttnDownBlockST" not in down_block_types:
            raise ValueError(f"expected at least one CrossAttnDownBlockST, got {list(down_block_types)}")
        for block_type, channels in zip([*down_block_types, *reversed(up_block_types)], [*block_out_channels] * 2):
            if channels % norm_num_groups:
                raise ValueError(f"block_out_channels {channels} is not divisible by norm_num_groups {norm_num_groups}")
            if block_type.startswith("CrossAttn") and channels % attention_head_dim:
                raise ValueError(f"{block_type} with {channels} channels is not divisible by "
                                 f"attention_head_dim {attention_head_dim}")

        base_channels = block_out_channels[0]
        temb_channels = 4 * base_channels
        attn = dict(norm_num_groups=norm_num_groups, attention_head_dim=attention_head_dim)

        if patch_size < 1:
            raise ValueError(f"patch_size must be >= 1, got {patch_size}")
        if full_res_channels < 0:
            raise ValueError(f"full_res_channels must be >= 0, got {full_res_channels}")
        self.conv_in = nn.Conv2d(in_channels * patch_size**2, base_channels, kernel_size=3, padding=1)
        self.time_proj = Timesteps(base_channels, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(base_channels, temb_channels)
        self.null_context = nn.Parameter(torch.randn(null_context_tokens, cross_attention_dim) * 0.02)

        self.down_blocks = nn.ModuleList()
        prev_channels = base_channels
        for i, (block_type, channels) in enumerate(zip(down_block_types, block_out_channels)):
            cross_dim = cross_attention_dim if block_type == "CrossAttnDownBlockST" else None
            self.down_blocks.append(DownBlockST(prev_channels, channels, temb_channels, layers_per_block,
                                                cross_attention_dim=cross_dim, add_downsample=i < levels - 1, **attn))
            prev_channels = channels

        deepest = block_out_channels[-1]
        mid_cross_dim = cross_attention_dim if down_block_types[-1] == "CrossAttnDownBlockST" else None
        self.mid_block = nn.ModuleList([
            SpatioTemporalLayer(deepest, deepest, temb_channels, cross_attention_dim=mid_cross_dim, **attn),
            SpatioTemporalLayer(deepest, deepest, temb_channels, cross_attention_dim=None, **attn),
        ])

        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(block_out_channels))
        prev_channels = deepest
        for i, (block_type, channels) in enumerate(zip(up_block_types, reversed_channels)):
            skip_in = reversed_channels[min(i + 1, levels - 1)]
            cross_dim = cross_attention_dim if block_type == "CrossAttnUpBlockST" else None
            self.up_blocks.append(UpBlockST(skip_in, prev_channels, channels, temb_channels, layers_per_block + 1,
                                            cross_attention_dim=cross_dim, add_upsample=i < levels - 1, **attn))
            prev_channels = channels

        self.conv_norm_out = nn.GroupNorm(norm_num_groups, base_channels)
        self.conv_out = nn.Conv2d(base_channels, out_channels * patch_size**2, kernel_size=3, padding=1)
        # zero-init the final projection: a fresh epsilon-predictor outputs 0 ("no noise")
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.full_res_head = (
            FullResolutionHead(in_channels, out_channels, full_res_channels, temb_channels) if full_res_channels else None
        )

    @property
    def spatial_multiple(self) -> int:
        """H and W are padded internally to a multiple of this (patch size x 2 ** number of downsamples)."""
        return self.config.patch_size * 2 ** (len(self.config.block_out_channels) - 1)

    @property
    def num_frames(self) -> int:
        """Default temporal window the model was configured for."""
        return self.config.num_frames

    def forward(
        self,
        x: torch.Tensor,
        timestep: torch.Tensor | int | float,
        encoder_hidden_states: torch.Tensor | None = None,
        cond_image: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> UNetSTICOutput | tuple[torch.Tensor]:
        """Predict ``sample`` for a noisy clip.

        Layouts (note that input and output differ; that is the contract):
            x: ``[B, T, C, H, W]``, the noisy frames; any T >= 1 and any H, W (padded internally).
            timestep: ``[B]``, 0-d tensor, int or float in [0, 1000); a single value is broadcast to B.
            encoder_hidden_states: ``[B, seq, cross_attention_dim]`` context tokens, or None for the
                learned null context (``null_context_tokens`` tokens).
            cond_image: ``[B, T, Cc, H, W]``, the SAME layout as ``x``; it is concatenated to ``x`` on the
                channel axis (``C + Cc == in_channels``). The original code concatenated on dim 1 as if both
                were ``[B, C, T, H, W]`` while ``x`` was ``[B, T, C, H, W]``; that layout bug is resolved by
                taking ``cond_image`` in the layout of ``x``.
            mask: ``[B, seq]`` over the context tokens actually used (1 = keep, 0 = ignore), applied to
                the cross-attention keys.
            returns: ``UNetSTICOutput(sample=[B, out_channels, T, H, W])``, or ``(sample,)`` when
                ``return_dict`` is False.
        """
        # 0. check shapes
        check_shape("x", x, "[B, T, C, H, W]", (None, None, None, None, None))
        batch, frames, _, height, width = x.shape
        cond_channels = 0
        if cond_image is not None:
            check_shape("cond_image", cond_image, "[B, T, Cc, H, W]", (batch, frames, None, height, width))
            cond_channels = cond_image.shape[2]
        if x.shape[2] + cond_channels != self.config.in_channels:
            raise ValueError(f"x has {x.shape[2]} channels and cond_image {cond_channels}: expected them to sum to "
                             f"in_channels={self.config.in_channels}, got {x.shape[2] + cond_channels}")
        if encoder_hidden_states is None:
            # [n, D] -> [B, n, D]
            encoder_hidden_states = self.null_context.unsqueeze(0).expand(batch, -1, -1)
        check_shape("encoder_hidden_states", encoder_hidden_states, "[B, seq, cross_attention_dim]",
                    (batch, None, self.config.cross_attention_dim))
        if mask is not None:
            check_shape("mask", mask, "[B, seq]", (batch, encoder_hidden_states.shape[1]))
        timesteps = torch.as_tensor(timestep, device=x.device).reshape(-1)
        if timesteps.numel() == 1:
            timesteps = timesteps.expand(batch)
        check_shape("timestep", timesteps, "[B]", (batch,))

        # 1. timestep embedding  [B] -> [B, 4*C0] -> [(B T), 4*C0]
        temb = self.time_embedding(self.time_proj(timesteps).to(dtype=x.dtype))
        temb = temb.repeat_interleave(frames, dim=0)

        # 2. context per folded frame  [B, seq, D] -> [(B T), seq, D]; mask [B, seq] -> [(B T), seq]
        context = encoder_hidden_states.to(x.dtype).repeat_interleave(frames, dim=0)
        context_mask = None if mask is None else mask.to(x.dtype).repeat_interleave(frames, dim=0)

        # 3. join conditioning, fold frames, pad  [B, T, C(+Cc), H, W] -> [(B T), Cin, H', W']
        sample = x if cond_image is None else torch.cat([x, cond_image], dim=2)
        sample = rearrange(sample, "b t c h w -> (b t) c h w")
        full_res, size = pad_to_multiple(sample, self.spatial_multiple)
        # pixel-unshuffle stem  [(B T), Cin, H', W'] -> [(B T), Cin*p*p, H'/p, W'/p]
        sample = F.pixel_unshuffle(full_res, self.config.patch_size)

        # 4. down path; skips hold every tensor the up path concatenates back  [(B T), Ck, h, w]
        hidden = self.conv_in(sample)
        skips = [hidden]
        for block in self.down_blocks:
            hidden, block_skips = block(hidden, temb, context, context_mask, frames)
            skips.extend(block_skips)

        # 5. mid block at the lowest resolution
        for layer in self.mid_block:
            hidden = layer(hidden, temb, context, context_mask, frames)

        # 6. up path
        for block in self.up_blocks:
            hidden = block(hidden, skips, temb, context, context_mask, frames)

        # 7. output head, crop, unfold  [(B T), C0, H', W'] -> [B, out_channels, T, H, W]
        hidden = self.conv_out(F.silu(self.conv_norm_out(hidden)))
        # pixel-shuffle back  [(B T), out*p*p, H'/p, W'/p] -> [(B T), out, H', W']
        hidden = F.pixel_shuffle(hidden, self.config.patch_size)
        if self.full_res_head is not None:
            # [(B T), Cin, H', W'] + [(B T), out, H', W'] -> [(B T), out, H', W']
            hidden = self.full_res_head(full_res, hidden, temb)
        hidden = crop_to(hidden, size)
        sample_out = rearrange(hidden, "(b t) c h w -> b c t h w", b=batch)

        if not return_dict:
            return (sample_out,)
        return UNetSTICOutput(sample=sample_out)
