"""One option serving several workloads: what is paid once, per workload, or pooled.

An option serving a set of workloads costs:

- **per workload**, what each workload's own traffic bills: an API's tokens, a
  fallback's and escalations' tokens, the downtime of each workload's unserved hours
  (at its own ``downtime_cost_per_hour``), the baseline's traffic during a move;
- **once**, what does not grow with traffic: people, hiring, setup, upgrades, infra,
  facilities, monthly fees, a migration's one-off cost;
- **pooled**, the GPUs of a stack, sized on the combined demand: average demand
  ``d = sum d_w`` and peak excess ``x = c * sum e_w + (1 - c) * sqrt(sum e_w^2)`` with
  ``e_w = d_w * (P_w - 1)`` (``P_w`` the workload's peak-to-average after its
  deferrable share) and ``c = peak_coincidence``; peak provisioning sizes for
  ``d + x``, autoscale follows ``d``;
- an API's **commitment** on the combined bill: ``max(committed, sum of the
  discounted usage)`` in each month of the commitment.

Incidents are the option's own draws, so they hit every workload it serves at once.
With one workload, the option costs exactly what it costs alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..paths.batch import Batch
from ..paths.sampling import BLOCK_SIZE
from ..scenario.model import Option
from ..scenario.requirements import exclusions
from . import api
from .registry import MODELS, monthly_total, notes_discarded, option_costs, per_path_total
from .self_hosted import average_demand, peak_to_average

__all__ = [
    "PER_WORKLOAD",
    "POOLED",
    "assignment_masks",
    "portfolio_paths",
    "pooled_peak",
    "served_costs",
]

PER_WORKLOAD = ("traffic", "fallback", "downtime", "baseline_traffic")
"""Components each workload's traffic bills, added up over the workloads."""

POOLED = (
    "gpus",
    "reserved_gpus",
    "spot_gpus",
    "hardware",
    "energy",
    "maintenance",
    "capital_charge",
)
"""A stack's components that follow its GPUs, costed once on the combined demand."""


def served_costs(batch: Batch, name: str, served: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Monthly cost components of option ``name`` serving the workloads ``served``.

    Parameters
    ----------
    batch
        A batch of a scenario with ``[workloads.NAME]`` tables.
    name
        The option.
    served
        Names of the workloads it serves (at least one).
    """
    option = batch.scenario.options[name]
    alone = [_alone_costs(batch.view(w), option) for w in served]
    if len(served) == 1:
        return alone[0]
    costs = {k: v for k, v in alone[0].items() if k not in PER_WORKLOAD + POOLED}
    # In a fixed order: the components' order is their order of summation.
    for part in PER_WORKLOAD[1:]:
        terms = [c[part] for c in alone if part in c]
        if terms:
            costs[part] = _sum(terms)
    if option.kind == "api":
        costs.update(_api_traffic(option, batch, served, alone))
    else:
        costs.update(_pooled_gpus(option, batch, served))
    return costs


def _alone_costs(view: Batch, option: Option) -> dict[str, np.ndarray]:
    """The option's costs for one workload, its notes left out (they describe the
    option serving everything, which this is not)."""
    model = MODELS[option.kind]
    with notes_discarded(view, option.name):
        return view.cached(f"costs:{option.name}", lambda: model(option, view, view.volume))


def _api_traffic(option: Option, batch: Batch, served, alone) -> dict[str, np.ndarray]:
    """``traffic`` (and ``commitment``) of an api option on the workloads' summed bill."""
    if "commitment" not in alone[0]:
        return {"traffic": _sum([c["traffic"] for c in alone])}
    usage = 0.0
    for workload in served:
        view = batch.view(workload)
        served_traffic = api.traffic_cost(option, view, view.volume)
        escalation = view.option_value(option, "escalation_rate")
        usage = usage + served_traffic * (1.0 - escalation)
    moving = option.name != batch.scenario.baseline
    serving = api.serving_share(option, batch) if moving else 1.0
    return api.committed_bill(option, batch, usage, serving, None)


def _pooled_gpus(option: Option, batch: Batch, served, sums=None) -> dict[str, np.ndarray]:
    """A stack's GPU components for the combined demand of ``served``; ``sums``, when
    given, are their :func:`_demand` terms summed already (read, never written)."""
    views = [batch.view(w) for w in served]
    coincidence = batch.value("scenario.peak_coincidence") if _has_coincidence(batch) else 1.0

    def pooled(stack: Option):
        summed = sums if sums is not None else _summed([_demand(stack, v) for v in views])
        if len(summed) == 1:  # autoscale: the average demand alone
            return summed[0].copy(), 1.0
        # Peak provisioning sizes for d + x, given as the demand at a peak of 1.
        return _top(*summed, coincidence), 1.0

    first = views[0]
    # The pooled demand replaces the volume's: the model reads no other (its unserved
    # traffic is costed per workload), so the first workload's gives the shape.
    together = dataclasses.replace(first, pooled=pooled, _memo={}, notes={})
    parts = MODELS[option.kind](option, together, together.volume)
    return {k: v for k, v in parts.items() if k in POOLED}


