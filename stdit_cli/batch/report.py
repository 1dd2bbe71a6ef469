"""What a batch did, input by input: records, the JSONL report, the summary table.

Every input gets one record, whatever happened to it. Status:

- `ok`: denoised, the output is in place;
- `skipped`: `--skip-existing` found its complete output;
- `failed`: not denoised, `error` says why in one line (nothing was written);
- `interrupted`: it was in progress when a signal stopped the batch (its temporary file was
  removed; a rerun with `--skip-existing` does it again);
- `not_started`: the batch stopped before reaching it.

A record's keys are `input, output, status, error, sigma, frames, seconds, warnings, index, rank`
in every case (null where they do not apply), followed, for `ok`, by the rest of what the
denoiser reports (`model, sigma_estimated, t_start, steps, scheduler, device, precision, width,
height, fps`). `index` is the input's position in the batch, `rank` the torchrun process that
handled it (0 without torchrun).

The report file is written as the batch goes, one flushed line per input, so that a batch killed
outright (SIGKILL, a power cut) still leaves the lines of the inputs it finished.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from rich.table import Table

from stdit_cli.video.atomic import temporary_name

if TYPE_CHECKING:
    from stdit_cli.pipeline import DenoiseResult

STATUSES = ("ok", "skipped", "failed", "interrupted", "not_started")

#: above this many inputs the summary table lists only those that need attention
SUMMARY_ROWS = 40

_CORE_KEYS = ("input", "output", "status", "error", "sigma", "frames", "seconds", "warnings", "index", "rank")


@dataclass
class Record:
    """The outcome of one input of a batch (see the module docstring)."""

    index: int
    input: str
    output: str | None
    status: str
    error: str | None = None
    sigma: float | None = None
    frames: int | None = None
    seconds: float | None = None
    warnings: list[str] = field(default_factory=list)
    rank: int = 0
    details: dict = field(default_factory=dict)  # the rest of the DenoiseResult of an `ok` input

    def __post_init__(self) -> None:
        assert self.status in STATUSES, f"status must be one of {STATUSES}, got {self.status!r}"

    @classmethod
    def from_result(cls, index: int, result: DenoiseResult, warnings: list[str], rank: int = 0) -> "Record":
        """The record of a denoised input."""
        details = asdict(result)
        for key in ("input", "output", "sigma", "frames", "seconds"):
            details.pop(key)
        details["fps"] = round(result.fps, 3)
        return cls(index, result.input, result.output, "ok", sigma=result.sigma, frames=result.frames,
                   seconds=result.seconds, warnings=warnings, rank=rank, details=details)  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> "Record":
        """A record back from `to_dict` (rank reports, the merge)."""
        core = {key: data.get(key) for key in _CORE_KEYS}
        core["warnings"] = core["warnings"] or []
        core["rank"] = core["rank"] or 0
        details = {key: value for key, value in data.items() if key not in _CORE_KEYS}
        return cls(**core, details=details)

    @property
    def ok(self) -> bool:
        """True when the input needs nothing more (denoised now or before)."""
        return self.status in ("ok", "skipped")

    def to_dict(self) -> dict:
        data = {key: getattr(self, key) for key in _CORE_KEYS}
        data.update(self.details)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def rank_report_path(report: Path, rank: int) -> Path:
    """`out/report.jsonl` -> `out/report.rank3.jsonl`: where torchrun rank 3 writes as it goes."""
    return report.with_name(f"{report.stem}.rank{rank}{report.suffix}")


def rank_reports(report: Path) -> list[Path]:
    """The rank reports beside `report` (`report.rank0.jsonl`, `report.rank1.jsonl`, ...)."""
    if not report.parent.is_dir():
        return []
    prefix, suffix = f"{report.stem}.rank", report.suffix
    return sorted(
        path for path in report.parent.iterdir()
        if path.name.startswith(prefix) and path.name.endswith(suffix)
        and path.name[len(prefix) : len(path.name) - len(suffix)].isdigit()
    )  # fmt: skip


def _same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file (after links and ``..``, or by inode where both exist)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def check_report_path(report: Path, inputs: Iterable[Path], outputs: Iterable[Path]) -> None:
    """Refuse a ``--report`` path whose writing would destroy something: an input, a planned
    output, or any existing file that is not an earlier report (a report starts with ``{``, one
    JSON record per line). Raises ``ValueError`` with one line; the report is opened only after."""
    if str(report) == "-":  # `-` is stdin/stdout elsewhere on the command line; a file named "-" would surprise
        raise ValueError("--report -: name a file for the report (--json prints the same records on stdout)")
    for kind, paths in (("input", inputs), ("output", outputs)):
        for path in paths:
            if _same_file(report, path):
                raise ValueError(f"--report {report}: is the {kind} {path}; name another file for the report")
    if report.is_dir():
        raise ValueError(f"--report {report}: is a folder; name a file for the report")
    if report.is_file():
        try:
            with open(report, "rb") as file:
                start = file.read(64).lstrip()
        except OSError as error:
            raise ValueError(f"--report {report}: cannot read it ({error.strerror})") from None
        if start and not start.startswith(b"{"):
            raise ValueError(f"--report {report}: exists and is not a stdit report; it would be replaced, so name another file")


def _lock(file) -> bool:
    """An exclusive advisory lock on an open file for as long as it stays open: False when another
    process holds one (where the system has no ``flock``, or the file system refuses it: True)."""
    try:
        import fcntl
    except ImportError:  # Windows
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: write as before
        return True
    return True


class ReportWriter:
    """A JSONL file written one flushed line per record; a write failure is kept, not raised.

    A batch should not stop denoising because its report could not be written (a full disk is
    reported per video anyway): `error` holds the first failure, which the caller reports.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self.error: str | None = None
        self._file = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # opened without truncating, locked, then emptied: a second run given the same
                # report is refused rather than emptying the first one's lines as it goes
                self._file = open(path, "a", encoding="utf-8", errors="surrogateescape")
            except OSError as error:
                raise OSError(f"{path}: cannot write the report ({error.strerror})") from None
            if not _lock(self._file):
                self._close_quietly()
                raise OSError(f"{path}: another stdit run is writing this report; give each run its own --report")
            if path.is_file():
                self._file.truncate(0)

    def write(self, record: Record) -> None:
        if self._file is None:
            return
        try:
            self._file.write(record.to_json() + "\n")
            self._file.flush()
        except OSError as error:
            self.error = f"{self.path}: cannot write the report ({error.strerror}); the batch goes on without it"
            self._close_quietly()

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as error:
                self.error = self.error or f"{self.path}: cannot write the report ({error.strerror})"
            self._file = None

    def _close_quietly(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
        self._file = None


def write_report(path: Path, records: Iterable[Record]) -> None:
    """Write a whole report atomically (temporary file beside it, then rename): the merged report."""
    temp_path = temporary_name(path, keep_suffix=False)
    try:
        with open(temp_path, "w", encoding="utf-8", errors="surrogateescape") as file:
            for record in records:
                file.write(record.to_json() + "\n")
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


def totals(records: Iterable[Record]) -> str:
    """`3 ok, 1 skipped, 1 failed` (statuses that occur, in a fixed order)."""
    counts = {status: 0 for status in STATUSES}
    for record in records:
        counts[record.status] += 1
    return ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n)


_STATUS_STYLE = {"ok": "green", "skipped": "cyan", "failed": "red", "interrupted": "yellow", "not_started": "dim"}


def summary_table(records: list[Record], title: str) -> Table:
    """One row per input (only those not ok or skipped when there are more than SUMMARY_ROWS)."""
    shown = records if len(records) <= SUMMARY_ROWS else [r for r in records if not r.ok]
    caption = totals(records)
    if len(shown) < len(records):
        caption += f" (only the {len(shown)} that were not ok or skipped are listed; the report has all)"
    table = Table(title=title, caption=caption)
    for column in ("input", "status", "output / error", "sigma", "t*", "steps", "frames", "fps", "time"):
        table.add_column(column, overflow="fold")
    for record in shown:
        status = f"[{_STATUS_STYLE[record.status]}]{record.status.replace('_', ' ')}[/]"
        name = Path(record.input).name
        if record.status != "ok":
            detail = record.error or record.output or ""
            if detail.startswith(f"{record.input}: "):
                detail = detail[len(record.input) + 2 :]
            frames = "" if record.frames is None else str(record.frames)
            table.add_row(name, status, detail, "", "", "", frames, "", "")
            continue
        d = record.details
        sigma = f"{record.sigma:.1f} {'auto' if d.get('sigma_estimated') else 'given'}" + (" (real)" if d.get("noise") == "real" else "")
        table.add_row(name, status, record.output, sigma, str(d.get("t_start", "")), f"{d.get('steps', '')} {d.get('scheduler', '')}",
                      str(record.frames), f"{d.get('fps', 0.0):.2f}", f"{record.seconds:.1f}s")  # fmt: skip
    return table
