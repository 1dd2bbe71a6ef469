#!/usr/bin/env python
"""Made pictures with no noise (screen recordings, slides, code, flat-shaded animation), and noisy
video beside flat graphics: what ``stdit denoise`` with no options does to them.

Clips (``--work``, made once): four clean made pictures drawn with Pillow, 640x368, 16 frames,
moving (an application window scrolling its text, a dark code editor scrolling, a cartoon panning,
a slide building up), each stored losslessly (FFV1) and as H.264 CRF 20 4:2:0 (how a screen
recorder stores them). Scored: PSNR of the output against its input, the level run at and the
weights (``--json``); clean footage must stay at least 38 dB from its input.

``--composites``: also noisy video beside flat graphics, built from the camera-noise clips of
``scripts/make_noise_kind_clips.py`` (``--noisy``) and three white-noise suite clips: with a
lower-third banner and a logo, inside an application window (video beside a text panel), and
centred on a flat canvas. For these only what ``stdit_cli.pipeline.flat_areas`` reads is printed
(``scripts/probe_flat_areas.py``): their noisy part must keep its level.

    python scripts/benchmark_screen_content.py --work runs/screen --out scripts/results/DATE_screen_content
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_common import FFMPEG, frame_mse, psnr_db, read_video  # noqa: E402

WIDTH, HEIGHT, FRAMES = 640, 368, 16
WORDS = "the quick brown fox jumps over lazy dog denoise video frames model window level noise camera".split()


def _line(rng: np.random.Generator, words: int) -> str:
    return " ".join(rng.choice(WORDS, words))


def interface(t: int, rng: np.random.Generator) -> Image.Image:
    """An application window: title bar, a panel of 12 px text scrolling 2 px a frame, a button."""
    page = Image.new("RGB", (WIDTH, HEIGHT), (243, 243, 243))
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 0, WIDTH, 28], fill=(32, 96, 200))
    draw.text((8, 6), "Settings - stdit", fill=(255, 255, 255), font=ImageFont.load_default(size=14))
    draw.rectangle([20, 40, WIDTH - 20, HEIGHT - 10], fill=(255, 255, 255), outline=(200, 200, 200))
    font = ImageFont.load_default(size=12)
    for row in range(24):
        top = 50 + row * 16 - 2 * t
        if 40 < top < HEIGHT - 24:
            draw.text((30, top), _line(rng, 9), fill=(40, 40, 40), font=font)
    draw.rounded_rectangle([WIDTH - 140, HEIGHT - 50, WIDTH - 40, HEIGHT - 22], 6, fill=(32, 96, 200))
    draw.text((WIDTH - 120, HEIGHT - 44), "Apply", fill=(255, 255, 255), font=font)
    return page


def code(t: int, rng: np.random.Generator) -> Image.Image:
    """A dark code editor: line numbers and coloured 13 px words, scrolling 3 px a frame."""
    page = Image.new("RGB", (WIDTH, HEIGHT), (30, 30, 30))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=13)
    colours = [(86, 156, 214), (206, 145, 120), (212, 212, 212), (106, 153, 85), (197, 134, 192)]
    for row in range(30):
        top = 4 + row * 15 - 3 * t
        if -15 < top < HEIGHT:
            draw.text((8, top), f"{row + 1:3d}", fill=(133, 133, 133), font=font)
            left = 44
            for word in rng.choice(WORDS, 6):
                draw.text((left, top), word, fill=colours[WORDS.index(word) % 5], font=font)
                left += draw.textlength(word + " ", font=font)
    return page


def cartoon(t: int, rng: np.random.Generator) -> Image.Image:
    """Flat-shaded animation: sky, grass, a sun and four outlined houses moving."""
    page = Image.new("RGB", (WIDTH, HEIGHT), (135, 206, 235))
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 260, WIDTH, HEIGHT], fill=(80, 170, 60))
    draw.ellipse([500 - 2 * t, 30, 580 - 2 * t, 110], fill=(255, 220, 0), outline=(0, 0, 0), width=3)
    for k, colour in enumerate([(230, 80, 60), (250, 240, 220), (120, 80, 200), (240, 150, 30)]):
        left = 60 + 150 * k + 4 * t
        draw.rectangle([left, 180, left + 90, 262], fill=colour, outline=(0, 0, 0), width=3)
        draw.polygon([(left - 8, 180), (left + 45, 130), (left + 98, 180)], fill=(150, 40, 40), outline=(0, 0, 0))
    return page


def slide(t: int, rng: np.random.Generator) -> Image.Image:
    """A presentation slide: a title, bullets appearing one by one, a bar chart."""
    page = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    draw.text((40, 30), "Quarterly results", fill=(20, 20, 80), font=ImageFont.load_default(size=30))
    font = ImageFont.load_default(size=16)
    for row in range(min(6, 1 + t // 3)):
        draw.text((60, 100 + 32 * row), "- " + _line(rng, 6), fill=(30, 30, 30), font=font)
    for k in range(5):
        draw.rectangle([420 + 40 * k, 330 - 30 * (k + 1), 450 + 40 * k, 330], fill=(50 + 40 * k, 120, 200))
    return page


PICTURES = {"interface": interface, "code": code, "cartoon": cartoon, "slide": slide}


def write(frames: np.ndarray, path: Path, lossless: bool) -> Path:
    """``[T, H, W, 3]`` uint8 -> FFV1 RGB, or H.264 CRF 20 4:2:0, through a raw pipe."""
    height, width = frames.shape[1:3]
    codec = ["-c:v", "ffv1", "-pix_fmt", "bgr0"] if lossless else ["-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p"]
    command = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", "25", "-i", "-", *codec, str(path)]  # fmt: skip
    subprocess.run(command, input=frames.tobytes(), check=True)
    return path


def make_pictures(work: Path) -> list[Path]:
    paths = []
    for name, draw in PICTURES.items():
        rng = np.random.default_rng(5)
        frames = None
        for lossless, suffix in ((True, "_lossless.mkv"), (False, "_h264.mp4")):
            path = work / f"{name}{suffix}"
            if not path.is_file():
                if frames is None:
                    frames = np.stack([np.asarray(draw(t, rng)) for t in range(FRAMES)])
                write(frames, path, lossless)
            paths.append(path)
    return paths


def make_composites(work: Path, noisy: list[str]) -> list[Path]:
    """Noisy video with a banner, inside an interface window, and centred on a flat canvas."""
    paths = []
    for index, source in enumerate(noisy):
        video = read_video(Path(source))[:6]
        frames, height, width, _ = video.shape
        banner = video.copy()
        strip = Image.new("RGB", (width, 70), (20, 60, 140))
        ImageDraw.Draw(strip).text((20, 20), "BREAKING: denoiser ships", fill=(255, 255, 255), font=ImageFont.load_default(size=24))
        banner[:, height - 80 : height - 10] = np.asarray(strip)
        banner[:, 10:40, width - 80 : width - 20] = (200, 30, 30)  # a logo
        panel = Image.new("RGB", (1280, 720), (243, 243, 243))
        draw = ImageDraw.Draw(panel)
        for row in range(30):
            draw.text((900, 20 + 22 * row), f"comment {row}: looks great, nice video", fill=(40, 40, 40), font=ImageFont.load_default(size=13))
        window = np.repeat(np.asarray(panel)[None], frames, axis=0)
        window[:, 10 : 10 + min(height, 700), 10 : 10 + min(width, 860)] = video[:, :700, :860]
        canvas = np.full((frames, height + 200, width + 300, 3), 90, np.uint8)
        canvas[:, 100 : 100 + height, 150 : 150 + width] = video
        for kind, picture in (("banner", banner), ("window", window), ("canvas", canvas)):
            for lossless, suffix in ((True, "_lossless.mkv"), (False, "_h264.mp4")):
                path = work / "composites" / f"{kind}_{index}{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.is_file():
                    write(picture, path, lossless)
                paths.append(path)
    return paths


def score(paths: list[Path], work: Path) -> list[dict]:
    listing = work / "inputs.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    out = work / "stdit"
    out.mkdir(exist_ok=True)
    done = subprocess.run(["stdit", "denoise", "--inputs-from", str(listing), "-o", str(out), "--lossless", "--overwrite", "--quiet", "--json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    records = {r["input"]: r for r in (json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))}
    rows = []
    for path in paths:
        record = records[str(path)]
        rows.append({"clip": path.name, "from_input_db": round(psnr_db(frame_mse(read_video(path), read_video(Path(record["output"])))), 2),
                     "level": record["sigma"], "noise": record.get("noise")})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/screen"))
    parser.add_argument("--out", type=Path, help="write OUT.md and OUT.json")
    parser.add_argument("--composites", action="store_true")
    parser.add_argument("--noisy", nargs="+", default=["runs/noisekind/camera/*.mp4"],
                        help="noisy clips for the composites (globs; every fifth camera clip is used)")  # fmt: skip
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = score(make_pictures(args.work), args.work)
    lines = [f"Command: `python {' '.join(sys.argv)}`", "", "| clip | from its input (dB) | level run at | weights |", "|---|---:|---:|---|"]
    lines += [f"| {r['clip']} | {r['from_input_db']:.2f} | {r['level']:.2f} | {r['noise']} |" for r in rows]
    worst = min(rows, key=lambda r: r["from_input_db"])
    lines += ["", f"Worst clip: {worst['clip']}, {worst['from_input_db']:.2f} dB from its input."]
    if args.composites:
        noisy = [p for pattern in args.noisy for p in sorted(glob.glob(pattern))][::5]
        suite = ["runs/suite/noisy/davis/dog_sigma10_seed2024_6f.mp4", "runs/suite/noisy/davis/kite-surf_sigma25_seed2024_6f.mp4",
                 "runs/suite/noisy/vid4/calendar_sigma10_seed2024_6f.mp4"]  # fmt: skip
        composites = make_composites(args.work, noisy + [p for p in suite if Path(p).is_file()])
        probe = subprocess.run([sys.executable, str(Path(__file__).parent / "probe_flat_areas.py"), *map(str, composites)],
                               capture_output=True, text=True, check=True)  # fmt: skip
        lines += ["", "Composites (`scripts/probe_flat_areas.py`: flat windows, plateau crops, verdict):", "", "```", probe.stdout.rstrip(),
                  probe.stderr.rstrip(), "```"]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.with_suffix(".md").write_text(text)
        args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
