"""Notifications that can never be applied: found, moved to the dead letters, shown in
/health, and never again in the way of the notifications after them."""

from __future__ import annotations

import threading

import httpx
import pytest

from kontent_ssg.content.webhooks import Change
from kontent_ssg.errors import (
    AuthError,
    BuildError,
    ConfigError,
    DeliveryError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    TemplateError,
    WebhookError,
)
from kontent_ssg.incremental.state import BuildState, state_path
from kontent_ssg.server import NotificationWorker, failure_kind, serve_in_thread, webhook_app
from tests.support.receiver import SECRET, signed, v2_body, wait_for

POISON = "poison_pill"


class Rebuild:
    """A rebuild that fails with ``error`` whenever a change names :data:`POISON` (until
    ``error`` is set to None)."""

    def __init__(self, error: Exception) -> None:
        self.error: Exception | None = error
        self.applied: list[str] = []
        self.attempts = 0
        self.lock = threading.Lock()

    def __call__(self, changes: list[Change]) -> None:
        with self.lock:
            if self.error is not None and any(c.codename == POISON for c in changes):
                self.attempts += 1
                raise self.error
            self.applied.extend(c.codename or "" for c in changes)


@pytest.fixture
def receiver(tmp_path):
    handles = []

    def start(rebuild: Rebuild, **worker_options):
        state = BuildState(state_path(tmp_path / "site"))
        logged: list[str] = []
        options = {"debounce": 0.05, "retry_base": 0.02, **worker_options}
        worker = NotificationWorker(state, rebuild, log=logged.append, **options)
        handle = serve_in_thread(webhook_app(state, worker, path="/hook", secret=SECRET))
        handles.append((handle, state))
        return handle, state, worker, logged

    yield start
    for handle, state in handles:
        handle.stop()
        state.close()


def post(handle, codename: str) -> int:
    body = v2_body(codename)
    return httpx.post(f"{handle.url}/hook", content=body, headers=signed(body)).status_code


def health(handle) -> dict:
    return httpx.get(f"{handle.url}/health", timeout=10).json()


def test_a_permanent_failure_is_dead_lettered_at_once_and_later_webhooks_go_through(receiver):
    rebuild = Rebuild(DeliveryError("content item 'poison_pill': HTTP 400", status=400))
    handle, state, _worker, logged = receiver(rebuild)
    assert post(handle, POISON) == 202
    wait_for(lambda: state.dead_letter_count() == 1, what="dead-lettered")
    assert rebuild.attempts == 1  # retrying a 400 cannot help: no second attempt
    assert post(handle, "after_the_poison") == 202
    wait_for(lambda: rebuild.applied, what="the next webhook applied")
    assert rebuild.applied == ["after_the_poison"]
    shown = health(handle)
    assert shown["pending"] == 0 and shown["dead_letters"] == 1
    [letter] = shown["last_dead_letters"]
    assert "HTTP 400" in letter["reason"] and letter["attempts"] == 1
    assert letter["changes"] == [{"kind": "item", "codename": POISON, "language": "en-US"}]
    assert any("moved to the dead letters" in line and POISON in line for line in logged)


def test_a_poison_notification_in_a_batch_is_isolated_the_others_applied(receiver, tmp_path):
    rebuild = Rebuild(DeliveryError("HTTP 400", status=400))
    state = BuildState(state_path(tmp_path / "site"))
    for name in ("before_it", POISON, "after_it"):  # queued by a previous process
        state.enqueue([Change("item", "published", codename=name, language="en-US")])
    state.close()
    handle, state, worker, _ = receiver(rebuild)
    wait_for(lambda: state.dead_letter_count() == 1, what="the poison dead-lettered")
    wait_for(lambda: sorted(rebuild.applied) == ["after_it", "before_it"], what="others applied")
    shown = health(handle)
    assert shown["pending"] == 0 and shown["dead_letters"] == 1
    [letter] = state.dead_letters()
    assert [c.codename for c in letter.changes] == [POISON]
    assert worker.stats.dead_letters == 1


def test_an_unknown_failure_is_retried_then_dead_lettered_without_blocking_others(receiver):
    rebuild = Rebuild(TemplateError("article.html line 3: 'None' has no attribute 'x'"))
    handle, state, _worker, _ = receiver(rebuild, max_attempts=4, retry_base=0.2)
    assert post(handle, POISON) == 202
    wait_for(lambda: rebuild.attempts >= 1, what="first attempt")
    assert post(handle, "meanwhile") == 202
    # Applied while the poison waits for its next attempt, not after it is given up.
    wait_for(lambda: rebuild.applied == ["meanwhile"], what="the later one applied")
    assert state.dead_letter_count() == 0
    wait_for(lambda: state.dead_letter_count() == 1, what="given up")
    assert rebuild.attempts == 4
    [letter] = state.dead_letters()
    assert letter.attempts == 4 and letter.reason.startswith("failed 4 times")


def test_an_environment_failure_is_retried_and_never_dead_lettered(receiver):
    rebuild = Rebuild(NetworkError("cannot reach the Delivery API"))
    handle, state, worker, _ = receiver(rebuild, max_attempts=2, retry_base=0.01, retry_max=0.05)
    assert post(handle, POISON) == 202
    wait_for(lambda: rebuild.attempts >= 6, what="retried past max_attempts")
    assert state.dead_letter_count() == 0
    assert state.queue_counts()["pending"] == 1  # kept until the API is back
    assert worker.stats.dead_letters == 0
    with rebuild.lock:
        rebuild.error = None
    wait_for(lambda: rebuild.applied == [POISON], what="applied once the API is back")
    wait_for(lambda: state.queue_counts()["pending"] == 0, what="marked done")


def test_dead_letters_survive_a_restart_and_are_not_retried(tmp_path):
    state = BuildState(state_path(tmp_path / "site"))
    first = state.enqueue([Change("item", "published", codename=POISON, language="en-US")])
    assert state.dead_letter(first, "cannot succeed: HTTP 400", 1)
    assert not state.dead_letter(first, "again", 2)  # no longer pending
    state.close()

    state = BuildState(state_path(tmp_path / "site"))
    try:
        assert state.pending() == []
        assert state.dead_letter_count() == 1
        [letter] = state.dead_letters(limit=5)
        assert letter.id == first and letter.reason == "cannot succeed: HTTP 400"
        assert letter.changes == [Change("item", "published", codename=POISON, language="en-US")]
        second = state.enqueue([Change("item", "published", codename="next_one")])
        assert second > first and [n.id for n in state.pending()] == [second]
    finally:
        state.close()


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (NetworkError("down"), "environment"),
        (AuthError("wrong key", status=401), "environment"),
        (NotFoundError("unknown environment", status=404), "environment"),
        (ConfigError("bad kontent.toml"), "environment"),
        (DeliveryError("HTTP 503", status=503), "environment"),
        (DeliveryError("HTTP 400", status=400), "permanent"),
        (DeliveryError("HTTP 414", status=414), "permanent"),
        (WebhookError("not a webhook"), "permanent"),
        (MalformedResponseError("not JSON"), "unknown"),
        (DeliveryError("too many redirects"), "unknown"),
        (TemplateError("boom"), "unknown"),
        (BuildError("disk full"), "unknown"),
        (RuntimeError("a bug"), "unknown"),
    ],
)
def test_failure_kind(error, kind):
    assert failure_kind(error) == kind
