"""``simulate fit``: workload inputs from a usage export.

The Azure trace (tests/data, see its README for the attribution) is recomputed here
straight from the CSV with the standard library and NumPy, as the contract defines
each value; generated request logs and daily series with known shapes, growth and
volatility check what the fit recovers.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import simulate
from simulator.fit import fit_usage
from simulator.fit.series import growth_fit
from simulator.scenario.errors import ScenarioError
from simulator.scenario.parse import parse_scenario

AZURE = Path(__file__).parent / "data" / "azure-llm-inference-2023-conv.csv"

SCENARIO = """
[scenario]
name = "fitted"
horizon_months = 12
[options.api]
kind = "api"
input_price_per_mtok = 2
output_price_per_mtok = 8
"""


def azure_rows():
    with AZURE.open(newline="") as f:
        rows = list(csv.DictReader(f))
    stamps = [dt.datetime.fromisoformat(r["TIMESTAMP"][:26]) for r in rows]
    return rows, stamps


def write(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def as_scenario(fragment: str) -> dict:
    document = tomllib.loads(SCENARIO)
    document["workload"] = tomllib.loads(fragment)["workload"]
    return document


# ---------------------------------------------------------------------------
# The Azure trace, recomputed from the CSV


def test_azure_trace_values_recomputed_from_the_csv():
    fit = fit_usage(AZURE)
    rows, stamps = azure_rows()
    n = len(rows)
    assert fit.kind == "requests"
    # The rate: n over the seconds from the first to the last request, times 730 h.
    # (Timestamps carry 7 decimals; microseconds are exact to the 1e-6 s kept here.)
    span = (max(stamps) - min(stamps)).total_seconds()
    assert fit.values["requests_per_month"] == pytest.approx(n / span * 730 * 3600, abs=1)
    # More than 10,000 values: lognormals through the 5th and 95th percentiles.
    for key, column in (
        ("input_tokens_per_request", "ContextTokens"),
        ("output_tokens_per_request", "GeneratedTokens"),
    ):
        values = sorted(int(r[column]) for r in rows)
        expected = {}
        for q in (5, 95):  # linear interpolation between order statistics
            at = (n - 1) * q / 100
            low = math.floor(at)
            expected[f"p{q}"] = values[low] + (values[low + 1] - values[low]) * (at - low)
        assert fit.values[key] == {"dist": "lognormal", **expected}
    # Within-hour burst: 60-second bins from the first request, p99 over the mean.
    first = min(stamps)
    counts = np.zeros(int(span // 60) + 1)
    for stamp in stamps:
        counts[int((stamp - first).total_seconds() // 60)] += 1
    assert len(counts) == 59  # 58.4 minutes
    burst = np.percentile(counts, 99) / counts.mean()
    assert fit.values["within_hour_burst"] == pytest.approx(burst, abs=1e-4)
    assert 1.4 < burst < 1.6  # by eye from the per-minute counts: 491 at most-busy over 328
    # An hour of data has no weekly shape.
    assert fit.values["load_profile"] == "flat"


def test_azure_fragment_is_a_valid_workload(tmp_path):
    fit = fit_usage(AZURE)
    scenario = parse_scenario(as_scenario(fit.fragment()))
    burst = scenario.quantities["workload.within_hour_burst"]
    assert burst.value == fit.values["within_hour_burst"]
    assert scenario.load_profile == (1.0,)
    text = fit.fragment("support")
    assert "[workloads.support]" in text
    assert all(len(line) <= 88 for line in text.splitlines())


def test_unsorted_log_with_repeated_timestamps_is_sorted(tmp_path):
    rows, _ = azure_rows()
    rng = np.random.default_rng(0)
    # One-second resolution, as many logs have it: timestamps repeat.
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    seconds = [(r["TIMESTAMP"][:19], r["ContextTokens"], r["GeneratedTokens"]) for r in shuffled]
    path = write(tmp_path / "log.csv", ["timestamp", "input_tokens", "output_tokens"], seconds)
    fit = fit_usage(path)
    report = fit.report()
    assert "out of order" in report and "sorted by time" in report
    assert "share a timestamp" in report
    sorted_path = write(tmp_path / "sorted.csv", ["timestamp", "input_tokens", "output_tokens"],
                        sorted(seconds))  # fmt: skip
    assert fit_usage(sorted_path).values == fit.values
    assert "out of order" not in fit_usage(sorted_path).report()


# ---------------------------------------------------------------------------
# A generated fortnight: the profile and the burst over it


def fortnight(tmp_path: Path, start: dt.datetime) -> tuple[Path, np.ndarray]:
    """Two weeks of Poisson arrivals, three times as many in weekday office hours."""
    rng = np.random.default_rng(7)
    shape = np.array([3.0 if d < 5 and 8 <= h < 18 else 1.0 for d in range(7) for h in range(24)])
    rows = []
    for hour in range(14 * 24):
        when = start + dt.timedelta(hours=hour)
        n = rng.poisson(120 * shape[(when.weekday() * 24 + when.hour) % 168])
        for s in np.sort(rng.uniform(0, 3600, n)):
            rows.append(((when + dt.timedelta(seconds=float(s))).isoformat(), 500, 100))
    return write(tmp_path / "week.csv", ["created_at", "prompt_tokens", "completion_tokens"],
                 rows), shape  # fmt: skip


def test_a_fortnight_gives_the_168_hour_profile(tmp_path):
    path, shape = fortnight(tmp_path, dt.datetime(2024, 3, 4))  # a Monday, 00:00
    fit = fit_usage(path)
    profile = np.array(fit.values["load_profile"])
    assert len(profile) == 168
    assert profile.mean() == pytest.approx(1, abs=0.001)  # rounded to 3 decimals
    # 240 expected arrivals an hour on average over 2 weeks: Poisson error about 4-7%.
    office, rest = profile[shape == 3].mean(), profile[shape == 1].mean()
    assert office / rest == pytest.approx(3, rel=0.03)
    # The same counts by brute force: the hour of the week's requests over its seconds.
    with path.open() as f:
        stamps = [dt.datetime.fromisoformat(r["created_at"]) for r in csv.DictReader(f)]
    first, last = stamps[0], stamps[-1]
    counts, seen = np.zeros(168), np.zeros(168)
    for s in stamps:
        counts[s.weekday() * 24 + s.hour] += 1
    hour = first.replace(minute=0, second=0, microsecond=0)
    while hour <= last:
        end = hour + dt.timedelta(hours=1)
        seen[hour.weekday() * 24 + hour.hour] += (min(end, last) - max(hour, first)).total_seconds()
        hour = end
    rates = counts / seen
    np.testing.assert_allclose(profile, rates / rates.mean(), atol=5e-4)
    # The burst divides each minute (from the first request) by its hour's mean count
    # in a minute, the hour being the minute's start.
    minutes = np.zeros(int((last - first).total_seconds() // 60) + 1)
    for s in stamps:
        minutes[int((s - first).total_seconds() // 60)] += 1
    starts = [first + dt.timedelta(minutes=i) for i in range(len(minutes))]
    expected = np.array([rates[s.weekday() * 24 + s.hour] * 60 for s in starts])
    normalised = minutes / expected
    burst = np.percentile(normalised, 99) / normalised.mean()
    assert fit.values["within_hour_burst"] == pytest.approx(burst, abs=1e-4)
    raw = np.percentile(minutes, 99) / minutes.mean()
    assert burst < raw  # the office-hour peak does not count twice
    parse_scenario(as_scenario(fit.fragment()))


def test_a_partial_week_stays_flat(tmp_path):
    path, _ = fortnight(tmp_path, dt.datetime(2024, 3, 4))
    with path.open() as f:
        rows = list(csv.reader(f))
    week = [r for r in rows[1:] if r[0] < "2024-03-10T23"]  # six days and 23 hours
    fit = fit_usage(write(tmp_path / "part.csv", rows[0], week))
    assert fit.values["load_profile"] == "flat"
    # Unnormalised: the office peak counts in the burst, above the fortnight's.
    whole = fit_usage(path).values["within_hour_burst"]
    assert fit.values["within_hour_burst"] > whole


# ---------------------------------------------------------------------------
# Daily and monthly series with known growth and volatility


def daily_series(rng, *, months: int, growth: float, volatility: float, start=(2023, 1)):
    """Daily rows whose calendar months follow the simulator's volume model: log volume a
    random walk with drift log(1 + growth) and monthly shocks of sd ``volatility``;
    each day a weekday-shaped share of its month, with 2% day-to-day noise."""
    year, month = start
    level = math.log(1e6)
    rows = []
    for _ in range(months):
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        days = [first + dt.timedelta(d) for d in range((following - first).days)]
        weight = np.array([1.0 if d.weekday() < 5 else 0.4 for d in days])
        weight *= np.exp(rng.normal(0, 0.02, len(days)))
        volume = math.exp(level) * weight / weight.sum()
        rows += [(d.isoformat(), round(v)) for d, v in zip(days, volume, strict=True)]
        level += math.log1p(growth) + rng.normal(0, volatility)
        year, month = following.year, following.month
    return rows


def test_daily_series_recovers_growth_within_its_stated_error(tmp_path):
    rng = np.random.default_rng(11)
    growth, volatility = 0.04, 0.05
    inside, estimates = 0, []
    trials = 300
    for i in range(trials):
        rows = daily_series(rng, months=24, growth=growth, volatility=volatility)
        fit = fit_usage(write(tmp_path / f"d{i}.csv", ["date", "requests"], rows))
        stated = fit.values["monthly_growth"]
        assert stated["dist"] == "normal"
        inside += abs(stated["mean"] - growth) <= 2 * stated["sd"]
        estimates.append(fit.values["growth_volatility"])
    # A 95% interval: 285 of 300 expected, binomial sd 3.8. The textbook independent-
    # errors standard error is about a third of the random walk's, and would cover
    # well under half.
    assert 270 <= inside <= 297
    # Volatility: each estimate has about 15% error; the mean of 300 about 1%.
    assert np.mean(estimates) == pytest.approx(volatility, rel=0.04)


def test_daily_series_uses_whole_months_only(tmp_path):
    rows = daily_series(np.random.default_rng(3), months=6, growth=0.1, volatility=0.0)
    # Cut into the first and last months: four whole months remain.
    cut = [r for r in rows if "2023-01-10" <= r[0] <= "2023-06-20"]
    fit = fit_usage(write(tmp_path / "cut.csv", ["day", "requests"], cut))
    assert "left out" in fit.report()
    assert fit.kind == "daily"
    totals = {}
    for day, n in cut:
        if "2023-02" <= day[:7] <= "2023-05":
            totals[day[:7]] = totals.get(day[:7], 0) + n
    assert fit.values["requests_per_month"] == totals["2023-05"]
    # No shocks: each month 10% above the last, up to the rounding of the days.
    assert fit.values["monthly_growth"]["mean"] == pytest.approx(0.1, abs=1e-4)
    assert fit.values["growth_volatility"] == pytest.approx(0, abs=1e-4)


def test_monthly_rows_of_tokens(tmp_path):
    rows = [(f"2024-{m:02d}-01", round(5e8 * 1.05**m)) for m in range(1, 9)]
    fit = fit_usage(write(tmp_path / "m.csv", ["month", "total_tokens"], rows))
    assert fit.kind == "monthly"
    assert fit.values["monthly_growth"]["mean"] == pytest.approx(0.05, abs=1e-6)
    assert "requests_per_month" not in fit.values  # tokens, not requests


def test_growth_fit_by_hand():
    # Log volumes 0, 0.1, 0.3 at months 0, 1, 2: the slope of the least-squares line is
    # (0.3 - 0) / 2 = 0.15 (the middle point only moves the intercept); the changes less
    # b are -0.05 and 0.05, so volatility = sqrt((0.0025 + 0.0025) / 1) = 0.0707.
    # Weights w = (-1, 0, 1) / 2; min(s, t) over months from the first = [[0,0,0],
    # [0,1,1], [0,1,2]]; w' M w = (1/4) * 2 = 0.5; se = 0.0707 * sqrt(0.5) = 0.05.
    b, se, volatility = growth_fit(np.array([0.0, 1, 2]), np.array([0.0, 0.1, 0.3]))
    assert b == pytest.approx(0.15)
    assert volatility == pytest.approx(math.sqrt(0.005))
    assert se == pytest.approx(0.05)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-0.2, 0.3),
    st.floats(1, 1e9),
    st.lists(st.integers(1, 3), min_size=2, max_size=20),
)
def test_growth_fit_of_a_smooth_trend(growth, start, steps):
    # Exact compound growth, months possibly missing: the slope is exact, and a series
    # without shocks has no volatility and no error.
    months = np.concatenate([[0], np.cumsum(steps)]).astype(float)
    b, se, volatility = growth_fit(months, math.log(start) + months * math.log1p(growth))
    assert math.expm1(b) == pytest.approx(growth, abs=1e-9)
    assert volatility == pytest.approx(0, abs=1e-9)
    assert se == pytest.approx(0, abs=1e-9)


# ---------------------------------------------------------------------------
# Bad files: one line, exit 2, the row and the column


def run_fit(*args):
    result = CliRunner().invoke(simulate, ["fit", *map(str, args)], prog_name="simulate")
    return result.exit_code, result.output


BAD = {
    "empty.csv": (b"", "is empty"),
    "header.csv": (b"timestamp,input_tokens,output_tokens\n", "no data rows"),
    "one.csv": (b"timestamp,input_tokens,output_tokens\n2024-01-01 10:00:00,5,6\n", "one request"),
    "binary.csv": (b"\x00\x01\x02timestamp", "NUL"),
    "latin1.csv": ("timestamp,caf\xe9\n".encode("latin-1"), "not UTF-8"),
    "notime.csv": (b"a,b\n1,2\n", "no time column"),
    "word.csv": (
        b"timestamp,input_tokens,output_tokens\n2024-01-01 10:00:00,5,6\n"
        b"2024-01-01 10:00:01,many,6\n",
        "row 3, column 'input_tokens': 'many' is not a token count",
    ),
    "negative.csv": (
        b"timestamp,ContextTokens,GeneratedTokens\n2024-01-01 10:00:00,5,-6\n",
        "row 2, column 'GeneratedTokens': '-6' is not a token count",
    ),
    "when.csv": (
        b"timestamp,input_tokens,output_tokens\n2024-01-01 10:00:00,5,6\nlater,5,6\n",
        "row 3, column 'timestamp': 'later' is not a date or time",
    ),
    "repeat.csv": (
        b"date,requests\n2024-01-01,5\n2024-01-02,6\n2024-01-01,7\n",
        "row 4, column 'date': repeats the date 2024-01-01 of row 2",
    ),
    "short.csv": (b"date,requests\n2024-01-01,5\n2024-02-01,6\n", "a growth fit needs at least 3"),
    "ragged.csv": (b"date,requests\n2024-01-01,5\n2024-01-02,6,7,8\n", "is not valid CSV"),
    "tokensonly.csv": (b"timestamp,requests\n2024-01-01 10:00:00,1\n", "no input (prompt)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_exit_2_with_one_line(tmp_path, name):
    data, message = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    status, output = run_fit(path)
    assert status == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"simulate: error: {path}: ")
    assert message in lines[0]
    with pytest.raises(ScenarioError):
        fit_usage(path)


def test_missing_file_and_folder(tmp_path):
    for path, message in ((tmp_path / "nope.csv", "no such file"), (tmp_path, "is a folder")):
        status, output = run_fit(path)
        assert status == 2 and message in output and output.count("\n") == 1


# ---------------------------------------------------------------------------
# The command's files


def test_out_is_never_overwritten_without_force(tmp_path):
    out = tmp_path / "workload.toml"
    status, output = run_fit(AZURE, "--out", out, "--workload", "chat")
    assert status == 0, output
    assert output.rstrip().endswith(f"Wrote {out}")
    assert "within_hour_burst" in output  # the report
    first = out.read_text()
    assert "[workloads.chat]" in first
    out.write_text("# mine\n")
    status, output = run_fit(AZURE, "--out", out)
    assert status == 2 and "exists; give --force" in output
    assert out.read_text() == "# mine\n"
    status, _ = run_fit(AZURE, "--out", out, "--force")
    assert status == 0 and out.read_text().startswith("# Fitted by")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workload.toml"]  # no staging


def test_fragment_on_stdout_report_on_stderr():
    result = CliRunner().invoke(simulate, ["fit", str(AZURE)], prog_name="simulate")
    assert result.exit_code == 0
    tomllib.loads(result.stdout)  # the fragment alone
    assert result.stderr.startswith("Fit of ")


def test_file_names_stay_text_in_the_fragment(tmp_path):
    evil = tmp_path / "a\nb = 1\n.csv"
    evil.write_bytes(AZURE.read_bytes())
    fit = fit_usage(evil)
    document = tomllib.loads(fit.fragment())  # the new line did not make a key
    assert set(document) == {"workload"}
