"""Helpers of ``scripts/benchmark_quality.py``: Vid4 clips and their noise, metrics, the classical
denoisers a user would pick instead of stdit, and the tuning of their strength against sigma.

Benchmark-only dependencies (not runtime dependencies of the package): ``pip install -e ".[bench]"``
(opencv-python-headless, bm3d, scikit-image).
"""

from __future__ import annotations

import json
import subprocess
import time
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from stdit_cli.video import VideoReader, VideoWriter
from stdit_cli.video.colour import is_hd

FPS = Fraction(25)  # Vid4 ships PNG frames; the rate only labels the lossless files
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


# ---------------------------------------------------------------------------- clips and noise
def load_clean(data_dir: Path, sequence: str, frames: int) -> np.ndarray:
    """The first ``frames`` frames of a Vid4 sequence, uint8 ``[T, H, W, 3]``."""
    paths = sorted((data_dir / sequence).glob("hr_*.png"))[:frames]
    assert len(paths) == frames, f"{data_dir / sequence}: expected {frames} hr_*.png frames, found {len(paths)}"
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])


def noise_seed(sequence: str, sigma_255: float, base_seed: int) -> list[int]:
    """A fixed seed per (sequence, sigma); ``base_seed`` keeps tuning noise apart from benchmark noise."""
    return [base_seed, zlib.crc32(sequence.encode()), round(sigma_255 * 100)]


def add_noise(clean_uint8: np.ndarray, sigma_255: float, seed: list[int]) -> np.ndarray:
    """The benchmark protocol: white Gaussian noise once per sequence, clipped, rounded to uint8.

    Noise is drawn frame after frame in C order, so the first N frames of a longer clip get the
    same noise as an N-frame clip (a quick ``--frames 5`` run is a prefix of the full run).
    """
    noise = np.random.default_rng(seed).standard_normal(clean_uint8.shape)  # [T, H, W, 3]
    return np.clip(np.round(clean_uint8 + sigma_255 * noise), 0, 255).astype(np.uint8)


def yuv_colour_args(width: int, height: int) -> list[str]:
    """FFmpeg output options for an RGB -> YUV encode: HD (players' rule, ``colour.is_hd``) converted
    with BT.709 and tagged so, as cameras and phones store it; SD as FFmpeg converts by default
    (BT.601), untagged, which players and stdit read as BT.601. An untagged HD clip converted with
    BT.601 (FFmpeg's default) is shown by players, and read by stdit, with its colours moved."""
    if not is_hd(width, height):
        return []
    return ["-vf", "scale=out_color_matrix=bt709:out_range=tv", "-colorspace", "bt709", "-color_primaries", "bt709",
            "-color_trc", "bt709", "-color_range", "tv"]  # fmt: skip


def read_video(path: Path) -> np.ndarray:
    """Every frame of a video, uint8 ``[T, H, W, 3]``."""
    with VideoReader(path) as reader:
        return reader.read(0, len(reader))


def noisy_clip(work: Path, clean_uint8: np.ndarray, sequence: str, sigma_255: float, base_seed: int) -> tuple[Path, np.ndarray]:
    """Write the noisy clip losslessly (libx264rgb -qp 0 MP4) once and read it back bit-exact."""
    seed = noise_seed(sequence, sigma_255, base_seed)
    noisy_uint8 = add_noise(clean_uint8, sigma_255, seed)
    path = work / "noisy" / f"{sequence}_sigma{sigma_255:g}_seed{base_seed}_{len(clean_uint8)}f.mp4"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        height, width = clean_uint8.shape[1:3]
        with VideoWriter(path, width, height, FPS, lossless=True) as writer:
            writer.write(noisy_uint8)
    stored = read_video(path)
    assert np.array_equal(stored, noisy_uint8), f"{path}: the stored noisy clip does not read back bit-exact"
    return path, stored


