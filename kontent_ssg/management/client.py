"""A small Management API v2 client: one environment, Bearer key, retries, paging.

Every request goes to ``{management_url}/projects/{environment_id}/{path}`` through
:meth:`ManagementClient.send`, which owns what the Delivery client owns for reads
(:mod:`kontent_ssg.content.delivery`): retries on 408/429/5xx and dropped connections, honouring
``Retry-After`` (the Management API sends it with every 429: 10 requests a second and 400 a
minute per environment), else exponential backoff with full jitter, bounded in attempts and in
time; the same :class:`~kontent_ssg.content.delivery.RetryPolicy`. Requests are sent one at a
time (the API's guidance for writes); sequential requests over the internet stay near the
per-second limit, and a 429 says how long to wait.

Listings follow ``pagination.continuation_token`` by sending it back in the ``x-continuation``
header until the API answers none.

The key travels only in the ``Authorization`` header: no message, URL or repr holds it (every
message is scrubbed of it anyway, in case an API error ever echoed it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ..content.delivery import RETRY_STATUSES, RetryPolicy, api_http_client, parse_retry_after
from ..errors import ConfigError, ManagementError

__all__ = [
    "DEFAULT_MANAGEMENT_URL",
    "MANAGEMENT_KEY_ENV",
    "ManagementClient",
    "segment",
]

JSON = dict[str, Any]

DEFAULT_MANAGEMENT_URL = "https://manage.kontent.ai/v2"
MANAGEMENT_KEY_ENV = "KONTENT_MANAGEMENT_API_KEY"
CONTINUATION_HEADER = "x-continuation"

_RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_KEY_HINT = (
    f"create a Management API key in Kontent.ai (Project settings > API keys > Management API "
    f"keys) with access to this environment, and export {MANAGEMENT_KEY_ENV}=<the key>"
)


def segment(value: str) -> str:
    """``value`` as one URL path segment (external ids may hold ``/``, ``:`` or spaces)."""
    encoded = quote(value, safe="")
    return encoded if encoded.strip(".") else encoded.replace(".", "%2E")


class ManagementClient:
    """The Management API for one environment.

    ``transport`` lets unit tests swap the network; ``requests`` and ``retries`` count what
    was sent, for progress lines and tests.
    """

    def __init__(
        self,
        base_url: str,
        environment_id: str,
        api_key: str | None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError(f"{MANAGEMENT_KEY_ENV} is not set", hint=_KEY_HINT)
        self.base_url = base_url.rstrip("/")
        self.environment_id = environment_id
        self.retry = retry or RetryPolicy()
        self.requests = 0
        self.retries = 0
        self._secret = api_key
        self._lock = threading.Lock()
        self._http = api_http_client(api_key, MANAGEMENT_KEY_ENV, timeout, transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ManagementClient({self.base_url!r}, {self.environment_id!r})"

    @property
    def environment_url(self) -> str:
        return f"{self.base_url}/projects/{segment(self.environment_id)}"

    # -- verbs -------------------------------------------------------------------------------

    def get(self, path: str, *, what: str) -> Any:
        return self._json(self.send("GET", path, what=what))

    def find(self, path: str, *, what: str) -> Any:
        """GET, or None when the API answers 404 (the thing does not exist)."""
        response = self.send("GET", path, what=what, missing_ok=True)
        return None if response.status_code == 404 else self._json(response)

    def post(self, path: str, body: Any, *, what: str) -> Any:
        return self._json(self.send("POST", path, what=what, body=body))

    def put(self, path: str, body: Any = None, *, what: str) -> Any:
        return self._json(self.send("PUT", path, what=what, body=body))

    def patch(self, path: str, body: Any, *, what: str) -> Any:
        return self._json(self.send("PATCH", path, what=what, body=body))

    def delete(self, path: str, *, what: str) -> None:
        self.send("DELETE", path, what=what)

    def upload(self, file_name: str, data: bytes, content_type: str, *, what: str) -> JSON:
        """Upload a binary file (``POST /files/{file_name}``); returns its file reference."""
        response = self.send(
            "POST",
            f"files/{segment(file_name)}",
            what=what,
            content=data,
            headers={"Content-Type": content_type},
        )
        reference = self._json(response)
        if not isinstance(reference, dict) or not isinstance(reference.get("id"), str):
            raise self._malformed("POST", f"files/{file_name}", what, "expected a file reference")
        return reference

    def list_all(self, path: str, key: str, *, what: str) -> list[JSON]:
        """Every entry of a paged listing: ``x-continuation`` until no token comes back."""
        out: list[JSON] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            headers = {CONTINUATION_HEADER: token} if token else None
            data = self._json(self.send("GET", path, what=what, headers=headers))
            if not isinstance(data, dict) or not isinstance(data.get(key), list):
                raise self._malformed("GET", path, what, f"expected an object with a '{key}' list")
            out.extend(data[key])
            pagination = data.get("pagination") or {}
            token = pagination.get("continuation_token") if isinstance(pagination, dict) else None
            if not token:
                return out
            if token in seen:
                raise self._malformed("GET", path, what, "the continuation token repeats")
            seen.add(token)

    # -- the request machinery ---------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """One request with retries; raises :class:`ManagementError` for an error status
        (a 404 comes back instead when ``missing_ok``)."""
        url = f"{self.environment_url}/{path}" if path else self.environment_url
        policy = self.retry
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            try:
                response = self._http.request(
                    method,
                    url,
                    json=body if content is None else None,
                    content=content,
                    headers=dict(headers or {}),
                )
            except _RETRYABLE_EXCEPTIONS as exc:
                failure = self._scrub(f"{type(exc).__name__}: {exc}".rstrip(": "))
                retry_after: float | None = None
            except httpx.HTTPError as exc:
                raise ManagementError(
                    f"{what}: {method} {url} failed: {self._scrub(str(exc)) or type(exc).__name__}",
                    url=url,
                ) from None
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400 and not (
                        missing_ok and response.status_code == 404
                    ):
                        raise self._error(response, method, url, what)
                    return response
                failure = f"HTTP {response.status_code}{self._api_message(response)}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = retry_after if retry_after is not None else policy.backoff(attempt - 1)
            elapsed = policy.clock() - started
            if attempt >= policy.max_attempts or elapsed + delay > policy.max_total:
                tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
                raise ManagementError(
                    f"{what}: the Management API kept failing: {method} {url}: {failure} "
                    f"(gave up after {tries} in {elapsed:.1f} s)",
                    url=url,
                    hint="check [kontent] management_url and your network, or try again later; "
                    "a rerun continues where this one stopped",
                )
            with self._lock:
                self.retries += 1
            (policy.sleep or time.sleep)(delay)

    def _error(self, response: httpx.Response, method: str, url: str, what: str) -> ManagementError:
        status = response.status_code
        detail = self._api_message(response)
        if status == 401:
            return ManagementError(
                f"{what}: the Management API refused the key in {MANAGEMENT_KEY_ENV} "
                f"(HTTP 401{detail})",
                url=url,
                status=status,
                hint=_KEY_HINT,
            )
        if status == 403:
            return ManagementError(
                f"{what}: the Management API key may not do this (HTTP 403{detail}): "
                f"{method} {url}",
                url=url,
                status=status,
                hint="give the key's role the permission, or enable the Management API in "
                "Environment settings > General > Enabled APIs",
            )
        return ManagementError(
            f"{what}: {method} {url}: HTTP {status}{detail}", url=url, status=status
        )

    def _api_message(self, response: httpx.Response) -> str:
        """``: message (validation errors)`` from a Management API error body, scrubbed."""
        try:
            data = json.loads(response.content)
        except ValueError:
            return ""
        if not isinstance(data, dict):
            return ""
        message = data.get("message")
        text = message.strip() if isinstance(message, str) else ""
        problems = [
            v["message"].strip()
            for v in data.get("validation_errors") or []
            if isinstance(v, dict) and isinstance(v.get("message"), str)
        ]
        if problems:
            text += (" " if text else "") + "(" + "; ".join(problems[:5]) + ")"
        return f": {self._scrub(text)[:600]}" if text else ""

    def _json(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise self._malformed(
                response.request.method, str(response.request.url), "answer", "not JSON"
            ) from None

    def _malformed(self, method: str, path: str, what: str, why: str) -> ManagementError:
        return ManagementError(
            f"{what}: unexpected answer from the Management API to {method} {path}: {why}"
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***")
