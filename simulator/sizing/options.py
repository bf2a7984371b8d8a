"""What a run costs for its options whatever a pilot would find: the summary, the
value of information and the report (the time to draw its charts and write its pages,
and their bytes on disk).

These grow with the number of options, the horizon, the inputs and the length of the
names, not with the paths (past ``[stress] sensitivity_paths``), and they need no
pilot: :mod:`.estimate` adds them to its own model and counts them in
:attr:`~.estimate.Estimate.floor_seconds`, the least time a run can take, so that a
scenario of thousands of options is refused at once. The constants were measured on
the project's two-core machine, on scenarios of API options at 500 paths.
"""

from __future__ import annotations

from ..scenario.model import Scenario

__all__ = ["report_bytes", "report_seconds", "summary_seconds"]

# ---------------------------------------------------------------------------
# Time

REPORT_S = 1.5
REPORT_S_PER_OPTION = 0.25
REPORT_S_PER_OPTION_PAIR = 1.4e-3
"""Drawing the charts and writing the pages (the same at any number of paths): a fixed
part, a part per option (a panel of several charts, rows of the tables), and a part
per pair of options, the chart of monthly costs drawing one panel per option on
shared axes (matplotlib relates every panel to every other). Measured at 500 paths
and 12 months: 1 option 1 s, 10 options 3-4.5 s, 50: 13 s, 100: 30 s, 300: 199 s, and
1,000 options over 15 min, 880 s of it that one chart."""

STRESS_REPORT_S = 2.0
"""The stress test's charts and tables."""

SUMMARY_S_PER_OPTION = 1e-3
SUMMARY_S_PER_OPTION_MONTH = 8e-5
"""Summarizing a run (:func:`~simulator.decide.summary.summarize`), per option and per
option and month (the percentiles of every month's histogram): measured 1.3 ms an
option at 12 months, 8.3 ms at 120 and 16 ms at 240."""

VOI_S_PER_PAIR = 4e-6
VOI_S_PER_PAIR_PATH = 3.5e-9
VOI_S_PER_INPUT_PATH = 2e-8
"""The value of information every run computes
(:func:`~simulator.decide.recommend.value_of_information`): for each uncertain input,
the mean cost of each allowed option in every bin of the input's values on the run's
first ``[stress] sensitivity_paths`` paths, and the binning itself. Every option is
counted, as if any could be best in some bin (the run skips those that cannot).
Measured per input and option: 4 us at 500 paths, 41 us at 20,000, 0.67 ms at
200,000."""


# ---------------------------------------------------------------------------
# Disk: the report's files beside paths.csv, measured with ``du`` on reports of API
# options at 500 paths (the scenarios' own reports fall within them: logistics, six
# options over 36 months, 0.94 MB; with --stress, 1.6 MB).

REPORT_BYTES = 480 * 2**10
REPORT_BYTES_PER_OPTION = 88 * 2**10
REPORT_BYTES_PER_OPTION_MONTH = 160
"""The pages (``index.html`` with its charts inline as SVG, ``report.md``,
``summary.json``) and the PNG charts: measured 135 kB for one option, 66 kB more per
option at 12 months (a panel in several charts and rows in every table), and 138
bytes per option and month (the monthly percentiles in ``summary.json``, longer curves
in the charts); the first screen's chart adds about 70 kB and 6 kB an option."""

TRIGGER_CHART_BYTES = 100 * 2**10
"""The chart of a staged policy's trigger search (62 kB measured)."""

STRESS_BYTES = 300 * 2**10
STRESS_BYTES_PER_OPTION = 60 * 2**10
"""What ``--stress`` adds: three charts and their tables (measured 185 kB and 43 kB
per option)."""

TEXT_REPEATS = 16
DESCRIPTION_REPEATS = 4
"""Bytes each character of an option's name and label takes in the report (it appears
in the tables, the charts and the text: 11 measured), and of the scenario's
description (3 measured)."""


# ---------------------------------------------------------------------------
# The model


def report_seconds(scenario: Scenario, stress: bool = False) -> float:
    """Seconds to draw the charts and write the pages of a report (any paths)."""
    n = len(scenario.options)
    seconds = REPORT_S + REPORT_S_PER_OPTION * n + REPORT_S_PER_OPTION_PAIR * n * n
    return seconds + (STRESS_REPORT_S if stress else 0.0)


def report_bytes(scenario: Scenario, stress: bool = False) -> int:
    """Bytes of a report's pages and charts (everything but ``paths.csv`` and
    ``paths.parquet``)."""
    options = scenario.options.values()
    n = len(options)
    total = REPORT_BYTES + n * (
        REPORT_BYTES_PER_OPTION + scenario.horizon_months * REPORT_BYTES_PER_OPTION_MONTH
    )
    total += TEXT_REPEATS * sum(len(o.name) + len(o.label or "") for o in options)
    total += DESCRIPTION_REPEATS * len(scenario.description or "")
    if any(o.kind == "staged" for o in options):
        total += TRIGGER_CHART_BYTES
    if stress:
        total += STRESS_BYTES + n * STRESS_BYTES_PER_OPTION
    return int(total)


def summary_seconds(scenario: Scenario, paths: int) -> dict[str, float]:
    """Seconds of the summary of a run of ``paths`` paths and of its value of
    information, which grow with the options (and the inputs), not with the paths
    past ``[stress] sensitivity_paths``."""
    n = len(scenario.options)
    sample = min(scenario.stress.sensitivity_paths, paths)
    inputs = len(scenario.inputs)
    per_input = n * (VOI_S_PER_PAIR + sample * VOI_S_PER_PAIR_PATH) + sample * VOI_S_PER_INPUT_PATH
    per_option = SUMMARY_S_PER_OPTION + scenario.horizon_months * SUMMARY_S_PER_OPTION_MONTH
    return {
        "summary": n * per_option,
        "value_of_information": inputs * per_input if n > 1 else 0.0,
    }
