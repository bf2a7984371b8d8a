"""Streaming aggregation of costed paths: what the summary needs, in flat memory.

A :class:`Tally` takes batches of costed paths and keeps only

- histograms (total, NPV and monthly cost per option; savings per rival), whose
  integer counts merge exactly in any order;
- per-block sums and moments, added up in block order at the end,

so the result is the same whatever the batch size, the worker count or the order
in which batches finish.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import ScenarioError
from .histogram import Histogram
from .sampling import Block

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
    ahead = cumulative_savings > 0
    # Keep only the run of months that lasts to the horizon, then count it.
    for t in range(ahead.shape[0] - 2, -1, -1):
        ahead[t] &= ahead[t + 1]
    months_ahead = ahead.sum(axis=0)
    return np.where(months_ahead > 0, ahead.shape[0] - months_ahead + 1, 0)


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
    """

    names: tuple[str, ...]
    baseline: str
    discount: np.ndarray
    blocks: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    monthly: dict[str, Histogram] = field(default_factory=dict)

    @property
    def rivals(self) -> tuple[str, ...]:
        """Every option but the baseline."""
        return tuple(n for n in self.names if n != self.baseline)

    def add(
        self,
        blocks: Sequence[Block],
        monthly: Mapping[str, np.ndarray],
        components: Mapping[str, Mapping[str, np.ndarray]],
        notes: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    ) -> dict[str, np.ndarray]:
        """Count one batch: ``monthly`` cost per option, shape ``(months, paths)``,
        each option's ``components`` totalled per path, and the per-path ``notes``
        options recorded (see :meth:`~simulator.batch.Batch.note`).

        Returns the per-path outcomes computed on the way (totals, NPV, break-even
        months, cheaper by year), for callers that keep paths.
        """
        months = next(iter(monthly.values())).shape[0]
        ends = year_ends(months)
        totals = {n: monthly[n].sum(axis=0) for n in self.names}
        # einsum rather than a matrix product: BLAS would spin up threads of its own and
        # fight the worker processes for the cores.
        npv = {n: np.einsum("mp,m->p", monthly[n], self.discount) for n in self.names}
        for name in self.names:
            _check_bounded(totals[name], name)
            _check_bounded(npv[name], name)
        stacked = np.vstack([totals[n] for n in self.names])
        lowest = stacked.min(axis=0)
        is_lowest = stacked == lowest
        shares = is_lowest / is_lowest.sum(axis=0)
        regret = stacked - lowest

        outcome: dict[str, np.ndarray] = {}
        savings, breakeven, by_year = {}, {}, {}
        for name in self.rivals:
            cumulative = cumulate(monthly[self.baseline] - monthly[name])
            savings[name] = cumulative[-1]
            by_year[name] = (cumulative[ends] > 0).T
            breakeven[name] = breakeven_months(cumulative)
            outcome[f"breakeven:{name}"] = breakeven[name]
            outcome[f"by_year:{name}"] = by_year[name]
        for name in self.names:
            outcome[f"total:{name}"] = totals[name]
            outcome[f"npv:{name}"] = npv[name]
        notes = {
            f"note:{name}:{key}": values
            for name, keyed in (notes or {}).items()
            for key, values in keyed.items()
        }
        for key, values in notes.items():
            _check_bounded(values, key.split(":")[1])

        start = 0
        for index, size in blocks:
            rows = slice(start, start + size)
            start += size
            sums: dict[str, np.ndarray] = {}
            for i, name in enumerate(self.names):
                sums[f"moments:total:{name}"] = moments(totals[name][rows])
                sums[f"moments:npv:{name}"] = moments(npv[name][rows])
                sums[f"cheapest:{name}"] = np.array([shares[i, rows].sum()])
                sums[f"regret:{name}"] = np.array([regret[i, rows].sum()])
                for component, per_path in components[name].items():
                    sums[f"component:{name}:{component}"] = np.array([per_path[rows].sum()])
            for key, values in notes.items():
                sums[f"moments:{key}"] = moments(values[rows])
            for name in self.rivals:
                sums[f"cheaper:{name}"] = np.array([(savings[name][rows] > 0).sum()])
                sums[f"savings:{name}"] = np.array([savings[name][rows].sum()])
                sums[f"by_year:{name}"] = by_year[name][rows].sum(axis=0).astype(float)
                sums[f"breakeven:{name}"] = np.bincount(
                    breakeven[name][rows], minlength=months + 1
                ).astype(float)
            self.blocks[index] = sums

        for name in self.names:
            self._histogram(f"total:{name}").add(totals[name])
            self._histogram(f"npv:{name}").add(npv[name])
            self.monthly.setdefault(name, Histogram(rows=months)).add(monthly[name])
        for name in self.rivals:
            self._histogram(f"savings:{name}").add(savings[name])
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
        return self.histograms.setdefault(key, Histogram())

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
