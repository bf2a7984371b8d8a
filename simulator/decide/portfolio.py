"""The portfolio decision: which option serves which workload.

An assignment maps every workload to a candidate. On a path it costs the sum, over
the options it uses, of what each costs serving exactly its workloads: the engine has
costed every candidate for every set of workloads on every path
(:func:`~simulator.costs.pooled.portfolio_paths`), so an assignment is a sum of a few
per-path arrays, and every assignment is compared on the same paths.

With ``assign = "optimize"`` the search is exhaustive up to :data:`EXHAUSTIVE`
assignments. Beyond, it is a local search: from each candidate serving everything,
move the one workload whose move to another candidate lowers the objective most,
until no single move does; the best assignment any start reaches is chosen (with
pooled costs this can miss an assignment that only a move of two workloads at once
reaches). A workload is assigned only candidates that meet the requirements binding
it: the scenario's and its own ``[workloads.NAME.requirements]``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..costs.pooled import assignment_masks
from ..engine.tally import cvar
from ..scenario.requirements import exclusions
from .recommend import value_of_information
from .sensitivity import sensitivity

__all__ = [
    "EXHAUSTIVE",
    "RUNNERS_UP",
    "allowed_options",
    "assignment_total",
    "portfolio_summary",
]

EXHAUSTIVE = 100_000
"""Most assignments searched one by one."""

RUNNERS_UP = 3
"""Assignments reported after the chosen one."""

VOI_ASSIGNMENTS = 256
"""Best assignments among which the value of information is worked out."""

SHOWN_INPUTS = 8
"""Inputs reported as moving the assignment's saving."""

_QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


