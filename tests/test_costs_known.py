"""Known answers: zero-variance scenarios checked against hand calculations.

Every expected number below comes from the formulas of scenario-format.md (sections
2, 3 and 5) worked by hand in the comments, not from the simulator's own helpers.
Modelling choices beyond the contract are tested as implemented (see
simulator/costs/team.py and lifecycle.py): ceil(engineers) equal seats, monthly leave
probability 1 - (1 - a)**(1/12), a seat empty for vacancy_months pro rata, the initial
team hired in month 0, upgrades Poisson with mean serving_share / interval a month.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import parse_scenario, run
from simulator.decide.summary import breakeven_median, cvar
from simulator.engine.run import breakeven_months, year_ends
from simulator.paths.workload import realized_volume


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-6)


# ---------------------------------------------------------------------------
# The worked scenario: API baseline, a cheap hosted-open API and a self-hosted stack.

H = 30  # months: years end at months 12, 24 and 30 (a partial last year)
T = np.arange(H)  # t = 0 for the first month
HOURS = 730

KNOWN = {
    "scenario": {
        "name": "known answers",
        "horizon_months": H,
        "discount_rate": 0.10,
        "hours_per_month": HOURS,
        "paths": 4,
        "seed": 11,
        "baseline": "api",
    },
    "workload": {
        # 26,280,000 requests = 10 requests/s over 730 h * 3600 s = 2,628,000 s.
        "requests_per_month": 26_280_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
        "monthly_growth": 0.02,
        "peak_to_average": 2.5,
    },
    "business": {"downtime_cost_per_hour": 100},
    "options": {
        "api": {
            "kind": "api",
            "input_price_per_mtok": 2.0,
            "output_price_per_mtok": 8.0,
            "annual_price_change": -0.19,  # (1 - 0.19)**(t/12) = 0.81**(t/12)
            "monthly_fee": 500,
            "uptime": 0.999,
        },
        "hosted_open": {
            "kind": "api",
            "input_price_per_mtok": 0.2,
            "output_price_per_mtok": 0.4,
        },
        "self_hosted": {
            "kind": "self_hosted",
            "gpus_per_replica": 2,
            "replica_tokens_per_s": 3000,
            "input_token_weight": 0.3,
            "max_utilization": 0.8,
            "min_replicas": 6,
            "spare_replicas": 1,
            "gpu_hourly_usd": 2.0,
            "annual_gpu_price_change": -0.19,
            "infra_monthly_usd": 1000,
            "engineers": 1.5,
            "engineer_annual_cost": 120_000,
            "annual_attrition": 0,
            "vacancy_months": 3,
            "vacancy_uptime_drop": 0.05,
            "setup_months": 2.5,
            "setup_gpus": 4,
            "setup_cost_usd": 600_000,
            "uptime": 0.99,
            "fallback": "api",
            "escalation_rate": 0.2,
        },
    },
}

# Realized volume: no volatility, realization 1 -> V_t = 26,280,000 * 1.02**t.
V = 26_280_000 * 1.02**T
PRICE_TREND = 0.81 ** (T / 12)  # both the API's and the GPUs' -19 % a year

# api: per request (1000 * 2.00 + 200 * 8.00) / 1e6 = $0.0036, so 94,608 in month 0.
API_TRAFFIC = V * 0.0036 * PRICE_TREND
# plus the fee 500 and downtime (1 - 0.999) * 730 h * $100 = 73 a month.
API_MONTHLY = API_TRAFFIC + 500 + 73
# hosted_open: (1000 * 0.2 + 200 * 0.4) / 1e6 = $0.00028 a request, 7,358.40 in month 0;
# uptime 1 (no downtime), no fee, no trend.
HOSTED_MONTHLY = V * 0.00028

# self_hosted
# Demand after escalation: 10 req/s * 1.02**t * (1 - 0.2) * (1000 * 0.3 + 200) = 4000 * 1.02**t
# weighted tokens/s. Peak 2.5x: 10,000 * 1.02**t over 3000 * 0.8 = 2400 per replica,
# i.e. 4.1667 * 1.02**t, rounded up:
#   t = 0..9:   4.17 .. 4.98 (1.02**9 = 1.195) -> 5
#   t = 10..18: 5.08 .. 5.95 (1.02**18 = 1.428) -> 6
#   t = 19..26: 6.07 .. 6.97 (1.02**26 = 1.673) -> 7
#   t = 27..29: 7.11 .. 7.40                   -> 8
# max(min_replicas 6, that) + 1 spare:
REPLICAS = np.array([7] * 19 + [8] * 8 + [9] * 3)
# Setup 2.5 months: months 0 and 1 wholly in setup, month 2 half, then serving.
IN_SETUP = np.array([1.0, 1.0, 0.5] + [0.0] * (H - 3))
SERVING = 1 - IN_SETUP
# GPUs: serving replicas * 2 GPUs, or the 4 setup GPUs, * 730 h * $2.00 * trend.
# Month 0: 4 * 730 * 2 = 5,840; month 2: (0.5 * 14 + 0.5 * 4) * 730 * 2 * 0.81**(2/12).
SH_GPUS = (SERVING * REPLICAS * 2 + IN_SETUP * 4) * HOURS * 2.0 * PRICE_TREND
# The fallback (api) carries every request in setup, then escalations plus the
# non-escalated share of downtime: 0.2 + 0.8 * (1 - 0.99) = 0.208. Month 2:
# 0.5 + 0.5 * 0.208 = 0.604. No attrition, so effective uptime stays 0.99.
FALLBACK_SHARE = IN_SETUP + SERVING * 0.208
SH_FALLBACK = FALLBACK_SHARE * API_TRAFFIC
# People: 1.5 FTE * 120,000 / 12 = 15,000 a month, during setup too.
SH_PEOPLE = np.full(H, 15_000.0)
# Hiring the initial team (1.5 FTE by default) in month 0: 1.5 * 0.25 * 120,000 = 45,000.
SH_HIRING = np.where(T == 0, 45_000.0, 0.0)
# Setup cost 600,000 spread over 2.5 months: 240,000, 240,000, then 0.5/2.5 -> 120,000.
SH_SETUP = np.array([240_000.0, 240_000.0, 120_000.0] + [0.0] * (H - 3))
SH_INFRA = np.full(H, 1_000.0)
SH_MONTHLY = SH_GPUS + SH_FALLBACK + SH_PEOPLE + SH_HIRING + SH_SETUP + SH_INFRA
# Month 0: 5,840 + 94,608 + 15,000 + 45,000 + 240,000 + 1,000 = 401,448.

MONTHLY = {"api": API_MONTHLY, "hosted_open": HOSTED_MONTHLY, "self_hosted": SH_MONTHLY}
DISCOUNT = 1.10 ** (-T / 12)  # month t weighted by (1 + 0.10)**(-t/12)

# Cumulative savings of self_hosted (api minus self_hosted), in thousands:
#   month 1: -306, month 3: -678 (the trough, setup ends), month 12: -250,
#   month 18: -17.8, month 19: +29.9, and rising to +556 at month 30.
# So it is behind at the end of year 1 and ahead at months 24 and 30, and it breaks
# even in month 19. hosted_open is cheaper from the first month on.
SH_BREAKEVEN = 19


def _first_month_ahead_for_good(savings: np.ndarray) -> int | None:
    """Break-even by its definition, month by month (None where there is none)."""
    cumulative = 0.0
    ahead = []
    for s in savings:
        cumulative += s
        ahead.append(cumulative > 0)
    for m in range(len(ahead)):
        if all(ahead[m:]):
            return m + 1
    return None


def _constant(x: float) -> dict:
    # Zero variance: every percentile, the mean and the CVaR are the value itself.
    return {"mean": x, "sd": 0.0, "p5": x, "p25": x, "p50": x, "p75": x, "p95": x, "cvar95": x}


def _expected_summary() -> dict:
    totals = {n: m.sum() for n, m in MONTHLY.items()}
    lowest = min(totals.values())
    assert lowest == totals["hosted_open"]
    breakdowns = {
        "api": {"traffic": API_TRAFFIC.sum(), "fees": 500.0 * H, "downtime": 73.0 * H},
        "hosted_open": {"traffic": HOSTED_MONTHLY.sum(), "fees": 0.0, "downtime": 0.0},
        "self_hosted": {
            "gpus": SH_GPUS.sum(),
            "infra": SH_INFRA.sum(),
            "people": SH_PEOPLE.sum(),
            "hiring": 45_000.0,
            "setup": 600_000.0,
            "upgrades": 0.0,
            "fallback": SH_FALLBACK.sum(),
            "downtime": 0.0,
        },
    }
    options = {}
    for name, monthly in MONTHLY.items():
        options[name] = {
            "label": name,
            "kind": KNOWN["options"][name]["kind"],
            "total_cost": _constant(monthly.sum()),
            "npv": _constant(monthly @ DISCOUNT),
            # Cash is the total without downtime's business cost.
            "cash_cost": _constant(monthly.sum() - breakdowns[name]["downtime"]),
            "monthly_cost": {"p5": list(monthly), "p50": list(monthly), "p95": list(monthly)},
            "p_cheapest": 1.0 if name == "hosted_open" else 0.0,
            "expected_regret": totals[name] - lowest,
            "breakdown": breakdowns[name],
        }
    versus = {}
    for name in ("hosted_open", "self_hosted"):
        saving = totals["api"] - totals[name]
        cumulative = np.cumsum(API_MONTHLY - MONTHLY[name])
        versus[name] = {
            "p_cheaper": 1.0,  # both are cheaper than the API over 30 months
            "p_cheaper_se": 0.0,  # sqrt(1 * 0 / 4)
            # cumulative savings at the end of months 12, 24 and 30
            "p_cheaper_by_year": [float(cumulative[i] > 0) for i in (11, 23, 29)],
            "savings": {"mean": saving, "p5": saving, "p50": saving, "p95": saving},
            "breakeven_month": {
                "p_within_horizon": 1.0,
                "p50": _first_month_ahead_for_good(API_MONTHLY - MONTHLY[name]),
            },
        }
    return {"options": options, "versus_baseline": versus}


def _compare(actual, expected, where: str):
    """Equal structure (same keys at every level) and equal numbers."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(expected), f"{where}: keys differ (is a new one unchecked?)"
        for key in expected:
            _compare(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _compare(a, e, f"{where}[{i}]")
    elif isinstance(expected, str) or expected is None:
        assert actual == expected, where
    else:
        assert actual == approx(float(expected)), where


@pytest.fixture(scope="module")
def known_summary() -> dict:
    return run(parse_scenario(KNOWN)).to_dict()


def test_hand_calculation_milestones():
    # Spot checks of the arrays above against the numbers written in the comments.
    assert API_MONTHLY[0] == approx(95_181.0)
    assert HOSTED_MONTHLY[0] == approx(7_358.40)
    assert SH_MONTHLY[0] == approx(401_448.0)
    assert FALLBACK_SHARE[2] == approx(0.604)
    peak_replicas = np.ceil(10_000 * 1.02 ** np.array([9, 10, 18, 19, 26, 27]) / 2400)
    assert peak_replicas.tolist() == [5, 6, 6, 7, 7, 8]
    cumulative = np.cumsum(API_MONTHLY - SH_MONTHLY)
    assert abs(cumulative[17] + 17_795) < 1
    assert abs(cumulative[18] - 29_893) < 1
    assert _first_month_ahead_for_good(API_MONTHLY - SH_MONTHLY) == SH_BREAKEVEN
    assert _first_month_ahead_for_good(API_MONTHLY - HOSTED_MONTHLY) == 1


def test_every_reported_number_matches_the_hand_calculation(known_summary):
    expected = _expected_summary()
    assert known_summary["schema_version"] == 1
    scenario = known_summary["scenario"]
    assert scenario["name"] == "known answers"
    assert scenario["horizon_months"] == H
    assert scenario["paths"] == 4
    assert scenario["seed"] == 11
    assert scenario["baseline"] == "api"
    assert scenario["currency"] == "USD"
    assert scenario["discount_rate"] == 0.10
    _compare(known_summary["options"], expected["options"], "options")
    _compare(known_summary["versus_baseline"], expected["versus_baseline"], "versus_baseline")


def test_known_summary_headline_numbers(known_summary):
    # The same facts, stated plainly.
    versus = known_summary["versus_baseline"]
    assert "api" not in versus
    assert versus["self_hosted"]["p_cheaper_by_year"] == [0.0, 1.0, 1.0]
    assert versus["self_hosted"]["breakeven_month"]["p50"] == SH_BREAKEVEN
    assert versus["hosted_open"]["breakeven_month"]["p50"] == 1
    options = known_summary["options"]
    assert [options[n]["p_cheapest"] for n in ("api", "hosted_open", "self_hosted")] == [0, 1, 0]
    # With a positive discount rate the NPV is below the undiscounted total.
    for option in options.values():
        assert option["npv"]["mean"] < option["total_cost"]["mean"]


# ---------------------------------------------------------------------------
# Smaller scenarios, one mechanism each.

SMALL_HOURS = 730


def _small(options: dict, *, months: int = 12, downtime_cost: float = 0.0, **workload) -> dict:
    """1 request/s (2,628,000 a month), 1000 in + 200 out tokens, flat volume."""
    return {
        "scenario": {"name": "small", "horizon_months": months, "paths": 3, "seed": 5},
        "workload": {
            "requests_per_month": 2_628_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            **workload,
        },
        "business": {"downtime_cost_per_hour": downtime_cost},
        "options": options,
    }


API = {
    "kind": "api",
    "input_price_per_mtok": 2.0,
    "output_price_per_mtok": 8.0,
    "monthly_fee": 100,
    "uptime": 0.999,
}
# api per month: 2,628,000 * 0.0036 = 9,460.80 traffic, 100 fee,
# (1 - 0.999) * 730 * $10 = 7.30 downtime (with downtime_cost 10).

SELF_HOSTED = {
    "kind": "self_hosted",
    "replica_tokens_per_s": 400,
    "max_utilization": 0.5,  # 200 weighted tokens/s per replica
    "input_token_weight": 0.3,  # 1000 * 0.3 + 200 = 500 weighted tokens a request
    "min_replicas": 0,
    "provisioning": "autoscale",
    "autoscale_overhead": 1.25,
    "gpu_hourly_usd": 1.0,
    "infra_monthly_usd": 300,
    "engineers": 0.5,
    "engineer_annual_cost": 60_000,  # 0.5 * 5,000 = 2,500 a month; hiring 7,500 in month 0
    "uptime": 0.98,
    "fallback": "api",
    "escalation_rate": 0.1,
}
# Demand: 1 req/s * 0.9 * 500 = 450 weighted tokens/s.
# Autoscale: 450 / 200 * 1.25 = 2.8125 replicas (not rounded) -> 2.8125 * 730 = 2,053.125.
# Fallback share 0.1 + 0.9 * 0.02 = 0.118 -> 0.118 * 9,460.80 = 1,116.3744.


def _breakdowns(document: dict) -> dict[str, dict[str, float]]:
    summary = run(parse_scenario(document)).to_dict()
    return {name: o["breakdown"] for name, o in summary["options"].items()}


def test_autoscale_replicas_are_not_rounded_and_hybrid_weights_variable_costs():
    document = _small(
        {
            "api": API,
            "self_hosted": SELF_HOSTED,
            "self_hosted_peak": {**SELF_HOSTED, "provisioning": "peak"},
            "hybrid": {
                "kind": "hybrid",
                "routes": [
                    {"option": "self_hosted", "share": 0.6},
                    {"option": "api", "share": 0.4},
                ],
            },
            "hybrid_peak": {
                "kind": "hybrid",
                "routes": [
                    {"option": "self_hosted_peak", "share": 0.6},
                    {"option": "api", "share": 0.4},
                ],
            },
        },
        downtime_cost=10,
    )
    b = _breakdowns(document)
    months = 12
    assert b["api"] == {
        "traffic": approx(9_460.80 * months),
        "fees": approx(100 * months),
        "downtime": approx(7.30 * months),
    }
    sh = b["self_hosted"]
    assert sh["gpus"] == approx(2.8125 * 730 * months)  # 2,053.125 a month
    assert sh["fallback"] == approx(1_116.3744 * months)
    assert sh["people"] == approx(2_500 * months)
    assert sh["hiring"] == approx(7_500)
    assert sh["infra"] == approx(300 * months)
    # Peak provisioning rounds 450 / 200 = 2.25 up to 3 replicas.
    assert b["self_hosted_peak"]["gpus"] == approx(3 * 730 * months)

    # The hybrid: each route costed on its share of the volume, fixed costs in full.
    hy = b["hybrid"]
    assert hy["api.traffic"] == approx(0.4 * 9_460.80 * months)
    assert hy["api.fees"] == approx(100 * months)  # in full
    assert hy["api.downtime"] == approx(7.30 * months)  # in full
    # 0.6 of the volume: 270 tokens/s -> 270 / 200 * 1.25 = 1.6875 replicas = 0.6 * 2.8125.
    assert hy["self_hosted.gpus"] == approx(1.6875 * 730 * months)
    assert hy["self_hosted.fallback"] == approx(0.6 * 1_116.3744 * months)
    assert hy["self_hosted.people"] == approx(2_500 * months)  # in full
    assert hy["self_hosted.hiring"] == approx(7_500)
    assert hy["self_hosted.infra"] == approx(300 * months)
    variable = {("api", "traffic"), ("self_hosted", "gpus"), ("self_hosted", "fallback")}
    share = {"api": 0.4, "self_hosted": 0.6}
    weighted = sum(
        (share[route] if (route, part) in variable else 1.0) * cost
        for route in ("api", "self_hosted")
        for part, cost in b[route].items()
    )
    assert sum(hy.values()) == approx(weighted)
    # With peak provisioning the share's own peak is rounded: 0.6 * 450 / 200 = 1.35 -> 2.
    assert b["hybrid_peak"]["self_hosted_peak.gpus"] == approx(2 * 730 * months)


def test_peak_demand_landing_on_whole_replicas_does_not_round_up():
    # 1 req/s * (1 - 0.7) * 500 = 150 weighted tokens/s over 100 * 0.3 = 30 per replica:
    # exactly 5 replicas, which floating point computes a hair above 5. It must stay 5.
    noisy = 2_628_000 * (1 - 0.7) * 500 / (730 * 3600) * 1.0 / (100 * 0.3)
    assert noisy > 5  # the trap is real
    document = _small(
        {
            "api": API,
            "sh": {
                **SELF_HOSTED,
                "provisioning": "peak",
                "replica_tokens_per_s": 100,
                "max_utilization": 0.3,
                "escalation_rate": 0.7,
            },
        },
    )
    assert _breakdowns(document)["sh"]["gpus"] == approx(5 * 730 * 12)


def test_min_and_spare_replicas():
    # Demand 450/200 = 2.25 -> 3 replicas at peak; min_replicas 5 lifts it to 5; 2 spares -> 7.
    document = _small(
        {
            "api": API,
            "sh": {**SELF_HOSTED, "provisioning": "peak", "min_replicas": 5, "spare_replicas": 2},
            "auto": {**SELF_HOSTED, "min_replicas": 0, "spare_replicas": 2},
        }
    )
    b = _breakdowns(document)
    assert b["sh"]["gpus"] == approx(7 * 730 * 12)
    assert b["auto"]["gpus"] == approx((2.8125 + 2) * 730 * 12)


def test_cloud_managed_premium_multiplies_every_gpu_hour():
    sh = {**SELF_HOSTED, "setup_months": 1.5, "setup_gpus": 2, "gpus_per_replica": 2}
    document = _small(
        {
            "api": API,
            "self_hosted": sh,
            "cloud_managed": {**sh, "kind": "cloud_managed", "managed_premium": 0.3},
        }
    )
    b = _breakdowns(document)
    # GPU-hours: month 0 setup 2 * 730; month 1 half setup (2) half serving
    # (2.8125 * 2 = 5.625); months 2..11 5.625 * 730 each.
    gpu_hours = (2 + (0.5 * 2 + 0.5 * 5.625) + 10 * 5.625) * 730
    assert b["self_hosted"]["gpus"] == approx(gpu_hours * 1.0)
    assert b["cloud_managed"]["gpus"] == approx(gpu_hours * 1.0 * 1.3)
    for component, cost in b["self_hosted"].items():
        if component != "gpus":
            assert b["cloud_managed"][component] == approx(cost), component


def test_without_fallback_every_setup_hour_and_downtime_hour_is_unserved():
    # GPUs free and no people, so the option's whole cost is its downtime.
    document = _small(
        {
            "api": API,
            "sh": {
                "kind": "self_hosted",
                "replica_tokens_per_s": 400,
                "gpu_hourly_usd": 0.0,
                "setup_months": 2.5,
                "uptime": 0.99,
            },
        },
        months=6,
        downtime_cost=100,
    )
    summary = run(parse_scenario(document)).to_dict()
    # Months 0 and 1: 730 h * $100 = 73,000; month 2: (0.5 + 0.5 * 0.01) * 73,000 = 36,865;
    # months 3..5: 0.01 * 73,000 = 730.
    downtime = [73_000, 73_000, 36_865, 730, 730, 730]
    sh = summary["options"]["sh"]
    assert sh["monthly_cost"]["p50"] == [approx(x) for x in downtime]
    assert sh["breakdown"]["downtime"] == approx(185_055)
    assert sh["breakdown"]["fallback"] == 0
    assert sh["total_cost"]["mean"] == approx(185_055)


def test_initial_hires_override_the_default_whole_team():
    document = _small(
        {
            "api": API,
            "default": {**SELF_HOSTED, "engineers": 2, "engineer_annual_cost": 100_000},
            "partial": {
                **SELF_HOSTED,
                "engineers": 2,
                "engineer_annual_cost": 100_000,
                "initial_hires": 0.5,
                "hiring_cost_fraction": 0.3,
            },
        }
    )
    b = _breakdowns(document)
    assert b["default"]["hiring"] == approx(2 * 0.25 * 100_000)  # 50,000 in month 0
    assert b["partial"]["hiring"] == approx(0.5 * 0.3 * 100_000)  # 15,000
    assert b["partial"]["people"] == approx(2 * 100_000 / 12 * 12)  # the full team is paid


@pytest.mark.parametrize(
    ("engineers", "vacancy", "departed_fte", "vacant_fte"),
    [
        # One seat, vacancy 1.5: it empties in month 0 (empty months 0 and half of 1),
        # is filled again from month 2 and empties again at once: departures in 0, 2, 4.
        (1.0, 1.5, [1, 0, 1, 0, 1, 0], [1.0, 0.5, 1.0, 0.5, 1.0, 0.5]),
        # Two seats of 0.75 FTE, vacancy 1: both leave every month and are empty all month.
        (1.5, 1.0, [1.5] * 6, [1.5] * 6),
    ],
)
def test_certain_attrition_vacancies_backfill_hiring_and_uptime(
    engineers, vacancy, departed_fte, vacant_fte
):
    # annual_attrition = 1 -> monthly leave probability 1 - 0**(1/12) = 1: every filled
    # seat leaves every month, so the people model runs with no randomness at all.
    document = _small(
        {
            "api": API,
            "sh": {
                "kind": "self_hosted",
                "replica_tokens_per_s": 400,
                "gpu_hourly_usd": 0.0,
                "engineers": engineers,
                "engineer_annual_cost": 120_000,  # 10,000 a month per FTE
                "annual_attrition": 1.0,
                "vacancy_months": vacancy,
                "hiring_cost_fraction": 0.25,
                "backfill_cost_multiplier": 1.5,
                "vacancy_uptime_drop": 0.02,
                "uptime": 0.99,
            },
        },
        months=6,
        downtime_cost=100,
    )
    result = run(parse_scenario(document), keep_paths=True)
    vacant = np.array(vacant_fte)
    # Salaries: engineers * 10,000 + vacant FTE * 10,000 * (1.5 - 1).
    people = engineers * 10_000 + vacant * 10_000 * 0.5
    # Hiring: the initial team in month 0 plus 0.25 * 120,000 per departing FTE.
    hiring = np.array(departed_fte, dtype=float) * 0.25 * 120_000
    hiring[0] += engineers * 0.25 * 120_000
    # Effective uptime 0.99 - 0.02 per empty seat (seats of engineers / ceil(engineers)
    # FTE each); no fallback -> unserved hours at $100.
    empty_seats = vacant / (engineers / np.ceil(engineers))
    downtime = (1 - (0.99 - 0.02 * empty_seats)) * 730 * 100
    components = result.paths.components["sh"]
    assert components["people"] == approx(np.full(3, people.sum()))
    assert components["hiring"] == approx(np.full(3, hiring.sum()))
    assert components["downtime"] == approx(np.full(3, downtime.sum()))
    np.testing.assert_allclose(
        result.paths.monthly["sh"], np.tile(people + hiring + downtime, (3, 1)), rtol=1e-12
    )


def test_upgrades_average_serving_months_over_interval():
    # Upgrades are Poisson with mean serving_share / interval each month; over the
    # horizon their count is Poisson with mean (24 - 1.5 setup months) / 4 = 5.625.
    # Each costs 1 engineer-month at 12 a year = $1 of effort, and 2 overlap days of
    # 3 replicas * 2 GPUs at $1/h = 2 * 24 * 6 = $288 of GPUs.
    paths, months, interval = 20_000, 24, 4.0
    document = _small(
        {
            "api": API,
            "sh": {
                "kind": "self_hosted",
                "replica_tokens_per_s": 1e9,  # demand is negligible: min_replicas rule
                "gpus_per_replica": 2,
                "min_replicas": 3,
                "gpu_hourly_usd": 1.0,
                "engineer_annual_cost": 12,
                "setup_months": 1.5,
                "upgrade_interval_months": interval,
                "upgrade_effort_engineer_months": 1,
                "upgrade_overlap_days": 2,
            },
        },
        months=months,
    )
    result = run(parse_scenario(document), paths=paths, seed=3, keep_paths=True)
    counts = result.paths.components["sh"]["upgrades"]
    assert np.array_equal(counts, np.round(counts))  # whole upgrades
    mean = (months - 1.5) / interval
    se = math.sqrt(mean / paths)  # Poisson: variance = mean
    assert abs(counts.mean() - mean) < 4 * se
    # Sample variance of a Poisson count: sd of s^2 is about sqrt((mean + 2 mean^2) / n).
    assert abs(counts.var(ddof=1) - mean) < 4 * math.sqrt((mean + 2 * mean**2) / paths)
    # GPU cost without upgrades: setup GPUs (2) * 730 in month 0, half setup, half
    # 6 serving GPUs in month 1, then 6 * 730 a month for 22 months.
    base_gpus = (2 + (0.5 * 2 + 0.5 * 6) + 22 * 6) * 730
    np.testing.assert_allclose(
        result.paths.components["sh"]["gpus"], base_gpus + 288 * counts, rtol=1e-12
    )
    # Nothing is upgraded before serving starts: month 0 is the same on every path.
    assert np.all(result.paths.monthly["sh"][:, 0] == 2 * 730)


def test_ties_for_cheapest_are_shared_and_regret_is_against_the_lowest():
    twin = dict(API)
    dear = {**API, "monthly_fee": 1_100}  # 1,000 a month more than the others
    summary = run(parse_scenario(_small({"api": API, "twin": twin, "dear": dear}))).to_dict()
    options = summary["options"]
    assert [options[n]["p_cheapest"] for n in ("api", "twin", "dear")] == [0.5, 0.5, 0.0]
    regrets = [options[n]["expected_regret"] for n in ("api", "twin", "dear")]
    assert regrets == [0.0, 0.0, approx(12 * 1_000)]
    tie = summary["versus_baseline"]["twin"]
    assert tie["p_cheaper"] == 0.0  # equal is not cheaper
    assert tie["breakeven_month"] == {"p_within_horizon": 0.0, "p50": None}
    assert tie["p_cheaper_by_year"] == [0.0]
    assert tie["savings"] == {"mean": 0.0, "p5": 0.0, "p50": 0.0, "p95": 0.0}


# ---------------------------------------------------------------------------
# The pieces the summary is built from.


def test_realized_volume_follows_the_formula_with_given_shocks():
    shocks = np.array(
        [
            [9.0, 1.0, -2.0, 0.5],  # column 0 is never used: month 0 carries no shock
            [0.0, 0.0, 0.0, 0.0],
        ]
    ).T  # (months, paths)
    volume = realized_volume(
        1000.0,
        np.array([0.05, 0.05]),
        months=4,
        volume_realization=1.2,
        growth_realization=0.5,  # realized growth 0.05 * 0.5 = 2.5 % a month
        growth_volatility=0.1,
        shocks=shocks,
    )
    level = 1000 * 1.2
    expected = [
        # V_t = 1200 * 1.025**t * exp(0.1 * (e_1 + ... + e_t))
        [
            level,
            level * 1.025 * math.exp(0.1),
            level * 1.025**2 * math.exp(-0.1),
            level * 1.025**3 * math.exp(-0.05),
        ],
        [level, level * 1.025, level * 1.025**2, level * 1.025**3],
    ]
    np.testing.assert_allclose(volume.T, expected, rtol=1e-12)
    flat = realized_volume(500.0, -0.1, months=3)
    assert flat.shape == (3, 1)  # (months, paths)
    np.testing.assert_allclose(flat[:, 0], [500.0, 450.0, 405.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("monthly_savings", "month"),
    [
        ([5, 1, 1], 1),  # ahead from the start
        ([-3, 2, 2, 2], 3),  # cumulative -3, -1, 1, 3
        # cumulative -1, 1, -1, 1, 2: ahead, behind again, ahead for good -> the last crossing
        ([-1, 2, -2, 2, 1], 4),
        ([-1, 1, 1], 3),  # cumulative -1, 0, 1: level is not below
        ([2, -1, -2], 0),  # cumulative 2, 1, -1: behind at the horizon -> never
        ([-1, -1, -1], 0),
    ],
)
def test_breakeven_month_is_the_start_of_the_last_run_ahead(monthly_savings, month):
    # breakeven_months takes (months, paths): one path here.
    cumulative = np.cumsum(np.array([monthly_savings], dtype=float), axis=1).T
    assert breakeven_months(cumulative).tolist() == [month]
    assert (_first_month_ahead_for_good(monthly_savings) or 0) == month


def test_breakeven_months_works_path_by_path():
    cumulative = np.cumsum([[-1.0, 2, -2, 2], [1, 1, 1, 1], [1, -5, 1, 1]], axis=1).T
    # path 0: -1, 1, -1, 1 -> 4; path 1: ahead throughout -> 1; path 2: 1, -4, -3, -2 -> never
    assert breakeven_months(cumulative).tolist() == [4, 1, 0]


def _median_month(months: list[int]) -> int | None:
    # breakeven_median takes counts per month, index 0 for paths that never break even.
    return breakeven_median(np.bincount(months, minlength=13))


def test_breakeven_median_is_null_below_half():
    assert _median_month([0, 0, 4]) is None  # 1 of 3 break even
    assert _median_month([3, 0, 5]) == 5  # never counts as latest: 3, 5, never
    assert _median_month([2, 2, 7, 9]) == 2
    # Exactly half break even: not fewer than half, so a month (the lower median, 6).
    assert _median_month([0, 0, 4, 6]) == 6


def test_year_ends():
    assert year_ends(36).tolist() == [11, 23, 35]
    assert year_ends(30).tolist() == [11, 23, 29]  # the last entry ends at the horizon
    assert year_ends(12).tolist() == [11]
    assert year_ends(5).tolist() == [4]


def test_cvar95_is_the_mean_of_the_costliest_five_percent():
    values = np.arange(1.0, 101.0)  # 1 .. 100: the worst 5 % are 96 .. 100
    assert cvar(values) == approx(98.0)
    np.random.default_rng(0).shuffle(values)
    assert cvar(values) == approx(98.0)
    assert cvar(np.array([3.0, 7.0])) == 7.0  # at least one value
