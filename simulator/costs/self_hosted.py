"""Self-hosted open-weight models on rented GPUs, and cloud-managed endpoints.

A cloud-managed endpoint is the same stack with the GPU-hour price raised by
``managed_premium``; scenarios give it fewer engineers, higher uptime, shorter setup.
The parts every stack shares (replicas, a life that may begin mid-horizon, the team,
upgrades, the build, fallback and downtime) are public helpers, which the owned-GPU
model (:mod:`.on_prem`) reuses.

Every component is returned in the smallest shape that broadcasts to
``(months, paths)``: a constant stays a number, a per-path cost a row, so the
engine does not pay for arrays of zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from ..scenario.special import binomial_counts, poisson_counts
from . import api

__all__ = [
    "Lifecycle",
    "Staffing",
    "lifecycle",
    "monthly_costs",
    "replicas_needed",
    "serving_replicas",
    "setup_cost",
    "setup_share",
    "staffing",
    "team_for",
    "unserved_costs",
    "upgrade_costs",
]

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
class _Timeline:
    """Per path, the month in which an option's life begins, as masks over
    ``(months, paths)`` and the index that shifts a series to begin then."""

    alive: np.ndarray  # the life has begun by this month
    first: np.ndarray  # the life's first month
    age: np.ndarray  # months since the start (negative before it)
    index: np.ndarray  # the age clipped into the horizon, to index a series with

    @classmethod
    def of(cls, batch: Batch, start) -> _Timeline:
        months = batch.shape[0]
        start = np.asarray(start, dtype=float)
        if start.shape != (batch.size,):
            raise ValueError(f"start must have shape ({batch.size},), got {start.shape}")
        if not np.all(start >= 0):
            raise ValueError("start must be a month index >= 0 on every path")
        # A start at or past the horizon never comes (inf included): capping it keeps
        # the checks and indices below finite.
        start = np.minimum(start, months)
        if np.any(start != np.floor(start)):
            raise ValueError("start must be whole months")
        age = batch.months - start
        index = np.clip(age, 0, months - 1).astype(np.intp)
        return cls(age >= 0, age == 0, age, index)

    def during(self, cost):
        """``cost`` (the same every month) in the months of the life, 0 before."""
        if _zero(cost):
            return cost
        return np.where(self.alive, cost, 0.0)

    @cached_property
    def source(self) -> np.ndarray:
        """For each month and path, where :meth:`delay` reads its value in a flattened
        ``(months, paths)`` series followed by a zero: that zero before the start."""
        months, paths = self.index.shape
        flat = self.index * paths + np.arange(paths)
        return np.where(self.alive, flat, months * paths)

    def delay(self, series):
        """A series laid out from month 0 shifted to begin at each path's start."""
        if _zero(series):
            return series
        series = np.asarray(series, dtype=float)
        if series.ndim < 2 or series.shape[0] == 1:
            return np.where(self.alive, series, 0.0)
        # A single gather from a padded copy is much faster than take_along_axis
        # followed by masking the months before the start.
        padded = np.empty(self.alive.size + 1)
        np.copyto(padded[:-1].reshape(self.alive.shape), series)
        padded[-1] = 0.0
        return np.take(padded, self.source)


@dataclass(frozen=True)
class Lifecycle:
    """The months of an option's life: setup, then serving, from a start month.

    Attributes
    ----------
    in_setup, serving
        Share of each month spent in setup and serving (0 before the option's start),
        numbers or arrays that broadcast to ``(months, paths)``.
    timeline
        Per path, when the life begins; ``None`` when it begins in month 0 everywhere.
    """

    in_setup: np.ndarray | float
    serving: np.ndarray | float
    timeline: _Timeline | None = None

    @property
    def delayed(self) -> bool:
        """Whether the option was given a start month (a staged migration's target)."""
        return self.timeline is not None

    @property
    def first(self) -> np.ndarray | None:
        """Where the life's first month is, ``(months, paths)``; ``None`` for month 0."""
        return None if self.timeline is None else self.timeline.first

    def during(self, cost):
        """A cost that is the same every month, charged only during the life."""
        return cost if self.timeline is None else self.timeline.during(cost)

    def delay(self, series):
        """A series laid out from month 0 (hires, departures...) shifted to begin at
        each path's start."""
        return series if self.timeline is None else self.timeline.delay(series)


