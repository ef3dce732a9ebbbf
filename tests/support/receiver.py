"""Helpers for the webhook receiver tests: signed bodies, a rebuild stand-in, waiting."""

from __future__ import annotations

import json
import threading
import time

from kontent_ssg.content.webhooks import Change, sign_webhook

SECRET = "test-secret-ÿ"


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def v2_body(codename: str, *, slot: str = "published", action: str = "published") -> bytes:
    return json.dumps(
        {
            "notifications": [
                {
                    "data": {
                        "system": {
                            "id": f"id-{codename}",
                            "codename": codename,
                            "language": "en-US",
                            "type": "article",
                        }
                    },
                    "message": {
                        "object_type": "content_item",
                        "action": action,
                        "delivery_slot": slot,
                    },
                }
            ]
        }
    ).encode()


class Recorder:
    """Stands in for the incremental rebuild: remembers every batch it was given."""

    def __init__(self) -> None:
        self.batches: list[list[Change]] = []
        self.lock = threading.Lock()

    def __call__(self, changes: list[Change]) -> None:
        with self.lock:
            self.batches.append(list(changes))

    @property
    def codenames(self) -> list[str]:
        with self.lock:
            return [c.codename for batch in self.batches for c in batch]


def signed(body: bytes, secret: str = SECRET, header: str = "X-Kontent-ai-Signature") -> dict:
    return {header: sign_webhook(body, secret), "Content-Type": "application/json"}
