"""Reports on disk.

A :class:`ReportWriter` checks the report's destination and makes a staging folder
beside it before a run starts (a folder the report could not be moved onto is refused
at once, not after the run), streams every path into ``paths.csv`` there through its
:meth:`~ReportWriter.path_sink` while the run goes, and on
:meth:`~ReportWriter.finish` writes the rest (``index.html``, ``report.md`` and its
PNG figures, ``summary.json``) and moves the folder into place. An interrupted or
failed run removes the staging folder and leaves the previous report whole; which
folders may be replaced, and how, is :mod:`.folder`'s.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..decide.summary import SimulationResult
from ..scenario.errors import SimulationError
from ..version import __version__
from .figures import draw_figures
from .folder import (
    MARKER,
    OWNER,
    PATHS_CSV,
    PATHS_PARQUET,
    csv_header,
    csv_rows,
    make_staging,
    move_into_place,
)
from .pages import ListedFile, html_report, markdown_report, summary_json

__all__ = ["ReportWriter", "write_report"]


class ReportWriter:
    """Builds one report folder: streams every path while a run goes, then the rest.

    >>> with ReportWriter("reports/logistics") as writer:           # doctest: +SKIP
    ...     result = run(scenario, path_sink=writer.path_sink)
    ...     writer.finish(result)

    Parameters
    ----------
    out
        The report folder. It must not exist, be empty, or be a report this tool made.
    path_data
        Write ``paths.csv`` (and ``paths.parquet`` when pyarrow is installed): one row
        per path, every sampled input and every option's total.

    Raises
    ------
    ScenarioError
        When ``out`` is a file, a symbolic link, a mount point, or a non-empty folder
        that is not a report folder, or when the folder that holds it cannot be made or
        written or is on another file system (all checked at once, before any run; see
        :func:`~.folder.make_staging`, which also removes the staging folders of killed
        runs into ``out``).
    """

    def __init__(self, out: str | Path, *, path_data: bool = True) -> None:
        self.out = Path(out)
        # Worked on as an absolute path, so that "." or "reports/.." name a folder and
        # its parent, where the staging folder goes.
        self._target = Path(os.path.abspath(self.out))
        self.staging = make_staging(self._target, self.out)
        self.path_data = path_data
        self.rows = 0
        """Paths received so far."""
        self.build_s = 0.0
        """Seconds :meth:`finish` took (charts, pages, moving into place)."""
        self._columns: list[str] | None = None
        self._csv: io.TextIOBase | None = None
        self._parquet = None
        self._wants_parquet = path_data and importlib.util.find_spec("pyarrow") is not None
        self._inputs: dict[str, Any] = {}
        self._closed = False

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    # -- while the run goes ----------------------------------------------------

    path_fields = ("input:", "total:")
    """The per-path arrays :meth:`path_sink` uses (the engine's ``path_fields``)."""

    def path_sink(self, first_path: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Take one batch of paths (the engine's ``path_sink``): their sampled inputs
        (``input:KEY``) and totals (``total:NAME``) go to ``paths.csv``, and the inputs
        into histograms for the report's table of inputs."""
        from ..engine.histogram import Histogram

        if self._closed:
            raise SimulationError("this report is already finished")
        if first_path != self.rows:
            raise SimulationError(
                f"paths must arrive in order: expected path {self.rows}, got {first_path}"
            )
        columns = [k for k in arrays if k.startswith("input:")]
        columns += [k for k in arrays if k.startswith("total:")]
        if self._columns is None:
            self._columns = columns
        elif columns != self._columns:
            raise SimulationError("every batch of paths must carry the same arrays")
        count = len(arrays[columns[-1]]) if columns else 0
        for key in columns:
            if key.startswith("input:"):
                self._inputs.setdefault(key[len("input:") :], Histogram()).add(arrays[key])
        if self.path_data and count:
            self._write_rows(first_path, count, {k: arrays[k] for k in columns})
        self.rows += count

    def _write_rows(self, first: int, count: int, columns: dict[str, np.ndarray]) -> None:
        if self._csv is None:
            # Kept open across batches; closed in finish() or discard().
            self._csv = open(self.staging / PATHS_CSV, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._csv.write(csv_header(["path", *columns]))
        self._csv.write(csv_rows(first, list(columns.values())))
        if self._wants_parquet:
            self._write_parquet(first, count, columns)

    def _write_parquet(self, first: int, count: int, columns: dict[str, np.ndarray]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ..engine.frames import path_frame

        # The table a notebook gets from ``result.paths.to_frame()``, batch by batch.
        frame = path_frame(columns, first).reset_index()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.staging / PATHS_PARQUET, table.schema)
        self._parquet.write_table(table)

    def _close_streams(self) -> None:
        try:
            if self._csv is not None:
                self._csv.close()
            if self._parquet is not None:
                self._parquet.close()
        finally:
            self._csv = self._parquet = None

    # -- at the end --------------------------------------------------------------

    def finish(self, result: SimulationResult, *, elapsed_s: float | None = None) -> Path:
        """Write the rest of the report and move the folder into place.

        Without streamed paths, the per-path arrays a run kept (``keep_paths``) are
        written instead; without either, the report has no ``paths.csv`` and its table
        of inputs gives each distribution's own percentiles.

        Returns
        -------
        pathlib.Path
            The report folder.
        """
        if self._closed:
            raise SimulationError("this report is already finished")
        started = time.perf_counter()
        try:
            if self.rows == 0 and result.paths.record:
                self.path_sink(0, result.paths.record)
            if self.rows and self.rows != result.paths.paths:
                raise SimulationError(
                    f"the report received {self.rows:,} paths but the run has "
                    f"{result.paths.paths:,}"
                )
            self._write_files(result, elapsed_s)
            move_into_place(self.staging, self._target, self.out)
        finally:
            self.discard()
        self.build_s = time.perf_counter() - started
        return self.out

    def _write_files(self, result: SimulationResult, elapsed_s: float | None) -> None:
        folder = self.staging
        (folder / "summary.json").write_text(summary_json(result), encoding="utf-8")
        files = [
            ListedFile("index.html", "this page"),
            ListedFile("report.md", "the same report in Markdown, with its figures as PNG files"),
            ListedFile("summary.json", "every number of the run (the same as simulate --json)"),
        ]
        if self._csv is not None:
            files.append(
                ListedFile(
                    PATHS_CSV, "one row per path: every sampled input and every option's total"
                )
            )
        if self._parquet is not None:
            files.append(ListedFile(PATHS_PARQUET, "the same rows in Parquet"))
        self._close_streams()
        figures = draw_figures(result, folder)
        sampled = {
            key: np.asarray(h.quantile([0.05, 0.5, 0.95])) for key, h in self._inputs.items()
        }
        kwargs = {"elapsed_s": elapsed_s, "figures": figures, "files": files, "sampled": sampled}
        (folder / "report.md").write_text(markdown_report(result, **kwargs), encoding="utf-8")
        (folder / "index.html").write_text(html_report(result, **kwargs), encoding="utf-8")
        # Last, listing what the folder holds: what a later run may replace (the owner
        # file goes just before the move).
        names = sorted(p.name for p in folder.iterdir() if p.name != OWNER)
        (folder / MARKER).write_text(
            "\n".join([f"simulator {__version__}", *names]) + "\n", encoding="utf-8"
        )

    def discard(self) -> None:
        """Drop the staging folder (after a failure or interruption; a no-op once the
        report is in place)."""
        self._closed = True
        try:
            self._close_streams()
        finally:
            if self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)


def write_report(
    result: SimulationResult, out: str | Path, *, elapsed_s: float | None = None
) -> Path:
    """Write a whole report of a finished run into the folder ``out``, atomically.

    The run's per-path arrays go to ``paths.csv`` only if it kept them
    (``keep_paths=True``); to stream them instead, use :class:`ReportWriter`.

    Returns
    -------
    pathlib.Path
        The report folder.

    Raises
    ------
    ScenarioError
        When ``out`` may not be replaced or written (see :class:`ReportWriter`).
    """
    with ReportWriter(out) as writer:
        return writer.finish(result, elapsed_s=elapsed_s)
