"""Two runs at once into the same report folder: the folder ends up one whole report,
from one of the runs, with no staging folder left behind."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from simulator import load_scenario, run
from simulator.report.folder import MARKER
from simulator.report.writer import write_report

from .conftest import ONE_API, SCENARIOS

STARTUP = str(SCENARIOS / "startup.toml")


def _one_whole_report(folder, seeds):
    """The folder holds exactly the files its marker lists, all from the same run."""
    listed = (folder / MARKER).read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, *listed])
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    seed = summary["scenario"]["seed"]
    assert seed in seeds
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    html = (folder / "index.html").read_text(encoding="utf-8")
    for text in (markdown, html):
        assert f"--seed {seed}" in text
        assert not any(f"--seed {other}" in text for other in seeds if other != seed)
    rows = (folder / "paths.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == summary["scenario"]["paths"] + 1
    return seed


def test_two_commands_at_once_into_one_folder_leave_one_whole_report(tmp_path):
    # One option, so that each report draws only the charts that apply to it.
    source = tmp_path / "one.toml"
    source.write_text(ONE_API, encoding="utf-8")
    out = tmp_path / "shared"
    seeds = (11, 12)
    command = [sys.executable, "-m", "simulator", str(source), "--out", str(out), "--quiet"]
    procs = [
        subprocess.Popen(
            [*command, "--paths", str(300 + 100 * i), "--seed", str(seed), "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, seed in enumerate(seeds)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert stderr == ""
    seed = _one_whole_report(out, seeds)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["paths"] == 300 + 100 * seeds.index(seed)
    # No staging folder, no retired report.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.toml", "shared"]


def test_moves_into_place_take_turns(no_charts, tmp_path, monkeypatch):
    # Two reports finishing in the same instant, with every rename slowed down so that
    # the moves would overlap without the lock.
    scenario = load_scenario(STARTUP)
    results = [run(scenario, paths=500, seed=seed, workers=1) for seed in (21, 22)]
    out = tmp_path / "shared"
    write_report(results[0], out)  # an earlier report, to be replaced
    import simulator.report.folder as report

    real_replace = report.os.replace

    def slow_replace(src, dst):
        time.sleep(0.05)
        real_replace(src, dst)

    monkeypatch.setattr(report.os, "replace", slow_replace)
    errors = []
    start = threading.Barrier(2)

    def finish(result):
        try:
            start.wait()
            write_report(result, out)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=finish, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    listed = (out / MARKER).read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *listed])
    seed = json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"]["seed"]
    assert re.search(rf"--seed {seed}\b", (out / "report.md").read_text(encoding="utf-8"))
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]


@pytest.mark.parametrize("seeds", [(31, 32, 33)])
def test_three_writers_in_threads(no_charts, tmp_path, seeds):
    scenario = load_scenario(STARTUP)
    results = [run(scenario, paths=300, seed=seed, workers=1) for seed in seeds]
    out = tmp_path / "shared"
    threads = [threading.Thread(target=write_report, args=(r, out)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    seed = json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"]["seed"]
    assert seed in seeds
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]
