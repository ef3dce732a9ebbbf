"""The built site's own links (issue 11, item 5): a generated home page where nothing claims
``/``, and a link check of every ``href``/``src``/``srcset`` of every written page.

The default 404 page linked to ``/`` on sites without a home page, and ``check`` only knew
the links rich text resolves, not those templates write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kontent_ssg.builder.check import CheckOptions, check_site
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.cli import main
from kontent_ssg.errors import StrictError
from kontent_ssg.site.links import (
    _OPAQUE,
    _keep_tags,
    _urls,
    internal_path,
    page_links,
    resolves,
)
from tests.support.emulator import Emulator
from tests.support.sites import (
    content_type,
    date,
    item,
    make_site,
    rich,
    slug,
    snapshot,
    text,
    tree,
)

TOML = """
[site]
base_url = "https://example.org"
title = "Blog"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[routes.author]
path = "/authors/{system.codename}/"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.published desc"
"""

TYPES = [
    content_type("article", title="text", url="url_slug", body="rich_text", published="date_time"),
    content_type("author", name="text"),
]


def article(codename: str, day: int, language: str = "en-US", body: str = "<p>x</p>") -> dict:
    return item(
        codename,
        "article",
        language,
        elements={
            "title": text(codename.title()),
            "url": slug(codename),
            "body": rich(body),
            "published": date(f"2024-01-{day:02d}T00:00:00Z"),
        },
    )


def blog(tmp_path: Path, templates: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
    en = [article(f"post{n}", n) for n in range(1, 8)] + [
        item("ann", "author", elements={"name": text("Ann")})
    ]
    es = [article("post1", 1, "es-ES")]
    snap = snapshot({"en-US": en, "es-ES": es}, types=TYPES)
    return make_site(
        tmp_path,
        kw.get("toml", TOML),
        templates if templates is not None else {"article.html": "{{ item.title }}"},
        snap,
        kw.get("static"),
    )


# -- the generated home page -----------------------------------------------------------------


def test_a_site_without_a_home_route_gets_a_home_page_and_no_dangling_link(
    tmp_path: Path,
) -> None:
    config = blog(tmp_path)
    report = build(config, BuildOptions(offline=True))
    assert {"index.html", "es-ES/index.html"} <= set(report.pages_written)
    assert report.broken_links == []
    home = (config.output_dir / "index.html").read_text()
    # the newest five articles of the listing, linked, then the routed type no listing shows
    assert home.count('<li><a href="/articles/post') == 5
    assert home.index("/articles/post7/") < home.index("/articles/post3/")
    assert "/articles/post2/" not in home
    assert '<a href="/articles/">Articles</a>' in home
    assert '<a href="/authors/ann/">Ann</a>' in home
    # a language switcher to the Spanish home page, which lists only Spanish items
    assert 'href="/es-ES/" hreflang="es-ES"' in home
    es_home = (config.output_dir / "es-ES/index.html").read_text()
    assert "/es-ES/articles/post1/" in es_home and "post7" not in es_home
    # the 404 page's way home now leads somewhere, and check says so
    assert 'href="/"' in (config.output_dir / "404.html").read_text()
    assert check_site(config, CheckOptions(offline=True)).broken_links == []
    sitemap = (config.output_dir / "sitemap.xml").read_text()
    assert "<loc>https://example.org/</loc>" in sitemap
    assert "<loc>https://example.org/es-ES/</loc>" in sitemap


def test_the_site_overrides_home_html(tmp_path: Path) -> None:
    templates = {
        "article.html": "{{ item.title }}",
        "home.html": "{% for s in sections %}{{ s.name }}:{{ s.title }}:{{ s.url }}:"
        "{% for i in s.items %}{{ i.system.codename }},{% endfor %}|{% endfor %}"
        "{% for a in alternates %}{{ a.language }}={{ a.url }}{% if a.is_current %}*{% endif %};"
        "{% endfor %}",
    }
    config = blog(tmp_path, templates)
    build(config, BuildOptions(offline=True))
    assert (config.output_dir / "index.html").read_text() == (
        "articles:Articles:/articles/:post7,post6,post5,post4,post3,|"
        "author:Author:None:ann,|en-US=/*;es-ES=/es-ES/;"
    )


def test_a_home_route_or_a_static_index_claims_the_home_url(tmp_path: Path) -> None:
    toml = TOML.replace('path = "/authors/{system.codename}/"', 'path = "/"')
    config = blog(tmp_path / "route", toml=toml)
    build(config, BuildOptions(offline=True))
    # the author item is the English home page; Spanish has no author: a generated one
    assert (config.output_dir / "index.html").read_text().startswith("<!DOCTYPE html>")
    assert "Ann" in (config.output_dir / "index.html").read_text()
    assert "Articles" in (config.output_dir / "es-ES/index.html").read_text()

    config = blog(tmp_path / "static", static={"index.html": "<p>mine</p>"})
    report = build(config, BuildOptions(offline=True))
    assert "index.html" not in report.pages_written and report.static_written == ["index.html"]
    assert (config.output_dir / "index.html").read_text() == "<p>mine</p>"


def test_a_site_home_html_rendering_items_is_not_used_for_the_generated_home(
    tmp_path: Path,
) -> None:
    """The example site's ``home.html`` renders its home item: a language without that item
    gets the package's home page, not a template error."""
    toml = TOML.replace(
        'path = "/authors/{system.codename}/"', 'path = "/"\ntemplate = "home.html"'
    )
    config = blog(
        tmp_path, {"article.html": "x", "home.html": "Home item: {{ item.name }}"}, toml=toml
    )
    build(config, BuildOptions(offline=True))
    assert (config.output_dir / "index.html").read_text() == "Home item: Ann"
    spanish = (config.output_dir / "es-ES/index.html").read_text()
    assert spanish.startswith("<!DOCTYPE html>") and "/es-ES/articles/post1/" in spanish


