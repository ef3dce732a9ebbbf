"""A real HTTP server that speaks (the part kontent-ssg uses of) the Management API v2.

Why: ``kontent-ssg webhooks`` and ``kontent-ssg import`` must be tested over real HTTP —
paging, retries, error bodies, faults — and an import must be shown to round-trip: what the
importer writes here, :meth:`ManagementEmulator.delivery_snapshot` hands to the Delivery
emulator (:mod:`tests.support.emulator`) as the Delivery API would serve it, and a build
against that equals the bundled one. Test support, not shipped. docs/EMULATOR.md has a section
on it; docs/MANAGEMENT.md the API facts it follows.

``emu.url`` is what goes into ``[kontent] management_url`` (``{root}/v2``); requests go to
``{url}/projects/{environment_id}/…`` with ``Authorization: Bearer <api_key>``.

Implemented (identifiers ``{ref}`` are ``<id>``, ``codename/<codename>`` or
``external-id/<external id>``):

    GET  languages | taxonomies | types | assets | items      paged: x-continuation
    GET  languages/{ref} taxonomies/{ref} types/{ref} assets/{ref} items/{ref}
    POST languages, taxonomies, types, items, assets;  PATCH languages/{ref}
    PUT  items/{ref} | assets/{ref} (upsert; by external id they create)
    POST files/{file_name}                                     binary → file reference
    GET  types/{ref}/variants                                  paged
    GET|PUT items/{ref}/variants/{lang ref};  PUT …/publish
    GET  workflows
    GET|POST webhooks-vnext;  GET|DELETE webhooks-vnext/{id};  PUT …/{id}/enable|disable
    GET  {root}/assets/{environment}/{file id}/{file name}    the asset binaries (the "CDN")

Errors in the API's shape (``{"request_id", "error_code", "message", "validation_errors"?}``):
400 for a body that is not valid (unknown element, option, term or component, a published
variant written to, a bad continuation token), 401 for a missing or wrong key, 404 for
unknown objects or environments, 405 for another method, 409 for a codename or external id
already taken; 429 with ``Retry-After`` and 5xx on demand (:class:`MapiFaults`).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import socket
import struct
import sys
import threading
import traceback
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from kontent_ssg.content.snapshot import LanguageItems, Snapshot

__all__ = [
    "DEFAULT_LANGUAGE_ID",
    "ManagementEmulator",
    "MapiFaults",
    "MapiRequest",
    "component_codename",
]

JSON = dict[str, Any]

DEFAULT_LANGUAGE_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_WORKFLOW_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_COLLECTION_ID = "00000000-0000-0000-0000-000000000000"
DRAFT_STEP_ID = "eee6db3b-545a-4785-8e86-e3772c8756f9"
PUBLISHED_STEP_ID = "c199950d-99f0-4983-b711-6c4c91624b22"
ARCHIVED_STEP_ID = "7a535a69-ad34-47f8-806a-def1fdf4d391"
_KENTICO_OBJECT = "application/kenticocloud"

# Error codes: 10000 (rate limit) and 5 (invalid body) are the documented ones; the rest are
# this emulator's (clients must go by the status).
_ERR_INVALID = 5
_ERR_UNAUTHORIZED = 3
_ERR_NOT_FOUND = 100
_ERR_CONFLICT = 109
_ERR_RATE_LIMIT = 10000
_ERR_SERVER = 500


class _Problem(Exception):
    def __init__(self, status: int, message: str, *, errors: Iterable[str] = (), code: int = 0):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors)
        self.code = code or {400: _ERR_INVALID, 404: _ERR_NOT_FOUND, 409: _ERR_CONFLICT}.get(
            status, _ERR_SERVER
        )


def _invalid(*errors: str) -> _Problem:
    return _Problem(
        400,
        "The provided request body is invalid. See the 'validation_errors' attribute for more "
        "information and specify a valid JSON object.",
        errors=errors,
    )


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


def component_codename(component_id: str) -> str:
    """The codename Delivery gives a component: its id with ``_``, ``n`` first if a digit."""
    name = component_id.replace("-", "_")
    return f"n{name}" if name[:1].isdigit() else name


@dataclass
class MapiFaults:
    """Misbehaviour on demand, by request number ``n`` (1-based, in arrival order).

    ``rate_limit_on``: those requests get 429 + ``Retry-After: retry_after``;
    ``rate_limit_every``: every Nth does. ``fail_from``: every request from that number on gets
    ``fail_status`` (a failing API), until the test replaces ``emu.faults``. ``drop_on``:
    those requests' connections are closed unanswered (after the request was carried out when
    ``drop_after_write``: the answer is lost, the change is made).
    """

    rate_limit_on: frozenset[int] = frozenset()
    rate_limit_every: int = 0
    retry_after: int = 1
    fail_from: int = 0
    fail_status: int = 503
    drop_on: frozenset[int] = frozenset()
    drop_after_write: bool = True


@dataclass(frozen=True)
class MapiRequest:
    number: int
    method: str
    path: str  # below /v2/projects/{env}/ when it is an API path, else the raw path
    status: int | None  # None: dropped


@dataclass
class _Env:
    """Everything one environment holds."""

    languages: list[JSON] = field(default_factory=list)
    taxonomies: list[JSON] = field(default_factory=list)
    types: list[JSON] = field(default_factory=list)
    items: list[JSON] = field(default_factory=list)
    assets: list[JSON] = field(default_factory=list)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # id: name, type, data
    variants: dict[tuple[str, str], JSON] = field(default_factory=dict)  # (item id, lang id)
    webhooks: list[JSON] = field(default_factory=list)


class ManagementEmulator:
    """The Management API on 127.0.0.1 (ephemeral port) for one environment; a context manager.

    A new environment holds only its default language (codename ``default``), the default
    workflow and collection, as a freshly created Kontent.ai environment does.
    """

    def __init__(
        self,
        *,
        environment_id: str = "9d1e1a0f-2b3c-4d5e-8f70-81a2b3c4d5e6",
        api_key: str = "mapi-emulator-key",
        page_size: int = 3,
        faults: MapiFaults | None = None,
    ) -> None:
        self.environment_id = environment_id
        self.api_key = api_key
        self.page_size = page_size
        self.faults = faults
        self.env = _Env(
            languages=[
                {
                    "id": DEFAULT_LANGUAGE_ID,
                    "name": "Default project language",
                    "codename": "default",
                    "is_active": True,
                    "is_default": True,
                    "fallback_language": {"id": DEFAULT_LANGUAGE_ID},
                }
            ]
        )
        self.request_log: list[MapiRequest] = []
        self.internal_errors: list[BaseException] = []
        self._requests = 0
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> ManagementEmulator:
        if self._server is None:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.emulator = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)

    def __enter__(self) -> ManagementEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._server is not None, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """``[kontent] management_url``."""
        return f"{self.root}/v2"

    @property
    def request_count(self) -> int:
        return self._requests

    def writes(self) -> list[MapiRequest]:
        """Requests that changed something (answered 2xx, not GET)."""
        return [
            r
            for r in self.request_log
            if r.method != "GET" and r.status is not None and r.status < 300
        ]

    # ---- the Delivery view

    def delivery_snapshot(self) -> Snapshot:
        """What the Delivery API would serve now: published variants of the active languages
        (each language lists only the variants translated into it; the Delivery emulator adds
        fallbacks), their components, the types, taxonomy groups and languages."""
        with self._lock:
            return _Delivery(self).snapshot()

    def delivery_fallbacks(self) -> dict[str, str]:
        """{language codename: fallback codename} for the Delivery emulator's ``fallbacks``."""
        with self._lock:
            by_id = {lang["id"]: lang["codename"] for lang in self.env.languages}
            return {
                lang["codename"]: by_id[lang["fallback_language"]["id"]]
                for lang in self.env.languages
                if not lang.get("is_default") and lang.get("fallback_language")
            }

    def asset_url(self, file_id: str, file_name: str) -> str:
        return f"{self.root}/assets/{self.environment_id}/{file_id}/{quote(file_name)}"

    # ---- HTTP

    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Answer | None:
        with self._lock:
            self._requests += 1
            number = self._requests
        faults = self.faults
        path = urlsplit(raw_path).path
        prefix = f"/v2/projects/{self.environment_id}"
        shown = path[len(prefix) + 1 :] if path.startswith(prefix + "/") else path
        answer: _Answer | None
        drop = faults is not None and number in faults.drop_on
        if faults is not None and faults.fail_from and number >= faults.fail_from:
            answer = _error_answer(
                faults.fail_status,
                "The service is temporarily unavailable (emulated fault).",
                number,
                _ERR_SERVER,
            )
        elif faults is not None and (
            number in faults.rate_limit_on
            or (faults.rate_limit_every and number % faults.rate_limit_every == 0)
        ):
            answer = _error_answer(
                429,
                "API rate limit exceeded. Please retry your request later.",
                number,
                _ERR_RATE_LIMIT,
            )
            answer.headers["Retry-After"] = str(faults.retry_after)
        elif drop and not (faults is not None and faults.drop_after_write):
            answer = None
        else:
            try:
                with self._lock:
                    answer = self._route(method, path, headers, body, number)
            except _Problem as problem:
                answer = _error_answer(
                    problem.status, problem.message, number, problem.code, problem.errors
                )
            except Exception as exc:
                self.internal_errors.append(exc)
                traceback.print_exc(file=sys.stderr)
                answer = _error_answer(500, f"Emulator error: {exc!r}", number, _ERR_SERVER)
            if drop:
                answer = None
        with self._lock:
            self.request_log.append(
                MapiRequest(number, method, shown, None if answer is None else answer.status)
            )
        return answer

    def _route(self, method: str, path: str, headers: Any, body: bytes, number: int) -> _Answer:
        parts = [unquote(p) for p in path.split("/") if p]
        if len(parts) == 4 and parts[0] == "assets":
            return self._cdn(parts[1:])
        if parts[:2] != ["v2", "projects"] or len(parts) < 3:
            raise _Problem(404, "The requested resource was not found.")
        auth = headers.get("authorization") or ""
        if not hmac.compare_digest(auth.encode(), f"Bearer {self.api_key}".encode()):
            raise _Problem(
                401,
                "Missing or invalid API key. Please include the valid API key in the "
                "Authorization header field as an HTTP bearer authorization scheme.",
                code=_ERR_UNAUTHORIZED,
            )
        if parts[2] != self.environment_id:
            raise _Problem(404, f"The environment {parts[2]!r} does not exist.")
        rest = parts[3:]
        data: Any = None
        if body and headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                raise _invalid("The request body is not valid JSON.") from None
        api = _Api(self, headers, number)
        return api.dispatch(method, rest, data, body)

    def _cdn(self, parts: list[str]) -> _Answer:
        environment, file_id = parts[0], parts[1]
        found = self.env.files.get(file_id)
        if environment != self.environment_id or found is None:
            raise _Problem(404, "No such asset.")
        _, content_type, data = found
        return _Answer(200, data, {"Content-Type": content_type})


