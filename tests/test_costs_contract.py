"""One contract suite that every cost model runs (scenario-format.md, sections 2 and 3).

Each registered option kind is costed on a small batch of paths, once with every
quantity fixed (scalar broadcasting) and once with uncertain quantities (per-path
``(paths, 1)`` draws), and must give:

- one array of shape ``(paths, months)`` per component, finite and non-negative;
- identical arrays for the same seed;
- costs that never fall, path by path and month by month, when realized volume rises
  (``volume_realization`` 1 -> 1.5) or when a price rises (API token prices, GPU-hour
  price, engineers' cost, the managed premium).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from simulator import parse_scenario
from simulator.costs import MODELS, option_costs
from simulator.paths.batch import make_batch
from simulator.paths.sampling import Streams, plan_blocks, sample_inputs

PATHS = 40
SEED = 20240601
MONTHS = 18

# The option of each kind that the suite costs. A newly registered kind fails
# test_every_registered_kind_is_covered until an option of that kind is added here.
OPTION_OF_KIND = {
    "api": "api",
    "self_hosted": "self_hosted",
    "cloud_managed": "cloud_managed",
    "hybrid": "hybrid",
    "on_prem": "on_prem",
    "staged": "staged",
}

# More volume makes a staged policy migrate sooner, which may well cost less: that is
# what the policy is for, so its costs need not rise with volume.
NOT_MONOTONE_IN_VOLUME = {"staged"}


def _document(uncertain: bool) -> dict:
    """A scenario with one option of every kind, exercising most keys of each.

    ``uncertain`` swaps bare numbers for distributions so quantities arrive as
    ``(paths, 1)`` arrays instead of scalars.
    """

    def q(fixed, dist):
        return dist if uncertain else fixed

    return {
        "scenario": {"name": "contract", "horizon_months": MONTHS, "paths": PATHS, "seed": SEED},
        "workload": {
            "requests_per_month": q(5e6, {"dist": "uniform", "low": 3e6, "high": 8e6}),
            "input_tokens_per_request": q(
                900, {"dist": "triangular", "low": 600, "mode": 900, "high": 1200}
            ),
            "output_tokens_per_request": q(150, {"dist": "uniform", "low": 100, "high": 200}),
            "monthly_growth": q(0.05, {"dist": "uniform", "low": -0.02, "high": 0.1}),
            "growth_volatility": q(0.05, {"dist": "uniform", "low": 0.0, "high": 0.1}),
            "volume_realization": 1.0,
            "peak_to_average": q(2.0, {"dist": "uniform", "low": 1.0, "high": 3.0}),
        },
        "business": {
            "downtime_cost_per_hour": q(300, {"dist": "uniform", "low": 100, "high": 500})
        },
        "options": {
            "api": {
                "kind": "api",
                "input_price_per_mtok": q(2.0, {"dist": "uniform", "low": 1.5, "high": 2.5}),
                "output_price_per_mtok": q(8.0, {"dist": "uniform", "low": 6.0, "high": 10.0}),
                "annual_price_change": q(-0.2, {"dist": "uniform", "low": -0.4, "high": 0.1}),
                "monthly_fee": 200,
                "uptime": q(0.999, {"dist": "uniform", "low": 0.99, "high": 1.0}),
            },
            "self_hosted": {
                "kind": "self_hosted",
                "gpus_per_replica": 2,
                "replica_tokens_per_s": q(
                    2500, {"dist": "triangular", "low": 1500, "mode": 2500, "high": 4000}
                ),
                "input_token_weight": q(0.2, {"dist": "uniform", "low": 0.05, "high": 0.3}),
                "max_utilization": q(0.7, {"dist": "uniform", "low": 0.6, "high": 0.8}),
                "min_replicas": 2,
                "spare_replicas": 1,
                "gpu_hourly_usd": q(2.5, {"dist": "uniform", "low": 1.8, "high": 3.5}),
                "annual_gpu_price_change": q(-0.15, {"dist": "uniform", "low": -0.3, "high": 0.0}),
                "infra_monthly_usd": q(1500, {"dist": "uniform", "low": 1000, "high": 2000}),
                "engineers": 1.5,
                "engineer_annual_cost": q(
                    250_000, {"dist": "uniform", "low": 200_000, "high": 300_000}
                ),
                "annual_attrition": q(0.3, {"dist": "uniform", "low": 0.1, "high": 0.5}),
                "vacancy_months": q(2.5, {"dist": "uniform", "low": 1.0, "high": 4.0}),
                "vacancy_uptime_drop": 0.01,
                "backfill_cost_multiplier": 1.3,
                "setup_months": q(2.5, {"dist": "uniform", "low": 1.0, "high": 5.0}),
                "setup_cost_usd": q(40_000, {"dist": "uniform", "low": 20_000, "high": 60_000}),
                "upgrade_interval_months": q(3.0, {"dist": "uniform", "low": 2.0, "high": 6.0}),
                "upgrade_effort_engineer_months": q(
                    1.0, {"dist": "uniform", "low": 0.5, "high": 2.0}
                ),
                "upgrade_overlap_days": q(5.0, {"dist": "uniform", "low": 1.0, "high": 10.0}),
                "uptime": q(0.98, {"dist": "uniform", "low": 0.95, "high": 0.995}),
                "fallback": "api",
                "escalation_rate": q(0.05, {"dist": "uniform", "low": 0.0, "high": 0.1}),
            },
            "cloud_managed": {
                # No fallback: setup and downtime hours cost downtime_cost_per_hour.
                "kind": "cloud_managed",
                "gpus_per_replica": 1,
                "replica_tokens_per_s": q(2000, {"dist": "uniform", "low": 1500, "high": 3000}),
                "min_replicas": 0,
                "provisioning": "autoscale",
                "autoscale_overhead": q(1.3, {"dist": "uniform", "low": 1.2, "high": 1.6}),
                "gpu_hourly_usd": q(2.5, {"dist": "uniform", "low": 1.8, "high": 3.5}),
                "managed_premium": q(0.3, {"dist": "uniform", "low": 0.2, "high": 0.4}),
                "engineers": 1,
                "engineer_annual_cost": q(
                    250_000, {"dist": "uniform", "low": 200_000, "high": 300_000}
                ),
                "annual_attrition": q(0.2, {"dist": "uniform", "low": 0.1, "high": 0.3}),
                "vacancy_months": q(3.0, {"dist": "uniform", "low": 1.5, "high": 6.0}),
                "vacancy_uptime_drop": 0.005,
                "setup_months": q(1.5, {"dist": "uniform", "low": 0.0, "high": 3.0}),
                "setup_cost_usd": 20_000,
                "upgrade_interval_months": 4.0,
                "upgrade_effort_engineer_months": 0.5,
                "upgrade_overlap_days": 2.0,
                "uptime": q(0.997, {"dist": "uniform", "low": 0.99, "high": 0.999}),
            },
            "hybrid": {
                "kind": "hybrid",
                "routes": [
                    {"option": "self_hosted", "share": 0.7},
                    {"option": "api", "share": 0.3},
                ],
            },
            "on_prem": {
                # Amortized: the cash view credits the residual value in the final month
                # (a negative cost, smaller at lower volume), see tests/test_on_prem.py.
                "kind": "on_prem",
                "accounting": "amortized",
                "gpus_per_replica": 2,
                "replica_tokens_per_s": q(
                    2500, {"dist": "triangular", "low": 1500, "mode": 2500, "high": 4000}
                ),
                "min_replicas": 1,
                "spare_replicas": 1,
                "gpu_purchase_usd": q(30_000, {"dist": "uniform", "low": 25_000, "high": 35_000}),
                "annual_gpu_price_change": q(-0.15, {"dist": "uniform", "low": -0.3, "high": 0.0}),
                "install_usd_per_gpu": 1_000,
                "maintenance_fraction_per_year": 0.05,
                "power_kw_per_gpu": 0.7,
                "pue": 1.3,
                "electricity_usd_per_kwh": q(0.12, {"dist": "uniform", "low": 0.08, "high": 0.2}),
                "facility_monthly_usd": 2_000,
                "engineers": 2,
                "engineer_annual_cost": q(
                    250_000, {"dist": "uniform", "low": 200_000, "high": 300_000}
                ),
                "annual_attrition": q(0.3, {"dist": "uniform", "low": 0.1, "high": 0.5}),
                "vacancy_months": 2.0,
                "vacancy_uptime_drop": 0.01,
                "setup_months": q(3.0, {"dist": "uniform", "low": 1.0, "high": 5.0}),
                "setup_gpus": 4,
                "upgrade_interval_months": 4.0,
                "upgrade_effort_engineer_months": 1.0,
                "upgrade_overlap_days": 3.0,
                "uptime": 0.99,
                "fallback": "api",
                "escalation_rate": 0.05,
            },
            "staged": {
                # The API bill starts near $15k a month; most paths pass $20k mid-horizon.
                "kind": "staged",
                "start": "api",
                "then": "self_hosted",
                "trigger_monthly_cost": q(
                    20_000, {"dist": "uniform", "low": 15_000, "high": 30_000}
                ),
                "trigger_months": 2,
            },
        },
    }


def _costs(document: dict, name: str, *, seed: int = SEED) -> dict[str, np.ndarray]:
    """Cost components of option ``name`` on the first PATHS paths of ``seed``."""
    scenario = parse_scenario(document)
    streams = Streams(seed, plan_blocks(PATHS))
    batch = make_batch(scenario, streams, sample_inputs(scenario, streams))
    # The contract: each component is a number or an array that broadcasts to
    # (months, paths); compared here at that full shape, as (paths, months).
    return {
        component: np.broadcast_to(np.asarray(cost, dtype=float), (MONTHS, PATHS)).T
        for component, cost in option_costs(batch, name).items()
    }


def _scaled(spec, factor: float):
    """A quantity (bare number or distribution table) with every value times ``factor``.

    Inverse CDFs of location-scale families scale with their parameters, so each path's
    draw is ``factor`` times what it was: a path-by-path comparison.
    """
    if isinstance(spec, dict):
        return {k: (v * factor if isinstance(v, int | float) else v) for k, v in spec.items()}
    return spec * factor


def _with(document: dict, key: str, transform) -> dict:
    document = copy.deepcopy(document)
    *parents, leaf = key.split(".")
    node = document
    for part in parents:
        node = node[part]
    node[leaf] = transform(node[leaf])
    return document


VARIANTS = pytest.mark.parametrize("uncertain", [False, True], ids=["fixed", "uncertain"])
KINDS = pytest.mark.parametrize("kind", sorted(MODELS))


def test_every_registered_kind_is_covered():
    assert set(MODELS) == set(OPTION_OF_KIND), "add an option of each new kind to this suite"
    for uncertain in (False, True):
        options = _document(uncertain)["options"]
        assert {options[name]["kind"] for name in OPTION_OF_KIND.values()} == set(MODELS)


@VARIANTS
@KINDS
@pytest.mark.parametrize("volume_realization", [0.0, 1.0], ids=["no-volume", "volume"])
def test_components_are_finite_non_negative_paths_by_months(kind, uncertain, volume_realization):
    document = _document(uncertain)
    document["workload"]["volume_realization"] = volume_realization
    costs = _costs(document, OPTION_OF_KIND[kind])
    assert costs, "a cost model must report at least one component"
    for component, cost in costs.items():
        assert cost.shape == (PATHS, MONTHS), component
        assert np.all(np.isfinite(cost)), component
        assert np.all(cost >= 0), component


@VARIANTS
@KINDS
def test_same_seed_gives_identical_costs(kind, uncertain):
    name = OPTION_OF_KIND[kind]
    first = _costs(_document(uncertain), name)
    again = _costs(_document(uncertain), name)
    assert first.keys() == again.keys()
    for component in first:
        np.testing.assert_array_equal(first[component], again[component], err_msg=component)


@KINDS
def test_different_seeds_differ_where_something_is_uncertain(kind):
    # Guards the determinism test against a model that ignores its draws entirely.
    name = OPTION_OF_KIND[kind]
    a = sum(_costs(_document(True), name, seed=1).values())
    b = sum(_costs(_document(True), name, seed=2).values())
    assert not np.array_equal(a, b)


def _assert_not_lower(low: dict, high: dict, what: str):
    assert low.keys() == high.keys()
    for component in low:
        # Equal up to rounding where the change does not touch the component.
        slack = 1e-9 * np.maximum(1.0, np.abs(low[component]))
        assert np.all(high[component] >= low[component] - slack), f"{what}: {component} fell"
    total_low, total_high = sum(low.values()), sum(high.values())
    assert np.all(total_high > total_low - 1e-9 * np.abs(total_low)), what


@VARIANTS
@KINDS
def test_costs_never_fall_when_realized_volume_rises(kind, uncertain):
    if kind in NOT_MONOTONE_IN_VOLUME:
        pytest.skip("a policy that migrates sooner at higher volume may cost less")
    name = OPTION_OF_KIND[kind]
    document = _document(uncertain)
    low = _costs(_with(document, "workload.volume_realization", lambda _: 1.0), name)
    high = _costs(_with(document, "workload.volume_realization", lambda _: 1.5), name)
    _assert_not_lower(low, high, "volume x1.5")
    # Volume drives the cost of every kind here, so it must rise somewhere.
    assert np.any(sum(high.values()) > sum(low.values()))


PRICES = {
    "api": ["options.api.input_price_per_mtok", "options.api.output_price_per_mtok"],
    "self_hosted": [
        "options.self_hosted.gpu_hourly_usd",
        "options.self_hosted.engineer_annual_cost",
        "options.api.input_price_per_mtok",  # its fallback's price
        "options.api.output_price_per_mtok",
    ],
    "cloud_managed": [
        "options.cloud_managed.gpu_hourly_usd",
        "options.cloud_managed.engineer_annual_cost",
        "options.cloud_managed.managed_premium",
    ],
    "hybrid": [
        "options.api.input_price_per_mtok",
        "options.api.output_price_per_mtok",
        "options.self_hosted.gpu_hourly_usd",
        "options.self_hosted.engineer_annual_cost",
    ],
    "on_prem": [
        "options.on_prem.gpu_purchase_usd",
        "options.on_prem.electricity_usd_per_kwh",
        "options.on_prem.engineer_annual_cost",
        "options.api.input_price_per_mtok",  # its fallback's price
    ],
    # Not the start option's prices: a dearer API makes the policy migrate sooner.
    "staged": [
        "options.self_hosted.gpu_hourly_usd",
        "options.self_hosted.engineer_annual_cost",
    ],
}


def test_every_kind_has_prices_to_raise():
    assert set(PRICES) == set(MODELS)


@VARIANTS
@pytest.mark.parametrize(
    ("kind", "price"), [(kind, price) for kind in sorted(PRICES) for price in PRICES[kind]]
)
def test_costs_never_fall_when_a_price_rises(kind, price, uncertain):
    name = OPTION_OF_KIND[kind]
    document = _document(uncertain)
    low = _costs(document, name)
    high = _costs(_with(document, price, lambda spec: _scaled(spec, 1.5)), name)
    _assert_not_lower(low, high, f"{price} x1.5")
    assert np.any(sum(high.values()) > sum(low.values())), f"{price} changed nothing"
