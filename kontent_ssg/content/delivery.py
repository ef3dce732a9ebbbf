"""The Delivery API client and the crawl: everything that talks to Kontent.ai over HTTP.

One :class:`DeliveryClient` per API (published or preview) wraps one ``httpx.Client``, so the
connection pool is shared by every request of a crawl, including those made from the crawl's
worker threads. Every request goes through :meth:`DeliveryClient._request`, which owns retries
(408/429/5xx and dropped connections; ``Retry-After`` first, else exponential backoff with full
jitter, bounded in attempts and in total time) and counts requests for the build report. Every
failure becomes a :class:`~kontent_ssg.errors.DeliveryError` naming the request (method and URL;
keys travel only in headers, so URLs are safe to print) and, for 401/403, the environment
variable holding the key that was missing or refused.

:func:`crawl` turns an environment into a :class:`~kontent_ssg.snapshot.Snapshot`: ``/languages``
first (it decides the default language), then the items-feed of every language, ``/types`` and
``/taxonomies`` concurrently (threads sharing the client: the work is waiting on sockets, which
releases the GIL). A feed is a chain of pages tied by ``X-Continuation`` tokens, so within one
language the pages are sequential; to keep the crawl bound by the server rather than by our
JSON parsing, the request for page N+1 is sent as soon as page N's headers carry its token,
and page N is read and parsed while the server prepares the next one. The cyclic garbage
collector is paused during a crawl: it would otherwise rescan the growing heap of decoded
items over and over (2.5-3x slower decoding, measured; bench/crawl.py has the numbers).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from .. import __version__
from ..config import Config
from ..errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    SnapshotError,
)
from ..speed import gc_paused
from .snapshot import (
    LanguageItems,
    Snapshot,
    VariantPool,
    check_snapshot,
    load_snapshot,
    loads_json,
    save_snapshot,
)

__all__ = [
    "DEFAULT_LANGUAGE_ID",
    "RETRY_STATUSES",
    "USER_AGENT",
    "CrawlStats",
    "DeadHosts",
    "DeliveryClient",
    "FeedProgress",
    "RetryNotice",
    "RetryPolicy",
    "client_for",
    "crawl",
    "obtain_snapshot",
    "parse_retry_after",
    "path_segment",
    "snapshot_dir_for",
]

JSON = dict[str, Any]

#: Statuses worth another try: timeouts, rate limiting and server-side failures.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: The id Kontent.ai gives an environment's default language.
DEFAULT_LANGUAGE_ID = "00000000-0000-0000-0000-000000000000"
USER_AGENT = f"kontent-ssg/{__version__} (+https://pypi.org/project/kontent-ssg/)"
#: Same ``repository;package;version`` shape the official SDKs send, so the API can tell us apart.
SDK_ID = f"pypi.org;kontent-ssg;{__version__}"
WAIT_HEADER = "X-KC-Wait-For-Loading-New-Content"
CONTINUATION_HEADER = "X-Continuation"

DELIVERY_KEY_ENV = "KONTENT_DELIVERY_API_KEY"
PREVIEW_KEY_ENV = "KONTENT_PREVIEW_API_KEY"

# Transport failures that may succeed on a second try. Not retried: bad URLs, unsupported
# protocols, proxies and errors in what we sent (LocalProtocolError) — trying again is futile.
_RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; the clock, sleep and jitter are injectable for tests.

    ``max_attempts`` counts the first try. ``max_total`` bounds the time one request may spend
    (attempts plus waits) so that an API that is down ends the build in bounded time. A
    ``Retry-After`` the server sends is honoured as given (it knows best when it will recover)
    unless waiting that long would overrun ``max_total``, in which case we give up at once.
    """

    max_attempts: int = 7
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total: float = 120.0
    # None: wait on the client's cancel event, so that a failed crawl (or Ctrl-C) stops the
    # retries still sleeping in other threads at once.
    sleep: Callable[[float], None] | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, retry: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(max_delay, base * 2**retry)].

        Full jitter spreads concurrent clients (and our own language threads) apart instead of
        letting them retry in lockstep against a server that is already struggling.
        """
        cap = min(self.max_delay, self.base_delay * (2**retry))
        return max(0.0, self.jitter() * cap)


@dataclass(frozen=True)
class RetryNotice:
    """A failed attempt about to be retried: what the progress line shows while we wait."""

    what: str  # "Sync API initialization", "items-feed for language 'en-US' (page 3)"
    request: str  # "POST http://…/sync/init"
    failure: str  # "HTTP 503", "ConnectError: …"
    attempt: int  # the attempt that failed (1-based)
    attempts: int  # the most there will be
    delay: float  # seconds until the next
    retry_after: bool  # the wait is the server's Retry-After

    def __str__(self) -> str:
        why = " (Retry-After)" if self.retry_after else ""
        # What and how long first: a terminal line may cut the rest (a long API message).
        return (
            f"{self.what}: attempt {self.attempt} of {self.attempts} failed, waiting "
            f"{self.delay:.1f} s{why}: {self.failure} ({self.request})"
        )


class DeadHosts:
    """Hosts that proved unreachable during one command (or one rebuild of a long-running
    one): a request that gave up after its retries, or a refused connection to this machine,
    marks its host, and every later request to it fails at once. Without this an API that is
    down cost a build its retries twice over (the Sync API first, then the crawl). Shared by
    the clients of one command; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, str] = {}

    def mark(self, host: str, why: str) -> None:
        with self._lock:
            self._hosts.setdefault(host, why)

    def why(self, host: str) -> str | None:
        with self._lock:
            return self._hosts.get(host)

    def clear(self) -> None:
        with self._lock:
            self._hosts.clear()


