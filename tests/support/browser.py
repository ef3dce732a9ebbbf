"""Headless Chromium for the browser tests: Debian's ``chromium`` package (``make test``
installs it when missing; pip's Playwright cannot download its browsers on these machines).

The tests never install anything: without Chromium they fail saying how to get it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,1800",
]


def chromium() -> str:
    """The Chromium binary, or a failed test saying how to install it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "no chromium on PATH: its declared step `make chromium` (run by `make test`) installs "
        "Debian's chromium package as root; elsewhere install Chromium as `chromium` and run "
        "the tests again",
        pytrace=False,
    )


def screenshot(url: str, path: Path, profile: Path) -> str:
    """Load ``url`` and save a screenshot at ``path``; returns Chromium's log (stderr)."""
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={path}", url]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def dump_dom(url: str, profile: Path, *, budget_ms: int = 3000) -> tuple[str, str]:
    """Load ``url``, run its scripts for up to ``budget_ms`` of virtual time, and return the
    serialised DOM and Chromium's log: what a visitor's browser ends up with."""
    cmd = [
        chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr
