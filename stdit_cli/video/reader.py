"""Probe and decode videos into RGB frames, uint8 (or uint16 for deep video), a temporal chunk at a time.

Two backends share one interface: decord (the default) and PyAV (used automatically when decord
cannot be imported, or on request). Containers are probed with PyAV in both cases, because decord
reports the frame rate as a float and PyAV keeps it exact (`Fraction(30000, 1001)`).

Frame counts. `probe_video` (in `probe`) is the cheap answer from the container header (`nb_frames`), or a
count of the video packets (a demux pass, no decoding) where the container has no count (MKV,
WebM). `VideoReader` indexes the packets when it opens the file (decord always does this; the
PyAV backend does the same so both behave alike) and is the authority: `VideoReader.info` may
hold more frames than `probe_video` when the header undercounts.

decord quirks handled here: it reports fps as a float (hence the PyAV probe); it applies display
rotations itself but gets rotations with a flip wrong (files with a display matrix are read with
PyAV); its FFmpeg logs go straight to stderr; its bridge is process-global (a torch bridge set
elsewhere is undone with `np.asarray`); it indexes every packet at open and fails outright on a
file with a bad packet, and it cannot copy out the frames of some sizes (FFV1 at 48x32), so
`backend="auto"` retries with PyAV, at open or at the first read that fails, which reads the
file or says precisely what is wrong.

Truncated or corrupt files. Where the header declares more frames than the file holds (an MP4
cut short, a partial download), opening a `VideoReader` raises `VideoError` instead of silently
denoising part of the video; no decoding time is spent first. Containers without a declared
count (MKV/WebM) cut short are read up to the last complete packet, which is all they can say.
A frame that fails to decode, or a stream that ends before its indexed count, raises
`VideoError` naming the file and the frame. Callers never see a backend's own exception type.

Orientation. A display matrix (phone videos shot upright) is honoured the way FFmpeg's
autorotate honours it (see `orientation`): `VideoInfo.width`/`height` and every frame
returned are as displayed, whatever the backend.

Bit depth. Frames are uint8 RGB by default. ``bit_depth=None`` reads them as the source holds
them: video with more than 8 bits per sample (10-bit HDR phone footage, 10/12-bit camera and
ProRes files, 16-bit FFV1) as uint16 RGB on the full 0..65535 scale (FFmpeg's ``rgb48le``: a
10-bit value ``v`` reads ``v * 64 + v // 16``), 8-bit video as uint8; decord decodes 8 bits only, so
such a reader uses PyAV. What the frames cannot keep is said with a `VideoWarning` when a
`VideoReader` opens: more than 8 bits per sample read as 8-bit frames. Grayscale video is read as
RGB with three equal channels.

Timing. Frames are numbered; a variable-frame-rate video's reader also gives each frame's
presentation time (:meth:`VideoReader.frame_times`, `timeline`), which the writer stamps on the
denoised frames. Only where those times cannot time the frames one by one (clips joined into one
stream, each starting again) does opening warn that the output is written at a constant rate.
"""

from __future__ import annotations

import bisect

import dataclasses
import os
import threading
import warnings
from typing import Iterator, Sequence

import av
import numpy as np

from stdit_cli.video.caveats import VideoWarning, what_is_lost
from stdit_cli.video.colour import decode_bias, frame_to_rgb
from stdit_cli.video.frame_folder import FolderFrames
from stdit_cli.video.heif import HeifFrames
from stdit_cli.video.orientation import apply_orientation
from stdit_cli.video.packets import index_packets, index_packets_timed
from stdit_cli.video.probe import VideoError, VideoInfo, _one_line, _video_stream, ffmpeg_path, probe_video
from stdit_cli.video.timeline import FrameTimes, is_variable_rate

BACKENDS = ("auto", "decord", "pyav")
#: bit depths a reader returns frames in: uint8 or uint16 RGB
BIT_DEPTHS = (8, 16)


