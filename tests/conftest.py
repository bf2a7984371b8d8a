"""Shared fixtures: the repository root and small scenario documents."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

ONE_API = """
[scenario]
name = "one api"
horizon_months = 12
[workload]
requests_per_month = 1000000
input_tokens_per_request = 500
output_tokens_per_request = 100
[options.api]
kind = "api"
input_price_per_mtok = { dist = "uniform", low = 0.5, high = 1.5 }
output_price_per_mtok = 4.0
"""
"""A scenario of one API option with an uncertain price: the smallest real run."""


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def chdir_tmp(tmp_path, monkeypatch) -> Path:
    """Run in an empty temporary folder (reports land under it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_charts(monkeypatch):
    """Reports without charts, for tests of the folder and flags alone (charts take
    seconds to draw; tests/test_report*.py check them)."""
    monkeypatch.setattr("simulator.report.charts.CHARTS", [])


@pytest.fixture(scope="session")
def cluster():
    """The address of a Dask cluster of two worker processes on the loopback address,
    started once for the session and stopped with it."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        distributed.Client(local) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield local.scheduler_address


@pytest.fixture(autouse=True)
def terminal_of_100_columns(monkeypatch):
    """Every test prints as on a terminal of 100 columns (what a pipe gets unless
    ``COLUMNS`` says otherwise), whatever the terminal the tests run in."""
    monkeypatch.setenv("COLUMNS", "100")
