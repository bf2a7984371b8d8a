"""Validation: a scenario document (as read from TOML) into a frozen :class:`Scenario`.

Every problem is a :class:`~simulator.scenario.errors.ScenarioError` naming the key
path and what is allowed. Before any table is read,
:func:`~simulator.scenario.schema.check_structure` walks the whole document (without
recursion) and refuses one that nests too deeply or has a key name that is too long or
holds a control or bidirectional character; option names are further held to
:data:`~simulator.scenario.schema.NAME_CHARACTERS`. Labels and descriptions may hold
any text, up to their length: the pages and the terminal show it as text.
"""

from __future__ import annotations

import dataclasses
import datetime
import reprlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from . import schema
from .capacity import settle_capacity
from .catalogue import CATALOGUE, catalogue_version, look_up
from .copula import copula_matrix
from .distributions import Distribution, Fixed, Normal, check_magnitude, parse_distribution
from .errors import ScenarioError, unknown
from .model import (
    OPTIMIZE,
    Correlation,
    Option,
    Requirements,
    Route,
    Scenario,
    StressSettings,
)
from .notes import table_notes
from .profiles import load_profile
from .references import STACK_KINDS, check_migrations, check_references
from .schema import REQUIRED, Field, check_option_name, check_structure
from .workloads import parse_workloads, with_workloads

__all__ = ["parse_scenario", "OPTIONAL_TABLES"]

# A normal whose tail crosses a key's bound by less than this is truncated there
# silently; more than this is almost certainly a mistake and is refused.
_NEGLIGIBLE_TAIL = 1e-6

_TOP_LEVEL = (
    "scenario",
    "workload",
    "workloads",
    "portfolio",
    "business",
    "options",
    "correlations",
    "stress",
    "requirements",
)
OPTIONAL_TABLES = ("business", "stress", "requirements")

# Option kinds that build and run their own serving stack.

_DEFAULT_OPS_LOAD = {
    "api": "none",
    "cloud_managed": "limited",
    "self_hosted": "dedicated",
    "on_prem": "dedicated",
}

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 80
_SHOWN.maxlist = _SHOWN.maxdict = _SHOWN.maxtuple = 6
_SHOWN.maxlevel = 3


def _got(value: Any) -> str:
    """A value quoted in a message, short whatever it is (``'lots'``, ``[1, 2, ...]``)."""
    return _SHOWN.repr(value)


