"""A ``base_url`` with a path (a GitHub Pages project site, ``https://user.github.io/repo/``):
every URL the site writes is under that path, the files stay where they were, and ``serve``
mounts the output there."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.config import load_config
from kontent_ssg.site.links import page_links, resolves
from tests.support.fixtures import EXAMPLE_SITE
from tests.support.net import wait_for
from tests.support.serve_process import ServeProcess
from tests.support.sites import make_site, tree
from tests.test_build import TEMPLATES, TOML, three_articles

BASE = "https://user.github.io/roastery"
PREFIX = "/roastery"


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site built with base_url = https://user.github.io/roastery/."""
    site = tmp_path_factory.mktemp("prefixed") / "site"
    shutil.copytree(
        EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("public", "public-preview", "build")
    )
    toml = (site / "kontent.toml").read_text()
    (site / "kontent.toml").write_text(
        re.sub(r'base_url = ".*"', f'base_url = "{BASE}/"', toml, count=1)
    )
    report = build(load_config(site, env={}), BuildOptions(offline=True))
    assert report.broken_links == [] and report.warnings == []
    return site


def test_every_internal_link_is_under_the_prefix_and_names_a_file(prefixed: Path) -> None:
    out = prefixed / "public"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "index.html" in files and not (out / PREFIX.strip("/")).exists()  # paths unchanged
    checked = 0
    for rel in sorted(f for f in files if f.endswith(".html")):
        page_url = f"{PREFIX}/{rel[: -len('index.html')] if rel.endswith('index.html') else rel}"
        for attribute, url in page_links((out / rel).read_text()):
            split = urlsplit(url)
            if split.scheme in ("mailto", "tel", "data") or url.startswith("#"):
                continue
            if split.scheme or url.startswith("//"):
                if not url.startswith(BASE + "/"):
                    continue  # external
                path = split.path
            else:
                path = urlsplit(urljoin(page_url, url)).path
            assert path.startswith(PREFIX + "/"), f"{rel}: {attribute}={url} is not under {PREFIX}"
            target = path[len(PREFIX) :]
            assert resolves(target, files), f"{rel}: {attribute}={url} names no file"
            checked += 1
    assert checked > 500


def test_prefixed_urls_in_pages_sitemap_feed_and_robots(prefixed: Path) -> None:
    out = prefixed / "public"
    home = (out / "index.html").read_text()
    assert f'href="{PREFIX}/css/site.css"' in home
    assert f'href="{PREFIX}/feed.xml"' in home
    assert f'<link rel="canonical" href="{BASE}/">' in home
    assert f'hreflang="es-ES" href="{BASE}/es-ES/"' in home
    article = next((out / "articles").glob("*/index.html")).read_text()
    assert re.search(rf'srcset="{PREFIX}/images/[^"]+ \d+w', article)  # rich-text images
    assert 'href="/' not in article.replace(f'href="{PREFIX}/', "")
    listing = (out / "articles/index.html").read_text()
    assert f'href="{PREFIX}/articles/page/2/"' in listing  # pagination
    sitemap = (out / "sitemap.xml").read_text()
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert locs and all(loc.startswith(BASE + "/") for loc in locs)
    assert f"{BASE}/articles/" in locs
    assert f"Sitemap: {BASE}/sitemap.xml" in (out / "robots.txt").read_text()
    feed = (out / "feed.xml").read_text()
    links = re.findall(r'<link href="([^"]+)"/>', feed)
    assert links and all(link.startswith(BASE + "/") for link in links)
    assert f"{BASE}{PREFIX}" not in feed + sitemap + home  # never twice
    not_found = (out / "404.html").read_text()
    assert f'href="{PREFIX}/"' in not_found


def test_a_template_link_without_the_prefix_is_a_broken_link(tmp_path: Path) -> None:
    templates = dict(TEMPLATES)
    templates["article.html"] = (
        '<link rel="stylesheet" href="/style.css"><link href="{{ \'/style.css\'|url }}">'
        + TEMPLATES["article.html"]
    )
    toml = TOML.replace('base_url = "https://example.org"', f'base_url = "{BASE}"')
    site = make_site(tmp_path / "site", toml, templates, three_articles(), {"style.css": "b{}"})
    report = build(site, BuildOptions(offline=True))
    missed = [link for link in report.broken_links if link.get("target") == "/style.css"]
    assert missed and all(link["page"].startswith("/articles/") for link in missed)
    assert not [link for link in report.broken_links if link.get("target") == f"{PREFIX}/style.css"]


def test_without_a_path_nothing_changes(tmp_path: Path) -> None:
    """The `url` and `absolute` filters are the identity and base_url + url there."""
    plain = make_site(tmp_path / "a", TOML, TEMPLATES, three_articles())
    build(plain, BuildOptions(offline=True))
    slash = TOML.replace('base_url = "https://example.org"', 'base_url = "https://example.org/"')
    other = make_site(tmp_path / "b", slash, TEMPLATES, three_articles())
    build(other, BuildOptions(offline=True))
    assert tree(plain.output_dir) == tree(other.output_dir)


def test_serve_mounts_the_site_under_the_prefix(prefixed: Path) -> None:
    serve = ServeProcess(prefixed, "--offline", log=prefixed.parent / "serve.log")
    get = serve.get
    try:
        wait_for(lambda: get(f"{PREFIX}/"), what="serve up")
        root = get("/")
        assert root is not None and root.status_code == 302
        assert root.headers["location"].endswith(f"{PREFIX}/")
        page = get(f"{PREFIX}/")
        assert page is not None and page.status_code == 200
        assert f'href="{PREFIX}/css/site.css"' in page.text
        css = get(f"{PREFIX}/css/site.css")
        assert css is not None and css.status_code == 200
        folder = get(f"{PREFIX}/articles")
        assert folder is not None and folder.status_code == 301
        assert folder.headers["location"].endswith(f"{PREFIX}/articles/")
        outside = get("/articles/")  # where the host has nothing of the site either
        assert outside is not None and outside.status_code == 404
        assert f'href="{PREFIX}/"' in outside.text  # the site's own 404 page
        assert f"{PREFIX}/" in serve.log_text()  # the address it announced
    finally:
        serve.stop()
