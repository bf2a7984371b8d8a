"""What the command prints on a terminal besides the summary table: the progress bar,
and the stress test in a few lines."""

from __future__ import annotations

import shutil
import textwrap
import time

from ..scenario.numbers import count
from .tables import TERMINAL_WIDTH, fitted_table, terminal_table
from .words.stress import sensitivity_sentence, stress_sentence

__all__ = ["ProgressBar", "stress_text", "summary_text", "terminal_width"]


class ProgressBar:
    """A progress bar on a terminal, given as the engine's ``progress(done, total)``.

    It shows only once a run has taken :attr:`delay` seconds, so short runs print
    nothing; ``counting_only`` shows paths done without a bar (a run to a precision
    does not know how many paths it will need).
    """

    delay = 0.5
    width = 30

    def __init__(self, stream, *, counting_only: bool = False, unit: str = "paths") -> None:
        self.stream = stream
        self.counting_only = counting_only
        self.unit = unit
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.started < self.delay:
            return
        if self.counting_only:
            text = f"Simulating: {done:,} {self.unit} so far"
        else:
            filled = round(self.width * done / total) if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            share = f"{done / max(total, 1):4.0%}"
            text = f"Simulating [{bar}] {share}  {done:,} of {total:,} {self.unit}"
        self._show(text)

    def note(self, text: str) -> None:
        """Replace the bar by a short note (shown at once)."""
        self._show(text)

    def _show(self, text: str) -> None:
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the bar, if it was shown."""
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        self.clear()


def stress_text(result, width: int | None = None) -> str:
    """The stress test for the terminal: its finding, the break-even volumes, and what
    drives the most uncertain option's savings, in lines of at most ``width`` columns
    (the terminal's, at most 100)."""
    width = terminal_width() if width is None else width
    extra = result.extra
    if not result.versus:
        return "Stress test: a single option, nothing to compare it with."

    def cell(entry, key):
        multiplier = entry[f"volume_multiplier_{key}"]
        if multiplier is None:
            return {
                "cheaper_at_lowest_volume": "already at 0.01x",
                "marginal_cost_not_below_baseline": "never: dearer per request",
            }.get(entry[f"reason_{key}"], "not by 100x")
        requests = entry[f"requests_per_month_{key}"]
        return f"{multiplier:.3g}x ({count(requests)} requests/month)"

    rows = [
        (result.options[name].label, cell(entry, "p50"), cell(entry, "p80"))
        for name, entry in extra["breakeven"].items()
    ]
    method = extra["stress_method"]
    runs = f"{method['paths']:,} paths, {method['runs']} runs"
    header = ("Volume to break even", "on 50% of paths", "on 80%")
    lines = [
        *_wrapped(f"Stress test ({runs}): {stress_sentence(result)}", width),
        "",
        fitted_table(header, rows, width),
        "",
        *_wrapped(sensitivity_sentence(result), width),
    ]
    return "\n".join(lines)


def terminal_width() -> int:
    """Columns to draw in: the terminal's (``COLUMNS`` when set), at most
    :data:`~simulator.report.tables.TERMINAL_WIDTH`."""
    return min(TERMINAL_WIDTH, shutil.get_terminal_size((TERMINAL_WIDTH, 24)).columns)


def summary_text(result, width: int | None = None, wide: bool = False) -> str:
    """What a run prints: its title, the summary table (options that cost the same on
    every path shown once), the recommendation and any caution, each line at most
    ``width`` columns (but a ``wide`` table's)."""
    from ..scenario.text import printable
    from .tables import text_table
    from .twins import folded
    from .words.audit import cautions
    from .words.headline import headline
    from .words.portfolio import portfolio_rows

    width = terminal_width() if width is None else width
    scenario = result.scenario
    shown = folded(result)
    told = headline(result)
    title = f"{printable(scenario.name)}: {result.paths.paths:,} paths"
    lines = [*_wrapped(f"{title}, {scenario.horizon_months} months", width)]
    lines.append(terminal_table(shown, width, wide))
    for note in told.notes:
        lines += ["", *_wrapped(note, width)]
    rows = portfolio_rows(result)
    if rows:
        lines += [
            "",
            "Feature by feature:",
            text_table(("Workload", "Option", "Month 1"), rows, text_columns=2),
        ]
    lines += ["", *_wrapped(f"Recommendation: {told.sentence}", width)]
    found = cautions(shown)
    if found:
        lines += ["", "Caution: simulation error is material here."]
        for caution in found:
            lines += _wrapped(caution, width, "- ", "  ")
    return "\n".join(lines)


def _wrapped(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )
