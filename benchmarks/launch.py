"""Run one command, then write its wall and CPU time, peak RSS and exit status as JSON.

Usage: python -S benchmarks/launch.py RESULT.json CMD [ARG...]   (used by measure.py)

Why a separate, small process: on Linux a new program's ru_maxrss starts at the peak
RSS of the process that spawned it (exec keeps the old address space's high-water
mark, and subprocess spawns with vfork), so commands spawned straight from
benchmarks/run.py, which imports NumPy and holds gigabytes in section 7, would all
report at least its size. This launcher peaks at about 10 MiB, below any command
measured. Output goes to the launcher's own stdout and stderr, which the command
inherits.
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    result, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped already
    figures = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # worker processes included
        "peak_rss_kib": usage.ru_maxrss,
        "returncode": proc.returncode,
    }
    with open(result, "w") as f:
        json.dump(figures, f)


if __name__ == "__main__":
    main()
