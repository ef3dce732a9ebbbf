"""Unit tests of the Delivery API client with ``httpx.MockTransport`` (no sockets, no sleeping).

The over-the-wire behaviour against the emulator is in test_crawl.py; here each rule of the
client is pinned down in isolation: paging, retries, error mapping, headers, the crawl's
choice of default language.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontent_ssg import __version__
from kontent_ssg.config import load_config
from kontent_ssg.content.delivery import (
    DEFAULT_LANGUAGE_ID,
    DeliveryClient,
    RetryPolicy,
    client_for,
    crawl,
    obtain_snapshot,
    parse_retry_after,
)
from kontent_ssg.errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    SnapshotError,
)

ENV = "975bf280-fd91-488c-994c-2f04416e5ee3"
BASE = "https://deliver.example.test"
SECRET = "sekrit-key-1234567890"

Handler = Callable[[httpx.Request], httpx.Response]


def item(codename: str, language: str = "en-US", type_: str = "article") -> dict[str, Any]:
    return {
        "system": {
            "id": f"id-{codename}",
            "codename": codename,
            "language": language,
            "type": type_,
            "name": codename.title(),
        },
        "elements": {"title": {"type": "text", "name": "Title", "value": codename}},
    }


class Sleeps:
    """An injectable ``sleep`` that records the delays and advances a fake clock."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(sleeps: Sleeps, **overrides: Any) -> RetryPolicy:
    values: dict[str, Any] = {
        "max_attempts": 5,
        "base_delay": 1.0,
        "max_delay": 8.0,
        "max_total": 60.0,
        "sleep": sleeps.sleep,
        "clock": sleeps.clock,
        "jitter": lambda: 0.5,
    }
    values.update(overrides)
    return RetryPolicy(**values)


class SequentialFeedClient(DeliveryClient):
    """The feed read one page after another, no read-ahead: the reference the pipelined
    product client must agree with."""

    def _feed_bodies(self, language: str) -> Iterator[tuple[int, bytes, bool]]:
        token: str | None = None
        page = 1
        while True:
            response = self._feed_page(language, token, page)
            next_token = response.headers.get("X-Continuation") or None
            yield page, self._read_feed_body(response, language, token, page), next_token is None
            if next_token is None:
                return
            token, page = next_token, page + 1


def make_client(handler: Handler, *, sequential: bool = False, **kwargs: Any) -> DeliveryClient:
    kwargs.setdefault("retry", policy(Sleeps()))
    cls = SequentialFeedClient if sequential else DeliveryClient
    return cls(BASE, ENV, transport=httpx.MockTransport(handler), **kwargs)