def _check_keys(table: Any, fields: Mapping[str, Field], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ScenarioError(f"must be a table, got {_got(table)}", key=where)
    for key in table:
        if key not in fields:
            raise ScenarioError(unknown(key, f"a key of [{where}]", fields), key=f"{where}.{key}")
    for key, spec in fields.items():
        if spec.default is REQUIRED and key not in table:
            raise ScenarioError("is required", key=f"{where}.{key}")
    return table


def _scalar(value: Any, spec: Field, key: str) -> Any:
    """Validate a non-quantity value against its field."""
    kind = spec.type
    if kind in ("string", "option"):
        if not isinstance(value, str):
            raise ScenarioError(f"must be a string, got {_got(value)}", key=key)
        if kind == "string" and len(value) > spec.max_length:
            raise ScenarioError(
                f"is {len(value):,} characters long; at most {spec.max_length:,} are allowed",
                key=key,
            )
        return value
    if kind == "date":
        return _date(value, key)
    if kind == "profile":
        return load_profile(value, key)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"must be true or false, got {_got(value)}", key=key)
        return value
    if kind == "enum":
        if value not in spec.choices:
            raise ScenarioError(unknown(value, "allowed here", spec.choices), key=key)
        return value
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"must be a number ({spec.allowed()}), got {_got(value)}", key=key)
        if kind == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise ScenarioError(
                f"must be a whole number ({spec.allowed()}), got {_got(value)}", key=key
            )
        if kind == "number":
            value = check_magnitude(value, "the value", key)
        if not spec.admits(value):
            raise ScenarioError(f"must be {spec.allowed()}, got {_got(value)}", key=key)
        return int(value) if kind == "integer" else float(value)
    if kind == "numbers":
        if not isinstance(value, list) or not value:
            raise ScenarioError(
                f"must be a non-empty list of numbers ({spec.allowed()}), got {_got(value)}",
                key=key,
            )
        if len(value) > schema.MAX_LIST:
            raise ScenarioError(
                f"holds {len(value)} values; at most {schema.MAX_LIST} are allowed", key=key
            )
        item = dataclasses.replace(spec, type="number")
        numbers = [_scalar(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(sorted(set(numbers)))
    raise AssertionError(f"unhandled field type {kind}")  # pragma: no cover


def _quantity(value: Any, spec: Field, key: str) -> Distribution:
    """Parse a quantity and check that every draw lies in the key's range."""
    dist = parse_distribution(value, key)
    lo, hi = spec.low, spec.high
    outside = dist.mass_outside(lo, hi)
    if isinstance(dist, Normal) and 0 < outside < _NEGLIGIBLE_TAIL:
        return dist.truncated(lo, hi)
    if outside > 0:
        share = f"{outside:.2%} of draws fall" if outside < 1 else "every draw falls"
        hint = " (add low/high to truncate it)" if isinstance(dist, Normal) else ""
        raise ScenarioError(
            f"{dist.describe()}: {share} outside what is allowed ({spec.allowed()}){hint}",
            key=key,
        )
    if (spec.open_low and _atom(dist, lo)) or (spec.open_high and _atom(dist, hi)):
        raise ScenarioError(f"{dist.describe()}: must be {spec.allowed()}", key=key)
    return dist


def _atom(dist: Distribution, x: float) -> bool:
    """Whether ``dist`` puts positive probability exactly on ``x``."""
    values = getattr(dist, "values", None)
    if values is not None:
        return x in values
    return dist.is_fixed and dist.support()[0] == x


def _table(
    raw: Mapping[str, Any],
    fields: Mapping[str, Field],
    where: str,
    quantities: dict[str, Distribution],
) -> dict[str, Any]:
    """Validate one table; quantities go to ``quantities``, the rest is returned."""
    _check_keys(raw, fields, where)
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        path = f"{where}.{key}"
        if key not in raw:
            value = spec.default
            if spec.type in ("quantity", "reservation") and value is not None:
                quantities[path] = Fixed(float(value))
            if spec.type != "quantity" or value is None:
                out[key] = value
            continue
        if spec.type in ("trigger", "reservation") and raw[key] == OPTIMIZE:
            out[key] = OPTIMIZE
        elif spec.type == "reservation":
            out[key] = _reservation(raw[key], spec, path)
            quantities[path] = Fixed(float(out[key]))
        elif spec.type in ("quantity", "trigger"):
            quantities[path] = _quantity(raw[key], spec, path)
        elif spec.type == "routes":
            out[key] = _routes(raw[key], path)
        else:
            out[key] = _scalar(raw[key], spec, path)
    return out


def _check_load(table: Mapping[str, Any], profile) -> None:
    """A load profile replaces ``peak_to_average`` (its highest hour is the peak), and
    ``within_hour_burst`` shapes a profile's hours, so it needs one."""
    if profile is not None and "peak_to_average" in table:
        raise ScenarioError(
            "is derived from load_profile (its highest hour): give one or the other",
            key="workload.peak_to_average",
        )
    if profile is None and "within_hour_burst" in table:
        raise ScenarioError(
            'applies to the hours of a load_profile: give one ("flat" for an even week)',
            key="workload.within_hour_burst",
        )


def _check_outages(table: Mapping[str, Any], where: str) -> None:
    """Outages are given one way: ``uptime``, or incidents with their mean duration."""
    if "incidents_per_month" in table:
        if "uptime" in table:
            raise ScenarioError(
                "give outages one way: incidents (incidents_per_month, incident_hours) "
                "or uptime, not both",
                key=f"{where}.uptime",
            )
        if "incident_hours" not in table:
            raise ScenarioError(
                "incidents need their mean duration: set incident_hours (hours, > 0)",
                key=f"{where}.incident_hours",
            )
        return
    for key in ("incident_hours", "failover_minutes"):
        if key in table:
            raise ScenarioError(
                "only applies to incidents: set incidents_per_month too, or remove it",
                key=f"{where}.{key}",
            )


def _date(value: Any, key: str) -> datetime.date:
    """A calendar date: a TOML date (``2026-12-01``) or the same written as a string."""
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ScenarioError(f"must be a date such as 2026-12-01, got {_got(value)}", key=key)


def _reservation(value: Any, spec: Field, key: str) -> int:
    """A count of reserved GPUs: a whole number in the field's range (``"optimize"`` is
    taken before)."""
    whole = isinstance(value, int | float) and not isinstance(value, bool)
    if not (whole and float(value).is_integer() and spec.admits(value)):
        raise ScenarioError(
            f'must be a whole number of GPUs ({spec.allowed()}) or "{OPTIMIZE}", got {_got(value)}',
            key=key,
        )
    return int(value)


def _routes(value: Any, key: str) -> tuple[Route, ...]:
    example = '[{ option = "self_hosted", share = 0.8 }, { option = "api", share = 0.2 }]'
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"must be a list of routes such as {example}", key=key)
    routes = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise ScenarioError("must be a table such as { option = ..., share = ... }", key=where)
        fields = {"option": Field("option"), "share": Field("number", low=0.0, high=1.0)}
        _check_keys(item, fields, where)
        routes.append(
            Route(
                _scalar(item["option"], fields["option"], f"{where}.option"),
                _scalar(item["share"], fields["share"], f"{where}.share"),
            )
        )
    total = sum(r.share for r in routes)
    if abs(total - 1) > 1e-9:
        raise ScenarioError(f"route shares must sum to 1, they sum to {total:g}", key=key)
    names = [r.option for r in routes]
    if len(set(names)) != len(names):
        raise ScenarioError("names the same option twice", key=key)
    return tuple(routes)


def _options(
    raw: Any, quantities: dict[str, Distribution], price_date: datetime.date
) -> dict[str, Option]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(
            'needs at least one option, such as [options.api] with kind = "api"', key="options"
        )
    options: dict[str, Option] = {}
    for name, table in raw.items():
        check_option_name(name)
        where = f"options.{name}"
        if not isinstance(table, dict):
            raise ScenarioError("must be a table", key=where)
        if "kind" not in table:
            raise ScenarioError(
                f"needs a kind, one of: {', '.join(schema.KINDS)}", key=f"{where}.kind"
            )
        kind = table["kind"]
        if not isinstance(kind, str) or kind not in schema.OPTION_FIELDS:
            raise ScenarioError(unknown(kind, "an option kind", schema.KINDS), key=f"{where}.kind")
        listing = None
        if kind == "api" and "model" in table:
            listing = look_up(table["model"], price_date, f"{where}.model")
            table = {**listing.prices, **table}  # a key the scenario gives wins
        params = _table(table, schema.OPTION_FIELDS[kind], where, quantities)
        _check_outages(table, where)
        if listing is not None:
            params["catalogue"] = MappingProxyType(
                {
                    "model": listing.model,
                    "name": listing.name,
                    "taken": {k: v for k, v in listing.prices.items() if k not in raw[name]},
                    "tiered": [k for k in listing.tiered if k not in raw[name]],
                }
            )
        label = params.pop("label") or name
        params.pop("kind")
        if kind in STACK_KINDS:
            if params["setup_gpus"] is None:
                params["setup_gpus"] = params["gpus_per_replica"]
            if params["initial_hires"] is None:
                params["initial_hires"] = params["engineers"]
            settle_capacity(where, kind, table, params, quantities)
        if kind == "on_prem":
            params["provisioning"] = "peak"
        if params["data_leaves_perimeter"] is None:
            params["data_leaves_perimeter"] = kind == "api"
        if params["ops_load"] is None:
            params["ops_load"] = _DEFAULT_OPS_LOAD.get(kind)
        options[name] = Option(name, kind, label, MappingProxyType(params))
    check_references(options, quantities)
    return options


def _correlations(
    raw: Any, quantities: Mapping[str, Distribution]
) -> tuple[tuple[Correlation, ...], tuple[str, ...]]:
    """The rank correlations between uncertain inputs, and the inputs a correlation
    names that are fixed (pinned in the file or with ``--set``): their pairs are left
    out of the copula, since a fixed input has nothing to correlate."""
    if not isinstance(raw, list):
        raise ScenarioError(
            "must be an array of tables: [[correlations]] with between and rank",
            key="correlations",
        )
    seen: dict[frozenset[str], int] = {}
    out = []
    pinned: dict[str, None] = {}
    uncertain = [k for k, d in quantities.items() if not d.is_fixed]
    fields = {"between": Field("string"), "rank": Field("number", low=-1.0, high=1.0)}
    for i, item in enumerate(raw):
        where = f"correlations[{i}]"
        _check_keys(item, fields, where)
        between = item["between"]
        if (
            not isinstance(between, list)
            or len(between) != 2
            or not all(isinstance(b, str) for b in between)
        ):
            raise ScenarioError("must name two inputs by dotted key path", key=f"{where}.between")
        for b in between:
            if b not in quantities:
                raise ScenarioError(
                    unknown(b, "a quantity of this scenario", uncertain), key=f"{where}.between"
                )
        if between[0] == between[1]:
            raise ScenarioError("an input cannot be correlated with itself", key=f"{where}.between")
        pair = frozenset(between)
        if pair in seen:
            raise ScenarioError(
                f"this pair is already correlated in correlations[{seen[pair]}]",
                key=f"{where}.between",
            )
        seen[pair] = i
        rank = _scalar(item["rank"], fields["rank"], f"{where}.rank")
        fixed = [b for b in between if quantities[b].is_fixed]
        if fixed:
            pinned.update(dict.fromkeys(fixed))
            continue
        out.append(Correlation((between[0], between[1]), rank))
    correlations = tuple(out)
    if correlations:
        try:
            copula_matrix(correlations)
        except np.linalg.LinAlgError:
            pairs = ", ".join(f"{c.between[0]}~{c.between[1]}={c.rank:g}" for c in correlations)
            raise ScenarioError(
                "these rank correlations cannot hold together (the matrix is not positive "
                f"definite): {pairs}. Weaken some of them.",
                key="correlations",
            ) from None
    return correlations, tuple(pinned)


def _catalogue(options: Mapping[str, Option], price_date: datetime.date) -> Mapping | None:
    """The price catalogue's name, version and the date its prices were taken for, when
    an option names a ``model``."""
    if not any("catalogue" in o.params for o in options.values()):
        return None
    return MappingProxyType(
        {"name": CATALOGUE, "version": catalogue_version(), "price_date": price_date.isoformat()}
    )


def parse_scenario(document: Mapping[str, Any], *, source: str | None = None) -> Scenario:
    """Validate a scenario document (as read from TOML) into a :class:`Scenario`.

    Raises
    ------
    ScenarioError
        Naming the key path and what is allowed.
    """
    check_structure(document)
    if not isinstance(document, Mapping):
        raise ScenarioError(f"a scenario must be a table of tables, got {_got(document)}")
    for key in document:
        if key not in _TOP_LEVEL:
            raise ScenarioError(unknown(key, "a top-level table", _TOP_LEVEL), key=key)
    several = "workloads" in document
    if several and "workload" in document:
        raise ScenarioError("give [workload] or [workloads.NAME] tables, not both", key="workloads")
    if "portfolio" in document and not several:
        raise ScenarioError("needs [workloads.NAME] tables to assign", key="portfolio")
    for key in ("scenario", "workloads" if several else "workload", "options"):
        if key not in document:
            raise ScenarioError(f"the [{key}] table is required", key=key)
    quantities: dict[str, Distribution] = {}
    settings = _table(document["scenario"], schema.SCENARIO, "scenario", quantities)
    profile = None
    if several:
        workloads = parse_workloads(document["workloads"], _table, quantities)
    else:
        profile = _table(document["workload"], schema.WORKLOAD, "workload", quantities)[
            "load_profile"
        ]
        _check_load(document["workload"], profile)
    _table(document.get("business", {}), schema.BUSINESS, "business", quantities)
    price_date = settings["price_date"] or datetime.datetime.now(datetime.UTC).date()
    options = _options(document["options"], quantities, price_date)
    baseline = settings["baseline"] or next(iter(options))
    if baseline not in options:
        raise ScenarioError(unknown(baseline, "an option", options), key="scenario.baseline")
    check_migrations(options, quantities, baseline)
    correlations, pinned = _correlations(document.get("correlations", []), quantities)
    stress = _table(document.get("stress", {}), schema.STRESS, "stress", quantities)
    requirements = _table(
        document.get("requirements", {}), schema.REQUIREMENTS, "requirements", quantities
    )
    scenario = Scenario(
        name=settings["name"],
        description=settings["description"],
        horizon_months=settings["horizon_months"],
        discount_rate=settings["discount_rate"],
        hours_per_month=settings["hours_per_month"],
        paths=settings["paths"],
        seed=settings["seed"],
        baseline=baseline,
        currency=settings["currency"],
        sampling=settings["sampling"],
        options=MappingProxyType(options),
        quantities=MappingProxyType(quantities),
        correlations=correlations,
        pinned_correlated_inputs=pinned,
        stress=StressSettings(**stress),
        requirements=Requirements(**requirements),
        source=source,
        notes=MappingProxyType(table_notes(document)),
        price_catalogue=_catalogue(options, price_date),
        load_profile=profile,
    )
    return with_workloads(scenario, workloads, document.get("portfolio")) if several else scenario
