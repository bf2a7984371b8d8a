"""Outages as events (incidents with exponential durations, failover minutes) and the
cash cost every option reports beside its total.

Known answers are hand calculations written in the comments; the incident draws are
checked against their expectation within Monte Carlo error, and as properties on the
same paths (more incidents never raise uptime).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import ScenarioError, parse_scenario, run

# 1,000,000 requests a month at $0.0036 each ($3,600 a month), for 12 months; an hour
# unserved costs $1,000; 730 hours a month.
BASE = {
    "scenario": {"name": "outages", "horizon_months": 12, "paths": 2, "seed": 11},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "business": {"downtime_cost_per_hour": 1000},
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "backup": {"kind": "api", "input_price_per_mtok": 1.0, "output_price_per_mtok": 4.0},
    },
}


def document(paths: int = 2, **keys) -> dict:
    out = copy.deepcopy(BASE)
    out["options"]["api"].update(keys)
    out["scenario"]["paths"] = paths
    return out


def kept(paths: int, **keys):
    return run(parse_scenario(document(paths, **keys)), workers=1, keep_paths=True)


def test_cash_cost_leaves_out_the_business_cost_of_downtime():
    # Uptime 99%: 7.3 hours down a month at $1,000: $7,300 of downtime, $3,600 of
    # traffic (the hours down are still billed as traffic: the API bills requests).
    got = run(parse_scenario(document(uptime=0.99))).to_dict()["options"]["api"]
    assert got["breakdown"]["downtime"] == pytest.approx(12 * 7_300, rel=1e-12)
    assert got["total_cost"]["mean"] == pytest.approx(12 * 10_900, rel=1e-12)
    assert got["cash_cost"]["mean"] == pytest.approx(12 * 3_600, rel=1e-12)
    # An option without downtime has the same cash cost as total.
    backup = run(parse_scenario(document(uptime=0.99))).to_dict()["options"]["backup"]
    assert backup["cash_cost"] == backup["total_cost"]


def test_incident_downtime_matches_its_expectation():
    # 2 incidents a month of 3 hours on average: 6 hours down a month in expectation,
    # $6,000 of downtime a month, $72,000 a year (a month is never filled: the cap at
    # 730 hours has a negligible chance).
    result = kept(4096, incidents_per_month=2, incident_hours=3)
    downtime = result.paths.record["component:api:downtime"]
    expected = 12 * 2 * 3 * 1000
    error = downtime.std(ddof=1) / math.sqrt(downtime.size)
    assert abs(downtime.mean() - expected) < 4 * error
    assert error < 0.02 * expected  # the check can fail
    # Cash is the traffic alone, on every path.
    np.testing.assert_allclose(result.paths.cash["api"], 12 * 3_600, rtol=1e-12)


def test_uptime_from_incidents_matches_one_minus_rate_times_hours():
    # The fallback carries the hours down: its bill is (1 - uptime) of its $1,800 a
    # month, so the mean monthly uptime is 1 - bill / 1,800, expected
    # 1 - 0.5 * 10 / 730.
    result = kept(4096, incidents_per_month=0.5, incident_hours=10, fallback="backup")
    share = result.paths.record["component:api:fallback"] / (12 * 1_800)
    error = share.std(ddof=1) / math.sqrt(share.size)
    assert abs(share.mean() - 0.5 * 10 / 730) < 4 * error
    assert "component:api:downtime" not in result.paths.record


def test_failover_minutes_are_downtime_even_with_a_fallback():
    # 1 incident a month of 5 hours on average, 6 minutes of failover each: with a
    # fallback, 0.1 h of every incident is unserved (an incident shorter than that, about
    # 2% of them, is unserved for its length only): about $100 a month of downtime.
    result = kept(4096, incidents_per_month=1, incident_hours=5, failover_minutes=6,
                  fallback="backup")  # fmt: skip
    downtime = result.paths.record["component:api:downtime"]
    # E[min(0.1, D)] for D exponential with mean 5: 5 * (1 - exp(-0.1 / 5)) per incident.
    expected = 12 * 1 * 5 * (1 - math.exp(-0.1 / 5)) * 1000
    error = downtime.std(ddof=1) / math.sqrt(downtime.size)
    # The per-month cap min(k * 0.1, total) lies between the per-incident sum of the
    # minima and k * 0.1: within 2% of either here.
    assert expected - 4 * error < downtime.mean() < 12 * 100 + 4 * error


@settings(max_examples=10, deadline=None)
@given(low=st.floats(0.0, 5.0), extra=st.floats(0.01, 5.0), hours=st.floats(0.1, 48.0))
def test_more_incidents_never_raise_uptime(low, extra, hours):
    # On the same paths, a higher rate draws at least as many incidents from the same
    # uniforms, each at least as long in total: downtime never falls.
    fewer = kept(64, incidents_per_month=low, incident_hours=hours)
    more = kept(64, incidents_per_month=low + extra, incident_hours=hours)
    lost = "component:api:downtime"
    assert np.all(more.paths.record[lost] >= fewer.paths.record[lost])


def test_incidents_are_the_same_whatever_the_batch_size():
    scenario = parse_scenario(document(5000, incidents_per_month=3, incident_hours=2))
    one = run(scenario, workers=1, chunk_size=4096).to_dict()
    other = run(scenario, workers=1, chunk_size=8192).to_dict()
    assert one["options"]["api"] == other["options"]["api"]


@pytest.mark.parametrize(
    ("keys", "where", "message"),
    [
        ({"incidents_per_month": 1, "incident_hours": 2, "uptime": 0.99}, "uptime", "not both"),
        ({"incidents_per_month": 1}, "incident_hours", "need their mean duration"),
        ({"incident_hours": 2}, "incident_hours", "only applies to incidents"),
        ({"failover_minutes": 5}, "failover_minutes", "only applies to incidents"),
        ({"incidents_per_month": 1, "incident_hours": 0}, "incident_hours", "must be > 0"),
    ],
)
def test_outages_given_two_ways_or_half_given_are_refused(keys, where, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document(**keys))
    assert str(info.value).startswith(f"options.api.{where}: ")
    assert message in str(info.value)


def test_a_stack_with_incidents_and_vacancies():
    # A stack of one replica, one engineer, nothing uncertain but the incidents: its
    # fallback bill grows with the incidents it draws, on every path, and its cash cost
    # is its total (a fallback leaves no downtime without failover minutes).
    stack = {
        "kind": "self_hosted",
        "replica_tokens_per_s": 20_000,
        "gpu_hourly_usd": 1.0,
        "fallback": "backup",
        "incidents_per_month": 1.5,
        "incident_hours": 4,
    }
    doc = document(256)
    doc["options"]["stack"] = stack
    result = run(parse_scenario(doc), workers=1, keep_paths=True)
    share = result.paths.record["component:stack:fallback"] / (12 * 1_800)
    error = share.std(ddof=1) / math.sqrt(share.size)
    assert abs(share.mean() - 1.5 * 4 / 730) < 4 * error
    np.testing.assert_array_equal(result.paths.cash["stack"], result.paths.totals["stack"])
