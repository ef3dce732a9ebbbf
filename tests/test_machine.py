"""Render processes per machine: CPU affinity, cgroup v1/v2 CPU quotas, memory (fake /proc
and /sys/fs/cgroup trees), and the override."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kontent_ssg.builder import machine, parallel

GB = 1024**3
MB = 1024**2


def fake(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert machine.cgroup_cpu_limit(tmp_path) is None
    assert machine.available_memory(tmp_path) is None
    assert machine.usable_cpus(tmp_path) == len(os.sched_getaffinity(0))


def test_cgroup_v2_quota_is_read_from_the_process_cgroup(tmp_path: Path) -> None:
    root = fake(
        tmp_path,
        {
            "proc/self/cgroup": "0::/ci/job7",
            "sys/fs/cgroup/cpu.max": "max 100000",
            "sys/fs/cgroup/ci/cpu.max": "max 100000",
            "sys/fs/cgroup/ci/job7/cpu.max": "150000 100000",
        },
    )
    assert machine.cgroup_cpu_limit(root) == 1.5


def test_cgroup_v2_an_ancestor_limit_applies(tmp_path: Path) -> None:
    root = fake(
        tmp_path,
        {
            "proc/self/cgroup": "0::/ci/job7",
            "sys/fs/cgroup/ci/cpu.max": "300000 100000",
            "sys/fs/cgroup/ci/job7/cpu.max": "max 100000",
        },
    )
    assert machine.cgroup_cpu_limit(root) == 3.0


def test_cgroup_v2_without_quota(tmp_path: Path) -> None:
    root = fake(tmp_path, {"proc/self/cgroup": "0::/", "sys/fs/cgroup/cpu.max": "max 100000"})
    assert machine.cgroup_cpu_limit(root) is None


@pytest.mark.parametrize("mount", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_cfs_quota(tmp_path: Path, mount: str) -> None:
    root = fake(
        tmp_path,
        {
            "proc/self/cgroup": "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n1:name=systemd:/",
            f"sys/fs/cgroup/{mount}/cpu.cfs_quota_us": "-1",
            f"sys/fs/cgroup/{mount}/cpu.cfs_period_us": "100000",
            f"sys/fs/cgroup/{mount}/docker/abc/cpu.cfs_quota_us": "200000",
            f"sys/fs/cgroup/{mount}/docker/abc/cpu.cfs_period_us": "100000",
        },
    )
    assert machine.cgroup_cpu_limit(root) == 2.0


def test_cgroup_v1_unlimited(tmp_path: Path) -> None:
    root = fake(
        tmp_path,
        {
            "proc/self/cgroup": "1:cpu:/",
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000",
        },
    )
    assert machine.cgroup_cpu_limit(root) is None


def test_a_quota_caps_the_cpus_rounding_up(tmp_path: Path) -> None:
    root = fake(tmp_path, {"proc/self/cgroup": "0::/", "sys/fs/cgroup/cpu.max": "50000 100000"})
    assert machine.usable_cpus(root) == 1  # half a CPU: still one process
    if len(os.sched_getaffinity(0)) >= 2:
        fake(tmp_path, {"sys/fs/cgroup/cpu.max": "150000 100000"})
        assert machine.usable_cpus(root) == 2


def test_available_memory_is_the_smaller_of_meminfo_and_the_cgroup(tmp_path: Path) -> None:
    root = fake(
        tmp_path,
        {
            "proc/meminfo": "MemTotal:       16000000 kB\nMemAvailable:    8000000 kB",
            "proc/self/cgroup": "0::/job",
            "sys/fs/cgroup/job/memory.max": str(4 * GB),
            "sys/fs/cgroup/job/memory.current": str(1 * GB),
        },
    )
    assert machine.available_memory(root) == 3 * GB
    fake(tmp_path, {"sys/fs/cgroup/job/memory.max": "max"})
    assert machine.available_memory(root) == 8000000 * 1024


def test_available_memory_cgroup_v1(tmp_path: Path) -> None:
    root = fake(
        tmp_path,
        {
            "proc/meminfo": "MemAvailable:    8000000 kB",
            "proc/self/cgroup": "4:memory:/box",
            "sys/fs/cgroup/memory/box/memory.limit_in_bytes": str(2 * GB),
            "sys/fs/cgroup/memory/box/memory.usage_in_bytes": str(GB // 2),
        },
    )
    assert machine.available_memory(root) == GB + GB // 2


def test_one_process_per_cpu_without_a_cap_at_two() -> None:
    assert machine.render_processes(8, 64 * GB, 1 * GB, 10_000, 300) == 8
    assert machine.render_processes(8, None, None, 10_000, 300) == 8
    assert machine.render_processes(1, 64 * GB, 1 * GB, 10_000, 300) == 1
    assert machine.render_processes(8, 64 * GB, 1 * GB, 299, 300) == 1


def test_memory_bounds_the_render_processes() -> None:
    # Each extra process is reckoned at half the parent's 1 GB: 80 % of 2 GB fits three.
    assert machine.render_processes(8, 2 * GB, 1 * GB, 10_000, 300) == 4
    assert machine.render_processes(8, 400 * MB, 1 * GB, 10_000, 300) == 1
    assert machine.render_processes(8, 0, 1 * GB, 10_000, 300) == 1


def test_the_environment_variable_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KONTENT_SSG_WORKERS", "5")
    assert parallel._worker_count(None, 10) == 5
    monkeypatch.delenv("KONTENT_SSG_WORKERS")
    assert parallel._worker_count(3, 10) == 3
    assert parallel._worker_count(None, 10) == 1  # too few pages to fork
    expected = machine.render_processes(
        machine.usable_cpus(),
        machine.available_memory(),
        machine.resident_memory(),
        10_000,
        parallel.PARALLEL_MIN_PAGES,
    )
    assert parallel._worker_count(None, 10_000) == expected
    assert expected >= 1


def test_this_process_resident_memory_is_read() -> None:
    rss = machine.resident_memory()
    assert rss is not None and rss > MB