def feed_handler(
    pages: dict[str, list[dict[str, Any]]],
    seen: list[httpx.Request] | None = None,
    components: dict[str, dict[str, Any]] | None = None,
) -> Handler:
    """Serve ``pages[language]`` one item per page, tokens 'tok-<language>-<n>'."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = request.url.path
        if path == f"/{ENV}/languages":
            return httpx.Response(
                200,
                json={
                    "languages": [
                        {"system": {"id": "d1f95fde", "codename": "es-ES", "name": "Spanish"}},
                        {"system": {"id": DEFAULT_LANGUAGE_ID, "codename": "en-US", "name": "En"}},
                    ],
                    "pagination": {"skip": 0, "limit": 0, "count": 2, "next_page": ""},
                },
            )
        if path == f"/{ENV}/types":
            return httpx.Response(200, json={"types": [], "pagination": {"next_page": ""}})
        if path == f"/{ENV}/taxonomies":
            return httpx.Response(200, json={"taxonomies": [], "pagination": {"next_page": ""}})
        assert path == f"/{ENV}/items-feed", path
        language = request.url.params["language"]
        token = request.headers.get("X-Continuation")
        index = int(token.rsplit("-", 1)[1]) if token else 0
        items = pages[language]
        body: dict[str, Any] = {"items": items[index : index + 1]}
        if components and index in (0, len(items) - 1):
            body["modular_content"] = {
                k: v for n, (k, v) in enumerate(components.items()) if n % 2 == (index > 0)
            }
        headers = {}
        if index + 1 < len(items):
            headers["X-Continuation"] = f"tok-{language}-{index + 1}"
        return httpx.Response(200, json=body, headers=headers)

    return handler


# -- the items-feed --------------------------------------------------------------------------


def test_items_feed_follows_continuation_and_merges_pages() -> None:
    seen: list[httpx.Request] = []
    items = [item(f"a{n}") for n in range(4)]
    components = {"c1": item("c1"), "c2": item("c2"), "c3": item("c3")}
    client = make_client(feed_handler({"en-US": items}, seen, components))

    feed = client.items_feed("en-US")

    assert feed.items == items
    assert feed.modular_content == components
    assert [r.headers.get("X-Continuation") for r in seen] == [
        None,
        "tok-en-US-1",
        "tok-en-US-2",
        "tok-en-US-3",
    ]
    assert client.requests == 4


def test_feed_page_without_modular_content_key_is_fine() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [item("only")]})

    assert make_client(handler).items_feed("en-US").modular_content == {}


def test_headers_name_the_tool_and_send_wait_header_when_asked() -> None:
    seen: list[httpx.Request] = []
    client = make_client(
        feed_handler({"en-US": [item("a")]}, seen), wait_for_new_content=True, api_key=SECRET
    )
    client.items_feed("en-US")
    request = seen[0]
    assert request.headers["User-Agent"].startswith(f"kontent-ssg/{__version__}")
    assert request.headers["X-KC-SDKID"] == f"pypi.org;kontent-ssg;{__version__}"
    assert request.headers["X-KC-Wait-For-Loading-New-Content"] == "true"
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


def test_item_request_waits_for_new_content_only_when_asked() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"item": item("a"), "modular_content": {}})

    client = make_client(handler)
    client.item("a", "en-US")
    client.item("a", "es-ES", wait_for_new_content=True, depth=0)
    assert "X-KC-Wait-For-Loading-New-Content" not in seen[0].headers
    assert seen[1].headers["X-KC-Wait-For-Loading-New-Content"] == "true"
    assert seen[1].url.params["language"] == "es-ES"
    assert seen[1].url.params["depth"] == "0"
    assert seen[1].url.path == f"/{ENV}/items/a"


# -- listings ------------------------------------------------------------------------------


def test_listing_follows_next_page_query_on_our_own_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        skip = int(request.url.params.get("skip", "0"))
        types = [{"system": {"codename": f"t{n}"}, "elements": {}} for n in range(skip, skip + 2)]
        next_page = (
            f"https://elsewhere.example/{ENV}/types?skip={skip + 2}&limit=2" if skip < 4 else ""
        )
        return httpx.Response(
            200,
            json={"types": types, "pagination": {"skip": skip, "limit": 2, "next_page": next_page}},
        )

    client = make_client(handler, api_key=SECRET)
    types = client.types()
    assert [t["system"]["codename"] for t in types] == [f"t{n}" for n in range(6)]
    assert {r.url.host for r in seen} == {"deliver.example.test"}
    assert [r.url.params.get("skip") for r in seen] == [None, "2", "4"]


def test_listing_whose_next_page_does_not_advance_is_malformed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "taxonomies": [{"system": {"codename": "x"}, "terms": []}],
                "pagination": {"next_page": f"{BASE}/{ENV}/taxonomies?skip=1"},
            },
        )

    with pytest.raises(MalformedResponseError, match="does not advance"):
        make_client(handler).taxonomies()


# -- retries -------------------------------------------------------------------------------


def flaky(statuses: list[int | str], final: httpx.Response) -> tuple[Handler, list[int]]:
    """Answer with ``statuses`` in turn ('drop' raises a dropped connection), then ``final``."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= len(statuses):
            status = statuses[len(calls) - 1]
            if status == "drop":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if status == "reset":
                raise httpx.ReadError("[Errno 104] Connection reset by peer")
            if status == "timeout":
                raise httpx.ReadTimeout("timed out")
            assert isinstance(status, int)
            headers = {"Retry-After": "3"} if status == 429 else {}
            return httpx.Response(status, json={"message": "busy"}, headers=headers)
        return final

    return handler, calls


def test_retries_transient_statuses_and_dropped_connections() -> None:
    sleeps = Sleeps()
    handler, calls = flaky(
        [429, 503, "drop", 500, "reset"],
        httpx.Response(200, json={"languages": [{"system": {"codename": "en-US"}}]}),
    )
    client = make_client(handler, retry=policy(sleeps, max_attempts=10))
    assert client.languages()[0]["system"]["codename"] == "en-US"
    assert len(calls) == 6
    assert client.requests == 6
    # 429 honours Retry-After; the others back off exponentially (jitter fixed at 0.5).
    assert sleeps.delays == [3.0, 0.5 * 2.0, 0.5 * 4.0, 0.5 * 8.0, 0.5 * 8.0]


@pytest.mark.parametrize("status", [408, 502, 504, "timeout"])
def test_other_transient_failures_are_retried(status: int | str) -> None:
    handler, calls = flaky([status], httpx.Response(200, json={"types": []}))
    assert make_client(handler).types() == []
    assert len(calls) == 2


