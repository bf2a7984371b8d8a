"""Forecast shocks on common draws, the stress grid and the break-even volume search
(simulator/decide/stress.py, breakeven.py and shocks.py, the engine's
volume_scale/growth_scale, the [stress] table)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from simulator import ScenarioError, load_scenario, parse_scenario, run
from simulator.decide.breakeven import REASONS, SCAN, TOLERANCE, breakeven_volumes
from simulator.decide.policy import simulate
from simulator.decide.shocks import Evaluator
from simulator.decide.stress import stress_test
from simulator.decide.summary import summarize
from simulator.scenario import StressSettings

from .conftest import SCENARIOS

# Option "cheap" is an API with a monthly fee and a lower price than the baseline on
# every path: its saving, T * (V * (price gap) - fee), rises with volume on every path,
# so P(cheaper) cannot fall as volume (or growth) rises. "dear" costs more per request
# on every path and "free" less with no fee: no volume helps the first, none is needed
# by the second.
MONOTONE = {
    "scenario": {"name": "monotone", "horizon_months": 12, "baseline": "base"},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 0,
        "monthly_growth": 0.03,
        "volume_realization": {"dist": "uniform", "low": 0.5, "high": 1.5},
        "growth_realization": {"dist": "uniform", "low": 0.5, "high": 1.5},
    },
    "options": {
        "base": {
            "kind": "api",
            "input_price_per_mtok": {"dist": "uniform", "low": 2.0, "high": 3.0},
            "output_price_per_mtok": 0.0,
        },
        "cheap": {
            "kind": "api",
            "input_price_per_mtok": {"dist": "uniform", "low": 0.5, "high": 1.0},
            "output_price_per_mtok": 0.0,
            "monthly_fee": {"dist": "uniform", "low": 1000, "high": 3000},
        },
        "dear": {"kind": "api", "input_price_per_mtok": 4.0, "output_price_per_mtok": 0.0},
        "free": {"kind": "api", "input_price_per_mtok": 1.0, "output_price_per_mtok": 0.0},
    },
    "stress": {
        "volume_realization": [0.25, 0.5, 0.75, 1.0, 1.25, 2.0],
        "growth_realization": [0.0, 0.5, 1.0],
        "paths": 4096,
    },
}


def scenario(document=MONOTONE, **changes):
    document = copy.deepcopy(document)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return parse_scenario(document)


@pytest.fixture(scope="module")
def monotone():
    return run(scenario(), paths=4096, seed=11, stress=True, workers=2)


# ---------------------------------------------------------------------------
# The engine's multipliers


def _summary(result):
    out = result.to_dict()
    out.pop("scenario")
    return out


def test_multipliers_of_one_leave_every_number_as_it_is():
    logistics = load_scenario(SCENARIOS / "logistics.toml")
    plain = summarize(simulate(logistics, paths=3000, seed=4, keep_paths=True))
    scaled = summarize(
        simulate(logistics, paths=3000, seed=4, keep_paths=True, volume_scale=1, growth_scale=1)
    )
    assert plain.to_dict() == scaled.to_dict()
    for key, values in plain.paths.record.items():
        np.testing.assert_array_equal(values, scaled.paths.record[key], err_msg=key)


def test_multipliers_shock_the_realization_on_the_same_draws():
    # Halving the realized level (or growth rate) on the same draws is exactly halving
    # the forecast (the scenario's requests_per_month, or monthly_growth): same draws,
    # same costs, to the last bit.
    # A searched trigger is chosen on the forecast, so it is fixed here for both.
    trigger = "options.staged.trigger_monthly_cost=60000"
    logistics = load_scenario(SCENARIOS / "logistics.toml", [trigger])
    halved = load_scenario(
        SCENARIOS / "logistics.toml",
        ["workload.requests_per_month=15000000", "workload.monthly_growth=0.041", trigger],
    )
    shocked = summarize(simulate(logistics, paths=3000, seed=4, volume_scale=0.5, growth_scale=0.5))
    assert _summary(shocked) == _summary(summarize(simulate(halved, paths=3000, seed=4)))


def test_a_searched_trigger_is_chosen_on_the_forecast_not_the_shock():
    logistics = load_scenario(SCENARIOS / "logistics.toml")
    plain = simulate(logistics, paths=3000, seed=4)
    shocked = simulate(logistics, paths=3000, seed=4, volume_scale=0.5)
    assert shocked.policies["staged"] == plain.policies["staged"]
    assert shocked.scenario.quantities == plain.scenario.quantities


def test_a_finished_runs_trigger_is_not_searched_again(monkeypatch):
    # The stress test reruns the run's own scenario, whose trigger the run fixed: the
    # runs under shocks cost that trigger without searching it once more.
    from simulator.decide import policy

    logistics = load_scenario(SCENARIOS / "logistics.toml")
    plain = simulate(logistics, paths=3000, seed=4)

    def no_search(*args, **kwargs):
        raise AssertionError("the trigger was searched again")

    monkeypatch.setattr(policy, "search_trigger", no_search)
    again = simulate(plain.scenario, paths=3000, seed=4)
    assert again.policies == {}
    assert again.scenario.quantities == plain.scenario.quantities
    assert again.tally.totals().keys() == plain.tally.totals().keys()
    for key, value in plain.tally.totals().items():
        np.testing.assert_array_equal(again.tally.totals()[key], value, err_msg=key)


@pytest.mark.parametrize("key", ["volume_scale", "growth_scale"])
@pytest.mark.parametrize("value", [-0.5, math.inf, math.nan])
def test_bad_multipliers_are_refused(key, value):
    with pytest.raises(ScenarioError, match=key):
        simulate(scenario(), paths=10, seed=1, **{key: value})


# ---------------------------------------------------------------------------
# The [stress] table


def test_stress_table_defaults_and_validation():
    assert scenario().stress.paths == 4096
    plain = copy.deepcopy(MONOTONE)
    del plain["stress"]
    assert parse_scenario(plain).stress == StressSettings()
    assert StressSettings().volume_realization == (0.25, 0.5, 0.75, 1.0, 1.25)
    assert StressSettings().growth_realization == (0.0, 0.5, 1.0)
    sorted_once = scenario(stress__volume_realization=[1, 0.5, 1, 0.25])
    assert sorted_once.stress.volume_realization == (0.25, 0.5, 1.0)
    for value, message in [
        ([], "must be a non-empty list of numbers"),
        (0.5, "must be a non-empty list of numbers"),
        ([0.5, -1], r"stress.volume_realization\[1\]: must be between 0 and 100"),
        ([0.5, "x"], r"stress.volume_realization\[1\]: must be a number"),
        (list(range(1, 22)), "at most 20"),
    ]:
        with pytest.raises(ScenarioError, match=message):
            scenario(stress__volume_realization=value)
    with pytest.raises(ScenarioError, match="did you mean 'growth_realization'"):
        scenario(stress__growth_realisation=[1.0])


def test_stress_table_can_be_set_from_the_command_line_without_one():
    loaded = load_scenario(
        SCENARIOS / "logistics.toml", ["stress.paths=5000", "stress.volume_realization=[0.5, 1]"]
    )
    assert loaded.stress.paths == 5000
    assert loaded.stress.volume_realization == (0.5, 1.0)


# ---------------------------------------------------------------------------
# The grid


def test_grid_rows_follow_the_contract(monotone):
    rows = monotone.extra["stress"]
    settings = monotone.scenario.stress
    assert [(r["volume_realization"], r["growth_realization"]) for r in rows] == [
        (v, g) for v in settings.volume_realization for g in settings.growth_realization
    ]
    for row in rows:
        assert set(row) == {"volume_realization", "growth_realization", "options"}
        assert set(row["options"]) == set(monotone.options)
        assert row["options"]["base"]["p_cheaper"] is None
        assert row["options"]["base"]["savings_p50"] is None
        for name, cell in row["options"].items():
            assert set(cell) == {"p_cheaper", "savings_p50", "p_cheapest", "expected_regret"}
            assert isinstance(cell["p_cheapest"], float)
            assert cell["expected_regret"] >= 0
            if name != "base":
                assert 0 <= cell["p_cheaper"] <= 1
        assert sum(c["p_cheapest"] for c in row["options"].values()) == pytest.approx(1)


def test_forecast_cell_is_the_main_run_on_its_first_paths(monotone):
    # Same seed, same paths (the stress runs use min([stress] paths, run's paths)).
    cell = next(
        r["options"]
        for r in monotone.extra["stress"]
        if (r["volume_realization"], r["growth_realization"]) == (1.0, 1.0)
    )
    for name, versus in monotone.versus.items():
        assert cell[name]["p_cheaper"] == versus.p_cheaper
        assert cell[name]["savings_p50"] == versus.savings["p50"]


def test_p_cheaper_does_not_fall_as_volume_or_growth_rises(monotone):
    grid = {
        (r["volume_realization"], r["growth_realization"]): r["options"]["cheap"]["p_cheaper"]
        for r in monotone.extra["stress"]
    }
    settings = monotone.scenario.stress
    for g in settings.growth_realization:
        column = [grid[v, g] for v in settings.volume_realization]
        assert column == sorted(column)
    for v in settings.volume_realization:
        row = [grid[v, g] for g in settings.growth_realization]
        assert row == sorted(row)
    assert grid[0.25, 0.0] < 0.5 < grid[2.0, 1.0]  # the grid spans the break-even
    curve = monotone.extra["stress_method"]["curve"]["cheap"]
    assert curve["volume_multiplier"] == sorted(curve["volume_multiplier"])
    assert curve["p_cheaper"] == sorted(curve["p_cheaper"])


# ---------------------------------------------------------------------------
# Break-even volume


def _known_breakeven(**changes):
    """No uncertainty, no growth: the saving over the horizon is
    T * (R * m * (price gap) - fee), zero at m* = fee / (R * gap)."""
    document = {
        "scenario": {"name": "known", "horizon_months": 12, "baseline": "base"},
        "workload": {
            "requests_per_month": 1_000_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 0,
        },
        "options": {
            "base": {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 0.0},
            "fee": {
                "kind": "api",
                "input_price_per_mtok": 1.0,
                "output_price_per_mtok": 0.0,
                "monthly_fee": 3700.0,
            },
        },
        "stress": {"paths": 64, "volume_realization": [1.0], "growth_realization": [1.0]},
    }
    return scenario(document, **changes)


def test_bisection_finds_a_known_breakeven_volume_to_a_tenth_of_a_percent():
    # By hand: each request costs 1000 tokens * ($2 - $1) / 1e6 = $0.001 less than on the
    # baseline, so 1,000,000 * m requests a month save $1,000 * m against a $3,700 fee:
    # m* = 3.7 (between the scan's 3.16 and 10). At m* itself the two cost the same,
    # which is not cheaper, so the search must land just above it.
    known = _known_breakeven()
    result = run(known, paths=64, seed=1, stress=True, workers=1)
    entry = result.extra["breakeven"]["fee"]
    for key in ("p50", "p80"):
        multiplier = entry[f"volume_multiplier_{key}"]
        assert 3.7 < multiplier <= 3.7 * (1 + TOLERANCE)
        assert entry[f"requests_per_month_{key}"] == pytest.approx(multiplier * 1_000_000)
        # The baseline bills 1,000,000 * m * 1000 tokens * $2 / 1e6 = $2,000 * m a month.
        assert entry[f"baseline_monthly_spend_{key}"] == pytest.approx(2000 * multiplier)
        assert entry[f"reason_{key}"] is None
    # Marginal cost per request at high volume: $0.001 against the baseline's $0.002.
    assert entry["marginal_cost_per_request"] == pytest.approx(0.001)
    assert entry["baseline_marginal_cost_per_request"] == pytest.approx(0.002)


@pytest.mark.parametrize("fee", [12.0, 250.0, 61_000.0])
def test_bisection_lands_within_tolerance_wherever_the_breakeven_is(fee):
    known = _known_breakeven(options__fee__monthly_fee=fee)
    exact = fee / 1000
    with Evaluator(known, entropy=1, paths=16, workers=1) as evaluator:
        entry = breakeven_volumes(
            evaluator, "base", first_month_requests=1e6, horizon_requests=12e6
        )["fee"]
    assert exact < entry["volume_multiplier_p50"] <= exact * (1 + TOLERANCE)


def test_null_breakeven_says_why(monotone):
    breakeven = monotone.extra["breakeven"]
    for entry in breakeven.values():
        assert {entry["reason_p50"], entry["reason_p80"]} <= {None, *REASONS}
    assert breakeven["dear"]["volume_multiplier_p50"] is None
    assert breakeven["dear"]["reason_p50"] == "marginal_cost_not_below_baseline"
    assert breakeven["dear"]["p_cheaper_at_highest"] == 0
    assert breakeven["free"]["volume_multiplier_p50"] is None
    assert breakeven["free"]["reason_p80"] == "cheaper_at_lowest_volume"
    assert breakeven["free"]["p_cheaper_at_lowest"] == 1
    cheap = breakeven["cheap"]
    assert cheap["reason_p50"] is None and cheap["reason_p80"] is None
    assert SCAN[0] < cheap["volume_multiplier_p50"] < cheap["volume_multiplier_p80"] < SCAN[-1]


def test_not_reached_within_the_range():
    # Cheaper per request, but a fee so large that not even 100 times the volume pays it.
    known = _known_breakeven(options__fee__monthly_fee=1e6)
    result = run(known, paths=64, seed=1, stress=True, workers=1)
    entry = result.extra["breakeven"]["fee"]
    assert entry["volume_multiplier_p50"] is None
    assert entry["reason_p50"] == "not_reached_by_highest_volume"


def test_breakeven_keys_follow_the_contract(monotone):
    breakeven = monotone.extra["breakeven"]
    assert set(breakeven) == {"cheap", "dear", "free"}
    contract = {
        "volume_multiplier_p50",
        "volume_multiplier_p80",
        "requests_per_month_p50",
        "baseline_monthly_spend_p50",
    }
    for entry in breakeven.values():
        assert contract <= set(entry)
        for key in contract:
            assert entry[key] is None or isinstance(entry[key], float)
    method = monotone.extra["stress_method"]
    assert method["paths"] == 4096
    assert method["volume_multiplier_range"] == [0.01, 100.0]
    json.dumps(monotone.to_dict(), allow_nan=False)  # finite numbers or null only


def test_results_do_not_depend_on_workers(monotone):
    again = run(scenario(), paths=4096, seed=11, stress=True, workers=1)
    assert again.to_dict() == monotone.to_dict()
    assert monotone.timings["stress_s"] > 0


def test_stress_test_without_collected_paths_reads_the_same_paths():
    plain = run(scenario(), paths=3000, seed=2)
    collected = run(scenario(), paths=3000, seed=2, stress=True, workers=1)
    assert stress_test(plain, workers=1).to_dict() == collected.to_dict()


def test_stress_paths_never_exceed_the_run():
    result = run(scenario(), paths=1000, seed=2, stress=True, workers=1)
    assert result.extra["stress_method"]["paths"] == 1000


def test_a_failing_stress_point_names_itself():
    # $2.4e19 over the horizon at the forecast; past the 1e20 ceiling at 10 times it.
    huge = _known_breakeven(
        workload__requests_per_month=1e18, options__base__input_price_per_mtok=2000.0
    )
    result = run(huge, paths=16, seed=1)
    with pytest.raises(ScenarioError, match=r"in the stress test, at 10 times the volume"):
        stress_test(result, workers=1)


# ---------------------------------------------------------------------------
# Words, charts and the report


def _by_gid(figure, prefix):
    found = {}
    for ax in figure.axes:
        for artist in [*ax.lines, *ax.patches, *ax.images, *ax.collections]:
            gid = artist.get_gid()
            if gid and gid.startswith(prefix + ":"):
                found[gid.split(":", 1)[1]] = artist
    return found


def test_sentences_answer_the_questions(monotone):
    from simulator.report.words.stress import (
        breakeven_sentence,
        breakeven_sentences,
        sensitivity_sentence,
        stress_sentence,
    )
    from simulator.report.words.verdict import verdict

    grid = {
        (r["volume_realization"], r["growth_realization"]): r["options"]["cheap"]["p_cheaper"]
        for r in monotone.extra["stress"]
    }
    from simulator.scenario.numbers import share

    assert stress_sentence(monotone) == (
        f"If volume comes in at half the forecast, cheap beats base on {share(grid[0.5, 1.0])} "
        f"of paths instead of {share(grid[1.0, 1.0])}; if it does not grow either, on "
        f"{share(grid[0.5, 0.0])}."
    )
    half = monotone.extra["breakeven"]["cheap"]["volume_multiplier_p50"]
    assert breakeven_sentence(monotone).startswith(
        f"cheap beats base on half of the paths from {half:.3g} times the forecast volume"
    )
    words = dict(zip(monotone.extra["breakeven"], breakeven_sentences(monotone), strict=True))
    assert "so no volume helps" in words["dear"]
    assert "needs no particular volume" in words["free"]
    assert sensitivity_sentence(monotone, "cheap").startswith("What moves the savings of cheap")
    assert stress_sentence(monotone) in verdict(monotone)


def test_stress_heatmap_shows_the_grid(monotone):
    from simulator.report.charts.stress import stress_heatmap
    from simulator.report.words.stress import stress_sentence

    figure = stress_heatmap(monotone)
    images = _by_gid(figure, "stress-grid")
    assert set(images) == {"cheap"}  # the others do not move across the grid
    settings = monotone.scenario.stress
    expected = [
        [
            next(
                r["options"]["cheap"]["p_cheaper"]
                for r in monotone.extra["stress"]
                if (r["volume_realization"], r["growth_realization"]) == (v, g)
            )
            for v in settings.volume_realization
        ]
        for g in settings.growth_realization
    ]
    np.testing.assert_array_equal(images["cheap"].get_array(), expected)
    ax = images["cheap"].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "0.25x",
        "0.5x",
        "0.75x",
        "1x",
        "1.25x",
        "2x",
    ]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0x", "0.5x", "1x"]
    assert "stress-forecast:cheap" in {p.get_gid() for p in ax.patches}
    assert figure.get_suptitle().replace("\n", " ") == stress_sentence(monotone)


def test_breakeven_curve_shows_the_search(monotone):
    from simulator.report.charts.stress import volume_breakeven_curves

    figure = volume_breakeven_curves(monotone)
    curves = _by_gid(figure, "volume-curve")
    assert set(curves) == {"cheap", "dear", "free"}
    for name, line in curves.items():
        x, y = line.get_data()
        curve = monotone.extra["stress_method"]["curve"][name]
        np.testing.assert_array_equal(x, curve["volume_multiplier"])
        np.testing.assert_array_equal(y, curve["p_cheaper"])
    marks = _by_gid(figure, "volume-breakeven")
    assert set(marks) == {"cheap:p50", "cheap:p80"}
    entry = monotone.extra["breakeven"]["cheap"]
    assert marks["cheap:p50"].get_data() == ([entry["volume_multiplier_p50"]], [0.5])
    assert marks["cheap:p80"].get_data() == ([entry["volume_multiplier_p80"]], [0.8])
    levels = _by_gid(figure, "volume-target")
    assert {k: line.get_ydata()[0] for k, line in levels.items()} == {"50%": 0.5, "80%": 0.8}
    ax = curves["cheap"].axes
    assert ax.get_xscale() == "log" and ax.get_xlim() == pytest.approx((0.01, 100))


def test_tornado_bars_are_the_decile_medians(monotone):
    from simulator.report.charts.stress import TORNADO_INPUTS, tornado
    from simulator.report.words.stress import sensitivity_sentence

    figure = tornado(monotone)
    low = _by_gid(figure, "tornado-low")
    high = _by_gid(figure, "tornado-high")
    effects = monotone.extra["sensitivity"]
    for name in ("cheap", "dear", "free"):
        centre = monotone.versus[name].savings["p50"]
        shown = effects[name][:TORNADO_INPUTS]
        for effect in shown:
            bar = low[f"{name}:{effect['input']}"]
            assert bar.get_x() == pytest.approx(centre)
            assert bar.get_width() == pytest.approx(effect["savings_p50_low"] - centre)
            bar = high[f"{name}:{effect['input']}"]
            assert bar.get_width() == pytest.approx(effect["savings_p50_high"] - centre)
    assert figure.get_suptitle().replace("\n", " ") == sensitivity_sentence(monotone)


def test_report_with_a_stress_test(tmp_path, monotone):
    from simulator.report.charts import CHARTS
    from simulator.report.writer import write_report

    folder = write_report(monotone, tmp_path / "report")
    names = {p.name for p in folder.iterdir()}
    assert {f"{c.slug}.png" for c in CHARTS if c.analysis not in ("policy", "reservation")} <= names
    html = (folder / "index.html").read_text(encoding="utf-8")
    for section in ("stress-grid", "volume-breakeven", "sensitivity"):
        assert f'id="{section}"' in html
    for section in ("breakeven-table", "stress-table", "sensitivity-table"):
        assert f'id="{section}"' in html
    assert "Stress test" in html and "4,096 paths" in html
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Break-even volume" in markdown and "never (dearer per request)" in markdown


def test_command_line_stress(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from simulator.cli import simulate as command

    from .test_scenario import to_toml

    path = tmp_path / "monotone.toml"
    path.write_text(to_toml(MONOTONE), encoding="utf-8")
    runner = CliRunner()
    args = [str(path), "--paths", "4096", "--seed", "11", "--no-report", "--workers", "2"]
    out = runner.invoke(command, [*args, "--stress", "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert {"stress", "breakeven", "sensitivity", "stress_method"} <= set(summary)
    text = runner.invoke(command, [*args, "--stress"], catch_exceptions=False)
    assert "Volume to break even" in text.stdout
    assert "If volume comes in at half the forecast" in " ".join(text.stdout.split())
    assert "stress test" in text.stderr
    plain = runner.invoke(command, [*args, "--json"], catch_exceptions=False)
    assert "stress" not in json.loads(plain.stdout)


def test_a_single_option_has_nothing_to_compare():
    alone = copy.deepcopy(MONOTONE)
    alone["options"] = {"base": alone["options"]["base"]}
    result = run(parse_scenario(alone), paths=500, seed=1, stress=True, workers=1)
    assert result.extra["breakeven"] == {} and result.extra["sensitivity"] == {}
    assert len(result.extra["stress"]) == 6 * 3  # the grid alone: no break-even scan
    assert result.extra["stress_method"]["runs"] == 18
    cell = result.extra["stress"][0]["options"]["base"]
    assert cell == {
        "p_cheaper": None,
        "savings_p50": None,
        "p_cheapest": 1.0,
        "expected_regret": 0.0,
    }


def test_searches_cost_fewer_options_on_the_same_draws():
    from simulator.decide.breakeven import costed_with
    from simulator.decide.shocks import evaluate

    logistics = load_scenario(SCENARIOS / "logistics.toml")
    assert costed_with(logistics, "hybrid") == ("api", "hosted_open", "hybrid")
    assert costed_with(logistics, "self_hosted") == ("api", "self_hosted")  # api: fallback too
    full = evaluate(logistics, entropy=3, paths=2000, volume_scale=0.7)
    alone = evaluate(
        logistics,
        entropy=3,
        paths=2000,
        volume_scale=0.7,
        options=costed_with(logistics, "self_hosted"),
    )
    assert alone.p_cheaper == {"self_hosted": full.p_cheaper["self_hosted"]}
    assert alone.mean_total["self_hosted"] == full.mean_total["self_hosted"]
