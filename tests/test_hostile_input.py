"""Hostile input, from the file to the pages.

Covers: scenario paths that are not regular files (a FIFO, /dev/zero, a folder), files
over the 10 MB cap (also one that grows after it is looked at), tables and arrays nested
too deeply (for the TOML reader itself, for the document, for a library dict, for
``--set``); what key names, option names, labels and descriptions may hold; error
messages that stay one line whatever a key or value holds; terminal output (the summary
table, the stress text) that never passes a control or bidirectional character through;
and report.md (walked token by token with a CommonMark parser) and index.html (parsed as
HTML) in which every piece of scenario text is text: no HTML, no link or image from the
scenario, no emphasis, heading, list or code block it did not ask for, tables with the
columns they should have and every label intact.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from simulator import ScenarioError, load_scenario, parse_scenario, run
from simulator.cli import simulate
from simulator.report.markup import markdown_code, markdown_text
from simulator.report.tables import COLUMNS, markdown_table, summary_rows, text_table
from simulator.report.words.audit import cautions
from simulator.report.writer import write_report
from simulator.scenario import errors
from simulator.scenario.errors import SimulationError
from simulator.scenario.schema import MAX_DEPTH, MAX_FILE_BYTES, check_structure
from simulator.scenario.text import BIDI_CONTROLS, printable, prose
from simulator.scenario.units import label_of

from .conftest import ONE_API, ROOT, SCENARIOS

# The charts draw labels as they are and the page shows their control characters as
# escapes: matplotlib warns of glyphs it has no font for.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font:UserWarning")

# Every character that must never reach a terminal or a page raw.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
UNSAFE_BUT_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def cli(*args, **kwargs):
    # color=True: click would otherwise strip ANSI sequences from what it echoes, and
    # hide an escape sequence that reached the terminal.
    return CliRunner().invoke(simulate, [str(a) for a in args], color=True, **kwargs)


def run_cli_process(*args, timeout=30):
    """The command in a process of its own: a regression that blocks or reads forever
    fails on the timeout instead of hanging the suite."""
    command = [sys.executable, "-m", "simulator", *map(str, args)]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def one_line_error(stderr: str) -> str:
    assert stderr.startswith("simulate: error: "), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert not UNSAFE_BUT_NEWLINE.search(stderr), repr(stderr)
    return stderr


def write(tmp_path, text: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path, overrides=()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    text = str(info.value)
    assert "\n" not in text and not UNSAFE.search(text), repr(text)
    return info.value


# ---------------------------------------------------------------------------
# Files that are not scenario files


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    proc = run_cli_process(fifo, "--no-report", "--quiet")
    assert proc.returncode == 2, proc.stderr
    message = one_line_error(proc.stderr)
    assert f"{fifo}: is a named pipe (FIFO), not a regular file" in message
    assert "a scenario is a regular file of at most 10,000,000 bytes (10 MB)" in message
    assert proc.stdout == ""


def test_a_fifo_is_refused_in_process_too(tmp_path):
    # The library call never opens the pipe: no writer is needed for it to return.
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    code = (
        "import sys\nfrom simulator import load_scenario, ScenarioError\n"
        "try:\n    load_scenario(sys.argv[1])\nexcept ScenarioError as e:\n    print(e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.stdout == f"{fifo}: is a named pipe (FIFO), not a regular file; " + (
        "a scenario is a regular file of at most 10,000,000 bytes (10 MB)\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("link", [False, True], ids=["device", "link-to-device"])
def test_dev_zero_is_refused_without_reading_it(tmp_path, link):
    path = "/dev/zero"
    if link:
        path = tmp_path / "zero.toml"
        path.symlink_to("/dev/zero")
    proc = run_cli_process(path, "--no-report", "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "is a character device, not a regular file" in one_line_error(proc.stderr)


def test_a_folder_is_refused_as_before(tmp_path):
    err = load_error(tmp_path)
    assert str(err) == f"{tmp_path}: is a folder, not a scenario file"


def _padded(size: int) -> bytes:
    """A valid scenario of exactly ``size`` bytes (a comment fills it up)."""
    body = ONE_API.encode("utf-8") + b"\n#"
    return body + b"x" * (size - len(body) - 1) + b"\n"


def test_a_file_of_exactly_the_cap_is_read_and_one_byte_more_is_refused(tmp_path):
    exact = tmp_path / "exact.toml"
    exact.write_bytes(_padded(MAX_FILE_BYTES))
    assert exact.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(exact).name == "one api"
    over = tmp_path / "over.toml"
    over.write_bytes(_padded(MAX_FILE_BYTES + 1))
    err = load_error(over)
    assert str(err) == (
        f"{over}: is 10,000,001 bytes; a scenario is a regular file of at most "
        "10,000,000 bytes (10 MB)"
    )


def test_a_file_that_grows_after_it_was_looked_at_is_read_no_further_than_the_cap(tmp_path):
    # /dev/zero posing as an empty regular file: without a cap on the read, this would
    # read until memory runs out (the process has a limit and a timeout, to fail fast).
    code = textwrap.dedent(
        """
        import os, resource, stat, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
        from simulator.scenario import load

        real_stat, real_fstat = os.stat, os.fstat

        def regular(result):
            fields = list(result)
            fields[0] = stat.S_IFREG | 0o644
            fields[6] = 0  # st_size: empty when looked at
            return os.stat_result(fields)

        load.os.stat = lambda path, *a, **k: regular(real_stat(path, *a, **k))
        load.os.fstat = lambda fd: regular(real_fstat(fd))
        try:
            load.load_scenario("/dev/zero")
        except load.ScenarioError as err:
            print(err)
        """
    )
    if not os.path.exists("/dev/zero"):
        pytest.skip("needs /dev/zero")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert proc.stdout == (
        "/dev/zero: is more than 10,000,000 bytes; a scenario is a regular file of at "
        "most 10,000,000 bytes (10 MB)\n"
    ), proc.stderr


def test_load_document_reads_with_the_same_checks(tmp_path):
    from simulator.scenario.load import load_document

    path = write(tmp_path, ONE_API)
    document, source = load_document(path, ["scenario.horizon_months=24"])
    assert source == str(path) and document["scenario"]["horizon_months"] == 24
    with pytest.raises(ScenarioError, match="is a folder"):
        load_document(tmp_path)
    deep = write(tmp_path, ONE_API + f"[business]\nx = {_inline_tables(40)}\n", "deep.toml")
    with pytest.raises(ScenarioError, match="more than 32 levels") as info:
        load_document(deep)
    assert info.value.file == str(deep)


def test_the_sha256_is_the_files_own(tmp_path):
    import hashlib

    path = tmp_path / "crlf.toml"
    path.write_bytes(ONE_API.replace("\n", "\r\n").encode("utf-8"))
    scenario = load_scenario(path)
    assert scenario.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# Nesting


def _inline_tables(depth: int) -> str:
    return "{ a = " * depth + "1" + " }" * depth


def test_inline_tables_nested_400_deep_exit_2_not_1(tmp_path):
    path = write(tmp_path, ONE_API + f"\n[business]\nx = {_inline_tables(400)}\n")
    result = cli(path, "--no-report", "--quiet")
    assert result.exit_code == 2, result.output
    message = one_line_error(result.stderr)
    assert message == (
        f"simulate: error: {path}: nests tables and arrays too deeply to be read; at most "
        "32 levels are allowed (a scenario needs 4)\n"
    )


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        # Read by the TOML reader, refused by the walk before anything recurses on it.
        (f"[business]\nx = {_inline_tables(40)}\n", "business.x.a"),
        ("[" + ".".join(["a"] * 5000) + "]\nx = 1\n", "a.a.a"),
        ("[business]\nx = " + "[" * 300 + "]" * 300 + "\n", "business.x[0]"),
    ],
    ids=["inline-tables", "table-headers-5000", "arrays-300"],
)
def test_documents_nested_beyond_the_cap_are_refused_with_a_key(tmp_path, toml, key):
    err = load_error(write(tmp_path, ONE_API + toml))
    assert err.key == key
    assert err.message == (
        "tables and arrays nest more than 32 levels deep below this key; at most 32 "
        "levels are allowed (a scenario needs 4)"
    )


def test_arrays_too_deep_for_the_reader_are_refused(tmp_path):
    err = load_error(write(tmp_path, ONE_API + "[business]\nx = " + "[" * 2000 + "]" * 2000))
    assert "too deeply to be read" in err.message


def _nested(depth: int):
    """A value whose tables nest ``depth`` levels (built without recursion)."""
    node: dict = {}
    value = node
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return value


def test_the_depth_cap_is_exactly_thirty_two_levels():
    # The top of the document is level 0, its tables level 1 ([scenario], [options]).
    check_structure({"t": _nested(MAX_DEPTH)})  # the innermost table at level 32
    with pytest.raises(ScenarioError, match="more than 32 levels"):
        check_structure({"t": _nested(MAX_DEPTH + 1)})
    check_structure(_nested(MAX_DEPTH - 2), ["options", "api", "x"])  # a value at level 3
    with pytest.raises(ScenarioError, match="more than 32 levels"):
        check_structure(_nested(MAX_DEPTH - 1), ["options", "api", "x"])


def test_a_library_document_too_deep_or_cyclic_is_refused_not_a_recursion_error():
    document = tomllib.loads(ONE_API)
    document["business"] = {"x": _nested(50_000)}
    with pytest.raises(ScenarioError, match="more than 32 levels") as info:
        parse_scenario(document)
    assert info.value.key == "business.x.a"
    cyclic = tomllib.loads(ONE_API)
    loop: dict = {}
    loop["again"] = loop
    cyclic["business"] = loop
    with pytest.raises(ScenarioError, match="more than 32 levels"):
        parse_scenario(cyclic)


# ---------------------------------------------------------------------------
# --set is held to the same rules


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("[" * 400 + "]" * 400, "more than 32 levels"),
        ("{a = " * 40 + "1" + "}" * 40, "more than 32 levels"),
        ("{a = " * 400 + "1" + "}" * 400, "too deeply to be read"),
        ('1\nscenario = "x"', "is not a valid TOML value"),
        ('{"a\\nb" = 1}', "holds U+000A (a control character, LINE FEED)"),
    ],
    ids=["arrays", "tables", "tables-too-deep-to-read", "two-values", "key-with-newline"],
)
def test_set_values_are_held_to_the_file_rules(tmp_path, value, text):
    path = write(tmp_path, ONE_API)
    result = cli(
        path, "--no-report", "--quiet", "--set", f"business.downtime_cost_per_hour={value}"
    )
    assert result.exit_code == 2, result.output
    message = one_line_error(result.stderr)
    assert message.startswith("simulate: error: --set: business.downtime_cost_per_hour")
    assert text in message


def test_a_set_value_over_the_cap_is_refused(tmp_path):
    path = write(tmp_path, ONE_API)
    value = '"' + "x" * MAX_FILE_BYTES + '"'
    err = load_error(path, [f"scenario.description={value}"])
    assert err.file == "--set" and err.key == "scenario.description"
    assert err.message == (
        "the value is 10,000,002 bytes; a --set value is at most 10,000,000 bytes (10 MB), "
        "as a scenario file is"
    )


def test_a_set_key_with_an_escape_sequence_is_one_line(tmp_path):
    path = write(tmp_path, ONE_API)
    result = cli(path, "--no-report", "--set", "options.api\x1b[2J\n.uptime=0.9")
    assert result.exit_code == 2
    message = one_line_error(result.stderr)
    assert "holds U+001B (a control character, ESCAPE)" in message
    assert "'api\\x1b[2J\\n'" in message


# ---------------------------------------------------------------------------
# Names, labels and one-line messages


def _document(**options):
    document = tomllib.loads(ONE_API)
    for name, extra in options.items():
        document["options"][name] = {**document["options"]["api"], **extra}
    return document


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("two words", "holds ' ' (U+0020 SPACE)"),
        ("a.b", "holds '.' (U+002E FULL STOP)"),
        ("café", "holds 'é' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)"),
        ("<img>", "holds '<' (U+003C LESS-THAN SIGN)"),
        ("a`b", "holds '`' (U+0060 GRAVE ACCENT)"),
        ("", "is empty"),
    ],
)
def test_option_names_are_bare_toml_keys(tmp_path, name, found):
    document = tomllib.loads(ONE_API)
    document["options"][name] = document["options"].pop("api")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    assert info.value.key == f"options.{name}"
    assert info.value.message == (
        f"the name {found}; option names are 1 to 64 ASCII letters, digits, '_' and '-'"
    )
    # The same from a file, where such a name must be a quoted key.
    text = ONE_API.replace("[options.api]", f"[options.{json.dumps(name)}]")
    assert load_error(write(tmp_path, text)).message == info.value.message


@pytest.mark.parametrize(
    "char", sorted(BIDI_CONTROLS) + ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\n"]
)
def test_key_names_refuse_control_and_bidirectional_characters(char):
    as_option = _document(**{f"api{char}x": {}})  # an option name is a key name too
    as_key = tomllib.loads(ONE_API)
    as_key["workload"][f"requests{char}"] = 1
    for where, document in (("options", as_option), ("workload", as_key)):
        with pytest.raises(ScenarioError) as info:
            parse_scenario(document)
        assert info.value.key == where
        assert "key names may not hold control characters, line breaks or bidirectional" in (
            info.value.message
        )
        assert not UNSAFE.search(str(info.value))


def test_name_length_caps():
    assert parse_scenario(_document(**{"n" * 64: {}})).options["n" * 64].label == "n" * 64
    with pytest.raises(ScenarioError, match="is 65 characters long; at most 64 are allowed"):
        parse_scenario(_document(**{"n" * 65: {}}))
    with pytest.raises(ScenarioError, match="is 65 characters long") as info:
        parse_scenario({**tomllib.loads(ONE_API), "k" * 65: 1})
    assert info.value.key is None


@pytest.mark.parametrize(
    ("table", "key", "allowed"),
    [
        ("options.api", "label", 200),
        ("scenario", "name", 200),
        ("scenario", "currency", 200),
        ("scenario", "description", 10_000),
    ],
)
def test_label_and_description_length_caps(table, key, allowed):
    def document(length):
        doc = tomllib.loads(ONE_API)
        node = doc
        for part in table.split("."):
            node = node[part]
        node[key] = "é" * length  # characters, not bytes
        return doc

    parse_scenario(document(allowed))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document(allowed + 1))
    assert info.value.key == f"{table}.{key}"
    assert (
        info.value.message == f"is {allowed + 1:,} characters long; at most {allowed:,} are allowed"
    )


def test_labels_may_hold_any_text():
    label = "Ünïcödé 自托管 \x1b[31m\u202e | <b> [x](y) `z` \n\t end"
    scenario = parse_scenario(_document(other={"label": label}))
    assert scenario.options["other"].label == label  # kept as written: it is data


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_keeps_to_the_rules(path):
    scenario = load_scenario(path)
    for name in scenario.options:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name)


def test_an_error_is_one_line_whatever_it_quotes():
    err = ScenarioError(
        "got 'a\nb' and \x1b[2J", key="options.x\u202e\ny", file="dir\n/evil\x07.toml"
    )
    text = str(err)
    assert text == ("dir\\n/evil\\x07.toml: options.x\\u202e\\ny: got 'a\\nb' and \\x1b[2J")
    assert str(pickle.loads(pickle.dumps(err))) == text
    assert str(err.with_file("other")) == text
    assert err.message == "got 'a\nb' and \x1b[2J"  # the parts stay as they were
    assert str(SimulationError("label \x1b[31m\nnext")) == "label \\x1b[31m\\nnext"


def test_a_key_with_a_newline_and_an_escape_cannot_forge_a_line(tmp_path):
    text = ONE_API.replace(
        "output_price_per_mtok = 4.0",
        'output_price_per_mtok = 4.0\n"upt\\nsimulate: error: forged\\u001b[2J" = 0.9',
    )
    path = write(tmp_path, text)
    result = cli(path, "--no-report")
    assert result.exit_code == 2
    message = one_line_error(result.stderr)
    assert "\x1b" not in message and "forged\\x1b[2J" in message
    assert "upt\\nsimulate: error: forged" in message


def test_unknown_words_and_values_are_quoted_short(tmp_path):
    err = errors.unknown("x" * 1000, "a distribution", ["gamma"])
    assert len(err) < 200 and "'" + "x" * 80 + "...'" in err
    document = tomllib.loads(ONE_API)
    document["scenario"]["name"] = list(range(10_000))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(document)
    assert info.value.message == "must be a string, got [0, 1, 2, 3, 4, 5, ...]"


# ---------------------------------------------------------------------------
# The terminal

ANSI_LABELS = {
    "api": "Frontier \x1b[31mRED\x1b[0m \x1b]0;pwned\x07 API",
    "evil_1": "Self\rhosted \u202egnp.exe\u202c \x9b2J\nsecond line",
}


def _ansi_scenario(tmp_path, name="terminal"):
    text = ONE_API.replace('name = "one api"', f"name = {json.dumps(name)}")
    text = text.replace(
        '[options.api]\nkind = "api"',
        f'[options.api]\nkind = "api"\nlabel = {json.dumps(ANSI_LABELS["api"])}',
    )
    text += textwrap.dedent(
        f"""
        [options.evil_1]
        kind = "api"
        label = {json.dumps(ANSI_LABELS["evil_1"])}
        input_price_per_mtok = 0.8
        output_price_per_mtok = {{ dist = "uniform", low = 3.0, high = 5.0 }}
        """
    )
    return write(tmp_path, text)


def test_text_table_neutralises_every_cell():
    rows = [(label, "$1k") for label in ANSI_LABELS.values()]
    table = text_table(("Option\x1b[1m", "p50"), rows)
    assert not UNSAFE_BUT_NEWLINE.search(table)
    lines = table.split("\n")
    assert len(lines) == 2 + len(rows)  # a newline in a label makes no line of its own
    assert lines[0].startswith("Option\\x1b[1m")
    for line, label in zip(lines[2:], ANSI_LABELS.values(), strict=True):
        assert line.startswith(printable(label))
    assert len({len(line) for line in lines}) == 1  # still aligned


def test_the_terminal_gets_no_control_or_bidirectional_character(tmp_path):
    path = _ansi_scenario(tmp_path)
    result = cli(
        path, "--paths", "2000", "--seed", "1", "--no-report", "--quiet", "--stress", "--wide"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not UNSAFE_BUT_NEWLINE.search(out), repr(out)
    for label in ANSI_LABELS.values():
        assert printable(label) in out
    lines = out.split("\n")
    table = lines[1 : 1 + 2 + len(ANSI_LABELS)]
    assert table[0].startswith("Option") and set(table[1]) == {"-", " "}
    for line, label in zip(table[2:], ANSI_LABELS.values(), strict=True):
        assert line.startswith(printable(label))
    assert "Stress test (" in out and "What moves the savings of " in out


def test_the_scenario_name_reaches_the_terminal_neutralised(tmp_path):
    path = _ansi_scenario(tmp_path, name="Name \x1b[2J\x1b]0;pwned\x07")
    result = cli(path, "--paths", "500", "--seed", "1", "--no-report", "--quiet")
    assert result.exit_code == 0, result.output
    assert not UNSAFE_BUT_NEWLINE.search(result.stdout), repr(result.stdout)


def test_summary_rows_are_printable(tmp_path):
    result = run(load_scenario(_ansi_scenario(tmp_path)), paths=500, seed=1, workers=1)
    for row in summary_rows(result):
        assert all(not UNSAFE.search(cell) for cell in row)


# ---------------------------------------------------------------------------
# report.md and index.html

PAYLOAD = (
    "<img src=x onerror=alert(1)> [link](http://evil) ![img](x.png) `tick` ``two`` "
    "| pipe\nnewline *star* _under_ ~~strike~~ $x$ &amp; www.evil.com a@evil.com \\"
)
LABELS = {
    "api": "API " + PAYLOAD,
    "_under_": "- 1. " + PAYLOAD + " \x1b[31m\u202e",
    "-dash-": "1) <script>alert(2)</script> <b>|</b> [x]: http://evil \u2066 ##",
    "a--b": "    > # quote `x` | ```fence``` ***",
}
NAME = "# <script>alert(3)</script> | `name` [n](http://evil) \x1b[2J"
DESCRIPTION = (
    "- list item <img src=x onerror=alert(4)>\n[link](http://evil) and ![img](x.png)\n"
    "| a | b |\n|---|---|\n# heading\n\n    indented `code` ``two``\n1. ordered\n---\n"
    "<div>block</div>\n\n===\n\n\u202eevil\u202c *star* _under_ ~~strike~~ $x$ &amp; \\"
)
EVIL_FRAGMENTS = ("onerror", "evil", "x.png", "alert(", "tick", "star", "strike", "fence")


def _hostile_toml() -> str:
    options = []
    for i, (name, label) in enumerate(LABELS.items()):
        price = "1.0" if i == 0 else f'{{ dist = "uniform", low = {0.4 + i / 10}, high = 1.5 }}'
        options.append(
            f'[options.{name}]\nkind = "api"\nlabel = {json.dumps(label)}\n'
            f"input_price_per_mtok = {price}\noutput_price_per_mtok = 4.0\n"
        )
    return textwrap.dedent(
        f"""
        [scenario]
        name = {json.dumps(NAME)}
        description = {json.dumps(DESCRIPTION)}
        horizon_months = 24
        [workload]
        requests_per_month = {{ dist = "uniform", low = 900000, high = 1100000 }}
        input_tokens_per_request = 500
        output_tokens_per_request = 100
        [[correlations]]
        between = ["options._under_.input_price_per_mtok", "options.-dash-.input_price_per_mtok"]
        rank = 0.3
        [stress]
        volume_realization = [0.5, 1.0]
        growth_realization = [1.0]
        """
    ) + "\n".join(options)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A report of a scenario whose labels, name, description, file name and --set
    value carry HTML, Markdown, autolinks, control and bidirectional characters."""
    folder = tmp_path_factory.mktemp("hostile")
    source = folder / "we`ird ``|<b>name.toml"
    source.write_text(_hostile_toml(), encoding="utf-8")
    override = 'scenario.currency="USD"'
    scenario = load_scenario(source, [override, "scenario.paths=2000"])
    result = run(scenario, paths=2000, seed=1, workers=1, stress=True)
    out = write_report(result, folder / "report")
    return {
        "result": result,
        "source": source,
        "out": out,
        "markdown": (out / "report.md").read_text(encoding="utf-8"),
        "html": (out / "index.html").read_text(encoding="utf-8"),
    }


