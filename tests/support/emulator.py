"""A real HTTP server that speaks the Kontent.ai Delivery API, serving a :class:`Snapshot`.

Why: the crawler, the incremental builder and the benchmarks must be tested over real HTTP
(keep-alive, concurrency, headers, faults), not against mocks. The emulator is used by the
integration tests, by ``bench/`` and by ``python -m tests.support.emulator SNAPSHOT_DIR`` (run
from the repository root) for offline template work. It is test support: kontent-ssg does not
ship it. See docs/EMULATOR.md.

URL layout (``emu.url`` is what goes into ``delivery_url``)::

    {url}/{env}/items-feed            {url}/{env}/items/{codename}
    {url}/{env}/types                 {url}/{env}/taxonomies[/{codename}]
    {url}/{env}/languages
    POST {url}/v2/{env}/sync/init     GET {url}/v2/{env}/sync       (Sync API v2)

These are the requests kontent-ssg makes, and only those: no ``/items`` listing, no query
filters, ordering or ``elements`` projection.

Asset files (the asset CDN, for ``[site] download_assets``)::

    GET {url}/assets/{env}/{file id}/{file name}      emu.asset_url(file_id, name)

answer with the bytes registered in ``asset_files`` (path -> bytes, or None: 404), else with a
file generated from the content's own metadata for that URL (an asset element value or a
rich-text image: its name, width and height; see ``tests/support/assets.py``),
deterministic, so the size an asset element states is the size served. ``asset_faults`` (a
:class:`Faults`, counted over asset requests alone) injects 429/5xx/dropped connections
there; ``asset_log`` lists the asset paths requested, with the status answered.

``emu.preview_url`` is ``{url}/preview`` (the same paths below it): it serves the preview
content (``preview_snapshot``, else the published one) and, when ``preview_key`` is set,
demands ``Authorization: Bearer <preview_key>``. The published paths demand
``Bearer <secure_key>`` when ``secure_key`` is set and ignore the header otherwise.

Language fallbacks. ``snapshot.items[L]`` is served as the items-feed of ``L``. A snapshot may
instead list only the variants translated into ``L`` (hand-written content); the emulator then
adds fallback variants itself: for every item codename known in any language it serves the first
variant found along the chain ``L -> fallbacks[L] -> fallbacks[fallbacks[L]] -> ... -> default
language`` (``fallbacks`` is the emulator's own setting, like the fallback configuration of a
real environment, which the Delivery API applies without exposing it; when a language has no
entry, the chain is inferred from the fallback variants its item list already holds, else it
goes straight to the default language). Items already in ``items[L]`` keep their order; added
fallback variants follow, in the order the items first appear across languages (default
language first). A list that already holds fallback variants (``system.language != L``) and has
no ``fallbacks`` entry is taken as a crawled feed and served exactly as it is; items upserted
later are still added along the chain. Serving a snapshot folder (:meth:`Emulator.from_folder`,
the command line) takes the fallbacks from the ``fallbacks`` key of the folder's
``manifest.json``, which kontent-ssg itself ignores.

Feed ``modular_content`` holds only components (those reachable from the page's items, nested
ones included); ``/items/{codename}`` adds linked items up to ``depth`` (default 1; components
never count against depth, as the reference says).

Fault injection (:class:`Faults`) is counted by request number (the n-th request the server
reads, from 1), so a test that sends requests one at a time sees the same faults every run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from kontent_ssg.content.snapshot import Snapshot, load_snapshot, loads_json
from kontent_ssg.content.webhooks import sign_webhook
from kontent_ssg.errors import KontentSSGError

__all__ = [
    "DEFAULT_ENVIRONMENT_ID",
    "Emulator",
    "Faults",
    "RequestRecord",
    "WebhookChange",
    "WebhookDelivery",
    "build_webhook_body",
    "error_body",
    "folder_fallbacks",
    "sign_webhook",
    "signature_header",
]

JSON = dict[str, Any]

DEFAULT_ENVIRONMENT_ID = "6f1c2e0a-5b7d-4e8f-9a3b-0c4d5e6f7a81"

# Headers copied into the request log (lower-case names).
LOGGED_HEADERS = (
    "authorization",
    "x-continuation",
    "x-kc-wait-for-loading-new-content",
    "x-kc-sdkid",
    "user-agent",
)

# Delivery API error codes as they appear in real error bodies (401 fixture: error_code 3;
# 429 fixture: 10000). The others are this emulator's choice; clients must rely on the status.
_ERR_BAD_REQUEST = 1
_ERR_UNAUTHORIZED = 3
_ERR_NOT_FOUND = 100
_ERR_PROJECT_NOT_FOUND = 105
_ERR_RATE_LIMIT = 10000
_ERR_SERVER = 500

_UNAUTHORIZED_MESSAGE = (
    "Missing or invalid access token. Please include the valid access token value in the "
    "Authorization header field as an HTTP bearer authorization scheme."
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _now() -> str:
    """An ISO-8601 UTC timestamp with seven fractional digits, as Kontent.ai writes them."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


def error_body(status: int, message: str, *, request_id: str = "", error_code: int = 0) -> bytes:
    """An error body in the Delivery API's shape (message, request_id, error_code,
    specific_code), as the real 401/404 responses carry it."""
    del status  # the shape does not depend on it; kept for call-site clarity
    return _dumps(
        {
            "message": message,
            "request_id": request_id,
            "error_code": error_code,
            "specific_code": 0,
        }
    )


# --------------------------------------------------------------------------------------------
# Webhooks: signatures and payload bodies (pure; usable by tests to craft webhooks)
# --------------------------------------------------------------------------------------------


def signature_header(webhook_format: str) -> str:
    """The header that carries the signature for ``"current"`` or ``"legacy"`` bodies."""
    if webhook_format == "current":
        return "X-Kontent-ai-Signature"
    if webhook_format == "legacy":
        return "X-KC-Signature"
    raise ValueError(f"unknown webhook format {webhook_format!r} (current or legacy)")


