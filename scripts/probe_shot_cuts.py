#!/usr/bin/env python3
"""Where a hard cut reads, against consecutive frames of one shot: calibrates `pipeline.shots.CUT_LEVEL`.

The shot detector compares the colour histograms of consecutive frames' thumbnails
(`pipeline.shots.frame_signature`, `shot_change`: 0 the same colours, 1 none in common). This
measures that distance, and beside it the mean absolute luma difference of the thumbnails (what a
detector on pixel differences would read), for

- consecutive frames of one shot: every DAVIS sequence (the fastest motion here: motocross,
  drift, scooter), Vid4 and the validation suite's cel-style animations of the five held-out
  sequences, clean and with Gaussian noise of sigma 25 and 50 (noise that the thumbnails must
  average out), at their size and area-downscaled to 176x144;
- cuts: the first frame of each DAVIS sequence against the last of the one before it, and
  consecutive Kodak24 photos (cropped to one size), with the same noise and sizes.

The detector must put every "same shot" value below its level and every cut above it.

With ``--denoise``, what the split buys: the five held-out DAVIS sequences of the validation suite,
``--cut-frames`` frames each, back to back (four hard cuts), Gaussian noise of sigma 25 stored
losslessly, through the shipped default with ``--sigma 25``, once split into shots and once as
one stream (``pipeline.shots.CUT_LEVEL`` set above 1): PSNR of the frames next to a cut (two on
each side) and of all frames. Then the same sequences each at its own noise level (sigma 5, 25,
10, 40, 15: an edit of dim and bright shots) with no number given: each shot's level read from
its own first frames (what the pipeline does when its sample shows several scenes) against the
one level of the whole video, PSNR per shot. And a fade from black (28 of 40 frames of DAVIS
`dog` ramping from 2% to full brightness, sigma 15): one stream at one level against what the
pipeline does now. And light that flickers at full brightness (two held-out sequences, 40 frames,
the gain moved by up to 5% a frame, sigma 15), read by the detector until 2026-12-06 (histograms as
the frames are) and now (exposure evened out too).

    python scripts/probe_shot_cuts.py --out scripts/results/2026-12-06_shot_cuts
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from stdit_cli.pipeline.shots import CUT_LEVEL, colour_thumbnail, frame_signature, shot_change  # noqa: E402

TINY = (176, 144)


def frames_of(folder: Path, limit: int | None = None) -> list[np.ndarray]:
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))[:limit]
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


def variant(frame: np.ndarray, size: tuple[int, int] | None, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if size is not None:
        frame = np.asarray(Image.fromarray(frame).resize(size, Image.BOX))
    if sigma:
        frame = np.clip(np.round(frame + sigma * rng.standard_normal(frame.shape)), 0, 255).astype(np.uint8)
    return frame


def changes(pairs: list[tuple[np.ndarray, np.ndarray]], size, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(histogram distance, mean absolute luma difference of the thumbnails) of each pair."""
    rng = np.random.default_rng(seed)
    distances, luma = [], []
    for a, b in pairs:
        a, b = variant(a, size, sigma, rng), variant(b, size, sigma, rng)
        distances.append(shot_change(frame_signature(a), frame_signature(b)))
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        luma.append(float(np.abs((colour_thumbnail(a) - colour_thumbnail(b)) @ weights).mean()))
    return np.array(distances), np.array(luma)


