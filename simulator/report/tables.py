"""The summary table for the terminal and Markdown (pure functions, no I/O).

Labels come from the scenario and may hold anything: every cell a table shows has its
control and bidirectional characters replaced by visible escapes
(:func:`~simulator.scenario.text.printable`), so a label can neither act on the
terminal (an ANSI escape sequence) nor break the table's lines.
"""

from __future__ import annotations

from ..decide.summary import SimulationResult
from ..scenario.numbers import money, share
from ..scenario.text import printable

__all__ = ["COLUMNS", "markdown_table", "summary_rows", "text_table"]

COLUMNS = ("Option", "p5", "p50", "p95", "P(cheaper)", "P(cheapest)", "Break-even")


def summary_rows(result: SimulationResult) -> list[tuple[str, ...]]:
    """One row per option: label (marked when a requirement excludes it), total-cost
    p5/p50/p95, P(cheaper), P(cheapest), break-even; every cell printable."""
    scenario = result.scenario
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
        row = (
            f"{option.label} (excluded)" if option.excluded else option.label,
            money(cost.p5, scenario.currency),
            money(cost.p50, scenario.currency),
            money(cost.p95, scenario.currency),
            cheaper,
            share(option.p_cheapest),
            breakeven,
        )
        rows.append(tuple(printable(cell) for cell in row))
    return rows


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain aligned table: text left-aligned in the first column, the rest right;
    every cell printable, so the table is safe on a terminal whatever it holds."""
    header = tuple(printable(h) for h in header)
    rows = [tuple(printable(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

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
