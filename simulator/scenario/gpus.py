"""The GPU table: what a scenario's ``gpu`` key names, and what its figures bound.

Every figure is the vendor's published data-sheet figure for one GPU, *dense* (the
data sheets print tensor throughput "with sparsity", twice the dense figure; only the
dense one applies to serving a dense model). A scenario's ``gpu`` takes its memory to
check that the weights fit, its TFLOP/s at the weights' precision for the compute
ceiling of a throughput, and its power as ``on_prem``'s default ``power_kw_per_gpu``.
docs/parameter-sources.md shows the same table with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GPU", "GPUS", "WEIGHT_BITS", "compute_tflops"]

WEIGHT_BITS: tuple[int, ...] = (16, 8, 4)
"""The precisions a scenario's ``weight_bits`` may give, in bits per weight."""


@dataclass(frozen=True)
class GPU:
    """One GPU's published figures (dense tensor throughput, no sparsity).

    ``fp8_tflops`` and ``fp4_tflops`` are ``None`` for a GPU without that precision
    in hardware; ``source`` names the data sheet and ``published`` its date.
    """

    name: str
    memory_gb: float
    bandwidth_tb_s: float
    bf16_tflops: float
    fp8_tflops: float | None
    fp4_tflops: float | None
    power_kw: float
    source: str
    published: str


# name | memory GB | bandwidth TB/s | dense TFLOP/s BF16, FP8, FP4 ("-": none) | power kW |
# data sheet | its date. AWS publishes no figures of its A10G, a variant of the A10 run at
# lower clocks: the A10's figures bound it from above.
_TABLE = """
A10G     | 24|  0.6|   125|     -|   -|0.15|NVIDIA A10 Tensor Core GPU datasheet       |2021
L40S     | 48|0.864|362.05|   733|   -|0.35|NVIDIA L40S GPU datasheet                  |2023
A100-80GB| 80|2.039|   312|     -|   -| 0.4|NVIDIA A100 Tensor Core GPU datasheet (SXM)|2021
H100     | 80| 3.35| 989.4|1978.9|   -| 0.7|NVIDIA H100 Tensor Core GPU datasheet (SXM)|2023
H200     |141|  4.8| 989.4|1978.9|   -| 0.7|NVIDIA H200 Tensor Core GPU datasheet (SXM)|2024
B200     |180|  8.0|  2250|  4500|9000| 1.0|NVIDIA DGX B200 and HGX B200 datasheets    |2024
MI300X   |192|  5.3|1307.4|2614.9|   -|0.75|AMD Instinct MI300X data sheet             |2023
"""


def _read(line: str) -> GPU:
    name, memory, bandwidth, bf16, fp8, fp4, power, source, published = (
        cell.strip() for cell in line.split("|")
    )
    maybe = lambda cell: None if cell == "-" else float(cell)  # noqa: E731
    return GPU(
        name, float(memory), float(bandwidth), float(bf16), maybe(fp8), maybe(fp4),
        float(power), source, published,
    )  # fmt: skip


GPUS: dict[str, GPU] = {gpu.name: gpu for gpu in map(_read, _TABLE.strip().splitlines())}
"""The GPUs a scenario's ``gpu`` may name, by name, in the order the docs list them."""


def compute_tflops(gpu: GPU, weight_bits: int) -> tuple[float, str]:
    """The dense TFLOP/s a GPU multiplies weights of ``weight_bits`` at, and the
    precision's name.

    16-bit weights run at BF16; 8-bit at FP8; 4-bit at FP4 where the GPU has it, else
    FP8. A GPU without FP8 (A10G, A100) dequantizes 8- and 4-bit weights and
    multiplies at BF16, as weight-only quantization does there.

    >>> compute_tflops(GPUS["B200"], 4)
    (9000, 'FP4')
    >>> compute_tflops(GPUS["A100-80GB"], 8)
    (312, 'BF16')
    """
    if weight_bits <= 4 and gpu.fp4_tflops is not None:
        return gpu.fp4_tflops, "FP4"
    if weight_bits <= 8 and gpu.fp8_tflops is not None:
        return gpu.fp8_tflops, "FP8"
    return gpu.bf16_tflops, "BF16"
