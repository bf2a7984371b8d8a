"""A starting scenario from a few answers (``simulate init``).

The answers are the figures only the user knows (volume, tokens, the model used today
or its prices, growth, whether data may leave the perimeter, operations capacity);
every other figure is a default with its source in a comment, the same as the shipped
scenarios use, so the file runs as written and reads as a first draft to correct.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["Answers", "starting_scenario"]


@dataclass(frozen=True)
class Answers:
    """What ``simulate init`` asks.

    Attributes
    ----------
    name
        The scenario's name.
    requests_per_month, input_tokens, output_tokens
        Today's volume and the tokens of a typical request.
    model
        ``"PROVIDER:MODEL"`` of the API used today (prices from the catalogue), or
        ``None`` to give ``input_price``/``output_price`` per million tokens.
    monthly_growth
        The forecast growth a month (``0.03`` is 3%).
    data_may_leave
        Whether the data may go to an outside API.
    ops_capacity
        ``"none"``, ``"limited"`` or ``"dedicated"``: who could run GPUs.
    """

    name: str = "My LLM workload"
    requests_per_month: float = 1_000_000
    input_tokens: float = 1000
    output_tokens: float = 200
    model: str | None = "openai:gpt-4.1"
    input_price: float = 2.0
    output_price: float = 8.0
    monthly_growth: float = 0.03
    data_may_leave: bool = True
    ops_capacity: str = "limited"


def _text(value: str) -> str:
    # A JSON string is a valid TOML basic string: quotes, backslashes and control
    # characters come out escaped.
    return json.dumps(value, ensure_ascii=False)


def _number(x: float) -> str:
    return f"{int(x):_}" if float(x).is_integer() and abs(x) >= 1000 else f"{x:g}"


def starting_scenario(answers: Answers) -> str:
    """The TOML text of a starting scenario for ``answers``."""
    a = answers
    if a.model is not None:
        prices = f"model = {_text(a.model)}  # list prices from the genai-prices catalogue"
    else:
        prices = (
            f"input_price_per_mtok = {_number(a.input_price)}\n"
            f"output_price_per_mtok = {_number(a.output_price)}"
        )
    fallback = 'fallback = "api"' if a.data_may_leave else "# no fallback: the data stays inside"
    escalation = (
        'escalation_rate = { dist = "uniform", low = 0.02, high = 0.08 }'
        if a.data_may_leave
        else "escalation_rate = 0.0"
    )
    return f"""\
# A starting scenario written by `simulate init`: the figures you gave, and for the rest
# defaults with their sources (docs/parameter-sources.md). Correct each default you
# know better; docs/writing-a-scenario.md explains every table.
[scenario]
name = {_text(a.name)}
horizon_months = 36
discount_rate = 0.08          # an assumed annual cost of capital, for the NPV column
baseline = "api"

[workload]
# Your figures: today's volume and a typical request.
requests_per_month = {_number(a.requests_per_month)}
input_tokens_per_request = {_number(a.input_tokens)}
output_tokens_per_request = {_number(a.output_tokens)}
monthly_growth = {a.monthly_growth:g}
# Forecasts run optimistic (seed 002): realized growth is drawn below the forecast more
# often than above, the level within -30%/+10% of it.
growth_realization = {{ dist = "pert", low = 0.3, mode = 0.85, high = 1.15 }}
volume_realization = {{ dist = "pert", low = 0.7, mode = 0.95, high = 1.1 }}
growth_volatility = {{ dist = "uniform", low = 0.02, high = 0.08 }}
# Peak hour over the average: 2-5 for interactive traffic, near 1 for batch
# (parameter-sources.md).
peak_to_average = {{ dist = "triangular", low = 1.5, mode = 2.5, high = 4.0 }}

[business]
# What an unserved hour costs the business (assumed): set your own.
downtime_cost_per_hour = {{ dist = "uniform", low = 100, high = 1000 }}

[requirements]
data_residency = {"false" if a.data_may_leave else "true"}
ops_capacity = {_text(a.ops_capacity)}

