"""Size before a run: the estimate, refusals with a suggestion, and typical paths that
overflow refused up front."""

from __future__ import annotations

import dataclasses
import importlib.util
import time
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

from simulator import ScenarioError, SimulationError, load_scenario, parse_scenario, run
from simulator.cli import simulate
from simulator.report.writer import ReportWriter, write_report
from simulator.sizing.estimate import CSV_TRANSFER, duration, estimate, size
from simulator.sizing.machine import Machine
from simulator.sizing.magnitudes import check_magnitudes
from simulator.sizing.pilot import PILOT_MONTHS, PILOT_PATHS, run_pilot
from simulator.sizing.plan import DISK_MARGIN, plan

from .conftest import ONE_API, SCENARIOS

LOGISTICS = SCENARIOS / "logistics.toml"
ROOMY = Machine(memory=64 * 2**30, cores=2)

SMALL = """
[scenario]
name = "small"
horizon_months = 24
[workload]
requests_per_month = 1_000_000
input_tokens_per_request = 500
output_tokens_per_request = 100
monthly_growth = 0.02
[options.api]
kind = "api"
input_price_per_mtok = 1.0
output_price_per_mtok = 4.0
[options.own]
kind = "self_hosted"
replica_tokens_per_s = 2000
gpu_hourly_usd = 2.5
fallback = "api"
"""


def small(*overrides: str):
    document = tomllib.loads(SMALL)
    for text in overrides:
        key, value = text.split("=", 1)
        *parents, leaf = key.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = tomllib.loads(f"v = {value}")["v"]
    return parse_scenario(document)


def invoke(*args: str):
    return CliRunner().invoke(simulate, [str(a) for a in args], catch_exceptions=False)


# ---------------------------------------------------------------------------
# Words


def test_sizes_and_durations_read_well():
    assert size(512 * 2**20) == "512 MiB"
    assert size(50.4 * 2**20) == "50 MiB"
    assert size(3.4 * 2**30) == "3.4 GiB"
    assert duration(4.2) == "4.2 s"
    assert duration(45) == "45 s"
    assert duration(12 * 60) == "12 min"
    assert duration(3600) == "1 h"
    assert duration(3 * 3600 + 20 * 60) == "3 h 20 min"
    assert duration(10 * 86400) == "10 days"


# ---------------------------------------------------------------------------
# The estimate


def test_the_estimate_is_cheap_even_at_a_long_horizon(monkeypatch):
    # Cheap by construction: the pilot costs a few thousand paths over at most
    # PILOT_MONTHS months, whatever the paths and the horizon asked for.
    import simulator.decide.policy as policy

    runs = []
    real = policy.simulate

    def recorded(scenario, *args, **kwargs):
        runs.append((scenario.horizon_months, kwargs["paths"]))
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(policy, "simulate", recorded)
    scenario = load_scenario(LOGISTICS, ["scenario.horizon_months=240"])
    guess = estimate(scenario, 100_000_000, cores=2)
    assert guess.months == 240
    assert runs and all(m <= PILOT_MONTHS and n <= PILOT_PATHS for m, n in runs)


def test_memory_stays_flat_in_paths_unless_paths_are_kept_or_written():
    scenario = small()
    guesses = [estimate(scenario, n, workers=2, cores=2) for n in (10**6, 10**9)]
    flat = [g.memory - g.memory_parts["block_sums"] for g in guesses]
    assert flat[0] == pytest.approx(flat[1], rel=0.05)  # each estimate runs its own pilot
    # The sums kept per block of 4,096 paths grow slowly: a few bytes a path.
    assert guesses[1].memory_parts["block_sums"] / 10**9 < 20
    kept = [estimate(scenario, n, workers=2, cores=2, keep_paths=True) for n in (10**5, 10**6)]
    assert kept[1].memory_parts["kept"] == pytest.approx(10 * kept[0].memory_parts["kept"])
    rows = [estimate(scenario, n, report=True, path_data=True, cores=2) for n in (10**5, 10**6)]
    for part in ("paths.csv", "paths.parquet"):
        assert rows[1].disk_parts[part] == pytest.approx(10 * rows[0].disk_parts[part], rel=0.01)
    # The pages and charts do not grow with paths.
    assert rows[1].disk_parts["pages"] == rows[0].disk_parts["pages"] > 0
    without = estimate(scenario, 10**6, report=True, path_data=False)
    assert without.disk_parts["paths.csv"] == without.disk_parts["paths.parquet"] == 0
    assert without.disk == without.disk_parts["pages"]
    assert estimate(scenario, 10**6).disk == 0  # no report


