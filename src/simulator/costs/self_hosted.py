"""Self-hosted open-weight models on rented GPUs, and cloud-managed endpoints.

A cloud-managed endpoint is the same stack with the GPU-hour price raised by
``managed_premium``; scenarios give it fewer engineers, higher uptime, shorter setup.

Every component is returned in the smallest shape that broadcasts to
``(months, paths)``: a constant stays a number, a per-path cost a row, so the
engine does not pay for arrays of zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..scenario import Option
from ..special import binomial_counts, poisson_counts
from . import api

__all__ = ["Staffing", "monthly_costs", "replicas_needed", "setup_share", "staffing"]

# Demand that lands exactly on a whole number of replicas should not round up to one
# more because of floating-point noise in the division.
_CEIL_SLACK = 1e-9


def _zero(x) -> bool:
    """Whether ``x`` is a plain number equal to zero (arrays are never taken as zero)."""
    return not isinstance(x, np.ndarray) and x == 0


def replicas_needed(
    demand,
    *,
    peak_to_average,
    replica_tokens_per_s,
    max_utilization,
    min_replicas: int,
    spare_replicas: int,
    provisioning: str,
    autoscale_overhead=1.2,
) -> np.ndarray:
    """Replicas running in a month for an average ``demand`` in weighted tokens/s.

    Peak provisioning rounds up to whole replicas sized for the peak hour; autoscale
    follows the average demand with an overhead and is not rounded (a month's average).
    ``demand`` may be overwritten.
    """
    capacity = replica_tokens_per_s * max_utilization
    if provisioning == "peak":
        needed = np.multiply(demand, peak_to_average / capacity, out=demand)
        needed -= _CEIL_SLACK
        np.ceil(needed, out=needed)
    else:
        needed = np.multiply(demand, autoscale_overhead / capacity, out=demand)
    np.maximum(needed, min_replicas, out=needed)
    if spare_replicas:
        needed += spare_replicas
    return needed


def setup_share(setup_months, months: np.ndarray):
    """Share of each month spent in setup (a month partly in setup is split pro rata);
    the number 0 when there is no setup."""
    if _zero(setup_months):
        return 0.0
    return np.clip(setup_months - months, 0.0, 1.0)


@dataclass(frozen=True)
class Staffing:
    """People costs and vacancies of a team (each broadcasts to paths x months)."""

    salaries: np.ndarray | float
    hiring: np.ndarray | float
    vacant_seats: np.ndarray | float


def _first_month(values, shape: tuple[int, int]):
    """A cost paid in the first month only, as an array; 0 when there is none."""
    if _zero(values):
        return 0.0
    out = np.zeros(shape)
    out[0] = values
    return out


def staffing(option: Option, batch: Batch) -> Staffing:
    """Salaries, hiring costs and empty seats under attrition.

    A team of ``engineers`` FTE is ``ceil(engineers)`` seats of equal size. Each month
    every filled seat empties with probability ``1 - (1 - annual_attrition)**(1/12)``;
    an empty seat stays empty for ``vacancy_months`` (a fraction of a month pro rata),
    is covered at ``backfill_cost_multiplier`` times its cost meanwhile, and its
    replacement costs ``hiring_cost_fraction`` of a year's cost. The initial team
    (``initial_hires`` FTE, default the whole team) is hired in the first month.
    """
    shape = batch.shape
    value = batch.option_value
    engineers = option.params["engineers"]
    annual = value(option, "engineer_annual_cost")
    hiring_fraction = value(option, "hiring_cost_fraction")
    initial = _first_month(option.params["initial_hires"] * hiring_fraction * annual, shape)
    attrition = value(option, "annual_attrition")
    if engineers == 0:
        return Staffing(0.0, initial, 0.0)
    salaries = engineers * annual / 12
    if _zero(attrition):
        return Staffing(salaries, initial, 0.0)

    seats = math.ceil(engineers)
    fte_per_seat = engineers / seats
    monthly_leave = 1.0 - np.power(1.0 - attrition, 1 / 12)
    vacancy = np.broadcast_to(value(option, "vacancy_months"), (batch.size,))
    departures = _departures(
        batch.monthly_uniforms(option.path("attrition")),
        seats,
        np.broadcast_to(monthly_leave, (batch.size,)),
        vacancy,
    )
    months = shape[0]
    vacant_seats = np.zeros(shape)
    for k in range(min(int(np.ceil(vacancy.max(initial=0.0))) + 1, months)):
        share_empty = np.clip(vacancy - k, 0.0, 1.0)
        vacant_seats[k:] += departures[: months - k] * share_empty
    backfill = value(option, "backfill_cost_multiplier")
    salaries = salaries + vacant_seats * (fte_per_seat * annual / 12 * (backfill - 1.0))
    hiring = initial + departures * (fte_per_seat * hiring_fraction * annual)
    return Staffing(salaries, hiring, vacant_seats)


def _departures(uniforms, seats: int, monthly_leave, vacancy) -> np.ndarray:
    """Departures per month, ``(months, paths)``: a binomial draw over the seats filled
    at the month's start (see :func:`_binomial_few`)."""
    months, paths = uniforms.shape
    departures = np.zeros((months, paths))
    longest = int(np.ceil(vacancy.max(initial=0.0)))
    # Per path, constant over the months: which past departures still hold a seat
    # empty k months on, and the chance that none of j filled seats empties.
    still_out = [(vacancy > k).astype(float) for k in range(longest + 1)]
    stay = np.stack([np.power(1.0 - monthly_leave, j) for j in range(seats + 1)])
    ratio = np.divide(
        monthly_leave, 1.0 - monthly_leave, out=np.zeros(paths), where=monthly_leave < 1
    )
    for m in range(months):
        still_empty = np.zeros(paths)
        for k in range(1, min(m, longest) + 1):
            still_empty += departures[m - k] * still_out[k]
        filled = np.maximum(seats - still_empty, 0.0)
        departures[m] = _binomial_few(uniforms[m], filled, monthly_leave, stay, ratio)
    return departures


def _binomial_few(u, filled, leave, stay, ratio) -> np.ndarray:
    """Binomial inverse CDF for a month's departures, where 0 or 1 is the usual answer.

    The first two terms of :func:`~simulator.special.binomial_counts`, with the very
    same arithmetic, for every path at once; the rare paths past them are handed to
    it whole. ``stay[j]`` is ``(1 - leave)**j`` and ``ratio`` is ``leave / (1 - leave)``.
    """
    seats = stay.shape[0] - 1
    none = stay[seats].copy()  # most months every seat is filled
    short = np.flatnonzero(filled < seats)
    none[short] = stay[filled[short].astype(np.intp), short]
    one = none + none * filled / 1 * ratio
    counts = ((u > none) & (filled > 0)).astype(float)
    beyond = np.flatnonzero((u > one) & (counts > 0) & (filled > 1) & (one > none))
    if beyond.size:
        counts[beyond] = binomial_counts(u[beyond], filled[beyond], leave[beyond], none[beyond])
    counts[leave >= 1.0] = filled[leave >= 1.0]
    return counts


def _upgrades(option: Option, batch: Batch, serving) -> np.ndarray | None:
    """Model upgrades adopted each month: Poisson with mean ``serving / interval``;
    ``None`` when the option adopts none."""
    path = option.path("upgrade_interval_months")
    if path not in batch.scenario.quantities:
        return None
    rate = np.broadcast_to(serving / batch.value(path), batch.shape)
    return poisson_counts(batch.monthly_uniforms(option.path("upgrades")), rate)


def _spread_setup_cost(option: Option, batch: Batch, in_setup):
    """The one-off build cost, spread evenly over the setup period (all in the first
    month when there is none)."""
    cost = batch.option_value(option, "setup_cost_usd")
    if _zero(cost):
        return 0.0
    if _zero(in_setup):
        return _first_month(cost, batch.shape)
    setup_months = np.broadcast_to(batch.option_value(option, "setup_months"), (batch.size,))
    first_month = np.broadcast_to((batch.months == 0).astype(float), batch.shape)
    spread = np.divide(
        np.broadcast_to(in_setup, batch.shape),
        setup_months,
        out=first_month.copy(),
        where=setup_months > 0,
    )
    return spread * cost


def monthly_costs(option: Option, batch: Batch, volume: np.ndarray) -> dict[str, np.ndarray]:
    """Monthly cost of a ``self_hosted`` or ``cloud_managed`` option, by component.

    Components: ``gpus`` (serving, setup and blue-green overlap GPUs), ``infra``,
    ``people`` (salaries and backfill), ``hiring``, ``setup`` (the one-off build, spread
    over the setup period), ``upgrades`` (engineering effort), ``fallback`` (traffic the
    fallback API serves during setup, downtime and escalations) and ``downtime``
    (unserved hours, when there is no fallback).
    """
    scenario = batch.scenario
    params = option.params
    value = batch.option_value
    hours = scenario.hours_per_month
    months = batch.months
    gpus_per_replica = params["gpus_per_replica"]

    escalation = value(option, "escalation_rate")
    weighted_tokens = batch.value("workload.input_tokens_per_request") * value(
        option, "input_token_weight"
    ) + batch.value("workload.output_tokens_per_request")
    replicas = replicas_needed(
        volume * ((1.0 - escalation) * weighted_tokens / (hours * 3600)),
        peak_to_average=batch.value("workload.peak_to_average"),
        replica_tokens_per_s=value(option, "replica_tokens_per_s"),
        max_utilization=value(option, "max_utilization"),
        min_replicas=params["min_replicas"],
        spare_replicas=params["spare_replicas"],
        provisioning=params["provisioning"],
        autoscale_overhead=value(option, "autoscale_overhead"),
    )
    premium = value(option, "managed_premium") if option.kind == "cloud_managed" else 0.0
    gpu_hourly = (
        value(option, "gpu_hourly_usd")
        * (1.0 + premium)
        * batch.trend(option.path("annual_gpu_price_change"))
    )
    in_setup = setup_share(value(option, "setup_months"), months)
    serving = 1.0 - in_setup
    team = staffing(option, batch)
    upgrades = _upgrades(option, batch, serving)

    # GPU-hours: serving replicas (all month, or the part after setup), setup GPUs,
    # and each upgrade's blue-green overlap on the serving replicas.
    gpu_hours = replicas
    if upgrades is not None:
        overlap_days = value(option, "upgrade_overlap_days")
        gpu_hours = gpu_hours * (serving * hours + upgrades * (overlap_days * 24))
        upgrade_effort = (
            upgrades
            * (
                value(option, "upgrade_effort_engineer_months")
                * value(option, "engineer_annual_cost")
            )
            / 12
        )
    else:
        gpu_hours *= serving * hours
        upgrade_effort = 0.0
    if not _zero(in_setup):
        gpu_hours += in_setup * (params["setup_gpus"] / gpus_per_replica * hours)
    gpus = gpu_hours
    gpus *= gpus_per_replica * gpu_hourly

    uptime = value(option, "uptime")
    if not _zero(team.vacant_seats):
        uptime = np.clip(uptime - value(option, "vacancy_uptime_drop") * team.vacant_seats, 0, 1)
    fallback, downtime = 0.0, 0.0
    fallback_name = params["fallback"]
    if fallback_name is not None:
        share = in_setup + serving * (escalation + (1.0 - escalation) * (1.0 - uptime))
        if not _zero(share):
            traffic = api.traffic_cost(scenario.options[fallback_name], batch, volume)
            fallback = traffic * share
    else:
        unserved = in_setup + serving * (1.0 - uptime)
        downtime_cost = batch.value("business.downtime_cost_per_hour")
        if not (_zero(unserved) or _zero(downtime_cost)):
            downtime = unserved * (hours * downtime_cost)

    return {
        "gpus": gpus,
        "infra": value(option, "infra_monthly_usd"),
        "people": team.salaries,
        "hiring": team.hiring,
        "setup": _spread_setup_cost(option, batch, in_setup),
        "upgrades": upgrade_effort,
        "fallback": fallback,
        "downtime": downtime,
    }