def _demand(option: Option, view: Batch):
    """A workload's terms for pooling on stack ``option``, once per batch (the search
    pools them in every set of workloads): its average demand ``d``, and for a stack
    provisioned for the peak its peak excess ``e`` and ``e^2`` (an autoscaled stack
    follows the average)."""

    def compute():
        demand = average_demand(option, view, view.volume)
        if option.params.get("provisioning", "peak") != "peak":
            return (np.asarray(demand, dtype=float),)
        return _terms(demand, peak_to_average(view))

    return view.cached(f"pooled_demand:{option.name}", compute)


def _terms(demand, peak) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    demand = np.asarray(demand, dtype=float)
    excess = demand * (np.asarray(peak) - 1.0)
    return demand, excess, excess * excess


def pooled_peak(demands, peaks, coincidence):
    """Combined average demand and peak-to-average of workloads with average demands
    ``demands`` and peaks ``peaks``: ``(d, (d + x) / d)`` (1 where ``d`` is 0), with
    ``x = c * sum e_w + (1 - c) * sqrt(sum e_w^2)`` and ``e_w = d_w * (P_w - 1)``."""
    total, together, squares = _summed([_terms(d, p) for d, p in zip(demands, peaks, strict=True)])
    top = _top(total, together, squares, coincidence)
    return total, np.divide(top, total, out=np.ones_like(total), where=total > 0)


def _summed(terms):
    """Each workload's terms added up, in file order, as fresh arrays."""
    if len(terms) == 1:
        return tuple(np.array(t, dtype=float, copy=True) for t in terms[0])
    sums = tuple(map(np.add, terms[0], terms[1]))  # the first sum makes the arrays
    for more in terms[2:]:
        for total, term in zip(sums, more, strict=True):
            total += term
    return sums


def _top(total, together, squares, coincidence):
    """``d + x``, the demand a peak-provisioned stack sizes for, from the summed
    ``(d, e, e^2)`` (read, never written)."""
    if np.ndim(coincidence) == 0 and coincidence == 1:
        return together + total
    top = together * coincidence
    spread = np.sqrt(squares)
    spread *= 1.0 - coincidence
    top += spread
    top += total
    return top


def _prefix_sums(terms, masks):
    """``(mask, sums)`` for each mask of two or more workloads in ``masks``, ``sums``
    their ``terms`` added up. Each set's sums are its first workloads' plus its last
    one's, in bit order: one addition a set, and the same numbers :func:`_summed`
    adds."""
    yield from _grown_sums(terms, set(masks), 0, 0, None)


def _grown_sums(terms, wanted, mask, low, acc):
    # A module-level recursion, not a closure that refers to itself: such a cycle would
    # keep the terms' arrays until the garbage collector's next full pass.
    for j in range(low, len(terms)):
        grown = mask | 1 << j
        if not any(m & grown == grown for m in wanted):
            continue
        sums = terms[j] if acc is None else tuple(map(np.add, acc, terms[j]))
        if acc is not None and grown in wanted:
            yield grown, sums
        yield from _grown_sums(terms, wanted, grown, j + 1, sums)


def _has_coincidence(batch: Batch) -> bool:
    return "scenario.peak_coincidence" in batch.scenario.quantities


