"""The summary table for the terminal and Markdown (pure functions, no I/O).

Labels come from the scenario and may hold anything: every cell a table shows has its
control and bidirectional characters replaced by visible escapes
(:func:`~simulator.scenario.text.printable`), so a label can neither act on the
terminal (an ANSI escape sequence) nor break the table's lines.
"""

from __future__ import annotations

import textwrap

from ..decide.summary import SimulationResult
from ..scenario.numbers import money, share
from ..scenario.text import printable

__all__ = [
    "COLUMNS",
    "columns",
    "fitted_table",
    "has_business_cost",
    "markdown_table",
    "summary_rows",
    "terminal_table",
    "text_table",
]

COLUMNS = ("Option", "Mean", "P(cheaper)", "P(cheapest)", "Break-even", "p5", "p50", "p95")
"""The report's summary table, for a scenario without a discount rate: what decides
first, the spread of outcomes last (the columns a narrow screen scrolls to)."""


def columns(result: SimulationResult) -> tuple[str, ...]:
    """The summary table's header: :data:`COLUMNS`, with ``NPV`` after the mean when
    the scenario discounts, and ``Cash`` (the mean without downtime's business cost)
    when some option has any."""
    extra = ("NPV",) if result.scenario.discount_rate else ()
    if has_business_cost(result):
        extra += ("Cash",)
    return (*COLUMNS[:2], *extra, *COLUMNS[2:])


def has_business_cost(result: SimulationResult) -> bool:
    """Whether some option's expected total holds business cost (downtime) beside cash."""
    return any(o.cash_cost.mean != o.total_cost.mean for o in result.options.values())


def summary_rows(result: SimulationResult) -> list[tuple[str, ...]]:
    """One row per option, under :func:`columns`: label (marked when a requirement
    excludes it), mean total cost (and NPV, and cash), P(cheaper), P(cheapest) (none for an
    excluded option), break-even, p5/p50/p95; every cell printable."""
    scenario = result.scenario
    currency = scenario.currency
    rows = []
    for name, option in result.options.items():
        cost = option.total_cost
        versus = result.versus.get(name)
        if versus is None:
            cheaper, breakeven = "baseline", "baseline"
        else:
            cheaper = share(versus.p_cheaper)
            p50 = versus.breakeven_p50
            breakeven = f"month {p50}" if p50 is not None else "not by horizon"
        npv = (money(option.npv.mean, currency),) if scenario.discount_rate else ()
        if has_business_cost(result):
            npv += (money(option.cash_cost.mean, currency),)
        row = (
            f"{option.label} (excluded)" if option.excluded else option.label,
            money(cost.mean, currency),
            *npv,
            cheaper,
            "excluded" if option.excluded else share(cheapest_share(option)),
            breakeven,
            money(cost.p5, currency),
            money(cost.p50, currency),
            money(cost.p95, currency),
        )
        rows.append(tuple(printable(cell) for cell in row))
    return rows


def cheapest_share(option) -> float:
    """The share of paths on which ``option`` is the cheapest: of the options its
    requirements allow when some are excluded before the run, else of all."""
    allowed = option.p_cheapest_allowed
    return option.p_cheapest if allowed is None else allowed


TERMINAL_WIDTH = 100
"""Widest the terminal table is drawn (narrower when the terminal is)."""

_NARROW_LABEL = 14


def terminal_table(result: SimulationResult, width: int = TERMINAL_WIDTH, wide: bool = False):
    """The summary table for a terminal, at most ``width`` columns: the option's label
    wraps onto more lines rather than push the numbers off the screen; p5, p50 and the
    cash cost are left to the report unless ``wide`` (then nothing wraps); "none" for a
    break-even not reached by the horizon on half of the futures, "-" for the
    baseline's.

    Returns
    -------
    str
        The table's lines, without a final line break.
    """
    header = columns(result)
    rows = summary_rows(result)
    if not wide:
        keep = [i for i, h in enumerate(header) if h not in ("p5", "p50", "Cash")]
        header = tuple(header[i] for i in keep)
        rows = [tuple(row[i] for i in keep) for row in rows]
        short = {"not by horizon": "none", "baseline": "-"}
        at = header.index("Break-even")
        rows = [(*row[:at], short.get(row[at], row[at]), *row[at + 1 :]) for row in rows]
        return fitted_table(header, rows, width)
    return text_table(header, rows)


def fitted_table(header: tuple[str, ...], rows: list[tuple[str, ...]], width: int) -> str:
    """:func:`text_table` at most ``width`` columns wide where it can be: the first
    column's text wraps onto more lines (never narrower than 14 characters)."""
    rest = [max(len(printable(r[i])) for r in (header, *rows)) for i in range(1, len(header))]
    room = max(_NARROW_LABEL, width - sum(rest) - 2 * (len(header) - 1))
    wrapped = []
    for row in rows:
        lines = textwrap.wrap(printable(row[0]), room, break_on_hyphens=False) or [""]
        wrapped.append((lines[0], *row[1:]))
        wrapped += [(line, *[""] * (len(row) - 1)) for line in lines[1:]]
    return text_table(header, wrapped)


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]], text_columns: int = 1) -> str:
    """A plain aligned table: the first ``text_columns`` columns (text) left-aligned,
    the rest (numbers) right; every cell printable, so the table is safe on a terminal
    whatever it holds."""
    header = tuple(printable(h) for h in header)
    rows = [tuple(printable(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells):
        aligned = [
            c.ljust(w) if i < text_columns else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(aligned).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A GitHub-flavoured Markdown table of cells that are Markdown already (scenario
    text escaped as :func:`simulator.report.markup.markdown_text` does): pipes in cells
    are escaped, and a line break cannot end a row."""

    def cell(text: str) -> str:
        return printable(text).replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