#: frames whose YUV -> RGB conversion the PyAV reader measures against the exact one (the level sample's)
DECODE_BIAS_FRAMES = 8

#: frames a place of :func:`cheap_frame_sample` may lie past its keyframe and still be read there
#: (decoded up to from the keyframe) when a caller looks past a video's opening (the pipeline does
#: when the opening frames are one picture: a title card or a black intro before the footage)
DECODE_AHEAD = 64


def cheap_frame_sample(num_frames: int, keyframes: Sequence[int], count: int, spots: int = 4,
                       ahead: int = 0) -> np.ndarray:  # fmt: skip
    """About ``count`` frame indices spread over a video that decode cheaply.

    Random access to frame ``i`` decodes every frame from the keyframe before it (up to a
    whole GOP, 250 frames for x264's default), so each of ``spots`` places spread over the video
    is read where it is when it lies at most ``ahead`` frames past its keyframe (in a video of more
    than ``2 * count`` frames), and else moves back to that keyframe, and reads the few frames that
    follow: ``count`` frames cost about
    ``count`` decodes plus ``spots`` seeks and at most ``ahead`` frames decoded on per place,
    whatever the GOP length (the reader decodes on within a GOP rather than seek back).
    """
    keys = np.unique(np.asarray([0, *(k for k in keyframes if 0 < k < num_frames)], dtype=np.int64))  # decoding can always start at 0
    targets = np.linspace(0, num_frames - 1, max(1, min(spots, count))).round().astype(np.int64)
    before = keys[np.maximum(np.searchsorted(keys, targets, side="right") - 1, 0)]  # keyframe at or before each
    # up to twice ``count`` frames, the first ``count`` cover half the clip or more and open the
    # streaming pass (no frame decoded twice): there a place moves back to its keyframe as ever
    starts = np.unique(np.where(targets - before <= (ahead if num_frames > 2 * count else 0), targets, before))
    run = -(-count // len(starts))  # frames read from each start
    return np.unique(np.concatenate([np.arange(s, min(s + run, num_frames)) for s in starts]))




def _truncated(info: VideoInfo, found: int) -> VideoError:
    return VideoError(
        f"{info.path}: truncated or corrupt: the container declares {info.num_frames} frames "
        f"but only {found} are present"
    )


class _DecordFrames:
    """decord backend: `get_batch` of consecutive indices (sequential reads do not seek)."""

    def __init__(self, info: VideoInfo):
        import decord

        self.info = info
        try:
            self._reader = decord.VideoReader(ffmpeg_path(info.path), ctx=decord.cpu(0))
        except Exception as e:  # decord raises RuntimeError or its own DECORDError
            raise VideoError(f"{info.path}: cannot decode, truncated or corrupt? ({_one_line(e)})") from e
        self.num_frames = len(self._reader)  # decord counts the packets it indexed at open
        # where FFmpeg seeks by estimated byte positions, decord's random access returns neighbouring
        # frames in place of the ones asked for: read from the start only (`VideoInfo.seeks_by_index`)
        keys = [int(k) for k in self._reader.get_key_indices()] if info.seeks_by_index else []
        self.keyframes = keys or [0]

    def read(self, start: int, stop: int) -> np.ndarray:
        try:
            batch = self._reader.get_batch(list(range(start, stop)))
        except Exception as e:
            where = f"{self.info.path}: cannot decode frames {start}..{stop - 1}"
            raise VideoError(f"{where} ({_one_line(e)})") from e
        # decord's bridge is process-global: someone may have switched it to torch.
        return batch.asnumpy() if hasattr(batch, "asnumpy") else np.asarray(batch)

    def frame_times_s(self) -> np.ndarray | None:
        """Presentation time of every frame, in seconds (from decord's packet index)."""
        try:
            return np.asarray(self._reader.get_frame_timestamp(list(range(self.num_frames))))[:, 0]
        except Exception:  # no timestamps in the index: nothing to check
            return None

    def close(self) -> None:
        self._reader = None


class _PyAVFrames:
    """PyAV backend: sequential decoding; random access seeks to the keyframe before a frame (in a
    container that seeks by index), else decodes forward."""

    def __init__(self, info: VideoInfo, bit_depth: int = 8):
        self.info = info
        self._format, self._dtype = ("rgb24", np.uint8) if bit_depth == 8 else ("rgb48le", np.uint16)
        try:
            with av.open(ffmpeg_path(info.path)) as container:
                stream = _video_stream(container, info.path)
                self._time_base = stream.time_base
                packets = index_packets(container, stream)
        except av.FFmpegError as e:
            raise VideoError(f"{info.path}: cannot decode, truncated or corrupt? ({_one_line(e)})") from e
        pts = [p for p, _ in packets]
        self.num_frames = len(pts)
        # Frame i is the i-th smallest pts; without pts (some AVI) random access decodes from 0.
        self._pts = sorted(pts) if None not in pts else None
        if self._pts is None or not info.seeks_by_index:
            self.keyframes = [0]
        else:
            index_of = {p: i for i, p in enumerate(self._pts)}
            self.keyframes = sorted(index_of[p] for p, key in packets if key) or [0]
        self._container = None
        self._sizes_said: set[tuple[int, int]] = set()  # other picture sizes met (warned about once)
        self._biases: list[np.ndarray] = []  # colour.decode_bias of the first frames converted
        self._restart()

    def _say_resized(self, index: int, frame: av.VideoFrame) -> None:
        """Warn, once per size, that frames of another size are scaled to the stream's."""
        size = (frame.width, frame.height)
        if size in self._sizes_said:
            return
        self._sizes_said.add(size)
        width, height = self.info.coded_size
        warnings.warn(f"{self.info.path}: the picture size changes at frame {index}, from {width}x{height} to "
                      f"{size[0]}x{size[1]}: such frames are scaled to {width}x{height}", VideoWarning, stacklevel=3)  # fmt: skip

    def _restart(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = av.open(ffmpeg_path(self.info.path))
        self._stream = _video_stream(self._container, self.info.path)
        self._stream.thread_type = "AUTO"
        self._frames = self._container.decode(self._stream)
        self._next_index = 0
        self._pending = None  # a frame decoded by _seek, returned first by the next read

    def _next_frame(self, index: int) -> av.VideoFrame:
        try:
            frame = next(self._frames, None)
        except av.FFmpegError as e:
            raise VideoError(f"{self.info.path}: cannot decode frame {index} ({_one_line(e)})") from e
        if frame is None:
            raise VideoError(
                f"{self.info.path}: truncated or corrupt: the stream ended after {index} of "
                f"{self.num_frames} frames"
            )
        return frame

    def _seek(self, index: int) -> None:
        """Position the decoder so that the next frame it returns is frame `index`."""
        keyframe = self.keyframes[bisect.bisect_right(self.keyframes, index) - 1] if index >= self.keyframes[0] else 0
        if keyframe <= self._next_index <= index:  # ahead in the same GOP: decoding on costs less than a seek back
            if self._pending is not None and self._next_index < index:
                self._pending, self._next_index = None, self._next_index + 1
            for i in range(self._next_index, index):
                self._next_frame(i)
            self._next_index = index
            return
        if self._pts is not None and self.info.seeks_by_index and index > 0:
            try:
                if self._seek_by_index(index):
                    return
            except VideoError:
                pass  # nothing decoded up to the frame after the seek: from the start, below
        # No pts, no index to seek by, or the seek landed past the target: decode forward, from
        # where the decoder is if the frame is ahead, else from the first frame.
        if index < self._next_index or self._next_index < 0:
            self._restart()
        if self._pending is not None and self._next_index < index:
            self._pending, self._next_index = None, self._next_index + 1
        for i in range(self._next_index, index):
            self._next_frame(i)
        self._next_index = index

    def _seek_by_index(self, index: int) -> bool:
        """Seek to the keyframe before frame `index` and decode up to it; False where the seek landed
        past it. The decoder's position is unknown afterwards unless this returns True."""
        target = self._pts[index]
        self._next_index, self._pending = -1, None  # unknown until the frame is found
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError as e:
            raise VideoError(f"{self.info.path}: cannot seek to frame {index} ({_one_line(e)})") from e
        self._frames = self._container.decode(self._stream)
        frame = self._next_frame(index)
        while frame.pts is not None and frame.pts < target:
            frame = self._next_frame(index)
        if frame.pts != target:
            return False
        self._pending, self._next_index = frame, index
        return True

    def read(self, start: int, stop: int) -> np.ndarray:
        if start != self._next_index:
            self._seek(start)
        coded_width, coded_height = self.info.coded_size
        shape = (coded_height, coded_width, 3)
        frames = np.empty((stop - start, *shape), dtype=self._dtype)  # [t, H, W, 3]
        for i in range(start, stop):
            frame = self._pending if self._pending is not None else self._next_frame(i)
            self._pending = None
            if (frame.width, frame.height) != (coded_width, coded_height):
                # the picture size changes part-way (a stream that switched quality, clips joined,
                # a screen recording resized): scaled to the first size, as FFmpeg's command line does
                self._say_resized(i, frame)
                frame = frame.reformat(width=coded_width, height=coded_height)
            rgb = frame_to_rgb(frame, self._format)
            if len(self._biases) < DECODE_BIAS_FRAMES:
                bias = decode_bias(frame, rgb)
                if bias is not None:
                    self._biases.append(bias)
            frames[i - start] = rgb
        self._next_index = stop
        return frames

    def frame_times_s(self) -> np.ndarray | None:
        """Presentation time of every frame, in seconds (from the packets' pts)."""
        if self._pts is None or self._time_base is None:
            return None
        return np.asarray(self._pts, dtype=np.float64) * float(self._time_base)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def _frames_were_dropped(times_s: np.ndarray | None, info: VideoInfo) -> bool:
    """Whether the frames present, fewer than the header declares, span its count at the constant
    rate: an AVI header counts time slots, and a capture that dropped frames (a webcam, a screen
    recorder, a phone in low light) leaves gaps in the timestamps, not a file cut short. The
    frames are then read as a variable-frame-rate video (`frame_times`)."""
    if times_s is None or len(times_s) < 2 or not np.isfinite(times_s).all():
        return False
    slots = round(float(times_s.max() - times_s.min()) * float(info.fps)) + 1
    return slots >= info.num_frames


def _frame_times(info: VideoInfo, num_frames: int) -> FrameTimes | None:
    """Each frame's time, exactly, from the stream's packets (a demux pass, no decoding: decord's
    index holds float32 seconds); None where the packets cannot time the ``num_frames`` frames."""
    try:
        with av.open(ffmpeg_path(info.path)) as container:
            stream = _video_stream(container, info.path)
            packets = [(pts, duration) for pts, _, duration in index_packets_timed(container, stream)]
            time_base = stream.time_base
    except (av.FFmpegError, VideoError):
        return None
    if len(packets) != num_frames or not time_base:
        return None
    return FrameTimes.from_packets([pts for pts, _ in packets], [duration for _, duration in packets], time_base)


def decord_available() -> bool:
    """True when decord imports (it has no wheels for some platforms)."""
    try:
        import decord  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


class VideoReader:
    """Random access and chunked iteration over a video's frames as RGB `[t, H, W, 3]`.

    Args:
        path: the video file (MP4, MKV, MOV, AVI, WebM, anything FFmpeg demuxes).
        backend: "auto" (decord; PyAV when decord is not importable or cannot open the file, and for
            what decord reads otherwise than players: rotated or flipped, trimmed, more than 8 bits,
            HD with no colour matrix tag), "decord" or "pyav". `self.backend` says which one is in use.
            Frames come out in the colours a player shows, whichever reads them.
        bit_depth: 8 (default): uint8 frames; 16: uint16 frames on the 0..65535 scale (PyAV); None:
            as the source holds them, 16 for more than 8 bits per sample, else 8. `self.bit_depth`
            says which.

    Memory stays bounded by the chunk being read, whatever the video's length. The reader yields
    exactly `info.num_frames` frames or raises `VideoError` (see the module docstring). Frames
    are upright (display matrix applied); opening warns (`VideoWarning`) about a bit depth over 8
    read as 8 bits. A variable-frame-rate video's frame times: :meth:`frame_times`.

    Reads and `close` may come from different threads (a decode thread reads, the caller closes):
    they take turns, because FFmpeg crashes the process when a container is closed in the middle
    of a decode. A `close` waits for the read in progress; reads after it raise `ValueError`.
    """

    def __init__(self, path: str | os.PathLike, backend: str = "auto", bit_depth: int | None = 8):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if bit_depth not in (*BIT_DEPTHS, None):
            raise ValueError(f"bit_depth must be one of {BIT_DEPTHS} or None, got {bit_depth!r}")
        info = probe_video(path)
        #: 8: uint8 frames, 16: uint16 frames
        self.bit_depth = bit_depth if bit_depth is not None else (16 if info.bits_per_sample > 8 else 8)
        requested = backend
        if info.frame_files or info.heif_tiles:  # a frame folder, a HEIF photo: pictures decoded by PyAV
            backend = "pyav"
        elif backend == "auto":
            # decord 0.6 applies display rotations itself but gets flips wrong, and decodes 8 bits only: PyAV for those.
            # decord 0.6 also returns an edit list's pre-roll as frames: PyAV for a trimmed MP4/MOV; and it reads
            # untagged HD as BT.601 where players (and the pipeline) read BT.709: PyAV for that too.
            decord_reads_it = not info.has_display_matrix and not info.preroll and not info.untagged_hd and self.bit_depth == 8
            backend = "decord" if decord_available() and decord_reads_it else "pyav"
        if backend == "decord" and self.bit_depth != 8:
            raise VideoError(f"{info.path}: decord decodes 8-bit frames only; read {self.bit_depth}-bit frames with the pyav backend")
        if backend == "decord" and not decord_available():
            raise VideoError(f"{info.path}: the decord backend was requested but decord is not installed")
        if backend == "decord" and info.preroll:
            raise VideoError(f"{info.path}: starts with an edit list's pre-roll (trimmed without re-encoding), "
                             "which decord returns as frames; read it with the pyav backend")  # fmt: skip
        if backend == "decord" and info.untagged_hd:
            raise VideoError(f"{info.path}: is HD video with no colour matrix tag, which players read as BT.709 and decord "
                             "as BT.601; read it with the pyav backend")  # fmt: skip
        if backend == "decord" and info.has_display_matrix:
            raise VideoError(
                f"{info.path}: has a display matrix ({info.orientation}), which decord applies "
                "inconsistently; read it with the pyav backend"
            )
        try:
            if info.frame_files:
                self._frames = FolderFrames(info, self.bit_depth)
            elif info.heif_tiles:
                self._frames = HeifFrames(info, self.bit_depth)
            else:
                self._frames = _DecordFrames(info) if backend == "decord" else _PyAVFrames(info, self.bit_depth)
        except VideoError:
            if requested != "auto" or backend == "pyav":
                raise
            # decord fails outright on a bad packet while indexing; PyAV reads what it can.
            backend, self._frames = "pyav", _PyAVFrames(info, self.bit_depth)
        self.backend = backend
        self._lock = threading.Lock()  # one read or close at a time
        self._fallback = requested == "auto" and backend == "decord"
        self._probed = info
        if self._frames.num_frames < info.num_frames and not _frames_were_dropped(self._frames.frame_times_s(), info):
            self._frames.close()
            raise _truncated(info, self._frames.num_frames)
        # The packet index is the authority where the header undercounts (or counts dropped frames).
        self.info = dataclasses.replace(info, num_frames=self._frames.num_frames)
        times_s = self._frames.frame_times_s()
        self._timeline = None  # a variable-frame-rate video's frame times, kept in its output
        if is_variable_rate(times_s, info.fps):
            self._timeline = _frame_times(info, self._frames.num_frames)
        # times the output keeps are not lost: no warning for them
        for message in what_is_lost(self.info, times_s if self._timeline is None else None, self.bit_depth):
            warnings.warn(f"{self.info.path}: {message}", VideoWarning, stacklevel=2)

    def __len__(self) -> int:
        return self.info.num_frames

    @property
    def dtype(self) -> type[np.unsignedinteger]:
        """The frames' dtype: ``np.uint8``, or ``np.uint16`` for a 16-bit reader."""
        return np.uint8 if self.bit_depth == 8 else np.uint16

    def decode_bias(self) -> np.ndarray | None:
        """``[3]``: how many levels darker than exact, per channel, the first frames read came out of
        the YUV -> RGB conversion (``colour.decode_bias``, up to :data:`DECODE_BIAS_FRAMES` frames);
        None before any, for decord, and for what the measure does not read (RGB, deep or BT.2020 video)."""
        biases = getattr(self._frames, "_biases", None)
        return np.mean(biases, axis=0) if biases else None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames `start` (inclusive) to `stop` (exclusive) as `[stop - start, H, W, 3]` of :attr:`dtype`."""
        if not 0 <= start < stop <= self.info.num_frames:
            raise IndexError(f"frame range [{start}, {stop}) is outside [0, {self.info.num_frames})")
        with self._lock:
            if self._frames is None:
                raise ValueError("read() on a closed VideoReader")
            stored = self._read_stored(start, stop)
        frames = apply_orientation(stored, self.info.orientation)
        expected = (stop - start, self.info.height, self.info.width, 3)
        if frames.shape != expected or frames.dtype != self.dtype:
            raise VideoError(
                f"{self.info.path}: decoded frames {start}..{stop - 1} have shape {frames.shape} "
                f"{frames.dtype}, expected {expected} {np.dtype(self.dtype).name}"
            )
        return np.ascontiguousarray(frames)

    def _read_stored(self, start: int, stop: int) -> np.ndarray:
        """Frames as stored; with backend "auto", a decord failure hands the file over to PyAV."""
        try:
            return self._frames.read(start, stop)
        except VideoError:
            if not self._fallback:
                raise
        # decord 0.6 cannot copy out some frame sizes (FFV1 at 48x32, for one): PyAV from here on.
        self._fallback = False
        self._frames.close()
        self._frames = _PyAVFrames(self._probed, self.bit_depth)
        self.backend = "pyav"
        if self._frames.num_frames < self.info.num_frames:
            raise _truncated(self.info, self._frames.num_frames)
        return self._frames.read(start, stop)

    def frame_times(self) -> FrameTimes | None:
        """Each frame's presentation time, for a variable-frame-rate video (frames further than half
        an interval from an even spacing: `timeline`); None for evenly spaced video and pictures."""
        return self._timeline

    def keyframes(self) -> list[int]:
        """Indices of the frames decoding can start from (random access costs up to the next one)."""
        return list(self._frames.keyframes)

    def iter_chunks(self, chunk_frames: int, start: int = 0) -> Iterator[np.ndarray]:
        """Frames `start` to the end in order, `chunk_frames` at a time (the last chunk may be shorter)."""
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        if not 0 <= start <= self.info.num_frames:
            raise IndexError(f"start frame {start} is outside [0, {self.info.num_frames}]")
        for start in range(start, self.info.num_frames, chunk_frames):
            yield self.read(start, min(start + chunk_frames, self.info.num_frames))

    def close(self) -> None:
        with self._lock:
            if self._frames is not None:
                self._frames.close()
                self._frames = None

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
