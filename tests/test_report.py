"""Report files: what a report folder holds, that it is safe, and number formatting."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario, parse_scenario, run
from simulator.engine.histogram import BITS
from simulator.report.charts import CHARTS
from simulator.report.folder import MARKER
from simulator.report.pages import markdown_report, summary_json
from simulator.report.tables import markdown_table, text_table
from simulator.report.words.audit import cautions
from simulator.report.writer import ReportWriter, write_report
from simulator.scenario.errors import ScenarioError, SimulationError
from simulator.scenario.numbers import axis_money, money, number, share
from simulator.scenario.units import label_of, unit_of, written

from .conftest import SCENARIOS

PATHS = 3000
SEED = 3
CHART_FILES = {f"{chart.slug}.png" for chart in CHARTS if chart.analysis is None}
# paths.parquet is written where pyarrow is installed (the test tools install it).
PARQUET = {"paths.parquet"} if importlib.util.find_spec("pyarrow") else set()
REPORT_FILES = {MARKER, "index.html", "report.md", "summary.json", "paths.csv", *CHART_FILES}
REPORT_FILES |= PARQUET
# logistics.toml searches its staged policy's trigger, which has a chart of its own.
LOGISTICS_CHARTS = CHART_FILES | {"trigger-search.png"}


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(SCENARIOS / "logistics.toml"), paths=2000, seed=SEED)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """A logistics report written as the CLI writes it: rows streamed during the run."""
    folder = tmp_path_factory.mktemp("streamed") / "logistics"
    scenario = load_scenario(SCENARIOS / "logistics.toml")
    with ReportWriter(folder) as writer:
        # Small batches and two workers: rows must still arrive in path order.
        outcome = run(
            scenario, paths=PATHS, seed=SEED, chunk_size=1000, workers=2, path_sink=writer.path_sink
        )
        writer.finish(outcome, elapsed_s=outcome.paths.elapsed_s)
    return folder, outcome


class _Page(HTMLParser):
    """Collects the text, start tags and links of an HTML page."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src", "xlink:href") and value:
                self.links.append(value)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=float)


# ---------------------------------------------------------------------------
# Numbers for people


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
    ("value", "text"),
    [
        (0, "$0"),
        (500_000, "$500k"),
        (2_500_000, "$2.5M"),
        (-1_250_000, "-$1.25M"),
        (7.5e9, "$7.5B"),
    ],
)
def test_axis_money(value, text):
    assert axis_money(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(287_345.6, "287,346"), (0.0823, "0.0823"), (-0.15, "-0.15"), (2.0, "2")]
)
def test_number(value, text):
    assert number(value) == text


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


# ---------------------------------------------------------------------------
# Summary and Markdown


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
    assert f"Seed: {SEED}" in text
    assert "1.50 s" in text
    assert f"--seed {SEED}" in text


# ---------------------------------------------------------------------------
# The folder


def test_report_folder_holds_every_file(streamed):
    folder, _ = streamed
    assert {p.name for p in folder.iterdir()} == REPORT_FILES | LOGISTICS_CHARTS
    assert [p.name for p in folder.parent.iterdir()] == ["logistics"]


def test_every_file_a_report_references_exists(streamed):
    folder, _ = streamed
    page = parse((folder / "index.html").read_text(encoding="utf-8"))
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    targets = page.links + re.findall(r"\]\(([^)\s]+)\)", markdown)
    local = [t for t in targets if not t.startswith("#")]
    assert {"summary.json", "paths.csv", "report.md"} <= set(local)
    assert set(local) >= CHART_FILES  # the Markdown shows every chart
    for target in local:
        assert "://" not in target, target
        assert (folder / target).is_file(), target


