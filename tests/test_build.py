"""The build end to end on small hand-made sites: output, rewrites, deletions, failures."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kontent_ssg.builder import parallel
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.cli import main
from kontent_ssg.config import load_config
from kontent_ssg.content.snapshot import Snapshot, save_snapshot
from kontent_ssg.errors import BuildError, RouteError, TemplateError
from tests.support.emulator import Emulator
from tests.support.sites import (
    ENV_ID,
    content_type,
    item,
    make_site,
    rich,
    slug,
    snapshot,
    taxonomy_group,
    terms,
    text,
    tree,
    uid,
)

TOML = """
[site]
base_url = "https://example.org"
title = "Blog"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "system.codename asc"
page_size = 2

[taxonomies.topics]
path = "/topics/{term}/"

[feed]
listing = "articles"
"""

TEMPLATES = {
    "article.html": "<h1>{{ item.title }}</h1>{{ item.body }}"
    "{% for a in alternates %}<link hreflang='{{ a.language }}' href='{{ a.url }}'>{% endfor %}",
    "listing.html": "{% for i in page.items %}<a href='{{ i.url }}'>{{ i.title }}</a>{% endfor %}"
    "{{ page.number }}/{{ page.total_pages }} prev={{ page.prev_url }} next={{ page.next_url }}",
    "taxonomy.html": "{{ group.name }}:{{ term.name }}:"
    "{% for i in term_items %}{{ i.system.codename }},{% endfor %}",
}

TYPES = [content_type("article", title="text", url="url_slug", body="rich_text", topics="taxonomy")]
TAXONOMIES = [taxonomy_group("topics", "python", "rust")]


def article(codename: str, language: str = "en-US", *, body: str = "<p>x</p>", **kw: str) -> dict:
    return item(
        codename,
        "article",
        language,
        elements={
            "title": text(kw.get("title", codename.title())),
            "url": slug(kw.get("url", codename.replace("_", "-"))),
            "body": rich(body),
            "topics": terms("topics", *([kw["topic"]] if "topic" in kw else [])),
        },
    )


def three_articles() -> Snapshot:
    en = [article("one", topic="python"), article("two"), article("three", topic="python")]
    es = [article("one", "es-ES", url="uno", topic="python"), article("two"), article("three")]
    es[1]["system"]["language"] = "en-US"  # fallback variants: not translated
    es[2]["system"]["language"] = "en-US"
    return snapshot({"en-US": en, "es-ES": es}, types=TYPES, taxonomies=TAXONOMIES)


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_site(tmp_path / "site", TOML, TEMPLATES, three_articles(), {"style.css": "b{}"})


def offline(**kw: object) -> BuildOptions:
    return BuildOptions(offline=True, **kw)  # type: ignore[arg-type]


def test_build_writes_every_page(site) -> None:  # type: ignore[no-untyped-def]
    report = build(site, offline())
    out = site.output_dir
    assert sorted(report.pages_written) == [
        "404.html",
        "articles/index.html",
        "articles/one/index.html",
        "articles/page/2/index.html",
        "articles/three/index.html",
        "articles/two/index.html",
        "es-ES/articles/index.html",
        "es-ES/articles/uno/index.html",
        "es-ES/index.html",
        "es-ES/topics/python/index.html",
        "feed.xml",
        "index.html",
        "robots.txt",
        "sitemap.xml",
        "topics/python/index.html",
    ]
    assert report.static_written == ["style.css"]
    assert (out / "style.css").read_text() == "b{}"
    one = (out / "articles/one/index.html").read_text()
    assert "href='/es-ES/articles/uno/'" in one and "hreflang='en-US'" in one
    listing = (out / "articles/index.html").read_text()
    assert "/articles/one/" in listing and "/articles/three/" in listing
    assert "1/2 prev=None next=/articles/page/2/" in listing
    page2 = (out / "articles/page/2/index.html").read_text()
    assert "/articles/two/" in page2 and "prev=/articles/ next=None" in page2
    assert (out / "topics/python/index.html").read_text().startswith("Topics:Python:")
    assert "one," in (out / "topics/python/index.html").read_text()
    assert (out / "es-ES/topics/python/index.html").read_text().endswith("one,")
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://example.org/articles/one/</loc>" in sitemap
    assert 'hreflang="es-ES" href="https://example.org/es-ES/articles/uno/"' in sitemap
    assert "<lastmod>2024-01-01T00:00:00Z</lastmod>" in sitemap
    assert "Sitemap: https://example.org/sitemap.xml" in (out / "robots.txt").read_text()
    feed = (out / "feed.xml").read_text()
    assert feed.count("<entry>") == 3 and "https://example.org/articles/one/" in feed


def test_second_build_writes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    before = {p: os.stat(p).st_mtime_ns for p in site.output_dir.rglob("*") if p.is_file()}
    again = build(site, offline())
    assert again.pages_written == [] and again.pages_deleted == [] and again.static_written == []
    assert again.skipped
    # Even when forced to render everything again, nothing is rewritten.
    forced = build(site, offline(full=True))
    assert forced.pages_written == [] and not forced.skipped
    assert len(forced.pages_unchanged) == 15
    after = {p: os.stat(p).st_mtime_ns for p in site.output_dir.rglob("*") if p.is_file()}
    assert after == before


def test_clean_rebuilds_are_byte_identical(tmp_path: Path) -> None:
    first = make_site(tmp_path / "a", TOML, TEMPLATES, three_articles())
    second = make_site(tmp_path / "b", TOML, TEMPLATES, three_articles())
    build(first, offline())
    build(second, offline())
    assert tree(first.output_dir) == tree(second.output_dir)
    shutil.rmtree(first.output_dir)
    shutil.rmtree(first.state_dir / "build")
    build(first, offline())
    assert tree(first.output_dir) == tree(second.output_dir)


def test_changed_item_rewrites_only_changed_files(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    snap = three_articles()
    changed = snap.items["en-US"].items[1]  # items are kept as bytes: edit, then assign
    changed["elements"]["body"]["value"] = "<p>new text</p>"
    snap.items["en-US"].items[1] = changed
    save_snapshot(snap, site.snapshot_dir)
    report = build(site, offline())
    assert report.pages_written == ["articles/two/index.html"]
    assert "new text" in (site.output_dir / "articles/two/index.html").read_text()


def test_pages_of_deleted_items_are_removed_user_files_kept(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    user_file = site.output_dir / "articles" / "keep-me.txt"
    user_file.write_text("mine")
    snap = three_articles()
    for lang in snap.items.values():
        lang.items = [i for i in lang.items if i["system"]["codename"] != "one"]
    save_snapshot(snap, site.snapshot_dir)
    report = build(site, offline())
    assert report.pages_deleted == [
        "articles/one/index.html",
        "articles/page/2/index.html",
        # "one" was the only Spanish article: the Spanish listing and term page had only it
        "es-ES/articles/index.html",
        "es-ES/articles/uno/index.html",
        "es-ES/index.html",  # Spanish has no page left: no Spanish home page either
        "es-ES/topics/python/index.html",
    ]
    assert not (site.output_dir / "articles/one").exists()
    assert not (site.output_dir / "es-ES/articles/uno").exists()
    assert user_file.read_text() == "mine"


def test_removed_static_file_is_deleted(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    (site.static_dir / "style.css").unlink()
    build(site, offline())
    assert not (site.output_dir / "style.css").exists()


def test_failed_build_leaves_previous_output_intact(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    before = tree(site.output_dir)
    folders = sorted(p for p in site.output_dir.rglob("*") if p.is_dir())
    # The failure comes last (a listing page), after every article page was staged.
    (site.templates_dir / "listing.html").write_text("{{ page.number }}\n{{ nope() }}")
    snap = three_articles()
    changed = snap.items["en-US"].items[0]  # items are kept as bytes: edit, then assign
    changed["elements"]["title"]["value"] = "Changed"
    snap.items["en-US"].items[0] = changed
    snap.items["en-US"].items.append(article("brand_new"))
    save_snapshot(snap, site.snapshot_dir)
    with pytest.raises(TemplateError, match=r"listing\.html, line 2"):
        build(site, offline())
    assert tree(site.output_dir) == before  # no staged temp file left either
    assert sorted(p for p in site.output_dir.rglob("*") if p.is_dir()) == folders


def test_failed_parallel_build_leaves_no_staged_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Two render processes taking two pages at a time: both have staged pages (new folders
    # and changed files) when one of them meets the failing page.
    monkeypatch.setattr(parallel, "CHUNK", 2)
    en = [article(f"a{i}") for i in range(12)]
    config = make_site(tmp_path, TOML, TEMPLATES, snapshot({"en-US": en}, types=TYPES))
    build(config, offline(workers=2))
    before = tree(config.output_dir)
    en += [article(f"b{i}") for i in range(8)]
    save_snapshot(snapshot({"en-US": en}, types=TYPES), config.snapshot_dir)
    (config.templates_dir / "article.html").write_text(
        "changed {{ item.title }}\n"
        "{% if item.system.codename == 'b7' %}{{ item.nope.deeper() }}{% endif %}"
    )
    with pytest.raises(TemplateError, match=r"article\.html, line 2"):
        build(config, offline(workers=2))
    assert tree(config.output_dir) == before
    assert [p.name for p in tmp_path.rglob("*") if "kontent-ssg-tmp" in p.name] == []


def test_a_file_where_a_page_folder_goes_is_an_error(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    shutil.rmtree(site.output_dir / "articles" / "one")
    (site.output_dir / "articles" / "one").write_text("mine")
    with pytest.raises(BuildError, match=r"articles/one is a file"):
        build(site, offline())
    assert (site.output_dir / "articles" / "one").read_text() == "mine"


def test_collision_fails_the_build_and_writes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    build(site, offline())
    before = tree(site.output_dir)
    snap = three_articles()
    changed = snap.items["en-US"].items[1]  # items are kept as bytes: edit, then assign
    changed["elements"]["url"]["value"] = "one"
    snap.items["en-US"].items[1] = changed
    save_snapshot(snap, site.snapshot_dir)
    with pytest.raises(RouteError, match=r"'one'.*'two'|'two'.*'one'"):
        build(site, offline())
    assert tree(site.output_dir) == before


def test_missing_page_template_falls_back_and_warns(site) -> None:  # type: ignore[no-untyped-def]
    (site.templates_dir / "article.html").unlink()
    report = build(site, offline())
    assert any("article.html" in w and "item.html" in w for w in report.warnings)
    assert (site.output_dir / "articles/one/index.html").is_file()


def test_strict_turns_warnings_into_an_error(site) -> None:  # type: ignore[no-untyped-def]
    (site.templates_dir / "article.html").unlink()
    with pytest.raises(BuildError, match="--strict"):
        build(site, offline(strict=True))
    assert not site.output_dir.exists()


def test_broken_links_are_reported_and_unwrapped(tmp_path: Path) -> None:
    body = f'<p><a data-item-id="{uid("two")}" href="">two</a> <a data-item-id="gone">x</a></p>'
    en = [article("one", body=body), article("two")]
    config = make_site(tmp_path, TOML, TEMPLATES, snapshot({"en-US": en}, types=TYPES))
    report = build(config, offline())
    page = (config.output_dir / "articles/one/index.html").read_text()
    assert '<a href="/articles/two/">two</a>' in page and "> x</p>" in page
    assert [(b["item"], b["target_id"], b["page"]) for b in report.broken_links] == [
        ("one", "gone", "/articles/one/")
    ]
    with pytest.raises(BuildError):
        build(config, offline(strict=True))


def test_unsafe_slug_is_reported_not_written(tmp_path: Path) -> None:
    en = [article("one"), article("evil", url="../../../etc")]
    config = make_site(tmp_path, TOML, TEMPLATES, snapshot({"en-US": en}, types=TYPES))
    report = build(config, offline())
    assert any("evil" in w and "has no page" in w for w in report.warnings)
    assert all("etc" not in p for p in report.pages_written)
    assert not (tmp_path / "etc").exists()


def test_links_to_untranslated_items_use_the_fallback_language(tmp_path: Path) -> None:
    body = f'<p><a data-item-id="{uid("two")}" href="">two</a></p>'
    en = [article("one"), article("two")]
    es = [article("one", "es-ES", url="uno", body=body), article("two")]
    es[1]["system"]["language"] = "en-US"
    config = make_site(tmp_path, TOML, TEMPLATES, snapshot({"en-US": en, "es-ES": es}, types=TYPES))
    build(config, offline())
    page = (config.output_dir / "es-ES/articles/uno/index.html").read_text()
    assert '<a href="/articles/two/">two</a>' in page


def test_report_json(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report_file = tmp_path / "report.json"
    build(site, offline(report=report_file))
    data = json.loads(report_file.read_text())
    assert len(data["pages_written"]) == 15
    assert data["pages_unchanged"] == [] and data["pages_deleted"] == []
    assert data["warnings"] == [] and data["broken_links"] == [] and data["requests"] == 0
    build(site, offline(report=report_file))
    data = json.loads(report_file.read_text())
    assert data["pages_written"] == [] and len(data["pages_unchanged"]) == 15


def test_cli_exit_statuses(site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "r.json"
    site_dir = str(site.site_dir)
    assert main(["build", site_dir, "--offline", "-q", "--report", str(report)]) == 0
    assert json.loads(report.read_text())["pages_written"]
    (site.templates_dir / "article.html").write_text("{{ broken(")
    assert main(["build", site_dir, "--offline", "-q", "--report", str(report)]) == 1
    assert "article.html" in capsys.readouterr().err
    assert "error" in json.loads(report.read_text())
    (site.site_dir / "kontent.toml").write_text("[site]\nbase_url = 3\n")
    assert main(["build", site_dir, "--offline", "-q"]) == 2


def test_cli_output_option(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "elsewhere"
    assert main(["build", str(site.site_dir), "--offline", "-q", "--output", str(out)]) == 0
    assert (out / "articles/one/index.html").is_file()
    assert not site.output_dir.exists()


def test_build_from_the_emulator_over_http(tmp_path: Path) -> None:
    snap = three_articles()
    with Emulator(snap, environment_id=ENV_ID, page_size=1) as emulator:
        site_dir = tmp_path / "site"
        make_site(site_dir, TOML, TEMPLATES)
        toml = (
            (site_dir / "kontent.toml")
            .read_text()
            .replace("[kontent]\n", f'[kontent]\ndelivery_url = "{emulator.url}"\n', 1)
        )
        (site_dir / "kontent.toml").write_text(toml)
        config = load_config(site_dir, env={})
        report = build(config, BuildOptions())
        assert report.requests > 3
    offline_dir = tmp_path / "offline"
    offline_config = make_site(offline_dir, TOML, TEMPLATES, three_articles())
    build(offline_config, offline())
    assert tree(config.output_dir) == tree(offline_config.output_dir)


def test_parallel_render_gives_the_same_bytes(tmp_path: Path) -> None:
    en = [article(f"a{i}", topic="python" if i % 2 else "rust") for i in range(30)]
    serial = make_site(tmp_path / "s", TOML, TEMPLATES, snapshot({"en-US": en}, types=TYPES))
    parallel = make_site(tmp_path / "p", TOML, TEMPLATES, snapshot({"en-US": en}, types=TYPES))
    build(serial, offline(workers=1))
    report = build(parallel, offline(workers=2))
    assert tree(serial.output_dir) == tree(parallel.output_dir)
    deps = set(report.page_deps["articles/a1/index.html"])
    assert deps >= {"item:a1:en-US", "template:article.html"}


def test_parallel_render_reports_template_errors(tmp_path: Path) -> None:
    en = [article(f"a{i}") for i in range(5)]
    templates = {**TEMPLATES, "article.html": "{{ item.title }}\n{{ item.nope.deeper() }}"}
    config = make_site(tmp_path, TOML, templates, snapshot({"en-US": en}, types=TYPES))
    with pytest.raises(TemplateError, match=r"article\.html, line 2"):
        build(config, offline(workers=2))


def test_plain_progress_prints_stages_pages_and_summary(site) -> None:  # type: ignore[no-untyped-def]
    import io

    from kontent_ssg.progress import PlainProgress, make_progress

    stream = io.StringIO()
    build(site, offline(progress=PlainProgress(stream, verbose=True)))
    text_out = stream.getvalue()
    assert "render: 15/15 pages, " in text_out and " pages/s" in text_out
    assert "written: articles/one/index.html" in text_out
    assert "15 written, 0 unchanged, 0 deleted; 0 warnings, 0 broken links" in text_out
    assert type(make_progress(quiet=True)).__name__ == "Progress"
    assert isinstance(make_progress(), PlainProgress)  # stderr is not a terminal under pytest


def test_a_refetched_item_is_filed_under_the_codename_the_api_gives(site) -> None:  # type: ignore[no-untyped-def]
    # A notification names "two"; the API answers with an item whose codename is "zz": the
    # build files it under the API's codename, and "two" is treated as gone.
    import copy

    import httpx

    from kontent_ssg.builder.pipeline import Builder
    from kontent_ssg.content.webhooks import Change

    build(site, offline())
    other = copy.deepcopy(article("two"))
    other["system"]["codename"] = "zz"
    other["elements"]["url"]["value"] = "zz"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/items/two")
        return httpx.Response(200, json={"item": other, "modular_content": {}})

    with Builder(site, BuildOptions(), transport=httpx.MockTransport(handler)) as builder:
        report = builder.apply([Change("item", "published", codename="two", language="en-US")])
    assert "articles/zz/index.html" in report.pages_written
    assert "articles/two/index.html" in report.pages_deleted


def test_alternates_list_every_language_of_the_page_and_mark_the_current_one(
    tmp_path: Path,
) -> None:
    """hreflang convention: a page's alternates include the page itself, flagged
    ``is_current`` (README, template table)."""
    templates = {
        **TEMPLATES,
        "article.html": "{% for a in alternates %}{{ a.language }} {{ a.url }} "
        "{{ a.is_current }};{% endfor %}",
    }
    config = make_site(tmp_path, TOML, templates, three_articles())
    build(config, offline())
    out = config.output_dir
    assert (out / "articles/one/index.html").read_text() == (
        "en-US /articles/one/ True;es-ES /es-ES/articles/uno/ False;"
    )
    assert (out / "es-ES/articles/uno/index.html").read_text() == (
        "en-US /articles/one/ False;es-ES /es-ES/articles/uno/ True;"
    )
    # An item with a page in one language only is its own single alternate.
    assert (out / "articles/two/index.html").read_text() == "en-US /articles/two/ True;"


def test_missing_base_url_is_one_site_warning_after_every_build(tmp_path: Path) -> None:
    """Issue 11: robots.txt said ``Sitemap: /sitemap.xml`` and nothing warned."""
    toml = TOML.replace('base_url = "https://example.org"\n', "")
    config = make_site(tmp_path, toml, TEMPLATES, three_articles())
    first = build(config, offline())
    assert "Sitemap: /sitemap.xml" in (config.output_dir / "robots.txt").read_text()
    about_base_url = [w for w in first.warnings if "base_url" in w]
    assert about_base_url == [
        "[site] base_url is not set: sitemap.xml, robots.txt and the feed hold site-relative "
        "URLs, which search engines and feed readers do not accept; set base_url in kontent.toml"
    ]
    # Stored with the build: a build with nothing to do still says it, and --strict fails.
    again = build(config, offline())
    assert again.skipped and [w for w in again.warnings if "base_url" in w] == about_base_url
    with pytest.raises(BuildError, match="base_url"):
        build(config, offline(strict=True))
    # With base_url set, the warning goes.
    config = make_site(tmp_path, TOML, TEMPLATES, three_articles())
    assert not [w for w in build(config, offline()).warnings if "base_url" in w]
    assert (
        "Sitemap: https://example.org/sitemap.xml" in (config.output_dir / "robots.txt").read_text()
    )
