"""`kontent-ssg webhook` end to end: a real receiver process, the emulator sending signed
webhooks, real incremental rebuilds, kills and restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kontent_ssg.content.webhooks import sign_webhook
from kontent_ssg.incremental.state import BuildState, state_path
from tests.support.emulator import Emulator, Faults
from tests.support.fixtures import REPO
from tests.support.net import free_port, wait_for
from tests.test_incremental import EN, article, make_snapshot, write_site

SECRET = "cli-secret"


class Receiver:
    """``python -m kontent_ssg webhook SITE`` in a subprocess."""

    def __init__(self, site: Path, *, secret: str | None = SECRET, extra=()) -> None:
        self.site = site
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
        if secret is not None:
            env["KONTENT_WEBHOOK_SECRET"] = secret
        env["PYTHONPATH"] = str(REPO)
        self.log = site / f"receiver-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kontent_ssg",
                "webhook",
                str(site),
                "--port",
                str(self.port),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            env=env,
            cwd=REPO,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict | None:
        try:
            return httpx.get(f"{self.url}/health", timeout=5).json()
        except httpx.HTTPError:
            return None

    def wait_up(self) -> Receiver:
        def up():
            assert self.proc.poll() is None, self.log.read_text()
            return self.health()

        wait_for(up, what="receiver up")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=30)


@pytest.fixture
def env(tmp_path):
    with Emulator(make_snapshot(), webhook_secret=SECRET) as emu:
        site = write_site(tmp_path / "site", emu)
        receivers: list[Receiver] = []

        def start(**kw) -> Receiver:
            r = Receiver(site, **kw)
            receivers.append(r)
            r.wait_up()
            emu.webhook_url = f"{r.url}/webhook"
            return r

        yield emu, site, start
        for r in receivers:
            r.stop(signal.SIGKILL)


def page(site: Path, codename: str) -> Path:
    return site / "public" / "articles" / codename / "index.html"


def test_refuses_to_start_without_a_secret(tmp_path):
    with Emulator(make_snapshot()) as emu:
        site = write_site(tmp_path / "site", emu)
        r = Receiver(site, secret=None)
        assert r.proc.wait(timeout=60) == 2
        assert "KONTENT_WEBHOOK_SECRET" in r.log.read_text()


def test_published_item_reaches_its_page_then_deploys(env):
    emu, site, start = env
    with (site / "kontent.toml").open("a") as fh:
        fh.write('\n[deploy]\ncommand = "echo deployed >> deploys.log"\n')
    receiver = start()
    assert page(site, "gamma").is_file()  # caught up: the first build ran
    emu.upsert_item(article("gamma", "Gamma via webhook", topics=["tea"]))
    assert emu.webhooks_sent[-1].status == 202
    wait_for(lambda: "Gamma via webhook" in page(site, "gamma").read_text(), what="page")
    health = wait_for(lambda: (h := receiver.health()) and h["pending"] == 0 and h)
    assert health["rebuilds"] >= 1
    wait_for(lambda: (site / "deploys.log").exists(), what="deploy step ran")


def test_bad_signature_is_401_and_nothing_is_rebuilt(env):
    emu, site, start = env
    receiver = start()
    before = page(site, "gamma").read_bytes()
    emu.webhook_secret = "wrong-secret"
    emu.upsert_item(article("gamma", "Forged", topics=["tea"]))
    assert emu.webhooks_sent[-1].status == 401
    body = b'{"notifications": []}'
    unsigned = httpx.post(f"{receiver.url}/webhook", content=body, timeout=10)
    assert unsigned.status_code == 401
    malformed = httpx.post(
        f"{receiver.url}/webhook",
        content=b"{nope",
        headers={"X-Kontent-ai-Signature": sign_webhook(b"{nope", SECRET)},
        timeout=10,
    )
    assert malformed.status_code == 400
    time.sleep(0.5)
    health = receiver.health()
    assert health is not None and health["rebuilds"] == 0 and health["pending"] == 0
    assert page(site, "gamma").read_bytes() == before


def test_burst_of_100_webhooks_applies_every_change_in_far_fewer_rebuilds(env):
    emu, site, start = env
    receiver = start()
    names = [f"burst_{n:03d}" for n in range(100)]
    for name in names:
        emu.upsert_item(article(name, f"Burst {name}"))
    assert all(d.status == 202 for d in emu.webhooks_sent[-100:])
    health = wait_for(
        lambda: (h := receiver.health()) and h["notifications_applied"] >= 100 and h,
        what="every notification applied",
    )
    for name in names:
        assert page(site, name.replace("_", "-")).is_file(), name
    listing = (site / "public" / "articles" / "index.html").read_text()
    assert "Burst burst_099" in listing or (site / "public/articles/page/2/index.html").exists()
    assert health["rebuilds"] <= 25, health


def test_receiver_killed_right_after_202_applies_the_change_on_restart(env):
    emu, site, start = env
    receiver = start()
    emu.faults = Faults(delay=30.0)  # the rebuild's refetch hangs: die inside it
    emu.upsert_item(article("gamma", "Gamma survives a crash", topics=["tea"]))
    assert emu.webhooks_sent[-1].status == 202
    receiver.stop(signal.SIGKILL)
    state = BuildState(state_path(site / ".kontent-ssg"))
    try:
        assert len(state.pending()) == 1  # queued durably, not applied
    finally:
        state.close()
    assert "Gamma survives a crash" not in page(site, "gamma").read_text()

    emu.faults = None
    restarted = start()
    wait_for(
        lambda: "Gamma survives a crash" in page(site, "gamma").read_text(),
        what="change applied after restart",
    )
    wait_for(lambda: (h := restarted.health()) and h["pending"] == 0, what="queue drained")


def test_sigterm_finishes_the_rebuild_in_progress(env):
    emu, site, start = env
    receiver = start()
    emu.faults = Faults(delay=1.0)
    emu.upsert_item(article("delta", "Delta before shutdown"))
    assert emu.webhooks_sent[-1].status == 202
    wait_for(lambda: (h := receiver.health()) and h["busy"], what="rebuild started")
    # uvicorn re-raises the signal after its graceful shutdown: exit status -15 (or 0)
    assert receiver.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    emu.faults = None
    assert "Delta before shutdown" in page(site, "delta").read_text()
    state = BuildState(state_path(site / ".kontent-ssg"))
    try:
        assert state.pending() == []
    finally:
        state.close()


def test_changes_file_cli(env, tmp_path):
    emu, site, _ = env
    run = [sys.executable, "-m", "kontent_ssg", "build", str(site), "-q"]
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    assert subprocess.run(run, env=environ, timeout=120).returncode == 0
    emu.upsert_item(article("alpha", "Alpha from CI", topics=["coffee"]))
    body = json.dumps(
        {
            "notifications": [
                {
                    "data": {"system": {"id": "x", "codename": "alpha", "language": EN}},
                    "message": {"object_type": "content_item", "action": "published"},
                }
            ]
        }
    )
    changes = tmp_path / "changes.json"
    changes.write_text(body)
    report = tmp_path / "report.json"
    done = subprocess.run(
        [*run, "--changes", str(changes), "--report", str(report)], env=environ, timeout=120
    )
    assert done.returncode == 0
    data = json.loads(report.read_text())
    assert "articles/alpha/index.html" in data["pages_written"]
    assert "articles/gamma/index.html" not in data["pages_written"]
    assert data["requests"] == 1


def test_max_body_option_limits_webhook_bodies(env):
    _emu, _site, start = env
    receiver = start(extra=["--max-body", "2000"])
    small = b'{"notifications": [' + b" " * 1000 + b"]}"
    headers = {"X-Kontent-ai-Signature": sign_webhook(small, SECRET)}
    answer = httpx.post(f"{receiver.url}/webhook", content=small, headers=headers, timeout=10)
    assert answer.status_code == 400  # read and parsed: an empty list is no webhook
    large = b'{"notifications": [' + b" " * 3000 + b"]}"
    headers = {"X-Kontent-ai-Signature": sign_webhook(large, SECRET)}
    answer = httpx.post(f"{receiver.url}/webhook", content=large, headers=headers, timeout=10)
    assert answer.status_code == 413
    assert answer.json() == {"error": "body larger than 2000 bytes"}


@pytest.mark.parametrize("value", ["0", "-5", "1MB"])
def test_max_body_option_must_be_a_positive_byte_count(tmp_path, value, capsys):
    from kontent_ssg.cli import main

    assert main(["webhook", str(tmp_path), "--max-body", value]) == 2
    assert "--max-body" in capsys.readouterr().err


def test_verbose_receiver_logs_where_each_rebuild_spent_its_time(env):
    emu, site, start = env
    start(extra=("-v",))
    emu.upsert_item(article("gamma", "Gamma, verbosely", topics=["tea"]))
    wait_for(lambda: "Gamma, verbosely" in page(site, "gamma").read_text(), what="page")
    log = next(site.glob("receiver-*.log"))
    line = wait_for(
        lambda: next((x for x in log.read_text().splitlines() if "rebuild stages:" in x), None),
        what="stage line",
    )
    for stage in ("check", "content", "plan", "choose", "render", "record", "publish"):
        assert f" {stage} " in line, line
    assert "collections" in line
