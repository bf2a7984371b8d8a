"""Run a scenario: blocks of paths, common random numbers, per-path outcomes.

Paths are split into fixed-size blocks (:data:`~simulator.sampling.BLOCK_SIZE`), each
seeded from its own child of ``SeedSequence(seed)``; batches of blocks are costed
together, and every option is costed on the same draws. The outcome depends only on
the scenario, the seed and the number of paths.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .batch import make_batch
from .costs import option_costs
from .errors import ScenarioError
from .sampling import BLOCK_SIZE, Block, Streams, plan_blocks, sample_inputs
from .scenario import Scenario

__all__ = ["PathResults", "simulate", "DEFAULT_CHUNK_SIZE", "year_ends"]

DEFAULT_CHUNK_SIZE = 65_536
"""Paths costed together in one batch (rounded up to whole blocks)."""

MAX_COST = 1e20
"""Largest total cost accepted on a path, far beyond any real budget."""


@dataclass
class PathResults:
    """Per-path outcomes of a run, before any summary.

    Attributes
    ----------
    totals, npv
        Option name to total (and discounted) cost per path, shape ``(paths,)``.
    monthly
        Option name to monthly cost, shape ``(paths, months)``.
    breakeven
        Option name to the break-even month against the baseline per path (1-based;
        0 where it never breaks even). The baseline is absent.
    cheaper_by_year
        Option name to whether cumulative cost is below the baseline's at the end of
        each year, shape ``(paths, years)``.
    components
        Option name to each cost component's total per path, shape ``(paths,)``.
    draws
        Dotted key path to the sampled values of each uncertain input.
    """

    scenario: Scenario
    paths: int
    seed: int | None
    entropy: int
    totals: dict[str, np.ndarray]
    npv: dict[str, np.ndarray]
    monthly: dict[str, np.ndarray]
    breakeven: dict[str, np.ndarray]
    cheaper_by_year: dict[str, np.ndarray]
    components: dict[str, dict[str, np.ndarray]]
    draws: dict[str, np.ndarray]
    elapsed_s: float = field(default=0.0)


def year_ends(months: int) -> np.ndarray:
    """Index of the last month of each year; the last entry ends at the horizon."""
    return np.minimum(np.arange(1, math.ceil(months / 12) + 1) * 12, months) - 1


def breakeven_months(cumulative_savings: np.ndarray) -> np.ndarray:
    """First 1-based month from which cumulative savings stay positive to the horizon.

    Parameters
    ----------
    cumulative_savings
        Baseline's cumulative cost minus the option's, shape ``(paths, months)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(paths,)``; 0 where no such month exists.
    """
    ahead = cumulative_savings > 0
    ahead_from_here = np.logical_and.accumulate(ahead[:, ::-1], axis=1)[:, ::-1]
    first = np.argmax(ahead_from_here, axis=1) + 1
    return np.where(ahead_from_here[:, -1], first, 0)


def discount_factors(scenario: Scenario) -> np.ndarray:
    """Weight of each month in the NPV: ``(1 + discount_rate)**(-t/12)``."""
    t = np.arange(scenario.horizon_months)
    return np.power(1.0 + scenario.discount_rate, -t / 12)


def _run_batch(scenario: Scenario, entropy: int, blocks: list[Block]) -> dict:
    # Extreme inputs may overflow; the totals are checked once the run is complete.
    with np.errstate(over="ignore", invalid="ignore"):
        return _cost_batch(scenario, Streams(entropy, blocks))


def _cost_batch(scenario: Scenario, streams: Streams) -> dict:
    draws = sample_inputs(scenario, streams)
    batch = make_batch(scenario, streams, draws)
    monthly: dict[str, np.ndarray] = {}
    components: dict[str, dict[str, np.ndarray]] = {}
    for name in scenario.options:
        parts = option_costs(batch, name)
        monthly[name] = np.sum(list(parts.values()), axis=0)
        components[name] = {k: v.sum(axis=1) for k, v in parts.items()}
    base_cumulative = np.cumsum(monthly[scenario.baseline], axis=1)
    ends = year_ends(scenario.horizon_months)
    breakeven, by_year = {}, {}
    for name, cost in monthly.items():
        if name == scenario.baseline:
            continue
        savings = base_cumulative - np.cumsum(cost, axis=1)
        breakeven[name] = breakeven_months(savings)
        by_year[name] = savings[:, ends] > 0
    return {
        "monthly": monthly,
        "components": components,
        "breakeven": breakeven,
        "by_year": by_year,
        "draws": draws,
    }


def simulate(
    scenario: Scenario,
    *,
    paths: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PathResults:
    """Sample and cost every path of ``scenario``.

    Parameters
    ----------
    scenario
        A validated scenario.
    paths, seed
        Override the scenario's ``paths`` and ``seed``. With no seed anywhere, fresh
        entropy is drawn and recorded in the result so the run can be repeated.
    chunk_size
        Paths costed together (rounded up to whole blocks of 4096); affects memory and
        speed only, never the results.
    progress
        Called as ``progress(paths_done, paths_total)`` after each batch.

    Returns
    -------
    PathResults
    """
    paths = scenario.paths if paths is None else paths
    seed = scenario.seed if seed is None else seed
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    if paths < 1:
        raise ScenarioError(f"paths must be at least 1, got {paths}", key="paths")
    if chunk_size < 1:
        raise ScenarioError(f"chunk size must be at least 1, got {chunk_size}", key="chunk_size")
    if seed is not None and seed < 0:
        raise ScenarioError(f"seed must be >= 0, got {seed}", key="seed")
    entropy = np.random.SeedSequence().entropy if seed is None else seed

    started = time.perf_counter()
    months = scenario.horizon_months
    years = len(year_ends(months))
    names = list(scenario.options)
    rivals = [n for n in names if n != scenario.baseline]
    monthly = {n: np.empty((paths, months)) for n in names}
    breakeven = {n: np.empty(paths, dtype=np.int64) for n in rivals}
    by_year = {n: np.empty((paths, years), dtype=bool) for n in rivals}
    draws = {k: np.empty(paths) for k in scenario.inputs}
    components: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}

    blocks = plan_blocks(paths)
    per_batch = max(1, math.ceil(chunk_size / BLOCK_SIZE))
    done = 0
    for start in range(0, len(blocks), per_batch):
        group = blocks[start : start + per_batch]
        size = sum(n for _, n in group)
        out = _run_batch(scenario, entropy, group)
        rows = slice(done, done + size)
        for n in names:
            monthly[n][rows] = out["monthly"][n]
            for k, v in out["components"][n].items():
                components[n].setdefault(k, np.empty(paths))[rows] = v
        for n in rivals:
            breakeven[n][rows] = out["breakeven"][n]
            by_year[n][rows] = out["by_year"][n]
        for k, v in out["draws"].items():
            draws[k][rows] = v
        done += size
        if progress is not None:
            progress(done, paths)

    weights = discount_factors(scenario)
    with np.errstate(over="ignore", invalid="ignore"):
        totals = {n: m.sum(axis=1) for n, m in monthly.items()}
        npv = {n: m @ weights for n, m in monthly.items()}
    for name in names:
        # NaN fails the comparison too. Past the bound, sums and means over paths
        # could overflow even where each path's total is finite.
        if not (np.abs(totals[name]) < MAX_COST).all() or not (np.abs(npv[name]) < MAX_COST).all():
            raise ScenarioError(
                f"costs exceed {MAX_COST:.0e} or overflow on some paths: some inputs are too "
                "extreme for this horizon (check volumes, growth, prices, discount rate and "
                "their distributions)",
                key=f"options.{name}",
            )
    return PathResults(
        scenario=scenario,
        paths=paths,
        seed=seed,
        entropy=entropy,
        totals=totals,
        npv=npv,
        monthly=monthly,
        breakeven=breakeven,
        cheaper_by_year=by_year,
        components=components,
        draws=draws,
        elapsed_s=time.perf_counter() - started,
    )
