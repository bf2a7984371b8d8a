"""Cost models, one module per option kind, all with the same signature.

``monthly_costs(option, batch, volume) -> {component: cost}``, each cost a number or
an array that broadcasts to ``(months, paths)``. A new option kind is a new module
registered in :data:`MODELS` here.
"""

from __future__ import annotations

from . import api, hybrid, on_prem, pooled, self_hosted, staged
from .registry import (
    MODELS,
    SERVED,
    CostModel,
    monthly_total,
    notes_discarded,
    option_costs,
    per_path_total,
)

__all__ = [
    "MODELS",
    "CostModel",
    "option_costs",
    "monthly_total",
    "notes_discarded",
    "per_path_total",
]

MODELS.update(
    {
        "api": api.monthly_costs,
        "self_hosted": self_hosted.monthly_costs,
        "cloud_managed": self_hosted.monthly_costs,
        "hybrid": hybrid.monthly_costs,
        "on_prem": on_prem.monthly_costs,
        "staged": staged.monthly_costs,
    }
)
SERVED["costs"] = pooled.served_costs
