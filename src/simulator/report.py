"""Reports on disk: the only module that writes files.

A report folder is built in a temporary folder beside its destination and moved into
place, so an interrupted run leaves the previous report whole. A folder is only ever
replaced if it is empty or carries the marker file of a report this tool made.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .analysis import SimulationResult
from .errors import ScenarioError
from .formatting import COLUMNS, markdown_table, money, share, summary_rows

__all__ = ["MARKER", "summary_json", "markdown_report", "write_report"]

MARKER = ".simulator-report"
"""File inside every report folder; a folder without it is never replaced."""


def summary_json(result: SimulationResult) -> str:
    """The summary JSON text, exactly as ``--json`` prints it."""
    return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"


def _breakdown_table(result: SimulationResult) -> str:
    currency = result.scenario.currency
    rows = []
    for option in result.options.values():
        parts = sorted(option.breakdown.items(), key=lambda kv: -kv[1])
        text = ", ".join(f"{k} {money(v, currency)}" for k, v in parts if v > 0)
        rows.append((option.label, money(option.total_cost.mean, currency), text or "-"))
    return markdown_table(("Option", "Mean total", "Where the money goes (mean)"), rows)


def _by_year_table(result: SimulationResult) -> str:
    years = len(next(iter(result.versus.values())).p_cheaper_by_year) if result.versus else 0
    header = ("Option", *(f"Year {k + 1}" for k in range(years)))
    rows = [
        (result.options[name].label, *(share(p) for p in c.p_cheaper_by_year))
        for name, c in result.versus.items()
    ]
    return markdown_table(header, rows)


def markdown_report(result: SimulationResult, *, elapsed_s: float | None = None) -> str:
    """A Markdown summary of a run, for people."""
    s = result.scenario
    base = result.options[s.baseline].label
    seed = "unseeded" if result.paths.seed is None else str(result.paths.seed)
    lines = [
        f"# {s.name}",
        "",
        s.description,
        "",
        f"Total cost over {s.horizon_months} months across {result.paths.paths:,} simulated "
        f"paths. Baseline: **{base}**; P(cheaper) compares each option with it path by path.",
        "",
        markdown_table(COLUMNS, summary_rows(result)),
        "",
        "## Probability of being cheaper than the baseline, by year",
        "",
        "Cumulative cost from the start through the end of each year.",
        "",
        _by_year_table(result),
        "",
        "## Cost breakdown",
        "",
        _breakdown_table(result),
        "",
        "## Run",
        "",
        f"- Scenario file: `{s.source}` (sha256 `{s.source_sha256}`)",
        f"- Overrides: {', '.join(f'`{o}`' for o in s.overrides) or 'none'}",
        f"- Seed: {seed} (entropy {result.paths.entropy}); paths: {result.paths.paths:,}",
        f"- Simulator version {__version__}; written {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
    ]
    if elapsed_s is not None:
        lines.append(f"- Simulation time: {elapsed_s:.2f} s")
    return "\n".join(lines) + "\n"


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ScenarioError("exists and is not a folder; choose another --out", file=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ScenarioError(
            "is a folder this tool did not make and it is not empty; it will not be "
            "overwritten. Choose another --out or empty it.",
            file=str(out),
        )


def write_report(result: SimulationResult, out: str | Path, *, elapsed_s: float | None = None):
    """Write ``summary.json`` and ``report.md`` into the folder ``out``, atomically.

    Returns
    -------
    pathlib.Path
        The report folder.

    Raises
    ------
    ScenarioError
        When ``out`` is a file, or a non-empty folder that is not a report folder.
    """
    out = Path(out)
    _check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        (staging / "summary.json").write_text(summary_json(result), encoding="utf-8")
        (staging / "report.md").write_text(
            markdown_report(result, elapsed_s=elapsed_s), encoding="utf-8"
        )
        (staging / MARKER).write_text(f"simulator {__version__}\n", encoding="utf-8")
        os.chmod(staging, 0o755)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, retired / out.name)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out
