"""Checks between options: what one option names (a stage, a fallback, a route, the
baseline it migrates from) exists and can serve there.

Each problem is a :class:`~simulator.scenario.errors.ScenarioError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping

from .distributions import Distribution
from .errors import ScenarioError, unknown
from .model import Option

__all__ = ["STACK_KINDS", "STAGED_TARGETS", "check_migrations", "check_references"]

STACK_KINDS = ("self_hosted", "cloud_managed", "on_prem")
"""Option kinds that run a model on GPUs with a team of their own."""

STAGED_TARGETS = ("api", *STACK_KINDS)
"""What a staged option may migrate to (it needs a start month it can be shifted to)."""


def check_references(options: Mapping[str, Option], quantities: Mapping[str, Distribution]) -> None:
    """Every option another names exists and is of a kind that can serve there: a
    staged policy's stages, fallbacks (api options, not the option itself, needed by
    escalations), hybrid routes (no staged policy, no cycle); and an api option's
    cached-input price is given where input can be cached."""
    for option in options.values():
        if option.kind == "staged":
            _check_staged(option, options)
        if option.kind == "api":
            _check_billing(option, options, quantities)
        if option.kind in STACK_KINDS or option.kind == "api":
            fallback = option.params["fallback"]
            key = option.path("fallback")
            if fallback is not None:
                if fallback not in options:
                    raise ScenarioError(unknown(fallback, "an option", options), key=key)
                if options[fallback].kind != "api":
                    raise ScenarioError(
                        f"'{fallback}' is a {options[fallback].kind} option; "
                        "a fallback must be an api option",
                        key=key,
                    )
                if fallback == option.name:
                    raise ScenarioError(
                        "an option cannot fall back to itself: name another api option",
                        key=key,
                    )
            elif quantities[option.path("escalation_rate")].support()[1] > 0:
                raise ScenarioError(
                    "escalations need somewhere to go: set fallback to an api option, "
                    "or escalation_rate to 0",
                    key=option.path("escalation_rate"),
                )
        for i, route in enumerate(option.routes):
            key = f"{option.path('routes')}[{i}].option"
            if route.option not in options:
                raise ScenarioError(unknown(route.option, "an option", options), key=key)
            if options[route.option].kind == "staged":
                raise ScenarioError(
                    f"'{route.option}' is a staged policy; routes carry fixed options", key=key
                )
    for name in options:
        _check_acyclic(name, options, ())


def _check_billing(
    option: Option, options: Mapping[str, Option], quantities: Mapping[str, Distribution]
) -> None:
    """An api option's cached-input price, needed when some input can be cached."""
    if quantities[option.path("cached_input_share")].support()[1] > 0 and (
        option.path("cached_input_price_per_mtok") not in quantities
    ):
        raise ScenarioError(
            "cached input needs its price: set cached_input_price_per_mtok (often a tenth "
            "to a half of input_price_per_mtok), or cached_input_share to 0",
            key=option.path("cached_input_price_per_mtok"),
        )


def check_migrations(
    options: Mapping[str, Option], quantities: Mapping[str, Distribution], baseline: str
) -> None:
    """An api option moved to over ``migration_months`` is moved to from the baseline,
    which serves and bills the traffic meanwhile: its traffic cost is an api's."""
    if options[baseline].kind == "api":
        return
    for option in options.values():
        key = option.path("migration_months")
        if option.kind == "api" and quantities[key].support()[1] > 0:
            raise ScenarioError(
                f"the baseline '{baseline}' serves the traffic while it moves here, so it "
                f"must be an api option (it is {options[baseline].kind}); or set "
                "migration_months to 0",
                key=key,
            )


def _check_staged(option: Option, options: Mapping[str, Option]) -> None:
    start, then = option.params["start"], option.params["then"]
    for key, name, allowed in (
        ("start", start, [k for k in options if options[k].kind != "staged"]),
        ("then", then, [k for k in options if options[k].kind in STAGED_TARGETS]),
    ):
        if name not in options:
            raise ScenarioError(unknown(name, "an option", allowed), key=option.path(key))
        if name not in allowed:
            kinds = "any kind but staged" if key == "start" else ", ".join(STAGED_TARGETS)
            raise ScenarioError(
                f"'{name}' is a {options[name].kind} option; {key} must be {kinds}",
                key=option.path(key),
            )
    if start == then:
        raise ScenarioError("start and then name the same option", key=option.path("then"))


def _check_acyclic(name: str, options: Mapping[str, Option], chain: tuple[str, ...]):
    if name in chain:
        cycle = " -> ".join((*chain[chain.index(name) :], name))
        key = f"options.{chain[0]}.routes"
        raise ScenarioError(f"hybrid routes form a cycle: {cycle}", key=key)
    for route in options[name].routes:
        _check_acyclic(route.option, options, (*chain, name))
