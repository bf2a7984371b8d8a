"""Capacity from the hardware (scenario-format.md section 9): prefill and decode rates,
the GPU table, weights that must fit and throughputs held to the compute ceiling.

Every expected number comes from a hand calculation in the comments; the small
scenario serves 1 request a second (2,628,000 a month over 730 hours) of 1000 input
and 200 output tokens, with no variance.
"""

from __future__ import annotations

import copy
import math
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import ScenarioError, parse_scenario, run
from simulator.cli import simulate
from simulator.scenario.capacity import upper_end
from simulator.scenario.distributions import Lognormal, Normal, Uniform
from simulator.scenario.gpus import GPUS, compute_tflops
from simulator.sizing.magnitudes import check_magnitudes

from .conftest import ROOT


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-6)


API = {"kind": "api", "input_price_per_mtok": 2.0, "output_price_per_mtok": 8.0}

# A request takes 1000 / 5000 + 200 / 500 = 0.2 + 0.4 = 0.6 replica-seconds. At 1
# request a second, 0.6 replicas are busy on average; at max_utilization 0.5 that is
# 1.2 replicas.
HARDWARE = {
    "kind": "self_hosted",
    "gpus_per_replica": 2,
    "prefill_tokens_per_s": 5000,
    "decode_tokens_per_s": 500,
    "max_utilization": 0.5,
    "min_replicas": 0,
    "gpu_hourly_usd": 1.0,
}
# The same stack as weighted tokens: a request of in_tok input and out_tok output tokens
# takes in_tok / prefill + out_tok / decode = (in_tok * (decode / prefill) + out_tok) /
# decode replica-seconds, so replica_tokens_per_s = decode = 500 and input_token_weight
# = decode / prefill = 500 / 5000 = 0.1: (1000 * 0.1 + 200) / 500 = 0.6 replica-seconds.
WEIGHTED = {
    **{k: v for k, v in HARDWARE.items() if not k.endswith("_tokens_per_s")},
    "replica_tokens_per_s": 500,
    "input_token_weight": 0.1,
}


def scenario(options: dict, months: int = 12) -> dict:
    return {
        "scenario": {"name": "capacity", "horizon_months": months, "paths": 3, "seed": 5},
        "workload": {
            "requests_per_month": 2_628_000,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
        },
        "options": {"api": API, **options},
    }


def breakdowns(document: dict) -> dict[str, dict[str, float]]:
    summary = run(parse_scenario(document)).to_dict()
    return {name: o["breakdown"] for name, o in summary["options"].items()}


