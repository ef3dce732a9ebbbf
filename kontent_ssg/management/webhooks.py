"""The environment's webhook for a site: created, kept or replaced by name, idempotently.

A site owns one webhook, found by its name (``[webhook] name``, default ``kontent-ssg <base
URL>``). It fires for what a published build depends on: content items published or
unpublished, and any change of a taxonomy group (docs/MANAGEMENT.md lists the trigger shape).

The Management API has no "update a webhook" (add, list, get, enable, disable and delete only),
so :func:`register` compares the webhook it finds with the one it wants:

- the same (URL, secret, triggers, headers): kept; enabled again when it was disabled;
- different, or none: the new one is created first and the old ones deleted after, so
  notifications never stop (during the swap a change may be announced twice, which the
  receiver coalesces);
- more than one with the name (a create retried after its answer was lost, or an old
  duplicate): all but one are deleted. Running it twice therefore leaves one webhook.

Secrets: :func:`resolve_secret` takes ``KONTENT_WEBHOOK_SECRET``, else reads or generates the
``--secret-file`` (created with mode 0600 before the webhook is, so a secret is never lost).
Nothing here prints or logs a secret.
"""

from __future__ import annotations

import os
import secrets as secrets_module
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, UsageError
from .client import ManagementClient, segment

__all__ = [
    "ITEM_ACTIONS",
    "SECRET_ENV",
    "TAXONOMY_ACTIONS",
    "WEBHOOKS_PATH",
    "RegisterResult",
    "SecretSource",
    "default_name",
    "desired_webhook",
    "list_webhooks",
    "register",
    "remove",
    "resolve_secret",
    "summary",
]

JSON = dict[str, Any]

#: The Management API path of the current webhooks (the legacy ones live at ``webhooks``).
WEBHOOKS_PATH = "webhooks-vnext"
SECRET_ENV = "KONTENT_WEBHOOK_SECRET"
ITEM_ACTIONS = ("published", "unpublished")
TAXONOMY_ACTIONS = (
    "created",
    "metadata_changed",
    "deleted",
    "term_created",
    "term_changed",
    "term_deleted",
    "terms_moved",
)
_OBJECTS = ("content_item", "taxonomy", "content_type", "asset", "language")


def default_name(base_url: str, site_dir: Path) -> str:
    """``kontent-ssg <base_url>``; a site without a base URL uses its folder's name."""
    return f"kontent-ssg {base_url or site_dir.name}"


def desired_webhook(name: str, url: str, secret: str) -> JSON:
    """The webhook a site wants: published-slot item publish/unpublish and taxonomy changes."""
    return {
        "name": name,
        "url": url,
        "secret": secret,
        "enabled": True,
        "headers": [],
        "delivery_triggers": {
            "slot": "published",
            "events": "specific",
            "content_item": {
                "enabled": True,
                "actions": [{"action": a} for a in ITEM_ACTIONS],
                "filters": {"collections": [], "content_types": [], "languages": []},
            },
            "taxonomy": {
                "enabled": True,
                "actions": [{"action": a} for a in TAXONOMY_ACTIONS],
                "filters": {"taxonomies": []},
            },
        },
    }


