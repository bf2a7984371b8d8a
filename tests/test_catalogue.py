"""API prices taken from the genai-prices catalogue by name (``model = "PROVIDER:MODEL"``).

Known answers: OpenAI's price page lists GPT-4.1 at $2 input, $0.50 cached input and $8
output per Mtok, its batch tier at half price ($1 / $4); genai-prices 0.2.3 carries
those figures. Every test pins ``price_date`` so that the prices do not depend on the
day it runs.
"""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from click.testing import CliRunner

from simulator import ScenarioError, parse_scenario, run
from simulator.cli import simulate
from simulator.scenario import catalogue


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-9)


# 1,000,000 requests a month of 1,000 input and 200 output tokens, for 12 months.
BASE = {
    "scenario": {"name": "catalogue", "horizon_months": 12, "paths": 2, "seed": 1,
                 "price_date": datetime.date(2026, 11, 1)},
    "workload": {
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    },
    "options": {"gpt": {"kind": "api", "model": "openai:gpt-4.1"}},
}  # fmt: skip


def document(**keys) -> dict:
    out = copy.deepcopy(BASE)
    out["options"]["gpt"].update(keys)
    return out


def summary(**keys) -> dict:
    return run(parse_scenario(document(**keys))).to_dict()


def test_list_prices_come_from_the_catalogue():
    # (1000 * 2 + 200 * 8) / 1e6 = $0.0036 a request: $3,600 a month.
    got = summary()
    option = got["options"]["gpt"]
    assert option["total_cost"]["mean"] == approx(12 * 3_600)
    assert option["catalogue"]["model"] == "openai:gpt-4.1"
    assert option["catalogue"]["taken"] == {
        "input_price_per_mtok": 2.0,
        "output_price_per_mtok": 8.0,
        "cached_input_price_per_mtok": 0.5,
        "batch_discount": 0.5,
    }
    listed = got["scenario"]["price_catalogue"]
    assert listed == {
        "name": "genai-prices",
        "version": listed["version"],
        "price_date": "2026-11-01",
    }
    assert listed["version"] == catalogue.catalogue_version() is not None


def test_cached_and_batch_prices_come_from_the_catalogue_too():
    # Half the input cached at $0.50: (1000 * 1.25 + 200 * 8) / 1e6 = $0.00285; all of
    # it through the batch tier at half price: $1,425 a month.
    got = summary(cached_input_share=0.5, batch_share=1.0)
    assert got["options"]["gpt"]["total_cost"]["mean"] == approx(12 * 1_425)


def test_a_price_the_scenario_gives_wins():
    # Output at $6 instead of the catalogue's $8: (2000 + 1200) / 1e6 = $3,200 a month.
    got = summary(output_price_per_mtok=6.0, batch_discount=0.4)
    option = got["options"]["gpt"]
    assert option["total_cost"]["mean"] == approx(12 * 3_200)
    assert "output_price_per_mtok" not in option["catalogue"]["taken"]
    assert "batch_discount" not in option["catalogue"]["taken"]


def test_an_option_without_a_model_is_not_marked():
    got = run(
        parse_scenario(
            {
                **copy.deepcopy(BASE),
                "options": {
                    "own": {"kind": "api", "input_price_per_mtok": 1, "output_price_per_mtok": 1}
                },
            }
        )
    ).to_dict()
    assert "catalogue" not in got["options"]["own"]
    assert "price_catalogue" not in got["scenario"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("gpt-4.1", """must be "PROVIDER:MODEL", such as "openai:gpt-4.1", got 'gpt-4.1'"""),
        (":gpt-4.1", 'must be "PROVIDER:MODEL"'),
        (41, 'must be a string "PROVIDER:MODEL"'),
        ("opnai:gpt-4.1", "'opnai' is not a provider in genai-prices"),
        ("openai:gpt-4.11-turbo", "'gpt-4.11-turbo' is not a model of openai in genai-prices"),
    ],
)
def test_a_model_the_catalogue_does_not_hold_is_refused(model, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document(model=model))
    assert str(info.value).startswith("options.gpt.model: ")
    assert message in str(info.value)


def test_a_misspelled_provider_gets_the_nearest():
    with pytest.raises(ScenarioError, match="the nearest: openai"):
        parse_scenario(document(model="opnai:gpt-4.1"))


def test_without_the_catalogue_the_key_says_what_to_do(monkeypatch):
    monkeypatch.setattr(catalogue, "catalogue_version", lambda: None)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document())
    assert "options.gpt.model" in str(info.value)
    assert "pip install genai-prices" in str(info.value)
    assert "input_price_per_mtok and output_price_per_mtok" in str(info.value)


@pytest.mark.parametrize("value", ["01/11/2026", 20261101, "2026-13-01"])
def test_a_price_date_that_is_not_a_date_is_refused(value):
    bad = document()
    bad["scenario"]["price_date"] = value
    with pytest.raises(ScenarioError, match=r"scenario\.price_date: must be a date such as"):
        parse_scenario(bad)


def test_the_command_records_the_catalogue_and_refuses_a_bad_model(tmp_path):
    scenario = tmp_path / "prices.toml"
    scenario.write_text(
        """
[scenario]
name = "prices"
horizon_months = 12
price_date = 2026-11-01
[workload]
requests_per_month = 1_000_000
input_tokens_per_request = 1000
output_tokens_per_request = 200
[options.gpt]
kind = "api"
model = "openai:gpt-4.1"
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(simulate, [str(scenario), "--paths", "100", "--no-report", "--json"])
    assert result.exit_code == 0, result.output
    summary_ = json.loads(result.stdout)
    assert summary_["scenario"]["price_catalogue"]["price_date"] == "2026-11-01"
    bad = runner.invoke(
        simulate, [str(scenario), "--no-report", "--set", 'options.gpt.model="openai:gpt-9"']
    )
    assert bad.exit_code == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "options.gpt.model" in lines[0]
    assert "Traceback" not in bad.output
