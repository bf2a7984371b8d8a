"""The ``simulate`` command: parse, call the library, format. Nothing else.

Every error the user can cause surfaces as one line on standard error and exit
status 2; an unexpected failure exits 1. Heavy imports happen inside the command so
``simulate --help`` answers at once.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from ..stops import catch_stop_signals
from ..version import __version__
from .base import Command as _Command
from .inputs import fit_command, init_command

__all__ = ["main", "simulate", "run_command", "sweep_command", "fit_command", "init_command"]

PRECISION_PATH_CAP = 10_000_000
"""Most paths a run to a precision adds unless --paths says otherwise."""

DEFAULT_MAX_MINUTES = 60.0
"""Runs estimated to take longer are refused unless --max-minutes allows them."""


class _Simulate(click.Group):
    """``simulate SCENARIO.toml`` runs a scenario (the ``run`` command, named or not);
    ``simulate sweep SCENARIO.toml --grid ...`` sweeps one."""

    default = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in self.bare):
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    bare = ("-h", "--help", "--version")
    """Arguments the group answers itself."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The default command's help, then the other commands.
        command = self.commands[self.default]
        inner = click.Context(
            command, info_name=ctx.info_name, help_option_names=ctx.help_option_names
        )
        command.format_help(inner, formatter)
        self.format_commands(ctx, formatter)


@click.group(cls=_Simulate, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simulate")
def simulate():
    """Monte Carlo risk simulator for LLM hosting decisions."""


@simulate.command("run", cls=_Command)
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
@click.option(
    "--wide",
    is_flag=True,
    help="Print the whole summary table (cash, p5 and p50 too), however wide, labels unwrapped.",
)
@click.version_option(__version__, prog_name="simulate")
def run_command(
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
    wide,
):
    """Simulate the hosting options of SCENARIO.toml and report the risk.

    Prints, per option, the mean total cost over the horizon (and its NPV when the
    scenario discounts), its 95th percentile, the probability of being cheaper than the
    baseline and of being the cheapest, and the median break-even month, in at most 100
    columns; then the recommendation and any caution. Writes a report (index.html,
    report.md with its charts, summary.json, paths.csv) to reports/<scenario stem>/.

    \b
    Examples:
      simulate scenarios/logistics.toml
      simulate scenarios/logistics.toml --paths 20000 --seed 0 --json
      simulate scenarios/logistics.toml --set workload.volume_realization=0.5
      simulate scenarios/logistics.toml --precision 0.002
      simulate scenarios/logistics.toml --stress
    """
    from .. import load_scenario, run
    from ..report.pages import summary_json
    from ..report.terminal import ProgressBar, stress_text, summary_text
    from ..report.writer import ReportWriter
    from ..scenario.text import printable

    loaded = load_scenario(scenario, overrides)
    if loaded.pinned_correlated_inputs and not quiet:
        pinned = ", ".join(printable(k) for k in loaded.pinned_correlated_inputs)
        click.echo(
            f"simulate: note: {pinned} fixed, so the rank correlations naming it are left out",
            err=True,
        )
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
            click.echo(summary_text(result, wide=wide))
            if stress:
                click.echo("")
                click.echo(stress_text(result))
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
    from ..engine.run import DEFAULT_CHUNK_SIZE
    from ..sizing.plan import NOTE_S, plan

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


@simulate.command("sweep", cls=_Command)
@click.argument("scenario", metavar="SCENARIO.toml")
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A key and its values (split on commas, or one TOML array for values that are "
    "lists or tables); repeatable: every combination runs.",
)
@click.option("--paths", type=click.IntRange(min=1), help="Simulated paths of each combination.")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (0 is a seed).")
@click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE", help="As for a run; repeatable."
)
@click.option("--chunk-size", type=click.IntRange(min=1), help="Paths costed at once.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Combinations run side by side (default: every core).",
)
@click.option("--scheduler", metavar="ADDRESS", help="Run the combinations on this Dask cluster.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (default reports/<scenario stem>-sweep/).",
)
@click.option("--no-report", is_flag=True, help="Write no files; print the table only.")
@click.option("--quiet", is_flag=True, help="No progress bar and no notes on standard error.")
def sweep_command(
    scenario, grids, paths, seed, overrides, chunk_size, workers, scheduler, out, no_report, quiet
):
    """Run SCENARIO.toml at every combination of the --grid values, on the same draws.

    Prints the recommended option and each option's mean total cost per combination;
    writes sweep.csv (one row per combination; sweep.parquet too with pyarrow) and a
    report with a decision map to reports/<scenario stem>-sweep/.

    \b
    Examples:
      simulate sweep scenarios/logistics.toml --grid workload.monthly_growth=0,0.04,0.08
      simulate sweep scenarios/logistics.toml --paths 20000 \\
        --grid workload.monthly_growth=0,0.08 --grid scenario.horizon_months=24,36
    """
    from ..decide.sweep import check_grid, parse_grid, sweep
    from ..report.sweep import SweepWriter
    from ..report.tables import text_table
    from ..report.terminal import ProgressBar
    from ..scenario.load import load_document
    from ..scenario.numbers import money
    from ..scenario.text import printable

    document, source = load_document(scenario, overrides)
    grid = [parse_grid(text) for text in grids]
    check_grid(document, grid, source=source)  # before any file or folder is made
    folder = out or Path("reports") / f"{Path(scenario).stem}-sweep"
    writer = None if no_report else SweepWriter(folder)
    bar = None
    if not quiet and sys.stderr.isatty():
        bar = ProgressBar(sys.stderr, unit="combinations")
    with writer or nullcontext(), bar or nullcontext():
        found = sweep(
            document,
            grid,
            source=source,
            paths=paths,
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            scheduler=scheduler,
            progress=bar,
        )
        if bar is not None:
            bar.clear()
        currency = found.scenario.currency
        header = (*found.keys, "recommended", *(f"{n} mean" for n in found.options))
        rows = [
            (
                *(str(r[k]) for k in found.keys),
                r["recommendation"] or "none allowed",
                *(money(r[f"{n}.mean_total_cost"], currency) for n in found.options),
            )
            for r in found.rows
        ]
        title = printable(found.scenario.name)
        click.echo(f"{title}: {len(rows)} combinations, {found.paths:,} paths each")
        click.echo(text_table(header, rows))
        if writer is not None:
            writer.finish(found)
    if not quiet:
        seconds = found.timings["sweep_s"]
        where = f"Report: {folder}/index.html (" if writer is not None else "Swept in "
        click.echo(f"{where}{seconds:.1f} s{')' if writer is not None else ''}", err=True)


simulate.add_command(fit_command)
simulate.add_command(init_command)


def main() -> None:
    """The ``simulate`` command, with Ctrl-C and SIGTERM stopping it in order."""
    catch_stop_signals()
    simulate(prog_name="simulate")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
