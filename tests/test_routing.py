"""Routing: placeholders, language prefixes, untranslated items, URL safety, collisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from kontent_ssg.config import RouteConfig
from kontent_ssg.content.snapshot import ContentStore
from kontent_ssg.errors import RouteError
from kontent_ssg.site.routing import (
    item_url,
    listing_page_url,
    output_path_for,
    plan_routes,
    slugify,
    text_slug,
    with_language,
)
from tests.support.sites import content_type, item, make_site, number, slug, snapshot, text

ARTICLE = item(
    "my_post",
    "article",
    elements={"url": slug("my-post"), "title": text("My post"), "rank": number(3.0)},
    id="8f2a7e9c-1111-2222-3333-444455556666",
)


def route(path: str) -> RouteConfig:
    return RouteConfig(type="article", path=path, template="article.html")


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/articles/{url}/", "en-US", "/articles/my-post/"),
        ("/a/{system.codename}/", "en-US", "/a/my_post/"),
        ("/a/{system.id}/", "en-US", "/a/8f2a7e9c-1111-2222-3333-444455556666/"),
        ("/{language}/a/{url}/", "en-US", "/en-US/a/my-post/"),
        ("/{language}/a/{url}/", "es-ES", "/es-ES/a/my-post/"),
        ("/articles/{url}/", "es-ES", "/es-ES/articles/my-post/"),
        ("/a/{title}/", "en-US", "/a/my-post/"),
        ("/a/{rank}.html", "en-US", "/a/3.html"),
        ("/a/{url}", "en-US", "/a/my-post/"),
    ],
)
def test_every_placeholder_and_language_prefix(path: str, language: str, expected: str) -> None:
    assert item_url(route(path), ARTICLE, language, "en-US") == expected


def test_output_paths() -> None:
    assert output_path_for("/") == "index.html"
    assert output_path_for("/a/b/") == "a/b/index.html"
    assert output_path_for("/feed.xml") == "feed.xml"
    for bad in ("/../x/", "//evil/", "relative/", "/a/./b/", "/a/%2e%2e/"):
        with pytest.raises(ValueError):
            output_path_for(bad)


def test_listing_pages_and_language_helper() -> None:
    assert listing_page_url("/articles/", 1) == "/articles/"
    assert listing_page_url("/articles/", 3) == "/articles/page/3/"
    assert with_language("/x/", "de-DE", "en-US") == "/de-DE/x/"
    assert with_language("/{language}/x/", "de-DE", "en-US") == "/{language}/x/"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello world", "hello-world"),
        ("artículo-número-uno", "articulo-numero-uno"),
        ("a  b!!c", "a-b-c"),
        ("Ünïcödé", "Unicode"),
        ("…", ""),
        ("..", ""),
        (".hidden", ""),
    ],
)
def test_slugify(raw: str, expected: str) -> None:
    assert slugify(raw) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Coffee: Beverages Explained", "coffee-beverages-explained"),
        ("Straße & Ærø", "strasse-aero"),
        ("Łódź café", "lodz-cafe"),
        ("北京", "beijing"),
        ("Tips / tricks, v2.0", "tips-tricks-v2-0"),
        ("../../etc", "etc"),
        ("…", ""),
    ],
)
def test_text_slug(title: str, expected: str) -> None:
    assert text_slug(title) == expected


def test_text_placeholders_are_slugified_url_slugs_kept_as_written() -> None:
    """Issue 11: ``{title}`` gave ``/articles/Coffee-Beverages-Explained/``."""
    post = item(
        "coffee",
        "article",
        elements={
            "title": text("Coffee: Beverages Explained"),
            "url": slug("Coffee-Explained"),
            "notes": {"type": "custom", "name": "", "value": "Señor Café"},
        },
        name="Café Olé",
    )
    assert item_url(route("/articles/{title}/"), post, "en-US", "en-US") == (
        "/articles/coffee-beverages-explained/"
    )
    assert item_url(route("/n/{system.name}/{notes}/"), post, "en-US", "en-US") == (
        "/n/cafe-ole/senor-cafe/"
    )
    # A URL slug is the editor's slug: its capitals stay (accents are still folded).
    assert item_url(route("/articles/{url}/"), post, "en-US", "en-US") == (
        "/articles/Coffee-Explained/"
    )
    assert item_url(route("/a/{system.codename}/"), post, "es-ES", "en-US") == "/es-ES/a/coffee/"
    untitled = item("x", "article", elements={"title": text("…")})
    with pytest.raises(ValueError, match="no usable slug"):
        item_url(route("/articles/{title}/"), untitled, "en-US", "en-US")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "..", "a/b", "a\\b", "x\x00y", "…"])
def test_unsafe_slugs_are_rejected(bad: str) -> None:
    unsafe = item("bad", "article", elements={"url": slug(bad)})
    with pytest.raises(ValueError):
        item_url(route("/articles/{url}/"), unsafe, "en-US", "en-US")


def test_missing_or_empty_element_is_rejected() -> None:
    empty = item("empty", "article", elements={"url": slug("")})
    with pytest.raises(ValueError, match="empty"):
        item_url(route("/articles/{url}/"), empty, "en-US", "en-US")
    with pytest.raises(ValueError, match="no element"):
        item_url(route("/articles/{nope}/"), ARTICLE, "en-US", "en-US")


def _plan(tmp_path: Path, toml: str, items: dict[str, list[dict]]):  # type: ignore[no-untyped-def]
    snap = snapshot(items, types=[content_type("article", url="url_slug")])
    config = make_site(tmp_path, toml, snap=snap)
    store = ContentStore(snap)
    return plan_routes(config, store, store.languages)


ROUTES = """
[routes.article]
path = "/articles/{url}/"
"""


def test_untranslated_items_get_no_page_in_that_language(tmp_path: Path) -> None:
    en = [item("a", "article", elements={"url": slug("a")})]
    es = [item("a", "article", "en-US", elements={"url": slug("a")})]  # fallback variant
    plan = _plan(tmp_path, ROUTES, {"en-US": en, "es-ES": es})
    assert plan.item_urls == {("a", "en-US"): "/articles/a/"}
    assert plan.item_languages == {"a": ["en-US"]}


def test_translated_items_are_prefixed(tmp_path: Path) -> None:
    en = [item("a", "article", elements={"url": slug("a")})]
    es = [item("a", "article", "es-ES", elements={"url": slug("a-es")})]
    plan = _plan(tmp_path, ROUTES, {"en-US": en, "es-ES": es})
    assert plan.item_urls[("a", "es-ES")] == "/es-ES/articles/a-es/"
    assert plan.by_path["es-ES/articles/a-es/index.html"].key == "a"


def test_unsafe_item_is_reported_not_routed(tmp_path: Path) -> None:
    en = [
        item("ok", "article", elements={"url": slug("ok")}),
        item("evil", "article", elements={"url": slug("../../etc")}),
    ]
    plan = _plan(tmp_path, ROUTES, {"en-US": en})
    assert ("evil", "en-US") not in plan.item_urls
    assert [r[0] for r in plan.rejected] == ["evil"]
    assert all(".." not in p for p in plan.by_path)


def test_collision_names_both_items(tmp_path: Path) -> None:
    en = [
        item("first", "article", elements={"url": slug("same")}),
        item("second", "article", elements={"url": slug("same")}),
    ]
    with pytest.raises(RouteError) as info:
        _plan(tmp_path, ROUTES, {"en-US": en})
    message = str(info.value)
    assert "first" in message and "second" in message and "/articles/same/" in message


def test_item_colliding_with_a_listing_is_an_error(tmp_path: Path) -> None:
    toml = (
        ROUTES
        + """
