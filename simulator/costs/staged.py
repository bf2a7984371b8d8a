"""Staged migration: serve from one option, move to another once spend justifies it.

On each path the ``start`` option's monthly cost is watched; once it has been above
``trigger_monthly_cost`` for ``trigger_months`` consecutive months, the ``then``
option's life (hiring, setup) begins the next month, and ``start`` keeps serving the
traffic until ``then``'s setup ends. Spend before month 1 is taken to be month 1's
(the bill the team has today), so a trigger below today's spend, or
``trigger_months = 0``, starts the migration in month 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import OPTIMIZE, Option
from . import api
from .lifecycle import lifecycle
from .registry import MODELS, monthly_total, notes_discarded, option_costs

__all__ = [
    "costs_for_trigger",
    "highest_trigger",
    "migration_start",
    "monthly_costs",
    "start_costs",
    "total_for_trigger",
    "totals_for_triggers",
    "window_peaks",
]


def migration_start(
    start_monthly: np.ndarray, trigger, trigger_months: int, peaks: np.ndarray | None = None
) -> np.ndarray:
    """0-based month in which the migration begins on each path; the horizon (the
    number of months) where it never does.

    Parameters
    ----------
    start_monthly
        The ``start`` option's monthly cost, ``(months, paths)``.
    trigger
        Monthly cost to exceed: a number, or one per path.
    trigger_months
        Consecutive months above the trigger before the migration begins.
    peaks
        :func:`window_peaks` of ``start_monthly``, if worked out already (a search
        tries many triggers on the same spend).
    """
    months, paths = start_monthly.shape
    if trigger_months == 0:
        return np.zeros(paths)
    if peaks is None:
        peaks = window_peaks(start_monthly, trigger_months)
    # The peaks ascend, so the months they stay at or below the trigger come first.
    below = np.count_nonzero(peaks <= trigger, axis=0)
    # None: above today, the months before month 1 were too. Otherwise the trigger
    # has held long enough at month index ``below``, and the migration begins after.
    return np.where(below == 0, 0.0, np.minimum(below + 1.0, months))


def window_peaks(start_monthly: np.ndarray, trigger_months: int) -> np.ndarray:
    """Per month ``t`` before the last, and path, the highest trigger that would have
    held for ``trigger_months`` consecutive months by ``t``: the running maximum, over
    windows ending at or before ``t``, of the lowest spend in the window (the months
    before month 1 counting as month 1). Shape ``(max(months - 1, 1), paths)``,
    ascending along months.
    """
    months, paths = start_monthly.shape
    peaks = np.empty((max(months - 1, 1), paths))
    peaks[0] = start_monthly[0]
    for t in range(1, months - 1):
        window = start_monthly[max(0, t - trigger_months + 1) : t + 1].min(axis=0)
        if t < trigger_months - 1:
            np.minimum(window, start_monthly[0], out=window)
        np.maximum(peaks[t - 1], window, out=peaks[t])
    return peaks


def highest_trigger(start_monthly: np.ndarray, trigger_months: int) -> np.ndarray:
    """Per path, the monthly cost below which a trigger starts a migration within the
    horizon (a path migrates exactly when the trigger is below it); infinity when
    ``trigger_months`` is 0, for then every trigger migrates at once."""
    if trigger_months == 0:
        return np.full(start_monthly.shape[1], np.inf)
    return window_peaks(start_monthly, trigger_months)[-1]


def serving_share(option: Option, batch: Batch, begin: np.ndarray):
    """Share of each month the ``then`` option serves the traffic, ``(months, paths)``:
    none before ``begin``, none during its setup, pro rata in a month partly in setup
    (the stack's own :func:`~simulator.costs.lifecycle.lifecycle`; an API's
    ``migration_months``)."""
    if option.kind == "api":
        return np.broadcast_to(api.serving_share(option, batch, begin), batch.shape)
    return lifecycle(option, batch, begin).serving


def start_costs(option: Option, batch: Batch) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Cost components of the ``start`` option over the whole horizon (worked out once
    per batch), and their monthly total."""
    name = option.params["start"]
    parts = option_costs(batch, name)
    total = batch.cached(f"monthly:{name}", lambda: monthly_total(parts, batch.shape))
    return parts, total