# -- the link check --------------------------------------------------------------------------

LINKS = """<nav><a href="/">Home</a> <a href="/articles/">All</a> <a href="/about/">About</a>
<a href="/articles">no slash</a> <a href="mailto:a@example.org">mail</a>
<a href="https://elsewhere.example/x">out</a> <a href="#main">skip</a>
<a href="https://example.org/gone/">absolute</a> <a href='../post2/'>relative</a></nav>
<link rel="stylesheet" href="/css/site.css">
<img src="/img/logo.png" srcset="/img/logo.png 1x, /img/logo@2x.png 2x" alt="">
<!-- <a href="/commented-out/"> -->
<pre><code>&lt;a href="/in-a-code-sample/"&gt;</code></pre>
<main>{{ item.body }}</main>"""


def test_check_and_build_find_every_dangling_internal_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        '<p>See <a href="/typed-by-an-editor/">this</a> and <a href="/articles/post3/">that</a></p>'
    )
    en = [article("post1", 1, body=body), article("post2", 2), article("post3", 3)]
    snap = snapshot({"en-US": en}, types=TYPES)
    config = make_site(
        tmp_path, TOML, {"article.html": LINKS}, snap, {"css/site.css": "b{}", "img/logo.png": "x"}
    )
    result = check_site(config, CheckOptions(offline=True))
    dangling = sorted({(b["attribute"], b["target"]) for b in result.broken_links})
    assert dangling == [
        ("href", "/about/"),
        ("href", "/typed-by-an-editor/"),
        ("href", "https://example.org/gone/"),
        ("srcset", "/img/logo@2x.png"),
    ]
    assert main(["check", str(config.site_dir), "--offline"]) == 0
    err = capsys.readouterr().err
    assert 'broken link: /articles/post1/: href="/typed-by-an-editor/" points at no page' in err
    assert main(["check", str(config.site_dir), "--offline", "--strict"]) == 1

    report = build(config, BuildOptions(offline=True))
    # the same links, each reported once (on the first page showing it), as warnings of build
    assert sorted({(b["attribute"], b["target"]) for b in report.broken_links}) == dangling
    assert len(report.broken_links) == len(dangling)
    assert {b["page"] for b in report.broken_links if b["target"] == "/about/"} == {
        "/articles/post1/"
    }
    with pytest.raises(StrictError, match="about"):
        build(config, BuildOptions(offline=True, strict=True))


def _site_on(folder: Path, emu: Emulator) -> Path:
    folder.mkdir(parents=True)
    (folder / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"\n\n'
        '[site]\nbase_url = "https://example.org"\n\n'
        '[routes.article]\npath = "/articles/{url}/"\ntemplate = "article.html"\n'
    )
    (folder / "templates").mkdir()
    (folder / "templates" / "article.html").write_text(
        '<a href="/articles/post9/">later</a><img src="/logo.png">{{ item.title }}'
    )
    (folder / "static").mkdir()
    (folder / "static" / "logo.png").write_text("png")
    return folder


