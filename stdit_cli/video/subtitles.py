"""Which subtitle streams of a source an output container can hold, and how FFmpeg copies them.

A film's subtitles, a lecture's captions, a drone's per-frame telemetry stored as a text track:
none of it is picture, and all of it belongs in the denoised file. The writer copies each
subtitle stream of its source into the output as that container stores subtitles:

| source subtitles | into .mkv | into .mp4 / .m4v / .mov |
|---|---|---|
| text (SubRip, ASS/SSA, WebVTT) | copied | converted to MP4's timed text (`mov_text`), styling dropped |
| MP4 timed text (`mov_text`) | converted to SubRip | copied |
| DVD bitmaps (`dvd_subtitle`) | copied | copied |
| other bitmaps (Blu-ray PGS, DVB) and anything else | copied | not kept (said as a warning) |

Into .mkv the file's attachments come along (the fonts styled ASS subtitles name).
When FFmpeg still refuses a stream (a codec it cannot mux there), the writer writes the file
without subtitles and says so, rather than fail the video.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdit_cli.video.encoding import MP4_LIKE

#: subtitles stored as text, which FFmpeg converts between text formats
TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"})
#: bitmap subtitles an MP4 holds as they are
MP4_BITMAP_CODECS = frozenset({"dvd_subtitle"})


@dataclass(frozen=True)
class SubtitlePlan:
    """The source's subtitle streams an output keeps, each with FFmpeg's codec for it."""

    #: (index among the source's subtitle streams, FFmpeg codec: "copy", "mov_text" or "srt")
    kept: tuple[tuple[int, str], ...]
    #: the source's subtitle codecs the output cannot hold
    dropped: tuple[str, ...]

    def ffmpeg_args(self, input_index: int) -> list[str]:
        """``-map`` and ``-c:s`` options taking the kept streams from FFmpeg input ``input_index``."""
        args: list[str] = []
        for position, (source_index, codec) in enumerate(self.kept):
            args += ["-map", f"{input_index}:s:{source_index}", f"-c:s:{position}", codec]
        return args


def subtitle_codec_for(codec: str, suffix: str) -> str | None:
    """FFmpeg's codec for a ``codec`` subtitle stream in a ``suffix`` output; None: not kept there."""
    if suffix == ".mkv":
        return "srt" if codec == "mov_text" else "copy"
    if suffix in MP4_LIKE:
        if codec == "mov_text" or codec in MP4_BITMAP_CODECS:
            return "copy"
        return "mov_text" if codec in TEXT_CODECS else None
    return None


def plan_subtitles(codecs: list[str], suffix: str) -> SubtitlePlan:
    """What a ``suffix`` output does with subtitle streams of these ``codecs`` (the source's order)."""
    kept, dropped = [], []
    for index, codec in enumerate(codecs):
        target = subtitle_codec_for(codec, suffix)
        if target is None:
            dropped.append(codec)
        else:
            kept.append((index, target))
    return SubtitlePlan(tuple(kept), tuple(dropped))


def not_kept_message(codecs: tuple[str, ...] | list[str], why: str) -> str:
    """``2 subtitle streams (hdmv_pgs_subtitle) not copied to the output: <why>``."""
    count = len(codecs)
    names = ", ".join(sorted(set(codecs)))
    return f"{count} subtitle stream{'s' if count > 1 else ''} ({names}) not copied to the output: {why}"