def test_html_parses_names_every_option_and_is_self_contained(streamed):
    folder, outcome = streamed
    html = (folder / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    text = " ".join(page.text)
    for option in outcome.options.values():
        assert option.label in text
    assert outcome.scenario.name in text
    assert page.tags.count("svg") == len(LOGISTICS_CHARTS)  # every chart inline
    for tag in ("script", "link", "img", "iframe", "object"):
        assert tag not in page.tags, tag
    assert "@import" not in html and "url(http" not in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids repeat between charts"


def test_html_has_verdict_inputs_and_run_facts(streamed):
    folder, outcome = streamed
    text = " ".join(parse((folder / "index.html").read_text(encoding="utf-8")).text)
    scenario = outcome.scenario
    assert "is the cheapest option on" in text
    for key in scenario.inputs:
        assert key in text and label_of(key) in text
        assert written(scenario.quantities[key], unit_of(key), scenario.currency) in text
    assert scenario.source_sha256 in text
    assert f"{PATHS:,}" in text
    assert f"--seed {SEED}" in text


def test_summary_json_is_the_json_output(streamed):
    folder, outcome = streamed
    assert (folder / "summary.json").read_text(encoding="utf-8") == summary_json(outcome)


def test_paths_csv_has_one_row_per_path_and_reproduces_the_summary(streamed):
    folder, outcome = streamed
    header, rows = read_csv(folder / "paths.csv")
    scenario = outcome.scenario
    assert header == [
        "path",
        *(f"input:{key}" for key in scenario.inputs),
        *(f"total:{name}" for name in scenario.options),
    ]
    assert rows.shape == (PATHS, len(header))
    assert (rows[:, 0] == np.arange(PATHS)).all()
    columns = dict(zip(header, rows.T, strict=True))
    for name, option in outcome.options.items():
        totals = columns[f"total:{name}"]
        exact = np.percentile(totals, [5, 50, 95])
        summary = [option.total_cost.p5, option.total_cost.p50, option.total_cost.p95]
        # The summary reads percentiles from histograms with bins 2**-11 wide (relative).
        np.testing.assert_allclose(summary, exact, rtol=2.0**-BITS + 1e-7)
        assert totals.mean() == pytest.approx(option.total_cost.mean, rel=1e-7)
    for key in scenario.inputs:
        low, high = scenario.quantities[key].support()
        values = columns[f"input:{key}"]
        assert (values >= low - 1e-9 * abs(low)).all() and (values <= high + 1e-9 * abs(high)).all()


def test_streamed_rows_equal_kept_paths(no_charts, tmp_path, streamed):
    folder, _ = streamed
    kept = run(load_scenario(SCENARIOS / "logistics.toml"), paths=PATHS, seed=SEED, keep_paths=True)
    out = write_report(kept, tmp_path / "kept")
    assert (out / "paths.csv").read_bytes() == (folder / "paths.csv").read_bytes()


def test_no_nan_or_infinity_anywhere(streamed):
    folder, _ = streamed
    for name in ("summary.json", "paths.csv", "index.html", "report.md"):
        text = (folder / name).read_text(encoding="utf-8")
        assert not re.search(r"\b(nan|inf|infinity)\b", text, re.IGNORECASE), name


def test_without_streamed_or_kept_paths_there_is_no_csv(no_charts, tmp_path, result):
    out = write_report(result, tmp_path / "r")
    assert {p.name for p in out.iterdir()} == {MARKER, "index.html", "report.md", "summary.json"}
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "paths.csv" not in html
    assert "the distribution's own" in html


def test_path_data_can_be_left_out(no_charts, tmp_path):
    scenario = load_scenario(SCENARIOS / "startup.toml")
    with ReportWriter(tmp_path / "r", path_data=False) as writer:
        outcome = run(scenario, paths=1000, seed=1, path_sink=writer.path_sink)
        out = writer.finish(outcome)
    assert "paths.csv" not in {p.name for p in out.iterdir()}
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "actually drawn in this run" in html  # the inputs were still tallied


# ---------------------------------------------------------------------------
# Safety


HOSTILE = """
[scenario]
name = "<script>alert(1)</script>"
description = "<b>bold</b> & <img src=x onerror=alert(2)> $5 and $6 *emphasis* [link](http://x)"
[workload]
requests_per_month = 1000000
input_tokens_per_request = 500
output_tokens_per_request = 100
[options.api]
kind = "api"
label = "<script>alert(1)</script>"
input_price_per_mtok = 1.0
output_price_per_mtok = 4.0
[options.other]
kind = "api"
label = "Other | $5 per </svg> <b>Mtok</b>"
input_price_per_mtok = { dist = "uniform", low = 0.5, high = 1.5 }
output_price_per_mtok = 4.0
"""


def test_scenario_text_is_text_not_markup(tmp_path):
    scenario = parse_scenario(tomllib.loads(HOSTILE))
    outcome = run(scenario, paths=1000, seed=1)
    out = write_report(outcome, tmp_path / "r")
    html = (out / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    assert "script" not in page.tags and "img" not in page.tags and "b" not in page.tags
    assert page.tags.count("svg") == len(CHART_FILES)  # "</svg>" in a label closes nothing
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text
    assert "Other | $5 per </svg> <b>Mtok</b>" in text
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "[link](http://x)" not in markdown and "\\[link\\](http\\://x)" in markdown
    assert "http://x" not in markdown  # no bare URL for GFM to autolink


def test_failure_during_a_run_keeps_the_previous_report(no_charts, tmp_path, result):
    out = write_report(result, tmp_path / "r")
    before = (out / "summary.json").read_text()
    scenario = load_scenario(SCENARIOS / "logistics.toml")

    def interrupted(first, arrays):
        writer.path_sink(first, arrays)
        if first > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), ReportWriter(out) as writer:
        run(scenario, paths=10_000, seed=1, chunk_size=4096, workers=1, path_sink=interrupted)
    assert (out / "summary.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_rows_out_of_order_are_refused(tmp_path):
    with ReportWriter(tmp_path / "r") as writer, pytest.raises(SimulationError, match="order"):
        writer.path_sink(4096, {"total:api": np.ones(3)})
    assert list(tmp_path.iterdir()) == []


def test_write_report_leaves_no_staging_folders(no_charts, tmp_path, result):
    out = write_report(result, tmp_path / "r")
    write_report(result, tmp_path / "r")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert (out / MARKER).exists()


def test_write_report_refuses_a_file(tmp_path, result):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    with pytest.raises(ScenarioError, match="not a folder"):
        write_report(result, target)
    assert target.read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_an_empty_folder_is_used(no_charts, tmp_path, result):
    (tmp_path / "empty").mkdir()
    write_report(result, tmp_path / "empty")
    assert (tmp_path / "empty" / "summary.json").exists()


# ---------------------------------------------------------------------------
# Cautions


COIN_FLIP = """
[scenario]
name = "coin flip"
[workload]
requests_per_month = 1000000
input_tokens_per_request = 500
output_tokens_per_request = 100
[options.api]
kind = "api"
input_price_per_mtok = 1.0
output_price_per_mtok = 4.0
[options.other]
kind = "api"
input_price_per_mtok = { dist = "uniform", low = 0.5, high = 1.5 }
output_price_per_mtok = 4.0
"""


def test_a_coin_flip_gets_a_caution(no_charts, tmp_path):
    outcome = run(parse_scenario(tomllib.loads(COIN_FLIP)), paths=500, seed=2)
    assert abs(outcome.versus["other"].p_cheaper - 0.5) < 0.1
    notes = cautions(outcome)
    assert any("coin flip" in n or "standard error" in n for n in notes)
    out = write_report(outcome, tmp_path / "r")
    assert "Caution" in (out / "index.html").read_text(encoding="utf-8")


def test_a_settled_run_gets_none(result):
    # Logistics at 2,000 paths: every P(cheaper) is far from even odds.
    assert not any("P(cheaper)" in n for n in cautions(result))


def test_paths_parquet_holds_the_csv_rows_when_pyarrow_is_installed(no_charts, tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet")
    scenario = load_scenario(SCENARIOS / "startup.toml")
    with ReportWriter(tmp_path / "r") as writer:
        outcome = run(scenario, paths=5000, seed=1, chunk_size=4096, path_sink=writer.path_sink)
        out = writer.finish(outcome)
    table = parquet.read_table(out / "paths.parquet")
    header, rows = read_csv(out / "paths.csv")
    assert table.column_names == header
    for i, name in enumerate(header):
        np.testing.assert_allclose(table.column(name).to_numpy(), rows[:, i], rtol=1e-7)
