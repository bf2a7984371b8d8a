"""Economic sanity on the logistics scenario: P(self-hosted cheaper than the API) moves
the way each lever should move it.

Every comparison runs both sides on the same seed and paths. Options are costed on
common random numbers and every input keeps its own random stream, so changing one
lever leaves every other draw of every path untouched: where a lever moves the cost
of every path the same way, P(cheaper) must move that way *exactly* (no tolerance).
Such levers are also checked path by path on the savings. For levers that are not
monotone path by path (setup length moves upgrades too; a different non-zero
attrition rate reshuffles departures), the comparison is on P alone.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario, run

LOGISTICS = Path(__file__).resolve().parent.parent / "scenarios" / "logistics.toml"
PATHS = 3000
SEED = 4242
OPTION = "self_hosted"
BASELINE = "api"

# peak_to_average is correlated with growth_realization in the file; a fixed input
# cannot be correlated, so the burstiness comparison drops the correlation on both sides.
NO_CORRELATION = "correlations=[]"


@functools.cache
def _run(*overrides: str):
    scenario = load_scenario(LOGISTICS, overrides)
    assert scenario.baseline == BASELINE
    return run(scenario, paths=PATHS, seed=SEED, keep_paths=True)


def _p_cheaper(*overrides: str) -> float:
    return _run(*overrides).versus[OPTION].p_cheaper


def _savings(*overrides: str) -> np.ndarray:
    totals = _run(*overrides).paths.totals
    return totals[BASELINE] - totals[OPTION]


def _assert_better(better: tuple[str, ...], worse: tuple[str, ...], *, pathwise: bool):
    """Self-hosting looks at least as good under ``better`` as under ``worse``, strictly so
    for the share of paths on which it wins."""
    p_better, p_worse = _p_cheaper(*better), _p_cheaper(*worse)
    assert p_better >= p_worse
    assert p_better > p_worse, f"{better} vs {worse}: P(cheaper) did not move ({p_better})"
    if pathwise:
        s_better, s_worse = _savings(*better), _savings(*worse)
        slack = 1e-9 * np.abs(s_worse).max()
        assert np.all(s_better >= s_worse - slack)


def test_the_scenario_leaves_room_to_move():
    # Neither certain nor hopeless, or no lever could move P strictly.
    assert 0.05 < _p_cheaper() < 0.99


def test_dearer_api():
    # The API's cost rises by the whole traffic increase; self-hosting's only by its
    # fallback share (<= 1) of it.
    dear = ("options.api.input_price_per_mtok=3.0", "options.api.output_price_per_mtok=12.0")
    _assert_better(dear, (), pathwise=True)


def test_cheaper_engineers():
    cheap = ("options.self_hosted.engineer_annual_cost=200000",)
    dear = ("options.self_hosted.engineer_annual_cost=450000",)
    _assert_better(cheap, dear, pathwise=True)


def test_no_attrition_beats_attrition():
    # With backfill at 1x, attrition only adds costs (hiring, lost uptime -> fallback).
    none = ("options.self_hosted.annual_attrition=0",)
    _assert_better(none, (), pathwise=True)
    _assert_better(none, ("options.self_hosted.annual_attrition=0.5",), pathwise=True)


def test_lower_attrition_among_non_zero_rates():
    # Not monotone path by path (a seat that does not empty now can empty later), so
    # the paired difference in P is held to 4 standard errors of the paired mean.
    low = ("options.self_hosted.annual_attrition=0.05",)
    high = ("options.self_hosted.annual_attrition=0.6",)
    wins_low = (_savings(*low) > 0).astype(float)
    wins_high = (_savings(*high) > 0).astype(float)
    diff = wins_low - wins_high
    se = diff.std(ddof=1) / math.sqrt(PATHS)
    assert diff.mean() > -4 * se
    assert _p_cheaper(*low) > _p_cheaper(*high)


def test_smoother_traffic():
    smooth = (NO_CORRELATION, "workload.peak_to_average=1")
    bursty = (NO_CORRELATION, "workload.peak_to_average=4")
    _assert_better(smooth, bursty, pathwise=True)


def test_higher_uptime():
    # Less downtime, less traffic sent to the fallback.
    _assert_better(
        ("options.self_hosted.uptime=0.999",), ("options.self_hosted.uptime=0.95",), pathwise=True
    )


def test_shorter_setup():
    # Serving sooner saves fallback traffic but starts upgrades sooner too, so this is
    # compared on P only.
    _assert_better(
        ("options.self_hosted.setup_months=2",),
        ("options.self_hosted.setup_months=9",),
        pathwise=False,
    )


def test_higher_realized_volume():
    # More volume costs the API per token and self-hosting per replica, which is cheaper,
    # but rounding replicas up makes it not strictly monotone path by path.
    _assert_better(
        ("workload.volume_realization=1.5",), ("workload.volume_realization=1.0",), pathwise=False
    )


def _components(*overrides: str) -> dict[str, np.ndarray]:
    return _run(*overrides).paths.components[OPTION]


@pytest.mark.parametrize("backfill", [1.0, 1.5])
def test_attrition_never_lowers_people_cost_and_raises_hiring(backfill):
    multiplier = f"options.self_hosted.backfill_cost_multiplier={backfill}"
    with_attrition = _components(multiplier)
    without = _components(multiplier, "options.self_hosted.annual_attrition=0")
    people, people_0 = with_attrition["people"], without["people"]
    assert np.all(people >= people_0 - 1e-9 * people_0)
    if backfill == 1.0:
        # An empty seat covered at 1x costs what the seat did.
        np.testing.assert_allclose(people, people_0, rtol=1e-12)
    else:
        # Covered at 1.5x: dearer on every path that had a vacancy, and some did.
        assert np.mean(people > people_0 * (1 + 1e-12)) > 0.5
    hiring, hiring_0 = with_attrition["hiring"], without["hiring"]
    assert np.all(hiring >= hiring_0 - 1e-9 * hiring_0)
    # Without attrition only the initial team is hired: 2 * 0.25 * annual cost.
    annual = _run(multiplier).paths.draws["options.self_hosted.engineer_annual_cost"]
    np.testing.assert_allclose(hiring_0, 2 * 0.25 * annual, rtol=1e-12)
    # The mean extra hiring cost is positive, well beyond its standard error.
    extra = hiring - hiring_0
    assert extra.mean() > 4 * extra.std(ddof=1) / math.sqrt(PATHS)
