"""Self-hosted open-weight models on rented GPUs, and cloud-managed endpoints.

A cloud-managed endpoint is the same stack with the GPU-hour price raised by
``managed_premium``; scenarios give it fewer engineers, higher uptime, shorter setup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..scenario import Option
from ..special import binomial_counts, poisson_counts
from . import api

__all__ = [
    "Staffing",
    "monthly_costs",
    "replicas_needed",
    "setup_share",
    "staffing",
]

# Demand that lands exactly on a whole number of replicas should not round up to one
# more because of floating-point noise in the division.
_CEIL_SLACK = 1e-9


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
    """
    capacity = replica_tokens_per_s * max_utilization
    if provisioning == "peak":
        needed = np.ceil(demand * peak_to_average / capacity - _CEIL_SLACK)
    else:
        needed = demand / capacity * autoscale_overhead
    return np.maximum(min_replicas, needed) + spare_replicas


def setup_share(setup_months, months: np.ndarray) -> np.ndarray:
    """Share of each month spent in setup (a month partly in setup is split pro rata)."""
    return np.clip(setup_months - months, 0.0, 1.0)


@dataclass(frozen=True)
class Staffing:
    """People costs and vacancies of a team, per path and month."""

    salaries: np.ndarray
    hiring: np.ndarray
    vacant_fte: np.ndarray
    vacant_seats: np.ndarray


def staffing(option: Option, batch: Batch) -> Staffing:
    """Salaries, hiring costs and empty seats under attrition.

    A team of ``engineers`` FTE is ``ceil(engineers)`` seats of equal size. Each month
    every filled seat empties with probability ``1 - (1 - annual_attrition)**(1/12)``;
    an empty seat stays empty for ``vacancy_months`` (a fraction of a month pro rata),
    is covered at ``backfill_cost_multiplier`` times its cost meanwhile, and its
    replacement costs ``hiring_cost_fraction`` of a year's cost. The initial team
    (``initial_hires`` FTE, default the whole team) is hired in the first month.
    """
    shape = batch.volume.shape
    engineers = option.params["engineers"]
    annual = batch.option_value(option, "engineer_annual_cost")
    hiring_fraction = batch.option_value(option, "hiring_cost_fraction")
    hiring = np.zeros(shape)
    hiring[:, 0] = np.broadcast_to(
        option.params["initial_hires"] * hiring_fraction * annual, (shape[0], 1)
    )[:, 0]
    if engineers == 0:
        return Staffing(np.zeros(shape), hiring, np.zeros(shape), np.zeros(shape))

    seats = math.ceil(engineers)
    fte_per_seat = engineers / seats
    monthly_leave = 1.0 - np.power(1.0 - batch.option_value(option, "annual_attrition"), 1 / 12)
    vacancy = np.broadcast_to(batch.option_value(option, "vacancy_months"), (shape[0], 1))[:, 0]
    departures = np.zeros(shape)
    if np.any(monthly_leave > 0):
        departures = _departures(
            batch.streams.uniform(f"{option.path('attrition')}", (shape[1],)),
            seats,
            np.broadcast_to(monthly_leave, (shape[0], 1))[:, 0],
            vacancy,
        )
    vacant_seats = np.zeros(shape)
    for k in range(min(int(np.ceil(vacancy.max(initial=0.0))) + 1, shape[1])):
        share_empty = np.clip(vacancy - k, 0.0, 1.0)[:, None]
        vacant_seats[:, k:] += departures[:, : shape[1] - k] * share_empty
    vacant_fte = vacant_seats * fte_per_seat
    backfill = batch.option_value(option, "backfill_cost_multiplier")
    monthly_cost = annual / 12
    salaries = engineers * monthly_cost + vacant_fte * monthly_cost * (backfill - 1.0)
    hiring = hiring + departures * fte_per_seat * hiring_fraction * annual
    return Staffing(np.broadcast_to(salaries, shape), hiring, vacant_fte, vacant_seats)


