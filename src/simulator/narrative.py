"""Words for people, generated from a run's numbers (pure functions, no I/O).

:func:`verdict` is the paragraph at the top of a report; :func:`cautions` warns when
Monte Carlo error could change a conclusion; :func:`input_rows` lists every uncertain
input with its distribution and sampled percentiles, so a reader can audit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .analysis import SimulationResult
from .formatting import money, number, share

__all__ = [
    "InputRow",
    "MEAN_SE_LIMIT",
    "P_CHEAPER_SE_LIMIT",
    "SURE",
    "cautions",
    "input_rows",
    "paths_share",
    "verdict",
]

P_CHEAPER_SE_LIMIT = 0.01
"""A P(cheaper) whose standard error is above this gets a caution."""

MEAN_SE_LIMIT = 0.01
"""A mean total cost whose standard error, relative to the mean, is above this gets one."""


def verdict(result: SimulationResult) -> list[str]:
    """Sentences of the verdict paragraph: which option is cheapest how often, and how
    each other option fares against the baseline (how often, by how much, from when)."""
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    base = result.options[scenario.baseline]
    cost = base.total_cost
    if not result.versus:
        return [
            f"{base.label} is the only option: {money(cost.p50, currency)} over {months} "
            f"months at the median, {money(cost.p5, currency)} to {money(cost.p95, currency)} "
            "on 90% of paths."
        ]
    cheapest = max(result.options.values(), key=lambda o: o.p_cheapest)
    sentences = [_cheapest(result)]
    rivals = sorted(result.versus.items(), key=lambda kv: -kv[1].p_cheaper)
    sure = [
        (name, v)
        for name, v in rivals
        if v.p_cheaper >= SURE and v.p_cheaper_by_year[0] >= SURE and name != cheapest.name
    ]
    if sure:
        sentences.append(_sure_winners(result, sure, also=cheapest.name != scenario.baseline))
    for name, versus in rivals:
        if name == cheapest.name and versus.p_cheaper >= SURE:
            continue  # the first sentence said it
        if (name, versus) not in sure:
            sentences.append(_against_baseline(result, name, versus))
    return sentences


SURE = 0.99
"""Options cheaper than the baseline on at least this share of paths, from the first
year on, are summed up together in the verdict."""


def paths_share(p: float) -> str:
    """``0.926`` -> ``"92.6% of paths"``; 1 -> ``"every path"``; 0 -> ``"no path"``."""
    if p >= 1:
        return "every path"
    if p <= 0:
        return "no path"
    text = share(p).replace(">", "more than ").replace("<", "fewer than ")
    return f"{text} of paths"


def _cheapest(result: SimulationResult) -> str:
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    base = result.options[scenario.baseline]
    ranked = sorted(result.options.values(), key=lambda o: -o.p_cheapest)
    best = ranked[0]
    if best.p_cheapest < 0.5:
        shares = ", ".join(f"{o.label} on {share(o.p_cheapest)}" for o in ranked[:3])
        return f"No option is the cheapest on most paths: {shares}."
    cost = best.total_cost
    text = (
        f"{best.label} is the cheapest option on {paths_share(best.p_cheapest)}: "
        f"{money(cost.p50, currency)} over {months} months at the median "
        f"({money(cost.p5, currency)} to {money(cost.p95, currency)} on 90% of paths)"
    )
    if best.name == base.name:
        return text.replace(best.label, f"The baseline, {best.label},", 1) + "."
    return f"{text}, against {money(base.total_cost.p50, currency)} for the baseline, {base.label}."


def _sure_winners(result: SimulationResult, sure, *, also: bool) -> str:
    currency = result.scenario.currency
    labels = [result.options[name].label for name, _ in sure]
    savings = [money(v.savings["p50"], currency) for _, v in sure]
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    amounts = savings[0] if len(savings) == 1 else ", ".join(savings[:-1]) + " and " + savings[-1]
    text = (
        f"{names} {'also ' if also else ''}beat{'s' if len(sure) == 1 else ''} the baseline "
        f"on almost every path from the first year on, saving {amounts} at the median"
    )
    late = [(name, v.breakeven_p50) for name, v in sure if (v.breakeven_p50 or 0) > 1]
    if late:
        months = ", ".join(f"{result.options[n].label} by month {m}" for n, m in late)
        text += f" ({months} on half of the paths)"
    return text + "."


def _against_baseline(result: SimulationResult, name: str, versus) -> str:
    scenario = result.scenario
    currency = scenario.currency
    label = result.options[name].label
    saving = versus.savings
    if versus.p_cheaper >= 0.5:
        text = (
            f"{label} beats the baseline on {paths_share(versus.p_cheaper)}, saving "
            f"{money(saving['p50'], currency)} at the median"
        )
        if saving["p5"] < 0:
            text += (
                f" (on the unluckiest 5% of paths it costs {money(-saving['p5'], currency)} more)"
            )
        month = versus.breakeven_p50
        if month == 1:
            text += "; it is ahead from the first month on half of the paths"
        elif month is not None:
            text += f"; it breaks even by month {month} on half of the paths"
        by_year = versus.p_cheaper_by_year
        if len(by_year) > 1 and by_year[0] < 0.5:
            year = next(k for k, p in enumerate(by_year) if p >= 0.5) + 1
            text += (
                f", pulling ahead only in year {year} (cheaper on {paths_share(by_year[0])} "
                "after year one)"
            )
        return text + "."
    if versus.p_cheaper > 0:
        text = f"{label} is cheaper than the baseline on only {paths_share(versus.p_cheaper)}"
    else:
        text = f"{label} is never cheaper than the baseline"
    if saving["p50"] < 0:
        text += f"; at the median it costs {money(-saving['p50'], currency)} more"
    if versus.breakeven_p_within_horizon > 0:
        text += (
            f", and it breaks even within {scenario.horizon_months} months on "
            f"{paths_share(versus.breakeven_p_within_horizon)}"
        )
    return text + "."


def cautions(result: SimulationResult) -> list[str]:
    """Warnings where Monte Carlo error is material: a P(cheaper) within two standard
    errors of even odds or with a standard error above :data:`P_CHEAPER_SE_LIMIT`, a
    mean total cost less precise than :data:`MEAN_SE_LIMIT`, or a precision target
    that was not met. Empty when the run is precise enough."""
    scenario = result.scenario
    paths = result.paths.paths
    notes = []
    for name, versus in result.versus.items():
        label = result.options[name].label
        p, se = versus.p_cheaper, versus.p_cheaper_se
        if se > 0 and abs(p - 0.5) < 2 * se:
            notes.append(
                f"Whether {label} is cheaper than the baseline is a coin flip at this "
                f"precision: P(cheaper) is {share(p)}, within two standard errors "
                f"({_points(se)} each) of 50%."
            )
        elif se > P_CHEAPER_SE_LIMIT:
            notes.append(
                f"P(cheaper) of {label} ({share(p)}) has a standard error of {_points(se)}."
            )
    errors = result.paths.tally.standard_errors(scenario.sampling)
    for name, option in result.options.items():
        relative = errors.get(f"mean:{name}", 0.0)
        if relative > MEAN_SE_LIMIT:
            notes.append(
                f"The mean total cost of {option.label} is uncertain by about "
                f"{relative:.1%} (one standard error)."
            )
    precision = result.extra.get("precision")
    if precision is not None and not precision["met"]:
        notes.append(
            f"The precision asked for (standard error {precision['target']:g}) was not reached "
            f"within {paths:,} paths; the worst standard error is "
            f"{precision['worst_standard_error']:.4f}."
        )
    if notes:
        notes.append(
            f"These come from simulating {paths:,} paths, not from the scenario: run more "
            "paths (--paths, or --precision to set a target) to narrow them."
        )
    return notes


def _points(se: float) -> str:
    return f"{se * 100:.2g} percentage points"


@dataclass(frozen=True)
class InputRow:
    """One uncertain input of a scenario, for the audit table."""

    key: str
    applies_to: str
    distribution: str
    p5: str
    p50: str
    p95: str


def input_rows(
    result: SimulationResult, sampled: Mapping[str, np.ndarray] | None = None
) -> list[InputRow]:
    """Every uncertain input: its dotted key, what it belongs to, its distribution and
    its 5th, 50th and 95th percentiles as sampled (``sampled`` maps a key to those
    three numbers), or else as the distribution gives them."""
    scenario = result.scenario
    rows = []
    for key in scenario.inputs:
        dist = scenario.quantities[key]
        values = sampled.get(key) if sampled else None
        if values is None:
            values = dist.ppf(np.array([0.05, 0.5, 0.95]))
        rows.append(
            InputRow(
                key=key,
                applies_to=_owner(result, key),
                distribution=dist.describe(),
                p5=number(float(values[0])),
                p50=number(float(values[1])),
                p95=number(float(values[2])),
            )
        )
    return rows


def _owner(result: SimulationResult, key: str) -> str:
    parts = key.split(".")
    if parts[0] == "options" and parts[1] in result.options:
        return result.options[parts[1]].label
    return parts[0]