def _shape(webhook: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two webhooks the same for a site (not id, name, enabled or health)."""
    triggers = webhook.get("delivery_triggers") or {}

    def part(key: str) -> tuple[frozenset[str], bool] | None:
        found = triggers.get(key) or {}
        if not found.get("enabled"):
            return None
        names = frozenset(
            str(a.get("action") if isinstance(a, dict) else a) for a in found.get("actions") or []
        )
        filters = found.get("filters") or {}
        filtered = any(filters.values()) if isinstance(filters, dict) else bool(filters)
        return names, filtered

    headers = tuple(
        (h.get("key"), h.get("value")) for h in webhook.get("headers") or [] if isinstance(h, dict)
    )
    return (
        webhook.get("url"),
        webhook.get("secret"),
        triggers.get("slot"),
        triggers.get("events"),
        tuple(part(k) for k in _OBJECTS),
        headers,
    )


@dataclass(frozen=True)
class RegisterResult:
    """``action``: created, replaced, unchanged or enabled; ``removed``: webhooks deleted."""

    action: str
    webhook: JSON
    removed: int


def list_webhooks(client: ManagementClient) -> list[JSON]:
    found = client.get(WEBHOOKS_PATH, what="list webhooks")
    if not isinstance(found, list):
        raise UsageError("the Management API answered the webhook list with something else")
    return [w for w in found if isinstance(w, dict)]


def register(client: ManagementClient, name: str, url: str, secret: str) -> RegisterResult:
    """Make the environment hold exactly one webhook called ``name``, as :func:`desired_webhook`
    says; see the module docstring for how."""
    check_url(url)
    wanted = desired_webhook(name, url, secret)
    mine = [w for w in list_webhooks(client) if w.get("name") == name]
    same = [w for w in mine if _shape(w) == _shape(wanted)]
    if same:
        keep = same[0]
        action = "unchanged"
        if keep.get("enabled") is False:
            client.put(f"{WEBHOOKS_PATH}/{segment(keep['id'])}/enable", what=f"enable {name!r}")
            keep = {**keep, "enabled": True}
            action = "enabled"
        removed = _delete(client, [w for w in mine if w.get("id") != keep.get("id")])
        return RegisterResult(action, keep, removed)
    created = client.post(WEBHOOKS_PATH, wanted, what=f"create webhook {name!r}")
    if not isinstance(created, dict) or not isinstance(created.get("id"), str):
        raise UsageError("the Management API did not say which webhook it created")
    # Listed again: a create retried after a lost answer may have made two.
    others = [
        w for w in list_webhooks(client) if w.get("name") == name and w.get("id") != created["id"]
    ]
    removed = _delete(client, others)
    return RegisterResult("replaced" if mine else "created", created, removed)


def remove(client: ManagementClient, name: str) -> int:
    """Delete every webhook called ``name``; how many there were."""
    return _delete(client, [w for w in list_webhooks(client) if w.get("name") == name])


def _delete(client: ManagementClient, webhooks: list[JSON]) -> int:
    for webhook in webhooks:
        client.delete(
            f"{WEBHOOKS_PATH}/{segment(str(webhook.get('id')))}",
            what=f"delete webhook {webhook.get('name')!r}",
        )
    return len(webhooks)


def check_url(url: str) -> None:
    """The delivery URL must be an absolute http(s) URL (Kontent.ai posts to it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--url {url!r} is not an absolute http(s) URL",
            hint="give the public URL of the receiver, e.g. https://build.example.org/webhook",
        )


def summary(webhook: Mapping[str, Any]) -> str:
    """One line for ``webhooks list``: name, URL, state, triggers; never the secret."""
    triggers = webhook.get("delivery_triggers") or {}
    parts = []
    for key in _OBJECTS:
        found = triggers.get(key) or {}
        if found.get("enabled"):
            actions = [
                str(a.get("action") if isinstance(a, dict) else a)
                for a in found.get("actions") or []
            ]
            parts.append(f"{key}: {', '.join(actions) or 'all'}")
    state = "enabled" if webhook.get("enabled", True) else "disabled"
    slot = triggers.get("slot") or "?"
    return (
        f"{webhook.get('name')!s}  {webhook.get('url')!s}  {state}  {slot}  "
        f"[{'; '.join(parts) or triggers.get('events') or 'no triggers'}]"
    )


@dataclass(frozen=True)
class SecretSource:
    """Where the secret came from, for the user (the value itself is never shown)."""

    secret: str
    origin: str  # "environment", "file" (read) or "generated" (written to the file)
    path: Path | None = None
    warning: str | None = None


def resolve_secret(env: Mapping[str, str], secret_file: Path | None) -> SecretSource:
    """``KONTENT_WEBHOOK_SECRET``, else the ``--secret-file`` (read, or created with a new
    random secret, mode 0600); neither is a usage error."""
    from_env = env.get(SECRET_ENV) or ""
    if from_env and secret_file is not None:
        raise UsageError(
            f"both {SECRET_ENV} and --secret-file are given",
            hint=f"use one: unset {SECRET_ENV}, or drop --secret-file",
        )
    if from_env:
        return SecretSource(from_env, "environment")
    if secret_file is None:
        raise ConfigError(
            f"no webhook secret: {SECRET_ENV} is not set and no --secret-file was given",
            hint=f"export {SECRET_ENV}=<a long random string>, or pass --secret-file PATH to "
            "have one generated and saved there (readable only by you)",
        )
    path = Path(secret_file)
    try:
        existing = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--secret-file {path}: cannot read it ({exc})") from None
    if existing:
        warning = None
        if mode & 0o077:
            warning = f"{path} is readable by others (mode {mode:04o}); run: chmod 600 {path}"
        return SecretSource(existing, "file", path, warning)
    secret = secrets_module.token_urlsafe(32)
    _write_private(path, secret + "\n")
    return SecretSource(secret, "generated", path)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, created so (never chmod-ed after)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an existing empty file keeps its mode on open
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"--secret-file {path}: cannot write it ({exc})") from None
