"""Dependency keys: what a page read, and which content changes make that stale.

Both directions live here. While a page renders, the renderer records keys made by the
constructors below (``item(codename, language)`` …); after a content change,
:func:`keys_for_change` produces the keys it makes stale, and the build state returns the
pages that recorded any of them. Every kind a page can record is one a change can produce;
:data:`KINDS` describes each (docs/INCREMENTAL.md shows that table, and a test keeps the two
equal and shows, per kind, a change that produces it).

False positives are fine (a page re-renders and its bytes turn out equal, so nothing is
written); false negatives are not (a stale page). So a change produces every key through
which a page could have observed it.

Keys are plain strings (``kind:part:part``): they are stored per page in the build state,
compared by equality, and made in the render loop, where a string is the cheapest thing.
Codenames and language codenames never contain ``:``; a content type codename never starts
with ``#``, so :data:`ANY_TYPE` cannot collide with one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fingerprints import ContentKey, Row

__all__ = [
    "ANY_TYPE",
    "KINDS",
    "KeyKind",
    "StructuralChange",
    "asset",
    "component",
    "item",
    "keys_for_change",
    "kind_of",
    "link",
    "listing",
    "markdown_table",
    "order",
    "taxonomy",
    "template",
    "url",
    "urls_changed",
]

#: The type part of a :func:`listing` or :func:`order` key for a query over every type.
ANY_TYPE = "#any"


def item(codename: str, language: str) -> str:
    """An item variant was read (its page, embedded, listed, linked to, switched to)."""
    return f"item:{codename}:{language}"


def component(codename: str) -> str:
    """A rich-text component was rendered."""
    return f"component:{codename}"


def taxonomy(group: str) -> str:
    """A taxonomy group's terms were read."""
    return f"taxonomy:{group}"


def listing(type_codename: str | None, language: str) -> str:
    """A query listed the items of a type (None: of every type) translated into a language."""
    return f"type:{type_codename or ANY_TYPE}:{language}"


def order(type_codename: str | None, language: str, field: str) -> str:
    """A query sorted such items by ``field`` (``system.<prop>`` or ``elements.<codename>``)."""
    return f"order:{type_codename or ANY_TYPE}:{language}:{field}"


def link(item_id: str) -> str:
    """A link to the item with this id was resolved (to a URL, or found broken)."""
    return f"link:{item_id}"


def template(name: str) -> str:
    """A template was loaded, or looked up and found missing."""
    return f"template:{name}"


def url(path: str) -> str:
    """A page links to a site path (``/articles/``, ``/css/site.css``: a link check of the
    written page), or handed out the URL a page has, or would have, there (a term, listing or
    home page exists only while it has items).

    ``/x/``, ``/x`` and ``/x/index.html`` are one key: hosts serve all three from one file.
    """
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return f"url:{path.rstrip('/') or '/'}"


def urls_changed(paths: Iterable[str]) -> set[str]:
    """The ``url`` keys made stale by files appearing in or going from the output (paths
    relative to the output folder: pages and static files)."""
    return {url("/" + path) for path in paths}


def asset(source: str, variant: str = "") -> str:
    """A downloaded asset was used (``[site] download_assets``), or the image variant of it
    that ``variant`` names (``w640-webp``). URLs hold no spaces (others are not downloaded)."""
    return f"asset:{source} {variant}" if variant else f"asset:{source}"


def kind_of(key: str) -> str:
    """The kind of a key (``item``, ``type``, …): its part before the first ``:``."""
    return key.partition(":")[0]


@dataclass(frozen=True)
class KeyKind:
    """One kind of key, for docs and tests: its shape, when pages record it, what makes it
    stale."""

    kind: str
    shape: str
    recorded: str
    stale: str