def test_time_grows_with_paths():
    scenario = small()
    pilot = run_pilot(scenario, 10**7, False)  # one timing for both sizes
    short, long = (
        estimate(scenario, n, cores=2, _pilot_result=pilot).seconds for n in (10**7, 10**9)
    )
    assert 30 < long / short < 300


def test_kept_paths_estimate_matches_what_a_run_keeps():
    scenario = small("scenario.horizon_months=60")
    outcome = run(scenario, paths=4096, seed=1, workers=1, keep_paths=True)
    actual = sum(np.asarray(v).nbytes for v in outcome.paths.record.values())
    guess = estimate(scenario, 4096, workers=1, keep_paths=True).memory_parts["kept"] / 2
    assert guess == pytest.approx(actual, rel=0.2)


def test_paths_csv_estimate_matches_the_file(no_charts, tmp_path):
    scenario = load_scenario(SCENARIOS / "startup.toml")
    with ReportWriter(tmp_path / "r") as writer:
        outcome = run(scenario, paths=8192, seed=1, workers=1, path_sink=writer.path_sink)
        out = writer.finish(outcome)
    guess = estimate(scenario, 8192, workers=1, report=True, path_data=True)
    parts = guess.disk_parts
    assert parts["paths.csv"] == pytest.approx((out / "paths.csv").stat().st_size, rel=0.15)
    if (out / "paths.parquet").exists():
        parquet = (out / "paths.parquet").stat().st_size
        assert parquet <= parts["paths.parquet"] <= 1.3 * parquet
    else:
        assert importlib.util.find_spec("pyarrow") is None


@pytest.mark.parametrize(
    ("name", "overrides", "stress"),
    [
        ("startup", [], False),
        ("logistics", [], True),
        ("logistics", ["scenario.horizon_months=120"], False),
    ],
)
def test_the_report_estimate_covers_its_pages_and_charts(tmp_path, name, overrides, stress):
    # Charts drawn: the files beside paths.csv, which the disk check asks room for.
    scenario = load_scenario(SCENARIOS / f"{name}.toml", overrides)
    out = write_report(run(scenario, paths=2000, seed=1, workers=1, stress=stress), tmp_path / "r")
    written = sum(p.stat().st_size for p in out.iterdir() if not p.name.startswith("paths."))
    guess = estimate(scenario, 2000, workers=1, report=True, path_data=False, stress=stress)
    assert written <= guess.disk_parts["pages"] <= 2 * written


# ---------------------------------------------------------------------------
# The plan


def test_a_run_that_fits_is_planned_as_asked():
    guess = plan(small(), 10_000, report_folder=None, computer=ROOMY)
    assert guess.paths == 10_000 and guess.chunk_size == 10_000


def test_a_smaller_chunk_is_chosen_when_the_default_does_not_fit():
    scenario = load_scenario(LOGISTICS, ["scenario.horizon_months=120"])
    default = estimate(scenario, 1_000_000, workers=2, cores=2)
    lowest = estimate(scenario, 1_000_000, workers=2, cores=2, chunk_size=4096)
    assert lowest.memory < default.memory
    between = Machine(memory=int((lowest.memory + default.memory) / 2 / 0.8), cores=2)
    guess = plan(scenario, 1_000_000, workers=2, report_folder=None, computer=between)
    assert guess.chunk_size < default.chunk_size
    with pytest.raises(SimulationError, match=r"--chunk-size 4096 or fewer --workers"):
        plan(scenario, 1_000_000, workers=2, chunk_size=16384, computer=between)


def test_a_run_beyond_the_memory_is_refused_with_the_estimate():
    tiny = Machine(memory=50 * 2**20, cores=2)
    with pytest.raises(SimulationError) as caught:
        plan(small(), 10**6, report_folder=None, computer=tiny)
    message = str(caught.value)
    assert "1,000,000 paths would need about" in message
    assert "of memory" in message and "50 MiB available" in message
    assert "\n" not in message


