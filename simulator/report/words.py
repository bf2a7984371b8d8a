"""Words for people, generated from a run's numbers (pure functions, no I/O).

:func:`verdict` is the paragraph at the top of a report; :func:`cautions` warns when
Monte Carlo error could change a conclusion; :func:`input_rows` lists every uncertain
input with its distribution and sampled percentiles, so a reader can audit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..decide.summary import SimulationResult
from ..scenario.numbers import count, money, number, share

__all__ = [
    "InputRow",
    "breakeven_reason",
    "breakeven_sentence",
    "breakeven_sentences",
    "sensitivity_rivals",
    "sensitivity_sentence",
    "stress_rivals",
    "stress_sentence",
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
    each other option fares against the baseline (how often, by how much, from when);
    after a stress test, what a volume shortfall does and how much volume is needed."""
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
    if "stress" in result.extra:
        sentences.append(stress_sentence(result))
    if "breakeven" in result.extra:
        sentences.append(breakeven_sentence(result))
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


# ---------------------------------------------------------------------------
# The stress test, break-even volume and sensitivity (present with --stress)


def _times(multiplier: float) -> str:
    """``0.5`` -> ``"half"``; ``0.25`` -> ``"a quarter of"``; ``2`` -> ``"2 times"``."""
    words = {0.25: "a quarter of", 0.5: "half", 0.75: "three quarters of", 1.0: "all of"}
    if multiplier in words:
        return words[multiplier]
    return f"{multiplier:.3g} times"


def _grid(result: SimulationResult) -> dict[tuple[float, float], dict]:
    return {
        (row["volume_realization"], row["growth_realization"]): row["options"]
        for row in result.extra.get("stress", [])
    }


def stress_rivals(result: SimulationResult, most: int = 4) -> list[str]:
    """The options a stress heatmap shows: those whose P(cheaper) moves by at least 2
    points across the grid, most moved first (at most ``most``), or, when none moves,
    the first ``most`` options."""
    grid = _grid(result)
    spans = {}
    for name in result.versus:
        values = [cell[name]["p_cheaper"] for cell in grid.values()]
        spans[name] = max(values) - min(values) if values else 0.0
    moved = sorted((n for n in spans if spans[n] >= 0.02), key=lambda n: -spans[n])
    return (moved or list(result.versus))[:most]


def _shock(grid: Mapping[tuple[float, float], dict]) -> tuple[float, float] | None:
    """The grid point that stands for 'volume comes in short': growth as forecast (or
    nearest), and the volume multiplier below 1 nearest to one half."""
    if not grid:
        return None
    growths = sorted({g for _, g in grid}, key=lambda g: (abs(g - 1), -g))
    growth = growths[0]
    short = [v for v, g in grid if g == growth and v < 1]
    if not short:
        return None
    return min(short, key=lambda v: (abs(v - 0.5), v)), growth


def stress_sentence(result: SimulationResult) -> str:
    """What a volume shortfall does to the answer, in one sentence, for the option
    whose P(cheaper) it moves most ("If volume comes in at half the forecast, ...")."""
    grid = _grid(result)
    base = result.options[result.scenario.baseline].label
    shock = _shock(grid)
    reference = (1.0, shock[1]) if shock else None
    if not result.versus:
        return f"{base} is the only option: there is nothing to compare it with."
    if shock is None or reference not in grid:
        return "The stress grid has no point with volume below the forecast to compare with."
    volume, growth = shock
    moves = {
        n: grid[reference][n]["p_cheaper"] - grid[shock][n]["p_cheaper"] for n in result.versus
    }
    name = max(moves, key=lambda n: (abs(moves[n]), n == next(iter(moves))))
    label = result.options[name].label
    at = f"If volume comes in at {_times(volume)} the forecast"
    if growth != 1:
        at += f" (growth at {_times(growth)} the forecast)"
    before = grid[reference][name]["p_cheaper"]
    after = grid[shock][name]["p_cheaper"]
    if abs(moves[name]) < 0.005:
        return (
            f"{at}, nothing changes: {label} is still cheaper than {base} on "
            f"{paths_share(after)}, as at the forecast."
        )
    text = f"{at}, {label} beats {base} on {share(after)} of paths instead of {share(before)}"
    worst = (volume, min(g for _, g in grid))
    if worst != shock and worst in grid:
        after = share(grid[worst][name]["p_cheaper"])
        if worst[1] == 0:
            text += f"; if it does not grow either, on {after}"
        else:
            text += f"; if growth also comes in at {_times(worst[1])} the forecast, on {after}"
    return text + "."


def _volume_text(entry: Mapping, key: str, currency: str, base: str) -> str:
    multiplier = entry[f"volume_multiplier_{key}"]
    requests = entry[f"requests_per_month_{key}"]
    spend = entry[f"baseline_monthly_spend_{key}"]
    return (
        f"{multiplier:.3g} times the forecast volume ({count(requests)} requests in the "
        f"first month, where {base} would bill {money(spend, currency)} a month)"
    )


