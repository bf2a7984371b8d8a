"""``python -m simulator`` and the ``simulate`` command: the stop signals get their
handlers before anything heavy is imported, so Ctrl-C at any moment ends in one line."""

import sys

from .stops import STATUS, Interrupted, Terminated, catch_stop_signals, stop_caught, stop_in


def main() -> None:
    """Console entry point."""
    catch_stop_signals()
    try:
        from .cli import main as command

        command()
    except (Interrupted, Terminated, Exception) as error:
        # Before or after the command's own handling; wrapped in a RuntimeError if it
        # came while a class was being made.
        stop = stop_in(error)
        if stop is None:
            raise
        stop_caught()
        what = "terminated" if isinstance(stop, Terminated) else "interrupted"
        sys.stderr.write(f"simulate: {what}\n")
        sys.exit(STATUS[type(stop)])


if __name__ == "__main__":  # pragma: no cover
    main()
