"""Load over the week: replicas hour by hour over a load profile, the burst within an
hour, and traffic that can wait for a queue.

Known answers are hand calculations written in the comments (zero-variance scenarios);
property tests check the hourly mean against a brute-force sum and that deferring
traffic never costs more.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import ScenarioError, parse_scenario, run
from simulator.costs.hourly import mean_over_hours
from simulator.scenario.profiles import business_hours, diurnal


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-9)


# 2,628,000 requests a month of 1,000 output tokens (input weighs nothing) over 730 h:
# 1,000 tokens/s on average; 250 a replica and no overhead: 4 replicas at a flat load.
# GPUs at $2 an hour: a replica running all month costs 730 * 2 = $1,460.
STACK = {
    "scenario": {"name": "load", "horizon_months": 12, "paths": 2, "seed": 5},
    "workload": {
        "requests_per_month": 2_628_000,
        "input_tokens_per_request": 0,
        "output_tokens_per_request": 1000,
    },
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 0.0, "output_price_per_mtok": 2.0},
        "stack": {
            "kind": "self_hosted",
            "replica_tokens_per_s": 250,
            "gpu_hourly_usd": 2.0,
            "provisioning": "autoscale",
            "autoscale_overhead": 1.0,
            "min_replicas": 3,
        },
    },
}

# Business hours: 50 hours of the week at 3, 118 at 1, mean 268 / 168; scaled to mean
# 1 the busy hours are 3 * 168 / 268 and the quiet ones 168 / 268.
BUSY, QUIET = 3 * 168 / 268, 168 / 268


def gpus(workload: dict | None = None, **stack) -> float:
    document = copy.deepcopy(STACK)
    document["workload"].update(workload or {})
    document["options"]["stack"].update(stack)
    summary = run(parse_scenario(document)).to_dict()
    return summary["options"]["stack"]["breakdown"]["gpus"]


def test_the_named_profiles():
    hours = business_hours()
    assert len(hours) == 168 and hours.count(3.0) == 50 and hours[8] == hours[17] == 3.0
    assert hours[7] == hours[18] == 1.0 and hours[5 * 24 + 10] == 1.0  # Saturday 10:00
    day = diurnal()
    assert max(day) == day[14] and min(day) == day[2]
    assert day[14] == pytest.approx(2 * day[2]) and sum(day) / 24 == pytest.approx(1.0)


def test_autoscaling_follows_the_hours_with_the_floor_binding_at_night():
    # Busy hours run 4 * BUSY = 7.52 replicas; quiet hours would run 4 * QUIET = 2.51,
    # below the floor of 3: (50 * 4 * BUSY + 118 * 3) / 168 = 4.3459 replicas on
    # average, not the 4 a flat week needs.
    mean = (50 * 4 * BUSY + 118 * 3) / 168
    assert gpus({"load_profile": "business_hours"}) == approx(12 * 1_460 * mean)
    assert gpus() == approx(12 * 1_460 * 4)


def test_peak_provisioning_sizes_for_the_highest_hour():
    # ceil(4 * BUSY) = ceil(7.52) = 8 replicas all month.
    assert gpus({"load_profile": "business_hours"}, provisioning="peak") == approx(12 * 1_460 * 8)


def test_deferrable_traffic_is_spread_over_the_week():
    # Half the traffic waits: the highest hour is 0.5 + 0.5 * BUSY = 1.44 of the mean,
    # ceil(4 * 1.44) = ceil(5.76) = 6 replicas.
    got = gpus({"load_profile": "business_hours", "deferrable_share": 0.5}, provisioning="peak")
    assert got == approx(12 * 1_460 * 6)
    # Without a profile the share turns a peak of 3 into 0.5 + 0.5 * 3 = 2: 8 replicas.
    got = gpus({"peak_to_average": 3, "deferrable_share": 0.5}, provisioning="peak")
    assert got == approx(12 * 1_460 * 8)


def test_the_burst_within_an_hour_raises_the_hours_that_cannot_wait():
    # A flat week with the busiest minutes at 1.5 times the hour: 6 replicas; with a
    # quarter deferrable, 4 * (0.25 + 0.75 * 1.5) = 5.5.
    assert gpus({"load_profile": "flat", "within_hour_burst": 1.5}) == approx(12 * 1_460 * 6)
    got = gpus({"load_profile": "flat", "within_hour_burst": 1.5, "deferrable_share": 0.25})
    assert got == approx(12 * 1_460 * 5.5)


def test_a_list_of_24_hours_is_scaled_to_mean_one():
    # 12 hours at 2 and 12 at 6, scaled: 0.5 and 1.5. Replicas 2 (floor 3) and 6:
    # (12 * 3 + 12 * 6) / 24 = 4.5.
    assert gpus({"load_profile": [2] * 12 + [6] * 12}) == approx(12 * 1_460 * 4.5)


def test_reserved_gpus_carry_the_hours_below_their_count():
    # 3 GPUs reserved at 35% off: every hour runs at least 3 replicas (the floor), so
    # they are always busy: 3 * 730 * 2 * 0.65 = $2,847 a month; on demand the rest of
    # the 4.3459 replicas' hours, (4.3459 - 3) * $1,460.
    document = copy.deepcopy(STACK)
    document["workload"]["load_profile"] = "business_hours"
    document["options"]["stack"]["reserved_gpus"] = 3
    got = run(parse_scenario(document)).to_dict()["options"]["stack"]["breakdown"]
    mean = (50 * 4 * BUSY + 118 * 3) / 168
    assert got["reserved_gpus"] == approx(12 * 2_847)
    assert got["gpus"] == approx(12 * 1_460 * (mean - 3))
    # 6 reserved: they carry min(replicas, 6) each hour: 6 in busy hours, 3 at night;
    # on demand only the busy hours' 7.52 - 6.
    document["options"]["stack"]["reserved_gpus"] = 6
    got = run(parse_scenario(document)).to_dict()["options"]["stack"]["breakdown"]
    assert got["gpus"] == approx(12 * 1_460 * 50 * (4 * BUSY - 6) / 168)


@settings(max_examples=60, deadline=None)
@given(
    hours=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=30),
    floor=st.floats(0.0, 20.0),
    level=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=6),
    scale=st.floats(0.0, 10.0),
)
def test_the_hourly_mean_is_the_mean_of_the_hours(hours, floor, level, scale):
    level = np.array(level)
    brute = np.array([np.mean(np.maximum(floor, x + scale * np.array(hours))) for x in level])
    np.testing.assert_allclose(
        mean_over_hours(floor, level, scale, hours), brute, rtol=1e-12, atol=1e-9
    )


@settings(max_examples=12, deadline=None)
@given(
    low=st.floats(0.0, 1.0),
    high=st.floats(0.0, 1.0),
    profile=st.sampled_from(["business_hours", "diurnal", "flat"]),
    provisioning=st.sampled_from(["peak", "autoscale"]),
    burst=st.floats(1.0, 3.0),
)
def test_a_deferrable_share_never_raises_cost(low, high, profile, provisioning, burst):
    low, high = sorted((low, high))
    workload = {"load_profile": profile, "within_hour_burst": burst}
    waits_more = gpus({**workload, "deferrable_share": high}, provisioning=provisioning)
    waits_less = gpus({**workload, "deferrable_share": low}, provisioning=provisioning)
    assert waits_more <= waits_less * (1 + 1e-12)


@pytest.mark.parametrize(
    ("workload", "key", "message"),
    [
        ({"load_profile": "flat", "peak_to_average": 2}, "peak_to_average", "derived from"),
        ({"within_hour_burst": 1.5}, "within_hour_burst", "applies to the hours of"),
        ({"load_profile": "weekdays"}, "load_profile", "'weekdays' is not a load profile"),
        ({"load_profile": [1] * 23}, "load_profile", "holds 23 numbers"),
        ({"load_profile": [1] * 23 + [-1]}, "load_profile", "hour 23 is -1"),
        ({"load_profile": [0] * 24}, "load_profile", "is zero in every hour"),
        ({"load_profile": 3}, "load_profile", 'must be "flat"'),
    ],
)
def test_a_load_profile_that_cannot_hold_is_refused(workload, key, message):
    document = copy.deepcopy(STACK)
    document["workload"].update(workload)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    assert str(info.value).startswith(f"workload.{key}: ")
    assert message in str(info.value)
