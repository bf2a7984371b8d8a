"""Hostile input at the front door: any corruption of a scenario, or any --set, either
runs to finite results or raises the project's own ScenarioError naming a key."""

from __future__ import annotations

import copy
import json
import math
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import ScenarioError, parse_scenario, run
from simulator.scenario import apply_overrides

from .conftest import SCENARIOS

BASE = tomllib.loads((SCENARIOS / "logistics.toml").read_text(encoding="utf-8"))


def _key_paths(node, prefix=()):
    for key, value in node.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _key_paths(value, (*prefix, key))


KEY_PATHS = sorted(_key_paths(BASE))

SCALARS = st.one_of(
    st.none(),  # None means: delete the key
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e-300, 1e300, 0.5, 2**63, -(2**63)]),
    st.text(max_size=30),
    st.sampled_from(
        ["api", "self_hosted", "hybrid", "cloud_managed", "nope", "<script>", "é" * 5000]
    ),
)
DISTRIBUTIONS = st.fixed_dictionaries(
    {
        "dist": st.sampled_from(
            ["uniform", "triangular", "pert", "normal", "lognormal", "choice", "gamma"]
        )
    },
    optional={
        "low": SCALARS,
        "mode": SCALARS,
        "high": SCALARS,
        "mean": SCALARS,
        "sd": SCALARS,
        "p5": SCALARS,
        "p95": SCALARS,
        "values": st.lists(SCALARS, max_size=4),
        "weights": st.lists(SCALARS, max_size=4),
    },
)
VALUES = st.one_of(
    SCALARS,
    DISTRIBUTIONS,
    st.lists(SCALARS, max_size=3),
    st.lists(st.fixed_dictionaries({"option": SCALARS, "share": SCALARS}), max_size=3),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
)

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _assert_runs_or_refuses(document):
    try:
        scenario = parse_scenario(document)
        result = run(scenario, paths=64, seed=1, workers=1)
    except ScenarioError as error:
        assert error.key or error.file, str(error)
        assert str(error)
        return
    text = json.dumps(result.to_dict(), allow_nan=False)  # finite numbers or null only
    assert text


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(KEY_PATHS), VALUES), min_size=1, max_size=3))
def test_corrupted_scenarios_run_or_are_refused_with_a_key(changes):
    document = copy.deepcopy(BASE)
    for path, value in changes:
        node = document
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    _assert_runs_or_refuses(document)


TOML_VALUES = st.one_of(
    st.sampled_from(
        [
            '"x"',
            "1e400",
            "-1",
            "0",
            "nan",
            "inf",
            "[1, 2]",
            '{dist="uniform", low=1, high=0}',
            '{dist="normal", mean=0, sd=1}',
            "true",
            "{",
            "]",
            "'unterminated",
            "1_000_000",
        ]
    ),
    st.text(max_size=20),
)


@SETTINGS
@given(
    st.sampled_from(KEY_PATHS + [("options", "nope", "uptime"), ("scenario",), ("",)]), TOML_VALUES
)
def test_overrides_run_or_are_refused_with_a_key(path, value):
    try:
        document = apply_overrides(BASE, [f"{'.'.join(path)}={value}"])
    except ScenarioError as error:
        assert error.file == "--set" and str(error)
        return
    _assert_runs_or_refuses(document)


def _numeric_leaves(node, prefix=()):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _numeric_leaves(value, (*prefix, key))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield (*prefix, key)


NUMERIC_LEAVES = sorted(_numeric_leaves(BASE))


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NUMERIC_LEAVES), st.sampled_from([0, 1e-9, 0.5, 2, 1e3, 1e6, -1])
        ),
        min_size=1,
        max_size=4,
    )
)
def test_extreme_but_plausible_values_run_or_are_refused(changes):
    # Scaling real figures keeps most documents valid, so the run itself is exercised:
    # zero volumes, prices or engineers, huge volumes, long setups.
    document = copy.deepcopy(BASE)
    for path, factor in changes:
        node = document
        for key in path[:-1]:
            node = node[key]
        original = node[path[-1]]
        value = original * factor
        whole = isinstance(original, int) and float(value).is_integer()
        node[path[-1]] = int(value) if whole else value
    _assert_runs_or_refuses(document)


def test_the_untouched_scenario_runs():
    result = run(parse_scenario(copy.deepcopy(BASE)), paths=64, seed=1, workers=1)
    assert all(math.isfinite(o.total_cost.mean) for o in result.options.values())