def test_rows_piling_up_for_paths_csv_suggest_no_path_data(tmp_path, monkeypatch):
    scenario = load_scenario(LOGISTICS)
    measured = run_pilot(scenario, 10**8, True)
    # Rows that take four times as long to write as a path takes to cost on one of
    # the two cores: the writer falls behind and (1 - 1/4) of them wait in memory.
    slow_rows = dataclasses.replace(
        measured, row_s=4 * scenario.horizon_months * measured.path_month_s / CSV_TRANSFER
    )
    monkeypatch.setattr("simulator.sizing.plan.run_pilot", lambda *a, **k: slow_rows)
    guess = estimate(
        scenario, 10**8, workers=2, cores=2, report=True, path_data=True, _pilot_result=slow_rows
    )
    assert guess.memory_parts["path_rows"] > guess.memory / 2
    machine = Machine(memory=int(guess.memory / 2), cores=2)
    monkeypatch.setattr("simulator.sizing.plan.free_disk", lambda folder: 2**50)
    with pytest.raises(SimulationError, match=r"--no-path-data.*run at most [\d,]+ paths"):
        plan(scenario, 10**8, workers=2, report_folder=tmp_path / "r", computer=machine)
    # Without paths.csv the same run fits: its memory does not grow with paths.
    plan(
        scenario,
        10**8,
        workers=2,
        report_folder=tmp_path / "r",
        path_data=False,
        computer=machine,
        max_seconds=None,
    )


def test_paths_csv_beyond_the_free_disk_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("simulator.sizing.plan.free_disk", lambda folder: 300 * 2**20)
    with pytest.raises(SimulationError) as caught:
        plan(small(), 10**7, report_folder=tmp_path / "r", computer=ROOMY)
    message = str(caught.value)
    assert message.startswith("paths.csv for 10,000,000 paths would take about")
    assert "300 MiB are free" in message and "--no-path-data" in message
    assert "run at most" in message
    plan(small(), 10**7, report_folder=tmp_path / "r", path_data=False, computer=ROOMY)


def test_the_disk_check_asks_for_what_the_report_needs(tmp_path, monkeypatch):
    # 30 MiB free: far less than the fixed 120 MiB the check once kept back, and room
    # for a small report with its paths.csv; not for a large one.
    monkeypatch.setattr("simulator.sizing.plan.free_disk", lambda folder: 30 * 2**20)
    folder = tmp_path / "r"
    fits = plan(small(), 10_000, report_folder=folder, computer=ROOMY)
    assert 0 < fits.disk < 30 * 2**20 - DISK_MARGIN
    assert fits.disk == sum(fits.disk_parts.values()) and fits.disk_parts["pages"] > 0
    with pytest.raises(SimulationError) as caught:
        plan(small(), 2_000_000, report_folder=folder, computer=ROOMY)
    message = str(caught.value)
    guess = estimate(small(), 2_000_000, report=True, path_data=True)
    assert message.startswith("paths.csv for 2,000,000 paths would take about ")
    assert f"about {size(guess.disk_parts['paths.csv'])}" in message
    assert f"the whole report {size(guess.disk)}" in message
    assert "only 30 MiB are free" in message and "--no-path-data" in message
    most = int(message.split("run at most ")[1].split(" paths")[0].replace(",", ""))
    assert plan(small(), most, report_folder=folder, computer=ROOMY).disk <= 30 * 2**20
    # Without paths.csv the pages and charts alone fit.
    plan(small(), 2_000_000, report_folder=folder, path_data=False, computer=ROOMY)


def test_a_report_whose_pages_alone_do_not_fit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("simulator.sizing.plan.free_disk", lambda folder: DISK_MARGIN + 2**16)
    with pytest.raises(SimulationError) as caught:
        plan(small(), 1000, report_folder=tmp_path / "r", path_data=False, computer=ROOMY)
    message = str(caught.value)
    assert message.startswith("the report's pages and charts would take about")
    assert "--no-report" in message and "--no-path-data" not in message
    plan(small(), 1000, report_folder=None, computer=ROOMY)  # no report, no disk asked