def lifecycle(option: Option, batch: Batch, start=None) -> Lifecycle:
    """Setup and serving shares of each month of a stack option.

    Parameters
    ----------
    option
        A ``self_hosted``, ``cloud_managed`` or ``on_prem`` option.
    batch
        The batch being costed.
    start
        ``None`` (the life begins in month 0), or per path the 0-based month in which
        it begins, shape ``(paths,)``, whole months; at or past the horizon it never
        begins on that path.

    Returns
    -------
    Lifecycle
        Setup runs from the start for ``setup_months`` (a month partly in setup split
        pro rata), then the option serves until the horizon.
    """
    setup_months = batch.option_value(option, "setup_months")
    if start is None:
        in_setup = setup_share(setup_months, batch.months)
        return Lifecycle(in_setup, 1.0 - in_setup)
    timeline = _Timeline.of(batch, start)
    in_setup = setup_share(setup_months, timeline.age)
    if not _zero(in_setup):
        in_setup = np.where(timeline.alive, in_setup, 0.0)
    return Lifecycle(in_setup, timeline.alive.astype(float) - in_setup, timeline)


@dataclass(frozen=True)
class Staffing:
    """People costs and vacancies of a team (each broadcasts to paths x months)."""

    salaries: np.ndarray | float
    hiring: np.ndarray | float
    vacant_seats: np.ndarray | float


def _first_month(values, shape: tuple[int, int], first: np.ndarray | None = None):
    """A cost paid in the first month only (month 0, or where ``first`` is true), as an
    array; 0 when there is none."""
    if _zero(values):
        return 0.0
    if first is not None:
        return np.where(first, values, 0.0)
    out = np.zeros(shape)
    out[0] = values
    return out


def staffing(option: Option, batch: Batch, start=None) -> Staffing:
    """Salaries, hiring costs and empty seats under attrition.

    A team of ``engineers`` FTE is ``ceil(engineers)`` seats of equal size. Each month
    every filled seat empties with probability ``1 - (1 - annual_attrition)**(1/12)``;
    an empty seat stays empty for ``vacancy_months`` (a fraction of a month pro rata),
    is covered at ``backfill_cost_multiplier`` times its cost meanwhile, and its
    replacement costs ``hiring_cost_fraction`` of a year's cost. The initial team
    (``initial_hires`` FTE, default the whole team) is hired in the first month.

    Parameters
    ----------
    option
        A stack option (``self_hosted``, ``cloud_managed``, ``on_prem``).
    batch
        The batch being costed.
    start
        ``None``, or per path the month in which the team is hired, shape
        ``(paths,)`` (see :func:`lifecycle`): the team's whole history, attrition
        included, is shifted to begin then, and costs nothing before.

    Returns
    -------
    Staffing
    """
    timeline = None if start is None else _Timeline.of(batch, start)
    return _delay_team(_cached_team(option, batch), timeline)


def team_for(option: Option, batch: Batch, life: Lifecycle) -> Staffing:
    """:func:`staffing` for the start of an option's :func:`lifecycle`."""
    return _delay_team(_cached_team(option, batch), life.timeline)


def _cached_team(option: Option, batch: Batch) -> Staffing:
    """The team hired in month 0, worked out once per batch: it is the same on every
    start (a staged policy and its trigger search cost the option again)."""
    return batch.per_path(f"team:{option.name}", lambda b: _team(option, b))


def _delay_team(team: Staffing, timeline: _Timeline | None) -> Staffing:
    """``team`` shifted in time to be hired at each path's start."""
    if timeline is None:
        return team
    return Staffing(
        timeline.delay(team.salaries),
        timeline.delay(team.hiring),
        timeline.delay(team.vacant_seats),
    )


