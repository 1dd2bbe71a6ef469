"""CPU-inference fast paths of the unet's convolutions: oneDNN calls that PyTorch's eager mode does
not make by itself, each with the plain PyTorch call as its fallback (same sums).

- :func:`_conv3d_over_time`: the 3-tap temporal convolution through oneDNN where PyTorch would
  pick its im2col fallback;
- :func:`convolution_plus`: ``conv(x) + residual`` as one oneDNN call with an ``add`` post-op;
- :func:`_subtract_channel_bias`: a per-channel bias taken off channels-last frames in one pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


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


#: dtypes oneDNN refused the fused call in on this machine (a build without it; fp16 on a CPU
#: without fp16 kernels): the two calls for those from then on, the fused one for the others
_fused_residual_refused: set[torch.dtype] = set()


def _fuses_residual(inputs: torch.Tensor, residual: torch.Tensor) -> bool:
    """Whether :func:`convolution_plus` can hand ``conv(inputs) + residual`` to oneDNN as one call.

    CPU inference (no autograd) with oneDNN on, ``inputs`` and ``residual`` in the channels-last
    layout the unet runs in, ``residual`` of the (same-padded) output's full size. The fused call
    is the one PyTorch's own compiler emits for a convolution followed by an add
    (``mkldnn::_convolution_pointwise``).
    """
    layout = torch.channels_last if inputs.dim() == 4 else torch.channels_last_3d
    return (
        # the output's full shape: a broadcast operand runs oneDNN's reference code (_onednn_convolution_add)
        residual.shape[:1] + residual.shape[2:] == inputs.shape[:1] + inputs.shape[2:]
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
    if residual.dtype != dtype or dtype in _fused_residual_refused or not _fuses_residual(inputs, residual):
        # the residual first: the sum takes its layout
        return residual + convolve(inputs, weight, bias)
    try:
        out = _onednn_convolution_add(inputs.to(dtype), weight.to(dtype), None if bias is None else bias.to(dtype),
                                      residual, padding)
    except RuntimeError:  # a PyTorch build without this kernel (e.g. some Arm builds; a missing kernel is a RuntimeError subclass)
        _fused_residual_refused.add(dtype)
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
