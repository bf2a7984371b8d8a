"""What each scenario table may hold: key names, types, defaults and allowed ranges.

One declarative table per section of the scenario format, so validation, typo
suggestions and error messages all come from the same place; and the limits every
document is held to before its tables are read (its size, how deep it nests, what a
key or an option name may be), with :func:`check_structure` and
:func:`check_option_name`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ScenarioError, quoted
from .gpus import GPUS, WEIGHT_BITS
from .text import describe_character, first_unsafe

__all__ = [
    "Field",
    "REQUIRED",
    "SCENARIO",
    "WORKLOAD",
    "WORKLOADS",
    "PORTFOLIO",
    "BUSINESS",
    "STRESS",
    "REQUIREMENTS",
    "OPS_LEVELS",
    "OPTION_FIELDS",
    "KINDS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_LABEL",
    "MAX_NAME",
    "MAX_TEXT",
    "NAME_CHARACTERS",
    "check_key_name",
    "check_option_name",
    "check_structure",
]

# ---------------------------------------------------------------------------
# What any scenario may hold at most (a file, --set values and documents alike)

MAX_FILE_BYTES = 10_000_000
"""Largest scenario file (and ``--set`` value) read, in bytes: 10 MB. The shipped
scenarios are about 10 kB."""

MAX_DEPTH = 32
"""Most levels tables and arrays may nest below the top of a scenario. A scenario needs
four (``options.hybrid.routes[0]``); deeper documents are refused before anything
walks them."""

MAX_NAME = 64
"""Longest option name, and longest key name anywhere, in characters."""

NAME_CHARACTERS = "ASCII letters, digits, '_' and '-'"
"""What an option name is made of: the characters of a bare TOML key, so that a name is
written as it is in the file, in ``--set options.NAME.KEY=...``, in a correlation's
dotted key path and in ``paths.csv``, and never needs quoting or escaping."""

MAX_LABEL = 200
"""Longest label (``scenario.name``, an option's ``label``, ``scenario.currency``)."""

MAX_TEXT = 10_000
"""Longest free text (``scenario.description``)."""

_OPTION_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(path: Sequence[str | int]) -> str:
    """``("options", "hybrid", "routes", 0)`` -> ``"options.hybrid.routes[0]"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def check_key_name(key: Any, where: str | None = None) -> None:
    """Refuse a key name that is not a string, is longer than :data:`MAX_NAME`
    characters or holds a control character, a line break or a bidirectional control
    (``where``: the path of the table it is a key of)."""
    if not isinstance(key, str):
        raise ScenarioError(f"key names must be strings, got {key!r:.80}", key=where)
    bad = first_unsafe(key)
    if bad:
        raise ScenarioError(
            f"key {quoted(key)} holds {describe_character(bad)}; key names may not hold "
            "control characters, line breaks or bidirectional controls",
            key=where,
        )
    if len(key) > MAX_NAME:
        raise ScenarioError(
            f"key {quoted(key)} is {len(key):,} characters long; at most {MAX_NAME} are allowed",
            key=where,
        )


def check_structure(node: Any, path: Sequence[str | int] = ()) -> None:
    """Refuse a document (or a value at key ``path`` of one) whose tables and arrays
    nest more than :data:`MAX_DEPTH` levels below the top, or that holds a key name
    :func:`check_key_name` refuses (the parts of ``path`` too). Walks with a stack,
    never recursion, so that no document is too deep to be refused.

    Raises
    ------
    ScenarioError
        Naming the key path (for nesting, its first levels) and what is allowed.
    """
    path = tuple(path)
    for i, part in enumerate(path):
        if not isinstance(part, int):
            check_key_name(part, _dotted(path[:i]) or None)
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(node, path)] if _container(node) else []
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise ScenarioError(
                f"tables and arrays nest more than {MAX_DEPTH} levels deep below this key; "
                f"at most {MAX_DEPTH} levels are allowed (a scenario needs 4)",
                key=_dotted(where[:3]) or None,
            )
        if isinstance(value, dict):
            for key in value:
                check_key_name(key, _dotted(where) or None)
            children = value.items()
        else:
            children = enumerate(value)
        found = [(child, (*where, key)) for key, child in children if _container(child)]
        stack.extend(reversed(found))


def _container(value: Any) -> bool:
    return isinstance(value, dict | list | tuple)


def check_option_name(name: str, table: str = "options") -> None:
    """Refuse an option (or other table's) name that is not 1 to :data:`MAX_NAME`
    :data:`NAME_CHARACTERS`."""
    where = f"{table}.{name}"
    rule = f"{table.removesuffix('s')} names are 1 to {MAX_NAME} {NAME_CHARACTERS}"
    if len(name) > MAX_NAME:
        raise ScenarioError(f"the name is {len(name):,} characters long; {rule}", key=where)
    if not _OPTION_NAME.fullmatch(name):
        bad = next((c for c in name if not _OPTION_NAME.fullmatch(c)), None)
        found = f"holds {describe_character(bad)}" if bad else "is empty"
        raise ScenarioError(f"the name {found}; {rule}", key=where)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Field:
    """One key of a table.

    ``type`` is one of ``quantity`` (a number or a distribution table, sampled per
    path), ``number``, ``integer``, ``numbers`` (a non-empty list of numbers, at
    most ``MAX_LIST`` of them), ``string``, ``bool``, ``enum``, ``option`` (the name
    of another option), ``options`` (a list of option names), ``assignment``
    (``"optimize"`` or a table of workload to option) or ``routes``.
    ``low``/``high`` bound numbers and the support of quantities;
    ``open_low``/``open_high`` exclude the bound itself; ``max_length`` bounds a
    string's length in characters. ``choices`` are an enum's values, or the only
    values an integer may take (written as text: ``("16", "8")``).
    """

    type: str
    default: Any = REQUIRED
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""
    max_length: int = MAX_TEXT

    def allowed(self) -> str:
        """Human description of the allowed range, such as ``between 0 and 1``."""
        if self.type == "enum":
            return "one of: " + ", ".join(f'"{c}"' for c in self.choices)
        if self.type == "profile":
            return '"flat", "business_hours", "diurnal", or 24 or 168 numbers >= 0'
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        lo, hi = self.low, self.high
        gt = ">" if self.open_low else ">="
        lt = "<" if self.open_high else "<="
        if math.isinf(lo) and math.isinf(hi):
            return "any finite number"
        if math.isinf(hi):
            return f"{gt} {lo:g}"
        if math.isinf(lo):
            return f"{lt} {hi:g}"
        if not self.open_low and not self.open_high:
            return f"between {lo:g} and {hi:g}"
        return f"{gt} {lo:g} and {lt} {hi:g}"

    def admits(self, x: float) -> bool:
        """Whether the single value ``x`` lies in the allowed range."""
        if self.choices:
            return f"{x:g}" in self.choices
        above = x > self.low if self.open_low else x >= self.low
        below = x < self.high if self.open_high else x <= self.high
        return above and below


def _q(default: Any = REQUIRED, **kw: Any) -> Field:
    return Field("quantity", default, **kw)


_NONNEG = {"low": 0.0}
_SHARE = {"low": 0.0, "high": 1.0}
_RATE_CHANGE = {"low": -1.0, "open_low": True}

# Outages as events (section 10), on every api option and stack, instead of an uptime.
_OUTAGES = {
    "incidents_per_month": Field("quantity", None, low=0.0, high=1000.0),
    "incident_hours": Field("quantity", None, low=0.0, high=744.0, open_low=True),
    "failover_minutes": Field("quantity", 0.0, low=0.0, high=44_640.0),
}

SCENARIO: dict[str, Field] = {
    "name": Field("string", max_length=MAX_LABEL),
    "description": Field("string", "", max_length=MAX_TEXT),
    "horizon_months": Field("integer", 36, low=1, high=1200),
    "discount_rate": Field("number", 0.0, low=-1.0, open_low=True),
    "hours_per_month": Field("number", 730.0, low=0.0, high=744.0, open_low=True),
    "paths": Field("integer", 100_000, low=1, high=10_000_000_000),
    "seed": Field("integer", None, low=0, high=2**128 - 1),
    "baseline": Field("option", None),
    "currency": Field("string", "USD", max_length=MAX_LABEL),
    "sampling": Field("enum", "random", choices=("random", "lhs", "sobol")),
    "price_date": Field("date", None),
    # several workloads (section 8): how far their bursts coincide
    "peak_coincidence": _q(None, **_SHARE),
}

WORKLOAD: dict[str, Field] = {
    "requests_per_month": _q(**_NONNEG),
    "input_tokens_per_request": _q(**_NONNEG),
    "output_tokens_per_request": _q(**_NONNEG),
    "monthly_growth": _q(0.0, **_RATE_CHANGE),
    "growth_volatility": _q(0.0, **_NONNEG),
    "volume_realization": _q(1.0, **_NONNEG),
    "growth_realization": _q(1.0, **_NONNEG),
    "peak_to_average": _q(1.0, low=1.0),
    # load over the week (section 10)
    "load_profile": Field("profile", None),
    "within_hour_burst": _q(1.0, low=1.0),
    "deferrable_share": _q(0.0, **_SHARE),
}

WORKLOADS: dict[str, Field] = {
    **WORKLOAD,
    "downtime_cost_per_hour": _q(None, **_NONNEG),
    "candidates": Field("options", None),
}
"""A ``[workloads.NAME]`` table: every key of ``[workload]``, and the workload's own
cost of an unserved hour."""

PORTFOLIO: dict[str, Field] = {
    "candidates": Field("options", None),
    "objective": Field("enum", "mean", choices=("mean", "cvar95")),
    "assign": Field("assignment", "optimize"),
}

BUSINESS: dict[str, Field] = {
    "downtime_cost_per_hour": _q(0.0, **_NONNEG),
}

MAX_LIST = 20
"""Most values a ``numbers`` key holds (a stress grid point is a run of its own)."""

STRESS: dict[str, Field] = {
    # Multipliers on each path's realized volume level and growth rate (section 6).
    "volume_realization": Field("numbers", (0.25, 0.5, 0.75, 1.0, 1.25), low=0.0, high=100.0),
    "growth_realization": Field("numbers", (0.0, 0.5, 1.0), low=0.0, high=10.0),
    # Paths of each stress, break-even and grid run (capped by the main run's paths).
    "paths": Field("integer", 20_000, low=1, high=10_000_000),
    # Paths whose inputs and totals the sensitivity analysis reads (the run's first ones).
    "sensitivity_paths": Field("integer", 200_000, low=100, high=10_000_000),
    # With several workloads: also shock each workload alone (section 8).
    "by_workload": Field("bool", False),
}

OPS_LEVELS: tuple[str, ...] = ("none", "limited", "dedicated")
"""GPU operations capacity, least first: what a team can run, and what an option needs."""

REQUIREMENTS: dict[str, Field] = {
    "data_residency": Field("bool", False),
    "max_ttft_ms": Field("number", None, low=0.0, open_low=True),
    "min_p_latency_met": Field("number", 0.95, low=0.0, high=1.0),
    "ops_capacity": Field("enum", None, choices=OPS_LEVELS),
}

_COMMON = {
    "kind": Field("string"),
    "label": Field("string", None, max_length=MAX_LABEL),
    # Requirements (section 7): defaults depend on the kind (see scenario.py).
    "data_leaves_perimeter": Field("bool", None),
    "ttft_ms": _q(None, low=0.0),
    "ops_load": Field("enum", None, choices=OPS_LEVELS),
}

API: dict[str, Field] = {
    **_COMMON,
    "model": Field("string", None, max_length=MAX_LABEL),
    "input_price_per_mtok": _q(**_NONNEG),
    "output_price_per_mtok": _q(**_NONNEG),
    "annual_price_change": _q(0.0, **_RATE_CHANGE),
    "monthly_fee": _q(0.0, **_NONNEG),
    "uptime": _q(1.0, **_SHARE),
    **_OUTAGES,
    # prices as billed (section 9)
    "cached_input_share": _q(0.0, **_SHARE),
    "cached_input_price_per_mtok": _q(None, **_NONNEG),
    "batch_share": _q(0.0, **_SHARE),
    "batch_discount": _q(0.5, **_SHARE),
    "committed_monthly_usd": _q(0.0, **_NONNEG),
    "commit_discount": _q(0.0, **_SHARE),
    "commit_months": Field("integer", None, low=1, high=1200),
    # quality and the move onto the option
    "fallback": Field("option", None),
    "escalation_rate": _q(0.0, **_SHARE),
    "migration_months": _q(0.0, low=0.0, high=1200.0),
    "migration_cost_usd": _q(0.0, **_NONNEG),
}

SELF_HOSTED: dict[str, Field] = {
    **_COMMON,
    # capacity
    "gpus_per_replica": Field("integer", 1, low=1, high=1024),
    "replica_tokens_per_s": _q(None, low=0.0, open_low=True),
    "input_token_weight": _q(1.0, **_NONNEG),
    # capacity from the hardware (section 9): the other way to give it, and the checks
    "prefill_tokens_per_s": _q(None, low=0.0, open_low=True),
    "decode_tokens_per_s": _q(None, low=0.0, open_low=True),
    "gpu": Field("enum", None, choices=tuple(GPUS)),
    "model_params_b": Field("number", None, low=0.0, high=100_000.0, open_low=True),
    "weight_bits": Field("integer", 16, choices=tuple(str(b) for b in WEIGHT_BITS)),
    "max_utilization": _q(1.0, low=0.0, high=1.0, open_low=True),
    "min_replicas": Field("integer", 1, low=0, high=100_000),
    "spare_replicas": Field("integer", 0, low=0, high=100_000),
    "provisioning": Field("enum", "peak", choices=("peak", "autoscale")),
    "autoscale_overhead": _q(1.2, low=1.0),
    # prices
    "gpu_hourly_usd": _q(**_NONNEG),
    "annual_gpu_price_change": _q(0.0, **_RATE_CHANGE),
    "infra_monthly_usd": _q(0.0, **_NONNEG),
    # people
    "engineers": Field("number", 0.0, low=0.0, high=1000.0),
    "engineer_annual_cost": _q(0.0, **_NONNEG),
    "annual_salary_growth": _q(0.0, **_RATE_CHANGE),
    "annual_attrition": _q(0.0, **_SHARE),
    "vacancy_months": _q(0.0, low=0.0, high=120.0),
    "hiring_cost_fraction": _q(0.25, **_NONNEG),
    "initial_hires": Field("number", None, low=0.0, high=1000.0),
    "vacancy_uptime_drop": _q(0.0, **_SHARE),
    "backfill_cost_multiplier": _q(1.0, **_NONNEG),
    # lifecycle
    "setup_months": _q(0.0, low=0.0, high=1200.0),
    "setup_gpus": Field("integer", None, low=0, high=100_000),
    "setup_cost_usd": _q(0.0, **_NONNEG),
    "upgrade_interval_months": _q(None, low=0.0, open_low=True),
    "upgrade_effort_engineer_months": _q(0.0, **_NONNEG),
    "upgrade_overlap_days": _q(0.0, low=0.0, high=31.0),
    # reliability and quality
    "uptime": _q(1.0, **_SHARE),
    **_OUTAGES,
    "fallback": Field("option", None),
    "escalation_rate": _q(0.0, **_SHARE),
    # renting terms (section 9): reserved capacity, spot, and the reserved search
    "reserved_gpus": Field("reservation", 0, low=0, high=100_000),
    "reserved_discount": _q(0.35, **_SHARE),
    "reserved_months": Field("integer", None, low=1, high=1200),
    "spot_share": _q(0.0, **_SHARE),
    "spot_discount": _q(0.6, **_SHARE),
    "spot_unavailability": _q(0.05, **_SHARE),
    "optimize_paths": Field("integer", 20_000, low=100, high=100_000),
}

CLOUD_MANAGED: dict[str, Field] = {
    **SELF_HOSTED,
    "managed_premium": _q(**_NONNEG),
}

_RENTAL_ONLY = (
    "gpu_hourly_usd",
    "provisioning",
    "autoscale_overhead",
    "reserved_gpus",
    "reserved_discount",
    "reserved_months",
    "spot_share",
    "spot_discount",
    "spot_unavailability",
    "optimize_paths",
)

ON_PREM: dict[str, Field] = {
    **{k: v for k, v in SELF_HOSTED.items() if k not in _RENTAL_ONLY},
    "gpu_purchase_usd": _q(**_NONNEG),
    "install_usd_per_gpu": _q(0.0, **_NONNEG),
    "amortization_months": Field("integer", 48, low=1, high=1200),
    "residual_value_fraction": _q(0.2, **_SHARE),
    "maintenance_fraction_per_year": _q(0.0, **_NONNEG),
    "power_kw_per_gpu": _q(None, **_NONNEG),
    "pue": _q(1.0, low=1.0),
    "electricity_usd_per_kwh": _q(**_NONNEG),
    "facility_monthly_usd": _q(0.0, **_NONNEG),
    "accounting": Field("enum", "cash", choices=("cash", "amortized")),
    "gpus_per_server": Field("integer", 8, low=1, high=1024),
    "capital_charge_rate": Field("number", None, low=0.0, high=1.0),
}

STAGED: dict[str, Field] = {
    **_COMMON,
    "start": Field("option"),
    "then": Field("option"),
    "trigger_monthly_cost": Field("trigger", low=0.0),
    "trigger_months": Field("integer", 3, low=0, high=1200),
    # Paths (the run's first ones) on which an "optimize" trigger is searched; they are
    # held in memory for the search.
    "optimize_paths": Field("integer", 20_000, low=100, high=100_000),
}

HYBRID: dict[str, Field] = {
    **_COMMON,
    "routes": Field("routes"),
}

OPTION_FIELDS: dict[str, dict[str, Field]] = {
    "api": API,
    "self_hosted": SELF_HOSTED,
    "cloud_managed": CLOUD_MANAGED,
    "hybrid": HYBRID,
    "on_prem": ON_PREM,
    "staged": STAGED,
}

KINDS: tuple[str, ...] = tuple(OPTION_FIELDS)
