"""Speed work changes no answer: parallel equals serial, designs agree with plain Monte
Carlo, a run to a precision is a plain run of the paths it used."""

from __future__ import annotations

import math
import tomllib

import pytest

from simulator import load_scenario, parse_scenario, run

from .conftest import ROOT, SCENARIOS

LOGISTICS = SCENARIOS / "logistics.toml"
MODEL = ROOT / "benchmarks" / "model.toml"


def test_parallel_equals_serial():
    scenario = load_scenario(LOGISTICS)
    # 11 blocks in 3 batches, spread over two worker processes.
    serial = run(scenario, paths=42_000, seed=5, workers=1, keep_paths=True)
    parallel = run(scenario, paths=42_000, seed=5, workers=2, keep_paths=True)
    assert parallel.to_dict() == serial.to_dict()
    for key, values in serial.paths.record.items():
        assert (parallel.paths.record[key] == values).all(), key


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_designs_agree_with_plain_monte_carlo(method):
    plain = run(load_scenario(MODEL), paths=65_536, seed=11)
    design = run(load_scenario(MODEL, [f"scenario.sampling={method}"]), paths=65_536, seed=11)
    a, b = plain.versus["self_hosted"], design.versus["self_hosted"]
    # Independent estimates of one probability: within four combined standard errors.
    assert abs(a.p_cheaper - b.p_cheaper) < 4 * math.hypot(a.p_cheaper_se, b.p_cheaper_se)
    # The design's own error is estimated from 16 replicates and is smaller.
    assert b.p_cheaper_se < a.p_cheaper_se
    for name in ("api", "self_hosted"):
        ma, mb = plain.options[name].total_cost, design.options[name].total_cost
        se = ma.sd / math.sqrt(65_536)
        assert abs(ma.mean - mb.mean) < 4 * math.sqrt(2) * se


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_designs_are_reproducible_and_batch_independent(method):
    scenario = load_scenario(MODEL, [f"scenario.sampling={method}"])
    one = run(scenario, paths=20_000, seed=3, chunk_size=1, workers=1).to_dict()
    two = run(scenario, paths=20_000, seed=3, workers=2).to_dict()
    assert one == two
    assert run(scenario, paths=20_000, seed=4, workers=1).to_dict() != one


def test_precision_run_is_a_plain_run_of_the_paths_it_used():
    scenario = load_scenario(MODEL)
    target = 0.0015
    precise = run(scenario, seed=9, precision=target, paths=2_000_000).to_dict()
    report = precise.pop("precision")
    used = precise["scenario"]["paths"]
    assert report["met"] and report["worst_standard_error"] <= target
    assert report["paths_used"] == used and used % 4096 == 0 and used < 2_000_000
    assert run(scenario, seed=9, paths=used).to_dict() == precise
    # It took more than its first round of 16 blocks: there P(cheaper), near 0.35, has a
    # standard error of sqrt(0.35 * 0.65 / 65536) = 0.0019.
    first_round = run(scenario, seed=9, paths=65_536).versus["self_hosted"].p_cheaper_se
    assert first_round > target and used > 65_536


def test_precision_stops_at_the_path_cap():
    capped = run(load_scenario(MODEL), seed=9, precision=1e-6, paths=70_000).to_dict()
    assert capped["scenario"]["paths"] == 70_000
    assert capped["precision"]["met"] is False


# ---------------------------------------------------------------------------
# Many options: the summary is linear in them


def many_api(n: int) -> str:
    """A scenario of ``n`` API options, each with an uncertain price of its own."""
    lines = [
        "[scenario]",
        'name = "many"',
        "horizon_months = 12",
        "[workload]",
        "requests_per_month = 1000000",
        "input_tokens_per_request = 500",
        "output_tokens_per_request = 100",
    ]
    for i in range(n):
        lines += [
            f"[options.api{i}]",
            'kind = "api"',
            f'input_price_per_mtok = {{ dist = "uniform", low = {0.5 + i / 1000}, high = 1.5 }}',
            "output_price_per_mtok = 4.0",
        ]
    return "\n".join(lines) + "\n"


class _Counted(dict):
    """The sums a summary reads, counting every key it visits by iterating."""

    visits = 0

    def __iter__(self):
        for key in super().__iter__():
            _Counted.visits += 1
            yield key

    def keys(self):
        return list(self.__iter__())

    def items(self):
        return [(key, self[key]) for key in self.__iter__()]

    def values(self):
        return [self[key] for key in self.__iter__()]


def test_the_summary_visits_each_sum_once_whatever_the_options(monkeypatch):
    from simulator.decide.policy import simulate
    from simulator.decide.summary import summarize
    from simulator.engine.tally import Tally

    real = Tally.totals
    monkeypatch.setattr(Tally, "totals", lambda self: _Counted(real(self)))
    counted = {}
    for n in (4, 16):
        scenario = parse_scenario(tomllib.loads(many_api(n)))
        outcome = simulate(scenario, paths=64, seed=1, workers=1)
        _Counted.visits = 0
        summarize(outcome)
        counted[n] = (_Counted.visits, len(real(outcome.tally)))
    for visits, keys in counted.values():
        # One pass over the sums for all the options (a scan per option would visit
        # each key once per option: 4 and 16 times as many).
        assert keys <= visits <= 2 * keys
    (small, small_keys), (large, large_keys) = counted[4], counted[16]
    assert large / small == pytest.approx(large_keys / small_keys, rel=0.01)  # about 4, not 16


@pytest.mark.parametrize("name", ["logistics", "onprem", "crossover"])
def test_each_options_breakdown_and_notes_are_the_sums_named_after_it(name):
    # What the summary gave before it grouped the keys once: each option's keys found
    # by their prefix, in the order of the sums.
    from simulator.decide.policy import simulate
    from simulator.decide.summary import summarize

    outcome = simulate(load_scenario(SCENARIOS / f"{name}.toml"), paths=500, seed=1, workers=1)
    result = summarize(outcome)
    sums = outcome.tally.totals()
    for option in outcome.tally.names:
        components = [
            (key.split(":", 2)[2], float(value[0]) / 500)
            for key, value in sums.items()
            if key.startswith(f"component:{option}:")
        ]
        prefix = f"moments:note:{option}:"
        notes = [key[len(prefix) :] for key in sums if key.startswith(prefix)]
        summary = result.options[option]
        assert list(summary.breakdown.items()) == components
        assert list(summary.notes) == [n for n in notes if n != "latency_met"]
        assert (summary.p_latency_met is None) == ("latency_met" not in notes)
