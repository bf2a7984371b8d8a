"""Fitting a request log: one row per request, with its time and its tokens.

Token distributions are the ``empirical`` observed values when there are at most
:data:`MAX_EMPIRICAL` of them, else a ``lognormal`` through the observed 5th and 95th
percentiles (or, where the 5th percentile is 0 and no lognormal fits, an
``empirical`` of :data:`QUANTILES` evenly spaced quantiles). The request rate is
``n / (t_last - t_first)``. ``within_hour_burst`` is the 99th percentile of the
requests counted in consecutive 60-second bins from the first request (empty bins
included) over their mean; with a week or more of data each bin is first divided by
the mean of its own hour of the week, which the 168-hour ``load_profile`` carries, so
the two do not count the same peak twice.
"""

from __future__ import annotations

import numpy as np

from ..scenario.numbers import count, number
from .fragment import Fitted
from .table import UsageTable

__all__ = ["MAX_EMPIRICAL", "QUANTILES", "WEEK_S", "fit_requests", "per_minute", "week_rates"]

MAX_EMPIRICAL = 10_000
"""Most values written out as an ``empirical`` distribution."""

QUANTILES = 1_000
"""Quantiles kept when neither the values nor a lognormal can be written."""

WEEK_S = 7 * 24 * 3600
HOUR_S = 3600
BIN_S = 60
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def fit_requests(table: UsageTable, hours_per_month: float) -> tuple[list[str], list[Fitted]]:
    """Facts and fitted workload keys from a request log (see the module).

    Raises
    ------
    ScenarioError
        When a cell is not a time or a token count, or the requests span no time.
    """
    for role, what in (("input", "input (prompt) tokens"), ("output", "output tokens")):
        if role not in table.roles:
            raise table.error(
                f"has a time column but no {what} column; a request log needs both token "
                "columns (ContextTokens and GeneratedTokens, input_tokens and "
                "output_tokens, or prompt_tokens and completion_tokens), and daily or "
                "monthly totals need a requests or tokens column"
            )
    stamps = table.times()
    tokens_in = table.numbers("input", "a token count")
    tokens_out = table.numbers("output", "a token count")
    n = len(stamps)
    if n < 2:
        raise table.error("holds one request; a rate needs at least two, at different times")
    facts = [f"{n:,} requests."]
    order = np.argsort(stamps, kind="stable")
    late = int(np.count_nonzero(np.diff(stamps.astype("int64")) < 0))
    stamps = stamps[order]
    seconds = (stamps - stamps[0]).astype("int64") / 1e9
    span = float(seconds[-1])
    if span <= 0:
        raise table.error("holds requests at one instant only; a rate needs them spread in time")
    repeated = n - len(np.unique(stamps))
    if late:
        facts.append(f"They arrived out of order at {late:,} rows and were sorted by time.")
    if repeated:
        facts.append(f"{repeated:,} share a timestamp with an earlier request (kept).")
    facts.append(f"They span {_duration(span)}, from {_when(stamps[0])} to {_when(stamps[-1])}.")

    rate = n / span
    per_month = rate * hours_per_month * 3600
    fitted = [
        Fitted(
            "requests_per_month",
            round(per_month),
            f"{count(per_month)} a month ({rate:.3g} a second, standard error "
            f"{1 / np.sqrt(n):.1%})",
            f"The observed rate, {n:,} requests over {_duration(span)} = {rate:.4g} a second, "
            f"times {hours_per_month:g} hours a month (Poisson standard error "
            f"{1 / np.sqrt(n):.1%}). A short log gives the rate of its own hours only: "
            "scale it to a whole week's average if it was busier or quieter.",
        ),
        _tokens("input_tokens_per_request", tokens_in),
        _tokens("output_tokens_per_request", tokens_out),
    ]
    weekly = span >= WEEK_S
    rates = week_rates(stamps) if weekly else None
    counts = per_minute(stamps, rates)
    burst = max(1.0, float(np.percentile(counts, 99)) / float(np.mean(counts)))
    if weekly:
        profile = rates / rates.mean()
        busiest = int(np.argmax(profile))
        fitted.append(
            Fitted(
                "load_profile",
                [round(float(p), 3) for p in profile],
                f"168 hours, busiest {_hour(busiest)} at {profile[busiest]:.2f}x the mean",
                f"Requests per hour of the week from Monday 00:00, averaged over the "
                f"{span / WEEK_S:.1f} weeks observed (partial hours by the seconds seen), "
                "scaled to mean 1.",
            )
        )
        burst_how = (
            "The 99th percentile of requests per minute over their mean, each minute first "
            f"divided by the mean of its hour of the week ({len(counts):,} minutes)."
        )
    else:
        fitted.append(
            Fitted(
                "load_profile",
                "flat",
                '"flat" (less than a week of data: no weekly shape)',
                f"Less than a week of data ({_duration(span)}) shows no weekly shape: flat, "
                "so that within_hour_burst applies. Replace it with the shape you expect "
                '("business_hours", "diurnal" or 24 or 168 numbers).',
            )
        )
        burst_how = (
            f"The 99th percentile of requests per minute ({np.percentile(counts, 99):.4g}) "
            f"over their mean ({np.mean(counts):.4g}), in {len(counts):,} consecutive "
            "60-second bins from the first request."
        )
    p99, mean = float(np.percentile(counts, 99)), float(np.mean(counts))
    per = "requests a minute over their hour's mean" if weekly else "requests a minute"
    shown = f"{burst:.3g} ({per}: p99 {p99:.3g}, mean {mean:.3g}, {len(counts):,} minutes)"
    fitted.append(Fitted("within_hour_burst", round(burst, 4), shown, burst_how))
    return facts, fitted


