"""Hard constraints that override cost: data residency, latency, operations capacity.

An option breaks a requirement through any option it relies on: a hybrid through its
routes, a staged policy through both stages, a stack through its fallback API (for
data residency; a fallback serves too little traffic to set the latency).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from .model import Scenario
from .schema import OPS_LEVELS

__all__ = ["relies_on", "latency_met", "exclusions"]


def relies_on(scenario: Scenario, name: str, *, fallbacks: bool = True) -> tuple[str, ...]:
    """``name`` and every option it sends traffic to, directly or not, in file order."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        option = scenario.options[todo.pop()]
        if option.name in seen:
            continue
        seen.add(option.name)
        todo.extend(route.option for route in option.routes)
        if option.kind == "staged":
            todo.extend((option.params["start"], option.params["then"]))
        if fallbacks and option.params.get("fallback"):
            todo.append(option.params["fallback"])
    return tuple(n for n in scenario.options if n in seen)


def latency_met(scenario: Scenario, batch) -> dict[str, np.ndarray]:
    """Per path, 1.0 where every option serving ``name``'s traffic has a time to first
    token within ``[requirements] max_ttft_ms``, else 0.0; only for options that rely
    on at least one option with a ``ttft_ms``, and only when the requirement is set."""
    limit = scenario.requirements.max_ttft_ms
    if limit is None:
        return {}
    out = {}
    for name in scenario.options:
        paths = [
            scenario.options[n].path("ttft_ms")
            for n in relies_on(scenario, name, fallbacks=False)
            if scenario.options[n].path("ttft_ms") in scenario.quantities
        ]
        if paths:
            met = np.ones(batch.size, dtype=bool)
            for path in paths:
                met &= np.asarray(batch.value(path)) <= limit
            out[name] = met.astype(float)
    return out


def exclusions(scenario: Scenario, p_latency_met: Mapping[str, float]) -> dict[str, str]:
    """Options the recommendation must pass over, with the reason for each.

    Parameters
    ----------
    scenario
        Its ``[requirements]`` and the options' ``data_leaves_perimeter``, ``ops_load``.
    p_latency_met
        Option name to the share of paths meeting the latency target (options without
        a ``ttft_ms`` anywhere are absent).
    """
    if scenario.workloads:
        # An option serving everything breaks what any workload requires.
        out = exclusions(dataclasses.replace(scenario, workloads={}), p_latency_met)
        for workload, alone in scenario.workloads.items():
            for name, reason in exclusions(alone, p_latency_met).items():
                if name not in out:
                    out[name] = f"{reason} (workload {workload})"
        return {n: out[n] for n in scenario.options if n in out}
    needs = scenario.requirements
    out: dict[str, str] = {}
    for name in scenario.options:
        reasons = []
        used = relies_on(scenario, name)
        if needs.data_residency:
            leaking = [n for n in used if scenario.options[n].params["data_leaves_perimeter"]]
            if leaking:
                others = [n for n in leaking if n != name]
                via = f" (via {', '.join(others)})" if others else ""
                reasons.append(f"data residency: sends data outside the perimeter{via}")
        if needs.max_ttft_ms is not None and name in p_latency_met:
            p = p_latency_met[name]
            if p < needs.min_p_latency_met:
                reasons.append(
                    f"latency: time to first token within {needs.max_ttft_ms:g} ms on "
                    f"{p:.0%} of paths, {needs.min_p_latency_met:.0%} required"
                )
        if needs.ops_capacity is not None:
            load = max(
                (scenario.options[n].params["ops_load"] or "none" for n in used),
                key=OPS_LEVELS.index,
            )
            if OPS_LEVELS.index(load) > OPS_LEVELS.index(needs.ops_capacity):
                reasons.append(
                    f"operations: needs {load} GPU operations, the team has {needs.ops_capacity}"
                )
        if reasons:
            out[name] = "; ".join(reasons)
    return out