def error(document: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    return info.value


# ---------------------------------------------------------------------------
# Prefill and decode rates


@pytest.mark.parametrize("provisioning", ["peak", "autoscale"])
def test_prefill_and_decode_cost_what_the_equivalent_weighted_tokens_cost(provisioning):
    extra = {"provisioning": provisioning, "autoscale_overhead": 1.25}
    b = breakdowns(scenario({"hw": {**HARDWARE, **extra}, "weighted": {**WEIGHTED, **extra}}))
    # Peak: ceil(1.2) = 2 replicas * 2 GPUs * 730 h * $1 = $2,920 a month.
    # Autoscale: 1.2 * 1.25 = 1.5 replicas * 2 GPUs * 730 h * $1 = $2,190 a month.
    monthly = 2_920 if provisioning == "peak" else 2_190
    assert b["hw"]["gpus"] == approx(monthly * 12)
    assert b["weighted"] == {k: approx(v) for k, v in b["hw"].items()}


def test_escalations_take_no_replica_seconds():
    # 20% escalated to the api: 0.8 * 0.6 = 0.48 replica-seconds a second, / 0.5 =
    # 0.96 replicas at the peak -> 1 replica: 1 * 2 * 730 = $1,460 a month. The api
    # carries 0.2 of the traffic: 0.2 * 2,628,000 * (1000 * 2 + 200 * 8) / 1e6 =
    # 0.2 * 9,460.80 = $1,892.16 a month.
    b = breakdowns(scenario({"hw": {**HARDWARE, "escalation_rate": 0.2, "fallback": "api"}}))
    assert b["hw"]["gpus"] == approx(1_460 * 12)
    assert b["hw"]["fallback"] == approx(1_892.16 * 12)


def test_the_magnitude_check_reads_prefill_and_decode():
    check_magnitudes(parse_scenario(scenario({"hw": HARDWARE})))
    # 1,000% growth a month for 60 months overflows whichever way capacity is given.
    document = scenario({"hw": HARDWARE}, months=600)
    document["workload"]["monthly_growth"] = 10.0
    with pytest.raises(ScenarioError):
        check_magnitudes(parse_scenario(document))


CAPACITY_ERRORS = {
    "neither way": (
        lambda o: [o.pop(k) for k in ("prefill_tokens_per_s", "decode_tokens_per_s")],
        "replica_tokens_per_s",
        "is required: give replica_tokens_per_s (with input_token_weight) or "
        "prefill_tokens_per_s and decode_tokens_per_s",
    ),
    "both ways": (
        lambda o: o.update(replica_tokens_per_s=500),
        "prefill_tokens_per_s",
        "not both",
    ),
    "prefill alone": (
        lambda o: o.pop("decode_tokens_per_s"),
        "decode_tokens_per_s",
        "is required with prefill_tokens_per_s",
    ),
    "decode alone": (
        lambda o: o.pop("prefill_tokens_per_s"),
        "prefill_tokens_per_s",
        "is required with decode_tokens_per_s",
    ),
    "a weight with the rates": (
        lambda o: o.update(input_token_weight=0.1),
        "input_token_weight",
        "goes with replica_tokens_per_s only",
    ),
    "params without a gpu": (
        lambda o: o.update(model_params_b=8),
        "model_params_b",
        "needs gpu",
    ),
    "bits without params": (
        lambda o: o.update(gpu="H100", weight_bits=8),
        "weight_bits",
        "needs model_params_b",
    ),
    "bits not in the list": (
        lambda o: o.update(gpu="H100", model_params_b=8, weight_bits=12),
        "weight_bits",
        "must be one of: 16, 8, 4, got 12",
    ),
    "an unknown gpu": (
        lambda o: o.update(gpu="H100-SXM"),
        "gpu",
        "did you mean 'H100'? Expected one of: " + ", ".join(GPUS),
    ),
}


@pytest.mark.parametrize("case", sorted(CAPACITY_ERRORS))
def test_capacity_keys_are_refused_in_one_line_naming_the_key(case):
    change, key, message = CAPACITY_ERRORS[case]
    option = copy.deepcopy(HARDWARE)
    change(option)
    found = error(scenario({"hw": option}))
    assert found.key == f"options.hw.{key}"
    assert message in found.message
    assert "\n" not in str(found)


# ---------------------------------------------------------------------------
# The GPU table


def test_compute_figures_by_precision():
    # 16-bit: BF16; 8-bit: FP8 where the GPU has it; 4-bit: FP4, else FP8, else BF16.
    assert compute_tflops(GPUS["H100"], 16) == (989.4, "BF16")
    assert compute_tflops(GPUS["H100"], 8) == (1978.9, "FP8")
    assert compute_tflops(GPUS["H100"], 4) == (1978.9, "FP8")
    assert compute_tflops(GPUS["B200"], 4) == (9000, "FP4")
    assert compute_tflops(GPUS["A100-80GB"], 8) == (312, "BF16")
    assert compute_tflops(GPUS["A10G"], 4) == (125, "BF16")


def test_the_table_holds_the_gpus_the_contract_names_with_their_sources():
    assert {"A10G", "L40S", "A100-80GB", "H100", "H200", "B200"} <= set(GPUS)
    for gpu in GPUS.values():
        assert gpu.memory_gb > 0 and gpu.bandwidth_tb_s > 0 and gpu.power_kw > 0
        assert gpu.bf16_tflops > 0 and re.fullmatch(r"20\d\d", gpu.published)
        assert "data" in gpu.source.lower()
        # A narrower precision runs faster, never slower.
        if gpu.fp8_tflops is not None:
            assert gpu.fp8_tflops > gpu.bf16_tflops
        if gpu.fp4_tflops is not None:
            assert gpu.fp8_tflops is not None and gpu.fp4_tflops > gpu.fp8_tflops


def test_parameter_sources_show_the_table_as_the_code_has_it():
    page = (ROOT / "docs" / "parameter-sources.md").read_text(encoding="utf-8")
    dash = lambda x: "none" if x is None else f"{x:,g}"  # noqa: E731
    for gpu in GPUS.values():
        row = next(
            (line for line in page.splitlines() if line.startswith(f"| `{gpu.name}` |")), None
        )
        assert row is not None, f"{gpu.name} is not in docs/parameter-sources.md"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1:8] == [
            f"{gpu.memory_gb:g} GB",
            f"{gpu.bandwidth_tb_s:g} TB/s",
            dash(gpu.bf16_tflops),
            dash(gpu.fp8_tflops),
            dash(gpu.fp4_tflops),
            f"{gpu.power_kw * 1000:,g} W",
            f"{gpu.source}, {gpu.published}",
        ], gpu.name


# ---------------------------------------------------------------------------
# Weights in memory


def with_gpu(gpu="H100", count=1, params_b=70.0, bits=16, **rates) -> dict:
    option = {**HARDWARE, "gpu": gpu, "gpus_per_replica": count, "model_params_b": params_b}
    option |= {"weight_bits": bits, **rates}
    return scenario({"hw": option})