def _build(site: Path, tmp_path: Path, *flags: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = main(["build", str(site), "-q", "--report", str(report), *flags])
    return code, json.loads(report.read_text())


def _targets(report: dict) -> list[str]:
    return sorted(b["target"] for b in report["broken_links"] if "attribute" in b)


def test_dangling_links_are_judged_for_the_whole_site_after_incremental_builds(
    tmp_path: Path,
) -> None:
    """A link that dangles stops dangling when its page appears, and one that led somewhere
    dangles when its file goes, though the page holding it is not re-rendered otherwise."""
    with Emulator(snapshot({"en-US": [article("post1", 1)]}, types=TYPES)) as emu:
        site = _site_on(tmp_path / "site", emu)
        code, report = _build(site, tmp_path)
        assert code == 0 and _targets(report) == ["/articles/post9/"]
        # Nothing changed: the stored problem is still the site's.
        code, report = _build(site, tmp_path, "--strict")
        assert code == 1 and report["broken_links"]

        emu.upsert_item(article("post9", 9))
        code, report = _build(site, tmp_path, "--strict")
        assert code == 0 and report["incremental"] and _targets(report) == []
        assert "articles/post1/index.html" in report["pages_rendered"]

        (site / "static" / "logo.png").unlink()
        code, report = _build(site, tmp_path)
        assert code == 0 and report["incremental"]
        assert _targets(report) == ["/logo.png"]
        assert {"articles/post1/index.html", "articles/post9/index.html"} <= set(
            report["pages_rendered"]
        )
        # and the output is what a clean build makes
        clean = tmp_path / "clean"
        clean.mkdir()
        for name in ("kontent.toml", "templates"):
            src = site / name
            if src.is_dir():
                (clean / name).mkdir()
                for f in src.iterdir():
                    (clean / name / f.name).write_bytes(f.read_bytes())
            else:
                (clean / name).write_bytes(src.read_bytes())
        code, fresh = _build(clean, tmp_path)
        assert _targets(fresh) == ["/logo.png"]
        assert tree(site / "public") == tree(clean / "public")


# -- the link finder -------------------------------------------------------------------------


def test_page_links_reads_attributes_not_text() -> None:
    html = (
        '<a href="/a/">x</a><A class=x href=/b/>y</A>'
        "<img src='/c.png' srcset=\"/c.png?w=1 1x, /c@2.png 2x\">"
        '<p>text that says href="/not-a-link/" in prose</p>'
        '<pre>&lt;img src="/in-code.png"&gt;</pre>'
        '<!-- <a href="/in-a-comment/"> -->'
        '<script src="/app.js">if (a < b) { el.src = "/in-script.js" }</script>'
        '<style>a{background:url("/x")}</style>'
        '<a href="/q/?a=1&amp;b=2">e</a>'
    )
    assert list(page_links(html)) == [
        ("href", "/a/"),
        ("href", "/b/"),
        ("src", "/c.png"),
        ("srcset", "/c.png?w=1"),
        ("srcset", "/c@2.png"),
        ("src", "/app.js"),
        ("href", "/q/?a=1&b=2"),
    ]


# What page_links finds, said as one regular expression: whitespace, an attribute name, "=",
# a value; found left to right; kept when the nearest "<" before it is nearer than the
# nearest ">". page_links searches from the names instead (much faster); it must find the same.
_SPEC = re.compile(r"""\s(href|src|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


def _spec_links(text: str) -> Iterator[tuple[str, str]]:
    if "<!--" in text or "<script" in text or "<style" in text:
        text = _OPAQUE.sub(_keep_tags, text)
    for match in _SPEC.finditer(text):
        start = match.start()
        if text.rfind(">", 0, start) > text.rfind("<", 0, start):
            continue
        yield from _urls(*match.groups())


# Pieces that make the cases hard: names inside words and values, names without "=",
# whitespace of several kinds, quotes, tags opened in text.
_PIECES = st.sampled_from(
    [
        " ",
        "\n",
        "\t",
        "\u00a0",
        "\u2003",
        "<",
        ">",
        "<a",
        "<img",
        "/>",
        "=",
        '"',
        "'",
        "&amp;",
        "href",
        "src",
        "srcset",
        "xhref",
        "srcsetx",
        "hrefsrc",
        " href=",
        " src=",
        " srcset=",
        'href="/a/"',
        "src='/b.png'",
        "src=/c",
        ' srcset="/d 1x, /e 2x"',
        "/p/",
        "x",
        "1x,",
        "<!--",
        "-->",
        "<script>",
        "</script>",
        "`",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_page_links_finds_what_the_single_expression_finds(text: str) -> None:
    assert list(page_links(text)) == list(_spec_links(text))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/a/b/", "/a/b/"),
        ("../c/", "/x/c/"),
        ("./e/#top", "/x/y/e/"),
        ("/x/../z/?q=1", "/z/"),
        ("d.png", "/x/y/d.png"),
        ("/caf%C3%A9/", "/café/"),
        ("https://example.org/e/", "/e/"),
        ("https://example.org", "/"),
        ("https://example.org.evil/", None),
        ("//cdn.example/x.js", None),
        ("mailto:a@b.c", None),
        ("data:image/png;base64,xx", None),
        ("javascript:void(0)", None),
        ("#top", None),
        ("?page=2", None),
        ("", None),
    ],
)
def test_internal_path(url: str, expected: str | None) -> None:
    assert internal_path(url, "/x/y/", "https://example.org") == expected


def test_resolves() -> None:
    files = {"index.html", "articles/index.html", "css/site.css"}
    assert resolves("/", files) and resolves("/articles/", files)
    assert resolves("/articles", files) and resolves("/articles/index.html", files)
    assert resolves("/css/site.css", files)
    assert not resolves("/css/", files) and not resolves("/about/", files)
