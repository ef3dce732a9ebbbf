"""The webhook receiver in a process of its own, for tests that need its file limit or RSS.

``python tests/support/receiver_process.py STATE_DIR APPLIED_LOG [options]`` serves
:func:`kontent_ssg.server.webhook_app` on an ephemeral port of 127.0.0.1 (printed on the
first line of stdout) with the same uvicorn setup as ``kontent-ssg webhook``. The rebuild is
a stand-in that appends every applied codename to APPLIED_LOG. ``--nofile N`` lowers the
process's file limit first (``ulimit -n N``).

:class:`ReceiverProcess` starts and stops it from a test and reads its peak RSS from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("applied_log", type=Path)
    parser.add_argument("--secret", default="soak-secret")
    parser.add_argument("--nofile", type=int)
    parser.add_argument("--max-body", type=int)
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--header-timeout", type=float)
    parser.add_argument("--body-timeout", type=float)
    args = parser.parse_args(argv)
    if args.nofile:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, hard))

    from kontent_ssg.incremental.state import BuildState, state_path
    from kontent_ssg.server import (
        DEFAULT_MAX_BODY,
        NotificationWorker,
        ServerLimits,
        _uvicorn_server,
        listening_socket,
        webhook_app,
    )

    def apply(changes):
        with args.applied_log.open("a") as fh:
            for change in changes:
                fh.write(json.dumps(change.codename) + "\n")

    defaults = ServerLimits()
    limits = ServerLimits(
        max_connections=args.max_connections or defaults.max_connections,
        header_timeout=args.header_timeout or defaults.header_timeout,
        body_timeout=args.body_timeout or defaults.body_timeout,
    )
    state = BuildState(state_path(args.state_dir))
    worker = NotificationWorker(state, apply, debounce=0.05)
    app = webhook_app(
        state, worker, path="/hook", secret=args.secret, max_body=args.max_body or DEFAULT_MAX_BODY
    )
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    print(port, flush=True)
    _uvicorn_server(app, "127.0.0.1", port, 5, limits).run(sockets=[sock])
    return 0


class ReceiverProcess:
    """``receiver_process.py`` as a child of the test; ``url``, ``peak_rss()``, ``stop()``."""

    def __init__(self, state_dir: Path, *options: str) -> None:
        self.applied_log = state_dir / "applied.jsonl"
        self.stderr = state_dir / "receiver.stderr"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "receiver_process.py"),
                str(state_dir),
                str(self.applied_log),
                *options,
            ],
            stdout=subprocess.PIPE,
            stderr=self.stderr.open("wb"),
            cwd=REPO,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().strip()
        assert port, f"receiver did not start: {self.stderr.read_text()}"
        self.port = int(port)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_up()

    def _wait_up(self) -> None:
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.stderr.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("receiver did not answer /health")

    def status(self, field: str) -> int:
        """A ``VmRSS``/``VmHWM`` line of /proc/PID/status, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} in /proc/{self.proc.pid}/status")

    def peak_rss(self) -> int:
        return self.status("VmHWM")

    def applied(self) -> list[str]:
        if not self.applied_log.exists():
            return []
        return [json.loads(line) for line in self.applied_log.read_text().splitlines()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


class FloodProcess:
    """``slow_clients.py`` as a child: COUNT slow connections until :meth:`stop`."""

    def __init__(self, port: int, count: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "slow_clients.py"), "127.0.0.1", str(port), str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> dict[str, int]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return dict(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
