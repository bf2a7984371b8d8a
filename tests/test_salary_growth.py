"""Engineer cost that grows over the horizon (annual_salary_growth), by hand."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import parse_scenario, run

# One engineer at $120,000 a year, nothing else but the GPUs: 1 replica of 1 GPU at
# $1/h (10 requests/s of 1000 weighted tokens against 20,000 a replica: one replica).
STACK = {
    "scenario": {"name": "salaries", "horizon_months": 24, "paths": 2, "seed": 1},
    "workload": {
        "requests_per_month": 26_280_000,
        "input_tokens_per_request": 800,
        "output_tokens_per_request": 200,
    },
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "stack": {
            "kind": "self_hosted",
            "replica_tokens_per_s": 20_000,
            "gpu_hourly_usd": 1.0,
            "engineers": 1,
            "engineer_annual_cost": 120_000,
            "initial_hires": 0,
        },
    },
}


def breakdown(**keys) -> dict[str, float]:
    document = copy.deepcopy(STACK)
    document["options"]["stack"].update(keys)
    return run(parse_scenario(document)).to_dict()["options"]["stack"]["breakdown"]


def test_salaries_grow_month_by_month():
    # 10% a year: month t costs 10,000 * 1.1**(t/12); over 24 months 10,000 times
    # sum(1.1**(t/12) for t in 0..23) = 10,000 * 25.1945... (computed below).
    grown = breakdown(annual_salary_growth=0.1)["people"]
    assert grown == pytest.approx(10_000 * sum(1.1 ** (t / 12) for t in range(24)), rel=1e-12)
    assert breakdown()["people"] == pytest.approx(24 * 10_000, rel=1e-12)


def test_an_upgrade_costs_that_months_salary():
    # Upgrades are drawn at random, on the same draws with and without growth: each
    # costs its month's salary, so the total grows by a factor between 1 and 1.1**2.
    flat = breakdown(upgrade_interval_months=6, upgrade_effort_engineer_months=1)["upgrades"]
    grown = breakdown(
        upgrade_interval_months=6, upgrade_effort_engineer_months=1, annual_salary_growth=0.1
    )["upgrades"]
    assert flat > 0 and flat < grown < flat * 1.1 ** (24 / 12)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_more_salary_growth_never_costs_less(low, high):
    low, high = sorted((low, high))
    costs = [
        sum(breakdown(annual_salary_growth=g, annual_attrition=0.2, vacancy_months=2).values())
        for g in (low, high)
    ]
    assert costs[1] >= costs[0] * (1 - 1e-12)
    assert np.isfinite(costs).all()
