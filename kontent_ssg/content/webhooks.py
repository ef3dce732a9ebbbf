"""Kontent.ai webhooks: signatures and the two payload formats, as pure functions.

Kontent.ai signs every webhook with ``base64(HMAC-SHA256(secret, body))`` where the secret is
used as its UTF-8 bytes (not base64-decoded). The official helper (webhook-helper-js) first
replaces every run of line breaks in the body with ``\\r\\n``; real senders and our emulator
sign the raw bytes. :func:`verify_signature` accepts either, always in constant time.

Two payload formats exist and both are still delivered:

* current ("v2"): ``{"notifications": [{"data": {"system": {...}}, "message": {"object_type",
  "action", "delivery_slot", ...}}]}``, header ``X-Kontent-ai-Signature``;
* legacy: ``{"message": {"type", "operation", "api_name", ...}, "data": {"items": [...],
  "taxonomies": [...]}}``, header ``X-KC-Signature``.

:func:`parse_webhook` turns either into a flat list of :class:`Change`; the incremental build
only ever sees :class:`Change`. What an item change *means* (updated, unpublished, deleted) is
decided later by refetching the item — a 404 means the page goes — so the action is kept for
logging and for the preview/published routing, not trusted for content.

A signed body is still checked as if it were hostile (the secret may leak, a proxy may be
misconfigured): nesting deeper than :data:`MAX_DEPTH` is refused before it is parsed, and
every codename and language must follow the Kontent.ai grammar (:func:`is_codename`,
:func:`is_language_codename`). A notification naming an invalid one is dropped (and reported
through ``on_invalid``); a body whose every notification is invalid is a :class:`WebhookError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import WebhookError

__all__ = [
    "SIGNATURE_HEADERS",
    "Change",
    "changes_from_json",
    "changes_from_sync",
    "changes_to_json",
    "is_codename",
    "is_language_codename",
    "parse_webhook",
    "sign_webhook",
    "verify_signature",
]

# Header names, current first. HTTP headers are case-insensitive; compare lower-cased.
SIGNATURE_HEADERS = ("x-kontent-ai-signature", "x-kc-signature")

KINDS = ("item", "taxonomy", "type", "language", "asset", "unknown")

_LINE_BREAKS = re.compile(rb"[\r\n]+")

MAX_DEPTH = 32
"""Deepest JSON nesting accepted in a webhook body. Real bodies are 5 levels deep; a body
nested 100k deep made the parser exceed Python's recursion limit (a 500, not a 400)."""

# Kontent.ai's rules for codenames (Management API reference, "Rules for codenames"): only
# lowercase letters, numbers and underscores, starting with a letter or an underscore, at
# least one character; items, types and taxonomy groups are limited to 60 characters.
_CODENAME = re.compile(r"[a-z_][a-z0-9_]{0,59}")
# Language codenames follow other rules: generated from the language's name with spaces
# replaced by underscores (an en dash and all: "French_\u2013_Switzerland"), or set by hand
# ("fr-CH", "de-DE---11"), at most 25 characters. Refused here is only what none can hold:
# white space and non-printable characters. (A language is sent as a query parameter,
# encoded, and otherwise only compared with the environment's languages.)
MAX_LANGUAGE_LENGTH = 25

_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

# v2 message.object_type → Change.kind
_V2_KINDS = {
    "content_item": "item",
    "content_item_variant": "item",
    "taxonomy": "taxonomy",
    "content_type": "type",
    "language": "language",
    "asset": "asset",
}

# legacy message.type → Change.kind
_LEGACY_KINDS = {
    "content_item_variant": "item",
    "content_item": "item",
    "taxonomy": "taxonomy",
    "content_type": "type",
    "language": "language",
    "asset": "asset",
}

# legacy message.api_name → slot; management-API notifications never change delivered content
# for the published site, so they drive only preview builds.
_LEGACY_SLOTS = {
    "delivery_production": "published",
    "delivery_preview": "preview",
    "content_management": "preview",
}


@dataclass(frozen=True)
class Change:
    """One thing Kontent.ai says changed.

    ``language`` is a language codename, or None for "every language" (legacy workflow
    notifications name languages only by id). ``slot`` is ``published`` (the Delivery API)
    or ``preview`` (the Preview API): a preview change must not rebuild the published site.
    """

    kind: str
    action: str = ""
    codename: str | None = None
    item_id: str | None = None
    language: str | None = None
    type: str | None = None
    slot: str = "published"


