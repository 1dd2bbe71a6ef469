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

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.downsampling import Downsample2D
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.resnet import ResnetBlock2D
from diffusers.models.upsampling import Upsample2D
from diffusers.utils import BaseOutput
from einops import rearrange
from torch import nn

from .shapes import check_shape, crop_to, pad_to_multiple
from .unet_attention import CrossAttention2D, TemporalSelfAttention

DOWN_BLOCK_TYPES = ("DownBlockST", "CrossAttnDownBlockST")
UP_BLOCK_TYPES = ("UpBlockST", "CrossAttnUpBlockST")


@dataclass
class UNetSTICOutput(BaseOutput):
    """Output of :class:`UNetSTIC`: ``sample`` is ``[B, out_channels, T, H, W]``."""

    sample: torch.Tensor


def _conv3d_over_time(video: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``F.conv3d`` of ``[B, C, T, H, W]`` with a ``[C, C, 3, 1, 1]`` kernel, one zero frame of padding each side.

    In fp32 on a CPU, PyTorch hands a batch-1 convolution whose ``N*C*T*H`` is at most 20480 to its
    im2col fallback (``slow_conv3d``), not to oneDNN: the unet's lower levels at inference (854x480,
    5 frames: 60 or 30 rows of 32-96 channels). That fallback is 2-8x slower there and returns a
    non-channels_last output that slows what follows, so inference in fp32 calls oneDNN directly
    (the same sums, to 4e-6). Training (batches > 1, autograd) and bf16 autocast already get oneDNN.
    """
    if (
        video.device.type == "cpu"
        and video.dtype == torch.float32
        and not torch.is_grad_enabled()
        and not torch.is_autocast_enabled("cpu")
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
    ):
        return torch.mkldnn_convolution(video, weight, bias, (1, 0, 0), (1, 1, 1), (1, 1, 1), 1)
    return F.conv3d(video, weight, bias, padding=(1, 0, 0))


#: False once oneDNN refused the fused call on this machine (a build without it): the two calls from then on
_fused_residual_ok = True


def _fuses_residual(inputs: torch.Tensor, residual: torch.Tensor) -> bool:
    """Whether :func:`convolution_plus` can hand ``conv(inputs) + residual`` to oneDNN as one call.

    CPU inference (no autograd) with oneDNN on, ``inputs`` and ``residual`` in the channels-last
    layout the unet runs in, ``residual`` of the (same-padded) output's full size. The fused call
    is the one PyTorch's own compiler emits for a convolution followed by an add
    (``mkldnn::_convolution_pointwise``).
    """
    layout = torch.channels_last if inputs.dim() == 4 else torch.channels_last_3d
    return (
        _fused_residual_ok
        # the output's full shape: a broadcast operand runs oneDNN's reference code (_onednn_convolution_add)
        and residual.shape[:1] + residual.shape[2:] == inputs.shape[:1] + inputs.shape[2:]
        and inputs.device.type == "cpu"
        and not torch.is_grad_enabled()
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
        and inputs.is_contiguous(memory_format=layout)
        and residual.is_contiguous(memory_format=layout)
    )


def _onednn_convolution_add(
    inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, residual: torch.Tensor,
    padding: tuple[int, ...],
) -> torch.Tensor:  # fmt: skip
    """oneDNN's stride-1, ungrouped convolution with a binary ``add`` post-op: ``conv(inputs) + residual``.

    ``residual`` must have the output's shape: a broadcast operand (a per-frame bias
    ``[1, C, T, 1, 1]`` instead of the temporal convolution's end-frame corrections) is accepted
    but runs oneDNN's reference code: a 640x272 window took 17 s instead of 0.44 (2026-12-05).
    """
    ones = [1] * (inputs.dim() - 2)
    return torch.ops.mkldnn._convolution_pointwise.binary(
        inputs, residual, weight, bias, list(padding), ones, ones, 1, "add", None, None, [], None
    )


def convolution_plus(
    convolve: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
    inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, residual: torch.Tensor,
    padding: tuple[int, ...],
) -> torch.Tensor:  # fmt: skip
    """``convolve(inputs, weight, bias) + residual`` for a stride-1, ungrouped 2-D or 3-D ``convolve`` with
    zero ``padding``, in one pass over the output where it can.

    At CPU inference the sum is oneDNN's post-op on the convolution (:func:`_fuses_residual`):
    the output is written once instead of written, read back and written again. At the unet's
    top level at 640x272 in bf16 that is 7.6 -> 5.6 ms per ResNet block and 6.1 -> 3.9 ms per
    temporal convolution (Intel Xeon with AMX, 2026-12-05). The sum is taken before rounding to
    bf16, not after: within one bf16 step of the two-call result. Elsewhere, the two calls.
    """
    # what autocast would run the convolution in; the residual must hold that dtype already (else the
    # two-call sum would promote)
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else inputs.dtype
    if residual.dtype != dtype or not _fuses_residual(inputs, residual):
        # the residual first: the sum takes its layout
        return residual + convolve(inputs, weight, bias)
    global _fused_residual_ok
    try:
        out = _onednn_convolution_add(inputs.to(dtype), weight.to(dtype), None if bias is None else bias.to(dtype),
                                      residual, padding)
    except RuntimeError:  # a PyTorch build without this kernel (e.g. some Arm builds; a missing kernel is a RuntimeError subclass)
        _fused_residual_ok = False
        return residual + convolve(inputs, weight, bias)
    # oneDNN picks the output's layout itself where the input's is ambiguous (one frame, one row)
    layout = torch.channels_last if inputs.dim() == 4 else torch.channels_last_3d
    return out if out.is_contiguous(memory_format=layout) else out.contiguous(memory_format=layout)


def _subtract_channel_bias(frames: torch.Tensor, bias: torch.Tensor) -> None:
    """``frames -= bias[:, None, None]`` in place, for ``[B, C, H, W]`` frames and a ``[C]`` bias.

    On channels_last frames the subtraction runs over ``[B, H, W * C]`` rows with the bias tiled
    ``W`` times: broadcasting a ``[C, 1, 1]`` operand along a 16-channel innermost dimension is
    7x slower on a CPU (bf16, the unet's top level at 640x272).
    """
    # [B, C, H, W] -> [B, H, W, C]: a view; contiguous in its last two dimensions when channels_last
    pixels = frames.permute(0, 2, 3, 1)
    if pixels.stride(3) == 1 and pixels.stride(2) == pixels.shape[3]:
        # [B, H, W, C] -> [B, H, W * C] (a view, so the update lands in ``frames``)
        pixels.flatten(2).sub_(bias.repeat(pixels.shape[2]))
    else:
        frames.sub_(bias[:, None, None])


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
