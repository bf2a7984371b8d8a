"""The distribution families a scenario can name, each sampled through its inverse CDF.

Every family maps uniforms in (0, 1) to values, so plain Monte Carlo, Latin hypercube,
Sobol points and rank-correlated inputs all share one sampling path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import ScenarioError, unknown
from .notes import MAX_NOTE
from .special import beta_inverse, ndtri, norm_cdf, norm_sf

__all__ = [
    "Distribution",
    "Fixed",
    "Uniform",
    "Triangular",
    "Pert",
    "Normal",
    "Lognormal",
    "Choice",
    "Empirical",
    "FAMILIES",
    "parse_distribution",
]

_Z95 = 1.6448536269514722  # standard normal 95th percentile


LARGEST = 1e18
"""Largest magnitude accepted for any number in a scenario: far beyond any real
volume, price or cost, and far enough below overflow that sums and powers stay finite."""


def check_magnitude(value: float, what: str, key: str) -> float:
    """``value`` as a float, or a ScenarioError if it is not finite or too large."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"{what} must be finite, got {value!r}", key=key)
    if abs(value) > LARGEST:  # compared exactly, even for integers beyond any float
        shown = f"{value:g}" if isinstance(value, float) else f"{len(str(abs(value)))} digits long"
        raise ScenarioError(
            f"{what} is {shown}; numbers beyond {LARGEST:g} are not supported", key=key
        )
    return float(value)


def _number(table: dict, name: str, key: str) -> float:
    if name not in table:
        raise ScenarioError(f"missing '{name}'", key=key)
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"'{name}' must be a number, got {value!r}", key=key)
    return check_magnitude(value, f"'{name}'", key)


def _numbers(table: dict, name: str, key: str) -> tuple[float, ...]:
    if name not in table:
        raise ScenarioError(f"missing '{name}'", key=key)
    values = table[name]
    if not isinstance(values, list) or not values:
        raise ScenarioError(f"'{name}' must be a non-empty list of numbers", key=key)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ScenarioError(f"'{name}' must hold finite numbers only, got {v!r}", key=key)
    return tuple(check_magnitude(v, f"each of '{name}'", key) for v in values)


