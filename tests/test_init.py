"""``simulate init``: a starting scenario from a few answers, which runs as written."""

from __future__ import annotations

import tomllib

import click
import pytest
from click.testing import CliRunner

from simulator.cli import simulate
from simulator.scenario.load import load_scenario


def init(*args, input=None):
    return CliRunner().invoke(simulate, ["init", *map(str, args)], input=input)


def test_the_answers_given_as_flags_are_the_scenario(tmp_path):
    path = tmp_path / "mine.toml"
    result = init(
        path, "--name", 'Support "bot"\nv2', "--requests-per-month", "5e6",
        "--input-tokens", "800", "--output-tokens", "120", "--input-price", "3",
        "--output-price", "15", "--growth", "0.05", "--data-stays-inside",
        "--ops-capacity", "dedicated",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {path}\nChecked on 2,000 paths")
    assert "Recommendation:" in result.output
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["scenario"]["name"] == 'Support "bot"\nv2'  # text stays text
    assert document["workload"]["requests_per_month"] == 5_000_000
    assert document["workload"]["input_tokens_per_request"] == 800
    assert document["workload"]["output_tokens_per_request"] == 120
    assert document["workload"]["monthly_growth"] == 0.05
    api = document["options"]["api"]
    assert (api["input_price_per_mtok"], api["output_price_per_mtok"]) == (3, 15)
    assert document["requirements"] == {"data_residency": True, "ops_capacity": "dedicated"}
    # Data that stays inside: the stack has no outside fallback, so it is allowed.
    assert "fallback" not in document["options"]["self_hosted"]
    scenario = load_scenario(path)
    assert set(scenario.options) == {"api", "hosted_open", "self_hosted"}
    again = CliRunner().invoke(simulate, [str(path), "--paths", "1000", "--no-report"])
    assert again.exit_code == 0, again.output
    assert "Self-hosted 70B on rented H100s " in again.output
    assert "(excluded)" in again.output  # the two outside APIs


def test_defaults_without_a_terminal_price_from_the_catalogue(tmp_path):
    path = tmp_path / "scenario.toml"
    result = init(path, "--no-check")
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {path}\n"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["options"]["api"]["model"] == "openai:gpt-4.1"
    assert document["options"]["self_hosted"]["fallback"] == "api"
    load_scenario(path)  # the catalogue's prices: valid as written


def test_answers_asked_on_a_terminal(tmp_path, monkeypatch):
    # CliRunner puts its own stream in sys.stdin: make it say it is a terminal.
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    path = tmp_path / "asked.toml"
    answers = "Asked\n300000\n1500\n300\n0.02\nanthropic:claude-sonnet-4-0\nn\nnone\n"
    result = init(path, "--no-check", input=answers)
    assert result.exit_code == 0, result.output
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["scenario"]["name"] == "Asked"
    assert document["workload"]["requests_per_month"] == 300_000
    assert document["workload"]["output_tokens_per_request"] == 300
    assert document["options"]["api"]["model"] == "anthropic:claude-sonnet-4-0"
    assert document["requirements"] == {"data_residency": True, "ops_capacity": "none"}


def test_an_existing_file_is_never_replaced_unasked(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = init(path, "--no-check")
    assert result.exit_code == 2
    assert "exists; give --force" in result.output
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert init(path, "--no-check", "--force").exit_code == 0
    assert path.read_text(encoding="utf-8").startswith("# A starting scenario")


@pytest.mark.parametrize("model", ["nonsense", "openai:no-such-model"])
def test_an_unknown_model_is_refused_by_the_check(tmp_path, model):
    result = init(tmp_path / "s.toml", "--model", model)
    assert result.exit_code == 2
    assert "options.api.model" in result.output