KINDS: tuple[KeyKind, ...] = (
    KeyKind(
        "item",
        "item:<codename>:<language>",
        "reads an item variant: its own item, a linked, embedded or listed item, a link "
        "target's URL (also a missing target: it may appear), its item in the other languages "
        "(language switcher)",
        "anything in that variant changes, or it appears or goes",
    ),
    KeyKind(
        "component",
        "component:<codename>",
        "renders a rich-text component",
        "the component changes, appears or goes",
    ),
    KeyKind(
        "taxonomy",
        "taxonomy:<group>",
        "reads a taxonomy group (terms, term pages, taxonomy elements)",
        "the group changes, appears or goes",
    ),
    KeyKind(
        "type",
        "type:<type>:<language>",
        f"runs a listing query (`items()`, listing pages, taxonomy pages, feed, sitemap); "
        f"`{ANY_TYPE}` as the type for a query over every type",
        "an item of that type is added, removed, becomes (un)translated, changes type or "
        "changes its taxonomy terms",
    ),
    KeyKind(
        "order",
        "order:<type>:<language>:<field>",
        "sorts a listing by `system.<prop>` / `elements.<codename>`; the sitemap records "
        "`system.last_modified` of each routed type (its `<lastmod>` values)",
        "that field changes on an item of the type",
    ),
    KeyKind(
        "link",
        "link:<item id>",
        "resolves a link to an item by id, or follows an item's URL",
        "an item with that id appears, goes or changes",
    ),
    KeyKind(
        "url",
        "url:<path>",
        "links to a path of the site (any `href`, `src` or `srcset` of the written page, "
        "found or dangling), or hands out the URL a term, listing or home page has, or "
        "would have, there (such pages exist only while they have items)",
        "a page or static file appears at that path or goes (`/x/`, `/x` and `/x/index.html` "
        "are one path)",
    ),
    KeyKind(
        "template",
        "template:<name>",
        "loads a template (including through `extends`/`include`), or looks one up that "
        "does not exist",
        "the template's bytes change, or it appears or goes",
    ),
    KeyKind(
        "asset",
        "asset:<url>[ <variant>]",
        "uses a downloaded asset or an image variant of it (`[site] download_assets`): "
        "rich-text images and asset links, asset elements, `image_url`; the keys also say "
        "which files of `[assets] path` the page needs",
        'the last build could not download the asset (`on_missing = "link"`) and this one '
        "did; a new URL or size reaches pages through the `item:`/`component:` key of the "
        "item holding it",
    ),
)


def markdown_table() -> str:
    """The table of :data:`KINDS` that docs/INCREMENTAL.md shows (a test compares them)."""
    lines = ["| key | recorded when a page… | made stale when… |", "|---|---|---|"]
    for k in KINDS:
        lines.append(f"| `{k.shape}` | {k.recorded} | {k.stale} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# From a content change to stale keys

# Content rows whose change means a full build (the content model: every page may read it).
STRUCTURAL_KINDS = frozenset({"type", "language"})


class StructuralChange(Exception):
    """The content model changed: only a full build is safe."""


def keys_for_change(key: ContentKey, old: Row | None, new: Row | None) -> set[str]:
    """Dependency keys made stale by one content row going from ``old`` to ``new``.

    ``key`` is ``(kind, language, codename)`` of an item variant, component or taxonomy
    group (see :mod:`~kontent_ssg.incremental.fingerprints`). Raises
    :class:`StructuralChange` for content-model rows. Comparing the old and new field hashes
    of an item tells *which* fields changed, so a body edit does not re-sort listings while a
    new ``publish_date`` re-renders the listings ordered by it.
    """
    kind, language, codename = key
    if old is not None and new is not None and old.hash == new.hash:
        return set()
    if old is None and new is None:
        return set()
    if kind in STRUCTURAL_KINDS:
        raise StructuralChange(f"{kind} {codename!r} changed")
    if kind == "component":
        return {component(codename)}
    if kind == "taxonomy":
        return {taxonomy(codename)}
    keys = {item(codename, language)}
    types: set[str | None] = {r.type for r in (old, new) if r is not None} | {None}
    for r in (old, new):
        if r is not None and r.item_id:
            keys.add(link(r.item_id))
    membership = (
        old is None or new is None or old.translated != new.translated or old.type != new.type
    )
    if not membership:
        assert old is not None and new is not None
        changed = {
            f for f in set(old.fields) | set(new.fields) if old.fields.get(f) != new.fields.get(f)
        }
        if changed & (set(old.taxonomy_fields) | set(new.taxonomy_fields)):
            membership = True
        for f in changed:
            for t in types:
                keys.add(order(t, language, f))
    if membership:
        for t in types:
            keys.add(listing(t, language))
    return keys
