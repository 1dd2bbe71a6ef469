"""What a video's container says about it: `probe_video` → `VideoInfo`, and the PyAV helpers
that open a container and find its video stream (shared by the reader and the writer).

Containers are probed with PyAV, because it keeps the frame rate exact (`Fraction(30000, 1001)`).
The frame count is the cheap answer from the container header (`nb_frames`), or a count of the
video packets (a demux pass, no decoding) where the container has no count (MKV, WebM);
`VideoReader` indexes the packets when it opens a file and may find more. A display matrix
(phone videos shot upright) is read here (see `orientation`): `VideoInfo.width`/`height` are as
displayed.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from av.video.reformatter import Colorspace

from stdit_cli.video import packets
from stdit_cli.video.colour import source_matrix
from stdit_cli.video.orientation import (
    NONE, TRANSPOSING, display_size, first_frame, orientation_from_exif, read_orientation,
)  # fmt: skip


class VideoError(Exception):
    """A video that cannot be read or written; the message is one line naming the file and cause."""



def _is_image(container: av.container.InputContainer) -> bool:
    """Whether FFmpeg opened the file as a picture (``image2``, ``jpeg_pipe``, ``png_pipe``...), not a video container."""
    names = container.format.name.split(",")
    return any(name == "image2" or name.endswith("_pipe") for name in names)


#: FFmpeg's AVColorTransferCharacteristic values of high-dynamic-range video -> their names (what
#: iPhones record by default since 2020: HEVC 10-bit, BT.2020, HLG; HDR10 streams use PQ)
HDR_TRANSFERS = {16: "smpte2084", 18: "arib-std-b67"}

#: the BT.601 family of matrices (AVColorSpace -> FFmpeg's name): standard-definition video tagged as such
SD_MATRICES = {5: "bt470bg", 6: "smpte170m"}
#: primaries and transfers (AVColorPrimaries / AVColorTransferCharacteristic -> FFmpeg's name) kept with them
SD_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m"}
SD_TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m"}

#: decoders of codecs that only store losslessly
LOSSLESS_CODECS = frozenset({"ffv1", "ffvhuff", "huffyuv", "utvideo", "magicyuv", "rawvideo", "png", "apng", "gif", "qtrle",
                             "r210", "v210", "v410", "y41p", "yuv4", "zlib", "lagarith", "tiff", "bmp"})  # fmt: skip


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about its first video stream."""

    path: Path
    width: int
    height: int
    num_frames: int
    fps: Fraction  # exact: 30000/1001 stays 30000/1001
    has_audio: bool
    codec: str  # decoder name, e.g. "h264", "ffv1"
    duration_s: float  # container duration, or num_frames / fps where the container has none
    orientation: str = NONE  # display-matrix transform applied to every frame (see `orientation`)
    rotation_deg: float = 0.0  # clockwise display rotation, FFmpeg's convention (-display_rotation 90 reads 270)
    pix_fmt: str = ""  # the stream's pixel format, e.g. "yuv420p", "yuv420p10le", "gray"
    profile: str = ""  # the codec profile, e.g. "High", "High 4:4:4 Predictive" (x264's lossless mode)
    x264_lossless: bool = False  # the x264 settings in the first packet say `-qp 0` (see `_x264_settings`)
    #: the HDR transfer function the stream is tagged with (``"arib-std-b67"``: HLG, ``"smpte2084"``:
    #: PQ), in BT.2020 colour; None for SDR video. Frames are read as that signal's R'G'B', and the
    #: output is written and tagged the same way, so players show it as the input (`writer`)
    hdr_transfer: str | None = None
    #: (matrix, primaries, transfer) in FFmpeg's names for SD video tagged with a BT.601 matrix
    #: (``("smpte170m", "smpte170m", "smpte170m")`` for NTSC DV/DVD), which the output keeps; None otherwise
    sd_colour: tuple[str, str, str] | None = None
    #: subtitle streams in the container (copied where the output can hold them: `subtitles`)
    subtitle_streams: int = 0
    #: how the frames were scanned: "progressive", or interlaced with the top ("tff") or bottom
    #: ("bff") field first in time (`fields`: the pipeline denoises such video field by field)
    field_order: str = "progressive"
    #: for a frame folder (`frame_folder`: a folder of numbered pictures read as a video), its
    #: pictures' names in frame order; () for a video file
    frame_files: tuple[str, ...] = ()
    #: the SMPTE timecode of the first frame ("01:02:03:04", drop-frame "01:02:03;04") that camera
    #: files carry (a QuickTime `tmcd` track, an MXF or Matroska tag); None where there is none.
    #: Editors sync takes and sound by it: the output keeps it (`writer`)
    timecode: str | None = None
    #: HDR10 static metadata of the first frame in x265's words ("master-display=G(..)..L(..):max-cll=1000,400"):
    #: the mastering display and content light level that HDR10 (PQ) video carries, which TVs tone-map
    #: by; None where there is none
    hdr10_metadata: str | None = None
    #: a HEIF/AVIF photo (an iPhone's HEIC), stored as this many tiles (1: one image), read assembled
    #: and upright (`heif`); 0 for anything else
    heif_tiles: int = 0
    #: a picture whose alpha plane is opaque everywhere (a screenshot saved as RGBA; a CMYK JPEG,
    #: which FFmpeg decodes with an opaque alpha): the output loses no transparency
    opaque_alpha: bool = False
    #: transparency stored beside the picture, not in its pixel format: VP8/VP9 in WebM or MKV with
    #: ``alpha_mode`` 1, whose alpha FFmpeg's own VP9 decoder does not decode (``pix_fmt`` says yuv420p)
    alpha_side_channel: bool = False
    #: the shape of one pixel as displayed, width over height, where it is not square (DV and DVD
    #: video, HDV, anamorphic widescreen: 720x480 shown as 16:9 is 32/27); None for square pixels
    sample_aspect_ratio: Fraction | None = None
    #: video streams besides the first (another camera angle, a preview; not cover art): not denoised
    other_video_streams: int = 0
    #: pictures in a multi-page TIFF (a scanned document, a stack); FFmpeg decodes the first only
    pages: int = 1
    #: False where FFmpeg seeks by estimating byte positions (:data:`packets.UNINDEXED_FORMATS`: MPEG-TS and
    #: -PS, raw streams): the readers then decode such a video from its start only
    seeks_by_index: bool = True
    #: the stream starts with an edit list's pre-roll (an MP4/MOV trimmed without re-encoding): frames
    #: decoded but not shown, which decord would return as frames (`reader` reads such video with PyAV)
    preroll: bool = False
    #: an HD YUV stream without a colour matrix tag: players (and `stdit denoise`) read it as BT.709,
    #: decord as BT.601, 4-15 levels apart in saturated colours (`colour.source_matrix`); `reader`
    #: reads such video with PyAV
    untagged_hd: bool = False

    @property
    def interlaced(self) -> bool:
        return self.field_order != "progressive"

    @property
    def coded_size(self) -> tuple[int, int]:
        """(width, height) of the frames as stored, before the orientation is applied."""
        return display_size(self.width, self.height, self.orientation)

    @property
    def has_display_matrix(self) -> bool:
        """True when the container asks players to rotate or flip the frames."""
        return self.orientation != NONE or abs(self.rotation_deg) >= 1

    @property
    def chroma_subsampled(self) -> bool:
        """True for 4:2:0/4:2:2/4:1:1 streams (nearly every camera and web video): their colour
        planes are stored at a lower resolution than luma."""
        try:
            components = av.VideoFormat(self.pix_fmt, 16, 16).components
        except (ValueError, av.FFmpegError):
            return False
        return any(c.width < 16 or c.height < 16 for c in components)

    @property
    def half_width_colour(self) -> bool:
        """True for 4:2:2 streams (ProRes 422, a camera's 4:2:2 10-bit, MJPEG 4:2:2) and 4:1:1 ones
        (NTSC DV): colour narrower than luma but at its full height, which a 4:2:2 output keeps."""
        try:
            components = av.VideoFormat(self.pix_fmt, 16, 16).components
        except (ValueError, av.FFmpegError):
            return False
        return len(components) >= 3 and components[1].width < 16 and components[1].height == 16

    @property
    def full_resolution_colour(self) -> bool:
        """True for RGB and 4:4:4 streams: colour stored at the resolution of luma (not grayscale)."""
        try:
            components = av.VideoFormat(self.pix_fmt, 16, 16).components
        except (ValueError, av.FFmpegError):
            return False
        return len(components) >= 3 and all(c.width == 16 and c.height == 16 for c in components)

    @property
    def lossless(self) -> bool:
        """True where the stream is known to be lossless: a lossless-only codec (FFV1, Ut Video,
        PNG, raw ...), H.264 whose x264 settings say ``qp=0`` (``libx264 -qp 0``, ``libx264rgb -qp 0``),
        or H.264 with subsampled chroma in the High 4:4:4 Predictive profile (x264 takes it for
        ``-qp 0``; a lossy 4:2:0 encode is High). A 4:4:4 or RGB H.264 stream is in that profile
        either way, so without x264's settings it is not known lossless. Nearly every camera and web
        video is lossy."""
        if self.codec in LOSSLESS_CODECS or self.x264_lossless:
            return True
        return self.codec == "h264" and "4:4:4 Predictive" in self.profile and self.chroma_subsampled

    @property
    def has_alpha(self) -> bool:
        """True for pixel formats with an alpha (transparency) plane (``rgba``, ``yuva420p`` ...),
        but for a picture whose alpha is opaque everywhere (:attr:`opaque_alpha`)."""
        return (_has_alpha_plane(self.pix_fmt) or self.alpha_side_channel) and not self.opaque_alpha

    @property
    def bits_per_sample(self) -> int:
        """Bits of the stream's first component (8 for yuv420p, 10 for yuv420p10le)."""
        return _bits_of(self.pix_fmt)


