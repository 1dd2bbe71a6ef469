"""Write a denoised still as an image file, atomically: a photo in, a photo out.

`stdit denoise photo.png` reads the picture as a one-frame video; what a user expects back is
`photo.denoised.png`, not a one-frame MP4. :class:`ImageWriter` takes the place of
:class:`~stdit_cli.video.writer.VideoWriter` for an output named `.png`, `.jpg`/`.jpeg`,
`.tif`/`.tiff`, `.bmp` or `.webp`, with the same interface (``write``, ``close``, ``abort``, a
context manager) and the same guarantee: the file appears, complete, only when everything
succeeded (a temporary file beside it, then ``os.replace``).

Formats (Pillow): PNG, TIFF (deflate) and BMP are lossless; WebP is lossless when asked (as for
a lossless input), else quality 95; JPEG is always lossy (quality 95, its colour at full
resolution for an RGB or 4:4:4 source, else 4:2:0 like most cameras' JPEGs): a JPEG output named
by the user is what they asked for, and only an explicit ``--lossless`` is refused
(:func:`check_image_output`, before any work). Pixels are written upright as decoded. The source
photo's EXIF (date taken, camera, exposure, location) and colour profile (a phone's Display P3) are
copied where the format holds them (not BMP), its `Orientation` set to 1: the pixels are upright.
uint16 frames (``bit_depth=16``, from a 16-bit PNG or TIFF: a film scan, a render) are written as
16-bit PNG or TIFF, metadata included (`deep_image`: Pillow has no 16-bit RGB mode); JPEG, WebP and
BMP hold 8 bits, so there they are rounded to 8 bits once, at the end. Until 2026-12-06 every
image was written in 8 bits.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stdit_cli.batch.interrupts import shielded
from stdit_cli.video.atomic import PublishOnSuccess, publish, temporary_name
from stdit_cli.video.deep_image import DEEP_FORMATS, save_16_bit
from stdit_cli.video.depth import to_8_bits
from stdit_cli.video.probe import VideoError

#: output extensions written as one image; each maps to (Pillow format, always lossless)
IMAGE_FORMATS = {
    ".png": ("PNG", True),
    ".tif": ("TIFF", True),
    ".tiff": ("TIFF", True),
    ".bmp": ("BMP", True),
    ".webp": ("WEBP", False),
    ".jpg": ("JPEG", False),
    ".jpeg": ("JPEG", False),
}
IMAGE_SUFFIXES = tuple(IMAGE_FORMATS)
#: EXIF `Orientation` (TIFF tag 274)
_ORIENTATION = 0x0112
#: TIFF tags that lay out a TIFF's pixels (size, samples, compression, strips, tiles, colour model,
#: subsampling): a TIFF source's EXIF (its first IFD) holds them, and copied into the output they
#: would describe the source's pixels, not the written ones (a CMYK scan's four samples made the
#: RGB output unreadable). Pillow's own values for the written picture stay.
_TIFF_LAYOUT_TAGS = frozenset({254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281,
                               284, 292, 293, 317, 320, 322, 323, 324, 325, 330, 332, 338, 339, 340, 341, 347,
                               512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532})  # fmt: skip
#: quality of the lossy formats (JPEG, lossy WebP): visually transparent, about 2 bits a pixel
LOSSY_QUALITY = 95


def is_image_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an image output (by its extension)."""
    return Path(path).suffix.lower() in IMAGE_FORMATS


def stores_losslessly(path: str | os.PathLike, lossless: bool) -> bool:
    """Whether an image named ``path`` is written bit-exactly: PNG, TIFF and BMP always, WebP when
    ``lossless`` is asked, JPEG never."""
    image_format, always = IMAGE_FORMATS[Path(path).suffix.lower()]
    return always or (lossless and image_format == "WEBP")


