"""Checks of a whole built site: every site-internal link resolves, and every text element
of every page's item (and of the components its rich text embeds) is on the page.

Used by the ``init`` acceptance tests: a scaffolded site must be complete for any model.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from markupsafe import escape

from kontent_ssg.config import Config
from kontent_ssg.content.snapshot import ContentStore
from kontent_ssg.site.plan import plan_site

JSON = dict[str, Any]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.urls.append(value)
            elif name == "srcset":
                self.urls.extend(part.strip().split(" ")[0] for part in value.split(","))


def dangling_links(output: Path) -> list[str]:
    """``page: url`` for each site-internal URL (``/…``) in an HTML page that names no file
    of the output (a folder URL names its ``index.html``)."""
    found = []
    for page in sorted(output.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = output / unquote(parts.path).lstrip("/")
            if parts.path.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                found.append(f"{page.relative_to(output)}: {url}")
    return found


def missing_text(config: Config, store: ContentStore) -> list[str]:
    """``page: item.element = value`` for each text element value not on its page: the page
    item's own, and those of the components (and components of components) its rich text
    embeds."""
    site = plan_site(config, store)
    missing = []
    for page in site.routes.pages:
        if page.kind != "item":
            continue
        html = (config.output_dir / page.path).read_text(encoding="utf-8")
        raw = store.item(page.key, page.language)
        assert raw is not None
        for owner, codename, value in _texts(store, raw, page.language, set()):
            if str(escape(value)) not in html:
                missing.append(f"{page.path}: {owner}.{codename} = {value!r}")
    return missing


def _texts(store: ContentStore, raw: JSON, language: str, seen: set[str]) -> Iterator[tuple]:
    codename = raw["system"]["codename"]
    if codename in seen:
        return
    seen.add(codename)
    for name, element in (raw.get("elements") or {}).items():
        kind = element.get("type")
        value = element.get("value")
        if kind == "text" and isinstance(value, str) and value.strip():
            yield codename, name, value
        if kind == "rich_text":
            for embedded in element.get("modular_content") or ():
                if store.item(embedded, language) is None:  # a component, not an item
                    component = store.component(embedded, language)
                    if component is not None and f'data-codename="{embedded}"' in (value or ""):
                        yield from _texts(store, component, language, seen)
