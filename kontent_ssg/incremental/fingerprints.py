"""Content fingerprints: what the current output was built from, compact enough to diff.

A full build stores a fingerprint (:class:`Row`) of every item variant, component, taxonomy
group, content type and language it was built from (``BuildState.content``); a later build
diffs a new crawl, an offline snapshot or a refetched item against them, field by field, and
:func:`~kontent_ssg.incremental.keys.keys_for_change` turns each difference into dependency
keys. The global fingerprints (config, code, template names, output folder) and the template
and static stamps decide whether a build may be incremental at all.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Config
from ..content.snapshot import ContentStore, Snapshot, loads_json
from ..plugins import plugin_fingerprint
from ..render.templates import template_files
from ..site.routing import Page
from ..speed import ascii_json

__all__ = [
    "ContentKey",
    "Row",
    "bytes_digest",
    "changed_rows",
    "component_row",
    "global_fingerprint",
    "item_row",
    "opaque_row",
    "page_item_row",
    "snapshot_rows",
    "static_stamp",
    "template_hashes",
]

JSON = dict[str, Any]

ContentKey = tuple[str, str, str]
"""``(kind, language, codename)`` of one piece of content the pages were built from."""


# The bytes a fingerprint hashes: ``marshal`` format 2 (no back-references, so equal values
# give equal bytes; ~4x faster than a sorted ``json.dumps`` of the same 10k items). It keeps
# dict order: the same content in another key order hashes differently, which can only
# re-render a page more than needed, never fewer. Values ``marshal`` cannot write (none in
# parsed JSON) fall back to sorted JSON. The hashes are only compared with hashes made by the
# same code: a code change is a full build (:func:`global_fingerprint`).
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def _h(value: Any) -> str:
    try:
        data = marshal.dumps(value, 2)
    except ValueError:
        data = _encode(value).encode("utf-8")
    # bytes_digest's SHA-256: as fast as BLAKE2b on a short field here, ~1.7x on a
    # rich-text element of a few KB (2.7 against 4.6 µs at 4 KB).
    return bytes_digest(data)


@dataclass(frozen=True)
class Row:
    """The fingerprint of one piece of content, as stored in ``BuildState.content``.

    For item variants ``fields`` maps ``system.<prop>`` / ``elements.<codename>`` to a hash,
    so a diff can tell *which* fields changed (a title edit must not re-sort every listing).
    """

    hash: str
    type: str = ""
    item_id: str = ""
    translated: bool = False
    fields: Mapping[str, str] = field(default_factory=dict)
    taxonomy_fields: tuple[str, ...] = ()
    # An item variant's: the digest of the JSON bytes it was made from (see
    # :func:`changed_rows`), "" when not known. Stored last, so that
    # ``BuildState.content_digests`` reads it without decoding the row.
    digest: str = ""

    def to_json(self) -> str:
        row: list[Any] = [
            self.hash,
            self.type,
            self.item_id,
            self.translated,
            dict(self.fields),
            list(self.taxonomy_fields),
        ]
        if self.digest:
            row.append(self.digest)
        return ascii_json(row)

    @classmethod
    def from_json(cls, text: str) -> Row:
        h, type_, item_id, translated, fields, tax, *digest = json.loads(text)
        return cls(h, type_, item_id, bool(translated), fields, tuple(tax), *digest)


def opaque_row(value: Any) -> Row:
    """The fingerprint of content whose change is judged as a whole (components, taxonomy
    groups, the content model)."""
    return Row(_h(value))


def bytes_digest(data: bytes) -> str:
    """The digest of stored JSON bytes: equal digests, equal values (not the other way
    round: the same value may be written differently). SHA-256 (8 bytes of it): ~2x
    BLAKE2b's speed on item-sized bytes where the CPU has SHA instructions (see
    ``builder.output._digest``)."""
    return sha256(data).hexdigest()[:16]


def component_row(data: bytes) -> Row:
    """A component's fingerprint, from the bytes :class:`~kontent_ssg.content.snapshot.
    Components` keeps (``encode_component``: a function of the value), so that no component
    is decoded to be fingerprinted. Its hash is its bytes' digest."""
    return Row(bytes_digest(data))


def item_row(raw: JSON, language: str, data: bytes | None = None) -> Row:
    """An item variant's fingerprint: a hash per system property and per element; given
    ``data``, the JSON bytes ``raw`` was decoded from, their digest too."""
    system = raw.get("system") or {}
    elements = raw.get("elements") or {}
    fields = {"system." + k: _h(v) for k, v in system.items()}
    taxonomy = []
    for name, element in elements.items():
        fields["elements." + name] = _h(element)
        if isinstance(element, dict) and element.get("type") == "taxonomy":
            taxonomy.append("elements." + name)
    taxonomy.sort()
    return Row(
        hash=_h(fields),
        type=str(system.get("type", "")),
        item_id=str(system.get("id", "")),
        translated=system.get("language") == language,
        fields=fields,
        taxonomy_fields=tuple(taxonomy),
        digest=bytes_digest(data) if data is not None else "",
    )


def snapshot_rows(snapshot: Snapshot, skip: Collection[ContentKey] = ()) -> dict[ContentKey, Row]:
    """Fingerprints of everything in ``snapshot`` (items, components, taxonomies, model),
    but for the items and components whose keys are in ``skip`` (fingerprinted elsewhere)."""
    return _rows(snapshot, skip, None, None)


def changed_rows(
    snapshot: Snapshot, digests: Mapping[ContentKey, str]
) -> tuple[dict[ContentKey, Row], set[ContentKey]]:
    """What differs from stored fingerprints, without fingerprinting what did not change.

    ``digests``: the stored digests of item variants' and components' bytes
    (``BuildState.content_digests``). Returns the fingerprints of the items and components
    whose bytes' digest is not the stored one (new ones included) and of everything else
    (taxonomies, the model: a few), and the keys of ``digests`` the snapshot no longer has.
    An offline build after one edit at 10k real-shaped items: 20k items decoded and
    fingerprinted before, 2 now (the digests of all bytes cost ~0.3 s instead of ~3 s)."""
    present: set[ContentKey] = set()
    rows = _rows(snapshot, (), digests, present)
    return rows, digests.keys() - present


def _rows(
    snapshot: Snapshot,
    skip: Collection[ContentKey],
    digests: Mapping[ContentKey, str] | None,
    present: set[ContentKey] | None,
) -> dict[ContentKey, Row]:
    rows: dict[ContentKey, Row] = {}
    known = digests.get if digests is not None else None
    for language, lang_items in snapshot.items.items():
        items = lang_items.items
        for at, summary in enumerate(items.summaries()):
            key = ("item", language, summary.light["system"]["codename"])
            if key in skip:
                continue
            data = items.raw(at)
            if known is not None:
                present.add(key)  # type: ignore[union-attr]
                if known(key) == bytes_digest(data):
                    continue
            rows[key] = item_row(loads_json(data), language, data)
        for codename, data in lang_items.modular_content.raw_items():
            key = ("component", language, codename)
            if key in skip:
                continue
            digest = bytes_digest(data)
            if known is not None:
                present.add(key)  # type: ignore[union-attr]
                if known(key) == digest:
                    continue
            rows[key] = Row(digest)  # component_row's
    for group in snapshot.taxonomies:
        rows[("taxonomy", "", group["system"]["codename"])] = opaque_row(group)
    for content_type in snapshot.types:
        rows[("type", "", content_type["system"]["codename"])] = opaque_row(content_type)
    for language_object in snapshot.languages:
        codename = (language_object.get("system") or {}).get("codename", "")
        rows[("language", "", codename)] = opaque_row(language_object)
    rows[("language", "", "#default")] = opaque_row(snapshot.default_language)
    rows[("language", "", "#crawled")] = opaque_row(sorted(snapshot.items))
    return rows


def page_item_row(page: Page, store: ContentStore) -> list[tuple[ContentKey, str]] | None:
    """The stored fingerprint of an item page's item (a :data:`~kontent_ssg.builder.PageHook`).

    A full build fingerprints all content; for items with a page this runs in the render
    process that rendered the page, right after it: that process has just read the item, and
    the work is split over the render processes. Everything else (items without a page, and
    components, which are hashed from their bytes) is fingerprinted by :func:`snapshot_rows`
    with these items' keys as ``skip``."""
    if page.kind != "item":
        return None
    language = page.language
    raw = store.item(page.key, language)
    if raw is None:
        return None
    data = store.item_bytes(page.key, language)
    return [(("item", language, page.key), item_row(raw, language, data).to_json())]


# ---------------------------------------------------------------------------------------------
# Global fingerprints: what forces a full build, and which templates or static files changed


def template_hashes(config: Config) -> dict[str, str]:
    """A hash of every effective template (the site's override the package's), by name."""
    return {
        name: hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
        for name, path in sorted(template_files(config.templates_dir).items())
    }


def _code_fingerprint() -> str:
    """The kontent-ssg code this process runs (taken once, at import): a new version renders
    differently, but files edited under a running receiver do not change what it runs.

    The files' bytes, not their mtimes: a CI job installs kontent-ssg afresh on every run
    (pip gives each file the time of the install), and mtimes would make every CI build a
    full one. Hashing the ~0.5 MB of source costs about a millisecond.
    """
    h = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return h.hexdigest()


_CODE_FINGERPRINT = _code_fingerprint()


def global_fingerprint(config: Config, output_dir: Path, preview: bool) -> str:
    """Config, code, template names, output folder: any change means a full build."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{__version__}|{preview}|{output_dir}".encode())
    h.update(config.source.encode())  # what this build uses, not the file as it is now
    h.update(_CODE_FINGERPRINT.encode())
    h.update(plugin_fingerprint(config).encode())
    h.update("\n".join(sorted(template_files(config.templates_dir))).encode())
    return h.hexdigest()


def static_stamp(config: Config) -> str:
    """Names, sizes and mtimes of ``static/``: a changed stamp means files to copy."""
    h = hashlib.blake2b(digest_size=16)
    folder = config.static_dir
    if folder.is_dir():
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(root, name)
                st = os.stat(path)
                h.update(f"{os.path.relpath(path, folder)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()
