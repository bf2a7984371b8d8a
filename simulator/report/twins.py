"""Options that cost the same on every path, shown once.

A staged policy whose trigger is never reached (its search found that staying put is
cheapest) costs exactly what its first stage costs on every path: two identical rows,
and in every chart one line drawn over the other. The pages show such a policy as its
twin's row, with a note; the twin's share of paths on which it is the cheapest is the
two shares together (the run splits a tie evenly between the tied options). The summary
JSON keeps both options as they are.
"""

from __future__ import annotations

import dataclasses

from ..decide.summary import SimulationResult

__all__ = ["folded", "twins"]


def twins(result: SimulationResult) -> dict[str, str]:
    """Each option that costs exactly what another costs on every path, mapped to the
    option it is shown as.

    Only a staged policy that migrates on no path qualifies, when its total and
    discounted cost distributions are also those of its first stage: then its costs
    are its first stage's, path by path, by construction.
    """
    found = {}
    for name, option in result.options.items():
        if option.kind != "staged" or (option.policy or {}).get("p_migrates") != 0:
            continue
        start = result.scenario.options[name].params["start"]
        first = result.options[start]
        if option.total_cost == first.total_cost and option.npv == first.npv:
            found[name] = found.get(start, start)
    return found


def folded(result: SimulationResult) -> SimulationResult:
    """The result without the options :func:`twins` finds, each twin credited with the
    share of paths on which its folded options were the cheapest too."""
    folds = twins(result)
    if not folds:
        return result
    credit = {name: option.p_cheapest for name, option in result.options.items()}
    allowed = {name: option.p_cheapest_allowed for name, option in result.options.items()}
    for gone, kept in folds.items():
        credit[kept] += credit[gone]
        if allowed[kept] is not None and allowed[gone] is not None:
            allowed[kept] += allowed[gone]
    options = {
        name: dataclasses.replace(option, p_cheapest=credit[name], p_cheapest_allowed=allowed[name])
        for name, option in result.options.items()
        if name not in folds
    }
    versus = {name: v for name, v in result.versus.items() if name not in folds}
    return dataclasses.replace(result, options=options, versus=versus)
