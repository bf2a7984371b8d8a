"""Known-answer and contract tests for the distribution families (scenario format, section 1).

Known answers come from closed forms worked by hand (cited in each test) and, where
noted, from an independent implementation (Python's ``statistics.NormalDist``).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from simulator.scenario.distributions import (
    FAMILIES,
    Choice,
    Empirical,
    Fixed,
    Lognormal,
    Normal,
    Pert,
    Triangular,
    Uniform,
    parse_distribution,
)
from simulator.scenario.errors import ScenarioError

STD = NormalDist()
# Uniforms from the extreme ends the samplers can produce (see sampling._HALF_ULP) and
# a spread of interior points.
EXTREMES = np.array([2.0**-54, 1e-12, 1e-6, 0.001, 0.05, 0.5, 0.95, 0.999, 1 - 1e-12, 1 - 2.0**-53])


# ---------------------------------------------------------------------------
# fixed


def test_fixed_bare_number_and_table_are_the_same_constant():
    # A bare number is a fixed quantity (format, section 1: "the same as a bare number").
    assert parse_distribution(3, "k") == Fixed(3.0)
    assert parse_distribution({"dist": "fixed", "value": 3}, "k") == Fixed(3.0)
    assert parse_distribution(2.5, "k").ppf(np.array([0.1, 0.9])).tolist() == [2.5, 2.5]


def test_fixed_support_mass_and_flag():
    d = Fixed(4.0)
    assert d.support() == (4.0, 4.0)
    assert d.is_fixed
    assert d.mass_outside(0.0, 10.0) == 0.0
    assert d.mass_outside(5.0, 10.0) == 1.0
    assert d.mass_outside(0.0, 4.0) == 0.0  # the bound itself is inside


# ---------------------------------------------------------------------------
# uniform


def test_uniform_ppf_is_linear():
    # Inverse CDF of U(a, b): a + u (b - a); with a=2, b=10: 2 + 8u.
    d = Uniform(2.0, 10.0)
    u = np.array([0.0, 0.125, 0.5, 0.75, 1.0])
    assert d.ppf(u).tolist() == [2.0, 3.0, 6.0, 8.0, 10.0]


def test_uniform_support_and_mass_outside():
    d = Uniform(-1.0, 5.0)
    assert d.support() == (-1.0, 5.0)
    # Hand calculation: 1 of the width 6 lies below 0.
    assert d.mass_outside(0.0, math.inf) == pytest.approx(1 / 6, rel=1e-12)
    # Below 0 (1/6) plus above 4 (1/6).
    assert d.mass_outside(0.0, 4.0) == pytest.approx(2 / 6, rel=1e-12)
    assert d.mass_outside(-1.0, 5.0) == 0.0
    assert d.mass_outside(10.0, 20.0) == 1.0


def test_mass_outside_is_exactly_zero_for_support_on_the_bounds():
    # 0.1 + (0.3 - 0.1) != 0.3 in floating point, and scipy's beta gives sf(0.3) = 1e-47
    # for PERT(0.1, 0.2, 0.3): a support that ends on the bound must still count as
    # inside it, or valid scenarios would be refused.
    assert Pert(0.1, 0.2, 0.3).mass_outside(0.0, 0.3) == 0.0
    assert Triangular(0.1, 0.2, 0.3).mass_outside(0.1, 0.3) == 0.0
    assert Uniform(0.1, 0.3).mass_outside(0.1, 0.3) == 0.0
    # ...while a support that crosses a bound by a hair is never reported as 0.
    assert Pert(-1e-300, 0.5, 1.0).mass_outside(0.0, 1.0) > 0.0


# ---------------------------------------------------------------------------
# triangular


def _triangular_ppf(u: float, a: float, c: float, b: float) -> float:
    """Closed-form inverse CDF of the triangular distribution (hand derivation).

    F(c) = (c - a) / (b - a); below it x = a + sqrt(u (b - a)(c - a)), above it
    x = b - sqrt((1 - u)(b - a)(b - c)).
    """
    fc = (c - a) / (b - a)
    if u < fc:
        return a + math.sqrt(u * (b - a) * (c - a))
    return b - math.sqrt((1 - u) * (b - a) * (b - c))


@pytest.mark.parametrize(("a", "c", "b"), [(0, 2, 10), (1000, 1150, 1300), (5, 5, 9), (5, 9, 9)])
def test_triangular_ppf_matches_closed_form(a, c, b):
    d = Triangular(a, c, b)
    got = d.ppf(EXTREMES)
    want = [_triangular_ppf(u, a, c, b) for u in EXTREMES]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * (b - a))


def test_triangular_known_points():
    # Triangular(0, 2, 10): F(2) = 0.2, so ppf(0.2) = 2 (the mode);
    # ppf(0.1) = sqrt(0.1 * 10 * 2) = sqrt(2); ppf(0.6) = 10 - sqrt(0.4 * 10 * 8) = 10 - sqrt(32).
    d = Triangular(0.0, 2.0, 10.0)
    got = d.ppf(np.array([0.1, 0.2, 0.6]))
    np.testing.assert_allclose(got, [math.sqrt(2), 2.0, 10 - math.sqrt(32)], rtol=1e-12)


def test_triangular_mass_outside():
    # Triangular(0, 5, 10): F(2.5) = 2.5^2 / (10 * 5) = 0.125, so 0.875 lies above 2.5.
    d = Triangular(0.0, 5.0, 10.0)
    assert d.support() == (0.0, 10.0)
    assert d.mass_outside(-math.inf, 2.5) == pytest.approx(0.875, rel=1e-12)
    # Symmetric: 0.125 below 2.5 and 0.125 above 7.5.
    assert d.mass_outside(2.5, 7.5) == pytest.approx(0.25, rel=1e-12)
    assert d.mass_outside(0.0, 10.0) == 0.0


def test_triangular_zero_width_is_fixed():
    d = Triangular(3.0, 3.0, 3.0)
    assert d.is_fixed
    assert d.ppf(np.array([0.01, 0.99])).tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------
# pert


@pytest.mark.parametrize(("a", "m", "b"), [(0, 2, 10), (0.3, 0.85, 1.15), (240e3, 300e3, 360e3)])
def test_pert_mean_is_the_pert_formula(a, m, b):
    # Beta-PERT mean = (low + 4 mode + high) / 6 (the PERT definition). Mean of the
    # inverse CDF over a fine midpoint grid of uniforms is E[X] (x = F^-1(U)).
    d = Pert(a, m, b)
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    assert d.ppf(u).mean() == pytest.approx((a + 4 * m + b) / 6, rel=1e-6)


def test_pert_variance_is_the_pert_formula():
    # With shape 4, Var = (mu - a)(b - mu) / 7 (beta with alpha + beta = 6: ab/((a+b)^2 (a+b+1))).
    a, m, b = 0.0, 2.0, 10.0
    mu = (a + 4 * m + b) / 6
    n = 200_000
    x = Pert(a, m, b).ppf((np.arange(n) + 0.5) / n)
    assert x.var() == pytest.approx((mu - a) * (b - mu) / 7, rel=1e-4)


def test_pert_with_mode_at_low_has_closed_form_ppf():
    # mode = low gives alpha = 1, beta = 5: Beta(1, 5) has CDF 1 - (1 - x)^5, so
    # ppf(u) = low + width * (1 - (1 - u)^(1/5)).
    d = Pert(0.0, 0.0, 10.0)
    u = np.array([0.05, 0.25, 0.5, 0.9, 0.999])
    # PERT is sampled from a tabulated inverse (simulator.scenario.special.beta_inverse),
    # accurate to about 1e-11 of the range.
    np.testing.assert_allclose(d.ppf(u), 10 * (1 - (1 - u) ** 0.2), rtol=1e-10)
    # mass above 5: (1 - 0.5)^5 = 1/32 (a numerical integral, used for messages only).
    assert d.mass_outside(-math.inf, 5.0) == pytest.approx(1 / 32, rel=1e-6)


def test_pert_symmetric_median_is_mode():
    # low, mode, high symmetric: alpha = beta = 3, median at the mode.
    assert Pert(0.0, 5.0, 10.0).ppf(np.array([0.5]))[0] == pytest.approx(5.0, rel=1e-12)


# ---------------------------------------------------------------------------
# normal


def test_normal_ppf_matches_independent_implementation():
    # statistics.NormalDist is an independent inverse CDF (Wichura's AS241).
    d = Normal(100.0, 15.0)
    u = EXTREMES[2:-2]
    want = [NormalDist(100, 15).inv_cdf(x) for x in u]
    np.testing.assert_allclose(d.ppf(u), want, rtol=1e-12)
    # mean + sd at Phi(1); mean at 0.5.
    got = d.ppf(np.array([0.5, STD.cdf(1.0)]))
    np.testing.assert_allclose(got, [100.0, 115.0], rtol=1e-12)
    assert d.support() == (-math.inf, math.inf)


def test_normal_mass_outside():
    # 2 * Phi(-1.959963984540054) = 0.05 (the 95% interval).
    z = STD.inv_cdf(0.975)
    assert Normal(0.0, 1.0).mass_outside(-z, z) == pytest.approx(0.05, rel=1e-9)
    # Truncated to [0, inf): nothing is below 0; above 1 is (1 - Phi(1)) / (1/2).
    half = Normal(0.0, 1.0, low=0.0)
    assert half.mass_outside(0.0, math.inf) == 0.0
    assert half.mass_outside(0.0, 1.0) == pytest.approx(2 * (1 - STD.cdf(1.0)), rel=1e-9)


@pytest.mark.parametrize(
    ("mean", "sd", "low", "high"),
    [
        (0.0, 1.0, -1.0, 1.0),
        (5.0, 2.0, 0.0, math.inf),
        (0.5, 0.1, -math.inf, 0.6),
        (0.0, 1.0, 3.0, 8.0),
        (0.0, 1.0, -30.0, -5.0),
    ],
)
def test_truncated_normal_stays_in_bounds_and_matches_scipy(mean, sd, low, high):
    d = Normal(mean, sd, low, high)
    x = d.ppf(EXTREMES)
    assert np.all(x >= low)
    assert np.all(x <= high)
    assert np.all(np.diff(x) >= 0)
    a, b = (low - mean) / sd, (high - mean) / sd
    # Against scipy away from the last 1e-10 of either tail, where scipy's truncnorm
    # itself drifts (at u = 1 - 2**-53 it is off by 2.6e-3 sd; ours matches sf exactly).
    body = (EXTREMES > 1e-10) & (EXTREMES < 1 - 1e-10)
    want = stats.truncnorm.ppf(EXTREMES[body], a, b, loc=mean, scale=sd)
    np.testing.assert_allclose(x[body], want, rtol=1e-9, atol=1e-12 * sd)
    assert d.support() == (low, high)


def test_truncated_normal_closed_form_in_the_body():
    # Hand closed form: ppf(u) = mean + sd * Phi^-1(Phi(a) + u (Phi(b) - Phi(a))),
    # computed with statistics.NormalDist (independent of scipy).
    d = Normal(10.0, 2.0, low=8.0, high=15.0)
    pa, pb = STD.cdf(-1.0), STD.cdf(2.5)
    for u in (0.01, 0.3, 0.5, 0.8, 0.99):
        assert d.ppf(np.array([u]))[0] == pytest.approx(
            10 + 2 * STD.inv_cdf(pa + u * (pb - pa)), rel=1e-10
        )


def test_normal_sd_zero_is_fixed():
    d = Normal(7.0, 0.0)
    assert d.is_fixed
    assert d.ppf(np.array([0.001, 0.999])).tolist() == [7.0, 7.0]
    assert d.mass_outside(0.0, 10.0) == 0.0
    assert d.mass_outside(8.0, 10.0) == 1.0


def test_normal_truncated_method_intersects_bounds():
    d = Normal(1.0, 1.0, low=-2.0, high=5.0).truncated(0.0, math.inf)
    assert (d.low, d.high) == (0.0, 5.0)


# ---------------------------------------------------------------------------
# lognormal


@pytest.mark.parametrize(("p5", "p95"), [(0.15, 0.45), (2.0, 8.0), (1e3, 1e6)])
def test_lognormal_recovers_its_percentiles(p5, p95):
    d = Lognormal(p5, p95)
    got = d.ppf(np.array([0.05, 0.5, 0.95]))
    # By construction p5, p95 at u = 0.05, 0.95; the median is their geometric mean.
    np.testing.assert_allclose(got, [p5, math.sqrt(p5 * p95), p95], rtol=1e-12)
    # mass outside the 90% interval is 10%.
    assert d.mass_outside(p5, p95) == pytest.approx(0.10, rel=1e-9)
    assert d.mass_outside(0.0, math.inf) == 0.0
    assert d.support() == (0.0, math.inf)


def test_lognormal_parameters_by_hand():
    # p5 = 1, p95 = e^(2 z95): mu = z95, sigma = 1 (log(p95) - log(p5) = 2 z95 sigma).
    z95 = STD.inv_cdf(0.95)
    d = Lognormal(1.0, math.exp(2 * z95))
    assert d.mu == pytest.approx(z95, rel=1e-12)
    assert d.sigma == pytest.approx(1.0, rel=1e-12)
    # ppf(Phi(1)) = exp(mu + sigma * 1)
    assert d.ppf(np.array([STD.cdf(1.0)]))[0] == pytest.approx(math.exp(z95 + 1), rel=1e-10)


def test_lognormal_with_equal_percentiles_is_exactly_that_value():
    # exp(log(3.0)) != 3.0 in floating point; a degenerate lognormal must still give 3.0.
    d = Lognormal(3.0, 3.0)
    assert d.is_fixed
    assert d.ppf(np.array([0.01, 0.5, 0.99])).tolist() == [3.0, 3.0, 3.0]


# ---------------------------------------------------------------------------
# choice and empirical


def test_choice_unweighted_splits_unit_interval_equally():
    d = Choice((10.0, 20.0, 30.0))
    # Each value takes a third of (0, 1).
    assert d.ppf(np.array([0.01, 0.32, 0.34, 0.65, 0.67, 0.99])).tolist() == [
        10.0,
        10.0,
        20.0,
        20.0,
        30.0,
        30.0,
    ]
    assert d.support() == (10.0, 30.0)
    assert d.mass_outside(15.0, 35.0) == pytest.approx(1 / 3, rel=1e-12)


def test_choice_weighted():
    # Weights 2:1:1 -> cumulative 0.5, 0.75, 1.
    d = Choice((10.0, 20.0, 30.0), (2.0, 1.0, 1.0))
    assert d.ppf(np.array([0.49, 0.51, 0.74, 0.76, 0.999])).tolist() == [
        10.0,
        20.0,
        20.0,
        30.0,
        30.0,
    ]
    assert d.mass_outside(-math.inf, 25.0) == pytest.approx(0.25, rel=1e-12)
    # Share of each value over a fine grid equals its weight.
    n = 100_000
    x = d.ppf((np.arange(n) + 0.5) / n)
    assert [np.mean(x == v) for v in (10.0, 20.0, 30.0)] == [0.5, 0.25, 0.25]


def test_choice_zero_weight_value_never_drawn_and_not_in_support():
    d = Choice((1.0, 2.0, 3.0), (1.0, 0.0, 1.0))
    x = d.ppf((np.arange(10_000) + 0.5) / 10_000)
    assert 2.0 not in x
    d = Choice((1.0, 2.0, 3.0), (1.0, 1.0, 0.0))
    assert d.support() == (1.0, 2.0)
    assert 3.0 not in d.ppf(EXTREMES)


def test_choice_of_unsorted_values_is_an_inverse_cdf():
    # An inverse CDF is non-decreasing in u whatever order the values are listed in;
    # otherwise a rank correlation with this input would come out wrong.
    d = Choice((30.0, 10.0, 20.0), (1.0, 2.0, 1.0))
    assert d.ppf(np.array([0.1, 0.4, 0.6, 0.9])).tolist() == [10.0, 10.0, 20.0, 30.0]


def test_empirical_resamples_each_observation_equally():
    d = parse_distribution({"dist": "empirical", "values": [5, 1, 3, 3]}, "k")
    assert isinstance(d, Empirical)
    n = 100_000
    x = d.ppf((np.arange(n) + 0.5) / n)
    # Each observation has weight 1/4: 3 appears twice.
    assert [np.mean(x == v) for v in (1.0, 3.0, 5.0)] == [0.25, 0.5, 0.25]
    assert np.all(np.diff(x) >= 0)
    assert d.support() == (1.0, 5.0)


# ---------------------------------------------------------------------------
# parsing


def test_parse_builds_each_family():
    cases = {
        "uniform": ({"low": 1, "high": 2}, Uniform(1.0, 2.0)),
        "triangular": ({"low": 1, "mode": 2, "high": 3}, Triangular(1.0, 2.0, 3.0)),
        "pert": ({"low": 1, "mode": 2, "high": 3}, Pert(1.0, 2.0, 3.0)),
        "normal": ({"mean": 1, "sd": 2}, Normal(1.0, 2.0)),
        "lognormal": ({"p5": 1, "p95": 2}, Lognormal(1.0, 2.0)),
        "choice": ({"values": [1, 2], "weights": [1, 3]}, Choice((1.0, 2.0), (1.0, 3.0))),
    }
    for name, (params, want) in cases.items():
        assert parse_distribution({"dist": name, **params}, "k") == want
    truncated = parse_distribution({"dist": "normal", "mean": 1, "sd": 2, "low": 0}, "k")
    assert (truncated.low, truncated.high) == (0.0, math.inf)


def _error(value) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_distribution(value, "workload.x")
    assert info.value.key == "workload.x"
    assert "workload.x" in str(info.value)
    return str(info.value)


def test_unknown_family_suggests_the_nearest():
    assert "did you mean 'lognormal'?" in _error({"dist": "lognorm", "p5": 1, "p95": 2})
    assert "did you mean 'triangular'?" in _error({"dist": "triangle", "low": 1, "high": 2})


def test_unknown_family_without_close_match_lists_the_families():
    # 'gamma' is not a family of the format, so 'gama' has no close match among them.
    message = _error({"dist": "gama", "shape": 2})
    assert "'gama' is not a distribution" in message
    assert "did you mean" not in message
    assert "fixed, uniform, triangular, pert, normal, lognormal, choice, empirical" in message


def test_dist_must_be_a_name():
    assert "is not a distribution" in _error({"dist": ["uniform"], "low": 1, "high": 2})
    assert "is not a distribution" in _error({"dist": 3})


def test_table_without_dist():
    assert "needs 'dist'" in _error({"low": 1, "high": 2})


@pytest.mark.parametrize(
    ("value", "missing"),
    [
        ({"dist": "uniform", "low": 1}, "high"),
        ({"dist": "triangular", "low": 1, "high": 3}, "mode"),
        ({"dist": "normal", "mean": 1}, "sd"),
        ({"dist": "lognormal", "p95": 3}, "p5"),
        ({"dist": "choice"}, "values"),
        ({"dist": "fixed"}, "value"),
    ],
)
def test_missing_key(value, missing):
    assert f"missing '{missing}'" in _error(value)


def test_unknown_key_suggests_the_nearest():
    assert "'hgh' is not a key of the uniform distribution; did you mean 'high'?" in _error(
        {"dist": "uniform", "low": 1, "hgh": 2}
    )
    # Weights belong to choice, not to empirical.
    assert "'weights' is not a key of the empirical" in _error(
        {"dist": "empirical", "values": [1, 2], "weights": [1, 1]}
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"dist": "uniform", "low": 2, "high": 1}, "uniform needs low <= high"),
        ({"dist": "triangular", "low": 1, "mode": 5, "high": 3}, "low <= mode <= high"),
        ({"dist": "pert", "low": 1, "mode": 0, "high": 3}, "low <= mode <= high"),
        ({"dist": "normal", "mean": 1, "sd": -1}, "sd >= 0"),
        ({"dist": "normal", "mean": 1, "sd": 1, "low": 2, "high": 1}, "low < high"),
        ({"dist": "normal", "mean": 5, "sd": 0, "low": 0, "high": 1}, "low <= mean <= high"),
        ({"dist": "lognormal", "p5": 0, "p95": 2}, "0 < p5 <= p95"),
        ({"dist": "lognormal", "p5": -1, "p95": 2}, "0 < p5 <= p95"),
        ({"dist": "lognormal", "p5": 3, "p95": 2}, "0 < p5 <= p95"),
        ({"dist": "choice", "values": [1, 2], "weights": [1]}, "one weight per value"),
        ({"dist": "choice", "values": [1, 2], "weights": [1, -1]}, "weights must be >= 0"),
        ({"dist": "choice", "values": [1, 2], "weights": [0, 0]}, "positive sum"),
        ({"dist": "choice", "values": []}, "non-empty list"),
        ({"dist": "choice", "values": [1, "a"]}, "finite numbers only"),
        ({"dist": "empirical", "values": 3}, "non-empty list"),
        ({"dist": "uniform", "low": "1", "high": 2}, "'low' must be a number"),
        ({"dist": "uniform", "low": True, "high": 2}, "'low' must be a number"),
        ({"dist": "uniform", "low": 0, "high": math.inf}, "'high' must be finite"),
    ],
)
def test_inconsistent_parameters(value, text):
    assert text in _error(value)


@pytest.mark.parametrize("value", [True, "3", [1, 2], math.nan, math.inf])
def test_not_a_quantity(value):
    message = _error(value)
    assert "must be" in message


# ---------------------------------------------------------------------------
# contract: every family


CONTRACT = {
    "fixed": {"value": 3.5},
    "uniform": {"low": -2, "high": 7},
    "triangular": {"low": 1000, "mode": 1150, "high": 1300},
    "pert": {"low": 0.3, "mode": 0.85, "high": 1.15},
    "normal": {"mean": 0.05, "sd": 0.02},
    "lognormal": {"p5": 0.15, "p95": 0.45},
    "choice": {"values": [8, 1, 4], "weights": [1, 2, 0.5]},
    "empirical": {"values": [120, 80, 100, 95]},
}


def test_contract_covers_every_family():
    assert set(CONTRACT) == set(FAMILIES)


@pytest.mark.parametrize(
    "table",
    [
        *({"dist": k, **v} for k, v in CONTRACT.items()),
        {"dist": "normal", "mean": 5, "sd": 2, "low": 0, "high": 9},
    ],
    ids=[*CONTRACT, "normal-truncated"],
)
def test_ppf_contract(table):
    d = parse_distribution(table, "k")
    rng = np.random.default_rng(0)
    # Vectorized: the output has the input's shape (1-D, 2-D and empty).
    grid = rng.random((50, 7))
    assert d.ppf(grid).shape == (50, 7)
    assert d.ppf(np.empty(0)).shape == (0,)
    # Non-decreasing in u, finite, and within the support, including the extremes.
    u = np.sort(np.concatenate([EXTREMES, rng.random(5000)]))
    x = d.ppf(u)
    assert x.dtype == np.float64
    assert np.all(np.isfinite(x))
    assert np.all(np.diff(x) >= 0)
    lo, hi = d.support()
    assert np.all(x >= lo)
    assert np.all(x <= hi)
    # Every draw lies inside the support, so nothing lies outside it.
    assert d.mass_outside(lo, hi) == 0.0
    assert isinstance(d.describe(), str) and d.describe()
