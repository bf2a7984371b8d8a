"""API options priced as billed: cached input, the batch tier, a committed spend,
escalations to a fallback, and the weeks of moving traffic over.

Known answers are hand calculations on zero-variance scenarios (every input a plain
number), written out in the comments; property tests check the orderings any bill
must respect.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import ScenarioError, parse_scenario, run


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-9)


# 1,000,000 requests a month of 1,000 input and 200 output tokens, for 12 months.
# The baseline at $2 / $8 per Mtok: (1000 * 2 + 200 * 8) / 1e6 = $0.0036 a request,
# $3,600 a month. "open" at $0.50 / $0.50: (500 + 100) / 1e6 = $0.0006, $600 a month.
BASE = {
    "scenario": {"name": "billing", "horizon_months": 12, "paths": 2, "seed": 1},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "options": {
        "frontier": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "open": {"kind": "api", "input_price_per_mtok": 0.5, "output_price_per_mtok": 0.5},
    },
}


def summary(**open_keys):
    document = copy.deepcopy(BASE)
    document["options"]["open"].update(open_keys)
    return run(parse_scenario(document)).to_dict()["options"]["open"]


def frontier(**keys):
    document = copy.deepcopy(BASE)
    document["options"]["frontier"].update(keys)
    return run(parse_scenario(document)).to_dict()["options"]["frontier"]


def test_cached_input_is_billed_at_its_own_price():
    # Half the input cached at $0.50 instead of $2.00: input at 0.5 * 2 + 0.5 * 0.5 =
    # $1.25 per Mtok, (1000 * 1.25 + 200 * 8) / 1e6 = $0.00285 a request: 2,850 a month.
    got = frontier(cached_input_share=0.5, cached_input_price_per_mtok=0.5)
    assert got["breakdown"]["traffic"] == approx(12 * 2_850)
    assert got["total_cost"]["mean"] == approx(12 * 2_850)


def test_the_batch_tier_discounts_every_token_of_its_share():
    # 40% of requests at half price: 3,600 * (1 - 0.4 * 0.5) = 2,880 a month.
    got = frontier(batch_share=0.4)
    assert got["breakdown"]["traffic"] == approx(12 * 2_880)
    # Cached and batch together: 2,850 * 0.8 = 2,280 a month.
    both = frontier(batch_share=0.4, cached_input_share=0.5, cached_input_price_per_mtok=0.5)
    assert both["total_cost"]["mean"] == approx(12 * 2_280)


def test_a_commitment_bills_at_least_the_committed_spend():
    # $4,000 a month committed for 6 months at 10% off: usage 3,600 * 0.9 = 3,240, so
    # 4,000 is billed (760 of it unused); then six months at list, 3,600.
    got = frontier(committed_monthly_usd=4_000, commit_discount=0.1, commit_months=6)
    assert got["breakdown"]["traffic"] == approx(6 * 3_240 + 6 * 3_600)
    assert got["breakdown"]["commitment"] == approx(6 * 760)
    assert got["total_cost"]["mean"] == approx(6 * 4_000 + 6 * 3_600)
    # A commitment below usage only discounts it: 3,600 * 0.9 = 3,240 for 12 months.
    low = frontier(committed_monthly_usd=1_000, commit_discount=0.1)
    assert low["total_cost"]["mean"] == approx(12 * 3_240)
    assert low["breakdown"]["commitment"] == 0


def test_escalations_and_outages_go_to_the_fallback():
    # open serves 90% of the traffic: 600 * 0.9 = 540 a month. The fallback (frontier)
    # carries 0.1 + 0.9 * (1 - 0.99) = 0.109 of it: 3,600 * 0.109 = 392.40 a month.
    got = summary(escalation_rate=0.1, fallback="frontier", uptime=0.99)
    assert got["breakdown"]["traffic"] == approx(12 * 540)
    assert got["breakdown"]["fallback"] == approx(12 * 392.4)
    assert "downtime" not in got["breakdown"]  # the fallback serves the outages
    assert got["total_cost"]["mean"] == approx(12 * 932.4)


def test_moving_traffic_over_takes_months_and_the_baseline_serves_meanwhile():
    # 1.5 months of migration and $10,000 once: month 1 all on frontier (3,600), month
    # 2 half (frontier 1,800, open 300), then open alone (600) for 10 months.
    got = summary(migration_months=1.5, migration_cost_usd=10_000)
    parts = got["breakdown"]
    assert parts["baseline_traffic"] == approx(3_600 + 1_800)
    assert parts["traffic"] == approx(300 + 10 * 600)
    assert parts["migration"] == approx(10_000)
    assert got["total_cost"]["mean"] == approx(5_400 + 6_300 + 10_000)


def test_fee_and_commitment_start_when_the_option_serves():
    # Two months of migration: the $1,000 fee for 10 months; the commitment of $700 a
    # month (usage 600) from month 3 for 4 months: 4 * 100 unused.
    got = summary(migration_months=2, monthly_fee=1_000, committed_monthly_usd=700, commit_months=4)
    parts = got["breakdown"]
    assert parts["fees"] == approx(10 * 1_000)
    assert parts["commitment"] == approx(4 * 100)
    assert parts["traffic"] == approx(10 * 600)
    assert parts["baseline_traffic"] == approx(2 * 3_600)


def test_the_baseline_itself_never_migrates():
    got = frontier(migration_months=3, migration_cost_usd=5_000)
    assert got["total_cost"]["mean"] == approx(12 * 3_600)
    assert "migration" not in got["breakdown"] and "baseline_traffic" not in got["breakdown"]


def test_a_staged_move_to_an_api_waits_for_its_migration():
    # A policy starting on frontier and moving to open at once (trigger_months = 0):
    # open's two months of migration are served by frontier (2 * 3,600), then open for
    # 10 months (6,000), and the $10,000 once in month 1.
    document = copy.deepcopy(BASE)
    document["options"]["open"].update(migration_months=2, migration_cost_usd=10_000)
    document["options"]["move"] = {
        "kind": "staged",
        "start": "frontier",
        "then": "open",
        "trigger_monthly_cost": 0,
        "trigger_months": 0,
    }
    got = run(parse_scenario(document)).to_dict()["options"]["move"]
    assert got["total_cost"]["mean"] == approx(2 * 3_600 + 10 * 600 + 10_000)


def test_defaults_leave_the_bill_as_list_price():
    assert frontier()["breakdown"] == {"traffic": approx(12 * 3_600), "fees": 0, "downtime": 0}


@pytest.mark.parametrize(
    ("keys", "path", "says"),
    [
        ({"cached_input_share": 0.3}, "options.open.cached_input_price_per_mtok", "its price"),
        ({"escalation_rate": 0.05}, "options.open.escalation_rate", "somewhere to go"),
        ({"fallback": "open"}, "options.open.fallback", "itself"),
        ({"fallback": "nope"}, "options.open.fallback", "not an option"),
        ({"batch_share": 1.5}, "options.open.batch_share", "between 0 and 1"),
        ({"commit_months": 0}, "options.open.commit_months", "between 1 and 1200"),
    ],
)
def test_bad_billing_keys_are_refused_naming_the_key(keys, path, says):
    document = copy.deepcopy(BASE)
    document["options"]["open"].update(keys)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document)
    assert caught.value.key == path and says in str(caught.value)


def test_a_migration_needs_an_api_baseline():
    document = copy.deepcopy(BASE)
    document["options"]["open"]["migration_months"] = 1
    document["options"]["stack"] = {
        "kind": "self_hosted",
        "replica_tokens_per_s": 1000,
        "gpu_hourly_usd": 2.0,
    }
    document["scenario"]["baseline"] = "stack"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document)
    assert caught.value.key == "options.open.migration_months"
    assert "must be an api option" in str(caught.value)


shares = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(low=shares, high=shares, cached_price=st.floats(0.0, 2.0))
def test_more_cached_input_never_costs_more(low, high, cached_price):
    # Cached input is never dearer than list input (2.00 here).
    low, high = sorted((low, high))
    cost = [
        frontier(cached_input_share=s, cached_input_price_per_mtok=cached_price)["total_cost"][
            "mean"
        ]
        for s in (low, high)
    ]
    assert cost[1] <= cost[0] * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(low=shares, high=shares, discount=shares)
def test_more_batch_share_never_costs_more(low, high, discount):
    low, high = sorted((low, high))
    cost = [
        frontier(batch_share=s, batch_discount=discount)["total_cost"]["mean"] for s in (low, high)
    ]
    assert cost[1] <= cost[0] * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(committed=st.floats(0.0, 10_000.0), discount=shares)
def test_a_commitment_never_bills_less_than_discounted_usage_nor_than_itself(committed, discount):
    got = frontier(committed_monthly_usd=committed, commit_discount=discount)
    monthly = got["total_cost"]["mean"] / 12
    assert monthly >= 3_600 * (1 - discount) * (1 - 1e-12)
    assert monthly >= committed * (1 - 1e-12)
