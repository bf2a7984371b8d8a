"""Whole-process timing for benchmarks/run.py: wall time and peak RSS of a command.

Each run is one fresh process (interpreter start-up and imports included), started
by the small launch.py (see there why) and waited for with os.wait4, so the kernel
reports its peak resident set. On Linux that ru_maxrss (KiB) is the largest of the
process and its waited-for descendants (worker processes), not their sum.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = Path(__file__).resolve().with_name("launch.py")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Sample:
    """One whole-process run."""

    wall_s: float
    cpu_s: float
    peak_rss_kib: int
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Measurement:
    """Repeated runs of one command; summaries are medians over the runs."""

    label: str
    cmd: list[str]
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def cpu_s(self) -> float:
        return statistics.median(s.cpu_s for s in self.samples)

    @property
    def peak_rss_mib(self) -> float:
        return statistics.median(s.peak_rss_kib for s in self.samples) / 1024

    @property
    def runs(self) -> int:
        return len(self.samples)

    @property
    def stdout(self) -> str:
        return self.samples[-1].stdout


def run_once(cmd: Sequence[str], expect: int = 0) -> Sample:
    """Run ``cmd`` from the repository root through launch.py; fail loudly on an
    unexpected exit status."""
    # Output goes to files, not pipes: nothing reads a pipe while wait4 blocks, and a
    # summary JSON larger than the pipe buffer would then deadlock.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.TemporaryDirectory() as tmp:
            result = Path(tmp) / "result.json"
            launcher = [sys.executable, "-S", str(LAUNCHER), str(result)]
            subprocess.run([*launcher, *cmd], stdout=out, stderr=err, cwd=ROOT, check=False)
            if not result.exists():
                err.seek(0)
                raise RuntimeError(f"launch.py failed on {' '.join(cmd)}:\n{err.read().decode()}")
            figures = json.loads(result.read_text())
        out.seek(0)
        err.seek(0)
        sample = Sample(**figures, stdout=out.read().decode(), stderr=err.read().decode())
    if sample.returncode != expect:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {sample.returncode} (expected {expect}):\n{sample.stderr}"
        )
    return sample


def measure_interleaved(
    jobs: dict[str, tuple[Sequence[str], int]], expect: dict[str, int] | None = None
) -> dict[str, Measurement]:
    """Run each labelled ``(cmd, repeats)`` round-robin: round i runs every command that
    still has repeats left, starting one place further along each round, so that a
    burst of load from other users of the machine falls on all of them alike."""
    expect = expect or {}
    results = {label: Measurement(label, list(cmd)) for label, (cmd, _) in jobs.items()}
    labels = list(jobs)
    for round_ in range(max(repeats for _, repeats in jobs.values())):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            cmd, repeats = jobs[label]
            if round_ >= repeats:
                continue
            sample = run_once(cmd, expect.get(label, 0))
            results[label].samples.append(sample)
            log(
                f"  {label}: run {round_ + 1}/{repeats}: {sample.wall_s:.2f} s, "
                f"{sample.peak_rss_kib / 1024:.0f} MiB"
            )
    return results


def measure(cmd: Sequence[str], repeats: int, label: str | None = None) -> Measurement:
    """Median wall time and peak RSS of ``repeats`` whole-process runs of ``cmd``."""
    label = label or " ".join(cmd)
    return measure_interleaved({label: (cmd, repeats)})[label]
