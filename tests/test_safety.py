"""Scenario text is data only, and reports go only where the command line says.

Nothing a scenario holds is evaluated, executed or used as a path: the report folder
comes from the scenario file's stem or ``--out``, never from ``scenario.name`` or any
other key. The output folder is new, empty, or a report this tool made holding only
its own files; nothing else is ever deleted or overwritten.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from simulator.cli import simulate
from simulator.report.folder import MARKER

from .conftest import ROOT, SCENARIOS

LOGISTICS = str(SCENARIOS / "logistics.toml")


def invoke(*args: str):
    return CliRunner().invoke(simulate, [str(a) for a in args], catch_exceptions=False)


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def scenario_text(name: str, option: str = "api", label: str = "API") -> str:
    return textwrap.dedent(
        f"""
        [scenario]
        name = {json.dumps(name)}
        description = {json.dumps(name)}
        [workload]
        requests_per_month = 1000000
        input_tokens_per_request = 500
        output_tokens_per_request = 100
        [options.{json.dumps(option)}]
        kind = "api"
        label = {json.dumps(label)}
        input_price_per_mtok = 1.0
        output_price_per_mtok = {{ dist = "uniform", low = 3.0, high = 5.0 }}
        [options.other]
        kind = "api"
        label = {json.dumps(label + " (other)")}
        input_price_per_mtok = 0.5
        output_price_per_mtok = 2.0
        """
    )


# ---------------------------------------------------------------------------
# Names are not paths


@pytest.mark.parametrize(
    "name", ["../../x", "a/b/c", "/tmp/evil", "..", ".", "~/x", "C:\\evil", "con", "x\0y"]
)
def test_a_scenario_name_never_chooses_where_files_go(no_charts, chdir_tmp, name):
    (chdir_tmp / "work").mkdir()
    source = chdir_tmp / "work" / "plain.toml"
    source.write_text(scenario_text(name, label=name), encoding="utf-8")
    os.chdir(chdir_tmp / "work")
    result = invoke("plain.toml", "--paths", "300", "--seed", "1", "--quiet")
    assert result.exit_code == 0, result.output
    report = "work/reports/plain"
    written = [f for f in files_under(chdir_tmp) if f not in ("work", "work/plain.toml")]
    assert written[:2] == ["work/reports", report]
    assert all(f.startswith(report + "/") for f in written[2:])
    summary = json.loads((chdir_tmp / report / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["name"] == name  # kept as text


@pytest.mark.parametrize("name", ["../../evil", 'a,b"c', "line\nbreak", "=cmd|' /C calc'!A0"])
def test_option_names_that_look_like_paths_or_break_csv_are_refused(no_charts, tmp_path, name):
    # Option names are bare TOML keys (ASCII letters, digits, '_' and '-'): none of
    # these can be one, so none reaches a path, a CSV header or a page.
    source = tmp_path / "names.toml"
    source.write_text(scenario_text("names", option=name, label="odd"), encoding="utf-8")
    out = tmp_path / "reports" / "names"
    result = invoke(source, "--paths", "500", "--seed", "1", "--quiet", "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("simulate: error: ") and result.stderr.count("\n") == 1
    assert "ASCII letters, digits, '_' and '-'" in result.stderr or "key names" in result.stderr
    assert files_under(tmp_path) == ["names.toml"]


def test_option_names_of_every_allowed_character_stay_text_in_the_csv(no_charts, tmp_path):
    names = ["-dash-first", "_under_", "A-Z_0-9", "9" * 64]
    parts = [scenario_text("names", option=names[0], label="odd")]
    for i, name in enumerate(names[1:]):
        parts.append(
            f'[options.{name}]\nkind = "api"\ninput_price_per_mtok = {i + 1}\n'
            "output_price_per_mtok = 1\n"
        )
    source = tmp_path / "names.toml"
    source.write_text("\n".join(parts), encoding="utf-8")
    out = tmp_path / "reports" / "names"
    result = invoke(source, "--paths", "500", "--seed", "1", "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path)[:3] == ["names.toml", "reports", "reports/names"]
    assert all(f.startswith("reports/names/") for f in files_under(tmp_path)[3:])
    with open(out / "paths.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert len(rows) == 501 and all(len(row) == len(header) for row in rows)
    for name in names:
        assert f"total:{name}" in header


# ---------------------------------------------------------------------------
# Nothing in a scenario is evaluated or executed, nothing else is read or written

AUDIT = r"""
import json, os, sys
events = []
active = [True]
WATCH = {"open", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.mkdir",
         "shutil.rmtree", "compile", "os.system", "subprocess.Popen", "os.exec",
         "os.posix_spawn", "os.spawn", "os.fork", "os.symlink", "os.link", "os.chmod"}

def hook(event, args):
    if active[0] and event in WATCH:
        if event == "compile":
            source = args[0]
            if isinstance(source, bytes):
                source = source.decode("utf-8", "replace")
            args = (source if isinstance(source, str) else "",)
        elif event == "open":
            path, mode, flags = args
            if not isinstance(path, str | bytes | os.PathLike):
                return
            args = (os.fsdecode(path), str(mode), int(flags or 0))
        else:
            args = tuple(os.fsdecode(a) if isinstance(a, str | bytes | os.PathLike) else
                         repr(a) for a in args)
        events.append((event, args))

