"""Per-path arrays as a pandas table: one row per path, its inputs and totals.

The same columns as the report's ``paths.csv`` and ``paths.parquet``. pandas is
imported only here, when a table is asked for: a plain run never pays its import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["PATH_COLUMNS", "path_columns", "path_frame"]

PATH_COLUMNS = ("input:", "total:")
"""Prefixes of the per-path arrays a path table holds, in column order."""


def path_columns(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The names in ``arrays`` that a path table holds: every sampled input
    (``input:KEY``), then every option's total (``total:NAME``), each in run order."""
    return [key for prefix in PATH_COLUMNS for key in arrays if key.startswith(prefix)]


def path_frame(arrays: Mapping[str, np.ndarray], first: int = 0) -> pd.DataFrame:
    """One row per path: the sampled inputs and every option's total cost.

    Parameters
    ----------
    arrays
        Per-path arrays named as in :attr:`simulator.engine.run.PathResults.record`
        (other names are left out).
    first
        Index of the first path (a batch that does not start the run).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``path``; columns ``input:KEY`` and ``total:NAME``.
    """
    import pandas as pd

    columns = path_columns(arrays)
    count = len(arrays[columns[0]]) if columns else 0
    index = pd.RangeIndex(first, first + count, name="path")
    return pd.DataFrame({key: np.asarray(arrays[key]) for key in columns}, index=index)
