"""Cost models, one module per option kind, all with the same signature.

``monthly_costs(option, batch, volume) -> {component: array (paths, months)}``. A new
option kind is a new module registered in :data:`MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..batch import Batch
from ..scenario import Option
from . import api, hybrid, self_hosted

__all__ = ["MODELS", "CostModel", "option_costs"]

CostModel = Callable[[Option, Batch, np.ndarray], dict[str, np.ndarray]]

MODELS: dict[str, CostModel] = {
    "api": api.monthly_costs,
    "self_hosted": self_hosted.monthly_costs,
    "cloud_managed": self_hosted.monthly_costs,
    "hybrid": hybrid.monthly_costs,
}


def option_costs(
    batch: Batch, name: str, volume: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Monthly cost components of option ``name`` for ``volume`` (default: the batch's).

    Returns
    -------
    dict
        Component name (``"traffic"``, ``"gpus"``, ``"people"`` ...) to an array of
        shape ``(paths, months)``.
    """
    option = batch.scenario.options[name]
    volume = batch.volume if volume is None else volume
    return MODELS[option.kind](option, batch, volume)
