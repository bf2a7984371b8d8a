"""The documentation: it renders, its links resolve, it agrees with the code, and every
command and code block in it runs as written.

Each Markdown file is read with a CommonMark parser (markdown-it-py). Its code blocks
are run in order, as a reader would, in a temporary folder that holds a copy of
``scenarios/``:

- ``python`` blocks are executed, one namespace per file;
- ``toml`` blocks are parsed; a whole scenario is also validated, and a block whose
  first line names a file (``# support.toml: ...``) is written to that file;
- ``console`` blocks hold commands after ``$ `` and, below each, its output.
  ``simulate`` runs through the click command the console script calls, ``make``
  targets are checked to exist in the Makefile, ``echo $?`` prints the previous
  command's exit status, anything else runs in bash. A command must exit 0 unless an
  ``echo $?`` after it shows another status. The output shown must be the output
  produced: ``...`` on a line of its own stands for any lines, a line ending in
  ``...`` for any line that starts with the rest, and timings (``1.2 s``) may differ;
- ``text`` blocks (a diagram, a tree) are shown as they are. A block in any other
  language, or in none, fails the tests, so that nothing runnable goes unrun.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from simulator import cli, parse_scenario
from simulator.scenario import schema

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MARKDOWN = sorted([README, ROOT / "reports" / "README.md", *DOCS.glob("*.md")])

# Pages another piece of work adds: a link to one is accepted while it is missing (and
# checked like any other once it exists).
WRITTEN_ELSEWHERE = {DOCS / "architecture.md"}

RUN_LANGUAGES = {"python", "toml", "console"}
"""Fenced blocks the tests run. ``text`` blocks (a listing, a tree) are shown as they
are; a block in any other language, or in none, fails the tests."""

PARSER = MarkdownIt("commonmark").enable("table")

# The click command behind the ``simulate`` console script (``simulator.cli:main``).
SIMULATE = cli.main if isinstance(cli.main, click.Command) else cli.simulate


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def ids(paths) -> list[str]:
    return [relative(p) for p in paths]


# ---------------------------------------------------------------------------
# Reading Markdown


def tokens(path: Path):
    return PARSER.parse(path.read_text(encoding="utf-8"))


def inline_text(token) -> str:
    """The rendered text of an inline token: code spans by their content, markup gone."""
    return "".join(
        child.content for child in token.children or () if child.type in ("text", "code_inline")
    )


def slug(text: str, seen: dict[str, int]) -> str:
    """The anchor a code host gives a heading: lower case, punctuation dropped, spaces
    to hyphens, a repeated heading numbered."""
    base = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    stream = tokens(path)
    for i, token in enumerate(stream):
        if token.type == "heading_open":
            found.add(slug(inline_text(stream[i + 1]), seen))
    return found


def links(path: Path) -> list[str]:
    out = []
    for token in tokens(path):
        for child in token.children or ():
            if child.type == "link_open":
                out.append(child.attrs["href"])
            elif child.type == "image":
                out.append(child.attrs["src"])
    return out


@dataclass
class Block:
    language: str
    text: str
    line: int  # 1-based line of the opening fence


def code_blocks(path: Path) -> list[Block]:
    found = []
    for token in tokens(path):
        if token.type == "fence":
            found.append(Block(token.info.split()[0] if token.info else "", token.content,
                               token.map[0] + 1))  # fmt: skip
        elif token.type == "code_block":
            found.append(Block("(indented)", token.content, token.map[0] + 1))
    return found


@dataclass
class Table:
    heading: list[str]  # code spans of the nearest heading above the table
    header: list[str]
    rows: list[list]  # each cell: (text, [code spans])


def tables(path: Path) -> list[Table]:
    stream = tokens(path)
    out: list[Table] = []
    heading: list[str] = []
    i = 0
    while i < len(stream):
        token = stream[i]
        if token.type == "heading_open":
            heading = [c.content for c in stream[i + 1].children if c.type == "code_inline"]
        elif token.type == "table_open":
            header, rows, row = [], [], None
            while stream[i].type != "table_close":
                kind = stream[i].type
                if kind == "tr_open":
                    row = []
                elif kind == "inline" and row is not None:
                    cell = stream[i]
                    spans = [c.content for c in cell.children if c.type == "code_inline"]
                    row.append((inline_text(cell).strip(), spans))
                elif kind == "tr_close":
                    if not header:
                        header = [text for text, _ in row]
                    else:
                        rows.append(row)
                    row = None
                i += 1
            out.append(Table(heading, header, rows))
        i += 1
    return out


# ---------------------------------------------------------------------------
# 1. Every page renders, its links resolve, nothing points outside the repository


@pytest.mark.parametrize("path", MARKDOWN, ids=ids(MARKDOWN))
def test_renders(path):
    html = PARSER.render(path.read_text(encoding="utf-8"))
    assert html.strip(), f"{relative(path)} renders to nothing"
    for block in code_blocks(path):
        assert block.language in RUN_LANGUAGES | {"text"}, (
            f"{relative(path)}:{block.line}: a {block.language or 'plain'} code block; "
            f"blocks must be one of {sorted(RUN_LANGUAGES | {'text'})} so that they run"
        )


@pytest.mark.parametrize("path", MARKDOWN, ids=ids(MARKDOWN))
def test_links_resolve(path):
    for href in links(path):
        where = f"{relative(path)}: link {href!r}"
        assert not re.match(r"[a-z][a-z0-9+.-]*:", href, flags=re.IGNORECASE), (
            f"{where} points outside the repository"
        )
        target, _, fragment = href.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file == ROOT or ROOT in file.parents, f"{where} leaves the repository"
        if file in WRITTEN_ELSEWHERE and not file.exists():
            continue
        assert file.exists(), f"{where}: no such file"
        if fragment:
            assert file.suffix == ".md", f"{where}: an anchor into a file that is not Markdown"
            assert fragment in anchors(file), f"{where}: no heading with that anchor"


@pytest.mark.parametrize("path", MARKDOWN, ids=ids(MARKDOWN))
def test_nothing_points_outside(path):
    text = path.read_text(encoding="utf-8")
    for pattern in (r"\.\./shared", r"\bshared/", r"/work/", r"\.\./\.\./"):
        assert not re.search(pattern, text), f"{relative(path)} mentions {pattern!r}"


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines"


def test_every_page_is_indexed():
    index = DOCS / "README.md"
    listed = {(index.parent / href.partition("#")[0]).resolve() for href in links(index)}
    for page in DOCS.glob("*.md"):
        if page != index:
            assert page.resolve() in listed, f"docs/README.md does not link {relative(page)}"
    for page in WRITTEN_ELSEWHERE:
        assert page.resolve() in listed, f"docs/README.md does not link {relative(page)}"


# ---------------------------------------------------------------------------
# 2. The scenario reference agrees with the schema

REFERENCE = DOCS / "scenario-reference.md"
COLUMNS = ["Key", "Type", "Default", "Allowed", "Meaning and where it enters"]
TYPES = {
    "quantity": "quantity",
    "number": "number",
    "integer": "integer",
    "numbers": "list of numbers",
    "string": "string",
    "bool": "boolean",
    "enum": "enum",
    "option": "option name",
    "routes": "list of routes",
    "trigger": 'quantity or "optimize"',
    "reservation": 'integer or "optimize"',
    "date": "date",
    "profile": "load profile",
    "options": "list of option names",
    "assignment": "assignment",
}
NUMERIC = {"quantity", "number", "integer", "numbers", "trigger", "reservation", "enum", "profile"}
TABLES = {
    "[scenario]": schema.SCENARIO,
    "[workload]": schema.WORKLOAD,
    "[workloads.NAME]": schema.WORKLOADS,
    "[portfolio]": schema.PORTFOLIO,
    "[business]": schema.BUSINESS,
    "[stress]": schema.STRESS,
    "[requirements]": schema.REQUIREMENTS,
}
# [[correlations]] entries are checked where they are parsed, not in the schema.
CORRELATION_KEYS = {"between", "rank"}


def formatted_default(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return f"{value:g}"


def reference_rows():
    """Per schema table (``[scenario]``, ``option:api``...), the documented rows by key."""
    documented: dict[str, dict[str, list]] = {}
    dist_tables = []
    for table in tables(REFERENCE):
        if table.header and table.header[0] == "dist":
            dist_tables.append(table)
            continue
        assert table.header == COLUMNS, f"a table under {table.heading} has columns {table.header}"
        spans = table.heading
        if "[[correlations]]" in spans:
            targets = ["correlations"]
        elif any(s in TABLES for s in spans):
            targets = [s for s in spans if s in TABLES]
        else:
            targets = [f"option:{k}" for k in schema.KINDS if k in spans]
            if "[options.NAME]" in spans:
                targets = [f"option:{k}" for k in schema.KINDS]
        assert targets, f"a table under a heading with {spans} documents no known table"
        for row in table.rows:
            key_spans = row[0][1]
            assert len(key_spans) == 1, f"row {row[0][0]!r}: the key must be one code span"
            key = key_spans[0]
            for target in targets:
                assert key not in documented.setdefault(target, {}), (
                    f"{target}: {key} is documented twice"
                )
                documented[target][key] = row
    return documented, dist_tables


def test_reference_documents_every_key():
    documented, _ = reference_rows()
    expected = {name: set(fields) for name, fields in TABLES.items()}
    expected |= {f"option:{k}": set(f) for k, f in schema.OPTION_FIELDS.items()}
    expected["correlations"] = CORRELATION_KEYS
    for name, keys in expected.items():
        have = set(documented.get(name, {}))
        assert not keys - have, f"{name}: not documented: {sorted(keys - have)}"
        assert not have - keys, f"{name}: documented but not in the code: {sorted(have - keys)}"
    assert set(documented) == set(expected)


def test_reference_agrees_with_schema():
    documented, _ = reference_rows()
    fields = {name: table for name, table in TABLES.items()}
    fields |= {f"option:{k}": f for k, f in schema.OPTION_FIELDS.items()}
    for name, rows in documented.items():
        if name == "correlations":
            continue
        for key, row in rows.items():
            field = fields[name][key]
            where = f"{name} {key}"
            (_, _), (type_text, _), (default_text, default_spans), (allowed, _), (meaning, _) = row
            assert type_text == TYPES[field.type], f"{where}: type {type_text!r}"
            if field.default is schema.REQUIRED:
                assert default_text == "required", f"{where}: default {default_text!r}"
            elif field.default is None:
                assert default_text == "none", f"{where}: default {default_text!r}"
            else:
                assert default_spans[:1] == [formatted_default(field.default)], (
                    f"{where}: default {default_text!r}, the code has {field.default!r}"
                )
            if field.type in NUMERIC:
                assert allowed == field.allowed(), (
                    f"{where}: allowed {allowed!r}, the code says {field.allowed()!r}"
                )
            else:
                assert allowed, f"{where}: no allowed values"
            assert len(meaning) > 10, f"{where}: no meaning given"
            if field.default is None:
                assert re.search(r"\b(without|no)\b", meaning, flags=re.IGNORECASE), (
                    f"{where}: the meaning must say what applies without the key"
                )


MINIMAL = """
[scenario]
name = "distribution check"
horizon_months = 2
[workload]
requests_per_month = 1000
input_tokens_per_request = 100
output_tokens_per_request = 10
[options.api]
kind = "api"
input_price_per_mtok = 1
output_price_per_mtok = 1
"""


def test_reference_lists_every_distribution():
    _, dist_tables = reference_rows()
    assert len(dist_tables) == 1
    documented = {row[0][1][0]: row for row in dist_tables[0].rows}
    # The simulator names every family it knows in its error for an unknown one.
    document = tomllib.loads(MINIMAL)
    document["options"]["api"]["uptime"] = {"dist": "no such family"}
    with pytest.raises(Exception, match="one of: ") as error:
        parse_scenario(document)
    known = str(error.value).rsplit("one of: ", 1)[1].split(", ")
    assert set(documented) == set(known)
    for family, row in documented.items():
        example = tomllib.loads(f"x = {row[3][1][0]}")["x"]
        assert example["dist"] == family
        document["options"]["api"]["uptime"] = 1
        document["workload"]["growth_volatility"] = example
        parse_scenario(document)  # a valid distribution, as the page gives it


# ---------------------------------------------------------------------------
# 3. Every code block runs as written


@dataclass
class Command:
    text: str
    expected: list[str]


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            found.append(Command(line[2:].strip(), []))
        else:
            assert found, f"line {block.line}: output before any command: {line!r}"
            found[-1].expected.append(line)
    return found


def normalized(line: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "N s", line.rstrip())


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with ``...`` wildcards (see the module)."""
    expected = [normalized(e) for e in expected]
    actual = [normalized(a) for a in actual]

    def match(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual)
        if expected[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(actual) + 1))
        if j == len(actual):
            return False
        line, want = actual[j], expected[i]
        ok = line.startswith(want[:-3]) if want.endswith("...") else line == want
        return ok and match(i + 1, j + 1)

    return match(0, 0)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.MULTILINE))


