"""From per-path outcomes to the numbers a decision needs (no I/O).

Everything in the summary JSON is computed here, from a :class:`~simulator.engine.run.PathResults`,
into a :class:`SimulationResult` that the CLI and the report only format.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.histogram import Histogram
from ..engine.run import PathResults
from ..engine.tally import cvar
from ..scenario.requirements import exclusions

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


def describe_costs(histogram: Histogram, moments: np.ndarray) -> Distribution:
    """Summarize a cost across paths from its histogram and ``[count, mean, M2]``."""
    p = histogram.quantile(np.array(PERCENTILES) / 100)
    exact = histogram.min == histogram.max  # every path the same: no rounding at all
    return Distribution(
        mean=histogram.min if exact else float(moments[1]),
        sd=0.0 if exact else math.sqrt(max(moments[2], 0.0) / moments[0]),
        p5=float(p[0]),
        p25=float(p[1]),
        p50=float(p[2]),
        p75=float(p[3]),
        p95=float(p[4]),
        cvar95=histogram.tail_mean(0.05),
    )


@dataclass(frozen=True)
class OptionSummary:
    """One option's cost distribution and standing among the options."""

    name: str
    label: str
    kind: str
    total_cost: Distribution
    npv: Distribution
    cash_cost: Distribution
    monthly_cost: dict[str, list[float]]
    p_cheapest: float
    expected_regret: float
    breakdown: dict[str, float]
    notes: dict[str, dict[str, float]] = field(default_factory=dict)
    policy: dict[str, Any] | None = None
    p_latency_met: float | None = None
    excluded: str | None = None
    p_cheapest_allowed: float | None = None
    reserved_gpus: int | None = None
    reserved_search: dict[str, Any] | None = None
    catalogue: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``notes``, ``policy``, ``p_latency_met``, ``excluded``,
        ``p_cheapest_allowed``, ``reserved_gpus``, ``reserved_search`` and
        ``catalogue`` only where they apply)."""
        out = {
            "label": self.label,
            "kind": self.kind,
            "total_cost": self.total_cost.to_dict(),
            "npv": self.npv.to_dict(),
            "cash_cost": self.cash_cost.to_dict(),
            "monthly_cost": self.monthly_cost,
            "p_cheapest": self.p_cheapest,
            "expected_regret": self.expected_regret,
            "breakdown": self.breakdown,
        }
        if self.notes:
            out["notes"] = self.notes
        if self.policy is not None:
            out["policy"] = self.policy
        if self.p_latency_met is not None:
            out["p_latency_met"] = self.p_latency_met
        if self.excluded is not None:
            out["excluded"] = self.excluded
        if self.p_cheapest_allowed is not None:
            out["p_cheapest_allowed"] = self.p_cheapest_allowed
        if self.reserved_gpus is not None:
            out["reserved_gpus"] = self.reserved_gpus
        if self.reserved_search is not None:
            out["reserved_search"] = self.reserved_search
        if self.catalogue is not None:
            out["catalogue"] = self.catalogue
        return out


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
    hold the summaries; :meth:`to_dict` is the summary JSON of the contract, with
    ``extra`` (added summary keys: ``precision``, ``stress``, ``breakeven``...) merged
    in. ``timings`` holds the seconds later analyses took (the stress test's), which
    are not part of the summary so that it stays the same from run to run.
    """

    paths: PathResults
    options: dict[str, OptionSummary]
    versus: dict[str, Comparison]
    extra: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario(self):
        """The scenario that was run."""
        return self.paths.scenario

    def __repr__(self) -> str:
        chosen = self.extra.get("recommendation", {}).get("option")
        return (
            f"<SimulationResult {self.scenario.name!r}: {self.paths.paths:,} paths, "
            f"{len(self.options)} options, baseline {self.scenario.baseline!r}"
            + (f", recommends {chosen!r}>" if chosen else ">")
        )

    def _repr_html_(self) -> str:
        from .frames import html_summary

        return html_summary(self)

    def to_frame(self):
        """One row per option (see :func:`simulator.decide.frames.option_frame`).

        Returns
        -------
        pandas.DataFrame
            Indexed by option name: label, kind, mean, sd, p5, p50, p95, cvar95,
            p_cheaper, p_cheapest, breakeven_month, excluded.
        """
        from .frames import option_frame

        return option_frame(self)

    def monthly_frame(self):
        """Each month's cost by option and statistic (see
        :func:`simulator.decide.frames.monthly_frame`).

        Returns
        -------
        pandas.DataFrame
            Indexed by month; columns (option, statistic).
        """
        from .frames import monthly_frame

        return monthly_frame(self)

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
                **(
                    {"pinned_correlated_inputs": list(s.pinned_correlated_inputs)}
                    if s.pinned_correlated_inputs
                    else {}
                ),
                **({"price_catalogue": dict(s.price_catalogue)} if s.price_catalogue else {}),
            },
            "options": {n: o.to_dict() for n, o in self.options.items()},
            "versus_baseline": {n: c.to_dict() for n, c in self.versus.items()},
            **self.extra,
        }


