"""Generate the example site's content snapshot and its images.

    .venv/bin/python example-site/content/build_snapshot.py

writes ``example-site/.kontent-ssg/snapshot/`` (the format of ``kontent_ssg.content.snapshot``:
what ``kontent-ssg pull`` would save from a Kontent.ai environment holding this content, plus
the language ``fallbacks`` in the manifest for the test emulator that serves it) and the
illustrations under ``example-site/static/images/``. The output is deterministic: GUIDs are
uuid5 values derived from codenames, ``last_modified`` dates are fixed, and running the script
twice gives byte-identical files.

The content (Larkspur Coffee Roasters, a fictional roastery in the fictional harbour town of
Port Alder) is written for this project. Content lives in ``content.py``; this file turns it
into Delivery API JSON.

Rich-text values are written in a small shorthand that :func:`rich_text` expands into the
markup the Delivery API returns:

    [[component:key]]        a component (defined in the variant's ``components``)
    [[item:codename]]        an inline linked item (data-rel="link")
    [[image:asset_key]]      an image figure (with ``images`` metadata)
    <a item="codename">      a link to a content item (data-item-id, ``links`` metadata)
    <a asset="asset_key">    a link to an asset
    <a email="x@y">          an e-mail link
    <a phone="+1...">        a phone link
    <a href="..." new>       a web link opening in a new window
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SITE = HERE.parent
REPO = SITE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import artwork  # noqa: E402
import content  # noqa: E402

from kontent_ssg.content.snapshot import (  # noqa: E402
    LanguageItems,
    Snapshot,
    atomic_write_json,
    save_snapshot,
)

SNAPSHOT_DIR = SITE / ".kontent-ssg" / "snapshot"
IMAGES_DIR = SITE / "static" / "images"
IMAGE_URL_PREFIX = "/images/"

# A made-up namespace: every GUID in the snapshot is uuid5(NAMESPACE, "<kind>/<name>").
NAMESPACE = uuid.UUID("6b1d3c5e-2f0a-4e8b-9a47-1c2d3e4f5a6b")

JSON = dict[str, Any]


def guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{name}"))


def component_codename(component_id: str) -> str:
    """Kontent.ai names components after their id; a leading digit gets an ``n`` prefix."""
    codename = component_id.replace("-", "_")
    return f"n{codename}" if codename[0].isdigit() else codename


_CONTINUATION = re.compile(r"\n[ \t]*(?=[^<\[\s]|<(?:a|em|strong|sub|sup|code)\b)")


def _unwrap(html: str) -> str:
    """Join wrapped source lines inside a block, as the Kontent.ai editor stores them."""
    return _CONTINUATION.sub(" ", html)


# --------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------


class AssetStore:
    """Renders every asset once and answers the Delivery API's asset shapes."""

    def __init__(self, specs: dict[str, JSON]) -> None:
        self.specs = specs
        self.svg: dict[str, bytes] = {}
        for key, spec in specs.items():
            text = artwork.render(
                spec["motif"],
                spec["width"],
                spec["height"],
                spec["palette"],
                seed=spec.get("seed", 0),
                label=spec.get("label", ""),
            )
            self.svg[key] = text.encode("utf-8")

    def id(self, key: str) -> str:
        return guid("asset", key)

    def url(self, key: str) -> str:
        return IMAGE_URL_PREFIX + self.specs[key]["file"]

    def description(self, key: str, language: str) -> str | None:
        desc = self.specs[key].get("description") or {}
        return desc.get(language) or desc.get(content.DEFAULT_LANGUAGE)

    def element_value(self, key: str, language: str) -> JSON:
        spec = self.specs[key]
        return {
            "name": spec["file"],
            "description": self.description(key, language),
            "type": "image/svg+xml",
            "size": len(self.svg[key]),
            "url": self.url(key),
            "width": spec["width"],
            "height": spec["height"],
        }

    def image_metadata(self, key: str, language: str) -> JSON:
        spec = self.specs[key]
        return {
            "image_id": self.id(key),
            "description": self.description(key, language),
            "url": self.url(key),
            "width": spec["width"],
            "height": spec["height"],
        }

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        wanted = set()
        for key, data in self.svg.items():
            name = self.specs[key]["file"]
            wanted.add(name)
            path = folder / name
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
        for stale in folder.glob("*.svg"):
            if stale.name not in wanted:
                stale.unlink()


