#!/usr/bin/env python
"""What ``stdit_cli.pipeline.flat_areas`` reads on videos: the bars cut, the share of windows of
one exact colour, the share of crops mostly one brightness, and whether the video reads as
noise-free (a made picture: level 0) or made in part, and then the box around its filmed part
(``stdit_cli.pipeline.made_areas``: its level is read there, the rest is kept). On the level
sample ``stdit denoise`` reads.

    python scripts/probe_flat_areas.py "runs/noisekind/*/*.mp4" clip.mkv ... [--json out.json]
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

from stdit_cli.pipeline.flat_areas import flat_window_share, plateau_crop_share
from stdit_cli.pipeline.made_areas import made_parts
from stdit_cli.pipeline.opening import read_sample
from stdit_cli.video import VideoReader


def probe(path: str) -> dict:
    with VideoReader(path, backend="pyav", bit_depth=None) as reader:
        frames = read_sample(reader, measure=False).level_frames  # inside the bars already
        height, width = reader.info.height, reader.info.width
    noise_free, filmed = made_parts(frames)
    return {
        "path": path,
        "size": [width, height],
        "picture": [frames.shape[2], frames.shape[1]],
        "flat_windows": round(flat_window_share(frames), 4),
        "plateau_crops": round(plateau_crop_share(frames), 4),
        "noise_free": noise_free,
        "filmed": None if filmed is None else [filmed[0].start, filmed[0].stop, filmed[1].start, filmed[1].stop],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="videos or glob patterns")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args()
    paths = [p for pattern in args.paths for p in (sorted(glob.glob(pattern)) or [pattern])]
    rows = []
    for path in paths:
        row = probe(path)
        rows.append(row)
        cut = "" if row["picture"] == row["size"] else f" picture {row['picture'][0]}x{row['picture'][1]} of {row['size'][0]}x{row['size'][1]}"
        verdict = "NOISE-FREE" if row["noise_free"] else "PART-MADE" if row["filmed"] else "-"
        box = "" if row["filmed"] is None else " filmed rows {}-{} columns {}-{}".format(*row["filmed"])
        print(f"{row['flat_windows']:.4f} {row['plateau_crops']:.2f} {verdict:10s} {path}{cut}{box}", flush=True)
    free = sum(row["noise_free"] for row in rows)
    part = sum(row["filmed"] is not None for row in rows)
    print(f"{free} of {len(rows)} read as noise-free, {part} as made in part", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
