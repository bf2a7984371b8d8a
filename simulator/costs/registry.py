"""The registry of cost models and what every model may call: another option's
costs, the sum of components, a component's total per path.

Kind modules import this module; :mod:`simulator.costs` fills :data:`MODELS` with
them, so that a hybrid or staged option can cost the options it relies on without
an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from ..paths.batch import Batch
from ..scenario.model import Option

__all__ = [
    "MODELS",
    "SERVED",
    "CostModel",
    "option_costs",
    "monthly_total",
    "notes_discarded",
    "per_path_total",
]

CostModel = Callable[[Option, Batch, np.ndarray], dict[str, np.ndarray]]

MODELS: dict[str, CostModel] = {}
"""Option kind to its cost model (filled by :mod:`simulator.costs`)."""

SERVED: dict[str, Callable] = {}
"""``"costs"``: how an option serves several workloads at once,
:func:`simulator.costs.pooled.served_costs` (filled by :mod:`simulator.costs`)."""


def option_costs(
    batch: Batch, name: str, volume: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Monthly cost components of option ``name`` for ``volume`` (default: the batch's).

    On the batch's own volume the costs are worked out once per batch (a staged policy
    reads its stages' costs again) and the option's notes are kept; with several
    workloads they are the option serving all of them (:mod:`.pooled`); on any other
    volume (a hybrid route's share) they are computed afresh and leave no notes.

    Returns
    -------
    dict
        Component name (``"traffic"``, ``"gpus"``, ``"people"`` ...) to a cost that
        broadcasts to ``(months, paths)``.
    """
    option = batch.scenario.options[name]
    model = MODELS[option.kind]
    workloads = tuple(batch.scenario.workloads)
    if workloads and volume is None:
        return batch.cached(f"costs:{name}", lambda: SERVED["costs"](batch, name, workloads))
    if volume is None:
        return batch.cached(f"costs:{name}", lambda: model(option, batch, batch.volume))
    with notes_discarded(batch, name):
        return model(option, batch, volume)


@contextmanager
def notes_discarded(batch: Batch, name: str):
    """Leave the notes of option ``name`` as they were before the block ran (for
    costing it on another volume or another start than its own)."""
    before = batch.notes.get(name)
    before = None if before is None else dict(before)  # notes are added in place
    try:
        yield
    finally:
        if before is None:
            batch.notes.pop(name, None)
        else:
            batch.notes[name] = before


def monthly_total(parts: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The sum of cost components, as one fresh ``(months, paths)`` array."""
    terms = [part for part in parts.values() if isinstance(part, np.ndarray) or part != 0]
    if len(terms) < 2:
        total = np.zeros(shape)
    else:
        # The first two terms make the array: adding them to zeros first is a pass more.
        total = np.add(terms[0], terms[1], out=np.empty(shape))
        terms = terms[2:]
    for part in terms:
        total += part
    return total


def per_path_total(part, shape: tuple[int, int]) -> np.ndarray:
    """A component's total over the months, per path, shape ``(paths,)``.

    ``part`` is a number, a per-path ``(paths,)`` array, a per-month ``(months, 1)``
    array or a full ``(months, paths)`` one.
    """
    months, paths = shape
    part = np.asarray(part, dtype=float)
    if part.ndim == 2:
        return np.broadcast_to(part.sum(axis=0), (paths,))
    return np.broadcast_to(part * months, (paths,))
