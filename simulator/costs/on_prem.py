"""On-premises: open-weight models on GPUs the organisation buys and keeps.

The stack is the self-hosted one (replicas, fallback and downtime come from
:mod:`.self_hosted`, setup and upgrades from :mod:`.lifecycle`, the team from
:mod:`.team`), always provisioned for peak; only the hardware is paid differently.
GPUs are bought in the month they are first needed (the serving fleet while serving,
``setup_gpus`` during setup) and kept: the GPUs owned in a month are the running
maximum of those needed so far, never sold before the horizon.

``accounting`` picks one of two views of the same purchases for the ``hardware``
component; the option's total under both is recorded as notes:

- cash: each purchase (``gpu_purchase_usd`` at that month's price trend, plus
  ``install_usd_per_gpu``) is paid in the month it is made, and the residual value of
  the GPUs owned at the horizon is credited (a negative cost) in the final month;
- amortized: each GPU costs ``(price * (1 - residual_value_fraction) + install) /
  amortization_months`` a month from its purchase for ``amortization_months`` months,
  cut at the horizon; nothing is credited. The capital tied up is charged too
  (``capital_charge``): the GPUs' book value at the start of each month times
  ``capital_charge_rate / 12`` (the scenario's ``discount_rate`` by default). The cash
  view carries no such charge: paying up front is what the NPV discounts.

GPUs are bought in whole servers of ``gpus_per_server``.

Where the contract is silent:

- a GPU's value falls straight-line from its price to ``residual_value_fraction`` of
  it over ``amortization_months``, then stays flat; its age at the horizon counts its
  purchase month in full (bought in month ``s`` of ``T``: ``T - s`` months old);
- installation does not follow the GPU price trend; the cash view never recovers it
  and the amortized view depreciates it to nothing with the GPU, so the views' totals
  differ by the installation not yet depreciated at the horizon;
- every owned GPU draws its rated power all month, busy or idle; an upgrade's
  blue-green overlap runs on owned spare capacity (sized for the peak hour, so idle
  off-peak) and adds the energy of its GPU-hours, but buys nothing;
- maintenance is charged on the purchase price (not installation) of every GPU owned,
  from its purchase month on.
"""

from __future__ import annotations

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from .lifecycle import Lifecycle, lifecycle, setup_cost, upgrade_costs
from .registry import monthly_total
from .self_hosted import serving_replicas, unserved_costs
from .team import team_for

__all__ = ["fleet", "monthly_costs"]


def fleet(serving_gpus: np.ndarray, life: Lifecycle, setup_gpus: int, per_server: int = 1):
    """GPUs owned and bought each month, in whole servers of ``per_server`` GPUs.

    Parameters
    ----------
    serving_gpus
        GPUs the serving replicas need each month, ``(months, paths)``.
    life
        The option's setup and serving months (see
        :func:`~simulator.costs.lifecycle.lifecycle`).
    setup_gpus
        GPUs needed while in setup.
    per_server
        GPUs in a server: what is needed is rounded up to whole servers.

    Returns
    -------
    owned, bought
        ``(months, paths)``: the running maximum of the GPUs needed in any month so
        far (the serving fleet in a month with any serving, ``setup_gpus`` in one with
        any setup, whichever is more in a month with both), and its monthly increase.
    """
    needed = np.where(np.greater(life.serving, 0.0), serving_gpus, 0.0)
    if setup_gpus and np.any(np.greater(life.in_setup, 0.0)):
        needed = np.maximum(needed, np.where(np.greater(life.in_setup, 0.0), setup_gpus, 0.0))
    if per_server > 1:
        needed = np.ceil(needed / per_server) * per_server
    owned = np.maximum.accumulate(needed, axis=0)
    bought = np.diff(owned, axis=0, prepend=0.0)
    return owned, bought


def _cash(bought, price, install, residual, lifetime: int) -> np.ndarray:
    """Cash view of the hardware: purchases as paid, the residual value of what is
    owned at the horizon credited in the final month."""
    months = bought.shape[0]
    paid = bought * (price + install)
    age = months - np.arange(months, dtype=float)[:, None]
    value_kept = 1.0 - (1.0 - residual) * (np.minimum(age, lifetime) / lifetime)
    paid[-1] -= np.sum(bought * price * value_kept, axis=0)
    return paid


def _amortized(bought, price, install, residual, lifetime: int) -> np.ndarray:
    """Amortized view of the hardware: each month's purchases depreciate evenly over
    the ``lifetime`` months from their purchase, cut at the horizon."""
    per_month = bought * ((price * (1.0 - residual) + install) / lifetime)
    running = np.cumsum(per_month, axis=0)
    depreciation = running.copy()
    # Cohorts older than the lifetime are fully depreciated: drop what they added.
    depreciation[lifetime:] -= running[:-lifetime]
    return depreciation


