"""Templates: friendly values, filters, globals, components, errors, dependency recording."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontent_ssg.builder.parallel import render_pages
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.content.snapshot import ContentStore
from kontent_ssg.errors import BuildError, TemplateError
from kontent_ssg.site.plan import plan_site
from tests.support.sites import (
    asset,
    choice,
    content_type,
    date,
    item,
    linked,
    make_site,
    number,
    rich,
    slug,
    snapshot,
    taxonomy_group,
    terms,
    text,
    uid,
)

TOML = """
[site]
base_url = "https://example.org"
title = "Test site"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[routes.author]
path = "/authors/{system.codename}/"
template = "author.html"

[taxonomies.topics]
path = "/topics/{term}/"
"""


def _article(**extra: dict) -> dict:
    elements = {
        "title": text("Hello <world>"),
        "url": slug("hello"),
        "count": number(4),
        "published": date("2024-03-05T10:20:30Z"),
        "authors": linked("jane", "missing_author"),
        "hero": asset("https://assets.example/hero.jpg", width=800, height=600),
        "topics": terms("topics", "python"),
        "colour": choice("red"),
        "md": text("# Title\n\n*em*"),
        "body": rich(
            '<p>Hi <a data-item-id="{}" href="">Jane</a></p>'.format(uid("jane"))
            + '<object type="application/kenticocloud" data-type="item" data-rel="component" '
            'data-codename="quote1"></object>',
            modular=["quote1"],
        ),
    }
    elements.update(extra)
    return item("hello", "article", elements=elements, last_modified="2024-03-06T00:00:00Z")


def _site(  # type: ignore[no-untyped-def]
    tmp_path: Path, templates: dict[str, str], article: dict | None = None, toml: str = TOML
):
    en = [
        article or _article(),
        item("jane", "author", elements={"name": text("Jane Doe")}, name="Jane"),
    ]
    components = {"en-US": {"quote1": item("quote1", "quote", elements={"q": text("Wise")})}}
    snap = snapshot(
        {"en-US": en},
        types=[
            content_type(
                "article",
                title="text",
                url="url_slug",
                count="number",
                published="date_time",
                authors="modular_content",
                hero="asset",
                topics="taxonomy",
                colour="multiple_choice",
                md="text",
                body="rich_text",
            ),
            content_type("author", name="text"),
            content_type("quote", q="text"),
        ],
        taxonomies=[taxonomy_group("topics", "python", "rust")],
        components=components,
    )
    templates = {"author.html": "{{ item.name }}", **templates}
    return make_site(tmp_path, toml, templates, snap)


def _render(  # type: ignore[no-untyped-def]
    tmp_path: Path, templates: dict[str, str], article: dict | None = None, toml: str = TOML
):
    config = _site(tmp_path, templates, article, toml)
    report = build(config, BuildOptions(offline=True))
    page = (config.output_dir / "articles/hello/index.html").read_text(encoding="utf-8")
    return page, report, config


def test_friendly_values(tmp_path: Path) -> None:
    template = (
        "title={{ item.title }}|count={{ item.count }}|"
        "published={{ item.published.isoformat() }}|"
        "authors={% for a in item.authors %}{{ a.name }}@{{ a.url }}{% endfor %}|"
        "hero={{ item.hero[0].url }} {{ item.hero[0].width }}x{{ item.hero[0].height }}|"
        "topics={% for t in item.topics %}{{ t.codename }}:{{ t.name }}:{{ t.url }}{% endfor %}|"
        "colour={{ item.colour[0].codename }}|url={{ item.url }}|"
        "system={{ item.system.codename }}/{{ item.system.type }}|"
        "raw={{ item.elements.count.type }}|lang={{ language }}|page={{ page_url }}|"
        "site={{ site.title }},{{ site.languages|join(',') }},{{ site.default_language }}"
    )
    page, _, _ = _render(tmp_path, {"article.html": template})
    assert "title=Hello &lt;world&gt;|" in page  # autoescape
    assert "count=4|" in page
    assert "published=2024-03-05T10:20:30+00:00|" in page
    # the author type has a `name` element: it wins over the item's system name "Jane";
    # a missing linked item is skipped
    assert "authors=Jane Doe@/authors/jane/|" in page
    assert "hero=https://assets.example/hero.jpg 800x600|" in page
    assert "topics=python:Python:/topics/python/|" in page
    assert "colour=red|url=/articles/hello/|system=hello/article|raw=number|" in page
    assert "lang=en-US|page=/articles/hello/|site=Test site,en-US,en-US" in page
    assert "build_time" not in page


def test_rich_text_links_and_components(tmp_path: Path) -> None:
    page, report, _ = _render(
        tmp_path,
        {
            "article.html": "{{ item.body }}",
            "components/quote.html": "<q>{{ item.q }}</q> in {{ parent.codename }}/{{ language }}",
        },
    )
    assert '<a href="/authors/jane/">Jane</a>' in page
    assert "<q>Wise</q> in hello/en-US" in page
    assert report.warnings == []


def test_missing_component_template_falls_back_with_a_warning(tmp_path: Path) -> None:
    page, report, _ = _render(tmp_path, {"article.html": "{{ item.body }}"})
    assert "Wise" in page  # generic rendering shows the component's values
    assert any("quote" in w for w in report.warnings)


def test_missing_component_template_is_an_error_with_strict(tmp_path: Path) -> None:
    config = _site(tmp_path, {"article.html": "{{ item.body }}"})
    with pytest.raises(BuildError, match="quote"):
        build(config, BuildOptions(offline=True, strict=True))
    assert not config.output_dir.exists()


def test_filters(tmp_path: Path) -> None:
    template = (
        "{{ item.md|markdown }}|{{ item.hero[0]|image_url(w=300, fm='webp') }}|"
        "{{ item.published|date('%d %B %Y') }}|{{ item.url|absolute }}"
    )
    page, _, _ = _render(tmp_path, {"article.html": template})
    assert "<h1>Title</h1>" in page and "<em>em</em>" in page
    assert "https://assets.example/hero.jpg?w=300&amp;fm=webp" in page
    assert "05 March 2024" in page
    assert "https://example.org/articles/hello/" in page


def test_globals(tmp_path: Path) -> None:
    template = (
        "{% for a in items(type='author') %}{{ a.system.codename }}{% endfor %}|"
        "{{ url_for('jane') }}|{{ url_for(item) }}|{{ url_for('topics', term='rust') }}|"
        "{% for t in taxonomy('topics').terms %}{{ t.codename }}={{ t.url }};{% endfor %}"
    )
    page, _, _ = _render(tmp_path, {"article.html": template})
    # Nothing is tagged rust: its term page is not written, so it has no URL.
    assert page == ("jane|/authors/jane/|/articles/hello/|None|python=/topics/python/;rust=None;")


def test_template_error_names_template_line_and_item(tmp_path: Path) -> None:
    template = "line one\n{{ item.title }}\n{{ 1 // 0 }}\n"
    config = _site(tmp_path, {"article.html": template})
    with pytest.raises(TemplateError) as info:
        build(config, BuildOptions(offline=True))
    message = str(info.value)
    assert "article.html" in message
    assert "line 3" in message
    assert "'hello'" in message and "en-US" in message
    assert "ZeroDivisionError" in message


def test_template_error_in_component_names_the_component(tmp_path: Path) -> None:
    config = _site(
        tmp_path,
        {"article.html": "{{ item.body }}", "components/quote.html": "ok\n{{ item.q.nope() }}"},
    )
    with pytest.raises(TemplateError) as info:
        build(config, BuildOptions(offline=True))
    message = str(info.value)
    assert "components/quote.html, line 2" in message
    assert "quote1" in message


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    config = _site(tmp_path, {"article.html": "ok\n{% if %}\n"})
    with pytest.raises(TemplateError, match=r"article.html, line 2"):
        build(config, BuildOptions(offline=True))


def test_rich_text_image_template_override(tmp_path: Path) -> None:
    image_id = "img-1"
    article = _article(
        body=rich(
            f'<figure data-asset-id="{image_id}" data-image-id="{image_id}">'
            '<img src="https://assets.example/a.jpg" data-asset-id="img-1" data-image-id="img-1">'
            "</figure>",
            images={
                image_id: {
                    "image_id": image_id,
                    "description": "A cat",
                    "url": "https://assets.example/a.jpg",
                    "width": 1000,
                    "height": 500,
                }
            },
        )
    )
    page, _, _ = _render(
        tmp_path,
        {
            "article.html": "{{ item.body }}",
            "rich_text/image.html": '<picture data-alt="{{ alt }}">{{ html|safe }}</picture>',
        },
        article,
    )
    assert '<picture data-alt="A cat"><figure><img' in page
    assert 'width="1000"' in page


def test_pages_record_what_they_read(tmp_path: Path) -> None:
    config = _site(
        tmp_path,
        {
            "article.html": "{% extends 'base.html' %}{% block b %}{{ item.body }}"
            "{% for a in item.authors %}{{ a.name }}{% endfor %}{% endblock %}",
            "base.html": "<main>{% block b %}{% endblock %}</main>",
        },
    )
    store = ContentStore(
        __import__("kontent_ssg.content.snapshot", fromlist=["load_snapshot"]).load_snapshot(
            config.snapshot_dir
        )
    )
    site = plan_site(config, store)
    rendered = render_pages(config, site, site.routes.pages)
    deps = next(r.deps for r in rendered if r.page.key == "hello")
    assert "item:hello:en-US" in deps
    assert "item:jane:en-US" in deps
    assert "item:missing_author:en-US" in deps  # may appear later
    assert "component:quote1" in deps
    assert f"link:{uid('jane')}" in deps
    assert "template:article.html" in deps and "template:base.html" in deps
    assert "template:components/quote.html" in deps  # looked up, missing


def test_date_values_are_aware_utc() -> None:
    from kontent_ssg.render.templating import parse_datetime

    assert parse_datetime("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime(None) is None
    assert parse_datetime("garbage") is None


def test_elements_win_over_view_conveniences(tmp_path: Path) -> None:
    """``item.<codename>`` is the element, even when it is called name, language or type;
    only ``system``, ``elements`` and ``url`` are reserved."""
    article = _article(
        name=text("Element name"),
        language=text("Element language"),
        type=text("Element type"),
        url=slug("hello"),
    )
    template = (
        "{{ item.name }}|{{ item.language }}|{{ item.type }}|{{ item.system.name }}|"
        "{{ item.url }}|{{ item['name'] }}"
    )
    page, _, _ = _render(tmp_path, {"article.html": template}, article)
    assert page == (
        "Element name|Element language|Element type|Hello|/articles/hello/|Element name"
    )


def test_term_pages_list_items_of_narrower_terms(tmp_path: Path) -> None:
    nested = {
        "system": {"id": uid("tax:topics"), "name": "Topics", "codename": "topics"},
        "terms": [
            {
                "name": "Brewing",
                "codename": "brewing",
                "terms": [{"name": "Espresso", "codename": "espresso", "terms": []}],
            }
        ],
    }
    en = [
        item(
            "a",
            "article",
            elements={"title": text("A"), "url": slug("a"), "topics": terms("topics", "espresso")},
            last_modified="2024-01-02T00:00:00Z",
        ),
        item(
            "b",
            "article",
            elements={"title": text("B"), "url": slug("b"), "topics": terms("topics", "brewing")},
            last_modified="2024-01-01T00:00:00Z",
        ),
    ]
    snap = snapshot(
        {"en-US": en},
        types=[
            content_type("article", title="text", url="url_slug", topics="taxonomy"),
            content_type("author", name="text"),
        ],
        taxonomies=[nested],
    )
    templates = {
        "article.html": "{{ item.title }}",
        "author.html": "",
        "taxonomy.html": "{% for i in term_items %}{{ i.title }};{% endfor %}"
        "{{ items(type='article')|length }}",
    }
    config = make_site(tmp_path, TOML, templates, snap)
    build(config, BuildOptions(offline=True))
    out = config.output_dir
    # the broader term lists the narrower term's items too, newest first; `items()` is
    # still the global query (not hidden by the page's items)
    assert (out / "topics/brewing/index.html").read_text() == "A;B;2"
    assert (out / "topics/espresso/index.html").read_text() == "A;2"


def _reference_sort(items: list[dict], order: str) -> list[dict]:
    """sort_items as first written: the key computed in each pass (the spec it must keep)."""
    from kontent_ssg.site.ordering import item_sort_key as _item_sort_key

    result = sorted(items, key=lambda v: str(v["system"]["codename"]))
    parts = order.split()
    key = _item_sort_key(parts[0])
    if len(parts) > 1 and parts[1] == "desc":
        present = [v for v in result if key(v)[0] == 0]
        missing = [v for v in result if key(v)[0] == 1]
        return sorted(present, key=key, reverse=True) + missing
    return sorted(result, key=key)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["2024-01-02", "2023"])),
        ),
        max_size=12,
    ),
    st.sampled_from(["elements.v", "elements.v desc", "system.codename desc", "elements.none"]),
)
def test_sort_items_orders_like_the_reference(rows: list[tuple[str, object]], order: str) -> None:
    from kontent_ssg.site.ordering import sort_items

    items = [
        {"system": {"codename": codename, "n": i}, "elements": {"v": {"value": value}}}
        for i, (codename, value) in enumerate(rows)
    ]
    assert [id(v) for v in sort_items(items, order)] == [
        id(v) for v in _reference_sort(items, order)
    ]


def test_the_last_resort_taxonomy_template_lists_the_term_items() -> None:
    # Term pages get `term_items` (README); the built-in fallback must loop over that.
    import jinja2

    from kontent_ssg.render.templating import _BUILTIN

    env = jinja2.Environment(loader=jinja2.DictLoader(_BUILTIN), autoescape=True)
    items = [{"url": "/a/", "system": {"name": "A"}}, {"url": "/b/", "system": {"name": "B"}}]
    html = env.get_template("taxonomy.html").render(
        language="en", term={"name": "Brewing"}, term_items=items
    )
    assert '<li><a href="/a/">A</a></li><li><a href="/b/">B</a></li>' in html


# --- hostile content (issue 10, items 9 and 10) ---------------------------------------------

HOSTILE_MD = '<img src=x onerror="alert(1)"> *hi* <b>b</b> [x](javascript:alert(2))'


def test_markdown_filter_escapes_raw_html(tmp_path: Path) -> None:
    page, _, _ = _render(
        tmp_path, {"article.html": "{{ item.md|markdown }}"}, _article(md=text(HOSTILE_MD))
    )
    assert "&lt;img src=x onerror=" in page and "&lt;b&gt;b&lt;/b&gt;" in page
    assert "<img" not in page and 'href="javascript' not in page
    assert "<em>hi</em>" in page


def test_markdown_html_lets_raw_html_through_sanitised(tmp_path: Path) -> None:
    toml = TOML.replace("[site]\n", "[site]\nmarkdown_html = true\n")
    md = text(HOSTILE_MD + "<script>alert(3)</script>")
    page, _, _ = _render(
        tmp_path / "a", {"article.html": "{{ item.md|markdown }}"}, _article(md=md), toml
    )
    assert '<img src="x">' in page and "<b>b</b>" in page
    assert "onerror" not in page and "<script" not in page
    # and unsanitised only when sanitising is switched off too
    toml_off = toml.replace("[site]\n", "[site]\nsanitize_html = false\n")
    page, _, _ = _render(
        tmp_path / "b", {"article.html": "{{ item.md|markdown }}"}, _article(md=md), toml_off
    )
    assert 'onerror="alert(1)"' in page and "<script>alert(3)</script>" in page


HOSTILE_BODY = (
    '<p onclick="alert(1)">Hi <a href="javascript:alert(2)" data-item-id="{jane}">Jane</a> '
    '<a href="javascript:alert(3)">x</a></p><script>alert(4)</script>'
    '<object type="application/kenticocloud" data-type="item" data-rel="component" '
    'data-codename="quote1" onload="alert(5)"></object>'
    '<figure data-asset-id="img-1" data-image-id="img-1"><img src="https://assets.example/a.jpg" '
    'data-asset-id="img-1" data-image-id="img-1" onerror="alert(6)"></figure>'
    '<iframe src="https://evil.example/"></iframe>'
)


def _hostile_article() -> dict:
    return _article(
        body=rich(
            HOSTILE_BODY.format(jane=uid("jane")),
            modular=["quote1"],
            images={
                "img-1": {
                    "image_id": "img-1",
                    "description": "A cat",
                    "url": "https://assets.example/a.jpg",
                    "width": 1000,
                    "height": 500,
                }
            },
        )
    )


SITE_MARKUP = {
    "article.html": "{{ item.body }}",
    # the site's own markup: scripts and handlers it chose to write are its business
    "components/quote.html": '<blockquote onclick="site()">{{ item.q }}</blockquote>'
    "<script>site()</script>",
    "rich_text/image.html": '<div class="zoom" data-zoom="{{ src }}">{{ html|safe }}</div>',
}


def test_hostile_rich_text_is_sanitised_and_the_sites_markup_kept(tmp_path: Path) -> None:
    page, _, _ = _render(tmp_path, SITE_MARKUP, _hostile_article())
    for hostile in (
        "alert(1)",
        "alert(2)",
        "alert(3)",
        "alert(4)",
        "alert(5)",
        "alert(6)",
        "javascript:",
        "<iframe",
        "evil.example",
    ):
        assert hostile not in page, hostile
    assert '<p>Hi <a href="/authors/jane/">Jane</a> <a>x</a></p>' in page
    # the component template, the image template and the default <figure> are untouched
    assert '<blockquote onclick="site()">Wise</blockquote><script>site()</script>' in page
    assert '<div class="zoom" data-zoom="https://assets.example/a.jpg?auto=format"><figure>' in page
    assert 'loading="lazy" decoding="async" srcset=' in page


def test_asset_urls_with_an_unsafe_scheme_are_left_empty(tmp_path: Path) -> None:
    article = _article(hero=asset("javascript:alert(1)"))
    page, _, _ = _render(tmp_path / "a", {"article.html": '<a href="{{ item.hero[0].url }}">'})
    assert '<a href="https://assets.example/hero.jpg">' in page
    page, report, _ = _render(
        tmp_path / "b", {"article.html": '<a href="{{ item.hero[0].url }}">'}, article
    )
    assert '<a href="">' in page
    assert any("unsafe scheme" in w for w in report.warnings)


def test_sanitising_rich_text_can_be_switched_off(tmp_path: Path) -> None:
    toml = TOML.replace("[site]\n", "[site]\nsanitize_html = false\n")
    page, _, _ = _render(tmp_path, SITE_MARKUP, _hostile_article(), toml)
    assert '<p onclick="alert(1)">' in page and "<script>alert(4)</script>" in page


def test_the_taxonomy_group_is_made_once_per_plan_and_read_again_with_its_keys(
    tmp_path: Path,
) -> None:
    """A term page's group view is kept for the next renderer of the same plan (a webhook
    rebuild's), with the keys making it recorded; a changed group is made afresh."""
    import dataclasses

    from kontent_ssg.content.snapshot import load_snapshot

    def group(name: str) -> dict:  # type: ignore[type-arg]
        return {
            "system": {"id": uid("tax:topics"), "name": "Topics", "codename": "topics"},
            "terms": [{"name": name, "codename": "brewing", "terms": []}],
        }

    en = [
        item(
            "a",
            "article",
            elements={"title": text("A"), "url": slug("a"), "topics": terms("topics", "brewing")},
        )
    ]
    types = [
        content_type("article", title="text", url="url_slug", topics="taxonomy"),
        content_type("author", name="text"),
    ]
    templates = {
        "article.html": "{{ item.title }}",
        "author.html": "",
        "taxonomy.html": "{{ group.name }}:{{ term.name }}:{{ term.url }}",
    }
    config = make_site(
        tmp_path, TOML, templates, snapshot({"en-US": en}, types=types, taxonomies=[group("Brew")])
    )
    site = plan_site(config, ContentStore(load_snapshot(config.snapshot_dir)))
    term_page = [p for p in site.routes.pages if p.kind == "taxonomy"]
    first, again = (render_pages(config, site, term_page)[0] for _ in range(2))
    assert first.data == again.data == b"Topics:Brew:/topics/brewing/"
    assert "taxonomy:topics" in again.deps and again.deps == first.deps
    # A plan patched after the group changed keeps its term URLs, not the group.
    renamed = snapshot({"en-US": en}, types=types, taxonomies=[group("Brewing")])
    patched = dataclasses.replace(site, store=ContentStore(renamed))
    assert render_pages(config, patched, term_page)[0].data == b"Topics:Brewing:/topics/brewing/"
