"""Denoise one video file: decode → shots → windows/tiles → sampler + backbone → blend → encode.

``VideoDenoiser`` holds one loaded model for many videos (one model load per batch).
"""

from __future__ import annotations

import itertools
import logging
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from stdit_cli.host_memory import limit_malloc_arenas, release_free_memory, reuse_freed_memory
from stdit_cli.pipeline.background import BackgroundWriter, Prefetcher
from stdit_cli.pipeline.borders import EdgeMargin
from stdit_cli.pipeline.coarse_band import COARSE_FROM_LEVEL, MIN_COARSE_SIDE, CoarseBandBlender, half_size
from stdit_cli.pipeline.ensemble import ENSEMBLE_SIZES, Predictor, check_ensemble_size, self_ensemble
from stdit_cli.pipeline.flat_areas import picture
from stdit_cli.pipeline.gray import GrayFrames, decorrelated, frames_are_gray, gray_level, units_are_gray
from stdit_cli.pipeline.learned_level import LearnedNoiseLevel, blind_level, rms_level
from stdit_cli.pipeline.made_areas import MadeAreas, made_parts
from stdit_cli.pipeline.noise_kind import gaussian_level, reads_as_white, white_spread
from stdit_cli.pipeline.opening import (  # noqa: F401 (STREAM_DECODER: scripts)
    SIGMA_SAMPLE_FRAMES, STREAM_DECODER, Opening, measured, open_video, read_sample, same_picture, white_levels,
)
from stdit_cli.pipeline.options import DenoiseOptions, DenoiseResult, Strength
from stdit_cli.pipeline.sampler import DiffusionSampler
from stdit_cli.pipeline.shots import denoise_by_shot, several_scenes, with_signatures
from stdit_cli.pipeline.tiling import StreamingBlender, TileGrid, WindowPlan
from stdit_cli.runtime import autocast, cpu_has_native_fp16, resolve_device, resolve_precision, with_autocast_weights
from stdit_cli.video import VideoReader, VideoWarning, VideoWriter, open_writer
from stdit_cli.video.caveats import bits_lost
from stdit_cli.video.depth import to_8_bits
from stdit_cli.video.fields import split_chunks, weave_chunks
from stdit_cli.weights import Checkpoint, level_estimator_of

#: what a video read as a made picture with no noise is told (``flat_areas.noise_free``)
NOISE_FREE_NOTE = ("read as a made picture with no noise (areas of one exact colour: a screen recording, a slide, flat-shaded "
                   "animation), so it comes out nearly as it went in; give --sigma N to denoise it anyway")
#: what a video read as made in part (``made_areas``: a screen recording with a webcam in it) is told
PART_MADE_NOTE = ("read as a made picture (areas of one exact colour: a screen recording, a slide) with a filmed part in it: "
                  "only that part is denoised, at its own level, the rest comes out as it went in; give --sigma N to denoise all of it")

#: views of each window averaged by default (``stdit_cli.pipeline.ensemble``). One since 2026-12-03:
#: the half-resolution default costs about 4x the FLOPs of the 1/4-resolution one it replaced,
#: and one view keeps it near ffmpeg nlmeans' speed on a 2-core CPU (0.67-0.87x ``ffmpeg -vf nlmeans``
#: as typed on 40-frame clips, 1.2-1.3x nlmeans in yuv444p: README, Speed). ``--ensemble 2`` (the window
#: and its transpose) gains +0.35 dB at sigma 25 on the validation suite (+0.11 to +0.36 per clip,
#: +1.5 on the flat field) for twice the model time (``scripts/results/2026-12-03_quality_suite.md``;
#: with the second-stage weights and the edge margin +0.43, +0.06 to +1.85: ``..._quality_suite_hw2.md``).
#: Two views were the default from 2026-11-30 to 2026-12-03 (1/4-resolution unet: +0.19 / +0.23 /
#: +0.24 dB on Vid4 for 1.6x the model time)
DEFAULT_ENSEMBLE = 1
FAST_ENSEMBLE = 1
#: views by default for a still (every sampled frame the same picture: a photo stored as a clip).
#: Its window holds one noisy picture five times, so the frames add nothing; the transposed view
#: does. With the real-noise weights of 2026-12-04 night, 1 / 2 / 4 views: PolyU's 100 real-noise
#: photos as 5-frame clips 38.38 / 38.43 / 38.47 dB, crops above nlmeans' per-crop oracle 78 / 86 / 88;
#: synthetic camera-noise stills 28.22 / 28.25 / 28.14 (the rotated views lose there). Two gain on
#: both, for twice the model time (``scripts/results/2026-12-04_still_views.md``)
STILL_ENSEMBLE = 2
#: pixels a frame whose model time one view spends, as far as the default goes: the README speed
#: clip's 640x272. A smaller frame gets as many views as fit in it (:func:`views_for_size`: 176x144
#: four, 320x240 two), so a phone-call or thumbnail video spends on a better estimate what its size
#: saves, and never more model time a frame than a 640x272 video. 176x144, 10 frames, 1 / 4 views:
#: white noise sigma 10 / 25 / 50 33.45 / 28.61 / 25.54 -> 33.62 / 28.75 / 25.71 dB; camera noise +
#: H.264, 4 cameras, 27.35 -> 27.44; clean footage left closer to itself (+0.1 to +0.4 dB); the
#: loop 21 -> 61 ms a frame, against 93 for one view at 640x272 (2-core AMD EPYC, 2026-12-06,
#: ``scripts/results/2026-12-06_small_frame_views.md``)
VIEW_BUDGET_PIXELS = 640 * 272

