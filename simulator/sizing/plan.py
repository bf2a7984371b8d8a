"""Before a run: can its numbers overflow, will it fit this machine, how long will it take?

Three functions the command calls before it starts a run, each cheap:

:func:`check_magnitudes`
    Projects a typical path (every input at its median) over the horizon. When even
    its costs pass :data:`~simulator.tally.MAX_COST` (growth, a price trend or a
    discount rate compounding over a long horizon), the scenario is refused at once,
    with the values that compound and their keys, rather than after a batch of paths.
:func:`estimate`
    Memory, time and disk space of a run: a model of what the engine holds at once
    (each worker's batch of month-by-path arrays, the histograms of monthly costs,
    the sums kept per block, per-path rows on their way to ``paths.csv``...) fed by
    a short pilot of the scenario itself (4,096 paths over at most 24 months, costed
    in this process).
:func:`plan`
    Both, then the largest chunk size that fits in memory when none was asked for,
    then a refusal, with the estimate and what to change, of a run this machine
    cannot hold, a ``paths.csv`` its disk cannot take, or a run longer than allowed.

Why a pilot at a short horizon and a model for the rest: the cost of a path grows in
proportion to its months, but every batch also pays for histograms whose size grows
with the months and the range of the costs (at 240 months a single batch of any size
takes about a second to count), so a pilot over the full horizon could not be cheap.
Costing 4,096 and 1,024 paths over 24 months, timed and then once more traced
(:mod:`tracemalloc`), takes a tenth to half a second and measures what a model of the
cost code could not know: the time and the bytes a path and a month of this
scenario's options, inputs, fallbacks and routes take, the time of a staged option's
trigger search, the size of the sums kept per block, of a ``paths.csv`` row and of
kept arrays. The horizon, the histograms and the processes are modelled with
constants measured on two cores (:data:`HISTOGRAM_S_PER_CELL` and the others), with
a margin on memory, which must not be underestimated. Runs of at most
:data:`QUICK_PATHS` paths, or that those figures put under :data:`QUICK_SECONDS`, whose
memory is clearly no concern skip the pilot and use high figures by option kind
(:data:`BYTES_PER_PATH_MONTH`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import sys
import time
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..scenario.errors import ScenarioError, SimulationError
from ..scenario.model import Option, Scenario

__all__ = [
    "Estimate",
    "Machine",
    "check_magnitudes",
    "duration",
    "estimate",
    "free_disk",
    "machine",
    "plan",
    "size",
]

# ---------------------------------------------------------------------------
# Constants, measured on the project's two-core machine (see the module docstring)

PILOT_PATHS = 4096
"""Paths of the timed pilot (and a quarter as many for a second one, to tell the
cost of a path from that of a batch)."""

PILOT_MONTHS = 24
"""Longest horizon the pilot runs; longer horizons are scaled from it."""

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

REPORT_S = 3.0
"""Drawing the charts and writing the pages (the same at any number of paths)."""

STRESS_REPORT_S = 2.0
"""The stress test's charts and tables."""

SENSITIVITY_S_PER_PATH = 7e-6
"""The sensitivity analysis, per path it reads."""

BINS_PER_OCTAVE = 2048
"""Histogram bins per doubling of a value (2**11, see :mod:`simulator.histogram`)."""

MAX_OCTAVES = 86
"""Octaves from the histograms' zero bin (1e-6) to :data:`~simulator.tally.MAX_COST`."""

MEMORY_SHARE = 0.8
"""Share of the available memory a run may plan to use."""

DISK_SHARE = 0.95
"""Share of the free disk space a report may plan to use."""

DISK_RESERVE = 100 * 2**20
"""Disk space always left free."""

REPORT_FILES_BYTES = 20 * 2**20
"""The report's files besides ``paths.csv`` (pages and figures), generously."""

NOTE_S = 30.0
"""Runs estimated to take longer than this are announced with their estimate."""

