"""Random streams, input draws and the Gaussian copula (simulator/sampling.py)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import stats

from simulator import ScenarioError, parse_scenario
from simulator.decide.policy import simulate
from simulator.paths.sampling import (
    BLOCK_SIZE,
    Streams,
    plan_blocks,
    sample_inputs,
)
from simulator.scenario import Correlation
from simulator.scenario.copula import copula_matrix

BASE = {
    "scenario": {"name": "sampling test", "horizon_months": 12, "paths": 1000, "seed": 3},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 500,
        "output_tokens_per_request": 100,
        "monthly_growth": {"dist": "uniform", "low": 0.0, "high": 0.1},
        "peak_to_average": {"dist": "triangular", "low": 1.5, "mode": 2.0, "high": 3.0},
    },
    "options": {
        "api": {
            "kind": "api",
            "input_price_per_mtok": {"dist": "lognormal", "p5": 1.0, "p95": 4.0},
            "output_price_per_mtok": 8.0,
        },
    },
}

GROWTH = "workload.monthly_growth"
PEAK = "workload.peak_to_average"
PRICE = "options.api.input_price_per_mtok"


def scenario_with(correlations=(), **workload):
    doc = copy.deepcopy(BASE)
    doc["workload"].update(workload)
    doc["correlations"] = [{"between": list(pair), "rank": rank} for pair, rank in correlations]
    return parse_scenario(doc)


def correlation_error(correlations) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_with(correlations)
    return info.value


# ---------------------------------------------------------------------------
# Streams


def test_plan_blocks():
    assert plan_blocks(1) == [(0, 1)]
    assert plan_blocks(BLOCK_SIZE) == [(0, BLOCK_SIZE)]
    assert plan_blocks(2 * BLOCK_SIZE + 5) == [(0, BLOCK_SIZE), (1, BLOCK_SIZE), (2, 5)]


def test_streams_repeat_for_same_entropy_and_blocks():
    blocks = [(0, 100), (1, 50)]
    a, b = Streams(42, blocks), Streams(42, blocks)
    assert np.array_equal(a.uniform("x", (3,)), b.uniform("x", (3,)))
    assert np.array_equal(a.normal("x"), b.normal("x"))
    assert a.uniform("x").shape == (150,)
    assert a.normal("y", (4, 2)).shape == (150, 4, 2)
    assert a.size == 150


def test_block_numbers_do_not_depend_on_the_rest_of_the_batch():
    both = Streams(7, [(0, BLOCK_SIZE), (1, BLOCK_SIZE)])
    alone = Streams(7, [(1, BLOCK_SIZE)])
    assert np.array_equal(both.uniform("x")[BLOCK_SIZE:], alone.uniform("x"))
    assert np.array_equal(both.normal("x", (5,))[BLOCK_SIZE:], alone.normal("x", (5,)))
    # Batch order is path order; splitting a batch keeps every block's numbers.
    first = Streams(7, [(0, BLOCK_SIZE)])
    assert np.array_equal(both.uniform("x")[:BLOCK_SIZE], first.uniform("x"))


def test_paths_last_lays_out_the_same_numbers():
    # Month-major layout transposes each block as drawn; a partial block first, so
    # the buffer reused between blocks must be sized for the largest block.
    streams = Streams(3, [(4, 904), (5, BLOCK_SIZE), (6, 17)])
    for draw in (streams.uniform, streams.normal):
        rows = draw("x", (6,))
        assert np.array_equal(draw("x", (6,), paths_last=True), rows.T)
        assert np.array_equal(
            draw("x", (2, 3), paths_last=True), np.moveaxis(rows.reshape(-1, 2, 3), 0, -1)
        )


def test_partial_block_is_a_prefix_of_the_full_block():
    # The last block of a run may be short: its paths equal the first paths of a full block,
    # so the first N paths of a run do not depend on the total path count.
    full = Streams(11, [(2, BLOCK_SIZE)]).uniform("x", (6,))
    short = Streams(11, [(2, 904)]).uniform("x", (6,))
    assert np.array_equal(full[:904], short)


def test_streams_differ_by_name_block_and_seed():
    s = Streams(5, [(0, 1000)])
    assert not np.array_equal(s.uniform("a"), s.uniform("b"))
    assert not np.array_equal(s.uniform("a"), Streams(5, [(1, 1000)]).uniform("a"))
    zero, one = Streams(0, [(0, 1000)]), Streams(1, [(0, 1000)])
    # Seed 0 is a seed like any other: valid uniforms, and different from seed 1.
    u0 = zero.uniform("a")
    assert np.all((u0 > 0) & (u0 < 1))
    assert not np.any(u0 == one.uniform("a"))


def test_uniforms_strictly_inside_unit_interval():
    u = Streams(123, plan_blocks(3 * BLOCK_SIZE)).uniform("x", (10,))
    assert u.min() > 0.0
    assert u.max() < 1.0
    # And they are uniform: a mean of 122,880 U(0,1) is 0.5 within 5 standard errors.
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / u.size)


class _ExtremeGenerator:
    """Stands in for numpy's generator, returning its smallest or largest double."""

    def __init__(self, value: float):
        self.value = value

    def random(self, *, out):
        out[...] = self.value
        return out


