"""The words at the top of a report (pure functions, no I/O).

:func:`decision_paragraphs` say what to choose and why, when a staged policy migrates
and what knowing more before deciding is worth; :func:`verdict` says which option is
cheapest how often and how each other option fares against the baseline.
"""

from __future__ import annotations

from ...decide.summary import SimulationResult
from ...scenario.numbers import money, share
from ...scenario.text import printable_result
from .audit import paths_share
from .stress import breakeven_sentence, stress_sentence

__all__ = [
    "SURE",
    "decision_paragraphs",
    "policy_sentence",
    "reservation_sentence",
    "value_sentence",
    "verdict",
]

SURE = 0.99
"""Options cheaper than the baseline on at least this share of paths, from the first
year on, are summed up together in the verdict."""


@printable_result
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


@printable_result
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
    paragraphs.extend(
        reservation_sentence(result, n)
        for n, o in result.options.items()
        if o.reserved_search is not None
    )
    if "value_of_information" in extra:
        paragraphs.append(value_sentence(result))
    return paragraphs


def _staged(result: SimulationResult) -> list[str]:
    return [n for n, o in result.options.items() if o.policy is not None]


@printable_result
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


@printable_result
def reservation_sentence(result: SimulationResult, name: str) -> str:
    """How many GPUs stack ``name`` reserves, as its search found, and what that saves
    against renting them all by the hour, on the paths searched."""
    currency = result.scenario.currency
    option = result.options[name]
    search = option.reserved_search
    months = result.scenario.options[name].params["reserved_months"]
    term = f"for {months} months from when it first serves" if months else "to the horizon"
    count = option.reserved_gpus
    means = {c["reserved_gpus"]: c["mean"] for c in search["candidates"]}
    text = (
        f"{option.label}: reserve {count:,} GPU{'s' if count != 1 else ''} {term}, the "
        f"count with the lowest expected total cost of the {len(means)} tried on the "
        f"run's first {search['paths']:,} paths"
    )
    if count:
        saving = means[0] - means[count]
        text += f"; it saves {money(saving, currency)} in expectation against none reserved"
    tail = search["reserved_min_cvar95"]
    if tail != count:
        text += (
            f". Reserving {tail:,} would lower the mean of the costliest 5% of outcomes "
            "(CVaR95) the most"
        )
    return text + "."


@printable_result
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
