"""The codec, pixel format and colour tags of a `VideoWriter`'s output: FFmpeg's output options.

Output containers: .mp4, .m4v, .mov and .mkv (an image extension, `.png` or `.jpg` say, writes one
frame as a picture instead: `stdit_cli.video.image_writer`, chosen by :func:`open_writer`). Codecs:
- default: H.264 (libx264, `-crf 16 -preset medium` here; `stdit denoise` asks for `veryfast` at
  CRF 10), tagged BT.709, `yuv420p` for the widest playback support. H.264 cannot store 4:2:0
  video of odd width or height, so odd sizes are encoded `yuv444p` (High 4:4:4 profile) rather
  than padded or rescaled: the size stays exact,
  at the cost of players without 4:4:4 support (some browsers and hardware decoders).
  `full_chroma=True` asks for `yuv444p` at any size (`stdit denoise` does for RGB and 4:4:4 sources),
  `half_width_chroma=True` for `yuv422p` (4:2:2 sources: ProRes 422, a camera's 4:2:2 10-bit, MJPEG
  4:2:2; x264 High 4:2:2, x265 Main 4:2:2 10), so that their colour keeps its vertical resolution.
  `hdr_transfer` (HLG `arib-std-b67` or PQ `smpte2084`, the input's) writes BT.2020 instead, tagged
  with that transfer: frames read from HDR video hold its BT.2020 HLG/PQ signal, and tagged BT.709
  a player would show them washed out. The output is 8-bit: smooth HDR gradients may band.
- lossless=True: bit-exact RGB, `libx264rgb -qp 0` in .mp4/.m4v/.mov, FFV1 in .mkv.
- `bit_depth=16`: the frames are uint16 RGB from a source of more than 8 bits per sample (a phone's
  10-bit HDR video, 10/12-bit camera files), piped as `rgb48le` and stored in more than 8 bits, so
  smooth gradients do not band: H.264 players decode 8 bits only (Apple's, browsers', most hardware),
  so a lossy output is HEVC Main 10 (libx265, 4:2:0 or 4:4:4 10-bit, tagged `hvc1` in .mp4/.mov for
  Apple players) at the CRF asked, two presets faster (:func:`x265_preset`); interlaced frames H.264 High 10
  (x265 codes no interlaced fields). Lossless: FFV1 16-bit RGB in .mkv (bit-exact), HEVC lossless
  12-bit RGB in .mp4/.mov (what that container can hold: the frames to 1/4096). HDR10 video's
  static metadata (mastering display, content light level: how bright it was graded) goes into
  the HEVC stream again, so TVs tone-map it as they did the input; FFV1 has no place for it, so a
  lossless HDR10 output in .mkv is lossless 12-bit HEVC too (from a 10-bit source, nothing is lost
  that 16 bits would keep beyond a 1/4096 rounding of the denoised values).
- `field_order` ("tff"/"bff"): the frames are woven fields of interlaced video (`fields`); they are
  flagged with that order, converted to 4:2:0 field by field and coded interlaced by x264.
"""

from __future__ import annotations

from fractions import Fraction

#: containers of the MP4 family (QuickTime's): `-movflags`, the `hvc1` tag
MP4_LIKE = (".mp4", ".m4v", ".mov")

#: bits per sample of the frames a writer takes: uint8 or uint16 RGB
BIT_DEPTHS = (8, 16)

#: x264 presets from slow to fast: a deep output's x265 runs :data:`X265_PRESET_STEPS` further on
_X264_PRESETS = ("placebo", "veryslow", "slower", "slow", "medium", "fast", "faster", "veryfast", "superfast", "ultrafast")
#: x265 costs several times x264's CPU at the same preset name. Two steps faster and at the same CRF
#: (x264 ``veryfast`` -> x265 ``ultrafast``) it stored denoised 10-bit DAVIS clips more faithfully
#: than the 8-bit H.264 output (+0.13 to +0.26 dB against the clean frames) in fewer bytes
#: (0.79-0.94x), for 2.2-2.8x the encoder's CPU; ``veryfast`` at CRF 12 gained +0.05 to +0.21 for
#: 5.1-5.8x (``scripts/benchmark_deep_video.py``, ``scripts/results/2026-12-06_deep_video.md``)
X265_PRESET_STEPS = 2
X265_CRF_OFFSET = 0