[listings.all]
path = "/articles/x/"
type = "article"
"""
    )
    en = [item("x", "article", elements={"url": slug("x")})]
    with pytest.raises(RouteError, match="listing 'all'"):
        _plan(tmp_path, toml, {"en-US": en})


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("/a/{url}", "evil.js", "/a/evil.js/"),
        ("/a/{url}", "x.svg", "/a/x.svg/"),
        ("/a/x-{url}", "y.html", "/a/x-y.html/"),
        ("/a/{url}.html", "x.js", "/a/x.js.html"),
        ("/a/{url}/", "x.js", "/a/x.js/"),
        ("/{url}/b", "x.js", "/x.js/b/"),
    ],
)
def test_content_never_chooses_a_file_extension(path: str, value: str, expected: str) -> None:
    """A slug ending in ``.js`` or ``.svg`` must not turn a page into a script or an image."""
    article = item("x", "article", elements={"url": slug(value)})
    url = item_url(route(path), article, "en-US", "en-US")
    assert url == expected
    assert output_path_for(url).endswith(".html")


def test_a_segment_too_long_for_the_file_system_is_refused_with_room_for_staging() -> None:
    from kontent_ssg.builder.output import StagedWriter
    from kontent_ssg.site.routing import MAX_SEGMENT_BYTES

    # The writer's hidden stand-in for a name must itself fit in 255 bytes.
    assert len(f".{'x' * MAX_SEGMENT_BYTES}{StagedWriter.TMP_SUFFIX}") == 255
    assert output_path_for(f"/a/{'x' * MAX_SEGMENT_BYTES}/")
    with pytest.raises(ValueError, match="at most 238"):
        output_path_for(f"/a/{'x' * (MAX_SEGMENT_BYTES + 1)}/")
    with pytest.raises(ValueError, match="at most 238"):
        output_path_for(f"/a/{'x' * 300}.html")


def test_taxonomy_term_pages_are_folders_whatever_the_term(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        """
        [taxonomies.topics]
        path = "/topics/{term}"
        template = "topic.html"
        """,
    )
    store = ContentStore(snapshot({"en-US": []}))
    plan = plan_routes(config, store, ["en-US"], taxonomy_terms={"topics": ["evil.js"]})
    paths = {page.path for page in plan.pages if page.kind == "taxonomy"}
    assert paths == {"topics/evil.js/index.html"}


def test_the_pages_of_a_kind_are_indexed_once_and_follow_what_is_added() -> None:
    from kontent_ssg.site.routing import Page, RoutePlan

    plan = RoutePlan()
    plan.add(Page("item", "a", "en-US", "/a/", "a/index.html"))
    plan.add(Page("listing", "list", "en-US", "/list/", "list/index.html"))
    listings = plan.of_kind("listing")
    assert [p.key for p in listings] == ["list"] and plan.of_kind("listing") is listings
    assert plan.of_kind("plugin") == [] and plan.sorted_paths() == [
        "a/index.html",
        "list/index.html",
    ]
    plan.add(Page("listing", "list", "en-US", "/list/2/", "list/2/index.html", number=2))
    assert [p.url for p in plan.of_kind("listing")] == ["/list/", "/list/2/"]
    assert plan.sorted_paths() == ["a/index.html", "list/2/index.html", "list/index.html"]
