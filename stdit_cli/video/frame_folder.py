"""A folder of numbered pictures as a video: in (probe, read) and out (written back as pictures).

Research footage is passed around as frame folders (Vid4 and SIDD as PNG, DAVIS as JPEG, raw
developers' exports as TIFF), and a film scan or a render arrives the same way. `stdit denoise
frames/` reads such a folder as a video: its pictures of one extension (:data:`FRAME_SUFFIXES`),
in natural order (``f2.png`` before ``f10.png``), at :data:`FOLDER_FPS` frames/s (pictures carry no
timing). Other files in the folder (a README, a `.txt` list) are left alone; a folder that also
holds videos (a camera card's DCIM folder) is refused with a hint, not read as frames. The output is a folder
beside it, ``frames.denoised/``, with a picture of the same name and format for every input picture
(written by :class:`~stdit_cli.video.image_writer.ImageWriter`, so PNG, TIFF and BMP are lossless,
JPEG quality 95, each picture's EXIF kept), or a video with ``-o name.mp4``.

The output folder appears whole or not at all: the pictures are written into a hidden temporary
folder beside it, which is renamed into place once the last one is written (an existing output,
replaced under ``--overwrite``, is moved aside first and removed after the rename).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from stdit_cli.batch.interrupts import shielded
from stdit_cli.video.atomic import PublishOnSuccess, publish, temporary_name
from stdit_cli.video.colour import frame_to_rgb
from stdit_cli.video.image_writer import IMAGE_FORMATS, ImageWriter, stored_bits, stores_losslessly
from stdit_cli.video.probe import VideoError, VideoInfo, _one_line, ffmpeg_path

#: picture extensions a frame folder may hold (what :class:`ImageWriter` writes back)
FRAME_SUFFIXES = tuple(IMAGE_FORMATS)
#: frame rate of a frame folder, whose pictures carry no timing (FFmpeg's image2 default)
FOLDER_FPS = Fraction(25)
#: video extensions (`scripts/denoise_dir.sh`'s): a folder holding any is no frame folder (a camera
#: card's DCIM folder holds photos and clips; its photos are not frames of one video)
VIDEO_EXTENSIONS = frozenset(f".{e}" for e in "mp4 m4v mov mkv webm avi mts m2ts ts mpg mpeg wmv flv 3gp".split())


def _natural_key(name: str) -> list:
    """``f10.png`` after ``f2.png``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def frame_files(folder: Path) -> tuple[str, ...]:
    """The names of the pictures in ``folder`` that make its frames, in natural order; () when it
    holds none. Raises `VideoError` when it mixes picture formats (``.png`` and ``.jpg``), or holds
    videos beside its pictures (a camera card's folder, not a video's frames)."""
    by_suffix: dict[str, list[str]] = {}
    videos = 0
    for entry in os.scandir(folder):
        suffix = os.path.splitext(entry.name)[1].lower()
        videos += suffix in VIDEO_EXTENSIONS and not entry.name.startswith(".")
        if suffix in FRAME_SUFFIXES and not entry.name.startswith(".") and entry.is_file():
            by_suffix.setdefault(".jpg" if suffix == ".jpeg" else ".tif" if suffix == ".tiff" else suffix, []).append(entry.name)
    if len(by_suffix) > 1:
        counts = ", ".join(f"{len(names)} {suffix}" for suffix, names in sorted(by_suffix.items()))
        raise VideoError(f"{folder}: its pictures are of several formats ({counts}); a frame folder holds one")
    names = next(iter(by_suffix.values()), [])
    if names and videos:
        raise VideoError(f"{folder}: holds videos beside its {len(names)} pictures, so it is not read as frames "
                         f"(for every video in it: find {shlex.quote(str(folder))} -name '*.mp4' | stdit denoise --inputs-from - -o OUT/; "
                         f"for every picture: stdit denoise {shlex.quote(str(folder))}/*{os.path.splitext(names[0])[1]} -o OUT/)")  # fmt: skip
    return tuple(sorted(names, key=_natural_key))


#: photo formats read one by one, not as frames (an iPhone's HEIC: `heif`)
PHOTO_ONLY_SUFFIXES = (".heic", ".heif", ".avif")


