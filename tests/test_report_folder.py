"""The report folder against a careless or hostile user: destinations the report
could not be moved onto are refused before the run (read-only, under a file, a mount
point, a symbolic link), a move stopped between its two renames puts the previous
report back, and what killed runs left beside a report is cleaned at the next run.

Tests run as root here, where ``chmod`` does not stop a write (and ``os.access`` says
a mode-0500 folder is writable), so a folder that cannot be written is made in ways
that hold for root too: a parent that is a file; ``/proc``, where ``os.access`` says
yes and ``mkdir`` fails all the same; and, where the machine lets a test make a
private mount namespace (``unshare``, as root), a real read-only tmpfs, a tmpfs
mounted on the destination and a bind mount (which ``os.path.ismount`` cannot tell).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib

import pytest
from click.testing import CliRunner

import simulator.report.folder as folder
from simulator import ScenarioError, parse_scenario, run
from simulator.cli import simulate
from simulator.report.folder import MARKER, OWNER, clean_stale, make_staging
from simulator.report.writer import ReportWriter, write_report

from .conftest import ONE_API, ROOT


@pytest.fixture(scope="module")
def results():
    scenario = parse_scenario(tomllib.loads(ONE_API))
    return [run(scenario, paths=300, seed=seed, workers=1) for seed in (1, 2)]


def snapshot(path):
    """Every file under ``path`` and its bytes."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def names(path):
    return sorted(p.name for p in path.iterdir())


