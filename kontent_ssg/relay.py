"""The receiver's relay mode: Kontent.ai webhooks forwarded to GitHub's ``repository_dispatch``.

Kontent.ai cannot call GitHub's dispatch API itself: the API wants a token and its own body,
``{"event_type", "client_payload"}``. ``kontent-ssg webhook --relay github`` sits between:
it verifies the Kontent.ai signature and queues the notifications exactly as the receiver
always does (same limits, same durable queue, same worker coalescing bursts); where the
receiver would rebuild, the relay sends one ``POST {api}/repos/{owner}/{repo}/dispatches``
with the notifications in ``client_payload``, and the workflow that ``kontent-ssg init --ci
github`` writes builds them with ``build --changes``.

``client_payload`` is a webhook body in the current format (``{"notifications": [...]}``),
so ``--changes`` reads it as it reads any webhook. GitHub accepts at most 10 top-level
properties and less than 64 KB of ``client_payload`` (REST API reference, "Create a
repository dispatch event"). A burst too large for that (several hundred notifications in one
batch) is not split into several dispatches: GitHub keeps one pending run per concurrency
group and cancels the others, so split batches could be lost. It is sent as one dispatch
naming no notifications (``{"notifications_left_out": N}``), and the workflow's build then
finds every change through the Sync API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import __version__
from .content.webhooks import Change
from .errors import KontentSSGError

__all__ = [
    "DEFAULT_GITHUB_API",
    "EVENT_TYPE",
    "MAX_CLIENT_PAYLOAD",
    "GitHubDispatcher",
    "RelayError",
    "client_payload",
]

DEFAULT_GITHUB_API = "https://api.github.com"
#: The ``repository_dispatch`` type the generated workflow listens to.
EVENT_TYPE = "kontent-ssg"
#: Bytes of compact JSON allowed in ``client_payload``: GitHub's limit is "less than 64 KB";
#: the margin keeps clear of whichever way GitHub counts it.
MAX_CLIENT_PAYLOAD = 60_000

# Change.kind -> the current format's message.object_type (content/webhooks.py reads it back).
_OBJECT_TYPES = {
    "item": "content_item",
    "taxonomy": "taxonomy",
    "type": "content_type",
    "language": "language",
    "asset": "asset",
    "unknown": "unknown",
}


class RelayError(KontentSSGError):
    """GitHub refused or did not answer a dispatch. ``status`` is the HTTP status (None: no
    answer); the message never holds the token."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


def _notification(change: Change) -> dict[str, Any] | None:
    """``change`` as a current-format notification; None when that format cannot say it (an
    item named only by id, as legacy workflow notifications do)."""
    if change.kind in ("item", "taxonomy") and not change.codename:
        return None
    system = {
        key: value
        for key, value in (
            ("id", change.item_id),
            ("codename", change.codename),
            ("language", change.language),
            ("type", change.type),
        )
        if value
    }
    return {
        "data": {"system": system},
        "message": {
            "object_type": _OBJECT_TYPES.get(change.kind, "unknown"),
            "action": change.action or "changed",
            "delivery_slot": change.slot,
        },
    }


def client_payload(changes: list[Change], limit: int = MAX_CLIENT_PAYLOAD) -> dict[str, Any]:
    """The ``client_payload`` for a batch: its notifications (each change once), or, when
    they do not fit in ``limit`` bytes or cannot all be said, how many were left out."""
    unique = list(dict.fromkeys(changes))
    notifications = [_notification(change) for change in unique]
    if all(n is not None for n in notifications):
        payload: dict[str, Any] = {"notifications": notifications}
        if len(_compact(payload)) <= limit:
            return payload
    return {"notifications_left_out": len(unique)}


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class GitHubDispatcher:
    """Sends batches of changes to ``POST {api_url}/repos/{repository}/dispatches``.

    ``token`` (a fine-grained token with "Contents: read and write" on the repository, or a
    classic one with ``repo``) is sent as ``Authorization: Bearer`` and never logged.
    ``transport`` lets tests swap the network (httpx).
    """

    repository: str
    token: str
    api_url: str = DEFAULT_GITHUB_API
    event_type: str = EVENT_TYPE
    timeout: float = 30.0
    log: Callable[[str], None] = lambda message: None
    transport: Any = None

    @property
    def url(self) -> str:
        return f"{self.api_url.rstrip('/')}/repos/{self.repository}/dispatches"

    def dispatch(self, changes: list[Change]) -> dict[str, Any]:
        """One dispatch for ``changes``; raises :class:`RelayError` when GitHub says no.

        Called by the receiver's worker in place of a rebuild: a failure keeps the
        notifications queued and retried (see ``server.failure_kind``)."""
        import httpx

        payload = client_payload(changes)
        body = {"event_type": self.event_type, "client_payload": payload}
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"kontent-ssg/{__version__}",
            "Content-Type": "application/json",
        }
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                response = client.post(self.url, content=_compact(body), headers=headers)
        except httpx.HTTPError as exc:
            raise RelayError(
                f"GitHub dispatch to {self.repository}: no answer from {self.api_url} "
                f"({type(exc).__name__})"
            ) from None
        if response.status_code >= 300:
            raise RelayError(
                f"GitHub dispatch to {self.repository} answered {response.status_code}: "
                f"{_github_message(response)}",
                status=response.status_code,
                hint=_hint(response.status_code),
            )
        sent = len(payload.get("notifications") or [])
        left_out = payload.get("notifications_left_out")
        self.log(
            f"relay: dispatched {sent} notification{'s' if sent != 1 else ''} to "
            f"{self.repository}"
            + (f" ({left_out} too many to carry: the build asks the Sync API)" if left_out else "")
        )
        return payload


def _github_message(response: Any) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or response.reason_phrase or "no message")[:200]


def _hint(status: int) -> str | None:
    if status in (401, 403):
        return (
            "the token (GITHUB_DISPATCH_TOKEN) needs 'Contents: read and write' on the "
            "repository (fine-grained), or the 'repo' scope (classic)"
        )
    if status == 404:
        return (
            "check [webhook] github_repository (owner/name) and that the token can see "
            "that repository"
        )
    return None
