#!/usr/bin/env python
"""Video on a blurred copy of itself: what ``stdit denoise`` with no options makes of it.

A phone's portrait video shown in a landscape frame, or a landscape one in a portrait frame, is
mostly shared with the rest of the frame filled by an enlarged, blurred copy of the video itself
(the "blur fill" of every editor and of the platforms). The blur takes the noise out of the fill,
so a level read over the whole frame reads half the picture's (``stdit_cli.pipeline.flat_areas``:
blurred bands are now left out of it, as bars are).

Clips (``--work``, made once): held-out clips (``CLIPS``, 8 frames) with white noise of sigma 15
or camera noise of an indoor and a dark room (``benchmark_camera_noise.camera``) drawn on the
picture, then laid out (``LAYOUTS``): a 270x480 portrait picture in an 854x480 frame over its copy
blurred with radius 20, the same with the fill dimmed to 60%, with a lighter blur (radius 8), and a
480x270 landscape picture in a 480x854 portrait frame; and the noisy picture alone, the level
to match. Stored as H.264 CRF 20 4:2:0 (how such videos are shared). ``--clean``: the same
layouts with no noise, scored against their input (clean footage must be left alone).

Scored: PSNR of the picture (not the fill) against the clean picture; the level run at.

    python scripts/benchmark_blur_fill.py --out scripts/results/DATE_blur_fill
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_camera_noise import camera, encode_h264  # noqa: E402
from benchmark_common import frame_mse, psnr_db, read_video, stdit_batch  # noqa: E402
from validation_suite import load_clip  # noqa: E402

from stdit_cli.train.camera_noise import add_camera_noise  # noqa: E402

CLIPS = ("davis/blackswan", "davis/car-shadow", "davis/dog", "davis/kite-surf")
FRAMES = 8
#: label -> (frame width, height, picture width, height, blur radius, fill brightness)
LAYOUTS = {
    "portrait": (854, 480, 270, 480, 20, 1.0),
    "portrait_dim": (854, 480, 270, 480, 20, 0.6),
    "portrait_light": (854, 480, 270, 480, 8, 1.0),
    "landscape": (480, 854, 480, 270, 20, 1.0),
}
NOISES = ("white15", "indoor", "dark")


def _picture(clean: np.ndarray, width: int, height: int) -> np.ndarray:
    """The clip's middle cropped to the picture's shape, then resized to it: ``[T, height, width, 3]``."""
    _, rows, cols, _ = clean.shape
    crop_cols = min(cols, int(round(rows * width / height)))
    crop_rows = min(rows, int(round(crop_cols * height / width)))
    top, left = (rows - crop_rows) // 2, (cols - crop_cols) // 2
    return np.stack([np.asarray(Image.fromarray(f[top : top + crop_rows, left : left + crop_cols]).resize((width, height), Image.BOX))
                     for f in clean])  # fmt: skip


def _noised(picture: np.ndarray, noise: str) -> np.ndarray:
    if noise == "clean":
        return picture
    if noise == "white15":
        drawn = np.random.default_rng(1).normal(0, 15, picture.shape)
        return np.clip(picture + drawn, 0, 255).round().astype(np.uint8)
    shot, blur = {"indoor": (2.5e-3, 0.7), "dark": (8e-3, 1.0)}[noise]
    return add_camera_noise(picture, np.random.default_rng(3), camera(shot), noise_blur=blur)


def blur_filled(picture: np.ndarray, layout: str) -> tuple[np.ndarray, tuple[slice, slice]]:
    """``picture`` over its enlarged, blurred copy in the layout's frame: (frames, where the picture is)."""
    width, height, _, _, radius, brightness = LAYOUTS[layout]
    _, rows, cols, _ = picture.shape
    scale = max(width / cols, height / rows)
    out = np.empty((len(picture), height, width, 3), np.uint8)
    top, left = (height - rows) // 2, (width - cols) // 2
    for index, frame in enumerate(picture):
        enlarged = Image.fromarray(frame).resize((int(round(cols * scale)), int(round(rows * scale))), Image.BILINEAR)
        off_x, off_y = (enlarged.width - width) // 2, (enlarged.height - height) // 2
        fill = np.asarray(enlarged.crop((off_x, off_y, off_x + width, off_y + height)).filter(ImageFilter.GaussianBlur(radius)))
        out[index] = np.clip(fill * brightness, 0, 255).round().astype(np.uint8)
        out[index, top : top + rows, left : left + cols] = frame
    return out, (slice(top, top + rows), slice(left, left + cols))


