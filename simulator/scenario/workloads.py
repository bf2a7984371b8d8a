"""Several workloads in one scenario: ``[workloads.NAME]`` tables and ``[portfolio]``.

Each ``[workloads.NAME]`` table takes every key of ``[workload]``, its quantities kept
under ``workloads.NAME.KEY``, and may set the workload's own
``downtime_cost_per_hour``, ``[workloads.NAME.requirements]`` and
``[workloads.NAME.escalation_rate]`` (option name to this workload's escalation rate
there, over the option's own). Each workload also
gets a scenario of its own, the whole scenario as if this were its only workload (its
keys as ``workload.KEY``): a cost model costs an option for one workload on it,
unchanged. ``[portfolio]`` says which options may serve the workloads, and which one
each does or how it is chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from . import schema
from .errors import ScenarioError, quoted, unknown
from .model import Portfolio, Requirements, Scenario
from .schema import check_option_name

__all__ = [
    "PREFIX",
    "NOT_IN_PORTFOLIOS",
    "alone_key",
    "alone_scenario",
    "parse_workloads",
    "with_workloads",
]

PREFIX = "workloads."

NOT_IN_PORTFOLIOS = ("hybrid", "staged")
"""Option kinds that route or stage one workload's traffic: not yet with several."""


def parse_workloads(
    raw: Any, table: Callable[..., dict[str, Any]], quantities: dict
) -> dict[str, dict[str, Any]]:
    """Validate the ``[workloads.NAME]`` tables with ``table`` (the parser's own table
    check), their quantities into ``quantities``; return for each workload the keys its
    own ``[workloads.NAME.requirements]`` sets (``"requirements"``) and its
    ``candidates`` (``None`` when not given)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ScenarioError("must hold one table per workload ([workloads.NAME])", key="workloads")
    requirements: dict[str, dict[str, Any]] = {}
    candidates: dict[str, tuple[str, ...] | None] = {}
    for name, body in raw.items():
        check_option_name(name, "workloads")
        where = f"{PREFIX}{name}"
        if not isinstance(body, Mapping):
            raise ScenarioError("must be a table of the workload's keys", key=where)
        own = body.get("requirements", {})
        if not isinstance(own, Mapping):
            raise ScenarioError("must be a table", key=f"{where}.requirements")
        gaps = body.get("escalation_rate", {})
        if not isinstance(gaps, Mapping):
            raise ScenarioError(
                "must be a table of option name to this workload's escalation rate",
                key=f"{where}.escalation_rate",
            )
        chosen = body.get("candidates")
        if chosen is not None and (
            not isinstance(chosen, list)
            or not chosen
            or not all(isinstance(c, str) for c in chosen)
        ):
            raise ScenarioError(
                "must be a non-empty list of option names", key=f"{where}.candidates"
            )
        candidates[name] = None if chosen is None else tuple(chosen)
        body = {
            k: v
            for k, v in body.items()
            if k not in ("requirements", "escalation_rate", "candidates")
        }
        given = table(own, schema.REQUIREMENTS, f"{where}.requirements", quantities)
        requirements[name] = {k: v for k, v in given.items() if k in own}
        rate = schema.OPTION_FIELDS["api"]["escalation_rate"]
        table(gaps, {o: dataclasses.replace(rate, default=None) for o in gaps},
              f"{where}.escalation_rate", quantities)  # fmt: skip
        values = table(body, schema.WORKLOADS, where, quantities)
        if values["load_profile"] is not None:
            raise ScenarioError(
                "a load profile per workload is not supported with several workloads; "
                "give peak_to_average (and deferrable_share) instead",
                key=f"{where}.load_profile",
            )
        if "within_hour_burst" in body:
            raise ScenarioError(
                "needs a load profile, which several workloads do not take yet",
                key=f"{where}.within_hour_burst",
            )
    return {n: {"requirements": requirements[n], "candidates": candidates[n]} for n in raw}


def with_workloads(scenario: Scenario, workloads: Mapping[str, dict], raw: Any) -> Scenario:
    """``scenario`` with its workloads' own scenarios and its ``[portfolio]``;
    ``workloads`` maps each workload to its own requirement keys, which bind it alone
    (over the scenario's ``[requirements]``).

    Raises
    ------
    ScenarioError
        For an option kind that cannot serve several workloads, or a ``[portfolio]``
        naming an unknown option or workload.
    """
    for option in scenario.options.values():
        if option.params.get("reserved_gpus") == "optimize":
            raise ScenarioError(
                "is searched for a single [workload]; with several workloads give the count "
                "to reserve (a run of one workload's scenario searches it)",
                key=f"options.{option.name}.reserved_gpus",
            )
        if option.kind in NOT_IN_PORTFOLIOS:
            raise ScenarioError(
                f"a {option.kind} option is for a single [workload]; with [workloads.NAME] "
                "tables the portfolio assigns each workload its option instead",
                key=f"options.{option.name}.kind",
            )
    names = tuple(workloads)
    for key in scenario.quantities:
        parts = key.split(".")
        if len(parts) == 4 and parts[0] == "workloads" and parts[2] == "escalation_rate":
            _check_escalation(scenario, parts[3], key)
    own = {
        name: _alone(
            scenario,
            name,
            dataclasses.replace(scenario.requirements, **workloads[name]["requirements"]),
        )
        for name in names
    }
    portfolio = _portfolio(raw, scenario, names)
    allowed = {}
    for name in names:
        given = workloads[name]["candidates"]
        for i, option in enumerate(given or ()):
            if option not in portfolio.candidates:
                where = f"{PREFIX}{name}.candidates[{i}]"
                raise ScenarioError(unknown(option, "a candidate", portfolio.candidates), key=where)
        allowed[name] = portfolio.candidates if given is None else tuple(given)
    portfolio = dataclasses.replace(portfolio, allowed=MappingProxyType(allowed))
    return dataclasses.replace(scenario, workloads=MappingProxyType(own), portfolio=portfolio)


def _check_escalation(scenario: Scenario, name: str, key: str) -> None:
    """A workload's escalation rate on option ``name``: a known option with a fallback."""
    if name not in scenario.options:
        raise ScenarioError(unknown(name, "an option", scenario.options), key=key)
    if scenario.options[name].params.get("fallback") is None:
        raise ScenarioError(
            f"option {quoted(name)} has no fallback to escalate to; give it one, or leave "
            "it out of this workload's candidates",
            key=key,
        )


def alone_key(rest: str) -> str:
    """The key, in a workload's own scenario, of its key ``workloads.NAME.REST``."""
    if rest == "downtime_cost_per_hour":
        return "business.downtime_cost_per_hour"
    if rest.startswith("escalation_rate."):
        return f"options.{rest.split('.', 1)[1]}.escalation_rate"
    return f"workload.{rest}"


def alone_scenario(scenario: Scenario, name: str) -> Scenario:
    """Workload ``name``'s own scenario, made afresh from ``scenario`` as it is now (a
    pilot's shorter horizon, a search's option terms), with the workload's own
    requirements."""
    return _alone(scenario, name, scenario.workloads[name].requirements)


def _alone(scenario: Scenario, name: str, requirements: Requirements) -> Scenario:
    prefix = f"{PREFIX}{name}."
    quantities = {k: v for k, v in scenario.quantities.items() if not k.startswith(PREFIX)}
    for key, dist in scenario.quantities.items():
        if key.startswith(prefix):
            quantities[alone_key(key[len(prefix) :])] = dist
    return dataclasses.replace(
        scenario,
        name=f"{scenario.name}: {name}",
        quantities=MappingProxyType(quantities),
        workloads=MappingProxyType({}),
        portfolio=None,
        requirements=requirements,
    )


def _portfolio(raw: Any, scenario: Scenario, names: tuple[str, ...]) -> Portfolio:
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ScenarioError("must be a table", key="portfolio")
    for key in raw:
        if key not in schema.PORTFOLIO:
            raise ScenarioError(
                unknown(key, "a key of [portfolio]", schema.PORTFOLIO), key=f"portfolio.{key}"
            )
    options = scenario.options
    candidates = raw.get("candidates")
    if candidates is None:
        candidates = tuple(options)
    else:
        where = "portfolio.candidates"
        if not isinstance(candidates, list) or not candidates:
            raise ScenarioError("must be a non-empty list of option names", key=where)
        for i, name in enumerate(candidates):
            if name not in options:
                raise ScenarioError(unknown(name, "an option", options), key=f"{where}[{i}]")
        if len(set(candidates)) < len(candidates):
            raise ScenarioError("names an option twice", key=where)
        candidates = tuple(candidates)
    objective = raw.get("objective", "mean")
    choices = schema.PORTFOLIO["objective"].choices
    if objective not in choices:
        raise ScenarioError(unknown(objective, "allowed here", choices), key="portfolio.objective")
    assign = raw.get("assign", "optimize")
    if assign != "optimize":
        assign = _assignment(assign, names, candidates)
    return Portfolio(candidates, objective, assign)


def _assignment(raw: Any, names: tuple[str, ...], candidates: tuple[str, ...]):
    where = "portfolio.assign"
    if not isinstance(raw, Mapping):
        raise ScenarioError(
            f'must be "optimize" or a table of workload to option, got {quoted(raw)}', key=where
        )
    for workload, option in raw.items():
        if workload not in names:
            raise ScenarioError(unknown(workload, "a workload", names), key=f"{where}.{workload}")
        if option not in candidates:
            raise ScenarioError(
                unknown(option, "a candidate", candidates), key=f"{where}.{workload}"
            )
    missing = [n for n in names if n not in raw]
    if missing:
        raise ScenarioError(
            f"assigns no option to {', '.join(map(quoted, missing))}; every workload needs one",
            key=where,
        )
    return MappingProxyType({n: raw[n] for n in names})
