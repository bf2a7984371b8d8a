"""The notebook API: the three DataFrame views, short reprs, and names one can find."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator import load_scenario, run
from simulator.decide.frames import MONTHLY_STATISTICS, OPTION_COLUMNS

from .conftest import ROOT

SHIPPED = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
PATHS = 4096


@pytest.fixture(scope="module", params=SHIPPED)
def result(request):
    scenario = load_scenario(ROOT / "scenarios" / request.param)
    return run(scenario, paths=PATHS, seed=7, workers=1, keep_paths=True)


def test_every_scenario_is_tested():
    assert len(SHIPPED) >= 5


def test_option_frame_holds_the_summary(result):
    frame = result.to_frame()
    assert list(frame.index) == list(result.options)
    assert tuple(frame.columns) == OPTION_COLUMNS
    for name, option in result.options.items():
        row = frame.loc[name]
        assert row["label"] == option.label and row["kind"] == option.kind
        for key in ("mean", "sd", "p5", "p50", "p95", "cvar95"):
            assert row[key] == getattr(option.total_cost, key)
        assert row["p_cheapest"] == option.p_cheapest
        versus = result.versus.get(name)
        if versus is None:  # the baseline against itself
            assert name == result.scenario.baseline
            assert math.isnan(row["p_cheaper"]) and row["breakeven_month"] is pd.NA
        else:
            assert row["p_cheaper"] == versus.p_cheaper
            if versus.breakeven_p50 is None:
                assert row["breakeven_month"] is pd.NA
            else:
                assert row["breakeven_month"] == versus.breakeven_p50
        if option.excluded is None:
            assert row["excluded"] is pd.NA
        else:
            assert row["excluded"] == option.excluded
    assert frame["breakeven_month"].dtype == "Int64"
    # P(cheapest) is a share of paths: options with results on every path sum to one.
    assert frame["p_cheapest"].between(0, 1).all()


def test_path_frame_holds_every_kept_path(result):
    frame = result.paths.to_frame()
    assert len(frame) == PATHS and frame.index.name == "path"
    assert list(frame.index) == list(range(PATHS))
    inputs = [f"input:{key}" for key in result.paths.draws]
    totals = [f"total:{name}" for name in result.paths.totals]
    assert list(frame.columns) == inputs + totals
    for name, values in result.paths.totals.items():
        np.testing.assert_array_equal(frame[f"total:{name}"].to_numpy(), values)
    for key, values in result.paths.draws.items():
        np.testing.assert_array_equal(frame[f"input:{key}"].to_numpy(), values)
    # The per-path totals agree with the summary's mean (same paths, same sum).
    for name, option in result.options.items():
        assert frame[f"total:{name}"].mean() == pytest.approx(option.total_cost.mean, rel=1e-12)


def test_monthly_frame_is_month_by_option_by_statistic(result):
    frame = result.monthly_frame()
    months = result.scenario.horizon_months
    assert list(frame.index) == list(range(1, months + 1)) and frame.index.name == "month"
    assert frame.columns.names == ["option", "statistic"]
    assert list(frame.columns) == [
        (name, stat) for name in result.options for stat in MONTHLY_STATISTICS
    ]
    for name, option in result.options.items():
        for stat in MONTHLY_STATISTICS:
            assert frame[(name, stat)].tolist() == option.monthly_cost[stat]
        # Percentiles are ordered in every month.
        assert (frame[(name, "p5")] <= frame[(name, "p50")]).all()
        assert (frame[(name, "p50")] <= frame[(name, "p95")]).all()
    long = frame.stack(["option", "statistic"], future_stack=True)
    assert len(long) == months * len(result.options) * len(MONTHLY_STATISTICS)


def test_reprs_are_short_and_say_what_was_run(result):
    text = repr(result)
    assert len(text) < 300, text
    assert repr(result.scenario.name) in text and f"{PATHS:,} paths" in text
    assert len(repr(result.paths)) < 200
    assert len(repr(result.scenario)) < 400


def test_html_view_escapes_scenario_text(tmp_path):
    source = (ROOT / "scenarios" / "startup.toml").read_text(encoding="utf-8")
    path = tmp_path / "hostile.toml"
    path.write_text(source, encoding="utf-8")
    option = next(iter(load_scenario(path).options))
    scenario = load_scenario(
        path,
        [
            'scenario.name="<script>alert(1)</script>"',
            f'options.{option}.label="<img src=x onerror=alert(2)>"',
        ],
    )
    html = run(scenario, paths=PATHS, seed=1, workers=1)._repr_html_()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<table" in html


def test_path_frame_needs_kept_paths():
    result = run(load_scenario(ROOT / "scenarios" / "startup.toml"), paths=PATHS, seed=1)
    with pytest.raises(ValueError, match="keep_paths=True"):
        result.paths.to_frame()


def test_public_names_are_listed_and_found():
    for name in simulator.__all__:
        assert name in dir(simulator), name
        assert getattr(simulator, name) is not None
    assert {"load_scenario", "parse_scenario", "run", "SimulationResult"} <= set(dir(simulator))


def test_a_plain_run_does_not_import_pandas():
    code = (
        "import sys; from simulator import load_scenario, run; "
        "r = run(load_scenario('scenarios/logistics.toml'), paths=4096, seed=1, workers=1); "
        "r.to_dict(); print('pandas' in sys.modules, 'pyarrow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
