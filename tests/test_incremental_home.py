"""The generated home page shows the first few items of each listing, taken from the plan:
it depends on the listing (its items and their order) and on the items it shows, not on
every item of the type. Each change matches a clean full build."""

from __future__ import annotations

from kontent_ssg.site.pages import HOME_ITEMS
from tests.support.emulator import Emulator
from tests.test_incremental import Site, article, assert_same_as_full_build, make_snapshot, rendered


def test_home_page_rerenders_only_for_what_it_shows(tmp_path):
    with Emulator(make_snapshot()) as emu:
        for name in ("kilo", "lima", "mike", "november", "oscar", "zulu"):
            emu.upsert_item(article(name, name.title()))  # listing order: title asc
        site = Site(tmp_path / "site", emu)
        site.build()
        home = site.out / "index.html"
        assert home.read_text().count("<li") >= HOME_ITEMS
        assert "/articles/zulu/" not in home.read_text()  # past the first few

        # An item the home page does not show: its page only.
        emu.upsert_item(article("zulu", "Zulu", body="<p>new</p>"))
        report = site.build()
        assert "articles/zulu/index.html" in report.pages_written
        assert "index.html" not in rendered(report)
        assert_same_as_full_build(site, tmp_path)

        # Its order field moves it to the front: the home page shows it.
        emu.upsert_item(article("zulu", "Aardvark", body="<p>new</p>"))
        report = site.build()
        assert "index.html" in report.pages_written
        assert "/articles/zulu/" in home.read_text()
        assert_same_as_full_build(site, tmp_path)

        # An item it shows changes (not its order field): re-rendered.
        emu.upsert_item(article("zulu", "Aardvark", body="<p>newer</p>"))
        report = site.build()
        assert "index.html" in rendered(report)
        assert_same_as_full_build(site, tmp_path)