# ---------------------------------------------------------------------------- metrics
def stdit_batch(paths: list[Path], work: Path, *options: str) -> dict[str, dict]:
    """``stdit denoise`` over ``paths`` in one process (lossless outputs under ``work/stdit``, no other
    options than ``options``): its ``--json`` record of each input, by input path."""
    listing = work / "inputs.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    out = work / "stdit"
    out.mkdir(parents=True, exist_ok=True)
    command = ["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out), "--lossless", "--overwrite", "--quiet", "--json", *options]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {r["input"]: r for r in (json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))}


def frame_mse(clean_uint8: np.ndarray, out_uint8: np.ndarray) -> list[float]:
    """Mean squared error of each frame over all pixels and RGB channels."""
    diff = clean_uint8.astype(np.float64) - out_uint8  # [T, H, W, 3]
    return [float(np.mean(d * d)) for d in diff]


def frame_ssim(clean_uint8: np.ndarray, out_uint8: np.ndarray) -> list[float]:
    """SSIM of each frame (scikit-image, RGB channels averaged, data range 255)."""
    from skimage.metrics import structural_similarity

    return [float(structural_similarity(c, o, channel_axis=-1, data_range=255)) for c, o in zip(clean_uint8, out_uint8)]


def psnr_db(mse_values: list[float]) -> float:
    """PSNR (peak 255) of the total MSE over the frames given."""
    return float(10 * np.log10(255.0**2 / max(np.mean(mse_values), 1e-12)))


def temporal_diff(frames_uint8: np.ndarray) -> np.ndarray:
    """Frame-to-frame differences ``x[t+1] - x[t]``, float32 ``[T-1, H, W, 3]``."""
    return np.diff(frames_uint8.astype(np.float32), axis=0)


def flicker(clean_uint8: np.ndarray, out_uint8: np.ndarray) -> dict | None:
    """Mean |frame-to-frame difference| of the output against the clean video's (0..255 levels).

    ``ratio`` = output / clean (1 is ideal; the noisy input is far above 1, over-smoothing falls
    below); ``err`` = mean |Δout - Δclean|, the temporal change the clean video does not have.
    """
    if len(clean_uint8) < 2 or not np.any(np.diff(clean_uint8, axis=0)):
        return None  # one frame, or a still clean clip (a flat field): no ratio to take
    d_clean, d_out = temporal_diff(clean_uint8), temporal_diff(out_uint8)
    clean_mad, out_mad = float(np.mean(np.abs(d_clean))), float(np.mean(np.abs(d_out)))
    return {"out": out_mad, "clean": clean_mad, "ratio": out_mad / clean_mad, "err": float(np.mean(np.abs(d_out - d_clean)))}


# ---------------------------------------------------------------------------- classical denoisers
@dataclass(frozen=True)
class Tool:
    """A classical denoiser whose strength ``param`` is tuned as ``multiplier * sigma_255``."""

    key: str  # --tools name
    label: str  # table row
    param: str  # the strength parameter tuned against sigma
    multipliers: tuple[float, ...]  # first tuning grid of param / sigma_255, widened at an edge
    bounds: tuple[float, float]  # the parameter's valid range
    fixed: str  # the other settings, as they are passed

    def value(self, sigma_255: float, multiplier: float) -> float:
        return float(np.clip(round(multiplier * sigma_255, 2), *self.bounds))

    def describe(self, value: float) -> str:
        if self.key == "cbm3d":
            return f"bm3d.bm3d_rgb(noisy/255, sigma_psd={value:g}/255)"
        if self.key == "opencv":
            return f"cv2.fastNlMeansDenoisingColoredMulti(h=hColor={value:g}, {self.fixed})"
        return ffmpeg_chain(self, value)


# ffmpeg filters run in 8-bit yuv444p (what they are built for; no chroma subsampling; the RGB
# round trip alone costs 54.9 dB, i.e. MSE 0.2) and come back as planar RGB.
TOOLS = {
    tool.key: tool
    for tool in (
        Tool("hqdn3d", "ffmpeg hqdn3d", "luma_spatial", (0.8, 1.2, 1.6, 2.2, 3.0), (0.0, 1e6),
             "other strengths at ffmpeg's ratio defaults (chroma_spatial 0.75x, luma_tmp 1.5x)"),
        Tool("nlmeans", "ffmpeg nlmeans", "s", (0.3, 0.35, 0.4, 0.5, 0.6), (1.0, 30.0), "p=7:r=15"),
        Tool("bm3d", "ffmpeg bm3d (basic)", "sigma", (1.6, 2.0, 2.4, 2.8, 3.4), (0.0, 99999.0),
             "block=16:bstep=4:group=1:estim=basic"),
        Tool("opencv", "OpenCV NLM multi-frame", "h", (0.4, 0.5, 0.6, 0.7, 0.85), (0.1, 1e6),
             "temporalWindowSize=5, templateWindowSize=7, searchWindowSize=21, reflected borders"),
        Tool("cbm3d", "CBM3D per frame", "sigma_psd", (1.0,), (0.0, 1e6), "profile 'np'; not tuned: sigma_psd is its native noise std"),
    )
}  # fmt: skip
TUNED_TOOLS = ("hqdn3d", "nlmeans", "bm3d", "opencv")


def ffmpeg_chain(tool: Tool, value: float) -> str:
    """The -vf chain of an ffmpeg tool at strength ``value``."""
    options = {"hqdn3d": f"hqdn3d=luma_spatial={value:g}",
               "nlmeans": f"nlmeans=s={value:g}:{tool.fixed}",
               "bm3d": f"bm3d=sigma={value:g}:{tool.fixed}"}[tool.key]  # fmt: skip
    return f"format=yuv444p,{options},format=gbrp"


def run_ffmpeg(tool: Tool, value: float, noisy_path: Path, out_path: Path) -> tuple[np.ndarray, float, list[str]]:
    """Decode, filter and losslessly encode with ffmpeg; seconds are the whole subprocess."""
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(noisy_path), "-vf", ffmpeg_chain(tool, value),
               "-c:v", "ffv1", "-level", "3", str(out_path)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg {tool.key} failed: {done.stderr.strip()[-300:]}")
    return read_video(out_path), seconds, command


def reflect_index(index: int, count: int) -> int:
    """Reflect a frame index into ``[0, count)`` (``-1 -> 1``, ``count -> count - 2``)."""
    while not 0 <= index < count:
        index = -index if index < 0 else 2 * (count - 1) - index
        if count == 1:
            return 0
    return index


def run_opencv(noisy_uint8: np.ndarray, h: float, frames: list[int] | None = None) -> tuple[np.ndarray, float]:
    """OpenCV multi-frame NLM (window 5, reflected borders) of ``frames`` (default: all), each seeing
    its neighbours in the whole clip; seconds are the denoising only."""
    import cv2

    frames_bgr = [np.ascontiguousarray(f[..., ::-1]) for f in noisy_uint8]
    count, out = len(frames_bgr), []
    start = time.perf_counter()
    for t in range(count) if frames is None else frames:
        window = [frames_bgr[reflect_index(t + k, count)] for k in range(-2, 3)]
        out.append(cv2.fastNlMeansDenoisingColoredMulti(window, 2, 5, None, h, h, 7, 21)[..., ::-1])
    return np.stack(out), time.perf_counter() - start


def subset_frames(count: int, wanted: int) -> list[int]:
    """``wanted`` evenly spaced frame indices, each at the centre of its share of the clip."""
    wanted = max(1, min(wanted, count))
    return sorted({int((i + 0.5) * count / wanted) for i in range(wanted)})


def run_cbm3d(noisy_uint8: np.ndarray, sigma_255: float) -> tuple[np.ndarray, float]:
    """CBM3D on each frame given (``bm3d.bm3d_rgb``); seconds are the denoising only."""
    import bm3d

    start, out = time.perf_counter(), []
    for frame in noisy_uint8:
        denoised = bm3d.bm3d_rgb(frame / 255.0, sigma_psd=sigma_255 / 255.0)
        out.append(np.clip(np.round(denoised * 255.0), 0, 255).astype(np.uint8))
    return np.stack(out), time.perf_counter() - start


def apply_tool(tool: Tool, value: float, noisy_path: Path, noisy_uint8: np.ndarray, out_path: Path,
               frames: list[int] | None = None) -> tuple[np.ndarray, float, str]:  # fmt: skip
    """Run one tool at strength ``value``: ``(output frames, seconds, what ran)``.

    ``frames`` limits the work to those frames where the tool works per frame (CBM3D, OpenCV).
    """
    if tool.key == "opencv":
        out, seconds = run_opencv(noisy_uint8, value, frames)
        return out, seconds, tool.describe(value)
    if tool.key == "cbm3d":
        out, seconds = run_cbm3d(noisy_uint8 if frames is None else noisy_uint8[frames], value)
        return out, seconds, tool.describe(value)
    out, seconds, command = run_ffmpeg(tool, value, noisy_path, out_path)
    return out, seconds, " ".join(["ffmpeg", *command[1:]])


# ---------------------------------------------------------------------------- tuning
def fit_rule(best: dict[str, float]) -> dict[str, float]:
    """Least-squares ``param = a * sigma + b`` through the tuned points (``b = 0`` with one point)."""
    sigmas = np.array([float(s) for s in best])
    values = np.array(list(best.values()))
    if len(sigmas) == 1:
        return {"a": float(values[0] / sigmas[0]), "b": 0.0}
    a, b = np.polyfit(sigmas, values, 1)
    return {"a": float(a), "b": float(b)}


def rule_value(tool: Tool, rule: dict, sigma_255: float) -> float:
    """The tuned value at a tuned sigma, else the linear fit (clipped to the valid range)."""
    if tool.key == "cbm3d":
        return sigma_255
    tuned = rule["best"].get(f"{sigma_255:g}")
    if tuned is not None:
        return tuned
    return float(np.clip(round(rule["fit"]["a"] * sigma_255 + rule["fit"]["b"], 2), *tool.bounds))


def tune_one(tool: Tool, sigma_255: float, clean_uint8: np.ndarray, noisy_path: Path, noisy_uint8: np.ndarray,
             scratch: Path, log, known: dict[str, float] | None = None) -> dict:  # fmt: skip
    """PSNR over a multiplier grid, widened while the best sits on an edge (3 times at most), then
    refined once at the geometric midpoints around the best. ``known`` results are not rerun."""
    psnr_by_value = dict(known or {})

    def measure(values: list[float]) -> None:
        for value in values:
            if f"{value:g}" not in psnr_by_value:
                out, seconds, _ = apply_tool(tool, value, noisy_path, noisy_uint8, scratch / f"tune_{tool.key}.mkv")
                psnr_by_value[f"{value:g}"] = psnr_db(frame_mse(clean_uint8, out))
                log(f"  tune {tool.key} sigma {sigma_255:g}: {tool.param}={value:g} -> {psnr_by_value[f'{value:g}']:.2f} dB ({seconds:.1f}s)")

    def ranked() -> tuple[list[float], float]:
        values = sorted(float(v) for v in psnr_by_value)
        return values, max(values, key=lambda v: psnr_by_value[f"{v:g}"])

    measure([tool.value(sigma_255, m) for m in tool.multipliers])
    for _ in range(3):
        values, best = ranked()
        if best not in (values[0], values[-1]):
            break
        step = (values[-1] / values[0]) ** (1 / max(len(values) - 1, 1)) if values[0] > 0 else 2.0
        widened = tool.value(sigma_255, (best / step if best == values[0] else best * step) / sigma_255)
        if f"{widened:g}" in psnr_by_value:  # clipped at the parameter's bound
            break
        measure([widened])
    values, best = ranked()
    i = values.index(best)
    neighbours = values[max(i - 1, 0) : i] + values[i + 1 : i + 2]
    measure([tool.value(sigma_255, np.sqrt(best * n) / sigma_255) for n in neighbours])
    return {"psnr_by_value": psnr_by_value, "best": ranked()[1], "refined": True}


def tune(tools: list[Tool], sigmas: list[float], clip_for, scratch: Path, cache_path: Path, settings: dict,
         retune: bool, log) -> dict:  # fmt: skip
    """Per-tool rules ``{"best": {sigma: value}, "fit": {a, b}, "grid": ...}``, cached in JSON.

    ``clip_for(sigma)`` gives ``(clean, noisy_path, noisy)`` of the tuning sequence. The cache is
    reused (per tool and sigma) while ``settings`` (sequence, frames, seed) are unchanged.
    """
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() and not retune else {}
    if cache.get("settings") != settings:
        cache = {"settings": settings, "tools": {}}
    for tool in tools:
        entry = cache["tools"].setdefault(tool.key, {"grid": {}})
        entry["grid"] = {s: g for s, g in entry["grid"].items() if g.get("multipliers") == list(tool.multipliers)}
        for sigma_255 in sigmas:
            known = entry["grid"].get(f"{sigma_255:g}", {})
            if not known.get("refined"):
                clean, noisy_path, noisy = clip_for(sigma_255)
                result = tune_one(tool, sigma_255, clean, noisy_path, noisy, scratch, log, known.get("psnr_by_value"))
                entry["grid"][f"{sigma_255:g}"] = {**result, "multipliers": list(tool.multipliers)}
                cache_path.write_text(json.dumps(cache, indent=2) + "\n")
        entry["best"] = {s: g["best"] for s, g in sorted(entry["grid"].items(), key=lambda kv: float(kv[0]))}
        entry["fit"] = fit_rule(entry["best"])
        entry.update(param=tool.param, fixed=tool.fixed)
    cache_path.write_text(json.dumps(cache, indent=2) + "\n")
    return cache


def rule_text(tool: Tool, rule: dict | None) -> str:
    """One line: the tuned values per sigma and the linear fit."""
    if rule is None:
        return f"{tool.label}: {tool.param} = σ/255 ({tool.fixed})"
    points = ", ".join(f"σ{s}→{v:g}" for s, v in rule["best"].items())
    fit = rule["fit"]
    return f"{tool.label}: {tool.param} tuned {points}; fit {tool.param} ≈ {fit['a']:.3f}·σ {fit['b']:+.2f} ({tool.fixed})"
