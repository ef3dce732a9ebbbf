"""The Delivery API emulator, over real HTTP: paging, languages, keys, faults, Sync API,
webhooks, and the real captured responses served back exactly."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontent_ssg.content.snapshot import LanguageItems, Snapshot, save_snapshot
from kontent_ssg.content.webhooks import parse_webhook, verify_signature
from tests.support.emulator import (
    Emulator,
    Faults,
    WebhookChange,
    build_webhook_body,
    sign_webhook,
    signature_header,
)
from tests.support.fixtures import REPO, load_real

ENV = "3c2b1a00-0000-4000-8000-00000000abcd"
# The environment's fallback setting for make_snapshot(): de-DE -> es-ES -> en-US.
FALLBACKS = {"de-DE": "es-ES", "es-ES": "en-US"}

# --------------------------------------------------------------------------------------------
# A small hand-written snapshot: three languages, fallbacks, components, linked items, a cycle
# --------------------------------------------------------------------------------------------


def _item(codename: str, type_: str, language: str, **elements: Any) -> dict[str, Any]:
    return {
        "system": {
            "id": f"id-{codename}",
            "name": codename.replace("_", " ").title(),
            "codename": codename,
            "language": language,
            "type": type_,
            "collection": "default",
            "sitemap_locations": [],
            "last_modified": "2024-05-01T10:00:00Z",
            "workflow": "default",
            "workflow_step": "published",
        },
        "elements": elements,
    }


def _text(value: str) -> dict[str, Any]:
    return {"type": "text", "name": "Text", "value": value}


def _number(value: float | None) -> dict[str, Any]:
    return {"type": "number", "name": "Number", "value": value}


def _date(value: str | None) -> dict[str, Any]:
    return {"type": "date_time", "name": "Date", "value": value}


def _terms(*codenames: str) -> dict[str, Any]:
    return {
        "type": "taxonomy",
        "name": "Topics",
        "taxonomy_group": "topics",
        "value": [{"name": c.title(), "codename": c} for c in codenames],
    }


def _linked(*codenames: str) -> dict[str, Any]:
    return {"type": "modular_content", "name": "Linked", "value": list(codenames)}


def _rich(html: str, *objects: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "name": "Body",
        "images": {},
        "links": {},
        "modular_content": list(objects),
        "value": html,
    }


def _obj(codename: str, rel: str = "component") -> str:
    return (
        f'<object type="application/kenticocloud" data-type="item" data-rel="{rel}" '
        f'data-codename="{codename}"></object>'
    )


def _article(
    codename: str,
    language: str,
    title: str,
    rank: float | None,
    date: str | None,
    topics: tuple[str, ...],
    author: tuple[str, ...],
    related: tuple[str, ...],
    body: dict[str, Any],
) -> dict[str, Any]:
    return _item(
        codename,
        "article",
        language,
        title=_text(title),
        rank=_number(rank),
        post_date=_date(date),
        topics=_terms(*topics),
        author=_linked(*author),
        related=_linked(*related),
        body=body,
    )


FILLERS = 18


def make_snapshot() -> Snapshot:
    en = "en-US"
    callout = _item(
        "n_callout_a",
        "callout",
        en,
        text=_rich("<p>Nested:</p>" + _obj("n_callout_nested"), "n_callout_nested"),
    )
    nested = _item("n_callout_nested", "callout", en, text=_rich("<p>deep</p>"))
    en_items = [
        _article(
            "article_a",
            en,
            "Alpha",
            3,
            "2024-01-10T00:00:00Z",
            ("coffee", "tea"),
            ("author_x",),
            (),
            _rich(
                "<p>A</p>" + _obj("n_callout_a") + _obj("article_b", "link"),
                "n_callout_a",
                "article_b",
            ),
        ),
        _article(
            "article_b",
            en,
            "Beta",
            1,
            "2024-02-10T00:00:00Z",
            ("coffee",),
            ("author_y",),
            ("article_c",),
            _rich("<p>B</p>"),
        ),
        _article("article_c", en, "Gamma", 2, None, (), (), ("article_a",), _rich("<p><br></p>")),
        _item("author_x", "author", en, name=_text("Xena")),
        _item("author_y", "author", en, name=_text("Yuri")),
    ] + [
        _item(f"note_{i:02d}", "note", en, name=_text(f"Note {i}"), n=_number(i))
        for i in range(FILLERS)
    ]
    es_items = [
        _article(
            "article_a",
            "es-ES",
            "Alfa",
            3,
            "2024-01-10T00:00:00Z",
            ("coffee", "tea"),
            ("author_x",),
            (),
            _rich("<p>A es</p>"),
        ),
        _item("solo_es", "note", "es-ES", name=_text("Solo")),
    ]
    de_items = [
        _article(
            "article_b",
            "de-DE",
            "Beta de",
            1,
            "2024-02-10T00:00:00Z",
            ("coffee",),
            ("author_y",),
            ("article_c",),
            _rich("<p>B de</p>"),
        ),
    ]
    return Snapshot(
        default_language=en,
        languages=[
            {"system": {"id": f"lang-{code}", "name": code, "codename": code}}
            for code in (en, "es-ES", "de-DE")
        ],
        types=[
            {
                "system": {
                    "id": f"type-{t}",
                    "name": t.title(),
                    "codename": t,
                    "last_modified": "2024-01-01T00:00:00Z",
                },
                "elements": {},
            }
            for t in ("article", "author", "callout", "note")
        ],
        taxonomies=[
            {
                "system": {
                    "id": "tax-topics",
                    "name": "Topics",
                    "codename": "topics",
                    "last_modified": "2024-01-01T00:00:00Z",
                },
                "terms": [
                    {"name": "Coffee", "codename": "coffee", "terms": []},
                    {"name": "Tea", "codename": "tea", "terms": []},
                ],
            },
            {
                "system": {
                    "id": "tax-region",
                    "name": "Region",
                    "codename": "region",
                    "last_modified": "2024-01-01T00:00:00Z",
                },
                "terms": [],
            },
        ],
        items={
            en: LanguageItems(en_items, {"n_callout_a": callout, "n_callout_nested": nested}),
            "es-ES": LanguageItems(es_items, {}),
            "de-DE": LanguageItems(de_items, {}),
        },
    )


@pytest.fixture
def snapshot() -> Snapshot:
    return make_snapshot()


@pytest.fixture
def emu(snapshot: Snapshot) -> Iterator[Emulator]:
    with Emulator(snapshot, environment_id=ENV, page_size=7, fallbacks=FALLBACKS) as emulator:
        yield emulator


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def crawl(
    client: httpx.Client,
    base: str,
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Follow X-Continuation until it is absent; return the pages' JSON and responses."""
    pages: list[dict[str, Any]] = []
    responses: list[httpx.Response] = []
    token = None
    params = {"language": language} if language else {}
    while True:
        h = dict(headers or {})
        if token:
            h["X-Continuation"] = token
        r = client.get(f"{base}/{ENV}/items-feed", params=params, headers=h)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        responses.append(r)
        token = r.headers.get("x-continuation")
        if not token:
            return pages, responses


