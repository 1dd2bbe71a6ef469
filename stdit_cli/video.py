"""Video in and out of the denoiser: the public façade over `video_reader` and `video_writer`.

Frames are numpy uint8 RGB arrays `[t, H, W, 3]`; nothing here knows about torch.

- `video_reader`: `probe_video`, `VideoReader` (decord by default, PyAV fallback), `VideoError`,
  `VideoWarning` (what an 8-bit constant-rate output cannot keep: bit depth, variable frame rate),
  `cheap_frame_sample` (frames spread over a video that decode without long seeks).
- `video_orientation`: display matrices (phone rotation) applied the way FFmpeg's autorotate does.
- `video_caveats`: what an 8-bit, constant-rate output cannot keep (said as `VideoWarning`s).
- `video_writer`: `VideoWriter` (FFmpeg, exact fractional rates, audio copy, atomic rename),
  `default_output_path`, `resolve_output_path`, `OutputExistsError`.

Import from here (`from stdit_cli.video import VideoReader`); the split is only for file size.
"""

from stdit_cli.video_reader import (
    VideoError,
    VideoInfo,
    VideoReader,
    VideoWarning,
    cheap_frame_sample,
    decord_available,
    probe_video,
)
from stdit_cli.video_writer import (
    OUTPUT_SUFFIXES,
    OutputExistsError,
    VideoWriter,
    default_output_path,
    resolve_output_path,
)

__all__ = [
    "OUTPUT_SUFFIXES",
    "OutputExistsError",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "VideoWarning",
    "cheap_frame_sample",
    "VideoWriter",
    "decord_available",
    "default_output_path",
    "probe_video",
    "resolve_output_path",
]