def breakeven_median(counts: np.ndarray) -> int | None:
    """Median break-even month from counts per month (index 0: never breaks even),
    counting never as later than every month; ``None`` when fewer than half the paths
    break even within the horizon."""
    n = counts.sum()
    if counts[0] > n / 2:
        return None
    order = np.concatenate([counts[1:], counts[:1]])  # never goes last
    rank = math.ceil(0.5 * n)
    return int(np.searchsorted(np.cumsum(order), rank) + 1)


def _describe_note(histogram: Histogram, moments: np.ndarray) -> dict[str, float]:
    p = histogram.quantile([0.05, 0.5, 0.95])
    return {"mean": float(moments[1]), "p5": float(p[0]), "p50": float(p[1]), "p95": float(p[2])}


def _policy(option, notes: dict[str, dict[str, float]], results: PathResults) -> dict[str, Any]:
    """A staged option's ``policy`` summary: its trigger, how often and when it
    migrates (the median counts never as latest; ``None`` below half the paths)."""
    trigger = results.scenario.fixed_value(option.path("trigger_monthly_cost"))
    p_migrates = notes["migrates"]["mean"]
    month = notes["migration_month"]["p50"]
    out: dict[str, Any] = {
        "trigger_monthly_cost": None if math.isinf(trigger) else trigger,
        "p_migrates": p_migrates,
        "migration_month_p50": round(month) if p_migrates >= 0.5 else None,
        "optimized": option.name in results.policies,
    }
    if option.name in results.policies:
        out["search"] = results.policies[option.name].to_dict()
    return out


def _catalogue(option) -> dict[str, Any] | None:
    """What an api option took from the price catalogue (``model = ...``), if anything."""
    listing = option.params.get("catalogue")
    if listing is None:
        return None
    return {**listing, "taken": dict(listing["taken"]), "tiered": list(listing["tiered"])}


def _reservation(option, results: PathResults) -> dict[str, Any]:
    """A stack's reserved GPUs (when it reserves any or searched the count) and the
    search, as :class:`OptionSummary` fields."""
    if option.kind in ("api", "hybrid", "staged", "on_prem"):
        return {}
    searched = option.name in results.policies
    count = int(results.scenario.fixed_value(option.path("reserved_gpus")))
    if not (searched or count):
        return {}
    search = results.policies[option.name].to_dict() if searched else None
    return {"reserved_gpus": count, "reserved_search": search}


