"""Rented GPUs as they are billed: reserved capacity, spot and on-demand.

A stack's GPUs are rented on demand, hour by hour, unless it reserves some or rents a
share on spot:

- ``reserved_gpus`` GPUs are paid for every hour of every month of the term, at
  ``1 - reserved_discount`` of the on-demand price, used or not. The term is
  ``reserved_months`` months (default: the rest of the horizon) from the first month
  in which the stack serves traffic; that month is paid in full.
- The GPU-hours needed beyond the reservation are rented: ``spot_share`` of them on
  spot at ``1 - spot_discount`` of the on-demand price, the rest on demand.
- ``spot_unavailability`` of the spot hours are preempted. They are still paid, are not
  replaced, and the traffic they would have served (the month's served traffic times
  spot hours over the hours needed) goes to the fallback, or is unserved.

Costs are returned in the smallest shape that broadcasts to ``(months, paths)``, as in
:mod:`.self_hosted`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import OPTIMIZE, Option, Scenario
from .lifecycle import is_zero

__all__ = ["Rental", "rent", "rents_on_demand_only", "replica_price"]


@dataclass(frozen=True)
class Rental:
    """A month-by-month GPU bill of a stack, by how the GPUs are rented.

    Attributes
    ----------
    on_demand, reserved, spot
        Cost of the on-demand, reserved and spot GPU-hours.
    preempted
        Share of each month's served traffic lost to spot preemptions: a number or an
        array that broadcasts to ``(months, paths)``.
    """

    on_demand: np.ndarray | float
    reserved: np.ndarray | float
    spot: np.ndarray | float
    preempted: np.ndarray | float


def rents_on_demand_only(option: Option, scenario: Scenario) -> bool:
    """Whether every GPU-hour of stack ``option`` is rented on demand: it reserves no
    GPUs (and does not search a count) and rents none on spot."""
    if option.kind == "on_prem":
        return True
    if option.params["reserved_gpus"] == OPTIMIZE:
        return False
    spot = scenario.quantities[option.path("spot_share")]
    return option.params["reserved_gpus"] == 0 and spot.is_fixed and spot.support()[1] == 0


def replica_price(option: Option, batch: Batch):
    """Each month's on-demand price of a replica-hour, ``gpus_per_replica`` GPU-hours
    (a managed endpoint pays its premium); worked out once per batch, for all its
    workloads."""

    def price(batch: Batch):
        value = batch.option_value
        premium = value(option, "managed_premium") if option.kind == "cloud_managed" else 0.0
        gpu_hourly = (
            value(option, "gpu_hourly_usd")
            * (1.0 + premium)
            * batch.trend(option.path("annual_gpu_price_change"))
        )
        return option.params["gpus_per_replica"] * gpu_hourly

    return batch.shared(f"gpu_price:{option.name}", price)


def reserved_term(option: Option, batch: Batch, serving) -> np.ndarray:
    """Where each month lies in the reservation's term: from the first month the stack
    serves, for ``reserved_months`` months (default: to the horizon). A mask that
    broadcasts to ``(months, paths)``."""
    months = batch.shape[0]
    term = option.params["reserved_months"] or months
    serving = np.asarray(serving, dtype=float)
    if serving.ndim < 2:
        serving = np.broadcast_to(serving, (months, 1))
    served = np.cumsum(serving > 0, axis=0)
    return (served >= 1) & (served <= term)


def rent(
    option: Option, batch: Batch, needed, serving, reserved_gpus: float, covered=None
) -> Rental:
    """The GPU bill of stack ``option`` for ``needed`` replica-hours a month.

    Parameters
    ----------
    option
        A ``self_hosted`` or ``cloud_managed`` option.
    batch
        The batch being costed.
    needed
        Replica-hours the stack runs each month (serving, setup and upgrade overlap),
        ``(months, paths)``; not overwritten.
    serving
        Share of each month the stack serves (see :class:`~.lifecycle.Lifecycle`).
    reserved_gpus
        GPUs reserved for the term.
    covered
        ``None``, or (for an autoscaled stack with a load profile) a function of the
        replicas reserved giving the replica-hours they carry each month, hour by hour.
        Without it reserved GPUs carry every hour the stack runs up to their count
        (setup and upgrade overlap too); with it only the serving replicas' hours, and
        the rest is on demand.

    Returns
    -------
    Rental
        The bill by how the hours are rented, and the traffic share preempted.
    """
    value = batch.option_value
    hours = batch.scenario.hours_per_month
    price = replica_price(option, batch)
    reserved_hours = 0.0
    reserved = 0.0
    if reserved_gpus > 0:
        per_month = reserved_gpus / option.params["gpus_per_replica"] * hours
        reserved_hours = np.where(reserved_term(option, batch, serving), per_month, 0.0)
        reserved = reserved_hours * ((1.0 - value(option, "reserved_discount")) * price)
    if covered is not None and reserved_gpus > 0:
        per_replica = reserved_gpus / option.params["gpus_per_replica"]
        in_term = reserved_term(option, batch, serving)
        beyond = np.maximum(needed - np.where(in_term, covered(per_replica), 0.0), 0.0)
    else:
        beyond = np.maximum(needed - reserved_hours, 0.0)
    spot_share = value(option, "spot_share")
    if is_zero(spot_share):
        return Rental(beyond * price, reserved, 0.0, 0.0)
    spot_hours = beyond * spot_share
    spot = spot_hours * ((1.0 - value(option, "spot_discount")) * price)
    on_demand = (beyond - spot_hours) * price
    with np.errstate(divide="ignore", invalid="ignore"):
        on_spot = np.where(needed > 0, spot_hours / needed, 0.0)
    preempted = on_spot * value(option, "spot_unavailability")
    return Rental(on_demand, reserved, spot, preempted)
