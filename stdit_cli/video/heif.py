"""HEIF/AVIF photos (an iPhone's HEIC), read as FFmpeg's command line shows them: assembled and upright.

An iPhone saves every photo as HEIC: a HEIF tile grid, 512x512 HEVC tiles that make the picture
together, turned upright by its ``irot``/``imir`` properties. FFmpeg (7.1 on) reads the grid as a
stream group and assembles it; PyAV 18 does not expose stream groups and shows the tiles as
separate streams, so read through PyAV the first tile passed for the photo (a silent crop), and a
single-image HEIF came out unturned (its rotation is on the stream, not on the decoded frame).
Here the FFmpeg binary that ships with imageio-ffmpeg assembles the photo, upright, into one PNG in
memory (16-bit for a deep source: a 10-bit HDR HEIC keeps its depth), which PyAV then decodes: the
picture is read as a one-frame video (`probe`, `reader`) and written back as a picture
(`output_paths`: a HEIC comes back as PNG, the format that keeps every sample; stdit writes no
HEIF). FFmpeg's PNG holds neither the photo's colour profile (an iPhone's Display P3: without it the
PNG would read as sRGB, its colours duller) nor its EXIF (date, place); where pillow-heif is
installed (``pip install "stdit-cli[heic]"``) Pillow reads both from the HEIF and the writer copies
them (`image_writer`), else the probe says they are not kept (`caveats`).
"""

from __future__ import annotations

import functools
import io
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

from stdit_cli.video.probe import VideoError, VideoInfo

#: ISO base media brands of HEIF/AVIF still images (not their image sequences: ``msf1``, ``avis``)
STILL_BRANDS = frozenset({"heic", "heix", "heim", "heis", "mif1", "mif2", "avif"})


@functools.cache
def pillow_reads_heif() -> bool:
    """Whether Pillow opens HEIF/AVIF files (pillow-heif installed: its opener is registered here)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def tile_streams(container: av.container.InputContainer) -> int:
    """How many video streams are tiles of one picture (each only a part of it: FFmpeg's ``dependent``)."""
    return sum(1 for stream in container.streams.video if stream.disposition & av.stream.Disposition.dependent)


def heif_tiles(container: av.container.InputContainer) -> int:
    """For a HEIF/AVIF photo, the tiles it is stored as (1: one image); 0 for anything else."""
    tiles = tile_streams(container)
    if tiles > 1:
        return tiles
    return 1 if container.metadata.get("major_brand", "").strip() in STILL_BRANDS else 0


def assembled_picture(path: Path, deep: bool) -> np.ndarray:
    """The photo at ``path`` assembled and upright: uint8 RGB ``[H, W, 3]``, or uint16 with ``deep``."""
    stat = path.stat()
    return _assembled(str(path.resolve()), stat.st_mtime_ns, stat.st_size, deep).copy()


@functools.lru_cache(maxsize=2)  # the probe and the reader of one photo decode it once
def _assembled(path: str, mtime_ns: int, size: int, deep: bool) -> np.ndarray:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", path, "-frames:v", "1",
               "-f", "image2pipe", "-c:v", "png", "-pix_fmt", "rgb48be" if deep else "rgb24", "pipe:1"]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, check=False)
    except OSError as e:
        raise VideoError(f"{path}: cannot start ffmpeg to read the photo ({e})") from e
    if done.returncode != 0 or not done.stdout:
        cause = (done.stderr.decode(errors="replace").strip().splitlines() or ["no picture came out"])[0]
        raise VideoError(f"{path}: cannot read the photo ({cause})")
    with av.open(io.BytesIO(done.stdout), format="png_pipe") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb48le" if deep else "rgb24")


class HeifFrames:
    """The reader's backend for a HEIF/AVIF photo (`reader`): its one picture, assembled at open."""

    def __init__(self, info: VideoInfo, bit_depth: int = 8):
        self.info = info
        self.num_frames = 1
        self.keyframes = [0]
        self._picture = assembled_picture(info.path, deep=bit_depth == 16)  # [H, W, 3]

    def read(self, start: int, stop: int) -> np.ndarray:
        if self._picture is None:
            raise VideoError(f"{self.info.path}: read after close")
        return self._picture[None].copy()  # [1, H, W, 3]

    def frame_times_s(self) -> None:
        """A picture carries no timing."""
        return None

    def close(self) -> None:
        self._picture = None

