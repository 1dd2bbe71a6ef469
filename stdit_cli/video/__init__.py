"""Video in and out of the denoiser: probing, decoding and encoding RGB frames.

Frames are numpy uint8 RGB arrays `[t, H, W, 3]` (uint16 for video of more than 8 bits per
sample); nothing here knows about torch.

- `probe`: `probe_video` → `VideoInfo` (size, exact frame rate, frame count, orientation from the
  container), `VideoError`, and the PyAV helpers the reader and the writer share.
- `orientation`: display matrices (phone rotation) applied the way FFmpeg's autorotate does.
- `caveats`: what the output cannot keep (bit depth read as 8 bits, subtitles, alpha ...), said as
  `VideoWarning`s.
- `heif`: HEIF/AVIF photos (an iPhone's tiled HEIC) read whole and upright through FFmpeg.
- `packets`: which of a stream's packets are frames (no edit-list pre-roll, no cut GOP's head),
  and whether seeks land where asked (MPEG-TS does not).
- `timeline`: `FrameTimes`, a variable-frame-rate video's frame times, which the output keeps;
  `timed_pipe`: the frames stamped with them on their way to FFmpeg.
- `reader`: `VideoReader` (decord by default, PyAV fallback), `decord_available`,
  `cheap_frame_sample` (frames spread over a video that decode without long seeks).
- `writer`: `VideoWriter` (FFmpeg, exact fractional rates, audio and tags copied, atomic rename),
  `open_writer` (a video, or for an image extension one frame as a picture, or a frame folder).
- `encoding`: the output's codec, pixel format and colour tags (H.264; HEVC Main 10 for deep video).
- `output_paths`: `default_output_path`, `resolve_output_path`, `OutputExistsError`.
- `image_writer`: `ImageWriter` (a one-frame input written back as a PNG, JPEG... atomically).
- `frame_folder`: a folder of numbered pictures read as a video, and written back as one.
- `depth`: video of more than 8 bits per sample (read as uint16), and its 8-bit view.
- `deep_image`: 16-bit PNG and TIFF written back in 16 bits, metadata included.
- `atomic`: `PublishOnSuccess`, the writers' context manager (publish on success, else abort).
- `fields`: interlaced frames to fields in time order and back.

Imports point one way: orientation ← probe ← caveats ← reader; probe, atomic ← image_writer ←
frame_folder ← output_paths, reader, writer; encoding, output_paths ← writer.
Import from here (`from stdit_cli.video import VideoReader`); the split is only for file size.
"""

from stdit_cli.video.caveats import VideoWarning
from stdit_cli.video.probe import VideoError, VideoInfo, probe_video
from stdit_cli.video.reader import VideoReader, cheap_frame_sample, decord_available
from stdit_cli.video.output_paths import OUTPUT_SUFFIXES, OutputExistsError, default_output_path, resolve_output_path
from stdit_cli.video.writer import VideoWriter, open_writer

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
    "open_writer",
    "probe_video",
    "resolve_output_path",
]
