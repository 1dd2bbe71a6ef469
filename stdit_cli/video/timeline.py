"""When each frame is shown: the timestamps of a variable-frame-rate video, kept in its output.

Phones drop their frame rate in low light (30 fps outdoors, 15-24 indoors, within one clip), and
screen recordings and edited clips change it too: such a video's frames are not evenly spaced.
stdit numbers frames as it reads them; for a video whose frames are further than
:data:`VFR_TOLERANCE_FRAMES` of an interval from an even spacing at the average rate, the reader
also hands over their presentation times (:class:`FrameTimes`), and the writer stamps each
denoised frame with its input frame's time (`writer`), so motion and audio stay where they were.
Evenly spaced video (and jitter under half an interval) is written at its constant rate, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

#: a frame further than this many frame intervals from a constant-rate timeline makes the video
#: "variable frame rate" (half an interval: at the average rate it would be shown in another slot)
VFR_TOLERANCE_FRAMES = 0.5


def timeline_deviation_s(frame_times_s: np.ndarray | None, fps: Fraction) -> float:
    """How far (seconds) the frames are from where a constant `fps` would show them."""
    if frame_times_s is None or len(frame_times_s) < 2 or not np.isfinite(frame_times_s).all():
        return 0.0
    times_s = np.sort(frame_times_s)
    constant_s = times_s[0] + np.arange(len(times_s)) / float(fps)
    return float(np.abs(times_s - constant_s).max())


def is_variable_rate(frame_times_s: np.ndarray | None, fps: Fraction) -> bool:
    """True when some frame is further than :data:`VFR_TOLERANCE_FRAMES` from a constant `fps`."""
    return timeline_deviation_s(frame_times_s, fps) > VFR_TOLERANCE_FRAMES / float(fps)


@dataclass(frozen=True)
class FrameTimes:
    """The presentation time of each frame of a video, in order.

    Attributes:
        pts: each frame's time in ``time_base`` units, relative to the first frame (so the first is
            0), strictly increasing.
        time_base: the unit of ``pts`` in seconds (the source stream's, e.g. 1/90000 or 1/600).
        end: when the last frame stops being shown (its pts plus its duration), None where the
            source does not say: then the last frame lasts as long as the one before it.
    """

    pts: tuple[int, ...]
    time_base: Fraction
    end: int | None = None

    def __post_init__(self):
        if len(self.pts) < 2 or self.pts[0] != 0 or any(b <= a for a, b in zip(self.pts, self.pts[1:])):
            raise ValueError("pts must start at 0 and increase strictly, with at least two frames")
        if self.time_base <= 0:
            raise ValueError(f"time_base must be positive, got {self.time_base}")
        if self.end is not None and self.end <= self.pts[-1]:
            raise ValueError(f"end ({self.end}) must come after the last frame ({self.pts[-1]})")

    @classmethod
    def from_packets(cls, pts: list[int], durations: list[int | None], time_base: Fraction) -> FrameTimes | None:
        """Times from a stream's packets, their pts and durations in file (decode) order; None when
        they cannot time the frames one by one (fewer than two, a packet without pts, or two frames
        at the same time)."""
        if None in pts or len(pts) < 2 or len(set(pts)) != len(pts):
            return None
        first = min(pts)
        last = max(range(len(pts)), key=pts.__getitem__)  # the packet of the frame shown last
        end = pts[last] + durations[last] - first if durations[last] else None
        return cls(tuple(p - first for p in sorted(pts)), Fraction(time_base), end)

    def __len__(self) -> int:
        return len(self.pts)

    def last_interval(self) -> int:
        """How long the last frame is shown: until :attr:`end`, or as long as the one before it."""
        return (self.end if self.end is not None else 2 * self.pts[-1] - self.pts[-2]) - self.pts[-1]

    def pts_of(self, index: int) -> int:
        """Frame ``index``'s time; past the last frame, one :meth:`last_interval` per frame further."""
        if index < len(self.pts):
            return self.pts[index]
        return self.pts[-1] + (index - len(self.pts) + 1) * self.last_interval()

    def duration_of(self, index: int) -> int:
        """How long frame ``index`` is shown: until the next frame (the last: :meth:`last_interval`)."""
        return self.pts_of(index + 1) - self.pts_of(index)

    def seconds(self) -> np.ndarray:
        """Each frame's time in seconds."""
        return np.asarray(self.pts, dtype=np.float64) * float(self.time_base)
