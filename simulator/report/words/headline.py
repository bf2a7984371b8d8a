"""The first thing a report says: the decision in one sentence, and a few numbers.

:func:`headline` reads a run's summary (its options folded as
:func:`~simulator.report.twins.folded` shows them) and says which option to choose,
what it costs, what it saves against the baseline, how bad its unlucky futures are,
when it pays back and how often it is the cheapest. Pure functions, no I/O; every
string is scenario text made printable.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...decide.summary import SimulationResult
from ...scenario.numbers import money, share
from ...scenario.text import printable
from ..tables import cheapest_share
from ..twins import folded, twins
from .audit import paths_share
from .card import Card
from .portfolio import portfolio_cards, portfolio_sentence

__all__ = ["Card", "Headline", "headline"]


@dataclass(frozen=True)
class Headline:
    """The decision sentence, its number cards and notes on what the table folds."""

    sentence: str
    cards: tuple[Card, ...]
    notes: tuple[str, ...]


def headline(result: SimulationResult) -> Headline:
    """What to choose and why, in one sentence, with four or five numbers.

    The option is the recommendation (the allowed option with the lowest expected
    total cost); without one (every option breaks a requirement) the sentence says so
    and there are no cards.
    """
    shown = folded(result)
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    chosen = result.extra.get("recommendation", {}).get("option")
    notes = _fold_notes(result)
    if chosen is None:
        rationale = result.extra.get("recommendation", {}).get("rationale", "")
        return Headline(printable(rationale or "No option can be recommended."), (), notes)
    chosen = twins(result).get(chosen, chosen)
    option = shown.options[chosen]
    cost = option.total_cost
    base = shown.options[scenario.baseline]
    allowed = [o for o in shown.options.values() if not o.excluded]
    others = sorted((o for o in allowed if o.name != chosen), key=lambda o: o.total_cost.mean)
    cheapest = _cheapest_words(result, chosen, cheapest_share(option))
    if chosen == scenario.baseline:
        sentence = (
            f"Stay on {option.label}: {money(cost.mean, currency)} expected over {months} months"
        )
        if others:
            gap = others[0].total_cost.mean - cost.mean
            sentence += f", {money(gap, currency)} less than the next option, {others[0].label}"
    else:
        saving = base.total_cost.mean - cost.mean
        than = "less" if saving >= 0 else "more"
        sentence = (
            f"Move to {option.label}: {money(cost.mean, currency)} expected over {months} "
            f"months, {money(abs(saving), currency)} {than} than staying on {base.label}"
        )
    sentence += f"; {cheapest}."
    split = portfolio_sentence(result)
    if split is not None:
        notes += (f"For one option serving every workload (as the table shows): {sentence}",)
        sentence = split
    excluded = [o for o in shown.options.values() if o.excluded]
    if excluded:
        notes += (
            "Excluded by the requirements: "
            + "; ".join(f"{o.label} ({o.excluded})" for o in excluded)
            + ".",
        )
    cards = portfolio_cards(result) if split is not None else _cards(shown, chosen)
    return Headline(
        printable(sentence),
        tuple(Card(*(printable(t) for t in (c.label, c.value, c.detail))) for c in cards),
        tuple(printable(n) for n in notes),
    )


def _cheapest_words(result: SimulationResult, chosen: str, p: float) -> str:
    shared = [result.options[gone].label for gone, kept in twins(result).items() if kept == chosen]
    text = f"the cheapest option on {paths_share(p)}"
    if shared:
        text += f" (shared with {', '.join(shared)}, which costs the same on every path)"
    return text


def _fold_notes(result: SimulationResult) -> tuple[str, ...]:
    return tuple(
        f"{result.options[gone].label} never migrates within the horizon, so it costs "
        f"exactly what {result.options[kept].label} costs on every path: the tables and "
        "charts show the two as one."
        for gone, kept in twins(result).items()
    )


def _cards(shown: SimulationResult, chosen: str) -> list[Card]:
    scenario = shown.scenario
    currency, months = scenario.currency, scenario.horizon_months
    option = shown.options[chosen]
    cost = option.total_cost
    expected = (
        f"NPV {money(option.npv.mean, currency)} at {scenario.discount_rate:.0%} a year"
        if scenario.discount_rate
        else f"over {months} months, on average"
    )
    business = cost.mean - option.cash_cost.mean
    if business:
        expected += (
            f"; cash {money(option.cash_cost.mean, currency)}, the rest "
            f"({money(business, currency)}) the business cost of downtime"
        )
    cards = [Card("Expected cost", money(cost.mean, currency), expected)]
    versus = shown.versus.get(chosen)
    if versus is None:
        cards.append(Card("Saving against the baseline", "none", "this is the baseline"))
    else:
        saving = versus.savings
        cards.append(
            Card(
                "Saving against the baseline",
                money(saving["mean"], currency),
                f"90% of futures between {money(saving['p5'], currency)} and "
                f"{money(saving['p95'], currency)}",
            )
        )
    cards.append(
        Card(
            "Bad case (1 in 20)",
            money(cost.p95, currency),
            f"1 future in 20 costs more; those average {money(cost.cvar95, currency)}",
        )
    )
    if versus is not None:
        month = versus.breakeven_p50
        cards.append(
            Card(
                "Break-even",
                "not by the horizon" if month is None else f"month {month}",
                f"on half of the futures; by month {months} on "
                f"{paths_share(versus.breakeven_p_within_horizon)}",
            )
        )
    excluded = sum(1 for o in shown.options.values() if o.excluded)
    if option.p_cheapest_allowed is not None:
        among = f"among the {len(shown.options) - excluded} options the requirements allow"
    else:
        among = f"among all {len(shown.options)} options"
        among += ", excluded ones too" if excluded else ""
    cards.append(
        Card(
            "Chance it is the cheapest",
            share(cheapest_share(option)),
            f"of simulated futures, {among}",
        )
    )
    return cards