def _tokens(markdown: str):
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    return parser.parse(markdown)


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or ())


def _text(inline) -> str:
    """What an inline token shows as text (code spans by their content)."""
    parts = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def _tables(tokens) -> list[tuple[list[str], list[list[str]]]]:
    tables, header, rows, row, section = [], [], [], None, None
    for token in tokens:
        if token.type == "table_open":
            header, rows = [], []
        elif token.type in ("thead_open", "tbody_open"):
            section = token.type
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(_text(token))
        elif token.type == "tr_close":
            (header.extend if section == "thead_open" else rows.append)(row)
            row = None
        elif token.type == "table_close":
            tables.append((header, rows))
    return tables


def _labels(result) -> set[str]:
    """The labels as the pages show them: printable, and (Markdown) stripped."""
    return {printable(o.label).strip() for o in result.options.values()}


def test_report_md_holds_no_html_and_no_link_or_image_from_the_scenario(hostile):
    tokens = list(_walk(_tokens(hostile["markdown"])))
    kinds = {t.type for t in tokens}
    assert not kinds & {"html_inline", "html_block"}
    # The report's own links (to its files) and images (its charts) only.
    own = {p.name for p in hostile["out"].iterdir()}
    links = [t.attrs["href"] for t in tokens if t.type == "link_open"]
    images = [t.attrs["src"] for t in tokens if t.type == "image"]
    assert links and set(links) <= own and all("://" not in h for h in links)
    assert images and set(images) <= own and all(src.endswith(".png") for src in images)
    # Nothing the scenario wrote became emphasis, strikethrough, a heading, a list, a
    # quotation, a rule or a code block.
    assert not kinds & {"em_open", "s_open", "hr", "code_block", "fence", "ordered_list_open"}
    has_cautions = bool(cautions(hostile["result"]))
    # The first screen's numbers, the definitions, the report's files; and the cautions.
    assert sum(t.type == "bullet_list_open" for t in tokens) == 3 + has_cautions
    assert sum(t.type == "blockquote_open" for t in tokens) == has_cautions
    labels = _labels(hostile["result"])
    for i, token in enumerate(tokens):
        if token.type == "strong_open":  # the template's own bold: labels and captions
            inner = []
            for t in tokens[i + 1 :]:
                if t.type == "strong_close":
                    break
                inner.append(t.content if t.type == "text" else "")
            shown = "".join(inner)
            assert shown in labels or not any(f in shown for f in EVIL_FRAGMENTS), shown


