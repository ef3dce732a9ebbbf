"""The sitemap reuses the entries of the last sitemap this process wrote (the receiver
rewrites it after every publish); an entry is reused only while what it is made of is equal."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest

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
    first_item = changed.items["en-US"].items[0]  # kept as bytes: edit, then assign
    first_item["system"]["last_modified"] = "2031-01-02T03:04:05Z"
    changed.items["en-US"].items[0] = first_item
    second, _ = _sitemap(config, changed)
    assert "<lastmod>2031-01-02T03:04:05Z</lastmod>" in second
    assert second.replace("2031-01-02T03:04:05Z", "") != first.replace("2031-01-02T03:04:05Z", "")

    # A plan with other alternates (a new plan, never the old one changed in place: its
    # alternates are tuples) gets entries made from them.
    key, alternates = next((k, v) for k, v in plan.alternates.items() if len(v) > 1)
    page = next(p for p in plan.routes.pages if (p.kind, p.key, p.number) == key)
    sitemap = next(p for p in plan.routes.pages if p.kind == "sitemap")
    before, _ = PageRenderer(config, plan).render(sitemap)
    assert isinstance(alternates, tuple)
    more = {**plan.alternates, key: (*alternates, ("fr-FR", "/fr-FR/somewhere/"))}
    after, _ = PageRenderer(config, replace(plan, alternates=more)).render(sitemap)
    assert b'hreflang="fr-FR"' not in before and b'hreflang="fr-FR"' in after, page.url

    other = make_site(
        tmp_path / "other",
        TOML.replace("https://example.org", "https://other.test"),
        TEMPLATES,
        snapshot,
    )
    third, _ = _sitemap(other, snapshot)
    assert "https://other.test/" in third and "https://example.org/" not in third


def test_a_patched_plan_remakes_only_the_entries_whose_lastmod_moved(tmp_path: Path) -> None:
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    first, plan = _sitemap(config, snapshot)
    sitemap = next(p for p in plan.routes.pages if p.kind == "sitemap")
    # What a receiver's patched plan is: the same routes and alternates, the new content.
    changed = copy.deepcopy(snapshot)
    second_item = changed.items["en-US"].items[1]  # kept as bytes: edit, then assign
    second_item["system"]["last_modified"] = "2032-05-06T07:08:09Z"
    changed.items["en-US"].items[1] = second_item
    patched = replace(plan, store=ContentStore(changed))
    second = PageRenderer(config, patched).render(sitemap)[0].decode()
    fresh, _ = _sitemap(config, changed)  # a plan made afresh: the memo starts over
    assert second == fresh
    assert second.count("2032-05-06T07:08:09Z") == 1 and "2032-05-06T07:08:09Z" not in first
    # And back: the entry follows again.
    again = PageRenderer(config, replace(plan, store=ContentStore(snapshot))).render(sitemap)
    assert again[0].decode() == first


def test_the_parts_of_a_sitemap_look_at_the_items_once_per_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kontent_ssg.site import routing

    monkeypatch.setattr(routing, "SITEMAP_URLS", 2)
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    plan = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    sitemaps = [p for p in plan.routes.pages if p.kind == "sitemap"]
    assert len(sitemaps) > 2  # the index and its parts
    looked: list[str] = []
    light = ContentStore.light

    def counting(self, codename, language):  # type: ignore[no-untyped-def]
        looked.append(codename)
        return light(self, codename, language)

    monkeypatch.setattr(ContentStore, "light", counting)

    def render_all(plan: SitePlan) -> tuple[list[str], list[str]]:
        looked.clear()
        out = [PageRenderer(config, plan).render(p)[0].decode() for p in sitemaps]
        return out, list(looked)

    first, seen = render_all(plan)
    items = sum(1 for p in plan.routes.pages if p.kind == "item")
    assert len(seen) == items  # made once, for the first part rendered
    again, seen = render_all(replace(plan, store=ContentStore(snapshot)))
    assert again == first and seen == []  # the same items: nothing looked at
    # A replaced item (a webhook rebuild): only it is looked at, once for all the parts,
    # and the part holding its entry follows.
    changed = copy.deepcopy(snapshot)
    item = changed.items["en-US"].items[1]
    item["system"]["last_modified"] = "2033-01-01T00:00:00Z"
    changed.items["en-US"].items[1] = item
    after, seen = render_all(replace(plan, store=ContentStore(changed)))
    assert seen == [item["system"]["codename"]]
    assert sum(text.count("2033-01-01T00:00:00Z") for text in after) == 1
    assert after[0] == first[0]  # the index names the parts only
    # Items added, removed or moved since: every item page is looked at again.
    changed.items["en-US"].items.append(
        copy.deepcopy(item) | {"system": {**item["system"], "codename": "extra", "id": "extra-id"}}
    )
    again, seen = render_all(replace(plan, store=ContentStore(changed)))
    assert len(seen) == items and again == after


def test_unchanged_parts_are_the_same_bytes_and_are_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kontent_ssg.builder import output
    from kontent_ssg.site import routing

    monkeypatch.setattr(routing, "SITEMAP_URLS", 2)
    monkeypatch.setattr(output, "REMEMBERED_SIZE", 1)  # every page counts as large here
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    plan = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    parts = [p for p in plan.routes.pages if p.kind == "sitemap" and p.key != "index"]
    assert len(parts) > 1
    first = [PageRenderer(config, plan).render(p)[0] for p in parts]

    hashed: list[bytes] = []
    digest = output._digest
    monkeypatch.setattr(output, "_digest", lambda data: hashed.append(data) or digest(data))
    writer = output.StagedWriter(tmp_path / "out", {})
    writer.prepare(p.path for p in parts)
    for part, data in zip(parts, first, strict=True):
        writer.stage(part.path, data)
    assert hashed == first  # each part hashed once

    changed = copy.deepcopy(snapshot)
    item = changed.items["en-US"].items[1]
    item["system"]["last_modified"] = "2034-01-01T00:00:00Z"
    changed.items["en-US"].items[1] = item
    patched = replace(plan, store=ContentStore(changed))
    after = [PageRenderer(config, patched).render(p)[0] for p in parts]
    moved = [n for n, data in enumerate(after) if b"2034-01-01T00:00:00Z" in data]
    assert len(moved) == 1
    for n, data in enumerate(after):
        # The parts without the entry: the very same objects; the other one made again.
        assert (data is first[n]) is (n not in moved)
    fresh = plan_site(config, ContentStore(changed), [], load_plugins(config))
    fresh_parts = [p for p in fresh.routes.pages if p.kind == "sitemap" and p.key != "index"]
    assert after == [PageRenderer(config, fresh).render(p)[0] for p in fresh_parts]

    hashed.clear()
    for part, data in zip(parts, after, strict=True):
        writer.stage(part.path, data)
    assert hashed == [after[n] for n in moved]  # only the part that changed is hashed
    # Equal bytes in another object are hashed (the object is what is remembered).
    hashed.clear()
    writer.stage(parts[0].path, bytes(bytearray(after[0])))
    assert hashed == [after[0]]


def test_link_targets_are_shared_by_renderers_of_the_same_routes_only(tmp_path: Path) -> None:
    """A webhook rebuild's renderer reuses the link targets its predecessors resolved while
    the plan's routes and static files are the same objects; a new plan resolves afresh,
    so a page that appeared is no longer a broken link."""
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    plan = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    page = next(p for p in plan.routes.pages if p.kind == "item")
    first = PageRenderer(config, plan)
    first.render(page)
    assert first._link_targets
    patched = replace(plan, store=ContentStore(snapshot))
    assert PageRenderer(config, patched)._link_targets is first._link_targets
    fresh = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    again = PageRenderer(config, fresh)
    assert again._link_targets is not first._link_targets and not again._link_targets
    # Downloaded assets appear as pages are rendered: never shared then.
    with_assets = PageRenderer(config, replace(plan, assets=object()))
    assert with_assets._link_targets == {} and with_assets._link_targets is not first._link_targets


@pytest.mark.parametrize("part_size", [2, 50_000])
def test_changes_spliced_into_the_parts_give_the_bytes_of_a_fresh_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part_size: int
) -> None:
    """Successive changes of different lengths, in parts of a sitemap index and in a single
    sitemap.xml: each time the bytes a plan made afresh renders."""
    from kontent_ssg.site import pages, routing

    monkeypatch.setattr(routing, "SITEMAP_URLS", part_size)
    snapshot = three_articles()
    config = make_site(tmp_path / "site", TOML, TEMPLATES, snapshot)
    plan = plan_site(config, ContentStore(snapshot), [], load_plugins(config))
    files = [p for p in plan.routes.pages if p.kind == "sitemap" and p.key != "index"]
    assert (len(files) > 1) is (part_size == 2)
    for p in files:
        PageRenderer(config, plan).render(p)
    changed = copy.deepcopy(snapshot)
    for at, lastmod in [
        (0, "2034-01-01T00:00:00Z"),
        (1, "2035-02-02T02:02:02.1234567Z"),
        (0, "2036-03-03T03:03:03.5Z"),  # the same entry again, after its length changed
        (1, None),
        (0, "2037-04-04T04:04:04Z"),
    ]:
        item = changed.items["en-US"].items[at]
        item["system"]["last_modified"] = lastmod
        changed.items["en-US"].items[at] = item
        patched = replace(plan, store=ContentStore(changed))  # the memo's routes: spliced
        spliced = [PageRenderer(config, patched).render(p)[0] for p in files]
        kept = pages._sitemap_memo
        fresh = plan_site(config, ContentStore(changed), [], load_plugins(config))
        remade = [
            PageRenderer(config, fresh).render(p)[0]
            for p in fresh.routes.pages
            if p.kind == "sitemap" and p.key != "index"
        ]
        pages._sitemap_memo = kept  # (a fresh plan makes a memo of its own)
        assert spliced == remade, lastmod
