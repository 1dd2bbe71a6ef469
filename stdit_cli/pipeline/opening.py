"""Open a video and read its frame sample, if need be in a thread while the model loads.

Before its first window, ``stdit denoise`` imports torch and diffusers and loads the weights
(about 1.8 s on a 2-core CPU), then opens the video, decodes a few frames spread over it and
measures their noise (about 0.25 s more). The second part needs none of the first: PyAV and
numpy release the GIL while they decode and compute, so :class:`BackgroundOpening` runs it on
another core during the imports, and the first video's start-up costs the longer of the two
instead of their sum. Later videos of a batch find the model loaded and open in the caller's
thread (:func:`open_video`).

The only step that needs the model is the learned level of ``--noise real``
(:mod:`stdit_cli.pipeline.learned_level`): it runs on :attr:`Opening.sample` once the weights
are in.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

from stdit_cli.batch.interrupts import shielded
from stdit_cli.host_memory import limit_malloc_arenas
from stdit_cli.pipeline.flat_areas import picture
from stdit_cli.pipeline.gray import frames_are_gray
from stdit_cli.pipeline.made_areas import made_parts
from stdit_cli.pipeline.noise_kind import binned_2x2
from stdit_cli.pipeline.noise_level import estimate_sigma_255, estimate_sigma_255_from_luma
from stdit_cli.video import VideoInfo, VideoReader, cheap_frame_sample
from stdit_cli.video.reader import DECODE_AHEAD
from stdit_cli.video.depth import to_8_bits
from stdit_cli.video.fields import split_fields

#: frames sampled across the video: its noise level when no ``--sigma N`` is given, and whether it is a still
SIGMA_SAMPLE_FRAMES = 8

#: most mean absolute difference (0..255) between consecutive sampled frames of a still: 0 for a
#: photo stored as a lossless clip, at most 0.01 once H.264-encoded (CRF 20-28); moving footage
#: 8-16 and static footage with noise of std 1 already about 1.1
STILL_MEAN_ABS_DIFF = 0.5

#: decoder of the streaming pass. decord decodes ahead in a background thread with no bound
#: when its consumer is slower than it (dmlc/decord#208, #304): on a 600-frame 854x480 clip read
#: at the model's pace it held 580-680 MiB, growing with the length. PyAV decodes on demand
#: (flat at 92 MiB) at the same 89 frames/s, so the one pass over the video uses PyAV.
STREAM_DECODER = "pyav"


@dataclass
class Opening:
    """An open video and what was decoded from it before the streaming pass.

    The reader belongs to whoever holds the opening: close it (``with opening.reader:``).
    """

    reader: VideoReader
    #: ``[n, H, W, 3]`` frames spread over the video, as the reader reads them (uint8, or uint16 for deep video)
    sample: np.ndarray
    #: their frame indices, sorted and unique
    picks: np.ndarray
    #: the sample's white-noise level by patch PCA (on luma for 4:2:0/4:2:2 video, whose colour
    #: planes hold low-passed noise); None when no level is read
    white: float | None
    #: the same measured on the sample binned 2x2 (``stdit_cli.pipeline.noise_kind``); None when no level is
    #: read, or the frames are too small for it once binned
    binned: float | None = None
    #: the learned level of the sample, once read, by the estimator that read it (``LearnedNoiseLevel.source``):
    #: the black-and-white weights read theirs with the estimator their training labelled with
    learned: dict[str, float] = field(default_factory=dict)
    #: ``[3]``: how many levels dark, per channel, the decoder's YUV -> RGB conversion read the sample
    #: (``VideoReader.decode_bias``); None where it is not measured (RGB, deep video, decord)
    decode_bias: np.ndarray | None = None
    #: whether the sample is a made picture with no noise (a screen recording, a slide, flat-shaded
    #: animation: ``stdit_cli.pipeline.flat_areas``), read with its level: it is denoised at level 0
    noise_free: bool = False
    #: ``(rows, cols)`` of the filmed part of a sample that is part made (a screen recording with a
    #: webcam in it: ``stdit_cli.pipeline.made_areas``), inside its bars: its level is read there, and
    #: each frame's made part comes out as it went in; None for a picture made or filmed throughout
    filmed: tuple[slice, slice] | None = None

    @property
    def still(self) -> bool:
        """Whether every sampled frame shows the same picture (a photo or a frozen frame stored as a
        video): the temporal window then holds one noisy picture several times over. False when
        nothing was sampled."""
        return same_picture(to_8_bits(self.sample))

    @property
    def level_frames(self) -> np.ndarray:
        """The sample as the model will see it, in 8 bits, for its noise level: the frames, or for
        interlaced video their fields (`stdit_cli.video.fields`), inside their bars (`flat_areas.picture`),
        and inside the filmed part of a part-made picture (:attr:`filmed`)."""
        inside = level_frames(self.sample, self.reader.info)
        return inside if self.filmed is None else inside[(slice(None), *self.filmed)]

    @property
    def leading(self) -> np.ndarray:
        """The sampled frames that open the video (0, 1, ... k-1): the streaming pass starts after them
        instead of decoding them again. On a short clip that is the whole sample."""
        count = int(np.sum(self.picks == np.arange(len(self.picks))))
        return self.sample[:count]


def same_picture(frames_uint8: np.ndarray) -> bool:
    """Whether ``[n, H, W, C]`` uint8 frames (n >= 1) all show one picture, within :data:`STILL_MEAN_ABS_DIFF`."""
    if len(frames_uint8) == 0:
        return False
    # pair by pair, stopping at the first that moves: one [H, W, C] int16 difference at a time
    for frame, following in zip(frames_uint8[:-1], frames_uint8[1:]):
        if np.abs(np.subtract(following, frame, dtype=np.int16)).mean() > STILL_MEAN_ABS_DIFF:
            return False
    return True


def level_frames(sample: np.ndarray, info: VideoInfo) -> np.ndarray:
    """``sample`` as the model sees it, as uint8 (what the level estimates read: `video.depth`):
    interlaced video as its fields; inside letterbox, pillarbox or canvas bars, which hold no
    noise (`stdit_cli.pipeline.flat_areas`)."""
    sample = to_8_bits(sample)
    return picture(split_fields(sample, info.field_order) if info.interlaced else sample)


def _decoded(reader: VideoReader, picks: np.ndarray) -> np.ndarray:
    """Frames ``picks`` of ``reader``, one by one (each may follow a seek): ``[n, H, W, 3]``."""
    return np.concatenate([reader.read(int(i), int(i) + 1) for i in picks])


def read_sample(reader: VideoReader, measure: bool = True) -> Opening:
    """Decode the level sample of an open video (a few frames near keyframes: no long seeks) and,
    with ``measure``, measure its white noise."""
    picks = cheap_frame_sample(len(reader), reader.keyframes(), SIGMA_SAMPLE_FRAMES)
    sample = _decoded(reader, picks)
    if same_picture(to_8_bits(sample)):
        # one picture so far: a still, or a title card or black intro before the footage, which in a
        # short clip of one GOP was the whole sample (read as no noise). Look past it where that costs
        # at most DECODE_AHEAD frames decoded per place; only such videos pay for it
        wider = cheap_frame_sample(len(reader), reader.keyframes(), SIGMA_SAMPLE_FRAMES, ahead=DECODE_AHEAD)
        if not np.array_equal(wider, picks):
            picks, sample = wider, _decoded(reader, wider)
    opening = measured(reader, sample, picks) if measure else Opening(reader, sample, picks, white=None)
    opening.decode_bias = reader.decode_bias()
    return opening


def measured(reader: VideoReader, frames: np.ndarray, picks: np.ndarray | None = None) -> Opening:
    """An opening of ``reader`` whose sample is ``frames`` (its indices ``picks``; default 0, 1, ...),
    inside their bars: whether they are noise-free or part made (:func:`made_parts`), and their white
    noise measured (patch PCA at full resolution and binned 2x2; in a part-made picture, on its filmed
    part). The pipeline reads the level of each shot of an edited video this way, from its first
    frames (`pipeline.shots`)."""
    picks = np.arange(len(frames)) if picks is None else picks
    inside = level_frames(frames, reader.info)
    noise_free, filmed = made_parts(inside)
    white, binned = white_levels(inside if filmed is None else inside[(slice(None), *filmed)], reader.info.chroma_subsampled)
    return Opening(reader, frames, picks, white=white, binned=binned, noise_free=noise_free, filmed=filmed)


def white_levels(frames_uint8: np.ndarray, chroma_subsampled: bool) -> tuple[float, float | None]:
    """The white-noise level of ``[n, H, W, 3]`` uint8 frames by patch PCA (on luma when the video's
    colour is subsampled, and so carries low-passed colour noise; not when the frames are gray and
    carry none: their level is the plane's own), and the same on the frames binned 2x2 (None where
    they are too small for it)."""
    subsampled_noise = chroma_subsampled and not frames_are_gray(frames_uint8)
    estimate = estimate_sigma_255_from_luma if subsampled_noise else estimate_sigma_255
    white = estimate(frames_uint8)
    try:
        binned = estimate(binned_2x2(frames_uint8))
    except ValueError:  # frames too small once binned: the noise's kind is not read
        binned = None
    return white, binned


def open_video(path: str | os.PathLike, read_level: bool) -> Opening:
    """Open ``path`` for the streaming pass, at its own bit depth (uint16 frames for more than 8 bits
    per sample), and decode its sample (:func:`read_sample`: whether it is a still is read either
    way); with ``read_level``, measure the sample's noise too."""
    reader = VideoReader(path, backend=STREAM_DECODER, bit_depth=None)
    try:
        return read_sample(reader, measure=read_level)
    except BaseException:
        reader.close()
        raise