def _is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8``, ``::1``: this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(exc: BaseException) -> bool:
    """Whether a connect error is a refused connection (nothing listens on that port)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class CrawlStats:
    """Where the time went: waiting on the server versus our own parsing and merging.

    ``parse_seconds`` is CPU time (``time.thread_time``) spent in our own code per response:
    JSON decoding, shape checks, merging pages; CPU time, because with languages crawled in
    threads a wall-clock measure would also count waiting for the GIL; ``decode_seconds`` is
    the ``json.loads`` part of it. ``wait_seconds`` is the
    wall time spent inside httpx requests. Both are sums over threads; ``bench/crawl.py``
    reports them against the crawl's wall time.
    """

    wait_seconds: float = 0.0
    parse_seconds: float = 0.0
    decode_seconds: float = 0.0
    bytes_received: int = 0
    retries: int = 0


@dataclass(frozen=True)
class FeedProgress:
    """Reported after every items-feed page (from a worker thread)."""

    language: str
    items: int
    pages: int
    done: bool


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def path_segment(value: str) -> str:
    """``value`` as exactly one URL path segment, whatever it contains.

    Every character but letters, digits and ``-._~`` is percent-encoded, so a codename with
    ``/``, ``?`` or ``#`` cannot request another path, add a query or cut the URL short; a
    segment of dots alone (``..``) is encoded too, or the URL would be normalised to the
    parent path. Webhook codenames are validated before they get here; this holds for any.
    """
    if not value:
        raise DeliveryError("an empty codename cannot be requested from the Delivery API")
    encoded = quote(value, safe="")
    if not encoded.strip("."):
        encoded = encoded.replace(".", "%2E")
    return encoded


def api_http_client(
    api_key: str | None,
    key_env: str,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The HTTP client both Kontent.ai APIs are called with: our User-Agent and SDK id, JSON,
    no redirects followed (a redirect could carry the key to another host), and the key as a
    Bearer token — refused up front when it holds what no HTTP header can carry (a pasted
    line break), naming the variable it came from but never the key."""
    headers = {"User-Agent": USER_AGENT, "X-KC-SDKID": SDK_ID, "Accept": "application/json"}
    if api_key:
        if not api_key.isascii() or not api_key.isprintable() or any(c.isspace() for c in api_key):
            raise ConfigError(
                f"{key_env} contains characters that cannot be sent in an HTTP header",
                hint=f"copy the key again from Kontent.ai into {key_env}",
            )
        headers["Authorization"] = f"Bearer {api_key}"
    return httpx.Client(
        headers=headers,
        timeout=httpx.Timeout(timeout),
        transport=transport,
        follow_redirects=False,
    )