def costs_for_trigger(
    option: Option, batch: Batch, trigger
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Cost components of the policy with ``trigger`` (a number, or one per path; infinity
    never migrates), and the month each path's migration begins (the horizon: never)."""
    start, then, migrating, begin = _stages(option, batch, trigger)
    if migrating.size < batch.size:
        then = {k: _on_paths(v, migrating, batch.shape) for k, v in then.items()}
    return start | then, begin


def total_for_trigger(
    option: Option, batch: Batch, trigger: float
) -> tuple[np.ndarray, np.ndarray]:
    """Total cost of the policy with ``trigger`` (a number, or one per path) per path,
    shape ``(paths,)``, and the month each path's migration begins (see
    :func:`costs_for_trigger`, and :func:`totals_for_triggers` for many triggers)."""
    return totals_for_triggers(option, batch, [trigger])[0]


def totals_for_triggers(
    option: Option, batch: Batch, triggers: Sequence
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`total_for_trigger` for each of ``triggers``.

    A path's total depends on its trigger only through that month, so a search that
    tries many triggers on one batch costs each path once for each month it migrates
    in: the totals are kept by month and path, and the (path, month) pairs none has
    costed before are costed together, as one batch of those paths (costs are per
    path), each with a trigger that starts it in that month.
    """
    months = batch.scenario.horizon_months
    begins = [_migration_start(option, batch, trigger) for trigger in triggers]
    known = batch.cached(
        f"trigger_totals:{option.name}", lambda: np.full((months + 1, batch.size), np.nan)
    )
    column = np.arange(batch.size)
    wanted = np.full(known.shape, np.nan)  # the trigger to cost each new pair with
    for trigger, begin in zip(triggers, begins, strict=True):
        month = begin.astype(np.intp)
        todo = np.flatnonzero(np.isnan(known[month, column]))
        wanted[month[todo], todo] = np.broadcast_to(trigger, column.shape)[todo]
    month, path = np.nonzero(~np.isnan(wanted))
    if np.array_equal(path, column):
        known[month, path] = _policy_total(option, batch, wanted[month, path])
    elif path.size:
        # In pieces the size of the batch, whose arrays stay in the cache.
        for piece in np.array_split(np.arange(path.size), -(-path.size // batch.size)):
            m, p = month[piece], path[piece]
            known[m, p] = _policy_total(option, batch.take(p), wanted[m, p])
    return [(known[begin.astype(np.intp), column], begin) for begin in begins]


def _migration_start(option: Option, batch: Batch, trigger) -> np.ndarray:
    """:func:`migration_start` of ``start``'s spend on ``batch``, its window peaks
    worked out once per batch for all the triggers tried."""
    spend, months = start_costs(option, batch)[1], option.params["trigger_months"]
    if months == 0:
        return migration_start(spend, trigger, months)
    peaks = batch.cached(f"trigger_peaks:{option.name}", lambda: window_peaks(spend, months))
    return migration_start(spend, trigger, months, peaks)


def _policy_total(option: Option, batch: Batch, trigger) -> np.ndarray:
    """:func:`total_for_trigger`, costed on every path of ``batch``."""
    start, then, migrating, _ = _stages(option, batch, trigger)
    total = monthly_total(start, batch.shape)
    if migrating.size == batch.size:
        total += monthly_total(then, batch.shape)
    elif migrating.size:
        total[:, migrating] += monthly_total(then, (batch.shape[0], migrating.size))
    return total.sum(axis=0)


def _stages(option: Option, batch: Batch, trigger):
    """``start``'s cost components, ``then``'s on the paths that migrate (each prefixed
    with its option's name), the index of those paths and each path's migration month."""
    scenario = batch.scenario
    parts = start_costs(option, batch)[0]
    begin = _migration_start(option, batch, trigger)
    then = scenario.options[option.params["then"]]
    prefix = option.params["start"]
    migrating = np.flatnonzero(begin < scenario.horizon_months)
    if not migrating.size:
        return {f"{prefix}.{k}": v for k, v in parts.items()}, {}, migrating, begin
    serving = serving_share(then, batch, begin)
    start = {f"{prefix}.{k}": v * (1.0 - serving) for k, v in parts.items()}
    if migrating.size < batch.size:
        # Only the paths that migrate pay anything of then's: cost those alone.
        within = batch.take(migrating)
        then_parts = _then_costs(then, within, begin[migrating])
    else:
        then_parts = _then_costs(then, batch, begin)
    return start, {f"{then.name}.{k}": v for k, v in then_parts.items()}, migrating, begin


def _then_costs(then: Option, batch: Batch, begin: np.ndarray):
    """The ``then`` option's cost components with its life beginning at ``begin``."""
    with notes_discarded(batch, then.name):
        return MODELS[then.kind](then, batch, batch.volume, start=begin)


def _on_paths(part, paths: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A cost component of the batch's ``paths`` laid out over all its paths, zero on
    the others."""
    out = np.zeros(shape)
    out[:, paths] = part
    return out


def monthly_costs(option: Option, batch: Batch, volume: np.ndarray) -> dict[str, np.ndarray]:
    """Monthly cost of a ``staged`` option, by component: ``start``'s components until
    the migration is done (prefixed ``START.``) and ``then``'s from the trigger on
    (prefixed ``THEN.``). Notes ``migrates`` (1 or 0) and ``migration_month`` (1-based;
    one past the horizon where it never migrates)."""
    path = option.path("trigger_monthly_cost")
    if path not in batch.scenario.quantities:
        raise ValueError(
            f"{option.name}: trigger_monthly_cost = {OPTIMIZE!r} must be resolved first "
            "(see simulator.decide.policy.resolve_triggers)"
        )
    costs, begin = costs_for_trigger(option, batch, batch.value(path))
    months = batch.scenario.horizon_months
    batch.note(option, "migrates", (begin < months).astype(float))
    batch.note(option, "migration_month", begin + 1.0)
    return costs