@dataclass(frozen=True)
class WebhookChange:
    """One change, as a webhook notification describes it.

    ``object_type``: ``content_item``, ``taxonomy``, ``content_type`` or ``language``;
    ``action``: the current format's action (``published``, ``unpublished``, ``created``,
    ``changed``, ``deleted``); ``system``: the entity's system object; ``delivery_slot``:
    ``published`` or ``preview``.
    """

    object_type: str
    action: str
    system: Mapping[str, Any]
    delivery_slot: str = "published"


# current action -> legacy operation, per slot
_LEGACY_OPERATIONS = {
    ("content_item", "published"): ("content_item_variant", "publish"),
    ("content_item", "unpublished"): ("content_item_variant", "unpublish"),
    ("content_item", "created"): ("content_item_variant", "create"),
    ("content_item", "changed"): ("content_item_variant", "upsert"),
    ("content_item", "deleted"): ("content_item_variant", "archive"),
    ("taxonomy", "created"): ("taxonomy", "upsert"),
    ("taxonomy", "changed"): ("taxonomy", "upsert"),
    ("taxonomy", "deleted"): ("taxonomy", "archive"),
    ("content_type", "created"): ("content_type", "upsert"),
    ("content_type", "changed"): ("content_type", "upsert"),
    ("content_type", "deleted"): ("content_type", "archive"),
    ("language", "created"): ("language", "upsert"),
    ("language", "changed"): ("language", "upsert"),
    ("language", "deleted"): ("language", "archive"),
}


