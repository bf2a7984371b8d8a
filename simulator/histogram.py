"""Streaming quantiles: fixed-edge histograms that merge exactly, in any order.

A value's bin comes straight from its IEEE-754 bits: the exponent and the top
:data:`BITS` bits of the mantissa, so every bin spans a relative width of at most
``2**-BITS`` (0.05%) and the bins of any two blocks line up. Counts are integers, so
merging histograms of blocks in any order, on any worker, gives the same result.
Values within :data:`ZERO` of zero share one bin. Only the occupied range of bins is
stored, so memory does not grow with the number of values.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BITS", "ZERO", "Histogram", "add_rows", "keys"]

BITS = 11
"""Mantissa bits kept: bins are at most 2**-11 (about 0.05%) wide, relative."""

ZERO = 1e-6
"""Values smaller than this in magnitude fall in the zero bin (reported as 0)."""

_SHIFT = 52 - BITS
_MAGNITUDE = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_ZERO_KEY = int(np.array([ZERO]).view(np.int64)[0] >> _SHIFT)


def keys(values: np.ndarray, *, nonnegative: bool = False) -> np.ndarray:
    """Bin key of each value: 0 near zero, positive above, negative below, in order.

    ``nonnegative`` promises that no value is below zero, which saves two passes.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    magnitude = bits >> _SHIFT if nonnegative else (bits & _MAGNITUDE) >> _SHIFT
    magnitude -= _ZERO_KEY - 1
    np.maximum(magnitude, 0, out=magnitude)
    if nonnegative:
        return magnitude
    return np.where(bits < 0, -magnitude, magnitude)


def _bounds(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each bin key."""
    key = np.asarray(key, dtype=np.int64)
    magnitude = np.abs(key) + (_ZERO_KEY - 1)
    small = (magnitude << _SHIFT).view(np.float64)
    large = ((magnitude + 1) << _SHIFT).view(np.float64)
    low = np.where(key > 0, small, np.where(key < 0, -large, -ZERO))
    high = np.where(key > 0, large, np.where(key < 0, -small, ZERO))
    return low, high


class Histogram:
    """Counts of values per bin, with the exact minimum and maximum.

    Quantiles interpolate within a bin, then are clamped to [min, max]: within
    ``2**-BITS`` relative of the exact order statistic, and exact when every value
    is the same.
    """

    def __init__(self) -> None:
        self.offset = 0
        self.counts = np.zeros(0, dtype=np.int64)
        self.min = math.inf
        self.max = -math.inf

    @property
    def n(self) -> int:
        """Number of values counted."""
        return int(self.counts.sum())

    def add(self, values: np.ndarray) -> None:
        """Count ``values`` (any shape)."""
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size == 0:
            return
        k = keys(values)
        low = int(k.min())
        self._add_counts(low, np.bincount(k - low), float(values.min()), float(values.max()))

    def _add_counts(self, offset: int, counts: np.ndarray, lo: float, hi: float) -> None:
        if self.counts.size == 0:
            self.offset, self.counts = offset, counts.astype(np.int64)
        else:
            start = min(self.offset, offset)
            end = max(self.offset + self.counts.size, offset + counts.size)
            if start != self.offset or end != self.offset + self.counts.size:
                grown = np.zeros(end - start, dtype=np.int64)
                grown[self.offset - start : self.offset - start + self.counts.size] = self.counts
                self.offset, self.counts = start, grown
            self.counts[offset - self.offset : offset - self.offset + counts.size] += counts
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts to this one."""
        if other.counts.size:
            self._add_counts(other.offset, other.counts, other.min, other.max)

    def _order_statistics(self, ranks: np.ndarray) -> np.ndarray:
        """Approximate values of the given 0-based ranks, spread evenly within bins."""
        cumulative = np.cumsum(self.counts)
        bins = np.searchsorted(cumulative, ranks, side="right")
        before = cumulative[bins] - self.counts[bins]
        low, high = _bounds(self.offset + bins)
        position = (ranks - before + 0.5) / self.counts[bins]
        values = np.where(self.offset + bins == 0, 0.0, low + position * (high - low))
        return np.clip(values, self.min, self.max)

    def quantile(self, q) -> np.ndarray | float:
        """Quantiles ``q`` in [0, 1], interpolated linearly between order statistics
        like ``numpy.percentile``'s default."""
        q = np.asarray(q, dtype=float)
        position = q * (self.n - 1)
        below = np.floor(position)
        fraction = position - below
        values = self._order_statistics(below)
        upper = self._order_statistics(np.minimum(below + 1, self.n - 1))
        result = np.clip(values + fraction * (upper - values), self.min, self.max)
        return float(result) if result.ndim == 0 else result

    def tail_mean(self, share: float) -> float:
        """Mean of the largest ``ceil(share * n)`` values (at least one), taking the
        values of each bin as spread evenly across it."""
        n = self.n
        k = max(1, math.ceil(share * n - 1e-9))
        cumulative = np.cumsum(self.counts)
        first = int(np.searchsorted(cumulative, n - k, side="right"))
        bins = np.arange(first, self.counts.size)
        low, high = _bounds(self.offset + bins)
        low = np.where(self.offset + bins == 0, 0.0, low)
        high = np.where(self.offset + bins == 0, 0.0, high)
        counts = self.counts[first:].astype(float)
        # Whole bins contribute count * centre; the first bin only its top t values,
        # whose positions (j + 0.5) / c for j = c - t .. c - 1 sum to t (2c - t) / 2c.
        total = (counts[1:] * (low[1:] + high[1:]) / 2).sum()
        c, t = counts[0], cumulative[first] - (n - k)
        total += t * low[0] + (high[0] - low[0]) * t * (2 * c - t) / (2 * c)
        return float(np.clip(total / k, self.min, self.max))


def add_rows(histograms: list[Histogram], values: np.ndarray) -> None:
    """Count each row of ``values`` (rows, values) into its own histogram, with one
    ``bincount`` for all rows."""
    lows, highs = values.min(axis=1), values.max(axis=1)
    k = keys(values, nonnegative=bool(lows.min() >= 0))
    low = k.min(axis=1)
    width = k.max(axis=1) - low + 1
    start = np.concatenate([[0], np.cumsum(width)[:-1]])
    k += (start - low)[:, None]
    counts = np.bincount(k.ravel(), minlength=int(width.sum()))
    for j, histogram in enumerate(histograms):
        segment = counts[start[j] : start[j] + width[j]]
        histogram._add_counts(int(low[j]), segment, float(lows[j]), float(highs[j]))