def run_command(command: str, folder: Path) -> tuple[int, list[str]]:
    words = shlex.split(command)
    if words[0] == "simulate":
        # Help text wrapped as on an 80-column terminal (or a pipe): 78 columns of text.
        result = CliRunner().invoke(SIMULATE, words[1:], prog_name="simulate", terminal_width=78)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output.splitlines()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=120,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def run_console(block: Block, folder: Path, where: str) -> None:
    status = None
    listed = commands(block)
    for i, command in enumerate(listed):
        checked_later = i + 1 < len(listed) and listed[i + 1].text == "echo $?"
        if command.text == "echo $?":
            assert status is not None, f"{where}: echo $? with no command before it"
            output = [str(status)]
        elif command.text.startswith("make "):
            missing = set(command.text.split()[1:]) - make_targets()
            assert not missing, f"{where}: no Makefile target {sorted(missing)}"
            status, output = 0, None
        else:
            status, output = run_command(command.text, folder)
            if not checked_later:
                assert status == 0, f"{where}: `{command.text}` exited {status}:\n" + "\n".join(
                    output
                )
        if output is not None:
            assert matches(command.expected, output), (
                f"{where}: `{command.text}` printed:\n" + "\n".join(output)
            )


FILE_LINE = re.compile(r"#\s*([\w.-]+\.toml)\b")
WHOLE = {"scenario", "workload", "options"}
"""The tables every scenario has: a block with all three is a whole scenario."""


