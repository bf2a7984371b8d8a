"""Scenario validation and ``--set`` overrides (simulator/scenario.py, simulator/schema.py).

Every user error must be a ScenarioError whose message names the file (when read from
one), the dotted key path and what is wrong (scenario format, section 4).
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path

import pytest

from simulator import ScenarioError, load_scenario, parse_scenario
from simulator.scenario import apply_overrides
from simulator.scenario.distributions import Fixed, Normal, Uniform

from .conftest import ROOT

LOGISTICS = Path(__file__).resolve().parent.parent / "scenarios" / "logistics.toml"

BASE = {
    "scenario": {"name": "validation", "horizon_months": 12, "paths": 1000, "seed": 1},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 500,
        "output_tokens_per_request": 100,
    },
    "options": {
        "api": {
            "kind": "api",
            "input_price_per_mtok": 2.0,
            "output_price_per_mtok": 8.0,
            "uptime": 0.999,
        },
        "self_hosted": {
            "kind": "self_hosted",
            "replica_tokens_per_s": 1000,
            "gpu_hourly_usd": 2.5,
            "fallback": "api",
            "escalation_rate": 0.05,
        },
    },
}


def _value(v) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(v)  # numbers, booleans and strings are spelled the same in TOML


def to_toml(doc: dict) -> str:
    """A small TOML writer for the documents of these tests."""
    lines: list[str] = []

    def table(header: str, body: dict):
        lines.append(f"[{header}]")
        nested = {}
        for k, v in body.items():
            if isinstance(v, dict) and header == "options":
                nested[k] = v
            else:
                lines.append(f"{k} = {_value(v)}")
        for k, v in nested.items():
            table(f"{header}.{k}", v)

    tables = {k: v for k, v in doc.items() if isinstance(v, dict | list)}
    for name, body in doc.items():
        if name not in tables:
            lines.append(f"{name} = {_value(body)}")  # a wrong type, on purpose; before any table
    for name, body in tables.items():
        if isinstance(body, list) and all(isinstance(x, dict) for x in body):
            for item in body:
                lines.append(f"[[{name}]]")
                lines.extend(f"{k} = {_value(v)}" for k, v in item.items())
        elif isinstance(body, dict):
            table(name, body)
        else:
            lines.insert(0, f"{name} = {_value(body)}")
    return "\n".join(lines) + "\n"


def doc_with(change) -> dict:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def parse_error(doc) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return info.value


def load_error(tmp_path, text: str | bytes, overrides=(), name="bad.toml") -> ScenarioError:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    assert str(path) in str(info.value)
    return info.value


def write(tmp_path, doc, name="ok.toml") -> Path:
    path = tmp_path / name
    path.write_text(to_toml(doc), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# valid documents


def test_base_document_parses_with_the_format_defaults():
    s = parse_scenario(BASE)
    # Defaults from the format, section 2.
    assert s.hours_per_month == 730.0
    assert s.discount_rate == 0.0
    assert s.currency == "USD"
    assert s.sampling == "random"
    assert s.baseline == "api"  # the first option
    assert s.inputs == ()
    assert s.quantities["workload.monthly_growth"] == Fixed(0.0)
    assert s.quantities["workload.peak_to_average"] == Fixed(1.0)
    assert s.quantities["options.api.uptime"] == Fixed(0.999)
    sh = s.options["self_hosted"]
    assert sh.label == "self_hosted"  # label defaults to the name
    assert sh.params["setup_gpus"] == sh.params["gpus_per_replica"] == 1
    assert sh.params["provisioning"] == "peak"
    defaults = parse_scenario(doc_with(lambda d: d["scenario"].pop("horizon_months")))
    assert defaults.horizon_months == 36


def test_toml_writer_round_trips(tmp_path):
    s = load_scenario(write(tmp_path, BASE))
    direct = parse_scenario(BASE)
    assert s.source == str(tmp_path / "ok.toml")
    assert s.quantities == direct.quantities
    assert s.options == direct.options
    assert (s.name, s.horizon_months, s.paths, s.seed) == ("validation", 12, 1000, 1)


def test_logistics_example_loads():
    s = load_scenario(LOGISTICS)
    assert s.baseline == "api"
    assert set(s.options) == {
        "api",
        "api_batch",
        "hosted_open",
        "self_hosted",
        "cloud_managed",
        "hybrid",
        "staged",
    }
    assert "workload.growth_realization" in s.inputs
    assert s.correlations[0].rank == 0.3


def test_integer_keys_accept_whole_floats():
    s = parse_scenario(doc_with(lambda d: d["scenario"].update(horizon_months=24.0)))
    assert s.horizon_months == 24
    assert isinstance(s.horizon_months, int)


# ---------------------------------------------------------------------------
# invalid documents: (change, key, text), checked both as a dict and as a file

CASES = {
    # missing tables and keys
    "no scenario table": (lambda d: d.pop("scenario"), "scenario", "[scenario] table is required"),
    "no workload table": (lambda d: d.pop("workload"), "workload", "[workload] table is required"),
    "no options table": (lambda d: d.pop("options"), "options", "[options] table is required"),
    "no options": (lambda d: d.update(options={}), "options", "needs at least one option"),
    "no name": (lambda d: d["scenario"].pop("name"), "scenario.name", "is required"),
    "no volume": (
        lambda d: d["workload"].pop("requests_per_month"),
        "workload.requests_per_month",
        "is required",
    ),
    "no price": (
        lambda d: d["options"]["api"].pop("output_price_per_mtok"),
        "options.api.output_price_per_mtok",
        "is required",
    ),
    "no gpu price": (
        lambda d: d["options"]["self_hosted"].pop("gpu_hourly_usd"),
        "options.self_hosted.gpu_hourly_usd",
        "is required",
    ),
    "no kind": (lambda d: d["options"]["api"].pop("kind"), "options.api.kind", "needs a kind"),
    # unknown keys, with the nearest suggested
    "uptme": (
        lambda d: d["options"]["api"].update(uptme=0.99),
        "options.api.uptme",
        "did you mean 'uptime'?",
    ),
    "request_per_month": (
        lambda d: d["workload"].update(request_per_month=5),
        "workload.request_per_month",
        "did you mean 'requests_per_month'?",
    ),
    "horizon": (
        lambda d: d["scenario"].update(horizon=12),
        "scenario.horizon",
        "did you mean 'horizon_months'?",
    ),
    "workloads": (
        lambda d: d.update(workloads={"x": 1}),
        "workloads",
        "give [workload] or [workloads.NAME] tables, not both",
    ),
    "misspelt workload": (
        lambda d: d.update(workloda={"x": 1}),
        "workloda",
        "did you mean 'workload'?",
    ),
    "unknown kind": (
        lambda d: d["options"]["self_hosted"].update(kind="self_hosting"),
        "options.self_hosted.kind",
        "'self_hosting' is not an option kind; did you mean 'self_hosted'?",
    ),
    "kind not a string": (
        lambda d: d["options"]["api"].update(kind=["api"]),
        "options.api.kind",
        "is not an option kind",
    ),
    "unknown enum": (
        lambda d: d["options"]["self_hosted"].update(provisioning="autoscaled"),
        "options.self_hosted.provisioning",
        "did you mean 'autoscale'?",
    ),
    # wrong types
    "string quantity": (
        lambda d: d["workload"].update(requests_per_month="lots"),
        "workload.requests_per_month",
        "must be a number or a distribution table",
    ),
    "bool quantity": (
        lambda d: d["workload"].update(requests_per_month=True),
        "workload.requests_per_month",
        "must be a number or a distribution table, got True",
    ),
    "string number": (
        lambda d: d["scenario"].update(horizon_months="36"),
        "scenario.horizon_months",
        "must be a number",
    ),
    "bool number": (
        lambda d: d["options"]["self_hosted"].update(engineers=True),
        "options.self_hosted.engineers",
        "must be a number",
    ),
    "number string": (lambda d: d["scenario"].update(name=3), "scenario.name", "must be a string"),
    "table not a table": (
        lambda d: d.update(workload=5),
        "workload",
        "must be a table",
    ),
    "option not a table": (
        lambda d: d["options"].update(api=5),
        "options.api",
        "must be a table",
    ),
    # out of range
    "uptime 1.2": (
        lambda d: d["options"]["api"].update(uptime=1.2),
        "options.api.uptime",
        "outside what is allowed (between 0 and 1)",
    ),
    "negative price draws": (
        lambda d: d["options"]["api"].update(
            input_price_per_mtok={"dist": "uniform", "low": -1, "high": 5}
        ),
        "options.api.input_price_per_mtok",
        # One sixth of uniform(-1, 5) lies below 0 (hand calculation).
        "16.67% of draws fall outside what is allowed (>= 0)",
    ),
    "normal across zero": (
        lambda d: d["workload"].update(
            requests_per_month={"dist": "normal", "mean": 1000, "sd": 1000}
        ),
        "workload.requests_per_month",
        # Phi(-1) = 15.87% of draws below 0.
        "15.87% of draws fall outside what is allowed (>= 0) (add low/high to truncate it)",
    ),
    "horizon 0": (
        lambda d: d["scenario"].update(horizon_months=0),
        "scenario.horizon_months",
        "must be between 1 and 1200",
    ),
    "hours 0": (
        lambda d: d["scenario"].update(hours_per_month=0),
        "scenario.hours_per_month",
        "must be > 0 and <= 744",
    ),
    "discount -1": (
        lambda d: d["scenario"].update(discount_rate=-1),
        "scenario.discount_rate",
        "must be > -1",
    ),
    "utilization 0": (
        lambda d: d["options"]["self_hosted"].update(max_utilization=0),
        "options.self_hosted.max_utilization",
        "must be > 0 and <= 1",
    ),
    "throughput can be 0": (
        lambda d: d["options"]["self_hosted"].update(
            replica_tokens_per_s={"dist": "choice", "values": [0, 1000]}
        ),
        "options.self_hosted.replica_tokens_per_s",
        "must be > 0",
    ),
    "negative seed": (
        lambda d: d["scenario"].update(seed=-1),
        "scenario.seed",
        "must be between 0",
    ),
    "bad distribution": (
        lambda d: d["workload"].update(monthly_growth={"dist": "normall", "mean": 0, "sd": 1}),
        "workload.monthly_growth",
        "did you mean 'normal'?",
    ),
    # integers
    "horizon 1.5": (
        lambda d: d["scenario"].update(horizon_months=1.5),
        "scenario.horizon_months",
        "must be a whole number",
    ),
    "paths 1.5": (
        lambda d: d["scenario"].update(paths=1000.5),
        "scenario.paths",
        "must be a whole number",
    ),
    "gpus 1.5": (
        lambda d: d["options"]["self_hosted"].update(gpus_per_replica=1.5),
        "options.self_hosted.gpus_per_replica",
        "must be a whole number",
    ),
    "min replicas 1.5": (
        lambda d: d["options"]["self_hosted"].update(min_replicas=1.5),
        "options.self_hosted.min_replicas",
        "must be a whole number",
    ),
    # references
    "dangling fallback": (
        lambda d: d["options"]["self_hosted"].update(fallback="apii"),
        "options.self_hosted.fallback",
        "'apii' is not an option; did you mean 'api'?",
    ),
    "fallback to self": (
        lambda d: d["options"]["self_hosted"].update(fallback="self_hosted"),
        "options.self_hosted.fallback",
        "a fallback must be an api option",
    ),
    "escalation without fallback": (
        lambda d: d["options"]["self_hosted"].pop("fallback"),
        "options.self_hosted.escalation_rate",
        "escalations need somewhere to go",
    ),
    "uncertain escalation without fallback": (
        lambda d: (
            d["options"]["self_hosted"].pop("fallback"),
            d["options"]["self_hosted"].update(
                escalation_rate={"dist": "uniform", "low": 0, "high": 0.1}
            ),
        ),
        "options.self_hosted.escalation_rate",
        "escalations need somewhere to go",
    ),
    "dangling baseline": (
        lambda d: d["scenario"].update(baseline="self_host"),
        "scenario.baseline",
        "'self_host' is not an option; did you mean 'self_hosted'?",
    ),
    "dangling route": (
        lambda d: d["options"].update(
            mix={"kind": "hybrid", "routes": [{"option": "ap", "share": 1.0}]}
        ),
        "options.mix.routes[0].option",
        "'ap' is not an option; did you mean 'api'?",
    ),
    "shares sum to 0.9": (
        lambda d: d["options"].update(
            mix={
                "kind": "hybrid",
                "routes": [
                    {"option": "api", "share": 0.5},
                    {"option": "self_hosted", "share": 0.4},
                ],
            }
        ),
        "options.mix.routes",
        "route shares must sum to 1, they sum to 0.9",
    ),
    "share above 1": (
        lambda d: d["options"].update(
            mix={"kind": "hybrid", "routes": [{"option": "api", "share": 1.5}]}
        ),
        "options.mix.routes[0].share",
        "must be between 0 and 1",
    ),
    "route twice": (
        lambda d: d["options"].update(
            mix={
                "kind": "hybrid",
                "routes": [{"option": "api", "share": 0.5}, {"option": "api", "share": 0.5}],
            }
        ),
        "options.mix.routes",
        "names the same option twice",
    ),
    "no routes": (
        lambda d: d["options"].update(mix={"kind": "hybrid", "routes": []}),
        "options.mix.routes",
        "must be a list of routes",
    ),
    "route key typo": (
        lambda d: d["options"].update(
            mix={"kind": "hybrid", "routes": [{"opton": "api", "share": 1.0}]}
        ),
        "options.mix.routes[0].opton",
        "did you mean 'option'?",
    ),
    "hybrid cycle": (
        lambda d: d["options"].update(
            a={"kind": "hybrid", "routes": [{"option": "b", "share": 1.0}]},
            b={"kind": "hybrid", "routes": [{"option": "a", "share": 1.0}]},
        ),
        "options.a.routes",
        "hybrid routes form a cycle: a -> b -> a",
    ),
    "hybrid self-reference": (
        lambda d: d["options"].update(
            a={
                "kind": "hybrid",
                "routes": [{"option": "api", "share": 0.5}, {"option": "a", "share": 0.5}],
            },
        ),
        "options.a.routes",
        "hybrid routes form a cycle: a -> a",
    ),
    # names and labels (tests/test_hostile_input.py has the characters they may hold)
    "label too long": (
        lambda d: d["options"]["api"].update(label="x" * 201),
        "options.api.label",
        "is 201 characters long; at most 200 are allowed",
    ),
    "scenario name too long": (
        lambda d: d["scenario"].update(name="n" * 201),
        "scenario.name",
        "is 201 characters long; at most 200 are allowed",
    ),
    "option name too long": (
        lambda d: d["options"].update({"s" * 65: d["options"].pop("self_hosted")}),
        "options",
        f"key '{'s' * 65}' is 65 characters long; at most 64 are allowed",
    ),
    "correlations not an array": (
        lambda d: d.update(correlations={"between": 1}),
        "correlations",
        "must be an array of tables",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_document(case, tmp_path):
    change, key, text = CASES[case]
    doc = doc_with(change)
    err = parse_error(doc)
    assert err.key == key
    assert text in err.message
    assert str(err) == f"{key}: {err.message}"
    # The same document read from a file names the file first, then the key path.
    path = tmp_path / f"{case.replace(' ', '_')}.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: {key}: {err.message}"


def test_hybrid_of_hybrid_is_fine():
    s = parse_scenario(
        doc_with(
            lambda d: d["options"].update(
                inner={
                    "kind": "hybrid",
                    "routes": [
                        {"option": "api", "share": 0.25},
                        {"option": "self_hosted", "share": 0.75},
                    ],
                },
                outer={
                    "kind": "hybrid",
                    "routes": [{"option": "inner", "share": 0.5}, {"option": "api", "share": 0.5}],
                },
            )
        )
    )
    assert [r.option for r in s.options["outer"].routes] == ["inner", "api"]
    assert [r.share for r in s.options["inner"].routes] == [0.25, 0.75]


def test_no_escalation_needs_no_fallback():
    def change(d):
        d["options"]["self_hosted"].pop("fallback")
        d["options"]["self_hosted"]["escalation_rate"] = 0

    s = parse_scenario(doc_with(change))
    assert s.options["self_hosted"].params["fallback"] is None


def test_fallback_to_a_cloud_managed_option_is_refused():
    def change(d):
        d["options"]["managed"] = {
            "kind": "cloud_managed",
            "replica_tokens_per_s": 1000,
            "gpu_hourly_usd": 3,
            "managed_premium": 0.3,
        }
        d["options"]["self_hosted"]["fallback"] = "managed"

    err = parse_error(doc_with(change))
    assert err.key == "options.self_hosted.fallback"
    assert "'managed' is a cloud_managed option; a fallback must be an api option" in err.message


def test_normal_far_from_the_bound_is_truncated_silently():
    # Mean 10 sd above 0: Phi(-10) ~ 8e-24 of the mass lies below 0, a negligible tail
    # that is cut off rather than refused.
    s = parse_scenario(
        doc_with(
            lambda d: d["workload"].update(
                requests_per_month={"dist": "normal", "mean": 1e6, "sd": 1e5}
            )
        )
    )
    dist = s.quantities["workload.requests_per_month"]
    assert isinstance(dist, Normal)
    assert (dist.mean, dist.sd) == (1e6, 1e5)
    assert (dist.low, dist.high) == (0.0, math.inf)


def test_normal_inside_a_share_is_truncated_at_both_ends():
    # uptime in [0, 1]: mean 0.5, sd 0.1 leaves 2 * Phi(-5) = 5.7e-7 outside (< 1e-6).
    s = parse_scenario(
        doc_with(
            lambda d: d["options"]["api"].update(uptime={"dist": "normal", "mean": 0.5, "sd": 0.1})
        )
    )
    dist = s.quantities["options.api.uptime"]
    assert (dist.low, dist.high) == (0.0, 1.0)


def test_normal_with_bounds_is_accepted_as_given():
    s = parse_scenario(
        doc_with(
            lambda d: d["workload"].update(
                monthly_growth={
                    "dist": "normal",
                    "mean": 0.03,
                    "sd": 0.05,
                    "low": -0.2,
                    "high": 0.3,
                }
            )
        )
    )
    assert s.quantities["workload.monthly_growth"] == Normal(0.03, 0.05, -0.2, 0.3)
    assert s.inputs == ("workload.monthly_growth",)


def test_uniform_exactly_on_the_allowed_range_is_accepted():
    # A support that is exactly the allowed range [0, 1] is inside it.
    s = parse_scenario(
        doc_with(
            lambda d: d["options"]["api"].update(uptime={"dist": "uniform", "low": 0, "high": 1})
        )
    )
    assert s.quantities["options.api.uptime"] == Uniform(0.0, 1.0)


# ---------------------------------------------------------------------------
# files


def test_invalid_toml(tmp_path):
    err = load_error(tmp_path, '[scenario]\nname = "x\n')
    assert "is not valid TOML" in str(err)
    assert err.key is None


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: no such file"


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a folder, not a scenario file"


def test_non_utf8_file(tmp_path):
    text = to_toml(BASE).replace("validation", "caf\u00e9").encode("latin-1")
    err = load_error(tmp_path, text)
    assert "is not UTF-8 text" in str(err)


def test_error_in_file_names_file_and_key(tmp_path):
    text = to_toml(BASE).replace("uptime = 0.999", "uptme = 0.999")
    err = load_error(tmp_path, text, name="typo.toml")
    assert err.file == str(tmp_path / "typo.toml")
    assert err.key == "options.api.uptme"
    assert str(err).startswith(f"{tmp_path / 'typo.toml'}: options.api.uptme: ")
    assert "did you mean 'uptime'?" in str(err)


# ---------------------------------------------------------------------------
# --set overrides


def test_override_number(tmp_path):
    s = load_scenario(write(tmp_path, BASE), ["workload.requests_per_month=2500000"])
    assert s.quantities["workload.requests_per_month"] == Fixed(2.5e6)
    s = load_scenario(write(tmp_path, BASE), ["scenario.paths=50", "scenario.seed=0"])
    assert (s.paths, s.seed) == (50, 0)


def test_override_distribution_table(tmp_path):
    s = load_scenario(
        write(tmp_path, BASE),
        ['options.api.uptime={dist="uniform", low=0.99, high=0.999}'],
    )
    assert s.quantities["options.api.uptime"] == Uniform(0.99, 0.999)
    assert s.inputs == ("options.api.uptime",)


def test_override_bare_string(tmp_path):
    s = load_scenario(write(tmp_path, BASE), ["scenario.name=Acme Corp"])
    assert s.name == "Acme Corp"
    s = load_scenario(write(tmp_path, BASE), ['scenario.name="quoted"'])
    assert s.name == "quoted"


def test_override_adds_an_absent_key(tmp_path):
    s = load_scenario(write(tmp_path, BASE), ["options.self_hosted.engineers=1.5"])
    assert s.options["self_hosted"].params["engineers"] == 1.5


def test_override_into_an_absent_optional_table(tmp_path):
    # [business] is optional: --set must still be able to give its keys a value.
    s = load_scenario(write(tmp_path, BASE), ["business.downtime_cost_per_hour=500"])
    assert s.quantities["business.downtime_cost_per_hour"] == Fixed(500.0)


def test_override_into_unknown_option_suggests_the_nearest(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, BASE), ["options.apii.uptime=0.99"])
    err = info.value
    # The value came from --set, not from the file: the error names --set as its source.
    assert (err.file, err.key) == ("--set", "options.apii.uptime")
    assert str(err).startswith("--set: options.apii.uptime: ")
    assert "'apii' is not a table in options; did you mean 'api'?" in str(err)


def test_override_errors_name_the_source(tmp_path):
    # Not checked by load_error, which expects the scenario file: the source is --set.
    path = write(tmp_path, BASE)
    for text, fragment in [
        ("workload.requests_per_month", "--set needs KEY=VALUE"),
        ("=5", "--set needs KEY=VALUE"),
        ("workload..x=5", "has an empty part"),
        ("options.api.uptime={dist=", "is not a valid TOML value"),
        ("scenario.name.first=5", "scenario.name is not a table"),
        ("workloads.requests_per_month=5", "did you mean 'workload'?"),
    ]:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path, [text])
        assert str(info.value).startswith("--set: "), text
        assert fragment in str(info.value), text


def test_override_with_invalid_value_names_file_and_key(tmp_path):
    err = load_error(tmp_path, to_toml(BASE), ["options.api.uptime=1.5"])
    assert str(err).startswith(f"{tmp_path / 'bad.toml'}: options.api.uptime: ")
    err = load_error(tmp_path, to_toml(BASE), ["options.api.uptme=0.9"])
    assert err.key == "options.api.uptme"
    assert "did you mean 'uptime'?" in str(err)


def test_apply_overrides_leaves_the_document_alone():
    doc = copy.deepcopy(BASE)
    out = apply_overrides(doc, ["options.api.uptime=0.5", "business.downtime_cost_per_hour=1"])
    assert doc == BASE
    assert out["options"]["api"]["uptime"] == 0.5
    assert out["business"] == {"downtime_cost_per_hour": 1}
    assert apply_overrides(doc, []) is doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("workload.requests_per_month", 10**400, "401 digits long"),
        ("workload.requests_per_month", 1e300, "numbers beyond 1e+18"),
        ("scenario.discount_rate", 10**400, "numbers beyond 1e+18"),
        ("options.api.uptime", {"dist": "uniform", "low": 0.9, "high": 1e300}, "1e+18"),
        ("scenario.paths", 10**400, "between 1 and 1e+10"),
    ],
)
def test_numbers_too_large_to_compute_with_are_refused(path, value, message):
    document = tomllib.loads((ROOT / "scenarios" / "logistics.toml").read_text())
    *tables, key = path.split(".")
    node = document
    for table in tables:
        node = node[table]
    node[key] = value
    with pytest.raises(ScenarioError) as error:
        parse_scenario(document)
    assert error.value.key.startswith(path)
    assert message in str(error.value)
