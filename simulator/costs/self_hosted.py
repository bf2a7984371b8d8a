"""Self-hosted open-weight models on rented GPUs, and cloud-managed endpoints.

A cloud-managed endpoint is the same stack with the GPU-hour price raised by
``managed_premium``; scenarios give it fewer engineers, higher uptime, shorter setup.
The parts every stack shares are public helpers, which the owned-GPU model
(:mod:`.on_prem`) reuses: replicas, fallback and downtime here, a life that may begin
mid-horizon, upgrades and the build in :mod:`.lifecycle`, the team in :mod:`.team`.

Every component is returned in the smallest shape that broadcasts to
``(months, paths)``: a constant stays a number, a per-path cost a row, so the
engine does not pay for arrays of zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..paths.batch import Batch
from ..scenario.capacity import request_work
from ..scenario.model import Option
from . import api
from .hourly import mean_over_hours
from .lifecycle import Lifecycle, is_zero, lifecycle, setup_cost, upgrade_costs
from .outages import outage
from .registry import per_path_total
from .rental import rent, rents_on_demand_only, replica_price
from .team import Staffing, team_for

__all__ = [
    "monthly_costs",
    "replicas_needed",
    "needed_gpus",
    "serving_replicas",
    "totals_by_reservation",
    "unserved_costs",
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


@dataclass(frozen=True)
class HourlyLoad:
    """An autoscaled stack's replicas hour by hour over the workload's load profile:
    ``max(floor, level + scale * profile_h) + spares`` in hour ``h`` of a month
    (``level`` and ``scale`` broadcast to ``(months, paths)``)."""

    floor: float
    level: np.ndarray | float
    scale: np.ndarray | float
    spares: int
    profile: tuple[float, ...]

    def mean_above(self, reserved) -> np.ndarray:
        """Each month's mean over the hours of ``max(replicas_h, reserved)``."""
        floor = np.maximum(self.floor, np.asarray(reserved) - self.spares)
        return mean_over_hours(floor, self.level, self.scale, self.profile) + self.spares


def peak_to_average(batch: Batch):
    """The peak a stack provisions for without a load profile: ``s + (1 - s) * P``
    for ``P = peak_to_average`` and ``s = deferrable_share``."""
    peak = batch.value("workload.peak_to_average")
    deferrable = batch.value("workload.deferrable_share")
    return peak if is_zero(deferrable) else deferrable + (1.0 - deferrable) * peak


def _work(option: Option, batch: Batch):
    """A request's work on stack ``option`` and the work a replica does a second (see
    :func:`~simulator.scenario.capacity.request_work`)."""
    return request_work(
        option,
        batch.scenario.quantities,
        lambda key: batch.option_value(option, key),
        batch.value("workload.input_tokens_per_request"),
        batch.value("workload.output_tokens_per_request"),
    )


def average_demand(option: Option, batch: Batch, volume: np.ndarray) -> np.ndarray:
    """A stack's average demand each month in weighted tokens (or replica-seconds) per
    second, ``V_t * (1 - escalation_rate) * work / (hours_per_month * 3600)``."""
    work, _ = _work(option, batch)
    escalation = batch.option_value(option, "escalation_rate")
    return volume * ((1.0 - escalation) * work / (batch.scenario.hours_per_month * 3600))