def portfolio_summary(result, inputs: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The ``portfolio`` summary key of a run (see the module).

    Parameters
    ----------
    result
        A :class:`~simulator.decide.summary.SimulationResult` of a scenario with a
        ``[portfolio]``.
    inputs
        The sampled inputs of the run's first paths: with them (and a search), the
        value of information of the assignment and what moves its saving.
    """
    scenario = result.scenario
    portfolio = scenario.portfolio
    names = tuple(scenario.workloads)
    paths = result.paths.portfolio
    choices = allowed_options(result)
    if not all(choices.values()):
        return {"assignment": None, "objective": portfolio.objective, "assignments_searched": 0}
    search = _Search(paths, names, tuple(choices.values()), portfolio.objective)
    count = math.prod(len(c) for c in choices.values())
    if portfolio.assign != "optimize":
        ranked = [search.score(tuple(portfolio.assign[n] for n in names))]
        searched = 1
    elif count <= EXHAUSTIVE:
        every = itertools.product(*choices.values())
        ranked, searched = search.best(every), count
    else:
        ranked, searched = search.local()
    chosen = ranked[0][1]
    total = search.total(chosen)
    baseline = search.total((scenario.baseline,) * len(names))
    saving = baseline - total
    return {
        "assignment": dict(zip(names, chosen, strict=True)),
        "objective": portfolio.objective,
        "total_cost": _describe(total),
        "p_cheaper": float(np.mean(total < baseline)),
        "savings": {
            "mean": float(saving.mean()),
            **{k: float(np.quantile(saving, _QUANTILES[k])) for k in ("p5", "p50", "p95")},
        },
        "versus_single": {
            n: float(search.total((n,) * len(names)).mean() - total.mean())
            for n in scenario.options
        },
        "by_workload": _by_workload(paths, names, chosen),
        "runners_up": [_runner_up(search, names, a) for _, a in ranked[1 : RUNNERS_UP + 1]],
        "assignments_searched": searched,
        **_analyses(search, ranked, baseline, inputs, result),
    }


def assignment_total(paths, assignment, count: int | None = None) -> np.ndarray:
    """Per path (the first ``count`` only, if given), the total of an assignment (one
    option for each workload, in file order) from a run's ``portfolio`` arrays."""
    parts = [paths[f"portfolio:{o}:{m}"][:count] for o, m in assignment_masks(assignment).items()]
    return np.sum(parts, axis=0) if len(parts) > 1 else parts[0]


def allowed_options(result) -> dict[str, tuple[str, ...]]:
    """For each workload, its candidates that meet every requirement binding it: the
    scenario's ``[requirements]`` and the workload's own."""
    scenario = result.scenario
    latency = {n: o.p_latency_met for n, o in result.options.items() if o.p_latency_met is not None}
    out = {}
    for name, alone in scenario.workloads.items():
        barred = exclusions(alone, latency)
        own = scenario.portfolio.allowed.get(name, scenario.portfolio.candidates)
        out[name] = tuple(c for c in own if c not in barred)
    return out


class _Search:
    """Scores assignments (tuples of one candidate per workload) by the objective;
    ``choices`` are each workload's allowed candidates."""

    def __init__(self, paths, names, choices, objective):
        self.paths, self.names, self.choices, self.objective = paths, names, choices, objective
        self.means = {k: float(v.mean()) for k, v in paths.items() if k.startswith("portfolio:")}

    def total(self, assignment, paths: int | None = None) -> np.ndarray:
        """Per path (the first ``paths`` only, if given), the assignment's total."""
        return assignment_total(self.paths, assignment, paths)

    def score(self, assignment) -> tuple[float, tuple[str, ...]]:
        if self.objective == "mean":
            masks = assignment_masks(assignment).items()
            value = sum(self.means[f"portfolio:{o}:{m}"] for o, m in masks)
        else:
            value = cvar(self.total(assignment))
        return value, tuple(assignment)

    def best(self, assignments: Iterable) -> list:
        """Every assignment by its objective, best first."""
        # Ties keep the earlier assignment (candidates in file order), whatever the sort.
        scored = [(*self.score(a), i) for i, a in enumerate(assignments)]
        scored.sort(key=lambda s: (s[0], s[2]))
        return [(value, a) for value, a, _ in scored]

    def local(self) -> tuple[list, int]:
        seen: dict[tuple[str, ...], float] = {}

        def score(a):
            if a not in seen:
                seen[a] = self.score(a)[0]
            return seen[a]

        everywhere = [c for c in self.choices[0] if all(c in own for own in self.choices)]
        starts = [(c,) * len(self.names) for c in everywhere]
        for current in starts or [tuple(own[0] for own in self.choices)]:
            while True:
                moves = [
                    current[:i] + (o,) + current[i + 1 :]
                    for i, own in enumerate(self.choices)
                    for o in own
                    if o != current[i]
                ]
                best = min(moves, key=score, default=current)
                if score(best) >= score(current):
                    break
                current = best
        ranked = sorted(seen.items(), key=lambda item: item[1])
        return [(v, a) for a, v in ranked], len(seen)


def _analyses(search, ranked, baseline, inputs, result) -> dict[str, Any]:
    """``value_of_information`` of the assignment (among the :data:`VOI_ASSIGNMENTS`
    best ones) and ``sensitivity`` of its saving against the baseline, on the paths of
    ``inputs``; nothing without uncertain inputs or a choice to make."""
    if not inputs or len(ranked) < 2:
        return {}
    paths = len(next(iter(inputs.values())))
    chosen = search.total(ranked[0][1], paths)
    effects = sensitivity(inputs, {"portfolio": chosen, "baseline": baseline[:paths]}, "baseline")
    totals = {str(i): search.total(a, paths) for i, (_, a) in enumerate(ranked[:VOI_ASSIGNMENTS])}
    value = value_of_information(result, inputs, totals, "0", list(totals))
    value["assignments"] = len(totals)
    return {
        "value_of_information": value,
        "sensitivity": [e.to_dict() for e in effects["portfolio"][:SHOWN_INPUTS]],
    }


def _runner_up(search, names, assignment) -> dict[str, Any]:
    total = search.total(assignment)
    return {
        "assignment": dict(zip(names, assignment, strict=True)),
        "mean": float(total.mean()),
        "cvar95": cvar(total),
    }


def _describe(total: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(total.mean()),
        "sd": float(total.std(ddof=1)) if total.size > 1 else 0.0,
        **{k: float(np.quantile(total, q)) for k, q in _QUANTILES.items()},
        "cvar95": cvar(total),
    }


def _by_workload(paths, names, chosen) -> dict[str, dict[str, Any]]:
    """Each workload's option, and its month-1 spend: the option's first month for the
    workloads it serves, shared in proportion to their month-1 tokens."""
    masks = assignment_masks(chosen)
    count = next(len(v) for k, v in paths.items() if k.startswith("portfolio:"))
    return {
        name: {
            "option": option,
            "monthly_spend_today": float(
                paths[f"portfolio1:{option}:{masks[option]}:{name}"].sum() / count
            ),
        }
        for name, option in zip(names, chosen, strict=True)
    }
