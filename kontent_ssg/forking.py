"""Forked helper processes: what every process the build forks does first.

A build forks render processes (:mod:`kontent_ssg.builder.parallel`) and, while it reads a
snapshot, a process that reads the later languages' files
(:mod:`kontent_ssg.content.snapshot`). Both must end with the build that forked them.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Make this forked process die with the process that forked it.

    A worker outliving a killed build would work on, hold the build's stdout open (so
    ``kontent-ssg build | cat`` never ends) and, with nobody reading its results, block for
    ever. On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``, which
    fires when the forking *thread* ends: the build waits for what it forked before that
    thread returns); the parent may have died before that was set, hence the check after it.
    Elsewhere the closed pipe ends do it: a write to a pipe nobody can read fails."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (ImportError, OSError, AttributeError):  # no ctypes, no prctl: the pipes do it
            pass
    if os.getppid() != parent:
        os._exit(1)