def serving_replicas(option: Option, batch: Batch, volume: np.ndarray, *, hourly=False):
    """Replicas a stack option runs each month for ``volume``, and its escalation rate.

    Demand in weighted tokens per second, ``d_t = V_t * (1 - escalation_rate) *
    (in_tok * input_token_weight + out_tok) / (hours_per_month * 3600)``, is turned
    into replicas by :func:`replicas_needed`. A stack given prefill and decode rates
    asks ``in_tok / prefill_tokens_per_s + out_tok / decode_tokens_per_s``
    replica-seconds a request instead, of replicas that deliver one a second (see
    :func:`~simulator.scenario.capacity.request_work`).

    With a load profile, the load of hour ``h`` is ``s + (1 - s) * profile_h *
    within_hour_burst`` (``s = deferrable_share``): peak provisioning sizes for the
    highest hour, autoscale follows the hours, ``min_replicas`` a floor in each (see
    :mod:`.hourly`). Without one, ``s`` turns ``peak_to_average`` ``P`` into
    ``s + (1 - s) * P``.

    Returns
    -------
    replicas
        ``(months, paths)``, a fresh array the caller may overwrite: the month's mean.
    escalation
        ``escalation_rate``: a number or a per-path array.
    hourly
        With ``hourly=True`` only: the :class:`HourlyLoad` of an autoscaled stack with
        a load profile, else ``None``.
    """
    params = option.params
    value = batch.option_value
    escalation = value(option, "escalation_rate")
    _, rate = _work(option, batch)
    # Owned GPUs are always provisioned for peak and have no autoscale_overhead key.
    autoscale = params["provisioning"] == "autoscale"
    overhead = value(option, "autoscale_overhead") if autoscale else 1.2
    profile = batch.scenario.load_profile
    load = None
    if batch.pooled is not None:  # several workloads: their pooled demand and peak
        demand, peak = batch.pooled(option)
    elif profile is None:
        demand, peak = average_demand(option, batch, volume), peak_to_average(batch)
    else:
        demand = average_demand(option, batch, volume)
        deferrable = batch.value("workload.deferrable_share")
        burst = batch.value("workload.within_hour_burst") * (1.0 - deferrable)
        peak = deferrable + burst * max(profile)
        if autoscale:
            per_load = np.multiply(demand, overhead / (rate * value(option, "max_utilization")))
            load = HourlyLoad(
                float(params["min_replicas"]),
                per_load * deferrable,
                per_load * burst,
                params["spare_replicas"],
                profile,
            )
    if load is not None:
        replicas = load.mean_above(0.0)
    else:
        replicas = replicas_needed(
            demand,
            peak_to_average=peak,
            replica_tokens_per_s=rate,
            max_utilization=value(option, "max_utilization"),
            min_replicas=params["min_replicas"],
            spare_replicas=params["spare_replicas"],
            provisioning=params["provisioning"],
            autoscale_overhead=overhead,
        )
    return (replicas, escalation, load) if hourly else (replicas, escalation)


def unserved_costs(
    option: Option,
    batch: Batch,
    volume: np.ndarray,
    life: Lifecycle,
    team: Staffing,
    escalation,
    preempted=0.0,
):
    """What traffic the stack does not serve costs: the fallback API, or downtime.

    Uptime is ``uptime`` less ``vacancy_uptime_drop`` per empty seat, and of the
    traffic served while up, ``preempted`` (a share lost with spot GPUs, see
    :mod:`.rental`) is not served after all. With a
    ``fallback``, it carries ``escalation + (1 - escalation) * (1 - uptime)`` of each
    serving month's traffic, and all of it during setup (the failover minutes of
    incidents excepted: they are unserved); without one, every unserved hour costs
    ``downtime_cost_per_hour``. An option given a start month is set up
    while another option serves the traffic, so its setup is not charged here.

    Returns
    -------
    fallback, downtime
        Each a number or an array that broadcasts to ``(months, paths)``.
    """
    scenario = batch.scenario
    down, failover = _outage(option, batch, team)
    if not is_zero(preempted):
        down = down + (1.0 - down) * preempted
    in_setup = 0.0 if life.delayed else life.in_setup
    serving = life.serving
    fallback, downtime = 0.0, 0.0
    fallback_name = option.params["fallback"]
    if fallback_name is not None:
        carried = down if is_zero(failover) else down - failover
        share = _fallback_share(carried, escalation, serving, in_setup)
        if not is_zero(share):
            traffic = api.traffic_cost(scenario.options[fallback_name], batch, volume)
            fallback = _times(share, traffic)
        unserved = _times(failover, serving) if not is_zero(failover) else 0.0
    else:
        unserved = _plus(in_setup, _times(down, serving))
    downtime_cost = batch.value("business.downtime_cost_per_hour")
    if not (is_zero(unserved) or is_zero(downtime_cost)):
        downtime = _times(unserved, scenario.hours_per_month * downtime_cost)
    return fallback, downtime


def _outage(option: Option, batch: Batch, team: Staffing):
    """Share of each serving month the stack is down, ``1 - uptime`` (the month's own
    with incidents, :mod:`.outages`), with uptime lowered by ``vacancy_uptime_drop``
    per empty seat, and the share of it unserved even with a fallback: each a number,
    a row, or a fresh ``(months, paths)`` array."""
    base = outage(option, batch)
    if is_zero(team.vacant_seats):
        return base.down, base.failover
    uptime = 1.0 - base.down
    drop = batch.option_value(option, "vacancy_uptime_drop")
    down = np.multiply(team.vacant_seats, drop, out=np.empty(batch.shape))
    np.subtract(uptime, down, out=down)
    np.clip(down, 0, 1, out=down)
    return np.subtract(1.0, down, out=down), base.failover