def test_client_errors_are_not_retried() -> None:
    handler, calls = flaky([400], httpx.Response(200, json={"types": []}))
    with pytest.raises(DeliveryError, match="HTTP 400"):
        make_client(handler).types()
    assert len(calls) == 1


def test_gives_up_after_max_attempts_with_a_clear_network_error() -> None:
    sleeps = Sleeps()
    handler, calls = flaky([503] * 50, httpx.Response(200))
    client = make_client(handler, retry=policy(sleeps, max_attempts=4))
    with pytest.raises(NetworkError) as caught:
        client.types()
    assert len(calls) == 4
    assert len(sleeps.delays) == 3
    message = str(caught.value)
    assert "HTTP 503" in message and "4 attempts" in message
    assert f"{BASE}/{ENV}/types" in message
    assert caught.value.exit_code == 1


def test_total_time_is_bounded_even_with_attempts_left() -> None:
    sleeps = Sleeps()
    handler, calls = flaky([503] * 50, httpx.Response(200))
    client = make_client(handler, retry=policy(sleeps, max_attempts=20, max_total=5.0))
    with pytest.raises(NetworkError, match="retry budget"):
        client.types()
    assert sum(sleeps.delays) <= 5.0
    assert len(calls) < 20


def test_retry_after_beyond_the_budget_gives_up_without_waiting() -> None:
    sleeps = Sleeps()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow down"})

    with pytest.raises(NetworkError, match="HTTP 429: slow down"):
        make_client(handler, retry=policy(sleeps)).types()
    assert sleeps.delays == []


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("  0 ", now=now) == 0.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(42.0)
    assert parse_retry_after(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_and_capped() -> None:
    retry = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=lambda: 1.0)
    assert [retry.backoff(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert RetryPolicy(jitter=lambda: 0.0).backoff(3) == 0.0


# -- errors ----------------------------------------------------------------------------------


def status_handler(status: int, body: Any = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body if body is not None else {"message": "nope"})

    return handler


def test_401_without_key_asks_for_the_delivery_key() -> None:
    with pytest.raises(AuthError) as caught:
        make_client(status_handler(401)).languages()
    assert "KONTENT_DELIVERY_API_KEY" in str(caught.value)
    assert "secure access" in str(caught.value)


def test_401_with_wrong_key_names_the_variable_not_the_key() -> None:
    body = {"message": f"token {SECRET} is invalid", "error_code": 3}
    with pytest.raises(AuthError) as caught:
        make_client(status_handler(401, body), api_key=SECRET).languages()
    message = str(caught.value)
    assert "KONTENT_DELIVERY_API_KEY" in message and "wrong" in message
    assert SECRET not in message


def test_403_on_preview_names_the_preview_key() -> None:
    with pytest.raises(AuthError, match="KONTENT_PREVIEW_API_KEY"):
        make_client(status_handler(403), api_key=SECRET, preview=True).languages()


def test_404_on_environment_request_is_unknown_environment() -> None:
    with pytest.raises(NotFoundError, match=f"unknown environment {ENV}"):
        make_client(status_handler(404)).types()


def test_404_on_item_names_the_item() -> None:
    with pytest.raises(NotFoundError, match="content item 'ghost' not found in language 'en-US'"):
        make_client(status_handler(404)).item("ghost", "en-US")


def test_malformed_json_names_the_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{not json")

    with pytest.raises(MalformedResponseError) as caught:
        make_client(handler).items_feed("es-ES")
    message = str(caught.value)
    assert "not valid JSON" in message
    assert f"GET {BASE}/{ENV}/items-feed?language=es-ES" in message


@pytest.mark.parametrize(
    "body, problem",
    [
        ([], "expected a JSON object"),
        ({"items": {}}, "'items' is not a list"),
        ({"items": [{"elements": {}}]}, "no 'system'"),
        ({"items": [item("a")], "modular_content": []}, "'modular_content' is not an object"),
    ],
)
def test_wrong_feed_shape_is_malformed(body: Any, problem: str) -> None:
    with pytest.raises(MalformedResponseError, match=problem):
        make_client(status_handler(200, body)).items_feed("en-US")


def test_rejected_continuation_token_names_the_feed_and_language() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Continuation"):
            return httpx.Response(400, json={"message": "Invalid continuation token"})
        return httpx.Response(200, json={"items": [item("a")]}, headers={"X-Continuation": "t1"})

    with pytest.raises(MalformedResponseError) as caught:
        make_client(handler).items_feed("es-ES")
    message = str(caught.value)
    assert "items-feed for language 'es-ES' (page 2)" in message
    assert "continuation token" in message
    assert caught.value.exit_code == 1


def test_key_with_unsendable_characters_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="KONTENT_DELIVERY_API_KEY"):
        make_client(status_handler(200), api_key="bad key\n")


# -- the crawl -------------------------------------------------------------------------------


def test_crawl_picks_the_all_zero_language_as_default() -> None:
    pages = {"en-US": [item("a"), item("b")], "es-ES": [item("a", "es-ES"), item("b")]}
    snapshot = crawl(make_client(feed_handler(pages)))
    assert snapshot.default_language == "en-US"
    assert snapshot.language_codenames == ["en-US", "es-ES"]
    assert snapshot.items["es-ES"].items == pages["es-ES"]
    assert [lang["system"]["codename"] for lang in snapshot.languages] == ["es-ES", "en-US"]


def test_crawl_with_configured_languages_uses_the_first_as_default() -> None:
    pages = {"en-US": [item("a")], "es-ES": [item("a", "es-ES")]}
    snapshot = crawl(make_client(feed_handler(pages)), ["es-ES"])
    assert snapshot.default_language == "es-ES"
    assert list(snapshot.items) == ["es-ES"]


def test_crawl_with_unknown_configured_language_is_a_config_error() -> None:
    pages = {"en-US": [item("a")]}
    with pytest.raises(ConfigError, match="'fr-FR' is not a language") as caught:
        crawl(make_client(feed_handler(pages)), ["en-US", "fr-FR"])
    assert caught.value.exit_code == 2


def test_crawl_failure_in_one_language_fails_the_crawl() -> None:
    inner = feed_handler({"en-US": [item("a")], "es-ES": [item("a")]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("language") == "es-ES":
            return httpx.Response(200, content=b"<html>proxy error</html>")
        return inner(request)

    with pytest.raises(MalformedResponseError, match="language=es-ES"):
        crawl(make_client(handler))


# -- glue ------------------------------------------------------------------------------------


def write_site(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{ENV}"\ndelivery_url = "{BASE}"\n{extra}', encoding="utf-8"
    )
    return tmp_path


def test_client_for_preview_without_key_is_a_config_error(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path), env={})
    with pytest.raises(ConfigError, match="KONTENT_PREVIEW_API_KEY") as caught:
        client_for(config, preview=True)
    assert caught.value.exit_code == 2


def test_client_for_uses_preview_url_and_keys(tmp_path: Path) -> None:
    config = load_config(
        write_site(tmp_path, 'preview_url = "https://preview.example.test"\nmax_retries = 2\n'),
        env={"KONTENT_PREVIEW_API_KEY": "pk", "KONTENT_DELIVERY_API_KEY": "dk"},
    )
    preview = client_for(config, preview=True)
    published = client_for(config)
    assert preview.base_url == "https://preview.example.test" and preview.preview
    assert preview._http.headers["Authorization"] == "Bearer pk"
    assert published.base_url == BASE and not published.preview
    assert published._http.headers["Authorization"] == "Bearer dk"
    assert published.retry.max_attempts == 3
    assert "dk" not in repr(published) and "pk" not in repr(preview)


def test_obtain_snapshot_offline_without_snapshot_says_to_pull(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path), env={})
    with pytest.raises(SnapshotError) as caught:
        obtain_snapshot(config, offline=True)
    assert "kontent-ssg pull" in str(caught.value)


def test_obtain_snapshot_crawls_saves_and_reads_back_offline(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path), env={})
    pages = {"en-US": [item("a"), item("b")], "es-ES": [item("a", "es-ES")]}
    transport = httpx.MockTransport(feed_handler(pages))
    online, requests = obtain_snapshot(config, transport=transport)
    assert requests == 6  # languages, types, taxonomies, 2 + 1 feed pages
    offline, none = obtain_snapshot(config, offline=True)
    assert offline == online and none == 0
    manifest = json.loads((config.snapshot_dir / "manifest.json").read_text())
    assert manifest["default_language"] == "en-US"


class _BrokenBody(httpx.SyncByteStream):
    """A body that dies half-way, like a connection dropped while the page was in flight."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"items": ['
        raise httpx.ReadError("[Errno 104] Connection reset by peer")


class _ChunkedBody(httpx.SyncByteStream):
    """A body that arrives in two chunks, as from a socket (nothing cached up front)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        half = len(self.data) // 2
        yield self.data[:half]
        yield self.data[half:]


def streaming(response: httpx.Response) -> httpx.Response:
    return httpx.Response(
        response.status_code, headers=response.headers, stream=_ChunkedBody(response.content)
    )


@pytest.mark.parametrize("pipelined", [True, False])
def test_page_whose_body_is_cut_off_is_fetched_again(pipelined: bool) -> None:
    items = [item(f"a{n}") for n in range(3)]
    inner = feed_handler({"en-US": items})
    broken: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers.get("X-Continuation")
        if token == "tok-en-US-1" and len(broken) < 2:
            broken.append(token)
            return httpx.Response(
                200, headers={"X-Continuation": "tok-en-US-2"}, stream=_BrokenBody()
            )
        return streaming(inner(request))

    client = make_client(handler, sequential=not pipelined)
    feed = client.items_feed("en-US")
    assert feed.items == items
    assert broken == ["tok-en-US-1", "tok-en-US-1"]
    assert client.requests == 5  # three pages, one of them three times


def test_body_that_always_breaks_gives_up_with_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_BrokenBody())

    client = make_client(handler, retry=policy(Sleeps(), max_attempts=3))
    with pytest.raises(NetworkError, match="connection kept dropping") as caught:
        client.items_feed("en-US")
    assert "ReadError" in str(caught.value)
    assert client.requests == 3


