"""What every ``simulate`` command shares: one place that turns the library's errors and
the stop signals into a message and an exit status."""

from __future__ import annotations

import os

import click

from ..engine.executor import WorkerLost
from ..scenario.errors import ScenarioError, SimulationError
from ..stops import STATUS, Interrupted, Terminated, stop_caught, stop_in

__all__ = ["Command"]


class Command(click.Command):
    """Translates the library's errors into messages and exit statuses, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (KeyboardInterrupt, Interrupted, Terminated, Exception) as err:
            # A stop may reach here wrapped: Python turns one raised while a class is
            # made (in a field's __set_name__) into a RuntimeError.
            stop = err if isinstance(err, KeyboardInterrupt) else stop_in(err)
            if stop is not None:
                stop_caught()
                # The report writer has removed its staging folder on the way out, so an
                # earlier report is left as it was.
                what = "terminated" if isinstance(stop, Terminated) else "interrupted"
                click.echo(f"simulate: {what}; no report was written", err=True)
                ctx.exit(STATUS.get(type(stop), 130))
            if isinstance(err, (ScenarioError, SimulationError)):
                click.echo(f"simulate: error: {err}", err=True)
                ctx.exit(2)
            if isinstance(err, WorkerLost):
                click.echo(f"simulate: error: {err}; no report was written", err=True)
                ctx.exit(1)
            if os.environ.get("SIMULATOR_DEBUG"):
                raise
            click.echo(
                f"simulate: unexpected failure: {type(err).__name__}: {err} "
                "(set SIMULATOR_DEBUG=1 for a traceback)",
                err=True,
            )
            ctx.exit(1)
