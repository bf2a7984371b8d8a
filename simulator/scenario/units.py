"""What each quantity is measured in, and how a value of it is written for people.

Every quantity key of the schema has a unit here (a test checks it), so the report's
assumptions say "-30%/yr" and "$2.49/h" where the file says ``-0.3`` and ``2.49``.
"""

from __future__ import annotations

import math
import re
from functools import partial

from .distributions import Choice, Distribution, Empirical, Fixed, Lognormal, Normal, Uniform
from .numbers import count

__all__ = ["UNITS", "label_of", "unit_of", "with_unit", "written"]

_PERCENT = {
    "%": (
        "batch_discount",
        "batch_share",
        "cached_input_share",
        "commit_discount",
        "deferrable_share",
        "escalation_rate",
        "hiring_cost_fraction",
        "managed_premium",
        "max_utilization",
        "reserved_discount",
        "residual_value_fraction",
        "spot_discount",
        "spot_share",
        "spot_unavailability",
        "uptime",
        "vacancy_uptime_drop",
    ),
    "%/month": ("monthly_growth", "growth_volatility"),
    "%/yr": (
        "annual_attrition",
        "annual_gpu_price_change",
        "annual_price_change",
        "annual_salary_growth",
        "maintenance_fraction_per_year",
    ),
}

_OTHER = {
    "$": ("gpu_purchase_usd", "migration_cost_usd", "setup_cost_usd"),
    "$/GPU": ("install_usd_per_gpu",),
    "$/h": ("downtime_cost_per_hour", "gpu_hourly_usd"),
    "$/kWh": ("electricity_usd_per_kwh",),
    "$/month": (
        "committed_monthly_usd",
        "facility_monthly_usd",
        "infra_monthly_usd",
        "monthly_fee",
    ),
    "$/Mtok": ("cached_input_price_per_mtok", "input_price_per_mtok", "output_price_per_mtok"),
    "$/yr": ("engineer_annual_cost",),
    "months": ("migration_months", "setup_months", "upgrade_interval_months", "vacancy_months"),
    "hours": ("incident_hours",),
    "minutes": ("failover_minutes",),
    "days": ("upgrade_overlap_days",),
    "ms": ("ttft_ms",),
    "engineer-months": ("upgrade_effort_engineer_months",),
    "requests/month": ("requests_per_month",),
    "incidents/month": ("incidents_per_month",),
    "tokens": ("input_tokens_per_request", "output_tokens_per_request"),
    "tokens/s": ("decode_tokens_per_s", "prefill_tokens_per_s", "replica_tokens_per_s"),
    "GPUs": ("reserved_gpus",),
    "kW": ("power_kw_per_gpu",),
    "x": (
        "autoscale_overhead",
        "backfill_cost_multiplier",
        "growth_realization",
        "input_token_weight",
        "peak_to_average",
        "pue",
        "volume_realization",
        "within_hour_burst",
    ),
    "": ("peak_coincidence",),
}

UNITS: dict[str, str] = {
    key: unit for table in (_PERCENT, _OTHER) for unit, keys in table.items() for key in keys
}
"""A quantity key's unit: ``%``, ``%/month`` and ``%/yr`` for shares and rates written
as fractions, ``$...`` for money in the scenario's currency, ``x`` for multipliers."""

_WORDS = {"gpu": "GPU", "mtok": "Mtok", "kwh": "kWh", "kw": "kW", "ttft": "TTFT", "pue": "PUE"}
_DROPPED = {"usd"}


def unit_of(key: str) -> str | None:
    """The unit of dotted quantity key ``key``, from its last part the schema knows
    (``workloads.agent.escalation_rate.hosted`` is an escalation rate); ``None`` if
    none is known."""
    for part in reversed(re.split(r"[.\[\]]", key)):
        if part in UNITS:
            return UNITS[part]
    return None


def label_of(key: str) -> str:
    """``options.api.input_price_per_mtok`` -> ``"Input price per Mtok"``: the key's
    last name in words (an escalation rate per option keeps the option's name)."""
    parts = [p for p in re.split(r"[.\[\]]", key) if p]
    name = parts[-1]
    if len(parts) >= 2 and parts[-2] == "escalation_rate":
        return f"Escalation rate to {name}"
    words = [_WORDS.get(w, w) for w in name.split("_") if w not in _DROPPED]
    text = " ".join(words) or name
    return text[0].upper() + text[1:]


def with_unit(x: float, unit: str | None, currency: str = "USD") -> str:
    """``x`` written in ``unit``: ``-0.3, "%/yr"`` -> ``"-30%/yr"``; ``2.49, "$/h"`` ->
    ``"$2.49/h"``; ``1150, "tokens"`` -> ``"1,150 tokens"``; ``2, "x"`` -> ``"2x"``."""
    if unit is None or unit == "":
        return _plain(x)
    if unit.startswith("%"):
        return f"{_plain(x * 100, percent=True)}{unit}"
    if unit.startswith("$"):
        prefix = "$" if currency == "USD" else f"{currency} "
        sign = "-" if x < 0 else ""
        return f"{sign}{prefix}{_money(abs(x))}{unit[1:]}"
    if unit == "x":
        return f"{_plain(x)}x"
    return f"{_plain(x)} {unit}"


def written(dist: Distribution, unit: str | None, currency: str = "USD") -> str:
    """A distribution as a reader would say it, in ``unit``: ``pert(-0.4, -0.15, 0)``
    of an annual change -> ``"PERT, -40%/yr to 0%/yr, most likely -15%/yr"``."""
    say = partial(with_unit, unit=unit, currency=currency)
    if isinstance(dist, Fixed):
        return say(dist.value)
    if isinstance(dist, Uniform):
        return f"uniform, {say(dist.low)} to {say(dist.high)}"
    if isinstance(dist, Normal):
        text = f"normal, mean {say(dist.mean)}, sd {say(dist.sd)}"
        if not (math.isinf(dist.low) and math.isinf(dist.high)):
            text += f", kept within {say(dist.low)} to {say(dist.high)}"
        return text
    if isinstance(dist, Lognormal):
        return f"lognormal, 90% between {say(dist.p5)} and {say(dist.p95)}"
    if isinstance(dist, Empirical):
        return (
            f"{len(dist.values):,} observed values, {say(min(dist.values))} to "
            f"{say(max(dist.values))}"
        )
    if isinstance(dist, Choice):
        values = ", ".join(say(v) for v in dist.values)
        if dist.weights is None:
            return f"one of {values}, equally likely"
        total = sum(dist.weights)
        chances = ", ".join(f"{w / total:.0%}" for w in dist.weights)
        return f"one of {values} (chances {chances})"
    family = "PERT" if dist.family == "pert" else dist.family
    return f"{family}, {say(dist.low)} to {say(dist.high)}, most likely {say(dist.mode)}"


def _money(x: float) -> str:
    if x >= 1e3:
        return count(x)
    if x >= 100 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:.3g}" if x < 0.01 else f"{x:.2f}"


def _plain(x: float, percent: bool = False) -> str:
    if math.isfinite(x) and abs(x) >= 1e6:
        return count(x)
    if math.isfinite(x) and abs(x) >= 1000:
        return f"{x:,.0f}"
    # Four digits near 100% keep an uptime of 99.95% apart from 99.9%.
    return f"{x:.4g}" if percent and abs(x) >= 99 else f"{x:.3g}"