def build_webhook_body(
    changes: Sequence[WebhookChange],
    *,
    webhook_format: str = "current",
    environment_id: str = DEFAULT_ENVIRONMENT_ID,
    webhook_url: str = "",
    message_id: str | None = None,
    timestamp: str | None = None,
) -> bytes:
    """The raw JSON body Kontent.ai would POST for ``changes`` (compact, UTF-8).

    current: one notification per change. legacy: one message for the whole batch; its
    ``type``/``operation``/``api_name`` come from the first change (Kontent.ai sends one legacy
    body per operation), items go to ``data.items``, taxonomy groups to ``data.taxonomies``.
    """
    if not changes:
        raise ValueError("a webhook needs at least one change")
    if webhook_format == "current":
        notifications = []
        for change in changes:
            notifications.append(
                {
                    "data": {"system": dict(change.system)},
                    "message": {
                        "environment_id": environment_id,
                        "object_type": change.object_type,
                        "action": change.action,
                        "delivery_slot": change.delivery_slot,
                    },
                }
            )
        return _dumps({"notifications": notifications})
    if webhook_format != "legacy":
        raise ValueError(f"unknown webhook format {webhook_format!r} (current or legacy)")
    first = changes[0]
    legacy_type, operation = _LEGACY_OPERATIONS.get(
        (first.object_type, first.action), (first.object_type, first.action)
    )
    items: list[JSON] = []
    taxonomies: list[JSON] = []
    for change in changes:
        system = change.system
        if change.object_type == "taxonomy":
            taxonomies.append({"id": system.get("id"), "codename": system.get("codename")})
        elif change.object_type == "content_item":
            entry = {"id": system.get("id"), "codename": system.get("codename")}
            for key in ("collection", "language", "type"):
                if key in system:
                    entry[key] = system[key]
            items.append(entry)
        else:
            items.append({"id": system.get("id"), "codename": system.get("codename")})
    body = {
        "data": {"items": items, "taxonomies": taxonomies},
        "message": {
            "id": message_id or str(uuid.uuid4()),
            "project_id": environment_id,
            "type": legacy_type,
            "operation": operation,
            "api_name": "delivery_preview"
            if first.delivery_slot == "preview"
            else "delivery_production",
            "created_timestamp": timestamp or _now(),
            "webhook_url": webhook_url,
        },
    }
    return _dumps(body)


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook the emulator POSTed: what, and what the receiver answered."""

    webhook_format: str
    body: bytes
    headers: Mapping[str, str]
    status: int | None
    error: str | None = None


# --------------------------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Deterministic misbehaviour, keyed on the request number ``n`` (1-based).

    A fault fires when ``n % every == 0`` (0 = never). Precedence when several match one
    request: down, dropped connection, 5xx, 429. ``delay`` applies to every answer.
    """

    rate_limit_every: int = 0  # 429 with Retry-After every Nth request
    retry_after: int = 1  # seconds, the Retry-After header of those 429s
    server_error_every: int = 0  # a 5xx every Mth request
    server_error_status: int = 503
    drop_every: int = 0  # close the connection without answering, every Kth request
    delay: float = 0.0  # seconds slept before every answer
    malformed_json: str | None = None  # regex on path+query: answer 200 with broken JSON
    garbage_continuation: bool = False  # items-feed answers a token it will then reject (400)
    down: bool = False  # refuse everything: connections are closed unanswered


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator read (faulted ones included)."""

    number: int
    method: str
    path: str  # path + query, as sent
    headers: Mapping[str, str]  # LOGGED_HEADERS that were present, lower-case names
    status: int | None  # None: dropped without an answer


# --------------------------------------------------------------------------------------------
# Content state of one delivery slot
# --------------------------------------------------------------------------------------------


def _refs(item: JSON) -> Iterable[str]:
    """Codenames an item points to: linked items elements and rich text objects, in order."""
    elements = item.get("elements")
    if not isinstance(elements, dict):
        return
    for element in elements.values():
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind == "modular_content":
            value = element.get("value")
            if isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
        elif kind == "rich_text":
            value = element.get("modular_content")
            if isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))


def _codename(entity: JSON) -> str:
    return str(entity["system"]["codename"])


class _Feed:
    """The items-feed of one language with its pages serialised on demand."""

    def __init__(self, items: list[JSON], page_size: int, content: _Content, language: str):
        self.items = items
        self.page_size = max(1, page_size)
        self.content = content
        self.language = language
        self.pages: dict[int, bytes] = {}
        self.lock = threading.Lock()
        self._leftover: dict[str, JSON] | None = None

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self.items) // self.page_size))

    def page(self, index: int) -> bytes:
        with self.lock:
            cached = self.pages.get(index)
            if cached is not None:
                return cached
            chunk = self.items[index * self.page_size : (index + 1) * self.page_size]
            components = self.content.components_for(chunk, self.language)
            if index == self.page_count - 1:
                components.update(self._unreferenced())
            body = _dumps({"items": chunk, "modular_content": components})
            self.pages[index] = body
            return body

    def _unreferenced(self) -> dict[str, JSON]:
        """Components of the snapshot that no item of this feed reaches: served on the last
        page so that crawling the emulator gives the snapshot back unchanged."""
        if self._leftover is None:
            reached = self.content.components_for(self.items, self.language)
            self._leftover = {
                name: comp
                for name, comp in self.content.original_components.get(self.language, {}).items()
                if name not in reached
            }
        return self._leftover


class _Content:
    """What one delivery slot (published or preview) serves; mutable through the emulator."""

    def __init__(
        self,
        snapshot: Snapshot,
        fallbacks: Mapping[str, str],
        decoded: dict[bytes, JSON] | None = None,
    ) -> None:
        """``decoded`` (a component's bytes -> the component) is shared by the slots."""
        self.default_language = snapshot.default_language
        self.language_objects: list[JSON] = [dict(x) for x in snapshot.languages]
        self.types: dict[str, JSON] = {_codename(t): t for t in snapshot.types}
        self.taxonomies: dict[str, JSON] = {_codename(t): t for t in snapshot.taxonomies}
        self.fallbacks = dict(fallbacks)
        languages = snapshot.language_codenames
        # own[M][codename]: the variant translated into M
        self.own: dict[str, dict[str, JSON]] = {lang: {} for lang in languages}
        self.components: dict[str, dict[str, JSON]] = {lang: {} for lang in languages}
        self.original_components: dict[str, dict[str, JSON]] = {}
        self.order: dict[str, list[str]] = {}
        self.global_order: dict[str, None] = {}
        observed: dict[str, list[str]] = {}
        orphans: list[JSON] = []
        # pinned[L][codename]: the fallback variant items[L] held, served as it was until its
        # own-language variant changes (captured feeds need not agree across languages).
        pinned: dict[str, dict[str, JSON]] = {}
        decoded = {} if decoded is None else decoded
        for lang in languages:
            lang_items = snapshot.items[lang]
            self.order[lang] = [_codename(i) for i in lang_items.items]
            for item in lang_items.items:
                item_lang = item["system"].get("language") or lang
                if item_lang == lang:
                    self.own[lang][_codename(item)] = item
                    self.global_order.setdefault(_codename(item), None)
                else:
                    seen = observed.setdefault(lang, [])
                    if item_lang not in seen:
                        seen.append(item_lang)
                    orphans.append(item)
                    pinned.setdefault(lang, {})[_codename(item)] = item
            # Decoded once (the snapshot keeps components as bytes, equal ones of two
            # languages once): every table shares the decoded component. Keyed by the bytes,
            # not their id(): raw_items() may give fresh bytes objects (a loaded snapshot's
            # components are slots of one buffer), whose ids are reused once freed.
            self.original_components[lang] = {
                name: decoded.get(data) or decoded.setdefault(data, loads_json(data))
                for name, data in lang_items.modular_content.raw_items()
            }
            for name, comp in self.original_components[lang].items():
                comp_lang = (comp.get("system") or {}).get("language") or lang
                self.components.setdefault(comp_lang, {}).setdefault(name, comp)
        # A fallback variant whose own language list lacks it is still the variant to serve.
        for item in orphans:
            self.own.setdefault(item["system"]["language"], {}).setdefault(_codename(item), item)
        self.observed = observed
        self.pinned = {
            lang: {
                name: (item, self.own[item["system"]["language"]][name])
                for name, item in table.items()
            }
            for lang, table in pinned.items()
        }
        # A list that already holds fallback variants is a crawled feed: served as it is (plus
        # items added later); a list without them gets fallback variants added (module doc).
        self.complete = {
            lang: lang in observed and lang not in self.fallbacks for lang in languages
        }
        self.added_order: dict[str, None] = {}
        self.version = 0
        self.lock = threading.RLock()
        self._effective: dict[str, tuple[list[JSON], dict[str, JSON]]] = {}
        self._feeds: dict[tuple[str, int], _Feed] = {}
        self._list_cache: dict[str, bytes] = {}

    # ---- languages and fallbacks

    @property
    def language_codenames(self) -> list[str]:
        names = [self.default_language]
        for lang in list(self.order) + list(self.own):
            if lang not in names:
                names.append(lang)
        for obj in self.language_objects:
            code = obj.get("system", {}).get("codename")
            if code and code not in names:
                names.append(code)
        return names

    def chain(self, language: str) -> list[str]:
        """``language`` then its fallbacks, ending at the default language."""
        chain = [language]
        current = language
        while True:
            nxt = self.fallbacks.get(current)
            if nxt is None and current in self.observed:
                nxt = next((x for x in self.observed[current] if x not in chain), None)
            if nxt is None or nxt in chain:
                break
            chain.append(nxt)
            current = nxt
        if self.default_language not in chain:
            chain.append(self.default_language)
        return chain

    def resolve(self, codename: str, language: str) -> JSON | None:
        for lang in self.chain(language):
            found = self.own.get(lang, {}).get(codename)
            if found is not None:
                return found
        return None

    def effective(self, language: str) -> tuple[list[JSON], dict[str, JSON]]:
        """The items served for ``language`` in feed order, and an index by codename."""
        with self.lock:
            cached = self._effective.get(language)
            if cached is not None:
                return cached
            chain = self.chain(language)
            items: list[JSON] = []
            index: dict[str, JSON] = {}
            listed = self.order.get(language, [])
            extra = self.added_order if self.complete.get(language) else self.global_order
            pinned = self.pinned.get(language, {})
            for codename in [*listed, *extra]:
                if codename in index:
                    continue
                if codename in pinned and codename not in self.own.get(language, {}):
                    variant, source = pinned[codename]
                    lang = variant["system"]["language"]
                    if self.own.get(lang, {}).get(codename) is source:
                        items.append(variant)
                        index[codename] = variant
                        continue
                for lang in chain:
                    found = self.own.get(lang, {}).get(codename)
                    if found is not None:
                        items.append(found)
                        index[codename] = found
                        break
            self._effective[language] = (items, index)
            return items, index

    def component(self, codename: str, language: str) -> JSON | None:
        found = self.components.get(language, {}).get(codename)
        if found is not None:
            return found
        for table in list(self.components.values()):
            if codename in table:
                return table[codename]
        return None

    def components_for(self, items: Iterable[JSON], language: str) -> dict[str, JSON]:
        """Every component reachable from ``items`` (components nest)."""
        out: dict[str, JSON] = {}
        stack = list(items)
        while stack:
            item = stack.pop()
            item_lang = item.get("system", {}).get("language") or language
            for name in _refs(item):
                if name in out:
                    continue
                comp = self.component(name, item_lang)
                if comp is not None:
                    out[name] = comp
                    stack.append(comp)
        return out

    def linked(self, roots: Sequence[JSON], language: str, depth: int) -> dict[str, JSON]:
        """``modular_content`` for /items/{codename}: components always, linked items up to
        ``depth``."""
        _, index = self.effective(language)
        out: dict[str, JSON] = {}
        queue: deque[tuple[JSON, int]] = deque((item, 0) for item in roots)
        while queue:
            item, level = queue.popleft()
            item_lang = item.get("system", {}).get("language") or language
            for name in _refs(item):
                if name in out:
                    continue
                comp = self.component(name, item_lang)
                if comp is not None:
                    out[name] = comp
                    queue.appendleft((comp, level))  # part of its item: no depth cost
                    continue
                if level + 1 > depth:
                    continue
                target = index.get(name)
                if target is not None:
                    out[name] = target
                    queue.append((target, level + 1))
        return out

    def feed(self, language: str, page_size: int) -> _Feed:
        key = (language, page_size)
        with self.lock:
            found = self._feeds.get(key)
            if found is None:
                found = _Feed(self.effective(language)[0], page_size, self, language)
                self._feeds[key] = found
            return found

    def cached(self, key: str, build: Any) -> bytes:
        with self.lock:
            found = self._list_cache.get(key)
            if found is None:
                found = build()
                self._list_cache[key] = found
            return found

    def invalidate(self) -> None:
        with self.lock:
            self.version += 1
            self._effective.clear()
            self._feeds.clear()
            self._list_cache.clear()

    # ---- mutations

    def upsert_item(self, variant: JSON, components: Mapping[str, JSON] | None) -> bool:
        """Store a variant in its own language; True when it is new in that language."""
        lang = variant["system"]["language"]
        codename = _codename(variant)
        with self.lock:
            table = self.own.setdefault(lang, {})
            created = codename not in table
            table[codename] = variant
            self.global_order.setdefault(codename, None)
            self.added_order.setdefault(codename, None)
            for name, comp in (components or {}).items():
                comp_lang = (comp.get("system") or {}).get("language") or lang
                self.components.setdefault(comp_lang, {})[name] = comp
            self.invalidate()
        return created

    def delete_item(self, codename: str, language: str) -> JSON | None:
        with self.lock:
            removed = self.own.get(language, {}).pop(codename, None)
            if removed is not None:
                self.invalidate()
            return removed


# --------------------------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------------------------


class _BadQuery(ValueError):
    """A request the API refuses with a 400 (an unknown language, a bad number)."""


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadQuery(f"query parameter {name!r} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise _BadQuery(f"query parameter {name!r} must not be negative")
    return value


# --------------------------------------------------------------------------------------------
# The HTTP side
# --------------------------------------------------------------------------------------------


class _Answer:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


_DROP = object()

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer are normal here (timeouts, fault tests)."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        faults = self.emulator.faults
        if faults is not None and faults.down:
            self.emulator._note_refused()
            return False
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kontent-ssg-emulator"
    disable_nagle_algorithm = True
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        answer = self.server.emulator._handle(self.command, self.path, self.headers)
        if answer is _DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        assert isinstance(answer, _Answer)
        lines = [f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Status')}"]
        headers = {"Content-Type": "application/json; charset=utf-8", **answer.headers}
        headers["Content-Length"] = str(len(answer.body))
        if self.close_connection:
            headers["Connection"] = "close"
        for name, value in headers.items():
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + answer.body)


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

RecordedPages = Sequence[tuple[Any, str | None]]


class Emulator:
    """A Delivery API on 127.0.0.1 (ephemeral port) serving ``snapshot``; a context manager.

    ``fallbacks`` ({language: fallback language}) is the environment's fallback setting
    (module docstring). ``recorded_feed`` ({language: [(body, response_token_or_None), ...]})
    replays captured items-feed pages with their real continuation tokens: the first request
    (no token) gets page 1, a request carrying page n's token gets page n+1, any other token
    a 400.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        environment_id: str = DEFAULT_ENVIRONMENT_ID,
        page_size: int = 100,
        fallbacks: Mapping[str, str] | None = None,
        secure_key: str | None = None,
        preview_key: str | None = None,
        preview_snapshot: Snapshot | None = None,
        faults: Faults | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_format: str = "current",
        recorded_feed: Mapping[str, RecordedPages] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        sync_page_size: int = 500,
        preserialise: bool = True,
    ) -> None:
        if webhook_format not in ("current", "legacy", "both"):
            raise ValueError("webhook_format must be 'current', 'legacy' or 'both'")
        self.environment_id = environment_id
        self.page_size = page_size
        self.secure_key = secure_key
        self.preview_key = preview_key
        self.faults = faults
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_format = webhook_format
        self.sync_page_size = sync_page_size
        self.preserialise = preserialise
        self.snapshot = snapshot
        self.fallbacks = dict(fallbacks or {})
        decoded: dict[bytes, JSON] = {}  # components decoded once for both slots
        self._slots = {
            "published": _Content(snapshot, self.fallbacks, decoded),
            "preview": _Content(
                preview_snapshot if preview_snapshot is not None else snapshot,
                self.fallbacks,
                decoded,
            ),
        }
        self._recorded = {k: list(v) for k, v in (recorded_feed or {}).items()}
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._bound_port = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._requests = 0
        self._refused = 0
        self._accepted = 0
        self._log: list[RequestRecord] = []
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._changes: list[tuple[int, str, str, tuple[str, ...], str, str, JSON]] = []
        self._change_seq = 0
        self.webhooks_sent: list[WebhookDelivery] = []
        # Exceptions raised while answering (emulator bugs, answered with a 500).
        self.internal_errors: list[BaseException] = []
        # The asset CDN (module docstring).
        self.asset_files: dict[str, bytes | None] = {}
        self.asset_faults: Faults | None = None
        self.asset_log: list[tuple[str, int | None]] = []
        self._asset_requests = 0
        self._asset_index: tuple[int, dict[str, tuple[str, int | None, int | None]]] | None = None

    @classmethod
    def from_folder(cls, folder: Path, **options: Any) -> Emulator:
        """An emulator serving the snapshot saved in ``folder``, with the ``fallbacks`` of its
        manifest unless ``options`` gives them."""
        options.setdefault("fallbacks", folder_fallbacks(folder))
        return cls(load_snapshot(folder), **options)

    # ---- lifecycle

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        if self.preserialise:
            self.warm()
        # A restart binds the port it had, so ``url`` stays valid across stop()/start().
        server = _Server((self._host, self._bound_port or self._port), _Handler)
        server.emulator = self
        self._bound_port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.name = f"kontent-emulator:{server.server_address[1]}"
        self._thread.start()
        return self

    def warm(self) -> None:
        """Serialise every page of the published, unfiltered items-feeds now, so that a crawl
        measures HTTP and the client rather than this server's ``json.dumps``."""
        content = self._slots["published"]
        for language in content.language_codenames:
            if language in self._recorded:
                continue
            feed = content.feed(language, self.page_size)
            for index in range(feed.page_count):
                feed.page(index)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            open_connections = list(self._connections)
        for conn in open_connections:  # idle keep-alive connections must not outlive us
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._bound_port:
            raise RuntimeError("the emulator has not been started; call start() first")
        return self._bound_port

    @property
    def url(self) -> str:
        """The Delivery API base: ``delivery_url`` (requests go to ``{url}/{env}/...``)."""
        return f"http://{self._host}:{self.port}"

    @property
    def preview_url(self) -> str:
        """The Preview API base: ``preview_url``."""
        return f"{self.url}/preview"

    def asset_url(self, file_id: str, name: str) -> str:
        """The URL of an asset file on this emulator's asset CDN."""
        return f"{self.url}/assets/{self.environment_id}/{file_id}/{name}"

    @property
    def request_count(self) -> int:
        """Requests read so far (faulted ones included; refused connections not)."""
        with self._lock:
            return self._requests

    @property
    def refused_count(self) -> int:
        """Connections closed unanswered because the emulator was ``down``."""
        with self._lock:
            return self._refused

    @property
    def connection_count(self) -> int:
        """Connections accepted and served so far (keep-alive reuses one for many requests)."""
        with self._lock:
            return self._accepted

    @property
    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        """Forget the request log (the request counter, which drives faults, keeps going)."""
        with self._lock:
            self._log.clear()

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(conn)
                self._accepted += 1
            else:
                self._connections.discard(conn)

    def _note_refused(self) -> None:
        with self._lock:
            self._refused += 1

    # ---- content changes

    def upsert_item(
        self,
        variant: JSON,
        *,
        components: Mapping[str, JSON] | None = None,
        slot: str = "published",
    ) -> None:
        """Publish ``variant`` (in its ``system.language``); ``components`` are the components
        its rich text holds. ``slot="published"`` changes published and preview content;
        ``"preview"`` only preview. Records a Sync delta and sends webhooks."""
        self._check_slot(slot)
        targets = ["published", "preview"] if slot == "published" else ["preview"]
        created = False
        for name in targets:
            created = self._slots[name].upsert_item(variant, components) or created
        system = variant["system"]
        key = (system["codename"], system["language"])
        for name in targets:
            self._record_change(name, "items", key, "changed", system)
        action = "published" if slot == "published" else ("created" if created else "changed")
        self._notify(WebhookChange("content_item", action, _webhook_system(system), slot))

    def delete_item(self, codename: str, language: str, *, slot: str = "published") -> None:
        """Unpublish (``slot="published"``: gone from published content only) or delete
        (``"preview"``: gone from both) the variant of ``codename`` in ``language``."""
        self._check_slot(slot)
        targets = ["published"] if slot == "published" else ["published", "preview"]
        removed: JSON | None = None
        for name in targets:
            removed = self._slots[name].delete_item(codename, language) or removed
        if removed is None:
            raise KeyError(f"no variant of {codename!r} in {language!r} to delete")
        system = removed["system"]
        for name in targets:
            self._record_change(name, "items", (codename, language), "deleted", system)
        action = "unpublished" if slot == "published" else "deleted"
        self._notify(WebhookChange("content_item", action, _webhook_system(system), slot))

    def upsert_taxonomy(self, group: JSON) -> None:
        """Add or replace a taxonomy group (both slots); Sync delta and webhooks."""
        self._upsert_entity("taxonomies", "taxonomy", group)

    def delete_taxonomy(self, codename: str) -> None:
        self._delete_entity("taxonomies", "taxonomy", codename, "no taxonomy group")

    def upsert_type(self, content_type: JSON) -> None:
        """Add or replace a content type (both slots); Sync delta and webhooks."""
        self._upsert_entity("types", "content_type", content_type)

    def delete_type(self, codename: str) -> None:
        self._delete_entity("types", "content_type", codename, "no content type")

    def _upsert_entity(self, table: str, object_type: str, entity: JSON) -> None:
        """Taxonomy groups and types change the same way: in both slots, with a Sync delta
        per slot and one webhook."""
        codename = _codename(entity)
        created = False
        for name, content in self._slots.items():
            with content.lock:
                entities = getattr(content, table)
                created = codename not in entities
                entities[codename] = entity
                content.invalidate()
            self._record_change(name, table, (codename,), "changed", entity["system"])
        action = "created" if created else "changed"
        self._notify(WebhookChange(object_type, action, dict(entity["system"])))

    def _delete_entity(self, table: str, object_type: str, codename: str, missing: str) -> None:
        removed = None
        for name, content in self._slots.items():
            with content.lock:
                removed = getattr(content, table).pop(codename, None) or removed
                content.invalidate()
            if removed is not None:
                self._record_change(name, table, (codename,), "deleted", removed["system"])
        if removed is None:
            raise KeyError(f"{missing} {codename!r}")
        self._notify(WebhookChange(object_type, "deleted", dict(removed["system"])))

    @staticmethod
    def _check_slot(slot: str) -> None:
        if slot not in ("published", "preview"):
            raise ValueError(f"slot must be 'published' or 'preview', got {slot!r}")

    def _record_change(
        self, slot: str, kind: str, key: tuple[str, ...], change_type: str, system: JSON
    ) -> None:
        with self._lock:
            self._change_seq += 1
            self._changes.append(
                (self._change_seq, slot, kind, key, change_type, _now(), dict(system))
            )

    def _notify(self, change: WebhookChange) -> None:
        if not self.webhook_url:
            return
        formats = ["current", "legacy"] if self.webhook_format == "both" else [self.webhook_format]
        for fmt in formats:
            self.send_webhook([change], webhook_format=fmt)

    def send_webhook(
        self, changes: Sequence[WebhookChange], *, webhook_format: str | None = None
    ) -> WebhookDelivery:
        """POST a signed webhook for ``changes`` to ``webhook_url`` and wait for the answer.

        Never raises for a receiver that is down or failing: the outcome is recorded in
        :attr:`webhooks_sent` (and returned)."""
        import httpx

        if not self.webhook_url:
            raise RuntimeError("no webhook_url configured")
        fmt = webhook_format or (
            "current" if self.webhook_format == "both" else self.webhook_format
        )
        body = build_webhook_body(
            changes,
            webhook_format=fmt,
            environment_id=self.environment_id,
            webhook_url=self.webhook_url,
        )
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret is not None:
            headers[signature_header(fmt)] = sign_webhook(body, self.webhook_secret)
        status: int | None = None
        error: str | None = None
        try:
            with httpx.Client(trust_env=False, timeout=30) as client:  # never via a proxy
                response = client.post(self.webhook_url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = WebhookDelivery(fmt, body, headers, status, error)
        with self._lock:
            self.webhooks_sent.append(delivery)
        return delivery

    # ---- request handling

    def _handle(self, method: str, raw_path: str, headers: Any) -> _Answer | object:
        if raw_path.startswith("/assets/"):
            return self._asset(method, raw_path)
        with self._lock:
            self._requests += 1
            number = self._requests
        faults = self.faults
        answer: _Answer | object | None = _fault(faults, number) if faults is not None else None
        if answer is None:
            try:
                answer = self._route(method, raw_path, headers, number)
            except _BadQuery as exc:
                answer = _Answer(
                    400,
                    error_body(
                        400, str(exc), request_id=_request_id(number), error_code=_ERR_BAD_REQUEST
                    ),
                )
            except Exception as exc:  # an emulator bug: answer 500, keep it for the test to see
                with self._lock:
                    self.internal_errors.append(exc)
                traceback.print_exc(file=sys.stderr)
                answer = self._error(500, f"Emulator error: {exc!r}", number, _ERR_SERVER)
            if (
                faults is not None
                and faults.malformed_json
                and isinstance(answer, _Answer)
                and answer.status == 200
                and re.search(faults.malformed_json, raw_path)
            ):
                answer = _Answer(200, answer.body[: max(1, len(answer.body) // 2)], answer.headers)
        if faults is not None and faults.delay > 0:
            time.sleep(faults.delay)
        logged = {}
        for name in LOGGED_HEADERS:
            value = headers.get(name)
            if value is not None:
                logged[name] = value
        record = RequestRecord(
            number,
            method,
            raw_path,
            logged,
            answer.status if isinstance(answer, _Answer) else None,
        )
        with self._lock:
            self._log.append(record)
        return answer

    def _asset(self, method: str, raw_path: str) -> _Answer | object:
        """An asset file (module docstring), with ``asset_faults``."""
        from .assets import asset_bytes, mime_of

        with self._lock:
            self._asset_requests += 1
            number = self._asset_requests
        path = urlsplit(raw_path).path
        answer: _Answer | object | None = None
        if self.asset_faults is not None:
            answer = _fault(self.asset_faults, number)
        if answer is None:
            data = self.asset_files.get(path)
            if data is None and path not in self.asset_files:
                meta = self._asset_metadata().get(path)
                if meta is not None:
                    data = asset_bytes(*meta)
            if data is None or method not in ("GET", "HEAD"):
                answer = _Answer(404, b"not found", {"Content-Type": "text/plain"})
            else:
                name = path.rsplit("/", 1)[-1]
                answer = _Answer(200, data, {"Content-Type": mime_of(name)})
        with self._lock:
            self.asset_log.append((path, answer.status if isinstance(answer, _Answer) else None))
        return answer

    def _asset_metadata(self) -> dict[str, tuple[str, int | None, int | None]]:
        """URL path -> (file name, width, height) of every asset the published content names."""
        content = self._slots["published"]
        with content.lock:
            index = self._asset_index
            if index is not None and index[0] == content.version:
                return index[1]
            found: dict[str, tuple[str, int | None, int | None]] = {}
            entities = [v for table in content.own.values() for v in table.values()]
            entities += [c for table in content.components.values() for c in table.values()]
            for entity in entities:
                for element in (entity.get("elements") or {}).values():
                    if not isinstance(element, dict):
                        continue
                    metas = (
                        list(element.get("value") or []) if element.get("type") == "asset" else []
                    )
                    metas += list((element.get("images") or {}).values())
                    for meta in metas:
                        if isinstance(meta, dict) and isinstance(meta.get("url"), str):
                            path = urlsplit(meta["url"]).path
                            name = path.rsplit("/", 1)[-1]
                            found.setdefault(path, (name, meta.get("width"), meta.get("height")))
            self._asset_index = (content.version, found)
            return found

    def _error(self, status: int, message: str, number: int, code: int) -> _Answer:
        return _Answer(
            status, error_body(status, message, request_id=_request_id(number), error_code=code)
        )

    def _route(self, method: str, raw_path: str, headers: Any, number: int) -> _Answer:
        split = urlsplit(raw_path)
        parts = [p for p in split.path.split("/") if p]
        slot = "published"
        if parts and parts[0] == "preview":
            slot = "preview"
            parts = parts[1:]
        sync = False
        if parts and parts[0] == "v2":
            sync = True
            parts = parts[1:]
        if not parts:
            return self._error(404, "The requested resource was not found.", number, _ERR_NOT_FOUND)
        if parts[0] != self.environment_id:
            return self._error(
                404,
                f"Project with the ID '{parts[0]}' does not exist. Check for the correct "
                "environment ID in the API keys section of the UI.",
                number,
                _ERR_PROJECT_NOT_FOUND,
            )
        key = self.preview_key if slot == "preview" else self.secure_key
        if key is not None:
            auth = headers.get("authorization") or ""
            if not hmac.compare_digest(auth.encode(), f"Bearer {key}".encode()):
                return self._error(401, _UNAUTHORIZED_MESSAGE, number, _ERR_UNAUTHORIZED)
        content = self._slots[slot]
        params = parse_qsl(split.query, keep_blank_values=True)
        rest = parts[1:]
        if sync:
            return self._sync(method, rest, headers, slot, number)
        if method not in ("GET", "HEAD"):
            return self._error(
                405, f"Method {method} is not allowed here.", number, _ERR_BAD_REQUEST
            )
        if rest == ["items-feed"]:
            return self._items_feed(content, params, headers, slot, number)
        if len(rest) == 2 and rest[0] == "items":
            return self._item(content, rest[1], params, number)
        if rest and rest[0] in ("types", "taxonomies", "languages"):
            return self._listing(content, rest, params, split.path, number)
        return self._error(404, "The requested resource was not found.", number, _ERR_NOT_FOUND)

    def _language(self, content: _Content, params: Sequence[tuple[str, str]]) -> str:
        language = dict(params).get("language") or content.default_language
        if language not in content.language_codenames:
            raise _BadQuery(f"The language '{language}' does not exist in this environment.")
        return language

    # ---- items-feed

    def _items_feed(
        self,
        content: _Content,
        params: list[tuple[str, str]],
        headers: Any,
        slot: str,
        number: int,
    ) -> _Answer:
        token = headers.get("x-continuation")
        language_param = dict(params).get("language")
        if slot == "published" and self._recorded:
            pages = self._recorded.get(language_param or content.default_language)
            if pages is not None:
                return self._recorded_page(pages, token, number)
        language = self._language(content, params)
        feed = content.feed(language, self.page_size)
        index = 0
        if token:
            issued = self._tokens.get(token)
            if issued is None or issued[:3] != ("feed", slot, language):
                return self._error(
                    400, "The continuation token is invalid.", number, _ERR_BAD_REQUEST
                )
            index = int(issued[3]) // feed.page_size
        if index >= feed.page_count:
            return self._error(400, "The continuation token is invalid.", number, _ERR_BAD_REQUEST)
        answer_headers = {}
        if index + 1 < feed.page_count:
            answer_headers["X-Continuation"] = self._feed_token(
                slot, language, index + 1, feed.page_size
            )
        if self.faults is not None and self.faults.garbage_continuation:
            answer_headers["X-Continuation"] = f"+RID:~garbage{number}#RT:{index + 1}"
        return _Answer(200, feed.page(index), answer_headers)

    def _feed_token(self, slot: str, language: str, index: int, page_size: int) -> str:
        """A continuation token naming where page ``index`` starts; looks like the real ones."""
        offset = index * page_size
        digest = hashlib.sha1(f"{slot}|{language}".encode()).hexdigest()[:12]
        token = f"+RID:~{digest}#RT:{index}#TRC:{offset}"
        with self._lock:
            self._tokens[token] = ("feed", slot, language, str(offset))
        return token

    def _recorded_page(
        self, pages: list[tuple[Any, str | None]], token: str | None, number: int
    ) -> _Answer:
        if not token:
            index = 0
        else:
            index = next(
                (i + 1 for i, (_, t) in enumerate(pages) if t is not None and t == token), -1
            )
            if index < 0 or index >= len(pages):
                return self._error(
                    400, "The continuation token is invalid.", number, _ERR_BAD_REQUEST
                )
        body, next_token = pages[index]
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        else:
            raw = _dumps(body)
        return _Answer(200, raw, {"X-Continuation": next_token} if next_token else {})

    # ---- items

    def _item(
        self, content: _Content, codename: str, params: list[tuple[str, str]], number: int
    ) -> _Answer:
        language = self._language(content, params)
        depth = _int_param(dict(params), "depth", 1)
        item = content.effective(language)[1].get(codename)
        if item is None:
            return self._error(
                404,
                f"The requested content item '{codename}' was not found.",
                number,
                _ERR_NOT_FOUND,
            )
        body = {
            "item": item,
            "modular_content": content.linked([item], language, depth),
        }
        return _Answer(200, _dumps(body))

    # ---- types, taxonomies, languages

    def _listing(
        self,
        content: _Content,
        rest: list[str],
        params: list[tuple[str, str]],
        path: str,
        number: int,
    ) -> _Answer:
        kind = rest[0]
        if kind == "types":
            table = content.types
        elif kind == "taxonomies":
            table = content.taxonomies
        else:
            table = {}
            for obj in content.language_objects:
                table[obj["system"]["codename"]] = obj
            for code in content.language_codenames:
                table.setdefault(
                    code,
                    {
                        "system": {
                            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, code)),
                            "name": code,
                            "codename": code,
                        }
                    },
                )
        if len(rest) == 2 and kind == "taxonomies":
            found = table.get(rest[1])
            if found is None:
                return self._error(
                    404,
                    f"The requested taxonomy group '{rest[1]}' was not found.",
                    number,
                    _ERR_NOT_FOUND,
                )
            return _Answer(200, _dumps(found))
        if len(rest) != 1:
            return self._error(404, "The requested resource was not found.", number, _ERR_NOT_FOUND)
        single = dict(params)
        skip = _int_param(single, "skip", 0)
        limit = _int_param(single, "limit", 0)

        def build() -> bytes:
            values = list(table.values())
            page = values[skip : skip + limit] if limit else values[skip:]
            next_page = ""
            if limit and skip + limit < len(values):
                next_page = f"{self.url}{path}?" + urlencode({"skip": skip + limit, "limit": limit})
            return _dumps(
                {
                    kind: page,
                    "pagination": {
                        "skip": skip,
                        "limit": limit,
                        "count": len(page),
                        "next_page": next_page,
                    },
                }
            )

        return _Answer(200, content.cached(f"{path}|{skip}|{limit}", build))

    # ---- Sync API v2

    def _sync(self, method: str, rest: list[str], headers: Any, slot: str, number: int) -> _Answer:
        if rest == ["sync", "init"]:
            if method != "POST":
                return self._error(405, "Use POST to initialize synchronization.", number, 1)
            with self._lock:
                seq = self._change_seq
            token = self._sync_token(slot, seq)
            empty: JSON = {"items": [], "types": [], "languages": [], "taxonomies": []}
            return _Answer(200, _dumps(empty), {"X-Continuation": token})
        if rest == ["sync"]:
            if method not in ("GET", "HEAD"):
                return self._error(405, "Use GET to synchronize changes.", number, 1)
            token = headers.get("x-continuation") or ""
            issued = self._tokens.get(token)
            if issued is None or issued[0] != "sync" or issued[1] != slot:
                return self._error(
                    400, "The continuation token is missing or invalid.", number, _ERR_BAD_REQUEST
                )
            since = int(issued[2])
            with self._lock:
                pending = [c for c in self._changes if c[0] > since and c[1] == slot]
            latest: dict[tuple[str, tuple[str, ...]], tuple[str, str, JSON]] = {}
            position = since
            for seq, _, kind, key, change_type, stamp, system in pending:
                if (kind, key) not in latest and len(latest) >= self.sync_page_size:
                    break
                latest.pop((kind, key), None)  # only the last change, ordered by when it came
                latest[(kind, key)] = (change_type, stamp, system)
                position = seq
            body: JSON = {"items": [], "types": [], "languages": [], "taxonomies": []}
            for (kind, _), (change_type, stamp, system) in latest.items():
                body[kind].append(
                    {"change_type": change_type, "timestamp": stamp, "data": {"system": system}}
                )
            return _Answer(200, _dumps(body), {"X-Continuation": self._sync_token(slot, position)})
        return self._error(404, "The requested resource was not found.", number, _ERR_NOT_FOUND)

    def _sync_token(self, slot: str, seq: int) -> str:
        raw = f"sync|{slot}|{seq}|{self.environment_id}".encode()
        token = base64.urlsafe_b64encode(raw).decode("ascii")
        with self._lock:
            self._tokens[token] = ("sync", slot, str(seq))
        return token


def _fault(faults: Faults, number: int) -> _Answer | object | None:
    """The faulty answer request ``number`` gets, or None to answer it normally."""
    if faults.down or (faults.drop_every and number % faults.drop_every == 0):
        return _DROP
    if faults.server_error_every and number % faults.server_error_every == 0:
        status = faults.server_error_status
        message = "The service is temporarily unavailable (emulated fault)."
        body = error_body(status, message, request_id=_request_id(number), error_code=_ERR_SERVER)
        return _Answer(status, body)
    if faults.rate_limit_every and number % faults.rate_limit_every == 0:
        message = "API rate limit exceeded. Please retry your request later."
        body = error_body(429, message, request_id=_request_id(number), error_code=_ERR_RATE_LIMIT)
        return _Answer(429, body, {"Retry-After": str(faults.retry_after)})
    return None


def _request_id(number: int) -> str:
    return f"|emulator-{number:08d}."


def _webhook_system(system: Mapping[str, Any]) -> JSON:
    """The system object of a content item notification (no sitemap_locations)."""
    keys = (
        "id",
        "name",
        "codename",
        "collection",
        "workflow",
        "workflow_step",
        "language",
        "type",
        "last_modified",
    )
    out = {k: system[k] for k in keys if k in system}
    out.setdefault("collection", "default")
    out.setdefault("workflow", "default")
    out.setdefault("workflow_step", "published")
    return out


def folder_fallbacks(folder: Path) -> dict[str, str]:
    """The ``fallbacks`` key of a snapshot folder's ``manifest.json`` ({} when there is none).

    kontent-ssg never writes or reads that key (the Delivery API applies fallbacks itself);
    a hand-made snapshot, such as the example site's, keeps it for the emulator."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # load_snapshot reports a missing or broken manifest in its own words
    fallbacks = manifest.get("fallbacks") if isinstance(manifest, dict) else None
    if not isinstance(fallbacks, dict):
        return {}
    return {str(k): str(v) for k, v in fallbacks.items()}


def _fallback_arg(value: str) -> tuple[str, str]:
    language, sep, fallback = value.partition("=")
    if not sep or not language or not fallback:
        raise argparse.ArgumentTypeError(
            f"expected LANGUAGE=FALLBACK (e.g. es-ES=en-US), got {value!r}"
        )
    return language, fallback


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.support.emulator SNAPSHOT_DIR``: serve a snapshot for offline work."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.emulator",
        description="Serve a content snapshot as a Kontent.ai Delivery API on localhost "
        "(run from the repository root).",
    )
    parser.add_argument("snapshot", help="snapshot folder (e.g. SITE/.kontent-ssg/snapshot)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument(
        "--page-size", type=int, default=100, help="items per items-feed page (default: 100)"
    )
    parser.add_argument(
        "--environment-id",
        default=DEFAULT_ENVIRONMENT_ID,
        help="the environment ID requests must name, the `environment_id` of the site's "
        f"kontent.toml (default: {DEFAULT_ENVIRONMENT_ID})",
    )
    parser.add_argument(
        "--fallback",
        type=_fallback_arg,
        action="append",
        default=[],
        metavar="LANGUAGE=FALLBACK",
        help="serve FALLBACK's variant where LANGUAGE has no translation; repeatable; adds to "
        "(and overrides) the 'fallbacks' of the folder's manifest.json",
    )
    args = parser.parse_args(argv)
    folder = Path(args.snapshot)
    try:
        emulator = Emulator.from_folder(
            folder,
            fallbacks={**folder_fallbacks(folder), **dict(args.fallback)},
            environment_id=args.environment_id,
            page_size=args.page_size,
            port=args.port,
        )
    except KontentSSGError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    with emulator:
        print(f"delivery_url = {emulator.url!r}")
        print(f"preview_url  = {emulator.preview_url!r}")
        print(f"environment_id = {emulator.environment_id!r}")
        print("Ctrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