# --------------------------------------------------------------------------------------
# Content model: types, taxonomies, languages
# --------------------------------------------------------------------------------------


def build_types() -> list[JSON]:
    out = []
    for codename, spec in content.TYPES.items():
        elements: JSON = {}
        for el_codename, el in spec["elements"].items():
            definition: JSON = {"type": el["type"], "name": el["name"]}
            if el["type"] == "multiple_choice":
                definition["options"] = [
                    {"name": name, "codename": code} for code, name in el["options"].items()
                ]
            if el["type"] == "taxonomy":
                definition["taxonomy_group"] = el["group"]
            elements[el_codename] = definition
        out.append(
            {
                "system": {
                    "id": guid("type", codename),
                    "name": spec["name"],
                    "codename": codename,
                    "last_modified": spec["last_modified"],
                },
                "elements": elements,
            }
        )
    return out


def _terms(terms: list[tuple[str, str, list[Any]]]) -> list[JSON]:
    return [
        {"name": name, "codename": codename, "terms": _terms(children)}
        for codename, name, children in terms
    ]


def build_taxonomies() -> list[JSON]:
    return [
        {
            "system": {
                "id": guid("taxonomy", codename),
                "name": spec["name"],
                "codename": codename,
                "last_modified": spec["last_modified"],
            },
            "terms": _terms(spec["terms"]),
        }
        for codename, spec in content.TAXONOMIES.items()
    ]


def term_names() -> dict[str, dict[str, str]]:
    """{group: {term codename: term name}} over every nesting level."""
    out: dict[str, dict[str, str]] = {}

    def walk(group: str, terms: list[tuple[str, str, list[Any]]]) -> None:
        for codename, name, children in terms:
            out.setdefault(group, {})[codename] = name
            walk(group, children)

    for group, spec in content.TAXONOMIES.items():
        walk(group, spec["terms"])
    return out


def build_languages() -> list[JSON]:
    out = []
    for codename, name in content.LANGUAGES.items():
        language_id = (
            "00000000-0000-0000-0000-000000000000"
            if codename == content.DEFAULT_LANGUAGE
            else guid("language", codename)
        )
        out.append({"system": {"id": language_id, "name": name, "codename": codename}})
    return out


# --------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------


