"""The report folder on disk: which folders a report may replace, what is checked
before a run, the lock, the move into place, what killed runs left behind, and the
rows of ``paths.csv``.

A folder is only ever replaced if it is empty, or carries the marker file of a report
this tool made and holds nothing but the files that marker lists. What would make the
final move fail is checked before a run (:func:`make_staging`): a symbolic link, a
mount point, a folder that cannot be written or is on another file system. The move
(:func:`move_into_place`) swaps the two folders in one step where Linux can
(``renameat2`` ``RENAME_EXCHANGE``), or renames twice; whatever stops it in between
(an error, Ctrl-C, SIGTERM) puts the previous report back. Two runs that finish at
once move one after the other (a lock on the parent folder). Staging folders name
their process (:data:`OWNER`); a killed run's are removed by the next run into the
same folder (:func:`clean_stale`).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import functools
import io
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..scenario.errors import ScenarioError

__all__ = ["CSV_FORMAT", "MARKER", "OWNER", "PATHS_CSV", "PATHS_PARQUET"]
__all__ += ["check_destination", "clean_stale", "csv_header", "csv_rows", "locked"]
__all__ += ["make_staging", "move_into_place"]

MARKER = ".simulator-report"
"""File inside every report folder, listing the files the tool wrote there; a folder
without it, or holding anything else, is never replaced."""

OWNER = ".simulator-staging"
"""File inside a staging folder while a run builds it: the process (its PID and start
time), the host and the boot, as JSON; removed just before the folder moves into
place, so a report never holds it."""

_REPORT_NAME = re.compile(
    r"(index\.html|report\.md|summary\.json|paths\.(csv|parquet)|[\w-]+\.png)"
)
"""Names a report folder whose marker lists no files (an older one) may hold."""

PATHS_CSV = "paths.csv"
PATHS_PARQUET = "paths.parquet"
CSV_FORMAT = "%.8g"
"""Per-path values in ``paths.csv``: 8 significant digits, far finer than the summary's
histograms (``2**-11`` relative)."""

ABANDONED_S = 600.0
"""Age of a staging folder that holds a whole report but names no owner past which
it is taken for what a killed move left (see :func:`clean_stale`)."""

_TEMP_CHARACTERS = "[a-z0-9_]{8}"
"""The random part of a :func:`tempfile.mkdtemp` name: how staging (``.NAME.*.tmp``)
and aside (``.NAME.*.old``) folders are told from anything else beside a report."""


# ---------------------------------------------------------------------------
# What a destination may be


def check_destination(out: Path, shown: Path | None = None) -> None:
    """Refuse a destination that is not new, empty, or a report this tool made, or
    that the report could not be moved onto: a symbolic link or a mount point."""
    file = str(shown or out)
    if out == out.parent:
        raise ScenarioError("is the root of a file system; choose another --out", file=file)
    if out.is_symlink():
        if not out.exists():
            raise ScenarioError("is a broken link; choose another --out", file=file)
        raise ScenarioError(
            f"is a symbolic link (to {os.readlink(out)}); the report would replace the "
            f"link, not the folder it points to: give the link's target with --out "
            f"{os.path.realpath(out)}, or remove the link",
            file=file,
        )
    if out.exists() and not out.is_dir():
        raise ScenarioError("exists and is not a folder; choose another --out", file=file)
    if out.is_dir() and _is_mount_point(out):
        raise ScenarioError(
            "is a mount point, and a report folder is moved into place by renaming it, "
            f"which a mount point cannot be: give a folder inside it, such as --out "
            f"{os.path.join(file, 'report')}",
            file=file,
        )
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise ScenarioError(
            "is a folder this tool did not make and it is not empty; it will not be "
            "overwritten. Choose another --out or empty it.",
            file=file,
        )
    foreign = _foreign(out)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ScenarioError(
            f"is a report folder, but it also holds files this tool did not write ({shown}); "
            "it will not be replaced. Move them, or choose another --out.",
            file=file,
        )
    if not os.access(out, os.W_OK | os.X_OK):
        raise ScenarioError(
            "is a report folder whose files cannot be removed (no write permission); "
            "it would be left behind beside the new one. Choose another --out.",
            file=file,
        )


def _foreign(folder: Path) -> list[str]:
    """Names in a report folder that are not files the report wrote (its marker lists
    them; an older marker lists none, and then report names are allowed)."""
    try:
        listed = (folder / MARKER).read_text(encoding="utf-8").splitlines()[1:]
    except (OSError, UnicodeDecodeError):
        listed = None

    def ours(path: Path) -> bool:
        if listed is None or path.is_symlink() or not path.is_file():
            return False
        return path.name in listed if listed else bool(_REPORT_NAME.fullmatch(path.name))

    return sorted(p.name for p in folder.iterdir() if p.name != MARKER and not ours(p))


def _is_report(folder: Path) -> bool:
    """Whether ``folder`` (not a link) is a whole report this tool made."""
    return (
        not folder.is_symlink()
        and (folder / MARKER).is_file()
        and not (folder / OWNER).exists()
        and not _foreign(folder)
    )


def _is_mount_point(path: Path) -> bool:
    """Whether ``path`` is a mount point: another file system, or a bind mount of a
    folder of the same one (which :func:`os.path.ismount` cannot tell, and which
    refuses to be renamed all the same: ``EBUSY``)."""
    try:
        if os.path.ismount(path):
            return True
    except OSError:
        pass
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            points = {line.split(" ")[4] for line in f if line.count(" ") >= 5}
    except OSError:
        return False
    # Spaces, tabs, line breaks and backslashes in mount points are octal escapes.
    unescape = re.compile(r"\\([0-7]{3})")
    points = {unescape.sub(lambda m: chr(int(m[1], 8)), p) for p in points}
    return os.path.realpath(path) in points


# ---------------------------------------------------------------------------
# Before a run: the staging folder


def make_staging(out: Path, shown: Path | None = None) -> Path:
    """Check everything about the destination ``out`` (an absolute path) that can be
    checked before a run, remove what killed runs left beside it, and make the staging
    folder there: ``.NAME.XXXXXXXX.tmp`` beside ``out``, holding its :data:`OWNER` file.

    Raises
    ------
    ScenarioError
        When ``out`` may not be replaced (:func:`check_destination`), its folder cannot
        be made or written (a file in the way, a read-only file system, no permission,
        no space), or it is on another file system than that folder: errors name it
        ``shown``, and say what to do. Nothing is left behind, not even the folders
        made on the way.
    """
    file = str(shown or out)
    check_destination(out, shown)
    made = _make_parents(out.parent, file)
    try:
        try:
            with locked(out.parent):
                clean_stale(out)
                staging = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
                )
                try:
                    _claim(staging)
                    _check_same_file_system(staging, out, file)
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
        except OSError as err:
            raise ScenarioError(
                f"cannot write in the folder that would hold it, {out.parent} "
                f"({err.strerror or err}); choose another --out",
                file=file,
            ) from None
    except BaseException:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return staging


def _make_parents(folder: Path, file: str) -> list[Path]:
    """Make ``folder`` and its missing parents; return those it made, outermost first."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        in_the_way = next((p for p in (probe, *probe.parents) if p.exists()), probe)
        reason = err.strerror or str(err)
        if in_the_way.exists() and not in_the_way.is_dir():
            reason = f"{in_the_way} is a file, not a folder"
        raise ScenarioError(
            f"its folder {folder} cannot be made ({reason}); choose another --out", file=file
        ) from None
    return missing[::-1]


def _check_same_file_system(staging: Path, out: Path, file: str) -> None:
    try:
        device = os.lstat(out).st_dev
    except FileNotFoundError:
        return  # renamed into the folder that holds the staging folder: the same one
    if device != os.stat(staging).st_dev:
        raise ScenarioError(
            "is on another file system than the folder that holds it, so the report "
            "cannot be moved onto it: give a folder inside it, such as --out "
            f"{os.path.join(file, 'report')}",
            file=file,
        )


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _process(pid: int) -> tuple[str, int] | None:
    """State letter and start time (clock ticks after boot) of a process, from
    ``/proc``; ``None`` where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _claim(staging: Path) -> None:
    """Write the :data:`OWNER` file of a staging folder: this process."""
    pid = os.getpid()
    process = _process(pid)
    owner = {
        "pid": pid,
        "start": process[1] if process else None,
        "host": socket.gethostname(),
        "boot": _boot_id(),
    }
    (staging / OWNER).write_text(json.dumps(owner) + "\n", encoding="utf-8")


def _owner_gone(staging: Path) -> bool:
    """Whether the process that made ``staging`` is known to be gone (on this host:
    another boot, no such process, a zombie, or the PID taken by a later process).
    ``False`` whenever it cannot be told, such as for a run on another host."""
    try:
        owner = json.loads((staging / OWNER).read_text(encoding="utf-8"))
        pid = owner["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not isinstance(pid, int) or pid <= 0 or owner.get("host") != socket.gethostname():
        return False
    boot = _boot_id()
    if boot and owner.get("boot") and owner["boot"] != boot:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (another user's), or cannot be asked
    process = _process(pid)
    if process is None:
        return False
    state, start = process
    return state in ("Z", "X") or (owner.get("start") not in (None, start))


def clean_stale(out: Path) -> list[Path]:
    """Remove what killed runs into ``out`` left beside it; call it holding
    :func:`locked` on ``out.parent``.

    - a staging folder (``.NAME.*.tmp``) whose :data:`OWNER` process is gone, or
      that holds a whole report, no owner, and has not changed for
      :data:`ABANDONED_S` (a move, or the removal of the report it replaced, that was
      cut off);
    - an aside copy (``.NAME.*.old``, which exists only while a move holds the lock):
      put back in place if ``out`` is missing, otherwise removed.

    Only folders this tool made are touched: an aside copy must be empty or a whole
    report; anything else with a matching name is left alone.

    Returns
    -------
    list of pathlib.Path
        The folders removed or put back.
    """
    pattern = re.compile(rf"\.{re.escape(out.name)}\.{_TEMP_CHARACTERS}\.(tmp|old)")
    done = []
    try:
        entries = sorted(out.parent.iterdir())
    except OSError:
        return done
    for path in entries:
        found = pattern.fullmatch(path.name)
        if found is None or path.is_symlink() or not path.is_dir():
            continue
        if found[1] == "tmp":
            if (path / OWNER).exists() and _owner_gone(path) or _abandoned(path):
                shutil.rmtree(path, ignore_errors=True)
                done.append(path)
        elif not os.path.lexists(out) and _is_report(path):
            os.replace(path, out)
            done.append(path)
        elif _is_report(path) or not any(path.iterdir()):
            shutil.rmtree(path, ignore_errors=True)
            done.append(path)
    return done


def _abandoned(staging: Path) -> bool:
    """Whether a staging folder without an owner holds a whole report untouched for
    :data:`ABANDONED_S`: a move (or the removal of the report it replaced) that was
    cut off. A younger one may be another writer's, about to move."""
    try:
        age = time.time() - (staging / MARKER).stat().st_mtime
    except OSError:
        return False
    return age > ABANDONED_S and _is_report(staging)


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


# ---------------------------------------------------------------------------
# After a run: the move


def move_into_place(staging: Path, out: Path, shown: Path | None = None) -> None:
    """Replace the folder ``out`` (an absolute path) with ``staging``, whole, after
    checking ``out`` once more; errors name it ``shown``.

    Whatever stops the move (an error, ``KeyboardInterrupt``, any ``BaseException``),
    ``out`` is afterwards either the previous report, untouched, or the new one, and
    no aside copy is left; ``staging`` is left to its maker to remove.
    """
    os.chmod(staging, 0o755)
    # Another run into the same folder may be finishing too: one at a time, each
    # move is whole (the last one to finish is the report that stays).
    with locked(out.parent):
        check_destination(out, shown)  # it may have changed while the run went
        (staging / OWNER).unlink(missing_ok=True)
        _swap(staging, out)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _swap(new: Path, out: Path) -> None:
    """Put the folder ``new`` at ``out``, and remove the previous ``out``.

    What happened is read back from the folders themselves (which one is at
    ``out``), not from how far the code got: an interrupt may land just after a
    rename has been made but before the line that follows it.
    """
    ours, previous = _identity(new), _identity(out)
    if previous is None:
        os.replace(new, out)
        return
    aside = None
    try:
        if not _exchange(new, out):
            aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, aside)  # onto the empty folder just made
            os.replace(new, out)
    finally:
        if _identity(out) == ours:  # in place: the previous report goes, wherever it is
            for path in (new, aside):
                if path is not None and _identity(path) == previous:
                    shutil.rmtree(path, ignore_errors=True)
        elif aside is not None and _identity(aside) == previous and _identity(out) is None:
            os.replace(aside, out)  # stopped between the renames: put it back
        if aside is not None and _identity(aside) not in (None, previous):
            with contextlib.suppress(OSError):
                aside.rmdir()  # the first rename never filled it


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@functools.cache
def _renameat2():
    """``renameat2`` from the C library (Linux, glibc 2.28 and later), or ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step; ``False`` (nothing done) where the system
    or the file system cannot, and the caller then renames twice."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


# ---------------------------------------------------------------------------
# paths.csv


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
