"""What an input has that stdit's output cannot keep, said as warnings when a video opens.

Two kinds of input lose something:

- more than 8 bits per sample read as 8-bit frames (a reader asked for 8 bits; `stdit denoise`
  reads such video in 16 bits, and its writer says what it keeps: :func:`bits_lost`);
- a variable frame rate whose frame times cannot be kept (the reader's `frame_times` is None):
  frames are shown on a constant-rate timeline at the average rate, each moved by up to the
  measured deviation (the warning gives it in milliseconds); audio is copied as it was. Usable
  frame times are kept (`timeline`): no warning. Times that repeat (clips joined into one stream,
  each starting again) are said as such, and written at the constant rate.

And a display rotation that is not a multiple of 90 degrees is left as stored, video streams after
the first are not copied (the output holds the first video, its audio, its subtitles and its
container tags: subtitles an output cannot hold the writer names, `subtitles`), and an alpha
(transparency) plane is dropped.
"""

from __future__ import annotations

import numpy as np

from stdit_cli.video.orientation import NONE
from stdit_cli.video.probe import VideoInfo
from stdit_cli.video.timeline import is_variable_rate, timeline_deviation_s


class VideoWarning(UserWarning):
    """A readable video with something the output cannot keep (bit depth, variable frame rate)."""


def _fewer_bits(info: VideoInfo, what: str) -> str:
    """``yuv420p10le has 10 bits per sample; <what>``, and for HDR video that its look is kept but may band."""
    hdr = ""
    if info.hdr_transfer is not None:
        name = "HLG" if info.hdr_transfer == "arib-std-b67" else "PQ"
        hdr = f" ({name} HDR kept, BT.2020; smooth gradients may band)"
    return f"{info.pix_fmt} has {info.bits_per_sample} bits per sample; {what}{hdr}"


def bits_lost(info: VideoInfo, output_bits: int, output_kind: str) -> str | None:
    """The line to warn when an output of ``output_bits`` bits per sample (``output_kind``: "an 8-bit
    image", "10-bit HEVC" ...) keeps fewer than the source has; None when it keeps them all."""
    if info.bits_per_sample <= output_bits:
        return None
    return _fewer_bits(info, f"the output is {output_kind}")


def what_is_lost(info: VideoInfo, frame_times_s: np.ndarray | None, bit_depth: int = 8) -> list[str]:
    """One line per property of the video that frames read at ``bit_depth`` (8 or 16) cannot keep;
    ``frame_times_s``: the frame times a constant-rate output would lose (None: none lost)."""
    messages = []
    if bit_depth == 8 and info.bits_per_sample > 8:
        messages.append(_fewer_bits(info, "it is read as 8-bit RGB"))
    if info.orientation == NONE and abs(info.rotation_deg) >= 1:
        messages.append(
            f"display rotation of {info.rotation_deg:g} degrees is not a multiple of 90; frames are kept as stored"
        )
    if info.has_alpha:
        stored = f"its {info.codec.upper()} alpha channel" if info.alpha_side_channel else f"{info.pix_fmt} has an alpha plane"
        messages.append(f"{stored} (transparency), which is not kept: the output is opaque")
    if info.heif_tiles:
        from stdit_cli.video.heif import pillow_reads_heif

        if not pillow_reads_heif():
            messages.append('its colour profile (a phone\'s Display P3) and EXIF are not kept: install pillow-heif '
                            '(pip install "stdit-cli[heic]") to keep them')  # fmt: skip
    if info.pages > 1:
        messages.append(f"a TIFF of {info.pages} pages: only the first is denoised and written (split the pages "
                        f"into a folder of pictures to denoise them all)")  # fmt: skip
    if info.other_video_streams:
        count = info.other_video_streams
        messages.append(f"{count} more video stream{'s' if count > 1 else ''} besides the first: only the first is "
                        f"denoised and written (ffmpeg -map 0:v:1 extracts another to denoise on its own)")  # fmt: skip
    rate = f"{float(info.fps):.4g} fps"
    if frame_times_s is not None and len(np.unique(frame_times_s)) < len(frame_times_s):
        # clips joined into one stream (a .ts recording resumed, segments concatenated): each part's
        # times start again, so no one timeline holds them
        messages.append(f"its timestamps start again part-way (clips joined into one stream): the output is a "
                        f"constant {rate} with the same frames")  # fmt: skip
    elif is_variable_rate(frame_times_s, info.fps):
        deviation_s = timeline_deviation_s(frame_times_s, info.fps)
        messages.append(
            f"variable frame rate: frames are up to {deviation_s * 1000:.0f} ms away from a constant {rate}; "
            f"the output is a constant {rate} with the same frames and total duration, so frames are "
            f"shown up to {deviation_s * 1000:.0f} ms earlier or later than in the input"
        )
    return messages
