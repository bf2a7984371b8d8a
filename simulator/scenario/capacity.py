"""A stack's capacity, given one of two ways, and what the hardware can hold.

A stack gives its throughput either as ``replica_tokens_per_s`` (weighted tokens a
second, an input token weighing ``input_token_weight`` output tokens) or as
``prefill_tokens_per_s`` and ``decode_tokens_per_s`` (input and output tokens a second
a replica processes): a request then takes ``in_tok / prefill + out_tok / decode``
replica-seconds. :func:`request_work` gives the cost models and the sizing one
expression for both.

With a ``gpu`` from :data:`~simulator.scenario.gpus.GPUS` and ``model_params_b``,
:func:`settle_capacity` refuses, while the scenario is read, model weights that do not
fit in 90% of a replica's GPU memory and a throughput above the compute ceiling
``gpus_per_replica * dense TFLOP/s * 1e12 / (2 * model_params_b * 1e9)`` tokens/s (a
token costs two FLOPs per active parameter), and gives ``on_prem`` the GPU's power
as its default ``power_kw_per_gpu``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .distributions import Distribution, Fixed
from .errors import ScenarioError
from .gpus import GPUS, compute_tflops
from .numbers import number

__all__ = ["MEMORY_SHARE", "UPPER_PERCENTILE", "request_work", "settle_capacity", "upper_end"]

MEMORY_SHARE = 0.9
"""Share of a replica's GPU memory the weights may fill: the rest holds the KV cache,
activations and the serving engine's own buffers."""

UPPER_PERCENTILE = 0.999
"""Where the upper end of a throughput without an upper bound is read (lognormal,
normal without ``high``)."""

_THROUGHPUTS = ("replica_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s")
_HARDWARE = ("prefill_tokens_per_s", "decode_tokens_per_s")
_BOTH_WAYS = (
    "give replica_tokens_per_s (with input_token_weight) or prefill_tokens_per_s and "
    "decode_tokens_per_s"
)


def request_work(
    option: Any,
    quantities: Mapping[str, Distribution],
    value: Callable[[str], Any],
    tokens_in,
    tokens_out,
):
    """What one request asks of a replica, and what a replica delivers, in one unit.

    Parameters
    ----------
    option
        A stack option (its ``path`` names its keys).
    quantities
        The scenario's quantities: which way the capacity was given.
    value
        The option's value of a key (a number, or per-path draws).
    tokens_in, tokens_out
        Input and output tokens a request.

    Returns
    -------
    work, rate
        With ``replica_tokens_per_s``: ``in_tok * input_token_weight + out_tok``
        weighted tokens a request, and ``replica_tokens_per_s``. With prefill and
        decode rates: ``in_tok / prefill_tokens_per_s + out_tok / decode_tokens_per_s``
        replica-seconds a request, and 1. Replicas busy on average are
        ``requests a second * work / rate`` either way.
    """
    if option.path("decode_tokens_per_s") in quantities:
        work = tokens_in / value("prefill_tokens_per_s") + tokens_out / value("decode_tokens_per_s")
        return work, 1.0
    return tokens_in * value("input_token_weight") + tokens_out, value("replica_tokens_per_s")


def upper_end(dist: Distribution) -> tuple[float, str]:
    """The largest value a quantity is checked at, and what it is: its upper bound, or
    its :data:`UPPER_PERCENTILE` percentile for a family without one."""
    high = dist.support()[1]
    if math.isfinite(high):
        return high, "its upper end"
    high = float(np.asarray(dist.ppf(np.array([UPPER_PERCENTILE])), dtype=float)[0])
    return high, f"its {UPPER_PERCENTILE * 100:g}th percentile"


