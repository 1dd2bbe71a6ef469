"""Raw RGB frames, each stamped with its presentation time, piped into FFmpeg.

A constant-rate video's frames go to FFmpeg as bare raw video at a rate given on its command line
(`writer`). Raw video carries no timestamps, so the frames of a variable-frame-rate video
(`timeline`) are wrapped instead, frame by frame with PyAV, in a fragmented QuickTime stream (a
fragment per frame, the index up front: it streams through a pipe): each frame keeps its input
frame's time and duration, and FFmpeg (reading ``-f mov -i pipe:0`` with ``-fps_mode passthrough``
and the input's clock, ``-enc_time_base demux``) encodes them at those times. QuickTime, unlike
NUT, stores each frame's duration, so the last frame lasts as long as it did in the input. The frames
are not compressed (``rawvideo``: one copy more per frame than the bare pipe, 3.5 ms more a 1080p
frame here, 12.3 against 8.8 ms into a pipe that discards them; x264 takes far longer).
"""

from __future__ import annotations

from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np

from stdit_cli.video.timeline import FrameTimes

#: FFmpeg's input options for what :class:`TimedFramePipe` writes
INPUT_ARGS = ("-f", "mov")
#: FFmpeg's output options that keep every frame at its own time (no frames dropped or duplicated),
#: counted in the input's clock (by default the encoder counts in 1/fps, which would move frames)
OUTPUT_ARGS = ("-fps_mode", "passthrough", "-enc_time_base", "demux")


class TimedFramePipe:
    """Write RGB frames `[t, H, W, 3]` into ``pipe``, frame ``i`` at ``frame_times.pts_of(i)``.

    Args:
        pipe: a binary file FFmpeg reads (its stdin).
        width, height: frame size in pixels.
        pix_fmt: ``"rgb24"`` (uint8 frames) or ``"rgb48le"`` (uint16 frames; QuickTime stores raw
            16-bit RGB big-endian, ``rgb48be``, which PyAV converts to from the frames).
        frame_times: each frame's time (frames past its end follow its last interval).
        fps: the average frame rate, which FFmpeg hands the encoder for its rate control.

    A broken pipe (FFmpeg has exited) raises `OSError` from :meth:`write` or :meth:`close`.
    """

    def __init__(self, pipe: BinaryIO, width: int, height: int, pix_fmt: str, frame_times: FrameTimes, fps: Fraction):
        self._stored = {"rgb24": "rgb24", "rgb48le": "rgb48be"}[pix_fmt]  # what QuickTime's raw video holds
        self._times = frame_times
        self._frames_muxed = 0
        self._container = av.open(pipe, mode="w", format="mov", options={"movflags": "frag_keyframe+empty_moov"})
        self._stream = self._container.add_stream("rawvideo", rate=fps)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, self._stored
        # the encoder's clock too: at 1/fps (its default) frames closer than an average interval would collide
        self._stream.time_base = self._stream.codec_context.time_base = frame_times.time_base

    def write(self, frames: np.ndarray) -> None:
        """Append frames `[t, H, W, 3]` (uint8 for ``rgb24``, uint16 for ``rgb48le``)."""
        for rgb in frames:  # [H, W, 3]
            frame = av.VideoFrame.from_ndarray(rgb, format=self._stored)
            frame.pts = self._times.pts_of(self._frames_muxed)
            frame.time_base = self._times.time_base
            for packet in self._stream.encode(frame):  # raw video: one packet per frame, at once
                packet.duration = self._times.duration_of(self._frames_muxed)  # the encoder leaves it 0
                self._container.mux(packet)
            self._frames_muxed += 1

    def close(self) -> None:
        """Write the last fragment (the pipe itself stays open)."""
        self._container.close()