def make_clips(work: Path, data: Path, clean_only: bool) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    made = []
    for clip in CLIPS:
        source = load_clip(data, clip, FRAMES)
        for layout, (_, _, picture_width, picture_height, _, _) in LAYOUTS.items():
            clean = _picture(source, picture_width, picture_height)
            for noise in ("clean",) if clean_only else NOISES:
                noisy = _noised(clean, noise)
                name = f"{clip.split('/')[1]}_{noise}_{layout}"
                frames, where = blur_filled(noisy, layout)
                cases = [("fill", frames, where)]
                if not clean_only:
                    cases.append(("alone", noisy, (slice(None), slice(None))))
                for kind, video, box in cases:
                    path = work / f"{name}_{kind}.mp4"
                    if not path.is_file():
                        encode_h264(video, path)
                    made.append({"path": path, "clean": clean, "box": box, "clip": clip, "noise": noise, "layout": layout, "kind": kind})
    return made


def run_stdit(made: list[dict], work: Path) -> None:
    records = stdit_batch([m["path"] for m in made], work)
    for m in made:
        record = records[str(m["path"])]
        picture = (slice(None), *m["box"])
        stored = read_video(m["path"])[picture]
        output = read_video(Path(record["output"]))[picture]
        m.update(level=record["sigma"], weights=record["noise"], noisy_db=round(psnr_db(frame_mse(m["clean"], stored)), 2),
                 out_db=round(psnr_db(frame_mse(m["clean"], output)), 2), from_input_db=round(psnr_db(frame_mse(stored, output)), 2))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("runs/blur_fill"))
    parser.add_argument("--clean", action="store_true", help="no noise: the layouts' clean footage, scored against its input")
    parser.add_argument("--out", type=Path, help="write OUT.md and OUT.json")
    args = parser.parse_args()
    made = make_clips(args.work, args.data, args.clean)
    run_stdit(made, args.work)
    lines = [f"Command: `python {' '.join(sys.argv)}`", "", "PSNR (dB) of the picture, not the fill; H.264 CRF 20 in, lossless out.", ""]
    if args.clean:
        lines += ["| clip | layout | level run at | weights | from its input |", "|---|---|---:|---|---:|"]
        lines += [f"| {m['clip']} | {m['layout']} | {m['level']:.2f} | {m['weights']} | {m['from_input_db']:.2f} |" for m in made]
        worst = min(made, key=lambda m: m["from_input_db"])
        lines += ["", f"Worst: {worst['clip']} {worst['layout']}, {worst['from_input_db']:.2f} dB from its input."]
    else:
        alone = {(m["clip"], m["noise"], m["layout"]): m for m in made if m["kind"] == "alone"}
        lines += ["| clip | noise | layout | noisy | filled: level, out | alone: level, out | filled - alone |", "|---|---|---|---:|---|---|---:|"]
        gaps = []
        for m in (m for m in made if m["kind"] == "fill"):
            a = alone[(m["clip"], m["noise"], m["layout"])]
            gaps.append(m["out_db"] - a["out_db"])
            lines.append(f"| {m['clip']} | {m['noise']} | {m['layout']} | {m['noisy_db']:.2f} | {m['level']:.2f} {m['weights']}, **{m['out_db']:.2f}** | "
                         f"{a['level']:.2f} {a['weights']}, {a['out_db']:.2f} | {gaps[-1]:+.2f} |")  # fmt: skip
        filled = [m["out_db"] for m in made if m["kind"] == "fill"]
        lines += ["", f"Filled: {np.mean(filled):.2f} dB on average, worst {min(filled):.2f}; against the picture alone {np.mean(gaps):+.2f} "
                  f"on average, {min(gaps):+.2f} to {max(gaps):+.2f}."]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.with_suffix(".md").write_text(text)
        rows = [{k: (str(v) if k == "path" else v) for k, v in m.items() if k not in ("clean", "box")} for m in made]
        args.out.with_suffix(".json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