def test_report_md_headings_and_paragraphs_show_the_text_as_written(hostile):
    tokens = _tokens(hostile["markdown"])
    headings = [
        (tokens[i].tag, _text(tokens[i + 1]))
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]
    assert headings[0] == ("h1", printable(NAME).strip())
    assert [tag for tag, _ in headings].count("h1") == 1
    assert all(not any(f in text for f in EVIL_FRAGMENTS) for _, text in headings[1:])
    paragraphs = [_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "paragraph_open"]
    parts = re.split(r"\n[ \t]*\n", DESCRIPTION)
    expected = [prose(p).strip() for p in parts if prose(p).strip()]
    assert paragraphs[: len(expected)] == expected
    for i, token in enumerate(tokens[:-1]):  # description paragraphs are plain text
        if token.type == "paragraph_open" and _text(tokens[i + 1]) in expected:
            assert {c.type for c in tokens[i + 1].children} == {"text"}


def test_report_md_tables_have_their_columns_and_every_label_intact(hostile):
    result = hostile["result"]
    labels = _labels(result)
    rivals = [printable(result.options[n].label).strip() for n in result.versus]
    tables = {tuple(header): rows for header, rows in _tables(_tokens(hostile["markdown"]))}
    expected = [
        COLUMNS,
        ("Input", "Applies to", "As written", "p5", "p50", "p95", "Source"),
        ("Option", "Year 1", "Year 2"),
        ("Option", "Mean total", "Where the money goes (mean)"),
        ("Volume x", "Growth rate x", *rivals, "Cheapest most often"),
        ("Question", "Answer from the scenario and the run", "Verdict"),
        ("Input", "Spearman", "Share of variance", "Median saving, input low", "input high"),
        ("Input", "Expected saving"),
    ]
    for header in expected:
        assert header in tables, (header, list(tables))
    for header, rows in tables.items():
        assert rows
        for row in rows:  # a split cell or row would leave a cell empty (or cut short)
            assert len(row) == len(header) and all(cell.strip() for cell in row), row
    assert [row[0] for row in tables[COLUMNS]] == [r[0].strip() for r in summary_rows(result)]
    assert {row[0] for row in tables[("Option", "Year 1", "Year 2")]} == set(rivals)
    assert {row[0] for row in tables[expected[3]]} == labels
    assert {row[-1] for row in tables[expected[4]]} <= labels
    inputs = tables[expected[1]]
    # Each input's name in words, then its key as a code span, intact.
    assert {row[0] for row in inputs} == {f"{label_of(k)} ({k})" for k in result.scenario.inputs}
    assert {row[1] for row in inputs} <= labels | {"Workload"}
    spend = tables[expected[5]][0][1]
    assert printable(result.options[result.scenario.baseline].label) in spend


