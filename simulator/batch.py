"""What a cost model sees: one batch of paths with its draws, volumes and streams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .sampling import Streams
from .scenario import Option, Scenario
from .workload import realized_volume

__all__ = ["Batch", "make_batch"]


@dataclass
class Batch:
    """A batch of paths, ready to be costed by every option.

    Attributes
    ----------
    scenario
        The scenario being run.
    draws
        Dotted key path to sampled values, shape ``(paths,)``, for uncertain inputs.
    streams
        Named random streams for month-by-month events (attrition, upgrades).
    volume
        Realized requests per month, shape ``(paths, months)``.
    """

    scenario: Scenario
    draws: Mapping[str, np.ndarray]
    streams: Streams
    volume: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Number of paths in the batch."""
        return self.streams.size

    @property
    def months(self) -> np.ndarray:
        """Month index ``t`` (0 for the first month), shape ``(months,)``."""
        return np.arange(self.scenario.horizon_months)

    def value(self, path: str):
        """A quantity by dotted key path: a float if fixed, else shape ``(paths, 1)``."""
        if path in self.draws:
            return self.draws[path][:, None]
        return self.scenario.fixed_value(path)

    def option_value(self, option: Option, key: str):
        """One of an option's quantities (see :meth:`value`)."""
        return self.value(option.path(key))

    def full(self, x) -> np.ndarray:
        """Broadcast a scalar or ``(paths, 1)`` array to ``(paths, months)``."""
        return np.broadcast_to(x, (self.size, self.scenario.horizon_months))


def make_batch(scenario: Scenario, streams: Streams, draws: Mapping[str, np.ndarray]) -> Batch:
    """Build the batch for ``streams``: realize volumes from the sampled inputs."""
    values = Batch(scenario, draws, streams, np.empty(0))
    volatility = scenario.quantities["workload.growth_volatility"]
    shocks = None
    if not (volatility.is_fixed and volatility.support()[0] == 0):
        shocks = streams.normal("workload.growth_shocks", (scenario.horizon_months,))
    volume = realized_volume(
        values.value("workload.requests_per_month"),
        values.value("workload.monthly_growth"),
        months=scenario.horizon_months,
        volume_realization=values.value("workload.volume_realization"),
        growth_realization=values.value("workload.growth_realization"),
        growth_volatility=values.value("workload.growth_volatility"),
        shocks=shocks,
    )
    values.volume = np.broadcast_to(volume, (streams.size, scenario.horizon_months))
    return values
