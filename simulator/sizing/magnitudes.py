"""Can a scenario's numbers overflow? A typical path (every input at its median),
projected over the horizon before any path is run.

When even its costs pass :data:`~simulator.engine.tally.MAX_COST` (growth, a price
trend or a discount rate compounding over a long horizon), the scenario is refused at
once, with the values that compound and their keys, rather than after a batch of
paths.
"""

from __future__ import annotations

import math

import numpy as np

from ..scenario.capacity import request_work
from ..scenario.errors import ScenarioError
from ..scenario.model import Option, Scenario

__all__ = ["check_magnitudes"]

_LOG_MAX_FLOAT = math.log(np.finfo(float).max)


def _median(scenario: Scenario, key: str) -> float:
    dist = scenario.quantities.get(key)
    if dist is None:
        return 0.0
    return float(np.asarray(dist.ppf(np.array([0.5])), dtype=float)[0])


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def _trend(scenario: Scenario, key: str, months: np.ndarray) -> tuple[np.ndarray, float]:
    """Log of a yearly price trend in each month, and the change (median)."""
    change = _median(scenario, key)
    return months / 12 * math.log1p(change), change


def _log_cost_floor(
    scenario: Scenario, option: Option, months: np.ndarray, log_volume: np.ndarray
) -> tuple[np.ndarray, str | None] | None:
    """Log of a lower bound of an option's monthly cost on the typical path, and the
    key of its price trend; ``None`` for kinds that are bounded through others."""
    med = lambda key: _median(scenario, key)  # noqa: E731
    tokens_in = med("workload.input_tokens_per_request")
    tokens_out = med("workload.output_tokens_per_request")
    if option.kind == "api":
        cached = med(option.path("cached_input_share"))
        in_price = med(option.path("input_price_per_mtok"))
        if cached > 0:
            in_price = (1 - cached) * in_price + cached * med(
                option.path("cached_input_price_per_mtok")
            )
        billed = 1 - med(option.path("batch_share")) * med(option.path("batch_discount"))
        served = 1 - med(option.path("escalation_rate"))
        per_request = (
            (tokens_in * in_price + tokens_out * med(option.path("output_price_per_mtok")))
            / 1e6
            * billed
            * served
        )
        key = option.path("annual_price_change")
        trend, _ = _trend(scenario, key, months)
        return log_volume + _log(per_request) + trend, key
    if option.kind in ("self_hosted", "cloud_managed"):
        # GPUs for the average load alone (no peak, no headroom, no whole replicas),
        # once the stack serves: far below what the option pays.
        tokens, rate = request_work(
            option, scenario.quantities, lambda k: med(option.path(k)), tokens_in, tokens_out
        )
        throughput = rate * 3600 * scenario.hours_per_month
        hourly = med(option.path("gpu_hourly_usd")) * option.params["gpus_per_replica"]
        per_request = tokens / throughput * hourly * scenario.hours_per_month
        key = option.path("annual_gpu_price_change")
        trend, _ = _trend(scenario, key, months)
        serving = months >= med(option.path("setup_months"))
        floor = log_volume + _log(per_request) + trend
        return np.where(serving, floor, -math.inf), key
    return None