def run_toml(block: Block, folder: Path, where: str, namespace: dict) -> None:
    document = tomllib.loads(block.text)
    if set(document) >= WHOLE:
        parse_scenario(document, source=where)
        namespace.setdefault("_scenarios", []).append(document)
    first = block.text.splitlines()[0] if block.text else ""
    named = FILE_LINE.match(first)
    if named:
        assert set(document) >= WHOLE, f"{where}: {named[1]} is not a whole scenario"
        (folder / named[1]).write_text(block.text, encoding="utf-8")
    namespace.setdefault("_fragments", []).append(document)


def run_page(path: Path, folder: Path) -> dict:
    """Run every block of ``path`` in ``folder``; return the Python namespace."""
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    shutil.copytree(ROOT / "tests" / "data", folder / "tests" / "data")
    namespace: dict = {"__name__": "__docs__"}
    previous = Path.cwd()
    os.chdir(folder)
    try:
        for block in code_blocks(path):
            where = f"{relative(path)}:{block.line}"
            if block.language == "python":
                exec(compile(block.text, where, "exec"), namespace)  # noqa: S102 - our docs
            elif block.language == "toml":
                run_toml(block, folder, where, namespace)
            elif block.language == "console":
                run_console(block, folder, where)
    finally:
        os.chdir(previous)
    return namespace


RUNNABLE = [p for p in MARKDOWN if any(b.language in RUN_LANGUAGES for b in code_blocks(p))]


@pytest.mark.parametrize("path", RUNNABLE, ids=ids(RUNNABLE))
def test_code_blocks_run(path, tmp_path):
    namespace = run_page(path, tmp_path)
    if path == README:
        # The library example: the README's first Python block.
        result = namespace["result"]
        assert 0 <= result.versus["self_hosted"].p_cheaper <= 1
        assert len(result.paths.totals["api"]) == 20_000


def merged(base: dict, fragment: dict) -> dict:
    out = dict(base)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list) and key == "correlations":
            out[key] = out[key] + value
        else:
            out[key] = value
    return out


def test_worked_example_adds_up():
    """Each step of writing-a-scenario.md adds a fragment to the first file; together
    they make the complete file at the end."""
    blocks = [tomllib.loads(b.text) for b in code_blocks(DOCS / "writing-a-scenario.md")
              if b.language == "toml"]  # fmt: skip
    first, *steps, final = blocks
    assert set(first) >= WHOLE and set(final) >= WHOLE
    built = first
    for step in steps:
        built = merged(built, step)
    assert built == final


def test_the_limits_of_names_and_files_are_the_schemas():
    from simulator.scenario import schema

    page = REFERENCE.read_text(encoding="utf-8")
    assert f"at most {schema.MAX_FILE_BYTES:,} bytes" in page
    assert f"nest at most {schema.MAX_DEPTH} levels" in page
    assert f"1 to {schema.MAX_NAME} ASCII letters" in page
    assert f"at most {schema.MAX_NAME} characters" in page
    assert f"hold at most\n  {schema.MAX_LABEL} characters each" in page


# ---------------------------------------------------------------------------
# 4. The command line and the summary are documented in full

CLI_PAGE = DOCS / "cli.md"


# The table of each command's options: its first column's heading.
OPTION_TABLES = {
    "run": "Option", "sweep": "Sweep option", "fit": "Fit option", "init": "Init option"
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(OPTION_TABLES))
def test_every_option_is_documented(command):
    assert set(OPTION_TABLES) == set(SIMULATE.commands), "a command has no table of options"
    documented = set()
    for table in tables(CLI_PAGE):
        if table.header[:1] == [OPTION_TABLES[command]]:
            documented |= {row[0][1][0].split()[0] for row in table.rows}
    names = [n for p in SIMULATE.commands[command].params for n in p.opts]
    names += SIMULATE.context_settings.get("help_option_names", ["--help"])
    options = {name for name in names if name.startswith("--")}
    assert options <= documented, f"not in docs/cli.md: {sorted(options - documented)}"
    assert documented <= options, f"not options of {command}: {sorted(documented - options)}"


EVERY_KEY = """
[scenario]
name = "Every summary key"
horizon_months = 24
seed = 3
price_date = 2026-11-01
[workload]
requests_per_month = 2_000_000
input_tokens_per_request = { dist = "uniform", low = 800, high = 1200 }
output_tokens_per_request = 200
monthly_growth = 0.05
growth_volatility = 0.03
[requirements]
max_ttft_ms = 800
ops_capacity = "limited"
[options.api]
kind = "api"
model = "openai:gpt-4.1"
ttft_ms = { dist = "uniform", low = 300, high = 900 }
[options.hosted]
kind = "api"
input_price_per_mtok = 0.9
output_price_per_mtok = 0.9
cached_input_share = 0.3
cached_input_price_per_mtok = 0.45
batch_share = 0.5
committed_monthly_usd = 1000
commit_discount = 0.1
commit_months = 12
fallback = "api"
escalation_rate = 0.05
migration_months = 1
migration_cost_usd = 5000
ops_load = "dedicated"
[options.self_hosted]
kind = "self_hosted"
ops_load = "limited"
replica_tokens_per_s = { dist = "triangular", low = 1500, mode = 3000, high = 4500 }
gpu_hourly_usd = 2.5
engineers = 1
engineer_annual_cost = 250000
setup_months = 3
fallback = "api"
reserved_gpus = "optimize"
optimize_paths = 1000
spot_share = 0.3
[options.on_prem]
kind = "on_prem"
ops_load = "limited"
gpu = "H100"
model_params_b = 8
weight_bits = 8
prefill_tokens_per_s = 15000
decode_tokens_per_s = { dist = "uniform", low = 2000, high = 4000 }
gpu_purchase_usd = 35000
electricity_usd_per_kwh = 0.12
fallback = "api"
[options.staged]
kind = "staged"
start = "api"
then = "self_hosted"
trigger_monthly_cost = "optimize"
optimize_paths = 1000
[stress]
paths = 1000
sensitivity_paths = 1000
volume_realization = [0.5, 1]
growth_realization = [1]
[[correlations]]
between = ["workload.monthly_growth", "workload.input_tokens_per_request"]
rank = 0.2
"""
"""A small scenario whose summary holds every key there is: an excluded option, owned
GPUs, a searched staged policy and reserved GPUs, prices from the catalogue, a
correlation naming a fixed input, a run to a
precision and the stress test."""

MAPS = {"options", "versus_baseline", "breakeven", "sensitivity", "stress[].options",
        "stress_method.curve", "recommendation.excluded", "portfolio.versus_single",
        "stress_by_workload.WORKLOAD[].options"}  # fmt: skip
WORKLOAD_MAPS = {"portfolio.assignment", "portfolio.by_workload",
                 "portfolio.runners_up[].assignment", "stress_by_workload"}  # fmt: skip


