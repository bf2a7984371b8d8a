"""Owned GPUs (kind = "on_prem", scenario-format.md section 7), against hand
calculations.

Modelling choices beyond the contract are tested as implemented (see
simulator/costs/on_prem.py): a GPU bought in month s of a T-month horizon is T - s
months old at its end; installation follows no price trend and is depreciated with the
GPU in the amortized view; every owned GPU draws its rated power all month; upgrade
overlaps add energy but buy nothing; maintenance is on the purchase price.
"""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest

from simulator import parse_scenario
from simulator.costs import option_costs
from simulator.decide.policy import simulate
from simulator.paths.batch import make_batch
from simulator.paths.sampling import Streams, plan_blocks, sample_inputs

H = 12
PATHS = 3


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-6)


# Zero variance: 26,280,000 requests a month = 10 requests/s over 730 h * 3600 s, of
# 1000 input + 200 output tokens: 12,000 weighted tokens/s. A replica sustains 6,000,
# so 2 replicas of 1 GPU, at peak_to_average 1.
KNOWN = {
    "scenario": {"name": "on-prem", "horizon_months": H, "hours_per_month": 730, "paths": PATHS},
    "workload": {
        "requests_per_month": 26_280_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "owned": {
            "kind": "on_prem",
            "replica_tokens_per_s": 6000,
            "gpu_purchase_usd": 30_000,
            "install_usd_per_gpu": 1_000,
            "amortization_months": 48,
            "residual_value_fraction": 0.2,
            "maintenance_fraction_per_year": 0.06,
            "power_kw_per_gpu": 0.7,
            "pue": 1.2,
            "electricity_usd_per_kwh": 0.12,
            "facility_monthly_usd": 2_000,
            "infra_monthly_usd": 500,
            "engineers": 1,
            "engineer_annual_cost": 120_000,
            "gpus_per_server": 1,  # GPUs one at a time here; whole servers are tested below
        },
    },
}

# Energy: 2 GPUs * 0.7 kW * 730 h * PUE 1.2 * $0.12/kWh = $147.168 a month.
ENERGY = 2 * 0.7 * 730 * 1.2 * 0.12
# Maintenance: 6% a year of the $60,000 paid for the GPUs: 0.06 / 12 * 60,000 = $300.
MAINTENANCE = 0.06 / 12 * 60_000
# People: 120,000 / 12 = $10,000 a month; hiring 0.25 * 120,000 = $30,000 in month 0.
PEOPLE, HIRING = 10_000, 30_000
# Every month: energy + maintenance + facility 2,000 + infra 500 + people.
RUNNING = ENERGY + MAINTENANCE + 2_000 + 500 + PEOPLE  # 12,947.168
# Cash: 2 * (30,000 + 1,000) = $62,000 in month 0. At the horizon each GPU is 12 months
# old and worth 30,000 * (1 - 0.8 * 12 / 48) = 30,000 * 0.8 = $24,000: -48,000 in month 11.
CASH = [62_000] + [0] * 10 + [-48_000]
# Amortized: (30,000 * (1 - 0.2) + 1,000) / 48 = 25,000 / 48 = $520.833 a GPU a month.
AMORTIZED = [2 * 25_000 / 48] * H
# Totals: cash 14,000 + 12 * 12,947.168 + 30,000 = 199,366.016; amortized 12,500 + the
# same = 197,866.016. The 1,500 between them is the installation not yet depreciated:
# 2 GPUs * 1,000 * (1 - 12 / 48).
CASH_TOTAL = 14_000 + 12 * RUNNING + HIRING
AMORTIZED_TOTAL = 12_500 + 12 * RUNNING + HIRING


def _batch(document: dict, seed: int = 0):
    scenario = parse_scenario(document)
    streams = Streams(seed, plan_blocks(scenario.paths))
    return make_batch(scenario, streams, sample_inputs(scenario, streams))


def _costs(document: dict, name: str = "owned"):
    """Components at full (months, paths) shape, and the batch (for its notes)."""
    batch = _batch(document)
    parts = option_costs(batch, name)
    full = {k: np.broadcast_to(np.asarray(v, dtype=float), batch.shape) for k, v in parts.items()}
    return full, batch


