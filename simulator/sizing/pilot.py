"""A short pilot of the scenario itself, timed and traced in this process, or the
high figures assumed in its place.

Why a pilot at a short horizon and a model for the rest (:mod:`.estimate`): the cost
of a path grows in proportion to its months, but every batch also pays for
histograms whose size grows with the months and the range of the costs (at 240 months
a single batch of any size takes about a second to count), so a pilot over the full
horizon could not be cheap. Costing 4,096 and 1,024 paths over 24 months, timed and
then once more traced (:mod:`tracemalloc`), takes a tenth to half a second and
measures what a model of the cost code could not know: the time and the bytes a path
and a month of this scenario's options, inputs, fallbacks and routes take, the time of
a staged option's trigger search, the size of the sums kept per block, of a
``paths.csv`` row and of kept arrays.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..scenario.model import OPTIMIZE, Option, Scenario

__all__ = ["BINS_PER_OCTAVE", "PILOT_MONTHS", "PILOT_PATHS", "Pilot", "PilotOverBudget"]
__all__ += ["assumed_pilot", "run_pilot"]

PILOT_PATHS = 4096
"""Paths of the timed pilot (and a quarter as many for a second one, to tell the
cost of a path from that of a batch)."""

PILOT_MONTHS = 24
"""Longest horizon the pilot runs; longer horizons are scaled from it."""

BINS_PER_OCTAVE = 2048
"""Histogram bins per doubling of a value (2**11, see :mod:`simulator.engine.histogram`)."""


@dataclass(frozen=True)
class Pilot:
    """What the pilot measured over its short horizon (or :func:`assumed_pilot`
    assumes).

    Attributes
    ----------
    months
        The pilot's horizon.
    path_month_s, batch_month_s
        Seconds of costing per path and month, and per batch and month.
    search_path_month_s, search_paths
        Seconds per path and month of a staged option's trigger search, and the paths
        it searches on (0 without a search).
    bins
        Bins per month of each option's histogram of monthly costs.
    row_bytes, row_s
        Bytes and seconds of formatting a ``paths.csv`` row (0 without it).
    columns
        Per-path arrays a ``paths.csv`` row is made of.
    kept
        Bytes per path of the arrays a run keeps, by kind (``monthly``...).
    wall_s
        Seconds the pilot took.
    """

    months: int
    path_month_s: float
    batch_month_s: float
    search_path_month_s: float
    search_paths: int
    bins: Mapping[str, int]
    row_bytes: float
    row_s: float
    columns: int
    kept: Mapping[str, float]
    wall_s: float
    batch_bytes: float = 0.0
    """Bytes a batch holds per path and month (0: use the table by option kind)."""
    block_bytes: float = 20_000.0
    """Bytes of the sums kept for each block of 4,096 paths."""


IMPORT_S = 1.0
"""What the pilot's first, smallest run may spend on imports and tables beyond its
paths, before its time says anything about the scenario."""


class PilotOverBudget(Exception):
    """The pilot stopped: it alone used the time the run was allowed.

    Each of its runs costs no more than one batch of the run itself (as many paths or
    fewer, over as many months or fewer), so the run would take longer still.
    """

    def __init__(self, elapsed_s: float) -> None:
        super().__init__(f"the pilot took {elapsed_s:.1f} s")
        self.elapsed_s = elapsed_s


def _searched(scenario: Scenario) -> list[Option]:
    """Options whose trigger or reserved GPUs the run searches for first."""
    return [
        o
        for o in scenario.options.values()
        if OPTIMIZE in (o.params.get("trigger_monthly_cost"), o.params.get("reserved_gpus"))
    ]


def run_pilot(
    scenario: Scenario, paths: int, path_data: bool, *, budget_s: float | None = None
) -> Pilot:
    """Cost a few paths over a short horizon in this process and time them.

    Raises
    ------
    PilotOverBudget
        When ``budget_s`` is given and the pilot's first runs alone take longer (a
        scenario of thousands of options: each run costs every option's histograms).
    """
    from ..decide.policy import simulate

    started = time.perf_counter()

    def check(ahead: float) -> None:
        """Stop once the pilot so far and ``ahead`` (the least the run will still
        take) are over the budget."""
        elapsed = time.perf_counter() - started
        if budget_s is not None and elapsed + ahead > budget_s:
            raise PilotOverBudget(elapsed)

    months = min(scenario.horizon_months, PILOT_MONTHS)
    short = dataclasses.replace(scenario, horizon_months=months)
    seed = scenario.seed if scenario.seed is not None else 0
    large = min(paths, PILOT_PATHS)
    small = min(paths, PILOT_PATHS // 4)
    simulate(short, paths=min(paths, 16), seed=seed, workers=1)  # imports and tables
    check(-IMPORT_S)
    # A searched trigger is searched once, on the run's first paths (at most
    # optimize_paths of them): timed on its own at two sizes, then fixed for the pilots.
    search_path_month_s, search_paths = 0.0, 0
    searched = _searched(short)
    if searched:
        from ..decide.policy import resolve_searches

        search_paths = min(paths, max(o.params["optimize_paths"] for o in searched))
        spent = []
        for n in (small // 4, small):
            began = time.perf_counter()
            resolved, _ = resolve_searches(short, seed, max(n, 1))
            spent.append(time.perf_counter() - began)
        slope = (spent[1] - spent[0]) / max(1, small - small // 4)
        search_path_month_s = max(slope, spent[1] / max(small, 1) / 4) / months
        # What was found is now a fixed quantity, which no run searches again.
        short = resolved
        simulate(short, paths=small, seed=seed, workers=1)  # warm again, without the search
    arrays: dict[str, np.ndarray] = {}

    def keep(first: int, batch: Mapping[str, np.ndarray]) -> None:
        arrays.update(batch)

    def timed(n: int, sink=None):
        """Seconds to cost ``n`` paths, then the peak bytes NumPy held while costing
        them again (traced, so not timed), and the outcome."""
        began = time.perf_counter()
        outcome = simulate(short, paths=n, seed=seed, workers=1, chunk_size=n, path_sink=sink)
        spent = time.perf_counter() - began
        check(spent)  # the run costs at least one such batch
        tracing = tracemalloc.is_tracing()
        if not tracing:
            tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        simulate(short, paths=n, seed=seed, workers=1, chunk_size=n)
        peak = tracemalloc.get_traced_memory()[1] - base
        if not tracing:
            tracemalloc.stop()
        histograms = sum(h.counts.nbytes for h in outcome.tally.monthly.values())
        return spent, peak - histograms, outcome

    check(-IMPORT_S)  # after a trigger search, if any
    t_large, m_large, outcome = timed(large, keep)
    t_small, m_small, _ = timed(small) if small < large else (0.0, 0, None)
    # A pause during the small batch (the machine is shared) shrinks the difference of
    # the two timings towards zero, and a billion paths would seem to fit: a path costs
    # at least half of its share of the large batch, whose fixed part is smaller.
    per_path = t_large / large
    if small < large and t_large > t_small:
        per_path = max((t_large - t_small) / (large - small), per_path / 2)
    per_batch = max(0.0, t_large - per_path * large)
    if small < large and m_large > m_small:
        batch_bytes = (m_large - m_small) / (large - small) / months
    else:
        batch_bytes = max(m_large, 0) / large / months
    block = next(iter(outcome.tally.blocks.values()), {})
    block_bytes = sys.getsizeof(block) + sum(
        sys.getsizeof(k) + sys.getsizeof(v) for k, v in block.items()
    )
    bins = {name: h.counts.shape[1] for name, h in outcome.tally.monthly.items()}
    columns = [a for k, a in arrays.items() if k.startswith(("input:", "total:"))]
    row_bytes = row_s = 0.0
    if path_data and columns:
        from ..report.folder import csv_rows

        began = time.perf_counter()
        text = csv_rows(0, columns)
        row_s = (time.perf_counter() - began) / large
        row_bytes = len(text.encode("utf-8")) / large
    kept: dict[str, float] = {}
    for key, values in arrays.items():
        kind = key.split(":", 1)[0]
        kept[kind] = kept.get(kind, 0.0) + np.asarray(values).nbytes / large
    return Pilot(
        months=months,
        path_month_s=per_path / months,
        batch_month_s=per_batch / months,
        search_path_month_s=search_path_month_s,
        search_paths=search_paths,
        bins=bins,
        row_bytes=row_bytes,
        row_s=row_s,
        columns=len(columns),
        kept=kept,
        wall_s=time.perf_counter() - started,
        batch_bytes=batch_bytes,
        block_bytes=block_bytes,
    )


def assumed_pilot(scenario: Scenario) -> Pilot:
    """What a pilot would find, assumed high instead of measured: for runs too small to
    be worth one (see :data:`~simulator.sizing.plan.QUICK_PATHS`)."""
    months = min(scenario.horizon_months, PILOT_MONTHS)
    options = len(scenario.options)
    columns = len(scenario.inputs) + options
    return Pilot(
        months=months,
        path_month_s=400e-9 * options,
        # Each option's histograms and sums, per batch: 0.2 ms a month measured at
        # 1,000 options, 0.3 ms at 3,000.
        batch_month_s=2e-3 + 4e-4 * options,
        search_path_month_s=0.0,
        search_paths=0,
        bins=dict.fromkeys(scenario.options, 12 * BINS_PER_OCTAVE),
        row_bytes=16.0 * (columns + 1),
        row_s=0.3e-6 * columns,
        columns=columns,
        kept={"monthly": 8.0 * months * options, "other": 8.0 * (columns + 4 * options)},
        wall_s=0.0,
    )
