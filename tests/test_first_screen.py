"""What a run says first: the decision sentence, its numbers, twins shown once, and a
terminal table that fits 100 columns (80 on a narrow terminal)."""

from __future__ import annotations

import pytest

from simulator import load_scenario, run
from simulator.report.tables import summary_rows, terminal_table
from simulator.report.terminal import stress_text, summary_text
from simulator.report.twins import folded, twins
from simulator.report.words.headline import headline

from .conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.fixture(scope="module")
def logistics():
    return run(load_scenario(SCENARIOS / "logistics.toml"), paths=4000, seed=11)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_terminal_output_of_every_shipped_scenario_fits(path):
    result = run(load_scenario(path), paths=2000, seed=3)
    for width in (100, 80):
        text = summary_text(result, width=width)
        widest = max(len(line) for line in text.splitlines())
        assert widest <= width, (width, text)
        assert "Recommendation: " in text
    wide = summary_text(result, width=80, wide=True)
    header = next(line for line in wide.splitlines() if line.startswith("Option"))
    assert "p50" in header.split()  # --wide keeps every column


def test_the_stress_text_fits_100_columns():
    result = run(load_scenario(SCENARIOS / "crossover.toml"), paths=2000, seed=3, stress=True)
    text = stress_text(result, width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "Volume to break even" in text


def test_a_staged_policy_that_never_migrates_is_shown_as_its_first_stage(logistics):
    staged = logistics.options["staged"]
    assert staged.policy["p_migrates"] == 0  # the search finds that staying is cheapest
    assert twins(logistics) == {"staged": "hosted_open"}
    shown = folded(logistics)
    assert "staged" not in shown.options and "staged" not in shown.versus
    # The tie on every path was split evenly; shown once, the twin carries both halves.
    both = logistics.options["hosted_open"].p_cheapest + staged.p_cheapest
    assert shown.options["hosted_open"].p_cheapest == both
    assert sum(o.p_cheapest for o in shown.options.values()) == pytest.approx(1.0, abs=1e-12)
    # The summary itself keeps both options as they were.
    assert set(logistics.to_dict()["options"]) == set(logistics.options)


def test_an_option_that_migrates_is_not_folded(logistics):
    result = run(
        load_scenario(SCENARIOS / "logistics.toml", ["options.staged.trigger_monthly_cost=1000"]),
        paths=2000,
        seed=11,
    )
    assert result.options["staged"].policy["p_migrates"] > 0
    assert twins(result) == {}


def test_the_headline_names_the_recommendation_and_its_numbers(logistics):
    told = headline(logistics)
    recommended = logistics.extra["recommendation"]["option"]
    option = logistics.options[recommended]
    assert told.sentence.startswith(f"Move to {option.label}:")
    assert "shared with Hosted-open now, self-host" in told.sentence
    labels = [card.label for card in told.cards]
    assert labels == [
        "Expected cost",
        "Saving against the baseline",
        "Bad case (1 in 20)",
        "Break-even",
        "Chance it is the cheapest",
    ]
    assert "NPV" in told.cards[0].detail  # logistics discounts at 8% a year
    assert told.notes and "never migrates" in told.notes[0]


def test_the_baseline_recommended_says_stay():
    result = run(load_scenario(SCENARIOS / "crossover.toml"), paths=2000, seed=3)
    assert result.extra["recommendation"]["option"] == result.scenario.baseline
    told = headline(result)
    assert told.sentence.startswith("Stay on ")
    assert told.cards[1].value == "none" and "Break-even" not in [c.label for c in told.cards]


def test_the_cheapest_of_the_allowed_options_is_counted_path_by_path():
    import numpy as np

    result = run(load_scenario(SCENARIOS / "regulated.toml"), paths=3000, seed=3, keep_paths=True)
    allowed = [n for n, o in result.options.items() if not o.excluded]
    assert len(allowed) < len(result.options)  # the frontier API breaks data residency
    totals = np.array([result.paths.record[f"total:{n}"] for n in allowed])
    lowest = totals == totals.min(axis=0)
    expected = (lowest / lowest.sum(axis=0)).mean(axis=1)
    for name, share in zip(allowed, expected, strict=True):
        assert result.options[name].p_cheapest_allowed == pytest.approx(share, abs=1e-12)
    assert result.options["api"].p_cheapest_allowed is None
    # Without an exclusion known before the run the key is left out.
    assert (
        "p_cheapest_allowed"
        not in run(load_scenario(SCENARIOS / "crossover.toml"), paths=500, seed=1).to_dict()[
            "options"
        ]["api"]
    )


def test_an_excluded_option_has_no_p_cheapest():
    result = run(load_scenario(SCENARIOS / "regulated.toml"), paths=2000, seed=3)
    excluded = [n for n, o in result.options.items() if o.excluded]
    assert excluded
    rows = dict(zip(result.options, summary_rows(result), strict=True))
    for name in excluded:
        assert rows[name][0].endswith("(excluded)") and "excluded" in rows[name][1:]
    assert "Excluded by the requirements" in " ".join(headline(result).notes)


def test_labels_wrap_instead_of_widening_the_table(logistics):
    shown = folded(logistics)
    table = terminal_table(shown, width=80).splitlines()
    assert max(len(line) for line in table) <= 80
    assert len(table) > 2 + len(shown.options)  # some labels took more than one line
    room = len(table[1].split("  ")[0])  # the rule under the label column
    words = " ".join(line[:room].strip() for line in table[2:]).split()
    for option in shown.options.values():
        assert " ".join(option.label.split()) in " ".join(words)
