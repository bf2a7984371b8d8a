"""The portfolio decision in words: which option each workload goes to, and why.

Pure functions of a run's ``portfolio`` summary key; every string is scenario text made
printable by the caller's table or page.
"""

from __future__ import annotations

from ...decide.summary import SimulationResult
from ...scenario.numbers import money, share

__all__ = ["portfolio_rows", "portfolio_sentence"]


def portfolio_sentence(result: SimulationResult) -> str | None:
    """What the portfolio assigns and what it saves; ``None`` without one, or when it
    assigns every workload to the recommended option (no split pays).

    The saving is against the best single option for everything (the allowed option
    with the lowest expected cost serving every workload) and against the baseline.
    """
    found = result.extra.get("portfolio")
    best = result.extra.get("recommendation", {}).get("option")
    if not found or found.get("assignment") is None or set(found["assignment"].values()) == {best}:
        return None
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    options = result.options
    parts = ", ".join(
        f"{workload} to {options[option].label}" for workload, option in found["assignment"].items()
    )
    cost = found["total_cost"]["mean"]
    text = (
        f"Assign feature by feature, {parts}: {money(cost, currency)} expected over {months} months"
    )
    if best is not None:
        saved = found["versus_single"][best]
        text += (
            f", {money(saved, currency)} ({saved / options[best].total_cost.mean:.0%}) less than "
            f"the best single option, {options[best].label} for everything"
        )
    base = options[scenario.baseline].label
    return text + f"; cheaper than {base} for everything on {share(found['p_cheaper'])} of paths."


def portfolio_rows(result: SimulationResult) -> list[tuple[str, str, str]]:
    """One row per workload: its name, its option's label, its month-1 spend there."""
    found = result.extra.get("portfolio") or {}
    currency = result.scenario.currency
    return [
        (
            workload,
            result.options[entry["option"]].label,
            money(entry["monthly_spend_today"], currency),
        )
        for workload, entry in (found.get("by_workload") or {}).items()
    ]