def codenames(items: list[dict[str, Any]]) -> list[str]:
    return [i["system"]["codename"] for i in items]


# --------------------------------------------------------------------------------------------
# items-feed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 7, 2000])
def test_feed_pages_return_every_item_once_in_order(snapshot: Snapshot, page_size: int) -> None:
    with Emulator(snapshot, environment_id=ENV, page_size=page_size) as emu, httpx.Client() as c:
        pages, responses = crawl(c, emu.url, "en-US")
        items = [i for p in pages for i in p["items"]]
        assert codenames(items) == codenames(snapshot.items["en-US"].items)
        assert items == snapshot.items["en-US"].items
        expected_pages = -(-len(items) // page_size)
        assert len(pages) == expected_pages
        assert all(len(p["items"]) <= page_size for p in pages)
        # every page but the last carries a token; tokens differ page to page
        tokens = [r.headers.get("x-continuation") for r in responses]
        assert all(tokens[:-1]) and tokens[-1] is None
        assert len(set(tokens[:-1])) == len(tokens) - 1
        merged: dict[str, Any] = {}
        for p in pages:
            merged.update(p["modular_content"])
        assert merged == snapshot.items["en-US"].modular_content


def test_feed_modular_content_holds_only_the_pages_components(emu: Emulator) -> None:
    with httpx.Client() as c:
        pages, _ = crawl(c, emu.url, "en-US")
    first = pages[0]
    assert "article_a" in codenames(first["items"])
    # the component and the component inside it; never linked items
    assert set(first["modular_content"]) == {"n_callout_a", "n_callout_nested"}
    for page in pages[1:]:
        assert page["modular_content"] == {}


def test_feed_without_language_is_the_default_language(emu: Emulator, client: httpx.Client) -> None:
    pages, _ = crawl(client, emu.url)
    assert codenames([i for p in pages for i in p["items"]])[:3] == [
        "article_a",
        "article_b",
        "article_c",
    ]


def test_feed_token_is_reusable_and_tied_to_its_language(
    emu: Emulator, client: httpx.Client
) -> None:
    url = f"{emu.url}/{ENV}/items-feed"
    first = client.get(url, params={"language": "en-US"})
    token = first.headers["x-continuation"]
    again = [
        client.get(url, params={"language": "en-US"}, headers={"X-Continuation": token})
        for _ in range(2)
    ]
    assert again[0].status_code == again[1].status_code == 200
    assert again[0].content == again[1].content
    assert again[0].json()["items"][0]["system"]["codename"] == "note_02"
    other = client.get(url, params={"language": "es-ES"}, headers={"X-Continuation": token})
    assert other.status_code == 400


def test_feed_garbage_token_is_a_400_in_the_api_error_shape(
    emu: Emulator, client: httpx.Client
) -> None:
    r = client.get(f"{emu.url}/{ENV}/items-feed", headers={"X-Continuation": "+RID:~bogus#RT:9"})
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"message", "request_id", "error_code", "specific_code"}
    assert "continuation" in body["message"].lower()


# --------------------------------------------------------------------------------------------
# /items/{codename}
# --------------------------------------------------------------------------------------------


def test_items_depth_semantics(emu: Emulator, client: httpx.Client) -> None:
    def modular(depth: int | None) -> set[str]:
        params = {"depth": str(depth)} if depth is not None else {}
        r = client.get(f"{emu.url}/{ENV}/items/article_a", params=params)
        assert r.status_code == 200
        return set(r.json()["modular_content"])

    components = {"n_callout_a", "n_callout_nested"}
    assert modular(0) == components  # components are always there
    assert modular(None) == components | {"author_x", "article_b"}  # default depth 1
    assert modular(1) == components | {"author_x", "article_b"}
    assert modular(2) == components | {"author_x", "article_b", "author_y", "article_c"}
    # the cycle a -> b -> c -> a ends: a is listed once, nothing loops
    assert modular(10) == modular(2) | {"article_a"}


def test_unknown_item_taxonomy_and_path_are_404(emu: Emulator, client: httpx.Client) -> None:
    for path in ("items/nope", "taxonomies/nope", "items", "types/article", "nothing-here"):
        r = client.get(f"{emu.url}/{ENV}/{path}")
        assert r.status_code == 404, path
        assert set(r.json()) == {"message", "request_id", "error_code", "specific_code"}
    assert "nope" in client.get(f"{emu.url}/{ENV}/items/nope").json()["message"]


