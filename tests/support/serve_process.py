"""``kontent-ssg serve`` in a process of its own, for tests that drive the preview over HTTP.

The tests that need the real command (its argument parsing, its threads, its signals) all
start it the same way: with the repository on ``PYTHONPATH``, no ``KONTENT_*`` variable from
the caller's environment, stderr in a log file the assertions can quote, and a SIGTERM at the
end. :class:`ServeProcess` is that, as a context manager.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.fixtures import REPO
from tests.support.net import free_port


class ServeProcess:
    """``kontent-ssg serve SITE --port <free port> [ARGS]``; ``get`` fails the test (with the
    log) if the process has died, and answers ``None`` while it does not listen yet."""

    def __init__(self, site: Path, *args: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
        env["PYTHONPATH"] = str(REPO)
        command = ["serve", str(site), "--port", str(self.port), *args]
        with log.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kontent_ssg", *command],
                env=env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> httpx.Response | None:
        assert self.proc.poll() is None, self.log_text()
        try:
            return httpx.get(self.base + path, timeout=5)
        except httpx.HTTPError:
            return None

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, as Ctrl-C in a terminal would; kill (and fail) if it does not end."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            raise

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
