"""Reading a usage export: the file, its columns, and each column as numbers or times.

A usage file is CSV (comma, semicolon, tab or bar separated, detected from its first
lines), UTF-8 with or without a byte-order mark, with a header row. Columns are found
by name, case and punctuation aside, among the spellings common exports use. Every
problem is a :class:`~simulator.scenario.errors.ScenarioError` naming the file, the
row as a spreadsheet numbers it (the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..scenario.errors import ScenarioError, quoted
from ..scenario.load import read_regular_file

__all__ = ["MAX_USAGE_BYTES", "COLUMNS", "UsageTable", "read_usage"]

MAX_USAGE_BYTES = 2**30
"""Largest usage file read (1 GiB): larger exports are sampled or summed first."""

COLUMNS = {
    "time": (
        "timestamp", "time", "ts", "datetime", "createdat", "created", "requesttime",
        "starttime", "date", "day", "month", "period", "usagedate", "startdate",
    ),
    "input": (
        "contexttokens", "inputtokens", "prompttokens", "tokensin", "ninputtokens",
        "ncontexttokens", "requesttokens",
    ),
    "output": (
        "generatedtokens", "outputtokens", "completiontokens", "tokensout",
        "noutputtokens", "ngeneratedtokens", "responsetokens",
    ),
    "requests": (
        "requests", "requestcount", "nrequests", "numrequests", "numberofrequests",
        "nummodelrequests", "count", "calls", "apicalls",
    ),
    "tokens": ("tokens", "totaltokens", "tokencount", "ntokens"),
}  # fmt: skip
"""For each role, the column names that fill it (lower case, letters and digits only),
in order of preference."""

_SEPARATORS = ",;\t|"


def _folded(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass(frozen=True)
class UsageTable:
    """The columns of a usage file that a fit can use.

    Attributes
    ----------
    file
        The file's name, for messages.
    frame
        Every column as text, one row per data row.
    roles
        For each role found (``time``, ``input``, ``output``, ``requests``,
        ``tokens``), the column's name as the header spells it.
    """

    file: str
    frame: pd.DataFrame
    roles: dict[str, str]

    def error(self, message: str, *, row: int | None = None, role: str | None = None):
        """A :class:`ScenarioError` at data row ``row`` (0-based) of the column of ``role``."""
        where = []
        if row is not None:
            where.append(f"row {row + 2}")
        if role is not None:
            where.append(f"column {quoted(self.roles[role])}")
        return ScenarioError(message, key=", ".join(where) or None, file=self.file)

    def numbers(self, role: str, what: str) -> np.ndarray:
        """The column of ``role`` as finite numbers >= 0 (float64).

        Raises
        ------
        ScenarioError
            At the first row whose cell is empty, not a number, negative or infinite.
        """
        text = self.frame[self.roles[role]].str.strip()
        values = pd.to_numeric(text.str.replace("_", "", regex=False), errors="coerce")
        values = values.to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise self.error(
                f"{quoted(text.iloc[row])} is not {what}; expected a number >= 0",
                row=row,
                role=role,
            )
        return values

    def times(self) -> np.ndarray:
        """The time column as ``datetime64[ns]`` (naive, in the file's own clock).

        Numbers are Unix seconds; text is an ISO 8601 date or time (a time zone, when
        given, is converted to UTC).

        Raises
        ------
        ScenarioError
            At the first row whose cell is empty or not a date or time.
        """
        text = self.frame[self.roles["time"]].str.strip()
        numeric = pd.to_numeric(text, errors="coerce")
        if numeric.notna().all():
            parsed = pd.to_datetime(numeric, unit="s", errors="coerce")
        else:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
            parsed = parsed.dt.tz_localize(None)
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise self.error(
                f"{quoted(text.iloc[row])} is not a date or time; expected ISO 8601 "
                "(2024-03-01 or 2024-03-01 14:05:09.123) or Unix seconds",
                row=row,
                role="time",
            )
        return parsed.to_numpy(dtype="datetime64[ns]")


def read_usage(path: str | Path) -> UsageTable:
    """Read a usage export and find its columns.

    Raises
    ------
    ScenarioError
        When the file cannot be read, is not UTF-8 CSV, has no data rows or no time
        column.
    """
    file = str(path)
    data = read_regular_file(
        Path(path),
        file,
        max_bytes=MAX_USAGE_BYTES,
        what="usage file",
        allowed="a usage file is a regular CSV file of at most 1 GiB",
    )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"is not UTF-8 text ({err.reason})", file=file) from None
    if "\x00" in text:
        raise ScenarioError("is not a text file (it holds NUL bytes); expected CSV", file=file)
    if not text.strip():
        raise ScenarioError("is empty; expected CSV with a header row and data rows", file=file)
    frame = _parse_csv(text, file)
    if frame.empty:
        raise ScenarioError("has a header but no data rows", file=file)
    roles = _roles(frame.columns)
    if "time" not in roles:
        raise ScenarioError(
            f"has no time column among {_listed(frame.columns)}; expected one named "
            "timestamp, time, created_at or date (case aside)",
            file=file,
        )
    return UsageTable(file, frame, roles)


def _parse_csv(text: str, file: str) -> pd.DataFrame:
    head = text[:65536]
    try:
        separator = csv.Sniffer().sniff(head, delimiters=_SEPARATORS).delimiter
    except csv.Error:
        separator = ","
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as err:
        raise ScenarioError(f"is not valid CSV ({_first_line(err)})", file=file) from None
    except pd.errors.EmptyDataError:
        raise ScenarioError("has no header row; expected CSV", file=file) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _roles(columns) -> dict[str, str]:
    folded: dict[str, str] = {}
    for name in columns:
        folded.setdefault(_folded(name), name)
    roles = {}
    for role, names in COLUMNS.items():
        found = next((folded[n] for n in names if n in folded), None)
        if found is not None:
            roles[role] = found
    return roles


def _listed(columns) -> str:
    names = [quoted(c) for c in list(columns)[:8]]
    more = f" and {len(columns) - 8} more" if len(columns) > 8 else ""
    return "the columns " + ", ".join(names) + more


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
