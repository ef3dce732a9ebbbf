"""Delivery API JSON (a snapshot) → Management API request bodies, as pure functions.

A snapshot holds what the Delivery API serves; the Management API wants what an editor saves.
The differences this module bridges (sources in docs/MANAGEMENT.md):

- References. Delivery names items by codename (linked items) or id (rich-text links) and
  assets by URL. Everything is referenced here by the **external id** the import gives it
  (:func:`external_id`), which the Management API resolves even before the target exists,
  so the import needs no second pass and cycles are no problem.
- Rich text. ``<object data-type="item" data-rel="component" data-codename>`` becomes
  ``<object data-type="component" data-id>`` plus an entry in the element's ``components``
  (the component's id is kept, so its Delivery codename comes back the same);
  ``data-rel="link"`` becomes ``<object data-type="item" data-external-id>``; ``<figure
  data-image-id><img …></figure>`` becomes ``<figure data-asset-external-id>``; ``<a
  data-item-id href="">`` becomes ``<a data-item-external-id>``, ``<a data-asset-id href>``
  ``<a data-asset-external-id>``; e-mail and phone links lose the ``href`` Delivery derives
  from them, external links the ``target``/``rel`` it adds for ``data-new-window``.
- Content types. Delivery lists elements without what the Management API requires to create
  them: a multiple-choice element gets ``mode: multiple``, a URL slug depends on the type's
  first text element, a custom element gets a placeholder ``source_url`` (:data:`CUSTOM_SOURCE`,
  to be changed in Kontent.ai to the real custom element's URL).

Rich text is edited with lexbor (selectolax), as the resolver reads it: the special nodes are
swapped for placeholders, the fragment re-serialised, the placeholders replaced by the new
markup.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..content.snapshot import Snapshot
from ..errors import KontentSSGError

__all__ = [
    "CUSTOM_SOURCE",
    "EXTERNAL_ID_PREFIX",
    "AssetInfo",
    "ConversionError",
    "References",
    "collect_assets",
    "external_id",
    "item_payload",
    "rich_text_to_management",
    "taxonomy_payload",
    "translated_variants",
    "type_payload",
    "variant_payload",
]

JSON = dict[str, Any]

#: Every external id the import gives starts with this: it tells our objects from others'.
EXTERNAL_ID_PREFIX = "kontent-ssg:"
#: Custom elements need a URL; Delivery does not say which, so this placeholder stands in.
CUSTOM_SOURCE = "https://kontent-ssg.invalid/custom-element"
_KENTICO_OBJECT = "application/kenticocloud"


class ConversionError(KontentSSGError):
    """The snapshot holds something the Management API cannot be given as it is."""


def external_id(kind: str, key: str) -> str:
    """``kontent-ssg:<kind>:<key>``: type, taxonomy, term, language and item keys are the
    snapshot's codenames or ids; an asset's key is a hash of its URL (Delivery gives assets no
    id outside rich text)."""
    if kind == "asset":
        key = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"{EXTERNAL_ID_PREFIX}{kind}:{key}"


# ---------------------------------------------------------------------------------------------
# Content model


def taxonomy_payload(group: JSON) -> JSON:
    """``POST /taxonomies`` body for a Delivery taxonomy group (terms nested as they are)."""
    codename = group["system"]["codename"]

    def terms(entries: list[JSON]) -> list[JSON]:
        return [
            {
                "name": t["name"],
                "codename": t["codename"],
                "external_id": external_id("term", f"{codename}:{t['codename']}"),
                "terms": terms(t.get("terms") or []),
            }
            for t in entries
        ]

    return {
        "name": group["system"]["name"],
        "codename": codename,
        "external_id": external_id("taxonomy", codename),
        "terms": terms(group.get("terms") or []),
    }


def type_payload(content_type: JSON) -> JSON:
    """``POST /types`` body for a Delivery content type."""
    codename = content_type["system"]["codename"]
    elements = content_type.get("elements") or {}
    first_text = next((c for c, e in elements.items() if e.get("type") == "text"), None)
    out = []
    for element_codename, element in elements.items():
        kind = element.get("type")
        entry: JSON = {
            "name": (element.get("name") or element_codename)[:50],
            "codename": element_codename,
            "type": kind,
            "external_id": external_id("element", f"{codename}:{element_codename}"),
        }
        if kind == "multiple_choice":
            entry["mode"] = "multiple"
            entry["options"] = [
                {"name": o["name"], "codename": o["codename"]} for o in element.get("options") or []
            ]
        elif kind == "taxonomy":
            group = element.get("taxonomy_group")
            if not group:
                raise ConversionError(
                    f"content type {codename!r}: taxonomy element {element_codename!r} names no "
                    "taxonomy_group"
                )
            entry["taxonomy_group"] = {"codename": group}
        elif kind == "url_slug":
            if first_text is None:
                raise ConversionError(
                    f"content type {codename!r}: URL slug {element_codename!r} needs a text "
                    "element to be generated from, and the type has none"
                )
            entry["depends_on"] = {"element": {"codename": first_text}}
        elif kind == "custom":
            entry["source_url"] = CUSTOM_SOURCE
        elif kind not in (
            "text",
            "rich_text",
            "number",
            "date_time",
            "asset",
            "modular_content",
            "subpages",
        ):
            raise ConversionError(
                f"content type {codename!r}: element {element_codename!r} has a type the import "
                f"does not know ({kind!r})"
            )
        out.append(entry)
    return {
        "name": content_type["system"]["name"],
        "codename": codename,
        "external_id": external_id("type", codename),
        "elements": out,
    }


# ---------------------------------------------------------------------------------------------
# Assets


@dataclass
class AssetInfo:
    """One asset as the snapshot shows it (every place it appears, merged)."""

    url: str
    file_name: str
    content_type: str | None = None
    descriptions: dict[str, str] = field(default_factory=dict)  # language -> description

    @property
    def external_id(self) -> str:
        return external_id("asset", self.url)


def _file_name(url: str) -> str:
    return unquote(posixpath.basename(urlsplit(url).path)) or "asset"


def translated_variants(snapshot: Snapshot) -> Iterator[tuple[str, JSON]]:
    """(language, variant) of every variant translated into its language (no fallbacks)."""
    for language in snapshot.language_codenames:
        for item in snapshot.items[language].items:
            if item["system"].get("language", language) == language:
                yield language, item


def _component_variants(snapshot: Snapshot) -> Iterator[tuple[str, JSON]]:
    for language in snapshot.language_codenames:
        for component in snapshot.items[language].modular_content.values():
            if component.get("system", {}).get("language", language) == language:
                yield language, component


def collect_assets(snapshot: Snapshot) -> dict[str, AssetInfo]:
    """Every asset the content uses, by URL: asset elements, rich-text images and asset links."""
    found: dict[str, AssetInfo] = {}

    def note(url: str, language: str, name: str | None, kind: str | None, text: str | None):
        info = found.get(url)
        if info is None:
            info = found[url] = AssetInfo(url, name or _file_name(url))
        if kind and not info.content_type:
            info.content_type = kind
        if text is not None and language not in info.descriptions:
            info.descriptions[language] = text

    for language, variant in [*translated_variants(snapshot), *_component_variants(snapshot)]:
        for element in (variant.get("elements") or {}).values():
            kind = element.get("type")
            if kind == "asset":
                for asset in element.get("value") or []:
                    if asset.get("url"):
                        note(
                            asset["url"],
                            language,
                            asset.get("name"),
                            asset.get("type"),
                            asset.get("description"),
                        )
            elif kind == "rich_text":
                for image in (element.get("images") or {}).values():
                    if image.get("url"):
                        note(image["url"], language, None, None, image.get("description"))
                for url in _asset_link_urls(element.get("value") or ""):
                    note(url, language, None, None, None)
    return found


def _asset_link_urls(html: str) -> list[str]:
    if "data-asset-id" not in html:
        return []
    doc = _parse(html)
    return [
        a.attributes["href"]
        for a in doc.css("a[data-asset-id]")
        if a.attributes.get("href") and not a.attributes.get("data-image-id")
    ]


# ---------------------------------------------------------------------------------------------
# Items and variants


@dataclass
class References:
    """What converting a variant needs to know about the rest of the snapshot."""

    item_ids: Mapping[str, str]  # item codename -> snapshot id
    known_ids: frozenset[str]  # every item id in the snapshot
    component: Callable[[str, str], JSON | None]  # (codename, language) -> component
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, snapshot: Snapshot) -> References:
        ids: dict[str, str] = {}
        components: dict[str, Mapping[str, JSON]] = {}
        for language in snapshot.language_codenames:
            for item in snapshot.items[language].items:
                ids.setdefault(item["system"]["codename"], item["system"]["id"])
            components[language] = snapshot.items[language].modular_content

        def component(codename: str, language: str) -> JSON | None:
            found = components.get(language, {}).get(codename)
            if found is None:
                for table in components.values():
                    if codename in table:
                        return table[codename]
            return found

        return cls(ids, frozenset(ids.values()), component)

    def item(self, codename: str, where: str) -> JSON | None:
        item_id = self.item_ids.get(codename)
        if item_id is None:
            self.warnings.append(f"{where}: linked item {codename!r} is not in the snapshot")
            return None
        return {"external_id": external_id("item", item_id)}


def item_payload(variant: JSON) -> JSON:
    """``PUT /items/external-id/{id}`` body: name, codename, type, collection."""
    system = variant["system"]
    return {
        "name": system["name"],
        "codename": system["codename"],
        "type": {"codename": system["type"]},
        "collection": {"codename": system.get("collection") or "default"},
    }


def variant_payload(variant: JSON, refs: References) -> JSON:
    """``PUT /items/…/variants/…`` body: the variant's elements, by element codename."""
    language = variant["system"].get("language") or ""
    return {"elements": _elements(variant, language, refs, depth=0)}


