"""The feed and the sitemap stay well-formed XML whatever characters the content holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.site.pages import xml_text
from tests.support.sites import content_type, item, make_site, slug, snapshot, text

TOML = """
[site]
base_url = "https://example.org"
title = "Feed \x01 test"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "system.codename asc"

[feed]
listing = "articles"
"""

# Every kind of character XML 1.0 forbids, among allowed ones (tab, é, an emoji).
HOSTILE = "Bell\x07 nul\x00 vt\x0b esc\x1b[31m fffe\ufffe ffff\uffff tab\t é 😀 <&>"


def test_forbidden_characters_are_stripped_and_the_rest_escaped() -> None:
    assert xml_text(HOSTILE) == "Bell nul vt esc[31m fffe ffff tab\t é 😀 &lt;&amp;&gt;"


def test_feed_and_sitemap_parse_with_control_characters_in_titles(tmp_path: Path) -> None:
    articles = [
        item(
            "bad",
            "article",
            elements={
                "title": text(HOSTILE),
                "url": slug("bad"),
                "summary": text("sum\x0cmary"),
            },
            last_modified="2024-01-01T00:00:00Z\x02",
        ),
        item("good", "article", elements={"title": text("Good"), "url": slug("good")}),
    ]
    snap = snapshot(
        {"en-US": articles}, types=[content_type("article", title="text", url="url_slug")]
    )
    config = make_site(
        tmp_path,
        TOML.replace("\x01", "\\u0001"),
        {"article.html": "{{ item.title }}", "listing.html": "x"},
        snap,
    )
    build(config, BuildOptions(offline=True))
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring((config.output_dir / "feed.xml").read_bytes())
    assert feed.findtext(f"{atom}title") == "Feed  test"
    titles = [e.findtext(f"{atom}title") for e in feed.iter(f"{atom}entry")]
    assert titles == ["Bell nul vt esc[31m fffe ffff tab\t é 😀 <&>", "Good"]
    assert next(e.findtext(f"{atom}summary") for e in feed.iter(f"{atom}entry")) == "summary"
    sitemap = ET.fromstring((config.output_dir / "sitemap.xml").read_bytes())
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert "2024-01-01T00:00:00Z" in [u.findtext(f"{ns}lastmod") for u in sitemap]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("aé/:&<>\"'\t\n\r\x08\ufffe\ud800 \U0001f600"), max_size=8))
def test_xml_escaping_fast_path_equals_saxutils(value):
    """xml_text/xml_attr write plain values as they are (the sitemap's ~150k values): the
    same bytes saxutils gives, for every mix of special and forbidden characters."""
    from xml.sax.saxutils import escape, quoteattr

    from kontent_ssg.site.pages import _NOT_XML, xml_attr

    assert xml_text(value) == escape(_NOT_XML.sub("", value))
    assert xml_attr(value) == quoteattr(_NOT_XML.sub("", value))
