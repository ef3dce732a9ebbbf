"""Real processes for the kill tests: start a CLI build in its own session, kill it, and
find whatever it left running.

A build started with :func:`start_build` leads a new session (``setsid``), so every process
it forks — render workers included, even after they are orphaned and re-parented — keeps its
session id: :func:`survivors` lists those still alive (zombies, dead but not yet reaped by
init, do not count).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["kill_session", "start_build", "survivors", "wait_for_no_survivors"]


def start_build(site: Path, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    """``python -m kontent_ssg build SITE ARGS`` as the leader of a new session."""
    return subprocess.Popen(
        [sys.executable, "-m", "kontent_ssg", "build", str(site), *args],
        start_new_session=True,
        **popen,
    )


def survivors(session: int) -> list[int]:
    """Live processes (not zombies) of session ``session``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, sid = fields[0], int(fields[3])
        if sid == session and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def wait_for_no_survivors(session: int, deadline: float = 10.0) -> list[int]:
    """Wait (up to ``deadline`` seconds: the kernel delivers the parent-death signal
    asynchronously) until no process of ``session`` is alive; return those still alive."""
    end = time.monotonic() + deadline
    while (left := survivors(session)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def kill_session(session: int) -> None:
    """Clean up after a failed test: SIGKILL whatever is left of ``session``."""
    for pid in survivors(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
