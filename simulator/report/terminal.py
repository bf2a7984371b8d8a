"""What the command prints on a terminal besides the summary table: the progress bar,
and the stress test in a few lines."""

from __future__ import annotations

import time

from ..scenario.numbers import count, money
from .tables import text_table
from .words.stress import sensitivity_sentence, stress_sentence

__all__ = ["ProgressBar", "stress_text"]


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


def stress_text(result) -> str:
    """The stress test for the terminal: its finding, the break-even volumes, and what
    drives the most uncertain option's savings."""
    extra = result.extra
    currency = result.scenario.currency
    if not result.versus:
        return "Stress test: a single option, nothing to compare it with."

    def cell(entry, key):
        multiplier = entry[f"volume_multiplier_{key}"]
        if multiplier is None:
            return {
                "cheaper_at_lowest_volume": "already at 0.01x",
                "marginal_cost_not_below_baseline": "never (dearer per request)",
            }.get(entry[f"reason_{key}"], "not by 100x")
        requests = entry[f"requests_per_month_{key}"]
        spend = money(entry[f"baseline_monthly_spend_{key}"], currency)
        return f"{multiplier:.3g}x ({count(requests)} requests, baseline {spend}/month)"

    rows = [
        (result.options[name].label, cell(entry, "p50"), cell(entry, "p80"))
        for name, entry in extra["breakeven"].items()
    ]
    method = extra["stress_method"]
    runs = f"{method['paths']:,} paths, {method['runs']} runs"
    lines = [
        f"Stress test ({runs}): {stress_sentence(result)}",
        "",
        text_table(("Break-even volume (x forecast)", "cheaper on 50%", "on 80%"), rows),
        "",
        sensitivity_sentence(result),
    ]
    return "\n".join(lines)
