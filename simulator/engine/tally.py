"""Streaming aggregation of costed paths: what the summary needs, in flat memory.

A :class:`Tally` takes batches of costed paths and keeps only

- histograms (total, NPV and monthly cost per option; savings per rival), whose
  integer counts merge exactly in any order (NPV's are the total's when nothing is
  discounted: see :meth:`Tally.counted_as`);
- per-block sums and moments, added up in block order at the end,

so the result is the same whatever the batch size, the worker count or the order
in which batches finish.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..paths.sampling import Block
from ..scenario.errors import ScenarioError
from .histogram import Histogram

__all__ = [
    "MAX_COST",
    "Tally",
    "breakeven_months",
    "cumulate",
    "cvar",
    "moments",
    "year_ends",
]

MAX_COST = 1e20
"""Largest total cost accepted on a path, far beyond any real budget."""


def year_ends(months: int) -> np.ndarray:
    """Index of the last month of each year; the last entry ends at the horizon."""
    return np.minimum(np.arange(1, -(-months // 12) + 1) * 12, months) - 1


def cumulate(monthly: np.ndarray) -> np.ndarray:
    """Running sum over months of a ``(months, paths)`` array, in place, row by row
    (far faster than ``cumsum`` along the short axis)."""
    for t in range(1, monthly.shape[0]):
        monthly[t] += monthly[t - 1]
    return monthly


def breakeven_months(cumulative_savings: np.ndarray) -> np.ndarray:
    """First 1-based month from which cumulative savings stay positive to the horizon.

    Parameters
    ----------
    cumulative_savings
        Baseline's cumulative cost minus the option's, shape ``(months, paths)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(paths,)``; 0 where no such month exists.
    """
    return _breakeven(cumulative_savings > 0)


def _breakeven(ahead: np.ndarray) -> np.ndarray:
    """:func:`breakeven_months` from whether the cumulative savings are positive in
    each month, shape ``(months, paths)``, which it overwrites."""
    months = ahead.shape[0]
    # Keep only the run of months that lasts to the horizon, then count it (summing
    # booleans into a narrow integer is several times faster than into int64).
    for t in range(months - 2, -1, -1):
        ahead[t] &= ahead[t + 1]
    months_ahead = ahead.sum(axis=0, dtype=np.int16 if months < 2**15 else np.int64)
    return np.where(months_ahead > 0, months + 1 - months_ahead.astype(np.int64), 0)


def _business_cost(components: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Per path, the part of an option's total that is business cost, not cash: its
    ``downtime`` (an option's own, or a stage's or route's, ``NAME.downtime``); ``None``
    when it has none."""
    lost = [v for k, v in components.items() if k == "downtime" or k.endswith(".downtime")]
    return sum(lost[1:], lost[0]) if lost else None


def _check_bounded(values: np.ndarray, name: str) -> None:
    # NaN fails the comparison too. Past the bound, sums and means over paths could
    # overflow even where each path's total is finite.
    if not (np.abs(values) < MAX_COST).all():
        raise ScenarioError(
            f"costs exceed {MAX_COST:.0e} or overflow on some paths: some inputs are too "
            "extreme for this horizon (check volumes, growth, prices, discount rate and "
            "their distributions)",
            key=f"options.{name}",
        )


def cvar(values: np.ndarray, level: float = 0.95) -> float:
    """Mean of the costliest ``1 - level`` share of ``values`` (at least one value)."""
    k = max(1, math.ceil((1 - level) * len(values) - 1e-9))
    return float(np.mean(np.partition(values, len(values) - k)[-k:]))


def moments(values: np.ndarray) -> np.ndarray:
    """``[count, mean, M2]`` of ``values`` (M2: sum of squared deviations)."""
    mean = values.mean()
    return np.array([values.size, mean, ((values - mean) ** 2).sum()])


def _merge_moments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chan et al.'s pairwise update of ``[count, mean, M2]``."""
    n = a[0] + b[0]
    delta = b[1] - a[1]
    mean = a[1] + delta * b[0] / n
    return np.array([n, mean, a[2] + b[2] + delta * delta * a[0] * b[0] / n])


def _runs(blocks: Sequence[Block]) -> list[tuple[int, list[int]]]:
    """Consecutive blocks of the same size, as ``(size, indices)``."""
    runs: list[tuple[int, list[int]]] = []
    for index, size in blocks:
        if runs and runs[-1][0] == size:
            runs[-1][1].append(index)
        else:
            runs.append((size, [index]))
    return runs


