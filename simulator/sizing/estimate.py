"""Memory, time and disk space of a run, before it starts.

A model of what the engine holds at once (each worker's batch of month-by-path arrays,
the histograms of monthly costs, the sums kept per block, per-path rows on their way
to ``paths.csv``...) fed by a pilot (:mod:`.pilot`): the horizon, the histograms and
the processes are modelled with constants measured on the project's two-core machine
(:data:`HISTOGRAM_S_PER_CELL` and the others), with a margin on memory, which must not
be underestimated. A quick run goes without a pilot and uses high figures by option
kind (:data:`BYTES_PER_PATH_MONTH`).

What does not depend on the pilot is modelled from the scenario alone: the summary, the
value of information, the report's charts and pages (their time and their bytes on
disk) grow with the number of options, the horizon and the length of the labels, and
together they are :attr:`Estimate.floor_seconds`, the least time a run can take,
which is enough to refuse a run of thousands of options before any pilot.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..scenario.errors import ScenarioError
from ..scenario.model import Scenario
from .machine import machine, resident
from .options import report_bytes, report_seconds, summary_seconds
from .pilot import BINS_PER_OCTAVE, Pilot, run_pilot

__all__ = ["Estimate", "duration", "estimate", "size"]

# ---------------------------------------------------------------------------
# Constants, measured on the project's two-core machine

BYTES_PER_PATH_MONTH = {
    "api": 45,
    "self_hosted": 80,
    "cloud_managed": 80,
    "on_prem": 80,
    "hybrid": 40,
    "staged": 80,
}
"""Memory a batch holds per path and month, by option kind (the largest measured: a
self-hosted option with engineers and a fallback; without them it needs a fifth)."""

BYTES_PER_PATH_MONTH_BASE = 10
"""The batch's own month-by-path arrays (realized volume), whatever the options."""

UNKNOWN_KIND_BYTES = 100
"""A kind this table does not know yet is assumed to be heavy."""

HISTOGRAM_S_PER_CELL = 4e-9
"""Seconds per bin and month of a monthly-cost histogram, once per batch (counting a
batch zeroes and adds the whole occupied range of every month)."""

CSV_TRANSFER = 1.6
"""Time to send a row from a worker and write it, relative to formatting it alone."""

MAIN_BASE = 150 * 2**20
"""Least resident memory of the main process (Python, NumPy, the simulator)."""

REPORT_BASE = 100 * 2**20
"""What drawing the report adds to it (matplotlib, the figures)."""

TALLY_COPIES = 2.5
"""Copies of the per-block sums alive at once, counted in blocks of the whole run."""

WORKER_BASE = 40 * 2**20
"""A forked worker's own pages beyond those it shares with the main process."""

POOL_S = 0.3
"""Starting and stopping the worker processes."""

RUN_FLOOR_S_PER_OPTION_MONTH = 5e-5
"""Least time a batch takes per option and month, whatever the option (its histogram
of monthly costs is counted even when it costs the same on every path): below every
measurement (0.08 to 0.35 ms), for a bound on a run before any pilot."""

SENSITIVITY_S_PER_PATH = 7e-6
"""The sensitivity analysis, per path it reads."""

MAX_OCTAVES = 86
"""Octaves from the histograms' zero bin (1e-6) to :data:`~simulator.engine.tally.MAX_COST`."""

CACHE_BYTES = 8 * 2**20
"""Beyond this size, a batch's month-by-path arrays no longer fit the processor's
caches and each path costs more (measured: about 1.7 times at 240 months)."""


PARQUET_BYTES_PER_VALUE = 10.5
PARQUET_BYTES_PER_BATCH_COLUMN = 512
"""``paths.parquet``: each value (a double, dictionary-encoded where it fits: 9.7 bytes
measured on logistics), and each column of each batch (a row group each: its entry in
the file's footer, 233 bytes measured)."""

# ---------------------------------------------------------------------------
# The histograms


def _quantile(scenario: Scenario, key: str, q: float) -> float:
    dist = scenario.quantities.get(key)
    if dist is None:
        return 0.0
    value = float(np.asarray(dist.ppf(np.array([q])), dtype=float)[0])
    return value if math.isfinite(value) else 0.0


