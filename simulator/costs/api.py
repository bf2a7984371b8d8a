"""Per-token APIs: frontier closed models, or open-weight models hosted by a provider."""

from __future__ import annotations

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option

__all__ = ["monthly_costs", "traffic_cost"]


def traffic_cost(option: Option, batch: Batch, volume: np.ndarray) -> np.ndarray:
    """Token charges for ``volume`` requests a month, with the price trend applied.

    ``V_t * (in_tok * in_price + out_tok * out_price) / 1e6 * (1 + annual_price_change)**(t/12)``

    On the batch's own volume the charges are worked out once per batch (the option
    itself and every stack falling back to it ask for them), so the result must not
    be written to.
    """
    if volume is batch.volume:
        return batch.cached(f"traffic:{option.name}", lambda: _charges(option, batch, volume))
    return _charges(option, batch, volume)


def _charges(option: Option, batch: Batch, volume: np.ndarray) -> np.ndarray:
    return volume * batch.cached(f"price:{option.name}", lambda: _price_per_request(option, batch))


def _price_per_request(option: Option, batch: Batch):
    """Each month's price of one request (a fallback or a hybrid route asks again)."""
    in_tokens = batch.value("workload.input_tokens_per_request")
    out_tokens = batch.value("workload.output_tokens_per_request")
    in_price = batch.option_value(option, "input_price_per_mtok")
    out_price = batch.option_value(option, "output_price_per_mtok")
    per_request = (in_tokens * in_price + out_tokens * out_price) / 1e6
    return per_request * batch.trend(option.path("annual_price_change"))


def monthly_costs(option: Option, batch: Batch, volume: np.ndarray) -> dict[str, np.ndarray]:
    """Monthly cost of an ``api`` option: traffic, fixed fee and downtime, each in the
    smallest shape that broadcasts to (months, paths).

    ``cost_t = traffic_t + monthly_fee + (1 - uptime) * hours_per_month * downtime_cost_per_hour``
    """
    downtime_hours = (1.0 - batch.option_value(option, "uptime")) * batch.scenario.hours_per_month
    return {
        "traffic": traffic_cost(option, batch, volume),
        "fees": batch.option_value(option, "monthly_fee"),
        "downtime": downtime_hours * batch.value("business.downtime_cost_per_hour"),
    }
