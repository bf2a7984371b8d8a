"""From cost distributions to a decision: the recommendation, the value of learning
more before deciding, and the seed documents' decision questions answered.

The recommendation is the allowed option (see :mod:`simulator.scenario.requirements`) with the
lowest expected total cost. The expected value of perfect information (EVPI) is what
a decision maker who knew every input before choosing would save on average: the
expected regret of the recommended option among the allowed ones. The EVPPI of one
input is what knowing that input alone would save, estimated from the run's own draws
(given-data, binned): paths are grouped by the input's value, the best allowed option
is picked within each group, and the saving against the recommendation is averaged.
It is exactly zero for an input whose value never changes the best option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..scenario.numbers import money
from ..scenario.numbers import share as percent
from .sensitivity import _binned

__all__ = [
    "EVPPI_BINS",
    "Recommendation",
    "evpi",
    "evppi",
    "recommend",
    "value_of_information",
    "decision_questions",
]

EVPPI_BINS = 20
"""Equal-count groups of an input's values in the EVPPI estimate. More groups follow
the input more closely but let sampling noise pass for information."""


@dataclass(frozen=True)
class Recommendation:
    """The option to choose, and why."""

    option: str | None
    expected_cost: float | None
    cvar95: float | None
    excluded: dict[str, str]
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the contract."""
        return {
            "option": self.option,
            "expected_cost": self.expected_cost,
            "cvar95": self.cvar95,
            "excluded": self.excluded,
            "rationale": self.rationale,
        }


def recommend(result) -> Recommendation:
    """The allowed option with the lowest expected total cost, from a run's summary."""
    options = result.options
    excluded = {n: o.excluded for n, o in options.items() if o.excluded}
    allowed = [n for n in options if n not in excluded]
    if not allowed:
        return Recommendation(
            None,
            None,
            None,
            excluded,
            "Every option breaks a requirement; relax one of them or add an option that "
            "meets them all.",
        )
    ranked = sorted(allowed, key=lambda n: options[n].total_cost.mean)
    best = options[ranked[0]]
    parts = [
        f"{best.label} has the lowest expected total cost over "
        f"{result.scenario.horizon_months} months ({money(best.total_cost.mean)}; "
        f"1 in 20 outcomes averages {money(best.total_cost.cvar95)})"
    ]
    same = [n for n in ranked[1:] if options[n].total_cost.mean == best.total_cost.mean]
    if same:
        parts.append("the same expected cost as " + ", ".join(options[n].label for n in same))
    tied = set(same)  # a set: thousands of tied options must not cost a scan each
    rest = [n for n in ranked[1:] if n not in tied]
    if rest:
        second = options[rest[0]]
        gap = second.total_cost.mean - best.total_cost.mean
        among = "" if best.p_cheapest_allowed is None else " allowed"
        share = best.p_cheapest if best.p_cheapest_allowed is None else best.p_cheapest_allowed
        parts.append(
            f"{money(gap)} less than the next allowed option, {second.label}; it is the "
            f"cheapest{among} option on {percent(share)} of paths"
        )
    if best.kind == "staged" and best.policy is not None:
        parts.append(_policy_sentence(best))
    if excluded:
        parts.append(
            "excluded: "
            + "; ".join(f"{options[n].label} ({reason})" for n, reason in excluded.items())
        )
    return Recommendation(
        best.name,
        best.total_cost.mean,
        best.total_cost.cvar95,
        excluded,
        ". ".join(p[0].upper() + p[1:] for p in parts) + ".",
    )


def _policy_sentence(option) -> str:
    policy = option.policy
    trigger = policy["trigger_monthly_cost"]
    if trigger is None:
        return "the policy never migrates: staying put is cheapest in expectation"
    month = policy["migration_month_p50"]
    when = f", typically in month {month}" if month is not None else ""
    return (
        f"it migrates once monthly spend stays above {money(trigger)}, on "
        f"{policy['p_migrates']:.0%} of paths within the horizon{when}"
    )


def evpi(totals: Mapping[str, np.ndarray], allowed: list[str], chosen: str) -> float:
    """Expected regret of ``chosen`` among the ``allowed`` options, per path totals."""
    stacked = np.vstack([totals[n] for n in allowed])
    return float(np.mean(totals[chosen] - stacked.min(axis=0)))