def _fallback_share(down, escalation, serving, in_setup):
    """``in_setup + serving * (escalation + (1 - escalation) * down)``, written over
    ``down`` (see :func:`_outage`) where it can."""
    share = _times(down, 1.0 - escalation)
    share = _plus(escalation, share)
    return _plus(in_setup, _times(share, serving))


def _owns_shape(fresh, other) -> bool:
    """Whether ``fresh`` is a writable array that already has the shape of ``fresh``
    combined with ``other``, so the result can be written over it."""
    return (
        isinstance(fresh, np.ndarray)
        and fresh.flags.writeable
        and np.broadcast_shapes(fresh.shape, np.shape(other)) == fresh.shape
    )


def _times(fresh, factor):
    """``fresh * factor``, written over ``fresh`` (an array the caller owns) if it can."""
    if _owns_shape(fresh, factor):
        return np.multiply(fresh, factor, out=fresh)
    return fresh * factor


def _plus(term, fresh):
    """``term + fresh``, written over ``fresh`` (an array the caller owns) if it can."""
    if is_zero(term):
        return fresh
    if _owns_shape(fresh, term):
        return np.add(fresh, term, out=fresh)
    return term + fresh


def monthly_costs(
    option: Option, batch: Batch, volume: np.ndarray, start=None
) -> dict[str, np.ndarray]:
    """Monthly cost of a ``self_hosted`` or ``cloud_managed`` option, by component.

    Parameters
    ----------
    option
        The option to cost.
    batch
        The batch being costed.
    volume
        Requests per month, ``(months, paths)``.
    start
        ``None``, or per path the 0-based month in which the option's life begins,
        shape ``(paths,)``, whole months (at or past the horizon: never). Nothing is
        charged before it; the team is hired then, setup runs from it and serving
        follows. Volumes and prices stay on calendar months. The setup share is not
        charged to the fallback or as downtime: another option serves the traffic
        meanwhile (a staged migration).

    Returns
    -------
    dict
        Components: ``gpus`` (serving, setup and blue-green overlap GPUs rented on
        demand), ``reserved_gpus`` and ``spot_gpus`` (for a stack that reserves GPUs or
        rents on spot, see :mod:`.rental`), ``infra``,
        ``people`` (salaries and backfill), ``hiring``, ``setup`` (the one-off build,
        spread over the setup period), ``upgrades`` (engineering effort), ``fallback``
        (traffic the fallback API serves during setup, downtime, escalations and spot
        preemptions) and
        ``downtime`` (unserved hours, when there is no fallback); each a number or an
        array that broadcasts to ``(months, paths)``.
        On a batch pooling several workloads (``batch.pooled``), only the GPU components.
    """
    needs = _needs(option, batch, volume, start)
    life = needs.life
    if rents_on_demand_only(option, batch.scenario):
        price = replica_price(option, batch)
        gpus = {"gpus": np.multiply(needs.replica_hours, price, out=needs.replica_hours)}
        preempted = 0.0
    else:
        bill = rent(
            option,
            batch,
            needs.replica_hours,
            life.serving,
            batch.option_value(option, "reserved_gpus"),
            needs.covered,
        )
        gpus = {"gpus": bill.on_demand, "reserved_gpus": bill.reserved, "spot_gpus": bill.spot}
        preempted = bill.preempted
    if batch.pooled is not None:
        # GPUs for several workloads at once: the rest is paid once or per workload.
        return gpus
    fallback, downtime = unserved_costs(
        option, batch, volume, life, needs.team, needs.escalation, preempted
    )
    return {
        **gpus,
        **_running_costs(option, batch, needs),
        "fallback": fallback,
        "downtime": downtime,
    }


def totals_by_reservation(option: Option, batch: Batch, counts) -> list[np.ndarray]:
    """Total cost over the horizon of stack ``option`` on each path of the batch, with
    each of ``counts`` GPUs reserved: ``(paths,)`` arrays, one per count.

    Everything but the GPU bill (and, with spot GPUs, the traffic their preemptions
    send to the fallback) is costed once for all the counts.
    """
    shape = batch.shape
    needs = _searched_needs(option, batch)
    life = needs.life
    fixed = sum(
        per_path_total(part, shape) for part in _running_costs(option, batch, needs).values()
    )
    unserved = None
    totals = []
    for count in counts:
        bill = rent(option, batch, needs.replica_hours, life.serving, float(count), needs.covered)
        if unserved is None or not is_zero(bill.preempted):
            parts = unserved_costs(
                option, batch, batch.volume, life, needs.team, needs.escalation, bill.preempted
            )
            unserved = sum(per_path_total(part, shape) for part in parts)
        gpus = (bill.on_demand, bill.reserved, bill.spot)
        totals.append(fixed + unserved + sum(per_path_total(part, shape) for part in gpus))
    return totals