def _with(**keys) -> dict:
    document = copy.deepcopy(KNOWN)
    document["options"]["owned"].update(keys)
    return document


@pytest.mark.parametrize("accounting", ["cash", "amortized"])
def test_known_costs_for_both_views(accounting):
    costs, batch = _costs(_with(accounting=accounting))
    expected = {
        "hardware": CASH if accounting == "cash" else AMORTIZED,
        "energy": [ENERGY] * H,
        "maintenance": [MAINTENANCE] * H,
        "facility": [2_000] * H,
        "infra": [500] * H,
        "people": [PEOPLE] * H,
        "hiring": [HIRING] + [0] * (H - 1),
        "setup": [0] * H,
        "upgrades": [0] * H,
        "fallback": [0] * H,
        "downtime": [0] * H,
    }
    assert set(costs) == set(expected)
    for component, values in expected.items():
        for path in range(PATHS):
            assert costs[component][:, path] == approx(values), component
    notes = batch.notes["owned"]
    assert set(notes) == {"cash_total", "amortized_total", "gpus_owned"}
    assert notes["cash_total"] == approx([CASH_TOTAL] * PATHS)
    assert notes["amortized_total"] == approx([AMORTIZED_TOTAL] * PATHS)
    assert list(notes["gpus_owned"]) == [2.0] * PATHS
    # The note of the chosen view is the option's total.
    total = sum(costs.values()).sum(axis=0)
    assert notes[f"{accounting}_total"] == approx(total)


def test_setup_gpus_are_bought_first_and_kept():
    costs, batch = _costs(
        _with(setup_months=1.5, setup_gpus=1, setup_cost_usd=30_000, fallback="api")
    )
    hardware = costs["hardware"][:, 0]
    # Month 0 is all setup: 1 GPU bought, $31,000. Month 1 is half setup, half serving:
    # the 2 serving GPUs are needed, 1 more bought. Nothing after.
    # Residual: the month-0 GPU is 12 months old, 30,000 * (1 - 0.8 * 12 / 48) = 24,000;
    # the month-1 GPU 11 months, 30,000 * (1 - 0.8 * 11 / 48) = 24,500: -48,500.
    assert hardware == approx([31_000, 31_000] + [0] * 9 + [-48_500])
    # Energy: 1 GPU in month 0 (73.584), 2 from month 1; maintenance on $30,000, then
    # $60,000 of GPUs.
    assert costs["energy"][:, 0] == approx([ENERGY / 2] + [ENERGY] * (H - 1))
    assert costs["maintenance"][:, 0] == approx([150] + [300] * (H - 1))
    # The fallback carries all traffic in setup: 26,280,000 * $0.0036 = 94,608 in
    # month 0, half of it in month 1.
    assert costs["fallback"][:, 0] == approx([94_608, 47_304] + [0] * (H - 2))
    assert costs["setup"][:, 0] == approx([20_000, 10_000] + [0] * (H - 2))
    assert list(batch.notes["owned"]["gpus_owned"]) == [2.0] * PATHS


def test_a_later_start_buys_later():
    batch = _batch(_with(accounting="amortized"))
    option = batch.scenario.options["owned"]
    from simulator.costs import on_prem

    start = np.array([3.0, 0.0, 12.0])
    parts = on_prem.monthly_costs(option, batch, batch.volume, start=start)
    hardware = np.broadcast_to(parts["hardware"], batch.shape)
    # Path 0 buys its 2 GPUs in month 3 and depreciates them for the 9 months left.
    assert hardware[:, 0] == approx([0] * 3 + [2 * 25_000 / 48] * 9)
    assert hardware[:, 1] == approx(AMORTIZED)
    assert np.all(hardware[:, 2] == 0)
    # Cash view of path 0: 62,000 in month 3; the GPUs are 9 months old at the end and
    # worth 30,000 * (1 - 0.8 * 9 / 48) = 25,500 each: -51,000 in month 11.
    cash_total = batch.notes["owned"]["cash_total"]
    running = 9 * RUNNING + HIRING
    assert cash_total[0] == approx(62_000 - 51_000 + running)
    assert cash_total[2] == 0


