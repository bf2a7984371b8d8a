"""Numbers for people: money, shares and the summary table (pure functions, no I/O)."""

from __future__ import annotations

from .analysis import SimulationResult

__all__ = [
    "COLUMNS",
    "axis_money",
    "count",
    "markdown_table",
    "money",
    "number",
    "share",
    "summary_rows",
    "text_table",
]

COLUMNS = ("Option", "p5", "p50", "p95", "P(cheaper)", "P(cheapest)", "Break-even")


def money(x: float, currency: str = "USD") -> str:
    """``1234567`` -> ``"$1.23M"``; other currencies are prefixed by their code."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e9:
        body = f"{x / 1e9:.2f}B"
    elif x >= 1e6:
        body = f"{x / 1e6:.2f}M"
    elif x >= 1e3:
        body = f"{x / 1e3:.0f}k"
    else:
        body = f"{x:.0f}"
    prefix = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{prefix}{body}"


def axis_money(x: float, currency: str = "USD") -> str:
    """Short money for chart axes: ``2_500_000`` -> ``"$2.5M"``, ``500_000`` -> ``"$500k"``."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            body = f"{x / scale:.2f}".rstrip("0").rstrip(".") + suffix
            break
    else:
        body = f"{x:.0f}"
    prefix = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{prefix}{body}"


def count(x: float) -> str:
    """A count for people: ``14_209_743`` -> ``"14.2M"``, ``352_839`` -> ``"353k"``."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def number(x: float) -> str:
    """A scenario input for people: ``287345.6`` -> ``"287,346"``, ``0.0823`` -> ``"0.0823"``."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def share(p: float) -> str:
    """``0.9123`` -> ``"91.2%"``; shares within 0.05% of 0 or 1 say so."""
    if 0 < p < 0.0005:
        return "<0.1%"
    if 0.9995 < p < 1:
        return ">99.9%"
    return f"{p:.1%}"


def summary_rows(result: SimulationResult) -> list[tuple[str, ...]]:
    """One row per option: label (marked when a requirement excludes it), total-cost
    p5/p50/p95, P(cheaper), P(cheapest), break-even."""
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
        rows.append(
            (
                f"{option.label} (excluded)" if option.excluded else option.label,
                money(cost.p5, scenario.currency),
                money(cost.p50, scenario.currency),
                money(cost.p95, scenario.currency),
                cheaper,
                share(option.p_cheapest),
                breakeven,
            )
        )
    return rows


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain aligned table: text left-aligned in the first column, the rest right."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
