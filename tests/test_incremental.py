"""Incremental builds against the emulator: one test per dependency kind.

Each test changes content in the emulator, runs an incremental build and checks two things:
the pages re-rendered are exactly the expected dependants, and the output is byte-identical
to a clean full build of the new content (the no-false-negatives check).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import Builder as IncrementalBuilder
from kontent_ssg.builder.pipeline import BuildOptions
from kontent_ssg.builder.pipeline import build as build_site
from kontent_ssg.config import load_config
from kontent_ssg.content.snapshot import LanguageItems, Snapshot, load_snapshot, save_snapshot
from kontent_ssg.content.webhooks import parse_webhook
from kontent_ssg.incremental.fingerprints import snapshot_rows
from tests.support.emulator import Emulator, build_webhook_body

EN = "en-US"

TEMPLATES = {
    "article.html": "<h1>{{ item.title }}</h1>\n<div>{{ item.body }}</div>\n"
    "<ul>{% for t in item.topics %}<li>{{ t.name }}</li>{% endfor %}</ul>\n",
    "listing.html": "<ul>{% for i in page.items %}"
    '<li><a href="{{ i.url }}">{{ i.title }}</a></li>{% endfor %}</ul>\n',
    "topic.html": "<h1>{{ term.name }}</h1><ul>{% for i in term_items %}"
    '<li><a href="{{ i.url }}">{{ i.title }}</a></li>{% endfor %}</ul>\n',
    "404.html": "<h1>Not found</h1>\n",
    "components/snippet.html": '<aside class="snippet">{{ item.text }}</aside>',
    "components/callout.html": '<div class="callout">{{ item.text }}</div>',
}

CONFIG = """
[kontent]
environment_id = "{env}"
delivery_url = "{url}"

[site]
base_url = "https://example.org"
output = "public"

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.title asc"
page_size = 10
template = "listing.html"

