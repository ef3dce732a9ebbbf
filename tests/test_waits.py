"""No silent waits when the API is down or slow.

Each retry is reported (what, attempt k of n, how long we wait) to the command's progress; a
refused connection to this machine fails at once (nothing listens there, a retry finds the
same); a host that gave up once in a command is not retried again by the next request (the
Sync API, then the crawl, used to cost two full rounds of retries). Counted in requests, not
in seconds.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.delivery import (
    DeadHosts,
    DeliveryClient,
    RetryNotice,
    RetryPolicy,
    _is_loopback,
)
from kontent_ssg.errors import NetworkError
from tests.support.emulator import Emulator, Faults
from tests.support.fixtures import REPO
from tests.support.sites import item, snapshot, text

ENV = "5c4b3a29-1817-4615-a413-121110090807"
BASE = "https://deliver.example.test"
NO_SLEEP = RetryPolicy(max_attempts=4, sleep=lambda s: None, jitter=lambda: 0.5)
TEMPLATES = {"post.html": "<h1>{{ item.title }}</h1>", "404.html": "<h1>Not found</h1>"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KONTENT_ENVIRONMENT_ID", "KONTENT_DELIVERY_API_KEY", "KONTENT_PREVIEW_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client(handler: Any, **kwargs: Any) -> DeliveryClient:
    kwargs.setdefault("retry", NO_SLEEP)
    return DeliveryClient(BASE, ENV, transport=httpx.MockTransport(handler), **kwargs)


# -- the client ------------------------------------------------------------------------------


def test_every_retry_is_reported_before_its_wait() -> None:
    answers = iter([503, 503, 200])
    notices: list[RetryNotice] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json={"types": [], "pagination": {"next_page": ""}})

    assert client(handler, on_retry=notices.append).types() == []
    assert [(n.attempt, n.attempts, n.delay) for n in notices] == [(1, 4, 0.25), (2, 4, 0.5)]
    assert str(notices[0]) == (
        f"types: attempt 1 of 4 failed, waiting 0.2 s: HTTP 503 (GET {BASE}/{ENV}/types)"
    )


def test_retry_after_is_reported_as_such() -> None:
    answers = iter([429, 200])
    notices: list[RetryNotice] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        headers = {"Retry-After": "7"} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={"types": []})

    client(handler, on_retry=notices.append).types()
    assert len(notices) == 1 and notices[0].retry_after and notices[0].delay == 7.0
    assert "waiting 7.0 s (Retry-After)" in str(notices[0])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("deliver.kontent.ai", False),
        ("128.0.0.1", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_refused_connection_to_this_machine_fails_at_once(host: str) -> None:
    notices: list[RetryNotice] = []
    port = dead_port()
    api = DeliveryClient(f"http://{host}:{port}", ENV, retry=NO_SLEEP, on_retry=notices.append)
    with pytest.raises(NetworkError) as caught:
        api.languages()
    assert api.requests == 1 and notices == []
    message = str(caught.value)
    assert f"GET http://{host}:{port}/{ENV}/languages: connection refused" in message
    assert "not retried" in message and "start the server" in message


def test_refused_connection_elsewhere_is_retried() -> None:
    """A remote host refusing may be restarting (a deploy, a load balancer): retried."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request) from ConnectionRefusedError(
            111, "Connection refused"
        )

    notices: list[RetryNotice] = []
    with pytest.raises(NetworkError, match="gave up after 4 attempts"):
        client(handler, on_retry=notices.append).languages()
    assert len(calls) == 4 and [n.attempt for n in notices] == [1, 2, 3]


def test_a_host_that_gave_up_is_not_retried_by_the_next_request() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503)

    dead = DeadHosts()
    first = client(handler, dead_hosts=dead)
    with pytest.raises(NetworkError, match="gave up after 4 attempts"):
        first.sync_init()
    assert len(calls) == 4
    second = client(handler, dead_hosts=dead)  # another client of the same command
    with pytest.raises(NetworkError) as caught:
        second.languages()
    assert len(calls) == 4 and second.requests == 0
    assert "not tried: its host already failed in this build" in str(caught.value)
    assert "sync/init: HTTP 503" in str(caught.value)
    # Another host is not affected; a cleared memory (the next rebuild) tries again.
    other = DeliveryClient(
        "https://other.example.test",
        ENV,
        retry=NO_SLEEP,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"types": []})),
        dead_hosts=dead,
    )
    assert other.types() == []
    dead.clear()
    with pytest.raises(NetworkError, match="gave up after 4 attempts"):
        second.languages()
    assert len(calls) == 8


# -- a build, end to end ---------------------------------------------------------------------


def content():
    return snapshot(
        {
            "en-US": [item(f"p{n}", "post", elements={"title": text(f"P{n}")}) for n in range(3)],
            "es-ES": [item("p0", "post", "es-ES", elements={"title": text("P0 es")})],
        }
    )