def sign_webhook(body: bytes, secret: str) -> str:
    """The ``X-Kontent-ai-Signature`` value for ``body`` (raw bytes, as Kontent.ai signs)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """True when ``signature`` signs ``body`` with ``secret``.

    Accepts the signature over the raw body and over the body with line breaks normalised to
    ``\\r\\n`` (what webhook-helper-js computes), so bodies that passed through either kind of
    sender verify. Both comparisons always run, in constant time.
    """
    if not signature or not secret:
        return False
    given = signature.strip().encode("ascii", "replace")
    raw = sign_webhook(body, secret).encode("ascii")
    normalised = sign_webhook(_LINE_BREAKS.sub(b"\r\n", body), secret).encode("ascii")
    ok_raw = hmac.compare_digest(given, raw)
    ok_norm = hmac.compare_digest(given, normalised)
    return ok_raw or ok_norm


def is_codename(value: object) -> bool:
    """True for a valid Kontent.ai codename of an item, a type or a taxonomy group."""
    return isinstance(value, str) and _CODENAME.fullmatch(value) is not None


def is_language_codename(value: object) -> bool:
    """True for a plausible Kontent.ai language codename (``en-US``, ``default``, ...)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_LANGUAGE_LENGTH
        and value.isprintable()
        and not any(c.isspace() for c in value)
    )


def json_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``body`` nests arrays and objects deeper than ``limit``.

    Cheap and without recursion: string literals are removed, everything but brackets is
    dropped (both in C), then each pass removes the innermost empty pairs; a body still
    shrinking after ``limit`` passes is deeper than that. Unbalanced brackets stop the
    passes early and are left for the JSON parser to report (unless they open deeper than
    ``limit`` in one run).
    """
    brackets = _STRING_LITERAL.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _INNERMOST.sub(b"", brackets)
        if len(shorter) == len(brackets):
            # Unbalanced, so not JSON (json.loads says where), unless an unclosed run of
            # openers would take the parser past the limit first.
            return re.search(rb"[\[{]{%d}" % (limit + 1), brackets) is not None
        brackets = shorter
    return bool(_INNERMOST.search(brackets))


InvalidHandler = Callable[[str], None]


def parse_webhook(body: bytes, *, on_invalid: InvalidHandler | None = None) -> list[Change]:
    """Every change a webhook body names; :class:`WebhookError` when it is not a webhook.

    A notification naming a codename or language outside the Kontent.ai grammar is dropped
    and ``on_invalid`` is called with why; when nothing valid is left the whole body is
    refused. Such a name could otherwise reach a URL path (``../``) or stay queued forever.
    """
    if json_depth_exceeds(body):
        raise WebhookError(f"webhook body is nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookError(f"webhook body is not JSON: {exc}") from None
    except RecursionError:  # unreachable after json_depth_exceeds; kept as a backstop
        raise WebhookError("webhook body is nested too deeply") from None
    if not isinstance(data, dict):
        raise WebhookError("webhook body must be a JSON object")
    invalid: list[str] = []
    if "notifications" in data:
        changes = _parse_v2(data["notifications"], invalid)
    elif isinstance(data.get("message"), dict) and isinstance(data.get("data"), dict):
        changes = _parse_legacy(data["message"], data["data"], invalid)
    else:
        raise WebhookError(
            "webhook body is neither format: expected 'notifications' (current) "
            "or 'message' and 'data' (legacy)"
        )
    if invalid and not changes:
        more = f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else ""
        raise WebhookError(f"webhook names no valid codename: {invalid[0]}{more}")
    if on_invalid is not None:
        for reason in invalid:
            on_invalid(reason)
    return changes


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _invalid_names(where: str, codename: Any, language: Any, type_: Any) -> str | None:
    """Why a notification's names break the grammar, or None when they are fine.

    A value of None or ``""`` is absent and not checked (a missing codename is reported
    where it is required).
    """
    if codename not in (None, "") and not is_codename(codename):
        return (
            f"{where} codename {_shown(codename)} is not a Kontent.ai codename "
            "(lowercase letters, digits and underscores, starting with a letter or an "
            "underscore, at most 60 characters)"
        )
    if language not in (None, "") and not is_language_codename(language):
        return (
            f"{where} language {_shown(language)} is not a Kontent.ai language codename "
            f"(at most {MAX_LANGUAGE_LENGTH} printable characters, no spaces)"
        )
    if type_ not in (None, "") and not is_codename(type_):
        return f"{where} type {_shown(type_)} is not a Kontent.ai codename"
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _change(
    kind: str, action: str, codename: str | None, system: dict[str, Any], slot: str
) -> Change:
    """A change from the ``id``/``language``/``type`` an object's system fields name."""
    return Change(
        kind=kind,
        action=action,
        codename=codename,
        item_id=_str(system.get("id")),
        language=_str(system.get("language")),
        type=_str(system.get("type")),
        slot=slot,
    )