def test_pipelined_and_sequential_feeds_agree() -> None:
    items = [item(f"a{n}") for n in range(5)]
    components = {"c1": item("c1"), "c2": item("c2")}
    pipelined = make_client(feed_handler({"en-US": items}, components=components))
    sequential = make_client(feed_handler({"en-US": items}, components=components), sequential=True)
    assert pipelined.items_feed("en-US") == sequential.items_feed("en-US")
    assert pipelined.requests == sequential.requests == 5


def test_a_failed_crawl_stops_retries_still_waiting_in_other_threads() -> None:
    import threading

    english: list[int] = []
    inner = feed_handler({"en-US": [item("a")], "es-ES": [item("a")]})

    def handler(request: httpx.Request) -> httpx.Response:
        language = request.url.params.get("language")
        if language == "en-US":
            english.append(1)
            return httpx.Response(503, headers={"Retry-After": "20"}, json={"message": "busy"})
        if language == "es-ES":
            return httpx.Response(200, content=b"not json")
        return inner(request)

    client = make_client(handler, retry=RetryPolicy(max_attempts=5, max_total=60.0))
    with pytest.raises(MalformedResponseError):
        crawl(client)
    # The en-US feed was waiting out a 20 s Retry-After; the failure woke it and it gave up.
    workers = [t for t in threading.enumerate() if t.name.startswith(("crawl", "feed-"))]
    for worker in workers:
        worker.join(timeout=5.0)
    assert not any(worker.is_alive() for worker in workers)
    assert len(english) <= 1