# Volume grows 10% a month: demand 2 * 1.1**t replicas, rounded up:
# 2.00 2.20 2.42 2.66 2.93 3.22 3.54 3.90 4.29 4.72 5.19 5.71
NEEDED = np.array([2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6], dtype=float)


def test_growing_volume_buys_more_gpus_later_at_that_months_price():
    document = _with(install_usd_per_gpu=0, annual_gpu_price_change=-0.2)
    document["workload"]["monthly_growth"] = 0.1
    costs, batch = _costs(document)
    bought = np.diff(NEEDED, prepend=0.0)  # 2 1 0 0 0 1 0 0 1 0 1 0
    t = np.arange(H)
    price = 30_000 * 0.8 ** (t / 12)  # the purchase price falls 20% a year
    kept = 1 - 0.8 * (H - t) / 48  # value kept at the horizon, by purchase month
    expected = bought * price
    expected[-1] -= np.sum(bought * price * kept)
    assert costs["hardware"][:, 0] == approx(expected)
    assert costs["energy"][:, 0] == approx(NEEDED * ENERGY / 2)
    assert costs["maintenance"][:, 0] == approx(0.06 / 12 * np.cumsum(bought * price))
    assert list(batch.notes["owned"]["gpus_owned"]) == [6.0] * PATHS


def test_falling_volume_never_sells():
    document = _with(min_replicas=0)
    document["workload"]["monthly_growth"] = -0.3
    costs, batch = _costs(document)
    # Demand falls to 2 * 0.7**11 = 0.04 replicas (rounded up: 1), but the 2 GPUs bought
    # in month 0 are kept: no other purchase, energy and maintenance for 2 throughout.
    assert costs["hardware"][:, 0] == approx(CASH)
    assert costs["energy"][:, 0] == approx([ENERGY] * H)
    assert list(batch.notes["owned"]["gpus_owned"]) == [2.0] * PATHS


def test_upgrade_overlap_adds_energy_and_buys_nothing():
    plain, _ = _costs(KNOWN)
    upgraded, _ = _costs(
        _with(
            upgrade_interval_months=2,
            upgrade_effort_engineer_months=1,
            upgrade_overlap_days=5,
        )
    )
    # Upgrades adopted each month, recovered from their effort: 1 engineer-month at
    # 120,000 / 12 = 10,000 each.
    upgrades = upgraded["upgrades"] / 10_000
    assert upgrades.sum() > 0
    assert upgraded["hardware"] == approx(plain["hardware"])
    # Each overlaps 5 days * 24 h on the 2 serving GPUs, at 0.7 * 1.2 * 0.12 $/GPU-hour.
    overlap = upgrades * 2 * 5 * 24 * 0.7 * 1.2 * 0.12
    assert upgraded["energy"] == approx(plain["energy"] + overlap)


UNCERTAIN = {
    "scenario": {"name": "on-prem uncertain", "horizon_months": 30, "paths": 64, "seed": 9},
    "workload": {
        "requests_per_month": {"dist": "lognormal", "p5": 5e6, "p95": 4e7},
        "input_tokens_per_request": 900,
        "output_tokens_per_request": 150,
        "monthly_growth": {"dist": "uniform", "low": -0.02, "high": 0.08},
        "growth_volatility": 0.08,
        "peak_to_average": {"dist": "uniform", "low": 1.0, "high": 3.0},
    },
    "options": {
        "api": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0},
        "owned": {
            "kind": "on_prem",
            "gpus_per_replica": 2,
            "replica_tokens_per_s": {"dist": "uniform", "low": 1500, "high": 3000},
            "spare_replicas": 1,
            "gpu_purchase_usd": {"dist": "uniform", "low": 25_000, "high": 35_000},
            "install_usd_per_gpu": 0,
            "amortization_months": 24,
            "residual_value_fraction": {"dist": "uniform", "low": 0.1, "high": 0.3},
            "maintenance_fraction_per_year": 0.05,
            "power_kw_per_gpu": 0.7,
            "electricity_usd_per_kwh": {"dist": "uniform", "low": 0.08, "high": 0.2},
            "engineers": 2,
            "engineer_annual_cost": 200_000,
            "annual_attrition": 0.3,
            "vacancy_months": 2,
            "setup_months": 2,
            "setup_gpus": 4,
            "upgrade_interval_months": 4,
            "upgrade_effort_engineer_months": 1,
            "upgrade_overlap_days": 3,
            "uptime": 0.99,
            "fallback": "api",
        },
    },
}