def _by_block(values: np.ndarray, *, start: int, size: int, count: int) -> np.ndarray:
    """The ``count`` blocks of ``size`` paths from path ``start`` of ``values``, the
    last axis split into ``(count, size)``."""
    return values[..., start : start + size * count].reshape(*values.shape[:-1], count, size)


def _block_sums(values: np.ndarray) -> np.ndarray:
    """Sum over the last axis, kept as an axis of length 1."""
    return values.sum(axis=-1)[..., None]


def _block_moments(values: np.ndarray) -> np.ndarray:
    """:func:`moments` over the last axis: shape ``(..., 3)``."""
    mean = values.mean(axis=-1)
    m2 = ((values - mean[..., None]) ** 2).sum(axis=-1)
    return np.stack([np.full(mean.shape, float(values.shape[-1])), mean, m2], axis=-1)


def _versus(
    baseline: np.ndarray, other: np.ndarray, ends: np.ndarray, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Savings of ``other`` over ``baseline`` (monthly costs, ``(months, paths)``).

    Parameters
    ----------
    baseline, other
        Monthly costs, shape ``(months, paths)``.
    ends
        Months at which to tell whether the savings so far are positive.
    out
        Receives the cumulative savings at the horizon, shape ``(paths,)``.

    Returns
    -------
    ahead : numpy.ndarray
        Whether the cumulative savings are positive at each month of ``ends``, shape
        ``(len(ends), paths)``.
    breakeven : numpy.ndarray
        The :func:`breakeven_months`.

    Notes
    -----
    The same sums as :func:`cumulate` of the difference, taken month by month so
    that no array the size of the costs is allocated (fresh memory costs more than
    the sums).
    """
    months, paths = baseline.shape
    step = np.empty(paths)
    positive = np.empty((months, paths), dtype=bool)
    np.subtract(baseline[0], other[0], out=out)
    np.greater(out, 0, out=positive[0])
    for t in range(1, months):
        np.subtract(baseline[t], other[t], out=step)
        out += step
        np.greater(out, 0, out=positive[t])
    return positive[ends], _breakeven(positive)


@dataclass
class Tally:
    """Aggregates of costed paths, mergeable across batches and workers.

    Parameters
    ----------
    names
        Option names, baseline included.
    baseline
        The baseline option's name.
    discount
        NPV weight of each month.
    excluded
        Options a requirement excludes before any path is costed (data residency,
        operations capacity): the share of paths on which each other option is the
        cheapest of those allowed is counted too (``cheapest_allowed:NAME``).
    """

    names: tuple[str, ...]
    baseline: str
    discount: np.ndarray
    excluded: tuple[str, ...] = ()
    blocks: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    monthly: dict[str, Histogram] = field(default_factory=dict)

    @property
    def rivals(self) -> tuple[str, ...]:
        """Every option but the baseline."""
        return tuple(n for n in self.names if n != self.baseline)

    @property
    def discounted(self) -> bool:
        """Whether the NPV weights any month other than 1, so that NPV differs from
        the total cost."""
        return bool(np.any(self.discount != 1.0))

    def counted_as(self, key: str) -> str:
        """The key under which the histogram (and the ``moments:`` sums) of ``key``
        are kept: ``npv:NAME`` is counted as ``total:NAME`` when nothing is
        discounted, the two being the same on every path; ``cash:NAME`` likewise for
        an option with no business cost (downtime) to leave out."""
        if key.startswith("npv:") and not self.discounted:
            return "total:" + key.removeprefix("npv:")
        if key.startswith("cash:") and key not in self.histograms:
            return "total:" + key.removeprefix("cash:")
        return key

    def add(
        self,
        blocks: Sequence[Block],
        monthly: Mapping[str, np.ndarray],
        components: Mapping[str, Mapping[str, np.ndarray]],
        notes: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    ) -> dict[str, np.ndarray]:
        """Count one batch: ``monthly`` cost per option, shape ``(months, paths)``,
        each option's ``components`` totalled per path, and the per-path ``notes``
        options recorded (see :meth:`~simulator.paths.batch.Batch.note`).

        Returns the per-path outcomes computed on the way (totals, NPV, break-even
        months, cheaper by year), for callers that keep paths.
        """
        months, paths = next(iter(monthly.values())).shape
        ends = year_ends(months)
        discounted = self.discounted
        rivals = self.rivals
        # A row per option (and per rival), so that each sum over a block is taken for
        # all of them at once.
        totals = np.empty((len(self.names), paths))
        for i, name in enumerate(self.names):
            np.sum(monthly[name], axis=0, out=totals[i])
        npv = totals
        if discounted:
            npv = np.empty_like(totals)
            for i, name in enumerate(self.names):
                # einsum rather than a matrix product: BLAS would spin up threads of its
                # own and fight the worker processes for the cores.
                np.einsum("mp,m->p", monthly[name], self.discount, out=npv[i])
        for i, name in enumerate(self.names):
            _check_bounded(totals[i], name)
            if discounted:
                _check_bounded(npv[i], name)
        cash = {
            name: totals[i] - lost
            for i, name in enumerate(self.names)
            if (lost := _business_cost(components[name])) is not None
        }
        lowest = totals.min(axis=0)
        is_lowest = totals == lowest
        shares = is_lowest / is_lowest.sum(axis=0)
        regret = totals - lowest
        allowed = [i for i, name in enumerate(self.names) if name not in self.excluded]
        allowed_shares = None
        if self.excluded and allowed:
            among = totals[allowed]
            is_lowest_allowed = among == among.min(axis=0)
            allowed_shares = is_lowest_allowed / is_lowest_allowed.sum(axis=0)

        outcome: dict[str, np.ndarray] = {}
        savings = np.empty((len(rivals), paths))
        breakeven, by_year = {}, {}
        for j, name in enumerate(rivals):
            ahead, breakeven[name] = _versus(
                monthly[self.baseline], monthly[name], ends, out=savings[j]
            )
            by_year[name] = ahead.T
            outcome[f"breakeven:{name}"] = breakeven[name]
            outcome[f"by_year:{name}"] = by_year[name]
        for i, name in enumerate(self.names):
            outcome[f"total:{name}"] = totals[i]
            outcome[f"npv:{name}"] = npv[i]
            outcome[f"cash:{name}"] = cash.get(name, totals[i])
        notes = {
            f"note:{name}:{key}": values
            for name, keyed in (notes or {}).items()
            for key, values in keyed.items()
        }
        for key, values in notes.items():
            _check_bounded(values, key.split(":")[1])

        # Each block's sums are taken over its own paths alone, however many blocks
        # are counted together, so that they do not depend on the batch size.
        start = 0
        for size, indices in _runs(blocks):
            count = len(indices)
            split = partial(_by_block, start=start, size=size, count=count)
            start += size * count
            total_moments = _block_moments(split(totals))
            npv_moments = _block_moments(split(npv)) if discounted else None
            cheapest = _block_sums(split(shares))
            regrets = _block_sums(split(regret))
            cheaper = _block_sums(split(savings) > 0)
            saved = _block_sums(split(savings))
            sums: dict[str, np.ndarray] = {}
            if allowed_shares is not None:
                cheapest_allowed = _block_sums(split(allowed_shares))
                for k, i in enumerate(allowed):
                    sums[f"cheapest_allowed:{self.names[i]}"] = cheapest_allowed[k]
            for name, values in cash.items():
                sums[f"moments:cash:{name}"] = _block_moments(split(values[None]))[0]
            for i, name in enumerate(self.names):
                sums[f"moments:total:{name}"] = total_moments[i]
                if npv_moments is not None:
                    sums[f"moments:npv:{name}"] = npv_moments[i]
                sums[f"cheapest:{name}"] = cheapest[i]
                sums[f"regret:{name}"] = regrets[i]
                for component, per_path in components[name].items():
                    sums[f"component:{name}:{component}"] = _block_sums(split(per_path))
            for key, values in notes.items():
                sums[f"moments:{key}"] = _block_moments(split(values))
            for j, name in enumerate(rivals):
                sums[f"cheaper:{name}"] = cheaper[j]
                sums[f"savings:{name}"] = saved[j]
                sums[f"by_year:{name}"] = split(by_year[name].T).sum(axis=2).T.astype(float)
                # One bincount for all the blocks: block k's months counted at k * (months + 1).
                codes = split(breakeven[name]) + (months + 1) * np.arange(count)[:, None]
                sums[f"breakeven:{name}"] = (
                    np.bincount(codes.ravel(), minlength=(months + 1) * count)
                    .reshape(count, months + 1)
                    .astype(float)
                )
            # Copies, not views: each block's sums own their few bytes, as sizing counts.
            for row, index in enumerate(indices):
                self.blocks[index] = {key: values[row].copy() for key, values in sums.items()}

        for i, name in enumerate(self.names):
            self._histogram(f"total:{name}").add(totals[i])
            if discounted:
                self._histogram(f"npv:{name}").add(npv[i])
            if name in cash:
                self._histogram(f"cash:{name}").add(cash[name])
            if name not in self.monthly:
                self.monthly[name] = Histogram(rows=months)
            self.monthly[name].add(monthly[name])
        for j, name in enumerate(rivals):
            self._histogram(f"savings:{name}").add(savings[j])
        for key, values in notes.items():
            self._histogram(key).add(values)
        return outcome

    def __getstate__(self) -> dict:
        """The pickled form: the per-block sums as one array per key, a row per block,
        rather than many thousands of small arrays, which pickle many times slower."""
        state = self.__dict__.copy()
        groups: dict[tuple, list[int]] = {}
        for index, sums in self.blocks.items():
            layout = tuple((key, value.shape, value.dtype.str) for key, value in sums.items())
            groups.setdefault(layout, []).append(index)
        state["blocks"] = [
            (
                [key for key, _, _ in layout],
                indices,
                [np.stack([self.blocks[i][key] for i in indices]) for key, _, _ in layout],
            )
            for layout, indices in groups.items()
        ]
        return state

    def __setstate__(self, state: dict) -> None:
        """Rebuild from :meth:`__getstate__`."""
        blocks: dict[int, dict[str, np.ndarray]] = {}
        for keys, indices, stacked in state["blocks"]:
            columns = list(zip(keys, stacked, strict=True))
            for row, index in enumerate(indices):
                blocks[index] = {key: values[row] for key, values in columns}
        self.__dict__.update(state, blocks=blocks)

    def _histogram(self, key: str) -> Histogram:
        if key not in self.histograms:
            self.histograms[key] = Histogram()
        return self.histograms[key]

    def merge(self, other: Tally) -> None:
        """Fold another tally (of other blocks) into this one."""
        self.blocks.update(other.blocks)
        for key, histogram in other.histograms.items():
            self._histogram(key).merge(histogram)
        for name, histogram in other.monthly.items():
            self.monthly.setdefault(name, Histogram(rows=histogram.rows)).merge(histogram)

    def standard_errors(self, method: str = "random") -> dict[str, float]:
        """Standard error of every ``p_cheaper:NAME`` (a probability) and of every
        ``mean:NAME`` (relative to the mean) in this tally.

        Plain Monte Carlo uses the binomial and the sample-variance formulas. Latin
        hypercube and Sobol blocks are independent replicates of the design, so with
        eight blocks or more their spread is what is used (batch means); with fewer
        the plain formulas stand in, which overstate the error.
        """
        sums = self.totals()
        n = float(sums[f"moments:total:{self.names[0]}"][0])
        replicated = method != "random" and len(self.blocks) >= 8
        if replicated:
            order = sorted(self.blocks)
            weights = np.array([self.blocks[b][f"moments:total:{self.names[0]}"][0] for b in order])
            weights = weights / weights.sum()
            scale = len(order) / (len(order) - 1)

            def spread(values: np.ndarray) -> float:
                centre = (weights * values).sum()
                return math.sqrt(scale * (weights**2 * (values - centre) ** 2).sum())

        errors: dict[str, float] = {}
        for name in self.rivals:
            p = float(sums[f"cheaper:{name}"][0]) / n
            if replicated:
                per_block = np.array(
                    [
                        self.blocks[b][f"cheaper:{name}"][0]
                        / self.blocks[b][f"moments:total:{name}"][0]
                        for b in order
                    ]
                )
                errors[f"p_cheaper:{name}"] = spread(per_block)
            else:
                errors[f"p_cheaper:{name}"] = math.sqrt(p * (1 - p) / n)
        for name in self.names:
            count, mean, m2 = sums[f"moments:total:{name}"]
            if replicated:
                per_block = np.array([self.blocks[b][f"moments:total:{name}"][1] for b in order])
                se = spread(per_block)
            else:
                se = math.sqrt(max(m2, 0.0) / count / count)
            errors[f"mean:{name}"] = se / abs(mean) if mean else 0.0
        return errors

    def totals(self) -> dict[str, np.ndarray]:
        """Every per-block sum added up in block order (moments by Chan's update)."""
        out: dict[str, np.ndarray] = {}
        for index in sorted(self.blocks):
            for key, value in self.blocks[index].items():
                if key not in out:
                    out[key] = value.copy()
                elif key.startswith("moments:"):
                    out[key] = _merge_moments(out[key], value)
                else:
                    out[key] = out[key] + value
        return out
