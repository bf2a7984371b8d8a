"""The assumptions a finance partner reads: each input's name, its unit, and its source
as the scenario's author wrote it (a ``source`` note or the comment on or above it)."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from simulator import load_scenario, parse_scenario, run
from simulator.report.pages import markdown_report
from simulator.report.words.audit import input_rows
from simulator.scenario.distributions import parse_distribution
from simulator.scenario.errors import ScenarioError
from simulator.scenario.notes import comment_notes, note_of
from simulator.scenario.schema import OPTION_FIELDS, WORKLOADS
from simulator.scenario.units import UNITS, label_of, unit_of, with_unit, written

from .conftest import SCENARIOS


def test_every_quantity_of_the_schema_has_a_unit():
    tables = [WORKLOADS, *OPTION_FIELDS.values()]
    quantities = {k for table in tables for k, f in table.items() if f.type == "quantity"}
    quantities |= {"peak_coincidence", "reserved_gpus"}
    assert quantities - set(UNITS) == set()


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (-0.296, "%/yr", "-29.6%/yr"),  # the example: -0.296 is -30% a year
        (0.082, "%/month", "8.2%/month"),
        (0.999, "%", "99.9%"),
        (0.9995, "%", "99.95%"),  # four digits near 100%
        (2.49, "$/h", "$2.49/h"),
        (2.0, "$/Mtok", "$2/Mtok"),
        (0.25, "$/Mtok", "$0.25/Mtok"),
        (300_000, "$/yr", "$300k/yr"),
        (1150, "tokens", "1,150 tokens"),
        (30e6, "requests/month", "30M requests/month"),
        (2.0, "x", "2x"),
        (1.5, "months", "1.5 months"),
        (0.4, "", "0.4"),
    ],
)
def test_a_value_is_written_in_its_unit(value, unit, text):
    assert with_unit(value, unit) == text


def test_other_currencies_prefix_their_code():
    assert with_unit(2.5, "$/h", "EUR") == "EUR 2.50/h"


def test_units_and_labels_come_from_the_key():
    assert unit_of("options.api.annual_price_change") == "%/yr"
    assert unit_of("workloads.agent.escalation_rate.hosted") == "%"
    assert label_of("options.api.input_price_per_mtok") == "Input price per Mtok"
    assert label_of("options.gpu.gpu_hourly_usd") == "GPU hourly"
    assert label_of("workloads.agent.escalation_rate.hosted") == "Escalation rate to hosted"


def test_a_distribution_is_written_as_a_reader_says_it():
    pert = parse_distribution({"dist": "pert", "low": -0.4, "mode": -0.15, "high": 0.0}, "k")
    assert written(pert, "%/yr") == "PERT, -40%/yr to 0%/yr, most likely -15%/yr"
    uniform = parse_distribution({"dist": "uniform", "low": 5000, "high": 20000}, "k")
    assert written(uniform, "$") == "uniform, $5k to $20k"
    weighted = parse_distribution({"dist": "choice", "values": [1, 2], "weights": [3, 1]}, "k")
    assert written(weighted, "x") == "one of 1x, 2x (chances 75%, 25%)"
    lognormal = parse_distribution({"dist": "lognormal", "p5": 0.15, "p95": 0.45}, "k")
    assert written(lognormal, "%") == "lognormal, 90% between 15% and 45%"


SCENARIO_TEXT = textwrap.dedent(
    """\
    # A file's opening comment, then a blank line: nobody's source.

    [scenario]
    name = "Notes # not a comment"   # the scenario's name
    description = \"\"\"Two lines, the second
    uptime = 0.5  # looks like a key, inside a string\"\"\"

    [workload]
    # Seed 000: 30M documents a month.
    requests_per_month = 30_000_000
    # Tokens from the bill: ~1,150 in, ~45 out.
    input_tokens_per_request = 1150
    output_tokens_per_request = 45
    monthly_growth = 0.02   # the product plan

    peak_to_average = 2

    # GPT-4.1's list price (providers' price pages).
    [options.api]
    kind = "api"
    input_price_per_mtok = [
      2.0,  # never parsed as a note of its own
    ]
    output_price_per_mtok = { dist = "uniform", low = 7, high = 9, source = "Two quotes" }

    [[options.hybrid.routes]]
    option = "api"  # the first route
    [[options.hybrid.routes]]
    option = "api"  # the second route
    """
)


def test_the_comment_on_or_above_a_key_is_its_note():
    notes = comment_notes(SCENARIO_TEXT)
    assert notes["scenario.name"] == "the scenario's name"  # a '#' in a string is text
    assert "scenario.uptime" not in notes and "uptime" not in str(notes.keys())
    assert notes["workload.requests_per_month"] == "Seed 000: 30M documents a month."
    # One comment above keys written together is each one's note ...
    tokens = "Tokens from the bill: ~1,150 in, ~45 out."
    assert notes["workload.input_tokens_per_request"] == tokens
    assert notes["workload.output_tokens_per_request"] == tokens
    # ... a comment on the line wins over it, and a blank line ends it.
    assert notes["workload.monthly_growth"] == "the product plan"
    assert "workload.peak_to_average" not in notes
    # A comment just above a header is the table's, for keys with none of their own.
    assert notes["options.api"] == "GPT-4.1's list price (providers' price pages)."
    assert note_of(notes, "options.api.input_price_per_mtok") == notes["options.api"]
    assert notes["options.hybrid.routes[0].option"] == "the first route"
    assert notes["options.hybrid.routes[1].option"] == "the second route"
    assert not any("never parsed" in note for note in notes.values())


def test_a_source_note_is_kept_and_wins_over_a_comment(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        textwrap.dedent(
            """\
            [scenario]
            name = "Sources"
            [workload]
            requests_per_month = 1000
            input_tokens_per_request = 100
            # This comment loses to the table's own source.
            output_tokens_per_request = {dist="uniform", low=10, high=20, source="<b>log</b> sum"}
            [options.api]
            kind = "api"
            input_price_per_mtok = 2.0
            output_price_per_mtok = { dist = "uniform", low = 7, high = 9 }  # two quotes
            """
        ),
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    result = run(scenario, paths=200, seed=0)
    rows = {row.key: row for row in input_rows(result)}
    assert rows["workload.output_tokens_per_request"].source == "<b>log</b> sum"
    assert rows["options.api.output_price_per_mtok"].source == "two quotes"
    assert rows["options.api.output_price_per_mtok"].distribution == "uniform, $7/Mtok to $9/Mtok"
    assert rows["options.api.output_price_per_mtok"].label == "Output price per Mtok"
    # Shown as text: escaped in Markdown (and, by autoescape, in HTML).
    page = markdown_report(result)
    assert "<b>log</b>" not in page and "&lt;b&gt;log&lt;/b&gt; sum" in page
    # A value changed with --set is no longer the one its comment describes.
    changed = load_scenario(path, ["options.api.output_price_per_mtok=8"])
    assert "options.api.output_price_per_mtok" not in changed.notes
    assert changed.notes["workload.output_tokens_per_request"] == "<b>log</b> sum"


def test_a_source_that_is_not_text_is_refused_with_its_key(tmp_path):
    document = {
        "scenario": {"name": "x"},
        "workload": {
            "requests_per_month": {"dist": "uniform", "low": 1, "high": 2, "source": 3},
            "input_tokens_per_request": 1,
            "output_tokens_per_request": 1,
        },
        "options": {"api": {"kind": "api", "input_price_per_mtok": 1, "output_price_per_mtok": 1}},
    }
    with pytest.raises(ScenarioError) as err:
        parse_scenario(document)
    assert err.value.key == "workload.requests_per_month" and "'source' must be text" in str(
        err.value
    )

    from simulator.cli import simulate

    path = tmp_path / "bad.toml"
    path.write_text(
        '[scenario]\nname = "x"\n[workload]\n'
        'requests_per_month = { dist = "uniform", low = 1, high = 2, source = 3 }\n'
        "input_tokens_per_request = 1\noutput_tokens_per_request = 1\n"
        '[options.api]\nkind = "api"\ninput_price_per_mtok = 1\noutput_price_per_mtok = 1\n',
        encoding="utf-8",
    )
    outcome = CliRunner().invoke(simulate, [str(path), "--no-report"])
    assert outcome.exit_code == 2
    line = outcome.output.strip()
    assert "\n" not in line and "bad.toml" in line and "workload.requests_per_month" in line


def test_every_uncertain_input_of_logistics_has_a_unit_and_a_source():
    result = run(load_scenario(SCENARIOS / "logistics.toml"), paths=500, seed=1)
    rows = input_rows(result)
    assert rows and all(unit_of(row.key) is not None for row in rows)
    assert all(row.source for row in rows), [row.key for row in rows if not row.source]
    change = next(r for r in rows if r.key == "options.api.annual_price_change")
    assert change.distribution == "PERT, -40%/yr to 0%/yr, most likely -15%/yr"
    assert all(text.endswith("%/yr") for text in (change.p5, change.p50, change.p95))
    assert "LLMflation" in change.source
    # The percentiles are the distribution's own here: PERT(-40%, -15%, 0%) at 5%.
    dist = result.scenario.quantities[change.key]
    assert change.p5 == with_unit(float(dist.ppf(0.05)), "%/yr")