def _departures(uniforms, seats: int, monthly_leave, vacancy) -> np.ndarray:
    """Departures per month: a binomial draw over the seats filled at the month's start."""
    paths, months = uniforms.shape
    departures = np.zeros((paths, months))
    longest = int(np.ceil(vacancy.max(initial=0.0)))
    for m in range(months):
        still_empty = np.zeros(paths)
        for k in range(1, min(m, longest) + 1):
            still_empty += departures[:, m - k] * (vacancy > k)
        filled = np.maximum(seats - still_empty, 0.0)
        departures[:, m] = binomial_counts(uniforms[:, m], filled, monthly_leave)
    return departures


def _upgrades(option: Option, batch: Batch, serving: np.ndarray) -> np.ndarray:
    """Model upgrades adopted each month: Poisson with mean ``serving / interval``."""
    path = option.path("upgrade_interval_months")
    if path not in batch.scenario.quantities:
        return np.zeros(batch.volume.shape)
    rate = serving / batch.value(path)
    uniforms = batch.streams.uniform(f"{option.path('upgrades')}", (batch.volume.shape[1],))
    return poisson_counts(uniforms, rate)


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

    escalation = value(option, "escalation_rate")
    weighted_tokens = batch.value("workload.input_tokens_per_request") * value(
        option, "input_token_weight"
    ) + batch.value("workload.output_tokens_per_request")
    demand = volume * (1.0 - escalation) * weighted_tokens / (hours * 3600)
    replicas = replicas_needed(
        demand,
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
        * np.power(1.0 + value(option, "annual_gpu_price_change"), months / 12)
    )
    in_setup = setup_share(value(option, "setup_months"), months)
    serving = 1.0 - in_setup

    serving_gpu_hours = replicas * params["gpus_per_replica"] * hours
    team = staffing(option, batch)
    upgrades = _upgrades(option, batch, serving)
    overlap_days = value(option, "upgrade_overlap_days")
    overlap_gpu_hours = upgrades * overlap_days * 24 * replicas * params["gpus_per_replica"]
    gpus = (
        serving * serving_gpu_hours + in_setup * params["setup_gpus"] * hours + overlap_gpu_hours
    ) * gpu_hourly
    upgrade_effort = (
        upgrades
        * value(option, "upgrade_effort_engineer_months")
        * value(option, "engineer_annual_cost")
        / 12
    )

    setup_months = np.broadcast_to(value(option, "setup_months"), (volume.shape[0], 1))
    first_month = (months == 0).astype(float)
    # Broadcast to (paths, months) first: a fixed setup_months gives in_setup shape (months,).
    spread = np.divide(
        np.broadcast_to(in_setup, volume.shape),
        setup_months,
        out=np.broadcast_to(first_month, volume.shape).copy(),
        where=setup_months > 0,
    )
    setup = spread * value(option, "setup_cost_usd")

    uptime = np.clip(
        value(option, "uptime") - value(option, "vacancy_uptime_drop") * team.vacant_seats, 0.0, 1.0
    )
    unserved = in_setup + serving * (1.0 - uptime)
    fallback_name = params["fallback"]
    if fallback_name is not None:
        fallback_option = scenario.options[fallback_name]
        share = in_setup + serving * (escalation + (1.0 - escalation) * (1.0 - uptime))
        fallback = share * api.traffic_cost(fallback_option, batch, volume)
        downtime = np.zeros_like(fallback)
    else:
        fallback = np.zeros(volume.shape)
        downtime = unserved * hours * batch.value("business.downtime_cost_per_hour")

    full = batch.full
    return {
        "gpus": full(gpus),
        "infra": full(value(option, "infra_monthly_usd")),
        "people": full(team.salaries),
        "hiring": team.hiring,
        "setup": full(setup),
        "upgrades": full(upgrade_effort),
        "fallback": full(fallback),
        "downtime": full(downtime),
    }
