"""What the stress test, break-even volume and sensitivity analysis (with
``--stress``) find, in sentences (pure functions, no I/O): the titles of their charts,
the report's sections on them and the verdict's last sentences.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...decide.summary import SimulationResult
from ...scenario.numbers import count, money, share
from ...scenario.text import printable_result
from .audit import paths_share

__all__ = [
    "breakeven_reason",
    "breakeven_sentence",
    "breakeven_sentences",
    "sensitivity_rivals",
    "sensitivity_sentence",
    "stress_rivals",
    "stress_sentence",
]


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


@printable_result
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


@printable_result
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


@printable_result
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


@printable_result
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


@printable_result
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
