"""Staged policies, requirements, the recommendation and the value of information
(scenario-format.md, section 7)."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator import ScenarioError, parse_scenario, run
from simulator.costs.staged import highest_trigger, migration_start
from simulator.decide.policy import simulate
from simulator.decide.recommend import _rivals, evpi, evppi, value_of_information

PATHS = 3000


def _document(**staged) -> dict:
    """API against self-hosting, with growth uncertain enough that either may win."""
    return {
        "scenario": {"name": "policy", "horizon_months": 24, "paths": PATHS, "seed": 5},
        "workload": {
            "requests_per_month": 2e6,
            "input_tokens_per_request": 1500,
            "output_tokens_per_request": 300,
            "monthly_growth": {"dist": "uniform", "low": -0.02, "high": 0.12},
        },
        "options": {
            "api": {"kind": "api", "input_price_per_mtok": 2.5, "output_price_per_mtok": 10},
            "self_hosted": {
                "kind": "self_hosted",
                "gpu_hourly_usd": {"dist": "uniform", "low": 2.0, "high": 3.0},
                "replica_tokens_per_s": 2500,
                "engineers": 1,
                "engineer_annual_cost": 180_000,
                "annual_attrition": 0.2,
                "vacancy_months": 2,
            },
            "policy": {"kind": "staged", "start": "api", "then": "self_hosted", **staged},
        },
    }


def _monthly(document: dict, paths: int = PATHS):
    result = simulate(parse_scenario(document), paths=paths, workers=1, keep_paths=True)
    return result, result.monthly


def test_unreachable_trigger_is_the_start_option_path_by_path():
    result, monthly = _monthly(_document(trigger_monthly_cost=1e15))
    np.testing.assert_array_equal(monthly["policy"], monthly["api"])
    assert not result.record["note:policy:migrates"].any()


def test_zero_trigger_without_setup_is_the_then_option_path_by_path():
    result, monthly = _monthly(_document(trigger_monthly_cost=0))
    np.testing.assert_allclose(monthly["policy"], monthly["self_hosted"], rtol=1e-12)
    assert result.record["note:policy:migrates"].all()
    assert (result.record["note:policy:migration_month"] == 1).all()


def test_during_setup_the_start_option_serves_and_the_new_team_is_paid():
    document = _document(trigger_monthly_cost=0)
    document["options"]["self_hosted"]["setup_months"] = 3
    document["options"]["self_hosted"]["annual_attrition"] = 0.0
    document["options"]["self_hosted"]["setup_gpus"] = 0
    _, monthly = _monthly(document)
    team = 180_000 / 12
    # Months 2-3: the API's whole bill plus the new team's salary (month 1 adds hiring).
    np.testing.assert_allclose(monthly["policy"][:, 1:3], monthly["api"][:, 1:3] + team)
    # From month 4 on the self-hosted option serves alone.
    np.testing.assert_allclose(monthly["policy"][:, 3:], monthly["self_hosted"][:, 3:])


def test_migration_starts_the_month_after_the_trigger_held_long_enough():
    # Spend per month on three paths (columns).
    spend = np.array(
        [
            [5.0, 20.0, 5.0],
            [12.0, 20.0, 12.0],
            [12.0, 20.0, 5.0],
            [12.0, 20.0, 12.0],
            [12.0, 20.0, 12.0],
            [12.0, 20.0, 5.0],
        ]
    )
    # Path 0: above 10 in months 2-4 (1-based), so it migrates in month 5 (index 4).
    # Path 1: above since before month 1, so at once. Path 2: never three in a row.
    np.testing.assert_array_equal(migration_start(spend, 10.0, 3), [4.0, 0.0, 6.0])
    np.testing.assert_array_equal(migration_start(spend, 10.0, 0), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(migration_start(spend, 10.0, 1), [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(migration_start(spend, 50.0, 1), [6.0, 6.0, 6.0])


def test_optimized_trigger_is_never_worse_than_staying_or_moving_at_once():
    # The search runs on every path here (paths <= optimize_paths), so the guarantee
    # is exact on them.
    result = run(parse_scenario(_document(trigger_monthly_cost="optimize")), workers=1)
    mean = {n: o.total_cost.mean for n, o in result.options.items()}
    assert mean["policy"] <= mean["api"] * (1 + 1e-12)
    assert mean["policy"] <= mean["self_hosted"] * (1 + 1e-12)
    policy = result.options["policy"].policy
    assert policy["optimized"] is True
    search = policy["search"]
    # Staying put and migrating at once are among the candidates.
    triggers = [c["trigger_monthly_cost"] for c in search["candidates"]]
    assert triggers[0] == 0.0 and triggers[-1] is None
    assert min(c["mean"] for c in search["candidates"]) == pytest.approx(mean["policy"])


def test_policy_summary_keys():
    result = run(parse_scenario(_document(trigger_monthly_cost=40_000)), workers=1)
    policy = result.to_dict()["options"]["policy"]["policy"]
    assert policy["trigger_monthly_cost"] == 40_000
    migrates = result.paths.tally.totals()["moments:note:policy:migrates"][1]
    assert policy["p_migrates"] == pytest.approx(migrates)
    assert 0 < policy["p_migrates"] < 1
    if policy["p_migrates"] >= 0.5:
        assert 1 <= policy["migration_month_p50"] <= 24
    else:
        assert policy["migration_month_p50"] is None


def test_evpi_equals_the_recommended_options_expected_regret():
    result = run(parse_scenario(_document(trigger_monthly_cost=1e15)), workers=1)
    chosen = result.to_dict()["recommendation"]["option"]
    value = result.to_dict()["value_of_information"]
    assert value["evpi"] == pytest.approx(result.options[chosen].expected_regret, rel=1e-9)
    assert value["evpi"] > 0


def test_evppi_is_zero_for_an_input_no_cost_depends_on():
    document = _document(trigger_monthly_cost=1e15)
    # Latency is sampled but costs nothing; the best option is clear on average.
    document["options"]["api"]["ttft_ms"] = {"dist": "uniform", "low": 200, "high": 900}
    document["options"]["api"]["input_price_per_mtok"] = 3.5
    result = run(parse_scenario(document), workers=1)
    by_input = {
        i["input"]: i["evppi"] for i in result.to_dict()["value_of_information"]["by_input"]
    }
    assert by_input["options.api.ttft_ms"] == 0.0
    assert by_input["workload.monthly_growth"] > 0


def test_evppi_of_the_input_that_decides_everything_is_the_evpi():
    # Growth alone decides which option wins on each path, so learning it is worth
    # (up to the grouping into bins) as much as learning everything.
    rng = np.random.default_rng(0)
    growth = rng.uniform(size=20_000)
    totals = {"a": 100 * growth, "b": 50 + 0 * growth}
    whole = evpi(totals, ["a", "b"], "b")
    part = evppi(growth, totals, ["a", "b"], "b", bins=20)
    assert whole == pytest.approx(np.mean(50 - np.minimum(100 * growth, 50)))
    assert part == pytest.approx(whole, rel=0.02)
    assert part <= whole + 1e-9


def _with_requirements(requirements: dict, **extra_options) -> dict:
    document = _document(trigger_monthly_cost=1e15)
    document["requirements"] = requirements
    document["options"].update(extra_options)
    return document


def test_data_residency_excludes_everything_that_sends_data_out():
    document = _with_requirements(
        {"data_residency": True},
        with_fallback={
            **_document()["options"]["self_hosted"],
            "fallback": "api",
        },
        mixed={
            "kind": "hybrid",
            "routes": [{"option": "self_hosted", "share": 0.9}, {"option": "api", "share": 0.1}],
        },
    )
    result = run(parse_scenario(document), paths=500, workers=1)
    excluded = result.to_dict()["recommendation"]["excluded"]
    assert set(excluded) == {"api", "with_fallback", "mixed", "policy"}
    assert result.to_dict()["recommendation"]["option"] == "self_hosted"
    assert "data residency" in result.to_dict()["options"]["api"]["excluded"]


def test_ops_capacity_excludes_options_needing_more_operations():
    document = _with_requirements(
        {"ops_capacity": "limited"},
        managed={
            **_document()["options"]["self_hosted"],
            "kind": "cloud_managed",
            "managed_premium": 0.3,
        },
    )
    result = run(parse_scenario(document), paths=500, workers=1)
    excluded = result.to_dict()["recommendation"]["excluded"]
    assert set(excluded) == {"self_hosted", "policy"}
    assert "operations" in excluded["self_hosted"]


def test_latency_requirement_uses_the_share_of_paths_meeting_it():
    document = _with_requirements({"max_ttft_ms": 500, "min_p_latency_met": 0.9})
    document["options"]["api"]["ttft_ms"] = {"dist": "uniform", "low": 300, "high": 700}
    document["options"]["self_hosted"]["ttft_ms"] = 120
    result = run(parse_scenario(document), paths=2000, workers=1)
    options = result.to_dict()["options"]
    # P(uniform(300, 700) <= 500) = 0.5, within sampling error.
    assert options["api"]["p_latency_met"] == pytest.approx(0.5, abs=0.05)
    assert options["self_hosted"]["p_latency_met"] == 1.0
    assert "latency" in options["api"]["excluded"]
    assert "excluded" not in options["self_hosted"]
    assert "latency" in options["policy"]["excluded"]  # it serves from the API first


def test_every_option_excluded_gives_no_recommendation():
    document = _with_requirements({"data_residency": True, "ops_capacity": "none"})
    recommendation = run(parse_scenario(document), paths=300, workers=1).to_dict()["recommendation"]
    assert recommendation["option"] is None
    assert set(recommendation["excluded"]) == {"api", "self_hosted", "policy"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"start": "nowhere"}, "options.policy.start"),
        ({"then": "policy"}, "options.policy.then"),
        ({"then": "api", "start": "api"}, "options.policy.then"),
        ({"trigger_monthly_cost": "sometimes"}, "options.policy.trigger_monthly_cost"),
        ({"trigger_months": -1}, "options.policy.trigger_months"),
    ],
)
def test_bad_staged_options_name_the_key(change, key):
    document = _document(trigger_monthly_cost=1000)
    document["options"]["policy"].update(change)
    with pytest.raises(ScenarioError) as error:
        parse_scenario(document)
    assert error.value.key == key


def test_results_do_not_depend_on_workers_or_chunks_with_a_searched_trigger():
    scenario = parse_scenario(_document(trigger_monthly_cost="optimize"))
    one = run(scenario, workers=1, chunk_size=4096).to_dict()
    two = run(scenario, workers=2, chunk_size=8192).to_dict()
    assert one == two
    assert not math.isnan(one["options"]["policy"]["total_cost"]["mean"])
    assert copy.deepcopy(one) == one


def _spends(months: int, paths: int):
    """Monthly spends ``(months, paths)``, few values so that ties with triggers occur."""
    return arrays(
        float,
        st.tuples(st.integers(1, months), st.integers(1, paths)),
        elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0]),
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    spend=_spends(months=8, paths=5),
    trigger=st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.5, 4.0, 6.0]),
    trigger_months=st.integers(0, 4),
)
def test_a_path_migrates_exactly_when_the_trigger_is_below_its_highest(
    spend, trigger, trigger_months
):
    months = spend.shape[0]
    migrates = migration_start(spend, trigger, trigger_months) < months
    np.testing.assert_array_equal(migrates, trigger < highest_trigger(spend, trigger_months))


def _months_of_run(spend, trigger, trigger_months):
    """Month by month, counting the run of consecutive months above the trigger: the
    definition of when a migration begins, written the obvious way."""
    months, paths = spend.shape
    begin = [float(months)] * paths
    for p in range(paths):
        if trigger_months == 0 or spend[0, p] > trigger[p]:
            begin[p] = 0.0  # the months before month 1 were as month 1
            continue
        run = 0
        for t in range(months - 1):
            run = run + 1 if spend[t, p] > trigger[p] else 0
            if run >= trigger_months:
                begin[p] = t + 1.0
                break
    return begin


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    spend=_spends(months=9, paths=6),
    triggers=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, 6.0, math.inf]), min_size=6),
    trigger_months=st.integers(0, 4),
)
def test_migration_start_is_the_month_after_a_long_enough_run(spend, triggers, trigger_months):
    # One trigger per path, ties with the spend included.
    trigger = np.array(triggers[: spend.shape[1]])
    want = _months_of_run(spend, trigger, trigger_months)
    np.testing.assert_array_equal(migration_start(spend, trigger, trigger_months), want)


def _rival_totals(n: int, seed: int, kinds: list[str], drive: np.ndarray) -> dict:
    """The chosen option's totals and others against it, each of one ``kind``."""
    rng = np.random.default_rng(seed)
    own = 1e6 * (1 + 0.1 * rng.random(n))
    totals = {"chosen": own}
    for i, kind in enumerate(kinds):
        step = 1e5 * rng.random(n)
        other = {
            "same": own.copy(),
            "dearer": own + step,  # never cheaper
            "rarely": np.where(rng.random(n) < 0.01, own - step, own + 1e5 + step),
            "barely": own + np.where(rng.random(n) < 0.5, 1e-9, -1e-9) * own,
            "tied": own * (1 + 2.0**-52 * rng.choice([-1, 0, 1], n)),
            "with": own + 2e5 * (drive - np.median(drive)),  # best when the input is low
        }[kind]
        totals[f"{kind}{i}"] = other
    return totals


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    n=st.sampled_from([25, 200, 2001, 4000]),
    seed=st.integers(0, 2**16),
    kinds=st.lists(
        st.sampled_from(["same", "dearer", "rarely", "barely", "tied", "with"]),
        min_size=1,
        max_size=4,
    ),
    excluded=st.booleans(),
)
def test_value_of_information_is_each_inputs_evppi_among_all_allowed(n, seed, kinds, excluded):
    rng = np.random.default_rng(seed + 1)
    inputs = {
        "smooth": rng.normal(size=n),
        "choice": rng.choice([1.0, 2.0, 3.0], n),
        "coarse": rng.integers(0, 30, n).astype(float),
    }
    totals = _rival_totals(n, seed, kinds, inputs["smooth"])
    names = list(totals)
    result = SimpleNamespace(
        options={
            name: SimpleNamespace(excluded="no" if excluded and name == names[-1] else None)
            for name in names
        }
    )
    allowed = [name for name in names if not result.options[name].excluded]
    for chosen in allowed[:2]:
        value = value_of_information(result, inputs, totals, chosen)
        plain = {key: evppi(x, totals, allowed, chosen) for key, x in inputs.items()}
        assert value["evpi"] == evpi(totals, allowed, chosen)
        assert {item["input"]: item["evppi"] for item in value["by_input"]} == plain
        assert [item["evppi"] for item in value["by_input"]] == sorted(plain.values(), reverse=True)


