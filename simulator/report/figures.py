"""The report's figures: every chart that applies, drawn once, saved as a PNG file
beside the Markdown and kept as SVG text to inline in the HTML (so the page needs
nothing else to be read offline or printed).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..decide.summary import SimulationResult
from ..scenario.text import printable

__all__ = ["PNG_DPI", "PageFigure", "draw_figures", "inline_svg"]

PNG_DPI = 110

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
"""Characters no chart writes itself: controls (but tab and line breaks) and bidi."""


@dataclass(frozen=True)
class PageFigure:
    """One chart as the pages show it: its heading and caption, its title (what it
    finds), its PNG file's name and its SVG text."""

    slug: str
    heading: str
    caption: str
    title: str
    png: str
    svg: str


def inline_svg(figure, slug: str, title: str) -> str:
    """A figure as an ``<svg>`` element to inline in HTML: no XML prolog, no fixed
    size (it scales to the page), ids prefixed by ``slug`` so charts never share one."""
    import matplotlib

    from .charts.drawing import style

    buffer = io.StringIO()
    with style(), matplotlib.rc_context({"svg.hashsalt": "simulator"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    # matplotlib numbers ids from 1 in every figure: prefix them so that the charts of
    # one page never share an id (and references find their own chart's element).
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(
        r'(\bid="|url\(#|href="#)([^")]+)',
        lambda m: f"{m[1]}{slug}-{m[2]}" if m[2] in ids else m[0],
        text,
    )
    # Labels are drawn as written: a control character from the scenario (which matplotlib
    # itself never writes) is shown as its escape, as everywhere else.
    text = _UNSAFE.sub(lambda m: printable(m.group()), text)
    label = html.escape(printable(title), quote=True)
    return text.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def draw_figures(result: SimulationResult, folder: Path) -> list[PageFigure]:
    """Draw every chart that applies: PNG files into ``folder``, SVG text returned."""
    # Looked up at each call, not at import: tests swap the list to skip drawing.
    from .charts import CHARTS
    from .charts.drawing import style

    scenario = result.scenario
    values = {
        "baseline": result.options[scenario.baseline].label,
        "months": scenario.horizon_months,
    }
    from .twins import folded

    # Options that cost the same on every path are drawn once in the charts of the run
    # itself (one line would hide the other); the charts of a later analysis (the
    # trigger search, the stress test) show every option it covered.
    shown = folded(result)
    figures = []
    for chart in CHARTS:
        if not chart.applies(result):
            continue
        figure = chart.draw(result if chart.analysis else shown)
        title = figure.get_suptitle().replace("\n", " ")
        png = f"{chart.slug}.png"
        with style():
            figure.savefig(folder / png, dpi=PNG_DPI, metadata={"Software": None})
        # The layout is settled by the first drawing; the SVG keeps it (a third faster).
        figure.set_layout_engine("none")
        figures.append(
            PageFigure(
                slug=chart.slug,
                heading=chart.heading,
                caption=chart.caption.format(**values),
                title=title,
                png=png,
                svg=inline_svg(figure, chart.slug, title),
            )
        )
    return figures