@dataclass(frozen=True)
class Distribution:
    """Base of every family: an inverse CDF over uniforms, with its support."""

    keys: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()

    @property
    def is_fixed(self) -> bool:
        """True when every draw is the same value."""
        lo, hi = self.support()
        return lo == hi

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms ``u`` in (0, 1) to values of this distribution."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take (may be infinite)."""
        raise NotImplementedError

    def mass_outside(self, low: float, high: float) -> float:
        """Probability of a draw below ``low`` or above ``high``."""
        lo, hi = self.support()
        if lo >= low and hi <= high:
            return 0.0
        if lo == hi:
            return 1.0
        # Positive whatever the rounding of the CDF: the support already crosses a bound.
        share = self._cdf(low) + (1.0 - self._cdf(high))
        return min(1.0, max(share, np.finfo(float).tiny))

    def _cdf(self, x: float) -> float:
        """The CDF at a point (for validation messages); families override it."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short human description, for reports."""
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(Distribution):
    """A constant."""

    value: float
    keys: ClassVar = ("value",)

    def ppf(self, u):
        return np.full(np.shape(u), self.value)

    def support(self):
        return (self.value, self.value)

    def describe(self):
        return f"{self.value:g}"


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high]."""

    low: float
    high: float
    keys: ClassVar = ("low", "high")

    def __post_init__(self):
        if not self.low <= self.high:
            raise ScenarioError(f"uniform needs low <= high, got low={self.low}, high={self.high}")

    def ppf(self, u):
        return self.low + np.asarray(u) * (self.high - self.low)

    def support(self):
        return (self.low, self.high)

    def _cdf(self, x: float) -> float:
        return min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)

    def describe(self):
        return f"uniform({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class _ThreePoint(Distribution):
    """A family given by its lowest, most likely and highest value."""

    low: float
    mode: float
    high: float
    keys: ClassVar = ("low", "mode", "high")
    family: ClassVar = ""

    def __post_init__(self):
        if not self.low <= self.mode <= self.high:
            raise ScenarioError(
                f"{self.family} needs low <= mode <= high, got "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )

    def support(self):
        return (self.low, self.high)

    def describe(self):
        return f"{self.family}({self.low:g}, {self.mode:g}, {self.high:g})"


@dataclass(frozen=True)
class Triangular(_ThreePoint):
    """Triangular with the given low, mode and high."""

    family: ClassVar = "triangular"

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        width = self.high - self.low
        if width == 0:
            return np.full(u.shape, self.low)
        rising = self.mode - self.low
        # The closed-form inverse of the triangular CDF, one branch each side of the mode.
        return np.where(
            u * width < rising,
            self.low + np.sqrt(u * width * rising),
            self.high - np.sqrt((1.0 - u) * width * (self.high - self.mode)),
        )

    def _cdf(self, x: float) -> float:
        width = self.high - self.low
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        if x <= self.mode:
            return (x - self.low) ** 2 / (width * (self.mode - self.low))
        return 1.0 - (self.high - x) ** 2 / (width * (self.high - self.mode))


@dataclass(frozen=True)
class Pert(_ThreePoint):
    """Beta-PERT (shape 4) with the given low, mode and high."""

    family: ClassVar = "pert"

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        width = self.high - self.low
        if width == 0:
            return np.full(u.shape, self.low)
        return self.low + width * beta_inverse(*self.shape)(u)

    @property
    def shape(self) -> tuple[float, float]:
        """The beta shape parameters (alpha, beta) of this PERT."""
        width = self.high - self.low
        return (1 + 4 * (self.mode - self.low) / width, 1 + 4 * (self.high - self.mode) / width)

    def _cdf(self, x: float) -> float:
        # For error messages only: a fine trapezoid sum of the beta density.
        z = min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)
        alpha, beta = self.shape
        t = np.linspace(0.0, 1.0, 20_001)
        density = t ** (alpha - 1) * (1 - t) ** (beta - 1)
        cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
        return float(np.interp(z, t, cumulative / cumulative[-1]))


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal, truncated to [low, high] when either bound is given."""

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf
    keys: ClassVar = ("mean", "sd")
    optional: ClassVar = ("low", "high")

    def __post_init__(self):
        if self.sd < 0:
            raise ScenarioError(f"normal needs sd >= 0, got sd={self.sd}")
        if not self.low < self.high:
            raise ScenarioError(f"normal needs low < high, got low={self.low}, high={self.high}")
        if self.sd == 0 and not self.low <= self.mean <= self.high:
            raise ScenarioError(f"normal with sd=0 needs low <= mean <= high, got mean={self.mean}")
        if self.sd > 0 and self._mass_between(self.low, self.high) <= 0:
            raise ScenarioError(
                f"normal truncated to [{self.low:g}, {self.high:g}] holds no probability "
                f"(mean={self.mean:g}, sd={self.sd:g})"
            )

    def _cdf(self, x: float) -> float:
        return norm_cdf((x - self.mean) / self.sd)

    def _sf(self, x: float) -> float:
        return norm_sf((x - self.mean) / self.sd)

    def _mass_between(self, a: float, b: float) -> float:
        """Untruncated probability of [a, b], measured from the nearer tail so that a
        range far out in either tail is not lost to rounding."""
        if a > self.mean:
            return self._sf(a) - self._sf(b)
        return self._cdf(b) - self._cdf(a)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self.sd == 0:
            return np.full(u.shape, self.mean)
        if math.isinf(self.low) and math.isinf(self.high):
            return self.mean + self.sd * ndtri(u)
        # Map u into the truncated band of the CDF, p = F(low) + u * mass, and invert.
        # Where p > 1/2 invert its complement, 1 - p = S(high) + (1 - u) * mass, which
        # keeps its precision in the upper tail.
        mass = self._mass_between(self.low, self.high)
        below = self._cdf(self.low) + u * mass
        above = self._sf(self.high) + (1.0 - u) * mass
        z = np.where(below <= 0.5, ndtri(np.minimum(below, 0.5)), -ndtri(np.minimum(above, 0.5)))
        return np.clip(self.mean + self.sd * z, self.low, self.high)

    def support(self):
        if self.sd == 0:
            return (self.mean, self.mean)
        return (self.low, self.high)

    def mass_outside(self, low, high):
        if self.sd == 0:
            return 0.0 if low <= self.mean <= high else 1.0
        lo, hi = max(low, self.low), min(high, self.high)
        if lo >= hi:
            return 1.0
        # Each tail from its own side (cdf below, sf above), so a tail far smaller than
        # machine epsilon is still measured, not lost in 1 - inside.
        below = max(self._cdf(lo) - self._cdf(self.low), 0.0)
        above = max(
            self._sf(hi) - self._sf(self.high),
            0.0,
        )
        return min(1.0, (below + above) / self._mass_between(self.low, self.high))

    def truncated(self, low: float, high: float) -> Normal:
        """The same normal additionally truncated to [low, high]."""
        return Normal(self.mean, self.sd, max(low, self.low), min(high, self.high))

    def describe(self):
        bounds = ""
        if not (math.isinf(self.low) and math.isinf(self.high)):
            bounds = f" in [{self.low:g}, {self.high:g}]"
        return f"normal(mean {self.mean:g}, sd {self.sd:g}){bounds}"