sys.addaudithook(hook)
from simulator.cli import simulate
try:
    simulate(sys.argv[1:], prog_name="simulate", standalone_mode=False)
finally:
    active[0] = False
    with open(os.environ["AUDIT_LOG"], "w", encoding="utf-8") as f:
        json.dump(events, f)
"""

PAYLOAD = (
    "MARK-{{ 7*7 }}-{0.__class__}-%(x)s-${HOME}-$(touch PWNED)-`touch PWNED`-"
    "__import__('os').system('touch PWNED')-<%= 7*7 %>-{secret}"
)


def test_scenario_text_is_never_evaluated_and_paths_in_it_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENTS", encoding="utf-8")
    text = PAYLOAD.replace("{secret}", str(secret))
    work = tmp_path / "work"
    work.mkdir()
    source = work / "payload.toml"
    source.write_text(scenario_text(text, label=str(secret)), encoding="utf-8")
    (tmp_path / "audit.py").write_text(AUDIT, encoding="utf-8")
    env = dict(os.environ, AUDIT_LOG=str(tmp_path / "audit.json"), MPLBACKEND="Agg")
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, str(tmp_path / "audit.py"), str(source)]
    command += ["--paths", "400", "--seed", "1", "--workers", "1", "--quiet"]
    proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))

    opened = [args[0] for event, args in events if event == "open"]
    assert any(p.endswith("summary.json") for p in opened)  # the hook saw the run
    assert any(event == "compile" for event, _ in events)  # and the templates compiled
    report = work / "reports" / "payload"
    allowed = (str(work / "reports") + os.sep, str(tmp_path / "mpl"))
    for event, args in events:
        if event == "subprocess.Popen":  # matplotlib lists the fonts once, nothing else
            assert os.path.basename(args[0]) == "fc-list", args
            continue
        assert event not in ("os.system", "os.exec", "os.posix_spawn", "os.spawn"), args
        assert event not in ("os.fork", "os.symlink", "os.link"), args
        if event == "compile":
            assert "MARK-" not in args[0], "scenario text reached the compiler"
            continue
        if event == "open":
            path, mode, flags = args
            path = os.path.abspath(os.path.join(work, path))
            assert path != str(secret), "a path in the scenario was followed"
            writes = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR)
            if writes:
                assert path.startswith(allowed), f"wrote {path}"
            continue
        for arg in args:  # renames, removals and folders: only inside the reports
            if arg.startswith(os.sep) or os.sep in arg:
                full = os.path.abspath(os.path.join(work, arg))
                assert full.startswith(allowed) or full == str(work / "reports"), (event, arg)
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("*"))
    summary = (report / "summary.json").read_text(encoding="utf-8")
    assert json.loads(summary)["scenario"]["name"] == text  # data, shown as written
    assert "SECRET-CONTENTS" not in summary
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "MARK-{{ 7*7 }}" in html and "MARK-49" not in html


# ---------------------------------------------------------------------------
# The output folder


def test_a_report_folder_holding_a_file_it_did_not_write_is_not_replaced(no_charts, tmp_path):
    out = tmp_path / "r"
    assert invoke(LOGISTICS, "--paths", "300", "--seed", "1", "--out", out).exit_code == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = invoke(LOGISTICS, "--paths", "300", "--seed", "2", "--out", out)
    assert result.exit_code == 2
    assert "holds files this tool did not write (notes.txt)" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_the_marker_lists_what_the_report_wrote(no_charts, tmp_path):
    out = tmp_path / "r"
    assert invoke(LOGISTICS, "--paths", "300", "--seed", "1", "--out", out).exit_code == 0
    lines = (out / MARKER).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("simulator ")
    assert sorted(lines[1:]) == sorted(p.name for p in out.iterdir() if p.name != MARKER)


@pytest.mark.parametrize("case", ["marker-folder", "link-to-foreign", "broken-link", "dot"])
def test_other_folders_are_never_replaced(no_charts, tmp_path, monkeypatch, case):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep", encoding="utf-8")
    out = tmp_path / "out"
    if case == "marker-folder":  # a folder named like the marker is not the marker
        out.mkdir()
        (out / MARKER).mkdir()
        (out / "keep.txt").write_text("keep", encoding="utf-8")
    elif case == "link-to-foreign":
        out.symlink_to(foreign, target_is_directory=True)
    elif case == "broken-link":
        out.symlink_to(tmp_path / "nowhere")
    else:
        monkeypatch.chdir(foreign)
        out = "."
    before = files_under(tmp_path)
    result = invoke(LOGISTICS, "--paths", "300", "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("simulate: error: ") and result.stderr.count("\n") == 1
    assert files_under(tmp_path) == before
    assert (foreign / "keep.txt").read_text(encoding="utf-8") == "keep"


def test_the_command_imports_no_other_path_from_the_scenario():
    # The only keys whose values are file names would be here; there are none.
    from simulator.scenario import schema

    types = {f.type for table in schema.OPTION_FIELDS.values() for f in table.values()}
    for table in (schema.SCENARIO, schema.WORKLOAD, schema.BUSINESS, schema.STRESS):
        types |= {f.type for f in table.values()}
    assert types <= {
        "quantity", "number", "integer", "numbers", "string", "bool", "enum", "option",
        "routes", "trigger", "reservation", "date", "profile",
    }  # fmt: skip
    source = (ROOT / "simulator" / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert 'folder = out or Path("reports") / Path(scenario).stem' in source