class DeliveryClient:
    """A Delivery API client for one environment (published or preview API).

    ``api_key`` is sent as a Bearer token (secure access or the Preview API) and never appears
    in an error message. ``transport`` lets tests swap the network (``httpx.MockTransport``).
    ``requests`` counts every HTTP request sent, retries included. ``wait_for_new_content``
    adds ``X-KC-Wait-For-Loading-New-Content: true`` to every request (a rebuild right after a
    webhook wants fresh content, not the CDN's copy). After :meth:`cancel` (a crawl failed) the
    client refuses further requests; make a new one. ``on_retry`` hears of every retry before
    its wait (the command's progress line); ``dead_hosts`` is shared with the command's other
    clients, so that a host that proved dead is not retried again.
    """

    def __init__(
        self,
        base_url: str,
        environment_id: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        wait_for_new_content: bool = False,
        preview: bool = False,
        on_retry: Callable[[RetryNotice], None] | None = None,
        dead_hosts: DeadHosts | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.on_retry = on_retry
        self.dead_hosts = dead_hosts or DeadHosts()
        self.environment_id = environment_id
        self.retry = retry or RetryPolicy()
        self.wait_for_new_content = wait_for_new_content
        self.preview = preview
        self.key_env = PREVIEW_KEY_ENV if preview else DELIVERY_KEY_ENV
        self.has_key = bool(api_key)
        self._secret = api_key or None
        self.requests = 0
        self.stats = CrawlStats()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._http = api_http_client(api_key, self.key_env, timeout, transport)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeliveryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        api = "preview" if self.preview else "published"
        return (
            f"DeliveryClient({self.base_url!r}, {self.environment_id!r}, {api}, key={self.has_key})"
        )

    @property
    def environment_url(self) -> str:
        return f"{self.base_url}/{path_segment(self.environment_id)}"

    def cancel(self) -> None:
        """Make requests still running in other threads stop at their next attempt."""
        self._cancelled.set()

    # -- endpoints -------------------------------------------------------------------------

    def languages(self) -> list[JSON]:
        """Every language of the environment (all pages), as ``/languages`` lists them."""
        return self._list_all("languages", "languages")

    def types(self) -> list[JSON]:
        """Every content type (all pages)."""
        return self._list_all("types", "types")

    def taxonomies(self) -> list[JSON]:
        """Every taxonomy group (all pages)."""
        return self._list_all("taxonomies", "taxonomies")

    def taxonomy(self, codename: str) -> JSON:
        """One taxonomy group."""
        path = f"taxonomies/{path_segment(codename)}"
        data, _ = self._fetch_json(
            "GET",
            path,
            what=f"taxonomy group {codename!r}",
            not_found=f"taxonomy group {codename!r} not found",
        )
        if not isinstance(data, dict) or not isinstance(data.get("system"), dict):
            raise self._malformed("GET", path, None, "expected a taxonomy group")
        return data

    def item(
        self,
        codename: str,
        language: str,
        *,
        wait_for_new_content: bool = False,
        depth: int | None = None,
    ) -> JSON:
        """One item variant with its ``modular_content``, as ``/items/{codename}`` returns it.

        ``wait_for_new_content`` is what a webhook-triggered rebuild wants: the CDN may still
        hold the previous version a moment after the notification.
        """
        params: dict[str, str] = {"language": language}
        if depth is not None:
            params["depth"] = str(depth)
        headers = {WAIT_HEADER: "true"} if wait_for_new_content else None
        path = f"items/{path_segment(codename)}"
        data, _ = self._fetch_json(
            "GET",
            path,
            params=params,
            headers=headers,
            what=f"content item {codename!r} ({language})",
            not_found=f"content item {codename!r} not found in language {language!r}",
        )
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("item"), dict)
            or not isinstance(data["item"].get("system"), dict)
        ):
            raise self._malformed("GET", path, params, "expected an object with an 'item'")
        if not isinstance(data.get("modular_content", {}), dict):
            raise self._malformed("GET", path, params, "'modular_content' is not an object")
        return data

    # -- Sync API v2 (added for incremental builds) ------------------------------------------

    def sync_init(self) -> str:
        """Start a Sync API v2 synchronization; returns its first continuation token.

        Changes published after this call are what :meth:`sync_changes` reports, so a build
        initialises *before* it crawls: nothing can slip between the crawl and the token.
        """
        path = f"/v2/{path_segment(self.environment_id)}/sync/init"
        _, response = self._fetch_json(
            "POST",
            path,
            what="Sync API initialization",
            not_found="the Sync API v2 is not available for this environment",
        )
        token = response.headers.get(CONTINUATION_HEADER)
        if not token:
            raise self._malformed("POST", path, None, "no X-Continuation header in the answer")
        return token

    def sync_changes(self, token: str) -> tuple[JSON, str]:
        """One batch of Sync API v2 deltas since ``token``, and the token to continue from.

        The batch is ``{"items": [...], "types": [...], "languages": [...], "taxonomies":
        [...]}`` (each delta ``{"change_type", "timestamp", "data": {"system"}}``); all empty
        means up to date. Keep calling with the returned token until then.
        """
        path = f"/v2/{path_segment(self.environment_id)}/sync"
        data, response = self._fetch_json(
            "GET",
            path,
            headers={CONTINUATION_HEADER: token},
            what="Sync API changes",
            not_found="the Sync API v2 is not available for this environment",
        )
        if not isinstance(data, dict):
            raise self._malformed("GET", path, None, "expected a JSON object of delta lists")
        for key in ("items", "types", "languages", "taxonomies"):
            value = data.setdefault(key, [])
            if not isinstance(value, list):
                raise self._malformed("GET", path, None, f"'{key}' is not a list")
        return data, response.headers.get(CONTINUATION_HEADER) or token

    def items_feed(
        self,
        language: str,
        *,
        progress: Callable[[FeedProgress], None] | None = None,
        pool: VariantPool | None = None,
    ) -> LanguageItems:
        """The whole items-feed of ``language``: every page, items in feed order, components merged.

        Pages are requested one ahead: as soon as a page's headers carry the ``X-Continuation``
        token, a helper thread requests the next page, so the server prepares it while this
        thread reads and parses the current one. Bodies are read here, not in the helper:
        decoding JSON holds the GIL, and a second thread reading a large body at the same time
        only slows both down (measured, see bench/RESULTS.md).
        """
        result = LanguageItems()
        if pool is not None:
            result.items.use_arena(pool.arena)
            result.modular_content.use_arena(pool.arena)
        for page, body, last in self._feed_bodies(language):
            self._merge_feed_page(result, body, language, page, pool)
            if progress is not None:
                progress(FeedProgress(language, len(result.items), page, last))
        return result

    def items_feed_sample(self, language: str) -> LanguageItems:
        """The first page of the items-feed of ``language`` only: a sample of the content
        (``init`` looks at it to see which types have items and which appear in rich text)."""
        result = LanguageItems()
        response = self._feed_page(language, None, 1)
        body = self._read_feed_body(response, language, None, 1)
        self._merge_feed_page(result, body, language, 1)
        return result

    def _feed_bodies(self, language: str) -> Iterator[tuple[int, bytes, bool]]:
        """(page number, body, whether it is the last page) of every feed page, in order,
        each next page requested while the current one is read (see :meth:`items_feed`)."""
        token: str | None = None
        page = 1
        fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"feed-{language}")
        pending: Future[httpx.Response] | None = fetcher.submit(self._feed_page, language, None, 1)
        try:
            while pending is not None:
                response = pending.result()
                pending = None
                next_token = response.headers.get(CONTINUATION_HEADER) or None
                if next_token:
                    pending = fetcher.submit(self._feed_page, language, next_token, page + 1)
                yield page, self._read_feed_body(response, language, token, page), pending is None
                token = next_token
                page += 1
        finally:
            fetcher.shutdown(wait=False, cancel_futures=True)
            if pending is not None:  # an error left a request in flight: free its connection
                pending.add_done_callback(_close_response)

    # -- the feed --------------------------------------------------------------------------

    def _feed_page(self, language: str, token: str | None, page: int) -> httpx.Response:
        """Request one feed page; return as soon as the headers are in (body unread)."""
        params = {"language": language}
        headers: dict[str, str] = {}
        if token:
            headers[CONTINUATION_HEADER] = token
        what = f"items-feed for language {language!r} (page {page})"
        response = self._request(
            "GET", "items-feed", params=params, headers=headers, what=what, stream=True
        )
        if response.status_code == 400 and token:
            raise MalformedResponseError(
                f"{what}: the API rejected the continuation token it sent with page {page - 1} "
                f"(HTTP 400{self._api_message(response)}); "
                f"request: GET {self._display_url('items-feed', params)}",
                url=self._display_url("items-feed", params),
                status=400,
                hint="the content may have changed during the crawl; run the command again",
            )
        if response.status_code >= 400:
            self._raise_for_status(response, "GET", "items-feed", params, what, None)
        return response

    def _read_feed_body(
        self, response: httpx.Response, language: str, token: str | None, page: int
    ) -> bytes:
        """The body of a feed page; a connection dropped mid-body fetches the page again.

        The bytes are read out of the response rather than cached in it: httpx responses sit
        in reference cycles, and with the collector paused during a crawl a cached body would
        stay in memory until the crawl ends (measured: the whole feed's size, again).
        """
        for attempt in range(1, self.retry.max_attempts + 1):
            sent = time.perf_counter()
            try:
                body = b"".join(response.iter_bytes())
            except _RETRYABLE_EXCEPTIONS as exc:
                response.close()
                failure = self._describe_exception(exc)
                if attempt < self.retry.max_attempts:
                    response = self._feed_page(language, token, page)
                continue
            response.close()
            self._add_wait_time(time.perf_counter() - sent, len(body))
            return body
        params = {"language": language}
        url = self._display_url("items-feed", params)
        raise NetworkError(
            f"items-feed for language {language!r} (page {page}): the connection kept "
            f"dropping while GET {url} was being read ({failure}; "
            f"{self.retry.max_attempts} attempts)",
            url=url,
            hint="check your network, or try again later",
        )

    def _merge_feed_page(
        self,
        result: LanguageItems,
        body: bytes,
        language: str,
        page: int,
        pool: VariantPool | None = None,
    ) -> None:
        """Check a feed page and add it to ``result``: the page's objects go (items shared
        through ``pool`` with the other languages' equal variants, components encoded to
        bytes), so the crawl holds each page only while it is merged."""
        started = time.thread_time()
        params = {"language": language}
        data = self._decode(body, "GET", "items-feed", params)
        if not isinstance(data, dict):
            raise self._malformed("GET", "items-feed", params, "expected a JSON object", page)
        items = data.get("items")
        if not isinstance(items, list):
            raise self._malformed("GET", "items-feed", params, "'items' is not a list", page)
        for item in items:
            if type(item) is not dict or type(item.get("system")) is not dict:
                raise self._malformed(
                    "GET", "items-feed", params, "an item has no 'system' object", page
                )
            if not isinstance(item["system"].get("codename"), str):
                raise self._malformed(
                    "GET", "items-feed", params, "an item has no system.codename", page
                )
        components = data.get("modular_content")
        if components is None:
            components = {}
        if not isinstance(components, dict):
            raise self._malformed(
                "GET", "items-feed", params, "'modular_content' is not an object", page
            )
        if pool is None:
            result.items.extend(items)
            result.modular_content.update(components)
        else:
            for item in items:
                result.items.append_encoded(*pool.item(item))
            for codename, component in components.items():
                data = pool.component(codename, component)
                result.modular_content.put(codename, data, component)
        self._add_parse_time(time.thread_time() - started)

    # -- listings ----------------------------------------------------------------------------

    def _list_all(self, path: str, key: str) -> list[JSON]:
        """Follow ``pagination.next_page`` until it is empty.

        Only the query of ``next_page`` is used, applied to our own base URL: the key must never
        be sent to whatever host a response names.
        """
        out: list[JSON] = []
        params: dict[str, str] | None = None
        seen: set[tuple[tuple[str, str], ...]] = set()
        while True:
            data, _ = self._fetch_json("GET", path, params=params, what=f"/{path}")
            started = time.thread_time()
            if not isinstance(data, dict) or not isinstance(data.get(key), list):
                raise self._malformed(
                    "GET", path, params, f"expected an object with a '{key}' list"
                )
            values = data[key]
            for value in values:
                if not isinstance(value, dict) or not isinstance(value.get("system"), dict):
                    raise self._malformed(
                        "GET", path, params, f"an entry of '{key}' has no 'system'"
                    )
            out.extend(values)
            pagination = data.get("pagination")
            if pagination is not None and not isinstance(pagination, dict):
                raise self._malformed("GET", path, params, "'pagination' is not an object")
            next_page = (pagination or {}).get("next_page") or ""
            self._add_parse_time(time.thread_time() - started)
            if not next_page or not values:
                return out
            if not isinstance(next_page, str):
                raise self._malformed("GET", path, params, "'pagination.next_page' is not a URL")
            params = dict(parse_qsl(urlsplit(next_page).query))
            marker = tuple(sorted(params.items()))
            if marker in seen or not params:
                raise self._malformed(
                    "GET", path, params, f"pagination.next_page does not advance ({next_page!r})"
                )
            seen.add(marker)

    # -- the request machinery (also used by the Sync API methods) ---------------------------

    def _fetch_json(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        not_found: str | None = None,
    ) -> tuple[Any, httpx.Response]:
        """Send one request (with retries), check the status, decode the JSON body.

        ``not_found`` is the message for a 404; without it a 404 means the environment itself
        is unknown (every environment-level endpoint exists in every environment).
        """
        response = self._request(method, path, params=params, headers=headers, body=body, what=what)
        if response.status_code >= 400:
            self._raise_for_status(response, method, path, params, what, not_found)
        started = time.thread_time()
        data = self._decode(response.content, method, path, params)
        self._add_parse_time(time.thread_time() - started)
        return data, response

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send a request, retrying transient failures; return the first non-transient response.

        With ``stream`` a successful response comes back as soon as its headers are in, body
        unread (the caller reads it); error bodies are always read, for their message.

        Retries 408/429/500/502/503/504 and dropped/reset/timed-out connections. Waits
        ``Retry-After`` when the server gives one, else backs off exponentially with full jitter.
        Gives up with :class:`NetworkError` after ``max_attempts`` or when the next wait would
        overrun ``max_total``.
        """
        policy = self.retry
        url = self._url(path)
        host = urlsplit(url).netloc
        all_headers = dict(headers or {})
        if self.wait_for_new_content:
            all_headers[WAIT_HEADER] = "true"
        started = policy.clock()
        deadline = started + policy.max_total
        attempt = 0
        while True:
            if self._cancelled.is_set():
                raise NetworkError(f"{what}: cancelled (the crawl was stopped)")
            dead = self.dead_hosts.why(host)
            if dead is not None:
                raise self._dead_host(method, path, params, what, dead)
            attempt += 1
            with self._lock:
                self.requests += 1
            sent = time.perf_counter()
            try:
                request = self._http.build_request(
                    method, url, params=params, headers=all_headers, json=body
                )
                response = self._http.send(request, stream=stream)
                if stream and response.status_code >= 400:
                    response.read()
            except _RETRYABLE_EXCEPTIONS as exc:
                failure = self._describe_exception(exc)
                retry_after = None
                if isinstance(exc, httpx.ConnectError) and _refused(exc):
                    hostname = urlsplit(url).hostname or ""
                    if _is_loopback(hostname):
                        # Nothing listens on that port of this machine: a retry a second
                        # later finds the same. Say so now instead of after the backoff.
                        raise self._refused_here(method, path, params, what, host) from None
            except httpx.HTTPError as exc:
                raise DeliveryError(
                    f"{what}: {method} {self._display_url(path, params)} failed: "
                    f"{self._describe_exception(exc)}",
                    url=self._display_url(path, params),
                ) from None
            else:
                received = 0 if not response.is_stream_consumed else len(response.content)
                self._add_wait_time(time.perf_counter() - sent, received)
                if 300 <= response.status_code < 400:
                    response.close()
                    raise self._redirected(method, path, params, what, response)
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = f"HTTP {response.status_code}{self._api_message(response)}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = retry_after if retry_after is not None else policy.backoff(attempt - 1)
            elapsed = policy.clock() - started
            if attempt >= policy.max_attempts or elapsed + delay > policy.max_total:
                raise self._gave_up(method, path, params, what, failure, attempt, elapsed, delay)
            with self._lock:
                self.stats.retries += 1
            if self.on_retry is not None:
                request_line = f"{method} {self._display_url(path, params)}"
                self.on_retry(
                    RetryNotice(
                        what.lstrip("/"),
                        request_line,
                        failure,
                        attempt,
                        policy.max_attempts,
                        delay,
                        retry_after is not None,
                    )
                )
            if policy.sleep is None:
                self._cancelled.wait(delay)
            else:
                policy.sleep(delay)
            if policy.clock() > deadline:
                raise self._gave_up(
                    method, path, params, what, failure, attempt, policy.clock() - started, 0.0
                )

    def _api_name(self) -> str:
        return "Preview API" if self.preview else "Delivery API"

    def _refused_here(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        host: str,
    ) -> NetworkError:
        url = self._display_url(path, params)
        self.dead_hosts.mark(host, f"{method} {url}: connection refused")
        prefix = "" if what.startswith("/") else f"{what}: "
        setting = "preview_url" if self.preview else "delivery_url"
        return NetworkError(
            f"{prefix}cannot reach the {self._api_name()}: {method} {url}: connection refused "
            f"(nothing listens on {host}; not retried)",
            url=url,
            hint=f"start the server [kontent] {setting} points at, or fix {setting} in "
            "kontent.toml",
        )

    def _dead_host(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        why: str,
    ) -> NetworkError:
        url = self._display_url(path, params)
        prefix = "" if what.startswith("/") else f"{what}: "
        return NetworkError(
            f"{prefix}cannot reach the {self._api_name()}: {method} {url} not tried: its host "
            f"already failed in this build ({why})",
            url=url,
            hint="check [kontent] delivery_url/preview_url and your network, or try again later",
        )

    def _redirected(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        response: httpx.Response,
    ) -> DeliveryError:
        """A redirect is not followed (the API key must not travel to another address):
        say where it pointed, so the URL in kontent.toml can be fixed."""
        url = self._display_url(path, params)
        location = self._scrub(response.headers.get("Location", "").strip()) or "nowhere"
        setting = "preview_url" if self.preview else "delivery_url"
        prefix = "" if what.startswith("/") else f"{what}: "
        return DeliveryError(
            f"{prefix}the API answered {method} {url} with a redirect (HTTP "
            f"{response.status_code}) to {location[:300]}",
            url=url,
            status=response.status_code,
            hint=f"redirects are not followed, so that the API key goes nowhere else: check "
            f"[kontent] {setting} in kontent.toml (set it to the address redirected to if "
            "you trust it)",
        )

    def _gave_up(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        failure: str,
        attempts: int,
        elapsed: float,
        next_delay: float,
    ) -> NetworkError:
        url = self._display_url(path, params)
        api = self._api_name()
        if attempts < self.retry.max_attempts:
            why = (
                f"gave up: the next retry (in {next_delay:.1f} s) would overrun the "
                f"{self.retry.max_total:.0f} s retry budget"
            )
        else:
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            why = f"gave up after {tries} in {elapsed:.1f} s"
        if failure.startswith("HTTP "):
            problem = f"the {api} kept failing: {method} {url}: {failure}"
        else:
            problem = f"cannot reach the {api}: {method} {url} failed: {failure}"
        prefix = "" if what.startswith("/") else f"{what}: "
        self.dead_hosts.mark(urlsplit(url).netloc, f"{method} {url}: {failure}, {why}")
        return NetworkError(
            f"{prefix}{problem} ({why})",
            url=url,
            hint="check [kontent] delivery_url/preview_url and your network, or try again later "
            "(the API may be down or rate limiting; [kontent] max_retries raises the attempts)",
        )

    def _raise_for_status(
        self,
        response: httpx.Response,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        not_found: str | None,
    ) -> None:
        status = response.status_code
        url = self._display_url(path, params)
        request = f"{method} {url}"
        detail = self._api_message(response)
        if status in (401, 403):
            raise AuthError(self._auth_message(status, detail, request), url=url, status=status)
        if status == 404:
            if not_found:
                raise NotFoundError(
                    f"{not_found} (HTTP 404{detail}; {request})", url=url, status=404
                )
            raise NotFoundError(
                f"unknown environment {self.environment_id} at {self.base_url} "
                f"(HTTP 404{detail}; {request})",
                url=url,
                status=404,
                hint="check [kontent] environment_id in kontent.toml (or KONTENT_ENVIRONMENT_ID)",
            )
        raise DeliveryError(f"{what}: HTTP {status}{detail}; {request}", url=url, status=status)

    def _auth_message(self, status: int, detail: str, request: str) -> str:
        refused = "refused" if status == 403 else "rejected"
        if self.preview:
            if self.has_key:
                return (
                    f"the Preview API {refused} the key in {PREVIEW_KEY_ENV} (HTTP {status}"
                    f"{detail}; {request}): the key is wrong, expired or for another environment"
                )
            return f"the Preview API needs a key: set {PREVIEW_KEY_ENV} (HTTP {status}; {request})"
        if self.has_key:
            return (
                f"the Delivery API {refused} the key in {DELIVERY_KEY_ENV} (HTTP {status}{detail};"
                f" {request}): the key is wrong, expired or for another environment"
            )
        return (
            f"the environment requires secure access: set {DELIVERY_KEY_ENV} to a Delivery API "
            f"key (HTTP {status}{detail}; {request})"
        )

    def _decode(
        self,
        body: bytes,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
    ) -> Any:
        started = time.thread_time()
        try:
            # Parsed from bytes, skipping httpx's charset handling (JSON is UTF-8; a BOM is
            # accepted). msgspec, with the json module for what it refuses: see loads_json.
            data = loads_json(body)
        except ValueError as exc:
            raise self._malformed(
                method, path, params, f"the body is not valid JSON ({exc})"
            ) from None
        seconds = time.thread_time() - started
        with self._lock:
            self.stats.decode_seconds += seconds
        return data

    def _malformed(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        problem: str,
        page: int | None = None,
    ) -> MalformedResponseError:
        url = self._display_url(path, params)
        where = f" (page {page})" if page is not None else ""
        return MalformedResponseError(
            f"malformed response to {method} {url}{where}: {problem}",
            url=url,
            hint="the API (or a proxy in between) did not answer with Delivery API JSON; "
            "check delivery_url/preview_url",
        )

    def _display_url(self, path: str, params: Mapping[str, str] | None) -> str:
        return str(httpx.URL(self._url(path), params=params or None))

    def _url(self, path: str) -> str:
        """``path`` below the environment; a path starting with ``/`` is below the base URL
        (the Sync API v2 lives at ``{base}/v2/{env}/...``)."""
        if path.startswith("/"):
            return f"{self.base_url}{path}"
        return f"{self.environment_url}/{path}"

    def _api_message(self, response: httpx.Response) -> str:
        """The ``message`` of a Delivery API error body, short and scrubbed of the key."""
        try:
            data = json.loads(response.content)
        except ValueError:
            return ""
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, str) or not message.strip():
            return ""
        return f": {self._scrub(message.strip())[:300]}"

    def _describe_exception(self, exc: Exception) -> str:
        text = str(exc).strip()
        name = type(exc).__name__
        return self._scrub(f"{name}: {text}" if text else name)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _add_parse_time(self, seconds: float) -> None:
        with self._lock:
            self.stats.parse_seconds += seconds

    def _add_wait_time(self, seconds: float, size: int) -> None:
        with self._lock:
            self.stats.wait_seconds += seconds
            self.stats.bytes_received += size


# -- the crawl -------------------------------------------------------------------------------


def crawl(
    client: DeliveryClient,
    languages: Iterable[str] | None = None,
    *,
    progress: Callable[[FeedProgress], None] | None = None,
    max_workers: int = 8,
    store_dir: Path | None = None,
) -> Snapshot:
    """Crawl a whole environment into a :class:`Snapshot`.

    ``languages`` (config ``[kontent] languages``) limits and orders the languages; its first is
    the default. Otherwise every listed language is crawled and the default is the one with the
    all-zero id (Kontent.ai's default language), else the first listed. ``progress`` is called
    from worker threads. The first failure cancels the rest and is raised; nothing is written.
    ``store_dir``: where the crawled items are kept while the snapshot lives, in a file with
    no name (see :class:`~kontent_ssg.content.snapshot.ByteArena`); without one, in memory.
    """
    listed = client.languages()
    codenames: list[str] = []
    default_by_id: str | None = None
    for language in listed:
        codename = language["system"].get("codename")
        if not isinstance(codename, str) or not codename:
            raise client._malformed("GET", "languages", None, "a language has no codename")
        codenames.append(codename)
        if language["system"].get("id") == DEFAULT_LANGUAGE_ID and default_by_id is None:
            default_by_id = codename
    wanted = list(languages or ())
    if wanted:
        unknown = [name for name in wanted if name not in codenames]
        if unknown:
            raise ConfigError(
                f"[kontent] languages: {', '.join(map(repr, unknown))} "
                f"{'is not a language' if len(unknown) == 1 else 'are not languages'} of "
                f"environment {client.environment_id} (it has: {', '.join(codenames) or 'none'})",
                hint="fix the codenames in kontent.toml or remove 'languages' to crawl them all",
            )
        default = wanted[0]
    else:
        if not codenames:
            raise DeliveryError(
                f"environment {client.environment_id} lists no languages "
                f"(GET {client._display_url('languages', None)})"
            )
        wanted = codenames
        default = default_by_id or codenames[0]
    ordered = [default, *[name for name in wanted if name != default]]

    workers = max(1, min(max_workers, len(ordered) + 2))
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl")
    try:
        types_future = executor.submit(client.types)
        taxonomies_future = executor.submit(client.taxonomies)
        pool = VariantPool(store_dir)
        feed_futures = {
            name: executor.submit(client.items_feed, name, progress=progress, pool=pool)
            for name in ordered
        }
        futures: list[Future[Any]] = [types_future, taxonomies_future, *feed_futures.values()]
        with gc_paused():
            _wait_all_or_fail(futures)
        pool.done()
        snapshot = Snapshot(
            default_language=default,
            languages=listed,
            types=types_future.result(),
            taxonomies=taxonomies_future.result(),
            items={name: future.result() for name, future in feed_futures.items()},
        )
    except BaseException:  # an error, or Ctrl-C: stop the requests still running elsewhere
        client.cancel()
        raise
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return snapshot


def _close_response(future: Future[httpx.Response]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def _wait_all_or_fail(futures: list[Future[Any]]) -> None:
    """Wait for every future; raise the first error as soon as it happens."""
    from concurrent.futures import FIRST_EXCEPTION, wait

    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    for future in done:
        error = future.exception()
        if error is not None:
            raise error


# -- glue for the commands -------------------------------------------------------------------


def client_for(
    config: Config,
    *,
    preview: bool = False,
    wait_for_new_content: bool = False,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
    dead_hosts: DeadHosts | None = None,
) -> DeliveryClient:
    """The client a command should use: the published API unless ``preview``.

    Preview needs ``KONTENT_PREVIEW_API_KEY``; the published API sends
    ``KONTENT_DELIVERY_API_KEY`` when it is set (secure access) and nothing otherwise.
    """
    k = config.kontent
    key: str | None
    if preview:
        if not k.preview_api_key:
            raise ConfigError(
                f"--preview needs the Preview API key, but {PREVIEW_KEY_ENV} is not set",
                hint=f"export {PREVIEW_KEY_ENV}=<key from Kontent.ai: Environment settings > "
                "API keys>",
            )
        base_url, key = k.preview_url, k.preview_api_key
    else:
        base_url, key = k.delivery_url, k.delivery_api_key  # None: public API, no header
    return DeliveryClient(
        base_url,
        k.environment_id,
        api_key=key,
        timeout=k.timeout,
        retry=retry or RetryPolicy(max_attempts=k.max_retries + 1),
        transport=transport,
        wait_for_new_content=wait_for_new_content,
        preview=preview,
        on_retry=on_retry,
        dead_hosts=dead_hosts,
    )


def snapshot_dir_for(config: Config, *, preview: bool) -> Path:
    """Where the snapshot lives: preview content is kept apart from published content.

    A preview crawl holds unpublished drafts; storing it where ``build --offline`` looks would
    let a later offline build publish them.
    """
    return config.state_dir / "snapshot-preview" if preview else config.snapshot_dir


def obtain_snapshot(
    config: Config,
    *,
    preview: bool = False,
    offline: bool = False,
    progress: Callable[[FeedProgress], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    on_retry: Callable[[RetryNotice], None] | None = None,
    dead_hosts: DeadHosts | None = None,
) -> tuple[Snapshot, int]:
    """The content for a build, and the number of Delivery API requests it took.

    Offline: the saved snapshot (no network). Otherwise crawl, then save the snapshot so that
    the next offline build sees exactly what this one did; a failed crawl writes nothing.
    ``on_retry`` and ``dead_hosts`` go to the client (see :class:`DeliveryClient`).
    """
    folder = snapshot_dir_for(config, preview=preview)
    if offline:
        try:
            return load_snapshot(folder), 0
        except SnapshotError as exc:
            if (folder / "manifest.json").is_file():
                raise
            pull = "kontent-ssg pull --preview" if preview else "kontent-ssg pull"
            raise SnapshotError(
                f"--offline: no saved content snapshot at {folder}",
                hint=f"run `{pull} {config.site_dir}` (with network access) first",
            ) from exc
    with client_for(
        config, preview=preview, transport=transport, on_retry=on_retry, dead_hosts=dead_hosts
    ) as client:
        snapshot = crawl(
            client, config.kontent.languages or None, progress=progress, store_dir=folder
        )
        requests = client.requests
        base = client.environment_url
    check_snapshot(
        snapshot,
        lambda part: f"{base}/{part}" if part in _LISTS else f"{base}/items-feed ({part})",
    )
    save_snapshot(snapshot, folder)
    return snapshot, requests


_LISTS = ("languages", "types", "taxonomies")