def _team(option: Option, batch: Batch) -> Staffing:
    """:func:`staffing` for a team hired in month 0."""
    shape = batch.shape
    value = batch.option_value
    engineers = option.params["engineers"]
    annual = value(option, "engineer_annual_cost")
    hiring_fraction = value(option, "hiring_cost_fraction")
    initial = option.params["initial_hires"] * hiring_fraction * annual
    attrition = value(option, "annual_attrition")
    if engineers == 0:
        return Staffing(0.0, _first_month(initial, shape), 0.0)
    salaries = engineers * annual / 12
    if _zero(attrition):
        return Staffing(salaries, _first_month(initial, shape), 0.0)

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
    vacant_seats = _vacant_seats(departures, vacancy)
    backfill = value(option, "backfill_cost_multiplier")
    people = np.multiply(vacant_seats, fte_per_seat * annual / 12 * (backfill - 1.0))
    people += salaries
    hiring = np.multiply(departures, fte_per_seat * hiring_fraction * annual, out=departures)
    if not _zero(initial):
        hiring[0] += initial
    return Staffing(people, hiring, vacant_seats)


def _vacant_seats(departures: np.ndarray, vacancy: np.ndarray) -> np.ndarray:
    """Seats empty each month, ``(months, paths)``: a departure's seat stays empty for
    the path's ``vacancy`` months from its month on, the last of them pro rata.

    Departures are rare, so only the months and paths with one are worked on; month
    ``k`` after a departure adds ``departures * clip(vacancy - k, 0, 1)``.
    """
    months, paths = departures.shape
    vacant = np.zeros(departures.shape)
    flat = vacant.reshape(-1)
    where = np.flatnonzero(departures != 0)  # much faster than on the floats
    count = departures.reshape(-1)[where]
    held = vacancy[where % paths]
    month = where // paths  # ascending, as ``where`` is
    for k in range(min(int(np.ceil(vacancy.max(initial=0.0))) + 1, months)):
        within = np.searchsorted(month, months - k)
        share_empty = np.clip(held[:within] - k, 0.0, 1.0)
        flat[where[:within] + k * paths] += count[:within] * share_empty
    return vacant


def _departures(uniforms, seats: int, monthly_leave, vacancy) -> np.ndarray:
    """Departures per month, ``(months, paths)``: a binomial draw over the seats filled
    at the month's start (see :func:`_binomial_few`).

    Every month is first drawn as if every seat were filled. With fewer seats filled
    nobody leaves where nobody left with all of them (``(1 - leave)**j`` does not grow
    with ``j``), so month by month only the departures of that first draw on paths
    with a seat still empty are drawn again. A departure holds its seat empty for the
    next ``k`` months while ``vacancy > k``.
    """
    months, paths = uniforms.shape
    longest = int(np.ceil(vacancy.max(initial=0.0)))
    # Per path: how many months a departure holds its seat empty, and the chance that
    # none of j filled seats empties.
    held = np.zeros(paths, dtype=np.intp)
    for k in range(1, longest + 1):
        held += vacancy > k
    stay = np.stack([np.power(1.0 - monthly_leave, j) for j in range(seats + 1)])
    ratio = np.divide(
        monthly_leave, 1.0 - monthly_leave, out=np.zeros(paths), where=monthly_leave < 1
    )
    departures = _binomial_few(uniforms, float(seats), monthly_leave, stay, ratio)
    if not held.any():
        return departures
    # Where that order fails (NaN, or rounding), every path is drawn again.
    candidates = departures > 0 if np.all(stay[:-1] >= stay[1:]) else None
    # Seats emptied (+) and refilled (-) at the start of each of the next months, in a
    # ring of rows; their running sum is the number of seats empty in the month. Every
    # count is a small whole number, so the sums are exact.
    ring = np.zeros((longest + 2, paths))
    empty = np.zeros(paths)
    everyone = np.arange(paths)
    for m in range(months):
        change = ring[m % ring.shape[0]]
        empty += change
        change.fill(0.0)
        left = everyone if candidates is None else np.flatnonzero(candidates[m])
        if not left.size:
            continue
        short = empty[left]
        redo = np.flatnonzero(short > 0)
        if redo.size:
            path = left[redo]
            departures[m, path] = _binomial_few(
                uniforms[m, path],
                np.maximum(seats - short[redo], 0.0),
                monthly_leave[path],
                stay[:, path],
                ratio[path],
            )
        count = departures[m, left]
        ring[(m + 1) % ring.shape[0], left] += count
        ring[(m + 1 + held[left]) % ring.shape[0], left] -= count
    return departures


