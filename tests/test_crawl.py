"""The crawl over real HTTP against the emulator: paging, languages, keys, faults, real captures.

Every test crawls an emulator serving a known source and checks that the crawled snapshot
equals it: the crawl must give back exactly what the API holds, whatever the page size, the
faults on the way or the quirks of real captured responses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontent_ssg.config import load_config
from kontent_ssg.content.delivery import (
    DEFAULT_LANGUAGE_ID,
    DeliveryClient,
    FeedProgress,
    RetryPolicy,
    client_for,
    crawl,
    obtain_snapshot,
)
from kontent_ssg.content.snapshot import LanguageItems, Snapshot, load_snapshot, save_snapshot
from kontent_ssg.errors import AuthError
from tests.support.emulator import Emulator, Faults
from tests.support.fixtures import load_real

ENV = "3c1f8d2e-7a4b-4c9d-8e0f-1a2b3c4d5e6f"

# Fast retries for tests: the faults are real, the waiting is not.
FAST = RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01, max_total=30.0)


# -- a synthetic two-language source ---------------------------------------------------------


def _system(codename: str, language: str, type_: str, n: int) -> dict[str, Any]:
    return {
        "id": f"{n:08d}-0000-4000-8000-{abs(hash(codename)) % 10**12:012d}",
        "name": codename.replace("_", " ").title(),
        "codename": codename,
        "language": language,
        "type": type_,
        "collection": "default",
        "sitemap_locations": [],
        "last_modified": f"2024-03-{1 + n % 28:02d}T10:00:00.0000000Z",
        "workflow_step": "published",
        "workflow": "default",
    }


def _component(codename: str, language: str, n: int, nested: str | None) -> dict[str, Any]:
    body = f"<p>Callout {n} ({language})</p>"
    refs: list[str] = []
    if nested:
        body += (
            f'<object type="application/kenticocloud" data-type="item" data-rel="component" '
            f'data-codename="{nested}"></object>'
        )
        refs.append(nested)
    return {
        "system": _system(codename, language, "callout", n),
        "elements": {
            "body": {
                "type": "rich_text",
                "name": "Body",
                "images": {},
                "links": {},
                "modular_content": refs,
                "value": body,
            },
        },
    }


def _article(n: int, language: str, total: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """An article variant and the components its rich text embeds (one nests another)."""
    codename = f"article_{n:03d}"
    outer = f"c_{codename}_{language.replace('-', '_').lower()}"
    inner = f"{outer}_inner" if n % 3 == 0 else None
    components = {outer: _component(outer, language, n, inner)}
    if inner:
        components[inner] = _component(inner, language, n + 1000, None)
    related = [f"article_{(n + k) % total:03d}" for k in (1, 2)]
    item = {
        "system": _system(codename, language, "article", n),
        "elements": {
            "title": {"type": "text", "name": "Title", "value": f"Article {n} [{language}] ✓"},
            "body": {
                "type": "rich_text",
                "name": "Body",
                "images": {},
                "links": {},
                "modular_content": [outer],
                "value": f'<p>Text {n}</p><object type="application/kenticocloud" '
                f'data-type="item" data-rel="component" data-codename="{outer}"></object>',
            },
            "related": {"type": "modular_content", "name": "Related", "value": related},
            "rating": {"type": "number", "name": "Rating", "value": n % 5 or None},
            "slug": {"type": "url_slug", "name": "Slug", "value": f"article-{n}"},
        },
    }
    return item, components


LANGUAGES = [
    {"system": {"id": DEFAULT_LANGUAGE_ID, "name": "English", "codename": "en-US"}},
    {
        "system": {
            "id": "a3d1e2f0-1111-4222-8333-944455566677",
            "name": "Spanish",
            "codename": "es-ES",
        }
    },
]
TYPES = [
    {
        "system": {"id": "t1", "name": "Article", "codename": "article", "last_modified": "x"},
        "elements": {"title": {"type": "text", "name": "Title"}},
    },
    {
        "system": {"id": "t2", "name": "Callout", "codename": "callout", "last_modified": "x"},
        "elements": {"body": {"type": "rich_text", "name": "Body"}},
    },
]
TAXONOMIES = [
    {
        "system": {"id": "x1", "name": "Topics", "codename": "topics", "last_modified": "x"},
        "terms": [
            {
                "name": "Coffee",
                "codename": "coffee",
                "terms": [{"name": "Beans", "codename": "beans", "terms": []}],
            }
        ],
    },
]


def two_language_source(total: int = 23, *, crawled_form: bool = True) -> Snapshot:
    """en-US (default) holds every article; es-ES translates two of three.

    ``crawled_form``: es-ES lists the en-US fallback variant of untranslated articles (what
    the API's feed returns). Otherwise es-ES lists only its own translations and the emulator
    falls back to the default language, en-US.
    """
    en = LanguageItems()
    es = LanguageItems()
    for n in range(total):
        item, components = _article(n, "en-US", total)
        en.items.append(item)
        en.modular_content.update(components)
        if n % 3 != 1:
            item_es, components_es = _article(n, "es-ES", total)
            es.items.append(item_es)
            es.modular_content.update(components_es)
        elif crawled_form:
            es.items.append(item)
            es.modular_content.update(components)
    return Snapshot(
        default_language="en-US",
        languages=[dict(x) for x in LANGUAGES],
        types=list(TYPES),
        taxonomies=list(TAXONOMIES),
        items={"en-US": en, "es-ES": es},
    )


def emulator_client(emu: Emulator, **kwargs: Any) -> DeliveryClient:
    kwargs.setdefault("retry", FAST)
    return DeliveryClient(emu.url, emu.environment_id, **kwargs)


def crawl_from(source: Snapshot, languages: list[str] | None = None, **emulator: Any) -> Snapshot:
    """Serve ``source`` from an emulator and crawl it back."""
    emulator.setdefault("environment_id", ENV)
    with Emulator(source, **emulator) as emu, emulator_client(emu) as client:
        return crawl(client, languages)


def as_json(snapshot: Snapshot) -> dict[str, Any]:
    """A comparable form that also shows *what* differs when an assertion fails."""
    return {
        "default_language": snapshot.default_language,
        "languages": snapshot.languages,
        "types": snapshot.types,
        "taxonomies": snapshot.taxonomies,
        "items": {k: v.to_json() for k, v in snapshot.items.items()},
    }


# -- paging and languages --------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 7, 2000])
def test_crawl_gives_back_the_source_at_any_page_size(page_size: int) -> None:
    source = two_language_source()
    with Emulator(source, environment_id=ENV, page_size=page_size) as emu:
        events: list[FeedProgress] = []
        with emulator_client(emu) as client:
            crawled = crawl(client, progress=events.append)
            requests = client.requests
        feed_requests = [r for r in emu.request_log if "/items-feed" in r.path]
    assert as_json(crawled) == as_json(source)
    assert crawled == source
    pages = {lang: -(-len(source.items[lang].items) // page_size) for lang in ("en-US", "es-ES")}
    assert len(feed_requests) == sum(pages.values())
    assert requests == 3 + sum(pages.values())  # languages, types, taxonomies + feed pages
    finals = {e.language: e for e in events if e.done}
    assert {lang: (e.items, e.pages) for lang, e in finals.items()} == {
        lang: (len(source.items[lang].items), pages[lang]) for lang in pages
    }


def test_fallback_variants_fill_untranslated_items() -> None:
    source = two_language_source(crawled_form=False)
    with Emulator(source, environment_id=ENV, page_size=5) as emu, emulator_client(emu) as client:
        crawled = crawl(client)
    spanish = crawled.items["es-ES"].items
    assert [i["system"]["codename"] for i in spanish][: len(source.items["es-ES"].items)] == [
        i["system"]["codename"] for i in source.items["es-ES"].items
    ]
    assert {i["system"]["codename"] for i in spanish} == {
        i["system"]["codename"] for i in crawled.items["en-US"].items
    }
    fallback = [i for i in spanish if i["system"]["language"] != "es-ES"]
    assert fallback and all(i["system"]["language"] == "en-US" for i in fallback)
    assert len(fallback) == len(source.items["en-US"].items) - len(source.items["es-ES"].items)
    # Components of fallback variants come with the Spanish feed too.
    for item in fallback:
        for name in item["elements"]["body"]["modular_content"]:
            assert name in crawled.items["es-ES"].modular_content
    # A crawled snapshot is a fixed point: serving it and crawling again changes nothing.
    with Emulator(crawled, environment_id=ENV, page_size=3) as emu, emulator_client(emu) as client:
        again = crawl(client)
    assert as_json(again) == as_json(crawled)


def test_configured_languages_limit_the_crawl_and_pick_the_default() -> None:
    source = two_language_source(total=5)
    with Emulator(source, environment_id=ENV, page_size=2) as emu, emulator_client(emu) as client:
        crawled = crawl(client, ["es-ES"])
        feeds = {r.path for r in emu.request_log if "/items-feed" in r.path}
    assert crawled.default_language == "es-ES"
    assert list(crawled.items) == ["es-ES"]
    assert crawled.items["es-ES"].to_json() == source.items["es-ES"].to_json()
    assert all("language=es-ES" in path for path in feeds)


def test_crawl_sends_the_tool_header() -> None:
    with Emulator(two_language_source(total=2), environment_id=ENV) as emu:
        with emulator_client(emu) as client:
            crawl(client)
        agents = {r.headers.get("user-agent", "") for r in emu.request_log}
        sdk = {r.headers.get("x-kc-sdkid") for r in emu.request_log}
    assert all(agent.startswith("kontent-ssg/") for agent in agents)
    assert all(s and s.startswith("pypi.org;kontent-ssg;") for s in sdk)


def test_item_waits_for_new_content_over_http() -> None:
    with Emulator(two_language_source(total=4), environment_id=ENV) as emu:
        with emulator_client(emu) as client:
            data = client.item("article_001", "es-ES", wait_for_new_content=True)
        record = emu.request_log[-1]
    assert data["item"]["system"]["codename"] == "article_001"
    assert data["item"]["system"]["language"] == "en-US"  # not translated: fallback variant
    assert record.headers.get("x-kc-wait-for-loading-new-content") == "true"


# -- keys ------------------------------------------------------------------------------------


def site(tmp_path: Path, emu: Emulator, extra: str = "") -> Path:
    (tmp_path / "kontent.toml").write_text(
        "[kontent]\n"
        f'environment_id = "{emu.environment_id}"\n'
        f'delivery_url = "{emu.url}"\n'
        f'preview_url = "{emu.preview_url}"\n' + extra,
        encoding="utf-8",
    )
    return tmp_path


def test_secure_access_with_the_right_key_crawls(tmp_path: Path) -> None:
    source = two_language_source(total=4)
    with Emulator(source, environment_id=ENV, secure_key="right-key") as emu:
        config = load_config(site(tmp_path, emu), env={"KONTENT_DELIVERY_API_KEY": "right-key"})
        with client_for(config, retry=FAST) as client:
            assert crawl(client) == source
        bad = load_config(site(tmp_path, emu), env={"KONTENT_DELIVERY_API_KEY": "wrong-key"})
        with pytest.raises(AuthError, match="KONTENT_DELIVERY_API_KEY"), client_for(bad) as c:
            crawl(c)
        missing = load_config(site(tmp_path, emu), env={})
        with pytest.raises(AuthError, match="requires secure access"), client_for(missing) as c:
            crawl(c)


def test_preview_api_serves_preview_content_with_the_preview_key(tmp_path: Path) -> None:
    published = two_language_source(total=4)
    preview = two_language_source(total=6)
    with Emulator(
        published, environment_id=ENV, preview_key="pv-key", preview_snapshot=preview
    ) as emu:
        config = load_config(site(tmp_path, emu), env={"KONTENT_PREVIEW_API_KEY": "pv-key"})
        with client_for(config, preview=True, retry=FAST) as client:
            assert crawl(client) == preview
        with client_for(config, retry=FAST) as client:
            assert crawl(client) == published
        wrong = load_config(site(tmp_path, emu), env={"KONTENT_PREVIEW_API_KEY": "nope"})
        with (
            pytest.raises(AuthError, match="KONTENT_PREVIEW_API_KEY") as caught,
            client_for(wrong, preview=True) as client,
        ):
            crawl(client)
        assert "nope" not in str(caught.value)


def test_preview_snapshot_is_stored_apart_from_published(tmp_path: Path) -> None:
    published = two_language_source(total=3)
    preview = two_language_source(total=5)
    with Emulator(published, environment_id=ENV, preview_key="pv", preview_snapshot=preview) as emu:
        config = load_config(site(tmp_path, emu), env={"KONTENT_PREVIEW_API_KEY": "pv"})
        obtain_snapshot(config)
        obtain_snapshot(config, preview=True)
    assert obtain_snapshot(config, offline=True)[0] == published
    assert obtain_snapshot(config, preview=True, offline=True)[0] == preview


# -- faults ----------------------------------------------------------------------------------


def test_faults_on_the_way_do_not_change_the_snapshot() -> None:
    source = two_language_source(total=30)
    with Emulator(source, environment_id=ENV, page_size=2) as emu, emulator_client(emu) as client:
        clean = crawl(client)
    faults = Faults(rate_limit_every=3, retry_after=0, server_error_every=5, drop_every=11)
    with Emulator(source, environment_id=ENV, page_size=2, faults=faults) as emu:
        with emulator_client(emu) as client:
            crawled = crawl(client)
            requests = client.requests
        statuses = [r.status for r in emu.request_log]
    assert crawled == clean == source
    assert statuses.count(429) > 0 and statuses.count(503) > 0 and statuses.count(None) > 0
    assert requests == len(statuses)  # every attempt counted, retries included
    assert requests > statuses.count(200)


def test_slow_responses_still_crawl() -> None:
    source = two_language_source(total=4)
    assert crawl_from(source, faults=Faults(delay=0.02)) == source


# -- real captured responses -----------------------------------------------------------------

RUBY = "kontent-ai__delivery-sdk-ruby/"
NET = "kontent-ai__delivery-sdk-net/Kontent.Ai.Delivery.Tests__Fixtures__DeliveryClient__"
GATSBY = "kontent-ai__gatsby-packages/packages__gatsby-source__tests__"


def _raw(real: Path, name: str) -> bytes:
    path = real / name
    if not path.is_file():
        pytest.skip(f"real fixture {name} not present")
    return path.read_bytes()


def _merge_pages(pages: list[dict[str, Any]]) -> LanguageItems:
    merged = LanguageItems()
    for page in pages:
        merged.items.extend(page["items"])
        merged.modular_content.update(page.get("modular_content") or {})
    return merged


def test_real_ruby_feed_with_its_continuation_tokens(real_fixtures: Path) -> None:
    flow = load_real(RUBY + "DERIVED__items_feed_continuation_headers.json")["flow"]
    recorded = [
        (_raw(real_fixtures, RUBY + step["response_body"]), step["response_X-Continuation"])
        for step in flow
    ]
    pages = [load_real(RUBY + step["response_body"]) for step in flow]
    source = Snapshot(
        default_language="en-US",
        languages=load_real(RUBY + "lib__delivery__tests__generic__languages.json")["languages"],
        types=load_real(RUBY + "lib__delivery__tests__generic__types.json")["types"],
        taxonomies=load_real(RUBY + "lib__delivery__tests__generic__taxonomies.json")["taxonomies"],
        items={"en-US": _merge_pages(pages)},
    )
    with Emulator(source, environment_id=ENV, recorded_feed={"en-US": recorded}) as emu:
        with emulator_client(emu) as client:
            crawled = crawl(client, ["en-US"])
        log = emu.request_log
    sent = [r.headers.get("x-continuation") for r in log if "items-feed" in r.path]
    assert [s["request_X-Continuation"] for s in flow] == sent
    assert len(crawled.items["en-US"].items) == 6
    assert as_json(crawled) == as_json(source)
    assert [lang["system"]["codename"] for lang in crawled.languages] == ["en-US", "es-ES"]
    assert len(crawled.types) == 13 and len(crawled.taxonomies) == 5


def _net_source(feed: LanguageItems) -> Snapshot:
    return Snapshot(
        default_language="en-US",
        languages=[
            {
                "system": {
                    "id": DEFAULT_LANGUAGE_ID,
                    "name": "English (United States)",
                    "codename": "en-US",
                }
            }
        ],
        types=load_real(NET + "types_accessory.json")["types"],
        taxonomies=load_real(NET + "taxonomies_multiple.json")["taxonomies"],
        items={"en-US": feed},
    )


def test_real_dotnet_feed_pages_served_raw_with_bom(real_fixtures: Path) -> None:
    first = _raw(real_fixtures, NET + "articles_feed_1.json")
    second = _raw(real_fixtures, NET + "articles_feed_2.json")
    assert first.startswith(b"\xef\xbb\xbf")  # served as captured, BOM and all
    expected = _net_source(
        _merge_pages(
            [load_real(NET + "articles_feed_1.json"), load_real(NET + "articles_feed_2.json")]
        )
    )
    recorded = [(first, "+RID:~net#RT:1"), (second, None)]
    crawled = crawl_from(expected, recorded_feed={"en-US": recorded})
    assert len(crawled.items["en-US"].items) == 6
    assert as_json(crawled) == as_json(expected)


@pytest.mark.parametrize("page_size", [1, 5, 2000])
def test_real_dotnet_feed_reserved_at_page_sizes(real_fixtures: Path, page_size: int) -> None:
    source = _net_source(_merge_pages([load_real(NET + "articles_feed.json")]))
    crawled = crawl_from(source, page_size=page_size)
    assert as_json(crawled) == as_json(source)


def test_real_dotnet_languages_listing(real_fixtures: Path) -> None:
    """Three languages (one named 'default') and a pagination.count that does not match."""
    languages = load_real(NET + "languages.json")["languages"]
    items = load_real(NET + "items.json")["items"]
    source = Snapshot(
        default_language="default",
        languages=languages,
        items={"default": LanguageItems(items=items)},
    )
    crawled = crawl_from(source, page_size=4)
    assert crawled.default_language == "default"
    assert crawled.languages == languages
    assert list(crawled.items) == ["default", "first_language", "second_language"]
    assert crawled.items["default"].items == items
    # Nothing is translated: the other languages get every item as a fallback variant.
    for other in ("first_language", "second_language"):
        assert crawled.items[other].items == items


def test_real_gatsby_two_language_feeds(real_fixtures: Path) -> None:
    first = load_real(GATSBY + "complexContentItemsFirstLanguageFakeReponse.json")
    second = load_real(GATSBY + "complexContentItemsSecondLanguageFakeReponse.json")
    source = Snapshot(
        default_language="default",
        languages=[
            {"system": {"id": DEFAULT_LANGUAGE_ID, "name": "Default", "codename": "default"}},
            {
                "system": {
                    "id": "2a4c9e11-0b7d-4f3e-8a16-5c2d7e9f0a1b",
                    "name": "Another",
                    "codename": "Another_language",
                }
            },
        ],
        types=load_real(GATSBY + "complexTypesFakeResponse.json")["types"],
        taxonomies=load_real(GATSBY + "complexTaxonomiesFakeResponse.json")["taxonomies"],
        items={"default": _merge_pages([first]), "Another_language": _merge_pages([second])},
    )
    for page_size in (1, 4, 2000):
        crawled = crawl_from(source, page_size=page_size)
        assert as_json(crawled) == as_json(source), page_size


def test_real_listing_bodies_parse_as_captured(real_fixtures: Path) -> None:
    """The raw captured /languages, /types and /taxonomies bodies, byte for byte."""
    bodies = {
        "languages": _raw(real_fixtures, NET + "languages.json"),
        "types": _raw(real_fixtures, RUBY + "lib__delivery__tests__generic__types.json"),
        "taxonomies": _raw(real_fixtures, NET + "taxonomies_multiple.json"),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.path.rsplit("/", 1)[1]])

    client = DeliveryClient(
        "https://deliver.kontent.ai", ENV, transport=httpx.MockTransport(handler)
    )
    assert len(client.languages()) == 3
    assert [t["system"]["codename"] for t in client.types()][:2] == [
        t["system"]["codename"] for t in json.loads(bodies["types"])["types"][:2]
    ]
    assert len(client.taxonomies()) == 3
    assert client.requests == 3


# -- secrets ---------------------------------------------------------------------------------


def test_saved_snapshot_holds_no_key(tmp_path: Path) -> None:
    key = "ssg-secret-key-7f3a9c"
    source = two_language_source(total=6)
    with Emulator(source, environment_id=ENV, secure_key=key, preview_key=key) as emu:
        config = load_config(
            site(tmp_path, emu),
            env={"KONTENT_DELIVERY_API_KEY": key, "KONTENT_PREVIEW_API_KEY": key},
        )
        obtain_snapshot(config)
        obtain_snapshot(config, preview=True)
    files = [p for p in config.state_dir.rglob("*") if p.is_file()]
    assert len(files) >= 10
    for path in files:
        assert key.encode() not in path.read_bytes(), path
    assert load_snapshot(config.snapshot_dir) == source


def test_snapshot_round_trips_through_disk(tmp_path: Path) -> None:
    source = two_language_source(total=5)
    save_snapshot(source, tmp_path)
    assert load_snapshot(tmp_path) == source
