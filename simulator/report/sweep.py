"""A sweep's report folder: ``sweep.csv`` (and ``sweep.parquet``), a page with the
decision map, moved into place whole like a run's report."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from ..decide.sweep import SweepResult, toml_text
from ..scenario.numbers import money, share
from ..version import __version__
from .figures import PNG_DPI, PageFigure, inline_svg
from .folder import MARKER, check_destination, move_into_place
from .markup import environment
from .pages import ListedFile

__all__ = ["SWEEP_CSV", "SWEEP_PARQUET", "SweepWriter", "sweep_csv"]

SWEEP_CSV = "sweep.csv"
SWEEP_PARQUET = "sweep.parquet"


def sweep_csv(sweep: SweepResult) -> str:
    """``sweep.csv``: a header, then one row per combination (grid values as TOML
    writes them, numbers in full precision, an empty cell where there is none)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(sweep.columns)
    for row in sweep.rows:
        cells = []
        for column in sweep.columns:
            value = row[column]
            if column in sweep.keys:
                cells.append(value if isinstance(value, str) else toml_text(value))
            elif value is None:
                cells.append("")
            else:
                cells.append(repr(value) if isinstance(value, float) else value)
        writer.writerow(cells)
    return buffer.getvalue()


def _finding(sweep: SweepResult) -> str:
    """One sentence on what the grid changes in the recommendation."""
    counts = Counter(r["recommendation"] for r in sweep.rows)
    total = len(sweep.rows)
    if len(counts) == 1:
        (only,) = counts
        if only is None:
            return "No option meets every requirement anywhere on the grid."
        return (
            f"{sweep.options[only]} is recommended at every one of the {total} points of "
            "the grid: within these values the decision does not change."
        )
    parts = [
        f"{'no option' if name is None else sweep.options[name]} at {count} of {total}"
        for name, count in counts.most_common()
    ]
    return "The recommendation changes across the grid: " + "; ".join(parts) + "."


def _table(sweep: SweepResult) -> tuple[list[str], list[list[str]]]:
    header = list(sweep.keys)
    for name, label in sweep.options.items():
        header.append(f"{label}: mean")
        if name != sweep.scenario.baseline:
            header.append(f"{label}: P(cheaper)")
    header.append("Recommended")
    currency = sweep.scenario.currency
    rows = []
    for row in sweep.rows:
        cells = [toml_text(row[k]) for k in sweep.keys]
        for name in sweep.options:
            cells.append(money(row[f"{name}.mean_total_cost"], currency))
            if name != sweep.scenario.baseline:
                cells.append(share(row[f"{name}.p_cheaper"]))
        chosen = row["recommendation"]
        cells.append("none allowed" if chosen is None else sweep.options[chosen])
        rows.append(cells)
    return header, rows


class SweepWriter:
    """Builds a sweep's report folder beside its target, then moves it into place.

    The destination is checked when the writer is made, before any combination runs:
    it must be new, empty, or a report this tool made.
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self._target = Path(os.path.abspath(self.out))
        check_destination(self._target, self.out)
        self._target.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(
            tempfile.mkdtemp(
                prefix=f".{self._target.name}.", suffix=".tmp", dir=self._target.parent
            )
        )

    def __enter__(self) -> SweepWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def discard(self) -> None:
        """Drop the staging folder (a no-op once the report is in place)."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self, sweep: SweepResult) -> Path:
        """Write every file and move the folder into place.

        Returns
        -------
        pathlib.Path
            The report folder.
        """
        folder = self.staging
        files = [ListedFile(SWEEP_CSV, "one row per combination of the grid")]
        (folder / SWEEP_CSV).write_text(sweep_csv(sweep), encoding="utf-8")
        if importlib.util.find_spec("pyarrow") is not None:
            sweep.to_frame().assign(
                **{k: [toml_text(r[k]) for r in sweep.rows] for k in sweep.keys}
            ).to_parquet(folder / SWEEP_PARQUET, index=False)
            files.append(ListedFile(SWEEP_PARQUET, "the same rows in Parquet"))
        figures = self._figures(sweep, folder)
        files += [ListedFile(f.png, f.heading) for f in figures]
        context = self._context(sweep, figures, files)
        (folder / "index.html").write_text(
            environment("html").get_template("sweep.html.j2").render(context), encoding="utf-8"
        )
        (folder / "report.md").write_text(
            environment("md").get_template("sweep.md.j2").render(context), encoding="utf-8"
        )
        names = [*(f.name for f in files), "index.html", "report.md"]
        (folder / MARKER).write_text(
            "\n".join([f"simulator {__version__}", *names]) + "\n", encoding="utf-8"
        )
        move_into_place(folder, self._target, self.out)
        return self.out

    @staticmethod
    def _figures(sweep: SweepResult, folder: Path) -> list[PageFigure]:
        from .charts.drawing import style
        from .charts.sweep import decision_map, p_cheaper_lines

        charts = [
            (
                "decision-map",
                "Decision map",
                "The recommended option (lowest expected cost among those allowed) at each "
                "combination of the first two grid keys.",
                decision_map,
            ),
        ]
        if len(sweep.options) > 1:
            charts.append(
                (
                    "p-cheaper",
                    "Chance of beating the baseline",
                    "P(cheaper than the baseline) of each option along the first grid key.",
                    p_cheaper_lines,
                )
            )
        out = []
        for slug, heading, caption, draw in charts:
            figure = draw(sweep)
            title = figure.get_suptitle().replace("\n", " ")
            with style():
                figure.savefig(folder / f"{slug}.png", dpi=PNG_DPI, metadata={"Software": None})
            figure.set_layout_engine("none")
            out.append(
                PageFigure(
                    slug, heading, caption, title, f"{slug}.png", inline_svg(figure, slug, title)
                )
            )
        return out

    @staticmethod
    def _context(sweep: SweepResult, figures, files) -> dict[str, Any]:
        header, rows = _table(sweep)
        scenario = sweep.scenario
        return {
            "version": __version__,
            "scenario": scenario,
            "keys": sweep.keys,
            "combinations": f"{len(sweep.rows):,}",
            "paths_text": f"{sweep.paths:,}",
            "baseline": sweep.options[scenario.baseline],
            "finding": _finding(sweep),
            "figures": figures,
            "header": header,
            "rows": rows,
            "facts": [
                ("Scenario file", scenario.source or "(none)"),
                ("Seed", str(sweep.seed) if sweep.seed is not None else f"entropy {sweep.entropy}"),
                ("Paths per combination", f"{sweep.paths:,}"),
                ("Seconds", f"{sweep.timings.get('sweep_s', 0.0):.1f}"),
                ("Simulator version", __version__),
            ],
            "files": files,
        }
