"""The webhook receiver over real HTTP: signatures, bodies, bursts, durability, shutdown.

The rebuild is injected (a recorder), so these tests pin the receiver's contract on its own;
tests/test_incremental*.py drive real rebuilds against the emulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from kontent_ssg.content.webhooks import Change, sign_webhook
from kontent_ssg.incremental.state import BuildState, state_path
from kontent_ssg.server import (
    LiveReload,
    NotificationWorker,
    inject_reload,
    preview_app,
    serve_in_thread,
    webhook_app,
)
from tests.support.fixtures import REPO, load_real
from tests.support.receiver import SECRET, Recorder, signed, v2_body, wait_for


@pytest.fixture
def receiver(tmp_path):
    def start(*, secret: str | None = SECRET, preview: bool = False, apply=None):
        site = tmp_path / f"site{len(started)}"
        state = BuildState(state_path(site, preview=preview))
        recorder = apply or Recorder()
        worker = NotificationWorker(
            state, recorder, slot="preview" if preview else "published", debounce=0.2
        )
        app = webhook_app(state, worker, path="/hook", secret=secret, preview=preview)
        handle = serve_in_thread(app)
        started.append(handle)
        return handle, state, recorder, worker

    started: list = []
    yield start
    for handle in started:
        handle.stop()


def post(handle, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{handle.url}/hook", content=body, headers=headers or {}, timeout=10)


def test_real_vectors_accepted_over_http(receiver, real_fixtures):
    vectors = {
        v["name"]: v
        for v in load_real("kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json")[
            "vectors"
        ]
    }
    published = vectors["v2_published"]
    legacy = vectors["legacy_content_item_variant_publish"]
    preview = vectors["v2_workflow_step_changed_preview"]
    # One receiver per secret: the vectors were signed with different secrets.
    recorders = []
    for vector, header, expected in (
        (published, "X-Kontent-ai-Signature", 202),
        (legacy, "X-KC-Signature", 202),
        (preview, "X-Kontent-ai-Signature", 200),  # preview slot: not for the published site
    ):
        handle, _state, recorder, _ = receiver(secret=vector["secret"])
        response = post(handle, vector["body"].encode(), {header: vector["expected_signature"]})
        assert response.status_code == expected, vector["name"]
        recorders.append(recorder)
    wait_for(lambda: recorders[0].codenames and recorders[1].codenames, what="applied")
    assert recorders[0].codenames == ["this_changes_everything_"]
    assert recorders[1].codenames == ["christian_bale"]
    assert recorders[2].codenames == []


def test_preview_receiver_takes_preview_slot(receiver, real_fixtures):
    vectors = load_real("kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json")
    vector = next(v for v in vectors["vectors"] if v["name"] == "v2_workflow_step_changed_preview")
    handle, _state, recorder, _worker = receiver(secret=vector["secret"], preview=True)
    response = post(
        handle, vector["body"].encode(), {"X-Kontent-ai-Signature": vector["expected_signature"]}
    )
    assert response.status_code == 202
    wait_for(lambda: recorder.codenames, what="preview change applied")
    assert recorder.codenames == ["this_changes_everything_"]


def test_published_webhook_is_applied(receiver):
    handle, state, recorder, _ = receiver()
    body = v2_body("first")
    response = post(handle, body, signed(body))
    assert response.status_code == 202
    assert response.json()["queued"] >= 1
    wait_for(lambda: recorder.codenames, what="change applied")
    assert recorder.codenames == ["first"]
    wait_for(lambda: state.queue_counts()["pending"] == 0, what="marked done")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Kontent-ai-Signature": ""},
        {"X-Kontent-ai-Signature": "AAAA"},
        {"X-KC-Signature": sign_webhook(v2_body("x"), "other-secret")},
    ],
    ids=["missing", "empty", "garbage", "wrong-secret"],
)
def test_bad_or_missing_signature_is_401_and_nothing_rebuilt(receiver, headers):
    handle, state, recorder, worker = receiver()
    response = post(handle, v2_body("x"), headers)
    assert response.status_code == 401
    assert state.queue_counts() == {"pending": 0, "done": 0}
    time.sleep(0.3)  # give a wrongly-woken worker the chance to misbehave
    assert recorder.batches == []
    assert worker.stats.rebuilds == 0


def test_real_negative_vector_is_401(receiver, real_fixtures):
    data = load_real("kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json")
    vector = data["vectors"][0]
    handle, state, _recorder, _ = receiver(secret=vector["secret"])
    response = post(
        handle,
        data["negative_case"]["body"].encode(),
        {"X-Kontent-ai-Signature": vector["expected_signature"]},
    )
    assert response.status_code == 401
    assert state.queue_counts()["pending"] == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'{"notifications": [{"modified": "data"}]}', b'{"hello": 1}'],
)
def test_malformed_signed_body_is_400(receiver, body):
    handle, state, _recorder, _ = receiver()
    response = post(handle, body, signed(body))
    assert response.status_code == 400
    assert "error" in response.json()
    assert state.queue_counts()["pending"] == 0


def test_insecure_receiver_accepts_unsigned(receiver):
    handle, _state, recorder, _ = receiver(secret=None)
    assert post(handle, v2_body("u")).status_code == 202
    wait_for(lambda: recorder.codenames, what="applied")


def test_burst_of_100_applies_every_change_in_far_fewer_rebuilds(receiver):
    handle, _state, recorder, worker = receiver()
    names = [f"item_{n:03d}" for n in range(100)]
    with httpx.Client(timeout=10) as client:
        for name in names:
            body = v2_body(name)
            response = client.post(f"{handle.url}/hook", content=body, headers=signed(body))
            assert response.status_code == 202
    wait_for(lambda: worker.stats.notifications_applied == 100, what="all 100 applied")
    assert sorted(recorder.codenames) == names
    assert worker.stats.rebuilds <= 20, worker.stats.rebuilds
    health = httpx.get(f"{handle.url}/health", timeout=10).json()
    assert health["pending"] == 0 and health["notifications_applied"] == 100


def test_failed_rebuild_keeps_notifications_and_retries(receiver):
    calls: list[list[Change]] = []

    def flaky(changes: list[Change]) -> None:
        calls.append(changes)
        if len(calls) == 1:
            raise RuntimeError("delivery API down")

    handle, state, _, worker = receiver(apply=flaky)
    body = v2_body("retry_me")
    assert post(handle, body, signed(body)).status_code == 202
    wait_for(lambda: worker.stats.rebuilds == 1, what="retry succeeded")
    assert [c.codename for c in calls[-1]] == ["retry_me"]
    assert worker.stats.failures == 1
    assert state.queue_counts()["pending"] == 0


def test_shutdown_finishes_the_rebuild_in_progress(receiver):
    entered = threading.Event()
    finished: list[str] = []

    def slow(changes: list[Change]) -> None:
        entered.set()
        time.sleep(0.5)
        finished.extend(c.codename or "" for c in changes)

    handle, state, _, _worker = receiver(apply=slow)
    body = v2_body("slow")
    assert post(handle, body, signed(body)).status_code == 202
    assert entered.wait(30)
    handle.stop()
    assert finished == ["slow"]
    assert state.queue_counts()["pending"] == 0


def test_health(receiver):
    handle, *_ = receiver()
    health = httpx.get(f"{handle.url}/health", timeout=10).json()
    assert health["status"] == "ok" and health["pending"] == 0


# -- crash after 202 -------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, socket, sys, threading, time
    from pathlib import Path
    import uvicorn
    from kontent_ssg.incremental.state import BuildState, state_path
    from kontent_ssg.server import NotificationWorker, webhook_app, _uvicorn_config

    site, mode, log = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])

    def apply(changes):
        if mode == "hang":  # a rebuild that never finishes: the process dies inside it
            time.sleep(3600)
        with log.open("a") as fh:
            for c in changes:
                fh.write(json.dumps(c.codename) + "\\n")

    state = BuildState(state_path(site))
    worker = NotificationWorker(state, apply, debounce=0.05)
    app = webhook_app(state, worker, path="/hook", secret="s")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(_uvicorn_config(app, "127.0.0.1", sock.getsockname()[1], 5)).run(
        sockets=[sock]
    )
    """
)