class _Answer:
    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _json_answer(status: int, value: Any) -> _Answer:
    body = b"" if value is None else json.dumps(value, ensure_ascii=False).encode("utf-8")
    return _Answer(status, body, {"Content-Type": "application/json; charset=utf-8"})


def _error_answer(
    status: int, message: str, number: int, code: int, errors: Iterable[str] = ()
) -> _Answer:
    value: JSON = {
        "request_id": f"emulator-{number:08d}",
        "error_code": code,
        "message": message,
    }
    problems = [{"message": e} for e in errors]
    if problems:
        value["validation_errors"] = problems
    return _json_answer(status, value)


# --------------------------------------------------------------------------------------------
# The API


class _Api:
    """One request against the environment (called with the emulator's lock held)."""

    def __init__(self, emulator: ManagementEmulator, headers: Any, number: int) -> None:
        self.emu = emulator
        self.env = emulator.env
        self.headers = headers
        self.number = number

    def dispatch(self, method: str, rest: list[str], data: Any, raw: bytes) -> _Answer:
        if not rest:
            raise _Problem(404, "The requested resource was not found.")
        head = rest[0]
        if head == "webhooks-vnext":
            return self.webhooks(method, rest[1:], data)
        if head == "workflows" and len(rest) == 1 and method == "GET":
            return _json_answer(200, [_DEFAULT_WORKFLOW])
        if head == "files" and len(rest) == 2 and method == "POST":
            return self.upload(rest[1], raw)
        collections = {
            "languages": self.env.languages,
            "taxonomies": self.env.taxonomies,
            "types": self.env.types,
            "items": self.env.items,
            "assets": self.env.assets,
        }
        if head not in collections:
            raise _Problem(404, "The requested resource was not found.")
        table = collections[head]
        if len(rest) == 1:
            if method == "GET":
                return self.page(head, table)
            if method == "POST":
                return _json_answer(201, self.create(head, data, None))
            raise _Problem(405, f"Method {method} is not allowed here.")
        ref, tail = _split_ref(rest[1:])
        if head == "types" and tail == ["variants"] and method == "GET":
            content_type = self.find("types", ref)
            variants = [v for v in self.env.variants.values() if v["_type"] == content_type["id"]]
            return self.page("variants", [_variant_view(v) for v in variants])
        if head == "items" and tail[:1] == ["variants"]:
            return self.variant(method, ref, tail[1:], data)
        if tail:
            raise _Problem(404, "The requested resource was not found.")
        if method == "GET":
            return _json_answer(200, self.find(head, ref))
        if method == "PATCH" and head == "languages":
            return _json_answer(200, self.patch_language(self.find(head, ref), data))
        if method == "PUT" and head in ("items", "assets"):
            return self.upsert(head, ref, data)
        raise _Problem(405, f"Method {method} is not allowed here.")

    # ---- listing with x-continuation

    def page(self, kind: str, entries: list[JSON]) -> _Answer:
        token = self.headers.get("x-continuation")
        start = 0
        if token:
            try:
                decoded = base64.b64decode(token.encode(), validate=True).decode()
                label, _, offset = decoded.rpartition(":")
                start = int(offset)
                if label != f"{self.emu.environment_id}:{kind}" or start < 0:
                    raise ValueError(label)
            except (ValueError, UnicodeDecodeError):
                raise _invalid(f"The continuation token {token!r} is not valid.") from None
        size = self.emu.page_size
        chunk = entries[start : start + size]
        more = start + size < len(entries)
        next_token = None
        next_page = None
        if more:
            raw = f"{self.emu.environment_id}:{kind}:{start + size}".encode()
            next_token = base64.b64encode(raw).decode()
            next_page = (
                f"{self.emu.url}/projects/{self.emu.environment_id}/{kind}"
                f"?continuationToken={quote(next_token, safe='')}"
            )
        return _json_answer(
            200,
            {
                kind: [_public(e) for e in chunk],
                "pagination": {"continuation_token": next_token, "next_page": next_page},
            },
        )

    # ---- lookups

    def find(self, kind: str, ref: tuple[str, str], *, missing_ok: bool = False) -> JSON:
        table = getattr(self.env, kind)
        how, value = ref
        key = {"id": "id", "codename": "codename", "external-id": "external_id"}[how]
        for entity in table:
            if entity.get(key) == value:
                return entity  # type: ignore[no-any-return]
        if missing_ok:
            return {}
        raise _Problem(404, f"The requested {kind[:-1]} '{value}' was not found.")

    def by_reference(self, kind: str, reference: Any) -> JSON | None:
        """A ``{"id"|"codename"|"external_id": …}`` reference → the entity, or None."""
        if not isinstance(reference, dict):
            return None
        for key, how in (("id", "id"), ("codename", "codename"), ("external_id", "external-id")):
            if reference.get(key):
                found = self.find(kind, (how, str(reference[key])), missing_ok=True)
                return found or None
        return None

    # ---- creation

    def create(self, kind: str, data: Any, external_id: str | None) -> JSON:
        if not isinstance(data, dict):
            raise _invalid("The request body must be a JSON object.")
        table = getattr(self.env, kind)
        ext = external_id or data.get("external_id")
        codename = data.get("codename")
        for entity in table:
            if ext and entity.get("external_id") == ext:
                raise _Problem(409, f"The external ID '{ext}' is already used.")
            if codename and entity.get("codename") == codename:
                raise _Problem(409, f"The codename '{codename}' is already used.")
        build = {
            "languages": self.new_language,
            "taxonomies": self.new_taxonomy,
            "types": self.new_type,
            "items": self.new_item,
            "assets": self.new_asset,
        }[kind]
        entity = build(data)
        if ext:
            entity["external_id"] = ext
        table.append(entity)
        return _public(entity)

    def upsert(self, kind: str, ref: tuple[str, str], data: Any) -> _Answer:
        how, value = ref
        existing = self.find(kind, ref, missing_ok=True)
        if not existing:
            if how != "external-id":
                raise _Problem(404, f"The requested {kind[:-1]} '{value}' was not found.")
            return _json_answer(201, self.create(kind, data, value))
        if not isinstance(data, dict):
            raise _invalid("The request body must be a JSON object.")
        if kind == "items":
            if data.get("name"):
                existing["name"] = data["name"]
            if data.get("codename"):
                existing["codename"] = data["codename"]
        else:
            replacement = self.new_asset(data, replacing=existing)
            replacement["id"] = existing["id"]
            existing.update({k: v for k, v in replacement.items() if k != "external_id"})
        existing["last_modified"] = _now()
        return _json_answer(200, _public(existing))

    def new_language(self, data: JSON) -> JSON:
        if not data.get("name") or not data.get("codename"):
            raise _invalid("A language needs a name and a codename.")
        fallback = self.by_reference("languages", data.get("fallback_language"))
        if data.get("fallback_language") is not None and fallback is None:
            raise _invalid("The fallback language does not exist.")
        return {
            "id": str(uuid.uuid4()),
            "name": data["name"],
            "codename": data["codename"],
            "is_active": bool(data.get("is_active", True)),
            "is_default": False,
            "fallback_language": {"id": (fallback or {"id": DEFAULT_LANGUAGE_ID})["id"]},
        }

    def patch_language(self, language: JSON, operations: Any) -> JSON:
        if not isinstance(operations, list) or not operations:
            raise _invalid("Send a list of operations.")
        for op in operations:
            name = op.get("property_name") if isinstance(op, dict) else None
            if (
                not isinstance(op, dict)
                or op.get("op") != "replace"
                or name
                not in (
                    "name",
                    "codename",
                    "is_active",
                    "fallback_language",
                )
            ):
                raise _invalid(f"Unsupported operation {op!r}.")
            value = op.get("value")
            if name == "codename" and any(
                lang["codename"] == value and lang is not language for lang in self.env.languages
            ):
                raise _Problem(409, f"The codename '{value}' is already used.")
            if name == "fallback_language":
                target = self.by_reference("languages", value)
                if target is None:
                    raise _invalid("The fallback language does not exist.")
                value = {"id": target["id"]}
            language[name] = value
        return _public(language)

    def new_taxonomy(self, data: JSON) -> JSON:
        def terms(entries: Any) -> list[JSON]:
            if not isinstance(entries, list):
                raise _invalid("'terms' must be a list.")
            out = []
            for term in entries:
                if not isinstance(term, dict) or not term.get("name"):
                    raise _invalid("Every term needs a name.")
                entry = {
                    "id": str(uuid.uuid4()),
                    "name": term["name"],
                    "codename": term.get("codename") or _codename_from(term["name"]),
                    "terms": terms(term.get("terms") or []),
                }
                if term.get("external_id"):
                    entry["external_id"] = term["external_id"]
                out.append(entry)
            return out

        if not data.get("name"):
            raise _invalid("A taxonomy group needs a name.")
        return {
            "id": str(uuid.uuid4()),
            "name": data["name"],
            "codename": data.get("codename") or _codename_from(data["name"]),
            "last_modified": _now(),
            "terms": terms(data.get("terms") or []),
        }

    def new_type(self, data: JSON) -> JSON:
        name = data.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 50:
            raise _invalid("Provide a nonempty name which fits within 50 characters.")
        elements = []
        problems = []
        for element in data.get("elements") or []:
            kind = element.get("type")
            if kind not in _ELEMENT_TYPES:
                problems.append(f"Unknown element type {kind!r}.")
                continue
            if not element.get("name") and kind != "guidelines":
                problems.append("Every element needs a name.")
                continue
            entry = {
                "id": str(uuid.uuid4()),
                "name": element.get("name"),
                "codename": element.get("codename") or _codename_from(element.get("name") or ""),
                "type": kind,
            }
            if element.get("external_id"):
                entry["external_id"] = element["external_id"]
            if kind == "multiple_choice":
                if element.get("mode") not in ("single", "multiple"):
                    problems.append(f"Element {entry['codename']!r} needs mode single|multiple.")
                entry["mode"] = element.get("mode")
                entry["options"] = [
                    {
                        "id": str(uuid.uuid4()),
                        "name": o["name"],
                        "codename": o.get("codename") or _codename_from(o["name"]),
                    }
                    for o in element.get("options") or []
                ]
            elif kind == "taxonomy":
                group = self.by_reference("taxonomies", element.get("taxonomy_group"))
                if group is None:
                    problems.append(f"Element {entry['codename']!r}: unknown taxonomy group.")
                    continue
                entry["taxonomy_group"] = {"id": group["id"]}
            elif kind == "url_slug":
                depends = (element.get("depends_on") or {}).get("element") or {}
                source = next(
                    (
                        e
                        for e in data.get("elements") or []
                        if e.get("type") == "text"
                        and depends.get("codename")
                        and e.get("codename") == depends.get("codename")
                    ),
                    None,
                )
                if source is None:
                    problems.append(
                        f"URL slug {entry['codename']!r} must depend on a text element."
                    )
                entry["depends_on"] = {"element": depends}
            elif kind == "custom":
                if not str(element.get("source_url") or "").startswith("https://"):
                    problems.append(f"Custom element {entry['codename']!r} needs a source_url.")
                entry["source_url"] = element.get("source_url")
            elements.append(entry)
        if problems:
            raise _invalid(*problems)
        return {
            "id": str(uuid.uuid4()),
            "name": name,
            "codename": data.get("codename") or _codename_from(name),
            "last_modified": _now(),
            "elements": elements,
        }

    def new_item(self, data: JSON) -> JSON:
        if not data.get("name"):
            raise _invalid("A content item needs a name.")
        content_type = self.by_reference("types", data.get("type"))
        if content_type is None:
            raise _invalid("The content type does not exist.")
        collection = data.get("collection") or {"codename": "default"}
        if collection not in ({"codename": "default"}, {"id": DEFAULT_COLLECTION_ID}):
            raise _invalid(f"The collection {collection!r} does not exist.")
        return {
            "id": str(uuid.uuid4()),
            "name": data["name"],
            "codename": data.get("codename") or _codename_from(data["name"]),
            "type": {"id": content_type["id"]},
            "collection": {"id": DEFAULT_COLLECTION_ID},
            "spaces": [],
            "sitemap_locations": [],
            "last_modified": _now(),
        }

    def upload(self, file_name: str, data: bytes) -> _Answer:
        if not data:
            raise _invalid("The file is empty.")
        length = self.headers.get("content-length")
        if length is not None and int(length) != len(data):
            raise _invalid("Content-Length does not match the body.")
        file_id = str(uuid.uuid4())
        content_type = self.headers.get("content-type") or "application/octet-stream"
        self.env.files[file_id] = (file_name, content_type, data)
        return _json_answer(200, {"id": file_id, "type": "internal"})

    def new_asset(self, data: JSON, replacing: JSON | None = None) -> JSON:
        reference = data.get("file_reference") or {}
        found = self.env.files.get(str(reference.get("id")))
        if found is None:
            raise _invalid("The file reference does not point to an uploaded file.")
        if any(
            a.get("file_reference", {}).get("id") == reference.get("id") and a is not replacing
            for a in self.env.assets
        ):
            raise _invalid("Each binary file can be referenced by only one asset.")
        file_name, content_type, binary = found
        descriptions = []
        for entry in data.get("descriptions") or []:
            language = self.by_reference("languages", entry.get("language"))
            if language is None:
                raise _invalid(f"Unknown language in the descriptions: {entry.get('language')}.")
            descriptions.append(
                {"language": {"id": language["id"]}, "description": entry.get("description")}
            )
        width, height = _image_size(binary, content_type)
        return {
            "id": str(uuid.uuid4()),
            "file_name": file_name,
            "title": data.get("title"),
            "size": len(binary),
            "type": content_type,
            "image_width": width,
            "image_height": height,
            "file_reference": {"id": reference["id"], "type": "internal"},
            "descriptions": descriptions,
            "url": self.emu.asset_url(reference["id"], file_name),
            "last_modified": _now(),
        }

    # ---- variants

    def variant(
        self, method: str, item_ref: tuple[str, str], rest: list[str], data: Any
    ) -> _Answer:
        if not rest:
            raise _Problem(404, "The requested resource was not found.")
        item = self.find("items", item_ref)
        language_ref, tail = _split_ref(rest)
        language = self.find("languages", language_ref)
        key = (item["id"], language["id"])
        existing = self.env.variants.get(key)
        if tail == ["publish"] and method == "PUT":
            if existing is None:
                raise _Problem(404, "The language variant does not exist.")
            if existing["_step"] == PUBLISHED_STEP_ID:
                raise _invalid("The language variant is already published.")
            existing["_step"] = PUBLISHED_STEP_ID
            existing["_published"] = {
                "elements": json.loads(json.dumps(existing["elements"])),
                "last_modified": _now(),
            }
            return _json_answer(204, None)
        if tail:
            raise _Problem(404, "The requested resource was not found.")
        if method == "GET":
            if existing is None:
                raise _Problem(404, "The language variant does not exist.")
            return _json_answer(200, _variant_view(existing))
        if method != "PUT":
            raise _Problem(405, f"Method {method} is not allowed here.")
        if existing is not None and existing["_step"] == PUBLISHED_STEP_ID:
            raise _invalid(
                "The language variant is published; create a new version before changing it."
            )
        if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
            raise _invalid("A language variant needs an 'elements' list.")
        content_type = self.find("types", ("id", item["type"]["id"]))
        elements = self.elements(content_type, data["elements"], depth=0)
        variant = {
            "_type": content_type["id"],
            "_step": DRAFT_STEP_ID,
            "_published": existing.get("_published") if existing else None,
            "item": {"id": item["id"]},
            "language": {"id": language["id"]},
            "elements": elements,
            "last_modified": _now(),
        }
        self.env.variants[key] = variant
        return _json_answer(200 if existing else 201, _variant_view(variant))

    def elements(self, content_type: JSON, given: list[Any], depth: int) -> list[JSON]:
        """Check and store element values (by element id); components recursively."""
        by_codename = {e["codename"]: e for e in content_type["elements"]}
        by_id = {e["id"]: e for e in content_type["elements"]}
        by_ext = {e.get("external_id"): e for e in content_type["elements"] if e.get("external_id")}
        out = []
        problems = []
        for entry in given:
            ref = entry.get("element") if isinstance(entry, dict) else None
            ref = ref if isinstance(ref, dict) else {}
            element = (
                by_id.get(ref.get("id"))
                or by_codename.get(ref.get("codename"))
                or by_ext.get(ref.get("external_id"))
            )
            if element is None:
                problems.append(f"Element {ref} is not in type {content_type['codename']!r}.")
                continue
            stored: JSON = {"element": {"id": element["id"]}, "value": entry.get("value")}
            kind = element["type"]
            value = entry.get("value")
            if kind == "multiple_choice":
                options = {o["codename"]: o for o in element["options"]}
                ids = {o["id"]: o for o in element["options"]}
                chosen = []
                for ref_value in value or []:
                    option = ids.get(ref_value.get("id")) or options.get(ref_value.get("codename"))
                    if option is None:
                        problems.append(f"Unknown option {ref_value} of {element['codename']!r}.")
                    else:
                        chosen.append({"id": option["id"]})
                stored["value"] = chosen
            elif kind == "taxonomy":
                group = self.find("taxonomies", ("id", element["taxonomy_group"]["id"]))
                terms = {t["codename"]: t for t in _walk_terms(group["terms"])}
                chosen = []
                for ref_value in value or []:
                    term = terms.get(ref_value.get("codename"))
                    if term is None:
                        problems.append(f"Unknown term {ref_value} of {element['codename']!r}.")
                    else:
                        chosen.append({"id": term["id"]})
                stored["value"] = chosen
            elif kind == "rich_text":
                if value is not None and not isinstance(value, str):
                    problems.append(f"Rich text {element['codename']!r} must be a string.")
                    continue
                components = []
                for component in entry.get("components") or []:
                    component_type = self.by_reference("types", component.get("type"))
                    if component_type is None or not component.get("id"):
                        problems.append(f"Component {component.get('id')} has no valid type.")
                        continue
                    components.append(
                        {
                            "id": component["id"],
                            "type": {"id": component_type["id"]},
                            "elements": self.elements(
                                component_type, component.get("elements") or [], depth + 1
                            ),
                        }
                    )
                known = {c["id"] for c in components}
                for component_id in re.findall(
                    r'data-type="component"[^>]*data-id="([^"]+)"', value or ""
                ):
                    if component_id not in known:
                        problems.append(
                            f"Rich text {element['codename']!r}: component {component_id} is "
                            "not in 'components'."
                        )
                stored["components"] = components
            elif kind == "url_slug":
                stored["mode"] = entry.get("mode") or "autogenerated"
            elif kind == "date_time":
                stored["display_timezone"] = entry.get("display_timezone")
            elif kind in ("number",) and value is not None and not isinstance(value, int | float):
                problems.append(f"Number {element['codename']!r} must be a number.")
            out.append(stored)
        if problems:
            raise _invalid(*problems)
        return out

    # ---- webhooks

    def webhooks(self, method: str, rest: list[str], data: Any) -> _Answer:
        hooks = self.env.webhooks
        if not rest:
            if method == "GET":
                return _json_answer(200, hooks)
            if method != "POST":
                raise _Problem(405, f"Method {method} is not allowed here.")
            if not isinstance(data, dict):
                raise _invalid("The request body must be a JSON object.")
            problems = []
            if not data.get("name"):
                problems.append("The webhook needs a name.")
            if not str(data.get("url") or "").startswith(("http://", "https://")):
                problems.append("The webhook needs an absolute URL.")
            if not data.get("secret"):
                problems.append("The webhook needs a secret.")
            triggers = data.get("delivery_triggers")
            if not isinstance(triggers, dict) or triggers.get("slot") not in (
                "published",
                "preview",
            ):
                problems.append("delivery_triggers.slot must be 'published' or 'preview'.")
            if problems:
                raise _invalid(*problems)
            webhook = {
                "id": str(uuid.uuid4()),
                "name": data["name"],
                "url": data["url"],
                "secret": data["secret"],
                "headers": data.get("headers") or [],
                "enabled": data.get("enabled", True) is not False,
                "health_status": "unknown",
                "last_modified": _now(),
                "delivery_triggers": triggers,
            }
            hooks.append(webhook)
            return _json_answer(201, webhook)
        found = next((w for w in hooks if w["id"] == rest[0]), None)
        if found is None:
            raise _Problem(404, f"The webhook '{rest[0]}' was not found.")
        if len(rest) == 1 and method == "GET":
            return _json_answer(200, found)
        if len(rest) == 1 and method == "DELETE":
            hooks.remove(found)
            return _json_answer(204, None)
        if len(rest) == 2 and method == "PUT" and rest[1] in ("enable", "disable"):
            found["enabled"] = rest[1] == "enable"
            return _json_answer(204, None)
        raise _Problem(405, f"Method {method} is not allowed here.")