def evppi(
    values: np.ndarray,
    totals: Mapping[str, np.ndarray],
    allowed: list[str],
    chosen: str,
    bins: int = EVPPI_BINS,
) -> float:
    """Expected saving from learning ``values`` (one input, per path) before choosing
    among ``allowed``, against choosing ``chosen`` without it.

    Paths fall in equal-count groups by the input (one group per distinct value for a
    choice); within each group the option with the lowest mean cost is taken. Groups
    where ``chosen`` stays best contribute exactly nothing.
    """
    groups, counts = _binned(np.asarray(values), bins)
    used = counts > 0
    means = np.vstack(
        [np.bincount(groups, weights=totals[n])[used] / counts[used] for n in allowed]
    )
    chosen_means = means[allowed.index(chosen)]
    gain = np.where(
        means.argmin(axis=0) == allowed.index(chosen), 0.0, chosen_means - means.min(axis=0)
    )
    return float((gain * counts[used]).sum() / counts[used].sum())


def _rivals(
    totals: Mapping[str, np.ndarray], allowed: list[str], chosen: str, size: int | None = None
) -> list[str]:
    """``chosen`` and the other ``allowed`` options that may have a lower mean cost in
    some group of paths, as :func:`evppi` computes the means; the others cannot change
    an EVPPI, so it need not sum them.

    Any group: an option costing at least as much as ``chosen`` on every path cannot.
    Summing path by path in the same order, rounding keeps its group means at or
    above ``chosen``'s, so it never lowers a group's minimum, and a tie with
    ``chosen`` gains nothing whichever of the two is taken (``chosen``'s means being
    finite: no partial sum of its totals may overflow).

    Groups of ``size`` or ``size + 1`` paths (bins by rank), if given: nor can an
    option whose mean is above ``chosen``'s even on the ``size`` (and ``size + 1``)
    paths where it saves the most, by more than the rounding of the two group sums
    (fewer than ``size + 2`` roundings each, of sums within all absolute totals)
    could take back.
    """
    own = np.asarray(totals[chosen], dtype=float)
    if not np.all(np.abs(own) <= _NO_OVERFLOW / max(len(own), 1)):
        return allowed
    rivals = []
    for name in allowed:
        other = np.asarray(totals[name], dtype=float)
        if name != chosen and (np.all(other >= own) or _undercut_nowhere(own, other, size)):
            continue
        rivals.append(name)
    return rivals


_NO_OVERFLOW = 1e300
"""A bound on the size of any partial sum that leaves room for its rounding."""


def _undercut_nowhere(own: np.ndarray, other: np.ndarray, size: int | None) -> bool:
    """Whether ``other`` costs more than ``own`` on every ``size`` and ``size + 1``
    paths, by more than rounding could take back (see :func:`_rivals`)."""
    if size is None or not 1 <= size < len(own):
        return False
    scale = float(np.abs(own).sum() + np.abs(other).sum())
    if not scale <= _NO_OVERFLOW:
        return False
    saved = np.partition(other - own, size)
    least = float(saved[:size].sum())
    margin = 4 * (size + 2) * np.finfo(float).eps * scale
    return least > margin and least + float(saved[size]) > margin


def _binned_by_rank(values: np.ndarray, paths: int, bins: int) -> bool:
    """Whether :func:`evppi` bins ``values`` by rank (more than ``bins`` distinct
    values), judged from the first few: ``False`` may be wrong, ``True`` is not."""
    return len(values) == paths and len(np.unique(values[: 4 * bins])) > bins