def _octaves_per_month(scenario: Scenario) -> float:
    """How fast the highest monthly costs can climb, in doublings a month: the volume
    of a fast-growing path and any rising price."""
    growth = max(
        _quantile(alone, "workload.monthly_growth", 0.999)
        * _quantile(alone, "workload.growth_realization", 0.999)
        for alone in scenario.each_workload
    )
    rate = math.log2(1 + max(growth, 0.0))
    rising = 0.0
    for key in scenario.quantities:
        if key.endswith(("annual_price_change", "annual_gpu_price_change")):
            rising = max(rising, math.log2(1 + max(_quantile(scenario, key, 0.999), 0.0)) / 12)
    return rate + rising


def _bins(scenario: Scenario, pilot: Pilot) -> dict[str, int]:
    """Bins per month of each option's histogram of monthly costs over the horizon."""
    horizon = scenario.horizon_months
    extra_months = horizon - pilot.months
    octaves = _octaves_per_month(scenario) * extra_months
    volatility = max(
        _quantile(alone, "workload.growth_volatility", 0.999) for alone in scenario.each_workload
    )
    # The volume's random walk spreads by about four standard deviations either way.
    octaves += 4 * volatility * (math.sqrt(horizon) - math.sqrt(pilot.months)) / math.log(2)
    most = BINS_PER_OCTAVE * MAX_OCTAVES
    return {
        name: int(min(most, bins + BINS_PER_OCTAVE * octaves)) for name, bins in pilot.bins.items()
    }


# ---------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True)
class Estimate:
    """What a run is expected to take.

    Attributes
    ----------
    paths, months
        The run's paths (for a run to a precision, its cap) and horizon.
    workers, chunk_size
        Processes that cost batches at once, and paths in each batch.
    seconds
        Wall-clock time of the whole command: the run, the stress test and the
        report, if asked for.
    memory
        Peak bytes resident in all processes together.
    disk
        Bytes of the report on disk (0 without a report): see ``disk_parts``.
    memory_parts
        Where the memory goes: ``main`` (the main process's own), ``workers`` (their
        own pages), ``batches`` (the batches being costed), ``histograms`` (every
        process's histograms of monthly costs), ``path_rows`` (rows waiting to be
        written to ``paths.csv``), ``sample`` (the stress test's paths) and ``kept``
        (``keep_paths``).
    seconds_parts
        ``run``, ``summary``, ``value_of_information``, ``stress`` and ``report``.
    pilot_s
        Seconds the pilot took.
    disk_parts
        ``paths.csv`` and ``paths.parquet`` (0 when not written) and ``pages`` (the
        pages and the charts).
    floor_seconds
        The least time the run can take, whatever a pilot would find: the parts that
        depend on the scenario alone (the summary, the value of information, the
        report) and a batch's least time per option and month.
    """

    paths: int
    months: int
    workers: int
    chunk_size: int
    seconds: float
    memory: int
    disk: int
    memory_parts: Mapping[str, int] = field(default_factory=dict)
    seconds_parts: Mapping[str, float] = field(default_factory=dict)
    pilot_s: float = 0.0
    per_path_memory: float = 0.0
    per_path_seconds: float = 0.0
    disk_parts: Mapping[str, int] = field(default_factory=dict)
    floor_seconds: float = 0.0

    def describe(self) -> str:
        """The estimate in words, such as ``about 2 min 10 s and 1.2 GiB of memory``."""
        words = f"about {duration(self.seconds)} and {size(self.memory)} of memory"
        if self.disk:
            words += f", {size(self.disk)} of disk for the report"
        return words


def size(n: float) -> str:
    """Bytes for people: ``512 MiB``, ``3.4 GiB``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MiB"
    return f"{n / 2**10:.0f} KiB"


def duration(seconds: float) -> str:
    """Seconds for people: ``45 s``, ``12 min``, ``3 h 20 min``, ``5 days``."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        rest = int(minutes % 60)
        return f"{int(hours)} h {rest} min" if rest else f"{int(hours)} h"
    return f"{hours / 24:,.0f} days"


def portfolio_arrays(scenario: Scenario) -> int:
    """Per-path arrays a run keeps for its portfolio search: each candidate's total for
    every set of workloads it may serve, and every option's for all of them."""
    portfolio = scenario.portfolio
    if portfolio is None:
        return 0
    sets = 2 ** len(scenario.workloads) - 2 if portfolio.assign == "optimize" else 1
    return len(portfolio.candidates) * sets + len(scenario.options)