[options.api]
kind = "api"
label = "The API used today"
{prices}
# Price at equal capability falls fast; a given model's list price slower (a16z
# "LLMflation", Epoch AI): between flat and -40% a year.
annual_price_change = {{ dist = "pert", low = -0.4, mode = -0.15, high = 0.0 }}
uptime = 0.999                # provider SLA (AWS Bedrock, Azure OpenAI)

[options.hosted_open]
kind = "api"
label = "Hosted open model (70B class)"
# Llama 3.x 70B hosted: Together $0.88/$0.88, Groq $0.59/$0.79, cheaper hosts near
# $0.2-0.4 per million tokens (providers' price pages, 2025-2026).
input_price_per_mtok = {{ dist = "lognormal", p5 = 0.2, p95 = 0.88 }}
output_price_per_mtok = {{ dist = "lognormal", p5 = 0.3, p95 = 0.9 }}
annual_price_change = {{ dist = "pert", low = -0.6, mode = -0.25, high = 0.0 }}
uptime = {{ dist = "uniform", low = 0.995, high = 0.999 }}
fallback = "api"
# A 70B open model trails the frontier on hard cases (seed 000: 4 points on a narrow
# task); those go to the API.
escalation_rate = {{ dist = "uniform", low = 0.02, high = 0.08 }}
migration_months = {{ dist = "triangular", low = 0.5, mode = 1.0, high = 1.5 }}
migration_cost_usd = {{ dist = "uniform", low = 10000, high = 40000 }}

[options.self_hosted]
kind = "self_hosted"
label = "Self-hosted 70B on rented H100s"
data_leaves_perimeter = false
# Llama 70B at FP8 on 2xH100: decode 1,500-4,500 output tokens/s a replica, prefill
# 7,000-19,000 (TensorRT-LLM and vLLM measurements, parameter-sources.md).
gpus_per_replica = 2
gpu = "H100"
model_params_b = 70
weight_bits = 8
decode_tokens_per_s = {{ dist = "triangular", low = 1500, mode = 3000, high = 4500 }}
prefill_tokens_per_s = {{ dist = "triangular", low = 7000, mode = 12000, high = 19000 }}
max_utilization = {{ dist = "uniform", low = 0.6, high = 0.8 }}
min_replicas = 2              # seed 000: one GPU is not a production deployment
spare_replicas = 1
# H100 on demand $2.0-4.0 an hour (parameter-sources.md; seed 001: $2.50-3.50).
gpu_hourly_usd = {{ dist = "triangular", low = 1.8, mode = 2.5, high = 3.5 }}
annual_gpu_price_change = {{ dist = "pert", low = -0.3, mode = -0.15, high = 0.0 }}
infra_monthly_usd = {{ dist = "uniform", low = 1000, high = 3000 }}   # seed 001
# Seed 000: two ML platform engineers at $300k a year fully loaded; tech attrition
# 10-25% a year, 1.5-6 months to fill a seat (parameter-sources.md).
engineers = 2
engineer_annual_cost = {{ dist = "pert", low = 240000, mode = 300000, high = 360000 }}
annual_attrition = {{ dist = "triangular", low = 0.10, mode = 0.15, high = 0.25 }}
vacancy_months = {{ dist = "triangular", low = 1.5, mode = 3, high = 6 }}
# Seed 000: six months to build; a model upgrade about every six months.
setup_months = {{ dist = "triangular", low = 4, mode = 6, high = 9 }}
setup_cost_usd = {{ dist = "uniform", low = 30000, high = 100000 }}
upgrade_interval_months = {{ dist = "triangular", low = 4, mode = 6, high = 9 }}
upgrade_effort_engineer_months = {{ dist = "triangular", low = 1, mode = 3, high = 4 }}
# Seed 001: 95-99% realistic without heavy redundancy.
uptime = {{ dist = "pert", low = 0.95, mode = 0.985, high = 0.995 }}
{fallback}
{escalation}
"""
