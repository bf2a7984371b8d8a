"""Golden summaries: every shipped scenario's answer, pinned.

A change that moves any number of a shipped scenario fails here. When the change is
intended, regenerate with ``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``
and review the diff of ``tests/golden/`` like any other change.
"""

from __future__ import annotations

import json
import math
import os

import pytest

from simulator import load_scenario, run

from .conftest import ROOT, SCENARIOS

GOLDEN = ROOT / "tests" / "golden"
PATHS = 4000
# Tight enough to catch any change of model or sampling; loose enough for the last
# bits that differ between builds of the maths libraries.
RTOL = 1e-9
# Percentiles and tails come from streaming histograms whose bins are at most 2**-11
# wide (simulator.engine.histogram): within that of the exact order statistics pinned here.
QUANTILE_RTOL = 2.0**-11
QUANTILE_KEYS = {"p5", "p25", "p50", "p75", "p95", "cvar95", "monthly_cost"}

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def summary(path) -> dict:
    data = run(load_scenario(path), paths=PATHS).to_dict()
    del data["scenario"]["file"]  # where the checkout lives, not part of the answer
    return data


def assert_same(actual, expected, where="summary", rtol=RTOL):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for key in expected:
            tolerance = QUANTILE_RTOL if key in QUANTILE_KEYS else rtol
            assert_same(actual[key], expected[key], f"{where}.{key}", tolerance)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]", rtol)
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=rtol, abs_tol=1e-9), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_matches_its_golden_summary(path):
    golden = GOLDEN / f"{path.stem}.json"
    actual = summary(path)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(actual, indent=2) + "\n", encoding="utf-8")
    assert golden.exists(), f"no golden summary for {path.name}: run with UPDATE_GOLDEN=1"
    assert_same(actual, json.loads(golden.read_text(encoding="utf-8")))


def test_every_shipped_scenario_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in SHIPPED if f"scenarios/{p.name}" not in readme] == []
