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


def _order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sort of ``values``: the sorting order, the average rank of each value
    (ties share their mean rank, 1-based) and, in sorted order, where each run of
    equal values starts."""
    order = np.argsort(values)
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return order, ranks, starts


def _groups(values: np.ndarray, bins: int, sorted_by=None) -> np.ndarray:
    """Bin index of each value: equal-count bins by rank, or one group per distinct
    value when there are at most ``bins`` of them (a ``choice`` input)."""
    order, _, starts = _order(values) if sorted_by is None else sorted_by
    groups = np.empty(len(values), dtype=np.intp)
    if len(starts) <= bins:
        runs = np.diff(np.r_[starts, len(values)])
        groups[order] = np.repeat(np.arange(len(starts)), runs)
    else:
        groups[order] = np.arange(len(values)) * bins // len(values)
    return groups


def variance_share(values: np.ndarray, outcome: np.ndarray, bins: int = VARIANCE_BINS) -> float:
    """First-order share of the variance of ``outcome`` explained by ``values``.

    ``Var(E[outcome | bin of values]) / Var(outcome)`` from equal-count bins, less the
    share bin means reach by chance (``(groups - 1)`` within-bin mean squares),
    clipped to [0, 1]. 0 when ``outcome`` does not vary.
    """
    return _grouped_share(_groups(np.asarray(values), bins), np.asarray(outcome, dtype=float))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    # einsum rather than a matrix product: BLAS would spin up threads of its own and
    # fight the stress test's worker processes for the cores.
    return float(np.einsum("i,i->", a, b))


def _grouped_share(groups: np.ndarray, outcome: np.ndarray) -> float:
    n = len(outcome)
    centred = outcome - outcome.mean()
    total = _dot(centred, centred)
    if n < 2 or total <= 0:
        return 0.0
    counts = np.bincount(groups)
    used = counts > 0
    means = np.bincount(groups, weights=centred)[used] / counts[used]
    between = _dot(counts[used], means * means)
    k = int(used.sum())
    if k < 2 or n <= k:
        return 0.0
    within_mean_square = max(total - between, 0.0) / (n - k)
    share = (between - (k - 1) * within_mean_square) / total
    return float(min(max(share, 0.0), 1.0))


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    a = a - a.mean()
    b = b - b.mean()
    scale = math.sqrt(_dot(a, a) * _dot(b, b))
    if scale == 0:
        return None
    return float(min(max(_dot(a, b) / scale, -1.0), 1.0))


def _deciles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which paths have the input in its lowest and in its highest :data:`TORNADO_SHARE`
    (by value, so tied values fall on the same side)."""
    low, high = np.quantile(values, [TORNADO_SHARE, 1 - TORNADO_SHARE])
    return values <= low, values >= high


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
    input_ranks, groups = {}, {}
    for key, values in inputs.items():
        sort = _order(values)
        input_ranks[key] = sort[1]
        groups[key] = _groups(values, bins, sort)
    deciles = {key: _deciles(values) for key, values in inputs.items()}
    out: dict[str, list[InputEffect]] = {}
    for name, total in totals.items():
        if name == baseline:
            continue
        savings = np.asarray(totals[baseline], dtype=float) - np.asarray(total, dtype=float)
        savings_ranks = _order(savings)[1]
        effects = []
        for key in inputs:
            low, high = deciles[key]
            effects.append(
                InputEffect(
                    input=key,
                    spearman=_correlation(input_ranks[key], savings_ranks),
                    variance_share=_grouped_share(groups[key], savings),
                    savings_p50_low=float(np.median(savings[low])),
                    savings_p50_high=float(np.median(savings[high])),
                )
            )
        effects.sort(key=lambda e: (-e.importance[0], -e.importance[1], e.input))
        out[name] = effects
    return out
