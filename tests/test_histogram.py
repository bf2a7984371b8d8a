"""Streaming histograms: accuracy against exact order statistics, exact merges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.histogram import BITS, Histogram

RESOLUTION = 2.0**-BITS  # widest bin, relative
Q = np.array([0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])


def exact_cvar(values, share=0.05):
    k = max(1, int(np.ceil(share * len(values) - 1e-9)))
    return np.sort(values)[-k:].mean()


def filled(values, parts=1):
    h = Histogram()
    for part in np.array_split(values, parts):
        h.add(part)
    return h


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3000),
    st.sampled_from(["lognormal", "normal", "uniform", "ties", "negative"]),
    st.integers(0, 2**32 - 1),
    st.integers(1, 7),
)
def test_quantiles_and_tail_mean_are_within_one_bin_of_exact(n, shape, seed, parts):
    rng = np.random.default_rng(seed)
    values = {
        "lognormal": rng.lognormal(12, 1.5, n),
        "normal": rng.normal(0, 1e6, n),
        "uniform": rng.uniform(1e3, 2e3, n),
        "ties": rng.choice([0.0, 1e4, 2e5], n),
        "negative": -rng.lognormal(3, 2, n),
    }[shape]
    h = filled(values, parts)
    assert h.n == n
    exact = np.percentile(values, Q * 100)
    got = h.quantile(Q)
    # Each order statistic is within one bin (relative) of its value, so a quantile
    # interpolated between two of them is within one bin of the larger in magnitude,
    # with an absolute floor at the zero bin's half-width.
    ordered = np.sort(values)
    position = Q * (n - 1)
    bracket = np.maximum(
        np.abs(ordered[np.floor(position).astype(int)]),
        np.abs(ordered[np.ceil(position).astype(int)]),
    )
    assert np.all(np.abs(got - exact) <= RESOLUTION * bracket + 1e-6)
    assert h.tail_mean(0.05) == pytest.approx(exact_cvar(values), rel=RESOLUTION, abs=1e-6)
    assert (h.min, h.max) == (values.min(), values.max())


def test_identical_values_are_exact():
    h = filled(np.full(1000, 123_456.789), parts=3)
    assert h.quantile(Q).tolist() == [123_456.789] * len(Q)
    assert h.tail_mean(0.05) == 123_456.789


def occupied(h: Histogram) -> dict[int, int]:
    """Bin key to count, for the bins that hold anything."""
    (bins,) = np.nonzero(h.counts[0])
    return {int(h.offset + b): int(h.counts[0, b]) for b in bins}


def test_merge_in_any_order_gives_identical_counts():
    rng = np.random.default_rng(1)
    parts = [rng.lognormal(10, s, 500) for s in (0.5, 1, 2, 3)]
    forward, backward = Histogram(), Histogram()
    for target, order in ((forward, parts), (backward, parts[::-1])):
        for p in order:
            h = Histogram()
            h.add(p)
            target.merge(h)
    whole = filled(np.concatenate(parts))
    assert occupied(forward) == occupied(backward) == occupied(whole)
    np.testing.assert_array_equal(forward.quantile(Q), whole.quantile(Q))


def test_rows_are_counted_separately():
    rng = np.random.default_rng(2)
    values = rng.lognormal(np.arange(36)[:, None] / 10 + 8, 0.4, (36, 4000))
    h = Histogram(rows=36)
    h.add(values[:, :1500])
    h.add(values[:, 1500:])
    got = h.quantile_rows([0.05, 0.5, 0.95])
    np.testing.assert_allclose(got, np.percentile(values, [5, 50, 95], axis=1), rtol=RESOLUTION)
