"""Which uncertain inputs move each option's savings: given-data estimators (no I/O).

Everything here reads per-path arrays a run already made (its sampled inputs and its
totals): no extra model runs. :class:`PathSample` collects them during a run, as the
engine's ``path_sink``; :func:`sensitivity` ranks the inputs of every option's savings
against the baseline by

- **Spearman rank correlation** between the input and the savings;
- **first-order share of variance** ``Var(E[savings | input]) / Var(savings)``, read
  from the same paths by binning the input into :data:`VARIANCE_BINS` equal-count bins
  (inputs with fewer distinct values are grouped by value) and taking the spread of
  the bin means, corrected for the spread that bin means have by chance alone (the
  ANOVA "epsilon squared": between-bin minus ``(bins - 1)`` times the within-bin mean
  square, clipped at 0). What the inputs' shares leave of 1 is interactions and the
  month-by-month randomness (volume shocks, departures, upgrades), which is not an
  input;
- a **tornado swing**: the median savings on the paths whose input lies in its lowest
  decile, and on those in its highest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "InputEffect",
    "PathSample",
    "TORNADO_SHARE",
    "VARIANCE_BINS",
    "sensitivity",
    "variance_share",
]

VARIANCE_BINS = 50
"""Equal-count bins per input for the first-order variance share. At N paths the
chance spread of the uncorrected share is about ``(bins - 1) / N`` (0.05% at 100,000
paths), which the estimator subtracts; the correction's own noise has a standard
deviation of about ``sqrt(2 (bins - 1)) / N``. Binning itself understates a share by
roughly ``1 / bins**2`` of it (the effect's spread within a bin)."""

TORNADO_SHARE = 0.1
"""The tornado compares paths with the input in its lowest and its highest 10%."""


@dataclass(frozen=True)
class InputEffect:
    """How one sampled input moves one option's savings against the baseline.

    ``spearman`` is ``None`` when the savings do not vary at all.
    """

    input: str
    spearman: float | None
    variance_share: float
    savings_p50_low: float
    savings_p50_high: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (section 6 of the contract)."""
        return {
            "input": self.input,
            "spearman": self.spearman,
            "variance_share": self.variance_share,
            "savings_p50_low": self.savings_p50_low,
            "savings_p50_high": self.savings_p50_high,
        }

    @property
    def importance(self) -> tuple[float, float]:
        """Sort key, largest first: the variance share, then the size of the rank
        correlation (which separates inputs whose corrected share is 0)."""
        return (self.variance_share, abs(self.spearman or 0.0))


class PathSample:
    """Keeps the first ``limit`` paths of a run: their sampled inputs and totals.

    Pass it as the engine's ``path_sink`` (with ``path_fields=PathSample.fields``);
    batches arrive in path order, so the paths kept are always the run's first ones
    and the analysis does not depend on how the run was batched.
    """

    fields = ("input:", "total:")
    """The per-path arrays it needs (the engine's ``path_fields``)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.size = 0
        self._parts: dict[str, list[np.ndarray]] = {}

    def __call__(self, first_path: int, arrays: Mapping[str, np.ndarray]) -> None:
        if first_path >= self.limit:
            return
        take = self.limit - first_path
        count = 0
        for key, values in arrays.items():
            if key.startswith(self.fields):
                part = np.asarray(values)[:take]
                self._parts.setdefault(key, []).append(part.copy())
                count = len(part)
        self.size = first_path + count

    def then(
        self, other: Callable[[int, Mapping[str, np.ndarray]], None] | None
    ) -> Callable[[int, Mapping[str, np.ndarray]], None]:
        """A ``path_sink`` that feeds this sample and then ``other`` (if any)."""
        if other is None:
            return self

        def both(first_path: int, arrays: Mapping[str, np.ndarray]) -> None:
            self(first_path, arrays)
            other(first_path, arrays)

        return both

    def _arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            key[len(prefix) :]: np.concatenate(parts)
            for key, parts in self._parts.items()
            if key.startswith(prefix)
        }

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        """Dotted key path of each sampled input to its values on the kept paths."""
        return self._arrays("input:")

    @property
    def totals(self) -> dict[str, np.ndarray]:
        """Option name to its total cost on the kept paths."""
        return self._arrays("total:")


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sort of ``values``: the sorting order, the sorted values and where each run
    of equal values starts in them."""
    order = np.argsort(values)
    ordered = values[order]
    return order, ordered, np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])


def _ranks(order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The average rank of each value (ties share their mean rank, 1-based), from the
    sorting order and run starts of :func:`_runs`."""
    n = len(order)
    ranks = np.empty(n)
    if len(starts) == n:
        # No ties: each rank is its position (what the mean of a one-value run is,
        # without spelling out n runs of length 1).
        ranks[order] = np.arange(1.0, n + 1)
    else:
        ends = np.r_[starts[1:], n]
        ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sort of ``values``: the sorting order, the average rank of each value
    (ties share their mean rank, 1-based) and, in sorted order, where each run of
    equal values starts."""
    order, _, starts = _runs(values)
    return order, _ranks(order, starts), starts


def _groups(values: np.ndarray, bins: int, sorted_by=None) -> np.ndarray:
    """Bin index of each value: equal-count bins by rank, or one group per distinct
    value when there are at most ``bins`` of them (a ``choice`` input).

    ``sorted_by`` is the values' :func:`_order`, when the caller has it already.
    """
    if sorted_by is None:
        return _binned(values, bins)[0]
    order, _, starts = sorted_by
    return _sorted_groups(len(values), bins, order, starts)


def _sorted_groups(n: int, bins: int, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """:func:`_groups` from the sorting order and run starts of :func:`_runs`."""
    groups = np.empty(n, dtype=np.intp)
    if len(starts) <= bins:
        runs = np.diff(np.r_[starts, n])
        groups[order] = np.repeat(np.arange(len(starts)), runs)
    else:
        groups[order] = np.arange(n) * bins // n
    return groups


def _binned(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_groups` of ``values`` and the number of values in each group.

    Sorting the values would be most of the work, so the bins are found without a
    sort whenever that gives the same bins: a sample of the values says whether to
    try one group per value or equal-count bins, and each says whether it held.
    """
    n = len(values)
    if 2 <= bins <= min(n, 255) and values.dtype.kind in "fiu":
        seen = np.unique(values[:: max(1, n // _SAMPLE)])
        found = _value_bins(values, seen) if len(seen) <= bins else _rank_bins(values, bins)
        if found is not None:
            return found
    order, _, starts = _runs(values)
    groups = _sorted_groups(n, bins, order, starts)
    return groups, np.bincount(groups)


_SAMPLE = 1000
"""About how many values :func:`_binned` looks at to choose how to bin."""


def _value_bins(values: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """One group per value, numbered in increasing order, and the group counts, when
    the values ``distinct`` (sorted, at most 255 of them, each present) are all the
    values there are; ``None`` when others are left over."""
    n = len(values)
    found = np.empty(n, dtype=bool)
    counts = np.empty(len(distinct), dtype=np.intp)
    for group, value in enumerate(distinct):
        np.equal(values, value, out=found)
        counts[group] = np.count_nonzero(found)
    if counts.sum() != n:
        return None
    groups = np.zeros(n, dtype=np.uint8)
    for value in distinct[1:]:
        np.greater_equal(values, value, out=found)
        groups += found.view(np.uint8)
    return groups.astype(np.intp), counts


def _rank_bins(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Equal-count bins by rank and their counts without sorting all the values, or
    ``None`` when a run of equal values straddles a bin edge (only the sort's own
    order says which of the tied values fall on which side) or there is a NaN: then
    the caller sorts. ``bins`` is at least 2 and at most 255 and ``n``, and
    ``values`` are numbers.

    Bin ``g`` starts at sorted position ``ceil(g n / bins)``; selecting those order
    statistics puts every value at least the ``g``-th edge in bin ``g`` or above. The
    values below the ``g``-th edge number exactly its position if, and only if, no
    tie straddles it, so counting them tells whether the edges are clean. When they
    are, there are at least ``bins`` distinct values, and at exactly ``bins`` each bin
    holds a single one: grouping by value gives the same bins.
    """
    n = len(values)
    firsts = (-(-np.arange(1, bins) * n // bins)).tolist()
    selected = np.array(values, copy=True)
    _select(selected, firsts)
    # NaN sorts last, and the argsort path ranks each NaN as a value of its own.
    if values.dtype.kind == "f" and np.isnan(selected[firsts[-1] :]).any():
        return None
    groups = np.zeros(n, dtype=np.uint8)
    above = np.empty(n, dtype=bool)
    for first, edge in zip(firsts, selected[firsts], strict=True):
        np.greater_equal(values, edge, out=above)
        if n - np.count_nonzero(above) != first:
            return None
        groups += above.view(np.uint8)
    return groups.astype(np.intp), np.diff(firsts, prepend=0, append=n)


def _select(values: np.ndarray, positions: list[int]) -> None:
    """Reorder ``values`` in place so that each of ``positions`` (increasing) holds
    the value it would hold sorted: one partition per position, each within the
    stretch its neighbours already bound (a multi-``kth`` :func:`numpy.partition`
    scans from each position to the end)."""
    stack = [(0, len(values), 0, len(positions))]
    while stack:
        low, high, first, last = stack.pop()
        if first < last:
            middle = (first + last) // 2
            at = positions[middle]
            values[low:high].partition(at - low)
            stack.append((low, at, first, middle))
            stack.append((at + 1, high, middle + 1, last))


def variance_share(values: np.ndarray, outcome: np.ndarray, bins: int = VARIANCE_BINS) -> float:
    """First-order share of the variance of ``outcome`` explained by ``values``.

    ``Var(E[outcome | bin of values]) / Var(outcome)`` from equal-count bins, less the
    share bin means reach by chance (``(groups - 1)`` within-bin mean squares),
    clipped to [0, 1]. 0 when ``outcome`` does not vary.
    """
    groups, counts = _binned(np.asarray(values), bins)
    return _share(groups, counts, *_centred(np.asarray(outcome, dtype=float)))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum rather than a matrix product: BLAS would spin up threads of its own and
    # fight the stress test's worker processes for the cores.
    return float(np.einsum("i,i->", a, b))


def _centred(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``values`` less their mean, and the sum of squares of that."""
    centred = values - values.mean()
    return centred, _dot(centred, centred)


def _share(groups: np.ndarray, counts: np.ndarray, centred: np.ndarray, total: float) -> float:
    """The chance-corrected share of :func:`variance_share`, from the bin of each path
    and the bins' counts, and the outcome centred with its sum of squares."""
    n = len(centred)
    if n < 2 or total <= 0:
        return 0.0
    used = counts > 0
    means = np.bincount(groups, weights=centred)[used] / counts[used]
    between = _dot(counts[used], means * means)
    k = int(used.sum())
    if k < 2 or n <= k:
        return 0.0
    within_mean_square = max(total - between, 0.0) / (n - k)
    share = (between - (k - 1) * within_mean_square) / total
    return float(min(max(share, 0.0), 1.0))


def _correlation(a: np.ndarray, aa: float, b: np.ndarray, bb: float) -> float | None:
    """Correlation of two :func:`_centred` arrays, given with their sums of squares."""
    scale = math.sqrt(aa * bb)
    if scale == 0:
        return None
    return float(min(max(_dot(a, b) / scale, -1.0), 1.0))


def _deciles(values: np.ndarray, ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which paths have the input in its lowest and in its highest :data:`TORNADO_SHARE`
    (by value, so tied values fall on the same side), as path indices; ``ordered`` is
    ``values`` sorted, where the quantiles are found faster."""
    low, high = np.quantile(ordered, [TORNADO_SHARE, 1 - TORNADO_SHARE])
    return np.flatnonzero(values <= low), np.flatnonzero(values >= high)


def sensitivity(
    inputs: Mapping[str, np.ndarray],
    totals: Mapping[str, np.ndarray],
    baseline: str,
    *,
    bins: int = VARIANCE_BINS,
) -> dict[str, list[InputEffect]]:
    """Rank every input by how much it moves each option's savings against the baseline.

    Parameters
    ----------
    inputs
        Dotted key path of each sampled input to its per-path values.
    totals
        Option name to its per-path total cost (the baseline's included), on the same
        paths.
    baseline
        The baseline option's name; savings are its total minus the option's.
    bins
        Equal-count bins for the variance share.

    Returns
    -------
    dict
        Every option but the baseline to its inputs, most important first (by variance
        share, then by the size of the Spearman correlation).
    """
    if baseline not in totals:
        raise ValueError(f"no totals for the baseline {baseline!r}")
    inputs = {key: np.asarray(values, dtype=float) for key, values in inputs.items()}
    # Everything about an input that does not depend on the option, computed once.
    per_input = {}
    for key, values in inputs.items():
        order, ordered, starts = _runs(values)
        groups = _sorted_groups(len(values), bins, order, starts)
        per_input[key] = (
            *_centred(_ranks(order, starts)),
            groups,
            np.bincount(groups),
            *_deciles(values, ordered),
        )
    out: dict[str, list[InputEffect]] = {}
    for name, total in totals.items():
        if name == baseline:
            continue
        savings = np.asarray(totals[baseline], dtype=float) - np.asarray(total, dtype=float)
        savings_ranks = _centred(_order(savings)[1])
        centred = _centred(savings)
        effects = []
        for key, (ranks, ranks_squares, groups, counts, low, high) in per_input.items():
            effects.append(
                InputEffect(
                    input=key,
                    spearman=_correlation(ranks, ranks_squares, *savings_ranks),
                    variance_share=_share(groups, counts, *centred),
                    savings_p50_low=float(np.median(savings[low])),
                    savings_p50_high=float(np.median(savings[high])),
                )
            )
        effects.sort(key=lambda e: (-e.importance[0], -e.importance[1], e.input))
        out[name] = effects
    return out
