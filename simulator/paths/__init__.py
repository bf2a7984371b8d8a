"""The sampled paths: random streams and designs, blocks of paths, realized volume,
and the :class:`~simulator.paths.batch.Batch` a cost model reads its draws from."""