def test_options_that_never_win_a_bin_are_left_out():
    n = 20_000
    totals = _rival_totals(n, 3, ["dearer", "rarely", "barely", "with", "same"], np.arange(n))
    allowed = list(totals)
    anywhere = _rivals(totals, allowed, "chosen")
    assert anywhere == ["chosen", "rarely1", "barely2", "with3"]
    # Even on the 1000 paths where "rarely" saves the most (all ~200 it is cheaper on
    # among them) it costs more in total: it cannot win a bin by rank.
    assert _rivals(totals, anywhere, "chosen", n // 20) == ["chosen", "barely2", "with3"]
    # A choice input can single out the paths where it saves: it stays a rival there.
    choice = np.where(totals["rarely1"] < totals["chosen"], 1.0, 0.0)
    assert evppi(choice, totals, allowed, "chosen") > 0


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(0, 400_000), min_size=1, max_size=8), st.integers(0, 4))
def test_a_trigger_costed_from_kept_months_is_the_trigger_costed_afresh(triggers, months):
    # total_for_trigger keeps each path's total by the month it migrates in and costs
    # only paths a trigger moves to a new month: whatever triggers came before, its
    # totals must be those of the policy costed on the whole batch for that trigger.
    from simulator.costs.staged import _policy_total, total_for_trigger, totals_for_triggers
    from simulator.decide.reservation import search_batches

    scenario = parse_scenario(_document(trigger_monthly_cost=1e5, trigger_months=months))
    option = scenario.options["policy"]
    (batch,) = search_batches(scenario, 11, 2000)
    (fresh,) = search_batches(scenario, 11, 2000)
    for trigger in [*triggers, math.inf, 0.0]:
        total, _ = total_for_trigger(option, batch, trigger)
        np.testing.assert_array_equal(total, _policy_total(option, fresh, trigger))
    # All at once, on a batch of its own: the new (path, month) pairs costed together.
    (together,) = search_batches(scenario, 11, 2000)
    found = totals_for_triggers(option, together, [*triggers, math.inf, 0.0])
    for trigger, (total, begin) in zip([*triggers, math.inf, 0.0], found, strict=True):
        np.testing.assert_array_equal(total, _policy_total(option, fresh, trigger))
        np.testing.assert_array_equal(begin, total_for_trigger(option, batch, trigger)[1])