def x265_preset(x264_preset: str) -> str:
    """The x265 preset a deep output uses where 8-bit video would use ``x264_preset``."""
    if x264_preset not in _X264_PRESETS:
        return x264_preset  # let x265 refuse it, in FFmpeg's words
    return _X264_PRESETS[min(_X264_PRESETS.index(x264_preset) + X265_PRESET_STEPS, len(_X264_PRESETS) - 1)]


def _deep_codec_args(suffix: str, lossless: bool, crf: int, preset: str, layout: str,
                     field_order: str | None, hdr10: str | None = None) -> list[str]:  # fmt: skip
    """The codec and pixel format of a deep (``bit_depth=16``) output (the colour conversion and tags
    are :func:`video_codec_args`'s): see the module docstring. ``hdr10``: HDR10 static metadata
    in x265's words (`VideoInfo.hdr10_metadata`), written as SEI into the HEVC stream."""
    if lossless and suffix == ".mkv" and hdr10 is None:
        return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gbrp16le"]
    apple = ["-tag:v", "hvc1"] if suffix in MP4_LIKE else []  # QuickTime and iOS play HEVC tagged hvc1, not hev1
    grade = "" if hdr10 is None else f":hdr10=1:{hdr10}"
    if lossless:
        return ["-c:v", "libx265", "-x265-params", f"lossless=1:log-level=error{grade}", "-preset", x265_preset(preset),
                "-pix_fmt", "gbrp12le", *apple]  # fmt: skip
    pix_fmt = f"yuv{layout}p10le"
    if field_order is not None:
        return ["-c:v", "libx264", "-crf", str(crf), "-preset", preset, "-pix_fmt", pix_fmt, "-flags", "+ilme+ildct"]
    params = "log-level=error" + grade
    return ["-c:v", "libx265", "-crf", str(crf + X265_CRF_OFFSET), "-preset", x265_preset(preset), "-x265-params", params,
            "-pix_fmt", pix_fmt, *apple]  # fmt: skip


def chroma_layout(width: int, height: int, full_chroma: bool, half_width_chroma: bool = False) -> str:
    """``"444"``, ``"422"`` or ``"420"``: the colour resolution of a lossy output. 4:4:4 for a full
    colour source (RGB, 4:4:4), 4:2:2 for a 4:2:2 one, else 4:2:0; 4:4:4 where the subsampled
    layout cannot hold the size (4:2:0 needs an even width and height, 4:2:2 an even width)."""
    if full_chroma:
        return "444"
    if half_width_chroma:
        return "422" if width % 2 == 0 else "444"
    return "420" if width % 2 == 0 and height % 2 == 0 else "444"


def stored_format(suffix: str, lossless: bool, bit_depth: int, field_order: str | None,
                  hdr10: str | None = None) -> tuple[int, str]:  # fmt: skip
    """(bits per sample, in words) of what :func:`video_codec_args` stores."""
    if bit_depth == 8:
        return 8, "8-bit"
    if lossless:
        return (16, "16-bit FFV1") if suffix == ".mkv" and hdr10 is None else (12, "12-bit lossless HEVC")
    return 10, "10-bit H.264" if field_order is not None else "10-bit HEVC"


