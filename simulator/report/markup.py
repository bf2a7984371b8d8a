"""The Jinja environments the report's templates render in, and the filters that
keep scenario text as text in Markdown.

Scenario text (names, labels, descriptions, the file name, ``--set`` values) is shown
as written and never acts as markup or on a display:

- HTML autoescapes, and every value a template shows (but markup the report made
  itself, marked safe) has its control and bidirectional characters replaced by
  visible escapes (:func:`~simulator.scenario.text.printable`).
- The Markdown templates put text through ``md`` (a paragraph, a heading, a list item,
  a caption), ``md_cell`` (a table cell), ``code`` (a code span) or ``md_table`` (a
  whole table, every cell escaped): HTML is escaped, Markdown punctuation is escaped
  wherever it could open a construct (emphasis, links, images, code, headings, lists,
  block quotes, thematic breaks, tables, TeX between dollar signs, GFM autolinks and
  strikethrough), and a line break cannot end a cell or start a block.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..scenario.text import printable
from .tables import markdown_table

__all__ = ["environment", "markdown_cell", "markdown_code", "markdown_text"]

_TEMPLATES = Path(__file__).with_name("templates")

# Everywhere: the characters that open inline constructs (code, emphasis, links and
# images, TeX, strikethrough), the heading mark and the escape itself.
_PUNCTUATION = re.compile(r"([\\`*_\[\]{}#$~])")
# GFM autolinks bare URLs (``https://``), ``www.`` domains and e-mail addresses in
# text; an escaped ``:``, ``.`` or ``@`` breaks each of them.
_SCHEME = re.compile(r":(?=//)")
_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)\.")
_AT = re.compile(r"@")
# At the start of a block: a list item (``-``, ``+``, ``1.``, ``1)``) or a thematic
# break or setext underline (``---``).
_BULLET = re.compile(r"^([-+])(?=[ \t]|$)|^(-)(?=[- \t]*$)")
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")


def markdown_text(text: Any) -> str:
    """Scenario text for Markdown, shown as written and never as markup: a paragraph,
    a heading, a list item, emphasis or link text, a caption (``md``).

    Control and bidirectional characters become visible escapes (so no line break is
    left); leading and trailing spaces go (they could make an indented code block, and
    Markdown does not show them); ``<``, ``>`` and ``&`` are escaped as HTML, and with a
    backslash the punctuation that could open a construct, inline or (at the start) a
    block. Table pipes are left to :func:`markdown_cell` and the tables.

    >>> markdown_text("<img src=x onerror=alert(1)> [link](https://evil) *x*")
    '&lt;img src=x onerror=alert(1)&gt; \\\\[link\\\\](https\\\\://evil) \\\\*x\\\\*'
    >>> markdown_text("- not a list")
    '\\\\- not a list'
    """
    text = _inline(text)
    text = _BULLET.sub(lambda m: "\\" + m.group(), text, count=1)
    return _ORDERED.sub(r"\1\\\2", text, count=1)


def _inline(text: Any) -> str:
    """Scenario text as Markdown inline content (a table cell holds nothing else)."""
    text = html.escape(printable(text).strip(), quote=False)
    text = _PUNCTUATION.sub(r"\\\1", text)
    return _AT.sub(r"\\@", _WWW.sub(r"\1\\.", _SCHEME.sub(r"\\:", text)))


def markdown_cell(text: Any) -> str:
    """Scenario text for a cell of a Markdown table (``md_cell``): as
    :func:`markdown_text` (a cell holds no blocks), with ``|`` escaped so that it
    cannot end the cell."""
    return _inline(text).replace("|", "\\|")


def markdown_code(text: Any, table: bool = False) -> str:
    """A Markdown code span holding ``text`` as written (``code``; with ``table``, for
    a table cell, where a ``|`` is escaped even in a code span).

    The span's fence is one backtick longer than the longest run of backticks in the
    text, padded with a space where the text begins or ends with a backtick or a
    space, so no backtick in the text can close it; control characters become visible
    escapes, so no line break can end it.

    >>> markdown_code("a`b")
    '``a`b``'
    >>> markdown_code("`x`")
    '`` `x` ``'
    """
    text = printable(text)
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if not text or text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_table(table: tuple[Sequence[str], Sequence[Sequence[str]]], code: bool = False) -> str:
    """A Markdown table of scenario text and figures, every cell escaped as text (with
    ``code``, the first column of each row as code spans: key paths)."""
    header, rows = table
    first = markdown_code if code else _inline  # markdown_table escapes the pipes
    return markdown_table(
        tuple(_inline(h) for h in header),
        [(first(row[0]), *(_inline(c) for c in row[1:])) for row in rows],
    )


def _html_value(value: Any) -> Any:
    """What an HTML template shows: text with its control and bidirectional characters
    escaped visibly; markup the report made itself (marked safe) as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return printable(value)
    return value


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
        finalize=_html_value if kind == "html" else None,
    )
    env.filters["md"] = markdown_text
    env.filters["md_cell"] = markdown_cell
    env.filters["code"] = markdown_code
    env.filters["md_table"] = _md_table
    return env