def breakeven_reason(result: SimulationResult, name: str, key: str = "p50") -> str:
    """Why an option's break-even multiplier at ``key`` (``"p50"``, ``"p80"``) is null,
    in words ('' when it is not)."""
    entry = result.extra["breakeven"][name]
    reason = entry[f"reason_{key}"]
    currency = result.scenario.currency
    target = "half" if key == "p50" else f"{key[1:]}%"
    mine = entry["marginal_cost_per_request"]
    theirs = entry["baseline_marginal_cost_per_request"]
    if reason == "cheaper_at_lowest_volume":
        return (
            f"it is cheaper on {paths_share(entry['p_cheaper_at_lowest'])} already at 1% of "
            f"the forecast volume, so it needs no particular volume to win on {target} of them"
        )
    per_k = "per 1,000 requests"
    if reason == "marginal_cost_not_below_baseline":
        return (
            f"at high volume each extra 1,000 requests costs it {money(mine * 1000, currency)}"
            f" against {money(theirs * 1000, currency)} on the baseline: its marginal cost "
            "is not below the baseline's, so no volume helps"
            if mine is not None and theirs is not None
            else "its marginal cost is not below the baseline's, so no volume helps"
        )
    if reason == "not_reached_by_highest_volume":
        text = (
            f"even at 100 times the forecast volume it is cheaper on only "
            f"{paths_share(entry['p_cheaper_at_highest'])}"
        )
        if mine is not None and theirs is not None:
            text += (
                f" (its marginal cost, {_cost_per_k(mine, currency)} {per_k}, is below the "
                f"baseline's {_cost_per_k(theirs, currency)}, but not on enough paths)"
            )
        return text
    return ""


def _cost_per_k(cost_per_request: float, currency: str) -> str:
    value = cost_per_request * 1000
    if abs(value) >= 10:
        return money(value, currency)
    prefix = "$" if currency == "USD" else f"{currency} "
    return f"{prefix}{value:.2f}"


def breakeven_sentences(result: SimulationResult) -> list[str]:
    """One sentence per option: the volume at which it beats the baseline on half and
    on 80% of paths, or why no volume in [0.01, 100] times the forecast does."""
    scenario = result.scenario
    currency = scenario.currency
    base = result.options[scenario.baseline].label
    sentences = []
    for name, entry in result.extra.get("breakeven", {}).items():
        label = result.options[name].label
        half, most = entry["volume_multiplier_p50"], entry["volume_multiplier_p80"]
        lowest = entry["p_cheaper_at_lowest"]
        if half is not None:
            text = (
                f"{label} beats {base} on half of the paths from "
                f"{_volume_text(entry, 'p50', currency, base)}"
            )
            if most is not None:
                text += f", and on 80% from {most:.3g} times"
            else:
                text += f"; it does not reach 80% because {breakeven_reason(result, name, 'p80')}"
        elif entry["reason_p50"] == "cheaper_at_lowest_volume":
            text = (
                f"{label} needs no particular volume: it is cheaper than {base} on "
                f"{paths_share(lowest)} even at 1% of the forecast volume"
            )
            if most is not None:
                text += f", and on 80% from {_volume_text(entry, 'p80', currency, base)}"
            elif entry["reason_p80"] != "cheaper_at_lowest_volume":
                text += f"; it does not reach 80% because {breakeven_reason(result, name, 'p80')}"
        else:
            text = (
                f"No volume up to 100 times the forecast makes {label} cheaper than {base} on "
                f"half of the paths: {breakeven_reason(result, name, 'p50')}"
            )
        sentences.append(text + ".")
    return sentences


def breakeven_sentence(result: SimulationResult) -> str:
    """The headline of the break-even analysis: the option that needs the most volume
    to beat the baseline on half of the paths, against the forecast."""
    entries = result.extra.get("breakeven", {})
    found = {n: e["volume_multiplier_p50"] for n, e in entries.items()}
    found = {n: m for n, m in found.items() if m is not None}
    sentences = dict(zip(entries, breakeven_sentences(result), strict=True))
    if not found:
        return next(iter(sentences.values()), "No option to compare with the baseline.")
    name = max(found, key=found.get)
    multiplier = found[name]
    margin = (
        f"the forecast is {1 / multiplier:.1f} times that"
        if multiplier < 1
        else f"the forecast is short of that by a factor {multiplier:.1f}"
    )
    return sentences[name].rstrip(".") + f"; {margin}."


def sensitivity_rivals(result: SimulationResult, most: int = 4) -> list[str]:
    """The options a tornado chart shows: the ``most`` whose P(cheaper) is nearest even
    odds (where knowing more would change a decision), in scenario order."""
    effects = result.extra.get("sensitivity", {})
    ranked = sorted(effects, key=lambda n: abs(result.versus[n].p_cheaper - 0.5))[:most]
    return [n for n in effects if n in ranked]


