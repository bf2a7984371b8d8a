"""Extreme but valid inputs: finite, sensible answers, or a refusal naming the key.

Volumes from 0 to 1e13 requests a month, horizons of 1 to 240 months, uptime of
exactly 1 and 0, no engineers, free prices, no downtime cost, discount rates at both
ends, and growth that compounds beyond any budget. Either every number of the summary
is finite, or the run is refused with a :class:`ScenarioError` naming the key, and the
growth that could never be summed is refused before any path is run. A few of them go
through the whole command, report included: no NaN or infinity in its JSON, CSV or
pages, and no warning from NumPy or matplotlib on degenerate data (all-zero costs, a
single path, a single month).
"""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
import warnings

import pytest
from click.testing import CliRunner

from simulator import ScenarioError, parse_scenario, run
from simulator.cli import simulate
from simulator.sizing.magnitudes import check_magnitudes

BASE = tomllib.loads(
    """
[scenario]
name = "extremes"
horizon_months = 24
discount_rate = 0.08
baseline = "api"

[workload]
requests_per_month = 5_000_000
input_tokens_per_request = { dist = "triangular", low = 400, mode = 500, high = 700 }
output_tokens_per_request = 100
monthly_growth = 0.03
growth_volatility = { dist = "uniform", low = 0.0, high = 0.05 }
growth_realization = { dist = "pert", low = 0.5, mode = 0.9, high = 1.2 }
peak_to_average = { dist = "triangular", low = 1.5, mode = 2.0, high = 3.0 }

[business]
downtime_cost_per_hour = { dist = "triangular", low = 100, mode = 500, high = 2000 }

[options.api]
kind = "api"
input_price_per_mtok = 2.0
output_price_per_mtok = 8.0
annual_price_change = { dist = "pert", low = -0.4, mode = -0.15, high = 0.0 }
uptime = 0.999

[options.open]
kind = "api"
input_price_per_mtok = { dist = "lognormal", p5 = 0.15, p95 = 0.45 }
output_price_per_mtok = 0.6
uptime = { dist = "uniform", low = 0.99, high = 0.999 }

[options.own]
kind = "self_hosted"
gpus_per_replica = 2
replica_tokens_per_s = { dist = "uniform", low = 1500, high = 3000 }
gpu_hourly_usd = { dist = "triangular", low = 2.0, mode = 2.5, high = 3.5 }
engineers = 2
engineer_annual_cost = 200000
annual_attrition = 0.15
vacancy_months = 3
setup_months = { dist = "triangular", low = 2, mode = 3, high = 6 }
upgrade_interval_months = 6
upgrade_effort_engineer_months = 1
uptime = 0.995
fallback = "api"
escalation_rate = 0.05

[options.managed]
kind = "cloud_managed"
replica_tokens_per_s = 2000
gpu_hourly_usd = 3.0
managed_premium = 0.3
engineers = 0.5
engineer_annual_cost = 180000
uptime = 0.999

[options.mix]
kind = "hybrid"
routes = [{ option = "open", share = 0.8 }, { option = "api", share = 0.2 }]
"""
)

EVERY_PRICE = [
    "options.api.input_price_per_mtok",
    "options.api.output_price_per_mtok",
    "options.open.input_price_per_mtok",
    "options.open.output_price_per_mtok",
    "options.own.gpu_hourly_usd",
    "options.managed.gpu_hourly_usd",
]


def document(**changes):
    """BASE with dotted keys set (``None`` removes a key)."""
    doc = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return doc


def outcome(doc, paths=128):
    """The summary as strict JSON, or the ScenarioError (which must name a key)."""
    try:
        scenario = parse_scenario(doc)
        check_magnitudes(scenario)
        result = run(scenario, paths=paths, seed=3, workers=1)
    except ScenarioError as error:
        assert error.key, str(error)
        return error
    summary = result.to_dict()
    text = json.dumps(summary, allow_nan=False)  # raises on NaN or infinity
    assert "Infinity" not in text and "NaN" not in text
    return summary


def totals(summary):
    return {name: o["total_cost"] for name, o in summary["options"].items()}


ZERO_PRICES = dict.fromkeys(EVERY_PRICE, 0)

CASES = {
    "zero volume": {"workload.requests_per_month": 0},
    "zero growth": {"workload.monthly_growth": 0, "workload.growth_volatility": 0},
    "one request a month": {"workload.requests_per_month": 1},
    "1e13 requests a month": {"workload.requests_per_month": 1e13},
    "1e13 over 240 months": {"workload.requests_per_month": 1e13, "scenario.horizon_months": 240},
    "one month": {"scenario.horizon_months": 1},
    "two months": {"scenario.horizon_months": 2},
    "twelve months": {"scenario.horizon_months": 12},
    "240 months": {"scenario.horizon_months": 240},
    "uptime exactly 1": {
        "options.api.uptime": 1.0,
        "options.open.uptime": 1.0,
        "options.own.uptime": 1.0,
        "options.managed.uptime": 1.0,
    },
    "uptime exactly 0": {
        "options.api.uptime": 0.0,
        "options.open.uptime": 0.0,
        "options.own.uptime": 0.0,
        "options.managed.uptime": 0.0,
    },
    "no engineers": {"options.own.engineers": 0, "options.managed.engineers": 0},
    "free": ZERO_PRICES,
    "free and idle": {**ZERO_PRICES, "workload.requests_per_month": 0},
    "no downtime cost": {"business.downtime_cost_per_hour": 0},
    "discount rate near -1": {"scenario.discount_rate": -0.99},
    "huge discount rate": {"scenario.discount_rate": 1e15},
    "no discount": {"scenario.discount_rate": 0},
    "prices falling 99.99% a year": {"options.api.annual_price_change": -0.9999},
}