def _binomial_few(u, filled, leave, stay, ratio) -> np.ndarray:
    """Binomial inverse CDF for departures, where 0 or 1 is the usual answer.

    The first two terms of :func:`~simulator.special.binomial_counts`, with the very
    same arithmetic, for every element at once; the rare elements past them are handed
    to it whole. ``u`` is ``(paths,)`` or ``(months, paths)``; ``filled`` is a number
    or one per path, as are ``leave`` and ``ratio``, that is ``leave / (1 - leave)``;
    ``stay[j]`` is ``(1 - leave)**j``.
    """

    def at(values, path):
        return values if np.ndim(values) == 0 else values[path]

    if np.ndim(filled) == 0:
        none = stay[int(filled)]
    else:
        seats = stay.shape[0] - 1
        none = stay[seats].copy()  # most paths have every seat filled
        short = np.flatnonzero(filled < seats)
        none[short] = stay[filled[short].astype(np.intp), short]
    one = none + none * filled / 1 * ratio
    counts = u > none
    if not np.all(filled > 0):
        counts &= filled > 0
    counts = counts.astype(float)
    flat = counts.reshape(-1)
    beyond = np.flatnonzero(u > one)
    if beyond.size:
        path = beyond % u.shape[-1]
        keep = (flat[beyond] > 0) & (at(filled, path) > 1) & (one[path] > none[path])
        beyond, path = beyond[keep], path[keep]
        flat[beyond] = binomial_counts(
            u.reshape(-1)[beyond], at(filled, path), leave[path], none[path]
        )
    gone = leave >= 1.0
    if gone.any():
        counts[..., gone] = at(filled, gone)
    return counts


def _upgrades(option: Option, batch: Batch, serving) -> np.ndarray | None:
    """Model upgrades adopted each month: Poisson with mean ``serving / interval``;
    ``None`` when the option adopts none."""
    path = option.path("upgrade_interval_months")
    if path not in batch.scenario.quantities:
        return None
    rate = np.broadcast_to(serving / batch.value(path), batch.shape)
    return poisson_counts(batch.monthly_uniforms(option.path("upgrades")), rate)


def upgrade_costs(option: Option, batch: Batch, serving) -> tuple[np.ndarray | None, object]:
    """Model upgrades adopted each month and the engineering effort they cost.

    Parameters
    ----------
    option
        A stack option.
    batch
        The batch being costed.
    serving
        Share of each month spent serving (see :class:`Lifecycle`): upgrades are only
        adopted while serving.

    Returns
    -------
    upgrades
        Upgrades adopted each month, ``(months, paths)``: Poisson with mean
        ``serving / upgrade_interval_months`` (on the calendar month's uniforms, so
        the draws are common to every start); ``None`` when the option adopts none.
    effort
        ``upgrades * upgrade_effort_engineer_months * engineer_annual_cost / 12``, or
        the number 0.
    """
    upgrades = _upgrades(option, batch, serving)
    if upgrades is None:
        return None, 0.0
    value = batch.option_value
    effort = (
        upgrades
        * (value(option, "upgrade_effort_engineer_months") * value(option, "engineer_annual_cost"))
        / 12
    )
    return upgrades, effort


def _spread_setup_cost(option: Option, batch: Batch, in_setup, first: np.ndarray | None = None):
    """The one-off build cost, spread evenly over the setup period (all in the first
    month, month 0 or where ``first`` is true, when there is none)."""
    cost = batch.option_value(option, "setup_cost_usd")
    if _zero(cost):
        return 0.0
    if _zero(in_setup):
        return _first_month(cost, batch.shape, first)
    setup_months = np.broadcast_to(batch.option_value(option, "setup_months"), (batch.size,))
    if first is None:
        first_month = np.broadcast_to((batch.months == 0).astype(float), batch.shape)
    else:
        first_month = first.astype(float)
    spread = np.divide(
        np.broadcast_to(in_setup, batch.shape),
        setup_months,
        out=first_month.copy(),
        where=setup_months > 0,
    )
    return np.multiply(spread, cost, out=spread)


