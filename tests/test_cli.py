"""The simulate command: exit codes, exact error text, output files and flags."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from simulator.cli import simulate
from simulator.report.charts import CHARTS
from simulator.report.terminal import ProgressBar

from .conftest import ROOT, SCENARIOS

LOGISTICS = str(SCENARIOS / "logistics.toml")
FAST = ["--paths", "3000", "--seed", "7"]


def invoke(*args: str):
    return CliRunner().invoke(simulate, list(args), catch_exceptions=False)


def write(tmp_path, text: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


MINIMAL = """
[scenario]
name = "minimal"
[workload]
requests_per_month = 1000000
input_tokens_per_request = 500
output_tokens_per_request = 100
[options.api]
kind = "api"
input_price_per_mtok = 1.0
output_price_per_mtok = 4.0
"""


def test_table_and_report(chdir_tmp):
    result = invoke(LOGISTICS, *FAST)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == [
        "Option", "Mean", "NPV", "P(cheaper)", "P(cheapest)", "Break-even", "p95",
    ]  # fmt: skip
    for label in ("Frontier API (GPT-4.1)", "Self-hosted Llama 3 70B (rented H100s)"):
        assert any(line.startswith(label) for line in lines)
    # The staged policy never migrates at this seed: shown once, as its first stage.
    assert not any(line.startswith("Hosted-open now, self-host") for line in lines[:10])
    assert any(line.startswith("Recommendation: Move to Hosted-open") for line in lines)
    folder = chdir_tmp / "reports" / "logistics"
    # logistics.toml also searches a staged policy's trigger: a chart of its own.
    charts = {f"{c.slug}.png" for c in CHARTS if c.analysis in (None, "policy")}
    assert {p.name for p in folder.iterdir()} == {
        "index.html", "report.md", "summary.json", "paths.csv", ".simulator-report", *charts,
        *(["paths.parquet"] if importlib.util.find_spec("pyarrow") else []),
    }  # fmt: skip
    assert "Report: reports/logistics/index.html" in result.stderr
    with open(folder / "paths.csv", encoding="utf-8") as rows:
        assert sum(1 for _ in rows) == 3000 + 1  # a header and one row per path


def test_no_path_data_leaves_out_paths_csv(no_charts, chdir_tmp):
    result = invoke(LOGISTICS, *FAST, "--no-path-data", "--quiet")
    assert result.exit_code == 0, result.output
    folder = chdir_tmp / "reports" / "logistics"
    assert "paths.csv" not in {p.name for p in folder.iterdir()}
    assert (folder / "index.html").exists()
    assert result.stderr == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_after_a_moment(monkeypatch):
    clock = iter([0.0, 0.1, 1.0, 2.0])
    monkeypatch.setattr("simulator.report.terminal.time.monotonic", lambda: next(clock))
    screen = _Terminal()
    bar = ProgressBar(screen)  # started at 0.0
    bar(4096, 100_000)  # 0.1 s: too soon to show anything
    assert screen.getvalue() == ""
    bar(50_000, 100_000)  # 1.0 s
    assert "[###############---------------]  50%  50,000 of 100,000 paths" in screen.getvalue()
    bar.clear()
    assert screen.getvalue().endswith("\r\x1b[2K")


def test_progress_bar_is_silent_off_a_terminal_and_with_json(chdir_tmp, monkeypatch):
    calls = []
    monkeypatch.setattr(ProgressBar, "__call__", lambda self, done, total: calls.append(done))
    assert invoke(LOGISTICS, *FAST, "--no-report").exit_code == 0  # CliRunner: not a terminal
    assert calls == []


def test_json_is_the_summary_file_and_nothing_else(no_charts, chdir_tmp):
    result = invoke(LOGISTICS, *FAST, "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    written = (chdir_tmp / "reports" / "logistics" / "summary.json").read_text()
    assert result.stdout == written
    assert summary["scenario"]["paths"] == 3000
    assert summary["scenario"]["seed"] == 7
    assert summary["schema_version"] == 1


def test_repeated_runs_and_chunk_sizes_give_identical_json():
    base = invoke(LOGISTICS, *FAST, "--json", "--no-report").stdout
    again = invoke(LOGISTICS, *FAST, "--json", "--no-report").stdout
    chunked = invoke(LOGISTICS, *FAST, "--json", "--no-report", "--chunk-size", "1").stdout
    assert base == again == chunked


def test_seed_zero_is_a_seed():
    zero = invoke(LOGISTICS, "--paths", "2000", "--seed", "0", "--json", "--no-report")
    again = invoke(LOGISTICS, "--paths", "2000", "--seed", "0", "--json", "--no-report")
    one = invoke(LOGISTICS, "--paths", "2000", "--seed", "1", "--json", "--no-report")
    assert zero.stdout == again.stdout
    assert json.loads(zero.stdout)["scenario"]["seed"] == 0
    assert zero.stdout != one.stdout


def test_no_report_writes_nothing(chdir_tmp):
    result = invoke(LOGISTICS, *FAST, "--no-report")
    assert result.exit_code == 0
    assert list(chdir_tmp.iterdir()) == []


def test_set_override_changes_the_answer():
    base = json.loads(invoke(LOGISTICS, *FAST, "--json", "--no-report").stdout)
    half = invoke(
        LOGISTICS, *FAST, "--json", "--no-report", "--set", "workload.volume_realization=0.5"
    )
    assert half.exit_code == 0
    lower = json.loads(half.stdout)
    assert (
        lower["options"]["api"]["total_cost"]["p50"] < base["options"]["api"]["total_cost"]["p50"]
    )
    assert lower["scenario"]["overrides"] == ["workload.volume_realization=0.5"]


def test_set_distribution_table():
    result = invoke(
        LOGISTICS, *FAST, "--json", "--no-report",
        "--set", 'options.api.uptime={dist="uniform", low=0.99, high=0.999}',
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_out_folder_and_replacing_an_earlier_report(no_charts, tmp_path):
    out = tmp_path / "my-report"
    assert invoke(LOGISTICS, *FAST, "--out", str(out)).exit_code == 0
    first = (out / "summary.json").read_text()
    assert invoke(LOGISTICS, "--paths", "2000", "--seed", "8", "--out", str(out)).exit_code == 0
    assert (out / "summary.json").read_text() != first
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "my-report"]
    assert leftovers == []


def test_refuses_to_overwrite_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = invoke(LOGISTICS, *FAST, "--out", str(out))
    assert result.exit_code == 2
    assert "did not make" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.toml"], "simulate: error: missing.toml: no such file"),
        (["{dir}"], "is a folder, not a scenario file"),
        (["{bad_toml}"], "is not valid TOML"),
        (["{typo}"], "workload.request_per_month: 'request_per_month' is not a key of [workload]; "
                     "did you mean 'requests_per_month'?"),
        (["{minimal}", "--set", "options.apu.uptime=0.9"],
         "--set: options.apu.uptime: 'apu' is not a table in options; did you mean 'api'?"),
        (["{minimal}", "--set", "nonsense"], "--set: --set needs KEY=VALUE, got 'nonsense'"),
        (["{minimal}", "--set", "options.api.uptime=1.5"],
         "options.api.uptime: 1.5: every draw falls outside what is allowed (between 0 and 1)"),
        (["{minimal}", "--set", "scenario.baseline=nope"],
         "scenario.baseline: 'nope' is not an option; expected one of: api"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_clear_message(tmp_path, args, message):
    paths = {
        "dir": str(tmp_path),
        "bad_toml": write(tmp_path, "[scenario\nname = 1", "bad.toml"),
        "typo": write(
            tmp_path, MINIMAL.replace("requests_per_month", "request_per_month"), "t.toml"
        ),
        "minimal": write(tmp_path, MINIMAL, "m.toml"),
    }
    args = [a.format(**paths) for a in args]
    result = invoke(*args, "--no-report")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["--paths", "0"], ["--seed", "-1"], ["--chunk-size", "0"], ["--bogus"]]
)
def test_bad_flags_exit_2(args):
    result = invoke(LOGISTICS, *args)
    assert result.exit_code == 2


def test_error_names_the_file(tmp_path):
    path = write(
        tmp_path, MINIMAL.replace("output_price_per_mtok = 4.0", 'output_price_per_mtok = "4"')
    )
    result = invoke(path, "--no-report")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"simulate: error: {path}: options.api.output_price_per_mtok:")


def test_as_a_process_bad_input_has_no_traceback(tmp_path):
    path = write(tmp_path, "[scenario]\nname = 'x'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", path, "--no-report"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"simulate: error: {path}: workload: the [workload] table is required"
    )


def test_every_flag_of_every_command_is_documented():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert set(simulate.commands) == {"run", "sweep", "fit", "init"}
    for command in simulate.commands.values():
        flags = {opt for p in command.params for opt in p.opts if opt.startswith("--")}
        assert flags and sorted(f for f in flags if f"`{f}" not in page) == []


def test_help_names_every_flag():
    text = invoke("--help").output
    for flag in ("--paths", "--seed", "--json", "--out", "--no-report", "--set", "--chunk-size",
                 "--quiet"):  # fmt: skip
        assert re.search(rf"{flag}\b", text)


@pytest.mark.parametrize(
    ("kind", "status", "word"),
    [("Interrupted", 130, "interrupted"), ("Terminated", 143, "terminated")],
)
def test_a_stop_wrapped_in_another_error_is_reported_as_the_stop(monkeypatch, kind, status, word):
    # Python wraps a stop raised while a class is made (in __set_name__) in a RuntimeError.
    import simulator
    from simulator import stops

    def stopped(*args, **kwargs):
        try:
            raise getattr(stops, kind)()
        except BaseException as stop:
            raise RuntimeError("Error calling __set_name__") from stop

    monkeypatch.setattr(simulator, "run", stopped)
    result = CliRunner().invoke(simulate, [LOGISTICS, *FAST, "--no-report"])
    assert (result.exit_code, result.stderr) == (
        status,
        f"simulate: {word}; no report was written\n",
    )