@pytest.mark.parametrize("case", CASES)
def test_extreme_but_valid_inputs_give_finite_answers(case):
    changes = CASES[case]
    paths = 32 if changes.get("scenario.horizon_months") == 240 else 128
    summary = outcome(document(**changes), paths=paths)
    assert isinstance(summary, dict), f"refused: {summary}"
    for name, cost in totals(summary).items():
        for stat in ("mean", "p5", "p50", "p95", "cvar95"):
            assert math.isfinite(cost[stat]) and cost[stat] >= 0, (name, stat)
    for versus in summary["versus_baseline"].values():
        assert 0 <= versus["p_cheaper"] <= 1


def test_sensible_answers_at_the_edges():
    idle = outcome(document(**{"workload.requests_per_month": 0}))
    # No traffic, no traffic charges: the APIs cost only their downtime.
    for name in ("api", "open"):
        assert idle["options"][name]["breakdown"]["traffic"] == 0
    free = totals(outcome(document(**ZERO_PRICES, **{"business.downtime_cost_per_hour": 0})))
    assert free["api"]["mean"] == 0 and free["open"]["mean"] == 0
    perfect = outcome(document(**{"options.api.uptime": 1.0}))
    assert perfect["options"]["api"]["breakdown"].get("downtime", 0) == 0
    one = outcome(document(**{"scenario.horizon_months": 1}))
    assert one["scenario"]["horizon_months"] == 1


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        (
            {"workload.monthly_growth": 1.0, "scenario.horizon_months": 240},
            "workload.monthly_growth",
        ),
        (
            {"workload.monthly_growth": 1.0, "scenario.horizon_months": 1200},
            "workload.monthly_growth",
        ),
        ({"scenario.discount_rate": -0.999999999999}, "scenario.discount_rate"),
        (
            {"options.api.annual_price_change": 1e9, "scenario.horizon_months": 240},
            "options.api.annual_price_change",
        ),
    ],
)
def test_what_would_overflow_is_refused_up_front_naming_the_key(changes, key):
    scenario = parse_scenario(document(**changes))
    with pytest.raises(ScenarioError) as caught:
        check_magnitudes(scenario)
    assert caught.value.key == key
    assert "on a typical path" in caught.value.message
    for dotted, value in changes.items():
        assert dotted in caught.value.message or f"{value:.3g}" in caught.value.message


def test_growth_that_overflows_only_on_some_paths_is_refused_by_the_run():
    # The typical path stays within bounds; the fastest-growing ones do not: the run
    # refuses it on its first batch, naming an option, and never reports NaN.
    changes = {
        "workload.monthly_growth": 0.15,
        "workload.growth_realization": {"dist": "uniform", "low": 0.1, "high": 1.6},
        "scenario.horizon_months": 240,
    }
    scenario = parse_scenario(document(**changes))
    check_magnitudes(scenario)
    error = outcome(document(**changes), paths=64)
    assert isinstance(error, ScenarioError) and error.key.startswith("options.")


# ---------------------------------------------------------------------------
# The whole command, report included


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def toml_text(doc) -> str:
    lines = []

    def table(path, node):
        scalars = {k: v for k, v in node.items() if not isinstance(v, dict) or "dist" in v}
        lines.append(f"[{'.'.join(path)}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in scalars.items())
        for k, v in node.items():
            if isinstance(v, dict) and "dist" not in v:
                table((*path, k), v)

    for key, node in doc.items():
        table((key,), node)
    return "\n".join(lines) + "\n"


REPORT_CASES = {
    "all costs zero on a single path": (
        {**ZERO_PRICES, "workload.requests_per_month": 0, "business.downtime_cost_per_hour": 0,
         "options.own.engineers": 0, "options.managed.engineers": 0,
         "options.own.upgrade_effort_engineer_months": 0, "options.managed.managed_premium": 0},
        "1",
    ),
    "1e13 requests over 240 months": (
        {"workload.requests_per_month": 1e13, "scenario.horizon_months": 240},
        "40",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REPORT_CASES)
def test_reports_survive_degenerate_data(tmp_path, case):
    changes, paths = REPORT_CASES[case]
    source = tmp_path / "extreme.toml"
    source.write_text(toml_text(document(**changes)), encoding="utf-8")
    assert tomllib.loads(source.read_text(encoding="utf-8")) == document(**changes)
    out = tmp_path / "report"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            simulate,
            [str(source), "--paths", paths, "--seed", "1", "--out", str(out), "--quiet",
             "--workers", "1"],
            catch_exceptions=False,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    noisy = [w for w in caught if issubclass(w.category, RuntimeWarning | UserWarning)]
    assert noisy == [], [str(w.message) for w in noisy]
    for name in ("summary.json", "paths.csv", "index.html", "report.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert not re.search(r"\b(nan|inf|infinity)\b", text, re.IGNORECASE), name
    json.loads((out / "summary.json").read_text(encoding="utf-8"), parse_constant=_refuse)
    rows = (out / "paths.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == int(paths) + 1
    assert len(list(out.glob("*.png"))) >= 2


def _refuse(constant):
    raise AssertionError(f"{constant} in summary.json")
