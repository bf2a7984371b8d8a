"""The life of a stack option: setup, then serving, from a start month; the model
upgrades it adopts while serving; the one-off build.

A staged policy migrates to a stack option mid-horizon: the option's life (and its
team, :mod:`.team`) then begins at a per-path start month while volumes and prices
stay on calendar months. Costs here are returned in the smallest shape that
broadcasts to ``(months, paths)``, as in :mod:`.self_hosted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from ..scenario.special import poisson_counts

__all__ = [
    "Lifecycle",
    "Timeline",
    "first_month_cost",
    "is_zero",
    "lifecycle",
    "setup_cost",
    "setup_share",
    "upgrade_costs",
]


def is_zero(x) -> bool:
    """Whether ``x`` is a plain number equal to zero (arrays are never taken as zero)."""
    return not isinstance(x, np.ndarray) and x == 0


def first_month_cost(values, shape: tuple[int, int], first: np.ndarray | None = None):
    """A cost paid in the first month only (month 0, or where ``first`` is true), as an
    array; 0 when there is none."""
    if is_zero(values):
        return 0.0
    if first is not None:
        return np.where(first, values, 0.0)
    out = np.zeros(shape)
    out[0] = values
    return out


def setup_share(setup_months, months: np.ndarray):
    """Share of each month spent in setup (a month partly in setup is split pro rata);
    the number 0 when there is no setup."""
    if is_zero(setup_months):
        return 0.0
    return np.clip(setup_months - months, 0.0, 1.0)


@dataclass(frozen=True)
class Timeline:
    """Per path, the month in which an option's life begins, as masks over
    ``(months, paths)`` and the index that shifts a series to begin then."""

    alive: np.ndarray  # the life has begun by this month
    first: np.ndarray  # the life's first month
    age: np.ndarray  # months since the start (negative before it)
    index: np.ndarray  # the age clipped into the horizon, to index a series with

    @classmethod
    def of(cls, batch: Batch, start) -> Timeline:
        """The timeline of lives that begin, per path, in month ``start`` (see
        :func:`lifecycle`)."""
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
        if is_zero(cost):
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
        if is_zero(series):
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
    timeline: Timeline | None = None

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
    timeline = Timeline.of(batch, start)
    in_setup = setup_share(setup_months, timeline.age)
    if not is_zero(in_setup):
        in_setup = np.where(timeline.alive, in_setup, 0.0)
    return Lifecycle(in_setup, timeline.alive.astype(float) - in_setup, timeline)


def _spread_setup_cost(option: Option, batch: Batch, in_setup, first: np.ndarray | None = None):
    """The one-off build cost, spread evenly over the setup period (all in the first
    month, month 0 or where ``first`` is true, when there is none)."""
    cost = batch.option_value(option, "setup_cost_usd")
    if is_zero(cost):
        return 0.0
    if is_zero(in_setup):
        return first_month_cost(cost, batch.shape, first)
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
        ``upgrades * upgrade_effort_engineer_months * engineer_annual_cost / 12`` (the
        cost grown by ``annual_salary_growth``), or
        the number 0.
    """
    upgrades = _upgrades(option, batch, serving)
    if upgrades is None:
        return None, 0.0
    value = batch.option_value
    annual = value(option, "engineer_annual_cost") * batch.trend(
        option.path("annual_salary_growth")
    )
    effort = upgrades * (value(option, "upgrade_effort_engineer_months") * annual) / 12
    return upgrades, effort