def test_report_md_code_spans_hold_the_text_as_written(hostile):
    tokens = list(_walk(_tokens(hostile["markdown"])))
    spans = [t.content for t in tokens if t.type == "code_inline"]
    assert str(hostile["source"]) in spans  # the file name, backticks and all
    assert "options._under_.input_price_per_mtok" in spans
    repeat = next(s for s in spans if s.startswith("simulate "))
    assert shlex.split(repeat)[1] == str(hostile["source"])


def test_report_md_gives_gfm_nothing_to_autolink_and_no_raw_control(hostile):
    markdown = hostile["markdown"]
    assert not re.search(r"[A-Za-z]://", markdown) and "www." not in markdown.lower()
    assert not re.search(r"(?<!\\)@", markdown)
    assert not UNSAFE_BUT_NEWLINE.search(markdown)


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_index_html_shows_the_payloads_as_text_only(hostile):
    page = _Html()
    page.feed(hostile["html"])
    page.close()
    tags = [tag for tag, _ in page.tags]
    for tag in ("img", "script", "b", "iframe", "object"):
        assert tag not in tags, tag
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    own = {p.name for p in hostile["out"].iterdir()}
    hrefs = [attrs.get("href") for tag, attrs in page.tags if tag == "a"]
    assert hrefs and set(hrefs) <= own
    text = "".join(page.text)
    for option in hostile["result"].options.values():
        assert printable(option.label) in text  # as written, its controls shown as escapes
    assert "<img src=x onerror=alert(1)> [link](http://evil)" in text
    outside_charts = re.sub(r"(?s)<svg.*?</svg>", "", hostile["html"])
    assert not UNSAFE_BUT_NEWLINE.search(outside_charts)


