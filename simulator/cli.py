"""The ``simulate`` command: parse, call the library, format. Nothing else.

Every error the user can cause surfaces as one line on standard error and exit
status 2; an unexpected failure exits 1. Heavy imports happen inside the command so
``simulate --help`` answers at once.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import click

from .engine.executor import WorkerLost
from .scenario.errors import ScenarioError, SimulationError
from .version import __version__

__all__ = ["main", "simulate"]

PRECISION_PATH_CAP = 10_000_000
"""Most paths a run to a precision adds unless --paths says otherwise."""

DEFAULT_MAX_MINUTES = 60.0
"""Runs estimated to take longer are refused unless --max-minutes allows them."""


class Terminated(BaseException):
    """SIGTERM, raised in the main process so that a run unwinds like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise Terminated


class _Command(click.Command):
    """Translates the library's errors into messages and exit statuses, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ScenarioError, SimulationError) as err:
            click.echo(f"simulate: error: {err}", err=True)
            ctx.exit(2)
        except WorkerLost as err:
            click.echo(f"simulate: error: {err}; no report was written", err=True)
            ctx.exit(1)
        except (KeyboardInterrupt, Terminated) as stop:
            # The report writer has removed its staging folder on the way out, so an
            # earlier report is left as it was.
            what = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated"
            click.echo(f"simulate: {what}; no report was written", err=True)
            ctx.exit(130 if isinstance(stop, KeyboardInterrupt) else 143)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:
            if os.environ.get("SIMULATOR_DEBUG"):
                raise
            click.echo(
                f"simulate: unexpected failure: {type(err).__name__}: {err} "
                "(set SIMULATOR_DEBUG=1 for a traceback)",
                err=True,
            )
            ctx.exit(1)


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("scenario", metavar="SCENARIO.toml")
@click.option("--paths", type=click.IntRange(min=1), help="Number of simulated paths.")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (0 is a seed).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary JSON, nothing else.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default reports/<scenario stem>/).",
)
@click.option("--no-report", is_flag=True, help="Write no report files.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one scenario value (dotted key, TOML value); repeatable.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    help="Paths costed at once (memory only; results never change).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes in parallel (default: every core; results never change).",
)
@click.option(
    "--precision",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SE",
    help="Add paths until every P(cheaper) and every relative mean has this standard "
    "error at most; --paths is then the cap (default 10,000,000).",
)
@click.option(
    "--no-path-data",
    is_flag=True,
    help="Leave paths.csv (one row per path, about 0.5 kB each) out of the report.",
)
@click.option(
    "--stress",
    is_flag=True,
    help="Also stress-test the volume forecast (the [stress] grid), find each option's "
    "break-even volume and rank the inputs that drive its savings (extra runs on the "
    "same seed: several seconds).",
)
@click.option(
    "--max-minutes",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_MINUTES,
    metavar="M",
    help="Refuse a run estimated to take longer than M minutes (default 60; 0: no limit).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Cost the paths on the Dask cluster whose scheduler is at ADDRESS "
    "(tcp://HOST:PORT) instead of local processes; results never change.",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no notes on standard error.")
@click.version_option(__version__, prog_name="simulate")
def simulate(
    scenario,
    paths,
    seed,
    as_json,
    out,
    no_report,
    overrides,
    chunk_size,
    workers,
    precision,
    no_path_data,
    stress,
    max_minutes,
    scheduler,
    quiet,
):
    """Simulate the hosting options of SCENARIO.toml and report the risk.

    Prints, per option, the 5th, 50th and 95th percentile of total cost over the
    horizon, the probability of being cheaper than the baseline and of being the
    cheapest, and the median break-even month; writes a report (index.html,
    report.md with its charts, summary.json, paths.csv) to reports/<scenario stem>/.

    \b
    Examples:
      simulate scenarios/logistics.toml
      simulate scenarios/logistics.toml --paths 20000 --seed 0 --json
      simulate scenarios/logistics.toml --set workload.volume_realization=0.5
      simulate scenarios/logistics.toml --precision 0.002
      simulate scenarios/logistics.toml --stress
    """
    from . import load_scenario, run
    from .report.pages import summary_json
    from .report.tables import COLUMNS, summary_rows, text_table
    from .report.writer import ReportWriter

    loaded = load_scenario(scenario, overrides)
    if precision is not None and paths is None:
        paths = PRECISION_PATH_CAP
    # The folder comes from the command line alone (never from the scenario's text).
    folder = out or Path("reports") / Path(scenario).stem
    chunk_size = _plan(
        loaded,
        paths,
        folder=None if no_report else folder,
        path_data=not no_path_data,
        workers=workers,
        chunk_size=chunk_size,
        precision=precision,
        stress=stress,
        max_minutes=max_minutes,
        quiet=quiet,
    )
    writer = None if no_report else ReportWriter(folder, path_data=not no_path_data)
    stderr = sys.stderr
    bar = None
    if not (quiet or as_json) and stderr.isatty():
        bar = ProgressBar(stderr, counting_only=precision is not None)
    with writer or nullcontext(), bar or nullcontext():
        result = run(
            loaded,
            paths=paths,
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            precision=precision,
            path_sink=writer.path_sink if writer else None,
            path_fields=writer.path_fields if writer else None,
            progress=bar,
            stress=stress,
            scheduler=scheduler,
            stress_started=(
                None if bar is None else lambda: bar.note("Stress-testing the volume forecast...")
            ),
        )
        elapsed = result.paths.elapsed_s
        if bar is not None:
            bar.clear()
        if as_json:
            click.echo(summary_json(result), nl=False)
        else:
            click.echo(
                f"{loaded.name}: {result.paths.paths:,} paths, {loaded.horizon_months} months"
            )
            click.echo(text_table(COLUMNS, summary_rows(result)))
            if stress:
                click.echo("")
                click.echo(_stress_text(result))
        if writer is not None:
            if bar is not None:
                bar.note("Writing the report...")
            writer.finish(result, elapsed_s=elapsed)
    if quiet:
        return
    stress_s = result.timings.get("stress_s")
    extra = "" if stress_s is None else f", stress test {stress_s:.1f} s"
    if writer is not None:
        click.echo(
            f"Report: {folder}/index.html (run {elapsed:.1f} s{extra}, "
            f"report {writer.build_s:.1f} s)",
            err=True,
        )
    else:
        click.echo(f"Simulated in {elapsed:.1f} s{extra}", err=True)


def _plan(loaded, paths, *, folder, path_data, workers, chunk_size, precision, stress,
          max_minutes, quiet) -> int | None:  # fmt: skip
    """Check that the run fits this machine before anything starts (see
    :func:`simulator.sizing.plan`), announce a long run's estimate on a terminal, and
    return the chunk size to run with (a smaller one than the default when that one
    would not fit)."""
    from .engine.run import DEFAULT_CHUNK_SIZE
    from .sizing.plan import NOTE_S, plan

    sized = plan(
        loaded,
        paths,
        workers=workers,
        chunk_size=chunk_size,
        report_folder=folder,
        path_data=path_data,
        stress=stress,
        max_seconds=max_minutes * 60 if max_minutes else None,
        precision=precision,
    )
    if not quiet and sized.seconds > NOTE_S and sys.stderr.isatty():
        up_to = "up to " if precision is not None else ""
        click.echo(f"Estimate: {up_to}{sized.describe()} for {sized.paths:,} paths", err=True)
    if chunk_size is None and sized.chunk_size < min(DEFAULT_CHUNK_SIZE, sized.paths):
        return sized.chunk_size
    return chunk_size


def _stress_text(result) -> str:
    """The stress test for the terminal: its finding, the break-even volumes, and what
    drives the most uncertain option's savings."""
    from .report.tables import text_table
    from .report.words.stress import sensitivity_sentence, stress_sentence
    from .scenario.numbers import count, money

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


class ProgressBar:
    """A progress bar on a terminal, given as the engine's ``progress(done, total)``.

    It shows only once a run has taken :attr:`delay` seconds, so short runs print
    nothing; ``counting_only`` shows paths done without a bar (a run to a precision
    does not know how many paths it will need).
    """

    delay = 0.5
    width = 30

    def __init__(self, stream, *, counting_only: bool = False) -> None:
        self.stream = stream
        self.counting_only = counting_only
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.started < self.delay:
            return
        if self.counting_only:
            text = f"Simulating: {done:,} paths so far"
        else:
            filled = round(self.width * done / total) if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"Simulating [{bar}] {done / max(total, 1):4.0%}  {done:,} of {total:,} paths"
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


def main() -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    simulate(prog_name="simulate")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
