"""Hybrid: volume split across other options by fixed shares."""

from __future__ import annotations

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option
from .registry import option_costs

__all__ = ["monthly_costs"]


def monthly_costs(option: Option, batch: Batch, volume: np.ndarray) -> dict[str, np.ndarray]:
    """Each route's option costed on its share of the volume, its fixed costs in full.

    Components are prefixed with the route's option name (``self_hosted.gpus``).
    """
    costs: dict[str, np.ndarray] = {}
    for route in option.routes:
        for component, cost in option_costs(batch, route.option, volume * route.share).items():
            costs[f"{route.option}.{component}"] = cost
    return costs