def test_index_html_charts_hold_no_control_character(hostile):
    assert not UNSAFE_BUT_NEWLINE.search(hostile["html"])


# ---------------------------------------------------------------------------
# The filters themselves


@pytest.mark.parametrize(
    "text",
    ["a`b", "``", "` x `", " lead", "trail ", "x | y", "`", "a\nb\x1b", "tick ``` three"],
)
def test_code_spans_show_their_text_whatever_backticks_it_holds(text):
    tokens = _tokens(f"x {markdown_code(text)} y")
    spans = [t for t in _walk(tokens) if t.type == "code_inline"]
    assert [s.content for s in spans] == [printable(text)]
    cell = markdown_table(("A",), [(markdown_code(text),)])
    ((header, rows),) = _tables(_tokens(cell))
    assert rows == [[printable(text)]]


@pytest.mark.parametrize(
    "text",
    [
        "- a", "+ a", "* a", "1. a", "2) a", "---", "- - -", "# h", "> q", "    code",
        "<div>x</div>", "a  ", "a\\", "&copy; &#60;", "[a]: http://x", "~~s~~", "_e_",
        "| a | b |", "a\n===", "x\n---", "[![i](x)](y)", "<http://x>", "<a@b.c>",
    ],
)  # fmt: skip
def test_md_text_renders_as_one_plain_paragraph(text):
    tokens = _tokens(markdown_text(text) + "\n")
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert {c.type for c in tokens[1].children} == {"text"}
    assert tokens[1].children[0].content == printable(text).strip()
