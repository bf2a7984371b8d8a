"""Report files and number formatting."""

from __future__ import annotations

import json

import pytest

from simulator import load_scenario, run
from simulator.errors import ScenarioError
from simulator.formatting import markdown_table, money, share, text_table
from simulator.report import MARKER, markdown_report, summary_json, write_report

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(SCENARIOS / "logistics.toml"), paths=2000, seed=3)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (999.4, "$999"),
        (12_345, "$12k"),
        (1_234_567, "$1.23M"),
        (-2_500_000, "-$2.50M"),
        (3.2e9, "$3.20B"),
    ],
)
def test_money(value, text):
    assert money(value) == text


def test_money_in_another_currency():
    assert money(1_500_000, "EUR") == "EUR 1.50M"


@pytest.mark.parametrize(
    ("p", "text"),
    [(0, "0.0%"), (0.0001, "<0.1%"), (0.5, "50.0%"), (0.99999, ">99.9%"), (1, "100.0%")],
)
def test_share(p, text):
    assert share(p) == text


def test_tables_align_and_escape():
    header = ("Option", "p50")
    rows = [("a|b", "$1k"), ("long name", "$10.00M")]
    assert text_table(header, rows).splitlines() == [
        "Option         p50",
        "---------  -------",
        "a|b            $1k",
        "long name  $10.00M",
    ]
    assert "a\\|b" in markdown_table(header, rows)


def test_summary_json_is_strict_json(result):
    text = summary_json(result)
    data = json.loads(text)
    assert set(data) >= {"schema_version", "scenario", "options", "versus_baseline"}
    assert "NaN" not in text and "Infinity" not in text


def test_markdown_names_every_option_and_how_to_repeat(result):
    text = markdown_report(result, elapsed_s=1.5)
    for option in result.options.values():
        assert option.label in text
    assert result.scenario.source_sha256 in text
    assert "Seed: 3" in text
    assert "1.50 s" in text


def test_write_report_leaves_no_staging_folders(tmp_path, result):
    out = write_report(result, tmp_path / "r")
    write_report(result, tmp_path / "r")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "report.md", "summary.json"])


def test_write_report_refuses_a_file(tmp_path, result):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    with pytest.raises(ScenarioError, match="not a folder"):
        write_report(result, target)
    assert target.read_text() == "keep"


def test_an_empty_folder_is_used(tmp_path, result):
    (tmp_path / "empty").mkdir()
    write_report(result, tmp_path / "empty")
    assert (tmp_path / "empty" / "summary.json").exists()