def _bits_of(pix_fmt: str) -> int:
    try:
        return av.VideoFormat(pix_fmt).components[0].bits
    except (ValueError, IndexError, av.FFmpegError):
        return 8


def _has_alpha_plane(pix_fmt: str) -> bool:
    try:
        return any(component.is_alpha for component in av.VideoFormat(pix_fmt).components)
    except (ValueError, av.FFmpegError):
        return False


def _alpha_is_opaque(frame: av.VideoFrame | None) -> bool:
    """Whether ``frame`` (of a pixel format with alpha) is opaque everywhere."""
    if frame is None:
        return False
    try:
        alpha = frame.to_ndarray(format="rgba64le" if frame.format.components[0].bits > 8 else "rgba")[..., 3]
    except (ValueError, av.FFmpegError):
        return False
    return bool((alpha == np.iinfo(alpha.dtype).max).all())


#: codecs of animations whose decoder always gives an alpha plane, which most of them leave opaque:
#: FFmpeg's GIF decoder outputs ``bgra`` for every GIF, its APNG decoder ``rgba`` for every RGBA APNG
_ANIMATION_CODECS = ("gif", "apng")


def _animation_is_opaque(path: Path, stream_index: int) -> bool:
    """Whether every frame of an animation (:data:`_ANIMATION_CODECS`) is opaque everywhere, as decoded:
    GIFs use their transparent colour for pixels a frame leaves as the previous one was, which the
    decoder fills in. Decodes the whole animation once per file version (the CLI probes a file more
    than once; GIFs are small: 300 frames of 480x270 in 0.23 s)."""
    stat = path.stat()
    return _opaque_animation(path, stream_index, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _opaque_animation(path: Path, stream_index: int, mtime_ns: int, size: int) -> bool:
    """:func:`_animation_is_opaque` for one version of the file (its modification time and size)."""
    with _open_container(path) as container:
        for frame in container.decode(container.streams[stream_index]):
            if not _alpha_is_opaque(frame):
                return False
    return True


def _tiff_pages(path: Path) -> int:
    """How many pictures a TIFF holds (Pillow counts its image directories; 1 where it cannot)."""
    from PIL import Image  # only for a TIFF

    try:
        with Image.open(path) as image:
            return max(1, int(getattr(image, "n_frames", 1)))
    except (OSError, ValueError, SyntaxError):
        return 1


def _pixel_shape(stream) -> Fraction | None:
    """The stream's sample aspect ratio where its pixels are not square (container's, else codec's)."""
    for ratio in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if ratio is not None and ratio.numerator > 0 and ratio.denominator > 0:
            return None if ratio == 1 else Fraction(ratio.numerator, ratio.denominator)
    return None


def _video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The first real video stream (cover art in audio files is a video stream too: skip it).

    A photo stored as a grid of tiles shows its tiles as video streams too (`heif`: the probe
    reads such a photo whole, never through this)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({_stream_kind(s) for s in container.streams}) or ["no streams"]
    raise VideoError(f"{path}: no video stream (found: {', '.join(kinds)})")


def _stream_kind(stream) -> str:
    """A stream's type in words, cover art (an attached picture, as in an MP3) told apart from video."""
    if stream.type == "video" and stream.disposition & av.stream.Disposition.attached_pic:
        return "cover picture"
    return stream.type


#: FFmpeg's AVFieldOrder: 1 progressive; 2 TT and 4 TB (top field coded and shown first); 3 BB and 5 BT
_FIELD_ORDERS = {1: "progressive", 2: "tff", 3: "bff", 4: "tff", 5: "bff"}


def _first_field_shown(path: Path) -> str | None:
    """"tff" or "bff" as the first frame's own flags say (FFmpeg's ``showinfo``: PyAV does not
    expose a frame's top-field-first flag), None where that cannot be read."""
    import imageio_ffmpeg  # the FFmpeg binary the writer uses

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_path(path), "-map", "0:v:0",
               "-frames:v", "1", "-vf", "showinfo", "-f", "null", "-"]  # fmt: skip
    try:
        shown = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r" i:([TB])\b", shown)
    return None if match is None else {"T": "tff", "B": "bff"}[match.group(1)]


