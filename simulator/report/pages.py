"""The report's pages: what the HTML and the Markdown say (the same facts, tables and
sections in both), rendered from Jinja templates, and the summary JSON.

Scenario text reaches the pages as data: the templates escape it
(:mod:`simulator.report.markup`), and the description is split into paragraphs at its
blank lines, each one line of running text (:func:`~simulator.scenario.text.prose`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..decide.summary import SimulationResult
from ..scenario.numbers import money, number, share
from ..scenario.text import prose
from ..version import __version__
from .figures import PageFigure
from .markup import environment
from .sections import decision_section, portfolio_section, stress_sections
from .tables import columns, summary_rows
from .twins import folded, twins

__all__ = ["ListedFile", "html_report", "markdown_report", "summary_json"]


FIRST_FIGURE = "cost-ranges"
"""The chart the first screen shows beside the decision."""


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
    catalogue = scenario.price_catalogue
    if catalogue and not any(o.startswith("scenario.price_date=") for o in scenario.overrides):
        # Catalogue prices are those of a date: the same date gives the same prices.
        words += ["--set", f"scenario.price_date={catalogue['price_date']}"]
    return shlex.join(words)


def _catalogue_fact(result: SimulationResult) -> tuple[str, str] | None:
    """Where api prices came from, when an option named a ``model``."""
    catalogue = result.scenario.price_catalogue
    if not catalogue:
        return None
    listed = []
    for option in result.options.values():
        if option.catalogue is None:
            continue
        taken = option.catalogue["taken"]
        parts = [
            f"{key.removesuffix('_price_per_mtok').replace('_', ' ')} ${number(value)}/Mtok"
            for key, value in taken.items()
            if key.endswith("_per_mtok")
        ]
        if "batch_discount" in taken:
            parts.append(f"batch tier {taken['batch_discount']:.0%} off")
        detail = ", ".join(parts) or "every price given in the scenario"
        listed.append(f"{option.label} ({option.catalogue['model']}: {detail})")
    return (
        "API prices",
        f"{catalogue['name']} {catalogue['version']}, prices in effect on "
        f"{catalogue['price_date']}: " + "; ".join(listed),
    )


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
    catalogue = _catalogue_fact(result)
    if catalogue is not None:
        facts.append(catalogue)
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
class ListedFile:
    """One file of the report folder, as the page lists it: its name and what it holds."""

    name: str
    what: str


def _context(
    result: SimulationResult,
    *,
    elapsed_s: float | None,
    figures: Sequence[PageFigure],
    files: Sequence[ListedFile],
    sampled: Mapping[str, np.ndarray] | None,
) -> dict[str, Any]:
    from .charts.drawing import option_colours
    from .words.audit import cautions, input_rows
    from .words.headline import headline
    from .words.verdict import verdict

    scenario = result.scenario
    colours = option_colours(result)
    written = datetime.now(UTC)
    inputs = input_rows(result, sampled)
    shown = folded(result)
    told = headline(result)
    chosen = result.extra.get("recommendation", {}).get("option")
    chosen = twins(result).get(chosen, chosen)
    summary = [
        {"name": name, "colour": colours[name], "cells": row, "chosen": name == chosen}
        for name, row in zip(shown.options, summary_rows(shown), strict=True)
    ]
    figures = list(figures)
    first = next((f for f in figures if f.slug == FIRST_FIGURE), None)
    return {
        "scenario": scenario,
        "description": _paragraphs(scenario.description),
        "baseline": result.options[scenario.baseline].label,
        "paths_text": f"{result.paths.paths:,}",
        "headline": told,
        "first_figure": first,
        "verdict": verdict(result),
        "cautions": cautions(shown),
        "columns": columns(result),
        "summary": summary,
        "summary_rows": [row["cells"] for row in summary],
        "by_year": _by_year_table(result),
        "breakdown": _breakdown_table(result),
        "figures": [f for f in figures if f is not first],
        "inputs": inputs,
        "input_groups": _grouped(inputs),
        "inputs_sampled": bool(sampled),
        "correlations": [(c.between[0], c.between[1], c.rank) for c in scenario.correlations],
        "files": list(files),
        "run": _run_facts(result, elapsed_s, written),
        "sections": stress_sections(result),
        "decision": decision_section(result),
        "portfolio": portfolio_section(result),
        "version": __version__,
    }


def _paragraphs(text: str) -> list[str]:
    """The paragraphs of a description: split at blank lines, each one line of prose."""
    parts = _BLANK_LINE.split(text.replace("\r\n", "\n"))
    return [p for p in (prose(part).strip() for part in parts) if p]


_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def _grouped(rows: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Input rows grouped by what they apply to, in scenario order."""
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.applies_to, []).append(row)
    return list(groups.items())


def _render(
    kind: str,
    result: SimulationResult,
    *,
    elapsed_s: float | None = None,
    figures: Sequence[PageFigure] = (),
    files: Sequence[ListedFile] = (),
    sampled: Mapping[str, np.ndarray] | None = None,
) -> str:
    context = _context(result, elapsed_s=elapsed_s, figures=figures, files=files, sampled=sampled)
    return environment(kind).get_template(f"report.{kind}.j2").render(context)


def html_report(result: SimulationResult, **details) -> str:
    """The report as one self-contained HTML page (figures inline as SVG); ``details``
    are ``elapsed_s``, ``figures``, ``files`` and ``sampled``."""
    return _render("html", result, **details)


def markdown_report(result: SimulationResult, **details) -> str:
    """The report in Markdown (figures as PNG files beside it); ``details`` as for
    :func:`html_report`."""
    return _render("md", result, **details)