def test_a_run_longer_than_allowed_is_refused_with_what_fits(monkeypatch):
    # One pilot for every plan below: two pilots are two wall-clock timings, and the
    # size said to fit under one need not fit under the other on a busy machine.
    pilots = {}

    def one_pilot(scenario, paths, path_data, **kwargs):
        if "pilot" not in pilots:
            pilots["pilot"] = run_pilot(scenario, paths, path_data, **kwargs)
        return pilots["pilot"]

    monkeypatch.setattr("simulator.sizing.plan.run_pilot", one_pilot)
    with pytest.raises(SimulationError) as caught:
        plan(small(), 10**9, max_seconds=120, computer=ROOMY)
    message = str(caught.value)
    assert "1,000,000,000 paths would take about" in message
    assert "longer than the 2 min allowed" in message
    assert "--precision SE" in message and "--max-minutes" in message
    most = int(message.split("run at most ")[1].split(" paths")[0].replace(",", ""))
    # The largest run said to fit does, and one a quarter larger does not (the advice
    # is rounded down to two significant figures: at most 10% below the limit).
    plan(small(), most, max_seconds=120, computer=ROOMY)
    with pytest.raises(SimulationError, match="longer than the 2 min allowed"):
        plan(small(), most * 5 // 4, max_seconds=120, computer=ROOMY)
    plan(small(), 10**9, max_seconds=None, computer=ROOMY)  # no limit


def test_a_run_to_a_precision_is_sized_by_its_cap():
    with pytest.raises(SimulationError, match=r"the cap of --precision"):
        plan(small(), 10**9, precision=0.01, max_seconds=60, computer=ROOMY)


# ---------------------------------------------------------------------------
# The command


def test_a_billion_paths_are_refused_before_anything_starts(chdir_tmp):
    began = time.perf_counter()
    result = invoke(LOGISTICS, "--paths", "1000000000")
    assert result.exit_code == 2
    assert time.perf_counter() - began < 10
    line = result.stderr
    assert line.count("\n") == 1 and line.startswith("simulate: error: 1,000,000,000 paths")
    assert "--precision SE" in line and "Traceback" not in result.output
    assert result.stdout == ""
    assert list(chdir_tmp.iterdir()) == []  # no report folder, no staging folder


def test_max_minutes_sets_the_limit_and_zero_lifts_it(no_charts, chdir_tmp):
    refused = invoke(LOGISTICS, "--paths", "3000", "--no-report", "--max-minutes", "0.0001")
    assert refused.exit_code == 2 and "--max-minutes" in refused.stderr
    allowed = invoke(LOGISTICS, "--paths", "3000", "--no-report", "--max-minutes", "0")
    assert allowed.exit_code == 0, allowed.output


def test_too_little_disk_for_paths_csv_is_refused(no_charts, chdir_tmp, monkeypatch):
    monkeypatch.setattr("simulator.sizing.plan.free_disk", lambda folder: 6 * 2**20)
    refused = invoke(LOGISTICS, "--paths", "20000", "--quiet")
    assert refused.exit_code == 2
    assert "--no-path-data" in refused.stderr and refused.stderr.count("\n") == 1
    assert list(chdir_tmp.iterdir()) == []
    assert invoke(LOGISTICS, "--paths", "20000", "--quiet", "--no-path-data").exit_code == 0


def test_too_little_memory_is_refused(chdir_tmp, monkeypatch):
    monkeypatch.setattr("simulator.sizing.plan.machine", lambda: Machine(memory=2**20, cores=2))
    refused = invoke(LOGISTICS, "--paths", "3000", "--no-report")
    assert refused.exit_code == 2
    assert "of memory, but this machine has 1 MiB available" in refused.stderr


# ---------------------------------------------------------------------------
# Magnitudes


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        (
            ["workload.monthly_growth=1", "scenario.horizon_months=240"],
            "workload.monthly_growth",
            ["workload.monthly_growth = 1 ", "scenario.horizon_months = 240", "1e+20"],
        ),
        (
            ["workload.monthly_growth=1", "scenario.horizon_months=1200"],
            "workload.monthly_growth",
            ["too large to compute with", "beyond any float"],
        ),
        (
            ["options.api.annual_price_change=1000", "scenario.horizon_months=240"],
            "options.api.annual_price_change",
            ["options.api.annual_price_change = 1e+03 multiplies its price by"],
        ),
        (
            ["scenario.discount_rate=-0.999999", "scenario.horizon_months=240"],
            "scenario.discount_rate",
            ["discounted cost", "scenario.discount_rate = -1 weighs month 240 by"],
        ),
        (
            [
                "workload.requests_per_month=1e15",
                "workload.input_tokens_per_request=1e9",
                "options.api.input_price_per_mtok=1e6",
            ],
            "options.api",
            ["are too large together", "check the units"],
        ),
    ],
)
def test_a_typical_path_that_overflows_is_refused_up_front(overrides, key, words):
    scenario = small(*overrides)
    with pytest.raises(ScenarioError) as caught:
        check_magnitudes(scenario)
    assert caught.value.key == key
    for word in words:
        assert word in caught.value.message
    # The run itself would refuse it too (on its first batch): nothing is refused that
    # could have run.
    if scenario.horizon_months <= 240:
        with pytest.raises(ScenarioError):
            run(scenario, paths=32, seed=1, workers=1)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["workload.requests_per_month=0"],
        ["options.api.input_price_per_mtok=0", "options.api.output_price_per_mtok=0"],
        ["workload.monthly_growth=0.1", "scenario.horizon_months=240"],
        ["scenario.discount_rate=-0.5", "scenario.horizon_months=240"],
        ["scenario.discount_rate=1e12"],
        ["workload.requests_per_month=1e13"],
    ],
)
def test_plausible_scenarios_pass_the_magnitude_check(overrides):
    check_magnitudes(small(*overrides))


