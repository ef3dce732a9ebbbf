"""How many render processes this machine can take: CPUs we may use, memory we may fill.

``os.cpu_count()`` is the host's; a container or a CI job usually gets less. The render
(:mod:`.parallel`) uses one process per CPU this process may actually run on:

- the CPUs in its affinity mask (``sched_getaffinity``: ``taskset``, cpusets), and
- the CPU quota of its cgroup and every ancestor cgroup (v2 ``cpu.max``, v1
  ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), rounded up: a quota of 1.5 CPUs keeps two
  processes busy 75 % of the time, which beats one busy all of it.

Memory bounds it too. A forked worker shares the parent's memory until it writes to it, and
rendering writes to much of it (reference counts live in every object): measured on
bench/realistic.py at 10k items, a second process added ~380 MB to a 960 MB build, 40 % of
the parent. So each worker beyond the parent is reckoned at half of the parent's resident
memory at fork time, and no more workers start than fit in 80 % of the memory available —
the smaller of the kernel's ``MemAvailable`` and what the cgroup's limit leaves. A build that
would not fit renders with fewer processes (at least the parent itself), slower but whole.
``KONTENT_SSG_WORKERS`` overrides all of this.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = [
    "available_memory",
    "cgroup_cpu_limit",
    "render_processes",
    "resident_memory",
    "usable_cpus",
]

#: Memory one extra render process is reckoned to take, as a share of the parent's RSS.
WORKER_SHARE = 0.5
#: Share of the available memory the extra render processes may take.
MEMORY_HEADROOM = 0.8
_MIN_WORKER_BYTES = 32 * 1024 * 1024


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_paths(root: Path) -> dict[str, str]:
    """``/proc/self/cgroup``: controller (``""`` for v2) -> this process's cgroup path."""
    text = _read(root / "proc/self/cgroup") or ""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            paths.setdefault(controller, parts[2])
    return paths


def _ancestors(mount: Path, path: str) -> list[Path]:
    """The cgroup folder of ``path`` under ``mount`` and each of its parents up to the mount
    (a container sees its own cgroup as the root: the ones that exist are read)."""
    parts = [p for p in path.split("/") if p]
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def cgroup_cpu_limit(root: Path = Path("/")) -> float | None:
    """The tightest CPU quota of this process's cgroups in CPUs (1.5: one and a half), None
    when there is none. ``root`` is the file system root (tests pass a fake one)."""
    paths = _cgroup_paths(root)
    limits: list[float] = []
    cgroup = root / "sys/fs/cgroup"
    if "" in paths:  # v2: "max 100000" or "<quota> <period>"
        for folder in _ancestors(cgroup, paths[""]):
            text = _read(folder / "cpu.max")
            if text:
                quota, _, period = text.partition(" ")
                if quota != "max" and quota.isdigit() and period.isdigit() and int(period):
                    limits.append(int(quota) / int(period))
    for controller in ("cpu", "cpuacct"):  # v1: the cpu controller's own hierarchy
        if controller not in paths:
            continue
        mounts = [cgroup / "cpu", cgroup / "cpu,cpuacct", cgroup / "cpuacct,cpu"]
        for mount in mounts:
            for folder in _ancestors(mount, paths[controller]):
                quota_us = _read(folder / "cpu.cfs_quota_us") or ""
                period_us = _read(folder / "cpu.cfs_period_us") or ""
                # -1 (no quota) is not digits
                if quota_us.isdigit() and period_us.isdigit() and int(quota_us) and int(period_us):
                    limits.append(int(quota_us) / int(period_us))
    return min(limits) if limits else None


def usable_cpus(root: Path = Path("/")) -> int:
    """CPUs this process may use: its affinity mask, capped by its cgroups' CPU quota."""
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    quota = cgroup_cpu_limit(root)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def available_memory(root: Path = Path("/")) -> int | None:
    """Bytes this process may still fill: the smaller of ``MemAvailable`` and what its
    cgroups' memory limits leave (v2 ``memory.max`` - ``memory.current``, v1
    ``memory.limit_in_bytes`` - ``memory.usage_in_bytes``); None when unknown."""
    found: list[int] = []
    for line in (_read(root / "proc/meminfo") or "").splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                found.append(int(fields[1]) * 1024)
    paths = _cgroup_paths(root)
    cgroup = root / "sys/fs/cgroup"
    candidates: list[tuple[Path, str, str]] = []
    if "" in paths:
        for folder in _ancestors(cgroup, paths[""]):
            candidates.append((folder, "memory.max", "memory.current"))
    if "memory" in paths:
        for folder in _ancestors(cgroup / "memory", paths["memory"]):
            candidates.append((folder, "memory.limit_in_bytes", "memory.usage_in_bytes"))
    for folder, limit_name, usage_name in candidates:
        limit, usage = _read(folder / limit_name), _read(folder / usage_name)
        if limit and usage and limit.isdigit() and usage.isdigit():
            found.append(max(0, int(limit) - int(usage)))
    return min(found) if found else None


def resident_memory(root: Path = Path("/")) -> int | None:
    """This process's resident set size in bytes (``/proc/self/statm``), None when unknown."""
    fields = (_read(root / "proc/self/statm") or "").split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def render_processes(
    cpus: int, available: int | None, resident: int | None, pages: int, min_pages: int
) -> int:
    """Render processes (this one included) for ``pages`` pages: one per usable CPU, as
    many as fit in memory (see the module docstring), one below ``min_pages`` pages."""
    if pages < min_pages or cpus < 2:
        return 1
    count = cpus
    if available is not None and resident is not None:
        per_worker = max(_MIN_WORKER_BYTES, int(resident * WORKER_SHARE))
        count = min(count, 1 + int(available * MEMORY_HEADROOM) // per_worker)
    return max(1, count)
