"""Pinning an input that a correlation names: its pairs leave the copula, the command
says so on standard error, the summary lists it, and the run is the run of the scenario
without those pairs."""

from __future__ import annotations

import json
import tomllib

from click.testing import CliRunner

from simulator import load_scenario, parse_scenario, run
from simulator.cli import simulate
from simulator.report.pages import summary_json

from .conftest import SCENARIOS

LOGISTICS = SCENARIOS / "logistics.toml"
PINNED = "workload.growth_realization"  # correlated with peak_to_average in the file


def test_pinning_a_correlated_input_with_set_runs_and_says_so(chdir_tmp):
    result = CliRunner().invoke(
        simulate,
        [str(LOGISTICS), "--paths", "4096", "--no-report", "--json", "--set", f"{PINNED}=1.0"],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"simulate: note: {PINNED} fixed, so the rank correlations naming it are left out"
    )
    summary = json.loads(result.stdout)
    assert summary["scenario"]["pinned_correlated_inputs"] == [PINNED]


def test_the_run_is_that_of_the_scenario_without_the_pair():
    pinned = load_scenario(LOGISTICS, [f"{PINNED}=1.0"])
    document = tomllib.loads(LOGISTICS.read_text(encoding="utf-8"))
    document["workload"]["growth_realization"] = 1.0
    document["correlations"] = [c for c in document["correlations"] if PINNED not in c["between"]]
    without = parse_scenario(document, source=str(LOGISTICS))
    assert pinned.correlations == without.correlations
    a = json.loads(summary_json(run(pinned, paths=4096, seed=2, workers=1)))
    b = json.loads(summary_json(run(without, paths=4096, seed=2, workers=1)))
    assert a["scenario"].pop("pinned_correlated_inputs") == [PINNED]
    for key in ("file_sha256", "overrides"):
        a["scenario"].pop(key), b["scenario"].pop(key)
    assert a == b


def test_a_scenario_with_nothing_pinned_has_no_such_key():
    summary = run(load_scenario(LOGISTICS), paths=4096, seed=2, workers=1).to_dict()
    assert "pinned_correlated_inputs" not in summary["scenario"]