@pytest.mark.parametrize("name", ["logistics", "startup", "regulated", "crossover"])
def test_shipped_scenarios_pass_the_magnitude_check(name):
    check_magnitudes(load_scenario(SCENARIOS / f"{name}.toml"))


def test_the_command_refuses_an_overflowing_scenario_in_one_line(chdir_tmp):
    began = time.perf_counter()
    result = invoke(
        LOGISTICS, "--set", "workload.monthly_growth=1", "--set", "scenario.horizon_months=240"
    )
    assert result.exit_code == 2
    assert time.perf_counter() - began < 10
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"simulate: error: {LOGISTICS}: workload.monthly_growth: on a typical path"
    )
    assert list(chdir_tmp.iterdir()) == []


# ---------------------------------------------------------------------------
# Found while sizing: rows for paths.csv pile up in memory


def test_batches_waiting_for_a_slow_sink_are_bounded(monkeypatch):
    import multiprocessing

    from simulator.engine import run as engine

    costed = multiprocessing.get_context("fork").Value("i", 0)
    real = engine._cost_batch

    def counting(*args, **kwargs):
        record = real(*args, **kwargs)
        with costed.get_lock():
            costed.value += 1
        return record

    monkeypatch.setattr(engine, "_cost_batch", counting)
    ahead = []

    def slow_sink(first_path, arrays):
        ahead.append(costed.value - (first_path // 4096 + 1))
        time.sleep(0.04)

    scenario = parse_scenario(tomllib.loads(ONE_API))
    engine.simulate(
        scenario,
        paths=40 * 4096,
        seed=1,
        chunk_size=4096,
        workers=2,
        path_sink=slow_sink,
        path_fields=("total:",),
    )
    assert len(ahead) == 40
    # A few batches per worker may wait; not the whole run.
    assert max(ahead) <= 8, f"up to {max(ahead)} batches waited in memory"


# ---------------------------------------------------------------------------
# Many options: what they cost whatever the paths


def many_api(n: int, label: str = "") -> str:
    """A scenario of ``n`` API options, each with an uncertain price of its own."""
    lines = ['[scenario]\nname = "many"\nhorizon_months = 12']
    lines.append("[workload]\nrequests_per_month = 1000000")
    lines.append("input_tokens_per_request = 500\noutput_tokens_per_request = 100")
    for i in range(n):
        lines += [f'[options.api{i}]\nkind = "api"\noutput_price_per_mtok = 4.0']
        low = 0.5 + i / 1e4
        lines.append(f'input_price_per_mtok = {{ dist = "uniform", low = {low}, high = 1.5 }}')
        if label:
            lines.append(f'label = "{label}{i}"')
    return "\n".join(lines) + "\n"


def test_the_estimate_grows_with_the_options_and_their_names():
    from simulator.sizing.pilot import assumed_pilot

    def guess(n, label=""):
        scenario = parse_scenario(tomllib.loads(many_api(n, label)))
        pilot = assumed_pilot(scenario)  # what follows does not depend on a pilot
        return estimate(scenario, 500, workers=1, report=True, _pilot_result=pilot)

    guesses = {n: guess(n) for n in (10, 100, 1000)}
    parts = {n: g.seconds_parts for n, g in guesses.items()}
    # The summary is linear in options; the value of information reads every input
    # (one per option here) for every option; the report grows faster than linearly
    # (the chart of monthly costs relates every panel to every other).
    assert parts[1000]["summary"] == pytest.approx(10 * parts[100]["summary"])
    assert parts[1000]["value_of_information"] > 90 * parts[100]["value_of_information"]
    assert parts[1000]["report"] > 10 * parts[100]["report"]
    assert parts[100]["report"] > 5 * parts[10]["report"]
    floors = [guesses[n].floor_seconds for n in (10, 100, 1000)]
    assert floors == sorted(floors) and floors[2] > 20 * 60
    for g in guesses.values():
        assert g.floor_seconds <= g.seconds
    # The pages grow with the options, and with the length of their labels.
    pages = {n: g.disk_parts["pages"] for n, g in guesses.items()}
    assert pages[1000] > 9 * pages[100] and pages[100] > 5 * pages[10]
    labelled = guess(100, "x" * 190).disk_parts["pages"]
    assert labelled - pages[100] >= 100 * 190 * 10


def test_thousands_of_options_are_refused_before_any_pilot_or_run(chdir_tmp, monkeypatch):
    source = chdir_tmp / "many.toml"
    source.write_text(many_api(2000), encoding="utf-8")

    def never(*args, **kwargs):
        raise AssertionError("started")

    monkeypatch.setattr("simulator.sizing.plan.run_pilot", never)
    monkeypatch.setattr("simulator.run", never)
    began = time.perf_counter()
    result = invoke(source, "--paths", "500", "--max-minutes", "1")
    assert time.perf_counter() - began < 10
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1
    assert line.startswith("simulate: error: 500 paths would take at least ")
    assert "for its 2,000 options alone (summary " in line and "report " in line
    assert "longer than the 1 min allowed" in line and "--no-report" in line
    assert sorted(p.name for p in chdir_tmp.iterdir()) == ["many.toml"]  # no folder


def test_a_pilot_that_uses_the_time_left_is_stopped_and_the_run_refused():
    scenario = small()
    floor = estimate(scenario, 10**6, cores=2).floor_seconds
    with pytest.raises(SimulationError) as caught:
        plan(scenario, 10**6, max_seconds=floor + 1e-3, computer=ROOMY)
    message = str(caught.value)
    assert "a pilot of a few paths took" in message and "before it was stopped" in message
    assert "--max-minutes" in message


def test_a_pause_during_the_small_pilot_batch_does_not_shrink_the_time_per_path(monkeypatch):
    # The time per path is the difference of two batch timings over their difference in
    # paths. A pause (the machine is shared) during the smaller batch brought the two
    # timings level and a billion paths seemed to fit under two minutes. The pilot reads
    # a clock here that a batch moves by 10 us a path plus 10 ms, and the small batch
    # by 95% of the large one's time.
    import types

    import simulator.decide.policy as policy

    now = [0.0]
    real = policy.simulate
    large, small_batch = PILOT_PATHS, PILOT_PATHS // 4

    def timed_batch(scenario, paths, **kwargs):
        outcome = real(scenario, paths=paths, **kwargs)
        paused = paths == small_batch and kwargs.get("chunk_size") == paths
        now[0] += 0.95 * (large * 1e-5 + 0.01) if paused else paths * 1e-5 + 0.01
        return outcome

    monkeypatch.setattr(policy, "simulate", timed_batch)
    monkeypatch.setattr(
        "simulator.sizing.pilot.time", types.SimpleNamespace(perf_counter=lambda: now[0])
    )
    pilot = run_pilot(small(), 10**6, path_data=False)
    # The difference alone: 0.05 * 0.05096 s over 3072 paths, 0.83 us a path. The floor:
    # half of the large batch's 0.05096 s over 4096 paths, 6.2 us a path.
    per_path = pilot.path_month_s * pilot.months
    assert per_path == pytest.approx((large * 1e-5 + 0.01) / large / 2, rel=1e-12)
