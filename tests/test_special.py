"""The NumPy-only kernels against SciPy, which the sampling hot path avoids importing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from simulator.costs.team import _binomial_few
from simulator.scenario.special import (
    _beta_quantile,
    beta_inverse,
    binomial_counts,
    ndtri,
    normal_cdf,
    poisson_counts,
)

RNG = np.random.default_rng(20261122)
EDGES = np.array(
    [2.0**-54, 1e-300 + 2.0**-54, 1e-12, 0.02425, 0.5, 0.97575, 1 - 1e-12, 1 - 2.0**-53]
)


def test_ndtri_matches_scipy_to_a_few_ulps():
    # AS 241 is accurate to about 1e-16 relative; scipy's ndtri (Cephes) likewise.
    u = np.concatenate([RNG.random(200_000), EDGES])
    got, want = ndtri(u), special.ndtri(u)
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=4e-15)


@pytest.mark.parametrize(
    ("alpha", "beta"), [(1, 5), (5, 1), (3, 3), (1.8, 4.2), (1, 1), (4.9, 1.1)]
)
def test_tabulated_beta_inverse_is_accurate_to_1e_11(alpha, beta):
    # Every PERT (alpha + beta = 6, both >= 1) is sampled through this table.
    u = np.concatenate([RNG.random(100_000), EDGES])
    got = beta_inverse(alpha, beta)(u)
    np.testing.assert_allclose(got, special.betaincinv(alpha, beta, u), rtol=0, atol=1e-11)
    assert np.all(np.diff(got[np.argsort(u)]) >= 0)


@pytest.mark.parametrize(("alpha", "beta"), [(1, 5), (5, 1), (3, 3), (1.0001, 4.9999), (2.5, 2)])
def test_the_beta_quantile_matches_scipy_into_the_far_tail(alpha, beta):
    # The table's nodes: u from 2**-55 to 1/2, where SciPy's betaincinv is the reference.
    u = 1.0 / (1.0 + np.exp(-np.arange(np.log(2.0**-55), 0.0, 0.01)))
    got, want = _beta_quantile(u, alpha, beta), special.betaincinv(alpha, beta, u)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_the_normal_cdf_matches_scipy_in_both_tails():
    z = np.concatenate([RNG.standard_normal(200_000) * 2, np.linspace(-8.4, 8.4, 10_001)])
    z = np.clip(z, -8.4, 8.4)
    got = normal_cdf(z)
    np.testing.assert_allclose(got, special.ndtr(z), rtol=2e-15, atol=2e-16)
    # Below zero the relative error is what counts (above, that of 1 - Phi is lost to
    # rounding anyway: uniforms stop at 1 - 2**-53). Phi is exp(log Phi), and log Phi
    # reaches -38 at z = -8.4, whose rounding alone is 7e-15 relative.
    low = z < 0
    np.testing.assert_allclose(got[low], special.ndtr(z[low]), rtol=5e-14, atol=0)
    assert np.all(np.diff(normal_cdf(np.sort(z))) >= 0)
    # Beyond the table, the tail is below the smallest uniform a run keeps (2**-54).
    assert normal_cdf(np.array([-9.0, -40.0])).max() < 2.0**-54


def test_a_run_never_imports_scipy():
    import subprocess
    import sys

    code = (
        "import sys; from simulator import load_scenario, run; "
        "run(load_scenario('scenarios/logistics.toml'), paths=500, seed=1); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'pandas', "
        "'matplotlib', 'jinja2')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_poisson_counts_equal_scipy():
    u = RNG.random((36, 5000))
    rate = RNG.random(5000) * 3
    np.testing.assert_array_equal(poisson_counts(u, rate), stats.poisson.ppf(u, rate))
    assert np.all(poisson_counts(u, 0.0) == 0)


def test_binomial_counts_equal_scipy():
    u = RNG.random(50_000)
    n = RNG.integers(0, 7, 50_000).astype(float)
    p = RNG.random(50_000) * 0.4
    np.testing.assert_array_equal(binomial_counts(u, n, p), stats.binom.ppf(u, n, p))
    np.testing.assert_array_equal(binomial_counts(u, n, 1.0), n)
    np.testing.assert_array_equal(binomial_counts(u, n, 0.0), 0)


@pytest.mark.parametrize("seats", [1, 2, 5])
def test_two_term_departures_equal_the_general_binomial(seats):
    n = 100_000
    u = RNG.random(n)
    leave = RNG.random(n) * RNG.choice([0.02, 0.3, 1.0], n)
    leave[:50] = 1.0
    filled = RNG.integers(0, seats + 1, n).astype(float)
    stay = np.stack([np.power(1 - leave, j) for j in range(seats + 1)])
    ratio = np.divide(leave, 1 - leave, out=np.zeros(n), where=leave < 1)
    np.testing.assert_array_equal(
        _binomial_few(u, filled, leave, stay, ratio), binomial_counts(u, filled, leave)
    )