def key_paths(value, path: str = "", names=()) -> set[str]:
    """Every leaf of a summary as a dotted path: option names as ``NAME``, a breakdown's
    components as ``COMPONENT``, the items of a list of tables as ``[]``."""
    if isinstance(value, dict):
        out = set()
        for key, item in value.items():
            if path in MAPS and key in names:
                key = "NAME"
            elif path in WORKLOAD_MAPS:
                key = "WORKLOAD"
            elif path.endswith(".breakdown"):
                key = "COMPONENT"
            out |= key_paths(item, f"{path}.{key}" if path else key, names)
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return set().union(*(key_paths(v, f"{path}[]", names) for v in value))
    return {path}


def documented_keys() -> set[str]:
    """The key paths of the summary tables of reading-a-report.md, with ``{a,b}``
    standing for each of ``a`` and ``b``."""
    out = set()
    for table in tables(DOCS / "reading-a-report.md"):
        if table.header[:1] != ["Key"]:
            continue
        for row in table.rows:
            for span in row[0][1]:
                found = [span]
                while any("{" in k for k in found):
                    expanded = []
                    for k in found:
                        m = re.search(r"\{([^{}]*)\}", k)
                        if not m:
                            expanded.append(k)
                            continue
                        for part in m[1].split(","):
                            expanded.append(k[: m.start()] + part.strip() + k[m.end() :])
                    found = expanded
                out |= set(found)
    return out


@pytest.fixture(scope="module")
def every_key_run(tmp_path_factory):
    """The summary and the report folder of one run of ``EVERY_KEY`` (a run to a
    precision, with the stress test), through the command."""
    folder = tmp_path_factory.mktemp("every")
    scenario = folder / "every.toml"
    scenario.write_text(EVERY_KEY, encoding="utf-8")
    args = [str(scenario), "--paths", "8192", "--precision", "0.5", "--stress", "--json"]
    result = CliRunner().invoke(SIMULATE, [*args, "--out", str(folder / "report"), "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), folder / "report"


PORTFOLIO_KEYS = """
[scenario]
name = "Portfolio keys"
horizon_months = 12
paths = 4096
seed = 5
[workloads.classify]
requests_per_month = 20_000_000
input_tokens_per_request = 500
output_tokens_per_request = 20
[workloads.agent]
requests_per_month = 100_000
input_tokens_per_request = { dist = "uniform", low = 3000, high = 6000 }
output_tokens_per_request = 600
[options.api]
kind = "api"
input_price_per_mtok = 2
output_price_per_mtok = 8
[options.hosted]
kind = "api"
input_price_per_mtok = 0.6
output_price_per_mtok = 0.6
[stress]
volume_realization = [0.5, 1.0]
growth_realization = [1.0]
by_workload = true
"""


def test_every_summary_key_is_documented(every_key_run, tmp_path):
    summary, _ = every_key_run
    assert "p_latency_met" in summary["options"]["api"]
    assert summary["recommendation"]["excluded"]
    actual = key_paths(summary, names=tuple(summary["options"]))
    scenario = tmp_path / "portfolio.toml"
    scenario.write_text(PORTFOLIO_KEYS, encoding="utf-8")
    args = [str(scenario), "--json", "--no-report", "--quiet", "--stress"]
    result = CliRunner().invoke(SIMULATE, args)
    assert result.exit_code == 0, result.output
    several = json.loads(result.stdout)
    workloads = tuple(several["portfolio"]["assignment"])
    actual |= key_paths(several, names=tuple(several["options"]) + workloads)
    documented = documented_keys()
    assert not actual - documented, f"not in reading-a-report.md: {sorted(actual - documented)}"
    assert not documented - actual, f"not in a summary: {sorted(documented - actual)}"


def test_every_report_file_is_documented(every_key_run):
    """Every file a report can hold (with the stress test and a staged policy) is named
    in reading-a-report.md's table of files."""
    _, folder = every_key_run
    written = {p.name for p in folder.iterdir()}
    listed = set()
    for table in tables(DOCS / "reading-a-report.md"):
        if table.header[:1] == ["File"]:
            listed |= {row[0][1][0] for row in table.rows}
    assert written <= listed, f"not in reading-a-report.md: {sorted(written - listed)}"
    assert listed - written <= {"paths.parquet"}, f"not written: {sorted(listed - written)}"