def crop_to(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    top, left = (frame.shape[0] - height) // 2, (frame.shape[1] - width) // 2
    return frame[top : top + height, left : left + width]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--frames", type=int, default=30, help="frames per sequence (consecutive pairs)")
    parser.add_argument("--out", type=Path, default=Path("runs/shot_cuts"))
    parser.add_argument("--denoise", action="store_true", help="also denoise back-to-back sequences with and without the split")
    parser.add_argument("--cut-frames", type=int, default=8)
    parser.add_argument("--work", type=Path, default=Path("runs/shot_cuts"), help="where the --denoise clips are written")
    args = parser.parse_args()
    davis = sorted(p for p in (args.data / "davis2016_val_480p").iterdir() if p.is_dir())
    sequences = {f"davis/{p.name}": frames_of(p, args.frames) for p in davis}
    names = list(sequences)  # DAVIS only: back to back, one another's cuts
    cuts = [(sequences[names[i - 1]][-1], sequences[names[i]][0]) for i in range(1, len(names))]
    sequences |= {f"vid4/{p.name}": frames_of(p, args.frames) for p in sorted((args.data / "vid4").iterdir()) if p.is_dir()}
    same = [(a, b) for frames in sequences.values() for a, b in zip(frames[:-1], frames[1:])]
    # cel-style animation (flat colours: the spikiest histograms), the validation suite's own clips
    from validation_suite import load_clip

    for name in HELD_OUT:
        frames = load_clip(args.data, f"anim/{name}", args.frames)
        same += list(zip(frames[:-1], frames[1:]))
    kodak = [crop_to(frame, 512, 512) for frame in frames_of(args.data / "kodak24")]
    cuts += list(zip(kodak[:-1], kodak[1:]))
    rows = []
    for size_name, size in (("native", None), ("176x144", TINY)):
        for sigma in (0.0, 25.0, 50.0):
            within, within_luma = changes(same, size, sigma, seed=1)
            across, across_luma = changes(cuts, size, sigma, seed=2)
            rows.append({"size": size_name, "sigma": sigma, "same_shot_pairs": len(within), "same_shot_max": float(within.max()),
                         "same_shot_p99": float(np.percentile(within, 99)), "cut_pairs": len(across),
                         "cut_min": float(across.min()), "cut_p5": float(np.percentile(across, 5)),
                         "same_shot_over_level": int((within >= CUT_LEVEL).sum()), "cuts_under_level": int((across < CUT_LEVEL).sum()),
                         "same_shot_luma_max": float(within_luma.max()), "cut_luma_min": float(across_luma.min())})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    lines = [f"`python scripts/probe_shot_cuts.py {' '.join(sys.argv[1:])}`", "",
             f"Histogram distance of consecutive frames' thumbnails (0..1); the detector's level: {CUT_LEVEL:g}. Beside it, the "
             "mean absolute luma difference of the thumbnails (0..255), which no level separates.", "",
             "| size | sigma | same-shot pairs | same shot: max / 99th percentile | cuts | cuts: min / 5th percentile | same shot read as cuts | cuts missed | luma difference: same shot max / cuts min |",
             "|---|---:|---:|---|---:|---|---:|---:|---|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['size']} | {r['sigma']:g} | {r['same_shot_pairs']} | {r['same_shot_max']:.3f} / {r['same_shot_p99']:.3f} | "
                     f"{r['cut_pairs']} | {r['cut_min']:.3f} / {r['cut_p5']:.3f} | {r['same_shot_over_level']} | {r['cuts_under_level']} | "
                     f"{r['same_shot_luma_max']:.1f} / {r['cut_luma_min']:.1f} |")  # fmt: skip
    lines += ["", *dark_flicker(sequences)]
    if args.denoise:
        lines += ["", *denoise_across_cuts(args)]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


HELD_OUT = ("blackswan", "car-shadow", "dog", "kite-surf", "scooter-black")


def dark_flicker(sequences: dict[str, list[np.ndarray]]) -> list[str]:
    """Rows for footage whose brightness wavers (a dim room with auto-exposure hunting, lamps that
    flicker): every DAVIS sequence scaled to a mean level of about 9, 16 or 33 or as it is, its gain
    moved by up to 3%, 5% or 10% a frame, noise of sigma 8; the largest distance between consecutive
    frames and how many read as cuts, by the detector now and by the one until 2026-12-06."""
    rng = np.random.default_rng(5)
    rows = []
    for gain in (0.06, 0.12, 0.25, 1.0):
        for flicker in (0.0, 0.03, 0.05, 0.1):
            distances, as_is = [], []
            for name, frames in sequences.items():
                if not name.startswith("davis/"):
                    continue
                clip = np.stack(frames).astype(np.float64)
                gains = gain * (1 + flicker * np.sin(np.arange(len(clip)) * 2.1))[:, None, None, None]
                clip = np.clip(np.round(clip * gains + 8.0 * rng.standard_normal(clip.shape)), 0, 255).astype(np.uint8)
                signatures = [frame_signature(frame) for frame in clip]
                distances += [shot_change(a, b) for a, b in zip(signatures[:-1], signatures[1:])]
                as_is += [as_is_histograms_only(a, b) for a, b in zip(signatures[:-1], signatures[1:])]
            distances, as_is = np.array(distances), np.array(as_is)
            rows.append(f"| {gain:g} | {flicker:.0%} | {len(distances)} | {as_is.max():.3f} | {int((as_is >= CUT_LEVEL).sum())} | "
                        f"{distances.max():.3f} | {int((distances >= CUT_LEVEL).sum())} |")  # fmt: skip
            print(rows[-1], flush=True)
    return ["Footage whose brightness wavers: DAVIS scaled by a gain (mean level 9 / 16 / 33 of 255, or as it is, clipped), the gain "
            "moved by up to the flicker a frame, sigma 8; the detector until 2026-12-06 (histograms as the frames are) and now "
            "(the smaller of that and the distance with the exposure evened out):", "",
            "| gain | flicker | same-shot pairs | until 2026-12-06: distance max | read as cuts | now: distance max | read as cuts |",
            "|---:|---:|---:|---:|---:|---:|---:|", *rows]  # fmt: skip


def write_lossless(path: Path, frames: np.ndarray) -> Path:
    """``frames`` as a lossless clip (FFV1) at ``path``."""
    from stdit_cli.video import VideoWriter

    with VideoWriter(path, frames.shape[2], frames.shape[1], 25, lossless=True) as writer:
        writer.write(frames)
    return path


def blind_white_denoiser():
    """The shipped default with no number given, on its white-noise weights (what no number picks for white noise)."""
    from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
    from stdit_cli.weights import resolve_checkpoint

    return VideoDenoiser(resolve_checkpoint("unet", None), DenoiseOptions(sigma_255=None, lossless=True, noise="gaussian"))


def denoise_as(denoiser, source: Path, out: Path, cuts: bool, levels: bool):
    """``denoiser`` on ``source``, with the split at cuts and the per-shot levels each on or off
    (off: as until 2026-12-06); returns its result and the frames written, as float."""
    import stdit_cli.pipeline.denoiser as denoiser_module
    import stdit_cli.pipeline.shots as shots
    from stdit_cli.video import VideoReader

    cut_level, several = shots.CUT_LEVEL, denoiser_module.several_scenes
    shots.CUT_LEVEL = cut_level if cuts else 2.0  # above 1: never a cut
    denoiser_module.several_scenes = several if levels else (lambda frames: False)
    try:
        result = denoiser.denoise_file(source, out)
    finally:
        shots.CUT_LEVEL, denoiser_module.several_scenes = cut_level, several
    with VideoReader(out) as reader:
        return result, reader.read(0, len(reader)).astype(np.float64)


def denoise_across_cuts(args) -> list[str]:
    """Rows for the back-to-back held-out sequences, split into shots and not."""
    from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
    from stdit_cli.weights import resolve_checkpoint

    clean = np.concatenate([np.stack(frames_of(args.data / "davis2016_val_480p" / name, args.cut_frames)) for name in HELD_OUT])
    noisy = np.clip(np.round(clean + 25.0 * np.random.default_rng(7).standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    write_lossless(work / "noisy.mkv", noisy)
    near = np.zeros(len(clean), bool)
    for cut in range(args.cut_frames, len(clean), args.cut_frames):
        near[cut - 2 : cut + 2] = True
    denoiser = VideoDenoiser(resolve_checkpoint("unet", None), DenoiseOptions(sigma_255=25.0, lossless=True))
    rows = []
    for label, cuts in (("one stream (until 2026-12-06)", False), ("split into shots", True)):
        result, out = denoise_as(denoiser, work / "noisy.mkv", work / "out.mkv", cuts=cuts, levels=False)
        mse = ((out - clean) ** 2).mean(axis=(1, 2, 3))
        rows.append(f"| {label} | {result.shots} | {10 * np.log10(255**2 / mse[near].mean()):.2f} | "
                    f"{10 * np.log10(255**2 / mse[~near].mean()):.2f} | {10 * np.log10(255**2 / mse.mean()):.2f} |")  # fmt: skip
        print(rows[-1], flush=True)
    lines = [f"{len(HELD_OUT)} held-out DAVIS sequences, {args.cut_frames} frames each, back to back; sigma 25; the shipped default, `--sigma 25`:", "",
             "| | shots | frames next to a cut (dB) | the other frames | all |", "|---|---:|---:|---:|---:|", *rows]  # fmt: skip
    return lines + ["", *levels_per_shot(args, clean, work), "", *fade_from_black(args, work), "", *flickering_light(args, work)]


def as_is_histograms_only(previous: np.ndarray, current: np.ndarray) -> float:
    """The detector until 2026-12-06: the histograms as the frames are, no exposure evened out."""
    from stdit_cli.pipeline.shots import histogram_distance

    return histogram_distance(previous.reshape(2, -1)[0], current.reshape(2, -1)[0])


def flickering_light(args, work: Path) -> list[str]:
    """Rows for light that flickers at full brightness (5% a frame at most, as in :func:`dark_flicker`):
    two held-out sequences, 40 frames, sigma 15, ``--sigma 15``, read by the detector until 2026-12-06 and now."""
    import stdit_cli.pipeline.shots as shots

    denoiser = None
    rows = []
    for name in ("dog", "kite-surf"):
        clean = np.stack(frames_of(args.data / "davis2016_val_480p" / name, 40)).astype(np.float64)
        clean = np.clip(np.round(clean * (1 + 0.05 * np.sin(np.arange(len(clean)) * 2.1))[:, None, None, None]), 0, 255)
        noisy = np.clip(np.round(clean + 15.0 * np.random.default_rng(11).standard_normal(clean.shape)), 0, 255).astype(np.uint8)
        write_lossless(work / "flicker.mkv", noisy)
        if denoiser is None:
            from stdit_cli.pipeline import DenoiseOptions, VideoDenoiser
            from stdit_cli.weights import resolve_checkpoint

            denoiser = VideoDenoiser(resolve_checkpoint("unet", None), DenoiseOptions(sigma_255=15.0, lossless=True))
        cells = []
        for detector in (as_is_histograms_only, shots.shot_change):
            shots.shot_change, kept = detector, shots.shot_change
            try:
                result, out = denoise_as(denoiser, work / "flicker.mkv", work / "flicker_out.mkv", cuts=True, levels=True)
            finally:
                shots.shot_change = kept
            cells.append(f"{result.shots} | {10 * np.log10(255**2 / ((out - clean) ** 2).mean()):.2f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return ["Light that flickers (5% a frame at most, full brightness), 40 frames of two held-out sequences, sigma 15, `--sigma 15`:", "",
            "| clip | shots until 2026-12-06 | dB | shots now | dB |", "|---|---:|---:|---:|---:|", *rows]  # fmt: skip


def fade_from_black(args, work: Path) -> list[str]:
    """Rows for a fade from black through the pipeline as one stream and as it runs now."""
    clean = np.stack(frames_of(args.data / "davis2016_val_480p" / "dog", 40)).astype(np.float64)
    clean[:28] *= np.linspace(0.02, 1.0, 28)[:, None, None, None]
    noisy = np.clip(np.round(clean + 15.0 * np.random.default_rng(3).standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    clean = np.clip(np.round(clean), 0, 255)
    write_lossless(work / "fade.mkv", noisy)
    denoiser = blind_white_denoiser()
    rows = []
    for label, now in (("one stream, one level (until 2026-12-06)", False), ("as now", True)):
        result, out = denoise_as(denoiser, work / "fade.mkv", work / "fade_out.mkv", cuts=now, levels=now)
        psnr = [10 * np.log10(255**2 / ((out[part] - clean[part]) ** 2).mean()) for part in (slice(0, 28), slice(28, None), slice(None))]
        levels = result.shot_sigmas or [result.sigma]
        rows.append(f"| {label} | {result.shots} | {min(levels):.1f}-{max(levels):.1f} | " + " | ".join(f"{p:.2f}" for p in psnr) + " |")
        print(rows[-1], flush=True)
    return ["A fade from black (28 of 40 frames of `dog`), sigma 15, no number given (`--noise gaussian`):", "",
            "| | shots | levels run | the fade (dB) | after it | all |", "|---|---:|---|---:|---:|---:|", *rows]  # fmt: skip


SHOT_SIGMAS = (5.0, 25.0, 10.0, 40.0, 15.0)


def levels_per_shot(args, clean: np.ndarray, work: Path) -> list[str]:
    """Rows for the back-to-back sequences at different noise levels, no number given."""
    rng = np.random.default_rng(11)
    sigmas = np.repeat(SHOT_SIGMAS, args.cut_frames)[:, None, None, None]
    noisy = np.clip(np.round(clean + sigmas * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)
    write_lossless(work / "edit.mkv", noisy)
    denoiser = blind_white_denoiser()
    rows = []
    for label, per_shot in (("one level for the video (until 2026-12-06)", False), ("each shot's own level", True)):
        result, out = denoise_as(denoiser, work / "edit.mkv", work / "edit_out.mkv", cuts=True, levels=per_shot)
        per = [10 * np.log10(255**2 / ((out[i : i + args.cut_frames] - clean[i : i + args.cut_frames]) ** 2).mean())
               for i in range(0, len(clean), args.cut_frames)]  # fmt: skip
        levels = result.shot_sigmas or [result.sigma] * len(per)
        rows.append(f"| {label} | " + " | ".join(f"{p:.2f} ({lv:.1f})" for p, lv in zip(per, levels)) + f" | {np.mean(per):.2f} |")
        print(rows[-1], flush=True)
    head = " | ".join(f"{name} sigma {sigma:g}" for name, sigma in zip(HELD_OUT, SHOT_SIGMAS))
    return ["The same sequences at different noise levels, no number given (`--noise gaussian`); dB per shot, the level run in brackets:", "",
            f"| | {head} | mean |", "|---|" + "---:|" * (len(HELD_OUT) + 1), *rows]  # fmt: skip


if __name__ == "__main__":
    main()
