"""What a validated scenario is: frozen dataclasses, one per table of the file.

A :class:`Scenario` holds every quantity as a
:class:`~simulator.scenario.distributions.Distribution`; options keep their validated
keys in ``params``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import schema
from .distributions import Distribution

__all__ = [
    "Correlation",
    "Portfolio",
    "Option",
    "Route",
    "Scenario",
    "StressSettings",
    "Requirements",
    "OPTIMIZE",
]

OPTIMIZE = "optimize"
"""The ``trigger_monthly_cost`` of a staged option whose trigger is searched for."""


@dataclass(frozen=True)
class Route:
    """One leg of a hybrid option: ``share`` of the volume goes to ``option``."""

    option: str
    share: float


@dataclass(frozen=True)
class Option:
    """A hosting option: its kind, label and validated parameters."""

    name: str
    kind: str
    label: str
    params: Mapping[str, Any]

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes of a hybrid option (empty for other kinds)."""
        return self.params.get("routes", ())

    def path(self, key: str) -> str:
        """Dotted key path of one of this option's keys."""
        return f"options.{self.name}.{key}"


@dataclass(frozen=True)
class Correlation:
    """A target rank (Spearman) correlation between two sampled inputs."""

    between: tuple[str, str]
    rank: float


@dataclass(frozen=True)
class StressSettings:
    """The ``[stress]`` table: the forecast-shock grid and the paths its runs use.

    ``volume_realization`` and ``growth_realization`` are sorted, without repeats.
    """

    volume_realization: tuple[float, ...] = schema.STRESS["volume_realization"].default
    growth_realization: tuple[float, ...] = schema.STRESS["growth_realization"].default
    paths: int = schema.STRESS["paths"].default
    sensitivity_paths: int = schema.STRESS["sensitivity_paths"].default
    by_workload: bool = schema.STRESS["by_workload"].default


@dataclass(frozen=True)
class Requirements:
    """The ``[requirements]`` table: constraints that override cost (section 7)."""

    data_residency: bool = False
    max_ttft_ms: float | None = None
    min_p_latency_met: float = schema.REQUIREMENTS["min_p_latency_met"].default
    ops_capacity: str | None = None


@dataclass(frozen=True)
class Portfolio:
    """Which option serves which workload: ``candidates`` (option names, each
    workload's own in ``allowed``), the ``objective`` (``"mean"`` or ``"cvar95"``) and
    ``assign`` (``"optimize"``, or a mapping of every workload to a candidate)."""

    candidates: tuple[str, ...]
    objective: str = "mean"
    assign: str | Mapping[str, str] = "optimize"
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Each workload's own candidates (its ``candidates`` key, else all of them)."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: settings, workload, options and correlations.

    ``quantities`` maps every dotted key path that holds a quantity to its
    distribution; ``inputs`` lists, in a stable order, those that are uncertain.
    ``pinned_correlated_inputs`` are the fixed inputs a ``[[correlations]]`` pair names:
    those pairs are left out of the copula.
    """

    name: str
    description: str
    horizon_months: int
    discount_rate: float
    hours_per_month: float
    paths: int
    seed: int | None
    baseline: str
    currency: str
    sampling: str
    options: Mapping[str, Option]
    quantities: Mapping[str, Distribution]
    correlations: tuple[Correlation, ...] = ()
    pinned_correlated_inputs: tuple[str, ...] = ()
    stress: StressSettings = StressSettings()
    requirements: Requirements = Requirements()
    source: str | None = None
    source_sha256: str | None = None
    overrides: tuple[str, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)
    """Where each number comes from, by dotted key path: a distribution table's
    ``source``, or (read from a file) the comment on or above its line; see
    :mod:`simulator.scenario.notes`."""
    load_profile: tuple[float, ...] | None = None
    """The workload's hours scaled to mean 1 (1, 24 or 168 of them), when it has a
    ``load_profile``."""
    price_catalogue: Mapping[str, Any] | None = None
    """The catalogue api prices were taken from (``name``, ``version``, ``price_date``),
    when an option names a ``model``."""
    workloads: Mapping[str, Scenario] = field(default_factory=dict)
    """With ``[workloads.NAME]`` tables: each workload's own scenario, whose
    ``workload.*`` quantities are that workload's (its ``[workload]`` as if alone).
    Empty for a scenario of one ``[workload]``."""
    portfolio: Portfolio | None = None
    """The ``[portfolio]`` decision, for a scenario of several workloads."""
    shocked_workload: str | None = None
    """With several workloads: the only one a forecast shock (a stress run's volume and
    growth multipliers) applies to; ``None``, every one."""

    def __repr__(self) -> str:
        return (
            f"<Scenario {self.name!r}: {self.horizon_months} months, {self.paths:,} paths, "
            f"options {list(self.options)}, {len(self.inputs)} uncertain inputs>"
        )

    @property
    def inputs(self) -> tuple[str, ...]:
        """Dotted paths of the uncertain (non-fixed) quantities, in file order."""
        return tuple(k for k, d in self.quantities.items() if not d.is_fixed)

    @property
    def each_workload(self) -> tuple[Scenario, ...]:
        """The scenario as each of its workloads sees it alone (``workload.KEY`` its
        keys): the scenario itself when it has one ``[workload]``."""
        return tuple(self.workloads.values()) or (self,)

    def fixed_value(self, path: str) -> float:
        """The value of a quantity that does not vary (raises if it does)."""
        dist = self.quantities[path]
        if not dist.is_fixed:
            raise KeyError(f"{path} is uncertain")
        return dist.support()[0]