#: frames shared by consecutive windows. 0: every frame goes through the model once per view.
#: With 2 views one shared frame (1.25 passes per frame) gained 0.01 dB on Vid4 for 1.25x the model
#: time (one view with one shared frame was the default until 2026-11-30)
DEFAULT_WINDOW_OVERLAP = 0

#: x264 (preset, CRF) of a lossy output. The encoder shares the CPU with the model, so its CPU time
#: is the whole process's. veryfast since 2026-12-03 (a third of the CPU of medium, a 10-frame
#: lookahead that leaves little to encode after the last window: ``scripts/benchmark_encoder.py``,
#: ``scripts/results/2026-12-03_encoder_854x480.md``). CRF 10 since 2026-12-05 (was 14): on
#: denoised 4:2:0 clips against their clean frames, +0.30 dB at sigma 10 and +0.06 at sigma 25
#: for the same CPU time and 1.5x the bytes, still no more than the noisy H.264 CRF 20 input took
#: (``scripts/benchmark_output_encode.py``, ``scripts/results/2026-12-05_output_encode.md``).
#: ``--fast``: superfast at CRF 9 (was 11), the same fidelity for 0.8x the CPU and 1.2x the bytes.
ENCODE = ("veryfast", 10)
FAST_ENCODE = ("superfast", 9)

#: forward passes between two hand-backs of free heap memory to the OS (``malloc_trim``). After
#: every pass, each activation of the next one was page-faulted back in (600 frames of 854x480:
#: 3.46 frames/s, peak 906 MiB); every 8th pass: 3.72 frames/s, 938 MiB (60 frames: 884 MiB)
RELEASE_MEMORY_EVERY = 8

#: decoded / denoised chunks held in each background queue
QUEUE_DEPTH = 2

#: ``progress(frames_done, frames_total)``
ProgressCallback = Callable[[int, int], None]


class NonFiniteGuard:
    """Re-run a batch in fp32 when reduced precision produced NaN/inf; warn once per video."""

    def __init__(self) -> None:
        self.warned = False

    def check(self, output: torch.Tensor) -> bool:
        # one reduction, no boolean temporary: a NaN or inf anywhere makes the sum non-finite (a
        # finite output large enough to overflow the sum is no denoised video either)
        return bool(torch.isfinite(output.sum()))

    def warn(self, precision: str) -> None:
        if not self.warned:
            warnings.warn(f"non-finite values in {precision}; re-running the affected windows in fp32", RuntimeWarning)
            self.warned = True


def _stream(frames: Iterator[np.ndarray], writer: VideoWriter, total: int, progress: ProgressCallback | None) -> int:
    """Encode denoised chunks in a background thread while the model works; return frames written."""
    if progress is not None:
        progress(0, total)
    done = 0
    with BackgroundWriter(writer.write, QUEUE_DEPTH) as encoder:
        for frames_uint8 in frames:
            encoder.submit(frames_uint8)
            done += len(frames_uint8)
            if progress is not None:
                progress(done, total)
    return done


