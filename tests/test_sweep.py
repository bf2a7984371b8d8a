"""Sweeps: every combination of a grid on the same draws, the forecast point equal to
the plain run, the same rows on any number of workers or a cluster, and the files."""

from __future__ import annotations

import csv
import math
import tomllib

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from simulator import load_scenario, run
from simulator.cli import simulate
from simulator.decide.sweep import parse_grid, sweep, toml_text
from simulator.scenario.errors import ScenarioError

from .conftest import SCENARIOS

LOGISTICS = SCENARIOS / "logistics.toml"
PATHS = 8192


def _document(path=LOGISTICS):
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def two_by_two():
    # logistics.toml's own values are monthly_growth 0.082 and a 36-month horizon.
    grid = [
        parse_grid("workload.monthly_growth=0.04,0.082"),
        parse_grid("scenario.horizon_months=24,36"),
    ]
    return sweep(_document(), grid, source=str(LOGISTICS), paths=PATHS, seed=3, workers=2)


def test_the_forecast_point_is_the_plain_run(two_by_two):
    plain = run(load_scenario(LOGISTICS), paths=PATHS, seed=3, workers=1)
    rows = [
        r
        for r in two_by_two.rows
        if r["workload.monthly_growth"] == 0.082 and r["scenario.horizon_months"] == 36
    ]
    assert len(rows) == 1
    (row,) = rows
    for name, option in plain.options.items():
        assert row[f"{name}.mean_total_cost"] == option.total_cost.mean
        assert row[f"{name}.p_cheapest"] == option.p_cheapest
        versus = plain.versus.get(name)
        assert row[f"{name}.p_cheaper"] == (None if versus is None else versus.p_cheaper)
    assert row["recommendation"] == plain.extra["recommendation"]["option"]


def test_rows_follow_the_grid_order_last_key_fastest(two_by_two):
    order = [(r["workload.monthly_growth"], r["scenario.horizon_months"]) for r in two_by_two.rows]
    assert order == [(0.04, 24), (0.04, 36), (0.082, 24), (0.082, 36)]
    # More growth or a longer horizon never makes the per-token API cheaper.
    mean = {
        (r["workload.monthly_growth"], r["scenario.horizon_months"]): r["api.mean_total_cost"]
        for r in two_by_two.rows
    }
    assert mean[0.04, 24] < mean[0.04, 36] < mean[0.082, 36]
    assert mean[0.04, 24] < mean[0.082, 24] < mean[0.082, 36]


def test_combinations_share_their_draws():
    # A monthly fee on the API adds exactly fee x months to its total on every path and
    # changes no other option: the rows differ by the change alone.
    document = tomllib.loads((SCENARIOS / "startup.toml").read_text(encoding="utf-8"))
    months = document["scenario"]["horizon_months"]
    found = sweep(
        document, [("options.api.monthly_fee", [0.0, 250.0])], paths=4096, seed=1, workers=1
    )
    low, high = found.rows
    assert high["api.mean_total_cost"] - low["api.mean_total_cost"] == pytest.approx(
        250.0 * months, rel=1e-9
    )
    for name in found.options:
        if name != "api":
            assert high[f"{name}.mean_total_cost"] == low[f"{name}.mean_total_cost"]


def test_workers_and_cluster_never_change_the_rows(two_by_two, cluster):
    grid = [(k, sorted({r[k] for r in two_by_two.rows})) for k in two_by_two.keys]
    one = sweep(_document(), grid, paths=PATHS, seed=3, workers=1)
    remote = sweep(_document(), grid, paths=PATHS, seed=3, scheduler=cluster)
    assert one.rows == two_by_two.rows
    assert remote.rows == two_by_two.rows


