"""Where a denoised input goes: the default name beside it, ``-o`` read as a file or a folder,
and the checks that keep the input safe (never the output, never overwritten unasked)."""

from __future__ import annotations

import os
from pathlib import Path

from stdit_cli.video.atomic import NAME_MAX_BYTES
from stdit_cli.video.frame_folder import default_folder_output
from stdit_cli.video.image_writer import IMAGE_SUFFIXES, is_image_path
from stdit_cli.video.probe import VideoError, ffmpeg_path

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
#: photo formats stdit reads but does not write (an iPhone's HEIC): they come back as PNG, which
#: keeps every sample, a 10-bit HDR photo's included (`heif`)
READ_ONLY_PHOTO_SUFFIXES = (".heic", ".heif")
#: every output extension: the video containers, and the image formats a one-frame input can go to
OUTPUT_SUFFIXES = VIDEO_SUFFIXES + IMAGE_SUFFIXES
#: media extensions stdit reads (or users expect) but does not write: a frame folder's `-o clip.webm`
#: is a video asked for, not the name of an output folder
UNWRITTEN_MEDIA_SUFFIXES = (".gif", ".apng", ".webm", ".avi", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg", ".vob", ".wmv",
                            ".flv", ".3gp", ".ogv", ".mxf", ".dv", ".heic", ".heif", ".avif")  # fmt: skip


class OutputExistsError(VideoError, FileExistsError):
    """The output file exists and overwriting was not allowed."""


def unsupported_suffix(path: Path) -> VideoError:
    return VideoError(f"{path}: unsupported output extension (use one of {', '.join(OUTPUT_SUFFIXES)})")


def default_output_path(input_path: str | os.PathLike) -> Path:
    """`<stem>.denoised.mp4` beside the input; for an image (`.png`, `.jpg`...), `<stem>.denoised`
    with the input's own extension: a photo comes back as a photo (a HEIC as PNG); for a frame
    folder, the folder `<name>.denoised` (`frame_folder`)."""
    # `stdit denoise /dev/stdin < clip.mp4`: named after, and put beside, the file it stands for
    input_path = Path(ffmpeg_path(input_path)) if str(input_path).startswith(("/dev/", "/proc/")) else Path(input_path)
    if input_path.is_dir():
        return default_folder_output(input_path)
    suffix = input_path.suffix if is_image_path(input_path) else ".mp4"
    if input_path.suffix.lower() in READ_ONLY_PHOTO_SUFFIXES:
        suffix = ".png"
    return input_path.with_name(f"{input_path.stem}.denoised{suffix}")


def resolve_output_path(
    input_path: str | os.PathLike, output: str | os.PathLike | None, overwrite: bool = False, exact: bool = False
) -> Path:
    """Where to write the denoised video for `input_path`.

    `output` None means `default_output_path(input_path)`; an existing folder, or a path ending
    in a separator, means `<folder>/` and that name; anything else is the file itself. With
    `exact` (a batch's planned output), `output` is the output itself: an existing frame-folder
    output is that folder, not a folder to write into.
    Raises `OutputExistsError` when the file exists and `overwrite` is False, and `VideoError`
    when the folder is missing, the extension is not a supported container, or the output would
    be the input itself (compared after resolving links, and by inode), whatever `overwrite` says.
    """
    input_path = Path(input_path)
    if output is None:
        out = default_output_path(input_path)
    elif not exact and (str(output).endswith(("/", os.sep)) or Path(output).is_dir()):
        out = Path(output) / default_output_path(input_path).name
    else:
        out = Path(output)
    if len(os.fsencode(out.name)) > NAME_MAX_BYTES:
        raise VideoError(f"{out.name[:40]}...{out.suffix}: the output's name is longer than a file name can be "
                         f"({NAME_MAX_BYTES} bytes); name a shorter one with -o")  # fmt: skip
    if not out.parent.is_dir():
        if out.parent.exists():
            raise VideoError(f"{out}: {out.parent} is a file, not a folder")
        raise VideoError(f"{out}: the output folder {out.parent} does not exist")
    # a frame folder comes back as a folder of pictures, unless a video or picture is named
    frames_out = input_path.is_dir() and out.suffix.lower() not in OUTPUT_SUFFIXES + UNWRITTEN_MEDIA_SUFFIXES
    if out.suffix.lower() not in OUTPUT_SUFFIXES and not frames_out:
        raise unsupported_suffix(out)
    same = out.resolve() == input_path.resolve()
    if not same and out.exists() and input_path.exists():
        same = os.path.samefile(out, input_path)
    if same:
        raise VideoError(f"{out}: the output would overwrite the input")
    if out.is_dir() and not frames_out:
        raise VideoError(f"{out}: is a folder")
    if frames_out and out.exists() and not out.is_dir():
        raise VideoError(f"{out}: is a file, and the frames of {input_path} go to a folder")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out}: already exists (pass --overwrite to replace it)")
    return out
