"""Above the sitemaps protocol's 50,000 URLs a file, sitemap.xml is a sitemap index of parts
that together list what one sitemap would (tested with a limit of 2 URLs a file)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import Builder, BuildOptions
from kontent_ssg.site import routing
from tests.support.sites import make_site
from tests.test_build import TEMPLATES, TOML, three_articles

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _locs(path: Path) -> list[str]:
    return [loc.text or "" for loc in ET.parse(path).getroot().iter(f"{NS}loc")]


def test_a_large_site_gets_a_sitemap_index_of_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = three_articles()
    one = make_site(tmp_path / "one", TOML, TEMPLATES, snapshot)
    with Builder(one, BuildOptions(offline=True)) as builder:
        builder.build()
    single = one.output_dir / "sitemap.xml"
    urls = [u for u in _locs(single)]
    assert len(urls) > 4 and not (one.output_dir / "sitemap-1.xml").exists()

    monkeypatch.setattr(routing, "SITEMAP_URLS", 2)
    split = make_site(tmp_path / "split", TOML, TEMPLATES, snapshot)
    with Builder(split, BuildOptions(offline=True)) as builder:
        report = builder.build()
    out = split.output_dir
    index = ET.parse(out / "sitemap.xml").getroot()
    assert index.tag == f"{NS}sitemapindex"
    parts = _locs(out / "sitemap.xml")
    count = -(-len(urls) // 2)
    assert parts == [f"https://example.org/sitemap-{n}.xml" for n in range(1, count + 1)]
    listed = []
    for n in range(1, count + 1):
        part = out / f"sitemap-{n}.xml"
        assert ET.parse(part).getroot().tag == f"{NS}urlset"
        assert len(re.findall("<url>", part.read_text())) <= 2
        listed.extend(u for u in _locs(part))
    assert listed == urls
    # robots.txt points at the index; every part is recorded as a page of the build.
    assert "Sitemap: https://example.org/sitemap.xml" in (out / "robots.txt").read_text()
    assert {f"sitemap-{n}.xml" for n in range(1, count + 1)} <= set(report.pages_written)
