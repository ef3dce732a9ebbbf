"""Small hand-made sites for the build tests: Delivery API JSON builders and a site writer.

No tests here; the build, routing, templating and check tests import these helpers.
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

from kontent_ssg.config import Config, load_config
from kontent_ssg.content.snapshot import LanguageItems, Snapshot, save_snapshot

JSON = dict[str, Any]

ENV_ID = "11111111-2222-3333-4444-555555555555"


def uid(name: str) -> str:
    """A stable GUID per name, so ids are deterministic across runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def text(value: str | None) -> JSON:
    return {"type": "text", "name": "", "value": value}


def slug(value: str) -> JSON:
    return {"type": "url_slug", "name": "", "value": value}


def number(value: float | None) -> JSON:
    return {"type": "number", "name": "", "value": value}


def date(value: str | None) -> JSON:
    return {"type": "date_time", "name": "", "value": value}


def rich(
    html: str,
    *,
    modular: list[str] | None = None,
    links: dict[str, JSON] | None = None,
    images: dict[str, JSON] | None = None,
) -> JSON:
    return {
        "type": "rich_text",
        "name": "",
        "value": html,
        "images": images or {},
        "links": links or {},
        "modular_content": modular or [],
    }


def linked(*codenames: str) -> JSON:
    return {"type": "modular_content", "name": "", "value": list(codenames)}


def terms(group: str, *codenames: str) -> JSON:
    return {
        "type": "taxonomy",
        "name": "",
        "taxonomy_group": group,
        "value": [{"name": c.replace("_", " ").title(), "codename": c} for c in codenames],
    }


def choice(*codenames: str) -> JSON:
    return {
        "type": "multiple_choice",
        "name": "",
        "value": [{"name": c.title(), "codename": c} for c in codenames],
    }


def asset(url: str, **extra: Any) -> JSON:
    value = {"name": url.rsplit("/", 1)[-1], "description": None, "type": "image/jpeg"}
    value.update(url=url, **extra)
    return {"type": "asset", "name": "", "value": [value]}


def item(
    codename: str,
    type: str,
    language: str = "en-US",
    *,
    elements: JSON | None = None,
    name: str | None = None,
    last_modified: str = "2024-01-01T00:00:00Z",
    id: str | None = None,
) -> JSON:
    return {
        "system": {
            "id": id or uid(codename),
            "name": name or codename.replace("_", " ").title(),
            "codename": codename,
            "language": language,
            "type": type,
            "collection": "default",
            "sitemap_locations": [],
            "last_modified": last_modified,
            "workflow_step": "published",
        },
        "elements": elements or {},
    }


def content_type(codename: str, **elements: str) -> JSON:
    return {
        "system": {"id": uid("type:" + codename), "name": codename.title(), "codename": codename},
        "elements": {k: {"type": v, "name": k} for k, v in elements.items()},
    }


def taxonomy_group(codename: str, *term_codenames: str) -> JSON:
    return {
        "system": {"id": uid("tax:" + codename), "name": codename.title(), "codename": codename},
        "terms": [{"name": t.title(), "codename": t, "terms": []} for t in term_codenames],
    }


def snapshot(
    items: dict[str, list[JSON]],
    *,
    types: list[JSON] | None = None,
    taxonomies: list[JSON] | None = None,
    components: dict[str, dict[str, JSON]] | None = None,
    default: str = "en-US",
) -> Snapshot:
    snap = Snapshot(
        default_language=default,
        languages=[{"system": {"id": uid(lang), "name": lang, "codename": lang}} for lang in items],
        types=types or [],
        taxonomies=taxonomies or [],
    )
    for language, lang_items in items.items():
        snap.items[language] = LanguageItems(
            items=lang_items, modular_content=(components or {}).get(language, {})
        )
    return snap


def make_site(
    root: Path,
    toml: str,
    templates: dict[str, str] | None = None,
    snap: Snapshot | None = None,
    static: dict[str, str] | None = None,
) -> Config:
    """Write a site folder (kontent.toml, templates, static, saved snapshot); load its config."""
    root.mkdir(parents=True, exist_ok=True)
    head = f'[kontent]\nenvironment_id = "{ENV_ID}"\n'
    (root / "kontent.toml").write_text(head + textwrap.dedent(toml), encoding="utf-8")
    for name, source in (templates or {}).items():
        path = root / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    for name, data in (static or {}).items():
        path = root / "static" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data, encoding="utf-8")
    if snap is not None:
        save_snapshot(snap, root / ".kontent-ssg" / "snapshot")
    return load_config(root, env={})


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path → bytes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


#: The smallest site with pages: articles at ``/articles/{url}/`` (``ARTICLE_TYPES``: a
#: ``title`` and a ``url`` slug), rendered by ``article.html``, into ``public``.
ARTICLE_TOML = """
[site]
output = "public"

[routes.article]
path = "/articles/{url}/"
template = "article.html"
"""
ARTICLE_TYPES = [content_type("article", title="text", url="url_slug")]


def article_snapshot(titles: dict[str, str]) -> Snapshot:
    """Content for ``ARTICLE_TOML``: an article per codename, in this order, with its title;
    its URL slug is its codename."""
    items = [
        item(codename, "article", elements={"title": text(title), "url": slug(codename)})
        for codename, title in titles.items()
    ]
    return snapshot({"en-US": items}, types=ARTICLE_TYPES)
