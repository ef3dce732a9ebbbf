"""The sitemap reuses the entries of the last sitemap this process wrote (the receiver
rewrites it after every publish); an entry is reused only while what it is made of is equal."""

from __future__ import annotations

import copy
from pathlib import Path

from kontent_ssg.content.snapshot import ContentStore
from kontent_ssg.plugins import load_plugins
from kontent_ssg.site.pages import PageRenderer
from kontent_ssg.site.plan import SitePlan, plan_site
from tests.support.sites import make_site
from tests.test_build import TEMPLATES, TOML, three_articles


def _sitemap(config, snapshot) -> tuple[str, SitePlan]:  # type: ignore[no-untyped-def]
    plan = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    page = next(p for p in plan.routes.pages if p.kind == "sitemap")
    return PageRenderer(config, plan).render(page)[0].decode(), plan


def test_changed_lastmod_base_url_and_alternates_are_never_served_stale(tmp_path: Path) -> None:
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    first, plan = _sitemap(config, snapshot)
    assert first.count("<url>") > 3

    changed = copy.deepcopy(snapshot)
    changed.items["en-US"].items[0]["system"]["last_modified"] = "2031-01-02T03:04:05Z"
    second, _ = _sitemap(config, changed)
    assert "<lastmod>2031-01-02T03:04:05Z</lastmod>" in second
    assert second.replace("2031-01-02T03:04:05Z", "") != first.replace("2031-01-02T03:04:05Z", "")

    # A patched plan may extend a page's alternates in place: the entry must follow.
    key, alternates = next((k, v) for k, v in plan.alternates.items() if len(v) > 1)
    page = next(p for p in plan.routes.pages if (p.kind, p.key, p.number) == key)
    sitemap = next(p for p in plan.routes.pages if p.kind == "sitemap")
    before, _ = PageRenderer(config, plan).render(sitemap)
    alternates.append(("fr-FR", "/fr-FR/somewhere/"))
    after, _ = PageRenderer(config, plan).render(sitemap)
    assert b'hreflang="fr-FR"' not in before and b'hreflang="fr-FR"' in after, page.url

    other = make_site(
        tmp_path / "other",
        TOML.replace("https://example.org", "https://other.test"),
        TEMPLATES,
        snapshot,
    )
    third, _ = _sitemap(other, snapshot)
    assert "https://other.test/" in third and "https://example.org/" not in third