@dataclass(frozen=True)
class Lognormal(Distribution):
    """Lognormal given by its 5th and 95th percentiles (a 90% interval)."""

    p5: float
    p95: float
    keys: ClassVar = ("p5", "p95")

    def __post_init__(self):
        if not 0 < self.p5 <= self.p95:
            raise ScenarioError(f"lognormal needs 0 < p5 <= p95, got p5={self.p5}, p95={self.p95}")

    @property
    def mu(self) -> float:
        """Mean of the log."""
        return (math.log(self.p5) + math.log(self.p95)) / 2

    @property
    def sigma(self) -> float:
        """Standard deviation of the log."""
        return (math.log(self.p95) - math.log(self.p5)) / (2 * _Z95)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self.p5 == self.p95:
            return np.full(u.shape, self.p5)  # exp(log(p5)) can miss p5 by an ulp
        return np.exp(self.mu + self.sigma * ndtri(u))

    def support(self):
        if self.p5 == self.p95:
            return (self.p5, self.p5)
        return (0.0, math.inf)

    def mass_outside(self, low, high):
        if self.p5 == self.p95:
            return 0.0 if low <= self.p5 <= high else 1.0
        below = norm_cdf((math.log(low) - self.mu) / self.sigma) if low > 0 else 0.0
        above = norm_sf((math.log(high) - self.mu) / self.sigma) if high < math.inf else 0.0
        return below + above

    def describe(self):
        return f"lognormal(p5 {self.p5:g}, p95 {self.p95:g})"


@dataclass(frozen=True)
class Choice(Distribution):
    """A discrete choice among ``values`` with optional ``weights``."""

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    keys: ClassVar = ("values",)
    optional: ClassVar = ("weights",)

    def __post_init__(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ScenarioError(
                    f"choice needs one weight per value: {len(self.values)} values, "
                    f"{len(self.weights)} weights"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ScenarioError("choice weights must be >= 0 with a positive sum")

    def _cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """Values in ascending order and their cumulative probabilities."""
        # Sorted, so that ppf is an inverse CDF (non-decreasing in u) whatever order
        # the values are listed in: rank correlations depend on it.
        order = np.argsort(self.values, kind="stable")
        w = np.ones(len(self.values)) if self.weights is None else np.array(self.weights)
        w = w[order]
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        return np.asarray(self.values)[order], cum

    def ppf(self, u):
        values, cumulative = self._cumulative()
        index = np.searchsorted(cumulative, np.asarray(u), side="right")
        return values[np.minimum(index, len(values) - 1)]

    def support(self):
        live = [
            v
            for v, w in zip(self.values, self.weights or [1] * len(self.values), strict=True)
            if w > 0
        ]
        return (min(live), max(live))

    def mass_outside(self, low, high):
        w = np.ones(len(self.values)) if self.weights is None else np.array(self.weights)
        v = np.array(self.values)
        return float(w[(v < low) | (v > high)].sum() / w.sum())

    def describe(self):
        values = ", ".join(f"{v:g}" for v in self.values)
        if self.weights is None:
            return f"choice({values})"
        return f"choice({values}; weights {', '.join(f'{w:g}' for w in self.weights)})"


@dataclass(frozen=True)
class Empirical(Choice):
    """Resampling of observed values, each equally likely."""

    keys: ClassVar = ("values",)
    optional: ClassVar = ()

    def describe(self):
        return f"empirical({len(self.values)} observations)"


FAMILIES: dict[str, type[Distribution]] = {
    "fixed": Fixed,
    "uniform": Uniform,
    "triangular": Triangular,
    "pert": Pert,
    "normal": Normal,
    "lognormal": Lognormal,
    "choice": Choice,
    "empirical": Empirical,
}


def parse_distribution(value: Any, key: str) -> Distribution:
    """Turn a scenario value (a number or a ``{dist = ...}`` table) into a distribution.

    Parameters
    ----------
    value
        A bare number, or a table naming ``dist`` and that family's keys.
    key
        The dotted key path, for error messages.

    Raises
    ------
    ScenarioError
        For an unknown family, a missing or unknown key, or inconsistent parameters.
    """
    if isinstance(value, bool):
        raise ScenarioError(f"must be a number or a distribution table, got {value!r}", key=key)
    if isinstance(value, int | float):
        return Fixed(check_magnitude(value, "the value", key))
    if not isinstance(value, dict):
        raise ScenarioError(
            f"must be a number or a distribution table such as "
            f'{{dist = "uniform", low = 1, high = 2}}, got {value!r}',
            key=key,
        )
    if "dist" not in value:
        raise ScenarioError(
            f"a distribution table needs 'dist', one of: {', '.join(FAMILIES)}", key=key
        )
    name = value["dist"]
    if not isinstance(name, str) or name not in FAMILIES:
        raise ScenarioError(unknown(name, "a distribution", FAMILIES), key=key)
    family = FAMILIES[name]
    allowed = ("dist", *family.keys, *family.optional, "source")
    source = value.get("source")
    if source is not None and not (isinstance(source, str) and len(source) <= MAX_NOTE):
        raise ScenarioError(
            f"'source' must be text of at most {MAX_NOTE} characters, got {source!r:.80}",
            key=key,
        )
    for extra in value:
        if extra not in allowed:
            raise ScenarioError(
                unknown(extra, f"a key of the {name} distribution", allowed), key=key
            )
    try:
        if family in (Choice, Empirical):
            values = _numbers(value, "values", key)
            weights = _numbers(value, "weights", key) if "weights" in value else None
            return Empirical(values) if family is Empirical else Choice(values, weights)
        params = {k: _number(value, k, key) for k in family.keys}
        params.update({k: _number(value, k, key) for k in family.optional if k in value})
        return family(**params)
    except ScenarioError as err:
        raise ScenarioError(err.message, key=key) from None