def _elements(variant: JSON, language: str, refs: References, depth: int) -> list[JSON]:
    where = f"{variant['system']['codename']} ({language})"
    out = []
    for codename, element in (variant.get("elements") or {}).items():
        kind = element.get("type")
        value = element.get("value")
        entry: JSON = {"element": {"codename": codename}}
        if kind == "rich_text":
            html, components = rich_text_to_management(element, language, refs, depth)
            entry["value"] = html
            entry["components"] = components
        elif kind in ("modular_content", "subpages"):
            targets = (refs.item(c, f"{where} {codename}") for c in value or [])
            entry["value"] = [t for t in targets if t is not None]
        elif kind in ("multiple_choice", "taxonomy"):
            entry["value"] = [{"codename": v["codename"]} for v in value or []]
        elif kind == "asset":
            entry["value"] = [
                {"external_id": external_id("asset", a["url"])} for a in value or [] if a.get("url")
            ]
        elif kind == "url_slug":
            entry["value"] = value
            entry["mode"] = "custom"
        elif kind == "date_time":
            entry["value"] = value
            if element.get("display_timezone"):
                entry["display_timezone"] = element["display_timezone"]
        else:  # text, number, custom
            entry["value"] = value
        out.append(entry)
    return out


def rich_text_to_management(
    element: JSON, language: str, refs: References, depth: int = 0
) -> tuple[str, list[JSON]]:
    """A Delivery rich-text element → (Management API HTML, its components)."""
    html = element.get("value") or ""
    images = element.get("images") or {}
    components: list[JSON] = []
    if "<" not in html:
        return html, components
    doc = _parse(html)
    spliced: dict[str, str] = {}
    marker = f"kssg{uuid.uuid4().hex}n"

    def splice(node: Any, markup: str) -> None:
        token = f"{marker}{len(spliced)}x"
        spliced[token] = markup
        node.replace_with(token)

    for node in doc.css("object"):
        attrs = node.attributes
        codename = attrs.get("data-codename") or ""
        if attrs.get("type") != _KENTICO_OBJECT or not codename:
            continue
        if attrs.get("data-rel") == "component":
            component = refs.component(codename, language)
            if component is None or depth >= 6:
                refs.warnings.append(f"rich text: component {codename!r} is not in the snapshot")
                splice(node, "")
                continue
            component_id = component["system"]["id"]
            components.append(
                {
                    "id": component_id,
                    "type": {"codename": component["system"]["type"]},
                    "elements": _elements(component, language, refs, depth + 1),
                }
            )
            splice(
                node,
                f'<object type="{_KENTICO_OBJECT}" data-type="component" '
                f'data-id="{_attr(component_id)}"></object>',
            )
        else:
            target = refs.item(codename, "rich text")
            markup = ""
            if target is not None:
                markup = (
                    f'<object type="{_KENTICO_OBJECT}" data-type="item" '
                    f'data-external-id="{_attr(target["external_id"])}"></object>'
                )
            splice(node, markup)
    for node in doc.css("figure"):
        attrs = node.attributes
        image_id = attrs.get("data-image-id") or attrs.get("data-asset-id")
        image = images.get(image_id) if image_id else None
        if image is None or not image.get("url"):
            continue
        ext = external_id("asset", image["url"])
        splice(node, f'<figure data-asset-external-id="{_attr(ext)}"></figure>')
    for node in doc.css("a"):
        attrs = node.attributes
        edits = node.attrs
        if attrs.get("data-item-id") is not None:
            item_id = attrs.get("data-item-id") or ""
            del edits["data-item-id"]
            _drop(edits, "href")
            edits["data-item-external-id"] = external_id("item", item_id)
        elif attrs.get("data-asset-id") is not None and attrs.get("href"):
            url = attrs.get("href") or ""
            del edits["data-asset-id"]
            _drop(edits, "href")
            edits["data-asset-external-id"] = external_id("asset", url)
        elif attrs.get("data-email-address") is not None or attrs.get("data-phone-number"):
            _drop(edits, "href")
        elif attrs.get("data-new-window") is not None:
            _drop(edits, "target")
            _drop(edits, "rel")
    out = _serialize(doc)
    for token, markup in spliced.items():
        out = out.replace(token, markup)
    return out, components


def _drop(attrs: Any, name: str) -> None:
    if name in attrs:
        del attrs[name]


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


def _parse(html: str) -> Any:
    """``html`` as the body of a no-quirks document (the HTML5 fragment algorithm)."""
    from selectolax.lexbor import LexborHTMLParser

    doc = LexborHTMLParser("<!DOCTYPE html>")
    body: Any = doc.body
    body.inner_html = html
    return doc


def _serialize(doc: Any) -> str:
    return str(doc.body.inner_html or "")
