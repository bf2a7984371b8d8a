"""Outages of an option: a share of hours (``uptime``), or incidents as events.

An option that gives ``incidents_per_month`` has, in each month of each path, a
Poisson number of incidents at that rate, each lasting an exponential time with mean
``incident_hours``: the month's hours down are their sum (a gamma draw with the count
as its shape), at most the month. The month's uptime is ``1 - hours down / H``.
``failover_minutes`` at the start of every incident are unserved even where a fallback
takes the rest (at most the incident hours). Without incidents, ``1 - uptime`` of
every month is down and failover is instant.

Draws come from the option's own streams (``options.NAME.incidents`` for the counts,
``options.NAME.incident_hours`` for the durations), so they are the same whatever
else the scenario holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option, Scenario
from ..scenario.special import poisson_counts
from .lifecycle import is_zero

__all__ = ["Outage", "has_incidents", "outage"]


@dataclass(frozen=True)
class Outage:
    """Shares of each month an option is down.

    Attributes
    ----------
    down
        Share of the month's hours the option serves nothing: a number, or an array
        that broadcasts to ``(months, paths)``.
    failover
        Of those, the share unserved even with a fallback (the failover after each
        incident starts): 0 without incidents.
    """

    down: np.ndarray | float
    failover: np.ndarray | float = 0.0


def has_incidents(option: Option, scenario: Scenario) -> bool:
    """Whether ``option`` gives its outages as incidents rather than an uptime."""
    return option.path("incidents_per_month") in scenario.quantities


def outage(option: Option, batch: Batch) -> Outage:
    """The outage of ``option`` in each month of the batch, worked out once per batch
    (a staged policy costs its stages more than once)."""
    if not has_incidents(option, batch.scenario):
        return Outage(1.0 - batch.option_value(option, "uptime"))
    return batch.shared(f"outage:{option.name}", lambda b: _incidents(option, b))


def _incidents(option: Option, batch: Batch) -> Outage:
    value = batch.option_value
    hours_per_month = batch.scenario.hours_per_month
    counts = poisson_counts(
        batch.monthly_uniforms(option.path("incidents")), value(option, "incidents_per_month")
    )
    hours = np.zeros(batch.shape)
    struck = counts > 0
    if struck.any():
        from scipy.special import gammaincinv  # only for scenarios with incidents

        mean = np.broadcast_to(value(option, "incident_hours"), batch.shape)[struck]
        shares = batch.monthly_uniforms(option.path("incident_hours"))[struck]
        hours[struck] = gammaincinv(counts[struck], shares) * mean
    down = np.minimum(hours / hours_per_month, 1.0)
    # Shared by every costing of the option on the batch: nobody may write over it.
    down.flags.writeable = False
    minutes = value(option, "failover_minutes")
    if is_zero(minutes):
        return Outage(down)
    failover = np.minimum(np.minimum(counts * (minutes / 60.0), hours) / hours_per_month, down)
    failover.flags.writeable = False
    return Outage(down, failover)
