"""16-bit pictures: a 16-bit PNG or TIFF (a film scan, a render, a raw developer's export) is
written back in 16 bits per sample, with its colour profile and descriptive tags.

Pillow, which writes stdit's 8-bit pictures (`image_writer`), has no 16-bit RGB mode, so:

- PNG: FFmpeg's PNG encoder through PyAV (``rgb48be``, the samples bit-exact). The metadata chunks
  (``iCCP``: the colour profile; ``eXIf``: camera, date, location) are the ones Pillow writes for
  the same options, taken from a 1x1 PNG Pillow writes with them and placed after the header, so a
  16-bit PNG carries exactly what an 8-bit one would.
- TIFF: tifffile (deflate with the horizontal predictor, the samples bit-exact), the colour profile
  (tag 34675) and the source's descriptive baseline tags (:data:`TIFF_TAGS`: description, make,
  model, orientation, date, artist, copyright). The EXIF sub-IFD (exposure, date taken) of a camera
  TIFF is not copied; scans and renders rarely carry one.

JPEG, WebP and BMP hold 8 bits: a 16-bit frame written as one of those is rounded once, and the
pipeline says so (`caveats.bits_lost`).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np

#: Pillow format names that :func:`save_16_bit` writes in 16 bits per sample
DEEP_FORMATS = frozenset({"PNG", "TIFF"})

#: baseline TIFF tags copied from the source picture: (tag, tifffile type); ImageDescription goes
#: through tifffile's ``description``
TIFF_TAGS = {
    271: "s",  # Make
    272: "s",  # Model
    274: "H",  # Orientation
    306: "s",  # DateTime
    315: "s",  # Artist
    33432: "s",  # Copyright
}
_IMAGE_DESCRIPTION = 270

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG chunks that hold the picture itself, not its metadata
_PNG_IMAGE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def save_16_bit(path: str | Path, frame: np.ndarray, image_format: str, exif: bytes | None = None,
                icc_profile: bytes | None = None) -> None:  # fmt: skip
    """Write ``frame`` (uint16 RGB ``[H, W, 3]``) to ``path`` as a 16-bit ``image_format`` (one of
    :data:`DEEP_FORMATS`), with ``exif`` (Pillow's ``Exif.tobytes()``) and ``icc_profile``."""
    if frame.dtype != np.uint16 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be uint16 [H, W, 3], got {frame.dtype} {list(frame.shape)}")
    if image_format == "PNG":
        Path(path).write_bytes(_png_16_bit(frame, exif, icc_profile))
    elif image_format == "TIFF":
        _save_tiff_16_bit(path, frame, exif, icc_profile)
    else:
        raise ValueError(f"{image_format} holds 8 bits per sample; 16-bit formats: {sorted(DEEP_FORMATS)}")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG file's chunks as ``(type, data)``, in order."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    chunks, at = [], len(_PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length  # length, type, data, CRC
    return chunks


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_16_bit(frame: np.ndarray, exif: bytes | None, icc_profile: bytes | None) -> bytes:
    """The PNG file: FFmpeg's 16-bit encode, with the metadata chunks Pillow writes for these options."""
    import av
    from PIL import Image

    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt, encoder.time_base = frame.shape[1], frame.shape[0], "rgb48be", 1
    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb48be")
    encoded = b"".join(bytes(packet) for packet in [*encoder.encode(picture), *encoder.encode(None)])
    carrier = io.BytesIO()  # Pillow's metadata chunks, on a picture of one pixel
    options = {**({"exif": exif} if exif else {}), **({"icc_profile": icc_profile} if icc_profile else {})}
    Image.new("RGB", (1, 1)).save(carrier, format="PNG", **options)
    metadata = [(kind, data) for kind, data in _png_chunks(carrier.getvalue()) if kind not in _PNG_IMAGE_CHUNKS]
    replaced = {kind for kind, _ in metadata}
    chunks = [(kind, data) for kind, data in _png_chunks(encoded) if kind not in replaced]
    # the header first, then the metadata (a colour profile must come before the image data)
    ordered = [chunks[0], *metadata, *chunks[1:]]
    return _PNG_SIGNATURE + b"".join(_png_chunk(kind, data) for kind, data in ordered)


def _save_tiff_16_bit(path: str | Path, frame: np.ndarray, exif: bytes | None, icc_profile: bytes | None) -> None:
    import tifffile
    from PIL import Image

    tags = Image.Exif()
    if exif:
        tags.load(exif)
    extratags = [(tag, kind, 1 if kind == "H" else 0, tags[tag], True) for tag, kind in TIFF_TAGS.items() if tag in tags]
    tifffile.imwrite(path, frame, photometric="rgb", compression="zlib", predictor=True, iccprofile=icc_profile,
                     description=tags.get(_IMAGE_DESCRIPTION), metadata=None, software=False, extratags=extratags)  # fmt: skip