def refused_before_the_run(args, monkeypatch):
    """Run the command with the run itself replaced by a failure: an error it gives
    came before any path was costed."""

    def no_run(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr("simulator.run", no_run)
    result = CliRunner().invoke(simulate, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("simulate: error: ")
    return result.stderr


@pytest.fixture
def one_api(tmp_path):
    source = tmp_path / "one.toml"
    source.write_text(ONE_API, encoding="utf-8")
    return source


# ---------------------------------------------------------------------------
# Refused before the run


def test_a_parent_that_is_a_file_is_refused_and_nothing_is_made(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        ReportWriter(blocker / "sub" / "report")
    message = str(caught.value)
    assert f"{blocker} is a file, not a folder" in message and "--out" in message
    assert names(tmp_path) == ["notes.txt"] and blocker.read_text(encoding="utf-8") == "mine"


def test_the_command_refuses_a_parent_that_is_a_file_before_the_run(tmp_path, one_api, monkeypatch):
    (tmp_path / "file").write_text("", encoding="utf-8")
    line = refused_before_the_run(
        [one_api, "--paths", "300", "--out", tmp_path / "file" / "report"], monkeypatch
    )
    assert "is a file, not a folder" in line
    assert names(tmp_path) == ["file", "one.toml"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_that_refuses_writes_even_to_root_is_refused(tmp_path):
    # /proc says it may be written (os.access), and refuses every new folder (also to
    # root): only trying tells, which is what the writer does.
    out = "/proc/simulator-test-report"
    assert os.access("/proc", os.W_OK) or os.geteuid() != 0
    with pytest.raises(ScenarioError) as caught:
        ReportWriter(out)
    assert "cannot write in the folder that would hold it, /proc" in str(caught.value)
    assert not os.path.exists(out)


def test_a_staging_folder_that_cannot_be_made_leaves_no_folders_behind(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder.tempfile, "mkdtemp", full)
    with pytest.raises(ScenarioError, match=r"\(No space left on device\); choose another --out"):
        ReportWriter(tmp_path / "new" / "deeper" / "report")
    assert names(tmp_path) == []  # the folders made on the way are gone again


def test_a_symbolic_link_is_refused_and_left_as_it_was(no_charts, tmp_path, results, monkeypatch):
    real = tmp_path / "real"
    write_report(results[0], real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    with pytest.raises(ScenarioError) as caught:
        ReportWriter(link)
    message = str(caught.value)
    assert "is a symbolic link" in message and f"--out {real}" in message
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert snapshot(real) == before
    assert names(tmp_path) == ["link", "real"]
    line = refused_before_the_run([ROOT / "scenarios" / "startup.toml", "--out", link], monkeypatch)
    assert "symbolic link" in line and link.is_symlink() and snapshot(real) == before


def test_a_link_made_while_the_run_went_is_refused_at_the_move(no_charts, tmp_path, results):
    real, out = tmp_path / "real", tmp_path / "out"
    write_report(results[0], real)
    before = snapshot(real)
    with ReportWriter(out) as writer:
        out.symlink_to(real, target_is_directory=True)
        with pytest.raises(ScenarioError, match="symbolic link"):
            writer.finish(results[1])
    assert out.is_symlink() and snapshot(real) == before
    assert names(tmp_path) == ["out", "real"]


# ---------------------------------------------------------------------------
# Mount points and read-only file systems, for real (a private mount namespace)


def _namespaces() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--mount", "--propagation", "private", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


namespaces = pytest.mark.skipif(
    not _namespaces(), reason="needs a private mount namespace (unshare, as root)"
)


def in_namespace(mounts: list[list[str]], *command: str):
    """Make ``mounts`` in a mount namespace of its own (gone when it exits) and run
    the command there; return the mounts' and the command's outcome."""
    script = textwrap.dedent(
        """
        import json, subprocess, sys
        for mount in json.loads(sys.argv[1]):
            subprocess.run(["mount", *mount], check=True, timeout=10)
        done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=120)
        print(json.dumps([done.returncode, done.stdout, done.stderr]))
        """
    )
    namespace = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script]
        + [json.dumps(mounts), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        stdout, stderr = namespace.communicate(timeout=180)
    finally:
        if namespace.poll() is None:  # timed out: the session it started, by its id
            os.killpg(namespace.pid, signal.SIGKILL)
            namespace.communicate(timeout=30)
    assert namespace.returncode == 0, stderr
    return json.loads(stdout)


def command(source, out):
    return [sys.executable, "-m", "simulator", str(source), "--paths", "300", "--out", str(out)]


@namespaces
def test_a_read_only_file_system_is_refused_before_the_run(tmp_path, one_api):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    status, stdout, stderr = in_namespace(
        [["-t", "tmpfs", "-o", "ro,size=64m", "tmpfs", str(readonly)]],
        *command(one_api, readonly / "report"),
    )
    assert status == 2 and stdout == ""  # the results table comes after the run
    assert "cannot write in the folder that would hold it" in stderr
    assert "Read-only file system" in stderr and stderr.count("\n") == 1
    assert names(tmp_path) == ["one.toml", "readonly"] and names(readonly) == []


@namespaces
def test_a_mount_point_is_refused_before_the_run_and_nothing_is_left(tmp_path, one_api):
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    status, stdout, stderr = in_namespace(
        [["-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mounted)]], *command(one_api, mounted)
    )
    assert status == 2 and stdout == ""
    assert "is a mount point" in stderr and f"--out {mounted}/report" in stderr
    assert names(tmp_path) == ["mounted", "one.toml"]  # no .old, no staging folder


@namespaces
def test_a_bind_mount_that_ismount_cannot_tell_is_refused(tmp_path, one_api):
    source, bound = tmp_path / "source", tmp_path / "bound"
    source.mkdir()
    bound.mkdir()
    assert not os.path.ismount(bound)
    status, stdout, stderr = in_namespace(
        [["--bind", str(source), str(bound)]], *command(one_api, bound)
    )
    assert status == 2 and stdout == "" and "is a mount point" in stderr
    assert names(tmp_path) == ["bound", "one.toml", "source"]


@namespaces
def test_a_report_inside_a_mount_point_is_written(tmp_path, one_api):
    # On a 64 MiB file system: the disk check once asked any report for 126 MiB.
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    status, _, stderr = in_namespace(
        [["-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mounted)]],
        *command(one_api, mounted / "report"),
        "--quiet",
    )
    assert status == 0, stderr


# ---------------------------------------------------------------------------
# The move


@pytest.fixture
def earlier(no_charts, tmp_path, results):
    """A report in ``tmp_path / "report"`` and a snapshot of its files."""
    out = tmp_path / "report"
    write_report(results[0], out)
    return out, snapshot(out)


def replace_then(monkeypatch, calls: int, error: BaseException):
    """Make ``os.replace`` in the report folder do its rename and then raise ``error``
    at its ``calls``-th call: an interrupt landing just after a rename."""
    real = os.replace
    count = []

    def replace(src, dst):
        real(src, dst)
        count.append(dst)
        if len(count) == calls:
            raise error

    monkeypatch.setattr(folder.os, "replace", replace)
    return count


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(errno.EIO, "I/O error")])
def test_a_move_stopped_between_its_renames_puts_the_earlier_report_back(
    earlier, tmp_path, results, monkeypatch, error
):
    out, before = earlier
    monkeypatch.setattr(folder, "_exchange", lambda a, b: False)  # two renames
    done = replace_then(monkeypatch, 1, error)
    with pytest.raises(type(error)):
        write_report(results[1], out)
    assert done[0].name.endswith(".old")  # the first rename did happen: out went aside
    assert snapshot(out) == before
    assert names(tmp_path) == ["report"]  # no aside copy, no staging folder


def test_a_second_rename_that_fails_puts_the_earlier_report_back(
    earlier, tmp_path, results, monkeypatch
):
    out, before = earlier
    monkeypatch.setattr(folder, "_exchange", lambda a, b: False)
    real = os.replace

    def replace(src, dst):
        if os.path.basename(src).endswith(".tmp"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(folder.os, "replace", replace)
    with pytest.raises(OSError, match="cross-device"):
        write_report(results[1], out)
    assert snapshot(out) == before and names(tmp_path) == ["report"]


def test_an_interrupt_after_both_renames_leaves_the_new_report_whole(
    earlier, tmp_path, results, monkeypatch
):
    out, before = earlier
    monkeypatch.setattr(folder, "_exchange", lambda a, b: False)
    replace_then(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_report(results[1], out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["seed"] == 2 and snapshot(out) != before
    listed = (out / MARKER).read_text(encoding="utf-8").splitlines()[1:]
    assert names(out) == sorted([MARKER, *listed]) and OWNER not in names(out)
    assert names(tmp_path) == ["report"]


@pytest.mark.skipif(folder._renameat2() is None, reason="no renameat2 here")
def test_the_swap_is_one_step_where_the_system_can(earlier, tmp_path, results, monkeypatch):
    out, before = earlier
    real = folder._exchange
    swaps = []

    def exchange(a, b):
        swaps.append(real(a, b))
        raise KeyboardInterrupt  # just after the swap

    monkeypatch.setattr(folder, "_exchange", exchange)
    renames = replace_then(monkeypatch, 0, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_report(results[1], out)
    assert swaps == [True] and renames == []  # one exchange, no rename
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"]["seed"] == 2
    assert names(tmp_path) == ["report"]  # the earlier report, swapped out, removed


def test_two_renames_where_the_swap_is_not_available(earlier, tmp_path, results, monkeypatch):
    out, _ = earlier
    monkeypatch.setattr(folder, "_renameat2", lambda: None)
    write_report(results[1], out)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"]["seed"] == 2
    assert names(tmp_path) == ["report"]


# ---------------------------------------------------------------------------
# What killed runs left behind


def dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return int(done.stdout)


def staging_of(out, tag: str, **owner):
    """A staging folder beside ``out`` with a file in it and, if given, an owner."""
    path = out.parent / f".{out.name}.{tag}.tmp"
    path.mkdir()
    (path / "paths.csv").write_text("path,total:api\n", encoding="utf-8")
    if owner:
        (path / OWNER).write_text(json.dumps(owner), encoding="utf-8")
    return path


def test_staging_folders_of_dead_runs_go_and_live_ones_stay(no_charts, tmp_path, results):
    out = tmp_path / "report"
    here = {"host": folder.socket.gethostname(), "boot": folder._boot_id()}
    me = {"pid": os.getpid(), "start": folder._process(os.getpid())[1], **here}
    dead = staging_of(out, "dead0000", pid=dead_pid(), start=None, **here)
    reused = staging_of(out, "reused00", **{**me, "start": me["start"] + 1})  # PID reused
    rebooted = staging_of(out, "rebooted", **{**me, "boot": "another-boot"})
    live = staging_of(out, "live0000", **me)
    remote = staging_of(out, "remote00", pid=dead_pid(), host="another-host", boot=None)
    unknown = staging_of(out, "unknown0")  # no owner: an older version's, perhaps live
    other = tmp_path / ".report-2.dead0000.tmp"  # another destination's
    other.mkdir()
    lookalike = tmp_path / ".report.not-ours.tmp"
    lookalike.mkdir()

    with ReportWriter(out) as writer:
        left = set(names(tmp_path))
        assert {dead.name, reused.name, rebooted.name}.isdisjoint(left)
        assert {live.name, remote.name, unknown.name, other.name, lookalike.name} <= left
        assert writer.staging.name in left and (writer.staging / OWNER).is_file()
        writer.finish(results[0])
    assert set(names(tmp_path)) == {
        "report",
        live.name,
        remote.name,
        unknown.name,
        other.name,
        lookalike.name,
    }
    assert OWNER not in names(out)


def test_what_a_killed_move_left_is_cleaned_or_put_back(tmp_path, results, no_charts):
    out = tmp_path / "report"
    write_report(results[0], out)
    before = snapshot(out)
    # Killed between its renames: the report aside, nothing at out.
    aside = tmp_path / ".report.abcdefgh.old"
    os.replace(out, aside)
    empty_aside = tmp_path / ".report.00000000.old"
    empty_aside.mkdir()
    assert clean_stale(out) == [empty_aside, aside]
    assert snapshot(out) == before and names(tmp_path) == ["report"]
    # A whole report and no owner: a move cut off, once it has not changed for a while.
    young = tmp_path / ".report.young000.tmp"
    shutil.copytree(out, young)
    old = tmp_path / ".report.oldone00.tmp"
    shutil.copytree(out, old)
    long_ago = time.time() - folder.ABANDONED_S - 60
    os.utime(old / MARKER, (long_ago, long_ago))
    assert clean_stale(out) == [old]
    assert names(tmp_path) == [young.name, "report"]


def test_a_killed_command_leaves_its_staging_folder_to_the_next_run(tmp_path, one_api):
    out = tmp_path / "report"
    base = [sys.executable, "-m", "simulator", str(one_api), "--out", str(out), "--quiet"]
    killed = subprocess.Popen(
        [*base, "--paths", "50000000", "--workers", "1", "--max-minutes", "0", "--no-path-data"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        staging = []
        while not staging and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.1)
            staging = [p for p in tmp_path.glob(".report.*.tmp") if (p / OWNER).exists()]
        assert staging, "the run made no staging folder"
        assert json.loads((staging[0] / OWNER).read_text(encoding="utf-8"))["pid"] == killed.pid
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # the session this test started, by its id
        killed.wait(timeout=30)
    assert staging[0].exists()  # SIGKILL: nothing could clean up
    done = subprocess.run([*base, "--paths", "300"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert names(tmp_path) == ["one.toml", "report"]


def test_make_staging_names_this_process(tmp_path):
    staging = make_staging(tmp_path / "report")
    owner = json.loads((staging / OWNER).read_text(encoding="utf-8"))
    assert owner["pid"] == os.getpid() and owner["host"] == folder.socket.gethostname()
    assert not folder._owner_gone(staging)
