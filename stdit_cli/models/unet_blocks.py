"""The unet's named blocks: ResNet block, temporal convolution, the spatio-temporal layer that pairs
them, the down and up blocks, and the full-resolution head (:class:`~.unet_stic.UNetSTIC` stacks them)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.downsampling import Downsample2D
from diffusers.models.resnet import ResnetBlock2D
from diffusers.models.upsampling import Upsample2D
from einops import rearrange
from torch import nn

from .unet_attention import CrossAttention2D, TemporalSelfAttention
from .unet_fusions import _conv3d_over_time, _subtract_channel_bias, convolution_plus


class LeanResnetBlock2D(ResnetBlock2D):
    """diffusers' ``ResnetBlock2D`` (same parameters, same sums) with fewer full-size passes at inference.

    Without autograd, and in the configuration the unet uses (no resampling, ``default`` time
    embedding), three of its element-wise passes over the feature map go: the activations run in
    place, the time embedding joins ``conv1``'s bias when every row of the batch has the same one
    (every unit of a denoising step does), and the division by an ``output_scale_factor`` of 1 is
    skipped. The residual is added into a fresh tensor: in place, into ``conv2``'s output, the bf16
    add ran at half the speed (Intel Xeon with AMX, 2026-12-05). Training takes diffusers' forward
    unchanged.
    """

    def _lean(self, temb: torch.Tensor | None) -> bool:
        return (
            not torch.is_grad_enabled()
            and self.upsample is None
            and self.downsample is None
            and self.time_embedding_norm == "default"
            and isinstance(self.nonlinearity, nn.SiLU)
            # what convolution_plus hands to oneDNN: stride 1, ungrouped, zero padding
            and self.conv2.stride == (1, 1) and self.conv2.dilation == (1, 1) and self.conv2.groups == 1
            and self.conv2.padding_mode == "zeros"
            and isinstance(self.dropout, nn.Dropout)
            and (self.dropout.p == 0 or not self.training)
            and (temb is None or self.time_emb_proj is not None)
        )

    def forward(self, input_tensor: torch.Tensor, temb: torch.Tensor | None) -> torch.Tensor:
        if not self._lean(temb):
            return super().forward(input_tensor, temb)
        hidden_states = F.silu(self.norm1(input_tensor), inplace=True)
        bias = self.conv1.bias
        if temb is not None:
            # [N, temb_channels] -> [N, C]
            temb = self.time_emb_proj(temb if self.skip_time_act else F.silu(temb))
            shared = bool((temb == temb[:1]).all())
            if shared:
                bias = temb[0] if bias is None else bias + temb[0]
        hidden_states = self.conv1._conv_forward(hidden_states, self.conv1.weight, bias)
        if temb is not None and not shared:
            # [N, C] -> [N, C, 1, 1]
            hidden_states = hidden_states + temb[:, :, None, None]
        hidden_states = F.silu(self.norm2(hidden_states), inplace=True)
        shortcut = input_tensor if self.conv_shortcut is None else self.conv_shortcut(input_tensor)
        # conv2 and the residual sum in one call (a fresh tensor: the input may be a skip the up path still needs)
        hidden_states = convolution_plus(self.conv2._conv_forward, hidden_states, self.conv2.weight, self.conv2.bias,
                                         shortcut, self.conv2.padding)
        return hidden_states if self.output_scale_factor == 1 else hidden_states.div_(self.output_scale_factor)


class TemporalConv(nn.Module):
    """Residual 3-tap convolution across frames (diffusers' TemporalConvLayer without a Conv3d module).

    Each convolution is stored as a 1x1 ``Conv2d`` with ``3 * C`` outputs, the taps for frames
    t-1, t and t+1, so ``model.to(memory_format=torch.channels_last)`` works. It runs as one
    ``(3, 1, 1)`` ``F.conv3d`` over a view of the folded frames: channels_last frames are
    already a channels_last_3d video, so nothing is copied or permuted, and no ``3 * C`` tap
    tensor is materialised (half the time of 1x1 convolutions plus tap slicing, on CPU).
    """

    def __init__(self, channels: int, norm_num_groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(norm_num_groups, channels)
        self.conv1 = nn.Conv2d(channels, 3 * channels, kernel_size=1)
        self.norm2 = nn.GroupNorm(norm_num_groups, channels)
        self.conv2 = nn.Conv2d(channels, 3 * channels, kernel_size=1)
        # zero-init the last conv so a fresh layer is the identity
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    @staticmethod
    def _conv_frames(
        conv: nn.Conv2d, hidden_states: torch.Tensor, num_frames: int, residual: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``[(B T), C, H, W]`` -> ``[(B T), C, H, W]``: frame t gets the taps of t-1, t and t+1 (zero beyond
        the clip), plus ``residual`` (``[(B T), C, H, W]``) when given."""
        # [3*C, C, 1, 1] taps (t-1, t, t+1) -> [C, C, 3, 1, 1] kernel over time
        weight = rearrange(conv.weight, "(k o) i 1 1 -> o i k 1 1", k=3)
        bias_before, bias_center, bias_after = conv.bias.view(3, -1).unbind(0)
        # [(B T), C, H, W] -> [B, C, T, H, W] (a view)
        video = hidden_states.unflatten(0, (-1, num_frames)).transpose(1, 2)
        bias = bias_before + bias_center + bias_after
        if residual is None:
            video = _conv3d_over_time(video, weight, bias)
        else:
            # [(B T), C, H, W] -> [B, C, T, H, W] (a view), summed by the convolution's call
            video = convolution_plus(_conv3d_over_time, video, weight, bias,
                                     residual.unflatten(0, (-1, num_frames)).transpose(1, 2), (1, 0, 0))
        # a tap's bias only reaches frame t when the tap's frame exists: not before the first or after the last
        # (in the video's dtype: a float32 operand would make the in-place update go through float32 copies)
        _subtract_channel_bias(video[:, :, 0], bias_before.to(video.dtype))
        _subtract_channel_bias(video[:, :, -1], bias_after.to(video.dtype))
        # [B, C, T, H, W] -> [(B T), C, H, W]
        return video.transpose(1, 2).flatten(0, 1)

    def forward(self, hidden_states: torch.Tensor, num_frames: int) -> torch.Tensor:
        residual = self._conv_frames(self.conv1, F.silu(self.norm1(hidden_states), inplace=True), num_frames)
        # the second convolution and the residual sum in one call (convolution_plus)
        return self._conv_frames(self.conv2, F.silu(self.norm2(residual), inplace=True), num_frames, hidden_states)


class SpatioTemporalLayer(nn.Module):
    """ResnetBlock2D -> TemporalConv (-> cross-attention Transformer2DModel -> temporal attention)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        temb_channels: int,
        norm_num_groups: int,
        cross_attention_dim: int | None,
        attention_head_dim: int,
    ):
        super().__init__()
        self.resnet = LeanResnetBlock2D(
            in_channels=in_channels, out_channels=out_channels, temb_channels=temb_channels, groups=norm_num_groups
        )
        self.temp_conv = TemporalConv(out_channels, norm_num_groups)
        self.attention = None
        self.temp_attention = None
        if cross_attention_dim is not None:
            heads = out_channels // attention_head_dim
            # both attention layers attend to the context tokens, none to pixels
            self.attention = CrossAttention2D(out_channels, heads, attention_head_dim, cross_attention_dim, norm_num_groups)
            # self-attention across the T frames at each pixel (cost linear in H * W)
            self.temp_attention = TemporalSelfAttention(out_channels, heads, attention_head_dim, norm_num_groups)

    def forward(
        self,
        hidden_states: torch.Tensor,
        temb: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor | None,
        num_frames: int,
    ) -> torch.Tensor:
        hidden_states = self.resnet(hidden_states, temb)
        hidden_states = self.temp_conv(hidden_states, num_frames)
        if self.attention is not None:
            hidden_states = self.attention(hidden_states, context, context_mask)
            hidden_states = self.temp_attention(hidden_states, num_frames)
        return hidden_states


class DownBlockST(nn.Module):
    """Spatio-temporal layers at one resolution, then an optional strided-conv downsample."""

    def __init__(self, in_channels, out_channels, temb_channels, num_layers, norm_num_groups,
                 cross_attention_dim, attention_head_dim, add_downsample):
        super().__init__()
        self.layers = nn.ModuleList(
            SpatioTemporalLayer(in_channels if i == 0 else out_channels, out_channels, temb_channels,
                                norm_num_groups, cross_attention_dim, attention_head_dim)
            for i in range(num_layers)
        )
        self.downsampler = (
            Downsample2D(out_channels, use_conv=True, out_channels=out_channels, padding=1, name="op")
            if add_downsample else None
        )

    def forward(self, hidden_states, temb, context, context_mask, num_frames):
        """Return the block output and the skip tensors it leaves for the up path."""
        skips = []
        for layer in self.layers:
            hidden_states = layer(hidden_states, temb, context, context_mask, num_frames)
            skips.append(hidden_states)
        if self.downsampler is not None:
            hidden_states = self.downsampler(hidden_states)
            skips.append(hidden_states)
        return hidden_states, skips


class UpBlockST(nn.Module):
    """Spatio-temporal layers that each eat one skip tensor, then an optional upsample."""

    def __init__(self, in_channels, prev_output_channels, out_channels, temb_channels, num_layers,
                 norm_num_groups, cross_attention_dim, attention_head_dim, add_upsample):
        super().__init__()
        layers = []
        for i in range(num_layers):
            skip_channels = in_channels if i == num_layers - 1 else out_channels
            layer_in = prev_output_channels if i == 0 else out_channels
            layers.append(SpatioTemporalLayer(layer_in + skip_channels, out_channels, temb_channels,
                                              norm_num_groups, cross_attention_dim, attention_head_dim))
        self.layers = nn.ModuleList(layers)
        self.upsampler = Upsample2D(out_channels, use_conv=True, out_channels=out_channels) if add_upsample else None

    def forward(self, hidden_states, skips, temb, context, context_mask, num_frames):
        """Consume ``len(self.layers)`` tensors from the end of ``skips`` (the list is shortened)."""
        for layer in self.layers:
            # [N, C, h, w] + [N, Cs, h, w] -> [N, C + Cs, h, w]
            hidden_states = torch.cat([hidden_states, skips.pop()], dim=1)
            hidden_states = layer(hidden_states, temb, context, context_mask, num_frames)
        if self.upsampler is not None:
            hidden_states = self.upsampler(hidden_states)
        return hidden_states


class FullResolutionHead(nn.Module):
    """A few 3x3 convolutions at full resolution that correct the pixel-shuffled prediction.

    With ``patch_size`` p every UNet layer runs at ``1 / p`` of the resolution, so the prediction
    of each ``p x p`` block of pixels is a linear read-out of one feature vector. This head sees
    the full-resolution input and that prediction (per frame) and adds a residual:
    ``prediction + conv(silu(conv(silu(film(conv([input, prediction]))))))``, with the timestep
    embedding as a FiLM scale and shift. Its last convolution is zero-initialised, so a head added
    to a trained model leaves its output unchanged until it is trained.
    """

    def __init__(self, in_channels: int, out_channels: int, channels: int, temb_channels: int):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels + out_channels, channels, kernel_size=3, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, 2 * channels)
        self.conv_mid = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv_out = nn.Conv2d(channels, out_channels, kernel_size=3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, sample: torch.Tensor, prediction: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """``sample`` ``[N, Cin, H, W]`` and ``prediction`` ``[N, Cout, H, W]`` -> ``[N, Cout, H, W]``; ``temb`` ``[N, Ct]``."""
        # [N, Cin, H, W] + [N, Cout, H, W] -> [N, Cin + Cout, H, W]
        joined = torch.cat([sample.to(prediction.dtype), prediction], dim=1)
        # [N, Ct] -> [N, 2C] -> 2 x [N, C]
        scale, shift = self.time_emb_proj(F.silu(temb)).chunk(2, dim=1)
        if temb.device.type == "cpu" and torch.equal(temb, temb[:1].expand_as(temb)):
            # one timestep for every frame (inference): fold the FiLM into conv_in's weights and
            # bias instead of two passes over the [N, C, H, W] activations, which on a CPU cost
            # more than the convolution. (On an accelerator the comparison would make the host
            # wait for the device, and those passes are cheap there.)
            gain = 1 + scale[0]
            weight = self.conv_in.weight * gain[:, None, None, None]
            hidden = F.conv2d(joined, weight, self.conv_in.bias * gain + shift[0], padding=1)
        else:
            # [N, Cin + Cout, H, W] -> [N, C, H, W], scaled and shifted per frame
            hidden = self.conv_in(joined) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        hidden = F.silu(hidden, inplace=True)
        hidden = F.silu(self.conv_mid(hidden), inplace=True)
        return prediction + self.conv_out(hidden)
