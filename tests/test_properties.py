"""Properties of whole runs, over generated scenarios (hypothesis).

Each example is a small scenario (an api baseline, a self-hosted option falling back to
it, sometimes a hosted-open api) with parameters drawn from sensible ranges, run at a
few thousand paths so the file stays quick.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import parse_scenario, run
from simulator.decide.policy import simulate
from simulator.decide.summary import summarize

PATHS = 1500
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure is reproducible
    database=None,
)


def _spread(centre: float, kind: str):
    """``centre`` as a fixed number or a distribution table around it."""
    if kind == "fixed":
        return centre
    if kind == "uniform":
        return {"dist": "uniform", "low": centre * 0.8, "high": centre * 1.2}
    if kind == "triangular":
        return {"dist": "triangular", "low": centre * 0.7, "mode": centre, "high": centre * 1.4}
    return {"dist": "lognormal", "p5": centre * 0.7, "p95": centre * 1.5}


KINDS = st.sampled_from(["fixed", "uniform", "triangular", "lognormal"])


@st.composite
def documents(draw) -> dict:
    """A scenario document: api baseline, self-hosted with fallback, maybe hosted-open."""

    def spread(centre):
        return _spread(centre, draw(KINDS))

    in_tokens, out_tokens = draw(st.floats(100, 3000)), draw(st.floats(20, 800))
    in_price = draw(st.floats(0.1, 10.0))
    out_price = in_price * draw(st.floats(1.0, 5.0))
    gpus, gpu_price = draw(st.integers(1, 8)), draw(st.floats(1.0, 5.0))
    min_replicas, spare_replicas = draw(st.integers(0, 3)), draw(st.integers(0, 2))
    engineers, salary = draw(st.sampled_from([0, 0.5, 1, 2, 3])), draw(st.floats(150e3, 400e3))
    # Volume at which the API bill is 0.3 to 10 times self-hosting's fixed monthly cost,
    # so that examples fall on both sides of the decision, not only far from it.
    fixed = (
        engineers * salary / 12 + (max(min_replicas, 1) + spare_replicas) * gpus * gpu_price * 730
    )
    per_request = (in_tokens * in_price + out_tokens * out_price) / 1e6
    requests = 10 ** draw(st.floats(-0.5, 1.0)) * fixed / per_request
    growth = draw(st.floats(-0.02, 0.12))
    doc = {
        "scenario": {
            "name": "property",
            "horizon_months": draw(st.integers(3, 30)),
            "discount_rate": draw(st.sampled_from([0.0, 0.08, 0.2])),
            "paths": PATHS,
            "seed": draw(st.integers(0, 2**32)),
        },
        "workload": {
            "requests_per_month": spread(requests),
            "input_tokens_per_request": spread(in_tokens),
            "output_tokens_per_request": spread(out_tokens),
            "monthly_growth": {"dist": "uniform", "low": growth - 0.02, "high": growth + 0.02},
            "growth_volatility": draw(st.sampled_from([0.0, 0.05])),
            "peak_to_average": {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 3.0},
        },
        "business": {"downtime_cost_per_hour": draw(st.sampled_from([0, 500]))},
        "options": {
            "api": {
                "kind": "api",
                "input_price_per_mtok": spread(in_price),
                "output_price_per_mtok": spread(out_price),
                "annual_price_change": {"dist": "pert", "low": -0.4, "mode": -0.15, "high": 0.0},
                "uptime": draw(st.sampled_from([0.999, 1.0])),
            },
            "self_hosted": {
                "kind": "self_hosted",
                "gpus_per_replica": gpus,
                "replica_tokens_per_s": spread(draw(st.floats(300, 6000))),
                "input_token_weight": {"dist": "uniform", "low": 0.05, "high": 0.3},
                "max_utilization": {"dist": "uniform", "low": 0.5, "high": 0.9},
                "min_replicas": min_replicas,
                "spare_replicas": spare_replicas,
                "provisioning": draw(st.sampled_from(["peak", "autoscale"])),
                "gpu_hourly_usd": spread(gpu_price),
                "engineers": engineers,
                "engineer_annual_cost": spread(salary),
                "annual_attrition": {"dist": "uniform", "low": 0.0, "high": 0.3},
                "vacancy_months": {"dist": "uniform", "low": 0.5, "high": 4.0},
                "vacancy_uptime_drop": 0.01,
                "setup_months": {"dist": "triangular", "low": 0, "mode": 3, "high": 9},
                "setup_cost_usd": spread(draw(st.floats(1_000, 100_000))),
                "uptime": {"dist": "pert", "low": 0.95, "mode": 0.985, "high": 0.999},
                "fallback": "api",
                "escalation_rate": {"dist": "uniform", "low": 0.0, "high": 0.1},
            },
        },
    }
    if draw(st.booleans()):
        doc["options"]["self_hosted"]["upgrade_interval_months"] = {
            "dist": "uniform",
            "low": 3,
            "high": 9,
        }
        doc["options"]["self_hosted"]["upgrade_overlap_days"] = 5
        doc["options"]["self_hosted"]["upgrade_effort_engineer_months"] = 1
    if draw(st.booleans()):
        doc["options"]["hosted_open"] = {
            "kind": "api",
            "input_price_per_mtok": {"dist": "lognormal", "p5": 0.1, "p95": 0.5},
            "output_price_per_mtok": {"dist": "lognormal", "p5": 0.2, "p95": 0.9},
        }
        if draw(st.booleans()):
            doc["options"]["self_hosted"]["fallback"] = "hosted_open"
    if draw(st.booleans()):
        doc["correlations"] = [
            {
                "between": ["workload.monthly_growth", "workload.peak_to_average"],
                "rank": draw(st.floats(-0.8, 0.8)),
            }
        ]
    return doc


def _scaled(value, factor: float):
    """A price (number or distribution table) multiplied by ``factor``."""
    if not isinstance(value, dict):
        return value * factor
    scale = {"low", "mode", "high", "p5", "p95", "value", "mean", "sd"}
    return {k: (v * factor if k in scale else v) for k, v in value.items()}


# ---------------------------------------------------------------------------


@SETTINGS
@given(documents())
def test_totals_are_sums_of_monthly_costs(doc):
    s = parse_scenario(doc)
    r = simulate(s, keep_paths=True)
    months = s.horizon_months
    for name in s.options:
        monthly = r.monthly[name]
        assert monthly.shape == (PATHS, months)
        assert np.all(np.isfinite(monthly))
        assert np.all(monthly >= 0)  # every cost component is a cost, never a credit
        # Summed month by month in the engine, across a row here: equal to rounding.
        np.testing.assert_allclose(r.totals[name], monthly.sum(axis=1), rtol=1e-13)
        # Components add up to the total (summed in a different order: relative 1e-9).
        parts = np.sum(list(r.components[name].values()), axis=0)
        np.testing.assert_allclose(parts, r.totals[name], rtol=1e-9)
        # NPV weights (1 + d)^(-t/12) are <= 1 for d >= 0, and 1 in month 0.
        assert np.all(r.npv[name] <= r.totals[name] * (1 + 1e-12))
        if s.discount_rate == 0:
            np.testing.assert_allclose(r.npv[name], r.totals[name], rtol=1e-12)
    summary = summarize(r).to_dict()
    for name, option in summary["options"].items():
        assert option["total_cost"]["mean"] == pytest.approx(r.totals[name].mean(), rel=1e-12)


@SETTINGS
@given(documents())
def test_probabilities_are_probabilities(doc):
    s = parse_scenario(doc)
    result = run(s, keep_paths=True)
    summary = result.to_dict()
    shares = [o["p_cheapest"] for o in summary["options"].values()]
    assert all(0.0 <= p <= 1.0 for p in shares)
    # Ties are shared, so the shares sum to 1 (up to the rounding of a mean).
    assert sum(shares) == pytest.approx(1.0, abs=1e-12)
    regrets = [o["expected_regret"] for o in summary["options"].values()]
    assert min(regrets) >= 0.0
    assert set(summary["versus_baseline"]) == set(s.options) - {"api"}
    years = -(-s.horizon_months // 12)
    for name, versus in summary["versus_baseline"].items():
        p = versus["p_cheaper"]
        by_year = versus["p_cheaper_by_year"]
        within = versus["breakeven_month"]["p_within_horizon"]
        assert 0.0 <= p <= 1.0
        assert len(by_year) == years
        assert all(0.0 <= q <= 1.0 for q in by_year)
        assert 0.0 <= within <= 1.0
        # The last year ends at the horizon, so its share is P(cheaper).
        assert by_year[-1] == p
        # A path that breaks even within the horizon is ahead at the horizon.
        assert within <= p
        months = result.paths.breakeven[name]
        assert months.min() >= 0 and months.max() <= s.horizon_months
        # Being cheapest of all implies being cheaper than the baseline (strictly, or tied).
        assert summary["options"][name]["p_cheapest"] <= p + np.mean(
            result.paths.totals[name] == result.paths.totals["api"]
        )


@settings(SETTINGS, max_examples=10)
@given(documents())
def test_same_seed_same_summary(doc):
    s = parse_scenario(doc)
    first = run(s).to_dict()
    second = run(s).to_dict()
    assert first == second
    assert first["scenario"]["seed"] == doc["scenario"]["seed"]


@settings(SETTINGS, max_examples=8)
@given(documents())
def test_chunk_size_does_not_change_results(doc):
    # 9000 paths are three blocks (4096, 4096, 808): chunk_size=1 costs them one at a time.
    s = parse_scenario(doc)
    one = simulate(s, paths=9000, chunk_size=1, keep_paths=True)
    whole = simulate(s, paths=9000, keep_paths=True)
    assert summarize(one).to_dict() == summarize(whole).to_dict()
    for name in s.options:
        assert np.array_equal(one.monthly[name], whole.monthly[name])
        assert np.array_equal(one.totals[name], whole.totals[name])
        assert np.array_equal(one.npv[name], whole.npv[name])
    for name in one.breakeven:
        assert np.array_equal(one.breakeven[name], whole.breakeven[name])
        assert np.array_equal(one.cheaper_by_year[name], whole.cheaper_by_year[name])
    for key in s.inputs:
        assert np.array_equal(one.draws[key], whole.draws[key])


@settings(SETTINGS, max_examples=8)
@given(documents())
def test_first_paths_do_not_depend_on_path_count(doc):
    # Blocks are seeded by index, so a run of 5000 paths is the start of a run of 9000.
    s = parse_scenario(doc)
    short = simulate(s, paths=5000, keep_paths=True)
    long = simulate(s, paths=9000, keep_paths=True)
    for name in s.options:
        assert np.array_equal(short.monthly[name], long.monthly[name][:5000])


@SETTINGS
@given(documents(), st.floats(1.01, 3.0))
def test_dearer_api_never_lowers_p_self_hosted_cheaper(doc, factor):
    # Same seed: common random numbers. Raising the baseline's prices raises its cost on
    # every path by more than it raises self-hosted's fallback (which carries at most the
    # whole volume), so savings grow path by path and P(cheaper) cannot fall.
    dearer = copy.deepcopy(doc)
    for key in ("input_price_per_mtok", "output_price_per_mtok"):
        dearer["options"]["api"][key] = _scaled(doc["options"]["api"][key], factor)
    base = run(parse_scenario(doc)).versus["self_hosted"]
    more = run(parse_scenario(dearer)).versus["self_hosted"]
    assert more.p_cheaper >= base.p_cheaper
    # The mean sums thousands of paths; allow only its rounding (relative 1e-12).
    assert more.savings["mean"] >= base.savings["mean"] - 1e-12 * abs(base.savings["mean"])
    for year, (b, m) in enumerate(zip(base.p_cheaper_by_year, more.p_cheaper_by_year, strict=True)):
        assert m >= b, year
