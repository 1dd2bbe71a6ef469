"""Encode RGB frames with FFmpeg, copy the source's audio, subtitles and tags, and publish the file atomically.

Frames are piped as raw RGB into the FFmpeg binary that ships with imageio-ffmpeg, with the frame
rate passed as a fraction (`-framerate 30000/1001`), so fractional rates are kept exactly. A
variable-frame-rate video's frames (`frame_times`, `timeline`) go in fragmented QuickTime instead,
each stamped with its input frame's time (`timed_pipe`), and are encoded at those times.

Output containers: .mp4, .m4v, .mov and .mkv (an image extension, `.png` or `.jpg` say, writes one
frame as a picture instead: `stdit_cli.video.image_writer`, chosen by :func:`open_writer`). The
codec, pixel format and colour tags: `encoding` (H.264 8-bit, HEVC Main 10 for 16-bit frames,
lossless RGB, interlaced fields, HDR). Output paths: `output_paths`.

Audio: every audio stream of `audio_source` is stream-copied, and its subtitle streams as the
output container stores subtitles (`subtitles`). The video is encoded first into a temporary file,
then muxed with the audio and subtitles in a second, copy-only FFmpeg pass (without the subtitles,
said, if FFmpeg refuses them); if the container
refuses the audio codec (Vorbis in .mp4, for one), that pass is rerun re-encoding the audio as
AAC. In .mp4/.m4v, codecs players rarely accept there (PCM, which FFmpeg 7 would copy) go to AAC
directly, and so do codecs a .mov has no tag for (Windows Media Audio, which FFmpeg would copy in
untagged). No `-shortest`: the output keeps the full length of both video and audio, as the source
had them, and the video starts as late after the audio as it did in the source (`-itsoffset`).

Metadata: the container tags of `metadata_source` (`stdit denoise` gives the input) are copied:
creation time, title, a phone's location, make and model (in .mp4/.m4v/.mov as `mdta` keys too,
`-movflags use_metadata_tags`, where Apple's `com.apple.quicktime.*` keys live), so a photo library
files the output with the original. The creation time there goes into the movie and track headers
only (`mp4_times`): as an `mdta` key as well, FFmpeg would read it back as two times joined by `;`,
which a later remux that keeps the tags (`-map_metadata 0`) cannot parse and drops. Stream-level side data (a display matrix: the frames are
already upright) is not copied. A camera file's timecode (`timecode`, `VideoInfo.timecode`) is
set on the video stream, which MP4/MOV store as a QuickTime `tmcd` track and Matroska as a tag.

Atomicity: FFmpeg writes `.<stem>.stdit-tmp-XXXXXXXX<ext>` in the target folder (same file
system, the extension picks the muxer), renamed into place with `os.replace` only when everything
succeeded. Any exception, KeyboardInterrupt included, kills FFmpeg and removes the temporary files.
A full disk or a file size limit (`ulimit -f`) is reported as such, in one line.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import tempfile
import warnings
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

from stdit_cli.batch.interrupts import shielded
from stdit_cli.video.atomic import PublishOnSuccess, publish, temporary_name
from stdit_cli.video.caveats import VideoWarning
from stdit_cli.video.encoding import BIT_DEPTHS, MP4_LIKE, stored_format, video_codec_args, with_pixel_shape
from stdit_cli.video.frame_folder import FrameFolderWriter
from stdit_cli.video.mp4_times import Mp4LayoutError, parse_creation_time, set_creation_time
from stdit_cli.video.image_writer import ImageWriter, is_image_path
from stdit_cli.video.output_paths import (  # noqa: F401 (re-exported: the writer's paths)
    OUTPUT_SUFFIXES,
    VIDEO_SUFFIXES,
    OutputExistsError,
    default_output_path,
    resolve_output_path,
    unsupported_suffix,
)
from stdit_cli.video.packets import first_shown_pts
from stdit_cli.video.probe import VideoError, _open_container, _video_stream, ffmpeg_path
from stdit_cli.video.subtitles import SubtitlePlan, not_kept_message, plan_subtitles
from stdit_cli.video.timed_pipe import INPUT_ARGS as TIMED_INPUT
from stdit_cli.video.timed_pipe import OUTPUT_ARGS as TIMED_OUTPUT
from stdit_cli.video.timed_pipe import TimedFramePipe
from stdit_cli.video.timeline import FrameTimes

_MP4_PLAYABLE_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}  # copied as they are
#: QuickTime's own audio besides those (PCM in every layout, and the codecs it has sample entries for);
#: anything else FFmpeg would copy into a .mov under no codec tag at all ("none": Windows Media Audio)
#: (FFmpeg's .mov muxer refuses FLAC and Opus, which its .mp4 one takes)
_MOV_PLAYABLE_AUDIO = (_MP4_PLAYABLE_AUDIO - {"opus", "flac"}) | {"mp2", "adpcm_ima_qt", "pcm_alaw", "pcm_mulaw", "amr_nb", "amr_wb", "gsm"}


def _copies_playably(suffix: str, codecs: list[str]) -> bool:
    """Whether every audio codec in ``codecs`` can be stream-copied into a ``suffix`` file that
    players read. MKV takes anything, and containers that refuse a codec say so (then AAC)."""
    if suffix in (".mp4", ".m4v"):  # FFmpeg would copy PCM into .mp4, which most players refuse
        return set(codecs) <= _MP4_PLAYABLE_AUDIO
    if suffix == ".mov":
        return all(codec in _MOV_PLAYABLE_AUDIO or codec.startswith("pcm_") for codec in codecs)
    return True


#: container tags that describe the source file, not its content: not copied
_FILE_TAGS = ("major_brand", "minor_version", "compatible_brands", "encoder")


def _copied_metadata(input_index: int, suffix: str, creation_time: datetime | None) -> list[str]:
    """FFmpeg options that copy the container tags of input ``input_index`` but the file's own.

    The creation time: in an .mp4/.m4v/.mov not as a tag (`mp4_times` sets it in the headers
    after FFmpeg); elsewhere ``creation_time`` as parsed, one time even where the source held two.
    """
    options = ["-map_metadata", str(input_index), *(arg for tag in _FILE_TAGS for arg in ("-metadata", f"{tag}="))]
    if suffix in MP4_LIKE:
        return [*options, "-metadata", "creation_time="]
    if creation_time is not None:
        options += ["-metadata", f"creation_time={creation_time.isoformat().replace('+00:00', 'Z')}"]
    return options


def _creation_time(source: Path) -> datetime | None:
    """The container creation time of ``source``, None when it has none (or none that parses)."""
    try:
        with _open_container(source) as container:
            return parse_creation_time(container.metadata.get("creation_time", ""))
    except (VideoError, OSError):
        return None


#: the video stream's own tags the output takes from the source's (not its encoder, times or layout)
VIDEO_STREAM_TAGS = ("language", "title", "handler_name")


def _video_stream_options(source: Path) -> list[str]:
    """FFmpeg options giving the output's video stream the source video stream's language, title and
    handler name, and its default flag (the encode's own stream has none of them)."""
    try:
        with _open_container(source) as container:
            stream = _video_stream(container, source)
            tags = {key: str(value) for key, value in stream.metadata.items() if key in VIDEO_STREAM_TAGS and str(value).strip()}
            if "title" not in tags and str(stream.metadata.get("name", "")).strip():  # FFmpeg reads an MP4 track's title as "name"
                tags["title"] = str(stream.metadata["name"])
            default = bool(stream.disposition & av.stream.Disposition.default)
    except (VideoError, OSError, AttributeError):
        return []
    options = [arg for key, value in tags.items() for arg in ("-metadata:s:v:0", f"{key}={value}")]
    return options + (["-disposition:v:0", "default"] if default else [])


def _movflags(suffix: str, faststart: bool, tags: bool) -> list[str]:
    """``-movflags`` for an .mp4/.m4v/.mov output: the index first (``faststart``, on the pass that
    writes the container), and any container tag, Apple's keys included, as an ``mdta`` key."""
    flags = ("+faststart" if faststart else "") + ("+use_metadata_tags" if tags else "")
    return ["-movflags", flags] if flags and suffix in MP4_LIKE else []


def _audio_start_offset_s(source: Path) -> float:
    """How long after the start of `source` its video begins (FFmpeg rebases inputs to 0)."""
    with _open_container(source) as container:
        if container.start_time is None:
            return 0.0
        try:
            video = _video_stream(container, source)
        except VideoError:
            return 0.0
        start = first_shown_pts(container, video)
        if start is None:
            return 0.0
        video_start_s = float(start * video.time_base)
        return max(0.0, video_start_s - container.start_time / av.time_base)


def _stream_codecs(source: Path) -> tuple[list[str], list[str], list[int]]:
    """The codecs of the audio streams and of the subtitle streams of ``source``, in its order, by
    their codec names (``mp3``, ``amr_nb``, ``dvd_subtitle``), not their decoders' (``mp3float``),
    and each audio stream's channel count."""
    with _open_container(source) as container:
        return ([stream.codec_context.codec.canonical_name for stream in container.streams.audio],
                [stream.codec_context.codec.canonical_name for stream in container.streams.subtitles],
                [int(stream.codec_context.channels or 0) for stream in container.streams.audio])  # fmt: skip


def _audio_rates(path: Path) -> list[int]:
    """Each audio stream's sample rate in ``path``, in its order (0 where unknown); [] if unreadable."""
    try:
        with _open_container(path) as container:
            return [int(stream.codec_context.sample_rate or 0) for stream in container.streams.audio]
    except (VideoError, av.FFmpegError):
        return []


def _resampled(source_rates: list[int], output_rates: list[int], converted: list[bool]) -> str:
    """", resampled from 192 to 96 kHz" for the re-encoded tracks whose rate the encoder changed
    (AAC holds 96 kHz at most), else ""."""
    if len(source_rates) != len(output_rates):
        return ""
    changes = sorted({(before, after) for before, after, changed in zip(source_rates, output_rates, converted, strict=True)
                      if changed and before and after and before != after})  # fmt: skip
    return "".join(f", resampled from {before / 1000:g} to {after / 1000:g} kHz" for before, after in changes)


#: the most channels FFmpeg's AAC encoder takes (7.1)
AAC_MAX_CHANNELS = 8


def _audio_minus_video_s(path: Path) -> float | None:
    """How long after the first video frame of ``path`` a decoder gives its first audio frame
    starts (negative: before); None without audio, timestamps or decodable frames."""
    starts = []
    try:
        for kind in ("video", "audio"):
            # the container opened afresh for each: a seek to 0 in Matroska lands on the first video
            # keyframe's cluster, past any audio before it
            with _open_container(path) as container:
                if not container.streams.audio:
                    return None
                stream = _video_stream(container, path) if kind == "video" else container.streams.audio[0]
                # the first frame decoded: a recording cut mid-GOP starts with packets that give none
                frame = next((f for f in container.decode(stream) if f.pts is not None), None)
                if frame is None:
                    return None
                starts.append(float(frame.pts * stream.time_base))
    except (VideoError, av.FFmpegError):
        return None
    video_start_s, audio_start_s = starts
    return audio_start_s - video_start_s


#: audio and video starts further apart than the source's by more than this are put back (lip sync
#: errors below about 45 ms go unnoticed; an AAC encoder's priming moves a copy by up to 21 ms)
SYNC_TOLERANCE_S = 0.045


def _strip_log_prefix(line: str) -> str:
    """`[out#0/mp4 @ 0x5563] [enc:libx264 @ 0x55] message` -> `message`."""
    return re.sub(r"^(\[[^\]]* @ 0x[0-9a-f]+\] )+", "", line.strip())


def _exit_status(returncode: int | None) -> str:
    """`exited with status 1`, or `was killed by SIGKILL` for a negative status."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"ffmpeg was killed by {name}"
    return f"ffmpeg exited with status {returncode}"


#: FFmpeg's exit status on a full disk: AVERROR(ENOSPC) = -28, as a process status
NO_SPACE_STATUS = -errno.ENOSPC & 0xFF


def _no_room_cause(stderr_text: str, returncode: int | None) -> str | None:
    """The cause when the output did not fit: a full disk, or the file size limit (`ulimit -f`:
    FFmpeg gets EFBIG, or is killed by SIGXFSZ, which Python restores to its default in children)."""
    # FFmpeg exits with AVERROR(ENOSPC) & 0xff = 228 when its own log had no room to say it either
    if "No space left on device" in stderr_text or returncode == NO_SPACE_STATUS:
        return "no space left on device (the partial output was removed)"
    file_size_signal = getattr(signal, "SIGXFSZ", None)  # POSIX only
    if "File too large" in stderr_text or (file_size_signal is not None and returncode == -file_size_signal):
        return "the file size limit was reached (ulimit -f; the partial output was removed)"
    return None


def _ffmpeg_quiet() -> list[str]:
    """The FFmpeg binary and options shared by every call: errors only, overwrite our temp file."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    return [exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]


class VideoWriter(PublishOnSuccess):
    """Write RGB frames `[t, H, W, 3]` (uint8, or uint16 with ``bit_depth=16``) to a video file,
    atomically, as a context manager.

    Args:
        path: the output file; .mp4, .m4v, .mov or .mkv (:func:`open_writer` also takes images).
        width, height: frame size in pixels, kept exactly (odd sizes included, see module doc).
        fps: exact frame rate, a `Fraction` or int (floats are refused: 29.97 is not 30000/1001).
        audio_source: a file whose audio streams are copied into the output; None, or a file
            without audio, gives a silent output.
        lossless: bit-exact RGB (libx264rgb in .mp4/.m4v/.mov, FFV1 in .mkv). Default False.
        crf: libx264 quality when not lossless, 0..51, lower is better. Default 16.
        preset: libx264 speed/size preset. Default "medium".
        full_chroma: when not lossless, keep colour at full resolution (``yuv444p``, for a source
            stored in RGB or 4:4:4) instead of ``yuv420p``. Default False.
        hdr_transfer: the frames are an HDR signal in BT.2020 with this transfer (``"arib-std-b67"``
            HLG, ``"smpte2084"`` PQ; `VideoInfo.hdr_transfer`): written and tagged as such. Default
            None: SDR, BT.709.
        metadata_source: a file whose container tags (creation time, location, title ...) the
            output takes; None: none.
        field_order: ``"tff"`` or ``"bff"``: the frames are interlaced (woven fields, `fields`), and
            are stored and flagged so (x264's interlaced mode), with that field first; None:
            progressive.
        bit_depth: 8 (default): uint8 frames, an 8-bit output; 16: uint16 frames (0..65535), a
            10-bit output (lossless: 16-bit FFV1, 12-bit HEVC); see the module docstring.
        timecode: the SMPTE timecode of the first frame ("01:02:03:04"; `VideoInfo.timecode`),
            stored with the video; None: none.
        hdr10: HDR10 static metadata in x265's words (`VideoInfo.hdr10_metadata`), kept in a
            10-bit HEVC output (lossless: 12-bit HEVC, in .mkv too, where FFV1 could not hold it); None: none.
        frame_times: each frame's presentation time (a variable-frame-rate source's,
            `VideoReader.frame_times`): frame ``i`` is shown at ``frame_times.pts_of(i)`` and ``fps``
            is only the average; None (default): frames at a constant ``fps``.
        sample_aspect_ratio: the pixels' shape, width over height, where they are not square
            (`VideoInfo.sample_aspect_ratio`: DV, DVD, anamorphic video), written into the stream
            and the container so the output is shown at the input's shape; None: square.
        half_width_chroma: when not lossless and not ``full_chroma``, keep colour at half width and full
            height (``yuv422p``, for a 4:2:2 source: ProRes 422, a camera's 4:2:2 10-bit) instead of
            ``yuv420p``. Default False.
        sd_colour: (matrix, primaries, transfer) of an SD source tagged with a BT.601 matrix
            (`VideoInfo.sd_colour`): the output is converted and tagged so; None: BT.709.

    The output appears only when the `with` block ends without an exception (or on `close()`).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        width: int,
        height: int,
        fps: Fraction | int,
        audio_source: str | os.PathLike | None = None,
        lossless: bool = False,
        crf: int = 16,
        preset: str = "medium",
        full_chroma: bool = False,
        hdr_transfer: str | None = None,
        metadata_source: str | os.PathLike | None = None,
        field_order: str | None = None,
        bit_depth: int = 8,
        timecode: str | None = None,
        hdr10: str | None = None,
        frame_times: FrameTimes | None = None,
        sample_aspect_ratio: Fraction | None = None,
        half_width_chroma: bool = False,
        sd_colour: tuple[str, str, str] | None = None,
    ):
        self.path = Path(path)
        #: an output already there was checked as one to replace (``--overwrite``); any other that
        #: appears meanwhile (another run writing this path) is never replaced (`atomic.publish`)
        self._replaces = self.path.exists()
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise unsupported_suffix(self.path)
        if isinstance(fps, float) or not isinstance(fps, (Fraction, int)):
            raise TypeError(f"fps must be a Fraction or int, got {fps!r}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf}")
        if bit_depth not in BIT_DEPTHS:
            raise ValueError(f"bit_depth must be one of {BIT_DEPTHS}, got {bit_depth!r}")
        self.bit_depth = bit_depth
        self._dtype = np.uint8 if bit_depth == 8 else np.uint16
        #: bits per sample the file stores, and what it is in words (the caveat when a source has more)
        self.stored_bits, self.stored_as = stored_format(suffix, lossless, bit_depth, field_order, hdr10)
        self.width, self.height, self.fps = int(width), int(height), Fraction(fps)
        self.lossless = bool(lossless)  # whether the file stores the frames bit-exactly
        self.frames_written = 0
        self._audio_source = Path(audio_source) if audio_source is not None else None
        self._audio_codecs, subtitle_codecs, channels = ([], [], []) if self._audio_source is None else _stream_codecs(self._audio_source)
        # audio this container cannot copy and AAC cannot hold: said before any frame is denoised
        for codec, count in zip(self._audio_codecs, channels, strict=True):
            if count > AAC_MAX_CHANNELS and not _copies_playably(suffix, [codec]):
                raise VideoError(f"{self.path}: the input's {codec} audio has {count} channels, which a {suffix} file holds only "
                                 f"as AAC, and AAC holds {AAC_MAX_CHANNELS} at most: write a .mov or .mkv output instead")  # fmt: skip
        #: the source's subtitle streams this container keeps (copied, or converted between text formats)
        self._subtitles: SubtitlePlan = plan_subtitles(subtitle_codecs, suffix)
        self._subtitle_codecs = subtitle_codecs
        if self._subtitles.dropped:
            warnings.warn(f"{self._audio_source}: " + not_kept_message(self._subtitles.dropped, f"a {suffix} file cannot hold "
                          f"{'them' if len(self._subtitles.dropped) > 1 else 'it'} (a .mkv output keeps every kind)"), VideoWarning, stacklevel=2)  # fmt: skip
        # audio and subtitles are added in a second pass, beside the encoded video
        self._with_audio = len(self._audio_codecs) > 0 or bool(self._subtitles.kept)
        self._metadata_source = Path(metadata_source) if metadata_source is not None else None
        # the last pass copies the source's tags when it reads the metadata source (see _mux_audio)
        copies_tags = self._metadata_source is not None and (not self._with_audio or self._metadata_source == self._audio_source)
        #: the source's creation time (MP4/MOV: set in the headers once FFmpeg is done, not copied as a tag)
        self._creation_time = _creation_time(self._metadata_source) if copies_tags else None
        self._video_stream_tags = _video_stream_options(self._metadata_source) if copies_tags else []
        # on the video stream, which the audio pass copies: MP4/MOV make it a `tmcd` track each time
        self._timecode = [] if timecode is None else ["-metadata:s:v:0", f"timecode={timecode}"]
        self._frame_times = frame_times
        self._timed_pipe: TimedFramePipe | None = None  # frames with their times, when frame_times is given
        self._process = None
        self._temp_paths: list[Path] = []
        self._stderr = None
        self._closed = False
        try:
            codec_args = video_codec_args(suffix, self.width, self.height, lossless, crf, preset, full_chroma,
                                          hdr_transfer, field_order, bit_depth, hdr10, half_width_chroma, sd_colour)  # fmt: skip
            self._start_encoder(suffix, with_pixel_shape(codec_args, sample_aspect_ratio))
        except BaseException:  # an interrupt included: no temporary file, no orphan FFmpeg
            self.abort()
            raise

    def _start_encoder(self, suffix: str, codec_args: list[str]) -> None:
        """Create the temporary file and start FFmpeg encoding piped frames into it."""
        self._video_path = self._new_temp_path()
        # the last pass writes the container: this one unless the audio is muxed in after it
        last_pass = not self._with_audio
        tags = self._metadata_source is not None and last_pass
        metadata = ["-i", ffmpeg_path(self._metadata_source), *_copied_metadata(1, suffix, self._creation_time),
                    *self._video_stream_tags] if tags else []  # fmt: skip
        pix_fmt = "rgb24" if self.bit_depth == 8 else "rgb48le"
        if self._frame_times is None:  # bare frames at a constant rate
            frames_in = ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{self.width}x{self.height}",
                         "-framerate", f"{self.fps.numerator}/{self.fps.denominator}"]  # fmt: skip
            timing = []
        else:  # each frame with its own time
            frames_in, timing = [*TIMED_INPUT], [*TIMED_OUTPUT]
        command = [
            *_ffmpeg_quiet(), *frames_in, "-i", "pipe:0", *metadata,
            "-map", "0:v:0", *timing, *codec_args, *self._timecode,
            *_movflags(suffix, faststart=last_pass, tags=tags), ffmpeg_path(self._video_path),
        ]  # fmt: skip
        self._stderr = tempfile.TemporaryFile()
        try:
            # A session of its own: Ctrl-C reaches Python (which aborts), not FFmpeg (which would
            # finish the file on its own terms). Shielded: a signal while Popen waits for the exec
            # would lose the process handle, and FFmpeg would go on writing the temporary file.
            with shielded():
                self._process = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr,
                    start_new_session=True,
                )  # fmt: skip
        except OSError as e:
            raise VideoError(f"{self.path}: cannot start ffmpeg ({e})") from e
        if self._frame_times is not None:
            self._timed_pipe = TimedFramePipe(self._process.stdin, self.width, self.height, pix_fmt,
                                              self._frame_times, self.fps)  # fmt: skip

    def _new_temp_path(self) -> Path:
        """Create an empty `.<stem>.stdit-tmp-XXXXXXXX<ext>` beside the output.

        Created here, not by FFmpeg, so that an unwritable folder fails before any work is done.
        """
        for _ in range(100):
            temp_path = temporary_name(self.path)
            try:
                with shielded():  # created and recorded together, so abort() always finds it
                    os.close(os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                    self._temp_paths.append(temp_path)
            except FileExistsError:
                continue
            except OSError as e:
                raise VideoError(f"{self.path}: cannot write in {self.path.parent} ({e.strerror})") from e
            return temp_path
        raise VideoError(f"{self.path}: cannot find a free temporary name in {self.path.parent}")

    def _ffmpeg_error(self, what: str) -> VideoError:
        """A VideoError carrying FFmpeg's first stderr line: the cause, before the cascade of
        "Task finished" / "Nothing was written" lines that follow it. A full disk and a file size
        limit get a message of their own (they are the usual causes in batch jobs)."""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        lines = [_strip_log_prefix(line) for line in text.splitlines() if line.strip()]
        cause = _no_room_cause(text, self._process.returncode)
        if cause is None and not self.path.parent.is_dir():
            cause = f"the output folder {self.path.parent} was removed while this video was being written"
        if cause is None:
            cause = lines[0] if lines else _exit_status(self._process.returncode)
        return VideoError(f"{self.path}: {what} failed: {cause}")

    def write(self, frames: np.ndarray) -> None:
        """Append frames, RGB `[t, H, W, 3]`: uint8, or uint16 for a 16-bit writer."""
        if self._closed:
            raise ValueError("write() on a closed VideoWriter")
        expected = (self.height, self.width, 3)
        if not isinstance(frames, np.ndarray) or frames.dtype != self._dtype:
            got = getattr(frames, "dtype", type(frames).__name__)
            raise ValueError(f"frames must be a {np.dtype(self._dtype).name} numpy array [t, H, W, 3], got {got}")
        if frames.ndim != 4 or frames.shape[1:] != expected:
            got = list(frames.shape)
            raise ValueError(f"frames must have shape [t, {self.height}, {self.width}, 3], got {got}")
        try:
            # rgb48le: little-endian samples, whatever this machine's byte order
            samples = np.ascontiguousarray(frames, dtype=np.dtype(self._dtype).newbyteorder("<"))
            if self._timed_pipe is not None:
                self._timed_pipe.write(samples)
            else:
                self._process.stdin.write(samples.data)
        except OSError as e:  # BrokenPipeError: FFmpeg has exited
            self._process.wait()
            error = self._ffmpeg_error("encoding")
            self.abort()
            raise error from e
        self.frames_written += frames.shape[0]

    def close(self) -> None:
        """Finish encoding, add the audio, and move the file into place; abort on any failure."""
        if self._closed:
            return
        try:
            if self.frames_written == 0:
                raise VideoError(f"{self.path}: no frames were written")
            try:
                if self._timed_pipe is not None:
                    self._timed_pipe.close()
                self._process.stdin.close()
            except OSError:
                pass  # FFmpeg has exited: its status and stderr say why
            if self._process.wait() != 0:
                raise self._ffmpeg_error("encoding")
            finished = self._mux_audio() if self._with_audio else self._video_path
            if self._creation_time is not None and self.path.suffix.lower() in MP4_LIKE:
                try:
                    set_creation_time(finished, self._creation_time)
                except (Mp4LayoutError, ValueError):  # a time before 1904 (or past 2040 in a 32-bit header): left unset
                    pass
            with shielded():  # the output appears and the leftover temporary files go, together
                try:
                    publish(finished, self.path, self._replaces)
                except FileExistsError:
                    raise VideoError(f"{self.path}: another run wrote this output while this one was working; it is kept and this "
                    f"result was dropped (--overwrite replaces it)") from None
                self._closed = True
                self._remove_temp_files()
        except BaseException:
            self.abort()
            raise
        self._stderr.close()

    def _mux_audio(self) -> Path:
        """Copy the source's audio and subtitles next to the encoded video: the audio as AAC when the
        container refuses a copy, the file without subtitles when it refuses them (said)."""
        muxed_path = self._new_temp_path()
        offset_s = _audio_start_offset_s(self._audio_source)
        # the container tags come from the metadata source when it is the audio source (`stdit
        # denoise`: the input), else from none
        tags = self._metadata_source is not None and self._metadata_source == self._audio_source
        metadata = [*_copied_metadata(1, self.path.suffix.lower(), self._creation_time), *self._video_stream_tags] if tags else ["-map_metadata", "-1"]
        suffix = self.path.suffix.lower()
        # each track copied where the container plays it as it is, else AAC; all AAC if FFmpeg refuses a copy
        playable = [_copies_playably(suffix, [codec]) for codec in self._audio_codecs]
        per_track = ["-map", "1:a", *(arg for n, ok in enumerate(playable) for arg in (f"-c:a:{n}", "copy" if ok else "aac"))]
        audio_attempts = [[*per_track, "-b:a", "192k"], ["-map", "1:a", "-c:a", "aac", "-b:a", "192k"]]
        if not self._audio_codecs:
            audio_attempts = [[]]
        elif not any(playable):
            audio_attempts = audio_attempts[1:]
        with_subtitles = self._subtitles.ffmpeg_args(1)
        if suffix == ".mkv" and self._subtitles.kept:  # the fonts styled subtitles (ASS) name, attached beside them
            with_subtitles += ["-map", "1:t?", "-c:t", "copy"]
        subtitle_attempts = [with_subtitles] + ([[]] if self._subtitles.kept else [])
        source_gap_s = _audio_minus_video_s(self._audio_source) if self._audio_codecs else None
        for subtitles in subtitle_attempts:
            for audio in audio_attempts:
                if not self._run_mux(offset_s, [*audio, *subtitles], metadata, tags, muxed_path):
                    continue
                self._put_audio_back_in_sync(source_gap_s, offset_s, [*audio, *subtitles], metadata, tags, muxed_path)
                self._say_what_was_converted(audio, playable, subtitles, muxed_path)
                return muxed_path
        raise self._ffmpeg_error("adding the audio")

    def _put_audio_back_in_sync(self, source_gap_s: float | None, offset_s: float, streams: list[str], metadata: list[str],
                                tags: bool, muxed_path: Path) -> None:  # fmt: skip
        """Mux again with the audio moved where the muxed file's audio does not start as long after
        its video as the source's did: FFmpeg restarts an MPEG-TS/PS file's audio at 0 when only
        the audio of that file is mapped (audio 0.48 s after the video came out with none)."""
        if source_gap_s is None:
            return
        muxed_gap_s = _audio_minus_video_s(muxed_path)
        if muxed_gap_s is None or abs(muxed_gap_s - source_gap_s) <= SYNC_TOLERANCE_S:
            return
        shift_s = source_gap_s - muxed_gap_s
        # audio later: its input moves; earlier: the video's moves later still
        if shift_s > 0:
            synced = self._run_mux(offset_s, streams, metadata, tags, muxed_path, audio_offset_s=shift_s)
        else:
            synced = self._run_mux(offset_s - shift_s, streams, metadata, tags, muxed_path)
        if not synced:
            raise self._ffmpeg_error("putting the audio back in sync")

    def _say_what_was_converted(self, audio: list[str], playable: list[bool], subtitles: list[str], muxed_path: Path) -> None:
        """Warn about audio re-encoded as AAC (and resampled, where AAC cannot hold the rate) and
        subtitles left out: nothing changes unsaid."""
        suffix = self.path.suffix.lower()
        every_track = "-c:a" in audio  # the all-AAC attempt: a copy was refused, or no track plays as it is
        re_encoded = [every_track or not ok for ok in playable]
        converted = [codec for codec, changed in zip(self._audio_codecs, re_encoded, strict=True) if changed]
        if converted:
            count = len(converted)
            why = "FFmpeg could not copy it" if every_track and all(playable) else f"a {suffix} file does not play it as it is"
            resampled = _resampled(_audio_rates(self._audio_source), _audio_rates(muxed_path), re_encoded)
            warnings.warn(f"{self._audio_source}: {count} audio track{'s' if count > 1 else ''} ({', '.join(sorted(set(converted)))}) "
                          f"re-encoded as AAC at 192 kb/s{resampled}: {why} (a .mkv output keeps every codec as it is)",
                          VideoWarning, stacklevel=4)  # fmt: skip
        if self._subtitles.kept and not subtitles:
            codecs = [self._subtitle_codecs[index] for index, _ in self._subtitles.kept]
            why = f"FFmpeg could not store {'them' if len(codecs) > 1 else 'it'} in a {suffix} file"
            warnings.warn(f"{self._audio_source}: " + not_kept_message(codecs, why), VideoWarning, stacklevel=4)

    def _run_mux(self, offset_s: float, streams: list[str], metadata: list[str], tags: bool, muxed_path: Path,
                 audio_offset_s: float = 0.0) -> bool:  # fmt: skip
        """One try at the second pass: the encoded video and ``streams`` of the source into ``muxed_path``
        (the video ``offset_s`` later, the source's streams ``audio_offset_s`` later)."""
        moved = ["-itsoffset", f"{audio_offset_s:.6f}"] if audio_offset_s else []
        command = [
            *_ffmpeg_quiet(),
            "-itsoffset", f"{offset_s:.6f}", "-i", ffmpeg_path(self._video_path), *moved, "-i", ffmpeg_path(self._audio_source),
            "-map", "0:v:0", *metadata, "-c:v", "copy", *streams,
            *_movflags(self.path.suffix.lower(), faststart=True, tags=tags), ffmpeg_path(muxed_path),
        ]  # fmt: skip
        self._stderr.seek(0)
        self._stderr.truncate()
        with shielded():  # see _start_encoder
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                start_new_session=True,
            )  # fmt: skip
        return self._process.wait() == 0

    def abort(self) -> None:
        """Kill FFmpeg and remove the temporary files; no output appears. Safe to call twice.

        The files go even if waiting for FFmpeg is itself interrupted (a signal during cleanup).
        """
        self._closed = True
        process = self._process
        try:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
            if process is not None and process.stdin is not None:
                try:
                    process.stdin.close()
                except OSError:
                    pass  # the pipe is already broken: FFmpeg is gone
        finally:
            with shielded():
                self._remove_temp_files()
            if getattr(self, "_stderr", None) is not None:
                self._stderr.close()

    def _remove_temp_files(self) -> None:
        for temp_path in self._temp_paths:
            temp_path.unlink(missing_ok=True)
        self._temp_paths = []


    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.abort()


def open_writer(path: str | os.PathLike, width: int, height: int, fps: Fraction | int, audio_source=None,
                lossless: bool = False, crf: int = 16, preset: str = "medium", full_chroma: bool = False,
                hdr_transfer: str | None = None, metadata_source=None,
                field_order: str | None = None, bit_depth: int = 8, frame_names: tuple[str, ...] = (),
                timecode: str | None = None, hdr10: str | None = None,
                frame_times: FrameTimes | None = None, sample_aspect_ratio: Fraction | None = None,
                half_width_chroma: bool = False,
                sd_colour: tuple[str, str, str] | None = None) -> VideoWriter | ImageWriter | FrameFolderWriter:  # fmt: skip
    """The writer for ``path``: a :class:`VideoWriter`, or for an image extension an
    :class:`~stdit_cli.video.image_writer.ImageWriter` (one frame; no frame rate, audio or x264
    settings apply). ``frame_names``: the input is a frame folder with these pictures (its audio and
    metadata sources are that folder): ``path`` without a video or image extension is the output
    folder, written by a :class:`~stdit_cli.video.frame_folder.FrameFolderWriter` under the same
    names (pictures have no timing: ``frame_times`` applies to videos only). Other arguments as
    :class:`VideoWriter`'s."""
    if frame_names:
        if Path(path).suffix.lower() not in OUTPUT_SUFFIXES:
            return FrameFolderWriter(path, width, height, frame_names, lossless=lossless, full_chroma=full_chroma,
                                     sources=metadata_source, bit_depth=bit_depth, half_width_chroma=half_width_chroma)  # fmt: skip
        audio_source = metadata_source = None  # pictures: no audio, no container tags
    if is_image_path(path):
        return ImageWriter(path, width, height, lossless=lossless, full_chroma=full_chroma, exif_source=metadata_source,
                           bit_depth=bit_depth, half_width_chroma=half_width_chroma)  # fmt: skip
    return VideoWriter(path, width, height, fps, audio_source=audio_source, lossless=lossless, crf=crf, preset=preset,
                       full_chroma=full_chroma, hdr_transfer=hdr_transfer, metadata_source=metadata_source,
                       field_order=field_order, bit_depth=bit_depth, timecode=timecode, hdr10=hdr10,
                       frame_times=frame_times, sample_aspect_ratio=sample_aspect_ratio,
                       half_width_chroma=half_width_chroma, sd_colour=sd_colour)  # fmt: skip