def _parse_v2(notifications: Any, invalid: list[str]) -> list[Change]:
    if not isinstance(notifications, list) or not notifications:
        raise WebhookError("webhook 'notifications' must be a non-empty list")
    changes: list[Change] = []
    for n, entry in enumerate(notifications):
        where = f"notifications[{n}]"
        if not isinstance(entry, dict):
            raise WebhookError(f"webhook {where} must be an object")
        message = entry.get("message")
        data = entry.get("data")
        if not isinstance(message, dict) or not isinstance(data, dict):
            raise WebhookError(f"webhook {where} needs 'message' and 'data' objects")
        system = data.get("system")
        if not isinstance(system, dict):
            raise WebhookError(f"webhook {where}.data.system must be an object")
        object_type = _str(message.get("object_type")) or _str(entry.get("object_type"))
        action = _str(message.get("action"))
        if not object_type or not action:
            raise WebhookError(f"webhook {where}.message needs 'object_type' and 'action'")
        slot = _str(message.get("delivery_slot")) or "published"
        if slot not in ("published", "preview"):
            raise WebhookError(f"webhook {where}.message.delivery_slot {slot!r} is unknown")
        kind = _V2_KINDS.get(object_type, "unknown")
        codename = _str(system.get("codename"))
        if kind in ("item", "taxonomy") and not codename:
            raise WebhookError(f"webhook {where}.data.system.codename is missing")
        if kind == "language":  # the codename of a language: the language grammar
            problem = _invalid_names(f"{where}.data.system", None, codename, None)
        else:
            problem = _invalid_names(
                f"{where}.data.system",
                codename if kind in ("item", "taxonomy", "type") else None,
                system.get("language") if kind == "item" else None,
                system.get("type") if kind == "item" else None,
            )
        if problem is not None:
            invalid.append(problem)
            continue
        changes.append(_change(kind, action, codename, system, slot))
    return changes


def _parse_legacy(
    message: dict[str, Any], data: dict[str, Any], invalid: list[str]
) -> list[Change]:
    msg_type = _str(message.get("type"))
    operation = _str(message.get("operation"))
    if not msg_type or not operation:
        raise WebhookError("legacy webhook 'message' needs 'type' and 'operation'")
    api_name = _str(message.get("api_name")) or "delivery_production"
    slot = _LEGACY_SLOTS.get(api_name, "published")
    kind = _LEGACY_KINDS.get(msg_type, "unknown")
    items = data.get("items") or []
    taxonomies = data.get("taxonomies") or []
    if not isinstance(items, list) or not isinstance(taxonomies, list):
        raise WebhookError("legacy webhook 'data.items' and 'data.taxonomies' must be lists")
    changes: list[Change] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise WebhookError(f"legacy webhook data.items[{n}] must be an object")
        if isinstance(item.get("item"), dict):
            # Workflow notification: ids only (item and language), no codenames.
            item_id = _str(item["item"].get("id"))
            if not item_id:
                raise WebhookError(f"legacy webhook data.items[{n}].item.id is missing")
            changes.append(Change("item", operation, item_id=item_id, slot=slot))
            continue
        codename = _str(item.get("codename"))
        if not codename:
            raise WebhookError(f"legacy webhook data.items[{n}].codename is missing")
        problem = _invalid_names(
            f"legacy webhook data.items[{n}]", codename, item.get("language"), item.get("type")
        )
        if problem is not None:
            invalid.append(problem)
            continue
        changes.append(_change("item", operation, codename, item, slot))
    for n, taxonomy in enumerate(taxonomies):
        if not isinstance(taxonomy, dict) or not _str(taxonomy.get("codename")):
            raise WebhookError(f"legacy webhook data.taxonomies[{n}] needs a 'codename'")
        problem = _invalid_names(
            f"legacy webhook data.taxonomies[{n}]", taxonomy["codename"], None, None
        )
        if problem is not None:
            invalid.append(problem)
            continue
        changes.append(
            Change(
                kind="taxonomy",
                action=operation,
                codename=taxonomy["codename"],
                item_id=_str(taxonomy.get("id")),
                slot=slot,
            )
        )
    if not changes and kind in ("type", "language", "unknown", "asset"):
        changes.append(Change(kind=kind, action=operation, slot=slot))
    elif kind in ("type", "language"):
        # A model change can alter every page; the listed items are not enough.
        changes.append(Change(kind=kind, action=operation, slot=slot))
    return changes


_SYNC_KINDS = {"items": "item", "taxonomies": "taxonomy", "types": "type", "languages": "language"}


def changes_from_sync(batch: dict[str, Any], *, slot: str = "published") -> list[Change]:
    """The changes a Sync API v2 batch names (``change_type`` becomes the action).

    A Sync delta is "similar to a webhook notification" (metadata only), so it becomes the
    same :class:`Change` and goes through the same incremental path.
    """
    changes: list[Change] = []
    for key, kind in _SYNC_KINDS.items():
        for n, delta in enumerate(batch.get(key) or []):
            system = delta.get("data", {}).get("system") if isinstance(delta, dict) else None
            if not isinstance(system, dict):
                raise WebhookError(f"Sync API delta {key}[{n}] has no data.system object")
            changes.append(
                Change(
                    kind=kind,
                    action=_str(delta.get("change_type")) or "changed",
                    codename=_str(system.get("codename")),
                    item_id=_str(system.get("id")),
                    language=_str(system.get("language")) if kind == "item" else None,
                    type=_str(system.get("type")) if kind == "item" else None,
                    slot=slot,
                )
            )
    return changes


def changes_to_json(changes: list[Change]) -> str:
    """Serialise changes for the durable queue."""
    return json.dumps([asdict(c) for c in changes], sort_keys=True)


def changes_from_json(text: str) -> list[Change]:
    """Inverse of :func:`changes_to_json`."""
    return [Change(**entry) for entry in json.loads(text)]
