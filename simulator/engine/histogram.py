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

__all__ = ["BITS", "ZERO", "Histogram", "keys"]

BITS = 11
"""Mantissa bits kept: bins are at most 2**-11 (about 0.05%) wide, relative."""

ZERO = 1e-6
"""Values smaller than this in magnitude fall in the zero bin (reported as 0)."""

_SHIFT = 52 - BITS
_MAGNITUDE = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_ZERO_KEY = int(np.array([ZERO]).view(np.int64)[0] >> _SHIFT)
_SIGN = 63


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


def _signed_keys(bits: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
    """:func:`keys` of the values whose bits are ``bits``, into ``out``, without
    temporaries.

    Flipping the magnitude bits of negative values orders the bits like the values;
    shifted, the zero bin is then the band ``[-_ZERO_KEY, _ZERO_KEY - 1]``, which
    subtracting the shifted bits clipped to that band collapses onto 0.
    """
    np.right_shift(bits, _SIGN, out=out)
    np.bitwise_and(out, _MAGNITUDE, out=out)
    np.bitwise_xor(out, bits, out=out)
    np.right_shift(out, _SHIFT, out=out)
    np.clip(out, -_ZERO_KEY, _ZERO_KEY - 1, out=scratch)
    np.subtract(out, scratch, out=out)


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
    """Counts of values per bin, for one or several rows (such as months), with the
    exact minimum and maximum of each row.

    Quantiles interpolate within a bin, then are clamped to [min, max]: within
    ``2**-BITS`` relative of the exact order statistic, and exact when every value
    of a row is the same. All rows share one range of bins, so that merging adds
    one block of counts.
    """

    def __init__(self, rows: int = 1) -> None:
        self.rows = rows
        self.offset = 0
        self.counts = np.zeros((rows, 0), dtype=np.int64)
        self.lows = np.full(rows, math.inf)
        self.highs = np.full(rows, -math.inf)

    def __getstate__(self) -> dict:
        """The pickled form: each row's occupied bins only, in the narrowest unsigned
        type that holds their counts, so that a worker's tally crosses to the main
        process in a fraction of the bytes (most of the range of bins the rows share
        is empty in any one month)."""
        state = self.__dict__.copy()
        rows, width = self.counts.shape
        first = end = np.zeros(rows, dtype=np.intp)
        if width:
            occupied = self.counts != 0
            used = occupied.any(axis=1)
            first = np.where(used, occupied.argmax(axis=1), 0)
            end = np.where(used, width - occupied[:, ::-1].argmax(axis=1), 0)
        parts = [self.counts[r, a:b] for r, (a, b) in enumerate(zip(first, end, strict=True))]
        packed = np.concatenate([np.zeros(0, dtype=np.int64), *parts])
        if packed.size and packed.min() >= 0:
            packed = packed.astype(np.min_scalar_type(packed.max()))
        state["counts"] = (self.counts.shape, first, end, packed)
        return state

    def __setstate__(self, state: dict) -> None:
        """Rebuild from :meth:`__getstate__`."""
        shape, first, end, packed = state["counts"]
        counts = np.zeros(shape, dtype=np.int64)
        start = 0
        for row, (a, b) in enumerate(zip(first, end, strict=True)):
            counts[row, a:b] = packed[start : start + b - a]
            start += b - a
        self.__dict__.update(state, counts=counts)

    @property
    def min(self) -> float:
        """Smallest value counted (of the first row)."""
        return float(self.lows[0])

    @property
    def max(self) -> float:
        """Largest value counted (of the first row)."""
        return float(self.highs[0])

    @property
    def n(self) -> int:
        """Number of values counted (in the first row)."""
        return int(self.counts[0].sum())

    def add(self, values: np.ndarray) -> None:
        """Count ``values``: shape ``(rows, any)``, or any 1-D shape for one row."""
        values = np.ascontiguousarray(values, dtype=np.float64).reshape(self.rows, -1)
        if values.size == 0:
            return
        lows, highs = values.min(axis=1), values.max(axis=1)
        bounds = keys(np.concatenate([lows, highs])).tolist()  # keys are monotone
        low_keys, high_keys = bounds[: self.rows], bounds[self.rows :]
        self._cover(min(low_keys), max(high_keys))
        bits = values.view(np.int64)
        # Row by row, into one reused buffer: each row's keys and counts stay in the
        # cache, and no array the size of ``values`` is allocated (its fresh pages
        # would cost a good part of the counting).
        row_keys = np.empty(values.shape[1], dtype=np.int64)
        clipped = None
        for row, (low, low_key, high_key) in enumerate(
            zip(lows.tolist(), low_keys, high_keys, strict=True)
        ):
            if low >= 0:
                # The shifted bits themselves are the keys, offset by the zero bin's.
                np.right_shift(bits[row], _SHIFT, out=row_keys)
                if low < ZERO:
                    np.maximum(row_keys, _ZERO_KEY - 1, out=row_keys)
                row_keys -= low_key + (_ZERO_KEY - 1)
            else:
                if clipped is None:
                    clipped = np.empty_like(row_keys)
                _signed_keys(bits[row], row_keys, clipped)
                row_keys -= low_key
            width = high_key - low_key + 1
            first = low_key - self.offset
            self.counts[row, first : first + width] += np.bincount(row_keys, minlength=width)
        np.minimum(self.lows, lows, out=self.lows)
        np.maximum(self.highs, highs, out=self.highs)

    def _cover(self, low: int, high: int) -> None:
        """Grow the stored range of bins to include keys ``low`` to ``high``, with some
        room to spare so that later batches rarely need another copy."""
        width = self.counts.shape[1]
        if width and self.offset <= low and high < self.offset + width:
            return
        if width == 0:
            # The next batch's extremes almost always reach a little beyond the first's.
            room = (high + 1 - low) // 8
            start, end = low - room, high + 1 + room
        else:
            start, end = min(self.offset, low), max(self.offset + width, high + 1)
            room = (end - start) // 8
            start -= room if start < self.offset else 0
            end += room if end > self.offset + width else 0
        grown = np.zeros((self.rows, end - start), dtype=np.int64)
        grown[:, self.offset - start : self.offset - start + width] = self.counts
        self.offset, self.counts = start, grown

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts to this one."""
        width = other.counts.shape[1]
        if width == 0:
            return
        self._cover(other.offset, other.offset + width - 1)
        first = other.offset - self.offset
        self.counts[:, first : first + width] += other.counts
        np.minimum(self.lows, other.lows, out=self.lows)
        np.maximum(self.highs, other.highs, out=self.highs)

    def _order_statistics(self, row: int, ranks: np.ndarray) -> np.ndarray:
        """Approximate values of the given 0-based ranks, spread evenly within bins."""
        counts = self.counts[row]
        cumulative = np.cumsum(counts)
        bins = np.searchsorted(cumulative, ranks, side="right")
        before = cumulative[bins] - counts[bins]
        low, high = _bounds(self.offset + bins)
        position = (ranks - before + 0.5) / counts[bins]
        values = np.where(self.offset + bins == 0, 0.0, low + position * (high - low))
        return np.clip(values, self.lows[row], self.highs[row])

    def _row_quantile(self, row: int, q: np.ndarray) -> np.ndarray:
        n = int(self.counts[row].sum())
        position = q * (n - 1)
        below = np.floor(position)
        fraction = position - below
        values = self._order_statistics(row, below)
        upper = self._order_statistics(row, np.minimum(below + 1, n - 1))
        return np.clip(values + fraction * (upper - values), self.lows[row], self.highs[row])

    def quantile(self, q) -> np.ndarray | float:
        """Quantiles ``q`` in [0, 1] (of the first row), interpolated linearly between
        order statistics like ``numpy.percentile``'s default."""
        result = self._row_quantile(0, np.asarray(q, dtype=float))
        return float(result) if result.ndim == 0 else result

    def quantile_rows(self, q) -> np.ndarray:
        """Quantiles ``q`` of every row: shape ``(len(q), rows)``."""
        q = np.asarray(q, dtype=float)
        return np.column_stack([self._row_quantile(r, q) for r in range(self.rows)])

    def tail_mean(self, share: float) -> float:
        """Mean of the largest ``ceil(share * n)`` values (at least one) of the first
        row, taking the values of each bin as spread evenly across it."""
        counts = self.counts[0]
        n = int(counts.sum())
        k = max(1, math.ceil(share * n - 1e-9))
        cumulative = np.cumsum(counts)
        first = int(np.searchsorted(cumulative, n - k, side="right"))
        bins = self.offset + np.arange(first, counts.size)
        low, high = _bounds(bins)
        low = np.where(bins == 0, 0.0, low)
        high = np.where(bins == 0, 0.0, high)
        tail = counts[first:].astype(float)
        # Whole bins contribute count * centre; the first bin only its top t values,
        # whose positions (j + 0.5) / c for j = c - t .. c - 1 sum to t (2c - t) / 2c.
        total = (tail[1:] * (low[1:] + high[1:]) / 2).sum()
        c, t = tail[0], cumulative[first] - (n - k)
        total += t * low[0] + (high[0] - low[0]) * t * (2 * c - t) / (2 * c)
        return float(np.clip(total / k, self.min, self.max))