def test_unknown_language_is_a_400(emu: Emulator, client: httpx.Client) -> None:
    for path in ("items-feed", "items/article_a"):
        r = client.get(f"{emu.url}/{ENV}/{path}", params={"language": "xx-XX"})
        assert r.status_code == 400, path
        assert "xx-XX" in r.json()["message"]


# --------------------------------------------------------------------------------------------
# types, taxonomies, languages
# --------------------------------------------------------------------------------------------


def test_types_taxonomies_languages(
    emu: Emulator, client: httpx.Client, snapshot: Snapshot
) -> None:
    types = client.get(f"{emu.url}/{ENV}/types").json()
    assert types["types"] == snapshot.types
    assert types["pagination"] == {"skip": 0, "limit": 0, "count": 4, "next_page": ""}
    taxonomies = client.get(f"{emu.url}/{ENV}/taxonomies").json()
    assert taxonomies["taxonomies"] == snapshot.taxonomies
    assert client.get(f"{emu.url}/{ENV}/taxonomies/topics").json() == snapshot.taxonomies[0]
    languages = client.get(f"{emu.url}/{ENV}/languages").json()
    assert languages["languages"] == snapshot.languages
    assert languages["pagination"]["count"] == 3


def test_listing_skip_and_limit(emu: Emulator, client: httpx.Client) -> None:
    first = client.get(f"{emu.url}/{ENV}/types", params={"limit": 3}).json()
    assert [t["system"]["codename"] for t in first["types"]] == ["article", "author", "callout"]
    assert first["pagination"]["next_page"].endswith("/types?skip=3&limit=3")
    second = client.get(first["pagination"]["next_page"]).json()
    assert [t["system"]["codename"] for t in second["types"]] == ["note"]
    assert second["pagination"] == {"skip": 3, "limit": 3, "count": 1, "next_page": ""}


# --------------------------------------------------------------------------------------------
# languages and fallbacks
# --------------------------------------------------------------------------------------------


def test_fallback_chain_for_hand_written_snapshot(emu: Emulator, client: httpx.Client) -> None:
    def served(language: str) -> dict[str, str]:
        pages, _ = crawl(client, emu.url, language)
        return {i["system"]["codename"]: i["system"]["language"] for p in pages for i in p["items"]}

    en, es, de = served("en-US"), served("es-ES"), served("de-DE")
    assert "solo_es" not in en  # en-US has no fallback
    assert en["article_a"] == "en-US"
    assert es["article_a"] == "es-ES" and es["solo_es"] == "es-ES" and es["article_b"] == "en-US"
    # de-DE -> es-ES -> en-US
    assert de["article_b"] == "de-DE"
    assert de["article_a"] == "es-ES"
    assert de["solo_es"] == "es-ES"
    assert de["article_c"] == "en-US"
    assert len(de) == len(en) + 1  # every item once, plus the Spanish-only one
    # the listing puts the language's own variants first, in its order
    de_pages, _ = crawl(client, emu.url, "de-DE")
    assert codenames(de_pages[0]["items"])[0] == "article_b"


def test_fallback_variant_served_by_items_endpoint(emu: Emulator, client: httpx.Client) -> None:
    r = client.get(f"{emu.url}/{ENV}/items/article_c", params={"language": "de-DE"})
    assert r.json()["item"]["system"]["language"] == "en-US"
    r = client.get(f"{emu.url}/{ENV}/items/solo_es", params={"language": "en-US"})
    assert r.status_code == 404


def test_without_explicit_fallbacks_the_chain_ends_at_the_default(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV) as emu, httpx.Client() as c:
        pages, _ = crawl(c, emu.url, "de-DE")
    langs = {i["system"]["codename"]: i["system"]["language"] for i in pages[0]["items"]}
    assert langs["article_a"] == "en-US"  # not es-ES: de-DE falls back straight to en-US
    assert "solo_es" not in langs


def test_real_two_language_feed_is_served_back_unchanged(real_fixtures: Path) -> None:
    prefix = "kontent-ai__gatsby-packages/packages__gatsby-source__tests__"
    first = load_real(prefix + "complexContentItemsFirstLanguageFakeReponse.json")
    second = load_real(prefix + "complexContentItemsSecondLanguageFakeReponse.json")
    snap = Snapshot(
        default_language="default",
        types=load_real(prefix + "complexTypesFakeResponse.json")["types"],
        taxonomies=load_real(prefix + "complexTaxonomiesFakeResponse.json")["taxonomies"],
        items={
            "default": LanguageItems(first["items"], first["modular_content"]),
            "Another_language": LanguageItems(second["items"], second["modular_content"]),
        },
    )
    for page_size in (1, 7, 2000):
        with Emulator(snap, environment_id=ENV, page_size=page_size) as emu, httpx.Client() as c:
            for language, expected in (("default", first), ("Another_language", second)):
                pages, _ = crawl(c, emu.url, language)
                assert [i for p in pages for i in p["items"]] == expected["items"]
                merged: dict[str, Any] = {}
                for p in pages:
                    merged.update(p["modular_content"])
                assert merged == expected["modular_content"]


def test_crawled_snapshot_follows_changes_to_fallback_variants(real_fixtures: Path) -> None:
    prefix = "kontent-ai__gatsby-packages/packages__gatsby-source__tests__"
    first = load_real(prefix + "complexContentItemsFirstLanguageFakeReponse.json")
    second = load_real(prefix + "complexContentItemsSecondLanguageFakeReponse.json")
    snap = Snapshot(
        default_language="default",
        items={
            "default": LanguageItems(first["items"], first["modular_content"]),
            "Another_language": LanguageItems(second["items"], second["modular_content"]),
        },
    )
    fallback = next(i for i in second["items"] if i["system"]["language"] == "default")
    codename = fallback["system"]["codename"]
    updated = next(i for i in first["items"] if i["system"]["codename"] == codename)
    updated = {**updated, "system": {**updated["system"], "name": "Renamed"}}
    with Emulator(snap, environment_id=ENV) as emu, httpx.Client() as c:
        emu.upsert_item(updated)
        emu.upsert_item(_item("fresh", "note", "default"))
        pages, _ = crawl(c, emu.url, "Another_language")
    served = {i["system"]["codename"]: i for p in pages for i in p["items"]}
    assert served[codename]["system"]["name"] == "Renamed"
    assert served["fresh"]["system"]["language"] == "default"
    assert len(served) == len(second["items"]) + 1