def write_site(root: Path, url: str, retries: int = 2) -> Path:
    (root / "templates").mkdir(parents=True)
    for name, source in TEMPLATES.items():
        (root / "templates" / name).write_text(source)
    (root / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{ENV}"\ndelivery_url = "{url}"\n'
        f"max_retries = {retries}\n"
        '[site]\nbase_url = "https://example.org"\n'
        '[routes.post]\npath = "/posts/{system.codename}/"\n'
    )
    return root


@pytest.fixture
def faulty() -> Iterator[Any]:
    started: list[Emulator] = []

    def start(faults: Faults) -> Emulator:
        emu = Emulator(content(), environment_id=ENV, faults=faults).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.mark.parametrize(
    ("faults", "failure"),
    [(Faults(down=True), "RemoteProtocolError"), (Faults(server_error_every=1), "HTTP 503")],
    ids=["down", "503"],
)
def test_build_against_a_failing_api_shows_each_retry_and_retries_one_round(
    faults: Faults, failure: str, faulty: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = faulty(faults)
    site = write_site(tmp_path / "site", emu.url)
    assert main(["build", str(site), "-v"]) == 1
    err = capsys.readouterr().err
    waits = [line for line in err.splitlines() if line.startswith("  waiting: ")]
    assert len(waits) == 2, err
    for k, line in enumerate(waits, start=1):
        assert line.startswith(f"  waiting: Sync API initialization: attempt {k} of 3 failed")
        assert f" s: {failure}" in line and f"(POST {emu.url}/v2/{ENV}/sync/init)" in line
    assert "gave up after 3 attempts" in err and "Traceback" not in err
    # One round of retries in the whole command: sync/init three times, and no crawl
    # retrying the same dead API three times more.
    if faults.down:  # each attempt is a connection closed unanswered
        assert (emu.refused_count, emu.request_count) == (3, 0)
    else:
        paths = [r.path.split("?")[0] for r in emu.request_log]
        assert paths == [f"/v2/{ENV}/sync/init"] * 3, paths
    assert not (site / "public").exists()


def test_build_shows_retry_after_waits_and_succeeds(
    faulty: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = faulty(Faults(rate_limit_every=3, retry_after=1))
    site = write_site(tmp_path / "site", emu.url)
    assert main(["build", str(site)]) == 0
    err = capsys.readouterr().err
    assert "attempt 1 of 3 failed, waiting 1.0 s (Retry-After): HTTP 429" in err
    assert any(r.status == 429 for r in emu.request_log)
    assert (site / "public" / "posts" / "p0" / "index.html").is_file()


def test_build_against_a_closed_local_port_fails_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{dead_port()}"
    site = write_site(tmp_path / "site", url, retries=6)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(site), "-v"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    err = result.stderr
    assert "waiting" not in err and "Traceback" not in err
    assert f"POST {url}/v2/{ENV}/sync/init: connection refused" in err
    assert "not retried" in err and "attempts" not in err
    assert err.count("error: ") == 1


# -- progress that says something ------------------------------------------------------------


def _build_process(site: Path, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(site), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_ci_log_has_one_line_per_stage_and_a_summary(faulty: Any, tmp_path: Path) -> None:
    emu = faulty(Faults())
    site = write_site(tmp_path / "site", emu.url)
    result = _build_process(site)  # stderr is a pipe: the CI form
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    stages = [line.split(":")[0] for line in lines[:4]]
    assert stages == ["content", "routes", "render", "write"], result.stderr
    assert lines[0].startswith("content: crawled en-US 3, es-ES 3 items; ")
    # Counted, not hard-coded: the page count is the site plan's business.
    rendered = re.match(r"render: (\d+)/\1 pages, [\d,]+ pages/s; ", lines[2])
    assert rendered, lines[2]
    pages = rendered.group(1)
    assert lines[3].startswith(f"write: {pages}/{pages} pages; ")
    assert lines[4].startswith(f"{pages} written, 0 unchanged, 0 deleted; ")
    assert lines[5].startswith("output: ") and len(lines) == 6


def test_terminal_shows_items_per_language_and_the_render_rate(faulty: Any, tmp_path: Path) -> None:
    import pty

    emu = faulty(Faults())
    site = write_site(tmp_path / "site", emu.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env.update(PYTHONPATH=str(REPO), TERM="xterm-256color", COLUMNS="150", LINES="40")
    env.pop("NO_COLOR", None)
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kontent_ssg", "build", str(site)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=child_fd,
    )
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    assert proc.wait(timeout=120) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", b"".join(chunks).decode())
    assert "content: en-US 3, es-ES 3 items" in screen, screen
    rendered = re.search(r"render\s.*?(\d+)/\1\s+[\d,]+ pages/s", screen)
    assert rendered, screen
    assert f"{rendered.group(1)} written, 0 unchanged, 0 deleted" in screen
