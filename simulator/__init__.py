"""Monte Carlo risk simulator for LLM hosting decisions.

>>> from simulator import load_scenario, run
>>> result = run(load_scenario("scenarios/logistics.toml"), paths=10_000, seed=1)
>>> 0 <= result.versus["self_hosted"].p_cheaper <= 1
True

Names are imported on first use, so ``simulate --help`` does not pay for NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .scenario.errors import ScenarioError, SimulationError
from .version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .decide.summary import SimulationResult
    from .engine.run import PathResults
    from .fit import UsageFit, fit_usage
    from .scenario.model import Scenario

__all__ = [
    "PathResults",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "UsageFit",
    "fit_usage",
    "load_scenario",
    "parse_scenario",
    "run",
    "__version__",
]


_LAZY = {
    "PathResults": "engine.run",
    "Scenario": "scenario.model",
    "load_scenario": "scenario.load",
    "parse_scenario": "scenario.parse",
    "SimulationResult": "decide.summary",
    "UsageFit": "fit",
    "fit_usage": "fit",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def run(
    scenario: Scenario,
    *,
    paths: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    precision: float | None = None,
    keep_paths: bool = False,
    path_sink=None,
    path_fields=None,
    progress=None,
    stress: bool = False,
    stress_started=None,
    scheduler: str | None = None,
) -> SimulationResult:
    """Simulate ``scenario`` and summarize it.

    The summary always carries ``recommendation``, ``value_of_information`` (from the
    run's first ``[stress] sensitivity_paths`` paths) and ``decision_questions``.

    Parameters
    ----------
    scenario
        From :func:`load_scenario` or :func:`parse_scenario`.
    paths, seed
        Override the scenario's own values.
    chunk_size
        Paths costed together; memory and speed only, never results.
    workers
        Processes in parallel (default: every available core); never changes results.
    precision
        Add paths until every P(cheaper) and every option's mean total cost (relative
        to the mean) has at most this standard error; ``paths`` is then the cap.
    keep_paths
        Keep per-path arrays in ``result.paths`` (``totals``, ``monthly``, ``draws``...);
        memory then grows with paths.
    path_sink
        Optional ``path_sink(first_path, arrays)``, given each batch's per-path arrays
        in path order (to stream every path to disk in flat memory).
    path_fields
        Name prefixes of the arrays ``path_sink`` needs (default: all).
    progress
        Optional ``progress(done, total)`` callback.
    stress
        Also run the stress grid and the break-even volume search (extra engine runs
        on the same seed) and the sensitivity analysis (on this run's first paths):
        the summary keys ``stress``, ``breakeven``, ``sensitivity`` and
        ``stress_method`` (see :func:`simulator.decide.stress.stress_test`).
    stress_started
        Optional ``stress_started()``, called once the run is done and the stress test
        begins (so that a progress display can say what it waits for).
    scheduler
        The address of a Dask distributed scheduler (``tcp://HOST:PORT``): cost the
        paths (and the stress test's runs) on its cluster instead of local processes.
        The results are the same to the byte.

    Returns
    -------
    SimulationResult
    """
    from .decide.policy import simulate
    from .decide.recommend import summary_keys
    from .decide.stress import collecting
    from .decide.summary import summarize
    from .engine.arguments import checked_scenario

    scenario = checked_scenario(scenario)
    # The run's first paths feed the value of information (and the sensitivity).
    # Past the sample's paths, per-path arrays are only wanted by a caller's own sink.
    own_sink = path_sink is not None or keep_paths
    sample, path_sink, path_fields = collecting(scenario, paths, path_sink, path_fields)
    outcome = simulate(
        scenario,
        paths=paths,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        precision=precision,
        keep_paths=keep_paths,
        path_sink=path_sink,
        path_fields=path_fields,
        progress=progress,
        path_limit=None if own_sink else sample.limit,
        scheduler=scheduler,
    )
    result = summarize(outcome)
    result.extra.update(summary_keys(result, sample.inputs, sample.totals))
    if scenario.portfolio is not None:
        from .decide.portfolio import portfolio_summary

        result.extra["portfolio"] = portfolio_summary(result, sample.inputs)
    if stress:
        from .decide.stress import stress_test

        if stress_started is not None:
            stress_started()
        result = stress_test(result, sample, workers=workers, scheduler=scheduler)
    return result