class CompiledForward:
    """The backbone, optionally through ``torch.compile``; falls back to eager if compiling fails.

    Compilation happens lazily at the first call (that is where missing compilers or unsupported
    ops surface), so the fallback covers the whole first forward pass.
    """

    def __init__(self, model: torch.nn.Module, enabled: bool):
        self.model = model
        self.compiled = _try_compile(model) if enabled else None

    def __call__(self, *args, **kwargs):
        if self.compiled is not None:
            try:
                with warnings.catch_warnings():  # the compiler's notes on diffusers' code are not the user's business
                    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\._dynamo")
                    return self.compiled(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - any backend failure means: run eagerly
                warnings.warn(f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
                              "running eagerly", RuntimeWarning)  # fmt: skip
                self.compiled = None
        return self.model(*args, **kwargs)

    def __getattr__(self, name):
        # config, num_frames, token_grid, ...: whatever the adapters read from the backbone
        return getattr(self.model, name)


def _try_compile(model: torch.nn.Module):
    """``torch.compile`` of ``model``; shapes that change (a video's last, shorter window; edge
    tiles) are recompiled once as dynamic rather than per shape, and the compiler's own log (recompile
    notices, graph breaks) stays out of the user's terminal: a failure is one warning, below."""
    try:
        torch._logging.set_logs(dynamo=logging.ERROR, inductor=logging.ERROR)
        return torch.compile(model, dynamic=None)
    except Exception as error:  # noqa: BLE001 - e.g. unsupported Python or platform
        warnings.warn(f"torch.compile is unavailable ({type(error).__name__}); running eagerly", RuntimeWarning)
        return None


def auto_batch_size(predict, sampler: DiffusionSampler, unit: torch.Tensor, budget: float = 0.5, cap: int = 64) -> int:
    """Units per forward pass that fit in ``budget`` of the free CUDA memory, measured on one unit."""
    device = unit.device
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    baseline = torch.cuda.memory_allocated(device)
    with torch.inference_mode():
        sampler.denoise(predict, unit, 25.0, torch.Generator().manual_seed(0))
    torch.cuda.synchronize(device)
    per_unit = max(torch.cuda.max_memory_allocated(device) - baseline, 1)
    free, _ = torch.cuda.mem_get_info(device)
    return int(max(1, min(cap, budget * free // per_unit)))


def views_for_size(width: int, height: int) -> int:
    """The most views (1, 2, 4 or 8) whose model time on a ``width x height`` frame fits in one view's
    on :data:`VIEW_BUDGET_PIXELS` pixels."""
    fitting = [size for size in ENSEMBLE_SIZES if size * width * height <= VIEW_BUDGET_PIXELS]
    return max(fitting, default=1)


class VideoDenoiser:
    """A loaded checkpoint, placed on a device, ready to denoise video files."""

    def __init__(self, checkpoint: Checkpoint, options: DenoiseOptions):
        self.ensemble = options.ensemble
        if self.ensemble is None:
            self.ensemble = FAST_ENSEMBLE if options.fast else DEFAULT_ENSEMBLE
        check_ensemble_size(self.ensemble)  # before any work, not at the first window
        limit_malloc_arenas()  # before the decode/encode threads start
        reuse_freed_memory()  # before the first forward pass (stdit_cli.host_memory)
        self.checkpoint = checkpoint
        self.adapter = checkpoint.adapter
        self.options = options
        self.device = resolve_device(options.device)
        self.precision = resolve_precision(options.precision, self.device)
        if self.device.type == "cpu" and self.precision == "fp16" and not cpu_has_native_fp16():
            warnings.warn("--precision fp16 on this CPU runs in software, tens of times slower than fp32; "
                          "--precision auto (the default) picks bf16 where the CPU has it, else fp32", RuntimeWarning, stacklevel=2)  # fmt: skip
        # nn.Module.to, not diffusers' override: that imports torch._dynamo (stdit_cli.startup)
        self.model = self.adapter.prepare(torch.nn.Module.to(checkpoint.model, self.device)).eval()
        self.forward = CompiledForward(self.model, enabled=options.compile)
        # on a CPU in bf16, a copy with its weights already in bf16 (runtime.with_autocast_weights);
        # the fp32 model stays for a rerun after non-finite bf16 output
        self.lowered_forward = None
        if self.device.type == "cpu" and self.precision != "fp32":
            self.lowered_forward = CompiledForward(with_autocast_weights(self.model, self.precision), enabled=options.compile)
        self.sampler = DiffusionSampler(checkpoint.schedule, options.scheduler, options.steps, options.eta)
        window = int(self.model.num_frames)
        overlap = options.window_overlap
        if overlap is None:
            overlap = min(DEFAULT_WINDOW_OVERLAP, window - 1)
        self.plan = WindowPlan.from_overlap(window, overlap)
        default_tile, default_overlap = self.adapter.tiling_for(self.device)
        self.tile = options.tile or default_tile
        overlap = options.tile_overlap if options.tile_overlap is not None else default_overlap
        self.tile_overlap = min(overlap, self.tile // 2)
        if options.tile_overlap is not None and options.tile_overlap > self.tile_overlap:
            warnings.warn(f"--tile-overlap {options.tile_overlap} is more than half of --tile {self.tile}: "
                          f"tiles share {self.tile_overlap} pixels", RuntimeWarning, stacklevel=2)  # fmt: skip
        self.edge = EdgeMargin.for_model(self.adapter.edge_margin, self.model)
        # --noise real without --sigma N: the level is read by the learned estimator (loaded now:
        # a missing file fails before any video is opened)
        self.learned_level = None
        #: how the learned level becomes the level run: weights trained on an estimator's blind readings
        #: carry it and run at that reading (``blind_level``); weights trained on the RMS of their noise
        #: run at the learned estimate of it (``rms_level``)
        self.level_rule = rms_level
        if options.noise == "real" and options.sigma_255 is None:
            estimator = level_estimator_of(checkpoint)
            self.learned_level = LearnedNoiseLevel.shipped(folder=estimator)
            self.level_rule = blind_level if estimator is not None else rms_level

    def views_for(self, opening: Opening) -> int:
        """Views for this video: ``--ensemble`` (or ``--fast``'s), else :data:`STILL_ENSEMBLE` for a
        still and the default for anything that moves, or more where the frame is small (:func:`views_for_size`)."""
        info = opening.reader.info
        return self.still_views(info.width, info.height) if opening.still else self._sized(self.ensemble, info.width, info.height)

    def still_views(self, width: int, height: int) -> int:
        """Views for a still picture (a photo, or a one-frame shot) of ``width x height``: ``--ensemble``
        (or ``--fast``'s), else :data:`STILL_ENSEMBLE`, or more where it is small."""
        return self._sized(STILL_ENSEMBLE, width, height)

    def _sized(self, views: int, width: int, height: int) -> int:
        """``views`` by default, or :func:`views_for_size` if more; ``--ensemble`` and ``--fast`` decide instead."""
        if self.options.ensemble is not None or self.options.fast:
            return self.ensemble
        return max(views, views_for_size(width, height))

    def _predict(self, precision: str, views: int | None = None) -> Predictor:
        forward = self.lowered_forward if precision == self.precision and self.lowered_forward is not None else self.forward

        def predict(sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
            with autocast(self.device, precision):
                return self.adapter.predict(forward, sample, timestep)

        return self_ensemble(predict, views or self.ensemble)

    def batch_size_for(self, height: int, width: int) -> int:
        """``--batch-size``, or auto: 1 on CPU (measured fastest), else sized from free device memory."""
        if self.options.batch_size is not None:
            return self.options.batch_size
        if self.device.type != "cuda":
            return 1
        grid = TileGrid.cover(height, width, self.tile, self.tile_overlap)
        unit = torch.zeros(1, 3, self.plan.window, grid.tile_h, grid.tile_w)
        return auto_batch_size(self._predict(self.precision), self.sampler, unit.to(self.device))

    def _unit_denoiser(self, sigma_255: float, generator: torch.Generator, keep_input: float = 0.0,
                       views: int | None = None, noise_255: float | None = None,
                       shift_255: np.ndarray | None = None) -> Callable[[torch.Tensor], torch.Tensor]:  # fmt: skip
        """Denoise cut units (``[N, C, T, h, w]`` in ``[-1, 1]``) at ``sigma_255`` over ``views`` views
        (default: ``self.ensemble``), putting back ``keep_input`` of what was removed (``--strength`` below 1).

        With the Gaussian weights, gray units (a black-and-white video's) are first made to carry
        i.i.d. RGB noise (``gray.decorrelated``, from ``noise_255``, the level as read or given)
        and run at ``gray.gray_level(sigma_255)``. ``shift_255`` (``[3]``, levels on 0..255) is added
        to every output: the decoder's bias, put back (:meth:`decode_shift`)."""
        guard = NonFiniteGuard()
        # [3] levels -> [1, 3, 1, 1, 1] in the model's [-1, 1] units (a level is 2 / 255)
        shift = None if shift_255 is None else torch.as_tensor(np.asarray(shift_255) * 2.0 / 255.0, dtype=torch.float32).view(1, 3, 1, 1, 1)
        decorrelate = noise_255 is not None and self.options.noise == "gaussian"

        pin = self.device.type == "cuda"
        passes = itertools.count(1)

        @torch.inference_mode()
        def denoise_units(units: torch.Tensor) -> torch.Tensor:
            # units cut on the host: pinned memory lets the copy to the GPU run asynchronously
            if pin and units.device.type == "cpu":
                units = units.pin_memory()
            y_unit = units.to(self.device, non_blocking=True)
            gray = decorrelate and units_are_gray(y_unit)
            level, model_input = (gray_level(sigma_255), decorrelated(y_unit, noise_255, generator)) if gray else (sigma_255, y_unit)
            padded, inside = self.edge.pad(model_input)
            state = generator.get_state()
            output = self.sampler.denoise(self._predict(self.precision, views), padded, level, generator)
            finite = guard.check(output)
            if not finite and self.precision != "fp32":
                guard.warn(self.precision)
                generator.set_state(state)
                output = self.sampler.denoise(self._predict("fp32", views), padded, level, generator)
                finite = guard.check(output)
            if not finite:  # in fp32 too: no video is written from it (NaN comes out black)
                raise RuntimeError("the model produced non-finite values (NaN/inf) even in fp32; nothing was written")
            output = self.edge.crop(output, inside)
            if gray:  # the gray picture: the channels' mean, taken before anything clamps them
                # [N, 3, T, h, w] -> [N, 1, T, h, w] -> [N, 3, T, h, w]
                output = output.mean(dim=1, keepdim=True).expand_as(output)
            if keep_input:  # on the picture as written (clamped), so "a share of the removed noise" is exact
                output = torch.lerp(output.clamp(-1.0, 1.0), y_unit.to(output.dtype), keep_input)
            if shift is not None:
                output = output + shift.to(output.device, output.dtype)
            # the activations freed would otherwise pile up, fragmented, in the malloc arenas
            if next(passes) % RELEASE_MEMORY_EVERY == 0:
                release_free_memory()
            return output

        return denoise_units

    def decode_shift(self, opening: Opening) -> np.ndarray | None:
        """``[3]`` levels to add to this video's output: the bias its decoder's fast YUV -> RGB path
        read it with (``Opening.decode_bias``: 8-bit YUV reads 0.3-1.5 levels dark per channel), for
        weights that learnt from exact RGB. Weights trained on video decoded that way (white noise
        through H.264, ``train.compressed_noise``; camera noise through H.264) learnt to take it out
        themselves: None for them, and where nothing was measured."""
        config = self.checkpoint.metadata.get("train_config", {}) if isinstance(self.checkpoint.metadata, dict) else {}
        decoded_in_training = config.get("compressed_fraction", 0) > 0 or config.get("camera_h264_fraction", 0) > 0
        return None if decoded_in_training else opening.decode_bias

    def estimate_sigma(self, reader: VideoReader) -> float:
        """``--sigma auto``: the noise level of a few frames spread over the video (near keyframes: no long seeks)."""
        return self.level_of(read_sample(reader))

    def level_of(self, opening: Opening) -> float:
        """The level to run at, from an opening's sample: its patch-PCA level (less in a chroma-subsampled
        video: ``noise_kind.gaussian_level``), or with ``--noise real`` the learned one (``learned_level.rms_level``;
        for weights trained on an estimator's blind readings, that reading: ``learned_level.blind_level``);
        0 for a made picture with no noise (``flat_areas.noise_free``)."""
        if opening.noise_free:  # a made picture (a screen recording, a slide): nothing to take out
            return 0.0
        # a gray video's colour planes hold no noise to have been averaged (pipeline.gray)
        subsampled_noise = opening.reader.info.chroma_subsampled and not frames_are_gray(opening.sample)
        return self._level(opening.white, opening.binned, subsampled_noise, lambda: self.learned_of(opening))

    def _level(self, white: float, binned: float | None, chroma_subsampled: bool, learned: Callable[[], float]) -> float:
        """:meth:`level_of` from the measured levels (``learned``: the learned level, read only when used)."""
        if self.learned_level is None:
            return gaussian_level(white, binned, chroma_subsampled)
        return self.level_rule(learned(), white)

    def learned_of(self, opening: Opening) -> float:
        """The learned level of an opening's sample (read once, kept on the opening)."""
        source = self.learned_level.source
        if source not in opening.learned:
            opening.learned[source] = self.learned_level.estimate(opening.level_frames)
        return opening.learned[source]

    def coarse_level_of(self, level: float, frames_uint8: np.ndarray) -> float | None:
        """The level of the half-size pass (:mod:`~stdit_cli.pipeline.coarse_band`) for a video whose
        level read is ``level``, read by the learned estimator from ``frames_uint8`` (the level sample,
        ``[n, H, W, 3]``) area-downscaled 2x; None where no half-size pass runs: not the real-noise path
        with the level read (a number given is run as given), a level below :data:`~stdit_cli.pipeline.coarse_band.COARSE_FROM_LEVEL`, a
        black-and-white video (no colour noise to take out), or frames too small to halve."""
        if self.learned_level is None or level < COARSE_FROM_LEVEL or frames_are_gray(frames_uint8):
            return None
        height, width = frames_uint8.shape[1:3]
        if min(height, width) < 2 * MIN_COARSE_SIDE:
            return None
        return self.learned_level.estimate(half_size(frames_uint8))

    def _blender(self, level: float, coarse_level: float | None, strength: Strength, generator: torch.Generator,
                 views: int, batch_size: int, shift_255: np.ndarray | None = None) -> StreamingBlender | CoarseBandBlender:  # fmt: skip
        """The blender that denoises a shot at ``level`` (and, given ``coarse_level``, its coarse band at
        half size: :class:`~stdit_cli.pipeline.coarse_band.CoarseBandBlender`)."""
        place = self.device if self.device.type == "cuda" else "cpu"

        def at(noise: float) -> StreamingBlender:
            denoise_units = self._unit_denoiser(noise * strength.sigma_scale, generator, strength.keep_input, views, noise, shift_255)
            return StreamingBlender(denoise_units, self.plan, self.tile, self.tile_overlap, batch_size, device=place)

        return at(level) if coarse_level is None else CoarseBandBlender(at(level), at(coarse_level))

    def reads_as_white(self, opening: Opening) -> bool:
        """``--noise auto`` with no number: whether the video's noise is white, for the Gaussian
        weights (:mod:`stdit_cli.pipeline.noise_kind`; a noise-free picture too, run at level 0);
        needs the learned level estimator."""
        if opening.noise_free:
            return True
        learned = self.learned_of(opening)
        if not reads_as_white(opening.white, opening.binned, learned):
            return False
        # the levels read white: does that level lie over the whole picture (a few ms)
        return reads_as_white(opening.white, opening.binned, learned, spread=white_spread(opening.level_frames, opening.white))

    def _frame_chunks(self, reader: VideoReader, leading: np.ndarray) -> Iterator[np.ndarray]:
        """The video in chunks for the streaming pass, starting with ``leading`` (its first frames, already decoded)."""
        chunk_frames = max(self.plan.window, 8)
        if len(leading):
            yield leading
        yield from reader.iter_chunks(chunk_frames, start=len(leading))

    def denoise_frames(self, frames: np.ndarray, sigma_255: float | None = None) -> np.ndarray:
        """Denoise RGB frames held in memory: ``[T, H, W, 3]`` uint8 (or uint16, for more than 8 bits)
        in, the same shape and dtype out. The video pass of :meth:`denoise_file` without the files: the
        frames as one shot of progressive, full-colour video, cut into windows and tiles, denoised over
        the views a video of that size (or a still) gets, and blended back.

        ``sigma_255``: the noise level on 0..255; else the options' ``sigma_255``; else read from up to
        :data:`SIGMA_SAMPLE_FRAMES` frames spread over them, as with no number given (patch PCA; with
        ``noise="real"`` the learned level where the two disagree; inside any bars, and 0 for a made
        picture with no noise: :mod:`~stdit_cli.pipeline.flat_areas`). The weights are this denoiser's:
        the kind of noise is the caller's choice (``resolve_checkpoint(..., real=True)``). With
        ``noise="real"`` and the level read, camera noise of level 6 or more also gets the half-size
        pass of :mod:`~stdit_cli.pipeline.coarse_band`, as in :meth:`denoise_file`."""
        if not isinstance(frames, np.ndarray):
            raise ValueError(f"expected a numpy array of [T, H, W, 3] uint8 or uint16 RGB frames, got {type(frames).__name__}")
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype not in (np.uint8, np.uint16) or 0 in frames.shape:
            raise ValueError(f"expected [T, H, W, 3] uint8 or uint16 RGB frames, got {frames.dtype} {list(frames.shape)}")
        _, height, width, _ = frames.shape
        # up to SIGMA_SAMPLE_FRAMES frames spread over the clip, in 8 bits, for the level and the still test
        picks = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), SIGMA_SAMPLE_FRAMES)).round().astype(int))
        sample = to_8_bits(frames[picks])
        level = sigma_255 if sigma_255 is not None else self.options.sigma_255
        if level is not None and not (isinstance(level, (int, float, np.number)) and 0 <= level <= 255):  # NaN fails both
            raise ValueError(f"sigma_255 must be a number in 0..255 (the noise level of 8-bit video), got {level!r}")
        made = None
        read = level is None
        if read:
            inside = picture(sample)  # the level is read inside any bars (flat_areas)
            noise_free, filmed = made_parts(inside)
            if filmed is not None:  # part made: the level of its filmed part, the rest kept (made_areas)
                warnings.warn(PART_MADE_NOTE, VideoWarning, stacklevel=2)
                inside, made = inside[(slice(None), *filmed)], MadeAreas()
            white, binned = white_levels(inside, chroma_subsampled=False)
            if noise_free:
                warnings.warn(NOISE_FREE_NOTE, VideoWarning, stacklevel=2)
                level = 0.0
            else:
                level = self._level(white, binned, False, lambda: self.learned_level.estimate(inside))
        if not frames.flags.writeable:  # torch takes no read-only array without a warning
            frames = frames.copy()
        strength = Strength.from_user(self.options.strength)
        generator = torch.Generator(device="cpu").manual_seed(self.options.seed)
        views = self.still_views(width, height) if same_picture(sample) else self._sized(self.ensemble, width, height)
        coarse_level = self.coarse_level_of(float(level), inside) if read else None
        blender = self._blender(float(level), coarse_level, strength, generator, views, self.batch_size_for(height, width))
        step = max(self.plan.window, 8)  # chunks as the file pass reads them
        gray = GrayFrames()
        # [T, H, W, 3] -> chunks [t, H, W, 3] -> denoised chunks -> [T, H, W, 3]
        chunks = gray.noted(frames[start : start + step] for start in range(0, len(frames), step))
        if made is None:
            return np.concatenate(list(gray.restored(blender.run(chunks))))
        return np.concatenate(list(gray.restored(made.restored(blender.run(made.noted(chunks))))))

    def denoise_file(self, input_path: Path, output_path: Path, progress: ProgressCallback | None = None,
                     opening: Opening | None = None) -> DenoiseResult:  # fmt: skip
        """Denoise ``input_path`` into ``output_path`` (written atomically).

        ``opening``: the video already opened by :func:`~stdit_cli.pipeline.opening.open_video` (with
        its level sample when no ``--sigma N`` is given), e.g. in a thread while the model loaded;
        its reader is closed here.
        """
        started = time.perf_counter()
        options = self.options
        estimated = options.sigma_255 is None
        if opening is None:
            opening = open_video(input_path, read_level=estimated)
        with opening.reader as reader:
            if estimated and opening.white is None:  # opened without its level sample
                opening = read_sample(reader)
            if self.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(self.device)
            info = reader.info
            sigma_255 = self.level_of(opening) if estimated else float(options.sigma_255)
            if estimated and opening.noise_free:
                warnings.warn(f"{input_path}: {NOISE_FREE_NOTE}", VideoWarning, stacklevel=1)
            # a part-made picture (a screen recording with a webcam): each frame's made part kept (made_areas)
            made = MadeAreas() if estimated and opening.filmed is not None else None
            if made is not None:
                warnings.warn(f"{input_path}: {PART_MADE_NOTE}", VideoWarning, stacklevel=1)
            strength = Strength.from_user(options.strength)
            model_sigma = sigma_255 * strength.sigma_scale
            taken = len(self.sampler.timesteps(model_sigma))
            if taken < self.sampler.steps:  # a low level starts near the end of the chain: fewer distinct steps
                warnings.warn(f"{input_path}: --steps {self.sampler.steps}: at noise level {model_sigma:.1f} the diffusion starts "
                              f"at step {self.sampler.start_timestep(model_sigma)}, so {taken} steps run", RuntimeWarning, stacklevel=1)  # fmt: skip
            generator = torch.Generator(device="cpu").manual_seed(options.seed)
            # interlaced video is denoised field by field: a stream of half-height fields at twice the rate
            order = info.field_order if info.interlaced else None
            batch_size = self.batch_size_for(info.height // 2 if order else info.height, info.width)
            views = self.views_for(opening)
            # an edited video whose sample shows several scenes (a dim room, a sunny street) may differ in
            # noise from shot to shot: each shot's level is read from its own first frames
            per_shot = estimated and order is None and several_scenes(opening.sample)
            shift = self.decode_shift(opening)
            shot_levels: list[float] = []
            coarse_levels: list[float] = []  # each shot's half-size level, where one ran (coarse_band)

            def blender_for(first_frames: np.ndarray, single_picture: bool) -> StreamingBlender | CoarseBandBlender:  # shots.BlenderFor
                level, shot = sigma_255, opening
                if per_shot:
                    shot = measured(reader, first_frames)
                    level = self.level_of(shot)
                    shot_levels.append(round(level, 3))
                coarse_level = self.coarse_level_of(level, shot.level_frames) if estimated and not shot.noise_free else None
                if coarse_level is not None:
                    coarse_levels.append(round(coarse_level, 3))
                # a one-frame shot (a photo among unrelated ones) gets a photo's views
                shot_views = self.still_views(info.width, info.height) if single_picture else views
                return self._blender(level, coarse_level, strength, generator, shot_views, batch_size, shift)
            preset, crf = FAST_ENCODE if options.fast else ENCODE
            # an RGB or 4:4:4 source keeps its full-resolution colour (4:2:0 would cost 0.1-0.8 dB at sigma 10),
            # HDR (HLG, PQ) video its BT.2020 signal and tags, interlaced video its field order, and every
            # video its container tags and timecode, deep video (more than 8 bits per sample) its depth, a
            # variable-frame-rate video each frame's time; an image
            # extension (a photo in, a photo out) writes the frame as a picture, a frame folder comes back as one
            # a folder of pictures has no rate of its own: the one asked for (`--frame-rate`), else 25
            fps = options.frame_rate if info.frame_files and options.frame_rate is not None else info.fps
            with open_writer(output_path, info.width, info.height, fps, audio_source=input_path,
                             lossless=options.output_lossless(info.lossless), crf=crf, preset=preset,
                             full_chroma=info.full_resolution_colour, hdr_transfer=info.hdr_transfer,
                             field_order=order, metadata_source=input_path, bit_depth=reader.bit_depth,
                             frame_names=info.frame_files, timecode=info.timecode, hdr10=info.hdr10_metadata,
                             frame_times=reader.frame_times(),
                             sample_aspect_ratio=info.sample_aspect_ratio,
                             half_width_chroma=info.half_width_colour, sd_colour=info.sd_colour) as writer:  # fmt: skip
                lost = bits_lost(info, writer.stored_bits, writer.stored_as)
                if lost is not None:
                    warnings.warn(f"{input_path}: {lost}", VideoWarning, stacklevel=1)
                gray = GrayFrames()  # a black-and-white frame comes out black-and-white (pipeline.gray)
                chunks = gray.noted(self._frame_chunks(reader, opening.leading))
                if made is not None:
                    chunks = made.noted(chunks)
                if order is not None:  # the fields, in the order they were shot
                    chunks = split_chunks(chunks, order)
                shots: list[int] = []  # frames of each shot (an edited video's cuts: `shots`)
                # decoded, and each frame's shot signature taken, in the decode thread
                with Prefetcher(with_signatures(chunks), QUEUE_DEPTH) as signed_chunks:
                    denoised = denoise_by_shot(blender_for, signed_chunks, shots)
                    if order is not None:
                        denoised = weave_chunks(denoised, order)
                    if made is not None:
                        denoised = made.restored(denoised)
                    done = _stream(gray.restored(denoised), writer, info.num_frames, progress)
                if done != info.num_frames:
                    raise RuntimeError(f"{input_path}: wrote {done} frames but the video has {info.num_frames}")
        return DenoiseResult(
            input=str(input_path),
            output=str(output_path),
            model=self.adapter.name,
            sigma=round(sigma_255, 3),
            sigma_estimated=estimated,
            t_start=self.sampler.start_timestep(model_sigma),
            steps=len(self.sampler.timesteps(model_sigma)),
            scheduler=options.scheduler,
            device=str(self.device),
            precision=self.precision,
            frames=done,
            width=info.width,
            height=info.height,
            seconds=round(time.perf_counter() - started, 3),
            peak_device_mib=round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1) if self.device.type == "cuda" else None,
            ensemble=views,
            checkpoint=self.checkpoint.source,
            strength=options.strength,
            noise=options.noise,
            lossless=writer.lossless,
            bits=writer.stored_bits,
            shots=len(shots),
            shot_sigmas=shot_levels or None,
            coarse_sigma=coarse_levels[0] if coarse_levels else None,
        )