class Builder:
    """Turns the content definitions into one items-feed per language."""

    def __init__(self, *, broken_link: bool = False) -> None:
        self.broken_link = broken_link
        self.assets = AssetStore(content.ASSETS)
        self.terms = term_names()
        self.items = {item["codename"]: item for item in content.ITEMS}
        self.fallback = content.FALLBACKS

    # -- variants ----------------------------------------------------------------------

    def variant_language(self, codename: str, language: str) -> str | None:
        """The language of the variant the feed returns for ``language`` (None: none)."""
        item = self.items[codename]
        seen = set()
        current: str | None = language
        while current and current not in seen:
            if current in item["variants"]:
                return current
            seen.add(current)
            current = self.fallback.get(current)
        return None

    def values(self, codename: str, language: str) -> JSON:
        variant = self.variant_language(codename, language)
        if variant is None:
            raise KeyError(f"{codename} has no variant for {language}")
        return self.items[codename]["variants"][variant]

    # -- elements ----------------------------------------------------------------------

    def elements(
        self,
        type_codename: str,
        values: JSON,
        *,
        owner: str,
        language: str,
        last_modified: str,
        components: dict[str, JSON],
        sink: dict[str, JSON],
    ) -> JSON:
        spec = content.TYPES[type_codename]["elements"]
        out: JSON = {}
        unknown = set(values) - set(spec) - {"components", "last_modified"}
        if unknown:
            raise ValueError(f"{owner}: unknown elements {sorted(unknown)} for {type_codename}")
        for el_codename, el in spec.items():
            value = values.get(el_codename)
            kind = el["type"]
            element: JSON = {"type": kind, "name": el["name"]}
            if kind in ("text", "url_slug", "custom"):
                element["value"] = value if value is not None else ""
            elif kind == "number":
                element["value"] = value
            elif kind == "date_time":
                element["value"] = value
                element["display_timezone"] = content.TIMEZONE if value else None
            elif kind == "asset":
                element["value"] = [self.assets.element_value(k, language) for k in value or []]
            elif kind == "modular_content":
                element["value"] = list(value or [])
                for linked in element["value"]:
                    if linked not in self.items:
                        raise ValueError(f"{owner}.{el_codename}: unknown item {linked}")
            elif kind == "taxonomy":
                names = self.terms[el["group"]]
                element["taxonomy_group"] = el["group"]
                element["value"] = [{"name": names[t], "codename": t} for t in value or []]
            elif kind == "multiple_choice":
                element["value"] = [{"name": el["options"][o], "codename": o} for o in value or []]
            elif kind == "rich_text":
                element.update(
                    self.rich_text(
                        value or "",
                        owner=owner,
                        language=language,
                        last_modified=last_modified,
                        components=components,
                        sink=sink,
                    )
                )
            else:
                raise ValueError(f"unsupported element type {kind}")
            out[el_codename] = element
        return out

    def rich_text(
        self,
        markup: str,
        *,
        owner: str,
        language: str,
        last_modified: str,
        components: dict[str, JSON],
        sink: dict[str, JSON],
    ) -> JSON:
        images: JSON = {}
        links: JSON = {}
        modular: list[str] = []
        html = _unwrap(textwrap.dedent(markup).strip())
        if not html:
            return {
                "images": {},
                "links": {},
                "modular_content": [],
                "value": "<p><br></p>",
            }

        def component(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in components:
                raise ValueError(f"{owner}: no component {key!r}")
            comp = components[key]
            comp_id = guid("component", f"{owner}/{key}")
            codename = component_codename(comp_id)
            modular.append(codename)
            if codename not in sink:
                sink[codename] = {}  # reserve the place: feed order = first mention
                sink[codename] = {
                    "system": {
                        "id": comp_id,
                        "name": comp_id,
                        "codename": codename,
                        "language": language,
                        "type": comp["type"],
                        "collection": "default",
                        "sitemap_locations": [],
                        "last_modified": last_modified,
                    },
                    "elements": self.elements(
                        comp["type"],
                        comp["values"],
                        owner=f"{owner}/{key}",
                        language=language,
                        last_modified=last_modified,
                        components=components,
                        sink=sink,
                    ),
                }
            return (
                '<object type="application/kenticocloud" data-type="item" '
                f'data-rel="component" data-codename="{codename}"></object>'
            )

        def linked_item(match: re.Match[str]) -> str:
            codename = match.group(1)
            if codename not in self.items:
                raise ValueError(f"{owner}: inline item {codename!r} does not exist")
            modular.append(codename)
            return (
                '<object type="application/kenticocloud" data-type="item" '
                f'data-rel="link" data-codename="{codename}"></object>'
            )

        def image(match: re.Match[str]) -> str:
            key = match.group(1)
            asset_id = self.assets.id(key)
            images[asset_id] = self.assets.image_metadata(key, language)
            url = self.assets.url(key)
            return (
                f'<figure data-asset-id="{asset_id}" data-image-id="{asset_id}">'
                f'<img src="{url}" data-asset-id="{asset_id}" data-image-id="{asset_id}" '
                'alt=""></figure>'
            )

        def item_link(match: re.Match[str]) -> str:
            codename = match.group(1)
            target = content.UNPUBLISHED_ITEMS.get(codename)
            if target is not None and self.broken_link:
                # an item that is not published: the API gives the id but no links entry
                return f'<a data-item-id="{target}" href="">'
            if codename not in self.items:
                raise ValueError(f"{owner}: link to unknown item {codename!r}")
            item_id = guid("item", codename)
            linked = self.items[codename]
            slug = ""
            slug_element = next(
                (
                    c
                    for c, el in content.TYPES[linked["type"]]["elements"].items()
                    if el["type"] == "url_slug"
                ),
                None,
            )
            if slug_element is not None:
                slug = self.values(codename, language).get(slug_element) or ""
            links[item_id] = {"codename": codename, "type": linked["type"], "url_slug": slug}
            return f'<a data-item-id="{item_id}" href="">'

        def asset_link(match: re.Match[str]) -> str:
            key = match.group(1)
            return f'<a data-asset-id="{self.assets.id(key)}" href="{self.assets.url(key)}">'

        html = re.sub(r"\[\[component:([a-z0-9_]+)\]\]", component, html)
        html = re.sub(r"\[\[item:([a-z0-9_]+)\]\]", linked_item, html)
        html = re.sub(r"\[\[image:([a-z0-9_]+)\]\]", image, html)
        html = re.sub(r'<a item="([a-z0-9_]+)">', item_link, html)
        html = re.sub(r'<a asset="([a-z0-9_]+)">', asset_link, html)
        html = re.sub(r'<a email="([^"]+)">', r'<a data-email-address="\1" href="mailto:\1">', html)
        html = re.sub(r'<a phone="([^"]+)">', r'<a data-phone-number="\1" href="tel:\1">', html)
        html = re.sub(
            r'<a href="([^"]+)" new>',
            r'<a href="\1" data-new-window="true" target="_blank" rel="noopener noreferrer">',
            html,
        )
        if "[[" in html or re.search(r"<a (item|asset|email|phone)=", html):
            raise ValueError(f"{owner}: unexpanded shorthand in rich text: {html[:200]}")
        return {"images": images, "links": links, "modular_content": modular, "value": html}

    # -- feed --------------------------------------------------------------------------

    def feed(self, language: str) -> LanguageItems:
        items: list[JSON] = []
        sink: dict[str, JSON] = {}
        for codename, item in self.items.items():
            variant = self.variant_language(codename, language)
            if variant is None:
                continue
            values = item["variants"][variant]
            extra = content.BROKEN_LINK
            if self.broken_link and (codename, variant) == (extra["item"], extra["language"]):
                values = {**values, extra["element"]: values[extra["element"]] + extra["markup"]}
            last_modified = values.get("last_modified") or item["last_modified"]
            items.append(
                {
                    "system": {
                        "id": guid("item", codename),
                        "name": item["name"],
                        "codename": codename,
                        "language": variant,
                        "type": item["type"],
                        "collection": "default",
                        "sitemap_locations": [],
                        "last_modified": last_modified,
                        "workflow": "default",
                        "workflow_step": "published",
                    },
                    "elements": self.elements(
                        item["type"],
                        values,
                        owner=codename,
                        language=variant,
                        last_modified=last_modified,
                        components=values.get("components") or {},
                        sink=sink,
                    ),
                }
            )
        return LanguageItems(items=items, modular_content=sink)


def build_snapshot(*, broken_link: bool = False) -> tuple[Snapshot, AssetStore]:
    """The example content as a :class:`Snapshot` (and its images).

    ``broken_link`` adds one link to an unpublished item (for tests, never checked in).
    """
    builder = Builder(broken_link=broken_link)
    snapshot = Snapshot(
        default_language=content.DEFAULT_LANGUAGE,
        languages=build_languages(),
        types=build_types(),
        taxonomies=build_taxonomies(),
        items={language: builder.feed(language) for language in content.LANGUAGES},
    )
    return snapshot, builder.assets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output",
        type=Path,
        help=f"snapshot folder (default: {SNAPSHOT_DIR.relative_to(REPO)}; images are "
        "written only with the default)",
    )
    parser.add_argument(
        "--broken-link",
        action="store_true",
        help="add a link to an unpublished item (test content; needs --output)",
    )
    args = parser.parse_args(argv)
    if args.broken_link and args.output is None:
        parser.error("--broken-link writes test content: give an --output folder")
    snapshot, assets = build_snapshot(broken_link=args.broken_link)
    target = args.output or SNAPSHOT_DIR
    if args.output is None:
        assets.write(IMAGES_DIR)
    save_snapshot(snapshot, target)
    # The language fallbacks, for the emulator that serves this snapshot in tests (the Delivery
    # API applies them without exposing them, so kontent-ssg neither writes nor reads the key).
    manifest = {**snapshot.manifest(), "fallbacks": dict(content.FALLBACKS)}
    atomic_write_json(target / "manifest.json", manifest)
    for language, feed in snapshot.items.items():
        translated = sum(1 for i in feed.items if i["system"]["language"] == language)
        print(
            f"{language}: {len(feed.items)} items ({translated} translated, "
            f"{len(feed.items) - translated} fallback), {len(feed.modular_content)} components"
        )
    print(f"wrote {target}" + ("" if args.output else f" and {len(assets.svg)} images"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
