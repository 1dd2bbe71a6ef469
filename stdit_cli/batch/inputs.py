"""A batch of videos: the input list, where each input's output goes, and what is already done.

Inputs are the command line's, then those of `--inputs-from FILE` (`-` reads stdin): one path per
line, surrounding whitespace stripped (CRLF lists work, and a UTF-8 byte-order mark at the start,
which Windows Notepad writes, is dropped), blank lines and lines starting with `#`
skipped, relative paths taken from the current folder, names decoded like the file system's own
(bytes that are not UTF-8 survive). A list with NUL bytes in it (`find -print0`) is read as
NUL-separated names, taken exactly as they are (spaces, newlines, a leading `#`).
An input named twice (or through a link) is denoised once.

Outputs (`-o`): none means `<stem>.denoised.mp4` beside each input; a path with a video suffix is
the output file of a single input; anything else is a folder, created when missing (end the path
with `/` to force a folder whose name has a dot). With `--relative-to DIR`, each input's folder
below DIR is recreated under the output folder, so a tree of footage gives the same tree of
results. Two inputs that would write the same output are refused before anything runs (the second
one fails), so `--skip-existing` can never mistake one video's result for another's.

Complete outputs (`--skip-existing`): outputs only ever appear by an atomic rename once FFmpeg
has finished, so an output file at the final name is a finished one; it is skipped when it also
opens as a video whose packets (not only its header) hold at least the input's frame count (or, for an input whose header counts
time slots, as an AVI that dropped frames does, fewer frames spanning its whole duration). Anything else at that name (a file from
somewhere else, a result for a since-replaced input) is denoised again and replaced.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from stdit_cli.video import VideoError, VideoInfo, VideoReader, default_output_path, probe_video, resolve_output_path
from stdit_cli.video.frame_folder import count_frames


class BatchError(ValueError):
    """A batch that cannot start: unreadable input list, `-o FILE` for several inputs..."""


def parse_input_list(data: bytes) -> list[Path]:
    """Paths from the bytes of an input list (see the module docstring for the format)."""
    if b"\0" in data:  # `find -print0`: NUL-separated names, taken exactly as they are
        return [Path(os.fsdecode(name)) for name in data.split(b"\0") if name]
    paths = []
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark (Notepad's): not part of the first path
    for raw_line in data.split(b"\n"):
        line = os.fsdecode(raw_line).strip()
        if line and not line.startswith("#"):
            paths.append(Path(line))
    return paths


def read_input_list(source: str, stdin: BinaryIO | None = None) -> list[Path]:
    """The paths listed in file `source`, or on stdin when `source` is `-`."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return parse_input_list(stream.read())
    try:
        return parse_input_list(Path(source).read_bytes())
    except OSError as error:
        raise BatchError(f"--inputs-from {source}: cannot read the list ({error.strerror})") from None


def unique_inputs(paths: Iterable[Path]) -> list[Path]:
    """`paths` in order, each file once (compared after resolving links and `..`)."""
    seen: set[str] = set()
    unique = []
    for path in paths:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _is_folder(path: Path) -> bool:
    """``path.is_dir()``, False where the path cannot even be looked up (a name too long: the
    output's own check then says so in one line)."""
    try:
        return path.is_dir()
    except OSError:
        return False


@dataclass(frozen=True)
class OutputPlan:
    """Where outputs go: beside the inputs (`target` None), into a folder, or one file."""

    target: Path | None
    is_folder: bool
    relative_to: Path | None = None

    @classmethod
    def from_option(cls, output: str | None, input_count: int, relative_to: Path | None) -> "OutputPlan":
        """Read `-o` the way the module docstring says; raises `BatchError` for a usage error."""
        if output is None:
            if relative_to is not None:
                raise BatchError("--relative-to needs -o to name the output folder")
            return cls(None, False)
        target = Path(output)
        is_folder = output.endswith(("/", os.sep)) or _is_folder(target) or not target.suffix
        if not is_folder and input_count > 1:
            raise BatchError("several inputs need -o to be a folder (or no -o)")
        if not is_folder and relative_to is not None:
            raise BatchError("--relative-to needs -o to be a folder, not a file")
        return cls(target, is_folder, relative_to)

    def output_for(self, input_path: Path) -> Path:
        """The output path of `input_path` (no file system changes; `BatchError` if impossible)."""
        if self.target is None:
            return default_output_path(input_path)
        if not self.is_folder:
            return self.target
        folder = self.target
        if self.relative_to is not None:
            below = os.path.relpath(os.path.abspath(input_path.parent), os.path.abspath(self.relative_to))
            if below == os.pardir or below.startswith(os.pardir + os.sep):
                raise BatchError(f"{input_path}: is not inside --relative-to {self.relative_to}")
            folder = folder / below
        return folder / default_output_path(input_path).name


