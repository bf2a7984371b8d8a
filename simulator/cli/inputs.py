"""The commands that write inputs rather than run them: ``simulate fit`` (workload keys
from a usage export) and ``simulate init`` (a starting scenario from a few answers)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..scenario.errors import ScenarioError
from .base import Command

__all__ = ["fit_command", "init_command"]


@click.command("fit", cls=Command)
@click.argument("usage", metavar="USAGE.csv")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the fragment to this file (default: standard output, the report to "
    "standard error).",
)
@click.option(
    "--workload", metavar="NAME", help="Write [workloads.NAME], for a portfolio, not [workload]."
)
@click.option(
    "--hours-per-month",
    type=click.FloatRange(min=0, min_open=True, max=744),
    default=730.0,
    show_default=True,
    help="Hours in a month, as the scenario's hours_per_month.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def fit_command(usage, out, workload, hours_per_month, force):
    """Fit workload inputs to USAGE.csv, a usage export.

    One row per request (a time, input and output tokens) gives requests a month,
    the token distributions, within_hour_burst and, from a week of data, a 168-hour
    load_profile. One row per day or month (a date and a request or token count)
    gives monthly_growth with its standard error, and growth_volatility. Writes a
    commented [workload] fragment and prints a fit report.

    \b
    Examples:
      simulate fit usage.csv
      simulate fit requests.csv --out workload.toml
      simulate fit daily.csv --workload support --out support.toml
    """
    from ..fit import fit_usage
    from ..fit.fragment import write_new
    from ..scenario.schema import check_option_name

    if workload is not None:
        try:
            check_option_name(workload, "workloads")
        except ScenarioError as err:
            raise err.with_file("--workload") from None
    fitted = fit_usage(usage, hours_per_month=hours_per_month)
    fragment = fitted.fragment(workload)
    if out is None:
        click.echo(fragment, nl=False)
        click.echo(fitted.report(), err=True)
        return
    write_new(out, fragment, force=force)
    click.echo(fitted.report())
    click.echo(f"Wrote {out}")


CHECK_PATHS = 2_000
"""Paths of the check run of a new scenario: enough to show every column."""


@click.command("init", cls=Command)
@click.argument(
    "file", metavar="[FILE]", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--name", help="The scenario's name.")
@click.option("--requests-per-month", type=click.FloatRange(min=0), help="Requests a month today.")
@click.option(
    "--input-tokens", type=click.FloatRange(min=0), help="Input tokens of a typical request."
)
@click.option(
    "--output-tokens", type=click.FloatRange(min=0), help="Output tokens of a typical request."
)
@click.option(
    "--model",
    metavar="PROVIDER:MODEL",
    help='The API used today, priced from the catalogue ("openai:gpt-4.1"); or give its prices.',
)
@click.option(
    "--input-price", type=click.FloatRange(min=0), help="Its input price per million tokens."
)
@click.option(
    "--output-price", type=click.FloatRange(min=0), help="Its output price per million tokens."
)
@click.option(
    "--growth",
    type=click.FloatRange(min=-1, min_open=True),
    help="Forecast growth a month (0.03 is 3%).",
)
@click.option(
    "--data-may-leave/--data-stays-inside",
    default=None,
    help="Whether the data may go to an outside API.",
)
@click.option(
    "--ops-capacity",
    type=click.Choice(["none", "limited", "dedicated"]),
    help="Who could run GPUs: nobody, a team that runs managed endpoints, a dedicated one.",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--no-check", is_flag=True, help="Write the file without running it once.")
def init_command(file, force, no_check, **given):
    """Write a starting scenario to FILE (default scenario.toml) from a few answers.

    Asks on the terminal for each answer not given as an option (without a terminal,
    takes the default shown there); every other figure is a default with its source
    in a comment. Then runs the scenario once on a few paths to check it.

    \b
    Examples:
      simulate init
      simulate init mine.toml --requests-per-month 2e6 --model openai:gpt-4.1
    """
    from ..fit.fragment import write_new
    from ..scenario.template import Answers, starting_scenario

    defaults = Answers()
    ask = sys.stdin.isatty()
    answers = {}
    questions = {
        "name": ("Name of the scenario", str),
        "requests_per_month": ("Requests a month today", float),
        "input_tokens": ("Input tokens a request", float),
        "output_tokens": ("Output tokens a request", float),
        "growth": ("Forecast growth a month (0.03 is 3%)", float),
    }
    for key, (question, kind) in questions.items():
        field = "monthly_growth" if key == "growth" else key
        value = given[key]
        if value is None and ask:
            value = click.prompt(question, default=getattr(defaults, field), type=kind)
        answers[field] = getattr(defaults, field) if value is None else value
    prices = given["input_price"], given["output_price"]
    if given["model"] is None and None not in prices:
        answers.update(model=None, input_price=prices[0], output_price=prices[1])
    elif given["model"] is None and ask:
        answers["model"] = click.prompt(
            "The API used today (PROVIDER:MODEL)", default=defaults.model
        )
    else:
        answers["model"] = given["model"] or defaults.model
    leave = given["data_may_leave"]
    if leave is None and ask:
        leave = click.confirm("May the data go to an outside API?", default=defaults.data_may_leave)
    answers["data_may_leave"] = defaults.data_may_leave if leave is None else leave
    capacity = given["ops_capacity"]
    if capacity is None and ask:
        capacity = click.prompt(
            "Who could run GPUs (none, limited, dedicated)",
            default=defaults.ops_capacity,
            type=click.Choice(["none", "limited", "dedicated"]),
        )
    answers["ops_capacity"] = capacity or defaults.ops_capacity
    path = file or Path("scenario.toml")
    write_new(path, starting_scenario(Answers(**answers)), force=force)
    click.echo(f"Wrote {path}")
    if no_check:
        return
    from .. import run
    from ..report.terminal import summary_text
    from ..scenario.load import load_scenario

    result = run(load_scenario(path), paths=CHECK_PATHS, seed=0, workers=1)
    click.echo(f"Checked on {CHECK_PATHS:,} paths (run it with more for the answer):")
    click.echo(summary_text(result))