def _not_frames(folder: Path) -> VideoError:
    photos = sorted({os.path.splitext(e.name)[1] for e in os.scandir(folder)
                     if os.path.splitext(e.name)[1].lower() in PHOTO_ONLY_SUFFIXES and not e.name.startswith(".")})  # fmt: skip
    if photos:  # a phone's photos: each one denoised on its own
        return VideoError(f"{folder}: holds {photos[0]} photos, which are not read as frames of a video "
                          f"(for every photo: stdit denoise {shlex.quote(str(folder))}/*{photos[0]} -o OUT/)")  # fmt: skip
    return VideoError(f"{folder}: is a folder with no pictures ({', '.join(FRAME_SUFFIXES)}) to read as frames "
                      f"(for every video in it: find {shlex.quote(str(folder))} -name '*.mp4' | "
                      "stdit denoise --inputs-from - -o OUT/)")  # fmt: skip


def _decode_picture(path: Path) -> av.VideoFrame:
    try:
        with av.open(ffmpeg_path(path)) as container:
            for frame in container.decode(video=0):
                return frame
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise VideoError(f"{path}: not a readable picture ({_one_line(e)})") from e
    raise VideoError(f"{path}: not a readable picture (no image in it)")


def probe_frame_folder(folder: Path) -> VideoInfo:
    """A frame folder's `VideoInfo`: its first picture's size and format, one frame per picture."""
    names = frame_files(folder)
    if not names:
        raise _not_frames(folder)
    first = _decode_picture(folder / names[0])
    with av.open(ffmpeg_path(folder / names[0])) as container:
        codec = container.streams.video[0].codec_context.name
    return VideoInfo(
        path=folder,
        width=first.width,
        height=first.height,
        num_frames=len(names),
        fps=FOLDER_FPS,
        has_audio=False,
        codec=codec,
        duration_s=float(len(names) / FOLDER_FPS),
        pix_fmt=first.format.name,
        frame_files=names,
    )


def check_folder_output(info: VideoInfo, lossless: bool | None) -> None:
    """Raise `VideoError` (one line) when ``--lossless`` asks a folder of JPEG frames back as JPEG frames."""
    if lossless and info.frame_files and IMAGE_FORMATS[Path(info.frame_files[0]).suffix.lower()][0] == "JPEG":
        raise VideoError(f"{info.path}: its JPEG frames cannot be written back losslessly "
                         "(drop --lossless, or name a video output: -o NAME.mkv)")  # fmt: skip


class FolderFrames:
    """A frame folder as a `VideoReader` backend: each picture decoded on its own (random access is free)."""

    def __init__(self, info: VideoInfo, bit_depth: int = 8):
        self.info = info
        self.num_frames = len(info.frame_files)
        self.keyframes = list(range(self.num_frames))
        self._format, self._dtype = ("rgb24", np.uint8) if bit_depth == 8 else ("rgb48le", np.uint16)

    def read(self, start: int, stop: int) -> np.ndarray:
        shape = (self.info.height, self.info.width, 3)
        frames = np.empty((stop - start, *shape), dtype=self._dtype)  # [t, H, W, 3]
        for i in range(start, stop):
            path = self.info.path / self.info.frame_files[i]
            rgb = frame_to_rgb(_decode_picture(path), self._format)
            if rgb.shape != shape:
                raise VideoError(f"{path}: is {rgb.shape[1]}x{rgb.shape[0]}, the folder's first picture "
                                 f"{shape[1]}x{shape[0]} (a frame folder holds pictures of one size)")  # fmt: skip
            frames[i - start] = rgb
        return frames

    def frame_times_s(self) -> None:
        """Pictures carry no timing: nothing to check."""
        return None

    def close(self) -> None:
        pass


def default_folder_output(folder: Path) -> Path:
    """``<folder>.denoised`` beside the input folder."""
    return folder.with_name(f"{folder.name}.denoised")


def count_frames(folder: Path) -> int | None:
    """Pictures in a frame folder written by :class:`FrameFolderWriter`, or None when ``folder`` is no such folder."""
    if not folder.is_dir():
        return None
    try:
        return len(frame_files(folder)) or None
    except VideoError:
        return None