def _sum(terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def portfolio_paths(batch: Batch, *, shocked: bool = False) -> dict[str, np.ndarray]:
    """What each candidate costs serving each set of workloads (and every other option
    serving all of them), for the portfolio search: per path, ``portfolio:X:MASK`` the
    total over the horizon (``MASK`` a bit per workload, in file order); summed over
    each block of paths (the same sums however blocks are grouped into batches),
    ``portfolio1:X:MASK:W`` workload ``W``'s share of the first
    month, in proportion to its month-1 tokens among those of ``MASK``. Under a
    forecast shock (``shocked``) only a fixed assignment is costed, nothing for a
    search."""
    scenario = batch.scenario
    if shocked and scenario.portfolio.assign == "optimize":
        return {}
    names = tuple(scenario.workloads)
    everything = 2 ** len(names) - 1
    tokens = [_first_tokens(batch.view(name)) for name in names]
    out: dict[str, np.ndarray] = {}
    candidates = scenario.portfolio.candidates
    for candidate in scenario.options:
        # Every option serving everything: the baseline, and each single choice.
        monthly = monthly_total(option_costs(batch, candidate), batch.shape)
        out[f"portfolio:{candidate}:{everything}"] = monthly.sum(axis=0)
        if candidate not in candidates:
            continue
        firsts = {everything: monthly[0]}
        wanted = _masks(scenario, candidate, names)
        for mask, (total, first) in _subsets(batch, candidate, names, wanted).items():
            out[f"portfolio:{candidate}:{mask}"] = total
            firsts[mask] = first
        for mask, first in firsts.items():
            bits = _members(mask, len(names))
            together = np.sum([tokens[i] for i in bits], axis=0)
            for i in bits:
                share = np.divide(tokens[i], together, out=np.zeros(batch.size), where=together > 0)
                out[f"portfolio1:{candidate}:{mask}:{names[i]}"] = _block_sums(first * share)
    return out


def _block_sums(values: np.ndarray) -> np.ndarray:
    # A batch starts on a block's first path; summing block by block keeps the result
    # independent of the chunk size and of how many threads a BLAS dot would use.
    return np.array([values[i : i + BLOCK_SIZE].sum() for i in range(0, values.size, BLOCK_SIZE)])


def _first_tokens(view: Batch) -> np.ndarray:
    """A workload's month-1 tokens on each path."""
    tokens = view.value("workload.input_tokens_per_request") + view.value(
        "workload.output_tokens_per_request"
    )
    return np.broadcast_to(view.volume[0] * tokens, (view.size,))


def _members(mask: int, count: int) -> list[int]:
    """The workloads (by index, of ``count``) in set ``mask``."""
    return [i for i in range(count) if mask >> i & 1]


def assignment_masks(assignment) -> dict[str, int]:
    """For an assignment (one option for each workload, in file order), the set of
    workloads each option it uses serves, as a mask: bit ``i`` for workload ``i``."""
    out: dict[str, int] = {}
    for i, option in enumerate(assignment):
        out[option] = out.get(option, 0) | 1 << i
    return out


def _masks(scenario, name: str, names: tuple[str, ...]) -> list[int] | tuple[int, ...]:
    """The sets of workloads (by mask) candidate ``name`` may serve: for a search, every
    proper one whose workloads all have it among their candidates and whose
    requirements known before the run (data residency, operations capacity) it meets;
    only its own for a fixed assignment."""
    portfolio = scenario.portfolio
    everything = 2 ** len(names) - 1
    if portfolio.assign == "optimize":
        able = 0
        for i, workload in enumerate(names):
            own = portfolio.allowed.get(workload, portfolio.candidates)
            if name in own and name not in exclusions(scenario.workloads[workload], {}):
                able |= 1 << i
        return [m for m in range(1, everything) if m & able == m]
    mask = assignment_masks([portfolio.assign[n] for n in names]).get(name, 0)
    return (mask,) if 0 < mask < everything else ()


def _subsets(batch: Batch, name: str, names: tuple[str, ...], masks) -> dict[int, tuple]:
    """Per path, the total and first month of option ``name`` serving each proper
    subset of ``names`` in ``masks``. What each workload's traffic bills and what the
    option pays once are added up from each workload's costs alone; only a stack's
    pooled GPUs (and an API's commitment, on the combined bill) are costed again."""
    option = batch.scenario.options[name]
    shape = batch.shape
    if not masks:
        return {}
    alone = [_alone_costs(batch.view(w), option) for w in names]
    if option.kind == "api" and "commitment" in alone[0]:
        out = {}
        for mask in masks:
            served = tuple(names[i] for i in _members(mask, len(names)))
            monthly = monthly_total(served_costs(batch, name, served), shape)
            out[mask] = (monthly.sum(axis=0), monthly[0].copy())
        return out
    pick = lambda parts, keys: {k: v for k, v in parts.items() if k in keys}  # noqa: E731
    own = [_sums(pick(a, PER_WORKLOAD), shape) for a in alone]
    gpus = [_sums(pick(a, POOLED), shape) for a in alone]
    once = _sums({k: v for k, v in alone[0].items() if k not in PER_WORKLOAD + POOLED}, shape)
    # A stack's GPUs for several workloads: the pooled fleet, not the sum of theirs.
    fleets = {}
    several = [m for m in masks if m & (m - 1)] if option.kind != "api" else []
    if several:
        demands = [_demand(option, batch.view(w)) for w in names]
        for mask, sums in _prefix_sums(demands, several):
            served = tuple(names[i] for i in _members(mask, len(names)))
            fleets[mask] = _sums(_pooled_gpus(option, batch, served, sums), shape)
    out = {}
    for mask in masks:
        bits = _members(mask, len(names))
        fleet = [fleets[mask]] if mask in fleets else [gpus[i] for i in bits]
        terms = [once, *(own[i] for i in bits), *fleet]
        out[mask] = (np.sum([s[0] for s in terms], axis=0), np.sum([s[1] for s in terms], axis=0))
    return out


def _sums(parts: dict, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The total over the months and the first month of ``parts``, per path."""
    total, first = np.zeros(shape[1]), np.zeros(shape[1])
    for part in parts.values():
        part = np.asarray(part, dtype=float)
        total += per_path_total(part, shape)
        first += part[0] if part.ndim == 2 else part
    return total, first
