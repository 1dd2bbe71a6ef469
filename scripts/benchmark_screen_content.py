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

``--webcam``: the part-made pictures of ``stdit_cli.pipeline.made_areas``: the interface and the
code editor with a webcam in their bottom-right corner at 320x180 (a quarter of the picture) or
192x108 (a tenth), the interface with a 512x288 player in it, and the whole frame of video under
a lower-third banner and a logo; the video a held-out clip (DAVIS dog, Vid4 walk) with camera
noise of an indoor and a dark room (``benchmark_camera_noise.CAMERAS``) drawn at its size; stored
losslessly and as H.264 CRF 20. Scored against the clean composite, the video and the rest apart:
the video must gain, the screen must stay as it came in.

    python scripts/benchmark_screen_content.py --work runs/screen --out scripts/results/DATE_screen_content
    python scripts/benchmark_screen_content.py --webcam --work runs/webcam --out scripts/results/DATE_screen_webcam
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
from benchmark_common import FFMPEG, frame_mse, psnr_db, read_video, stdit_batch, yuv_colour_args  # noqa: E402

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
    codec = ["-c:v", "ffv1", "-pix_fmt", "bgr0"] if lossless else ["-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p",
                                                                   *yuv_colour_args(width, height)]  # fmt: skip
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


#: ``--webcam``: where the video goes (label, screen, (top, left, height, width); None: the whole frame
#: under a banner), its held-out clips and its cameras (label, shot gain, noise blur)
WEBCAM_LAYOUTS = (
    ("quarter", "interface", (HEIGHT - 196, WIDTH - 336, 180, 320)), ("quarter", "code", (HEIGHT - 196, WIDTH - 336, 180, 320)),
    ("tenth", "interface", (HEIGHT - 124, WIDTH - 208, 108, 192)), ("tenth", "code", (HEIGHT - 124, WIDTH - 208, 108, 192)),
    ("player", "interface", (36, 8, 288, 512)), ("banner", None, None),
)  # fmt: skip
WEBCAM_CLIPS = ("davis/dog", "vid4/walk")
WEBCAM_CAMERAS = (("indoor", 2.5e-3, 0.7), ("dark", 8e-3, 1.0))


def _banner(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lower-third banner and a logo drawn over ``[T, H, W, 3]`` frames: (the frames with them, where they are)."""
    strip = Image.new("RGB", (WIDTH, 56), (20, 60, 140))
    ImageDraw.Draw(strip).text((20, 14), "BREAKING: denoiser ships", fill=(255, 255, 255), font=ImageFont.load_default(size=24))
    out = frames.copy()
    out[:, HEIGHT - 76 : HEIGHT - 20] = np.asarray(strip)
    out[:, 12:44, WIDTH - 76 : WIDTH - 20] = (200, 30, 30)
    graphics = np.zeros((HEIGHT, WIDTH), bool)
    graphics[HEIGHT - 76 : HEIGHT - 20] = True
    graphics[12:44, WIDTH - 76 : WIDTH - 20] = True
    return out, graphics


def make_webcam(work: Path, data: Path) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """Screen recordings with a noisy webcam or player in them, and noisy video under a banner:
    ``(path, clean frames, [H, W] bool where the video is)``."""
    from benchmark_camera_noise import camera
    from validation_suite import load_clip

    from stdit_cli.train.camera_noise import add_camera_noise

    made = []
    for clip in WEBCAM_CLIPS:
        footage = load_clip(data, clip, FRAMES)
        for layout, screen_name, box in WEBCAM_LAYOUTS:
            top, left, height, width = box or (0, 0, HEIGHT, WIDTH)
            small = np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.BOX)) for f in footage])
            for label, shot, blur in WEBCAM_CAMERAS:
                noisy = add_camera_noise(small, np.random.default_rng(3), camera(shot), noise_blur=blur)
                if screen_name is None:  # the video is the frame; graphics over it
                    (clean, video), (recorded, _) = _banner(small), _banner(noisy)
                    video = ~video
                else:
                    rng = np.random.default_rng(5)
                    screen = np.stack([np.asarray(PICTURES[screen_name](t, rng)) for t in range(FRAMES)])
                    clean, recorded = screen.copy(), screen.copy()
                    clean[:, top : top + height, left : left + width] = small
                    recorded[:, top : top + height, left : left + width] = noisy
                    video = np.zeros((HEIGHT, WIDTH), bool)
                    video[top : top + height, left : left + width] = True
                for lossless, suffix in ((True, "_lossless.mkv"), (False, "_h264.mp4")):
                    path = work / f"{layout}_{screen_name or 'video'}_{clip.split('/')[1]}_{label}{suffix}"
                    if not path.is_file():
                        write(recorded, path, lossless)
                    made.append((path, clean, video))
    return made


def score_webcam(made: list[tuple[Path, np.ndarray, np.ndarray]], work: Path) -> list[dict]:
    records = stdit_batch([path for path, _, _ in made], work)
    rows = []
    for path, clean, webcam in made:
        noisy, out = read_video(path), read_video(Path(records[str(path)]["output"]))

        def part(frames: np.ndarray, where: np.ndarray) -> float:
            return round(psnr_db(frame_mse(clean[:, where], frames[:, where])), 2)

        rows.append({"clip": path.name, "level": records[str(path)]["sigma"], "noise": records[str(path)].get("noise"),
                     "webcam_in": part(noisy, webcam), "webcam_out": part(out, webcam),
                     "screen_in": part(noisy, ~webcam), "screen_out": part(out, ~webcam),
                     "screen_from_input": round(psnr_db(frame_mse(noisy[:, ~webcam], out[:, ~webcam])), 2)})  # fmt: skip
    return rows


def score(paths: list[Path], work: Path) -> list[dict]:
    records = stdit_batch(paths, work)
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
    parser.add_argument("--webcam", action="store_true", help="screen recordings with a noisy webcam in them, instead of the made pictures")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--noisy", nargs="+", default=["runs/noisekind/camera/*.mp4"],
                        help="noisy clips for the composites (globs; every fifth camera clip is used)")  # fmt: skip
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.webcam:
        return report_webcam(score_webcam(make_webcam(args.work, args.data), args.work), args.out)
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


def report_webcam(rows: list[dict], out: Path | None) -> None:
    lines = [f"Command: `python {' '.join(sys.argv)}`", "", "PSNR (dB) against the clean composite, the webcam and the rest of the screen apart.", "",
             "The screen of a lossless clip is its clean picture (PSNR capped at 168).", "",
             "| clip | level run at | weights | webcam in | webcam out | screen in | screen out | screen out from its input |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    lines += [f"| {r['clip']} | {r['level']:.2f} | {r['noise']} | {r['webcam_in']:.2f} | {r['webcam_out']:.2f} | {r['screen_in']:.2f} | "
              f"{r['screen_out']:.2f} | {r['screen_from_input']:.2f} |" for r in rows]  # fmt: skip
    gain = [r["webcam_out"] - r["webcam_in"] for r in rows]
    worst = min(rows, key=lambda r: r["webcam_out"])
    kept = min(rows, key=lambda r: r["screen_from_input"])
    lines += ["", f"Webcam: {np.mean([r['webcam_out'] for r in rows]):.2f} dB on average (in {np.mean([r['webcam_in'] for r in rows]):.2f}), "
              f"gain {min(gain):+.2f} to {max(gain):+.2f}; worst clip {worst['clip']} {worst['webcam_out']:.2f}. Screen: at worst "
              f"{kept['screen_from_input']:.2f} dB from its input ({kept['clip']})."]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        out.with_suffix(".md").write_text(text)
        out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
