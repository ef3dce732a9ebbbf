"""Items kept as bytes beside a summary (docs/SNAPSHOT.md, "In memory"): reads give fresh
dicts, changes are assignments, the lookups follow them, and walks over every item read the
summaries, decoding an item only where they lack what the walk reads."""

from __future__ import annotations

from pathlib import Path

from kontent_ssg.content.snapshot import (
    ContentStore,
    ItemList,
    load_snapshot,
    put_item,
    save_snapshot,
)
from kontent_ssg.site.plan import plan_site
from tests.support.sites import content_type, item, make_site, slug, snapshot, text

EN, ES = "en-US", "es-ES"


def post(codename: str, title: str, language: str = EN, url: str | None = None) -> dict:
    return item(
        codename,
        "post",
        language,
        elements={"title": text(title), "url": slug(url or codename)},
    )


def test_items_read_as_fresh_dicts_and_change_by_assignment() -> None:
    items = ItemList([post("a", "A"), post("b", "B")])
    read = items[0]
    read["elements"]["title"]["value"] = "edited"
    assert items[0]["elements"]["title"]["value"] == "A"  # the stored item is unchanged
    items[0] = read
    assert items[0]["elements"]["title"]["value"] == "edited"
    assert items.summary(0).light["system"]["codename"] == "a"
    assert items.find("b") == 1 and items.ids()[read["system"]["id"]] == "a"
    put_item(items, "a", None)
    assert items.find("a") is None and items.find("b") == 0 and len(items) == 1
    put_item(items, "c", post("c", "C"))
    assert [i["system"]["codename"] for i in items] == ["b", "c"]
    assert items.ids()[post("c", "C")["system"]["id"]] == "c"


def test_the_store_follows_changes_to_the_item_lists(tmp_path: Path) -> None:
    snap = snapshot({EN: [post("a", "A"), post("b", "B")]})
    save_snapshot(snap, tmp_path / "snap")
    loaded = load_snapshot(tmp_path / "snap")
    before = ContentStore(loaded)
    assert before.item("a", EN)["elements"]["title"]["value"] == "A"
    items = loaded.items[EN].items
    put_item(items, "a", post("a", "A2"))
    put_item(items, "b", None)
    put_item(items, "new", post("new", "N"))
    store = ContentStore(loaded)  # what a rebuild makes: the lists' indexes, kept up to date
    assert store.item("a", EN)["elements"]["title"]["value"] == "A2"
    assert store.item("b", EN) is None and not store.has_item("b", EN)
    assert store.codename_for_id(post("new", "N")["system"]["id"]) == "new"
    assert store.light("new", EN)["system"]["codename"] == "new"
    assert [r["system"]["codename"] for r in store.summaries(EN)] == ["a", "new"]


def test_a_walk_decodes_only_items_whose_summary_lacks_the_elements_read() -> None:
    store = ContentStore(snapshot({EN: [post("a", "Alpha")]}))
    light = next(store.walk(EN, ["url"]))
    assert "title" not in light["elements"] and light["elements"]["url"]["value"] == "a"
    full = next(store.walk(EN, ["title"]))
    assert full["elements"]["title"]["value"] == "Alpha"
    assert list(store.walk(EN, [], {"other"})) == []


def test_routes_and_listings_on_elements_summaries_leave_out(tmp_path: Path) -> None:
    """A route path and a listing order naming a text element (left out of summaries)."""
    snap = snapshot(
        {
            EN: [post("a", "Zebra crossing"), post("b", "Apple pie")],
            ES: [post("a", "Cebra", ES), post("b", "Apple pie")],  # "b": a fallback variant
        },
        types=[content_type("post", title="text", url="url_slug")],
    )
    toml = """
    [routes.post]
    path = "/posts/{title}/"
    template = "post.html"

    [listings.posts]
    path = "/posts/"
    type = "post"
    order = "elements.title asc"
    template = "posts.html"
    """
    config = make_site(tmp_path / "site", toml, {"post.html": "x", "posts.html": "x"}, snap)
    plan = plan_site(config, ContentStore(load_snapshot(config.snapshot_dir)))
    urls = sorted(p.url for p in plan.routes.pages if p.kind == "item")
    assert urls == ["/es-ES/posts/cebra/", "/posts/apple-pie/", "/posts/zebra-crossing/"]
    assert plan.listing_items[("posts", EN)] == ["b", "a"]
    assert plan.listing_items[("posts", ES)] == ["a"]


def test_loaded_items_share_one_buffer_with_fallback_variants_once(tmp_path: Path) -> None:
    snap = snapshot({EN: [post("a", "A"), post("b", "B")], ES: [post("a", "A es", ES)]})
    snap.items[ES].items.append(post("b", "B"))  # the fallback variant
    save_snapshot(snap, tmp_path / "snap")
    loaded = load_snapshot(tmp_path / "snap")
    en, es = loaded.items[EN].items, loaded.items[ES].items
    assert all(type(en.stored(i)) is int for i in range(len(en)))  # slots of the arena
    assert es.stored(1) == en.stored(1) and es.stored(0) != en.stored(0)
    assert es[1] == en[1] == post("b", "B")
    assert loaded == snap