def needed_gpus(option: Option, batch: Batch) -> float:
    """The most GPUs stack ``option`` runs in any month on any path of the batch
    (serving from month 0): more reserved GPUs than that are never used."""
    needs = _searched_needs(option, batch)
    most = float(np.max(needs.replica_hours)) / batch.scenario.hours_per_month
    if needs.busiest is not None:
        most = max(most, needs.busiest)
    return most * option.params["gpus_per_replica"]


def _searched_needs(option: Option, batch: Batch) -> _Needs:
    """:func:`_needs` on the batch's volume from month 0, once per batch, for a search
    that costs many reserved counts (the arrays are not written over)."""
    return batch.cached(f"needs:{option.name}", lambda: _needs(option, batch, batch.volume, None))


@dataclass(frozen=True)
class _Needs:
    """What a stack runs and who runs it, whatever the terms its GPUs are rented on."""

    replica_hours: np.ndarray  # (months, paths), fresh: serving, setup and overlap
    escalation: np.ndarray | float
    life: Lifecycle
    team: Staffing
    upgrade_effort: np.ndarray | float
    covered: Callable[[float], np.ndarray] | None = None
    """With an hourly load: the replica-hours of each month ``r`` reserved replicas
    carry hour by hour (the serving replicas' hours below ``r``)."""
    busiest: float | None = None
    """With an hourly load: the most replicas run in any hour of the batch."""


def _needs(option: Option, batch: Batch, volume: np.ndarray, start) -> _Needs:
    """The replica-hours of stack ``option`` each month, its life, team and upgrades."""
    params = option.params
    value = batch.option_value
    hours = batch.scenario.hours_per_month
    replicas, escalation, load = serving_replicas(option, batch, volume, hourly=True)
    if start is None:  # the same for every workload (and set of workloads) served
        life, (upgrades, upgrade_effort) = batch.shared(
            f"life:{option.name}", lambda b: _life_and_upgrades(option, b, None)
        )
    else:
        life, (upgrades, upgrade_effort) = _life_and_upgrades(option, batch, start)
    in_setup, serving = life.in_setup, life.serving
    covered = busiest = None
    if load is not None and not rents_on_demand_only(option, batch.scenario):
        mean, on = replicas.copy(), serving * hours
        top = np.maximum(load.floor, load.level + load.scale * max(load.profile))
        busiest = float(np.max(top)) + load.spares

        def covered(reserved: float) -> np.ndarray:
            return on * (mean + reserved - load.mean_above(reserved))

    team = team_for(option, batch, life)

    # Replica-hours: serving replicas (all month, or the part after setup), setup GPUs,
    # and each upgrade's blue-green overlap on the serving replicas.
    serving_hours = serving * hours
    if upgrades is not None:
        overlap_days = value(option, "upgrade_overlap_days")
        replica_hours = _plus(serving_hours, upgrades * (overlap_days * 24))
    else:
        replica_hours = serving_hours
    needed = np.multiply(replicas, replica_hours, out=replicas)
    if not is_zero(in_setup):
        setup_gpu_hours = params["setup_gpus"] / params["gpus_per_replica"] * hours
        needed += np.multiply(in_setup, setup_gpu_hours, out=serving_hours)
    return _Needs(needed, escalation, life, team, upgrade_effort, covered, busiest)


def _life_and_upgrades(option: Option, batch: Batch, start):
    """A stack's :func:`~.lifecycle.lifecycle` from ``start`` and the upgrades of its
    serving months."""
    life = lifecycle(option, batch, start)
    return life, upgrade_costs(option, batch, life.serving)


def _running_costs(option: Option, batch: Batch, needs: _Needs) -> dict:
    """The costs of a stack beside its GPUs and unserved traffic."""
    return {
        "infra": needs.life.during(batch.option_value(option, "infra_monthly_usd")),
        "people": needs.team.salaries,
        "hiring": needs.team.hiring,
        "setup": setup_cost(option, batch, needs.life),
        "upgrades": needs.upgrade_effort,
    }