def test_weights_that_do_not_fit_are_refused_with_their_figures():
    # 70B at 16 bits: 70 * 16 / 8 = 140 GB; one H100 holds 0.9 * 80 = 72 GB of weights.
    found = error(with_gpu(count=1, params_b=70, bits=16))
    assert found.key == "options.hw.model_params_b"
    for figure in ("model_params_b 70", "weight_bits 16", "140.0 GB", "gpus_per_replica 1",
                   "H100 80 GB", "72.0 GB"):  # fmt: skip
        assert figure in found.message
    # Two H100s hold 144 GB: 140 GB fits. So does 70B at 8 bits (70 GB) on one.
    parse_scenario(with_gpu(count=2, params_b=70, bits=16))
    parse_scenario(with_gpu(count=1, params_b=70, bits=8))
    # Exactly 90%: 72B at 8 bits = 72 GB on one H100 fits; a tenth of a billion more not.
    parse_scenario(with_gpu(count=1, params_b=72, bits=8))
    assert error(with_gpu(count=1, params_b=72.1, bits=8)).key == "options.hw.model_params_b"


# ---------------------------------------------------------------------------
# The compute ceiling


def test_the_ceiling_of_two_h100s_for_a_70b_model_at_fp8():
    # 2 * 1,978.9e12 FLOP/s / (2 * 70e9 FLOPs a token) = 28,270 tokens/s.
    ceiling = 2 * 1978.9e12 / (2 * 70e9)
    assert ceiling == pytest.approx(28_270)
    parse_scenario(with_gpu(count=2, bits=8, prefill_tokens_per_s=28_000))
    found = error(with_gpu(count=2, bits=8, prefill_tokens_per_s=28_500))
    assert found.key == "options.hw.prefill_tokens_per_s"
    assert found.message.startswith("28,500 tokens/s is above the compute ceiling of 28,270")
    for figure in ("gpus_per_replica 2", "H100 at 1,978.9 dense FP8 TFLOP/s", "model_params_b 70"):
        assert figure in found.message


def test_a_range_is_held_to_its_upper_end_and_an_unbounded_one_to_its_999th_percentile():
    # Uniform: its high. Lognormal (p5, p95): exp(mu + sigma * z), z = 3.0902 at 99.9%,
    # mu = (ln p5 + ln p95) / 2, sigma = (ln p95 - ln p5) / (2 * 1.6449).
    assert upper_end(Uniform(1, 7)) == (7, "its upper end")
    mu = (math.log(8000) + math.log(18000)) / 2
    sigma = (math.log(18000) - math.log(8000)) / (2 * 1.6448536269514722)
    high, which = upper_end(Lognormal(8000, 18000))
    assert high == pytest.approx(math.exp(mu + sigma * 3.090232306167813), rel=1e-9)
    assert which == "its 99.9th percentile"
    assert upper_end(Normal(100, 10, low=0))[0] == pytest.approx(100 + 10 * 3.090232306167813)
    # 2 H100s, 70B, FP8: ceiling 28,270; a lognormal 8,000-20,000 reaches 29,914 there.
    spread = {"dist": "lognormal", "p5": 8000, "p95": 20000}
    found = error(with_gpu(count=2, bits=8, prefill_tokens_per_s=spread))
    assert "reaches 29,914 tokens/s at its 99.9th percentile" in found.message


THROUGHPUTS = ("replica_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s")


@st.composite
def hardware(draw):
    """A GPU, a replica of it and a model whose weights fit, with its ceiling."""
    gpu = GPUS[draw(st.sampled_from(sorted(GPUS)))]
    count = draw(st.integers(1, 8))
    bits = draw(st.sampled_from([16, 8, 4]))
    most = 0.9 * count * gpu.memory_gb * 8 / bits  # billions of parameters that fit
    params_b = draw(st.floats(0.5, most))
    tflops, _ = compute_tflops(gpu, bits)
    return gpu.name, count, bits, params_b, count * tflops * 1e12 / (2 * params_b * 1e9)


def throughput_at(key: str, top: float, shape: str) -> dict:
    """Rates whose ``key`` reaches ``top`` (as a number, a uniform's high or a
    lognormal's 99.9th percentile); the other rates far below."""
    if shape == "fixed":
        value = top
    elif shape == "uniform":
        value = {"dist": "uniform", "low": top / 3, "high": top}
    else:  # p95 = p5 * 2: sigma = ln 2 / 3.29; 99.9th = p95 * exp(sigma * (3.09 - 1.645))
        p95 = top / math.exp(math.log(2) / (2 * 1.6448536269514722) * (3.0902 - 1.6449))
        value = {"dist": "lognormal", "p5": p95 / 2, "p95": p95}
    low = top / 1000
    if key == "replica_tokens_per_s":
        return {"replica_tokens_per_s": value}
    other = "decode_tokens_per_s" if key == "prefill_tokens_per_s" else "prefill_tokens_per_s"
    return {key: value, other: low}


