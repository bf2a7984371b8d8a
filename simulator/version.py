"""The simulator's version, below every layer: reports and the command line print it."""

__version__ = "0.1.0"
