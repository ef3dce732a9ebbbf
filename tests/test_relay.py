"""``kontent-ssg webhook --relay github``: signed Kontent.ai webhooks in, GitHub
``repository_dispatch`` calls out, against a stand-in for GitHub's API (a real HTTP server
on 127.0.0.1, named by ``GITHUB_API_URL``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.webhooks import Change, parse_webhook, sign_webhook
from kontent_ssg.relay import MAX_CLIENT_PAYLOAD, GitHubDispatcher, RelayError, client_payload
from kontent_ssg.server import failure_kind
from tests.support.fixtures import REPO
from tests.support.net import free_port, wait_for
from tests.support.receiver import v2_body

SECRET = "relay-secret"
TOKEN = "ghp_test-token-never-logged"


class FakeGitHub:
    """GitHub's dispatch endpoint: records each request; answers from ``statuses`` (then
    204, GitHub's "No Content" for an accepted dispatch)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    fake.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    status = fake.statuses.pop(0) if fake.statuses else 204
                self.send_response(status)
                if status == 204:
                    self.end_headers()
                    return
                data = json.dumps({"message": f"status {status}"}).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def accepted(self) -> list[dict[str, Any]]:
        """The JSON bodies of the dispatches answered 204."""
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def relay_site(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "kontent.toml").write_text(
        '[kontent]\nenvironment_id = "6f1c2e0a-5b7d-4e8f-9a3b-0c4d5e6f7a81"\n\n'
        '[webhook]\nrelay = "github"\ngithub_repository = "acme/site"\n'
    )
    return folder


class Relay:
    """``python -m kontent_ssg webhook SITE --relay github`` in a subprocess."""

    def __init__(self, site: Path, github: FakeGitHub, **env: str) -> None:
        self.port = free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("KONTENT_", "GITHUB_"))}
        environ.update(
            KONTENT_WEBHOOK_SECRET=SECRET,
            GITHUB_DISPATCH_TOKEN=TOKEN,
            GITHUB_API_URL=github.url,
            PYTHONPATH=str(REPO),
        )
        environ.update(env)
        self.log = site / f"relay-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kontent_ssg", "webhook", str(site), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            env=environ,
            cwd=REPO,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any] | None:
        try:
            return dict(httpx.get(f"{self.url}/health", timeout=5).json())
        except httpx.HTTPError:
            return None

    def post(self, body: bytes, *, sign: bool = True) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if sign:
            headers["X-Kontent-ai-Signature"] = sign_webhook(body, SECRET)
        return httpx.post(f"{self.url}/webhook", content=body, headers=headers, timeout=10)

    def __enter__(self) -> Relay:
        def up() -> dict[str, Any] | None:
            assert self.proc.poll() is None, self.log.read_text()
            return self.health()

        wait_for(up, what="relay up")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def test_a_signed_webhook_becomes_one_repository_dispatch(tmp_path: Path) -> None:
    site = relay_site(tmp_path / "site")
    # GitHub is down for the first attempt: the notification stays queued and goes later.
    with FakeGitHub(statuses=[503]) as github, Relay(site, github) as relay:
        assert relay.post(v2_body("first_post"), sign=False).status_code == 401
        assert relay.post(v2_body("first_post")).status_code == 202
        wait_for(lambda: len(github.accepted()) == 2, what="a retried dispatch")
        wait_for(lambda: (relay.health() or {}).get("rebuilds") == 1, what="dispatch done")
        log = relay.log.read_text()
    request = github.requests[-1]
    assert request["path"] == "/repos/acme/site/dispatches"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Accept"] == "application/vnd.github+json"
    body = github.accepted()[-1]
    assert body["event_type"] == "kontent-ssg"
    assert list(body["client_payload"]) == ["notifications"]
    # The payload is a webhook body `build --changes` reads.
    [change] = parse_webhook(json.dumps(body["client_payload"]).encode())
    assert (change.kind, change.codename, change.language, change.type) == (
        "item",
        "first_post",
        "en-US",
        "article",
    )
    assert "503" in log and TOKEN not in log  # the failure was said, the token never


def test_a_burst_becomes_few_dispatches_carrying_every_change(
    tmp_path: Path, github: FakeGitHub
) -> None:
    site = relay_site(tmp_path / "site")
    names = [f"post_{n}" for n in range(30)]
    with Relay(site, github) as relay:
        for name in names:
            assert relay.post(v2_body(name)).status_code == 202
        wait_for(
            lambda: (relay.health() or {}).get("notifications_applied") == len(names),
            what="every notification dispatched",
        )
    dispatched = [
        change.codename
        for body in github.accepted()
        for change in parse_webhook(json.dumps(body["client_payload"]).encode())
    ]
    assert sorted(dispatched) == sorted(names)
    assert len(github.accepted()) < 5  # coalesced, not one workflow run per publish


def test_relay_refuses_to_start_without_token_or_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = relay_site(tmp_path / "site")
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("GITHUB_DISPATCH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert main(["webhook", str(site), "--port", "0"]) == 2
    assert "GITHUB_DISPATCH_TOKEN is not set" in capsys.readouterr().err
    (site / "kontent.toml").write_text(
        '[kontent]\nenvironment_id = "6f1c2e0a-5b7d-4e8f-9a3b-0c4d5e6f7a81"\n'
    )
    monkeypatch.setenv("GITHUB_DISPATCH_TOKEN", TOKEN)
    assert main(["webhook", str(site), "--port", "0", "--relay", "github"]) == 2
    assert "github_repository" in capsys.readouterr().err


def item_change(n: int) -> Change:
    return Change("item", "published", f"item_{n}", f"id-{n}", "en-US", "article")


def test_client_payload_fits_githubs_limits() -> None:
    small = client_payload([item_change(1), item_change(1), item_change(2)])
    assert len(small["notifications"]) == 2  # each change once
    many = [item_change(n) for n in range(2000)]
    payload = client_payload(many)
    # Too many for one dispatch: none are sent, the count is (the build asks the Sync API).
    assert payload == {"notifications_left_out": 2000}
    fitting = client_payload(many[:100])
    encoded = json.dumps(fitting, separators=(",", ":")).encode()
    assert len(fitting) <= 10 and len(encoded) <= MAX_CLIENT_PAYLOAD < 64 * 1024
    # A legacy workflow notification names an item by id only: the current format cannot.
    assert client_payload([Change("item", "publish", item_id="x")]) == {"notifications_left_out": 1}


def test_github_refusals_are_sorted_for_the_worker(github: FakeGitHub) -> None:
    dispatcher = GitHubDispatcher("acme/site", TOKEN, api_url=github.url)
    github.statuses = [401, 422]
    with pytest.raises(RelayError) as refused:
        dispatcher.dispatch([item_change(1)])
    assert refused.value.status == 401 and failure_kind(refused.value) == "environment"
    assert TOKEN not in str(refused.value) and "Contents" in str(refused.value)
    with pytest.raises(RelayError) as invalid:
        dispatcher.dispatch([item_change(1)])
    assert failure_kind(invalid.value) == "permanent"  # retrying the same body cannot help
    assert dispatcher.dispatch([item_change(2)]) == client_payload([item_change(2)])
    down = GitHubDispatcher("acme/site", TOKEN, api_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RelayError) as unreachable:
        down.dispatch([item_change(3)])
    assert unreachable.value.status is None and failure_kind(unreachable.value) == "environment"