def check_image_output(path: str | os.PathLike, num_frames: int, lossless: bool | None = None) -> None:
    """Raise `VideoError` (one line) when ``path`` is an image output that cannot hold this result:
    more than one frame, or ``lossless`` (``--lossless`` given) asked of a JPEG. Nothing to check
    for a video output."""
    path = Path(path)
    if not is_image_path(path):
        return
    if num_frames != 1:
        raise VideoError(f"{path}: an image holds one frame and the input has {num_frames} "
                         f"(name the output .mp4, .mkv, .mov or .m4v)")  # fmt: skip
    if lossless and IMAGE_FORMATS[path.suffix.lower()][0] == "JPEG":
        raise VideoError(f"{path}: JPEG cannot store the output losslessly (name it .png, or drop --lossless)")


def stored_bits(path: str | os.PathLike, bit_depth: int) -> int:
    """Bits per sample an image named ``path`` stores of frames of ``bit_depth``: 16 for 16-bit
    frames in PNG or TIFF, else 8."""
    return 16 if bit_depth == 16 and IMAGE_FORMATS[Path(path).suffix.lower()][0] in DEEP_FORMATS else 8


def _png_colour_chunks(info: dict):
    """A PNG source's colour chunks as Pillow read them (gAMA, cHRM, sRGB: how its values map to light;
    viewers that honour gAMA show a picture without it at another gamma), to write into the output;
    None where it has none. Pillow writes them after IHDR, before the image data, as PNG asks."""
    import struct

    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    if "gamma" in info:
        chunks.add(b"gAMA", struct.pack(">I", round(float(info["gamma"]) * 100000)))
    if "chromaticity" in info and len(info["chromaticity"]) == 8:
        chunks.add(b"cHRM", struct.pack(">8I", *(round(float(value) * 100000) for value in info["chromaticity"])))
    if "srgb" in info:
        chunks.add(b"sRGB", bytes([int(info["srgb"])]))
    return chunks if chunks.chunks else None