def _cache_factor(array_bytes: float) -> float:
    """How much slower a path is costed in batches of arrays of this size than in the
    pilot's small ones."""
    return 1.0 + 0.35 * max(0.0, math.log2(array_bytes / CACHE_BYTES))


def _batch_bytes_per_path_month(scenario: Scenario) -> float:
    per_kind = sum(
        BYTES_PER_PATH_MONTH.get(o.kind, UNKNOWN_KIND_BYTES) for o in scenario.options.values()
    )
    return BYTES_PER_PATH_MONTH_BASE + per_kind


def estimate(
    scenario: Scenario,
    paths: int | None = None,
    *,
    workers: int | None = None,
    chunk_size: int | None = None,
    report: bool = False,
    path_data: bool = False,
    stress: bool = False,
    keep_paths: bool = False,
    cores: int | None = None,
    _pilot_result: Pilot | None = None,
) -> Estimate:
    """Estimate the memory, time and disk of a run, from a short pilot.

    Parameters
    ----------
    scenario
        A validated scenario.
    paths
        Paths of the run (for a run to a precision, its cap); default the scenario's.
    workers, chunk_size
        As given to :func:`simulator.run` (default: every core, 16,384).
    report
        A report is written (its charts and pages take a few seconds).
    path_data
        The report has ``paths.csv``: disk space, time to write it and rows waiting
        in memory when the workers are faster than the writing.
    stress
        The stress test runs too (``--stress``).
    keep_paths
        The run keeps every per-path array (memory grows with paths).
    cores
        Cores to plan for (default: those this process may use).

    Returns
    -------
    Estimate
    """
    from ..decide.portfolio import VOI_ASSIGNMENTS
    from ..engine.run import DEFAULT_CHUNK_SIZE, default_workers
    from ..paths.sampling import BLOCK_SIZE

    paths = scenario.paths if paths is None else paths
    if paths < 1:
        raise ScenarioError(f"paths must be at least 1, got {paths}", key="paths")
    workers = default_workers() if workers is None else workers
    cores = cores or machine().cores
    chunk = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    chunk = min(math.ceil(chunk / BLOCK_SIZE) * BLOCK_SIZE, paths)
    batches = math.ceil(paths / chunk)
    busy = 1 if workers <= 1 or batches < 2 else min(workers, batches)
    path_data = path_data and report
    pilot = _pilot_result or run_pilot(scenario, paths, path_data)
    months = scenario.horizon_months
    options = max(1, len(scenario.options))

    # Time.
    bins = _bins(scenario, pilot)
    cells = months * sum(bins.values())
    per_batch = months * pilot.batch_month_s + cells * HISTOGRAM_S_PER_CELL
    cost_per_path = months * pilot.path_month_s * _cache_factor(chunk * months * 8)
    cost_s = paths * cost_per_path + batches * per_batch
    search_s = pilot.search_paths * months * pilot.search_path_month_s
    row_s = pilot.row_s * CSV_TRANSFER if path_data else 0.0
    rows_s = paths * row_s
    if busy == 1:
        run_s = search_s + cost_s + rows_s
        pile = 0.0
    else:
        parallel = min(busy, cores)
        run_s = POOL_S + search_s + max(cost_s / parallel, rows_s, (cost_s + rows_s) / cores)
        pile = max(0.0, 1.0 - (cost_s / parallel) / rows_s) if rows_s else 0.0
    fixed = summary_seconds(scenario, paths)
    # Every run keeps its first paths for the value of information (and --stress).
    sample = min(scenario.stress.sensitivity_paths, paths)
    stress_s = 0.0
    if stress:
        settings = scenario.stress
        stress_paths = min(settings.paths, paths)
        rivals = options - 1
        runs = len(settings.volume_realization) * len(settings.growth_realization) + 10
        runs += 0.5 * 8 * rivals  # the break-even searches cost two options each
        stress_batches = math.ceil(stress_paths / chunk)
        stress_cpu = runs * (stress_paths * cost_per_path + stress_batches * per_batch)
        stress_s = stress_cpu / min(cores, max(workers, 1)) + sample * SENSITIVITY_S_PER_PATH
        stress_s += runs * fixed["summary"]  # each run of the stress test is summarized
    report_s = report_seconds(scenario, stress) if report else 0.0
    seconds = run_s + sum(fixed.values()) + stress_s + report_s
    rounds = math.ceil(batches / (1 if busy == 1 else min(busy, cores)))
    run_floor = rounds * options * months * RUN_FLOOR_S_PER_OPTION_MONTH
    floor = run_floor + sum(fixed.values()) + report_s

    # Memory.
    histograms_each = 8 * cells
    histograms_each += histograms_each // options  # counting one option makes a copy
    per_path_month = pilot.batch_bytes * 1.25 or _batch_bytes_per_path_month(scenario)
    batch = chunk * (months * per_path_month + 32 * len(scenario.inputs))
    main = max(resident() or 0, MAIN_BASE) + (REPORT_BASE if report else 0)
    row_bytes = 8 * pilot.columns
    parts = {"main": main}
    if busy == 1:
        parts.update(batches=batch, histograms=histograms_each, workers=0)
    else:
        parts.update(
            batches=busy * batch,
            # Each busy worker's, and in the main process its own, one received from a
            # worker, and that one's pickled bytes while it is merged.
            histograms=(busy + 3) * histograms_each,
            workers=workers * WORKER_BASE,
        )
    parts["path_rows"] = int(paths * row_bytes * min(1.0, pile * 1.2)) if path_data else 0
    # The sums of every block: all of them in the main process, each worker's own until
    # it hands them over (pickled).
    block_share = TALLY_COPIES * pilot.block_bytes / BLOCK_SIZE
    parts["block_sums"] = int(paths * block_share)
    parts["sample"] = int(2 * sample * 8 * (len(scenario.inputs) + options))  # and joined
    kept_per_path = 0.0
    if keep_paths:
        years = math.ceil(months / 12)
        pilot_years = math.ceil(pilot.months / 12)
        for kind, per_path in pilot.kept.items():
            if kind == "monthly":
                per_path *= months / pilot.months
            elif kind == "by_year":
                per_path *= years / pilot_years
            kept_per_path += per_path
        # The batches' arrays, then their concatenation, side by side at the end.
        parts["kept"] = int(2 * paths * kept_per_path)
    # The portfolio search: its per-path totals (the batches' arrays, their concatenation
    # and the copies the search makes), the value of information's totals of the best
    # assignments on the sample, and each batch's costs of every option for each
    # workload alone (calibrated on scenarios/portfolio.toml, one worker: 4.9 GB at
    # 200,000 paths, 6.0 GB at 400,000; estimated 5.3 and 7.6).
    searched = 6 * 8 * portfolio_arrays(scenario)
    parts["portfolio"] = int(paths * searched)
    if scenario.portfolio is not None:
        served = (len(scenario.portfolio.candidates) + len(scenario.options)) * len(
            scenario.workloads
        )
        parts["portfolio_batches"] = busy * chunk * months * 8 * 12 * served
        parts["portfolio_sample"] = 3 * 8 * VOI_ASSIGNMENTS * sample
    parts = {k: int(v) for k, v in parts.items()}
    memory = sum(parts.values())
    per_path_memory = (
        (row_bytes * min(1.0, pile * 1.2) if path_data else 0.0)
        + 2 * kept_per_path
        + block_share
        + searched
    )
    disk_parts = {"paths.csv": 0, "paths.parquet": 0, "pages": 0}
    if report:
        disk_parts["pages"] = report_bytes(scenario, stress)
    if path_data:
        disk_parts["paths.csv"] = int(paths * pilot.row_bytes)
        if importlib.util.find_spec("pyarrow") is not None:  # as the report writer does
            values = paths * (pilot.columns + 1)  # and the path's number
            footer = batches * (pilot.columns + 1) * PARQUET_BYTES_PER_BATCH_COLUMN
            disk_parts["paths.parquet"] = int(values * PARQUET_BYTES_PER_VALUE + footer)
    return Estimate(
        paths=paths,
        months=months,
        workers=busy,
        chunk_size=chunk,
        seconds=seconds,
        memory=memory,
        disk=sum(disk_parts.values()),
        memory_parts=parts,
        seconds_parts={"run": run_s, **fixed, "stress": stress_s, "report": report_s},
        pilot_s=pilot.wall_s,
        per_path_memory=per_path_memory,
        per_path_seconds=(run_s - search_s - (POOL_S if busy > 1 else 0.0)) / paths,
        disk_parts=disk_parts,
        floor_seconds=floor,
    )
