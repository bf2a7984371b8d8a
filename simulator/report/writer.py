"""Reports on disk: the only module that writes files.

A :class:`ReportWriter` makes a staging folder beside the report's destination before a
run starts, streams every path into ``paths.csv`` there through its
:meth:`~ReportWriter.path_sink` while the run goes, and on
:meth:`~ReportWriter.finish` writes the rest (``index.html``, ``report.md`` and its
PNG figures, ``summary.json``) and moves the folder into place. An interrupted or
failed run removes the staging folder and leaves the previous report whole. A folder
is only ever replaced if it is empty, or carries the marker file of a report this tool
made and holds nothing but the files that marker lists; two runs that finish at once
move their folders into place one after the other (a lock on the parent folder), so
the folder is always one whole report.

HTML comes from Jinja templates with autoescaping, so scenario text (names, labels,
descriptions) is always text, never markup; figures are inlined as SVG, so the page
needs nothing else to be read offline or printed.
"""

from __future__ import annotations

import contextlib
import csv
import html
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..decide.summary import SimulationResult
from ..scenario.errors import ScenarioError, SimulationError
from ..scenario.numbers import money, share
from .tables import COLUMNS, markdown_table, summary_rows

__all__ = [
    "MARKER",
    "PATHS_CSV",
    "ReportWriter",
    "html_report",
    "markdown_report",
    "summary_json",
    "write_report",
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

PNG_DPI = 110

_TEMPLATES = Path(__file__).with_name("templates")


def summary_json(result: SimulationResult) -> str:
    """The summary JSON text, exactly as ``--json`` prints it."""
    return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------
# Tables and facts shared by the HTML and the Markdown


def _by_year_table(result: SimulationResult) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    years = len(next(iter(result.versus.values())).p_cheaper_by_year) if result.versus else 0
    months = result.scenario.horizon_months
    header = ["Option", *(f"Year {k + 1}" for k in range(years))]
    if years and months % 12:
        header[-1] = f"Month {months}"
    rows = [
        (result.options[name].label, *(share(p) for p in c.p_cheaper_by_year))
        for name, c in result.versus.items()
    ]
    return tuple(header), rows


def _breakdown_table(result: SimulationResult) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    currency = result.scenario.currency
    rows = []
    for option in result.options.values():
        parts = sorted(option.breakdown.items(), key=lambda kv: -kv[1])
        text = ", ".join(f"{k} {money(v, currency)}" for k, v in parts if v > 0)
        rows.append((option.label, money(option.total_cost.mean, currency), text or "-"))
    return ("Option", "Mean total", "Where the money goes (mean)"), rows


def _repeat_command(result: SimulationResult) -> str:
    scenario = result.scenario
    words = ["simulate", scenario.source or "SCENARIO.toml"]
    words += ["--paths", str(result.paths.paths), "--seed", str(result.paths.entropy)]
    for override in scenario.overrides:
        words += ["--set", override]
    return shlex.join(words)


def _run_facts(
    result: SimulationResult, elapsed_s: float | None, written: datetime
) -> list[tuple[str, str]]:
    scenario = result.scenario
    paths = result.paths
    seed = "none given" if paths.seed is None else str(paths.seed)
    facts = [
        ("Scenario file", scenario.source or "(not from a file)"),
        ("File sha256", scenario.source_sha256 or "-"),
        ("Overrides", ", ".join(scenario.overrides) or "none"),
        ("Seed", f"{seed} (entropy {paths.entropy})"),
        ("Paths", f"{paths.paths:,} ({scenario.sampling} sampling)"),
        ("Horizon", f"{scenario.horizon_months} months; discount rate {scenario.discount_rate:g}"),
        ("Simulator version", __version__),
        ("Written", f"{written:%Y-%m-%d %H:%M} UTC"),
    ]
    if elapsed_s is not None:
        facts.append(("Run time", f"{elapsed_s:.2f} s on {paths.workers} worker(s)"))
    method = result.extra.get("stress_method")
    if method is not None:
        text = (
            f"{method['runs']} runs of {method['paths']:,} paths (the run's first, same seed); "
            f"sensitivity from the run's first {method['sensitivity_paths']:,} paths"
        )
        if "stress_s" in result.timings:
            workers = int(result.timings.get("stress_workers", 1))
            text = f"{result.timings['stress_s']:.2f} s on {workers} worker(s): " + text
        facts.append(("Stress test", text))
    facts.append(("Repeat with", _repeat_command(result)))
    return facts


@dataclass(frozen=True)
class _Figure:
    slug: str
    heading: str
    caption: str
    title: str
    png: str
    svg: str


@dataclass(frozen=True)
class _File:
    name: str
    what: str


def _context(
    result: SimulationResult,
    *,
    elapsed_s: float | None,
    figures: Sequence[_Figure],
    files: Sequence[_File],
    sampled: Mapping[str, np.ndarray] | None,
) -> dict[str, Any]:
    from .charts import option_colours
    from .words import cautions, input_rows, verdict

    scenario = result.scenario
    colours = option_colours(result)
    written = datetime.now(UTC)
    inputs = input_rows(result, sampled)
    summary = [
        {"name": name, "colour": colours[name], "cells": row}
        for name, row in zip(result.options, summary_rows(result), strict=True)
    ]
    return {
        "scenario": scenario,
        "description": [p.strip() for p in scenario.description.split("\n\n") if p.strip()],
        "baseline": result.options[scenario.baseline].label,
        "paths_text": f"{result.paths.paths:,}",
        "verdict": verdict(result),
        "cautions": cautions(result),
        "columns": COLUMNS,
        "summary": summary,
        "summary_rows": [row["cells"] for row in summary],
        "by_year": _by_year_table(result),
        "breakdown": _breakdown_table(result),
        "figures": list(figures),
        "inputs": inputs,
        "input_groups": _grouped(inputs),
        "inputs_sampled": bool(sampled),
        "correlations": [(c.between[0], c.between[1], c.rank) for c in scenario.correlations],
        "files": list(files),
        "run": _run_facts(result, elapsed_s, written),
        "sections": _sections(result),
        "decision": _decision(result),
        "version": __version__,
    }


@dataclass(frozen=True)
class _Table:
    caption: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    code: bool = False  # the first column holds key paths
    text: bool = False  # cells are words, not figures


@dataclass(frozen=True)
class _Section:
    slug: str
    heading: str
    html: str
    markdown: str


def _section(slug: str, heading: str, paragraphs, tables, notes=()) -> _Section:
    values = {"paragraphs": list(paragraphs), "tables": list(tables), "notes": list(notes)}
    return _Section(
        slug,
        heading,
        _environment("html").get_template("section.html.j2").render(values),
        _environment("md").get_template("section.md.j2").render(values).strip(),
    )


def _sections(result: SimulationResult) -> list[_Section]:
    """The numbers behind the stress, break-even and sensitivity charts (when run)."""
    from .words import (
        breakeven_sentences,
        sensitivity_sentence,
        stress_sentence,
    )

    extra = result.extra
    if "stress_method" not in extra or not result.versus:
        return []  # no stress test, or a single option: nothing to compare
    scenario = result.scenario
    currency = scenario.currency
    labels = {n: o.label for n, o in result.options.items()}
    method = extra["stress_method"]
    base = labels[scenario.baseline]
    sections = []

    def cell(entry, key):
        multiplier = entry[f"volume_multiplier_{key}"]
        if multiplier is None:
            text = {
                "cheaper_at_lowest_volume": "already at 0.01x",
                "marginal_cost_not_below_baseline": "never (dearer per request)",
            }.get(entry[f"reason_{key}"], "not by 100x")
            return (text, "-", "-")
        return (
            f"{multiplier:.3g}x",
            f"{entry[f'requests_per_month_{key}']:,.0f}",
            money(entry[f"baseline_monthly_spend_{key}"], currency),
        )

    rows = [(labels[n], *cell(e, "p50"), *cell(e, "p80")) for n, e in extra["breakeven"].items()]
    header = (
        "Option",
        "50% of paths: volume",
        "requests/month",
        "baseline/month",
        "80% of paths: volume",
        "requests/month",
        "baseline/month",
    )
    sections.append(
        _section(
            "breakeven-table",
            "Break-even volume",
            breakeven_sentences(result),
            [_Table("", header, rows)],
            [
                "Volume is the multiplier on every path's realized volume (1 is the "
                "forecast; growth as forecast) at which the option is cheaper than "
                f"{base} over {scenario.horizon_months} months on 50% (80%) of paths, "
                "searched within 0.01x to 100x on the same paths to 0.1%. Requests per "
                "month are that multiplier times the median realized volume of the first "
                f"month ({method['first_month_requests_p50']:,.0f} requests); baseline per "
                f"month is {base}'s median cost in the first month at that volume."
            ],
        )
    )

    names = list(result.versus)
    grid_rows = []
    for row in extra["stress"]:
        options = row["options"]
        cheapest = max(options, key=lambda n: options[n]["p_cheapest"])
        grid_rows.append(
            (
                f"{row['volume_realization']:g}x",
                f"{row['growth_realization']:g}x",
                *(share(options[n]["p_cheaper"]) for n in names),
                labels[cheapest],
            )
        )
    sections.append(
        _section(
            "stress-table",
            "Stress test: the grid",
            [stress_sentence(result)],
            [
                _Table(
                    "P(cheaper than the baseline) at each point of the grid",
                    (
                        "Volume x",
                        "Growth rate x",
                        *(labels[n] for n in names),
                        "Cheapest most often",
                    ),
                    grid_rows,
                )
            ],
            [
                "Volume x multiplies every path's realized volume level and growth rate x "
                "its realized growth rate; each point is a run of the same "
                f"{method['paths']:,} paths (the run's first, same seed). summary.json "
                "also gives each point's median saving, P(cheapest) and expected regret."
            ],
        )
    )

    tables = []
    shown = 10
    for name, effects in extra["sensitivity"].items():
        tables.append(
            _Table(
                labels[name],
                (
                    "Input",
                    "Spearman",
                    "Share of variance",
                    "Median saving, input low",
                    "input high",
                ),
                [
                    (
                        e["input"],
                        "-" if e["spearman"] is None else f"{e['spearman']:+.2f}",
                        f"{e['variance_share']:.1%}",
                        money(e["savings_p50_low"], currency),
                        money(e["savings_p50_high"], currency),
                    )
                    for e in effects[:shown]
                ],
                code=True,
            )
        )
    sections.append(
        _section(
            "sensitivity-table",
            "What drives the savings: the inputs",
            [sensitivity_sentence(result, name) for name in extra["sensitivity"]],
            tables,
            [
                f"For each option's saving against {base}, on the run's first "
                f"{method['sensitivity_paths']:,} paths: the Spearman rank correlation "
                "with each sampled input; its first-order share of variance (the variance "
                f"of the mean saving within {method['variance_bins']} equal-count bins of "
                "the input, over the variance of the saving, less what bin means vary by "
                "chance); and the median saving on the paths with the input in its lowest "
                f"and highest 10%. The {shown} most important inputs of each option "
                "(by share of variance) are shown; summary.json lists them all. Shares do "
                "not add up to 1: the rest is interactions between inputs and the "
                "month-by-month randomness (volume shocks, departures, upgrades)."
            ],
        )
    )
    return sections


def _decision(result: SimulationResult) -> _Section | None:
    """The recommendation, staged policies, value of information and the seed
    documents' decision questions: the first thing the report says."""
    from .words import decision_paragraphs

    extra = result.extra
    paragraphs = decision_paragraphs(result)
    if not paragraphs:
        return None
    currency = result.scenario.currency
    tables = []
    value = extra.get("value_of_information")
    if value is not None and any(i["evppi"] > 0 for i in value["by_input"]):
        shown = 8
        tables.append(
            _Table(
                "What knowing each input before deciding is worth (EVPPI)",
                ("Input", "Expected saving"),
                [(i["input"], money(i["evppi"], currency)) for i in value["by_input"][:shown]],
                code=True,
            )
        )
    owned = [o for o in result.options.values() if o.kind == "on_prem" and o.notes]
    if owned:
        tables.append(
            _Table(
                "Owned GPUs: both accounting views (means over paths)",
                ("Option", "GPUs owned at the end, p50 / p95", "Cash", "Amortized"),
                [
                    (
                        o.label,
                        f"{o.notes['gpus_owned']['p50']:.0f} / {o.notes['gpus_owned']['p95']:.0f}",
                        money(o.notes["cash_total"]["mean"], currency),
                        money(o.notes["amortized_total"]["mean"], currency),
                    )
                    for o in owned
                ],
            )
        )
    questions = extra.get("decision_questions")
    if questions is not None:
        tables.append(
            _Table(
                "Before self-hosting: the five questions",
                ("Question", "Answer from the scenario and the run", "Verdict"),
                [(q["question"], q["answer"], q["verdict"]) for q in questions["answers"]],
                text=True,
            )
        )
    notes = []
    if questions is not None:
        notes.append(f"{questions['advice'][0].upper()}{questions['advice'][1:]}.")
    if owned:
        notes.append(
            "Cash: GPUs paid for when bought, their resale value (straight-line to the "
            "residual over the amortization period) credited in the last month. "
            "Amortized: each GPU's price less its residual, and its installation, spread "
            "over the amortization period, nothing credited at the end. The total cost "
            "columns use each option's own accounting setting."
        )
    if value is not None:
        notes.append(
            "EVPI is the expected regret of the recommended option among the allowed "
            "ones: what deciding with every input known would save on average. EVPPI is "
            "the same for one input alone, estimated on the run's first "
            f"{value['paths']:,} paths by grouping them into {value['bins']} equal-count "
            "bins of the input and taking the best allowed option within each bin; an "
            "input that never changes the best option is worth exactly nothing."
        )
    return _section("decision", "Decision", paragraphs, tables, notes)


def _grouped(rows: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Input rows grouped by what they apply to, in scenario order."""
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.applies_to, []).append(row)
    return list(groups.items())


# ---------------------------------------------------------------------------
# Rendering


def _md(text: Any) -> str:
    """Scenario text for Markdown: shown as written, never as markup (HTML, links,
    emphasis, TeX between dollar signs). Table pipes are escaped by the table."""
    text = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]{}#$~])", r"\\\1", text)


def _environment(kind: str):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    env.filters["code"] = _md_code
    env.filters["md_table"] = _md_table
    return env


def _md_code(text: Any) -> str:
    """A Markdown code span holding ``text`` as written (inside a table too)."""
    text = str(text).replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _md_table(table: tuple[Sequence[str], Sequence[Sequence[str]]]) -> str:
    """A Markdown table whose header and first column (labels from the scenario) are
    escaped as text; the other cells are numbers and names this tool wrote."""
    header, rows = table
    return markdown_table(
        tuple(_md(h) for h in header),
        [(_md(row[0]), *(html.escape(str(c), quote=False) for c in row[1:])) for row in rows],
    )


def _render(
    kind: str,
    result: SimulationResult,
    *,
    elapsed_s: float | None = None,
    figures: Sequence[_Figure] = (),
    files: Sequence[_File] = (),
    sampled: Mapping[str, np.ndarray] | None = None,
) -> str:
    context = _context(result, elapsed_s=elapsed_s, figures=figures, files=files, sampled=sampled)
    return _environment(kind).get_template(f"report.{kind}.j2").render(context)


def html_report(result: SimulationResult, **details) -> str:
    """The report as one self-contained HTML page (figures inline as SVG); ``details``
    are ``elapsed_s``, ``figures``, ``files`` and ``sampled``."""
    return _render("html", result, **details)


def markdown_report(result: SimulationResult, **details) -> str:
    """The report in Markdown (figures as PNG files beside it); ``details`` as for
    :func:`html_report`."""
    return _render("md", result, **details)


def _inline_svg(figure, slug: str, title: str) -> str:
    """A figure as an ``<svg>`` element to inline in HTML: no XML prolog, no fixed
    size (it scales to the page), ids prefixed by ``slug`` so charts never share one."""
    import matplotlib

    from .charts import style

    buffer = io.StringIO()
    with style(), matplotlib.rc_context({"svg.hashsalt": "simulator"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    # matplotlib numbers ids from 1 in every figure: prefix them so that the charts of
    # one page never share an id (and references find their own chart's element).
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(
        r'(\bid="|url\(#|href="#)([^")]+)',
        lambda m: f"{m[1]}{slug}-{m[2]}" if m[2] in ids else m[0],
        text,
    )
    label = html.escape(title, quote=True)
    return text.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def _draw_figures(result: SimulationResult, folder: Path) -> list[_Figure]:
    """Draw every chart that applies: PNG files into ``folder``, SVG text returned."""
    from .charts import CHARTS, style

    scenario = result.scenario
    values = {
        "baseline": result.options[scenario.baseline].label,
        "months": scenario.horizon_months,
    }
    figures = []
    for chart in CHARTS:
        if not chart.applies(result):
            continue
        figure = chart.draw(result)
        title = figure.get_suptitle().replace("\n", " ")
        png = f"{chart.slug}.png"
        with style():
            figure.savefig(folder / png, dpi=PNG_DPI, metadata={"Software": None})
        # The layout is settled by the first drawing; the SVG keeps it (a third faster).
        figure.set_layout_engine("none")
        figures.append(
            _Figure(
                slug=chart.slug,
                heading=chart.heading,
                caption=chart.caption.format(**values),
                title=title,
                png=png,
                svg=_inline_svg(figure, chart.slug, title),
            )
        )
    return figures


# ---------------------------------------------------------------------------
# The folder


def _check_destination(out: Path, shown: Path | None = None) -> None:
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
def _locked(folder: Path):
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


def _csv_header(names: Sequence[str]) -> str:
    """The header row of ``paths.csv``, quoted where a name needs it (option names are
    the scenario's, and may hold commas, quotes or line breaks)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(names)
    return buffer.getvalue()


def _csv_rows(first: int, columns: list[np.ndarray]) -> str:
    """CSV rows of one batch of paths: the path index, then ``columns``."""
    # One %-format per row is the fastest text CPython offers here (numpy.savetxt,
    # numpy's string functions and per-value formatting were all slower): about 1.3 s
    # per 100,000 rows of 50 numbers.
    line = "%d," + ",".join([CSV_FORMAT] * len(columns))
    values = [np.asarray(c, dtype=float).tolist() for c in columns]
    rows = zip(range(first, first + len(values[0])), *values, strict=True)
    return "\n".join(line % row for row in rows) + "\n"


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
        When ``out`` is a file, or a non-empty folder that is not a report folder
        (checked at once, before any run).
    """

    def __init__(self, out: str | Path, *, path_data: bool = True) -> None:
        self.out = Path(out)
        # Worked on as an absolute path, so that "." or "reports/.." name a folder and
        # its parent, where the staging folder goes.
        self._target = Path(os.path.abspath(self.out))
        _check_destination(self._target, self.out)
        self._target.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(
            tempfile.mkdtemp(
                prefix=f".{self._target.name}.", suffix=".tmp", dir=self._target.parent
            )
        )
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
            self._csv.write(_csv_header(["path", *columns]))
        self._csv.write(_csv_rows(first, list(columns.values())))
        if self._wants_parquet:
            self._write_parquet(first, count, columns)

    def _write_parquet(self, first: int, count: int, columns: dict[str, np.ndarray]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"path": np.arange(first, first + count, dtype=np.int64), **columns})
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
            self._move_into_place()
        finally:
            self.discard()
        self.build_s = time.perf_counter() - started
        return self.out

    def _write_files(self, result: SimulationResult, elapsed_s: float | None) -> None:
        folder = self.staging
        (folder / "summary.json").write_text(summary_json(result), encoding="utf-8")
        files = [
            _File("index.html", "this page"),
            _File("report.md", "the same report in Markdown, with its figures as PNG files"),
            _File("summary.json", "every number of the run (the same as simulate --json)"),
        ]
        if self._csv is not None:
            files.append(
                _File(PATHS_CSV, "one row per path: every sampled input and every option's total")
            )
        if self._parquet is not None:
            files.append(_File(PATHS_PARQUET, "the same rows in Parquet"))
        self._close_streams()
        figures = _draw_figures(result, folder)
        sampled = {
            key: np.asarray(h.quantile([0.05, 0.5, 0.95])) for key, h in self._inputs.items()
        }
        kwargs = {"elapsed_s": elapsed_s, "figures": figures, "files": files, "sampled": sampled}
        (folder / "report.md").write_text(markdown_report(result, **kwargs), encoding="utf-8")
        (folder / "index.html").write_text(html_report(result, **kwargs), encoding="utf-8")
        # Last, listing what the folder holds: what a later run may replace.
        names = sorted(p.name for p in folder.iterdir())
        (folder / MARKER).write_text(
            "\n".join([f"simulator {__version__}", *names]) + "\n", encoding="utf-8"
        )

    def _move_into_place(self) -> None:
        out, staging = self._target, self.staging
        os.chmod(staging, 0o755)
        retired = None
        # Another run into the same folder may be finishing too: one at a time, each
        # move is whole (the last one to finish is the report that stays).
        with _locked(out.parent):
            _check_destination(out, self.out)  # it may have changed while the run went
            if out.exists() or out.is_symlink():
                retired = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent)
                )
                os.replace(out, retired / out.name)
            os.replace(staging, out)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)

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
        When ``out`` is a file, or a non-empty folder that is not a report folder.
    """
    with ReportWriter(out) as writer:
        return writer.finish(result, elapsed_s=elapsed_s)
