"""The Gaussian copula behind ``[[correlations]]``.

Validation builds it to refuse rank correlations that cannot hold together; sampling
uses the same factor to correlate the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import Correlation

__all__ = ["copula_matrix"]


def copula_matrix(correlations: Sequence[Correlation]) -> tuple[tuple[str, ...], np.ndarray]:
    """Names and a factor ``L`` (``L @ L.T = R``) of the Gaussian copula.

    Rank correlations become Pearson correlations of the underlying normals through
    ``r = 2 sin(pi * rho / 6)``, which makes the achieved Spearman equal the target for
    continuous margins.

    Raises
    ------
    numpy.linalg.LinAlgError
        When the targets cannot hold together (the matrix is not positive semidefinite).
    """
    names: list[str] = []
    for c in correlations:
        names.extend(n for n in c.between if n not in names)
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    for c in correlations:
        i, j = index[c.between[0]], index[c.between[1]]
        r[i, j] = r[j, i] = 2 * np.sin(np.pi * c.rank / 6)
    eigenvalues, vectors = np.linalg.eigh(r)
    if eigenvalues.min() < -1e-10:
        raise np.linalg.LinAlgError("correlation matrix is not positive semidefinite")
    return tuple(names), vectors * np.sqrt(np.clip(eigenvalues, 0, None))
