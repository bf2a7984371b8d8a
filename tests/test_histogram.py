"""Streaming histograms and tallies: accuracy against exact order statistics, exact
merges, and sums that do not depend on how paths are batched."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import load_scenario
from simulator.decide.policy import simulate
from simulator.decide.summary import summarize
from simulator.engine.histogram import BITS, Histogram, keys
from simulator.engine.tally import Tally, breakeven_months, cumulate, moments, year_ends

from .conftest import ROOT

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


def occupied(h: Histogram, row: int = 0) -> dict[int, int]:
    """Bin key to count, for the bins of ``row`` that hold anything."""
    (bins,) = np.nonzero(h.counts[row])
    return {int(h.offset + b): int(h.counts[row, b]) for b in bins}


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


def test_rows_of_any_sign_count_each_value_under_its_own_key():
    rng = np.random.default_rng(3)
    edge = [0.0, -0.0, 1e-7, -1e-7, 1e-6, -1e-6, 5e-324, -5e-324, 2.5, -2.5]
    values = np.stack(
        [
            rng.normal(0, 1e5, 600),
            -rng.lognormal(3, 2, 600),
            rng.choice(edge, 600),
            np.abs(rng.normal(0, 1e-6, 600)),
            rng.lognormal(8, 1, 600),
        ]
    )
    h = Histogram(rows=5)
    h.add(values[:, :250])
    h.add(values[:, 250:])
    for row in range(5):
        expected = dict(zip(*np.unique(keys(values[row]), return_counts=True), strict=True))
        assert occupied(h, row) == {int(k): int(c) for k, c in expected.items()}
        assert (h.lows[row], h.highs[row]) == (values[row].min(), values[row].max())


MODEL = ROOT / "benchmarks" / "model.toml"


def test_without_discounting_npv_is_the_total_counted_once():
    result = simulate(load_scenario(MODEL), paths=9000, seed=3, workers=1, keep_paths=True)
    tally = result.tally
    assert not tally.discounted
    assert not [k for k in tally.histograms if k.startswith("npv:")]
    assert not [k for k in tally.totals() if k.startswith("moments:npv:")]
    for name in tally.names:
        assert np.array_equal(result.npv[name], result.totals[name])
        np.testing.assert_allclose(
            result.totals[name], result.monthly[name].sum(axis=1), rtol=1e-12
        )
    for option in summarize(result).to_dict()["options"].values():
        assert option["npv"] == option["total_cost"]


def test_a_discounted_run_keeps_its_own_npv():
    scenario = load_scenario(MODEL, ["scenario.discount_rate=0.08"])
    result = simulate(scenario, paths=9000, seed=3, workers=1, keep_paths=True)
    assert result.tally.discounted
    summary = summarize(result).to_dict()
    for name, option in summary["options"].items():
        assert f"npv:{name}" in result.tally.histograms
        assert np.all(result.npv[name] < result.totals[name])
        assert option["npv"]["mean"] == pytest.approx(result.npv[name].mean(), rel=1e-12)
        assert option["npv"]["mean"] < option["total_cost"]["mean"]


def _batch(rng, paths, months=14, names=("base", "a", "b")):
    """Monthly costs, components and notes of ``paths`` paths, for Tally.add: the
    rivals' cumulative savings cross zero, some of them more than once."""
    base = rng.lognormal(5, 0.5, (months, paths))
    monthly = {"base": base}
    for i, name in enumerate(names[1:]):
        monthly[name] = base * rng.lognormal(0.1 * i - 0.05, 0.3, (months, paths))
    components = {n: {"x": m[0] * 1.0, "y": m.sum(axis=0) - m[0]} for n, m in monthly.items()}
    notes = {"a": {"share": rng.random(paths)}}
    return monthly, components, notes


def _tally(discount):
    return Tally(("base", "a", "b"), "base", discount)


def _columns(batch, paths):
    monthly, components, notes = batch
    return (
        {n: m[:, paths] for n, m in monthly.items()},
        {n: {k: v[paths] for k, v in c.items()} for n, c in components.items()},
        {n: {k: v[paths] for k, v in c.items()} for n, c in notes.items()},
    )


@pytest.mark.parametrize("rate", [0.0, 0.08])
def test_block_sums_do_not_depend_on_the_batches_they_come_in(rate):
    discount = (1 + rate) ** (-np.arange(14) / 12)
    sizes = [4096, 4096, 4096, 1000]
    rng = np.random.default_rng(4)
    batch = _batch(rng, sum(sizes))
    blocks = list(enumerate(sizes))
    whole = _tally(discount)
    outcome = whole.add(blocks, *batch)
    apart = _tally(discount)
    start = 0
    for block, size in blocks:
        part = _tally(discount)
        part.add([(block, size)], *_columns(batch, slice(start, start + size)))
        apart.merge(pickle.loads(pickle.dumps(part)))
        start += size
    assert whole.blocks.keys() == apart.blocks.keys()
    for index, sums in whole.blocks.items():
        assert sums.keys() == apart.blocks[index].keys()
        for key, value in sums.items():
            assert value.dtype == apart.blocks[index][key].dtype
            assert np.array_equal(value, apart.blocks[index][key]), key
    assert whole.histograms.keys() == apart.histograms.keys()
    for key, h in whole.histograms.items():
        assert occupied(h) == occupied(apart.histograms[key])
    for name, h in whole.monthly.items():
        for row in range(h.rows):
            assert occupied(h, row) == occupied(apart.monthly[name], row)

    # Each block's sums are those of its paths alone, and the outcomes those of the
    # reference functions.
    start = 0
    for block, size in blocks:
        paths = slice(start, start + size)
        start += size
        for name in whole.names:
            total = batch[0][name].sum(axis=0)[paths]
            assert np.array_equal(whole.blocks[block][f"moments:total:{name}"], moments(total))
    monthly = batch[0]
    for name in ("a", "b"):
        cumulative = cumulate(monthly["base"] - monthly[name])
        assert np.array_equal(outcome[f"breakeven:{name}"], breakeven_months(cumulative))
        assert np.array_equal(outcome[f"by_year:{name}"], (cumulative[year_ends(14)] > 0).T)
        breakeven = outcome[f"breakeven:{name}"]
        assert 0 < (breakeven == 0).sum() < breakeven.size
        assert (breakeven > 1).any()