_ELEMENT_TYPES = {
    "text",
    "rich_text",
    "number",
    "multiple_choice",
    "date_time",
    "asset",
    "modular_content",
    "subpages",
    "taxonomy",
    "url_slug",
    "custom",
    "guidelines",
}

_DEFAULT_WORKFLOW = {
    "id": DEFAULT_WORKFLOW_ID,
    "name": "Default",
    "codename": "default",
    "scopes": [],
    "steps": [{"id": DRAFT_STEP_ID, "name": "Draft", "codename": "draft", "transitions_to": []}],
    "published_step": {"id": PUBLISHED_STEP_ID, "name": "Published", "codename": "published"},
    "archived_step": {"id": ARCHIVED_STEP_ID, "name": "Archived", "codename": "archived"},
}


def _split_ref(parts: list[str]) -> tuple[tuple[str, str], list[str]]:
    """``[<id>, …]`` or ``["codename"|"external-id", <value>, …]`` → ((how, value), rest)."""
    if parts[0] in ("codename", "external-id") and len(parts) >= 2:
        return (parts[0], parts[1]), parts[2:]
    return ("id", parts[0]), parts[1:]


def _public(entity: JSON) -> JSON:
    return {k: v for k, v in entity.items() if not k.startswith("_")}


def _variant_view(variant: JSON) -> JSON:
    view = _public(variant)
    view["workflow"] = {
        "workflow_identifier": {"id": DEFAULT_WORKFLOW_ID},
        "step_identifier": {"id": variant["_step"]},
    }
    view["workflow_step"] = {"id": variant["_step"]}
    return view


