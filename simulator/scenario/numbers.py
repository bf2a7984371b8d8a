"""Numbers for people: money, counts and shares (pure functions).

Kept at the bottom of the package so that every message agrees on how a number is
written: validation errors, recommendations, the terminal and the report.
"""

from __future__ import annotations

__all__ = ["axis_money", "count", "money", "number", "share"]


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