def test_real_net_feed_pages_and_types_served_back(real_fixtures: Path) -> None:
    net = "kontent-ai__delivery-sdk-net/Kontent.Ai.Delivery.Tests__Fixtures__DeliveryClient__"
    page1 = load_real(net + "articles_feed_1.json")
    page2 = load_real(net + "articles_feed_2.json")
    ruby = "kontent-ai__delivery-sdk-ruby/lib__delivery__tests__generic__"
    items = page1["items"] + page2["items"]
    snap = Snapshot(
        default_language="en-US",
        languages=load_real(ruby + "languages.json")["languages"],
        types=load_real(ruby + "types.json")["types"],
        taxonomies=load_real(ruby + "taxonomies.json")["taxonomies"],
        items={"en-US": LanguageItems(items, {})},
    )
    with Emulator(snap, environment_id=ENV, page_size=5) as emu, httpx.Client() as c:
        pages, _ = crawl(c, emu.url, "en-US")
        assert [p["items"] for p in pages] == [page1["items"], page2["items"]]
        types = c.get(f"{emu.url}/{ENV}/types").json()
        assert types == load_real(ruby + "types.json")
        languages = c.get(f"{emu.url}/{ENV}/languages").json()
        assert languages == load_real(ruby + "languages.json")
        manufacturer = c.get(f"{emu.url}/{ENV}/taxonomies/manufacturer").json()
        assert manufacturer == load_real(ruby + "taxonomies__manufacturer.json")


# --------------------------------------------------------------------------------------------
# recorded feed: the real 3-page delivery-sdk-ruby feed with its real continuation tokens
# --------------------------------------------------------------------------------------------


def _ruby_recorded(real_fixtures: Path) -> tuple[list[tuple[bytes, str | None]], dict[str, Any]]:
    flow = load_real("kontent-ai__delivery-sdk-ruby/DERIVED__items_feed_continuation_headers.json")
    folder = real_fixtures / "kontent-ai__delivery-sdk-ruby"
    pages = [
        ((folder / step["response_body"]).read_bytes(), step["response_X-Continuation"])
        for step in flow["flow"]
    ]
    return pages, flow


def test_recorded_feed_replays_real_tokens_exactly(real_fixtures: Path, snapshot: Snapshot) -> None:
    pages, flow = _ruby_recorded(real_fixtures)
    with Emulator(snapshot, environment_id=ENV, recorded_feed={"en-US": pages}) as emu:
        with httpx.Client() as c:
            for step, (body, _) in zip(flow["flow"], pages, strict=True):
                headers = {}
                if step["request_X-Continuation"]:
                    headers["X-Continuation"] = step["request_X-Continuation"]
                r = c.get(
                    f"{emu.url}/{ENV}/items-feed", params={"language": "en-US"}, headers=headers
                )
                assert r.status_code == 200
                assert r.content == body
                assert r.headers.get("x-continuation") == step["response_X-Continuation"]
            unused = flow["unused_token_CONTINUATION_HEADER_3"]
            r = c.get(f"{emu.url}/{ENV}/items-feed", headers={"X-Continuation": unused})
            assert r.status_code == 400
        log = emu.request_log
        assert [rec.headers.get("x-continuation") for rec in log[:3]] == [
            s["request_X-Continuation"] for s in flow["flow"]
        ]


def test_recorded_feed_is_crawled_in_six_items(real_fixtures: Path, snapshot: Snapshot) -> None:
    pages, _ = _ruby_recorded(real_fixtures)
    recorded = {"en-US": pages}
    with Emulator(snapshot, environment_id=ENV, recorded_feed=recorded) as emu, httpx.Client() as c:
        got, _ = crawl(c, emu.url, "en-US")
    assert len(got) == 3
    assert codenames([i for p in got for i in p["items"]])[0] == "origins_of_arabica_bourbon"
    assert sum(len(p["items"]) for p in got) == 6


# --------------------------------------------------------------------------------------------
# keys: secure access, preview, unknown environment
# --------------------------------------------------------------------------------------------