@dataclass(frozen=True)
class BatchItem:
    """One input of the batch: its place in the whole batch, and its output (or why none)."""

    index: int  # position in the batch: the order of the report, and what torchrun shards by
    input: Path
    output: Path | None = None
    error: str | None = None  # set when no output could be planned


def plan_batch(inputs: list[Path], plan: OutputPlan) -> list[BatchItem]:
    """An item per input; an input whose output another input already claims gets an error."""
    items = []
    owners: dict[str, Path] = {}
    for index, input_path in enumerate(inputs):
        try:
            output = plan.output_for(input_path)
        except BatchError as error:
            items.append(BatchItem(index, input_path, error=str(error)))
            continue
        key = os.path.realpath(output)
        if key in owners:
            message = f"{input_path}: its output {output} is also the output of {owners[key]}"
            same_folder = os.path.realpath(input_path.parent) == os.path.realpath(owners[key].parent)
            if plan.is_folder and plan.relative_to is None and not same_folder:
                message += " (use --relative-to to keep their folders apart)"
            elif same_folder:
                message += " (name each one's output with its own -o, or rename one)"
            items.append(BatchItem(index, input_path, output, error=message))
            continue
        owners[key] = input_path
        items.append(BatchItem(index, input_path, output))
    return items


def prepare_output(item: BatchItem, plan: OutputPlan, overwrite: bool) -> Path:
    """Create the item's output folder when `-o` names a folder, and check the output path.

    Raises `VideoError` (one line) as `resolve_output_path` does, or when the folder cannot be made.
    """
    assert item.output is not None, f"{item.input}: no output was planned ({item.error})"
    if plan.is_folder:
        try:
            item.output.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise VideoError(f"{item.output.parent}: is not a folder, and -o names a folder here (no video extension, "
                             f"or a final /; for one file, give its name: -o out.mp4)") from None  # fmt: skip
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise VideoError(f"{item.output.parent}: cannot create the output folder ({reason})") from None
    return resolve_output_path(item.input, item.output, overwrite, exact=True)


def finished_frames(output: Path) -> int | None:
    """Frames of the video at `output` (or pictures of the frame folder), or None when there is
    nothing there that opens as a whole video.

    The frames are counted from the packets, not taken from the header: an MP4 whose header
    (written first, `faststart`) declares every frame but whose data was cut short (a copy
    stopped halfway, a full disk elsewhere) does not open (`VideoReader` refuses it)."""
    if output.is_dir():
        return count_frames(output)
    if not output.is_file():
        return None
    try:
        with VideoReader(output, backend="pyav") as reader:  # indexes every packet; decodes none
            return len(reader)
    except VideoError:
        return None


def is_finished(output: Path, source: VideoInfo) -> tuple[bool, int | None]:
    """(whether `output` is a finished result for the input `source` describes, its frames).

    Finished: as many frames as the input declares, or fewer that span the input's whole duration
    (an AVI that dropped frames declares its time slots; its result holds the frames there were, at
    their times)."""
    frames = finished_frames(output)
    if frames is None or frames >= source.num_frames:
        return frames is not None, frames
    if output.is_dir():
        return False, frames
    try:
        spans = probe_video(output).duration_s >= source.duration_s - 0.5 / float(source.fps)
    except VideoError:
        spans = False
    return spans, frames
