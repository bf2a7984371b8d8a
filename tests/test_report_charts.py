"""Charts: the series, labels and colours of each figure (never its pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.report.charts import CHARTS
from simulator.report.charts.cost import (
    cost_curves,
    monthly_fans,
    savings_histograms,
    setup_window,
)
from simulator.report.charts.drawing import BASELINE_COLOUR, option_colours
from simulator.report.charts.timing import breakeven_curves, cheaper_by_year
from simulator.scenario.numbers import axis_money, share

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(SCENARIOS / "logistics.toml"), paths=3000, seed=5)


def artists(figure, gid_prefix):
    """Every artist of ``figure`` whose gid starts with ``gid_prefix``, by option name."""
    found = {}
    for ax in figure.axes:
        for artist in [*ax.lines, *ax.patches, *ax.collections]:
            gid = artist.get_gid()
            if gid and gid.startswith(gid_prefix + ":"):
                found[gid.split(":", 1)[1]] = artist
    return found


def colour(artist) -> str:
    from matplotlib.colors import to_hex
    from matplotlib.lines import Line2D

    if isinstance(artist, Line2D):
        return to_hex(artist.get_color())
    face = np.asarray(artist.get_facecolor())
    return to_hex(face[0] if face.ndim == 2 else face)


def legend_texts(figure) -> list[str]:
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend())]
    return [t.get_text().replace("\n", " ") for legend in legends for t in legend.get_texts()]


def test_each_option_keeps_one_colour(result):
    colours = option_colours(result)
    assert colours["api"] == BASELINE_COLOUR  # the baseline
    assert len(set(colours.values())) == len(colours)
    curves = artists(cost_curves(result), "cost-curve")
    medians = artists(monthly_fans(result), "fan-median")
    years = artists(cheaper_by_year(result), "by-year")
    for name in result.options:
        assert colour(curves[name]) == colours[name]
        assert colour(medians[name]) == colours[name]
        if name in result.versus:
            assert colour(years[name]) == colours[name]


def test_cost_curves_are_the_total_cost_quantiles(result):
    figure = cost_curves(result)
    curves = artists(figure, "cost-curve")
    marks = artists(figure, "cost-marks")
    assert set(curves) == set(marks) == set(result.options)
    for name, option in result.options.items():
        x, q = curves[name].get_data()
        assert np.all(np.diff(q) > 0) and np.all(np.diff(x) >= 0)  # a CDF
        histogram = result.paths.tally.histograms[f"total:{name}"]
        np.testing.assert_allclose(x, histogram.quantile(q))
        cost = option.total_cost
        np.testing.assert_allclose(marks[name].get_xdata(), [cost.p5, cost.p50, cost.p95])
        np.testing.assert_allclose(marks[name].get_ydata(), [0.05, 0.5, 0.95])
    labels = legend_texts(figure)
    for option in result.options.values():
        assert any(option.label in text for text in labels)
    ax = figure.axes[0]
    assert ax.xaxis.get_major_formatter()(2_500_000, 0) == axis_money(2_500_000) == "$2.5M"
    cheapest = min(result.options.values(), key=lambda o: o.total_cost.p50)
    assert cheapest.label in figure.get_suptitle().replace("\n", " ")


def test_monthly_fans_show_the_band_median_and_setup(result):
    figure = monthly_fans(result)
    medians = artists(figure, "fan-median")
    bands = artists(figure, "fan-band")
    setups = artists(figure, "fan-setup")
    assert set(medians) == set(bands) == set(result.options)
    months = result.scenario.horizon_months
    for name, option in result.options.items():
        x, y = medians[name].get_data()
        np.testing.assert_array_equal(x, np.arange(1, months + 1))
        np.testing.assert_allclose(y, option.monthly_cost["p50"])
        (outline,) = bands[name].get_paths()
        band = outline.vertices[:, 1]
        low, high = min(option.monthly_cost["p5"]), max(option.monthly_cost["p95"])
        assert band.min() == pytest.approx(low) and band.max() == pytest.approx(high)
    # Self-hosting and the managed endpoint have a setup period; APIs have none.
    assert set(setups) == {"self_hosted", "cloud_managed"}
    p50, _ = setup_window(result.scenario, "self_hosted")
    span = setups["self_hosted"].get_path().vertices[:, 0]
    transformed = setups["self_hosted"].get_patch_transform().transform(np.c_[span, span])[:, 0]
    assert (transformed.min(), transformed.max()) == pytest.approx((0.5, 0.5 + p50))
    titles = [ax.get_title(loc="left").replace("\n", " ") for ax in figure.axes]
    for option in result.options.values():
        assert any(option.label in t for t in titles)


def test_setup_window_comes_from_the_scenario(result):
    scenario = result.scenario
    dist = scenario.quantities["options.self_hosted.setup_months"]
    assert setup_window(scenario, "self_hosted") == pytest.approx(
        tuple(dist.ppf(np.array([0.5, 0.95])))
    )
    assert setup_window(scenario, "api") is None
    assert setup_window(scenario, "hybrid") is None  # its routes are APIs


def test_savings_histograms_hold_the_paths_and_say_p_cheaper(result):
    figure = savings_histograms(result)
    bars = {
        name: [
            p
            for ax in figure.axes
            for p in ax.patches
            if (p.get_gid() or "").startswith(f"savings-bar:{name}:")
        ]
        for name in result.versus
    }
    assert all(bars.values())
    colours = option_colours(result)
    for name, versus in result.versus.items():
        heights = np.array([p.get_height() for p in bars[name]])
        lefts = np.array([p.get_x() for p in bars[name]])
        widths = np.array([p.get_width() for p in bars[name]])
        assert 0.985 <= heights.sum() <= 1.0 + 1e-9  # the middle 99% of paths, at least
        assert (heights >= 0).all()
        # Bars are coloured by side of zero, and none straddles it.
        for patch, left, width in zip(bars[name], lefts, widths, strict=True):
            # matplotlib stores a bar's width as a difference of its converted edges,
            # so the right edge of the bar ending at zero can land a rounding past it.
            assert not (left < 0 and left + width > 1e-9 * width)
            expected = colours[name] if left >= 0 else "#bdbdbd"
            assert colour(patch) == expected
        # The bars' mass right of zero is P(cheaper), up to the tails left off.
        assert heights[lefts >= 0].sum() == pytest.approx(versus.p_cheaper, abs=0.011)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    for versus in result.versus.values():
        assert any(f"cheaper on {share(versus.p_cheaper)} of paths" in t for t in texts)


def test_cheaper_by_year_plots_the_summary(result):
    figure = cheaper_by_year(result)
    lines = artists(figure, "by-year")
    assert set(lines) == set(result.versus)
    for name, versus in result.versus.items():
        x, y = lines[name].get_data()
        np.testing.assert_array_equal(x, np.arange(1, len(versus.p_cheaper_by_year) + 1))
        np.testing.assert_allclose(y, versus.p_cheaper_by_year)
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert ticks == ["end of year 1", "end of year 2", "end of year 3"]
    # Self-hosting only pulls ahead in year two: the title says so.
    assert "Self-hosted" in figure.get_suptitle() and "year 2" in figure.get_suptitle()


def test_breakeven_curves_count_paths_by_month(result):
    figure = breakeven_curves(result)
    lines = artists(figure, "breakeven")
    assert set(lines) == set(result.versus)
    sums = result.paths.tally.totals()
    for name, versus in result.versus.items():
        counts = sums[f"breakeven:{name}"]
        x, y = lines[name].get_data()
        np.testing.assert_allclose(y, np.cumsum(counts[1:]) / counts.sum())
        assert y[-1] == pytest.approx(versus.breakeven_p_within_horizon)
        assert lines[name].get_drawstyle() == "steps-post"
    labels = legend_texts(figure)
    for name in result.versus:
        assert any(result.options[name].label in text and "never:" in text for text in labels)


def test_every_chart_has_a_finding_for_a_title(result):
    for chart in CHARTS:
        if not chart.applies(result):
            continue
        title = chart.draw(result).get_suptitle()
        assert len(title) > 20
        assert "nan" not in title.lower()


def test_a_single_option_gets_the_charts_that_apply():
    from simulator import parse_scenario

    scenario = parse_scenario(
        {
            "scenario": {"name": "one"},
            "workload": {
                "requests_per_month": 1e6,
                "input_tokens_per_request": 500,
                "output_tokens_per_request": 100,
            },
            "options": {
                "api": {"kind": "api", "input_price_per_mtok": 1.0, "output_price_per_mtok": 4.0}
            },
        }
    )
    outcome = run(scenario, paths=500, seed=1)
    slugs = [chart.slug for chart in CHARTS if chart.applies(outcome)]
    assert slugs == ["cost-ranges", "cost-curves", "monthly-cost"]
    for chart in CHARTS[:2]:
        assert chart.draw(outcome).get_suptitle()


def _drawn_texts(figure):
    """Every piece of text the figure draws, with its box in pixels: tick labels only
    for ticks inside the axis's view (matplotlib keeps the others but does not draw
    them)."""
    from matplotlib.text import Text

    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    undrawn = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not low - slack <= tick.get_loc() <= high + slack:
                    undrawn |= {id(tick.label1), id(tick.label2)}
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in figure.findobj(Text)
        if id(t) not in undrawn and t.get_visible() and t.get_text().strip()
    ]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_no_chart_text_is_clipped_or_overlaps(path):
    import itertools

    result = run(load_scenario(path), paths=600, seed=2)
    for chart in CHARTS:
        if not chart.applies(result):
            continue
        figure = chart.draw(result)
        width, height = figure.bbox.width, figure.bbox.height
        texts = _drawn_texts(figure)
        for text, box in texts:
            inside = box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= width + 0.5
            assert inside and box.y1 <= height + 0.5, (chart.slug, text, box.bounds)
        for (one, a), (other, b) in itertools.combinations(texts, 2):
            across = min(a.x1, b.x1) - max(a.x0, b.x0)
            down = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert across <= 1 or down <= 1, (chart.slug, one, other)
