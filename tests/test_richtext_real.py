"""The resolver over every rich-text element in the real captured responses.

Each file is its own little world: lookups are built from the items and modular content in
that file, and an item has a page when the file holds it or when some element's ``links`` map
names it (that is what the SDKs treat as a resolvable link). Skipped cleanly when
../shared/fixtures/real is absent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from kontent_ssg.render.richtext import BrokenLink, ResolveResult, RichTextEnv, resolve_rich_text
from kontent_ssg.render.sanitize import _rich_text_cleaner, is_api_shaped
from tests.support.fixtures import REAL_FIXTURES, load_real

JSON = dict[str, Any]

JS = "kontent-ai__delivery-sdk-js/"
NET = "kontent-ai__delivery-sdk-net/"
PHP = "kontent-ai__delivery-sdk-php/"
RUBY = "kontent-ai__delivery-sdk-ruby/"
GATSBY = "kontent-ai__gatsby-packages/"

API_ATTRIBUTES = re.compile(
    r"data-(item-id|asset-id|image-id|codename|rel|type|new-window|email-address|phone-number)"
)


# Hand-edited SDK data placing objects inside <strong>/<em>: the generic rendering is block
# HTML (a <div>), which an HTML5 parser would move out of the paragraph on a second parse.
# Kontent.ai's editor only places components and inline items between blocks.
INLINE_OBJECTS = {
    PHP + "tests__Unit__Data__ContentItemWithRichTextContainingInlineLinkedItems.json"
}


def _walk(node: Any) -> Iterator[JSON]:
    if isinstance(node, dict):
        if isinstance(node.get("system"), dict) and isinstance(node.get("elements"), dict):
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


class FileWorld:
    """Lookups and URLs built from one fixture file."""

    def __init__(self, data: Any) -> None:
        self.items = list(_walk(data))
        self.by_codename: dict[str, JSON] = {}
        self.urls: dict[str, str] = {}
        for it in self.items:
            system = it["system"]
            self.by_codename.setdefault(system.get("codename"), it)
            self.urls.setdefault(system.get("id"), f"/{system.get('type')}/{system['codename']}/")
        for it in self.items:
            for element in it["elements"].values():
                if isinstance(element, dict) and element.get("type") == "rich_text":
                    for item_id, link in (element.get("links") or {}).items():
                        slug = link.get("url_slug") or link.get("codename")
                        self.urls.setdefault(item_id, f"/{link.get('type')}/{slug}/")
        self.env = RichTextEnv(
            linked_item=lambda codename, language: self.by_codename.get(codename),
            component=lambda codename, language: self.by_codename.get(codename),
            url_for_id=lambda item_id, language: self.urls.get(item_id),
        )

    def rich_text_elements(self) -> Iterator[tuple[JSON, str, JSON]]:
        for it in self.items:
            for name, element in it["elements"].items():
                if isinstance(element, dict) and element.get("type") == "rich_text":
                    yield it, name, element

    def resolve(self, codename: str, element: str) -> ResolveResult:
        it = self.by_codename[codename]
        return resolve_rich_text(
            it["elements"][element],
            item=it,
            element_codename=element,
            language=it["system"].get("language") or "default",
            env=self.env,
        )


def world(name: str) -> FileWorld:
    return FileWorld(load_real(name))


def canonical(html: str) -> str:
    return LexborHTMLParser(html, is_fragment=True).html or ""


def all_fixture_files() -> list[str]:
    if not REAL_FIXTURES.is_dir():
        return []
    return sorted(
        str(p.relative_to(REAL_FIXTURES)) for p in REAL_FIXTURES.rglob("*.json") if p.is_file()
    )


@pytest.mark.parametrize("name", all_fixture_files() or ["(absent)"])
def test_every_rich_text_element_resolves_cleanly(real_fixtures: Path, name: str) -> None:
    w = world(name)
    for it, element_name, element in w.rich_text_elements():
        language = it["system"].get("language") or "default"
        result = resolve_rich_text(
            element, item=it, element_codename=element_name, language=language, env=w.env
        )
        where = f"{name}: {it['system']['codename']}.{element_name}"
        html = result.html
        assert "application/kenticocloud" not in html, where
        assert "<object" not in html, where
        assert not API_ATTRIBUTES.search(html), where
        # every image is the responsive default
        assert html.count("<img ") == html.count('loading="lazy" decoding="async"'), where
        if name in INLINE_OBJECTS:
            continue
        # well formed: re-parsing the output changes nothing
        assert canonical(html) == html, where
        # and resolving the output again is stable (nothing API-specific is left; the output
        # holds the site's markup, the default <figure>'s srcset..., so no sanitising)
        again = resolve_rich_text(
            {"type": "rich_text", "value": html, "images": {}, "links": {}},
            item=it,
            element_codename=element_name,
            language=language,
            env=dataclasses.replace(w.env, sanitize=False),
        )
        assert again.html == html, where
        assert again.warnings == [] and again.broken_links == [], where


def test_fixture_walk_finds_plenty(real_fixtures: Path) -> None:
    count = sum(len(list(world(n).rich_text_elements())) for n in all_fixture_files())
    assert count > 150


# --------------------------------------------------------------------------- specific cases


def test_ruby_complex_tables(real_fixtures: Path) -> None:
    w = world(RUBY + "lib__delivery__tests__generic__items__rich_text_complex_tables.json")
    result = w.resolve("rich_text_complex_tables", "rich_text")
    html = result.html
    pikachu = (
        "https://qa-assets-us-01.global.ssl.fastly.net:443/34aaa010-a788-0004-ce89-a1c49a062a65"
        "/625c11f0-9783-47d3-b80e-2afafb8862e3/pikachu.jpg"
    )
    assert (
        f'<figure><img src="{pikachu}?auto=format" alt="" width="945" height="819" '
        'loading="lazy" decoding="async" '
        f'srcset="{pikachu}?w=320&amp;auto=format 320w, {pikachu}?w=640&amp;auto=format 640w, '
        f'{pikachu}?auto=format 945w" sizes="(max-width: 960px) 100vw, 960px"></figure>'
    ) in html
    # the second image sits in a table cell, after a nested list
    assert 'width="1280" height="720"' in html
    assert "likeaboss.jpg?w=960&amp;auto=format 960w" in html
    assert "likeaboss.jpg?auto=format 1280w" in html
    assert "<td><h1>Beautiful table on steroids</h1>" in html
    assert "<li>Images\n    <ol>" in html
    # links: one to an item the response does not know, three it does
    assert "<p>Hello world</p>" in html
    assert '<a href="/accessory/paper-filters-for-chemex/">Hello </a>world' in html
    assert '<a href="/article/which-brewing-fits-you/">Wanna </a>see?' in html
    assert '<a href="/simple_rich_text/rich_text_complex_tables/">totally</a>' in html
    assert result.broken_links == [
        BrokenLink(
            "rich_text_complex_tables",
            "rich_text",
            "en-US",
            "3ce384e6-ba4b-49c4-993a-ae4ee1e0a1cc",
            None,
        )
    ]
    assert result.deps.assets == {
        "bf509e0d-d9ed-4925-968e-29a1f6a561c4",
        "a0c1b647-e0b1-478a-b7bd-8df80b55e9f7",
    }
    assert w.resolve("rich_text_complex_tables", "rich_text_2").html == ""


def test_php_broken_and_nonbroken_links(real_fixtures: Path) -> None:
    w = world(
        PHP + "tests__Unit__Data__ContentItemWithRichTextContainingBrokenAndNonbrokenLinks.json"
    )
    result = w.resolve("fake_item_1", "body_copy")
    html = result.html
    assert '<a href="/fake_type_2/link-1/">Link 1</a>' in html
    assert '<a href="/fakeType3/link-2/">Link 2</a>' in html
    assert "Vestibulum 404 tortor" in html
    assert result.broken_links == [
        BrokenLink(
            "fake_item_1", "body_copy", "en-US", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None
        )
    ]
    # the <p><h1>…</h1><p>…</p></p> nesting comes out as HTML5 parses it
    assert html.startswith("<p></p><h1>HTML Ipsum Presents</h1><p><strong>")


def test_php_inline_linked_items_and_odd_objects(real_fixtures: Path) -> None:
    w = world(PHP + "tests__Unit__Data__ContentItemWithRichTextContainingInlineLinkedItems.json")
    result = w.resolve("fake_item_1", "body_copy")
    html = result.html
    one = (
        '<div class="kontent-linked-item kontent-type-fake_type_2">'
        '<div class="kontent-element-modular_item_1_data">Modular item 1 data.</div></div>'
    )
    assert html.count(one) == 2  # inside <strong> and inside <em>; the noitem one is removed
    assert "Modular item 2 data." in html
    assert "<em>Aenean ultricies mi " + one + " vitae est.</em>" in html
    assert any("unknown data-type 'noitem'" in m for m in result.warnings)
    assert any("type='text/xml'" in m for m in result.warnings)
    assert result.deps.items == {"modular_item_1", "modular_item_2"}


def test_js_rich_text_with_stray_closing_object(real_fixtures: Path) -> None:
    w = world(JS + "test__browser__isolated-tests__elements__rich-text__rich-text.spec.json")
    result = w.resolve("rich_text_item_unordered", "rich")
    html = result.html
    assert (
        "<p>Component</p>"
        + "".join(
            '<div class="kontent-component kontent-type-modular_item">'
            f'<div class="kontent-element-text">Text {n}</div></div>'
            for n in (1, 2, 3)
        )
        in html
    )
    assert (
        '<p>Inserted content item</p> <div class="kontent-linked-item kontent-type-modular_item">'
        '<div class="kontent-element-text">Text 4</div></div>'
    ) in html
    assert '<a href="/article/my-article/">link to a content item</a>' in html
    assert (
        '<a href="https://kontent.ai/" target="_blank" rel="noopener noreferrer">'
        "link to web URL</a>"
    ) in html
    assert '<a href="mailto:sales@kontent.ai">email link</a>' in html
    assert '<a href="tel:+0123456789">phone link</a>' in html
    assert 'width="600" height="457"' in html
    assert result.deps.components == {"n1", "n2", "n3"}
    assert result.deps.items == {"n4"}


@pytest.mark.parametrize(
    "name",
    [
        GATSBY
        + "src____tests____richtext-resolution__richtextCircularReferenceFakeItemsResponse.json",
        NET + "Kontent.Ai.Delivery.Tests__Fixtures__DeliveryClient__"
        "onroast_recursive_inline_linked_items.json",
    ],
)
def test_self_referencing_items_render_a_link(real_fixtures: Path, name: str) -> None:
    w = world(name)
    pages = [(it, n) for it, n, el in w.rich_text_elements() if "<object" in el["value"]]
    assert pages
    for it, element in pages:
        codename = it["system"]["codename"]
        result = w.resolve(codename, element)
        url = w.urls[it["system"]["id"]]
        assert f'<a href="{url}">{it["system"]["name"]}</a>' in result.html
        assert any("embeds itself" in m for m in result.warnings)


def test_gatsby_components_images_and_links(real_fixtures: Path) -> None:
    w = world(GATSBY + "src____tests____richtext-resolution__richtextFakeItemsResponse.json")
    result = w.resolve("simple_landing_page", "content")
    html = result.html
    assert '<div class="kontent-component kontent-type-landing_page_image_section">' in html
    assert '<div class="kontent-linked-item kontent-type-project">' in html
    assert 'width="3010" height="1700"' in html
    assert "Back%203_4%20right.jpg?w=1920&amp;auto=format 1920w" in html
    assert "Back%203_4%20right.jpg?auto=format 3010w" in html
    assert '<a href="https://kontent.ai">Link to web.</a>' in html
    assert '<a href="/project/main_project/">' in html
    assert any(
        "no template components/landing_page_image_section.html" in m for m in result.warnings
    )


def test_gatsby_preview_item_embedding_itself_and_a_component_twice(real_fixtures: Path) -> None:
    w = world(GATSBY + "src____tests____preview__item-response-updated-rich-text.json")
    result = w.resolve("test_item", "rich_text")
    assert sum("embeds itself" in m for m in result.warnings) == 1
    assert result.deps.components == {"n8c6fba45_9e5d_0153_ddd2_1bdb1454c7c3"}
    assert "test_item_2" in result.deps.items
    assert result.html.count('<div class="kontent-component ') == 2


def test_net_linked_item_missing_from_the_response(real_fixtures: Path) -> None:
    w = world(
        NET + "Kontent.Ai.Delivery.Tests__Fixtures__ContentLinkResolver__"
        "coffee_processing_techniques.json"
    )
    result = w.resolve("which_brewing_fits_you_", "body_copy")
    assert any("a_chemex_method not found" in m for m in result.warnings)
    assert "a_chemex_method" in result.deps.items


def test_empty_values(real_fixtures: Path) -> None:
    data = load_real(PHP + "tests__Unit__Data__ContentItemWithRichTextWithEmptyValue.json")
    w = FileWorld(data)
    elements = list(w.rich_text_elements())
    assert elements
    for it, name, _element in elements:
        result = w.resolve(it["system"]["codename"], name)
        assert result.html == ""
    ruby = json.dumps(
        load_real(RUBY + "lib__delivery__tests__generic__items__empty_rich_text.json")
    )
    w = FileWorld(json.loads(ruby))
    for it, name, _ in w.rich_text_elements():
        assert w.resolve(it["system"]["codename"], name).html == ""


@pytest.mark.parametrize("name", all_fixture_files() or ["(absent)"])
def test_sanitising_takes_nothing_from_real_content(real_fixtures: Path, name: str) -> None:
    """Every real value is in the allowlist: it takes the fast path, and the sanitiser proper
    (nh3, forced) keeps all of it too, so the output is the same three ways."""
    w = world(name)
    trusting = dataclasses.replace(w.env, sanitize=False)
    for it, element_name, element in w.rich_text_elements():
        value = element.get("value")
        if not isinstance(value, str):  # a content type's element definition
            continue
        where = f"{name}: {it['system']['codename']}.{element_name}"
        assert is_api_shaped(value), where
        forced = {**element, "value": _rich_text_cleaner().clean(value)}
        outputs = [
            resolve_rich_text(
                el, item=it, element_codename=element_name, language="default", env=env
            ).html
            for el, env in ((element, w.env), (element, trusting), (forced, trusting))
        ]
        assert outputs[0] == outputs[1] == outputs[2], where
