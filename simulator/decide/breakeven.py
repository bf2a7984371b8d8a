"""The break-even volume: how far the volume forecast may be off before an option
stops (or starts) being cheaper than the baseline (no I/O).

For every option but the baseline, the smallest multiplier on realized volume, within
[0.01, 100], at which P(cheaper than the baseline) reaches 50% and 80%: a scan over
:data:`SCAN` (9 multipliers, a factor sqrt(10) apart, and the stress grid's own volume
multipliers at forecast growth), then, between the first scanned multiplier that
reaches the target and the one below it, a bracketing search in log space (regula
falsi with the Illinois modification, kept within one step of bisection's worst case)
until the bracket is within :data:`TOLERANCE` (0.1%) relative. The upper end of the
final bracket is reported: P(cheaper) reaches the target there, and not 0.1% below
it. The search's runs (:mod:`.shocks`, on common draws) cost only the option, the
baseline and what they draw on (:func:`costed_with`): the same draws, in a fraction of
the time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.executor import result
from ..scenario.model import Scenario
from ..scenario.requirements import relies_on
from .shocks import Evaluator

if TYPE_CHECKING:  # concurrent.futures is imported when a stress test runs
    from concurrent.futures import Future

__all__ = [
    "REASONS",
    "SCAN",
    "TARGETS",
    "TOLERANCE",
    "breakeven_volumes",
    "costed_with",
    "volume_basis",
]

SCAN = tuple(10 ** (k / 2) for k in range(-4, 5))
"""Volume multipliers scanned first: 0.01 to 100, a factor sqrt(10) apart (1 among them).
The stress grid's volume multipliers at forecast growth join the scan."""

TOLERANCE = 0.001
"""Relative width to which the break-even multiplier is bisected."""

TARGETS = (0.5, 0.8)
"""The P(cheaper) levels whose break-even volume is sought."""

REASONS = {
    "cheaper_at_lowest_volume": "P(cheaper) already reaches the target at the lowest "
    "multiplier (0.01): the option wins at any volume in the range",
    "marginal_cost_not_below_baseline": "its marginal cost per request at high volume is "
    "not below the baseline's, so more volume does not help",
    "not_reached_by_highest_volume": "its marginal cost per request is below the baseline's, "
    "but P(cheaper) has not reached the target at 100 times the volume",
}
"""Why a break-even multiplier is null (the codes of ``breakeven.NAME.reason_p50``)."""


def costed_with(scenario: Scenario, name: str) -> tuple[str, ...]:
    """The options a run needs to compare ``name`` with the baseline: both, and every
    option they draw on (fallbacks, hybrid routes, a staged policy's stages), in
    scenario order."""
    needed = {*relies_on(scenario, scenario.baseline), *relies_on(scenario, name)}
    return tuple(n for n in scenario.options if n in needed)


@dataclass
class _Bracket:
    """A search for the multiplier at which one option's P(cheaper) reaches ``target``:
    at log multiplier ``low`` it falls short, at ``high`` it reaches it.

    Each try is the regula falsi point (Illinois-weighted: an end kept twice in a row
    has its weight halved, which pulls the next try towards it), projected onto a
    window around the midpoint that shrinks so that the search never takes more than
    one step beyond what bisection would (the projection of the ITP method, Oliveira
    and Takahashi 2020).
    """

    name: str
    target: float
    low: float
    p_low: float
    high: float
    p_high: float
    multiplier: float
    """The multiplier at ``high``, exactly as run."""
    moved: str = ""
    weight_low: float = 1.0
    weight_high: float = 1.0
    steps: int = 0

    def __post_init__(self) -> None:
        halvings = max(0, math.ceil(math.log2(self.width / math.log1p(TOLERANCE))))
        self.max_steps = halvings + 1

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def done(self) -> bool:
        return self.width <= math.log1p(TOLERANCE)

    def propose(self) -> float:
        """The next log multiplier to try (strictly inside the bracket)."""
        width = self.width
        middle = self.low + width / 2
        f_low = (self.p_low - self.target) * self.weight_low
        f_high = (self.p_high - self.target) * self.weight_high
        x = middle
        if f_high - f_low > 0:
            x = self.low + width * (-f_low) / (f_high - f_low)
        radius = math.log1p(TOLERANCE) / 2 * 2.0 ** (self.max_steps - self.steps) - width / 2
        x = min(max(x, middle - max(radius, 0.0)), middle + max(radius, 0.0))
        margin = min(width / 100, math.log1p(TOLERANCE) / 4)
        return min(max(x, self.low + margin), self.high - margin)

    def update(self, multiplier: float, p: float) -> None:
        """Take the P(cheaper) found at ``multiplier`` (inside the bracket)."""
        x = math.log(multiplier)
        self.steps += 1
        if p >= self.target:
            self.high, self.p_high, self.multiplier = x, p, multiplier
            self.weight_high = 1.0
            if self.moved == "high":
                self.weight_low /= 2
            self.moved = "high"
        else:
            self.low, self.p_low = x, p
            self.weight_low = 1.0
            if self.moved == "low":
                self.weight_high /= 2
            self.moved = "low"


