"""What `serve` accepts: paths no file can have, Host names (DNS rebinding), and who may
send it an unsigned webhook."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kontent_ssg.incremental.state import BuildState, state_path
from kontent_ssg.server import (
    LiveReload,
    NotificationWorker,
    allowed_hosts_for,
    preview_app,
    serve_in_thread,
)
from tests.support.receiver import SECRET, Recorder, signed, v2_body, wait_for


@pytest.fixture
def serve(tmp_path):
    """Start the preview app: ``serve(secret=..., bind="127.0.0.1")``."""
    handles: list = []
    out = tmp_path / "public"
    (out / "a").mkdir(parents=True)
    (out / "a" / "index.html").write_text("<html><body>page a</body></html>")
    (out / "404.html").write_text("<html><body>not here</body></html>")

    def start(*, secret: str | None = None, bind: str = "127.0.0.1"):
        state = BuildState(state_path(tmp_path / f"state{len(handles)}"))
        recorder = Recorder()
        worker = NotificationWorker(state, recorder, debounce=0.05, log=lambda _: None)
        app = preview_app(
            out,
            LiveReload(),
            webhook=("/webhook", state, worker, secret),
            on_startup=worker.start,
            on_shutdown=worker.stop,
            allowed_hosts=allowed_hosts_for(bind),
        )
        handle = serve_in_thread(app)
        handles.append(handle)
        return handle, state, recorder, app

    yield start
    for handle in handles:
        handle.stop()


@pytest.mark.parametrize("path", ["/%00", "/a%00b/", "/a/%00.html", "/" + "x" * 300 + "/"])
def test_paths_no_file_can_have_are_404_not_500(serve, path):
    handle, *_ = serve()
    response = httpx.get(f"{handle.url}{path}", timeout=10)
    assert response.status_code == 404
    assert b"not here" in response.content
    assert httpx.get(f"{handle.url}/a/", timeout=10).status_code == 200  # still serving


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (None, 200),  # httpx sends 127.0.0.1:PORT
        ("localhost", 200),
        ("LOCALHOST:8000", 200),
        ("127.0.0.1", 200),
        ("[::1]:8000", 200),
        ("attacker.example", 400),
        ("attacker.example:8000", 400),
        ("localhost.attacker.example", 400),
        ("127.0.0.1.nip.io", 400),
        ("", 400),
    ],
)
def test_only_the_bound_host_names_are_answered(serve, host, status):
    handle, *_ = serve()
    headers = {} if host is None else {"Host": host}
    for path in ("/a/", "/__kontent-ssg/reload", "/health"):
        response = httpx.get(f"{handle.url}{path}", headers=headers, timeout=10)
        assert response.status_code == status, (path, response.text)
    if status == 400:
        assert "answers only to" in response.text


def test_host_names_follow_the_host_option():
    assert allowed_hosts_for("127.0.0.1") == {"localhost", "127.0.0.1", "[::1]"}
    assert allowed_hosts_for("192.168.1.20") == {"localhost", "127.0.0.1", "[::1]", "192.168.1.20"}
    assert "dev.example" in (allowed_hosts_for("Dev.Example") or set())
    assert "[::1]" in (allowed_hosts_for("::1") or set())
    for wildcard in ("0.0.0.0", "::", ""):
        assert allowed_hosts_for(wildcard) is None  # any name


def test_wildcard_bind_answers_any_host(serve):
    handle, *_ = serve(bind="0.0.0.0")
    response = httpx.get(f"{handle.url}/a/", headers={"Host": "my-laptop.lan:8000"}, timeout=10)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_unsigned_webhook_that_needs_no_cors_preflight_is_refused(serve, content_type):
    """A page on any site can POST these to 127.0.0.1 without asking: nothing is queued."""
    handle, state, recorder, _ = serve(secret=None)
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = httpx.post(f"{handle.url}/webhook", content=v2_body("x"), headers=headers)
    assert response.status_code == 415
    assert state.queue_counts() == {"pending": 0, "done": 0}
    assert recorder.batches == []


def test_unsigned_json_webhook_from_this_machine_is_queued(serve):
    handle, _, recorder, _ = serve(secret=None)
    response = httpx.post(
        f"{handle.url}/webhook",
        content=v2_body("local_change"),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 202
    wait_for(lambda: recorder.codenames, what="applied")
    assert recorder.codenames == ["local_change"]


def test_unsigned_webhook_from_another_machine_is_refused(serve):
    _, state, _, app = serve(secret=None)
    # The ASGI app called directly: the only way to be another machine in a test.
    status = asyncio.run(_post_from(app, ("203.0.113.9", 40000), v2_body("remote")))
    assert status == 403
    assert state.queue_counts()["pending"] == 0
    assert asyncio.run(_post_from(app, ("127.0.0.1", 40000), v2_body("local"))) == 202


def test_signed_webhook_needs_no_json_content_type(serve):
    handle, _, recorder, _ = serve(secret=SECRET)
    body = v2_body("signed_change")
    headers = {**signed(body), "Content-Type": "text/plain"}
    assert httpx.post(f"{handle.url}/webhook", content=body, headers=headers).status_code == 202
    unsigned = httpx.post(
        f"{handle.url}/webhook", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    wait_for(lambda: recorder.codenames, what="applied")


async def _post_from(app, client: tuple[str, int], body: bytes) -> int:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhook",
        "raw_path": b"/webhook",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])
