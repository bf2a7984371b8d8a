"""Fast inverse CDFs, and the normal CDF, in NumPy alone.

Importing SciPy costs a few tenths of a second (``scipy.stats`` most of a second),
longer than a whole million-path run of a simple scenario, so a run never imports it:
the sampling hot path uses these instead. Each is checked against SciPy in the tests.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = [
    "HermiteInverse",
    "beta_inverse",
    "binomial_counts",
    "ndtri",
    "norm_cdf",
    "normal_cdf",
    "norm_sf",
    "poisson_counts",
]

# Wichura's algorithm AS 241 (PPND16), Applied Statistics 37(3), 1988: the normal
# quantile to about 1e-16 relative accuracy with three rational approximations.
_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
      1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
      3.3430575583588128105e4, 2.5090809287301226727e3)  # fmt: skip
_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
      5.2264952788528545610e3)  # fmt: skip
_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
      3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
      2.27238449892691845833e-2, 7.74545014278341407640e-4)  # fmt: skip
_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)  # fmt: skip
_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
      2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)  # fmt: skip
_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
      2.04426310338993978564e-15)  # fmt: skip


def _poly(coefficients, x):
    result = np.full_like(x, coefficients[-1])
    for c in coefficients[-2::-1]:
        result *= x
        result += c
    return result


def ndtri(u) -> np.ndarray:
    """Standard normal quantile of ``u`` in (0, 1) (AS 241)."""
    u = np.asarray(u, dtype=float)
    q = u - 0.5
    r = 0.180625 - q * q
    x = _poly(_A, r)
    x *= q
    x /= _poly(_B, r)
    tail = np.abs(q) > 0.425
    if tail.any():
        qt = q[tail]
        rt = np.sqrt(-np.log(np.where(qt < 0, u[tail], 1.0 - u[tail])))
        rn = rt - 1.6
        xt = _poly(_C, rn)
        xt /= _poly(_D, rn)
        far = rt > 5.0  # u within about 1e-11 of 0 or 1: rare, so costed apart
        if far.any():
            rf = rt[far] - 5.0
            xt[far] = _poly(_E, rf) / _poly(_F, rf)
        np.negative(xt, out=xt, where=qt < 0)
        x[tail] = xt
    return x[()]


def norm_cdf(x: float) -> float:
    """Standard normal CDF of a scalar, accurate in the lower tail."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_sf(x: float) -> float:
    """Standard normal survival function of a scalar, accurate in the upper tail."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


class HermiteInverse:
    """An inverse CDF tabulated once and evaluated by cubic Hermite interpolation.

    Nodes are evenly spaced in ``s = log(u / (1 - u))``, which spaces them
    geometrically in both tails, where inverse CDFs bend most. With the exact
    slope at every node (``dx/ds = u (1 - u) / pdf(x)``) the error is of order
    ``step**4``: about 1e-10 of the range for the families here (see the tests).

    Parameters
    ----------
    s
        Evenly spaced nodes in logit space.
    x, slope
        The quantile at each node and its derivative with respect to ``s``.
    """

    def __init__(self, s: np.ndarray, x: np.ndarray, slope: np.ndarray):
        self.s0 = float(s[0])
        self.step = float(s[1] - s[0])
        self.x = x
        self.slope = slope * self.step

    def __call__(self, u) -> np.ndarray:
        # (2 t^3 - 3 t^2 + 1) x0 + (t^3 - 2 t^2 + t) m0 + (-2 t^3 + 3 t^2) x1 + (t^3 - t^2) m1,
        # worked out in place, each operation in the order the formula gives.
        u = np.asarray(u, dtype=float)
        shape = u.shape
        u = u.reshape(-1)
        s = np.log(u)
        s -= np.log1p(-u)
        s -= self.s0
        s /= self.step
        t = np.clip(s, 0.0, len(self.x) - 1.000001, out=s)
        i = t.astype(np.intp)
        t -= i
        t2 = t * t
        t3 = t2 * t
        three_t2 = 3 * t2
        out = 2 * t3
        out -= three_t2
        out += 1
        out *= self.x[i]
        term = np.subtract(t3, 2 * t2)
        term += t
        term *= self.slope[i]
        out += term
        i += 1
        np.multiply(-2, t3, out=term)
        term += three_t2
        term *= self.x[i]
        out += term
        t3 -= t2
        t3 *= self.slope[i]
        out += t3
        return out.reshape(shape)[()]


# Uniforms never go below 2**-54 nor above 1 - 2**-53 (see sampling.py).
_LOGIT_LOW = math.log(2.0**-55)
_LOGIT_HIGH = -math.log(2.0**-54)
_LOGIT_STEP = 0.01


@lru_cache(maxsize=256)
def beta_inverse(alpha: float, beta: float) -> HermiteInverse:
    """Inverse CDF of Beta(alpha, beta) on [0, 1], tabulated (alpha, beta >= 1).

    Built once per shape by :func:`_beta_quantile`: the lower half of the nodes from
    the lower tail and the upper half from the upper tail, so both keep full precision.
    """
    s = np.arange(_LOGIT_LOW, _LOGIT_HIGH + _LOGIT_STEP, _LOGIT_STEP)
    u = 1.0 / (1.0 + np.exp(-s))
    v = 1.0 / (1.0 + np.exp(s))  # 1 - u, without cancellation
    lower = s <= 0
    x = np.empty_like(s)
    x[lower] = _beta_quantile(u[lower], alpha, beta)
    x[~lower] = 1.0 - _beta_quantile(v[~lower], beta, alpha)
    log_pdf = (
        (alpha - 1) * np.log(np.maximum(x, 1e-300))
        + (beta - 1) * np.log(np.maximum(1.0 - x, 1e-300))
        - _log_beta(alpha, beta)
    )
    slope = u * v / np.exp(log_pdf)
    return HermiteInverse(s, x, slope)


_TINY = 1e-300


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_fraction(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """The continued fraction of the regularized incomplete beta function, by the
    modified Lentz method, for ``x < (a + 1) / (a + b + 2)`` where it converges fast
    (Numerical Recipes, 3rd ed., section 6.4)."""

    def guarded(v):
        return np.where(np.abs(v) < _TINY, _TINY, v)

    c = np.ones_like(x)
    d = 1.0 / guarded(1.0 - (a + b) * x / (a + 1.0))
    h = d.copy()
    for m in range(1, 301):
        for term in (
            m * (b - m) * x / ((a - 1.0 + 2 * m) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1.0 + 2 * m)),
        ):
            d = 1.0 / guarded(1.0 + term * d)
            c = guarded(1.0 + term / c)
            delta = d * c
            h *= delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return h


def _log_beta_cdf(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """``log I_x(a, b)`` for ``x`` in (0, 1), accurate in the lower tail."""
    front = a * np.log(x) + b * np.log1p(-x) - _log_beta(a, b)
    direct = x < (a + 1.0) / (a + b + 2.0)
    out = np.empty_like(x)
    out[direct] = front[direct] + np.log(_beta_fraction(x[direct], a, b) / a)
    upper = front[~direct] + np.log(_beta_fraction(1.0 - x[~direct], b, a) / b)
    out[~direct] = np.log1p(-np.exp(upper))
    return out


def _beta_quantile(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """``x`` with ``I_x(a, b) = u``, for ``u`` in (0, 0.5]: Newton's method on
    ``log I`` against ``logit(x)``, nearly a straight line in the lower tail, from
    the tail's leading term ``I_x ~ x^a / (a B(a, b))``."""
    target = np.log(u)
    log_beta = _log_beta(a, b)
    start = np.clip(np.exp((target + math.log(a) + log_beta) / a), 1e-300, 0.5)
    y = np.log(start) - np.log1p(-start)
    for _ in range(100):
        x = 1.0 / (1.0 + np.exp(-y))
        log_cdf = _log_beta_cdf(x, a, b)
        # d log I / d logit(x) = pdf(x) x (1 - x) / I(x)
        log_slope = a * np.log(x) + b * np.log1p(-x) - log_beta - log_cdf
        step = np.clip((log_cdf - target) / np.exp(log_slope), -2.0, 2.0)
        y -= step
        if np.all(np.abs(step) < 1e-13):
            break
    return 1.0 / (1.0 + np.exp(-y))