def test_without_installation_both_views_total_the_same():
    # Cash pays price p and gets back p * (1 - (1 - r) * min(age, A) / A); amortized
    # charges p * (1 - r) / A for min(age, A) months: the same net, per GPU.
    _, batch = _costs(UNCERTAIN)
    notes = batch.notes["owned"]
    np.testing.assert_allclose(notes["cash_total"], notes["amortized_total"], rtol=1e-12)
    assert np.unique(notes["gpus_owned"]).size > 1


def test_installation_is_the_difference_between_the_views():
    # Cash pays install i at purchase and never gets it back; amortized charges i / A
    # for min(age, A) months. So cash - amortized = sum over purchases of
    # i * (1 - min(T - s, A) / A), the installation not yet depreciated.
    document = copy.deepcopy(UNCERTAIN)
    owned = document["options"]["owned"]
    owned.update(install_usd_per_gpu=2_000, gpu_purchase_usd=30_000)
    costs, batch = _costs(document)
    T, A = 30, 24
    # Cash hardware is purchases * (30,000 + 2,000) before the last month; the rest of
    # the GPUs owned at the horizon were bought in it.
    bought = costs["hardware"][:-1] / 32_000
    assert np.allclose(bought, np.round(bought)) and np.all(bought >= 0)
    owned_at_end = batch.notes["owned"]["gpus_owned"]
    bought = np.vstack([bought, owned_at_end - bought.sum(axis=0)])
    s = np.arange(T)[:, None]
    undepreciated = 2_000 * (bought * (1 - np.minimum(T - s, A) / A)).sum(axis=0)
    notes = batch.notes["owned"]
    np.testing.assert_allclose(
        notes["cash_total"] - notes["amortized_total"], undepreciated, rtol=1e-9, atol=1e-6
    )
    # Some paths bought GPUs in the last A months, some (all bought in setup) did not.
    assert np.any(undepreciated > 0) and np.any(undepreciated == 0)


def test_uncertain_costs_are_finite_and_only_the_residual_is_negative():
    for accounting in ("cash", "amortized"):
        document = copy.deepcopy(UNCERTAIN)
        document["options"]["owned"]["accounting"] = accounting
        costs, _ = _costs(document)
        for component, cost in costs.items():
            assert np.all(np.isfinite(cost)), component
            if component == "hardware" and accounting == "cash":
                assert np.all(cost[:-1] >= 0) and np.all(cost[-1] < 0)
            else:
                assert np.all(cost >= 0), component


def test_notes_are_left_by_the_option_alone():
    # A hybrid route costs the option on a share of the volume: the notes stay those
    # of the option on its own volume.
    document = copy.deepcopy(UNCERTAIN)
    document["options"]["mix"] = {
        "kind": "hybrid",
        "routes": [{"option": "owned", "share": 0.5}, {"option": "api", "share": 0.5}],
    }
    batch = _batch(document)
    option_costs(batch, "owned")
    alone = dict(batch.notes["owned"])
    option_costs(batch, "mix")
    for key, values in alone.items():
        np.testing.assert_array_equal(batch.notes["owned"][key], values)


SCENARIO_TOML = """
[scenario]
name = "owned GPUs"
horizon_months = 12
hours_per_month = 730

[workload]
requests_per_month = 26_280_000
input_tokens_per_request = 1000
output_tokens_per_request = 200

[options.api]
kind = "api"
input_price_per_mtok = 2.0
output_price_per_mtok = 8.0

[options.owned]
kind = "on_prem"
replica_tokens_per_s = 6000
gpu_purchase_usd = 30_000
install_usd_per_gpu = 1_000
maintenance_fraction_per_year = 0.06
power_kw_per_gpu = 0.7
pue = 1.2
electricity_usd_per_kwh = 0.12
facility_monthly_usd = 2_000
infra_monthly_usd = 500
engineers = 1
engineer_annual_cost = 120_000
accounting = "{accounting}"
gpus_per_server = 1
"""


