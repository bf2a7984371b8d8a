"""Before a run: can its numbers overflow, will it fit this machine, how long will it take?

:func:`plan` is what the command calls before it starts a run, and it is cheap:

- :func:`~.magnitudes.check_magnitudes` refuses a scenario whose typical path (every
  input at its median) overflows;
- :func:`~.estimate.estimate` gives the memory, time and disk space of the run, from a
  short pilot of the scenario itself (:mod:`.pilot`) or, for runs of at most
  :data:`QUICK_PATHS` paths or that high figures put under :data:`QUICK_SECONDS`
  whose memory is clearly no concern, from those figures;
- a run whose least time (:attr:`~.estimate.Estimate.floor_seconds`: the summary,
  the value of information and the report, which grow with the options whatever the
  paths) is already longer than allowed is refused before any pilot, and a pilot is
  stopped, and the run refused, once it alone has used the time that is left;
- then the largest chunk size that fits in memory when none was asked for, and a
  refusal, with the estimate and what to change, of a run this machine cannot hold, a
  report its disk cannot take (``paths.csv``, ``paths.parquet``, the pages and charts,
  as estimated, and :data:`DISK_MARGIN`), or a run longer than allowed
  (the pilot's own time counted).
"""

from __future__ import annotations

from pathlib import Path

from ..scenario.errors import SimulationError
from ..scenario.model import Scenario
from .estimate import Estimate, duration, estimate, size
from .machine import Machine, free_disk, machine
from .magnitudes import check_magnitudes
from .pilot import PilotOverBudget, assumed_pilot, run_pilot

__all__ = ["DISK_MARGIN", "NOTE_S", "plan"]

MEMORY_SHARE = 0.8
"""Share of the available memory a run may plan to use."""

DISK_MARGIN = 4 * 2**20
"""Disk space a report leaves free beyond its estimate (:attr:`Estimate.disk`, which
models the pages and charts from the options, the horizon and the names, and the path
files from their rows and columns): file system blocks, the marker file, the error of
the model."""

NOTE_S = 30.0
"""Runs estimated to take longer than this are announced with their estimate."""

QUICK_PATHS = 65_536
"""Runs of at most this many paths go without a pilot when an estimate with assumed
(high) figures leaves most of the memory and disk free: they take seconds."""

QUICK_SECONDS = 60.0
"""Nor do runs that the high figures put under this many seconds: the pilot would
only tell them they are fine, at up to half a second of every run's time."""


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
        Where the report goes (``None`` for no report): its disk must hold the
        report as estimated (:attr:`Estimate.disk`) and :data:`DISK_MARGIN`.
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
        When the run needs more memory than is available, the report more disk than
        is free, or more time than ``max_seconds`` (the pilot's included): one line
        with the estimate and what to change.
    """
    from ..paths.sampling import BLOCK_SIZE

    for alone in scenario.each_workload:
        check_magnitudes(alone)
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
    pilot = assumed_pilot(scenario)
    guess = estimate(scenario, paths, chunk_size=chunk_size, _pilot_result=pilot, **options)
    what = f"{paths:,} paths" + (" (the cap of --precision)" if precision is not None else "")
    if max_seconds is not None and guess.floor_seconds > max_seconds:
        raise SimulationError(_floor_refusal(scenario, guess, what, max_seconds))
    free = free_disk(report_folder) if report else None
    quick = (
        (paths <= QUICK_PATHS or guess.seconds <= QUICK_SECONDS)
        and (max_seconds is None or guess.seconds <= max_seconds / 4)
        and (computer.memory is None or guess.memory < computer.memory / 4)
        and (free is None or guess.disk < free / 4)
    )
    if not quick:
        budget = None if max_seconds is None else max_seconds - guess.floor_seconds
        try:
            pilot = run_pilot(scenario, paths, path_data and report, budget_s=budget)
        except PilotOverBudget as over:
            raise SimulationError(
                f"{what} would take longer than the {duration(max_seconds)} allowed: a "
                f"pilot of a few paths took {duration(over.elapsed_s)} before it was "
                f"stopped, beside the {duration(guess.floor_seconds)} its "
                f"{len(scenario.options):,} options take at least: {_fewer_options(guess)}"
                ", or allow it with --max-minutes (0 for no limit)"
            ) from None
        guess = estimate(scenario, paths, chunk_size=chunk_size, _pilot_result=pilot, **options)
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
    if free is not None:
        _check_disk(guess, free, what, paths, report_folder)
    taken = guess.seconds + guess.pilot_s
    if max_seconds is not None and taken > max_seconds:
        fixed = taken - guess.per_path_seconds * paths
        most = _at_most(paths, max_seconds, fixed, guess.per_path_seconds)
        fewer = f"run at most {most:,} paths, or " if most else ""
        limit = duration(max_seconds)
        raise SimulationError(
            f"{what} would take {guess.describe()}, longer than the {limit} allowed: "
            f"{fewer}{PRECISION_HINT}, or allow it with --max-minutes (0 for no limit)"
        )
    return guess


def _check_disk(guess: Estimate, free: int, what: str, paths: int, folder) -> None:
    """Refuse a report the free disk space cannot take, with what to change."""
    room = free - DISK_MARGIN
    if guess.disk <= room:
        return
    parts = guess.disk_parts
    pages = parts["pages"]
    rows = parts["paths.csv"] + parts["paths.parquet"]
    where = f"but only {size(free)} are free where the report goes ({folder})"
    if rows and pages <= room:
        most = _at_most(paths, room, pages, rows / paths)
        fewer = f", or run at most {most:,} paths" if most else ""
        parquet = parts["paths.parquet"]
        also = f" and paths.parquet {size(parquet)}" if parquet else ""
        raise SimulationError(
            f"paths.csv for {what} would take about {size(parts['paths.csv'])}{also} "
            f"(the whole report {size(guess.disk)}, with {size(DISK_MARGIN)} to spare), "
            f"{where}: pass --no-path-data{fewer}"
        )
    raise SimulationError(
        f"the report's pages and charts would take about {size(pages)} "
        f"(with {size(DISK_MARGIN)} to spare), {where}: free some space, choose another "
        "--out, or pass --no-report"
    )


def _fewer_options(guess: Estimate) -> str:
    """What to change when the options alone take too long."""
    parts = guess.seconds_parts
    advice = []
    if parts.get("report", 0.0) >= 0.25 * guess.floor_seconds:
        advice.append("pass --no-report (charts and pages grow with the options)")
    if parts.get("value_of_information", 0.0) >= 0.25 * guess.floor_seconds:
        advice.append(
            "run fewer paths or lower [stress] sensitivity_paths (the value of "
            "information reads them once per input and option)"
        )
    return "; ".join([*advice, "compare fewer options at once"])


def _floor_refusal(scenario: Scenario, guess: Estimate, what: str, max_seconds: float) -> str:
    """The refusal of a run whose options alone take longer than allowed."""
    parts = guess.seconds_parts
    named = [
        (key.replace("_", " "), parts.get(key, 0.0))
        for key in ("summary", "value_of_information", "report")
    ]
    shown = ", ".join(f"{name} {duration(s)}" for name, s in named if s >= 0.05)
    return (
        f"{what} would take at least {duration(guess.floor_seconds)} for its "
        f"{len(scenario.options):,} options alone ({shown}), longer than the "
        f"{duration(max_seconds)} allowed: {_fewer_options(guess)}, or allow it with "
        "--max-minutes (0 for no limit)"
    )


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