def value_of_information(
    result,
    inputs: Mapping[str, np.ndarray],
    totals: Mapping[str, np.ndarray],
    chosen: str,
    allowed: list[str] | None = None,
) -> dict[str, Any]:
    """EVPI and each input's EVPPI (largest first) on the paths given, for the
    ``allowed`` choices (default: the allowed options of ``result``) and the chosen
    one."""
    if allowed is None:
        allowed = [n for n, o in result.options.items() if not o.excluded]
    paths = len(totals[chosen])
    anywhere = _rivals(totals, allowed, chosen)
    by_rank = _rivals(totals, anywhere, chosen, paths // EVPPI_BINS)

    def value(values: np.ndarray) -> float:
        values = np.asarray(values)
        if _binned_by_rank(values, paths, EVPPI_BINS):
            # Nothing can beat the chosen option in any bin: no need to bin.
            if by_rank == [chosen]:
                return 0.0
            return evppi(values, totals, by_rank, chosen)
        return evppi(values, totals, anywhere, chosen)

    by_input = [{"input": name, "evppi": value(values)} for name, values in inputs.items()]
    by_input.sort(key=lambda item: -item["evppi"])
    return {
        "evpi": evpi(totals, allowed, chosen),
        "by_input": by_input,
        "paths": int(len(next(iter(totals.values())))),
        "bins": EVPPI_BINS,
    }


def decision_questions(result) -> list[dict[str, str]]:
    """The seed documents' questions before self-hosting, answered from the scenario
    and the run: spend level, compliance, GPU operations, steady traffic, upgrades.

    Each answer is ``{"question", "answer", "verdict"}``, the verdict being ``"yes"``
    (favours self-hosting), ``"no"`` or ``"unknown"``.
    """
    scenario = result.scenario
    options = result.options
    api = [n for n, o in options.items() if o.kind == "api"]
    questions = []

    # The bill the seeds ask about is the API's: the baseline if it is one.
    payer = (
        scenario.baseline
        if options[scenario.baseline].kind == "api"
        else next(iter(api), scenario.baseline)
    )
    spend = options[payer].monthly_cost["p50"]
    first, last = spend[0], spend[-1]
    crossing = next((i + 1 for i, x in enumerate(spend) if x > 50_000), None)
    if first > 50_000:
        verdict, answer = "yes", f"yes: {money(first)} a month today (median)"
    elif crossing is not None:
        verdict = "no"
        answer = (
            f"not yet: {money(first)} a month today, above $50k from month {crossing} "
            f"(median), {money(last)} by the end"
        )
    else:
        verdict = "no"
        answer = f"no: {money(first)} a month today, {money(last)} at the horizon (median)"
    marginal = " ($20k-50k is marginal, under $30k rarely pays)"
    questions.append(
        {
            "question": f"Is monthly spend consistently above $50k?{marginal}",
            "answer": f"{answer} on {options[payer].label}",
            "verdict": verdict,
        }
    )

    needs = scenario.requirements
    if needs.data_residency:
        leaving = ", ".join(options[n].label for n in api) or "none"
        answer = f"yes: data must stay inside the perimeter (options excluded: {leaving})"
    else:
        answer = "no data-residency requirement is set: APIs are allowed"
    questions.append(
        {
            "question": "Do compliance requirements prohibit third-party data processing?",
            "answer": answer,
            "verdict": "yes" if needs.data_residency else "no",
        }
    )

    capacity = needs.ops_capacity
    questions.append(
        {
            "question": "Does the team have production GPU operations experience?",
            "answer": {
                None: "not stated ([requirements] ops_capacity)",
                "none": "no: ops_capacity is none",
                "limited": "limited: managed endpoints, not a self-run GPU fleet",
                "dedicated": "yes: a dedicated team (ops_capacity = dedicated)",
            }[capacity],
            "verdict": {None: "unknown", "dedicated": "yes"}.get(capacity, "no"),
        }
    )

    p50 = max(
        float(alone.quantities["workload.peak_to_average"].ppf(np.array([0.5]))[0])
        for alone in scenario.each_workload
    )
    idle = 1 - 1 / p50
    steady = p50 <= 2.0
    questions.append(
        {
            "question": "Is traffic predictable and steady?",
            "answer": (
                f"{'yes' if steady else 'no'}: peak-to-average {p50:.1f} (median), so a fleet "
                f"sized for the peak idles {idle:.0%} of its capacity on average"
            ),
            "verdict": "yes" if steady else "no",
        }
    )

    stacks = [o for o in scenario.options.values() if o.kind in ("self_hosted", "on_prem")]
    upgrades = [o for o in stacks if o.path("upgrade_interval_months") in scenario.quantities]
    if not stacks:
        answer, verdict = "no self-run option is modelled", "unknown"
    elif upgrades:
        shares = []
        for o in upgrades:
            total = options[o.name].total_cost.mean
            ongoing = sum(
                v
                for k, v in options[o.name].breakdown.items()
                if k in ("upgrades", "people", "hiring")
            )
            shares.append(
                f"{options[o.name].label}: people and upgrades {ongoing / total:.0%} of cost"
                if total
                else o.label
            )
        answer = "planned: upgrades are modelled (" + "; ".join(shares) + ")"
        verdict = "yes"
    else:
        answer = "not planned: no upgrade_interval_months on the self-run options"
        verdict = "no"
    questions.append(
        {
            "question": "Is the team ready for ongoing upgrades, not just the first deployment?",
            "answer": answer,
            "verdict": verdict,
        }
    )
    return questions


def summary_keys(result, inputs, totals) -> dict[str, Any]:
    """The ``recommendation``, ``value_of_information`` and ``decision_questions``
    summary keys of a run, the last two from the per-path ``inputs`` and ``totals``
    of its first paths (``None``: not computed)."""
    recommendation = recommend(result)
    out: dict[str, Any] = {"recommendation": recommendation.to_dict()}
    if recommendation.option is not None and totals:
        out["value_of_information"] = value_of_information(
            result, inputs, totals, recommendation.option
        )
    questions = decision_questions(result)
    noes = sum(q["verdict"] == "no" for q in questions)
    out["decision_questions"] = {
        "answers": questions,
        "no_count": noes,
        "advice": (
            "three or more answers are no: the seed documents' advice is to stay on APIs"
            if noes >= 3
            else "fewer than three answers are no: self-hosting deserves the cost model"
        ),
    }
    return out
