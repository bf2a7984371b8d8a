"""The people of a stack option: a team hired at the start of its life, attrition,
vacancies covered at a premium until refilled, and hiring costs.

A team of ``engineers`` FTE is ``ceil(engineers)`` seats of equal size; departures
are binomial draws over the seats filled at each month's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from ..scenario.special import binomial_counts
from .lifecycle import Lifecycle, Timeline, first_month_cost, is_zero

__all__ = ["Staffing", "staffing", "team_for"]


@dataclass(frozen=True)
class Staffing:
    """People costs and vacancies of a team (each broadcasts to paths x months)."""

    salaries: np.ndarray | float
    hiring: np.ndarray | float
    vacant_seats: np.ndarray | float


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
        ``(paths,)`` (see :func:`~.lifecycle.lifecycle`): the team's whole history, attrition
        included, is shifted to begin then, and costs nothing before.

    Returns
    -------
    Staffing
    """
    timeline = None if start is None else Timeline.of(batch, start)
    return _delay_team(_cached_team(option, batch), timeline)


def team_for(option: Option, batch: Batch, life: Lifecycle) -> Staffing:
    """:func:`staffing` for the start of an option's :func:`~.lifecycle.lifecycle`."""
    return _delay_team(_cached_team(option, batch), life.timeline)


def _cached_team(option: Option, batch: Batch) -> Staffing:
    """The team hired in month 0, worked out once per batch: it is the same on every
    start (a staged policy and its trigger search cost the option again)."""
    return batch.shared(f"team:{option.name}", lambda b: _team(option, b))


def _delay_team(team: Staffing, timeline: Timeline | None) -> Staffing:
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
    hired_at = value(option, "engineer_annual_cost")
    hiring_fraction = value(option, "hiring_cost_fraction")
    initial = option.params["initial_hires"] * hiring_fraction * hired_at
    # A seat's cost grows by annual_salary_growth from the team's first month: salaries,
    # cover for empty seats and hires all pay that month's rate.
    annual = hired_at * batch.trend(option.path("annual_salary_growth"))
    attrition = value(option, "annual_attrition")
    if engineers == 0:
        return Staffing(0.0, first_month_cost(initial, shape), 0.0)
    salaries = engineers * annual / 12
    if is_zero(attrition):
        return Staffing(salaries, first_month_cost(initial, shape), 0.0)

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
    if not is_zero(initial):
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

    The first two terms of :func:`~simulator.scenario.special.binomial_counts`, with the very
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