def test_without_a_seed_every_combination_still_shares_the_draws():
    document = tomllib.loads((SCENARIOS / "startup.toml").read_text(encoding="utf-8"))
    del document["scenario"]["seed"]
    found = sweep(document, [("options.api.monthly_fee", [0.0, 0.0001])], paths=4096)
    low, high = found.rows
    assert high["hosted_open.mean_total_cost"] == low["hosted_open.mean_total_cost"]
    assert found.seed is None and found.entropy > 0


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("workload.monthly_growth=0,0.05,0.1", "workload.monthly_growth", [0, 0.05, 0.1]),
        ("scenario.sampling=random,lhs", "scenario.sampling", ["random", "lhs"]),
        ("options.api.uptime=[0.99, 0.999]", "options.api.uptime", [0.99, 0.999]),
        (
            'workload.volume_realization=[{dist="uniform", low=0.5, high=1.5}, 1.0]',
            "workload.volume_realization",
            [{"dist": "uniform", "low": 0.5, "high": 1.5}, 1.0],
        ),
        ("k=[[1, 2], [3, 4]]", "k", [[1, 2], [3, 4]]),
    ],
)
def test_grids_are_read_as_the_contract_says(text, key, values):
    assert parse_grid(text) == (key, values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workload.monthly_growth", "--grid needs KEY=V1,V2"),
        ("workload.monthly_growth=", "--grid needs KEY=V1,V2"),
        ("workload.monthly_growth=0,,1", "empty value"),
        ("workload.monthly_growth=1,1", "given twice"),
        ("workload.monthly_growth=[]", "at least one value"),
    ],
)
def test_bad_grids_say_what_is_wrong(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_grid(text)


toml_values = st.recursive(
    st.none().map(lambda _: 0)
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(toml_values)
def test_toml_text_reads_back_as_the_same_value(value):
    read = tomllib.loads(f"v = {toml_text(value)}")["v"]
    assert read == value or (isinstance(value, float) and math.isnan(value) and math.isnan(read))


def invoke(*args):
    return CliRunner().invoke(simulate, list(args), catch_exceptions=False)


def test_the_command_writes_the_rows_and_a_report(chdir_tmp):
    result = invoke(
        "sweep", str(SCENARIOS / "startup.toml"), "--paths", "4096", "--quiet",
        "--grid", "workload.monthly_growth=0.05,0.101", "--grid", "options.api.uptime=0.99,0.999",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = chdir_tmp / "reports" / "startup-sweep"
    with open(folder / "sweep.csv", encoding="utf-8", newline="") as rows:
        table = list(csv.reader(rows))
    options = list(load_scenario(SCENARIOS / "startup.toml").options)
    stats = [f"{n}.{s}" for n in options for s in ("mean_total_cost", "p_cheaper", "p_cheapest")]
    assert table[0] == ["workload.monthly_growth", "options.api.uptime", *stats, "recommendation"]
    assert [row[:2] for row in table[1:]] == [
        ["0.05", "0.99"], ["0.05", "0.999"], ["0.101", "0.99"], ["0.101", "0.999"]
    ]  # fmt: skip
    assert all(row[-1] in options for row in table[1:])
    names = {p.name for p in folder.iterdir()}
    assert {"sweep.csv", "index.html", "report.md", "decision-map.png", "p-cheaper.png"} <= names
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "Decision map" in page
    assert "4 combinations, 4,096 paths each" in result.stdout


def test_the_parquet_file_holds_the_csv_rows(chdir_tmp):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    result = invoke(
        "sweep", str(SCENARIOS / "startup.toml"), "--paths", "4096", "--quiet",
        "--grid", "options.api.monthly_fee=0,100",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = chdir_tmp / "reports" / "startup-sweep"
    parquet = pandas.read_parquet(folder / "sweep.parquet")
    csv_rows = pandas.read_csv(folder / "sweep.csv", dtype={"options.api.monthly_fee": str})
    assert list(parquet.columns) == list(csv_rows.columns)
    assert parquet["options.api.monthly_fee"].tolist() == ["0", "100"]
    pandas.testing.assert_series_equal(
        parquet["api.mean_total_cost"], csv_rows["api.mean_total_cost"]
    )


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("options.nowhere.uptime=0.9,1", "'nowhere' is not a table in options"),
        ("options.api.uptime=0.9,2.0", "at options.api.uptime=2.0"),
        ("workload.monthly_growth", "--grid needs KEY=V1,V2"),
    ],
)
def test_a_bad_grid_is_refused_before_anything_runs(chdir_tmp, grid, message):
    result = invoke("sweep", str(SCENARIOS / "startup.toml"), "--grid", grid)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert list(chdir_tmp.iterdir()) == []


def test_run_is_the_default_command(chdir_tmp):
    args = (str(SCENARIOS / "startup.toml"), "--paths", "4096", "--json", "--no-report")
    assert invoke(*args).stdout == invoke("run", *args).stdout