def video_codec_args(
    suffix: str, width: int, height: int, lossless: bool, crf: int, preset: str, full_chroma: bool = False,
    hdr_transfer: str | None = None, field_order: str | None = None, bit_depth: int = 8, hdr10: str | None = None,
    half_width_chroma: bool = False, sd_colour: tuple[str, str, str] | None = None,
) -> list[str]:
    """FFmpeg output options for the video stream (see the module docstring for the choices).
    ``half_width_chroma``: the source is 4:2:2 (a camera's, ProRes), kept so when lossy.
    ``sd_colour``: (matrix, primaries, transfer) of an SD source tagged with a BT.601 matrix
    (`VideoInfo.sd_colour`): converted with that matrix and tagged as it was, not as BT.709."""
    # interlaced frames: flagged with their field order and, in H.264, coded as fields (x264's
    # interlaced mode follows the frames' field flags)
    fields = [] if field_order is None else [f"field_mode={field_order}"]
    interlaced = [] if field_order is None else ["-flags", "+ilme+ildct"]
    # RGB outputs carry the HDR signal's primaries and transfer as tags (their matrix is GBR); set on
    # the frames, where FFmpeg 7 takes them from (`-color_trc` as an output option is overridden)
    sd_colour = sd_colour if hdr_transfer is None else None
    rgb_colour = [] if sd_colour is None else [f"color_primaries={sd_colour[1]}", f"color_trc={sd_colour[2]}"]
    if hdr_transfer is not None:
        rgb_colour = ["color_primaries=bt2020", f"color_trc={hdr_transfer}"]
    rgb_params = fields + rgb_colour
    rgb_tags = ["-vf", "setparams=" + ":".join(rgb_params)] if rgb_params else []
    layout = chroma_layout(width, height, full_chroma, half_width_chroma)
    if bit_depth == 16 and lossless:
        return [*_deep_codec_args(suffix, True, crf, preset, layout, field_order, hdr10), *rgb_tags]
    if lossless and suffix == ".mkv":
        return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "bgr0", *rgb_tags]
    if lossless:
        return ["-c:v", "libx264rgb", "-qp", "0", "-preset", preset, "-pix_fmt", "rgb24", *rgb_tags, *interlaced]
    pix_fmt = f"yuv{layout}p" + ("10le" if bit_depth == 16 else "")
    # Convert with the BT.709 matrix and say so (matrix, primaries, transfer): untagged, FFmpeg
    # would convert with BT.601 and players would guess, often BT.709, shifting the colours.
    # HDR input: the BT.2020 matrix, primaries and the input's transfer instead.
    # SD tagged BT.601: that matrix, its primaries and transfer, as the source was tagged.
    matrix, space, primaries, transfer = ("bt709",) * 4 if hdr_transfer is None else ("bt2020", "bt2020nc", "bt2020", hdr_transfer)
    if sd_colour is not None:
        space, primaries, transfer = sd_colour
        matrix = "bt470" if space == "bt470bg" else "smpte170m"  # the scale filter's names
    to_yuv = (
        f"scale=out_color_matrix={matrix}:out_range=tv:interl={1 if field_order else 0}:flags=accurate_rnd+full_chroma_int,format={pix_fmt},"
        f"setparams=colorspace={space}:color_primaries={primaries}:color_trc={transfer}:range=tv"
        + "".join(f":{param}" for param in fields)
    )
    if bit_depth == 16:
        return ["-vf", to_yuv, *_deep_codec_args(suffix, False, crf, preset, layout, field_order, hdr10)]
    return ["-vf", to_yuv, "-c:v", "libx264", "-crf", str(crf), "-preset", preset, *interlaced]


def with_pixel_shape(codec_args: list[str], sample_aspect_ratio: Fraction | None) -> list[str]:
    """``codec_args`` whose frames carry ``sample_aspect_ratio`` (non-square pixels: DV, DVD,
    anamorphic video), which the encoder writes into the stream and the container: the output is
    displayed at the input's shape. Square pixels (None) leave the arguments as they are."""
    if sample_aspect_ratio is None or sample_aspect_ratio == 1:
        return codec_args
    setsar = f"setsar={sample_aspect_ratio.numerator}/{sample_aspect_ratio.denominator}"
    if "-vf" not in codec_args:
        return [*codec_args, "-vf", setsar]
    at = codec_args.index("-vf") + 1
    return [*codec_args[:at], f"{codec_args[at]},{setsar}", *codec_args[at + 1 :]]