def per_minute(stamps: np.ndarray, rates: np.ndarray | None = None) -> np.ndarray:
    """Requests in consecutive 60-second bins from the first of the sorted ``stamps``.

    With ``rates`` (requests a second in each hour of the week), each bin is divided by
    its hour's expected count in a minute, the hour being that of the bin's start;
    bins in hours of the week that saw no request are left out.
    """
    seconds = (stamps - stamps[0]).astype("int64") // 10**9
    counts = np.bincount(seconds // BIN_S).astype(float)
    if rates is None:
        return counts
    starts = stamps[0] + (np.arange(len(counts)) * BIN_S * 10**9).astype("timedelta64[ns]")
    expected = rates[_hour_of_week(starts)] * BIN_S
    # An hour of the week that saw no request has no mean to divide by.
    return counts[expected > 0] / expected[expected > 0]


def week_rates(stamps: np.ndarray) -> np.ndarray:
    """Requests a second in each of the 168 hours of the week (Monday 00:00 first),
    over the seconds of each hour that the sorted ``stamps`` span."""
    first = stamps[0].astype("datetime64[h]")
    last = stamps[-1].astype("datetime64[h]")
    hours = np.arange(first, last + np.timedelta64(1, "h"), dtype="datetime64[h]")
    start = hours.astype("datetime64[ns]")
    end = start + np.timedelta64(HOUR_S, "s")
    seen = np.minimum(end, stamps[-1]) - np.maximum(start, stamps[0])
    seen = np.maximum(seen.astype("int64"), 0) / 1e9
    index = (stamps.astype("datetime64[h]") - first).astype("int64")
    per_hour = np.bincount(index, minlength=len(hours)).astype(float)
    week = _hour_of_week(start)
    counts = np.bincount(week, weights=per_hour, minlength=168)
    exposure = np.bincount(week, weights=seen, minlength=168)
    return counts / np.where(exposure > 0, exposure, np.nan)


def _hour_of_week(times: np.ndarray) -> np.ndarray:
    hours = times.astype("datetime64[h]").astype("int64")
    # 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of its week.
    return (hours + 72) % 168


def _tokens(key: str, values: np.ndarray) -> Fitted:
    mean = float(values.mean())
    p5, p95 = (float(v) for v in np.percentile(values, [5, 95]))
    spread = (
        "A path draws one value for all its requests, so this is the spread of single "
        f"requests, wider than the uncertainty of the mean ({number(mean)} observed)."
    )
    if len(values) <= MAX_EMPIRICAL:
        return Fitted(
            key,
            {"dist": "empirical", "values": [_whole(v) for v in values]},
            f"empirical of {len(values):,} values (mean {number(mean)})",
            f"The {len(values):,} observed values, each equally likely. {spread}",
        )
    if p5 > 0:
        fitted_mean = float(np.exp((np.log(p5) + np.log(p95)) / 2 + _sigma(p5, p95) ** 2 / 2))
        return Fitted(
            key,
            {"dist": "lognormal", "p5": _whole(p5), "p95": _whole(p95)},
            f"lognormal, p5 {number(p5)}, p95 {number(p95)} (mean {number(fitted_mean)}; "
            f"observed {number(mean)})",
            f"A lognormal through the 5th and 95th percentiles of {len(values):,} values "
            f"(its mean {number(fitted_mean)}). {spread}",
        )
    levels = (np.arange(QUANTILES) + 0.5) / QUANTILES
    quantiles = np.percentile(values, levels * 100)
    return Fitted(
        key,
        {"dist": "empirical", "values": [_whole(v) for v in quantiles]},
        f"empirical, {QUANTILES:,} quantiles, mean {number(mean)}",
        f"{QUANTILES:,} evenly spaced quantiles of {len(values):,} values (a lognormal "
        f"cannot start at the 5th percentile, 0). {spread}",
    )


def _sigma(p5: float, p95: float) -> float:
    return (np.log(p95) - np.log(p5)) / (2 * 1.6448536269514722)


def _whole(x: float) -> float:
    return float(round(x)) if abs(x - round(x)) < 1e-9 else round(float(x), 4)


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} seconds"


def _when(stamp: np.datetime64) -> str:
    return str(stamp.astype("datetime64[s]")).replace("T", " ")


def _hour(index: int) -> str:
    return f"{_DAYS[index // 24]} {index % 24:02d}:00"
