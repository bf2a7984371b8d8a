"""The machine's room for a run: memory available now (within any control group's
limit), the cores this process may use, free disk space, and this process's own
resident memory."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Machine", "free_disk", "machine", "resident"]


@dataclass(frozen=True)
class Machine:
    """What this machine offers a run.

    Attributes
    ----------
    memory
        Bytes of memory available now (``MemAvailable``, within any control group's
        limit); ``None`` when it cannot be read.
    cores
        Cores this process may run on.
    """

    memory: int | None
    cores: int


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def _cgroup_room() -> int | None:
    """Bytes left under this process's control group memory limit, if it has one."""
    try:
        with open("/proc/self/cgroup", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            base = f"/sys/fs/cgroup{path.rstrip('/')}"
            limit, used = _read_int(f"{base}/memory.max"), _read_int(f"{base}/memory.current")
        elif "memory" in controllers.split(","):
            base = f"/sys/fs/cgroup/memory{path.rstrip('/')}"
            limit = _read_int(f"{base}/memory.limit_in_bytes")
            used = _read_int(f"{base}/memory.usage_in_bytes")
        else:
            continue
        if limit is not None and used is not None and limit < 2**60:
            return max(0, limit - used)
    return None


def machine() -> Machine:
    """The memory available now and the cores this process may use."""
    from ..engine.run import default_workers

    available = _meminfo_available()
    room = _cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return Machine(memory=available, cores=default_workers())


def free_disk(folder: str | Path) -> int | None:
    """Free bytes on the file system that holds ``folder`` (or would hold it: its
    nearest existing parent); ``None`` when it cannot be read."""
    path = Path(os.path.abspath(folder))
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def resident() -> int | None:
    """Resident memory of this process now; ``None`` when it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None
