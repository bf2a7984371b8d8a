"""Per-token APIs: frontier closed models, or open-weight models hosted by a provider,
priced as they are billed: list, cached-input and batch-tier prices, a committed spend,
the quality gap of escalations to a fallback, and the weeks of moving traffic over."""

from __future__ import annotations

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from .lifecycle import first_month_cost, is_zero, setup_share
from .outages import outage

__all__ = ["committed_bill", "monthly_costs", "serving_share", "traffic_cost"]


def traffic_cost(option: Option, batch: Batch, volume: np.ndarray) -> np.ndarray:
    """Token charges for ``volume`` requests a month, with the price trend applied.

    ``V_t * (in_tok * ((1 - cs) * in_price + cs * cached_price) + out_tok * out_price)
    / 1e6 * (1 - bs * batch_discount) * (1 + annual_price_change)**(t/12)``, with
    ``cs = cached_input_share`` and ``bs = batch_share``. This is all a fallback bills.

    On the batch's own volume the charges are worked out once per batch (the option
    itself and every option falling back to it ask for them), so the result must not
    be written to.
    """
    if volume is batch.volume:
        return batch.cached(f"traffic:{option.name}", lambda: _charges(option, batch, volume))
    return _charges(option, batch, volume)


def _charges(option: Option, batch: Batch, volume: np.ndarray) -> np.ndarray:
    return volume * batch.cached(f"price:{option.name}", lambda: _price_per_request(option, batch))


def _price_per_request(option: Option, batch: Batch):
    """Each month's price of one request (a fallback or a hybrid route asks again)."""
    value = batch.option_value
    in_tokens = batch.value("workload.input_tokens_per_request")
    out_tokens = batch.value("workload.output_tokens_per_request")
    in_price = value(option, "input_price_per_mtok")
    cached = value(option, "cached_input_share")
    if not is_zero(cached):
        cached_price = value(option, "cached_input_price_per_mtok")
        in_price = (1.0 - cached) * in_price + cached * cached_price
    out_price = value(option, "output_price_per_mtok")
    per_request = (in_tokens * in_price + out_tokens * out_price) / 1e6
    batched = value(option, "batch_share")
    if not is_zero(batched):
        per_request = per_request * (1.0 - batched * value(option, "batch_discount"))
    return per_request * batch.trend(option.path("annual_price_change"))


def serving_share(option: Option, batch: Batch, begin=None):
    """Share of each month the option serves its traffic: none during its first
    ``migration_months`` (counted from month 0, or per path from ``begin``), a month
    partly in migration pro rata; the number 1 when there is no migration."""
    migration = batch.option_value(option, "migration_months")
    if begin is None:
        return 1.0 if is_zero(migration) else 1.0 - setup_share(migration, batch.months)
    age = batch.months - begin
    alive = (age >= 0).astype(float)
    if is_zero(migration):
        return alive
    return alive - np.where(age >= 0, setup_share(migration, age), 0.0)


def monthly_costs(
    option: Option, batch: Batch, volume: np.ndarray, *, start=None
) -> dict[str, np.ndarray]:
    """Monthly cost of an ``api`` option by component, each in the smallest shape that
    broadcasts to (months, paths).

    ``traffic`` is what the option bills for the ``1 - escalation_rate`` of the traffic
    it serves (discounted by ``commit_discount`` during a commitment); ``commitment``
    the part of ``committed_monthly_usd`` left unused; ``fees`` the monthly fee;
    ``fallback`` the fallback's bill for ``escalation + (1 - escalation) * (1 -
    uptime)`` of the traffic, or without a fallback ``downtime`` for the hours down
    (with incidents, the month's own uptime, and the failover minutes of each incident
    are downtime even with a fallback: :mod:`.outages`).
    While traffic moves over (``migration_months``) the option bills nothing; an option
    that is not the baseline is moved to from month 1, and the baseline serves and
    bills its traffic meanwhile (``baseline_traffic``); ``migration`` is the one-off
    ``migration_cost_usd``, in the month the move begins. The fee and the commitment
    start when the option starts serving.

    ``start`` (per path, the 0-based month a staged policy moves to this option) begins
    the option's life there instead: before it the option bills nothing, and the
    policy's first stage, not the baseline, serves during the move.
    """
    scenario = batch.scenario
    value = batch.option_value
    moving = start is not None or option.name != scenario.baseline
    serving = serving_share(option, batch, start) if moving else 1.0
    escalation = value(option, "escalation_rate")
    served = traffic_cost(option, batch, volume)
    if not is_zero(escalation):
        served = served * (1.0 - escalation)
    costs = committed_bill(option, batch, served, serving, start)
    costs["fees"] = _times(value(option, "monthly_fee"), serving)
    down = outage(option, batch)
    fallback = option.params.get("fallback")
    if fallback is not None:
        share = escalation + (1.0 - escalation) * (down.down - down.failover)
        if not is_zero(share):
            carried = traffic_cost(scenario.options[fallback], batch, volume)
            costs["fallback"] = _times(carried * share, serving)
        unserved = down.failover
    else:
        unserved = down.down
    if fallback is None or not is_zero(unserved):
        downtime_hours = unserved * scenario.hours_per_month
        costs["downtime"] = _times(
            downtime_hours * batch.value("business.downtime_cost_per_hour"), serving
        )
    if start is None and moving and not (isinstance(serving, float) and serving == 1.0):
        base = scenario.options[scenario.baseline]
        costs["baseline_traffic"] = traffic_cost(base, batch, volume) * (1.0 - serving)
    if moving:
        first = None if start is None else batch.months == start
        one_off = first_month_cost(value(option, "migration_cost_usd"), batch.shape, first)
        if not is_zero(one_off):
            costs["migration"] = one_off
    return costs


def committed_bill(option: Option, batch: Batch, served, serving, start) -> dict[str, np.ndarray]:
    """``traffic`` (and ``commitment``, the unused part of a committed spend) for the
    served share of each month.

    A commitment covers ``commit_months`` whole months from the first month the option
    serves in full: in them the bill is ``max(committed_monthly_usd, usage * (1 -
    commit_discount))``.
    """
    committed = batch.option_value(option, "committed_monthly_usd")
    if is_zero(committed):
        return {"traffic": _times(served, serving)}
    window = _commitment_window(option, batch, start)
    usage = _times(served, serving)
    discounted = usage * (1.0 - batch.option_value(option, "commit_discount"))
    billed = np.where(window, discounted, usage)
    unused = np.where(window, np.maximum(committed - discounted, 0.0), 0.0)
    return {"traffic": billed, "commitment": unused}


def _commitment_window(option: Option, batch: Batch, start) -> np.ndarray:
    """Per month and path, whether the month is in the commitment: ``commit_months``
    whole months (the horizon when not given) from the first month served in full."""
    length = option.params.get("commit_months") or batch.scenario.horizon_months
    migration = batch.option_value(option, "migration_months")
    if start is None and option.name == batch.scenario.baseline:
        migration = 0.0
    first = np.ceil(migration + (0.0 if start is None else start))
    return (batch.months >= first) & (batch.months < first + length)


def _times(cost, share):
    """``cost * share``, skipping the product when the share is the number 1."""
    if isinstance(share, float) and share == 1.0:
        return cost
    return cost * share
