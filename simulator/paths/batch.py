"""What a cost model sees: one batch of paths with its draws, volumes and streams.

Arrays over months and paths are ``(months, paths)``. A per-path value is an array of
shape ``(paths,)`` and a per-month one ``(months, 1)``, so both broadcast against a
month-by-path array without copies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ..scenario.model import Option, Scenario
from ..scenario.workloads import alone_key, alone_scenario
from .sampling import Streams
from .workload import realized_volume

__all__ = ["Batch", "make_batch"]

T = TypeVar("T")


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
        Realized requests per month, shape ``(months, paths)``.
    """

    scenario: Scenario
    draws: Mapping[str, np.ndarray]
    streams: Streams
    volume: np.ndarray
    notes: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    volumes: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    """With several workloads: each one's realized requests per month (``volume`` is
    their sum)."""
    pooled: Callable | None = field(default=None, repr=False)
    """On a batch that costs a stack for several workloads at once: for an option, its
    pooled demand and peak-to-average (see :mod:`simulator.costs.pooled`)."""
    _memo: dict = field(default_factory=dict, repr=False)
    _source: tuple[Batch, np.ndarray] | None = field(default=None, repr=False)
    _parent: Batch | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """Number of paths in the batch."""
        return self.streams.size if self._source is None else self._source[1].size

    def view(self, workload: str) -> Batch:
        """The batch as workload ``workload`` alone sees it, once per batch.

        Its scenario is the workload's own (``workload.KEY`` are its keys), its volume
        the workload's; every other draw and stream is this batch's. Unless the
        workload sets its own, its ``downtime_cost_per_hour`` is ``[business]``'s
        times its share of the month-1 forecast requests.
        """
        return self.cached(f"view:{workload}", lambda: self._view(workload))

    def _view(self, workload: str) -> Batch:
        scenario = self.scenario
        prefix = f"workloads.{workload}."
        draws = {k: v for k, v in self.draws.items() if not k.startswith("workloads.")}
        for key, values in self.draws.items():
            if key.startswith(prefix):
                draws[alone_key(key[len(prefix) :])] = values
        if f"{prefix}downtime_cost_per_hour" not in scenario.quantities:
            size = (self.size,)
            forecasts = {
                n: np.broadcast_to(self.value(f"workloads.{n}.requests_per_month"), size)
                for n in scenario.workloads
            }
            everything = sum(forecasts.values())
            share = np.divide(
                forecasts[workload], everything, out=np.zeros(size), where=everything > 0
            )
            cost = self.value("business.downtime_cost_per_hour") * share
            draws["business.downtime_cost_per_hour"] = np.broadcast_to(cost, size)
        return Batch(
            alone_scenario(scenario, workload),
            draws,
            self.streams,
            self.volumes[workload],
            _parent=self,
        )

    def release(self) -> None:
        """Drop everything worked out for the batch and its workload views. A view
        refers back to the batch it came from, so without this their arrays (hundreds
        of megabytes for a portfolio) would wait for the garbage collector's next full
        pass, several batches later."""
        for value in self._memo.values():
            if isinstance(value, Batch):
                value.release()
        self._memo.clear()

    def take(self, paths: np.ndarray) -> Batch:
        """The paths at index ``paths`` as a batch of their own.

        Each path keeps its draws, volumes and month-by-month uniforms, so every cost
        worked out on it is the one worked out on this batch: costs are per path.
        """
        paths = np.asarray(paths, dtype=np.intp)
        return Batch(
            self.scenario,
            {key: values[paths] for key, values in self.draws.items()},
            self.streams,
            self.volume[:, paths],
            volumes={n: v[:, paths] for n, v in self.volumes.items()},
            _source=(self, paths),
        )

    @property
    def shape(self) -> tuple[int, int]:
        """``(months, paths)``."""
        return (self.scenario.horizon_months, self.size)

    @property
    def months(self) -> np.ndarray:
        """Month index ``t`` (0 for the first month), shape ``(months, 1)``."""
        return np.arange(self.scenario.horizon_months, dtype=float)[:, None]

    def value(self, path: str):
        """A quantity by dotted key path: a float if fixed, else shape ``(paths,)``."""
        if path in self.draws:
            return self.draws[path]
        return self.scenario.fixed_value(path)

    def option_value(self, option: Option, key: str):
        """One of an option's quantities (see :meth:`value`)."""
        return self.value(option.path(key))

    def trend(self, path: str):
        """``(1 + c)**(t/12)`` for each month, where ``c`` is the annual change at the
        dotted key ``path``: ``(months, 1)`` for a fixed change, ``(months, paths)`` for
        an uncertain one, the number 1 for none. Computed once per batch.

        Built by multiplying month by month with ``(1 + c)**(1/12)``, elementwise:
        NumPy's power takes different (last-bit different) routes depending on how a
        broadcast is iterated, which would let the batch size leak into the results.
        """
        if self._parent is not None:
            return self._parent.trend(path)
        return self.cached(f"trend:{path}", lambda: self._trend(self.value(path)))

    def cached(self, key: str, compute):
        """``compute()``, worked out once per batch under ``key`` (for values several
        options share, such as an API's price series used by its fallbacks)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def per_path(self, key: str, compute: Callable[[Batch], T]) -> T:
        """``compute(batch)``, a result of per-path arrays (paths on their last axis) and
        numbers, worked out once per batch under ``key``. A batch made by :meth:`take`
        gets its paths' part of its source's, rather than working it out again."""
        if self._source is None:
            return self.cached(key, lambda: compute(self))
        batch, paths = self._source
        return self.cached(
            key, lambda: _take_paths(batch.per_path(key, compute), paths, batch.size)
        )

    def shared(self, key: str, compute: Callable[[Batch], T]) -> T:
        """:meth:`per_path` for a value that depends on the options' draws and streams
        only, not on a workload's: worked out once for a batch and all its workload
        views (:meth:`view`)."""
        if self._parent is not None:
            return self._parent.shared(key, compute)
        return self.per_path(key, compute)

    def _trend(self, annual_change):
        months = self.scenario.horizon_months
        if not isinstance(annual_change, np.ndarray):
            if annual_change == 0:
                return 1.0
            return np.array([(1.0 + annual_change) ** (t / 12) for t in range(months)])[:, None]
        step = np.power(1.0 + annual_change, 1 / 12)
        out = np.empty((months, step.size))
        out[0] = 1.0
        for t in range(1, months):
            np.multiply(out[t - 1], step, out=out[t])
        return out

    def note(self, option: Option, key: str, values) -> None:
        """Record a per-path statistic of ``option`` beyond its costs (the month a
        staged policy migrates, the other accounting view of owned GPUs...), shape
        ``(paths,)``; the run summarizes it as ``options.NAME.notes.KEY``."""
        self.notes.setdefault(option.name, {})[key] = np.broadcast_to(
            np.asarray(values, dtype=float), (self.size,)
        )

    def monthly_uniforms(self, name: str) -> np.ndarray:
        """Uniforms of stream ``name``, one per path and month, ``(months, paths)``.

        Drawn once per batch (a staged policy costs its options more than once) and
        read-only, since every caller gets the same array.
        """

        if self._parent is not None:
            return self._parent.monthly_uniforms(name)

        def draw() -> np.ndarray:
            if self._source is not None:
                batch, paths = self._source
                uniforms = batch.monthly_uniforms(name)[:, paths]
            else:
                months = (self.scenario.horizon_months,)
                uniforms = self.streams.uniform(name, months, paths_last=True)
            uniforms.flags.writeable = False
            return uniforms

        return self.cached(f"uniforms:{name}", draw)


def _take_paths(value, paths: np.ndarray, size: int):
    """The part of ``value`` for ``paths`` of ``size``: every array whose last axis
    runs over the paths, inside a dataclass or a tuple too; numbers and per-month arrays as
    they are."""
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(
            value,
            **{
                f.name: _take_paths(getattr(value, f.name), paths, size)
                for f in dataclasses.fields(value)
            },
        )
    if isinstance(value, tuple):
        return tuple(_take_paths(item, paths, size) for item in value)
    if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == size:
        return value[..., paths]
    return value


def make_batch(
    scenario: Scenario,
    streams: Streams,
    draws: Mapping[str, np.ndarray],
    *,
    volume_scale: float = 1.0,
    growth_scale: float = 1.0,
) -> Batch:
    """Build the batch for ``streams``: realize volumes from the sampled inputs.

    ``volume_scale`` multiplies each path's realized volume level and ``growth_scale``
    its realized growth rate (a forecast shock applied on the same draws: the stress
    test's common random numbers); at 1 they leave every number as it is. With
    several workloads each is realized from its own inputs and shocks (the scales
    applying to the scenario's ``shocked_workload`` alone, when it names one), and the
    batch's ``volume`` is their sum.
    """
    values = Batch(scenario, draws, streams, np.empty(0))
    scales = (volume_scale, growth_scale)
    if not scenario.workloads:
        values.volume = _realized(values, "workload.", "workload.growth_shocks", scales)
        return values
    names = tuple(scenario.workloads)
    shocks = "workload.growth_shocks" if len(names) == 1 else "workloads.{}.growth_shocks"
    shocked = scenario.shocked_workload
    values.volumes = {
        n: _realized(
            values, f"workloads.{n}.", shocks.format(n), scales if shocked in (None, n) else (1, 1)
        )
        for n in names
    }
    values.volume = sum(values.volumes.values()) if len(names) > 1 else values.volumes[names[0]]
    return values


def _realized(values: Batch, prefix: str, shock_stream: str, scales) -> np.ndarray:
    """The realized volume of the workload whose keys start with ``prefix``."""
    scenario, streams = values.scenario, values.streams
    volume_scale, growth_scale = scales
    volume_realization = values.value(f"{prefix}volume_realization")
    growth_realization = values.value(f"{prefix}growth_realization")
    if volume_scale != 1:
        volume_realization = volume_realization * volume_scale
    if growth_scale != 1:
        growth_realization = growth_realization * growth_scale
    volatility = scenario.quantities[f"{prefix}growth_volatility"]
    shocks = None
    if not (volatility.is_fixed and volatility.support()[0] == 0):
        # Drawn per path (paths, months), as the seeding contract lays the stream out,
        # and laid out (months, paths) for the month-by-month recurrence.
        shocks = streams.normal(shock_stream, (scenario.horizon_months,), paths_last=True)
    return realized_volume(
        values.value(f"{prefix}requests_per_month"),
        values.value(f"{prefix}monthly_growth"),
        months=scenario.horizon_months,
        paths=streams.size,
        volume_realization=volume_realization,
        growth_realization=growth_realization,
        growth_volatility=values.value(f"{prefix}growth_volatility"),
        shocks=shocks,
    )