@pytest.mark.parametrize("raw", [0.0, 1.0 - 2.0**-53])
def test_uniforms_stay_inside_at_generator_extremes(raw):
    # Generator.random() lies in [0, 1 - 2**-53]; both ends must map strictly inside
    # (0, 1) so that every inverse CDF stays finite. (1 - 2**-53) + 2**-54 rounds to 1.0.
    class Extreme(Streams):
        def _generator(self, index, name):
            return _ExtremeGenerator(raw)

    streams = Extreme(0, [(0, 3)])
    u = np.concatenate([streams.uniform("x"), streams.uniform("y", (2,), paths_last=True).ravel()])
    assert u.size == 9
    assert np.all(u > 0.0)
    assert np.all(u < 1.0)
    assert np.all(np.isfinite(stats.norm.ppf(u)))


def test_seed_zero_runs_and_differs_from_seed_one():
    s = scenario_with()
    r0 = simulate(s, paths=500, seed=0, keep_paths=True)
    r1 = simulate(s, paths=500, seed=1, keep_paths=True)
    assert r0.seed == 0 and r0.entropy == 0
    assert np.all(np.isfinite(r0.totals["api"]))
    assert not np.array_equal(r0.totals["api"], r1.totals["api"])
    assert np.array_equal(
        r0.totals["api"], simulate(s, paths=500, seed=0, keep_paths=True).totals["api"]
    )


def test_unseeded_run_records_entropy_that_repeats_it():
    s = scenario_with()
    doc = copy.deepcopy(BASE)
    del doc["scenario"]["seed"]
    s = parse_scenario(doc)
    first = simulate(s, paths=300, keep_paths=True)
    assert first.seed is None
    again = simulate(s, paths=300, seed=first.entropy, keep_paths=True)
    assert np.array_equal(first.totals["api"], again.totals["api"])


# ---------------------------------------------------------------------------
# Input draws


def test_draws_follow_each_inverse_cdf():
    s = scenario_with()
    streams = Streams(9, plan_blocks(1000))
    draws = sample_inputs(s, streams)
    assert set(draws) == {GROWTH, PEAK, PRICE}
    # Without correlations each input is its own stream through its own ppf.
    u = streams.uniform(f"input:{PEAK}")
    assert np.array_equal(draws[PEAK], s.quantities[PEAK].ppf(u))


def test_draws_do_not_depend_on_other_inputs():
    # Making another input uncertain must not move the draws of this one.
    plain = sample_inputs(scenario_with(), Streams(9, plan_blocks(5000)))
    more = sample_inputs(
        scenario_with(volume_realization={"dist": "uniform", "low": 0.5, "high": 1.5}),
        Streams(9, plan_blocks(5000)),
    )
    assert "workload.volume_realization" in more
    for name in (GROWTH, PEAK, PRICE):
        assert np.array_equal(plain[name], more[name])


# ---------------------------------------------------------------------------
# Gaussian copula


def test_copula_factor_reproduces_the_pearson_matrix():
    # Pearson of the normals r = 2 sin(pi rho / 6) (the Spearman-to-Pearson map for a
    # Gaussian copula), and L @ L.T = R.
    corr = (Correlation(("a", "b"), 0.5), Correlation(("b", "c"), -0.3))
    names, factor = copula_matrix(corr)
    assert names == ("a", "b", "c")
    want = np.eye(3)
    want[0, 1] = want[1, 0] = 2 * math.sin(math.pi * 0.5 / 6)
    want[1, 2] = want[2, 1] = 2 * math.sin(math.pi * -0.3 / 6)
    np.testing.assert_allclose(factor @ factor.T, want, atol=1e-14)


def test_achieved_spearman_within_002_of_targets_at_100k_paths():
    # Product requirement: the achieved rank correlation is within 0.02 of each target.
    targets = {(GROWTH, PEAK): 0.5, (PEAK, PRICE): -0.3, (GROWTH, PRICE): 0.2}
    s = scenario_with(targets.items())
    draws = sample_inputs(s, Streams(2026, plan_blocks(100_000)))
    for (a, b), rank in targets.items():
        achieved = stats.spearmanr(draws[a], draws[b]).statistic
        assert abs(achieved - rank) < 0.02, (a, b, achieved, rank)


