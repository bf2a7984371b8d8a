"""Random numbers for the engine: per-block streams, input draws and the copula.

Every random number depends only on (seed entropy, block index, stream name), so a
run's results depend on the scenario, seed and path count alone: not on how paths are
batched or which worker runs a block. With plain Monte Carlo (``sampling = "random"``)
each input has its own stream, so adding an input leaves the others' draws alone;
Latin hypercube and Sobol designs span all inputs of a block at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from ..scenario.copula import copula_matrix
from ..scenario.model import Correlation, Scenario
from ..scenario.special import ndtri, normal_cdf

__all__ = [
    "BLOCK_SIZE",
    "Block",
    "Streams",
    "plan_blocks",
    "sample_inputs",
    "stream_name",
]

BLOCK_SIZE = 4096
"""Paths per block: the unit of seeding. Fixed, so results never depend on batching."""

# Added to generator output in [0, 1) so no uniform is exactly 0: every inverse CDF
# stays finite. The largest output, 1 - 2**-53, plus this rounds (half to even) to
# exactly 1.0, so sums are capped at _BELOW_ONE, the largest double below 1.
_HALF_ULP = 2.0**-54
_BELOW_ONE = 1.0 - 2.0**-53

Block = tuple[int, int]
"""A block of paths: (index, number of paths)."""


def plan_blocks(paths: int) -> list[Block]:
    """Split ``paths`` into fixed-size blocks (the last may be partial)."""
    full, rest = divmod(paths, BLOCK_SIZE)
    blocks = [(i, BLOCK_SIZE) for i in range(full)]
    if rest:
        blocks.append((full, rest))
    return blocks


def _stream_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Named random streams over a batch of blocks.

    Parameters
    ----------
    entropy
        The run's seed (or the entropy recorded for an unseeded run).
    blocks
        The blocks in this batch, in path order.
    """

    def __init__(self, entropy: int, blocks: Sequence[Block]):
        self.entropy = entropy
        self.blocks = tuple(blocks)
        self.size = sum(n for _, n in self.blocks)

    def _generator(self, index: int, name: str) -> np.random.Generator:
        seq = np.random.SeedSequence(self.entropy, spawn_key=(index, _stream_key(name)))
        return np.random.Generator(np.random.PCG64(seq))

    def _draw(
        self, name: str, shape: tuple[int, ...], paths_last: bool, fill, shift: float = 0.0
    ) -> np.ndarray:
        """Numbers from stream ``name`` plus ``shift``, each block's drawn by
        ``fill(generator, out)`` straight into its place or, to be transposed, into one
        reused buffer."""
        out = np.empty((*shape, self.size) if paths_last else (self.size, *shape))
        if paths_last:
            drawn = np.empty((max((n for _, n in self.blocks), default=0), *shape))
        start = 0
        for index, n in self.blocks:
            generator = self._generator(index, name)
            if paths_last:
                fill(generator, drawn[:n])
                if shift:
                    np.add(np.moveaxis(drawn[:n], 0, -1), shift, out=out[..., start : start + n])
                else:
                    out[..., start : start + n] = np.moveaxis(drawn[:n], 0, -1)
            else:
                fill(generator, out[start : start + n])
            start += n
        if shift and not paths_last:
            out += shift
        return out

    def uniform(
        self, name: str, shape: tuple[int, ...] = (), *, paths_last: bool = False
    ) -> np.ndarray:
        """Uniforms in (0, 1) of shape ``(paths, *shape)`` from stream ``name``.

        With ``paths_last`` the same numbers come laid out ``(*shape, paths)`` (one
        contiguous row per month, say), transposed block by block as they are drawn.
        """
        out = self._draw(name, shape, paths_last, lambda g, o: g.random(out=o), _HALF_ULP)
        return np.minimum(out, _BELOW_ONE, out=out)

    def design(self, name: str, method: str, dimensions: int) -> np.ndarray:
        """Uniforms of shape ``(paths, dimensions)`` from a space-filling design, one
        per block: a Latin hypercube (``"lhs"``) or a scrambled Sobol sequence
        (``"sobol"``), each seeded from the block's own stream ``name``."""
        import warnings

        from scipy.stats import qmc  # only for these sampling methods

        engines = {"lhs": qmc.LatinHypercube, "sobol": qmc.Sobol}
        parts = []
        for index, n in self.blocks:
            engine = engines[method](d=dimensions, seed=self._generator(index, name))
            with warnings.catch_warnings():
                # A partial last block is not a power of two: still a valid design.
                warnings.simplefilter("ignore", UserWarning)
                parts.append(engine.random(n))
        return np.clip(np.concatenate(parts), _HALF_ULP, _BELOW_ONE)

    def normal(
        self, name: str, shape: tuple[int, ...] = (), *, paths_last: bool = False
    ) -> np.ndarray:
        """Standard normals of shape ``(paths, *shape)`` from stream ``name``, or laid
        out ``(*shape, paths)`` with ``paths_last`` (see :meth:`uniform`)."""
        return self._draw(name, shape, paths_last, lambda g, o: g.standard_normal(out=o))


def _correlate(uniforms: Mapping[str, np.ndarray], correlations: Sequence[Correlation]):
    names, factor = copula_matrix(correlations)
    z = ndtri(np.column_stack([uniforms[n] for n in names]))
    correlated = normal_cdf(np.einsum("pi,ji->pj", z, factor))
    # Keep uniforms strictly inside (0, 1) after the round trip through the normal.
    correlated = np.clip(correlated, _HALF_ULP, _BELOW_ONE)
    return {n: correlated[:, i] for i, n in enumerate(names)}


def stream_name(scenario: Scenario, path: str) -> str:
    """The stream of the quantity at ``path``: its own path, but for the only workload
    of a scenario of ``[workloads.NAME]`` the ``workload.KEY`` one, so that a one-workload
    portfolio draws what the same ``[workload]`` would."""
    if len(scenario.workloads) == 1:
        prefix = f"workloads.{next(iter(scenario.workloads))}."
        if path.startswith(prefix):
            return "workload." + path[len(prefix) :]
    return path


def sample_inputs(scenario: Scenario, streams: Streams) -> dict[str, np.ndarray]:
    """Draw every uncertain input of ``scenario`` for the paths of ``streams``.

    Returns
    -------
    dict
        Dotted key path to an array of shape ``(paths,)``.
    """
    if scenario.sampling == "random" or not scenario.inputs:
        uniforms = {
            path: streams.uniform(f"input:{stream_name(scenario, path)}")
            for path in scenario.inputs
        }
    else:
        points = streams.design(
            f"design:{scenario.sampling}", scenario.sampling, len(scenario.inputs)
        )
        uniforms = {path: points[:, i] for i, path in enumerate(scenario.inputs)}
    if scenario.correlations:
        uniforms.update(_correlate(uniforms, scenario.correlations))
    return {path: scenario.quantities[path].ppf(u) for path, u in uniforms.items()}