def sensitivity_sentence(result: SimulationResult, name: str | None = None) -> str:
    """What moves one option's savings most (by default the option nearest even odds):
    its top three inputs by share of variance."""
    effects = result.extra.get("sensitivity", {})
    if not effects:
        return "No option to compare with the baseline."
    name = name or sensitivity_rivals(result, 1)[0]
    label = result.options[name].label
    top = [e for e in effects[name][:3] if e["variance_share"] > 0 or e["spearman"]]
    if not top:
        return f"No single input moves the savings of {label}."
    parts = [f"{e['input']} ({e['variance_share']:.0%})" for e in top]
    parts[0] = parts[0].replace("%)", "% of the variance)")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"What moves the savings of {label} most: {listed}."


def decision_paragraphs(result: SimulationResult) -> list[str]:
    """The decision at the top of the report: what to choose and why, when a staged
    policy migrates and what it saves against each fixed option, and which
    uncertainty is most worth resolving before deciding."""
    extra = result.extra
    if "recommendation" not in extra:
        return []
    recommendation = extra["recommendation"]
    chosen = recommendation["option"]
    if chosen is None:
        lead = "No option is recommended. " + recommendation["rationale"]
    else:
        lead = f"Recommended: {result.options[chosen].label}. {recommendation['rationale']}"
    paragraphs = [lead]
    paragraphs.extend(policy_sentence(result, name) for name in _staged(result))
    if "value_of_information" in extra:
        paragraphs.append(value_sentence(result))
    return paragraphs


def _staged(result: SimulationResult) -> list[str]:
    return [n for n, o in result.options.items() if o.policy is not None]


def policy_sentence(result: SimulationResult, name: str) -> str:
    """When staged option ``name`` migrates, how likely that is within the horizon, and
    what it saves in expectation against every fixed option."""
    currency = result.scenario.currency
    option = result.options[name]
    policy = option.policy
    params = result.scenario.options[name].params
    start = result.options[params["start"]].label
    then = result.options[params["then"]].label
    trigger = policy["trigger_monthly_cost"]
    found = "the trigger that minimizes expected cost is" if policy["optimized"] else "trigger:"
    if trigger is None:
        text = (
            f"{option.label}: {found} never — staying on {start} is cheaper in expectation "
            f"than moving to {then} at any monthly spend tried, so migration starts within "
            f"the horizon on {paths_share(policy['p_migrates'])}."
        )
    elif policy["p_migrates"] >= 1 and policy["migration_month_p50"] == 1:
        text = (
            f"{option.label}: start building {then} now ({found} "
            f"{money(trigger, currency)}, below today's spend on {start} on every path), "
            f"with {start} serving until {then} is ready."
        )
    else:
        month = policy["migration_month_p50"]
        when = f", in month {month} at the median" if month is not None else ""
        text = (
            f"{option.label}: start building {then} once {start} has cost more than "
            f"{money(trigger, currency)} a month for {params['trigger_months']} months in "
            f"a row ({found} {money(trigger, currency)}). Migration starts within the "
            f"horizon on {paths_share(policy['p_migrates'])}{when}."
        )
    savings = []
    for other, summary in result.options.items():
        if other == name or summary.policy is not None:
            continue
        gap = summary.total_cost.mean - option.total_cost.mean
        word = "saves" if gap >= 0 else "costs"
        savings.append(f"{word} {money(abs(gap), currency)} against {summary.label}")
    if savings:
        text += " In expectation the policy " + ", ".join(savings) + "."
    search = policy.get("search")
    if search is not None:
        tail = search["trigger_min_cvar95"]
        tail_text = "never migrating" if tail is None else money(tail, currency)
        text += (
            f" The trigger that minimizes the costliest 5% of outcomes (CVaR95) is "
            f"{tail_text}; both were searched on the run's first {search['paths']:,} paths."
        )
    return text


def value_sentence(result: SimulationResult) -> str:
    """What learning more before deciding is worth: EVPI, and the inputs whose EVPPI
    is largest."""
    currency = result.scenario.currency
    value = result.extra["value_of_information"]
    top = [item for item in value["by_input"] if item["evppi"] > 0][:3]
    text = (
        f"Knowing every input before deciding would save {money(value['evpi'], currency)} "
        "in expectation (EVPI)"
    )
    if not top:
        return (
            text + "; no single input would change the decision on its own, so waiting to "
            "learn one gains little."
        )
    first = top[0]
    text += (
        f". The uncertainty most worth resolving first is {first['input']}: knowing it is "
        f"worth {money(first['evppi'], currency)}"
    )
    if len(top) > 1:
        text += "; then " + ", ".join(
            f"{item['input']} ({money(item['evppi'], currency)})" for item in top[1:]
        )
    return text + "."