# -- every path segment encoded ------------------------------------------------------------


@pytest.mark.parametrize(
    ("codename", "segment"),
    [
        ("plain_codename", "plain_codename"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("../../languages", "..%2F..%2Flanguages"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a b%2F", "a%20b%252F"),
        ("caf\u00e9", "caf%C3%A9"),
    ],
)
def test_codenames_are_one_encoded_path_segment_over_http(codename, segment):
    """Real HTTP: a codename can neither leave ``items/`` (``../``) nor cut the URL short
    (``?``, ``#``); the server sees exactly one segment."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from kontent_ssg.server import serve_in_thread

    seen: list[tuple[bytes, bytes]] = []

    async def anything(request):
        seen.append((request.scope["raw_path"], request.scope["query_string"]))
        system = {"codename": codename, "language": "en-US", "type": "article", "id": "x"}
        if b"/taxonomies/" in request.scope["raw_path"]:
            return JSONResponse({"system": system, "terms": []})
        return JSONResponse({"item": {"system": system, "elements": {}}, "modular_content": {}})

    handle = serve_in_thread(Starlette(routes=[Route("/{p:path}", anything)]))
    try:
        with DeliveryClient(handle.url, ENV) as client:
            client.item(codename, "en-US")
            client.taxonomy(codename)
    finally:
        handle.stop()
    assert seen == [
        (f"/{ENV}/items/{segment}".encode(), b"language=en-US"),
        (f"/{ENV}/taxonomies/{segment}".encode(), b""),
    ]


def test_an_empty_codename_is_never_requested():
    requested: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request)
        return httpx.Response(200, json={})

    with DeliveryClient(BASE, ENV, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(DeliveryError, match="empty codename"):
            client.item("", "en-US")
        with pytest.raises(DeliveryError, match="empty codename"):
            client.taxonomy("")
    assert requested == []  # not the items listing at items/
