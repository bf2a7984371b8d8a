"""Shared fixtures: the repository root and small scenario documents."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


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
    monkeypatch.setattr("simulator.plots.CHARTS", [])