def _secure_401(snapshot: Snapshot) -> list[dict[str, Any]]:
    bodies = []
    with Emulator(snapshot, environment_id=ENV, secure_key="s3cret") as emu, httpx.Client() as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            r = c.get(f"{emu.url}/{ENV}/items-feed", headers=headers)
            assert r.status_code == 401
            bodies.append(r.json())
        ok = c.get(f"{emu.url}/{ENV}/items-feed", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert emu.request_log[-1].headers["authorization"] == "Bearer s3cret"
    return bodies


def test_secure_key_required(snapshot: Snapshot) -> None:
    for body in _secure_401(snapshot):
        assert set(body) == {"message", "request_id", "error_code", "specific_code"}
        assert body["error_code"] == 3
        assert "Authorization" in body["message"]


def test_secure_key_401_matches_the_real_body(snapshot: Snapshot, real_fixtures: Path) -> None:
    real_401 = load_real("kontent-ai__delivery-sdk-ruby/lib__delivery__tests__401.json")
    for body in _secure_401(snapshot):
        assert set(body) == set(real_401)
        assert body["message"] == real_401["message"]
        assert body["error_code"] == real_401["error_code"]
        assert body["specific_code"] == real_401["specific_code"]


def test_preview_served_under_preview_url_with_preview_key(snapshot: Snapshot) -> None:
    preview = make_snapshot()
    draft = _item("draft_only", "note", "en-US", name=_text("Draft"))
    preview.items["en-US"].items.append(draft)
    with Emulator(snapshot, environment_id=ENV, preview_key="pk", preview_snapshot=preview) as emu:
        assert emu.preview_url.startswith(emu.url)
        with httpx.Client() as c:
            assert c.get(f"{emu.preview_url}/{ENV}/items/draft_only").status_code == 401
            bad = c.get(
                f"{emu.preview_url}/{ENV}/items/draft_only",
                headers={"Authorization": "Bearer nope"},
            )
            assert bad.status_code == 401
            auth = {"Authorization": "Bearer pk"}
            r = c.get(f"{emu.preview_url}/{ENV}/items/draft_only", headers=auth)
            assert r.status_code == 200
            pages, _ = crawl(c, emu.preview_url, "en-US", headers=auth)
            assert "draft_only" in codenames([i for p in pages for i in p["items"]])
            published, _ = crawl(c, emu.url, "en-US")
            assert "draft_only" not in codenames([i for p in published for i in p["items"]])
            assert c.get(f"{emu.url}/{ENV}/items/draft_only").status_code == 404


def test_unknown_environment_is_404(emu: Emulator, client: httpx.Client) -> None:
    r = client.get(f"{emu.url}/00000000-dead-beef-0000-000000000000/items-feed")
    assert r.status_code == 404
    body = r.json()
    assert set(body) == {"message", "request_id", "error_code", "specific_code"}
    assert "00000000-dead-beef-0000-000000000000" in body["message"]


# --------------------------------------------------------------------------------------------
# HTTP behaviour: keep-alive, concurrency, log, stop
# --------------------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(emu: Emulator, client: httpx.Client) -> None:
    for _ in range(10):
        assert client.get(f"{emu.url}/{ENV}/languages").status_code == 200
    assert emu.connection_count == 1
    assert emu.request_count == 10


def test_concurrent_crawls_agree(emu: Emulator, snapshot: Snapshot) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker(language: str) -> None:
        try:
            with httpx.Client() as c:
                pages, _ = crawl(c, emu.url, language)
            results.append(codenames([i for p in pages for i in p["items"]]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=("en-US",)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 12
    assert all(r == codenames(snapshot.items["en-US"].items) for r in results)


def test_request_log_records_method_path_headers_status(
    emu: Emulator, client: httpx.Client
) -> None:
    client.get(
        f"{emu.url}/{ENV}/items/article_a?language=es-ES",
        headers={"X-KC-Wait-For-Loading-New-Content": "true", "Cookie": "not-logged"},
    )
    client.get(f"{emu.url}/{ENV}/items/zzz")
    first, second = emu.request_log
    assert (first.number, first.method, first.path, first.status) == (
        1,
        "GET",
        f"/{ENV}/items/article_a?language=es-ES",
        200,
    )
    assert first.headers["x-kc-wait-for-loading-new-content"] == "true"
    assert "cookie" not in first.headers
    assert second.status == 404


def test_stop_closes_idle_keep_alive_connections(snapshot: Snapshot) -> None:
    emu = Emulator(snapshot, environment_id=ENV).start()
    with httpx.Client() as c:
        assert c.get(f"{emu.url}/{ENV}/languages").status_code == 200
        emu.stop()
        with pytest.raises(httpx.TransportError):
            c.get(f"{emu.url}/{ENV}/languages")
        emu.start()  # back on the same port
        try:
            assert c.get(f"{emu.url}/{ENV}/languages").status_code == 200
        finally:
            emu.stop()


# --------------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------------


def _statuses(emu: Emulator, n: int) -> list[int | str]:
    out: list[int | str] = []
    with httpx.Client() as c:
        for _ in range(n):
            try:
                out.append(c.get(f"{emu.url}/{ENV}/languages").status_code)
            except httpx.TransportError:
                out.append("dropped")
    return out


def test_fault_rate_limit_every_nth(snapshot: Snapshot) -> None:
    faults = Faults(rate_limit_every=3, retry_after=7)
    with Emulator(snapshot, environment_id=ENV, faults=faults) as emu, httpx.Client() as c:
        answers = [c.get(f"{emu.url}/{ENV}/types") for _ in range(7)]
    assert [r.status_code for r in answers] == [200, 200, 429, 200, 200, 429, 200]
    limited = answers[2]
    assert limited.headers["retry-after"] == "7"
    assert set(limited.json()) == {"message", "request_id", "error_code", "specific_code"}


def test_fault_server_error_every_mth(snapshot: Snapshot) -> None:
    faults = Faults(server_error_every=2, server_error_status=502)
    with Emulator(snapshot, environment_id=ENV, faults=faults) as emu:
        assert _statuses(emu, 4) == [200, 502, 200, 502]


def test_fault_dropped_connection_every_kth(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV, faults=Faults(drop_every=3)) as emu:
        assert _statuses(emu, 6) == [200, 200, "dropped", 200, 200, "dropped"]
        assert [r.status for r in emu.request_log] == [200, 200, None, 200, 200, None]


def test_fault_precedence_is_deterministic(snapshot: Snapshot) -> None:
    faults = Faults(rate_limit_every=3, server_error_every=5, drop_every=11)
    runs = []
    for _ in range(2):
        with Emulator(snapshot, environment_id=ENV, faults=faults) as emu:
            runs.append(_statuses(emu, 15))
    assert runs[0] == runs[1]
    assert runs[0][2] == 429 and runs[0][4] == 503 and runs[0][10] == "dropped"
    assert runs[0][14] == 503  # 15 is both; the 5xx wins over the 429


def test_fault_delay_holds_every_answer(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV, faults=Faults(delay=0.5)) as emu:
        with httpx.Client(timeout=0.05) as c, pytest.raises(httpx.ReadTimeout):
            c.get(f"{emu.url}/{ENV}/languages")
        emu.faults = None
        with httpx.Client(timeout=5) as c:
            assert c.get(f"{emu.url}/{ENV}/languages").status_code == 200


def test_fault_malformed_json_for_a_path_pattern(snapshot: Snapshot) -> None:
    faults = Faults(malformed_json=r"/items-feed")
    with Emulator(snapshot, environment_id=ENV, faults=faults) as emu, httpx.Client() as c:
        bad = c.get(f"{emu.url}/{ENV}/items-feed")
        assert bad.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad.content)
        assert c.get(f"{emu.url}/{ENV}/types").json()["types"]


def test_fault_garbage_continuation_token(snapshot: Snapshot) -> None:
    faults = Faults(garbage_continuation=True)
    emu = Emulator(snapshot, environment_id=ENV, page_size=5, faults=faults)
    with emu, httpx.Client() as c:
        first = c.get(f"{emu.url}/{ENV}/items-feed")
        token = first.headers["x-continuation"]
        second = c.get(f"{emu.url}/{ENV}/items-feed", headers={"X-Continuation": token})
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error_code"] == 1


def test_fault_down_refuses_everything(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV, faults=Faults(down=True)) as emu:
        assert _statuses(emu, 3) == ["dropped"] * 3
        assert emu.request_count == 0
        assert emu.refused_count == 3
        emu.faults = None
        assert _statuses(emu, 1) == [200]


# --------------------------------------------------------------------------------------------
# content changes and the Sync API v2
# --------------------------------------------------------------------------------------------


def _sync_init(c: httpx.Client, base: str) -> str:
    r = c.post(f"{base}/v2/{ENV}/sync/init")
    assert r.status_code == 200
    assert r.json() == {"items": [], "types": [], "languages": [], "taxonomies": []}
    return r.headers["x-continuation"]


def _sync(c: httpx.Client, base: str, token: str) -> tuple[dict[str, Any], str]:
    r = c.get(f"{base}/v2/{ENV}/sync", headers={"X-Continuation": token})
    assert r.status_code == 200, r.text
    return r.json(), r.headers["x-continuation"]


def test_upsert_and_delete_change_what_is_served(emu: Emulator, client: httpx.Client) -> None:
    changed = make_snapshot().items["en-US"].items[2]
    changed["elements"]["title"]["value"] = "Gamma 2"
    emu.upsert_item(changed)
    r = client.get(f"{emu.url}/{ENV}/items/article_c")
    assert r.json()["item"]["elements"]["title"]["value"] == "Gamma 2"
    new = _item("brand_new", "note", "en-US", name=_text("New"))
    emu.upsert_item(new)
    es_pages, _ = crawl(client, emu.url, "es-ES")
    es = {i["system"]["codename"]: i for p in es_pages for i in p["items"]}
    assert es["brand_new"]["system"]["language"] == "en-US"  # new item falls back
    assert es["article_c"]["elements"]["title"]["value"] == "Gamma 2"
    # unpublish the Spanish variant: es-ES now gets the English one
    emu.delete_item("article_a", "es-ES")
    r = client.get(f"{emu.url}/{ENV}/items/article_a", params={"language": "es-ES"})
    assert r.json()["item"]["system"]["language"] == "en-US"
    emu.delete_item("article_a", "en-US")
    assert client.get(f"{emu.url}/{ENV}/items/article_a").status_code == 404
    with pytest.raises(KeyError):
        emu.delete_item("article_a", "en-US")


def test_upsert_with_components(emu: Emulator, client: httpx.Client) -> None:
    comp = _item("n_new_comp", "callout", "en-US", text=_rich("<p>hi</p>"))
    variant = _item("with_comp", "note", "en-US", body=_rich(_obj("n_new_comp"), "n_new_comp"))
    emu.upsert_item(variant, components={"n_new_comp": comp})
    pages, _ = crawl(client, emu.url, "en-US")
    page = next(p for p in pages if "with_comp" in codenames(p["items"]))
    assert page["modular_content"]["n_new_comp"] == comp


def test_sync_init_then_deltas(emu: Emulator, client: httpx.Client) -> None:
    token = _sync_init(client, emu.url)
    empty, token = _sync(client, emu.url, token)
    assert empty == {"items": [], "types": [], "languages": [], "taxonomies": []}
    variant = make_snapshot().items["en-US"].items[1]
    emu.upsert_item(variant)
    emu.delete_item("author_y", "en-US")
    emu.upsert_item(_item("gone_soon", "note", "en-US"))
    emu.delete_item("gone_soon", "en-US")  # changed then deleted: only "deleted" is reported
    group = dict(make_snapshot().taxonomies[0], terms=[])
    emu.upsert_taxonomy(group)
    emu.upsert_type(
        {
            "system": {
                "id": "type-new",
                "name": "New",
                "codename": "new",
                "last_modified": "2024-06-01T00:00:00Z",
            },
            "elements": {},
        }
    )
    delta, token2 = _sync(client, emu.url, token)
    items = {(d["data"]["system"]["codename"], d["change_type"]) for d in delta["items"]}
    assert items == {("article_b", "changed"), ("author_y", "deleted"), ("gone_soon", "deleted")}
    for entry in delta["items"]:
        assert set(entry) == {"change_type", "timestamp", "data"}
        assert set(entry["data"]) == {"system"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", entry["timestamp"])
    assert [d["data"]["system"]["codename"] for d in delta["taxonomies"]] == ["topics"]
    assert [d["data"]["system"]["codename"] for d in delta["types"]] == ["new"]
    assert token2 != token
    again, _ = _sync(client, emu.url, token2)
    assert again == {"items": [], "types": [], "languages": [], "taxonomies": []}
    # the old token still names the old position
    replay, _ = _sync(client, emu.url, token)
    assert len(replay["items"]) == 3


def test_sync_pages_when_there_are_many_changes(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV, sync_page_size=2) as emu, httpx.Client() as c:
        token = _sync_init(c, emu.url)
        for i in range(5):
            emu.upsert_item(_item(f"bulk_{i}", "note", "en-US"))
        seen: list[str] = []
        for _ in range(4):
            delta, token = _sync(c, emu.url, token)
            seen += [d["data"]["system"]["codename"] for d in delta["items"]]
    assert seen == [f"bulk_{i}" for i in range(5)]


def test_sync_rejects_unknown_tokens_and_separates_preview(snapshot: Snapshot) -> None:
    with Emulator(snapshot, environment_id=ENV, preview_key="pk") as emu, httpx.Client() as c:
        r = c.get(f"{emu.url}/v2/{ENV}/sync", headers={"X-Continuation": "bogus"})
        assert r.status_code == 400
        assert c.get(f"{emu.url}/v2/{ENV}/sync").status_code == 400
        auth = {"Authorization": "Bearer pk"}
        r = c.post(f"{emu.preview_url}/v2/{ENV}/sync/init", headers=auth)
        preview_token = r.headers["x-continuation"]
        published_token = _sync_init(c, emu.url)
        emu.upsert_item(_item("draft", "note", "en-US"), slot="preview")
        published, _ = _sync(c, emu.url, published_token)
        assert published["items"] == []
        r = c.get(
            f"{emu.preview_url}/v2/{ENV}/sync", headers={**auth, "X-Continuation": preview_token}
        )
        assert [d["data"]["system"]["codename"] for d in r.json()["items"]] == ["draft"]
        # a published token is not a preview token
        r = c.get(
            f"{emu.preview_url}/v2/{ENV}/sync", headers={**auth, "X-Continuation": published_token}
        )
        assert r.status_code == 400


# --------------------------------------------------------------------------------------------
# webhooks
# --------------------------------------------------------------------------------------------


class _Receiver:
    """A tiny webhook receiver recording (headers, body) of every POST."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def test_webhook_current_format_signed(snapshot: Snapshot, receiver: _Receiver) -> None:
    with Emulator(
        snapshot, environment_id=ENV, webhook_url=receiver.url, webhook_secret="hook-secret"
    ) as emu:
        emu.upsert_item(snapshot.items["en-US"].items[0])
        emu.delete_item("article_b", "en-US")
        emu.upsert_item(_item("draft", "note", "en-US"), slot="preview")
        emu.upsert_taxonomy(snapshot.taxonomies[0])
    assert [d.status for d in emu.webhooks_sent] == [202] * 4
    assert len(receiver.received) == 4
    shapes = []
    for headers, body in receiver.received:
        assert headers["x-kontent-ai-signature"] == sign_webhook(body, "hook-secret")
        (notification,) = json.loads(body)["notifications"]
        message = notification["message"]
        assert message["environment_id"] == ENV
        shapes.append(
            (
                message["object_type"],
                message["action"],
                message["delivery_slot"],
                notification["data"]["system"]["codename"],
            )
        )
    assert shapes == [
        ("content_item", "published", "published", "article_a"),
        ("content_item", "unpublished", "published", "article_b"),
        ("content_item", "created", "preview", "draft"),
        ("taxonomy", "changed", "published", "topics"),
    ]
    system = json.loads(receiver.received[0][1])["notifications"][0]["data"]["system"]
    assert set(system) == {
        "id",
        "name",
        "codename",
        "collection",
        "workflow",
        "workflow_step",
        "language",
        "type",
        "last_modified",
    }


def test_webhook_legacy_format_signed(snapshot: Snapshot, receiver: _Receiver) -> None:
    with Emulator(
        snapshot,
        environment_id=ENV,
        webhook_url=receiver.url,
        webhook_secret="s",
        webhook_format="legacy",
    ) as emu:
        emu.upsert_item(snapshot.items["es-ES"].items[0])
        emu.upsert_taxonomy(snapshot.taxonomies[1])
    (h1, b1), (_, b2) = receiver.received
    assert h1["x-kc-signature"] == sign_webhook(b1, "s")
    assert "x-kontent-ai-signature" not in h1
    first, second = json.loads(b1), json.loads(b2)
    assert first["message"]["type"] == "content_item_variant"
    assert first["message"]["operation"] == "publish"
    assert first["message"]["api_name"] == "delivery_production"
    assert first["message"]["project_id"] == ENV
    assert first["data"]["items"] == [
        {
            "id": "id-article_a",
            "codename": "article_a",
            "collection": "default",
            "language": "es-ES",
            "type": "article",
        }
    ]
    assert second["message"]["type"] == "taxonomy"
    assert second["data"]["taxonomies"] == [{"id": "tax-region", "codename": "region"}]


def test_webhook_both_formats_and_unreachable_receiver(snapshot: Snapshot) -> None:
    receiver = _Receiver()
    url = receiver.url
    receiver.close()  # nobody listens there any more
    with Emulator(
        snapshot, environment_id=ENV, webhook_url=url, webhook_secret="s", webhook_format="both"
    ) as emu:
        emu.upsert_item(snapshot.items["en-US"].items[3])
    assert [d.webhook_format for d in emu.webhooks_sent] == ["current", "legacy"]
    assert all(d.status is None and d.error for d in emu.webhooks_sent)


def test_webhook_bodies_match_the_real_shapes(real_fixtures: Path) -> None:
    vectors = load_real("kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json")
    real_v2 = json.loads(vectors["vectors"][1]["body"])
    system = real_v2["notifications"][0]["data"]["system"]
    change = WebhookChange("content_item", "published", system)
    ours = json.loads(
        build_webhook_body([change], environment_id="0f5b6cb2-ea82-014e-ac74-f71e7e8b6aee")
    )
    assert ours == real_v2  # the real published notification, rebuilt exactly
    real_legacy = load_real(
        "kontent-ai__webhook-helper-js/lib__test__responses__delivery-response.json"
    )
    legacy = json.loads(build_webhook_body([change], webhook_format="legacy"))
    assert set(legacy) == set(real_legacy)
    assert set(legacy["message"]) == set(real_legacy["message"])
    assert set(legacy["data"]) == set(real_legacy["data"])
    assert set(legacy["data"]["items"][0]) == set(real_legacy["data"]["items"][0])


def test_sign_webhook_real_vectors(real_fixtures: Path) -> None:
    vectors = load_real("kontent-ai__webhook-helper-js/DERIVED__signature-vectors.json")
    assert len(vectors["vectors"]) == 3
    for vector in vectors["vectors"]:
        raw = vector["body"].encode("utf-8")
        # Kontent.ai's helper signs the body with its line breaks as \r\n
        crlf = re.sub(rb"[\r\n]+", b"\r\n", raw)
        assert sign_webhook(crlf, vector["secret"]) == vector["expected_signature"]
        assert (
            sign_webhook(raw, vector["secret"])
            == vector["signature_over_body_without_crlf_normalisation"]
        )
    negative = vectors["negative_case"]["body"].encode()
    assert (
        sign_webhook(negative, vectors["vectors"][0]["secret"])
        != vectors["vectors"][0]["expected_signature"]
    )


def test_sign_webhook_is_base64_hmac_sha256() -> None:
    sig = sign_webhook(b"{}", "secret")
    assert len(base64.b64decode(sig)) == 32
    assert sig != sign_webhook(b"{} ", "secret")
    assert sig != sign_webhook(b"{}", "Secret")
    assert signature_header("current") == "X-Kontent-ai-Signature"
    assert signature_header("legacy") == "X-KC-Signature"
    with pytest.raises(ValueError):
        signature_header("v3")


def test_emulator_webhooks_parse_with_the_receiver_parser(
    snapshot: Snapshot, receiver: _Receiver
) -> None:
    with Emulator(
        snapshot,
        environment_id=ENV,
        webhook_url=receiver.url,
        webhook_secret="k",
        webhook_format="both",
    ) as emu:
        emu.upsert_item(snapshot.items["en-US"].items[0])
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        signature = headers.get("x-kontent-ai-signature") or headers.get("x-kc-signature")
        assert verify_signature(body, signature, "k")
        changes = parse_webhook(body)
        assert changes and "article_a" in repr(changes)


# --------------------------------------------------------------------------------------------
# python -m tests.support.emulator
# --------------------------------------------------------------------------------------------


def test_command_line_serves_a_snapshot_folder(tmp_path: Path, snapshot: Snapshot) -> None:
    save_snapshot(snapshot, tmp_path / "snap")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.emulator",
            str(tmp_path / "snap"),
            "--environment-id",
            ENV,
            "--page-size",
            "4",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"'(http://127\.0\.0\.1:\d+)'", line)
        assert match, line
        with httpx.Client(timeout=10) as c:
            pages, _ = crawl(c, match.group(1), "en-US")
        assert len(pages) == -(-len(snapshot.items["en-US"].items) // 4)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_command_line_reports_a_missing_snapshot(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.emulator", str(tmp_path / "none")],
        capture_output=True,
        cwd=REPO,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "no content snapshot" in proc.stderr


def _with_manifest_fallbacks(folder: Path, fallbacks: dict[str, str]) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "fallbacks": fallbacks}))


def _de_article_a_language(base: str) -> str:
    with httpx.Client(timeout=10) as c:
        r = c.get(f"{base}/{ENV}/items/article_a", params={"language": "de-DE"})
    assert r.status_code == 200, r.text
    return str(r.json()["item"]["system"]["language"])


def test_from_folder_takes_the_fallbacks_of_the_manifest(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    save_snapshot(snapshot, tmp_path / "plain")
    with Emulator.from_folder(tmp_path / "plain", environment_id=ENV) as emu:
        assert _de_article_a_language(emu.url) == "en-US"  # straight to the default
    save_snapshot(snapshot, tmp_path / "snap")
    _with_manifest_fallbacks(tmp_path / "snap", FALLBACKS)
    with Emulator.from_folder(tmp_path / "snap", environment_id=ENV) as emu:
        assert _de_article_a_language(emu.url) == "es-ES"  # de-DE -> es-ES
    with Emulator.from_folder(tmp_path / "snap", environment_id=ENV, fallbacks={}) as emu:
        assert _de_article_a_language(emu.url) == "en-US"  # the keyword wins


def _serve_folder(folder: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "tests.support.emulator", str(folder)]
    proc = subprocess.Popen(
        [*command, "--environment-id", ENV, *flags],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"'(http://127\.0\.0\.1:\d+)'", line)
    if not match:
        proc.terminate()
        proc.wait(timeout=10)
    assert match, line
    return proc, match.group(1)


@pytest.mark.parametrize(
    ("in_manifest", "flags", "expected"),
    [
        (FALLBACKS, [], "es-ES"),
        ({}, ["--fallback", "de-DE=es-ES"], "es-ES"),
        (FALLBACKS, ["--fallback", "de-DE=en-US"], "en-US"),
    ],
)
def test_command_line_fallbacks_from_the_manifest_and_the_flag(
    tmp_path: Path,
    snapshot: Snapshot,
    in_manifest: dict[str, str],
    flags: list[str],
    expected: str,
) -> None:
    save_snapshot(snapshot, tmp_path / "snap")
    _with_manifest_fallbacks(tmp_path / "snap", in_manifest)
    proc, base = _serve_folder(tmp_path / "snap", *flags)
    try:
        assert _de_article_a_language(base) == expected
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_command_line_rejects_a_malformed_fallback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.emulator", str(tmp_path), "--fallback", "de-DE"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert "LANGUAGE=FALLBACK" in proc.stderr
