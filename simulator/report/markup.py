"""The Jinja environments the report's templates render in, and the filters that
keep scenario text as text in Markdown.

HTML autoescapes, so scenario text (names, labels, descriptions) is always text, never
markup; the Markdown templates escape it with the ``md``, ``code`` and ``md_table``
filters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .tables import markdown_table

__all__ = ["environment"]

_TEMPLATES = Path(__file__).with_name("templates")


def _md(text: Any) -> str:
    """Scenario text for Markdown: shown as written, never as markup (HTML, links,
    emphasis, TeX between dollar signs). Table pipes are escaped by the table."""
    text = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]{}#$~])", r"\\\1", text)


def environment(kind: str):
    """The Jinja environment of the ``html`` or ``md`` templates."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    env.filters["code"] = _md_code
    env.filters["md_table"] = _md_table
    return env


def _md_code(text: Any) -> str:
    """A Markdown code span holding ``text`` as written (inside a table too)."""
    text = str(text).replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _md_table(table: tuple[Sequence[str], Sequence[Sequence[str]]]) -> str:
    """A Markdown table whose header and first column (labels from the scenario) are
    escaped as text; the other cells are numbers and names this tool wrote."""
    header, rows = table
    return markdown_table(
        tuple(_md(h) for h in header),
        [(_md(row[0]), *(html.escape(str(c), quote=False) for c in row[1:])) for row in rows],
    )
