"""Items kept as bytes beside a summary (docs/SNAPSHOT.md, "In memory"): reads give fresh
dicts, changes are assignments, the lookups follow them, and walks over every item read the
summaries, decoding an item only where they lack what the walk reads."""

from __future__ import annotations

from pathlib import Path

from kontent_ssg.cli import main
from kontent_ssg.content.snapshot import (
    ContentStore,
    ItemList,
    load_snapshot,
    put_item,
    save_snapshot,
)
from kontent_ssg.site.plan import plan_site
from tests.support.sites import content_type, item, make_site, rich, slug, snapshot, text

EN, ES = "en-US", "es-ES"


def custom(value: str) -> dict:
    return {"type": "custom", "name": "", "value": value}


def post(codename: str, title: str, language: str = EN, code: str | None = None) -> dict:
    """A post; ``code``, a custom element, is one that summaries leave out."""
    return item(
        codename,
        "post",
        language,
        elements={"title": text(title), "url": slug(codename), "code": custom(code or title)},
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
    light = next(store.walk(EN, ["url", "title"]))
    assert "code" not in light["elements"] and light["elements"]["url"]["value"] == "a"
    full = next(store.walk(EN, ["code"]))
    assert full["elements"]["code"]["value"] == "Alpha"
    assert list(store.walk(EN, [], {"other"})) == []


def test_routes_and_listings_on_elements_summaries_leave_out(tmp_path: Path) -> None:
    """A route path and a listing order naming a custom element (left out of summaries)."""
    snap = snapshot(
        {
            EN: [post("a", "Zebra crossing"), post("b", "Apple pie")],
            ES: [post("a", "Cebra", ES), post("b", "Apple pie")],  # "b": a fallback variant
        },
        types=[content_type("post", title="text", url="url_slug", code="custom")],
    )
    toml = """
    [routes.post]
    path = "/posts/{code}/"
    template = "post.html"

    [listings.posts]
    path = "/posts/"
    type = "post"
    order = "elements.code asc"
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
    # save_snapshot writes indented files (for people); the stored bytes are compact.
    assert b"\n" in (tmp_path / "snap" / "items" / "en-US.json").read_bytes()
    assert b"\n" not in en.raw(0) and b": " not in en.raw(0)
    assert loaded == snap


def test_listing_pages_read_any_element_of_items_shown_from_summaries(tmp_path: Path) -> None:
    """Listing views start from summaries; reading an element they leave out (rich text,
    custom) decodes the item, and ``in``/missing names behave as on a full view."""
    snap = snapshot(
        {EN: [post("a", "Alpha", code="code-a"), post("b", "Beta", code="code-b")]},
        types=[content_type("post", title="text", url="url_slug", code="custom")],
    )
    for at, raw in enumerate(snap.items[EN].items):
        raw["elements"]["body"] = rich(f"<p>body of {raw['system']['codename']}</p>")
        snap.items[EN].items[at] = raw
    toml = """
    [routes.post]
    path = "/posts/{url}/"
    template = "post.html"

    [listings.posts]
    path = "/posts/"
    type = "post"
    order = "elements.title asc"
    template = "posts.html"
    """
    listing = (
        "{% for i in page.items %}[{{ i.title }}|{{ i.code }}|{{ i.body }}|"
        "{{ 'code' in i }}|{{ 'nope' in i }}|{{ i.name }}]{% endfor %}"
    )
    config = make_site(
        tmp_path / "site", toml, {"post.html": "{{ item.title }}", "posts.html": listing}, snap
    )
    assert main(["build", str(tmp_path / "site"), "--offline", "-q"]) == 0
    html = (config.output_dir / "posts" / "index.html").read_text()
    assert "[Alpha|code-a|<p>body of a</p>|True|False|A]" in html
    assert "[Beta|code-b|<p>body of b</p>|True|False|B]" in html
