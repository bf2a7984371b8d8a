"""What every ``simulate`` command shares: one place that turns the library's errors and
the stop signals into a message and an exit status."""

from __future__ import annotations

import os

import click

from ..engine.executor import WorkerLost
from ..scenario.errors import ScenarioError, SimulationError
from ..stops import STATUS, Interrupted, Terminated, stop_caught

__all__ = ["Command"]


class Command(click.Command):
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
        except (KeyboardInterrupt, Interrupted, Terminated) as stop:
            stop_caught()
            # The report writer has removed its staging folder on the way out, so an
            # earlier report is left as it was.
            what = "terminated" if isinstance(stop, Terminated) else "interrupted"
            click.echo(f"simulate: {what}; no report was written", err=True)
            ctx.exit(STATUS.get(type(stop), 130))
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