def setup_cost(option: Option, batch: Batch, life: Lifecycle):
    """The one-off build ``setup_cost_usd``, spread evenly over the setup period of
    ``life`` (all in its first month on paths without setup)."""
    return _spread_setup_cost(option, batch, life.in_setup, life.first)


def serving_replicas(option: Option, batch: Batch, volume: np.ndarray):
    """Replicas a stack option runs each month for ``volume``, and its escalation rate.

    Demand in weighted tokens per second, ``V_t * (1 - escalation_rate) *
    (in_tok * input_token_weight + out_tok) / (hours_per_month * 3600)``, is turned
    into replicas by :func:`replicas_needed`.

    Returns
    -------
    replicas
        ``(months, paths)``, a fresh array the caller may overwrite.
    escalation
        ``escalation_rate``: a number or a per-path array.
    """
    params = option.params
    value = batch.option_value
    hours = batch.scenario.hours_per_month
    escalation = value(option, "escalation_rate")
    weighted_tokens = batch.value("workload.input_tokens_per_request") * value(
        option, "input_token_weight"
    ) + batch.value("workload.output_tokens_per_request")
    # Owned GPUs are always provisioned for peak and have no autoscale_overhead key.
    autoscale = params["provisioning"] == "autoscale"
    replicas = replicas_needed(
        volume * ((1.0 - escalation) * weighted_tokens / (hours * 3600)),
        peak_to_average=batch.value("workload.peak_to_average"),
        replica_tokens_per_s=value(option, "replica_tokens_per_s"),
        max_utilization=value(option, "max_utilization"),
        min_replicas=params["min_replicas"],
        spare_replicas=params["spare_replicas"],
        provisioning=params["provisioning"],
        autoscale_overhead=value(option, "autoscale_overhead") if autoscale else 1.2,
    )
    return replicas, escalation


def unserved_costs(
    option: Option,
    batch: Batch,
    volume: np.ndarray,
    life: Lifecycle,
    team: Staffing,
    escalation,
):
    """What traffic the stack does not serve costs: the fallback API, or downtime.

    Uptime is ``uptime`` less ``vacancy_uptime_drop`` per empty seat. With a
    ``fallback``, it carries ``escalation + (1 - escalation) * (1 - uptime)`` of each
    serving month's traffic, and all of it during setup; without one, every unserved
    hour costs ``downtime_cost_per_hour``. An option given a start month is set up
    while another option serves the traffic, so its setup is not charged here.

    Returns
    -------
    fallback, downtime
        Each a number or an array that broadcasts to ``(months, paths)``.
    """
    scenario = batch.scenario
    down = _outage(option, batch, team)
    in_setup = 0.0 if life.delayed else life.in_setup
    serving = life.serving
    fallback, downtime = 0.0, 0.0
    fallback_name = option.params["fallback"]
    if fallback_name is not None:
        share = _fallback_share(down, escalation, serving, in_setup)
        if not _zero(share):
            traffic = api.traffic_cost(scenario.options[fallback_name], batch, volume)
            fallback = _times(share, traffic)
    else:
        unserved = _plus(in_setup, _times(down, serving))
        downtime_cost = batch.value("business.downtime_cost_per_hour")
        if not (_zero(unserved) or _zero(downtime_cost)):
            downtime = _times(unserved, scenario.hours_per_month * downtime_cost)
    return fallback, downtime