@pytest.mark.parametrize("accounting", ["cash", "amortized"])
def test_a_scenario_with_an_on_prem_option_runs(accounting):
    scenario = parse_scenario(tomllib.loads(SCENARIO_TOML.format(accounting=accounting)))
    result = simulate(scenario, paths=50, seed=0, workers=1, keep_paths=True)
    total = CASH_TOTAL if accounting == "cash" else AMORTIZED_TOTAL
    assert result.totals["owned"] == approx([total] * 50)
    # The API: 94,608 a month.
    assert result.totals["api"] == approx([12 * 94_608] * 50)
    assert result.components["owned"]["hardware"] == approx(
        [14_000 if accounting == "cash" else 12_500] * 50
    )


def test_gpus_are_bought_in_whole_servers():
    # 2 GPUs needed, servers of 8: 8 GPUs bought in month 0, 8 * 31,000 = 248,000 paid.
    # Energy for 8 owned GPUs: 8 * 0.7 * 730 * 1.2 * 0.12 = 588.672 a month (all draw
    # power, busy or idle); maintenance 0.06 / 12 * 240,000 = 1,200 a month.
    parts, batch = _costs(_with(gpus_per_server=8))
    assert parts["hardware"][0] == approx(np.full(PATHS, 248_000.0))
    assert parts["energy"][0] == approx(np.full(PATHS, 8 * 0.7 * 730 * 1.2 * 0.12))
    assert parts["maintenance"][0] == approx(np.full(PATHS, 1_200.0))
    assert batch.notes["owned"]["gpus_owned"] == approx(np.full(PATHS, 8.0))
    # 9 GPUs needed (3 replicas of 3): two servers, 16 GPUs.
    parts, batch = _costs(_with(gpus_per_server=8, gpus_per_replica=3, min_replicas=3))
    assert batch.notes["owned"]["gpus_owned"] == approx(np.full(PATHS, 16.0))


def test_the_amortized_view_charges_for_the_capital_tied_up():
    # 2 GPUs at 30,000 bought in month 0; straight-line depreciation of the price to a
    # 20% residual over 48 months: 30,000 * 0.8 / 48 = 500 a GPU a month. Book value at
    # the start of month t: 2 * (30,000 - 500 * t); at 12% a year the charge is 1% of it
    # a month: 600 in month 0, 590 in month 1, ..., 490 in month 11 (total 6,540).
    parts, _ = _costs(_with(accounting="amortized", capital_charge_rate=0.12))
    expected = 0.01 * 2 * (30_000 - 500 * np.arange(H))
    assert parts["capital_charge"][:, 0] == approx(expected)
    assert expected.sum() == approx(6_540)
    # The cash view has none: paying up front is what the NPV discounts.
    parts, batch = _costs(_with(accounting="cash", capital_charge_rate=0.12))
    assert "capital_charge" not in parts
    notes = batch.notes["owned"]
    assert notes["amortized_total"] - notes["cash_total"] == approx(
        np.full(PATHS, AMORTIZED_TOTAL - CASH_TOTAL + 6_540)
    )


def test_the_capital_charge_defaults_to_the_discount_rate_and_stops_at_the_residual():
    # 24 months of a 6-month life at the scenario's 12% a year: the book value falls by
    # 30,000 * 0.8 / 6 = 4,000 a GPU a month to the 6,000 residual, then stays there.
    document = _with(accounting="amortized", amortization_months=6)
    document["scenario"].update(horizon_months=24, discount_rate=0.12)
    parts, _ = _costs(document)
    book = 2 * np.maximum(30_000 - 4_000 * np.arange(24), 6_000)
    assert parts["capital_charge"][:, 0] == approx(0.01 * book)