class FrameFolderWriter(PublishOnSuccess):
    """Write frames as a folder of pictures named ``names``, atomically, as a context manager.

    Args:
        path: the output folder (it must not exist, unless it is to be replaced).
        width, height: the frame size, checked on ``write``.
        names: a file name per frame, in order (the input folder's: the format follows each name).
        lossless, full_chroma, bit_depth, half_width_chroma: as :class:`ImageWriter`'s, for every picture.
        sources: the input folder, whose picture of the same name gives each output its EXIF.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, names: tuple[str, ...], lossless: bool = False,
                 full_chroma: bool = False, sources: str | os.PathLike | None = None, bit_depth: int = 8,
                 half_width_chroma: bool = False):  # fmt: skip
        self.path = Path(path)
        self._replaces = self.path.exists()  # as `VideoWriter`'s: never an output another run wrote meanwhile
        if not self.path.parent.is_dir():
            raise VideoError(f"{self.path}: the output folder {self.path.parent} does not exist")
        self.width, self.height, self.names = int(width), int(height), tuple(names)
        self._options = {"lossless": lossless, "full_chroma": full_chroma, "bit_depth": bit_depth, "half_width_chroma": half_width_chroma}
        self._sources = None if sources is None else Path(sources)
        self.frames_written = 0
        self._closed = False
        self._temp = self._make_temp_folder()
        #: whether every picture stores its frame bit-exactly
        self.lossless = stores_losslessly(names[0], lossless)
        #: bits per sample stored, and what the output is in words (the caveat when a source has more)
        self.stored_bits = stored_bits(names[0], bit_depth)
        self.stored_as = f"{self.stored_bits}-bit pictures"

    def _make_temp_folder(self) -> Path:
        for _ in range(100):
            temp = temporary_name(self.path, keep_suffix=False)
            try:
                with shielded():  # created and recorded together, so abort() always finds it
                    temp.mkdir()
                    self._temp = temp
                return temp
            except FileExistsError:
                continue
            except OSError as e:
                raise VideoError(f"{self.path}: cannot write in {self.path.parent} ({e.strerror})") from e
        raise VideoError(f"{self.path}: cannot find a free temporary name in {self.path.parent}")

    def write(self, frames: np.ndarray) -> None:
        """Append frames ``[t, H, W, 3]`` (the dtype the options say), one picture each."""
        if self._closed:
            raise ValueError("write() on a closed FrameFolderWriter")
        if self.frames_written + len(frames) > len(self.names):
            raise VideoError(f"{self.path}: more frames than the {len(self.names)} names to write them under")
        for frame in frames:
            name = self.names[self.frames_written]
            source = None if self._sources is None else self._sources / name
            # pictures are read as stored (no EXIF turn: a frame folder's frames share one size), so each
            # keeps its source's `Orientation`, and viewers turn it as they turned the input
            with ImageWriter(self._temp / name, self.width, self.height, exif_source=source, upright=False, **self._options) as picture:
                picture.write(frame[None])
            self.frames_written += 1

    def close(self) -> None:
        """Move the folder into place once every frame is written; abort on any failure."""
        if self._closed:
            return
        try:
            if self.frames_written != len(self.names):
                raise VideoError(f"{self.path}: wrote {self.frames_written} of {len(self.names)} frames")
            replaced = None
            with shielded():  # the old output goes aside and the new one comes in, together
                if self._replaces and self.path.exists():
                    replaced = temporary_name(self.path, "old", keep_suffix=False)
                    os.replace(self.path, replaced)
                try:
                    publish(self._temp, self.path, replace=False)
                except FileExistsError:
                    raise VideoError(f"{self.path}: another run wrote this output while this one was working; it is kept and this "
                    f"result was dropped (--overwrite replaces it)") from None
                self._closed = True
            if replaced is not None:
                shutil.rmtree(replaced, ignore_errors=True)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Remove the temporary folder; no output appears. Safe to call twice."""
        self._closed = True
        temp = getattr(self, "_temp", None)
        if temp is not None and temp.exists() and temp != self.path:
            with shielded():
                shutil.rmtree(temp, ignore_errors=True)