def _start_child(site: Path, mode: str, log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(site), mode, str(log)],
        stdout=subprocess.PIPE,
        cwd=REPO,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    assert port, "child did not start"
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(url), what="child receiver up")
    return proc, url


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_receiver_killed_after_202_applies_the_change_on_restart(tmp_path):
    log = tmp_path / "applied.jsonl"
    proc, url = _start_child(tmp_path, "hang", log)
    try:
        body = v2_body("survivor")
        response = httpx.post(f"{url}/hook", content=body, headers=signed(body, "s"), timeout=10)
        assert response.status_code == 202
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not log.exists()

    proc, url = _start_child(tmp_path, "apply", log)
    try:
        wait_for(lambda: log.exists() and log.read_text().strip(), what="replayed change")
        assert log.read_text().split() == ['"survivor"']
        wait_for(
            lambda: httpx.get(f"{url}/health", timeout=5).json()["pending"] == 0,
            what="queue drained",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- live reload -----------------------------------------------------------------------------


def test_preview_server_injects_reload_into_html_responses_only(tmp_path):
    out = tmp_path / "public"
    (out / "a").mkdir(parents=True)
    page = b"<!doctype html><html><body><p>hi</p></body></html>"
    (out / "a" / "index.html").write_bytes(page)
    (out / "style.css").write_bytes(b"body{}")
    (out / "404.html").write_bytes(b"<html><body>nope</body></html>")
    reload = LiveReload()
    handle = serve_in_thread(preview_app(out, reload))
    try:
        html_response = httpx.get(f"{handle.url}/a/", timeout=10)
        assert html_response.status_code == 200
        assert b"__kontent-ssg/reload" in html_response.content
        assert (out / "a" / "index.html").read_bytes() == page  # the file is untouched
        assert httpx.get(f"{handle.url}/style.css", timeout=10).content == b"body{}"
        redirect = httpx.get(f"{handle.url}/a", timeout=10)
        assert redirect.status_code == 301 and redirect.headers["location"].endswith("/a/")
        missing = httpx.get(f"{handle.url}/nope/", timeout=10)
        assert missing.status_code == 404 and b"nope" in missing.content
        escape = httpx.get(f"{handle.url}/..%2f..%2fetc/passwd", timeout=10)
        assert escape.status_code == 404
        before = httpx.get(f"{handle.url}/__kontent-ssg/reload", timeout=10).json()
        reload.rebuilt()
        after = httpx.get(f"{handle.url}/__kontent-ssg/reload", timeout=10).json()
        assert after["generation"] == before["generation"] + 1
        reload.failed("Template article.html line 3: boom <b>")
        shown = httpx.get(f"{handle.url}/a/", timeout=10).content
        assert b"boom &lt;b&gt;" in shown
    finally:
        handle.stop()


def test_inject_reload_without_body_tag_appends():
    out = inject_reload(b"<p>x</p>", LiveReload())
    assert out.startswith(b"<p>x</p>") and b"<script>" in out


# -- deploy step -----------------------------------------------------------------------------


def test_deploy_runs_the_command_then_the_netlify_hook(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from kontent_ssg.config import load_config
    from kontent_ssg.server import run_deploy

    hits: list[bytes] = []

    async def hook(request):
        hits.append(await request.body())
        return Response(status_code=200)

    handle = serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    try:
        (tmp_path / "kontent.toml").write_text(
            '[kontent]\nenvironment_id = "abc"\n[deploy]\ncommand = "echo ok > deployed.txt"\n'
        )
        config = load_config(tmp_path, env={"NETLIFY_BUILD_HOOK_URL": f"{handle.url}/hook"})
        logged: list[str] = []
        run_deploy(config, log=logged.append)
        assert (tmp_path / "deployed.txt").read_text().strip() == "ok"
        assert len(hits) == 1
        assert all(handle.url not in line for line in logged)  # the hook URL is a secret
        (tmp_path / "kontent.toml").write_text(
            '[kontent]\nenvironment_id = "abc"\n[deploy]\ncommand = "exit 3"\n'
        )
        with pytest.raises(Exception, match="status 3"):
            run_deploy(load_config(tmp_path, env={}), log=logged.append)
    finally:
        handle.stop()


def test_a_webhook_stops_idle_work_in_progress(tmp_path):
    """Idle work (the receiver's output check: ~1 s at 100k items) stops when a notification
    arrives, so that the rebuild does not wait for it."""
    state = BuildState(state_path(tmp_path / "site"))
    recorder = Recorder()
    in_idle = threading.Event()
    idle_ran: list[float] = []

    def idle() -> None:
        in_idle.set()
        started = time.monotonic()
        while not worker.interrupted() and time.monotonic() - started < 30:
            time.sleep(0.005)
        idle_ran.append(time.monotonic() - started)

    worker = NotificationWorker(state, recorder, debounce=0.05, idle=idle)
    handle = serve_in_thread(webhook_app(state, worker, path="/hook", secret=SECRET))
    try:
        assert in_idle.wait(10), "no idle work after a second with nothing pending"
        body = v2_body("urgent")
        sent = time.monotonic()
        assert post(handle, body, signed(body)).status_code == 202
        wait_for(lambda: recorder.codenames == ["urgent"], timeout=10, what="the rebuild")
        assert time.monotonic() - sent < 5  # not after the idle work's 30 s
        assert idle_ran and idle_ran[0] < 5
    finally:
        handle.stop()