def volume_basis(scenario: Scenario, *, entropy: int, paths: int) -> tuple[float, float]:
    """Median first-month realized volume (requests), and mean realized requests over
    the horizon, on the first ``paths`` paths of the run seeded by ``entropy``, at the
    scenario's own forecast (multiplier 1): the same draws the engine makes."""
    from ..paths.batch import make_batch
    from ..paths.sampling import BLOCK_SIZE, Streams, plan_blocks, sample_inputs

    first, total = [], 0.0
    blocks = plan_blocks(paths)
    step = max(1, 65_536 // BLOCK_SIZE)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(0, len(blocks), step):
            streams = Streams(entropy, blocks[i : i + step])
            batch = make_batch(scenario, streams, sample_inputs(scenario, streams))
            first.append(batch.volume[0].copy())
            total += float(batch.volume.sum())
    return float(np.median(np.concatenate(first))), total / paths


def breakeven_volumes(
    evaluator: Evaluator,
    baseline: str,
    *,
    first_month_requests: float,
    horizon_requests: float,
    targets: Iterable[float] = TARGETS,
    also_scan: Iterable[float] = (),
) -> dict[str, dict[str, Any]]:
    """The summary's ``breakeven``: for every option but the baseline, the volume
    multiplier at which P(cheaper) reaches each target, as requests per month and as
    the baseline's monthly spend; null with a reason code where it is not reached.

    Parameters
    ----------
    evaluator
        Runs the points (its cache supplies the scan points already run).
    baseline
        The baseline option.
    first_month_requests
        Median first-month realized volume at multiplier 1 (requests).
    horizon_requests
        Mean realized requests over the horizon at multiplier 1, for the marginal cost
        per request at high volume.
    targets
        The P(cheaper) levels to reach.
    also_scan
        More volume multipliers to scan besides :data:`SCAN` (the stress grid's, at
        forecast growth); those outside [0.01, 100] are left out.
    """
    targets = tuple(targets)
    scenario = evaluator.scenario
    names = [n for n in scenario.options if n != baseline]
    if not names:
        return {}
    volumes = sorted({*SCAN, *(float(m) for m in also_scan if SCAN[0] <= m <= SCAN[-1])})
    scan = evaluator.run((m, 1.0) for m in volumes)
    brackets: list[_Bracket] = []
    found: dict[tuple[str, float], float | None] = {}
    reasons: dict[tuple[str, float], str | None] = {}
    # Marginal cost per request between the two highest scanned multipliers.
    top, below = scan[-1], scan[-2]
    extra_requests = (top.volume_scale - below.volume_scale) * horizon_requests
    marginal = {
        n: (top.mean_total[n] - below.mean_total[n]) / extra_requests if extra_requests else None
        for n in top.mean_total
    }
    for name in names:
        for target in targets:
            p = [point.p_cheaper[name] for point in scan]
            reached = [i for i, value in enumerate(p) if value >= target]
            if not reached:
                found[name, target] = None
                mine, base = marginal[name], marginal[baseline]
                slower = mine is not None and base is not None and mine >= base
                reasons[name, target] = (
                    "marginal_cost_not_below_baseline"
                    if slower
                    else "not_reached_by_highest_volume"
                )
            elif reached[0] == 0:
                found[name, target] = None
                reasons[name, target] = "cheaper_at_lowest_volume"
            else:
                i = reached[0]
                brackets.append(
                    _Bracket(
                        name,
                        target,
                        math.log(scan[i - 1].volume_scale),
                        p[i - 1],
                        math.log(scan[i].volume_scale),
                        p[i],
                        scan[i].volume_scale,
                    )
                )

    # Each search goes on as soon as its own last run is done (no rounds), so that the
    # workers stay busy; a search's steps depend on its own runs only.
    def step(bracket: _Bracket) -> Future:
        task = (math.exp(bracket.propose()), 1.0, costed_with(scenario, bracket.name))
        return evaluator.submit(task)

    from concurrent.futures import FIRST_COMPLETED, wait

    pending = {step(b): b for b in brackets if not b.done}
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            bracket = pending.pop(future)
            point = result(future)
            bracket.update(point.volume_scale, point.p_cheaper[bracket.name])
            if not bracket.done:
                pending[step(bracket)] = bracket
    for bracket in brackets:
        found[bracket.name, bracket.target] = bracket.multiplier
        reasons[bracket.name, bracket.target] = None

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        entry: dict[str, Any] = {}
        for target in targets:
            key = f"p{round(target * 100)}"
            multiplier = found[name, target]
            spend = None
            if multiplier is not None:
                at = [p for (m, g, _), p in evaluator.points.items() if (m, g) == (multiplier, 1.0)]
                spend = at[0].first_month_p50[baseline]
            entry[f"volume_multiplier_{key}"] = multiplier
            entry[f"requests_per_month_{key}"] = (
                None if multiplier is None else multiplier * first_month_requests
            )
            entry[f"baseline_monthly_spend_{key}"] = spend
            entry[f"reason_{key}"] = reasons[name, target]
        entry["p_cheaper_at_lowest"] = scan[0].p_cheaper[name]
        entry["p_cheaper_at_highest"] = scan[-1].p_cheaper[name]
        entry["marginal_cost_per_request"] = marginal[name]
        entry["baseline_marginal_cost_per_request"] = marginal[baseline]
        out[name] = entry
    return out
