"""Sensitivity of each option's savings to the sampled inputs (simulator/sensitivity.py).

The bounds come from the estimators' known behaviour, not from tuning: with B
equal-count bins, a first-order share computed from N paths understates a smooth effect
by about 1/B**2 of the variance (the effect's spread within a bin: exactly 1/B**2 for a
linear effect of a uniform input), and for an input with no effect its chance-corrected
share has a standard deviation of about sqrt(2 (B - 1)) / N (the spread of a
chi-squared with B - 1 degrees of freedom, over N). A rank correlation of independent
inputs has a standard deviation of 1 / sqrt(N - 1).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator import parse_scenario, run
from simulator.decide.sensitivity import (
    TORNADO_SHARE,
    VARIANCE_BINS,
    PathSample,
    _binned,
    _groups,
    _order,
    _rank_bins,
    _value_bins,
    sensitivity,
    variance_share,
)

from .conftest import SCENARIOS

PATHS = 20_000
NOISE = math.sqrt(2 * (VARIANCE_BINS - 1)) / PATHS  # sd of a null share: 0.05%

# Two options against a baseline API whose price is the only uncertain number that
# enters "rival"'s saving; "other"'s price is uncertain too but enters neither the
# baseline's cost nor the rival's.
DOCUMENT = {
    "scenario": {"name": "one input", "horizon_months": 12, "baseline": "base"},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 0,
    },
    "options": {
        "base": {
            "kind": "api",
            "input_price_per_mtok": {"dist": "uniform", "low": 2.0, "high": 3.0},
            "output_price_per_mtok": 0.0,
        },
        "rival": {"kind": "api", "input_price_per_mtok": 1.0, "output_price_per_mtok": 0.0},
        "other": {
            "kind": "api",
            "input_price_per_mtok": {"dist": "uniform", "low": 0.5, "high": 1.5},
            "output_price_per_mtok": 0.0,
        },
    },
}


@pytest.fixture(scope="module")
def effects():
    result = run(parse_scenario(DOCUMENT), paths=PATHS, seed=5, keep_paths=True)
    return sensitivity(result.paths.draws, result.paths.totals, "base")


def test_a_single_uncertain_input_gets_nearly_all_the_variance(effects):
    first = effects["rival"][0]
    assert first.input == "options.base.input_price_per_mtok"
    # Linear in a uniform input: binning leaves exactly 1/B**2 within the bins.
    assert first.variance_share == pytest.approx(1 - 1 / VARIANCE_BINS**2, abs=5 * NOISE / 100)
    assert first.variance_share > 1 - 2 / VARIANCE_BINS**2
    assert first.spearman == pytest.approx(1.0)
    # Tornado: the saving is 12 months * 1e6 requests * 1000 tokens * (price - $1) / 1e6
    # = $12,000 * (price - 1); the lowest decile of a uniform(2, 3) price has its
    # median at 2.05, the highest at 2.95.
    assert first.savings_p50_low == pytest.approx(12_000 * 1.05, rel=2e-3)
    assert first.savings_p50_high == pytest.approx(12_000 * 1.95, rel=2e-3)


def test_an_input_that_does_not_enter_the_cost_gets_about_none(effects):
    unused = next(e for e in effects["rival"] if e.input == "options.other.input_price_per_mtok")
    assert unused.variance_share <= 6 * NOISE  # 0.3%
    assert abs(unused.spearman) <= 6 / math.sqrt(PATHS - 1)
    assert effects["rival"][-1] is unused  # least important
    # For "other" itself both inputs matter, and its own price moves it the other way.
    own = next(e for e in effects["other"] if e.input == "options.other.input_price_per_mtok")
    assert own.spearman < -0.5 and own.savings_p50_high < own.savings_p50_low


def test_inputs_come_most_important_first():
    result = run(
        parse_scenario(
            {
                **DOCUMENT,
                "workload": {
                    **DOCUMENT["workload"],
                    "input_tokens_per_request": {"dist": "uniform", "low": 900, "high": 1100},
                },
            }
        ),
        paths=5000,
        seed=1,
        keep_paths=True,
    )
    ranked = sensitivity(result.paths.draws, result.paths.totals, "base")["rival"]
    shares = [e.variance_share for e in ranked]
    assert shares == sorted(shares, reverse=True)
    assert [e.input for e in ranked][:2] == [
        "options.base.input_price_per_mtok",  # 1/3 of the price range either way
        "workload.input_tokens_per_request",  # 1/10 of the tokens either way
    ]


def test_variance_share_of_known_functions():
    rng = np.random.default_rng(3)
    x = rng.random(PATHS)
    noise = rng.standard_normal(PATHS)
    # Var(x) = 1/12 of the total when y = x + e with Var(e) = 1/12 * 3: a quarter.
    assert variance_share(x, x + noise * math.sqrt(3 / 12)) == pytest.approx(0.25, abs=0.01)
    assert variance_share(x, noise) <= 6 * NOISE
    # A non-monotone effect: Spearman misses it, the variance share does not.
    y = (x - 0.5) ** 2
    assert variance_share(x, y) > 0.99
    assert variance_share(x, np.ones(PATHS)) == 0.0
    # A choice input: grouped by value, not split across bins.
    choice = rng.choice([1.0, 2.0], PATHS)
    assert variance_share(choice, choice) == pytest.approx(1.0)
    assert variance_share(choice, choice + noise) == pytest.approx(0.25 / 1.25, abs=0.01)


def test_results_are_plain_numbers(effects):
    for items in effects.values():
        for effect in items:
            out = effect.to_dict()
            assert set(out) == {
                "input",
                "spearman",
                "variance_share",
                "savings_p50_low",
                "savings_p50_high",
            }
            assert all(isinstance(out[k], float) for k in out if k != "input")
            assert 0 <= out["variance_share"] <= 1
    assert TORNADO_SHARE == 0.1


def test_constant_savings_have_no_correlation():
    flat = copy.deepcopy(DOCUMENT)
    flat["options"]["base"]["input_price_per_mtok"] = 2.0
    result = run(parse_scenario(flat), paths=500, seed=1, keep_paths=True)
    (effect,) = sensitivity(result.paths.draws, result.paths.totals, "base")["rival"]
    assert effect.spearman is None and effect.variance_share == 0.0


def test_path_sample_keeps_the_first_paths_in_order():
    from simulator import load_scenario

    scenario = load_scenario(SCENARIOS / "logistics.toml")
    kept = run(scenario, paths=9000, seed=2, keep_paths=True)
    sample = PathSample(5000)
    run(
        scenario,
        paths=9000,
        seed=2,
        chunk_size=1000,
        workers=2,
        path_sink=sample,
        path_fields=PathSample.fields,
    )
    assert sample.size == 5000
    for key, values in kept.paths.draws.items():
        np.testing.assert_array_equal(sample.inputs[key], values[:5000])
    for key, values in kept.paths.totals.items():
        np.testing.assert_array_equal(sample.totals[key], values[:5000])


def test_stress_run_adds_sensitivity_in_contract_form():
    result = run(parse_scenario(DOCUMENT), paths=3000, seed=5, stress=True, workers=1)
    summary = result.to_dict()["sensitivity"]
    assert set(summary) == {"rival", "other"}
    assert summary["rival"][0]["input"] == "options.base.input_price_per_mtok"
    assert result.extra["stress_method"]["sensitivity_paths"] == 3000


# Values as inputs come, and as they could: continuous, a few choices, ties across
# bin edges, signed zeros, NaN, integers; lengths around the number of bins.
_POOL = [-1.5, -0.0, 0.0, 0.25, 1.0, 2.0, 7.0, np.nan, np.inf]
_VALUES = st.one_of(
    arrays(float, st.integers(1, 400), elements=st.floats(-1e6, 1e6)),
    arrays(float, st.integers(1, 400), elements=st.sampled_from(_POOL)),
    arrays(float, st.integers(1, 400), elements=st.sampled_from([1.0, 2.0, 3.0])),
    arrays(np.int64, st.integers(1, 400), elements=st.integers(-30, 30)),
    st.integers(1, 3000).map(lambda n: np.random.default_rng(n).normal(size=n)),
    st.integers(1, 3000).map(lambda n: np.random.default_rng(n).integers(0, 60, n)),
    st.integers(1, 3000).map(lambda n: np.random.default_rng(n).choice([0.5, 1.0, 9.0], n)),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(values=_VALUES, bins=st.sampled_from([1, 2, 3, 7, 20, 50, 255, 300]))
def test_binning_without_a_sort_is_the_sorted_binning(values, bins):
    sorted_groups = _groups(values, bins, _order(values))
    groups, counts = _binned(values, bins)
    np.testing.assert_array_equal(groups, sorted_groups)
    assert groups.dtype == sorted_groups.dtype
    np.testing.assert_array_equal(counts, np.bincount(sorted_groups))
    np.testing.assert_array_equal(_groups(values, bins), sorted_groups)


def test_binning_skips_the_sort_for_continuous_and_choice_inputs():
    rng = np.random.default_rng(4)
    continuous = rng.lognormal(size=10_007)
    assert _rank_bins(continuous, 20) is not None
    choice = rng.choice([3.0, 1.0, 2.0], 10_007)
    groups, counts = _value_bins(choice, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(groups, choice.astype(int) - 1)
    assert counts.sum() == len(choice)
    # A value the sample missed, a tie across a bin edge, NaN: left to the sort.
    assert _value_bins(choice, np.array([1.0, 2.0])) is None
    assert _rank_bins(np.repeat(continuous[:333], 3), 20) is None  # first edge at 50
    continuous[7] = np.nan
    assert _rank_bins(continuous, 20) is None


def test_sensitivity_of_tied_and_untied_inputs_matches_its_definition():
    rng = np.random.default_rng(8)
    n = 3000
    inputs = {
        "smooth": rng.normal(size=n),
        "choice": rng.choice([1.0, 2.0, 3.0], n),
        "coarse": np.round(rng.normal(size=n), 1),
    }
    noise = rng.normal(size=n)
    totals = {
        "base": 10 + inputs["smooth"] + inputs["choice"] + noise,
        "alt": 10 + 0.5 * inputs["coarse"] + 0.1 * noise,
    }
    effects = {e.input: e for e in sensitivity(inputs, totals, "base")["alt"]}
    savings = totals["base"] - totals["alt"]
    for key, values in inputs.items():
        effect = effects[key]
        ranks = _order(values)[1]
        expected = np.corrcoef(ranks, _order(savings)[1])[0, 1]
        assert effect.spearman == pytest.approx(expected, rel=1e-12)
        assert effect.variance_share == variance_share(values, savings)
        low, high = np.quantile(values, [TORNADO_SHARE, 1 - TORNADO_SHARE])
        assert effect.savings_p50_low == np.median(savings[values <= low])
        assert effect.savings_p50_high == np.median(savings[values >= high])
