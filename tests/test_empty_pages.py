"""Listing and taxonomy term pages exist only where they have items (issue 11, item 3).

A site with no ``languages =`` builds every language of the environment; a language nobody
translated into used to get empty listing and term pages, listed in the sitemap and linked by
every language switcher. ``[site] empty_pages = true`` brings them back.
"""

from __future__ import annotations

from pathlib import Path

from kontent_ssg.builder.check import CheckOptions, check_site
from kontent_ssg.builder.pipeline import BuildOptions, build
from tests.support.sites import (
    content_type,
    item,
    make_site,
    rich,
    slug,
    snapshot,
    taxonomy_group,
    terms,
    text,
)

TOML = """
[site]
base_url = "https://example.org"
{extra}

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"

[listings.news]
path = "/news/"
type = "news"

[taxonomies.topics]
path = "/topics/{{term}}/"
"""

TEMPLATES = {
    "article.html": "<h1>{{ item.title }}</h1>"
    "{% for t in item.topics %}<a href='{{ t.url }}'>{{ t.name }}</a>{% endfor %}"
    "{% for a in alternates %}<link hreflang='{{ a.language }}' href='{{ a.url }}'>{% endfor %}",
    "listing.html": "{% for i in page.items %}{{ i.title }};{% endfor %}"
    "{% for a in alternates %}<link hreflang='{{ a.language }}' href='{{ a.url }}'>{% endfor %}",
    "taxonomy.html": "{{ term.name }}:{% for i in term_items %}{{ i.title }};{% endfor %}"
    "{% for a in alternates %}<link hreflang='{{ a.language }}' href='{{ a.url }}'>{% endfor %}"
    "|{% for t in taxonomy('topics').terms %}{{ t.codename }}={{ t.url }};{% endfor %}",
}

TYPES = [
    content_type("article", title="text", url="url_slug", topics="taxonomy"),
    content_type("news", title="text"),
]


def article(codename: str, language: str = "en-US", *topics: str) -> dict:
    return item(
        codename,
        "article",
        language,
        elements={
            "title": text(codename.title()),
            "url": slug(codename),
            "topics": terms("topics", *topics),
            "body": rich("<p>x</p>"),
        },
    )


def english_only() -> dict:
    """Two languages in the environment, nothing translated into Spanish: its feed holds
    only fallback variants (``system.language`` en-US), as the Delivery API serves them."""
    en = [article("one", "en-US", "coffee"), article("two", "en-US", "coffee")]
    es = [article("one", "en-US", "coffee"), article("two", "en-US", "coffee")]
    return {"en-US": en, "es-ES": es}


def _site(tmp_path: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    snap = snapshot(
        english_only(), types=TYPES, taxonomies=[taxonomy_group("topics", "coffee", "tea")]
    )
    return make_site(tmp_path, TOML.format(extra=extra), TEMPLATES, snap)


def test_a_language_without_translations_gets_no_listing_or_term_pages(tmp_path: Path) -> None:
    config = _site(tmp_path)
    report = build(config, BuildOptions(offline=True))
    written = set(report.pages_written)
    assert not [p for p in written if p.startswith("es-ES/")], "no empty Spanish pages"
    # In English too: a listing (news) or term (tea) without items has no page.
    assert "news/index.html" not in written and "topics/tea/index.html" not in written
    assert {"articles/index.html", "topics/coffee/index.html"} <= written
    out = config.output_dir
    sitemap = (out / "sitemap.xml").read_text()
    assert "es-ES" not in sitemap and "/news/" not in sitemap and "/topics/tea/" not in sitemap
    # No alternates or language switcher pointing at pages that are not there.
    listing = (out / "articles/index.html").read_text()
    assert listing == "One;Two;<link hreflang='en-US' href='/articles/'>"
    term = (out / "topics/coffee/index.html").read_text()
    assert term == (
        "Coffee:One;Two;<link hreflang='en-US' href='/topics/coffee/'>"
        "|coffee=/topics/coffee/;tea=None;"
    )
    assert (out / "articles/one/index.html").read_text() == (
        "<h1>One</h1><a href='/topics/coffee/'>Coffee</a>"
        "<link hreflang='en-US' href='/articles/one/'>"
    )
    # check agrees: it plans the same pages
    assert check_site(config, CheckOptions(offline=True)).pages == len(report.pages_written)


def test_empty_pages_true_writes_them(tmp_path: Path) -> None:
    config = _site(tmp_path, "empty_pages = true")
    report = build(config, BuildOptions(offline=True))
    written = set(report.pages_written)
    assert {
        "es-ES/articles/index.html",
        "es-ES/news/index.html",
        "es-ES/topics/coffee/index.html",
        "es-ES/topics/tea/index.html",
        "news/index.html",
        "topics/tea/index.html",
    } <= written
    listing = (config.output_dir / "articles/index.html").read_text()
    assert "<link hreflang='es-ES' href='/es-ES/articles/'>" in listing
    assert "/es-ES/topics/tea/" in (config.output_dir / "sitemap.xml").read_text()


def test_a_term_page_lists_narrower_terms_so_exists_for_them(tmp_path: Path) -> None:
    group = taxonomy_group("topics", "coffee")
    group["terms"][0]["terms"] = [{"name": "Espresso", "codename": "espresso", "terms": []}]
    en = [article("one", "en-US", "espresso")]
    snap = snapshot({"en-US": en}, types=TYPES, taxonomies=[group])
    config = make_site(tmp_path, TOML.format(extra=""), TEMPLATES, snap)
    written = set(build(config, BuildOptions(offline=True)).pages_written)
    assert {"topics/coffee/index.html", "topics/espresso/index.html"} <= written