QUICK_SECONDS = 60.0
"""Nor do runs that the high figures put under this many seconds: the pilot would
only tell them they are fine, at up to half a second of every run's time."""

QUICK_PATHS = 65_536
"""Runs of at most this many paths go without a pilot when an estimate with assumed
(high) figures leaves most of the memory and disk free: they take seconds."""

CACHE_BYTES = 8 * 2**20
"""Beyond this size, a batch's month-by-path arrays no longer fit the processor's
caches and each path costs more (measured: about 1.7 times at 240 months)."""


# ---------------------------------------------------------------------------
# The machine


@dataclass(frozen=True)
class Machine:
    """What this machine offers a run.

    Attributes
    ----------
    memory
        Bytes of memory available now (``MemAvailable``, within any control group's
        limit); ``None`` when it cannot be read.
    cores
        Cores this process may run on.
    """

    memory: int | None
    cores: int


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def _cgroup_room() -> int | None:
    """Bytes left under this process's control group memory limit, if it has one."""
    try:
        with open("/proc/self/cgroup", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            base = f"/sys/fs/cgroup{path.rstrip('/')}"
            limit, used = _read_int(f"{base}/memory.max"), _read_int(f"{base}/memory.current")
        elif "memory" in controllers.split(","):
            base = f"/sys/fs/cgroup/memory{path.rstrip('/')}"
            limit = _read_int(f"{base}/memory.limit_in_bytes")
            used = _read_int(f"{base}/memory.usage_in_bytes")
        else:
            continue
        if limit is not None and used is not None and limit < 2**60:
            return max(0, limit - used)
    return None


def machine() -> Machine:
    """The memory available now and the cores this process may use."""
    from ..engine.run import default_workers

    available = _meminfo_available()
    room = _cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return Machine(memory=available, cores=default_workers())


def free_disk(folder: str | Path) -> int | None:
    """Free bytes on the file system that holds ``folder`` (or would hold it: its
    nearest existing parent); ``None`` when it cannot be read."""
    path = Path(os.path.abspath(folder))
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _resident() -> int:
    """Resident memory of this process now."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return MAIN_BASE


# ---------------------------------------------------------------------------
# Magnitudes: a typical path, projected


_LOG_MAX_FLOAT = math.log(np.finfo(float).max)


def _median(scenario: Scenario, key: str) -> float:
    dist = scenario.quantities.get(key)
    if dist is None:
        return 0.0
    return float(np.asarray(dist.ppf(np.array([0.5])), dtype=float)[0])


def _quantile(scenario: Scenario, key: str, q: float) -> float:
    dist = scenario.quantities.get(key)
    if dist is None:
        return 0.0
    value = float(np.asarray(dist.ppf(np.array([q])), dtype=float)[0])
    return value if math.isfinite(value) else 0.0


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def _trend(scenario: Scenario, key: str, months: np.ndarray) -> tuple[np.ndarray, float]:
    """Log of a yearly price trend in each month, and the change (median)."""
    change = _median(scenario, key)
    return months / 12 * math.log1p(change), change


def _log_cost_floor(
    scenario: Scenario, option: Option, months: np.ndarray, log_volume: np.ndarray
) -> tuple[np.ndarray, str | None] | None:
    """Log of a lower bound of an option's monthly cost on the typical path, and the
    key of its price trend; ``None`` for kinds that are bounded through others."""
    med = lambda key: _median(scenario, key)  # noqa: E731
    tokens_in = med("workload.input_tokens_per_request")
    tokens_out = med("workload.output_tokens_per_request")
    if option.kind == "api":
        per_request = (
            tokens_in * med(option.path("input_price_per_mtok"))
            + tokens_out * med(option.path("output_price_per_mtok"))
        ) / 1e6
        key = option.path("annual_price_change")
        trend, _ = _trend(scenario, key, months)
        return log_volume + _log(per_request) + trend, key
    if option.kind in ("self_hosted", "cloud_managed"):
        # GPUs for the average load alone (no peak, no headroom, no whole replicas),
        # once the stack serves: far below what the option pays.
        throughput = med(option.path("replica_tokens_per_s")) * 3600 * scenario.hours_per_month
        tokens = tokens_in * med(option.path("input_token_weight")) + tokens_out
        hourly = med(option.path("gpu_hourly_usd")) * option.params["gpus_per_replica"]
        per_request = tokens / throughput * hourly * scenario.hours_per_month
        key = option.path("annual_gpu_price_change")
        trend, _ = _trend(scenario, key, months)
        serving = months >= med(option.path("setup_months"))
        floor = log_volume + _log(per_request) + trend
        return np.where(serving, floor, -math.inf), key
    return None


def _logsumexp(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.inf if np.isposinf(values).any() else -math.inf
    top = float(finite.max())
    if np.isposinf(values).any():
        return math.inf
    return top + math.log(float(np.exp(finite - top).sum()))


def _g(x: float) -> str:
    return f"{x:.3g}"


def check_magnitudes(scenario: Scenario) -> None:
    """Refuse a scenario whose typical path overflows, before any path is run.

    The typical path takes every input at its median: volume
    ``requests_per_month * volume_realization * (1 + monthly_growth *
    growth_realization)**t``, each API's price per request with its yearly trend,
    and, for self-hosted and cloud-managed options, the GPUs the average load needs
    once set up (a lower bound of what they pay). If that volume overflows a float,
    or an option's total or discounted cost on that path passes
    :data:`~simulator.tally.MAX_COST`, the run could not give an answer: most paths
    would fail the same check while it went.

    Parameters
    ----------
    scenario
        A validated scenario.

    Raises
    ------
    ScenarioError
        Naming the key that compounds most (``workload.monthly_growth``, a price
        trend, ``scenario.discount_rate``, else the option), the values involved and
        why.
    """
    from ..engine.tally import MAX_COST

    horizon = scenario.horizon_months
    months = np.arange(horizon, dtype=float)
    rpm = _median(scenario, "workload.requests_per_month")
    realization = _median(scenario, "workload.volume_realization")
    rate = _median(scenario, "workload.monthly_growth")
    growth_realization = _median(scenario, "workload.growth_realization")
    growth = rate * growth_realization
    log_level = _log(rpm * realization)
    log_growth = math.log1p(growth)
    log_volume = log_level + months * log_growth
    last = horizon - 1
    volume_words = (
        f"requests grow from {_g(rpm * realization)} a month to "
        f"{_g(math.exp(min(log_volume[-1], _LOG_MAX_FLOAT)))}"
        + (" (beyond any float)" if log_volume[-1] > _LOG_MAX_FLOAT else "")
        + f" by month {horizon} (workload.monthly_growth = {_g(rate)} times "
        f"workload.growth_realization = {_g(growth_realization)}, compounded over "
        f"scenario.horizon_months = {horizon})"
    )
    hint = "shorten scenario.horizon_months or lower the growth"
    if log_volume[-1] > _LOG_MAX_FLOAT - math.log(1e6):
        raise ScenarioError(
            f"on a typical path (every input at its median) {volume_words}: too large to "
            f"compute with; {hint}",
            key="workload.monthly_growth",
            file=scenario.source,
        )
    log_discount = -months / 12 * math.log1p(scenario.discount_rate)
    limit = math.log(MAX_COST)
    for option in scenario.options.values():
        floor = _log_cost_floor(scenario, option, months, log_volume)
        if floor is None:
            continue
        log_cost, trend_key = floor
        total = _logsumexp(log_cost)
        npv = _logsumexp(log_cost + log_discount)
        if max(total, npv) <= limit:
            continue
        # What compounds, in log terms over the horizon, and the key to blame.
        change = _median(scenario, trend_key) if trend_key else 0.0
        drivers = {
            "workload.monthly_growth": last * log_growth,
            trend_key: last / 12 * math.log1p(change),
        }
        discounted = npv > total
        if discounted:
            drivers["scenario.discount_rate"] = log_discount[-1]
        key, size = max(drivers.items(), key=lambda kv: kv[1])
        what = "discounted cost" if discounted else "cost"
        reached = math.exp(min(max(total, npv), _LOG_MAX_FLOAT))
        head = (
            f"on a typical path (every input at its median) the {what} of option "
            f"'{option.name}' reaches at least {_g(reached)} over {horizon} months, beyond "
            f"the {MAX_COST:.0e} this simulator can add up"
        )
        if size < math.log(1e3):
            key = f"options.{option.name}"
            why = (
                f"its prices and the volume ({_g(rpm * realization)} requests a month) "
                "are too large together"
            )
            advice = "check the units of volumes, tokens and prices"
        elif key == "workload.monthly_growth":
            why, advice = volume_words, hint
        elif key == "scenario.discount_rate":
            why = (
                f"scenario.discount_rate = {_g(scenario.discount_rate)} weighs month "
                f"{horizon} by {_g(math.exp(min(log_discount[-1], _LOG_MAX_FLOAT)))}"
            )
            advice = "use a discount rate nearer 0 or a shorter horizon"
        else:
            factor = math.exp(min(last / 12 * math.log1p(change), _LOG_MAX_FLOAT))
            why = f"{key} = {_g(change)} multiplies its price by {_g(factor)} by month {horizon}"
            advice = "lower the price trend or shorten the horizon"
        raise ScenarioError(f"{head}: {why}; {advice}", key=key, file=scenario.source)


# ---------------------------------------------------------------------------
# The pilot


@dataclass(frozen=True)
class _Pilot:
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


def _searched(scenario: Scenario) -> list[Option]:
    """Staged options whose trigger the run searches for first."""
    return [
        o
        for o in scenario.options.values()
        if o.kind == "staged" and o.params.get("trigger_monthly_cost") == "optimize"
    ]


def _pilot(scenario: Scenario, paths: int, path_data: bool) -> _Pilot:
    """Cost a few paths over a short horizon in this process and time them."""
    from ..decide.policy import simulate

    started = time.perf_counter()
    months = min(scenario.horizon_months, PILOT_MONTHS)
    short = dataclasses.replace(scenario, horizon_months=months)
    seed = scenario.seed if scenario.seed is not None else 0
    large = min(paths, PILOT_PATHS)
    small = min(paths, PILOT_PATHS // 4)
    simulate(short, paths=min(paths, 16), seed=seed, workers=1)  # imports and tables
    # A searched trigger is searched once, on the run's first paths (at most
    # optimize_paths of them): timed on its own at two sizes, then fixed for the pilots.
    search_path_month_s, search_paths = 0.0, 0
    searched = _searched(short)
    if searched:
        from ..decide.policy import resolve_triggers

        search_paths = min(paths, max(o.params["optimize_paths"] for o in searched))
        spent = []
        for n in (small // 4, small):
            began = time.perf_counter()
            resolved, _ = resolve_triggers(short, seed, max(n, 1))
            spent.append(time.perf_counter() - began)
        slope = (spent[1] - spent[0]) / max(1, small - small // 4)
        search_path_month_s = max(slope, spent[1] / max(small, 1) / 4) / months
        # The trigger found is now a quantity: drop the mark that asks for a search.
        fixed = {
            o.name: dataclasses.replace(
                o,
                params=MappingProxyType(
                    {k: v for k, v in o.params.items() if k != "trigger_monthly_cost"}
                ),
            )
            for o in searched
        }
        options = MappingProxyType({n: fixed.get(n, o) for n, o in resolved.options.items()})
        short = dataclasses.replace(resolved, options=options)
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

    t_large, m_large, outcome = timed(large, keep)
    t_small, m_small, _ = timed(small) if small < large else (0.0, 0, None)
    if small < large and t_large > t_small:
        per_path = (t_large - t_small) / (large - small)
        per_batch = max(0.0, t_large - per_path * large)
    else:
        per_path, per_batch = t_large / large, 0.0
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
        from ..report.writer import _csv_rows

        began = time.perf_counter()
        text = _csv_rows(0, columns)
        row_s = (time.perf_counter() - began) / large
        row_bytes = len(text.encode("utf-8")) / large
    kept: dict[str, float] = {}
    for key, values in arrays.items():
        kind = key.split(":", 1)[0]
        kept[kind] = kept.get(kind, 0.0) + np.asarray(values).nbytes / large
    return _Pilot(
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


def _assumed_pilot(scenario: Scenario) -> _Pilot:
    """What a pilot would find, assumed high instead of measured: for runs too small to
    be worth one (see :data:`QUICK_PATHS`)."""
    months = min(scenario.horizon_months, PILOT_MONTHS)
    options = len(scenario.options)
    columns = len(scenario.inputs) + options
    return _Pilot(
        months=months,
        path_month_s=400e-9 * options,
        batch_month_s=2e-3,
        search_path_month_s=0.0,
        search_paths=0,
        bins=dict.fromkeys(scenario.options, 12 * BINS_PER_OCTAVE),
        row_bytes=16.0 * (columns + 1),
        row_s=0.3e-6 * columns,
        columns=columns,
        kept={"monthly": 8.0 * months * options, "other": 8.0 * (columns + 4 * options)},
        wall_s=0.0,
    )


def _octaves_per_month(scenario: Scenario) -> float:
    """How fast the highest monthly costs can climb, in doublings a month: the volume
    of a fast-growing path and any rising price."""
    growth = _quantile(scenario, "workload.monthly_growth", 0.999) * _quantile(
        scenario, "workload.growth_realization", 0.999
    )
    rate = math.log2(1 + max(growth, 0.0))
    rising = 0.0
    for key in scenario.quantities:
        if key.endswith(("annual_price_change", "annual_gpu_price_change")):
            rising = max(rising, math.log2(1 + max(_quantile(scenario, key, 0.999), 0.0)) / 12)
    return rate + rising


def _bins(scenario: Scenario, pilot: _Pilot) -> dict[str, int]:
    """Bins per month of each option's histogram of monthly costs over the horizon."""
    horizon = scenario.horizon_months
    extra_months = horizon - pilot.months
    octaves = _octaves_per_month(scenario) * extra_months
    volatility = _quantile(scenario, "workload.growth_volatility", 0.999)
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
        Bytes of ``paths.csv`` (0 without it).
    memory_parts
        Where the memory goes: ``main`` (the main process's own), ``workers`` (their
        own pages), ``batches`` (the batches being costed), ``histograms`` (every
        process's histograms of monthly costs), ``path_rows`` (rows waiting to be
        written to ``paths.csv``), ``sample`` (the stress test's paths) and ``kept``
        (``keep_paths``).
    seconds_parts
        ``run``, ``stress`` and ``report``.
    pilot_s
        Seconds the pilot took.
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

    def describe(self) -> str:
        """The estimate in words, such as ``about 2 min 10 s and 1.2 GiB of memory``."""
        words = f"about {duration(self.seconds)} and {size(self.memory)} of memory"
        if self.disk:
            words += f", {size(self.disk)} of disk for paths.csv"
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
    _pilot_result: _Pilot | None = None,
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
    pilot = _pilot_result or _pilot(scenario, paths, path_data)
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
    stress_s = 0.0
    sample = 0
    if stress:
        settings = scenario.stress
        stress_paths = min(settings.paths, paths)
        rivals = options - 1
        runs = len(settings.volume_realization) * len(settings.growth_realization) + 10
        runs += 0.5 * 8 * rivals  # the break-even searches cost two options each
        stress_batches = math.ceil(stress_paths / chunk)
        stress_cpu = runs * (stress_paths * cost_per_path + stress_batches * per_batch)
        sample = min(settings.sensitivity_paths, paths)
        stress_s = stress_cpu / min(cores, max(workers, 1)) + sample * SENSITIVITY_S_PER_PATH
    report_s = (REPORT_S + (STRESS_REPORT_S if stress else 0.0)) if report else 0.0
    seconds = run_s + stress_s + report_s

    # Memory.
    histograms_each = 8 * cells
    histograms_each += histograms_each // options  # counting one option makes a copy
    per_path_month = pilot.batch_bytes * 1.25 or _batch_bytes_per_path_month(scenario)
    batch = chunk * (months * per_path_month + 32 * len(scenario.inputs))
    main = max(_resident(), MAIN_BASE) + (REPORT_BASE if report else 0)
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
    parts["sample"] = int(2 * sample * 8 * (len(scenario.inputs) + options))
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
    parts = {k: int(v) for k, v in parts.items()}
    memory = sum(parts.values())
    per_path_memory = (
        (row_bytes * min(1.0, pile * 1.2) if path_data else 0.0) + 2 * kept_per_path + block_share
    )
    disk = int(paths * pilot.row_bytes) if path_data else 0
    return Estimate(
        paths=paths,
        months=months,
        workers=busy,
        chunk_size=chunk,
        seconds=seconds,
        memory=memory,
        disk=disk,
        memory_parts=parts,
        seconds_parts={"run": run_s, "stress": stress_s, "report": report_s},
        pilot_s=pilot.wall_s,
        per_path_memory=per_path_memory,
        per_path_seconds=(run_s - search_s - (POOL_S if busy > 1 else 0.0)) / paths,
    )


# ---------------------------------------------------------------------------
# The plan


PRECISION_HINT = "use --precision SE to stop once every answer is that precise"


def _at_most(paths: int, room: float, fixed: float, per_path: float) -> int | None:
    """Most paths that fit ``room`` when each costs ``per_path`` above ``fixed``."""
    if per_path <= 0 or room <= fixed:
        return None
    most = min(paths - 1, int((room - fixed) / per_path))
    if most < 1:
        return None
    # Rounded down to two significant figures: a round number to type.
    unit = 10 ** max(0, len(str(most)) - 2)
    return most // unit * unit


def plan(
    scenario: Scenario,
    paths: int | None = None,
    *,
    workers: int | None = None,
    chunk_size: int | None = None,
    report_folder: str | Path | None = None,
    path_data: bool = True,
    stress: bool = False,
    keep_paths: bool = False,
    max_seconds: float | None = None,
    precision: float | None = None,
    computer: Machine | None = None,
) -> Estimate:
    """Check that a run can be done here, before it starts.

    Checks the scenario's magnitudes (:func:`check_magnitudes`), estimates the run
    (:func:`estimate`) and, when no ``chunk_size`` was asked for and the estimate
    does not fit in memory, picks the largest chunk that does (results never depend
    on it).

    Parameters
    ----------
    scenario, paths, workers, chunk_size, stress, keep_paths
        As for :func:`estimate`.
    report_folder
        Where the report goes (``None`` for no report): its disk must hold
        ``paths.csv``.
    path_data
        The report has ``paths.csv``.
    max_seconds
        Refuse a run estimated to take longer (``None``: no limit).
    precision
        The run stops at this standard error (``paths`` is then only its cap).
    computer
        The machine to plan for (default: this one, :func:`machine`).

    Returns
    -------
    Estimate
        Of the run as it will go (with the chunk size to use).

    Raises
    ------
    ScenarioError
        When a typical path overflows.
    SimulationError
        When the run needs more memory than is available, ``paths.csv`` more disk
        than is free, or more time than ``max_seconds``: one line with the estimate
        and what to change.
    """
    from ..paths.sampling import BLOCK_SIZE

    check_magnitudes(scenario)
    paths = scenario.paths if paths is None else paths
    computer = computer or machine()
    report = report_folder is not None
    options = {
        "workers": workers,
        "report": report,
        "path_data": path_data and report,
        "stress": stress,
        "keep_paths": keep_paths,
        "cores": computer.cores,
    }
    pilot = _assumed_pilot(scenario)
    guess = estimate(scenario, paths, chunk_size=chunk_size, _pilot_result=pilot, **options)
    free = free_disk(report_folder) if report and path_data else None
    quick = (
        (paths <= QUICK_PATHS or guess.seconds <= QUICK_SECONDS)
        and (max_seconds is None or guess.seconds <= max_seconds / 4)
        and (computer.memory is None or guess.memory < computer.memory / 4)
        and (free is None or guess.disk < free / 4)
    )
    if not quick:
        pilot = _pilot(scenario, paths, path_data and report)
        guess = estimate(scenario, paths, chunk_size=chunk_size, _pilot_result=pilot, **options)
    what = f"{paths:,} paths" + (" (the cap of --precision)" if precision is not None else "")
    if computer.memory is not None:
        room = MEMORY_SHARE * computer.memory
        if guess.memory > room and chunk_size is None:
            chunk = guess.chunk_size
            while guess.memory > room and chunk > BLOCK_SIZE:
                chunk = max(BLOCK_SIZE, chunk // 2)
                guess = estimate(scenario, paths, chunk_size=chunk, _pilot_result=pilot, **options)
        if guess.memory > room:
            raise SimulationError(
                f"{what} would need {guess.describe()}, but this machine has "
                f"{size(computer.memory)} available: {_memory_advice(guess, room, paths)}"
            )
    if report and path_data and free is not None:
        room = DISK_SHARE * free - DISK_RESERVE - REPORT_FILES_BYTES
        if guess.disk > room:
            most = _at_most(paths, room, 0.0, guess.disk / paths)
            fewer = f", or run at most {most:,} paths" if most else ""
            raise SimulationError(
                f"paths.csv for {what} would take about {size(guess.disk)}, but only "
                f"{size(free)} are free where the report goes ({report_folder}): pass "
                f"--no-path-data{fewer}"
            )
    if max_seconds is not None and guess.seconds > max_seconds:
        fixed = guess.seconds - guess.per_path_seconds * paths
        most = _at_most(paths, max_seconds, fixed, guess.per_path_seconds)
        fewer = f"run at most {most:,} paths, or " if most else ""
        limit = duration(max_seconds)
        raise SimulationError(
            f"{what} would take {guess.describe()}, longer than the {limit} allowed: "
            f"{fewer}{PRECISION_HINT}, or allow it with --max-minutes (0 for no limit)"
        )
    return guess


def _memory_advice(guess: Estimate, room: float, paths: int) -> str:
    """What to change when a run does not fit in memory."""
    parts = guess.memory_parts
    biggest = max(parts, key=parts.get)
    advice = []
    if parts.get("path_rows", 0) >= 0.25 * guess.memory:
        advice.append("pass --no-path-data (rows for paths.csv pile up faster than written)")
    if parts.get("sample", 0) >= 0.25 * guess.memory:
        advice.append("lower stress.sensitivity_paths")
    if biggest == "batches" or parts.get("batches", 0) >= 0.25 * guess.memory:
        advice.append("use --chunk-size 4096 or fewer --workers")
    if parts.get("histograms", 0) >= 0.25 * guess.memory:
        advice.append(
            f"use fewer --workers or shorten scenario.horizon_months ({guess.months} months "
            "of cost histograms per process)"
        )
    if guess.per_path_memory > 0:
        fixed = guess.memory - guess.per_path_memory * paths
        most = _at_most(paths, room, fixed, guess.per_path_memory)
        if most:
            advice.append(f"run at most {most:,} paths, or {PRECISION_HINT}")
    return "; ".join(advice) or "use fewer --workers or a shorter horizon"
