"""Every build, full or incremental, reports and judges the whole site.

Pages an incremental build does not re-render keep the warnings and broken links recorded
when they last were; pages that go take theirs with them. Driven through the CLI against the
Delivery API emulator (real HTTP), as a CI job caching `.kontent-ssg/` would run it.
"""

from __future__ import annotations

import json
from pathlib import Path

from kontent_ssg.cli import main
from kontent_ssg.content.snapshot import LanguageItems, Snapshot
from tests.support.emulator import Emulator

EN = "en-US"
TARGET_ID = "7d3e1a52-9b0c-4f7e-8a61-2c5d4e3f1a90"


def _item(codename: str, slug: str, body: str = "<p>text</p>", links: dict | None = None) -> dict:
    return {
        "system": {
            "id": f"00000000-0000-4000-8000-{sum(map(ord, codename)):012d}",
            "name": codename,
            "codename": codename,
            "language": EN,
            "type": "article",
            "collection": "default",
            "sitemap_locations": [],
            "last_modified": "2024-01-01T00:00:00Z",
            "workflow": "default",
            "workflow_step": "published",
        },
        "elements": {
            "title": {"type": "text", "name": "Title", "value": codename.title()},
            "url": {"type": "url_slug", "name": "URL", "value": slug},
            "body": {
                "type": "rich_text",
                "name": "Body",
                "value": body,
                "images": {},
                "links": links or {},
                "modular_content": [],
            },
        },
    }


def _linking() -> dict:
    body = f'<p>See <a data-item-id="{TARGET_ID}" href="">the target</a>.</p>'
    links = {TARGET_ID: {"codename": "target", "type": "article", "url_slug": "target"}}
    return _item("linking", "linking", body, links)


def _target() -> dict:
    item = _item("target", "target")
    item["system"]["id"] = TARGET_ID
    return item


def _snapshot(items: list[dict]) -> Snapshot:
    return Snapshot(
        default_language=EN,
        languages=[{"system": {"id": "00000000-0000-0000-0000-000000000000", "codename": EN}}],
        types=[{"system": {"codename": "article"}, "elements": {}}],
        items={EN: LanguageItems(items=items)},
    )


def _site(folder: Path, emu: Emulator) -> Path:
    folder.mkdir(parents=True)
    (folder / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"\n\n'
        '[site]\nbase_url = "https://example.org"\n\n'
        '[routes.article]\npath = "/articles/{url}/"\ntemplate = "article.html"\n'
    )
    (folder / "templates").mkdir()
    (folder / "templates" / "article.html").write_text("<h1>{{ item.title }}</h1>{{ item.body }}")
    return folder


def _build(site: Path, tmp_path: Path, *flags: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = main(["build", str(site), "-q", "--report", str(report), *flags])
    return code, json.loads(report.read_text())


def _links(report: dict) -> list[tuple[str, str]]:
    return [(b["item"], b["target_id"]) for b in report["broken_links"]]


def test_strict_judges_the_whole_site_after_incremental_builds(tmp_path, capsys) -> None:
    with Emulator(_snapshot([_linking(), _item("plain", "plain")])) as emu:
        site = _site(tmp_path / "site", emu)

        code, first = _build(site, tmp_path)
        assert code == 0 and not first["incremental"]
        assert _links(first) == [("linking", TARGET_ID)]

        # Nothing changed: the recorded broken link is still the site's, and --strict fails.
        capsys.readouterr()
        code, strict = _build(site, tmp_path, "--strict")
        assert code == 1
        assert _links(strict) == [("linking", TARGET_ID)]
        assert "linking (en-US) element body: link to target" in capsys.readouterr().err

        # An unrelated change re-renders one page; the broken link elsewhere still counts.
        emu.upsert_item(_item("plain", "plain", "<p>edited</p>"))
        code, other = _build(site, tmp_path)
        assert code == 0 and other["incremental"]
        assert "articles/plain/index.html" in other["pages_rendered"]
        assert "articles/linking/index.html" not in other["pages_rendered"]
        assert _links(other) == [("linking", TARGET_ID)]
        assert _build(site, tmp_path, "--strict")[0] == 1

        # Fix the content: the target appears, the linking page is re-rendered, nothing left.
        emu.upsert_item(_target())
        code, fixed = _build(site, tmp_path)
        assert code == 0 and fixed["incremental"]
        assert "articles/linking/index.html" in fixed["pages_rendered"]
        assert fixed["broken_links"] == [] and fixed["warnings"] == []
        assert _build(site, tmp_path, "--strict")[0] == 0


def test_a_new_unsafe_slug_fails_strict_in_an_incremental_build(tmp_path) -> None:
    with Emulator(_snapshot([_item("plain", "plain")])) as emu:
        site = _site(tmp_path / "site", emu)
        assert _build(site, tmp_path)[0] == 0
        emu.upsert_item(_item("sneaky", "../../etc"))
        code, report = _build(site, tmp_path, "--strict")
        assert code == 1
        assert any(w.startswith("sneaky (en-US) has no page") for w in report["warnings"])
        code, report = _build(site, tmp_path)
        assert code == 0 and report["incremental"]
        assert any(w.startswith("sneaky (en-US) has no page") for w in report["warnings"])
        # The page that went with its warnings: deleting the item clears the warning.
        emu.delete_item("sneaky", EN)
        code, report = _build(site, tmp_path, "--strict")
        assert code == 0 and report["warnings"] == []


def test_a_deleted_page_takes_its_broken_links_along(tmp_path) -> None:
    with Emulator(_snapshot([_linking(), _item("plain", "plain")])) as emu:
        site = _site(tmp_path / "site", emu)
        assert _links(_build(site, tmp_path)[1]) == [("linking", TARGET_ID)]
        emu.delete_item("linking", EN)
        code, report = _build(site, tmp_path, "--strict")
        assert code == 0 and report["incremental"]
        assert report["pages_deleted"] == ["articles/linking/index.html"]
        assert report["broken_links"] == []
