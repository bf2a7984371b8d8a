"""Several workloads: an option serving them all, and the portfolio decision.

The known answers are worked by hand below, on a scenario without uncertainty, so
every path costs the same.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import parse_scenario, run
from simulator.costs.pooled import pooled_peak
from simulator.engine.tally import cvar
from simulator.fit.fragment import toml_value
from simulator.scenario.errors import ScenarioError

H = 12  # months
HOURS = 730  # a month: 2,628,000 seconds

# Workload A: 26,280,000 requests a month = 10 a second; B: 1 a second. With
# input_token_weight 0 a request is 200 units of replica work: A's average demand is
# 2,000 tokens/s, B's 200. A peaks at 2x (excess e_A = 2,000), B at 6x (e_B = 1,000).
KNOWN = {
    "scenario": {"name": "two workloads", "horizon_months": H, "paths": 64, "seed": 3},
    "workloads": {
        "a": {
            "requests_per_month": 26_280_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            "peak_to_average": 2,
        },
        "b": {
            "requests_per_month": 2_628_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            "peak_to_average": 6,
        },
    },
    "options": {
        # (1000 * 2 + 200 * 8) / 1e6 = $0.0036 a request.
        "api": {"kind": "api", "input_price_per_mtok": 2, "output_price_per_mtok": 8},
        # (1000 + 200) * 1.0 / 1e6 = $0.0012 a request: A 31,536 a month, B 3,153.60.
        "hosted": {"kind": "api", "input_price_per_mtok": 1, "output_price_per_mtok": 1},
        # A replica serves 500 tokens/s at $2 an hour: 1,460 a month. One engineer at
        # $120,000 a year: 10,000 a month, no hiring cost.
        "self_hosted": {
            "kind": "self_hosted",
            "replica_tokens_per_s": 500,
            "input_token_weight": 0,
            "min_replicas": 0,
            "gpu_hourly_usd": 2,
            "engineers": 1,
            "engineer_annual_cost": 120_000,
            "hiring_cost_fraction": 0,
        },
    },
}

REPLICA = 730 * 2.0
PEOPLE = 10_000.0
HOSTED_A, HOSTED_B = 31_536.0 * H, 3_153.6 * H
# A alone: peak 4,000 tokens/s -> 8 replicas. B alone: 1,200 -> 2.4 -> 3.
SH_A = (8 * REPLICA + PEOPLE) * H  # 260,160
SH_B = (3 * REPLICA + PEOPLE) * H  # 172,560
# Together: d = 2,200. At c = 1 the excesses add: x = 3,000, 5,200 -> 10.4 -> 11
# replicas. At c = 0: x = sqrt(2,000^2 + 1,000^2) = 2,236.07, 4,436.07 -> 8.87 -> 9.
SH_BOTH = {1.0: (11 * REPLICA + PEOPLE) * H, 0.0: (9 * REPLICA + PEOPLE) * H}
# 312,720 and 277,680. Against A on the stack and B on hosted, 260,160 + 37,843.20 =
# 298,003.20: with coinciding peaks B's three extra replicas cost more than hosted;
# with independent peaks one extra replica (17,520 a year) costs less, and the team is
# paid once either way.
MIXED = SH_A + HOSTED_B


def known(coincidence: float, **portfolio) -> dict:
    document = copy.deepcopy(KNOWN)
    document["scenario"]["peak_coincidence"] = coincidence
    if portfolio:
        document["portfolio"] = portfolio
    return document


@pytest.mark.parametrize("coincidence", [1.0, 0.0])
def test_known_answer_pooled_gpus_and_one_team(coincidence):
    result = run(parse_scenario(known(coincidence)), paths=64, seed=1)
    summary = result.to_dict()
    both = SH_BOTH[coincidence]
    assert summary["options"]["self_hosted"]["total_cost"]["mean"] == pytest.approx(both)
    assert summary["options"]["hosted"]["total_cost"]["mean"] == pytest.approx(HOSTED_A + HOSTED_B)
    portfolio = summary["portfolio"]
    expected = {"a": "self_hosted", "b": "hosted"} if coincidence == 1 else {
        "a": "self_hosted", "b": "self_hosted"
    }  # fmt: skip
    assert portfolio["assignment"] == expected
    best = MIXED if coincidence == 1 else both
    assert portfolio["total_cost"]["mean"] == pytest.approx(best)
    assert portfolio["total_cost"]["sd"] == pytest.approx(0, abs=1e-6)
    assert portfolio["assignments_searched"] == 9
    # Month 1 of A on the stack: 8 replicas and the team, A's alone; of B on hosted.
    by = portfolio["by_workload"]
    if coincidence == 1:
        assert by["a"]["monthly_spend_today"] == pytest.approx(SH_A / H)
        assert by["b"]["monthly_spend_today"] == pytest.approx(HOSTED_B / H)
    else:  # 9 replicas and the team, shared by tokens: A has 10 of the 11 parts
        assert by["a"]["monthly_spend_today"] == pytest.approx(both / H * 10 / 11)
    # The runner-up of each: the other of the two.
    runner = portfolio["runners_up"][0]
    assert runner["mean"] == pytest.approx(both if coincidence == 1 else MIXED)
    # Against the frontier API everywhere: (0.0036 * 28,908,000) * 12 - best.
    api = 0.0036 * (26_280_000 + 2_628_000) * H
    assert portfolio["versus_single"]["api"] == pytest.approx(api - best)
    assert portfolio["savings"]["mean"] == pytest.approx(api - best)
    assert portfolio["p_cheaper"] == 1.0


def test_a_fixed_assignment_is_costed_as_given():
    document = known(1.0, assign={"a": "hosted", "b": "self_hosted"})
    portfolio = run(parse_scenario(document), paths=64, seed=1).to_dict()["portfolio"]
    assert portfolio["assignment"] == {"a": "hosted", "b": "self_hosted"}
    assert portfolio["total_cost"]["mean"] == pytest.approx(HOSTED_A + SH_B)
    assert portfolio["assignments_searched"] == 1
    assert portfolio["versus_single"]["self_hosted"] < 0  # worse than all on the stack


def test_pooled_peak_at_both_ends():
    demands = [np.array([2000.0]), np.array([200.0])]
    peaks = [2.0, 6.0]
    d, p = pooled_peak(demands, peaks, 1.0)
    assert d[0] == 2200 and d[0] * p[0] == pytest.approx(2200 + 3000)
    d, p = pooled_peak(demands, peaks, 0.0)
    assert d[0] * p[0] == pytest.approx(2200 + math.hypot(2000, 1000))
    # No demand at all: a peak of 1, not a division by zero.
    d, p = pooled_peak([np.zeros(1), np.zeros(1)], peaks, 0.5)
    assert d[0] == 0 and p[0] == 1


UNCERTAIN = {
    "scenario": {"name": "one workload", "horizon_months": 18, "seed": 9},
    "workload": {
        "requests_per_month": {"dist": "uniform", "low": 5e6, "high": 2e7},
        "input_tokens_per_request": {"dist": "triangular", "low": 300, "mode": 600, "high": 900},
        "output_tokens_per_request": 150,
        "monthly_growth": 0.03,
        "growth_volatility": 0.05,
        "peak_to_average": {"dist": "uniform", "low": 1.5, "high": 3},
    },
    "business": {"downtime_cost_per_hour": 400},
    "options": copy.deepcopy(KNOWN["options"]),
}
UNCERTAIN["options"]["self_hosted"]["uptime"] = {"dist": "uniform", "low": 0.97, "high": 0.995}


def test_one_workload_portfolio_reproduces_the_plain_run():
    alone = run(parse_scenario(UNCERTAIN), paths=5000).to_dict()
    document = copy.deepcopy(UNCERTAIN)
    document["workloads"] = {"main": document.pop("workload")}
    several = run(parse_scenario(document), paths=5000).to_dict()
    assert several["options"] == alone["options"]
    assert several["versus_baseline"] == alone["versus_baseline"]
    portfolio = several["portfolio"]
    best = min(alone["options"], key=lambda n: alone["options"][n]["total_cost"]["mean"])
    assert portfolio["assignment"] == {"main": best}
    assert portfolio["total_cost"]["mean"] == pytest.approx(
        alone["options"][best]["total_cost"]["mean"], rel=1e-12
    )


def two_uncertain(**extra) -> dict:
    document = copy.deepcopy(UNCERTAIN)
    first = document.pop("workload")
    second = {**first, "requests_per_month": {"dist": "uniform", "low": 1e5, "high": 1e6}}
    document["workloads"] = {"docs": first, "chat": second}
    document["scenario"].update(extra)
    return document


def test_the_same_answer_whatever_the_workers_and_chunks():
    scenario = parse_scenario(two_uncertain(peak_coincidence=0.4))
    first = run(scenario, paths=9000, workers=1, chunk_size=4096).to_dict()["portfolio"]
    again = run(scenario, paths=9000, workers=2, chunk_size=8192).to_dict()["portfolio"]
    assert first == again


@settings(max_examples=12, deadline=None)
@given(
    st.floats(1e5, 5e7),
    st.floats(1e4, 5e6),
    st.floats(1, 6),
    st.floats(1, 6),
    st.floats(0, 1),
    st.sampled_from(["mean", "cvar95"]),
)
def test_the_portfolio_is_never_worse_than_one_option_for_all(ra, rb, pa, pb, c, objective):
    document = known(c, objective=objective)
    document["workloads"]["a"].update(requests_per_month=ra, peak_to_average=pa)
    document["workloads"]["b"].update(requests_per_month=rb, peak_to_average=pb)
    document["workloads"]["b"]["monthly_growth"] = 0.05
    document["workloads"]["b"]["growth_volatility"] = 0.1
    result = run(parse_scenario(document), paths=512, seed=2)
    portfolio = result.to_dict()["portfolio"]
    key = "mean" if objective == "mean" else "cvar95"
    chosen = portfolio["total_cost"][key]
    for name in result.options:
        # Each option serving both workloads, on the same paths (mask 0b11).
        alone = result.paths.portfolio[f"portfolio:{name}:3"]
        single = float(alone.mean()) if objective == "mean" else cvar(alone)
        assert chosen <= single * (1 + 1e-12), name
        if objective == "mean":
            assert portfolio["versus_single"][name] >= -1e-9 * single


@settings(max_examples=12, deadline=None)
@given(st.floats(1e4, 1e7), st.floats(1, 8), st.floats(0, 1))
def test_adding_a_workload_never_lowers_everything_on_an_option(requests, peak, c):
    one = known(c)
    del one["workloads"]["b"]
    two = known(c)
    two["workloads"]["b"].update(requests_per_month=requests, peak_to_average=peak)
    before = run(parse_scenario(one), paths=64, seed=1).to_dict()["options"]
    after = run(parse_scenario(two), paths=64, seed=1).to_dict()["options"]
    for name in before:
        assert after[name]["total_cost"]["mean"] >= before[name]["total_cost"]["mean"] - 1e-6


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (lambda d: d.update(workload=d["workloads"]["a"]), "workloads", "not both"),
        (lambda d: d.update(portfolio={"assign": {"a": "api"}}), "portfolio.assign", "to 'b'"),
        (lambda d: d.update(portfolio={"candidates": ["apo"]}), "portfolio.candidates[0]", "api"),
        (lambda d: d.update(portfolio={"objective": "p95"}), "portfolio.objective", "mean"),
        (lambda d: d.update(portfolio={"assing": "optimize"}), "portfolio.assing", "assign"),
        (
            lambda d: d["workloads"]["a"].update(load_profile="business_hours"),
            "workloads.a.load_profile",
            "not supported",
        ),
        (
            lambda d: d["options"]["self_hosted"].update(reserved_gpus="optimize"),
            "options.self_hosted.reserved_gpus",
            "single [workload]",
        ),
        (
            lambda d: d["options"].update(
                mix={"kind": "hybrid", "routes": [{"option": "api", "share": 1.0}]}
            ),
            "options.mix.kind",
            "single [workload]",
        ),
    ],
)
def test_bad_portfolios_name_the_key(change, key, message):
    document = known(1.0)
    change(document)
    with pytest.raises(ScenarioError) as error:
        parse_scenario(document)
    assert error.value.key == key
    assert message in str(error.value)


def test_the_report_and_the_terminal_open_with_the_split(tmp_path):
    from click.testing import CliRunner

    from simulator.cli import simulate

    scenario = tmp_path / "two.toml"
    scenario.write_text(as_toml(known(1.0)), encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        simulate, [str(scenario), "--paths", "64", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Feature by feature:" in text
    assert "Recommendation: Split by feature: a on self_hosted; b on hosted." in text
    assert max(len(line) for line in text.splitlines()) <= 100
    page = (out / "report.md").read_text(encoding="utf-8")
    section = page.split("## Feature by feature", 1)[1].split("\n## ", 1)[0]
    assert "| a | self\\_hosted |" in section and "| b | hosted |" in section
    # Both split assignments' means, the chosen one first (hand calculation above).
    assert "$298k" in section.replace("\\$", "$")


def as_toml(document: dict, table: str = "") -> str:
    """``document`` as TOML text: its keys, then each sub-table under its header."""
    lines = [f"[{table}]"] if table else []
    subtables = []
    for key, value in document.items():
        if isinstance(value, dict) and "dist" not in value:
            subtables.append((f"{table}.{key}" if table else key, value))
        else:
            lines.append(f"{key} = {toml_value(value)}")
    return "\n".join([*lines, *(as_toml(v, name) for name, v in subtables)]) + "\n"


def test_the_toml_of_the_report_test_is_the_known_scenario():
    import tomllib

    assert tomllib.loads(as_toml(known(1.0))) == known(1.0)


def test_the_first_screen_shows_the_split_not_one_option():
    from simulator.report.words.headline import headline
    from simulator.scenario.numbers import money

    told = headline(run(parse_scenario(known(1.0)), paths=64, seed=1))
    assert told.sentence.startswith("Split by feature: a on self_hosted; b on hosted.")
    cards = {card.label: card.value for card in told.cards}
    assert cards["Expected cost"] == money(MIXED)
    # Against all on the stack (312,720): 14,716.80, written as money writes it.
    assert cards["Saving against one option for all"] == money(SH_BOTH[1.0] - MIXED)
    assert any(note.startswith("For one option serving every workload") for note in told.notes)


def test_the_same_summary_whatever_the_hash_seed(tmp_path):
    # Components are summed in a fixed order, not a set's (whose order follows the
    # process's string hashing).
    import os
    import subprocess
    import sys
    from pathlib import Path

    simulate = Path(sys.executable).parent / "simulate"
    root = Path(__file__).parents[1]
    outputs = set()
    for seed in ("1", "2"):
        done = subprocess.run(
            [str(simulate), "scenarios/portfolio.toml", "--paths", "2048", "--seed", "3",
             "--json", "--no-report", "--quiet", "--workers", "1"],
            cwd=root, capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def stressed(**settings) -> dict:
    """The known scenario with a small stress grid: half and full volume."""
    document = known(1.0)
    document["stress"] = {
        "volume_realization": [0.5, 1.0],
        "growth_realization": [1.0],
        "paths": 64,
        "sensitivity_paths": 100,
        **settings,
    }
    return document


def test_the_stress_test_costs_the_assignment_found_under_each_shock():
    document = stressed()
    rows = run(parse_scenario(document), paths=64, seed=1, stress=True).to_dict()["stress"]
    at = {row["volume_realization"]: row["portfolio"] for row in rows}
    assert at[1.0]["mean_total"] == pytest.approx(MIXED)
    # Half the volume: A's peak 2,000 tokens/s -> 4 replicas, (4 * 1,460 + 10,000) * 12
    # = 190,080, and B on hosted at half its bill, 18,921.60.
    assert at[0.5]["mean_total"] == pytest.approx(190_080 + HOSTED_B / 2)
    assert at[0.5]["p_cheaper"] == 1.0  # the API for both: 0.0036 * 14.454M * 12 = 624k


def test_each_workload_shocked_alone():
    document = stressed(by_workload=True)
    summary = run(parse_scenario(document), paths=64, seed=1, stress=True).to_dict()
    rows = summary["stress_by_workload"]
    at = {w: {r["volume_realization"]: r["portfolio"]["mean_total"] for r in rows[w]} for w in rows}
    assert at["a"][1.0] == pytest.approx(MIXED) and at["b"][1.0] == pytest.approx(MIXED)
    # A at half (4 replicas, as above) with B at its forecast; B at half with A's 8.
    assert at["a"][0.5] == pytest.approx(190_080 + HOSTED_B)
    assert at["b"][0.5] == pytest.approx(SH_A + HOSTED_B / 2)
    # Hosted for both with only B halved: A's 378,432 and half of B's 37,843.20, against
    # the API's 0.0036 * (26,280,000 + 1,314,000) * 12 = 1,192,060.80.
    b_half = next(r for r in rows["b"] if r["volume_realization"] == 0.5)
    saving = 0.0036 * (26_280_000 + 1_314_000) * H - (HOSTED_A + HOSTED_B / 2)
    assert b_half["options"]["hosted"]["savings_p50"] == pytest.approx(saving)


def test_workloads_follow_a_changed_scenario():
    # A pilot runs the scenario on a shorter horizon, a search with other option terms:
    # each workload's own scenario is made from the scenario as it is, not as parsed.
    import dataclasses

    scenario = parse_scenario(known(1.0))
    shorter = dataclasses.replace(scenario, horizon_months=6)
    options = run(shorter, paths=64, seed=1).to_dict()["options"]
    assert options["self_hosted"]["total_cost"]["mean"] == pytest.approx(SH_BOTH[1.0] / 2)
    assert options["hosted"]["total_cost"]["mean"] == pytest.approx((HOSTED_A + HOSTED_B) / 2)


def test_the_search_over_pruned_sets_finds_the_best_fixed_assignment():
    # Four workloads; "chat" may not go to the stack and "ops" must stay inside (only
    # the stack keeps data in): the search costs the stack only for sets without
    # "chat", the APIs only for sets without "ops". Its answer and cost must be the
    # best of the allowed assignments each costed as given.
    import itertools

    document = two_uncertain(peak_coincidence=0.3)
    docs = document["workloads"]["docs"]
    document["workloads"]["chat"]["candidates"] = ["api", "hosted"]
    document["workloads"]["batch"] = {**docs, "peak_to_average": 1.2}
    document["workloads"]["ops"] = {**docs, "requirements": {"data_residency": True}}
    for name in ("api", "hosted"):
        document["options"][name]["data_leaves_perimeter"] = True
    found = run(parse_scenario(document), paths=3000).to_dict()["portfolio"]
    choices = {"docs": ["api", "hosted", "self_hosted"], "chat": ["api", "hosted"]}
    choices |= {"batch": choices["docs"], "ops": ["self_hosted"]}
    costs = {}
    for picked in itertools.product(*choices.values()):
        fixed = copy.deepcopy(document)
        fixed["portfolio"] = {"assign": dict(zip(choices, picked, strict=True))}
        costs[picked] = run(parse_scenario(fixed), paths=3000).to_dict()["portfolio"]
    best = min(costs, key=lambda a: costs[a]["total_cost"]["mean"])
    assert tuple(found["assignment"].values()) == best
    assert found["total_cost"] == costs[best]["total_cost"]
    assert found["by_workload"] == costs[best]["by_workload"]


def test_a_costed_batch_is_freed_at_once_not_by_the_garbage_collector():
    # A batch's workload views refer back to it, and the set search recursed through
    # a closure that referred to itself: such cycles kept each batch's arrays (about
    # 700 MB for five workloads at 16,384 paths) alive until a full collection, so a
    # run's memory grew by that much for several batches. With the collector off,
    # nothing a run leaves for it may hold an array.
    import gc

    document = two_uncertain(peak_coincidence=0.3)
    document["workloads"]["batch"] = {**document["workloads"]["docs"], "peak_to_average": 1.2}
    scenario = parse_scenario(document)
    run(scenario, paths=100, workers=1)  # lazy imports and tables, made once
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        run(scenario, paths=3 * 4096, workers=1, chunk_size=4096)
        gc.collect()
        holding = [
            type(o).__name__
            for o in gc.garbage
            if any(isinstance(r, np.ndarray) for r in gc.get_referents(o))
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert holding == []