class _NormalCdf:
    """The standard normal CDF by cubic Hermite interpolation of ``log Phi`` on
    ``[-8.5, 0]`` (nodes 2**-10 apart, each exact from ``math.erfc``, with the exact
    slope ``phi / Phi``); ``Phi(z) = 1 - Phi(-z)`` above zero. Within 2e-15 absolute, and
    5e-14 relative in the lower tail; beyond -8.5 (below 1e-17) it returns ``Phi(-8.5)``, under the
    smallest uniform a run draws."""

    LOW = -8.5
    STEP = 2.0**-10

    def __init__(self):
        # One node past zero, so that z = 0 falls on a node, not at the end of a span.
        x = self.LOW + np.arange(int(-self.LOW / self.STEP) + 2) * self.STEP
        cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        self.log = np.log(cdf)
        self.slope = pdf / cdf * self.STEP

    def __call__(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        t = np.abs(z)
        np.negative(t, out=t)
        t -= self.LOW
        t /= self.STEP
        np.clip(t, 0.0, len(self.log) - 2, out=t)
        i = t.astype(np.intp)
        t -= i
        t2 = t * t
        t3 = t2 * t
        log = (2 * t3 - 3 * t2 + 1) * self.log[i] + (t3 - 2 * t2 + t) * self.slope[i]
        i += 1
        log += (3 * t2 - 2 * t3) * self.log[i] + (t3 - t2) * self.slope[i]
        upper = z > 0
        out = np.exp(log)
        out[upper] = -np.expm1(log[upper])
        return out


@lru_cache(maxsize=1)
def _normal_cdf() -> _NormalCdf:
    return _NormalCdf()


def normal_cdf(z) -> np.ndarray:
    """The standard normal CDF of an array (see :class:`_NormalCdf`)."""
    return _normal_cdf()(z)


def _beyond_zero(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Where ``u > exp(-rate)`` (a Poisson count is not zero), for ``(rows, columns)``
    arrays: ``exp`` is worked out only where a row's rate differs from the row before,
    as a monthly rate mostly stays the same month after month and ``exp`` costs far
    more than comparing."""
    above = np.empty(u.shape, dtype=bool)
    mass = np.empty(0)
    for row in range(u.shape[0]):
        changed = np.flatnonzero(rate[row] != rate[row - 1]) if row else np.arange(u.shape[1])
        if 2 * changed.size > u.shape[1]:
            mass = np.exp(-rate[row])
        elif changed.size:
            mass = mass.copy()
            mass[changed] = np.exp(-rate[row, changed])
        np.greater(u[row], mass, out=above[row])
    return above


def poisson_counts(uniforms: np.ndarray, rate) -> np.ndarray:
    """Poisson inverse CDF by summing the probability mass term by term.

    Much faster than ``scipy.stats.poisson.ppf`` for the small rates of monthly
    events, and equal to it (see the tests). After each term only the elements whose
    uniform lies above the cumulative sum so far are carried on.
    """
    shape = np.shape(uniforms)
    u = np.ascontiguousarray(uniforms)
    lam = np.broadcast_to(rate, shape)
    above = _beyond_zero(u, lam) if u.ndim == 2 else u > np.exp(-lam)
    # Counts are mostly 0 or 1: every count above 0 starts at 1, and only the few that
    # go further are written again.
    counts = above.astype(float).reshape(-1)
    live = np.flatnonzero(above)
    u, lam = u.reshape(-1)[live], lam.reshape(-1)[live]
    mass = np.exp(-lam)
    cumulative = mass
    k = 0
    while live.size:
        k += 1
        mass = mass * lam / k
        grown = cumulative + mass
        # The cumulative sum can stall just below 1 in floating point; an element stops
        # there, whatever else is in the batch. Each element's count is the term at
        # which it stops.
        going = (u > grown) & (grown > cumulative)
        if k > 1:
            counts[live[~going]] = k
        live, u, lam, mass, cumulative = (
            live[going],
            u[going],
            lam[going],
            mass[going],
            grown[going],
        )
    return counts.reshape(shape)


def binomial_counts(uniforms: np.ndarray, trials, probability, none=None) -> np.ndarray:
    """Binomial inverse CDF by summing the probability mass term by term.

    ``trials`` (whole numbers) and ``probability`` broadcast against ``uniforms``;
    ``none``, if given, is ``(1 - probability)**trials``, precomputed by a caller that
    needs it often. Equal to ``scipy.stats.binom.ppf`` (see the tests) and far faster
    for the few departures a month of a small team.
    """
    shape = np.shape(uniforms)
    u = np.ascontiguousarray(uniforms).ravel()
    all_trials = np.broadcast_to(trials, shape).ravel()
    p = np.broadcast_to(probability, shape).ravel()
    q = 1.0 - p
    n = all_trials
    mass = np.power(q, n) if none is None else np.broadcast_to(none, shape).ravel()
    ratio = np.divide(p, q, out=np.zeros(u.size), where=q > 0)
    counts = np.zeros(u.size)
    live = np.flatnonzero((u > mass) & (n > 0))
    u, n, ratio, mass = u[live], n[live], ratio[live], mass[live]
    cumulative = mass
    k = 0
    while live.size:
        mass = mass * (n - k) / (k + 1) * ratio
        k += 1
        grown = cumulative + mass
        counts[live] += 1
        # Stop at the number of trials, or where the cumulative sum stalls below 1.
        going = (u > grown) & (k < n) & (grown > cumulative)
        live, u, n, ratio = live[going], u[going], n[going], ratio[going]
        mass, cumulative = mass[going], grown[going]
    return np.where(p >= 1.0, all_trials, counts).reshape(shape)