class BackgroundOpening:
    """:func:`open_video` in a thread, for the caller to :meth:`take` once it is ready for it.

    A context manager: the thread starts on entering; leaving waits for it and closes the video
    unless it was taken, so a failure or an interrupt in between (the model not loading, Ctrl-C)
    never leaves a container open, or closed while the thread still decodes from it. An error in
    the thread (a file that does not decode) is raised by :meth:`take`.
    """

    def __init__(self, path: str | os.PathLike, read_level: bool):
        self._path, self._read_level = path, read_level
        self._opening: Opening | None = None
        self._error: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="stdit-open", daemon=True)

    def _run(self) -> None:
        try:
            self._opening = open_video(self._path, self._read_level)
        except BaseException as error:  # handed to the caller's thread by take()
            self._error = error

    def __enter__(self) -> "BackgroundOpening":
        limit_malloc_arenas()  # before a thread allocates (stdit_cli.host_memory)
        try:
            with shielded():  # under stdit's InterruptGuard an interrupt waits until start() has returned
                self._thread.start()
        except BaseException:
            self.__exit__(None, None, None)  # no `with` body will run: wait for the thread and close
            raise
        return self

    def take(self) -> Opening:
        """Wait for the thread; the opening is then the caller's (its reader to close)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._taken = True
        return self._opening

    def __exit__(self, *exc_info) -> None:
        if self._thread.is_alive():
            self._thread.join()
        if self._opening is not None and not self._taken:
            self._opening.reader.close()
