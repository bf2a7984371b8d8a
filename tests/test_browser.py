"""The report page in a real browser: Chromium from the system's packages, driven by
Playwright (no browser is ever downloaded).

On a machine without Chromium at :data:`CHROMIUM` (or without Playwright) these tests
skip and say why; where ``SIMULATOR_REQUIRE_BROWSER=1`` (CI sets it) they fail
instead, so CI never passes without having looked at the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator import load_scenario, run
from simulator.report.writer import write_report

from .conftest import SCENARIOS

CHROMIUM = Path("/usr/lib/chromium/chromium")
"""The Debian/Ubuntu package's binary itself (``/usr/bin/chromium`` is a wrapper script)."""

REQUIRED = os.environ.get("SIMULATOR_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make install adds it)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"browser tests required but cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser") / "logistics"
    result = run(load_scenario(SCENARIOS / "logistics.toml"), paths=4000, seed=5)
    write_report(result, folder)
    return (folder / "index.html").as_uri()


def _boxes(page) -> dict:
    return page.evaluate(
        """() => {
          const box = (el) => {
            const r = el.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
          };
          return {
            headline: box(document.querySelector('.headline')),
            cards: [...document.querySelectorAll('.card')].map(box),
            table: box(document.querySelector('#summary table')),
            chart: box(document.querySelector('.first-chart svg')),
            scrollWidth: document.documentElement.scrollWidth,
            text: [...document.querySelectorAll('figure svg text')]
                    .map((t) => t.getBoundingClientRect().height).filter((h) => h > 0),
          };
        }"""
    )


def test_the_first_screen_at_1400_holds_the_decision_numbers_table_and_a_chart(
    browser, page_url, tmp_path
):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(page_url)
    seen = _boxes(page)
    assert seen["scrollWidth"] <= 1400  # nothing overflows sideways
    assert seen["headline"]["bottom"] <= 900
    assert page.inner_text(".headline").startswith("Move to Hosted-open")
    assert len(seen["cards"]) == 5 and all(c["bottom"] <= 900 for c in seen["cards"])
    # The table and the chart start on the first screen, side by side.
    assert seen["table"]["top"] < 900 and seen["chart"]["top"] < 900
    assert seen["chart"]["left"] >= seen["table"]["right"]
    assert "NPV" in page.inner_text("#summary thead")
    # The staged policy that never migrates is folded into hosted-open's row.
    rows = page.locator("#summary tbody tr").all_inner_texts()
    assert not any(r.startswith("Hosted-open now") for r in rows)
    assert page.locator(".scroll-hint").first.is_hidden()
    page.screenshot(path=str(tmp_path / "first-1400.png"))
    page.close()


def test_every_chart_keeps_its_text_inside_and_apart(browser, page_url):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(page_url)
    # Each chart's drawn text, as the browser lays it out: outside the chart or over
    # another piece of text, a label is cut off or unreadable.
    found = page.evaluate(
        """() => [...document.querySelectorAll('figure svg')].map((svg) => {
          const frame = svg.getBoundingClientRect();
          const boxes = [...svg.querySelectorAll('text')]
            .filter((t) => t.textContent.trim())
            .map((t) => [t.textContent, t.getBoundingClientRect()]);
          const outside = boxes.filter(([, r]) => r.left < frame.left - 1
            || r.right > frame.right + 1 || r.top < frame.top - 1
            || r.bottom > frame.bottom + 1).map(([s]) => s);
          const overlaps = [];
          boxes.forEach(([s, a], i) => boxes.slice(i + 1).forEach(([t, b]) => {
            const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (across > 1 && down > 1) overlaps.push(s + ' / ' + t);
          }));
          return {texts: boxes.length, outside, overlaps};
        })"""
    )
    assert len(found) >= 6 and all(chart["texts"] > 5 for chart in found)
    assert [c["outside"] for c in found if c["outside"]] == []
    assert [c["overlaps"] for c in found if c["overlaps"]] == []
    page.close()


def test_at_phone_width_nothing_overflows_and_chart_text_is_readable(browser, page_url):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(page_url)
    seen = _boxes(page)
    assert seen["scrollWidth"] <= 390  # wide tables and charts scroll inside themselves
    assert seen["headline"]["top"] < 844
    assert seen["cards"][0]["top"] < 844
    # Every chart's smallest text is drawn at 8 px or more (it was 4-5 px when charts
    # shrank to the screen's width).
    assert len(seen["text"]) > 100 and min(seen["text"]) >= 8
    assert page.locator("#decision-first .scroll-hint").is_visible()
    page.close()


def test_printed_no_chart_is_taller_than_a_page(browser, page_url, tmp_path):
    page = browser.new_page()
    page.goto(page_url)
    page.emulate_media(media="print")
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", margin={"top": "15mm", "bottom": "15mm"})
    assert pdf.stat().st_size > 10_000
    # A4 is 297 mm: 267 mm are left between the margins, 1009 CSS pixels at 96 per inch.
    # A chart kept whole (break-inside: avoid) must fit there, or the page before it
    # is left half blank and the chart is cut anyway.
    heights = page.evaluate(
        "[...document.querySelectorAll('section.chart')].map(s => s.getBoundingClientRect().height)"
    )
    assert heights and max(heights) <= 267 / 25.4 * 96
    assert page.locator(".scroll-hint").first.is_hidden()
    page.close()


def test_the_portfolio_first_screen_gives_the_split_at_both_widths(browser, tmp_path):
    folder = tmp_path / "portfolio"
    result = run(load_scenario(SCENARIOS / "portfolio.toml"), paths=2000, seed=5)
    write_report(result, folder)
    for width, height in ((1400, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto((folder / "index.html").as_uri())
        seen = _boxes(page)
        assert seen["scrollWidth"] <= width
        assert page.inner_text(".headline").startswith("Split by feature: ")
        assert seen["headline"]["top"] < height and seen["cards"][0]["top"] < height
        if width == 1400:
            labels = page.locator(".card-label").all_text_contents()
            assert "SAVING AGAINST ONE OPTION FOR ALL" in [label.upper() for label in labels]
            assert all(c["bottom"] <= height for c in seen["cards"])
        page.close()
