"""The portfolio decision in words: which option each workload goes to, and why.

Pure functions of a run's ``portfolio`` summary key; every string is scenario text made
printable by the caller's table or page.
"""

from __future__ import annotations

from ...decide.summary import SimulationResult
from ...scenario.numbers import money, share
from .card import Card

__all__ = ["portfolio_cards", "portfolio_rows", "portfolio_sentence"]


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
    served: dict[str, list[str]] = {}
    for workload, option in found["assignment"].items():
        served.setdefault(option, []).append(workload)
    parts = "; ".join(f"{_listed(names)} on {options[o].label}" for o, names in served.items())
    cost = found["total_cost"]["mean"]
    text = f"Split by feature: {parts}. {money(cost, currency)} expected over {months} months"
    if best is not None:
        saved = found["versus_single"][best]
        text += (
            f", {money(saved, currency)} ({saved / options[best].total_cost.mean:.0%}) less than "
            f"the best single option ({options[best].label} for everything)"
        )
    base = options[scenario.baseline].label
    return text + f"; cheaper than {base} for everything on {share(found['p_cheaper'])} of paths."


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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


def portfolio_cards(result: SimulationResult) -> list:
    """The first screen's numbers for a split assignment: its expected cost, its saving
    against the baseline and the best single option, its bad case, and how often it
    beats the baseline."""
    found = result.extra["portfolio"]
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    cost, saving = found["total_cost"], found["savings"]
    base = result.options[scenario.baseline].label
    best = result.extra.get("recommendation", {}).get("option")
    cards = [
        Card(
            "Expected cost",
            money(cost["mean"], currency),
            f"over {months} months, every workload on its option",
        ),
        Card(
            "Saving against the baseline",
            money(saving["mean"], currency),
            f"against {base} for everything; 90% of futures between "
            f"{money(saving['p5'], currency)} and {money(saving['p95'], currency)}",
        ),
    ]
    if best is not None:
        cards.append(
            Card(
                "Saving against one option for all",
                money(found["versus_single"][best], currency),
                f"against {result.options[best].label}, the best single option",
            )
        )
    cards += [
        Card(
            "Bad case (1 in 20)",
            money(cost["p95"], currency),
            f"1 future in 20 costs more; those average {money(cost['cvar95'], currency)}",
        ),
        Card(
            "Chance it beats the baseline",
            share(found["p_cheaper"]),
            f"of simulated futures; {found['assignments_searched']:,} assignments compared "
            "on the same futures",
        ),
    ]
    return cards