def test_copula_keeps_the_margins():
    s = scenario_with([((GROWTH, PEAK), 0.8)])
    draws = sample_inputs(s, Streams(5, plan_blocks(100_000)))
    # monthly_growth ~ U(0, 0.1): mean 0.05, sd 0.1/sqrt(12); within 5 standard errors.
    se = 0.1 / math.sqrt(12) / math.sqrt(100_000)
    assert abs(draws[GROWTH].mean() - 0.05) < 5 * se
    assert draws[GROWTH].min() >= 0.0 and draws[GROWTH].max() <= 0.1
    # Triangular(1.5, 2, 3): 10% quantile from the closed form 1.5 + sqrt(0.1 * 1.5 * 0.5).
    q10 = np.quantile(draws[PEAK], 0.1)
    assert abs(q10 - (1.5 + math.sqrt(0.1 * 1.5 * 0.5))) < 0.01


def test_uncorrelated_inputs_stay_independent():
    s = scenario_with([((GROWTH, PEAK), 0.5)])
    draws = sample_inputs(s, Streams(8, plan_blocks(100_000)))
    # PRICE is not in any correlation: its rank correlation with GROWTH is ~0
    # (standard error 1/sqrt(n) = 0.003).
    assert abs(stats.spearmanr(draws[GROWTH], draws[PRICE]).statistic) < 0.015


@pytest.mark.parametrize("rank", [1.0, -1.0])
def test_perfect_rank_correlation(rank):
    s = scenario_with([((GROWTH, PEAK), rank)])
    draws = sample_inputs(s, Streams(4, plan_blocks(20_000)))
    achieved = stats.spearmanr(draws[GROWTH], draws[PEAK]).statistic
    assert achieved == pytest.approx(rank, abs=1e-6)
    assert np.all(np.isfinite(draws[PEAK]))


def test_impossible_correlations_are_refused():
    err = correlation_error([((GROWTH, PEAK), 0.9), ((PEAK, PRICE), 0.9), ((GROWTH, PRICE), -0.9)])
    assert err.key == "correlations"
    assert "correlations" in str(err)
    assert "cannot hold together" in str(err)


def test_a_pair_naming_a_fixed_input_is_left_out_of_the_copula():
    fixed = "workload.requests_per_month"
    pinned = scenario_with([((GROWTH, fixed), 0.3), ((GROWTH, PEAK), 0.5)])
    assert pinned.pinned_correlated_inputs == (fixed,)
    assert [c.between for c in pinned.correlations] == [(GROWTH, PEAK)]
    # The same draws as the scenario without that pair.
    without = scenario_with([((GROWTH, PEAK), 0.5)])
    assert without.pinned_correlated_inputs == ()
    streams = plan_blocks(10_000)
    got = sample_inputs(pinned, Streams(3, streams))
    want = sample_inputs(without, Streams(3, streams))
    assert got.keys() == want.keys()
    for key in got:
        np.testing.assert_array_equal(got[key], want[key])


def test_correlating_an_unknown_input_suggests_the_nearest():
    err = correlation_error([((GROWTH, "workload.peak_to_averag"), 0.3)])
    assert err.key == "correlations[0].between"
    assert "did you mean 'workload.peak_to_average'?" in str(err)


def test_correlating_an_input_with_itself_is_an_error():
    err = correlation_error([((GROWTH, GROWTH), 0.3)])
    assert "cannot be correlated with itself" in str(err)


@pytest.mark.parametrize("second", [(GROWTH, PEAK), (PEAK, GROWTH)])
def test_a_pair_correlated_twice_is_an_error(second):
    err = correlation_error([((GROWTH, PEAK), 0.3), (second, 0.4)])
    assert err.key == "correlations[1].between"
    assert "already correlated in correlations[0]" in str(err)


@pytest.mark.parametrize("rank", [1.5, -1.01, "high", True])
def test_rank_must_lie_in_minus_one_to_one(rank):
    err = correlation_error([((GROWTH, PEAK), rank)])
    assert err.key == "correlations[0].rank"


def test_between_must_name_two_inputs():
    doc = copy.deepcopy(BASE)
    doc["correlations"] = [{"between": [GROWTH], "rank": 0.3}]
    with pytest.raises(ScenarioError, match="must name two inputs") as info:
        parse_scenario(doc)
    assert info.value.key == "correlations[0].between"
