"""A start month for stack options: ``monthly_costs(..., start=...)``.

A staged policy migrates to a stack option mid-horizon; the option's own life (team,
setup, serving, upgrades) then begins at a per-path start month while volumes and
prices stay on calendar months, and its setup is not charged as fallback traffic or
downtime (the policy's first option serves meanwhile).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from simulator import parse_scenario
from simulator.costs import MODELS, on_prem, self_hosted
from simulator.costs.lifecycle import lifecycle, setup_share, upgrade_costs
from simulator.costs.team import staffing
from simulator.paths.batch import make_batch
from simulator.paths.sampling import Streams, plan_blocks, sample_inputs

PATHS = 24
MONTHS = 15
SEED = 314
STACKS = ("self_hosted", "cloud_managed", "on_prem")


def _document() -> dict:
    """Every stack kind with uncertain inputs, attrition, upgrades, setup and a fallback
    (the cloud-managed one has none: its unserved hours cost downtime)."""
    people = {
        "engineers": 1.5,
        "engineer_annual_cost": {"dist": "uniform", "low": 150_000, "high": 250_000},
        "annual_attrition": {"dist": "uniform", "low": 0.2, "high": 0.6},
        "vacancy_months": {"dist": "uniform", "low": 1.0, "high": 3.0},
        "vacancy_uptime_drop": 0.02,
        "backfill_cost_multiplier": 1.3,
    }
    lifecycle = {
        "setup_months": {"dist": "uniform", "low": 0.5, "high": 3.5},
        "setup_gpus": 2,
        "setup_cost_usd": {"dist": "uniform", "low": 20_000, "high": 60_000},
        "upgrade_interval_months": {"dist": "uniform", "low": 2.0, "high": 5.0},
        "upgrade_effort_engineer_months": 1.0,
        "upgrade_overlap_days": 4.0,
    }
    capacity = {
        "gpus_per_replica": 2,
        "replica_tokens_per_s": {"dist": "uniform", "low": 1500, "high": 3000},
        "min_replicas": 1,
        "spare_replicas": 1,
    }
    return {
        "scenario": {"name": "start", "horizon_months": MONTHS, "paths": PATHS, "seed": SEED},
        "workload": {
            "requests_per_month": {"dist": "uniform", "low": 3e6, "high": 8e6},
            "input_tokens_per_request": 900,
            "output_tokens_per_request": 150,
            "monthly_growth": {"dist": "uniform", "low": -0.02, "high": 0.1},
            "growth_volatility": 0.05,
            "peak_to_average": {"dist": "uniform", "low": 1.0, "high": 3.0},
        },
        "business": {"downtime_cost_per_hour": 300},
        "options": {
            "api": {
                "kind": "api",
                "input_price_per_mtok": 2.0,
                "output_price_per_mtok": 8.0,
                "annual_price_change": -0.2,
            },
            "self_hosted": {
                "kind": "self_hosted",
                **capacity,
                "gpu_hourly_usd": {"dist": "uniform", "low": 1.8, "high": 3.5},
                "annual_gpu_price_change": -0.15,
                "infra_monthly_usd": 1500,
                **people,
                **lifecycle,
                "uptime": 0.98,
                "fallback": "api",
                "escalation_rate": {"dist": "uniform", "low": 0.0, "high": 0.1},
            },
            "cloud_managed": {
                "kind": "cloud_managed",
                **capacity,
                "provisioning": "autoscale",
                "gpu_hourly_usd": 2.5,
                "managed_premium": 0.3,
                **people,
                **lifecycle,
                "uptime": 0.995,
            },
            "on_prem": {
                "kind": "on_prem",
                **capacity,
                "gpu_purchase_usd": {"dist": "uniform", "low": 25_000, "high": 35_000},
                "annual_gpu_price_change": -0.15,
                "install_usd_per_gpu": 1_000,
                "maintenance_fraction_per_year": 0.08,
                "power_kw_per_gpu": 0.7,
                "pue": 1.3,
                "electricity_usd_per_kwh": 0.12,
                "facility_monthly_usd": 3_000,
                "infra_monthly_usd": 500,
                **people,
                **lifecycle,
                "uptime": 0.99,
                "fallback": "api",
                "escalation_rate": 0.05,
            },
        },
    }


def _batch(document: dict):
    scenario = parse_scenario(document)
    streams = Streams(SEED, plan_blocks(scenario.paths))
    return make_batch(scenario, streams, sample_inputs(scenario, streams))


def _costs(document: dict, name: str, start=None) -> dict[str, np.ndarray]:
    """Components of option ``name`` at full ``(months, paths)`` shape."""
    batch = _batch(document)
    option = batch.scenario.options[name]
    parts = MODELS[option.kind](option, batch, batch.volume, start=start)
    return {k: np.broadcast_to(np.asarray(v, dtype=float), batch.shape) for k, v in parts.items()}


def _without_setup(document: dict) -> dict:
    document = copy.deepcopy(document)
    for name in STACKS:
        document["options"][name]["setup_months"] = 0
    return document


def _steady(document: dict) -> dict:
    """Constant volume and prices, no upgrades: the only calendar effects are gone, so
    a later start is the same life shifted in time."""
    document = copy.deepcopy(document)
    document["workload"].update(monthly_growth=0.0, growth_volatility=0.0)
    document["options"]["api"]["annual_price_change"] = 0.0
    for name in STACKS:
        option = document["options"][name]
        option["annual_gpu_price_change"] = 0.0
        del option["upgrade_interval_months"]
    return document


STACK = pytest.mark.parametrize("name", STACKS)


@STACK
def test_start_none_is_the_default(name):
    document = _document()
    batch = _batch(document)
    option = batch.scenario.options[name]
    plain = MODELS[option.kind](option, batch, batch.volume)
    explicit = MODELS[option.kind](option, batch, batch.volume, start=None)
    assert plain.keys() == explicit.keys()
    for component in plain:
        np.testing.assert_array_equal(plain[component], explicit[component], err_msg=component)


@STACK
def test_start_zero_without_setup_is_the_plain_model(name):
    document = _without_setup(_document())
    plain = _costs(document, name)
    zero = _costs(document, name, start=np.zeros(PATHS))
    assert plain.keys() == zero.keys()
    for component in plain:
        np.testing.assert_array_equal(zero[component], plain[component], err_msg=component)


@STACK
def test_start_zero_with_setup_only_leaves_the_setup_traffic_out(name):
    document = _document()
    plain = _costs(document, name)
    zero = _costs(document, name, start=np.zeros(PATHS))
    for component in plain:
        if component not in ("fallback", "downtime"):
            np.testing.assert_array_equal(zero[component], plain[component], err_msg=component)
    batch = _batch(document)
    option = batch.scenario.options[name]
    in_setup = setup_share(batch.option_value(option, "setup_months"), batch.months)
    if option.params["fallback"] is not None:
        # The plain model sends all traffic to the fallback in setup months.
        traffic = MODELS["api"](batch.scenario.options["api"], batch, batch.volume)["traffic"]
        expected = zero["fallback"] + in_setup * traffic
        np.testing.assert_allclose(plain["fallback"], expected, rtol=1e-12)
        assert np.all(plain["downtime"] == 0) and np.all(zero["downtime"] == 0)
    else:
        expected = zero["downtime"] + in_setup * (730 * 300)
        np.testing.assert_allclose(plain["downtime"], expected, rtol=1e-12)
    assert np.any(np.broadcast_to(in_setup, batch.shape) > 0)


@STACK
@pytest.mark.parametrize("k", [1, 4, 9])
def test_a_start_of_k_months_charges_nothing_before_it(name, k):
    document = _document()
    late = _costs(document, name, start=np.full(PATHS, float(k)))
    for component, cost in late.items():
        assert np.all(cost[:k] == 0), component
    total = sum(late.values())
    assert np.all(total[k] > 0)  # the team is hired in month k


@STACK
def test_a_later_start_is_the_same_life_shifted(name):
    # Constant volume and prices: month t of a life started at s costs what month t - s
    # of a life started at 0 does, path by path (the team's attrition included).
    document = _steady(_document())
    starts = np.arange(PATHS, dtype=float) % 6
    zero = _costs(document, name, start=np.zeros(PATHS))
    late = _costs(document, name, start=starts)
    for component in zero:
        if component == "hardware":
            continue  # the residual credit falls in the final calendar month: below
        for path, s in enumerate(starts.astype(int)):
            np.testing.assert_allclose(
                late[component][s:, path],
                zero[component][: MONTHS - s, path],
                rtol=1e-12,
                atol=1e-9,
                err_msg=f"{component}, path {path}",
            )
            assert np.all(late[component][:s, path] == 0), component


@STACK
def test_upgrades_only_while_serving(name):
    document = _document()
    batch = _batch(document)
    option = batch.scenario.options[name]
    starts = np.arange(PATHS, dtype=float) % 8
    life = lifecycle(option, batch, starts)
    upgrades, effort = upgrade_costs(option, batch, life.serving)
    assert np.all(upgrades[np.broadcast_to(life.serving, batch.shape) == 0] == 0)
    assert np.any(upgrades > 0)
    effort = np.broadcast_to(effort, batch.shape)
    late = _costs(document, name, start=starts)
    np.testing.assert_array_equal(late["upgrades"], effort)


@STACK
@pytest.mark.parametrize("start", [MONTHS, MONTHS + 7, np.inf])
def test_a_start_at_or_past_the_horizon_costs_nothing(name, start):
    never = _costs(_document(), name, start=np.full(PATHS, start))
    for component, cost in never.items():
        assert np.all(cost == 0), component


def test_per_path_starts_mix_never_and_now():
    document = _document()
    starts = np.where(np.arange(PATHS) % 2 == 0, 0.0, float(MONTHS))
    mixed = _costs(document, "self_hosted", start=starts)
    now = _costs(document, "self_hosted", start=np.zeros(PATHS))
    for component in now:
        np.testing.assert_array_equal(mixed[component][:, ::2], now[component][:, ::2])
        assert np.all(mixed[component][:, 1::2] == 0), component


@pytest.mark.parametrize("start", [[1.5], [-1.0], [np.nan]])
def test_start_must_be_whole_months_from_zero(start):
    batch = _batch(_document())
    option = batch.scenario.options["self_hosted"]
    with pytest.raises(ValueError, match="start must"):
        self_hosted.monthly_costs(option, batch, batch.volume, start=np.resize(start, PATHS))


def test_staffing_hires_the_team_at_the_start():
    batch = _batch(_document())
    option = batch.scenario.options["self_hosted"]
    starts = np.arange(PATHS, dtype=float) % 5
    team = staffing(option, batch, starts)
    plain = staffing(option, batch)
    annual = batch.option_value(option, "engineer_annual_cost")
    hires = np.broadcast_to(team.hiring, batch.shape)
    for path, s in enumerate(starts.astype(int)):
        # 1.5 FTE hired, at a quarter of a year's cost each, in the start month.
        assert hires[s, path] >= 1.5 * 0.25 * annual[path] * (1 - 1e-12)
        np.testing.assert_array_equal(
            hires[s:, path], np.broadcast_to(plain.hiring, batch.shape)[: MONTHS - s, path]
        )


# ---------------------------------------------------------------------------
# A hand-computed case.

HAND = {
    "scenario": {"name": "hand", "horizon_months": 6, "hours_per_month": 730, "paths": 3},
    "workload": {
        # 26,280,000 requests = 10 requests/s over 730 h * 3600 s; 1200 tokens each.
        "requests_per_month": 26_280_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "self_hosted": {
            "kind": "self_hosted",
            "replica_tokens_per_s": 6000,  # 12,000 tokens/s -> 2 replicas of 1 GPU
            "gpu_hourly_usd": 2.0,
            "infra_monthly_usd": 1000,
            "engineers": 1,
            "engineer_annual_cost": 120_000,
            "setup_months": 1.5,
            "setup_gpus": 1,
            "setup_cost_usd": 30_000,
            "uptime": 0.99,
            "fallback": "api",
        },
    },
}


def test_hand_computed_start_month_2():
    batch = _batch(HAND)
    option = batch.scenario.options["self_hosted"]
    starts = np.array([2.0, 0.0, 6.0])
    parts = self_hosted.monthly_costs(option, batch, batch.volume, start=starts)
    costs = {k: np.broadcast_to(v, (6, 3)) for k, v in parts.items()}
    # Path 0 starts in month 2: months 0 and 1 cost nothing.
    # Month 2 (all setup): 1 setup GPU * 730 h * $2 = 1,460; infra 1,000; salary
    # 120,000 / 12 = 10,000; hiring 0.25 * 120,000 = 30,000; setup 30,000 / 1.5 = 20,000.
    # Month 3 (half setup): GPUs 0.5 * 1 * 730 * 2 + 0.5 * 2 * 730 * 2 = 730 + 1,460
    # = 2,190; setup 0.5 * 30,000 / 1.5 = 10,000; fallback for the serving half only:
    # API traffic 26,280,000 * (1000 * 2 + 200 * 8) / 1e6 = 94,608, times
    # 0.5 * (1 - 0.99) = 473.04.
    # Months 4 and 5: GPUs 2 * 730 * 2 = 2,920; fallback 0.01 * 94,608 = 946.08.
    expected = {
        "gpus": [0, 0, 1460, 2190, 2920, 2920],
        "infra": [0, 0, 1000, 1000, 1000, 1000],
        "people": [0, 0, 10_000, 10_000, 10_000, 10_000],
        "hiring": [0, 0, 30_000, 0, 0, 0],
        "setup": [0, 0, 20_000, 10_000, 0, 0],
        "upgrades": [0] * 6,
        "fallback": [0, 0, 0, 473.04, 946.08, 946.08],
        "downtime": [0] * 6,
    }
    assert costs.keys() == expected.keys()
    for component, values in expected.items():
        np.testing.assert_allclose(costs[component][:, 0], values, rtol=1e-12, err_msg=component)
        # Path 2 starts at the horizon: nothing at all.
        assert np.all(costs[component][:, 2] == 0), component
    # Path 1 starts in month 0: the plain model less the setup traffic it would send to
    # the fallback (month 0: 94,608; month 1: half of it plus 0.5 * 946.08).
    plain = self_hosted.monthly_costs(option, batch, batch.volume)
    np.testing.assert_allclose(
        np.broadcast_to(plain["fallback"], (6, 3))[:, 1] - costs["fallback"][:, 1],
        [94_608, 47_304, 0, 0, 0, 0],
        rtol=1e-12,
        atol=1e-9,
    )
    assert np.sum(costs["gpus"][:, 1]) == pytest.approx(1460 + 2190 + 4 * 2920)


def test_on_prem_buys_from_its_start():
    batch = _batch(_steady(_document()))
    option = batch.scenario.options["on_prem"]
    starts = np.arange(PATHS, dtype=float) % 7
    life = lifecycle(option, batch, starts)
    replicas, _ = self_hosted.serving_replicas(option, batch, batch.volume)
    owned, bought = on_prem.fleet(replicas * 2, life, 2)
    for path, s in enumerate(starts.astype(int)):
        assert np.all(owned[:s, path] == 0)
        assert bought[s, path] > 0


@pytest.mark.parametrize("name", ("api", *STACKS))
def test_a_taken_batch_costs_its_paths_as_the_whole_batch_does(name):
    # Repeats and any order: costs are per path, so a batch of chosen paths (how a
    # staged policy costs only the paths that migrate) gives their columns exactly.
    batch = _batch(_document())
    option = batch.scenario.options[name]
    paths = np.array([5, 0, 5, PATHS - 1, 3, 3, 17])
    start = np.arange(PATHS, dtype=float) % (MONTHS + 1)
    whole = MODELS[option.kind](option, batch, batch.volume)
    taken = batch.take(paths)
    part = MODELS[option.kind](option, taken, taken.volume)
    assert whole.keys() == part.keys()
    for component in whole:
        expected = np.broadcast_to(np.asarray(whole[component], dtype=float), batch.shape)
        actual = np.broadcast_to(np.asarray(part[component], dtype=float), taken.shape)
        np.testing.assert_array_equal(actual, expected[:, paths], err_msg=component)
    if name != "api":
        whole = MODELS[option.kind](option, batch, batch.volume, start=start)
        part = MODELS[option.kind](option, taken, taken.volume, start=start[paths])
        for component in whole:
            expected = np.broadcast_to(np.asarray(whole[component], dtype=float), batch.shape)
            actual = np.broadcast_to(np.asarray(part[component], dtype=float), taken.shape)
            np.testing.assert_array_equal(actual, expected[:, paths], err_msg=component)


@STACK
def test_a_staged_policy_costs_then_only_where_it_migrates(name):
    # Half the paths migrate (a trigger per path: 0 or never). Costing then on those
    # paths alone must give what costing it on every path gives, and nothing elsewhere.
    from simulator.costs import monthly_total
    from simulator.costs.staged import costs_for_trigger, total_for_trigger

    document = _document()
    document["options"]["staged"] = {
        "kind": "staged",
        "start": "api",
        "then": name,
        "trigger_monthly_cost": 0.0,
        "trigger_months": 1,
    }
    batch = _batch(document)
    option = batch.scenario.options["staged"]
    then = batch.scenario.options[name]
    trigger = np.where(np.arange(PATHS) % 2 == 0, 0.0, np.inf)
    costs, begin = costs_for_trigger(option, batch, trigger)
    migrating = begin < MONTHS
    assert migrating.any() and not migrating.all()
    full = MODELS[then.kind](then, batch, batch.volume, start=begin)
    for component, values in full.items():
        values = np.broadcast_to(np.asarray(values, dtype=float), batch.shape)
        np.testing.assert_array_equal(costs[f"{name}.{component}"], values, err_msg=component)
    total, _ = total_for_trigger(option, batch, trigger)
    np.testing.assert_allclose(total, monthly_total(costs, batch.shape).sum(axis=0), rtol=1e-12)