def with_rates(gpu, count, bits, params_b, rates: dict) -> dict:
    option = {k: v for k, v in HARDWARE.items() if not k.endswith("_tokens_per_s")}
    option |= {"gpu": gpu, "gpus_per_replica": count, "model_params_b": params_b}
    return scenario({"hw": {**option, "weight_bits": bits, **rates}})


@settings(max_examples=150, deadline=None)
@given(
    hardware(),
    st.sampled_from(THROUGHPUTS),
    st.sampled_from(["fixed", "uniform", "lognormal"]),
    st.floats(1.01, 1000),
)
def test_any_throughput_above_the_ceiling_is_refused_naming_its_key(machine, key, shape, over):
    gpu, count, bits, params_b, ceiling = machine
    found = error(with_rates(gpu, count, bits, params_b, throughput_at(key, ceiling * over, shape)))
    assert found.key == f"options.hw.{key}"
    assert "above the compute ceiling" in found.message and gpu in found.message
    assert "\n" not in str(found)


@settings(max_examples=100, deadline=None)
@given(
    hardware(),
    st.sampled_from(THROUGHPUTS),
    st.sampled_from(["fixed", "uniform", "lognormal"]),
    st.floats(0.001, 0.99),
)
def test_throughputs_within_the_ceiling_are_accepted(machine, key, shape, under):
    gpu, count, bits, params_b, ceiling = machine
    parse_scenario(
        with_rates(gpu, count, bits, params_b, throughput_at(key, ceiling * under, shape))
    )


def test_a_refused_throughput_exits_2_with_one_line(tmp_path):
    path = tmp_path / "too_fast.toml"
    path.write_text(
        """
[scenario]
name = "too fast"
[workload]
requests_per_month = 1000
input_tokens_per_request = 100
output_tokens_per_request = 10
[options.api]
kind = "api"
input_price_per_mtok = 1
output_price_per_mtok = 1
[options.sh]
kind = "self_hosted"
gpu = "L40S"
model_params_b = 8
replica_tokens_per_s = 50000
gpu_hourly_usd = 1
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(simulate, [str(path), "--paths", "100", "--quiet"])
    assert result.exit_code == 2, result.output
    # 1 * 362.05e12 / (2 * 8e9) = 22,628 tokens/s at BF16 (weight_bits 16 by default).
    assert result.stderr == (
        f"simulate: error: {path}: options.sh.replica_tokens_per_s: 50,000 tokens/s is "
        "above the compute ceiling of 22,628 tokens/s a replica: gpus_per_replica 1 x L40S "
        "at 362.05 dense BF16 TFLOP/s (weight_bits 16) / (2 x model_params_b 8 x 1e9 FLOPs "
        "a token)\n"
    )


# ---------------------------------------------------------------------------
# Owned GPUs draw the GPU's power


OWNED = {
    "kind": "on_prem",
    "prefill_tokens_per_s": 10_000,
    "decode_tokens_per_s": 1_000,
    "gpu_purchase_usd": 30_000,
    "electricity_usd_per_kwh": 0.12,
    "gpus_per_server": 1,
}


def test_on_prem_power_defaults_to_the_gpus():
    # A request takes 1000 / 10,000 + 200 / 1000 = 0.3 replica-seconds: at 1 request a
    # second, ceil(0.3) = 1 replica (min_replicas 1) of 1 GPU. An H100 draws 0.7 kW:
    # 1 GPU * 0.7 kW * 730 h * PUE 1 * $0.12 = $61.32 a month.
    b = breakdowns(
        scenario(
            {
                "gpu": {**OWNED, "gpu": "H100", "model_params_b": 8},
                "given": {**OWNED, "power_kw_per_gpu": 0.7},
                "own_figure": {**OWNED, "gpu": "H100", "power_kw_per_gpu": 1.0},
            }
        )
    )
    assert b["gpu"]["energy"] == approx(61.32 * 12)
    assert b["given"] == {k: approx(v) for k, v in b["gpu"].items()}
    # A figure given wins over the GPU's: 1.0 kW -> $87.60 a month.
    assert b["own_figure"]["energy"] == approx(87.60 * 12)


def test_on_prem_power_is_required_without_a_gpu():
    found = error(scenario({"owned": OWNED}))
    assert found.key == "options.owned.power_kw_per_gpu"
    assert found.message == "is required (or give gpu, whose power it then defaults to)"
