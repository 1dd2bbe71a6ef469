"""SegDiT: a per-frame DiT denoiser with optional segmentation channels.

The model follows diffusers' ``DiTTransformer2DModel`` (patch embedding with 2-D sincos positions,
``BasicTransformerBlock`` with adaLN-zero conditioning on timestep + class label, DiT output head)
and adds what the video denoiser needs: a ``segmentation`` map concatenated on channels, any H and W
(padded to the patch size and cropped back) and DiT's zero initialisation so that a fresh model
predicts zero noise.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.embeddings import PatchEmbed
from diffusers.models.modeling_outputs import Transformer2DModelOutput
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange
from torch import nn

from .shapes import check_shape, crop_to, pad_to_multiple

__all__ = ["SegDiTTransformer2DModel", "Transformer2DModelOutput"]


class SegDiTTransformer2DModel(ModelMixin, ConfigMixin):
    r"""
    A 2-D DiT (https://huggingface.co/papers/2212.09748) that denoises one frame at a time.

    ``hidden_states`` ``[B, C, H, W]`` and the optional ``segmentation`` ``[B, S, H, W]`` are concatenated on
    channels (``C + S == in_channels``), padded on the bottom/right to a multiple of ``patch_size``, cut into
    ``patch_size x patch_size`` tokens with 2-D sincos positions, run through adaLN-zero transformer blocks
    conditioned on ``timestep`` + ``class_labels``, and unpatchified and cropped back to ``[B, out_channels, H, W]``.

    Positions: diffusers' ``PatchEmbed`` recomputes the sincos table for every token grid other than
    ``sample_size / patch_size``; the grid is stretched to span the trained grid (PixArt-style), so a position
    encodes where a token sits *within the tile* rather than an absolute pixel offset.

    Class labels: every block's ``CombinedTimestepLabelEmbeddings`` has ``num_embeds_ada_norm + 1`` label rows
    (diffusers uses a label dropout of 0.1, which adds a "null" row). Index ``num_embeds_ada_norm`` is the null
    label; ``class_labels=None`` uses it, and in training mode 10% of given labels are replaced by it
    (classifier-free guidance style).

    Initialisation follows DiT: xavier-uniform linears, N(0, 0.02) timestep/label embedders, and zeros for the
    adaLN modulation (shift, scale, gate) of every block, the output head's modulation ``proj_out_1`` and the
    output projection ``proj_out_2``; a fresh model outputs exactly zero and only ``proj_out_2`` gets a
    gradient on the first step.

    Args:
        num_attention_heads (`int`, *optional*, defaults to 4):
            Number of attention heads in every transformer block.
        attention_head_dim (`int`, *optional*, defaults to 32):
            Channels per head; the token width is ``num_attention_heads * attention_head_dim``.
        in_channels (`int`, *optional*, defaults to 3):
            Channels of ``hidden_states`` plus ``segmentation`` (they are concatenated).
        out_channels (`int`, *optional*, defaults to 3):
            Channels of the predicted ``sample``.
        num_layers (`int`, *optional*, defaults to 4):
            Number of transformer blocks (at least 1: the output head reuses block 0's conditioning embedder).
        dropout (`float`, *optional*, defaults to 0.0):
            Dropout probability inside attention and feed-forward layers.
        attention_bias (`bool`, *optional*, defaults to True):
            Whether the query/key/value projections have a bias.
        sample_size (`int`, *optional*, defaults to 64):
            Training tile size in pixels; sets the base grid of the sincos position embedding.
        patch_size (`int`, *optional*, defaults to 2):
            Side of the square patches; inputs are padded to a multiple of it (``spatial_multiple``).
        activation_fn (`str`, *optional*, defaults to "gelu-approximate"):
            Activation of the feed-forward layers (any name diffusers' ``FeedForward`` accepts).
        num_embeds_ada_norm (`int`, *optional*, defaults to 1):
            Number of class labels for the adaLN-zero conditioning (not diffusion steps); label
            ``num_embeds_ada_norm`` is the null/unconditional label.
        norm_elementwise_affine (`bool`, *optional*, defaults to False):
            Whether the LayerNorm before each feed-forward layer has learnable affine parameters.
        norm_eps (`float`, *optional*, defaults to 1e-5):
            Epsilon of the LayerNorm before each feed-forward layer.
    """

    _skip_layerwise_casting_patterns = ["pos_embed", "norm"]
    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        num_attention_heads: int = 4,
        attention_head_dim: int = 32,
        in_channels: int = 3,
        out_channels: int = 3,
        num_layers: int = 4,
        dropout: float = 0.0,
        attention_bias: bool = True,
        sample_size: int = 64,
        patch_size: int = 2,
        activation_fn: str = "gelu-approximate",
        num_embeds_ada_norm: int = 1,
        norm_elementwise_affine: bool = False,
        norm_eps: float = 1e-5,
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers: expected >= 1 (the output head uses block 0's embedder), got {num_layers}")
        if num_embeds_ada_norm < 1:
            raise ValueError(f"num_embeds_ada_norm: expected >= 1 class label, got {num_embeds_ada_norm}")
        self.gradient_checkpointing = False
        inner_dim = num_attention_heads * attention_head_dim

        self.pos_embed = PatchEmbed(
            height=sample_size,
            width=sample_size,
            patch_size=patch_size,
            in_channels=in_channels,
            embed_dim=inner_dim,
        )
        self.transformer_blocks = nn.ModuleList(
            [
                BasicTransformerBlock(
                    inner_dim,
                    num_attention_heads,
                    attention_head_dim,
                    dropout=dropout,
                    activation_fn=activation_fn,
                    num_embeds_ada_norm=num_embeds_ada_norm,
                    attention_bias=attention_bias,
                    norm_type="ada_norm_zero",
                    norm_elementwise_affine=norm_elementwise_affine,
                    norm_eps=norm_eps,
                )
                for _ in range(num_layers)
            ]
        )
        self.norm_out = nn.LayerNorm(inner_dim, elementwise_affine=False, eps=1e-6)
        self.proj_out_1 = nn.Linear(inner_dim, 2 * inner_dim)
        self.proj_out_2 = nn.Linear(inner_dim, patch_size * patch_size * out_channels)
        self._init_weights()

    def _init_weights(self) -> None:
        """DiT initialisation: xavier linears, N(0, 0.02) embedders, zero adaLN modulation and output."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        # the patch conv is a linear map of a flattened patch: [D, C, p, p] viewed as [D, C*p*p]
        patch_weight = self.pos_embed.proj.weight
        nn.init.xavier_uniform_(patch_weight.view(patch_weight.shape[0], -1))
        nn.init.zeros_(self.pos_embed.proj.bias)
        for block in self.transformer_blocks:
            embedder = block.norm1.emb
            nn.init.normal_(embedder.class_embedder.embedding_table.weight, std=0.02)
            nn.init.normal_(embedder.timestep_embedder.linear_1.weight, std=0.02)
            nn.init.normal_(embedder.timestep_embedder.linear_2.weight, std=0.02)
            nn.init.zeros_(block.norm1.linear.weight)
            nn.init.zeros_(block.norm1.linear.bias)
        for layer in (self.proj_out_1, self.proj_out_2):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    @property
    def spatial_multiple(self) -> int:
        """Height and width are padded internally to a multiple of this (the patch size)."""
        return self.config.patch_size

    @property
    def num_frames(self) -> int:
        """Frames the model looks at together: 1, it denoises each frame on its own."""
        return 1

    def token_grid(self, height: int, width: int) -> dict[str, Any]:
        """Token layout for an ``height x width`` input: padded size, patch grid and token count."""
        patch = self.config.patch_size
        padded_h = height + (-height) % patch
        padded_w = width + (-width) % patch
        grid_h, grid_w = padded_h // patch, padded_w // patch
        return {"padded_size": [padded_h, padded_w], "patch_grid": [grid_h, grid_w], "num_tokens": grid_h * grid_w}

    def _check_inputs(self, hidden_states: torch.Tensor, segmentation: torch.Tensor | None) -> None:
        """Raise ``ValueError`` unless ``hidden_states`` (+ ``segmentation``) fill exactly ``in_channels``."""
        check_shape("hidden_states", hidden_states, "[B, C, H, W]", (None, None, None, None))
        batch, channels, height, width = hidden_states.shape
        in_channels = self.config.in_channels
        if segmentation is None:
            if channels != in_channels:
                raise ValueError(
                    f"hidden_states: expected C + S == in_channels = {in_channels} channels, got C = {channels} "
                    f"and no segmentation"
                )
            return
        seg_channels = in_channels - channels
        if seg_channels < 1:
            raise ValueError(
                f"segmentation: expected none, hidden_states already has C = {channels} of in_channels = "
                f"{in_channels}; got segmentation of shape {list(segmentation.shape)}"
            )
        check_shape("segmentation", segmentation, "[B, S, H, W]", (batch, seg_channels, height, width))

    def _batch_timestep(self, timestep: torch.Tensor | float | None, batch: int, device: torch.device) -> torch.Tensor:
        """Return the diffusion step as a ``[B]`` tensor; a scalar is broadcast to the batch."""
        if timestep is None:
            raise ValueError("timestep: expected the diffusion step (tensor [B], 0-d tensor, int or float), got None")
        steps = torch.as_tensor(timestep, device=device)
        if steps.ndim > 1 or steps.numel() not in (1, batch):
            raise ValueError(f"timestep: expected a scalar or shape [B] = [{batch}], got shape {list(steps.shape)}")
        return steps.reshape(-1).expand(batch)

    def _batch_class_labels(
        self, class_labels: torch.Tensor | int | None, batch: int, device: torch.device
    ) -> torch.Tensor:
        """Return class labels as a ``[B]`` long tensor; ``None`` means the null label."""
        null_label = self.config.num_embeds_ada_norm
        if class_labels is None:
            return torch.full((batch,), null_label, dtype=torch.long, device=device)
        labels = torch.as_tensor(class_labels, device=device)
        if labels.is_floating_point() or labels.ndim > 1 or labels.numel() not in (1, batch):
            raise ValueError(
                f"class_labels: expected an integer scalar or shape [B] = [{batch}], "
                f"got {labels.dtype} of shape {list(labels.shape)}"
            )
        if labels.min() < 0 or labels.max() > null_label:
            raise ValueError(
                f"class_labels: expected values in [0, {null_label}] ({null_label} = unconditional), "
                f"got {labels.tolist()}"
            )
        return labels.long().reshape(-1).expand(batch)

    def forward(
        self,
        hidden_states: torch.Tensor,
        timestep: torch.Tensor | float | None = None,
        class_labels: torch.Tensor | int | None = None,
        cross_attention_kwargs: dict[str, Any] | None = None,
        segmentation: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> Transformer2DModelOutput | tuple[torch.Tensor]:
        """
        Predict the noise in a batch of frames.

        Args:
            hidden_states (`torch.Tensor` of shape `[B, C, H, W]`):
                Noisy frames, any H and W.
            timestep (`torch.Tensor` of shape `[B]` or 0-d, `int` or `float`):
                Diffusion step in [0, 1000); a scalar is broadcast to the batch. Required: ``None`` raises
                ``ValueError`` because a denoiser must know the noise level.
            class_labels (`torch.LongTensor` of shape `[B]` or 0-d, or `int`, *optional*):
                Labels in ``[0, num_embeds_ada_norm]``; ``None`` uses the null label ``num_embeds_ada_norm``.
            cross_attention_kwargs (`dict`, *optional*):
                Passed to every block's attention processor; keys the processor does not take (e.g. the
                deprecated LoRA ``scale``) are accepted and ignored by diffusers with a warning.
            segmentation (`torch.Tensor` of shape `[B, S, H, W]`, *optional*):
                Spatial conditioning concatenated after ``hidden_states`` on channels; ``C + S == in_channels``.
            return_dict (`bool`, *optional*, defaults to True):
                Return a ``Transformer2DModelOutput`` instead of a tuple.

        Returns:
            ``Transformer2DModelOutput(sample)`` or ``(sample,)`` with ``sample`` of shape ``[B, out_channels, H, W]``.
        """
        # 0. validate shapes, broadcast conditioning to the batch
        self._check_inputs(hidden_states, segmentation)
        batch, _, height, width = hidden_states.shape
        timestep = self._batch_timestep(timestep, batch, hidden_states.device)
        class_labels = self._batch_class_labels(class_labels, batch, hidden_states.device)

        # 1. concatenate segmentation  [B, C, H, W] + [B, S, H, W] -> [B, C+S, H, W]
        if segmentation is not None:
            hidden_states = torch.cat([hidden_states, segmentation.to(hidden_states.dtype)], dim=1)

        # 2. pad to the patch size  [B, C+S, H, W] -> [B, C+S, H', W']
        hidden_states, size = pad_to_multiple(hidden_states, self.spatial_multiple)
        grid_h, grid_w = self.token_grid(height, width)["patch_grid"]

        # 3. patchify + sincos positions for the (h, w) grid  [B, C+S, H', W'] -> [B, h*w, D]
        hidden_states = self.pos_embed(hidden_states)

        # 4. adaLN-zero transformer blocks  [B, h*w, D] -> [B, h*w, D]
        for block in self.transformer_blocks:
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                hidden_states = self._gradient_checkpointing_func(
                    block, hidden_states, None, None, None, timestep, cross_attention_kwargs, class_labels
                )
            else:
                hidden_states = block(
                    hidden_states,
                    timestep=timestep,
                    cross_attention_kwargs=cross_attention_kwargs,
                    class_labels=class_labels,
                )

        # 5. DiT output head, modulated by block 0's embedder  [B, h*w, D] -> [B, h*w, p*p*out]
        conditioning = self.transformer_blocks[0].norm1.emb(timestep, class_labels, hidden_dtype=hidden_states.dtype)
        # [B, D] -> [B, 2*D] -> 2 x [B, D]
        shift, scale = self.proj_out_1(F.silu(conditioning)).chunk(2, dim=1)
        hidden_states = self.norm_out(hidden_states) * (1 + scale[:, None]) + shift[:, None]
        hidden_states = self.proj_out_2(hidden_states)

        # 6. unpatchify from the actual grid  [B, h*w, p*p*out] -> [B, out, H', W']
        patch = self.config.patch_size
        hidden_states = rearrange(
            hidden_states, "b (h w) (p q c) -> b c (h p) (w q)", h=grid_h, w=grid_w, p=patch, q=patch
        )

        # 7. crop the padding  [B, out, H', W'] -> [B, out, H, W]
        sample = crop_to(hidden_states, size)
        if not return_dict:
            return (sample,)
        return Transformer2DModelOutput(sample=sample)