def _field_order(path: Path, context_order: int, codec: str, frame: av.VideoFrame | None) -> str:
    """"progressive", "tff" or "bff". Interlaced where the first frame says so (a stream's own
    field order can say "interlaced" for progressive frames: film on DVD); its order as the frame's
    flags give it (an H.264 stream's own order reads "top first" for bottom-first frames), else the
    stream's, else the codec's usual one (DV bottom first, HD top). The stream's alone where no
    frame decodes."""
    if frame is None:
        return _FIELD_ORDERS.get(context_order, "progressive")
    if not getattr(frame, "interlaced_frame", False):
        return "progressive"
    shown = _first_field_shown(path)
    if shown is not None:
        return shown
    if context_order in _FIELD_ORDERS and context_order != 1:
        return _FIELD_ORDERS[context_order]
    return "bff" if codec == "dvvideo" else "tff"


def ffmpeg_path(path: str | os.PathLike) -> str:
    """``path`` as FFmpeg (the CLI, PyAV, decord) must be given it: absolute. FFmpeg reads a name
    such as ``10:20:30.mp4`` or ``.clip:1.mp4`` as a URL whose protocol is the part before the colon
    ("Protocol not found"); an absolute path starts with ``/`` and is always a file.

    ``/dev/stdin`` (``stdit denoise /dev/stdin < clip.mp4``), ``/dev/fd/N`` and ``/proc/self/fd/N``
    name a file through this process's descriptors; an FFmpeg child process has descriptors of its
    own (its stdin is the pipe stdit feeds it frames through), so they become the file they stand for."""
    absolute = os.path.abspath(path)
    if absolute.startswith(("/dev/", "/proc/")):
        target = os.path.realpath(absolute)
        if target != absolute and os.path.isfile(target):
            return target
    return absolute