def _walk_terms(terms: list[JSON]) -> Iterable[JSON]:
    for term in terms:
        yield term
        yield from _walk_terms(term.get("terms") or [])


def _codename_from(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "n"


def _image_size(data: bytes, content_type: str) -> tuple[int | None, int | None]:
    """Pixel size of an SVG (its width/height attributes), PNG or GIF; else (None, None)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if "svg" in content_type:
        head = data[:2048].decode("utf-8", "replace")
        root = re.search(r"<svg\b[^>]*>", head)
        if root:
            width = re.search(r'\swidth="(\d+)(?:px)?"', root.group(0))
            height = re.search(r'\sheight="(\d+)(?:px)?"', root.group(0))
            if width and height:
                return int(width.group(1)), int(height.group(1))
    return None, None


# --------------------------------------------------------------------------------------------
# The Delivery view of the environment


class _Delivery:
    """Builds the Delivery API's JSON from the environment's published variants."""

    def __init__(self, emu: ManagementEmulator) -> None:
        self.emu = emu
        env = emu.env
        self.env = env
        self.languages = [lang for lang in env.languages if lang.get("is_active", True)]
        self.language_by_id = {lang["id"]: lang for lang in env.languages}
        self.types_by_id = {t["id"]: t for t in env.types}
        self.taxonomies_by_id = {t["id"]: t for t in env.taxonomies}
        self.items_by_id = {i["id"]: i for i in env.items}
        self.assets_by_id = {a["id"]: a for a in env.assets}
        self.fallbacks = emu.delivery_fallbacks()
        self.default = next(lang for lang in env.languages if lang.get("is_default"))

    def snapshot(self) -> Snapshot:
        snapshot = Snapshot(
            default_language=self.default["codename"],
            languages=[
                {"system": {"id": lang["id"], "name": lang["name"], "codename": lang["codename"]}}
                for lang in sorted(self.languages, key=lambda x: not x.get("is_default"))
            ],
            types=[self.content_type(t) for t in self.env.types],
            taxonomies=[self.taxonomy(t) for t in self.env.taxonomies],
        )
        for language in self.languages:
            items = LanguageItems()
            for item in self.env.items:
                variant = self.env.variants.get((item["id"], language["id"]))
                if variant is None or variant.get("_published") is None:
                    continue
                published = variant["_published"]
                system = self.system(item, language["codename"], published["last_modified"])
                system["workflow"] = "default"
                system["workflow_step"] = "published"
                content_type = self.types_by_id[item["type"]["id"]]
                items.items.append(
                    {
                        "system": system,
                        "elements": self.elements(
                            content_type,
                            published["elements"],
                            language["codename"],
                            items.modular_content,
                            published["last_modified"],
                        ),
                    }
                )
            snapshot.items[language["codename"]] = items
        return snapshot

    def system(self, item: JSON, language: str, last_modified: str) -> JSON:
        return {
            "id": item["id"],
            "name": item["name"],
            "codename": item["codename"],
            "language": language,
            "type": self.types_by_id[item["type"]["id"]]["codename"],
            "collection": "default",
            "sitemap_locations": [],
            "last_modified": last_modified,
        }

    def content_type(self, content_type: JSON) -> JSON:
        elements: JSON = {}
        for element in content_type["elements"]:
            if element["type"] == "guidelines":
                continue
            entry: JSON = {"type": element["type"], "name": element["name"]}
            if element["type"] == "multiple_choice":
                entry["options"] = [
                    {"name": o["name"], "codename": o["codename"]} for o in element["options"]
                ]
            if element["type"] == "taxonomy":
                group = self.taxonomies_by_id[element["taxonomy_group"]["id"]]
                entry["taxonomy_group"] = group["codename"]
            elements[element["codename"]] = entry
        return {
            "system": {
                "id": content_type["id"],
                "name": content_type["name"],
                "codename": content_type["codename"],
                "last_modified": content_type["last_modified"],
            },
            "elements": elements,
        }

    def taxonomy(self, group: JSON) -> JSON:
        def terms(entries: list[JSON]) -> list[JSON]:
            return [
                {"name": t["name"], "codename": t["codename"], "terms": terms(t["terms"])}
                for t in entries
            ]

        return {
            "system": {
                "id": group["id"],
                "name": group["name"],
                "codename": group["codename"],
                "last_modified": group["last_modified"],
            },
            "terms": terms(group["terms"]),
        }

    def elements(
        self,
        content_type: JSON,
        stored: list[JSON],
        language: str,
        components: JSON,
        last_modified: str,
    ) -> JSON:
        values = {e["element"]["id"]: e for e in stored}
        out: JSON = {}
        for element in content_type["elements"]:
            kind = element["type"]
            if kind == "guidelines":
                continue
            entry = values.get(element["id"]) or {"value": None}
            value = entry.get("value")
            shown: JSON = {"type": kind, "name": element["name"]}
            if kind == "multiple_choice":
                options = {o["id"]: o for o in element["options"]}
                shown["value"] = [
                    {"name": options[v["id"]]["name"], "codename": options[v["id"]]["codename"]}
                    for v in value or []
                ]
            elif kind == "taxonomy":
                group = self.taxonomies_by_id[element["taxonomy_group"]["id"]]
                terms = {t["id"]: t for t in _walk_terms(group["terms"])}
                shown["taxonomy_group"] = group["codename"]
                shown["value"] = [
                    {"name": terms[v["id"]]["name"], "codename": terms[v["id"]]["codename"]}
                    for v in value or []
                ]
            elif kind == "asset":
                shown["value"] = [
                    self.asset_value(asset, language)
                    for asset in (self.asset(ref) for ref in value or [])
                    if asset is not None
                ]
            elif kind in ("modular_content", "subpages"):
                shown["value"] = [
                    item["codename"]
                    for item in (self.item(ref) for ref in value or [])
                    if item is not None
                ]
            elif kind == "rich_text":
                shown.update(self.rich_text(entry, language, components, last_modified))
                shown["value"] = shown.pop("value")
            elif kind == "date_time":
                shown["value"] = value
                shown["display_timezone"] = entry.get("display_timezone")
            elif kind == "text":
                shown["value"] = value if value is not None else ""
            else:
                shown["value"] = value
            out[element["codename"]] = shown
        return out

    def item(self, reference: Any) -> JSON | None:
        return _Api(self.emu, {}, 0).by_reference("items", reference)

    def asset(self, reference: Any) -> JSON | None:
        return _Api(self.emu, {}, 0).by_reference("assets", reference)

    def description(self, asset: JSON, language: str) -> str | None:
        language_id = next(
            (lang["id"] for lang in self.env.languages if lang["codename"] == language), None
        )
        for entry in asset["descriptions"]:
            if entry["language"]["id"] == language_id:
                return entry["description"]  # type: ignore[no-any-return]
        return None

    def asset_value(self, asset: JSON, language: str) -> JSON:
        return {
            "name": asset["file_name"],
            "description": self.description(asset, language),
            "type": asset["type"],
            "size": asset["size"],
            "url": asset["url"],
            "width": asset["image_width"],
            "height": asset["image_height"],
        }

    def url_slug(self, item: JSON, language: str) -> str:
        content_type = self.types_by_id[item["type"]["id"]]
        slug = next((e for e in content_type["elements"] if e["type"] == "url_slug"), None)
        if slug is None:
            return ""
        chain = [language]
        while chain[-1] in self.fallbacks and self.fallbacks[chain[-1]] not in chain:
            chain.append(self.fallbacks[chain[-1]])
        if self.default["codename"] not in chain:
            chain.append(self.default["codename"])
        for codename in chain:
            language_id = next(
                (lang["id"] for lang in self.env.languages if lang["codename"] == codename), None
            )
            variant = self.env.variants.get((item["id"], language_id or ""))
            if variant is not None and variant.get("_published") is not None:
                for value in variant["_published"]["elements"]:
                    if value["element"]["id"] == slug["id"]:
                        return str(value.get("value") or "")
        return ""

    def rich_text(self, entry: JSON, language: str, components: JSON, last_modified: str) -> JSON:
        """Management rich text (external ids, ``data-type="component"``) → Delivery's."""
        from selectolax.lexbor import LexborHTMLParser

        html = entry.get("value") or ""
        stored_components = {c["id"]: c for c in entry.get("components") or []}
        images: JSON = {}
        links: JSON = {}
        listed: list[str] = []
        doc = LexborHTMLParser("<!DOCTYPE html>")
        doc.body.inner_html = html
        spliced: dict[str, str] = {}
        marker = f"mapi{uuid.uuid4().hex}n"

        def splice(node: Any, markup: str) -> None:
            token = f"{marker}{len(spliced)}x"
            spliced[token] = markup
            node.replace_with(token)

        def reference(attrs: Mapping[str, Any], prefix: str) -> JSON:
            for suffix, key in (
                ("id", "id"),
                ("external-id", "external_id"),
                ("codename", "codename"),
            ):
                value = attrs.get(f"{prefix}{suffix}")
                if value:
                    return {key: value}
            return {}

        for node in doc.css("object"):
            attrs = node.attributes
            if attrs.get("type") != _KENTICO_OBJECT:
                continue
            if attrs.get("data-type") == "component":
                component = stored_components.get(attrs.get("data-id") or "")
                if component is None:
                    splice(node, "")
                    continue
                codename = component_codename(component["id"])
                component_type = self.types_by_id[component["type"]["id"]]
                system = {
                    "id": component["id"],
                    "name": component["id"],
                    "codename": codename,
                    "language": language,
                    "type": component_type["codename"],
                    "collection": "default",
                    "sitemap_locations": [],
                    "last_modified": last_modified,
                }
                components[codename] = {
                    "system": system,
                    "elements": self.elements(
                        component_type, component["elements"], language, components, last_modified
                    ),
                }
                listed.append(codename)
                rel = "component"
            else:
                item = self.item(reference(attrs, "data-"))
                if item is None:
                    splice(node, "")
                    continue
                codename = item["codename"]
                listed.append(codename)
                rel = "link"
            splice(
                node,
                f'<object type="{_KENTICO_OBJECT}" data-type="item" data-rel="{rel}" '
                f'data-codename="{codename}"></object>',
            )
        for node in doc.css("figure"):
            asset = self.asset(reference(node.attributes, "data-asset-"))
            if asset is None:
                splice(node, "")
                continue
            asset_id = asset["id"]
            images[asset_id] = {
                "image_id": asset_id,
                "description": self.description(asset, language),
                "url": asset["url"],
                "width": asset["image_width"],
                "height": asset["image_height"],
            }
            splice(
                node,
                f'<figure data-asset-id="{asset_id}" data-image-id="{asset_id}"><img '
                f'src="{_attr(asset["url"])}" data-asset-id="{asset_id}" '
                f'data-image-id="{asset_id}" alt=""></figure>',
            )
        for node in doc.css("a"):
            attrs = node.attributes
            edits = node.attrs
            item_ref = reference(attrs, "data-item-")
            asset_ref = reference(attrs, "data-asset-")
            if item_ref:
                for name in ("data-item-id", "data-item-external-id", "data-item-codename"):
                    if name in edits:
                        del edits[name]
                item = self.item(item_ref)
                item_id = item["id"] if item is not None else DEFAULT_LANGUAGE_ID
                edits["data-item-id"] = item_id
                edits["href"] = ""
                if item is not None:
                    links[item_id] = {
                        "codename": item["codename"],
                        "type": self.types_by_id[item["type"]["id"]]["codename"],
                        "url_slug": self.url_slug(item, language),
                    }
            elif asset_ref:
                for name in ("data-asset-id", "data-asset-external-id", "data-asset-codename"):
                    if name in edits:
                        del edits[name]
                asset = self.asset(asset_ref)
                edits["data-asset-id"] = asset["id"] if asset else ""
                edits["href"] = asset["url"] if asset else ""
            elif attrs.get("data-email-address"):
                edits["href"] = f"mailto:{attrs['data-email-address']}"
            elif attrs.get("data-phone-number"):
                edits["href"] = f"tel:{attrs['data-phone-number']}"
            elif attrs.get("data-new-window") == "true":
                edits["target"] = "_blank"
                edits["rel"] = "noopener noreferrer"
        value = doc.body.inner_html or ""
        for token, markup in spliced.items():
            value = value.replace(token, markup)
        return {"images": images, "links": links, "modular_content": listed, "value": value}


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


# --------------------------------------------------------------------------------------------
# The server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: ManagementEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kontent-ssg-mapi-emulator"
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.server.emulator._handle(self.command, self.path, self.headers, body)
        if answer is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        reason = self.responses.get(answer.status, ("Status",))[0]
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        headers = {"Content-Type": "application/json; charset=utf-8", **answer.headers}
        headers["Content-Length"] = str(len(answer.body))
        for name, value in headers.items():
            lines.append(f"{name}: {value}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
