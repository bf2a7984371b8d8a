"""Sweeps: the same scenario at every combination of a grid of values, on the same draws.

Every combination is a run of its own with the plain run's seed, so two rows differ by
what the grid changed, not by noise (common random numbers), and the row at the
scenario's own values is the plain run's numbers. Combinations run side by side on
local processes or a Dask cluster, through the same executor as every other job.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.arguments import checked_scheduler, whole_number
from ..engine.executor import executor, result
from ..engine.run import default_workers
from ..scenario.errors import ScenarioError
from ..scenario.load import apply_overrides
from ..scenario.model import Scenario
from ..scenario.parse import parse_scenario
from .policy import simulate
from .recommend import recommend
from .summary import summarize

__all__ = ["MAX_COMBINATIONS", "SweepResult", "check_grid", "parse_grid", "sweep", "toml_text"]

MAX_COMBINATIONS = 10_000
"""Most combinations one sweep runs (each is a run of its own)."""

STATISTICS = ("mean_total_cost", "p_cheaper", "p_cheapest")
"""What each row holds per option, in column order."""


def toml_text(value: Any) -> str:
    """``value`` written as a TOML value (the inverse of reading one)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_toml_string(str(k))} = {toml_text(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise ScenarioError(f"{value!r} cannot be written as a TOML value", key="--grid")


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, every
    other character as it is (TOML has no surrogate-pair escapes)."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _value(text: str, key: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except RecursionError:  # the reader recurses: deep enough, it gives up first
        raise ScenarioError("the value nests too deeply", key=key, file="--grid") from None
    except tomllib.TOMLDecodeError:
        if any(c in text for c in '{}[]"='):
            raise ScenarioError(
                f"value {text!r} is not a valid TOML value", key=key, file="--grid"
            ) from None
        return text


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` (or ``KEY=[V1, V2]``, for values that are lists or tables) as
    the dotted key and its values.

    Raises
    ------
    ScenarioError
        When the text is not ``KEY=VALUES``, a value is not TOML, or a value repeats.
    """
    key, sep, rest = text.partition("=")
    key, rest = key.strip(), rest.strip()
    if not sep or not key or not rest:
        raise ScenarioError(f"--grid needs KEY=V1,V2,..., got {text!r}", file="--grid")
    if rest.startswith("["):
        values = _value(rest, key)
        if not isinstance(values, list) or not values:
            raise ScenarioError(
                "a grid given as a TOML array needs at least one value", key=key, file="--grid"
            )
    else:
        pieces = [p.strip() for p in rest.split(",")]
        if any(not p for p in pieces):
            raise ScenarioError(f"empty value in {rest!r}", key=key, file="--grid")
        values = [_value(p, key) for p in pieces]
    texts = [toml_text(v) for v in values]
    if len(set(texts)) < len(texts):
        raise ScenarioError("a value is given twice", key=key, file="--grid")
    return key, values


@dataclass(frozen=True)
class SweepResult:
    """One row per combination of the grid, in the order the grid lists them.

    Attributes
    ----------
    keys
        The grid's dotted keys, in the order given.
    rows
        Each combination: the grid values by key, then ``NAME.mean_total_cost``,
        ``NAME.p_cheaper`` (``None`` for the baseline), ``NAME.p_cheapest`` for every
        option, then ``recommendation`` (``None`` when every option is excluded).
    options
        Option name to label, in file order.
    """

    scenario: Scenario
    keys: tuple[str, ...]
    rows: list[dict[str, Any]]
    options: dict[str, str]
    paths: int
    seed: int | None
    entropy: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Column names of ``sweep.csv``."""
        stats = [f"{name}.{stat}" for name in self.options for stat in STATISTICS]
        return [*self.keys, *stats, "recommendation"]

    def __repr__(self) -> str:
        return (
            f"<SweepResult {self.scenario.name!r}: {len(self.rows)} combinations of "
            f"{', '.join(self.keys)}, {self.paths:,} paths each>"
        )

    def to_frame(self):
        """The rows as a pandas DataFrame (grid values as given, one column per key).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


def _scenario_at(job: tuple, values: Sequence[Any]) -> Scenario:
    document, source, keys = job[:3]
    changes = [f"{k}={toml_text(v)}" for k, v in zip(keys, values, strict=True)]
    where = ", ".join(changes)
    try:
        return parse_scenario(apply_overrides(document, changes), source=source)
    except ScenarioError as err:
        raise ScenarioError(
            f"at {where}: {err.message}", key=err.key, file=err.file or source
        ) from None


def _row(job: tuple, values: Sequence[Any]) -> dict[str, Any]:
    """Run one combination (in one process) and summarize it as a row."""
    keys, paths, entropy, chunk_size, names = job[2:]
    scenario = _scenario_at(job, values)
    if tuple(scenario.options) != names:
        raise ScenarioError(
            "a grid value changed the scenario's options; a sweep compares the same options",
            file="--grid",
        )
    outcome = simulate(scenario, paths=paths, seed=entropy, workers=1, chunk_size=chunk_size)
    summary = summarize(outcome)
    row: dict[str, Any] = dict(zip(keys, values, strict=True))
    for name, option in summary.options.items():
        versus = summary.versus.get(name)
        row[f"{name}.mean_total_cost"] = option.total_cost.mean
        row[f"{name}.p_cheaper"] = None if versus is None else versus.p_cheaper
        row[f"{name}.p_cheapest"] = option.p_cheapest
    row["recommendation"] = recommend(summary).option
    return row


def check_grid(
    document: Mapping[str, Any], grid: Sequence[tuple[str, Sequence[Any]]], *, source=None
) -> tuple[Scenario, list[tuple]]:
    """Check every combination of ``grid`` before any runs: the scenario as it is, and
    the list of combinations (the last key varying fastest).

    Raises
    ------
    ScenarioError
        For a grid with no key, a key given twice, too many combinations, or a value
        the scenario does not accept (naming the combination).
    """
    keys = tuple(key for key, _ in grid)
    if not keys:
        raise ScenarioError("a sweep needs at least one --grid KEY=V1,V2,...", file="--grid")
    if len(set(keys)) < len(keys):
        raise ScenarioError("a key is given twice", file="--grid")
    count = math.prod(len(values) for _, values in grid)
    if count > MAX_COMBINATIONS:
        raise ScenarioError(
            f"{count:,} combinations; a sweep runs at most {MAX_COMBINATIONS:,}",
            file="--grid",
        )
    base = parse_scenario(document, source=source)
    combinations = list(itertools.product(*(values for _, values in grid)))
    job = (document, source, keys)
    for values in combinations:
        _scenario_at(job, values)
    return base, combinations


def sweep(
    document: Mapping[str, Any],
    grid: Sequence[tuple[str, Sequence[Any]]],
    *,
    source: str | None = None,
    paths: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run the scenario ``document`` at every combination of ``grid``.

    Parameters
    ----------
    document
        The scenario as read from TOML (with any ``--set`` overrides applied).
    grid
        ``(dotted key, values)`` pairs, as :func:`parse_grid` gives them; the last key
        varies fastest.
    source
        The scenario file, for error messages.
    paths, seed, chunk_size
        As for :func:`simulator.run`; with no seed anywhere, one is drawn for the whole
        sweep so that every combination runs on the same draws.
    workers, scheduler
        Combinations run side by side on ``workers`` local processes (default: every
        core) or on the Dask cluster at ``scheduler``; results never change.
    progress
        Optional ``progress(combinations_done, combinations)``.

    Returns
    -------
    SweepResult
    """
    import time

    import numpy as np

    started = time.perf_counter()
    paths, seed, chunk_size, workers = (
        whole_number(k, v)
        for k, v in (
            ("paths", paths),
            ("seed", seed),
            ("chunk_size", chunk_size),
            ("workers", workers),
        )
    )
    scheduler = checked_scheduler(scheduler)
    base, combinations = check_grid(document, grid, source=source)
    keys = tuple(key for key, _ in grid)
    count = len(combinations)
    paths = base.paths if paths is None else paths
    seed = base.seed if seed is None else seed
    entropy = np.random.SeedSequence().entropy if seed is None else seed
    job = (document, source, keys, paths, entropy, chunk_size, tuple(base.options))
    workers = default_workers() if workers is None else workers
    rows = []
    with executor(min(workers, count), job, scheduler=scheduler) as pool:
        futures = [pool.submit(_row, values) for values in combinations]
        for done, future in enumerate(futures, 1):
            rows.append(result(future))
            if progress is not None:
                progress(done, count)
    return SweepResult(
        scenario=base,
        keys=keys,
        rows=rows,
        options={n: o.label for n, o in base.options.items()},
        paths=paths,
        seed=seed,
        entropy=entropy,
        timings={"sweep_s": time.perf_counter() - started},
    )