def _by_option(
    sums: dict[str, np.ndarray], names: tuple[str, ...]
) -> tuple[dict[str, list[tuple[str, np.ndarray]]], dict[str, list[tuple[str, str]]]]:
    """Each option's cost components (``component:NAME:PART``, as ``(PART, sum)``) and
    notes (``moments:note:NAME:NOTE``, as ``(NOTE, key)``), in the order of ``sums``.

    One pass over the keys for all the options: looking each option's keys up by
    prefix instead scans every key once per option, which is quadratic in options
    (3,000 options: 30,000 keys, 23 s). Option names hold no ``:`` (see
    :data:`~simulator.scenario.schema.NAME_CHARACTERS`), so the name is the field
    after the prefix; a key of a name not in ``names`` is left out, as before.
    """
    components: dict[str, list[tuple[str, np.ndarray]]] = {name: [] for name in names}
    notes: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
    for key, value in sums.items():
        if key.startswith("component:"):
            name, colon, part = key[len("component:") :].partition(":")
            if colon and name in components:
                components[name].append((part, value))
        elif key.startswith("moments:note:"):
            name, colon, note = key[len("moments:note:") :].partition(":")
            if colon and name in notes:
                notes[name].append((note, key))
    return components, notes


def summarize(results: PathResults) -> SimulationResult:
    """Compute every summary of the contract from a run's aggregates."""
    scenario = results.scenario
    tally = results.tally
    sums = tally.totals()
    n = results.paths

    components_of, notes_of = _by_option(sums, tally.names)
    options = {}
    for name in tally.names:
        option = scenario.options[name]
        monthly = tally.monthly[name].quantile_rows([0.05, 0.5, 0.95])
        components = {component: float(value[0]) / n for component, value in components_of[name]}
        notes = {
            note: _describe_note(tally.histograms[key[len("moments:") :]], sums[key])
            for note, key in notes_of[name]
        }
        p_latency = notes.pop("latency_met", {}).get("mean")
        npv = tally.counted_as(f"npv:{name}")
        cash = tally.counted_as(f"cash:{name}")
        options[name] = OptionSummary(
            name=name,
            label=option.label,
            kind=option.kind,
            total_cost=describe_costs(
                tally.histograms[f"total:{name}"], sums[f"moments:total:{name}"]
            ),
            npv=describe_costs(tally.histograms[npv], sums[f"moments:{npv}"]),
            cash_cost=describe_costs(tally.histograms[cash], sums[f"moments:{cash}"]),
            monthly_cost={
                "p5": monthly[0].tolist(),
                "p50": monthly[1].tolist(),
                "p95": monthly[2].tolist(),
            },
            p_cheapest=float(sums[f"cheapest:{name}"][0]) / n,
            p_cheapest_allowed=(
                float(sums[f"cheapest_allowed:{name}"][0]) / n
                if f"cheapest_allowed:{name}" in sums
                else None
            ),
            expected_regret=float(sums[f"regret:{name}"][0]) / n,
            breakdown=components,
            notes=notes,
            policy=_policy(option, notes, results) if option.kind == "staged" else None,
            p_latency_met=p_latency,
            **_reservation(option, results),
            catalogue=_catalogue(option),
        )
    excluded = exclusions(
        scenario, {n: o.p_latency_met for n, o in options.items() if o.p_latency_met is not None}
    )
    for name, reason in excluded.items():
        options[name] = dataclasses.replace(options[name], excluded=reason)

    errors = tally.standard_errors(scenario.sampling)
    versus = {}
    for name in tally.rivals:
        p = float(sums[f"cheaper:{name}"][0]) / n
        savings = tally.histograms[f"savings:{name}"]
        pct = savings.quantile([0.05, 0.5, 0.95])
        breakeven = sums[f"breakeven:{name}"]
        versus[name] = Comparison(
            name=name,
            p_cheaper=p,
            p_cheaper_se=errors[f"p_cheaper:{name}"],
            p_cheaper_by_year=(sums[f"by_year:{name}"] / n).tolist(),
            savings={
                "mean": float(sums[f"savings:{name}"][0]) / n,
                "p5": float(pct[0]),
                "p50": float(pct[1]),
                "p95": float(pct[2]),
            },
            breakeven_p_within_horizon=float(n - breakeven[0]) / n,
            breakeven_p50=breakeven_median(breakeven),
        )
    extra = {}
    if results.precision is not None:
        worst = max(errors.values(), default=0.0)
        extra["precision"] = {
            "target": results.precision,
            "worst_standard_error": float(worst),
            "met": bool(worst <= results.precision),
            "paths_used": n,
        }
    return SimulationResult(results, options, versus, extra)