class ImageWriter(PublishOnSuccess):
    """Write one RGB frame ``[1, H, W, 3]`` (uint8; uint16 with ``bit_depth=16``) to an image file,
    atomically, as a context manager.

    Args:
        path: the output file; one of :data:`IMAGE_SUFFIXES`.
        width, height: the frame size, checked on ``write``.
        lossless: for WebP, lossless instead of quality 95; PNG, TIFF and BMP are lossless and JPEG
            lossy whatever it says (:attr:`lossless` says what was written).
        full_chroma: for JPEG, colour at full resolution (4:4:4) instead of 4:2:0.
        half_width_chroma: for JPEG (without ``full_chroma``), 4:2:2 (a camera's JPEGs) instead of 4:2:0.
        exif_source: an image whose EXIF and colour profile the output takes (None, or a file that
            is not an image Pillow reads: none).
        bit_depth: 8 (default): a uint8 frame; 16: a uint16 frame, written in 16 bits as PNG or
            TIFF, rounded to 8 bits in the other formats (:attr:`stored_bits` says which).
        upright: the frame is written upright, so the copied EXIF `Orientation` is set to 1 (default);
            False: as the source stored it (a frame folder's pictures), its `Orientation` kept.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, lossless: bool = False,
                 full_chroma: bool = False, exif_source: str | os.PathLike | None = None, bit_depth: int = 8,
                 half_width_chroma: bool = False,
                 upright: bool = True):  # fmt: skip
        self.path = Path(path)
        self._replaces = self.path.exists()  # as `VideoWriter`'s: never an output another run wrote meanwhile
        suffix = self.path.suffix.lower()
        if suffix not in IMAGE_FORMATS:
            raise VideoError(f"{self.path}: not an image extension (use one of {', '.join(IMAGE_SUFFIXES)})")
        self.format = IMAGE_FORMATS[suffix][0]
        #: whether the file stores the frame bit-exactly
        self.lossless = stores_losslessly(self.path, lossless)
        self.width, self.height = int(width), int(height)
        self.full_chroma = full_chroma
        self.half_width_chroma = half_width_chroma
        self.exif_source = exif_source
        self.upright = upright
        if bit_depth not in (8, 16):
            raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
        self._dtype = np.uint8 if bit_depth == 8 else np.uint16
        #: bits per sample stored, and what the file is in words (the caveat when a source has more)
        self.stored_bits = stored_bits(self.path, bit_depth)
        self.stored_as = "a 16-bit image" if self.stored_bits == 16 else "an 8-bit image"
        self.frames_written = 0
        self._frame: np.ndarray | None = None
        self._closed = False
        if not self.path.parent.is_dir():
            raise VideoError(f"{self.path}: the output folder {self.path.parent} does not exist")

    def write(self, frames: np.ndarray) -> None:
        """Take the frame, RGB ``[1, H, W, 3]`` of the writer's dtype (a second frame is an error)."""
        if self._closed:
            raise ValueError("write() on a closed ImageWriter")
        expected = (self.height, self.width, 3)
        if not isinstance(frames, np.ndarray) or frames.dtype != self._dtype or frames.shape[1:] != expected:
            got = f"{getattr(frames, 'dtype', type(frames).__name__)} {list(getattr(frames, 'shape', []))}"
            raise ValueError(f"frames must be a {np.dtype(self._dtype).name} numpy array [t, {self.height}, {self.width}, 3], got {got}")
        if self.frames_written + len(frames) > 1:
            raise VideoError(f"{self.path}: an image holds one frame")
        if len(frames):
            frame = frames[0] if self.stored_bits == 16 else to_8_bits(frames[0])
            self._frame = np.ascontiguousarray(frame)
            self.frames_written = 1

    def _source_metadata(self) -> dict:
        """``exif``, ``icc_profile`` and (PNG from PNG) ``pnginfo`` save options from :attr:`exif_source` (nothing for BMP)."""
        if self.exif_source is None or self.format == "BMP":
            return {}
        from PIL import Image, UnidentifiedImageError

        from stdit_cli.video.heif import pillow_reads_heif

        pillow_reads_heif()  # a HEIC's profile and EXIF, where pillow-heif is installed
        try:
            with Image.open(self.exif_source) as source:
                exif, icc = source.getexif(), source.info.get("icc_profile")
                colour = _png_colour_chunks(source.info) if source.format == "PNG" and self.format == "PNG" else None
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError):  # not an image (a video): nothing to copy
            return {}
        for tag in _TIFF_LAYOUT_TAGS & set(exif):
            del exif[tag]
        if _ORIENTATION in exif and self.upright:
            exif[_ORIENTATION] = 1  # written upright
        return {**({"exif": exif.tobytes()} if len(exif) else {}), **({"icc_profile": icc} if icc else {}),
                **({"pnginfo": colour} if colour is not None else {})}  # fmt: skip

    def _save_options(self) -> dict:
        if self.format == "JPEG":
            # Pillow's subsampling: 0 is 4:4:4, 1 is 4:2:2, 2 is 4:2:0
            return {"quality": LOSSY_QUALITY, "subsampling": 0 if self.full_chroma else 1 if self.half_width_chroma else 2}
        if self.format == "WEBP":
            return {"lossless": True} if self.lossless else {"quality": LOSSY_QUALITY}
        if self.format == "TIFF":
            return {"compression": "tiff_deflate"}
        return {}

    def close(self) -> None:
        """Encode the frame into a temporary file beside the output, then move it into place."""
        if self._closed:
            return
        self._closed = True
        if self._frame is None:
            raise VideoError(f"{self.path}: no frames were written")
        from PIL import Image  # with imageio: only where an image is written

        temp_path = temporary_name(self.path)
        try:
            try:
                if self.stored_bits == 16:
                    save_16_bit(temp_path, self._frame, self.format, **self._source_metadata())
                else:
                    options = {**self._save_options(), **self._source_metadata()}
                    Image.fromarray(self._frame, "RGB").save(temp_path, format=self.format, **options)
            except OSError as e:
                raise VideoError(f"{self.path}: cannot write the image ({e.strerror or e})") from e
            with shielded():  # the output appears and the temporary file goes, together
                try:
                    publish(temp_path, self.path, self._replaces)
                except FileExistsError:
                    raise VideoError(f"{self.path}: another run wrote this output while this one was working; it is kept and this "
                    f"result was dropped (--overwrite replaces it)") from None
        finally:
            temp_path.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop the frame; no output appears (nothing is on disk before ``close``). Safe to call twice."""
        self._closed = True
        self._frame = None