def _open_container(path: Path) -> av.container.InputContainer:
    """Open with PyAV, turning the usual ways a path is not a video into one-line VideoErrors."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file (for every video in it: "
                         f"find {shlex.quote(str(path))} -name '*.mp4' | stdit denoise --inputs-from - -o OUT/)")  # fmt: skip
    if not path.is_file():  # a pipe (`cat clip.mp4 | stdit denoise /dev/stdin`), a device
        raise VideoError(f"{path}: not a regular file; stdit reads a video more than once (its noise level, then "
                         f"its frames): save it to a file first")  # fmt: skip
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    try:
        return av.open(ffmpeg_path(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise VideoError(f"{path}: not a readable video ({_one_line(e)})") from e


def _one_line(error: BaseException) -> str:
    """An exception's message cut to one line, without FFmpeg's errno or decord's source location."""
    if isinstance(error, av.FFmpegError) and error.strerror:
        return error.strerror
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return re.sub(r"^\[[\d:]+\] \S+:\d+: (Error: )?", "", text)  # "[01:00:39] video_reader.cc:486: "


#: x264's settings string, which it stores as SEI user data in the first access unit
_X264_SETTINGS = re.compile(rb"x264 - core \d+[^\x00]{0,4096}")
#: constant-quantiser rate control at quantiser 0: x264's lossless mode
_X264_LOSSLESS = re.compile(rb"\brc=cqp\b.*\bqp=0\b")


def _x264_settings(path: Path) -> bytes:
    """The x264 settings string of the first video packet (``b""`` when there is none or it cannot be read)."""
    try:
        with _open_container(path) as container:
            for packet in container.demux(_video_stream(container, path)):
                match = _X264_SETTINGS.search(bytes(packet))
                return match.group(0) if match else b""
    except (VideoError, av.FFmpegError):
        pass
    return b""


