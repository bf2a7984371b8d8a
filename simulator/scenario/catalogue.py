"""API prices from a maintained catalogue: ``model = "PROVIDER:MODEL"`` on an api option.

The catalogue is `genai-prices <https://pypi.org/project/genai-prices/>`_, a dated
database of LLM API prices whose data ships inside the package: nothing is fetched at
run time. It is optional (the ``prices`` extra) and imported only when a scenario names
a ``model``. The prices taken are those in effect on ``[scenario] price_date`` (by
default the day of the run), so a run names the catalogue's version and the date.

From the catalogue an api option takes, for every key the scenario does not give:
``input_price_per_mtok``, ``output_price_per_mtok``, ``cached_input_price_per_mtok``
(the cache-read price) and ``batch_discount`` (the batch tier's discount, when it is
the same on input and output tokens). A key given in the scenario always wins.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .errors import ScenarioError, quoted

__all__ = ["CATALOGUE", "Listing", "look_up"]

CATALOGUE = "genai-prices"
"""The catalogue's name on PyPI."""

# Catalogue price keys to the api option's keys they fill.
_PRICE_KEYS = {
    "input_mtok": "input_price_per_mtok",
    "output_mtok": "output_price_per_mtok",
    "cache_read_mtok": "cached_input_price_per_mtok",
}


@dataclass(frozen=True)
class Listing:
    """What the catalogue lists for one model on one date.

    Attributes
    ----------
    model
        The reference as written, ``"PROVIDER:MODEL"``.
    name
        The catalogue's name of the model.
    prices
        The api option's keys the catalogue can fill, with their values.
    tiered
        Keys whose catalogue price has tiers by prompt length (the base tier is taken).
    """

    model: str
    name: str
    prices: dict[str, float]
    tiered: tuple[str, ...] = ()


def catalogue_version() -> str | None:
    """The installed catalogue's version, or ``None`` when it is not installed."""
    try:
        return version(CATALOGUE)
    except PackageNotFoundError:
        return None


def look_up(reference: Any, when: date, key: str) -> Listing:
    """The catalogue's prices for ``reference`` (``"PROVIDER:MODEL"``) on ``when``.

    Raises
    ------
    ScenarioError
        At ``key``: the catalogue is not installed, the reference is malformed, the
        provider or model is not in it, or it lists no input or output price.
    """
    if not isinstance(reference, str):
        raise ScenarioError('must be a string "PROVIDER:MODEL", such as "openai:gpt-4.1"', key=key)
    provider_id, colon, model_ref = reference.partition(":")
    if not (colon and provider_id and model_ref):
        raise ScenarioError(
            f'must be "PROVIDER:MODEL", such as "openai:gpt-4.1", got {quoted(reference)}', key=key
        )
    installed = catalogue_version()
    if installed is None:
        raise ScenarioError(
            f"needs the {CATALOGUE} price catalogue, which is not installed (pip install "
            f"{CATALOGUE}); or give input_price_per_mtok and output_price_per_mtok",
            key=key,
        )
    from genai_prices import data_snapshot

    where = f"{CATALOGUE} {installed}"
    providers = {p.id: p for p in data_snapshot.get_snapshot().providers}
    provider = providers.get(provider_id.lower())
    if provider is None:
        raise ScenarioError(_not_found(provider_id, f"a provider in {where}", providers), key=key)
    model = next((m for m in provider.models if m.is_match(model_ref)), None)
    if model is None:
        names = [m.id for m in provider.models]
        raise ScenarioError(
            _not_found(model_ref, f"a model of {provider.id} in {where}", names), key=key
        )
    stamp = datetime.combine(when, time(), tzinfo=UTC)
    standard = model.get_prices(stamp)
    prices, tiered = {}, []
    for price_key, option_key in _PRICE_KEYS.items():
        value = getattr(standard, price_key, None)
        if value is None:
            continue
        if hasattr(value, "base"):  # tiered by prompt length
            value = value.base
            tiered.append(option_key)
        prices[option_key] = float(value)
    for needed in ("input_price_per_mtok", "output_price_per_mtok"):
        if not prices.get(needed):
            raise ScenarioError(
                f"{where} lists no {needed.split('_')[0]} price for {quoted(reference)} on "
                f"{when.isoformat()}; give {needed}",
                key=key,
            )
    discount = _batch_discount(model, stamp, prices)
    if discount is not None:
        prices["batch_discount"] = discount
    return Listing(reference, model.name or model.id, prices, tuple(tiered))


def _batch_discount(model, stamp: datetime, prices: dict[str, float]) -> float | None:
    """The batch tier's discount on the standard prices, when it is one figure for input
    and output tokens; ``None`` when the model has no batch tier or two figures."""
    batch = model.get_prices(stamp, {"processing": "batch"})
    pairs = []
    for price_key in ("input_mtok", "output_mtok"):
        value = getattr(batch, price_key, None)
        if value is None or hasattr(value, "base"):
            return None
        pairs.append(float(value) / prices[_PRICE_KEYS[price_key]])
    discount = 1.0 - pairs[0]
    if abs(pairs[0] - pairs[1]) > 1e-9 or discount <= 0:
        return None
    return discount


def _not_found(word: str, what: str, choices) -> str:
    """Message for a name not in the catalogue, with the nearest few it does hold."""
    close = difflib.get_close_matches(word.lower(), list(choices), n=5, cutoff=0.5)
    hint = f"; the nearest: {', '.join(close)}" if close else ""
    return f"{quoted(word)} is not {what}{hint}"
