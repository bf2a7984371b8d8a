"""The report folder on disk: which folders a report may replace, the lock two runs
that finish at once take turns on, the move into place, and the rows of ``paths.csv``.

A folder is only ever replaced if it is empty, or carries the marker file of a report
this tool made and holds nothing but the files that marker lists; two runs that finish
at once move their folders into place one after the other (a lock on the parent
folder), so the folder is always one whole report.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..scenario.errors import ScenarioError

__all__ = [
    "CSV_FORMAT",
    "MARKER",
    "PATHS_CSV",
    "PATHS_PARQUET",
    "check_destination",
    "csv_header",
    "csv_rows",
    "locked",
    "move_into_place",
]

MARKER = ".simulator-report"
"""File inside every report folder, listing the files the tool wrote there; a folder
without it, or holding anything else, is never replaced."""

_REPORT_NAME = re.compile(
    r"(index\.html|report\.md|summary\.json|paths\.(csv|parquet)|[\w-]+\.png)"
)
"""Names a report folder whose marker lists no files (an older one) may hold."""

PATHS_CSV = "paths.csv"
PATHS_PARQUET = "paths.parquet"
CSV_FORMAT = "%.8g"
"""Per-path values in ``paths.csv``: 8 significant digits, far finer than the summary's
histograms (``2**-11`` relative)."""


def check_destination(out: Path, shown: Path | None = None) -> None:
    """Refuse a destination that is not new, empty, or a report this tool made."""
    file = str(shown or out)
    if out == out.parent:
        raise ScenarioError("is the root of a file system; choose another --out", file=file)
    if out.is_symlink() and not out.exists():
        raise ScenarioError("is a broken link; choose another --out", file=file)
    if out.exists() and not out.is_dir():
        raise ScenarioError("exists and is not a folder; choose another --out", file=file)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise ScenarioError(
            "is a folder this tool did not make and it is not empty; it will not be "
            "overwritten. Choose another --out or empty it.",
            file=file,
        )
    foreign = sorted(p.name for p in out.iterdir() if not _ours(p, out))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ScenarioError(
            f"is a report folder, but it also holds files this tool did not write ({shown}); "
            "it will not be replaced. Move them, or choose another --out.",
            file=file,
        )


def _ours(path: Path, folder: Path) -> bool:
    """Whether ``path``, inside a report folder, is a file the report wrote."""
    if path.name == MARKER:
        return True
    if path.is_symlink() or not path.is_file():
        return False
    try:
        listed = (folder / MARKER).read_text(encoding="utf-8").splitlines()[1:]
    except (OSError, UnicodeDecodeError):
        return False
    if listed:
        return path.name in listed
    return _REPORT_NAME.fullmatch(path.name) is not None


@contextlib.contextmanager
def locked(folder: Path):
    """Hold an exclusive lock on ``folder`` (where fcntl exists), so that two runs that
    finish at once move their reports into it one after the other."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def move_into_place(staging: Path, out: Path, shown: Path | None = None) -> None:
    """Replace the folder ``out`` (an absolute path) with ``staging``, whole, after
    checking ``out`` once more; errors name it ``shown``."""
    os.chmod(staging, 0o755)
    retired = None
    # Another run into the same folder may be finishing too: one at a time, each
    # move is whole (the last one to finish is the report that stays).
    with locked(out.parent):
        check_destination(out, shown)  # it may have changed while the run went
        if out.exists() or out.is_symlink():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, retired / out.name)
        os.replace(staging, out)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def csv_header(names: Sequence[str]) -> str:
    """The header row of ``paths.csv``, quoted where a name needs it (option names are
    the scenario's, and may hold commas, quotes or line breaks)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(names)
    return buffer.getvalue()


def csv_rows(first: int, columns: list[np.ndarray]) -> str:
    """CSV rows of one batch of paths: the path index, then ``columns``."""
    # One %-format per row is the fastest text CPython offers here (numpy.savetxt,
    # numpy's string functions and per-value formatting were all slower): about 1.3 s
    # per 100,000 rows of 50 numbers.
    line = "%d," + ",".join([CSV_FORMAT] * len(columns))
    values = [np.asarray(c, dtype=float).tolist() for c in columns]
    rows = zip(range(first, first + len(values[0])), *values, strict=True)
    return "\n".join(line % row for row in rows) + "\n"