def _outage(option: Option, batch: Batch, team: Staffing):
    """Share of each serving month the stack is down, ``1 - uptime``, with uptime lowered
    by ``vacancy_uptime_drop`` per empty seat: a number, a row, or a fresh
    ``(months, paths)`` array."""
    uptime = batch.option_value(option, "uptime")
    if _zero(team.vacant_seats):
        return 1.0 - uptime
    drop = batch.option_value(option, "vacancy_uptime_drop")
    down = np.multiply(team.vacant_seats, drop, out=np.empty(batch.shape))
    np.subtract(uptime, down, out=down)
    np.clip(down, 0, 1, out=down)
    return np.subtract(1.0, down, out=down)


def _fallback_share(down, escalation, serving, in_setup):
    """``in_setup + serving * (escalation + (1 - escalation) * down)``, written over
    ``down`` (see :func:`_outage`) where it can."""
    share = _times(down, 1.0 - escalation)
    share = _plus(escalation, share)
    return _plus(in_setup, _times(share, serving))


def _owns_shape(fresh, other) -> bool:
    """Whether ``fresh`` is an array that already has the shape of ``fresh`` combined
    with ``other``, so the result can be written over it."""
    return isinstance(fresh, np.ndarray) and (
        np.broadcast_shapes(fresh.shape, np.shape(other)) == fresh.shape
    )


def _times(fresh, factor):
    """``fresh * factor``, written over ``fresh`` (an array the caller owns) if it can."""
    if _owns_shape(fresh, factor):
        return np.multiply(fresh, factor, out=fresh)
    return fresh * factor


def _plus(term, fresh):
    """``term + fresh``, written over ``fresh`` (an array the caller owns) if it can."""
    if _zero(term):
        return fresh
    if _owns_shape(fresh, term):
        return np.add(fresh, term, out=fresh)
    return term + fresh


def _replica_price(option: Option, batch: Batch):
    """Each month's price of a replica-hour (a managed endpoint pays its premium)."""
    value = batch.option_value
    premium = value(option, "managed_premium") if option.kind == "cloud_managed" else 0.0
    gpu_hourly = (
        value(option, "gpu_hourly_usd")
        * (1.0 + premium)
        * batch.trend(option.path("annual_gpu_price_change"))
    )
    return option.params["gpus_per_replica"] * gpu_hourly


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
        Components: ``gpus`` (serving, setup and blue-green overlap GPUs), ``infra``,
        ``people`` (salaries and backfill), ``hiring``, ``setup`` (the one-off build,
        spread over the setup period), ``upgrades`` (engineering effort), ``fallback``
        (traffic the fallback API serves during setup, downtime and escalations) and
        ``downtime`` (unserved hours, when there is no fallback); each a number or an
        array that broadcasts to ``(months, paths)``.
    """
    params = option.params
    value = batch.option_value
    hours = batch.scenario.hours_per_month
    gpus_per_replica = params["gpus_per_replica"]

    replicas, escalation = serving_replicas(option, batch, volume)
    life = lifecycle(option, batch, start)
    in_setup, serving = life.in_setup, life.serving
    team = team_for(option, batch, life)
    upgrades, upgrade_effort = upgrade_costs(option, batch, serving)

    # GPU-hours: serving replicas (all month, or the part after setup), setup GPUs,
    # and each upgrade's blue-green overlap on the serving replicas.
    serving_hours = serving * hours
    if upgrades is not None:
        overlap_days = value(option, "upgrade_overlap_days")
        replica_hours = _plus(serving_hours, upgrades * (overlap_days * 24))
    else:
        replica_hours = serving_hours
    gpus = np.multiply(replicas, replica_hours, out=replicas)
    if not _zero(in_setup):
        setup_gpu_hours = params["setup_gpus"] / gpus_per_replica * hours
        gpus += np.multiply(in_setup, setup_gpu_hours, out=serving_hours)
    gpus *= batch.cached(f"gpu_price:{option.name}", lambda: _replica_price(option, batch))

    fallback, downtime = unserved_costs(option, batch, volume, life, team, escalation)
    return {
        "gpus": gpus,
        "infra": life.during(value(option, "infra_monthly_usd")),
        "people": team.salaries,
        "hiring": team.hiring,
        "setup": setup_cost(option, batch, life),
        "upgrades": upgrade_effort,
        "fallback": fallback,
        "downtime": downtime,
    }