def _capital_charge(bought, price, residual, lifetime: int, rate) -> np.ndarray:
    """Each month's cost of the capital tied up in the GPUs: their book value at the
    start of the month (price less straight-line depreciation to date, never below the
    residual) times ``rate / 12``."""
    basis = np.cumsum(bought * price, axis=0)
    depreciated = np.cumsum(_amortized(bought, price, 0.0, residual, lifetime), axis=0)
    book = basis.copy()
    book[1:] -= depreciated[:-1]  # depreciation charged before this month
    return book * (rate / 12.0)


def monthly_costs(
    option: Option, batch: Batch, volume: np.ndarray, start=None
) -> dict[str, np.ndarray]:
    """Monthly cost of an ``on_prem`` option (owned GPUs), by component.

    Parameters
    ----------
    option
        The option to cost.
    batch
        The batch being costed; the option's notes are recorded on it.
    volume
        Requests per month, ``(months, paths)``.
    start
        ``None``, or per path the 0-based month in which the option's life begins,
        shape ``(paths,)``, whole months (at or past the horizon: never), as for
        :func:`simulator.costs.self_hosted.monthly_costs`; GPUs are bought from then
        on.

    Returns
    -------
    dict
        Components, each a number or an array that broadcasts to ``(months, paths)``:
        ``hardware`` (purchases and the final residual credit, or depreciation, per
        ``accounting``), ``capital_charge`` (amortized, with a rate above 0),
        ``energy`` (owned GPUs and upgrade overlaps), ``maintenance``, ``facility``,
        ``infra``, ``people``, ``hiring``, ``setup``, ``upgrades``, ``fallback`` and
        ``downtime``.

    Notes
    -----
    Records per path with :meth:`~simulator.paths.batch.Batch.note`: ``cash_total`` and
    ``amortized_total`` (the option's total cost over the horizon under each view,
    every component included) and ``gpus_owned`` (GPUs owned at the horizon).
    """
    params = option.params
    value = batch.option_value
    hours = batch.scenario.hours_per_month
    gpus_per_replica = params["gpus_per_replica"]

    replicas, escalation = serving_replicas(option, batch, volume)
    life = lifecycle(option, batch, start)
    team = team_for(option, batch, life)
    upgrades, upgrade_effort = upgrade_costs(option, batch, life.serving)

    owned, bought = fleet(
        replicas * gpus_per_replica, life, params["setup_gpus"], params["gpus_per_server"]
    )
    price = value(option, "gpu_purchase_usd") * batch.trend(option.path("annual_gpu_price_change"))
    install = value(option, "install_usd_per_gpu")
    residual = value(option, "residual_value_fraction")
    lifetime = params["amortization_months"]
    views = {
        "cash": _cash(bought, price, install, residual, lifetime),
        "amortized": _amortized(bought, price, install, residual, lifetime),
    }
    rate = params["capital_charge_rate"]
    rate = batch.scenario.discount_rate if rate is None else rate
    charge = 0.0 if rate == 0 else _capital_charge(bought, price, residual, lifetime, rate)

    energy_per_gpu_hour = (
        value(option, "power_kw_per_gpu")
        * value(option, "pue")
        * value(option, "electricity_usd_per_kwh")
    )
    gpu_hours = owned * hours
    if upgrades is not None:
        overlap_hours = value(option, "upgrade_overlap_days") * 24
        gpu_hours += upgrades * replicas * (gpus_per_replica * overlap_hours)
    maintenance = value(option, "maintenance_fraction_per_year") / 12
    if isinstance(maintenance, np.ndarray) or maintenance != 0:
        maintenance = maintenance * np.cumsum(bought * price, axis=0)

    fallback, downtime = unserved_costs(option, batch, volume, life, team, escalation)
    costs = {
        "hardware": views[params["accounting"]],
        "energy": gpu_hours * energy_per_gpu_hour,
        "maintenance": maintenance,
        "facility": life.during(value(option, "facility_monthly_usd")),
        "infra": life.during(value(option, "infra_monthly_usd")),
        "people": team.salaries,
        "hiring": team.hiring,
        "setup": setup_cost(option, batch, life),
        "upgrades": upgrade_effort,
        "fallback": fallback,
        "downtime": downtime,
    }

    if params["accounting"] == "amortized" and not isinstance(charge, float):
        costs["capital_charge"] = charge
    for view, hardware in views.items():
        parts = {**costs, "hardware": hardware}
        parts.pop("capital_charge", None)
        if view == "amortized" and not isinstance(charge, float):
            parts["capital_charge"] = charge
        total = monthly_total(parts, batch.shape).sum(axis=0)
        batch.note(option, f"{view}_total", total)
    batch.note(option, "gpus_owned", owned[-1])
    return costs