[taxonomies.topics]
path = "/topics/{{term}}/"
template = "topic.html"
"""


def _system(codename: str, type_: str, language: str = EN) -> dict:
    return {
        "id": f"00000000-0000-4000-8000-{abs(hash(codename)) % 10**12:012d}",
        "name": codename.title(),
        "codename": codename,
        "language": language,
        "type": type_,
        "collection": "default",
        "sitemap_locations": [],
        "last_modified": "2024-01-01T00:00:00Z",
        "workflow": "default",
        "workflow_step": "published",
    }


def article(
    codename: str, title: str, *, body: str = "<p>text</p>", topics=(), links=None, linked=()
) -> dict:
    return {
        "system": _system(codename, "article"),
        "elements": {
            "title": {"type": "text", "name": "Title", "value": title},
            "url": {"type": "url_slug", "name": "URL", "value": codename.replace("_", "-")},
            "body": {
                "type": "rich_text",
                "name": "Body",
                "value": body,
                "images": {},
                "links": links or {},
                "modular_content": list(linked),
            },
            "topics": {
                "type": "taxonomy",
                "name": "Topics",
                "taxonomy_group": "topics",
                "value": [{"name": t.title(), "codename": t} for t in topics],
            },
        },
    }


def snippet(codename: str, text: str) -> dict:
    return {
        "system": _system(codename, "snippet"),
        "elements": {"text": {"type": "text", "name": "Text", "value": text}},
    }


def obj(codename: str, rel: str) -> str:
    return (
        f'<object type="application/kenticocloud" data-type="item" data-rel="{rel}" '
        f'data-codename="{codename}"></object>'
    )


def make_snapshot() -> Snapshot:
    beta = article(
        "beta",
        "Beta",
        body=f"<p>Beta body</p>{obj('note', 'link')}{obj('c_beta', 'component')}",
        linked=["note", "c_beta"],
    )
    beta_id = beta["system"]["id"]
    alpha = article(
        "alpha",
        "Alpha",
        body=f'<p>See <a data-item-id="{beta_id}" href="">the beta</a>.</p>',
        links={beta_id: {"codename": "beta", "type": "article", "url_slug": "beta"}},
        topics=["coffee"],
    )
    gamma = article("gamma", "Gamma", topics=["tea"])
    delta = article("delta", "Delta", body=f"<p>Delta</p>{obj('note', 'link')}", linked=["note"])
    note = snippet("note", "A shared note")
    callout = {
        "system": {**_system("c_beta", "callout"), "name": "c_beta"},
        "elements": {"text": {"type": "text", "name": "Text", "value": "Callout"}},
    }
    types = [
        {
            "system": {"id": "t1", "name": "Article", "codename": "article"},
            "elements": {
                "title": {"type": "text", "name": "Title"},
                "url": {"type": "url_slug", "name": "URL"},
                "body": {"type": "rich_text", "name": "Body"},
                "topics": {"type": "taxonomy", "name": "Topics", "taxonomy_group": "topics"},
            },
        },
        {
            "system": {"id": "t2", "name": "Snippet", "codename": "snippet"},
            "elements": {"text": {"type": "text", "name": "Text"}},
        },
        {
            "system": {"id": "t3", "name": "Callout", "codename": "callout"},
            "elements": {"text": {"type": "text", "name": "Text"}},
        },
    ]
    return Snapshot(
        default_language=EN,
        languages=[
            {
                "system": {
                    "id": "00000000-0000-0000-0000-000000000000",
                    "name": "English",
                    "codename": EN,
                }
            }
        ],
        types=types,
        taxonomies=[topics_group()],
        items={
            EN: LanguageItems(
                items=[alpha, beta, gamma, delta, note],
                modular_content={"c_beta": callout},
            )
        },
    )


def topics_group(**names: str) -> dict:
    terms = {"coffee": "Coffee", "tea": "Tea", **names}
    return {
        "system": {
            "id": "g1",
            "name": "Topics",
            "codename": "topics",
            "last_modified": "2024-01-01T00:00:00Z",
        },
        "terms": [{"name": n, "codename": c, "terms": []} for c, n in terms.items()],
    }


def write_site(folder: Path, emu: Emulator) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kontent.toml").write_text(CONFIG.format(env=emu.environment_id, url=emu.url))
    for name, text in TEMPLATES.items():
        path = folder / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


class Site:
    """A site folder bound to an emulator, with helpers to build and compare."""

    def __init__(self, folder: Path, emu: Emulator) -> None:
        self.folder = write_site(folder, emu)
        self.emu = emu
        self.config = load_config(folder, env={})

    def builder(self, **options) -> IncrementalBuilder:
        return IncrementalBuilder(self.config, BuildOptions(**options))

    def build(self, **options):
        with self.builder(**options) as b:
            return b.build()

    @property
    def out(self) -> Path:
        return self.folder / "public"

    def item(self, codename: str) -> dict:
        return copy.deepcopy(
            next(
                i for i in self.emu.snapshot.items[EN].items if i["system"]["codename"] == codename
            )
        )


@pytest.fixture
def site(tmp_path):
    with Emulator(make_snapshot()) as emu:
        s = Site(tmp_path / "site", emu)
        first = s.build()
        assert first.pages_written, "the first build writes the site"
        yield s


def rendered(report) -> set[str]:
    return set(report.page_deps)


def tree(folder: Path) -> dict[str, bytes]:
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def assert_same_as_full_build(site: Site, tmp_path: Path) -> None:
    """The incremental output equals a clean full build of the current content."""
    folder = tmp_path / "clean"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(site.folder, folder, ignore=shutil.ignore_patterns("public", ".kontent-ssg"))
    with IncrementalBuilder(load_config(folder, env={}), BuildOptions()) as b:
        b.build()
    assert tree(site.out) == tree(folder / "public")


# -- no change -------------------------------------------------------------------------------


def test_second_build_renders_and_writes_nothing(site):
    before = {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file()}
    report = site.build()
    assert rendered(report) == set()
    assert report.pages_written == [] and report.pages_deleted == []
    after = {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file()}
    assert before == after


def test_second_offline_build_renders_and_writes_nothing(site):
    report = site.build(offline=True)
    assert rendered(report) == set() and report.pages_written == []
    assert report.requests == 0


# -- one test per dependency kind ------------------------------------------------------------


def test_title_change_rerenders_its_page_and_the_pages_showing_the_title(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["title"]["value"] = "Gamma, revised"
    site.emu.upsert_item(gamma)
    report = site.build()
    # its page; the listing and its topic page show the title; the generated home page lists
    # the newest articles. Not the sitemap: it shows no title, and last_modified is unchanged.
    assert rendered(report) == {
        "articles/gamma/index.html",
        "articles/index.html",
        "topics/tea/index.html",
        "index.html",
    }
    assert set(report.pages_written) == {
        "articles/gamma/index.html",
        "articles/index.html",
        "topics/tea/index.html",
    }
    assert "Gamma, revised" in (site.out / "articles/gamma/index.html").read_text()
    assert_same_as_full_build(site, tmp_path)


def test_body_change_rerenders_only_its_own_page(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["body"]["value"] = "<p>new words</p>"
    site.emu.upsert_item(gamma)
    report = site.build()
    # the listing and topic page read gamma (its title) but their bytes stay the same
    assert set(report.pages_written) == {"articles/gamma/index.html"}
    assert "articles/alpha/index.html" not in rendered(report)
    assert_same_as_full_build(site, tmp_path)


def test_embedded_linked_item_change_rerenders_every_page_embedding_it(site, tmp_path):
    note = site.item("note")
    note["elements"]["text"]["value"] = "An updated note"
    site.emu.upsert_item(note)
    report = site.build()
    assert rendered(report) == {"articles/beta/index.html", "articles/delta/index.html"}
    assert set(report.pages_written) == rendered(report)
    assert "An updated note" in (site.out / "articles/delta/index.html").read_text()
    assert_same_as_full_build(site, tmp_path)


def test_component_change_rerenders_its_item(site, tmp_path):
    beta = site.item("beta")
    callout = copy.deepcopy(site.emu.snapshot.items[EN].modular_content["c_beta"])
    callout["elements"]["text"]["value"] = "Callout v2"
    site.emu.upsert_item(beta, components={"c_beta": callout})
    report = site.build()
    assert "articles/beta/index.html" in report.pages_written
    assert "Callout v2" in (site.out / "articles/beta/index.html").read_text()
    assert "articles/gamma/index.html" not in rendered(report)
    assert_same_as_full_build(site, tmp_path)


def test_slug_change_moves_the_page_and_rerenders_pages_linking_to_it(site, tmp_path):
    beta = site.item("beta")
    beta["elements"]["url"]["value"] = "beta-moved"
    site.emu.upsert_item(beta)
    report = site.build()
    assert report.pages_deleted == ["articles/beta/index.html"]
    assert not (site.out / "articles/beta").exists()
    assert "articles/beta-moved/index.html" in report.pages_written
    assert "articles/alpha/index.html" in report.pages_written  # links to beta
    assert "/articles/beta-moved/" in (site.out / "articles/alpha/index.html").read_text()
    assert "articles/gamma/index.html" not in rendered(report)
    assert "articles/delta/index.html" not in rendered(report)
    assert_same_as_full_build(site, tmp_path)


def test_a_publish_moving_last_modified_rewrites_the_sitemap_entry(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["title"]["value"] = "Gamma, republished"
    gamma["system"]["last_modified"] = "2031-02-03T04:05:06Z"
    site.emu.upsert_item(gamma)
    report = site.build()
    assert "sitemap.xml" in report.pages_written
    assert "<lastmod>2031-02-03T04:05:06Z</lastmod>" in (site.out / "sitemap.xml").read_text()
    assert_same_as_full_build(site, tmp_path)


def test_unpublish_deletes_the_page_and_unwraps_links_to_it(site, tmp_path):
    site.emu.delete_item("beta", EN)
    report = site.build()
    assert report.pages_deleted == ["articles/beta/index.html"]
    alpha = (site.out / "articles/alpha/index.html").read_text()
    assert "the beta" in alpha and "<a" not in alpha.split("See", 1)[1].split("</p>")[0]
    assert "articles/alpha/index.html" in report.pages_written
    assert "articles/gamma/index.html" not in rendered(report)
    assert_same_as_full_build(site, tmp_path)


def test_new_item_updates_listings_and_taxonomy_pages(site, tmp_path):
    site.emu.upsert_item(article("epsilon", "Epsilon", topics=["coffee"]))
    report = site.build()
    assert {
        "articles/epsilon/index.html",
        "articles/index.html",
        "topics/coffee/index.html",
        "sitemap.xml",
    } <= set(report.pages_written)
    assert "Epsilon" in (site.out / "articles/index.html").read_text()
    assert "Epsilon" in (site.out / "topics/coffee/index.html").read_text()
    assert "articles/gamma/index.html" not in rendered(report)
    assert "topics/tea/index.html" not in report.pages_written
    assert_same_as_full_build(site, tmp_path)


def test_retagging_moves_an_item_between_taxonomy_pages(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["topics"]["value"] = [{"name": "Coffee", "codename": "coffee"}]
    site.emu.upsert_item(gamma)
    report = site.build()
    assert "topics/coffee/index.html" in report.pages_written
    # gamma was tea's only item: a term page without items is not written
    assert report.pages_deleted == ["topics/tea/index.html"]
    assert_same_as_full_build(site, tmp_path)


def test_taxonomy_change_rerenders_term_pages_and_adds_new_terms(site, tmp_path):
    site.emu.upsert_taxonomy(topics_group(coffee="Coffee & Espresso", cocoa="Cocoa"))
    report = site.build()
    assert "topics/coffee/index.html" in report.pages_written
    # a new term gets its page once something is tagged with it
    assert "topics/cocoa/index.html" not in report.pages_written
    # every article shows its terms, so reads the group (re-rendered); bytes unchanged here
    assert "articles/beta/index.html" not in report.pages_written
    assert_same_as_full_build(site, tmp_path)
    delta = site.item("delta")
    delta["elements"]["topics"]["value"] = [{"name": "Cocoa", "codename": "cocoa"}]
    site.emu.upsert_item(delta)
    report = site.build()
    assert {"topics/cocoa/index.html", "articles/delta/index.html"} <= set(report.pages_written)
    assert_same_as_full_build(site, tmp_path)


def test_template_change_rerenders_the_pages_using_it(site, tmp_path):
    path = site.folder / "templates" / "components" / "snippet.html"
    path.write_text('<aside class="snippet v2">{{ item.text }}</aside>')
    report = site.build()
    assert rendered(report) == {"articles/beta/index.html", "articles/delta/index.html"}
    assert_same_as_full_build(site, tmp_path)


def test_config_change_is_a_full_build(site):
    path = site.folder / "kontent.toml"
    path.write_text(path.read_text().replace("page_size = 10", "page_size = 2"))
    site.config = load_config(site.folder, env={})
    report = site.build()
    assert "articles/page/2/index.html" in report.pages_written
    assert len(rendered(report)) >= 8  # every page


def test_content_type_change_is_a_full_rebuild(site):
    snippet_type = copy.deepcopy(site.emu.snapshot.types[1])
    snippet_type["system"]["name"] = "Snippet v2"
    site.emu.upsert_type(snippet_type)
    with site.builder() as b:
        report = b.build()
        assert b.state.get_meta("last_build") == "full"
    assert len(rendered(report)) >= 8


# -- other ways of learning what changed -----------------------------------------------------


def test_webhook_changes_apply_only_what_they_name(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["title"]["value"] = "Gamma by webhook"
    site.emu.upsert_item(gamma)
    body = site.emu.webhooks_sent[-1].body if site.emu.webhooks_sent else None
    if body is None:
        from tests.support.emulator import WebhookChange

        body = build_webhook_body(
            [WebhookChange("content_item", "published", gamma["system"])],
            environment_id=site.emu.environment_id,
        )
    with site.builder() as b:
        report = b.apply(parse_webhook(body))
    assert "articles/gamma/index.html" in report.pages_written
    assert report.requests == 1  # the one refetch, nothing else
    assert_same_as_full_build(site, tmp_path)


def test_changes_file_from_a_legacy_webhook(site, tmp_path):
    from tests.support.emulator import WebhookChange

    delta = site.item("delta")
    delta["elements"]["title"]["value"] = "Delta (legacy)"
    site.emu.upsert_item(delta)
    body = build_webhook_body(
        [WebhookChange("content_item", "published", delta["system"])], webhook_format="legacy"
    )
    changes = tmp_path / "changes.json"
    changes.write_bytes(body)
    report = build_site(site.config, BuildOptions(), changes_file=changes)
    assert "articles/delta/index.html" in report.pages_written
    assert_same_as_full_build(site, tmp_path)


def test_sync_token_invalid_falls_back_to_crawl_and_diff(site, tmp_path):
    gamma = site.item("gamma")
    gamma["elements"]["title"]["value"] = "Gamma after crawl"
    site.emu.upsert_item(gamma)
    with site.builder() as b:
        b.state.sync_token = "not-a-token"
        report = b.build()
        assert b.state.sync_token not in (None, "not-a-token")
    assert "articles/gamma/index.html" in report.pages_written
    assert "articles/alpha/index.html" not in rendered(report)
    assert_same_as_full_build(site, tmp_path)


def test_offline_build_diffs_the_snapshot_against_the_state(site, tmp_path):
    snap_dir = site.folder / ".kontent-ssg" / "snapshot"
    snapshot = load_snapshot(snap_dir)
    items = snapshot.items[EN].items
    for at, raw in enumerate(items):
        if raw["system"]["codename"] == "gamma":
            raw["elements"]["title"]["value"] = "Gamma offline"
            items[at] = raw  # items are kept as bytes: a change is an assignment
    save_snapshot(snapshot, snap_dir)
    report = site.build(offline=True)
    assert "articles/gamma/index.html" in report.pages_written
    assert "articles/alpha/index.html" not in rendered(report)
    assert "Gamma offline" in (site.out / "articles/gamma/index.html").read_text()


def test_an_offline_diff_fingerprints_only_content_whose_bytes_changed(site):
    from kontent_ssg.incremental.fingerprints import changed_rows

    snap_dir = site.folder / ".kontent-ssg" / "snapshot"
    with site.builder() as b:
        digests = b.state.content_digests()
    snapshot = load_snapshot(snap_dir)
    every = snapshot_rows(snapshot)
    # Every item variant and component has its bytes' digest stored; nothing else has one.
    assert digests.keys() == {k for k in every if k[0] in ("item", "component")}
    rows, gone = changed_rows(snapshot, digests)
    assert not gone and {k[0] for k in rows} <= {"taxonomy", "type", "language"}
    assert all(rows[k] == every[k] for k in rows)
    # A title, a component and an item gone: those, and only those.
    items = snapshot.items[EN].items
    at = items.find("gamma")
    raw = items[at]
    raw["elements"]["title"]["value"] = "Gamma, digested"
    items[at] = raw
    component = snapshot.items[EN].modular_content["c_beta"]
    component["elements"]["text"]["value"] = "changed"
    snapshot.items[EN].modular_content["c_beta"] = component
    del items[items.find("delta")]
    rows, gone = changed_rows(snapshot, digests)
    assert {k for k in rows if k[0] in ("item", "component")} == {
        ("item", EN, "gamma"),
        ("component", EN, "c_beta"),
    }
    assert rows[("item", EN, "gamma")] == snapshot_rows(snapshot)[("item", EN, "gamma")]
    assert gone == {("item", EN, "delta")}
    # The same through a build: only gamma's pages and beta's (it embeds c_beta) change.
    save_snapshot(snapshot, snap_dir)
    report = site.build(offline=True)
    assert "articles/gamma/index.html" in report.pages_written
    assert "articles/beta/index.html" in report.pages_written
    assert "articles/delta/index.html" in report.pages_deleted
    assert "articles/alpha/index.html" not in rendered(report)
    # An item row stored without a digest (made from a decoded value only) is named with "":
    # fingerprinted again while it is there, and seen to go when it goes.
    from dataclasses import replace

    from kontent_ssg.incremental.fingerprints import Row

    alpha = ("item", EN, "alpha")
    with site.builder() as b:
        plain = replace(Row.from_json(b.state.content([alpha])[alpha]), digest="")
        b.state.record([], content={alpha: plain.to_json()})
        digests = b.state.content_digests()
    assert digests[alpha] == ""
    rows, gone = changed_rows(snapshot, digests)
    assert alpha in rows and not gone
    del items[items.find("alpha")]
    rows, gone = changed_rows(snapshot, digests)
    assert alpha not in rows and gone == {alpha}


def test_full_flag_forces_a_full_build(site):
    report = site.build(full=True)
    assert len(rendered(report)) >= 8


def test_state_records_dependencies(site):
    with site.builder() as b:
        deps = b.state.deps_of("articles/alpha/index.html")
        assert "item:alpha:en-US" in deps
        assert "item:beta:en-US" in deps  # alpha links to beta
        assert "template:article.html" in deps
        assert b.state.dependants(["item:note:en-US"]) == {
            "articles/beta/index.html",
            "articles/delta/index.html",
        }


@pytest.mark.parametrize("workers", [1, 2])
def test_full_build_stores_every_content_fingerprint(site, workers, monkeypatch):
    # Item fingerprints are computed by the render processes, the rest by the building
    # process (while the render processes render, or after its own render):
    # together they must be exactly the fingerprints of the whole snapshot.
    from kontent_ssg.incremental import fingerprints

    hook = fingerprints.page_item_row

    def marking(page, store):  # type: ignore[no-untyped-def]
        rows = hook(page, store)
        if rows is None:
            return None
        return [*rows, (("hooked", page.language, page.key), "")]

    monkeypatch.setattr(fingerprints, "page_item_row", marking)
    site.build(full=True, workers=workers)
    with site.builder() as b:
        stored = b.state.content()
        snap = load_snapshot(site.config.snapshot_dir)
    by_hook = {key for key in stored if key[0] == "hooked"}
    assert {("hooked", EN, "alpha"), ("hooked", EN, "beta")} <= by_hook
    stored = {key: row for key, row in stored.items() if key[0] != "hooked"}
    expected = {key: row.to_json() for key, row in snapshot_rows(snap).items()}
    assert stored == expected
    assert ("item", EN, "alpha") in stored and ("component", EN, "c_beta") in stored


def test_no_change_report_json(site, tmp_path):
    report_file = tmp_path / "report.json"
    build_site(site.config, BuildOptions(report=report_file))
    data = json.loads(report_file.read_text())
    assert data["pages_written"] == [] and data["pages_deleted"] == []
    # every page is accounted for: unchanged, not silently missing from the report
    assert "articles/gamma/index.html" in data["pages_unchanged"]
    assert data["nothing_changed"] is True


def test_deleted_output_files_are_restored_by_the_next_build(site):
    page = site.out / "articles/gamma/index.html"
    expected = page.read_bytes()
    page.unlink()
    report = site.build(offline=True)
    assert report.pages_written == ["articles/gamma/index.html"]
    assert page.read_bytes() == expected
    assert "articles/index.html" in report.pages_unchanged
    shutil.rmtree(site.out)
    report = site.build(offline=True)
    assert "articles/gamma/index.html" in report.pages_written
    assert page.read_bytes() == expected


def test_static_change_copies_the_file_and_renders_nothing(site):
    static = site.folder / "static"
    static.mkdir(exist_ok=True)
    (static / "style.css").write_text("body { color: teal }")
    report = site.build()
    assert report.static_written == ["style.css"]
    assert rendered(report) == set()
    assert (site.out / "style.css").read_text() == "body { color: teal }"
    assert site.build().static_written == []


# -- pages that exist only while they have items ---------------------------------------------

ES = "es-ES"

# Every way a page points at another language's or a term's page: alternates (hreflang and a
# language switcher), term links, the taxonomy() global.
SWITCHING_TEMPLATES = {
    "article.html": "<h1>{{ item.title }}</h1>"
    "{% for t in item.topics %}<a href='{{ t.url }}'>{{ t.name }}</a>{% endfor %}"
    "{% for a in alternates %}<a href='{{ a.url }}'>{{ a.language }}</a>{% endfor %}",
    "listing.html": "<ul>{% for i in page.items %}<li>{{ i.title }}</li>{% endfor %}</ul>"
    "{% for a in alternates %}<a href='{{ a.url }}'>{{ a.language }}</a>{% endfor %}",
    "topic.html": "<h1>{{ term.name }}</h1>{% for i in term_items %}{{ i.title }};{% endfor %}"
    "{% for a in alternates %}<a href='{{ a.url }}'>{{ a.language }}</a>{% endfor %}"
    "{% for t in taxonomy('topics').terms %}{{ t.codename }}={{ t.url }};{% endfor %}",
}


def two_languages() -> Snapshot:
    """The usual site, plus a Spanish language nothing is translated into yet (the emulator
    serves the English variants as its fallbacks)."""
    snap = make_snapshot()
    snap.languages.append(
        {
            "system": {
                "id": "00000000-0000-0000-0000-000000000001",
                "name": "Spanish",
                "codename": ES,
            }
        }
    )
    snap.items[ES] = LanguageItems(items=[], modular_content={})
    return snap


@pytest.mark.parametrize("long_lived", [False, True])
def test_listing_and_term_pages_appear_and_go_with_their_first_and_last_item(tmp_path, long_lived):
    """Translating the first item into a language brings its listing and term pages (and
    every alternate and term link pointing at them); withdrawing it takes them away again:
    exactly as a clean full build, whether a new builder runs each build or one stays up."""
    with Emulator(two_languages()) as emu:
        site = Site(tmp_path / "site", emu)
        for name, source in SWITCHING_TEMPLATES.items():
            (site.folder / "templates" / name).write_text(source)
        builder = site.builder() if long_lived else None

        def build():  # type: ignore[no-untyped-def]
            if builder is not None:
                return builder.build()
            return site.build()

        first = build()
        assert not [p for p in first.pages_written if p.startswith("es-ES/")]

        alpha = site.item("alpha")
        alpha["system"]["language"] = ES
        alpha["elements"]["title"]["value"] = "Alfa"
        alpha["elements"]["url"]["value"] = "alfa"
        emu.upsert_item(alpha)
        report = build()
        assert report.incremental
        assert {
            "es-ES/articles/alfa/index.html",
            "es-ES/articles/index.html",
            "es-ES/index.html",
            "es-ES/topics/coffee/index.html",
        } <= set(report.pages_written)
        # The English pages whose alternates now include Spanish ones; not the others.
        assert {
            "articles/alpha/index.html",
            "articles/index.html",
            "topics/coffee/index.html",
        } <= set(report.pages_written)
        assert "articles/gamma/index.html" not in rendered(report)
        assert "topics/tea/index.html" not in rendered(report)
        assert (
            "<a href='/es-ES/articles/'>es-ES</a>" in (site.out / "articles/index.html").read_text()
        )
        assert_same_as_full_build(site, tmp_path)

        emu.delete_item("alpha", ES)
        report = build()
        assert report.incremental
        assert sorted(report.pages_deleted) == [
            "es-ES/articles/alfa/index.html",
            "es-ES/articles/index.html",
            "es-ES/index.html",
            "es-ES/topics/coffee/index.html",
        ]
        assert "es-ES" not in (site.out / "articles/index.html").read_text()
        assert_same_as_full_build(site, tmp_path)
        if builder is not None:
            builder.close()