def settle_capacity(
    where: str,
    kind: str,
    raw: Mapping[str, Any],
    params: dict[str, Any],
    quantities: dict[str, Distribution],
) -> None:
    """Check a stack's capacity keys as read (``raw``: its table in the file) and
    settle what they imply in ``params`` and ``quantities``.

    Exactly one of the two ways of giving the throughput is refused or kept; with
    prefill and decode rates the unused ``input_token_weight`` default is dropped.
    With a ``gpu`` and ``model_params_b``, weights that do not fit and throughputs
    above the compute ceiling are refused; an ``on_prem`` option without
    ``power_kw_per_gpu`` takes the GPU's power.

    Raises
    ------
    ScenarioError
        Naming the key, its value and the figures it is held to.
    """
    key = lambda name: f"{where}.{name}"  # noqa: E731
    given = [name for name in _HARDWARE if name in raw]
    if "replica_tokens_per_s" in raw and given:
        raise ScenarioError(f"{_BOTH_WAYS}, not both", key=key(given[0]))
    if not given and "replica_tokens_per_s" not in raw:
        raise ScenarioError(f"is required: {_BOTH_WAYS}", key=key("replica_tokens_per_s"))
    if given:
        missing = [name for name in _HARDWARE if name not in raw]
        if missing:
            raise ScenarioError(
                f"is required with {given[0]}: give both rates, or replica_tokens_per_s",
                key=key(missing[0]),
            )
        if "input_token_weight" in raw:
            raise ScenarioError(
                "goes with replica_tokens_per_s only: with prefill_tokens_per_s and "
                "decode_tokens_per_s an input token takes 1 / prefill_tokens_per_s "
                "replica-seconds",
                key=key("input_token_weight"),
            )
        del quantities[key("input_token_weight")]

    gpu_name, params_b = params["gpu"], params["model_params_b"]
    if params_b is not None and gpu_name is None:
        raise ScenarioError(
            f"needs gpu, the GPU it is checked against (one of: {', '.join(GPUS)})",
            key=key("model_params_b"),
        )
    if "weight_bits" in raw and params_b is None:
        raise ScenarioError(
            "needs model_params_b, the model's active parameters in billions",
            key=key("weight_bits"),
        )
    if gpu_name is not None and params_b is not None:
        _check_hardware(where, params, quantities)
    if kind == "on_prem" and "power_kw_per_gpu" not in raw:
        if gpu_name is None:
            raise ScenarioError(
                "is required (or give gpu, whose power it then defaults to)",
                key=key("power_kw_per_gpu"),
            )
        params.pop("power_kw_per_gpu")
        quantities[key("power_kw_per_gpu")] = Fixed(GPUS[gpu_name].power_kw)


def _check_hardware(where: str, params: Mapping[str, Any], quantities: Mapping[str, Any]):
    """Refuse weights that do not fit in a replica's memory, and throughputs above its
    compute ceiling."""
    gpu = GPUS[params["gpu"]]
    count, params_b, bits = (
        params["gpus_per_replica"],
        params["model_params_b"],
        params["weight_bits"],
    )
    weights_gb = params_b * bits / 8
    room_gb = MEMORY_SHARE * count * gpu.memory_gb
    if weights_gb > room_gb:
        raise ScenarioError(
            f"the weights, model_params_b {params_b:g} x weight_bits {bits} / 8 = "
            f"{weights_gb:,.1f} GB, do not fit in {MEMORY_SHARE:.0%} of a replica's GPU "
            f"memory, gpus_per_replica {count} x {gpu.name} {gpu.memory_gb:g} GB x "
            f"{MEMORY_SHARE:g} = {room_gb:,.1f} GB: give more gpus_per_replica, fewer "
            "weight_bits or a larger gpu",
            key=f"{where}.model_params_b",
        )
    tflops, precision = compute_tflops(gpu, bits)
    ceiling = count * tflops * 1e12 / (2 * params_b * 1e9)
    for name in _THROUGHPUTS:
        dist = quantities.get(f"{where}.{name}")
        if dist is None:
            continue
        high, which = upper_end(dist)
        if high > ceiling:
            found = (
                f"{number(high)} tokens/s is"
                if dist.is_fixed
                else f"{dist.describe()} reaches {number(high)} tokens/s at {which},"
            )
            raise ScenarioError(
                f"{found} above the compute ceiling of {number(ceiling)} tokens/s a "
                f"replica: gpus_per_replica {count} x {gpu.name} at {tflops:,g} dense "
                f"{precision} TFLOP/s (weight_bits {bits}) / (2 x model_params_b "
                f"{params_b:g} x 1e9 FLOPs a token)",
                key=f"{where}.{name}",
            )