def _logsumexp(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.inf if np.isposinf(values).any() else -math.inf
    top = float(finite.max())
    if np.isposinf(values).any():
        return math.inf
    return top + math.log(float(np.exp(finite - top).sum()))


def _g(x: float) -> str:
    return f"{x:.3g}"


def check_magnitudes(scenario: Scenario) -> None:
    """Refuse a scenario whose typical path overflows, before any path is run.

    The typical path takes every input at its median: volume
    ``requests_per_month * volume_realization * (1 + monthly_growth *
    growth_realization)**t``, each API's price per request with its yearly trend,
    and, for self-hosted and cloud-managed options, the GPUs the average load needs
    once set up (a lower bound of what they pay). If that volume overflows a float,
    or an option's total or discounted cost on that path passes
    :data:`~simulator.engine.tally.MAX_COST`, the run could not give an answer: most paths
    would fail the same check while it went.

    Parameters
    ----------
    scenario
        A validated scenario.

    Raises
    ------
    ScenarioError
        Naming the key that compounds most (``workload.monthly_growth``, a price
        trend, ``scenario.discount_rate``, else the option), the values involved and
        why.
    """
    from ..engine.tally import MAX_COST

    horizon = scenario.horizon_months
    months = np.arange(horizon, dtype=float)
    rpm = _median(scenario, "workload.requests_per_month")
    realization = _median(scenario, "workload.volume_realization")
    rate = _median(scenario, "workload.monthly_growth")
    growth_realization = _median(scenario, "workload.growth_realization")
    growth = rate * growth_realization
    log_level = _log(rpm * realization)
    log_growth = math.log1p(growth)
    log_volume = log_level + months * log_growth
    last = horizon - 1
    volume_words = (
        f"requests grow from {_g(rpm * realization)} a month to "
        f"{_g(math.exp(min(log_volume[-1], _LOG_MAX_FLOAT)))}"
        + (" (beyond any float)" if log_volume[-1] > _LOG_MAX_FLOAT else "")
        + f" by month {horizon} (workload.monthly_growth = {_g(rate)} times "
        f"workload.growth_realization = {_g(growth_realization)}, compounded over "
        f"scenario.horizon_months = {horizon})"
    )
    hint = "shorten scenario.horizon_months or lower the growth"
    if log_volume[-1] > _LOG_MAX_FLOAT - math.log(1e6):
        raise ScenarioError(
            f"on a typical path (every input at its median) {volume_words}: too large to "
            f"compute with; {hint}",
            key="workload.monthly_growth",
            file=scenario.source,
        )
    log_discount = -months / 12 * math.log1p(scenario.discount_rate)
    limit = math.log(MAX_COST)
    for option in scenario.options.values():
        floor = _log_cost_floor(scenario, option, months, log_volume)
        if floor is None:
            continue
        log_cost, trend_key = floor
        total = _logsumexp(log_cost)
        npv = _logsumexp(log_cost + log_discount)
        if max(total, npv) <= limit:
            continue
        # What compounds, in log terms over the horizon, and the key to blame.
        change = _median(scenario, trend_key) if trend_key else 0.0
        drivers = {
            "workload.monthly_growth": last * log_growth,
            trend_key: last / 12 * math.log1p(change),
        }
        discounted = npv > total
        if discounted:
            drivers["scenario.discount_rate"] = log_discount[-1]
        key, size = max(drivers.items(), key=lambda kv: kv[1])
        what = "discounted cost" if discounted else "cost"
        reached = math.exp(min(max(total, npv), _LOG_MAX_FLOAT))
        head = (
            f"on a typical path (every input at its median) the {what} of option "
            f"'{option.name}' reaches at least {_g(reached)} over {horizon} months, beyond "
            f"the {MAX_COST:.0e} this simulator can add up"
        )
        if size < math.log(1e3):
            key = f"options.{option.name}"
            why = (
                f"its prices and the volume ({_g(rpm * realization)} requests a month) "
                "are too large together"
            )
            advice = "check the units of volumes, tokens and prices"
        elif key == "workload.monthly_growth":
            why, advice = volume_words, hint
        elif key == "scenario.discount_rate":
            why = (
                f"scenario.discount_rate = {_g(scenario.discount_rate)} weighs month "
                f"{horizon} by {_g(math.exp(min(log_discount[-1], _LOG_MAX_FLOAT)))}"
            )
            advice = "use a discount rate nearer 0 or a shorter horizon"
        else:
            factor = math.exp(min(last / 12 * math.log1p(change), _LOG_MAX_FLOAT))
            why = f"{key} = {_g(change)} multiplies its price by {_g(factor)} by month {horizon}"
            advice = "lower the price trend or shorten the horizon"
        raise ScenarioError(f"{head}: {why}; {advice}", key=key, file=scenario.source)