#: a SMPTE timecode as FFmpeg writes and reads it: HH:MM:SS:FF, drop-frame with ; or . before the frames
_TIMECODE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2,3}$")


def _sd_colour(context) -> tuple[str, str, str] | None:
    """(matrix, primaries, transfer) of a stream tagged with a BT.601 matrix; its primaries and
    transfer where tagged, else the matrix's own (BT.470BG: PAL, SMPTE 170M: NTSC)."""
    matrix = SD_MATRICES.get(int(context.colorspace or 0))
    if matrix is None:
        return None
    primaries = SD_PRIMARIES.get(int(context.color_primaries or 0), matrix)
    transfer = SD_TRANSFERS.get(int(context.color_trc or 0), "smpte170m")
    return matrix, primaries, transfer


def _timecode(container: av.container.InputContainer, video) -> str | None:
    """The first frame's timecode: the video stream's tag, a timecode (``tmcd``) track's, or the file's."""
    for metadata in (video.metadata, *(s.metadata for s in container.streams.data), container.metadata):
        for key, value in metadata.items():
            if key.lower() == "timecode" and _TIMECODE.match(str(value).strip()):
                return str(value).strip()
    return None


def _hdr10_metadata(frame: av.VideoFrame | None) -> str | None:
    """A frame's mastering display and content light level side data as x265 parameters (its units:
    chromaticity in 0.00002, luminance in 0.0001 cd/m2), or None where it has neither."""
    if frame is None:
        return None
    Type = av.sidedata.sidedata.Type
    params = []
    for side in frame.side_data.values():  # a Mapping of type -> side data (iterating it gives the types)
        data = bytes(side)
        if side.type == Type.MASTERING_DISPLAY_METADATA and len(data) >= 88:
            # AVMasteringDisplayMetadata: primaries r, g, b and the white point (x, y), min and max
            # luminance, as AVRationals (num, den int32), then has_primaries, has_luminance
            values = struct.unpack("<22i", data[:88])
            ratio = [values[i] / values[i + 1] if values[i + 1] else 0.0 for i in range(0, 20, 2)]
            (rx, ry, gx, gy, bx, by, wx, wy, low, high), (has_primaries, has_luminance) = ratio, values[20:22]
            if has_primaries and has_luminance:
                xy = [round(v * 50000) for v in (gx, gy, bx, by, rx, ry, wx, wy)]
                params.append("master-display=G({},{})B({},{})R({},{})WP({},{})".format(*xy)
                              + f"L({round(high * 10000)},{round(low * 10000)})")  # fmt: skip
        elif side.type == Type.CONTENT_LIGHT_LEVEL and len(data) >= 8:
            max_cll, max_fall = struct.unpack("<2I", data[:8])
            params.append(f"max-cll={max_cll},{max_fall}")
    return ":".join(params) or None


