"""What a video stream's packets say, read without decoding: which become frames, and whether a
seek lands where it asks.

A reader numbers frames by the packets it indexes at open (`reader`), so the index must hold
exactly the packets a decoder turns into frames shown:

- not an edit list's pre-roll (an MP4/MOV trimmed without re-encoding, by a phone's or
  QuickTime's Trim or ``ffmpeg -ss -c copy``, keeps the GOP before the cut: decoded, not shown;
  the demuxer marks its packets discarded);
- not the head of a stream cut part-way through a GOP (a broadcast .ts recording, or one cut with
  a byte-level tool: its first packets need frames the file does not hold, and decoders drop
  them), :func:`decodable_packets`.

Counted as frames, either made every read of such a file end early ("the stream ended after 81 of
120 frames"). Random access: :data:`UNINDEXED_FORMATS`.
"""

from __future__ import annotations

import av

#: containers FFmpeg seeks in by estimating byte positions, not by an index (MPEG transport and
#: program streams: broadcast and camcorder .ts/.m2ts/.mts, DVD .vob/.mpg; raw elementary streams):
#: a seek there may land past the keyframe it asked for, where nothing decodes until the next one
#: (a two-GOP .ts failed with "the stream ended after 50 of 100 frames"). Such a video is read
#: from its start only: no random access (its level sample comes from its first frames).
UNINDEXED_FORMATS = frozenset({"mpegts", "mpegtsraw", "mpeg", "mpegvideo", "h264", "hevc", "vvc", "m4v", "vc1",
                               "cavsvideo", "avs2", "dirac"})  # fmt: skip


def seeks_by_index(container: av.container.InputContainer) -> bool:
    """Whether random access in ``container`` lands where it asks (see :data:`UNINDEXED_FORMATS`)."""
    return not UNINDEXED_FORMATS.intersection(container.format.name.split(","))


def count_packets(container: av.container.InputContainer, stream) -> int:
    """How many frames the stream's packets decode into (a demux pass, no decoding)."""
    return len(index_packets(container, stream))


def index_packets(container: av.container.InputContainer, stream) -> list[tuple[int | None, bool]]:
    """Demux (no decoding) the stream's packets that decode into frames shown: ``(pts, is_keyframe)``
    in file order (no edit list's pre-roll, :func:`decodable_packets`)."""
    return [(pts, key) for pts, key, _ in index_packets_timed(container, stream)]


def index_packets_timed(container: av.container.InputContainer, stream) -> list[tuple[int | None, bool, int | None]]:
    """:func:`index_packets` with each packet's duration: ``(pts, is_keyframe, duration)``."""
    packets = [(p.pts, bool(p.is_keyframe), p.duration, bool(p.is_discard)) for p in container.demux(stream) if p.size > 0]
    # the edit list's pre-roll decodes (the frames after it refer to it) but is not shown: not a frame
    return [(pts, key, duration) for pts, key, duration, discard in decodable_packets(packets) if not discard]


def starts_with_preroll(container: av.container.InputContainer, stream) -> bool:
    """Whether the stream starts with packets its decoder discards: the pre-roll of an edit list (an
    MP4/MOV trimmed without re-encoding, by a phone's or QuickTime's Trim or ``ffmpeg -ss -c copy``,
    keeps the GOP before the cut and marks its frames as not shown). Demuxes up to the first packet
    that is shown."""
    for packet in container.demux(stream):
        if packet.size > 0:
            return bool(packet.is_discard)
    return False


def decodable_packets(packets: list[tuple]) -> list[tuple]:
    """The packets (``(pts, is_keyframe, ...)``, file order) a decoder turns into frames.

    A stream cut part-way through a GOP (a broadcast .ts recording, or one cut with a byte-level
    tool) starts with packets that need frames the file does not hold: decoders drop them, and
    the pictures shown before the first keyframe with them. Counted as frames, they made every
    read of such a file end early ("the stream ended after 50 of 65 frames"). Where the first
    packet is a keyframe (or no packet says it is one), all are kept.
    """
    first = next((i for i, packet in enumerate(packets) if packet[1]), 0)
    if first == 0 or packets[first][0] is None:
        return packets
    start = packets[first][0]
    return [packet for packet in packets[first:] if packet[0] is None or packet[0] >= start]


def first_shown_pts(container: av.container.InputContainer, video) -> int | None:
    """When the first frame a decoder gives is shown: the stream's start, or where the stream was cut
    part-way through a GOP (:func:`decodable_packets`), its first keyframe's."""
    for packet in container.demux(video):
        if packet.size == 0:
            continue
        if packet.is_keyframe or packet.pts is None:
            return video.start_time
        break
    container.seek(0)  # a stream cut mid-GOP: its first keyframe
    for packet in container.demux(video):
        if packet.size and packet.is_keyframe:
            return packet.pts
    return video.start_time
