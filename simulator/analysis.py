"""From per-path outcomes to the numbers a decision needs (no I/O).

Everything in the summary JSON is computed here, from a :class:`~simulator.engine.PathResults`,
into a :class:`SimulationResult` that the CLI and the report only format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine import PathResults

__all__ = [
    "Distribution",
    "OptionSummary",
    "Comparison",
    "SimulationResult",
    "summarize",
    "describe_costs",
    "cvar",
    "SCHEMA_VERSION",
]

SCHEMA_VERSION = 1
PERCENTILES = (5, 25, 50, 75, 95)


@dataclass(frozen=True)
class Distribution:
    """Mean, spread, percentiles and tail of a cost across paths."""

    mean: float
    sd: float
    p5: float
    p25: float
    p50: float
    p75: float
    p95: float
    cvar95: float

    def to_dict(self) -> dict[str, float]:
        """The JSON form."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def cvar(values: np.ndarray, level: float = 0.95) -> float:
    """Mean of the costliest ``1 - level`` share of ``values`` (at least one value)."""
    k = max(1, math.ceil((1 - level) * len(values) - 1e-9))
    return float(np.mean(np.partition(values, len(values) - k)[-k:]))


def describe_costs(values: np.ndarray) -> Distribution:
    """Summarize a cost per path into a :class:`Distribution`."""
    p = np.percentile(values, PERCENTILES)
    return Distribution(
        mean=float(np.mean(values)),
        sd=float(np.std(values)),
        p5=float(p[0]),
        p25=float(p[1]),
        p50=float(p[2]),
        p75=float(p[3]),
        p95=float(p[4]),
        cvar95=cvar(values),
    )


@dataclass(frozen=True)
class OptionSummary:
    """One option's cost distribution and standing among the options."""

    name: str
    label: str
    kind: str
    total_cost: Distribution
    npv: Distribution
    monthly_cost: dict[str, list[float]]
    p_cheapest: float
    expected_regret: float
    breakdown: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "label": self.label,
            "kind": self.kind,
            "total_cost": self.total_cost.to_dict(),
            "npv": self.npv.to_dict(),
            "monthly_cost": self.monthly_cost,
            "p_cheapest": self.p_cheapest,
            "expected_regret": self.expected_regret,
            "breakdown": self.breakdown,
        }


@dataclass(frozen=True)
class Comparison:
    """One option against the baseline, path by path."""

    name: str
    p_cheaper: float
    p_cheaper_se: float
    p_cheaper_by_year: list[float]
    savings: dict[str, float]
    breakeven_p_within_horizon: float
    breakeven_p50: int | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "p_cheaper": self.p_cheaper,
            "p_cheaper_se": self.p_cheaper_se,
            "p_cheaper_by_year": self.p_cheaper_by_year,
            "savings": self.savings,
            "breakeven_month": {
                "p_within_horizon": self.breakeven_p_within_horizon,
                "p50": self.breakeven_p50,
            },
        }


@dataclass(frozen=True)
class SimulationResult:
    """Everything a run found: per-path outcomes and their summaries.

    ``paths`` holds the raw per-path arrays for analysts; ``options`` and ``versus``
    hold the summaries; :meth:`to_dict` is the summary JSON of the contract.
    """

    paths: PathResults
    options: dict[str, OptionSummary]
    versus: dict[str, Comparison]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scenario(self):
        """The scenario that was run."""
        return self.paths.scenario

    def to_dict(self) -> dict[str, Any]:
        """The summary JSON (schema version 1), with finite numbers or null only."""
        s = self.scenario
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": {
                "name": s.name,
                "horizon_months": s.horizon_months,
                "paths": self.paths.paths,
                "seed": self.paths.seed,
                "baseline": s.baseline,
                "currency": s.currency,
                "description": s.description,
                "sampling": s.sampling,
                "discount_rate": s.discount_rate,
                "entropy": self.paths.entropy,
                "file": s.source,
                "file_sha256": s.source_sha256,
                "overrides": list(s.overrides),
            },
            "options": {n: o.to_dict() for n, o in self.options.items()},
            "versus_baseline": {n: c.to_dict() for n, c in self.versus.items()},
            **self.extra,
        }


def _cheapest_shares(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per option: share of paths where it is cheapest (ties split) and mean regret."""
    lowest = totals.min(axis=0)
    is_lowest = totals == lowest
    shares = (is_lowest / is_lowest.sum(axis=0)).mean(axis=1)
    regret = (totals - lowest).mean(axis=1)
    return shares, regret


def breakeven_median(months: np.ndarray) -> int | None:
    """Median break-even month, counting paths that never break even as never.

    ``None`` when fewer than half the paths break even within the horizon.
    """
    never = months == 0
    if never.mean() > 0.5:
        return None
    ordered = np.sort(np.where(never, np.iinfo(np.int64).max, months))
    return int(ordered[math.ceil(0.5 * len(ordered)) - 1])


def summarize(results: PathResults) -> SimulationResult:
    """Compute every summary of the contract from per-path outcomes."""
    scenario = results.scenario
    names = list(scenario.options)
    totals = np.vstack([results.totals[n] for n in names])
    shares, regret = _cheapest_shares(totals)

    options = {}
    for i, name in enumerate(names):
        option = scenario.options[name]
        monthly = np.percentile(results.monthly[name], (5, 50, 95), axis=0)
        options[name] = OptionSummary(
            name=name,
            label=option.label,
            kind=option.kind,
            total_cost=describe_costs(results.totals[name]),
            npv=describe_costs(results.npv[name]),
            monthly_cost={
                "p5": monthly[0].tolist(),
                "p50": monthly[1].tolist(),
                "p95": monthly[2].tolist(),
            },
            p_cheapest=float(shares[i]),
            expected_regret=float(regret[i]),
            breakdown={k: float(np.mean(v)) for k, v in results.components[name].items()},
        )

    base = results.totals[scenario.baseline]
    n = results.paths
    versus = {}
    for name in names:
        if name == scenario.baseline:
            continue
        savings = base - results.totals[name]
        p = float(np.mean(savings > 0))
        months = results.breakeven[name]
        pct = np.percentile(savings, (5, 50, 95))
        versus[name] = Comparison(
            name=name,
            p_cheaper=p,
            p_cheaper_se=math.sqrt(p * (1 - p) / n),
            p_cheaper_by_year=results.cheaper_by_year[name].mean(axis=0).tolist(),
            savings={
                "mean": float(np.mean(savings)),
                "p5": float(pct[0]),
                "p50": float(pct[1]),
                "p95": float(pct[2]),
            },
            breakeven_p_within_horizon=float(np.mean(months > 0)),
            breakeven_p50=breakeven_median(months),
        )
    return SimulationResult(results, options, versus)