def _probe_heif(path: Path, container: av.container.InputContainer) -> VideoInfo:
    """A HEIF/AVIF photo (`heif`), as its assembled, upright picture shows it."""
    from stdit_cli.video.heif import assembled_picture, heif_tiles

    tile = container.streams.video[0]
    pix_fmt = tile.format.name if tile.format is not None else ""
    deep = _bits_of(pix_fmt) > 8
    height, width = assembled_picture(path, deep).shape[:2]
    return VideoInfo(path=path, width=width, height=height, num_frames=1, fps=Fraction(25), has_audio=False,
                     codec=tile.codec_context.name, duration_s=0.04, pix_fmt=pix_fmt,
                     heif_tiles=heif_tiles(container))  # fmt: skip


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video's size, frame count and exact frame rate from its container.

    Raises `VideoError` for a missing or empty file, a file that is not a video (text, audio
    only) and a video without frames. A folder of pictures is read as a video (`frame_folder`).
    """
    path = Path(path)
    if path.is_dir():  # a frame folder, or a one-line error saying what to do with a folder of videos
        from stdit_cli.video.frame_folder import probe_frame_folder

        return probe_frame_folder(path)
    with _open_container(path) as container:
        from stdit_cli.video.heif import heif_tiles  # imports this module

        if heif_tiles(container):
            return _probe_heif(path, container)
        stream = _video_stream(container, path)
        fps = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not fps:
            raise VideoError(f"{path}: the container gives no frame rate")
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            if stream.codec_context.name == "webp":  # FFmpeg decodes still WebP only
                raise VideoError(f"{path}: an animated WebP, which FFmpeg cannot decode (save its frames as "
                                 f"PNG pictures in a folder and denoise the folder)")  # fmt: skip
            raise VideoError(f"{path}: the video stream has no frame size")
        num_frames = stream.frames
        try:
            # a count (MP4, MOV: where edit lists live) may include the pre-roll the decoder drops
            preroll = num_frames > 0 and packets.starts_with_preroll(container, stream)
            if preroll:
                container.seek(0)
            if num_frames <= 0 or preroll:
                num_frames = packets.count_packets(container, stream)
        except av.FFmpegError as e:
            raise VideoError(f"{path}: corrupt video ({_one_line(e)})") from e
        if num_frames <= 0:
            raise VideoError(f"{path}: the video stream has no frames")
        fps = Fraction(fps)
        if container.duration:
            duration_s = container.duration / av.time_base
        else:
            duration_s = float(num_frames / fps)
        has_audio = len(container.streams.audio) > 0
        subtitle_streams = len(container.streams.subtitles)
        # video streams besides the one denoised (a second camera angle, a preview); cover art aside
        other_video_streams = sum(1 for s in container.streams.video if s is not stream and _stream_kind(s) == "video")
        codec = stream.codec_context.name
        alpha_side_channel = codec in ("vp8", "vp9") and str(stream.metadata.get("alpha_mode", "")).strip() == "1"
        sample_aspect_ratio = _pixel_shape(stream)
        stream_index = stream.index
        pix_fmt = stream.format.name if stream.format is not None else ""
        profile = stream.codec_context.profile or ""
        hdr_transfer = HDR_TRANSFERS.get(int(stream.codec_context.color_trc or 0))
        sd_colour = _sd_colour(stream.codec_context)
        context_field_order = int(getattr(stream.codec_context, "field_order", 0) or 0)
        timecode = _timecode(container, stream)
        seeks_by_index = packets.seeks_by_index(container)
    x264_lossless = codec == "h264" and _X264_LOSSLESS.search(_x264_settings(path)) is not None
    with _open_container(path) as container:  # from the start again, to decode the first frame
        frame = first_frame(container, _video_stream(container, path))
        if _is_image(container):
            # a photo: its EXIF says. Not the frame's side data: FFmpeg 8 attaches a type PyAV 18 does
            # not know to a PNG with both EXIF and a colour profile, and reading it raises, then
            # crashes the process when the frame is freed
            orientation, rotation_deg = orientation_from_exif(path), 0.0
            opaque_alpha = _has_alpha_plane(pix_fmt) and _alpha_is_opaque(frame)
            pages = _tiff_pages(path) if codec == "tiff" else 1
        else:
            pages = 1
            # a video: its first frame does not speak for the others, and an animation's are read whole
            opaque_alpha = codec in _ANIMATION_CODECS and _has_alpha_plane(pix_fmt) and _animation_is_opaque(path, stream_index)
            orientation, rotation_deg = read_orientation(frame)
        untagged_hd = frame is not None and source_matrix(frame) == Colorspace.ITU709
    if sample_aspect_ratio is not None and orientation in TRANSPOSING:  # turned upright: the pixel turns too
        sample_aspect_ratio = 1 / sample_aspect_ratio
    field_order = _field_order(path, context_field_order, codec, frame)
    hdr10_metadata = _hdr10_metadata(frame) if hdr_transfer == "smpte2084" else None
    width, height = display_size(width, height, orientation)
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        num_frames=num_frames,
        fps=fps,
        has_audio=has_audio,
        codec=codec,
        duration_s=duration_s,
        orientation=orientation,
        rotation_deg=rotation_deg,
        pix_fmt=pix_fmt,
        profile=profile,
        x264_lossless=x264_lossless,
        hdr_transfer=hdr_transfer,
        sd_colour=sd_colour,
        subtitle_streams=subtitle_streams,
        field_order=field_order,
        timecode=timecode,
        hdr10_metadata=hdr10_metadata,
        opaque_alpha=opaque_alpha,
        alpha_side_channel=alpha_side_channel,
        sample_aspect_ratio=sample_aspect_ratio,
        other_video_streams=other_video_streams,
        pages=pages,
        seeks_by_index=seeks_by_index,
        preroll=preroll,
        untagged_hd=untagged_hd,
    )
