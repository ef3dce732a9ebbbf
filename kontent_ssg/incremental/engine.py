"""Incremental builds: from "this changed" to "these pages", and nothing else.

The pipeline of an incremental build (docs/INCREMENTAL.md):

1. **Is incremental allowed?** Only when build state exists, the previous output is there and
   nothing global changed (``kontent.toml``, kontent-ssg's code, the set of template names,
   the output folder). Otherwise: a full build, which records everything afresh.
2. **What changed?** One of: the webhook notifications (the receiver, ``--changes FILE``), the
   Sync API v2 deltas since the stored token, or a full crawl (or ``--offline`` snapshot)
   diffed against the stored content fingerprints. Items and taxonomy groups named by a
   notification or delta are refetched (``X-KC-Wait-For-Loading-New-Content: true``); content
   types, languages, assets and unknown objects mean a full re-crawl.
3. **Which dependency keys?** Each item variant, component, taxonomy group, type and language
   has a stored fingerprint (a hash per system property and per element). Comparing the old
   and new fingerprints gives keys: ``item:<codename>:<language>`` for any change,
   ``order:<type>:<language>:<field>`` per changed field, ``type:<type>:<language>`` when
   listing or taxonomy membership can change (added, removed, translated or not, taxonomy
   terms), ``link:<id>`` for links that may now resolve, ``component:``/``taxonomy:`` keys, and
   a full rebuild for content-model changes. Changed templates give ``template:<name>``.
4. **Which pages?** The reverse index (``BuildState.dependants``) plus pages that did not exist
   before; pages that no longer exist are deleted. Everything else is left alone.
5. **Render, write, record** with the builder's own functions; the state is updated in one
   transaction after the output is written.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from pathlib import Path
from typing import Any

from .. import __version__
from ..build.builder import BuildOptions, BuildReport, outputs_intact, snapshot_files_digest
from ..config import Config
from ..content.snapshot import (
    ContentStore,
    LanguageItems,
    Snapshot,
    atomic_write_bytes,
    gc_paused,
    load_snapshot,
)
from ..content.webhooks import Change, changes_from_sync, parse_webhook
from ..errors import BuildError, DeliveryError, NotFoundError, UsageError, WebhookError
from ..site.routing import Page
from .state import BuildState, ContentKey, PageRecord, state_path

__all__ = [
    "IncrementalBuilder",
    "Row",
    "build_site",
    "keys_for_change",
    "snapshot_rows",
]

JSON = dict[str, Any]

# Object kinds whose change can reshape every page: a full re-crawl (then a diff decides).
RECRAWL_KINDS = frozenset({"type", "language", "asset", "unknown"})
# Content rows whose change means a full build (the content model).
STRUCTURAL_KINDS = frozenset({"type", "language"})

Log = Callable[[str], None]

# Above this many items tagged from a changed taxonomy group, re-crawl instead of refetching.
MAX_TAGGED_REFETCH = 100


def _quiet(message: str) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# Content fingerprints


# The bytes a fingerprint hashes: ``marshal`` format 2 (no back-references, so equal values
# give equal bytes; ~4x faster than a sorted ``json.dumps`` of the same 10k items). It keeps
# dict order: the same content in another key order hashes differently, which can only
# re-render a page more than needed, never fewer. Values ``marshal`` cannot write (none in
# parsed JSON) fall back to sorted JSON. The hashes are only compared with hashes made by the
# same code: a code change is a full build (``_CODE_FINGERPRINT``).
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
_row_json = json.JSONEncoder(separators=(",", ":")).encode


def _h(value: Any) -> str:
    try:
        data = marshal.dumps(value, 2)
    except ValueError:
        data = _encode(value).encode("utf-8")
    return blake2b(data, digest_size=8).hexdigest()


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

    def to_json(self) -> str:
        return _row_json(
            [
                self.hash,
                self.type,
                self.item_id,
                self.translated,
                dict(self.fields),
                list(self.taxonomy_fields),
            ]
        )

    @classmethod
    def from_json(cls, text: str) -> Row:
        h, type_, item_id, translated, fields, tax = json.loads(text)
        return cls(h, type_, item_id, bool(translated), fields, tuple(tax))


def item_row(raw: JSON, language: str) -> Row:
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
    )


def snapshot_rows(
    snapshot: Snapshot, skip: Mapping[ContentKey, Any] | None = None
) -> dict[ContentKey, Row]:
    """Fingerprints of everything in ``snapshot`` (items, components, taxonomies, model),
    but for the items and components whose keys are in ``skip`` (fingerprinted already)."""
    rows: dict[ContentKey, Row] = {}
    skip = skip or {}
    for language, lang_items in snapshot.items.items():
        for raw in lang_items.items:
            key = ("item", language, raw["system"]["codename"])
            if key not in skip:
                rows[key] = item_row(raw, language)
        for codename, component in lang_items.modular_content.items():
            key = ("component", language, codename)
            if key not in skip:
                rows[key] = Row(_h(component))
    for group in snapshot.taxonomies:
        rows[("taxonomy", "", group["system"]["codename"])] = Row(_h(group))
    for content_type in snapshot.types:
        rows[("type", "", content_type["system"]["codename"])] = Row(_h(content_type))
    for language_object in snapshot.languages:
        codename = (language_object.get("system") or {}).get("codename", "")
        rows[("language", "", codename)] = Row(_h(language_object))
    rows[("language", "", "#default")] = Row(_h(snapshot.default_language))
    rows[("language", "", "#crawled")] = Row(_h(sorted(snapshot.items)))
    return rows


def page_item_row(page: Page, store: ContentStore) -> list[tuple[ContentKey, str]] | None:
    """The stored fingerprints of an item page's item and of the components its rich text
    lists (a :data:`~kontent_ssg.builder.PageHook`).

    A full build fingerprints all content; for items with a page this runs in the render
    process that rendered the page, right after it: that process has just read the item, and
    the work is split over the render processes instead of following them. Whatever no page
    covers is fingerprinted afterwards (:func:`snapshot_rows` skips what is done)."""
    if page.kind != "item":
        return None
    language = page.language
    raw = store.item(page.key, language)
    if raw is None:
        return None
    rows = [(("item", language, page.key), item_row(raw, language).to_json())]
    lang_items = store.snapshot.items.get(language)
    components = lang_items.modular_content if lang_items is not None else {}
    for element in (raw.get("elements") or {}).values():
        if isinstance(element, dict) and element.get("type") == "rich_text":
            for codename in element.get("modular_content") or ():
                component = components.get(codename)
                if component is not None:
                    key = ("component", language, codename)
                    rows.append((key, Row(_h(component)).to_json()))
    return rows


class StructuralChange(Exception):
    """The content model changed: only a full build is safe."""


def keys_for_change(key: ContentKey, old: Row | None, new: Row | None) -> set[str]:
    """Dependency keys made stale by one content row going from ``old`` to ``new``.

    Raises :class:`StructuralChange` for content-model rows. False positives are fine here;
    a missing key would leave a stale page, so every way a page can observe the change is
    covered (see docs/INCREMENTAL.md).
    """
    kind, language, codename = key
    if old is not None and new is not None and old.hash == new.hash:
        return set()
    if old is None and new is None:
        return set()
    if kind in STRUCTURAL_KINDS:
        raise StructuralChange(f"{kind} {codename!r} changed")
    if kind == "component":
        return {f"component:{codename}"}
    if kind == "taxonomy":
        return {f"taxonomy:{codename}"}
    keys = {f"item:{codename}:{language}"}
    types = {r.type for r in (old, new) if r is not None} | {"*"}
    for r in (old, new):
        if r is not None and r.item_id:
            keys.add(f"link:{r.item_id}")
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
                keys.add(f"order:{t}:{language}:{f}")
    if membership:
        for t in types:
            keys.add(f"type:{t}:{language}")
    return keys


def diff_rows(
    old: Mapping[ContentKey, Row], new: Mapping[ContentKey, Row], keys: Iterable[ContentKey]
) -> tuple[set[str], dict[ContentKey, str | None]]:
    """Dependency keys and the content-table updates for the rows named by ``keys``."""
    dep_keys: set[str] = set()
    updates: dict[ContentKey, str | None] = {}
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None and before.hash == after.hash:
            continue
        dep_keys |= keys_for_change(key, before, after)
        updates[key] = after.to_json() if after is not None else None
    return dep_keys, updates


# ---------------------------------------------------------------------------------------------
# Global fingerprints: what forces a full build, and which templates changed


def _template_files(config: Config) -> dict[str, Path]:
    """Effective templates by name: the site's override the package's."""
    from ..render.templating import PACKAGE_TEMPLATES

    found: dict[str, Path] = {}
    for folder in (PACKAGE_TEMPLATES, config.templates_dir):
        if not folder.is_dir():
            continue
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                found[path.relative_to(folder).as_posix()] = path
    return found


def template_hashes(config: Config) -> dict[str, str]:
    return {
        name: hashlib.blake2b(path.read_bytes(), digest_size=8).hexdigest()
        for name, path in sorted(_template_files(config).items())
    }


def _code_fingerprint() -> str:
    """The kontent-ssg code this process runs (taken once, at import): a new version renders
    differently, but files edited under a running receiver do not change what it runs."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).resolve().parent.parent.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.as_posix()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


_CODE_FINGERPRINT = _code_fingerprint()


def global_fingerprint(config: Config, output_dir: Path, preview: bool) -> str:
    """Config, code, template names, output folder: any change means a full build."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{__version__}|{preview}|{output_dir}".encode())
    h.update(config.path.read_bytes())
    h.update(_CODE_FINGERPRINT.encode())
    h.update("\n".join(sorted(_template_files(config))).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# The incremental builder


class IncrementalBuilder:
    """One site's builds, incremental whenever that is safe; thread-safe (one lock).

    Keeps the content in memory between rebuilds, so a long-running receiver applies a
    webhook without re-reading the snapshot. ``transport`` lets tests swap the network.
    """

    def __init__(
        self,
        config: Config,
        options: BuildOptions | None = None,
        *,
        transport: Any = None,
        log: Log = _quiet,
    ) -> None:
        self.config = config
        self.options = options or BuildOptions()
        self.preview = self.options.preview
        self.slot = "preview" if self.preview else "published"
        self.output_dir = (self.options.output or config.output_dir).resolve()
        self.state = BuildState(state_path(config.state_dir, preview=self.preview))
        self.transport = transport
        self.log = log
        self.lock = threading.RLock()
        self.snapshot: Snapshot | None = None
        self._client: Any = None
        self._plan: Any = None  # the SitePlan of the last rebuild, for plan-neutral changes
        self._manifest: JSON | None = None
        self._pages: set[str] | None = None  # the recorded output paths (cached)
        self._tagged_index: TaggedIndex | None = None
        self._persister = _Persister(self)
        self.rebuilds = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._persister.close()
        if self._client is not None:
            self._client.close()
            self._client = None
        self.state.close()

    def __enter__(self) -> IncrementalBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client(self) -> Any:
        if self.options.offline:
            raise UsageError(
                "this change needs the Delivery API, but the build is --offline",
                hint="run without --offline (or `kontent-ssg pull` first, then build offline)",
            )
        if self._client is None:
            from ..content.delivery import client_for

            self._client = client_for(self.config, preview=self.preview, transport=self.transport)
        return self._client

    @property
    def snapshot_dir(self) -> Path:
        # ``delivery.snapshot_dir_for``, without importing ``delivery`` (and httpx, ~0.1 s)
        # into an offline build that never crawls.
        if self.preview:
            return self.config.state_dir / "snapshot-preview"
        return self.config.snapshot_dir

    # -- entry points ------------------------------------------------------------------------

    def build(self, *, changes: list[Change] | None = None) -> BuildReport:
        """``kontent-ssg build``: incremental when build state allows, else full."""
        with self.lock:
            reason = self.full_build_reason()
            if reason is not None:
                self.log(f"full build: {reason}")
                return self.full_build()
            if changes is not None:
                return self._apply(changes, template_keys=self._template_keys())
            if self.options.offline:
                self._persister.flush()
                # The saved snapshot is exactly what the last build was made from, and no
                # template or static file changed: nothing to load, diff or plan.
                stamp = snapshot_files_digest(self.snapshot_dir)
                if (
                    stamp is not None
                    and stamp == self.state.get_meta("snapshot")
                    and self.state.get_meta("static") == _static_stamp(self.config)
                    and not self._template_keys()
                ):
                    return self._nothing_to_do(0, None)
                snapshot = load_snapshot(self.snapshot_dir)
                return self._rebuild_from_snapshot(snapshot, 0, stamp=stamp)
            token = self.state.sync_token
            if token:
                try:
                    synced, new_token, requests = self._sync(token)
                except (DeliveryError, WebhookError) as exc:
                    self.log(f"Sync API unavailable ({exc}); crawling and diffing instead")
                else:
                    return self._apply(
                        synced,
                        template_keys=self._template_keys(),
                        sync_token=new_token,
                        requests=requests,
                    )
            return self._crawl_and_diff()

    def apply(self, changes: list[Change]) -> BuildReport:
        """Apply webhook notifications (the receiver's worker calls this)."""
        with self.lock:
            reason = self.full_build_reason()
            if reason is not None:
                self.log(f"full build: {reason}")
                return self.full_build()
            return self._apply(changes, template_keys=self._template_keys())

    def _manifest_now(self) -> JSON | None:
        """The builder's record of the output (cached: it is re-read only after full builds)."""
        from ..build.builder import load_manifest

        if self._manifest is None:
            self._manifest = load_manifest(self.config, self.output_dir, preview=self.preview)
        return self._manifest

    def full_build_reason(self) -> str | None:
        """Why this build cannot be incremental, or None when it can."""
        if self.options.full:
            return "--full"
        if self.state.is_empty:
            return "no build state yet"
        manifest = self._manifest_now()
        if manifest is None:
            return "no record of the previous output"
        if not outputs_intact(self.output_dir, manifest):
            # Someone deleted or edited generated files (say `rm -rf public`): only a full
            # build puts them back (it still writes only files whose bytes differ).
            return "the output folder changed since the last build"
        if self.state.get_meta("global") != global_fingerprint(
            self.config, self.output_dir, self.preview
        ):
            return "kontent.toml, kontent-ssg or the set of templates changed"
        if not (self.snapshot_dir / "manifest.json").is_file():
            return "no stored content snapshot"
        return None

    def full_build(
        self, snapshot: Snapshot | None = None, requests: int = 0, *, stamp: str | None = None
    ) -> BuildReport:
        """Build everything and record every page's dependencies and the content fingerprints.

        ``stamp`` is the :func:`~kontent_ssg.builder.snapshot_files_digest` of the saved
        snapshot when ``snapshot`` is exactly what is on disk (recorded so that an unchanged
        snapshot needs no diff).
        """
        from ..build.builder import build as full

        with self.lock:
            self._plan = None
            self._manifest = None
            self._pages = None
            token: str | None = None
            if snapshot is None:
                self._persister.flush()
                if self.options.offline:
                    # Hashing the files (a thread: hashlib and file reads let go of the
                    # interpreter lock) overlaps with parsing them.
                    with ThreadPoolExecutor(1) as pool:
                        digest = pool.submit(snapshot_files_digest, self.snapshot_dir)
                        snapshot = load_snapshot(self.snapshot_dir)
                        stamp = digest.result()
                else:
                    token = self._sync_init()
                    from ..content.delivery import obtain_snapshot

                    snapshot, requests = obtain_snapshot(
                        self.config, preview=self.preview, transport=self.transport
                    )
                    if token is not None:
                        requests += 1
            else:
                token = self.state.sync_token
            report = full(
                self.config,
                replace(self.options, full=True),
                snapshot=snapshot,
                requests=requests,
                snapshot_digest=stamp,
                page_hook=page_item_row,
            )
            # Only new, acyclic rows from here on: no collector walking the whole store.
            with gc_paused():
                digests = self._page_digests()
                content: dict[ContentKey, str | None] = {}
                for rows in report.page_extras.values():
                    content.update(rows)
                content.update(
                    (k, r.to_json()) for k, r in snapshot_rows(snapshot, content).items()
                )
                self.state.record(
                    (
                        (PageRecord(path, report.page_urls.get(path), digests.get(path, "")), deps)
                        for path, deps in report.page_deps.items()
                    ),
                    meta={
                        "global": global_fingerprint(self.config, self.output_dir, self.preview),
                        "templates": json.dumps(template_hashes(self.config)),
                        "static": _static_stamp(self.config),
                        "sync_token": token,
                        "snapshot": stamp,
                        "last_build": "full",
                    },
                    content=content,
                    replace=True,
                )
            self.snapshot = snapshot
            self._manifest = None
            self._pages = None
            self.rebuilds += 1
            return report

    # -- what changed ------------------------------------------------------------------------

    def _template_keys(self) -> set[str]:
        old = json.loads(self.state.get_meta("templates") or "{}")
        new = template_hashes(self.config)
        return {
            f"template:{name}" for name in set(old) | set(new) if old.get(name) != new.get(name)
        }

    def _sync_init(self) -> str | None:
        """A Sync API token taken *before* the crawl (so nothing slips between), if any."""
        if self.options.offline:
            return None
        try:
            return str(self.client().sync_init())
        except DeliveryError as exc:
            self.log(f"Sync API unavailable ({exc}); later builds will crawl and diff")
            return None

    def _sync(self, token: str) -> tuple[list[Change], str, int]:
        client = self.client()
        before = client.requests
        changes: list[Change] = []
        for _ in range(100_000):
            batch, token = client.sync_changes(token)
            got = changes_from_sync(batch, slot=self.slot)
            if not got:
                break
            changes.extend(got)
        return changes, token, client.requests - before

    def _crawl_and_diff(self, sync_token: str | None = None) -> BuildReport:
        from ..content.delivery import obtain_snapshot

        token = sync_token or self._sync_init()
        snapshot, requests = obtain_snapshot(
            self.config, preview=self.preview, transport=self.transport
        )
        return self._rebuild_from_snapshot(snapshot, requests, sync_token=token)

    def _rebuild_from_snapshot(
        self,
        snapshot: Snapshot,
        requests: int,
        *,
        sync_token: str | None = None,
        stamp: str | None = None,
    ) -> BuildReport:
        """Diff a whole snapshot against the stored fingerprints; re-render what differs.

        ``stamp``: the saved snapshot's :func:`~kontent_ssg.builder.snapshot_files_digest`
        when ``snapshot`` was read from it.
        """
        new_rows = snapshot_rows(snapshot)
        old_rows = {k: Row.from_json(v) for k, v in self.state.content().items()}
        try:
            keys, updates = diff_rows(old_rows, new_rows, set(old_rows) | set(new_rows))
        except StructuralChange as exc:
            self.log(f"full build: {exc}")
            if sync_token is not None:
                self.state.sync_token = sync_token
            self._persister.cancel()
            return self.full_build(snapshot, requests, stamp=stamp)
        self._persister.cancel()  # this snapshot is already on disk
        self._plan = None
        self.snapshot = snapshot
        return self._render(
            snapshot,
            keys | self._template_keys(),
            updates,
            requests,
            sync_token=sync_token,
            persist=None,
            stamp=stamp,
        )

    # -- applying notifications --------------------------------------------------------------

    def _current_snapshot(self) -> Snapshot:
        if self.snapshot is None:
            self.snapshot = load_snapshot(self.snapshot_dir)
        return self.snapshot

    def _apply(
        self,
        changes: list[Change],
        *,
        template_keys: set[str],
        sync_token: str | None = None,
        requests: int = 0,
    ) -> BuildReport:
        changes = [c for c in changes if c.slot == self.slot]
        if (
            not changes
            and not template_keys
            and self.state.get_meta("static") == _static_stamp(self.config)
        ):
            return self._nothing_to_do(requests, sync_token)
        snapshot = self._current_snapshot()
        languages = list(snapshot.items)
        ids = _id_index(snapshot)
        if any(c.kind in RECRAWL_KINDS for c in changes):
            return self._crawl_and_diff(sync_token)
        items: dict[str, set[str]] = {}
        taxonomies: set[str] = set()
        for change in changes:
            if change.kind == "taxonomy" and change.codename:
                taxonomies.add(change.codename)
            elif change.kind == "item":
                codename = change.codename or ids.get(change.item_id or "")
                if codename is None:
                    # Only an id we have never seen (legacy workflow body): crawl to find it.
                    return self._crawl_and_diff(sync_token)
                wanted = items.setdefault(codename, set())
                if change.language in languages:
                    wanted.add(change.language)
                else:
                    wanted.update(languages)
        # The Delivery API resolves term names inside items: items tagged from a changed
        # group are refetched too (many of them: a crawl is cheaper).
        tagged = _tagged_items(snapshot, taxonomies)
        if len(tagged) > MAX_TAGGED_REFETCH:
            return self._crawl_and_diff(sync_token)
        for codename, language in tagged:
            items.setdefault(codename, set()).add(language)
        client = self.client() if (items or taxonomies) else None
        before = client.requests if client is not None else 0
        fetches = [
            (codename, language)
            for codename, changed in sorted(items.items())
            for language in _languages_to_refetch(snapshot, codename, changed, languages)
        ]
        fetched = _fetch_all(client, fetches, sorted(taxonomies))
        touched_languages: set[str] = set()
        new_rows: dict[ContentKey, Row] = {}
        row_keys: set[ContentKey] = set()
        for (codename, language), answer in fetched["items"].items():
            lang_items = snapshot.items.setdefault(language, LanguageItems())
            raw = answer["item"] if answer is not None else None
            components = (answer or {}).get("modular_content") or {}
            _put_item(lang_items, codename, raw)
            lang_items.modular_content.update(components)
            touched_languages.add(language)
            row_keys.add(("item", language, codename))
            if raw is not None:
                new_rows[("item", language, codename)] = item_row(raw, language)
            for cname, component in components.items():
                row_keys.add(("component", language, cname))
                new_rows[("component", language, cname)] = Row(_h(component))
        for codename, group in fetched["taxonomies"].items():
            snapshot.taxonomies = [
                t for t in snapshot.taxonomies if t["system"]["codename"] != codename
            ]
            if group is not None:
                snapshot.taxonomies.append(group)
                new_rows[("taxonomy", "", codename)] = Row(_h(group))
            row_keys.add(("taxonomy", "", codename))
        old_rows = {k: Row.from_json(v) for k, v in self.state.content(row_keys).items()}
        keys, updates = diff_rows(old_rows, new_rows, row_keys)
        requests += (client.requests - before) if client is not None else 0
        reuse = all(self._plan_neutral(k, old_rows.get(k), new_rows.get(k)) for k in updates)
        return self._render(
            snapshot,
            keys | template_keys,
            updates,
            requests,
            sync_token=sync_token,
            persist=(touched_languages, bool(fetched["taxonomies"])),
            patch={(k[2], k[1]) for k in updates if k[0] == "item"} if reuse else None,
        )

    def _nothing_to_do(self, requests: int, sync_token: str | None) -> BuildReport:
        """Nothing changed: no snapshot to load, no page to render, no file to touch."""
        from ..build.builder import finish_report

        started = time.perf_counter()
        if sync_token is not None and sync_token != self.state.sync_token:
            self.state.sync_token = sync_token
        manifest = self._manifest_now() or {}
        report = BuildReport(
            output=self.output_dir,
            pages_unchanged=sorted(manifest.get("pages") or []),
            requests=requests,
            skipped=True,
        )
        self.log("incremental: nothing changed")
        return finish_report(report, started, self.options)

    def _plan_neutral(self, key: ContentKey, old: Row | None, new: Row | None) -> bool:
        """True when the change cannot alter the site plan (URLs, listing membership and
        order, taxonomy membership), so the previous plan can be patched, not recomputed."""
        kind = key[0]
        if kind == "component":
            return True
        if kind != "item" or old is None or new is None:
            return False
        if old.translated != new.translated or old.type != new.type:
            return False
        changed = {
            f for f in set(old.fields) | set(new.fields) if old.fields.get(f) != new.fields.get(f)
        }
        relevant = _plan_fields(self.config, new.type)
        relevant |= set(old.taxonomy_fields) | set(new.taxonomy_fields)
        return not (changed & relevant)

    # -- render, write, record ---------------------------------------------------------------

    def _render(
        self,
        snapshot: Snapshot,
        keys: set[str],
        updates: dict[ContentKey, str | None],
        requests: int,
        *,
        sync_token: str | None,
        persist: tuple[set[str], bool] | None,
        patch: set[tuple[str, str]] | None = None,
        stamp: str | None = None,
    ) -> BuildReport:
        """Render the dependants of ``keys`` and pages that appeared; delete pages that went.

        ``patch`` names the (codename, language) items of a plan-neutral change: the plan
        of the previous rebuild is patched instead of recomputed (that is most of the cost
        at 10k items). ``stamp``: see :meth:`_rebuild_from_snapshot` (None: the snapshot in
        memory is not the saved one).
        """
        try:
            return self._render_unsafe(
                snapshot, keys, updates, requests, sync_token, persist, patch, stamp
            )
        except BaseException:
            self._plan = None  # the snapshot moved on without a rebuild: plan afresh next time
            self._pages = None
            raise

    def _render_unsafe(
        self,
        snapshot: Snapshot,
        keys: set[str],
        updates: dict[ContentKey, str | None],
        requests: int,
        sync_token: str | None,
        persist: tuple[set[str], bool] | None,
        patch: set[tuple[str, str]] | None,
        stamp: str | None,
    ) -> BuildReport:
        from ..build.builder import (
            copy_static,
            delete_stale,
            describe_link,
            finish_report,
            list_static_files,
            plan_site,
            render_pages,
            save_manifest,
            write_output,
        )
        from ..content.snapshot import ContentStore

        started = time.perf_counter()
        options = self.options
        store = ContentStore(snapshot)
        if patch is not None and self._plan is not None:
            site, self._tagged_index = _patch_plan(self._plan, store, patch, self._tagged_index)
        else:
            site = plan_site(self.config, store)
            self._tagged_index = None
        self._plan = None
        planned = {p.path: p for p in site.routes.pages}
        if self._pages is None:
            self._pages = self.state.page_paths()
        old_pages = self._pages
        dirty = self.state.dependants(keys) if keys else set()
        fresh = set(planned) - set(old_pages)
        deleted = sorted(set(old_pages) - set(planned))
        if fresh or deleted:
            # The sitemap lists every page: a page appearing or going changes it.
            dirty |= {p.path for p in site.routes.pages if p.kind == "sitemap"}
        pages = [planned[p] for p in sorted(dirty | fresh) if p in planned]
        rendered, warnings, broken_links = render_pages(self.config, site, pages)
        if options.strict and (warnings or broken_links):
            problems = warnings + [describe_link(b) for b in broken_links]
            raise BuildError(
                f"--strict: {len(problems)} warning(s) and broken link(s); nothing written:\n  "
                + "\n  ".join(problems[:20]),
                hint="fix them, or build without --strict",
            )
        manifest = self._manifest_now() or {}
        old_files: dict[str, Any] = dict(manifest.get("files") or {})
        report = BuildReport(
            output=self.output_dir,
            warnings=warnings,
            broken_links=broken_links,
            requests=requests,
        )
        entries = write_output(
            self.output_dir, [(r.page.path, r.data) for r in rendered], old_files, report
        )
        new_files = {k: v for k, v in old_files.items() if k not in set(deleted)}
        static_files = list_static_files(self.config.static_dir)
        for rel, entry in list(new_files.items()):
            if len(entry) > 3 and rel not in static_files:
                del new_files[rel]  # a static file that was removed
        new_files.update(entries)
        new_files.update(
            copy_static(self.config.static_dir, self.output_dir, static_files, old_files, report)
        )
        delete_stale(self.output_dir, old_files, new_files, manifest.get("pages", []), report)
        report.page_deps = {r.page.path: r.deps for r in rendered}
        report.page_urls = {r.page.path: r.page.url for r in rendered}
        self._manifest = {
            **manifest,
            "format": manifest.get("format", 1),
            "output": str(self.output_dir),
            "fingerprint": None,  # only our state knows this output now
            "pages": sorted(planned),
            "files": new_files,
        }
        save_manifest(self.config, self.output_dir, self.preview, self._manifest)
        meta: dict[str, str | None] = {
            "templates": json.dumps(template_hashes(self.config)),
            "static": _static_stamp(self.config),
            "snapshot": stamp,
            "last_build": "incremental",
        }
        if sync_token is not None:
            meta["sync_token"] = sync_token
        self.state.record(
            (
                (
                    PageRecord(r.page.path, r.page.url, entries.get(r.page.path, ["", "", ""])[2]),
                    r.deps,
                )
                for r in rendered
            ),
            deleted=deleted,
            meta=meta,
            content=updates,
        )
        self._plan = site
        self._pages = set(planned)
        if persist is not None:
            self._persister.request(*persist)
        self.rebuilds += 1
        self.log(
            f"incremental: {len(keys)} changed keys -> {len(pages)} pages rendered, "
            f"{len(report.pages_written)} written, {len(report.pages_deleted)} deleted "
            f"in {time.perf_counter() - started:.3f} s"
        )
        return finish_report(report, started, options)

    def _page_digests(self) -> dict[str, str]:
        from ..build.builder import load_manifest

        manifest = load_manifest(self.config, self.output_dir, preview=self.preview) or {}
        return {k: v[2] for k, v in (manifest.get("files") or {}).items() if len(v) > 2}


# ---------------------------------------------------------------------------------------------
# Helpers


def _static_stamp(config: Config) -> str:
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


def _plan_fields(config: Config, type_codename: str) -> set[str]:
    """Fields whose value the site plan reads for items of a type: route placeholders,
    listing order fields, identity."""
    fields = {"system.codename", "system.id", "system.language", "system.type"}
    route = config.routes.get(type_codename)
    if route is not None:
        for name in re.findall(r"\{([^{}]*)\}", route.path):
            if name.startswith("system."):
                fields.add(name)
            elif name != "language":
                fields.add(f"elements.{name}")
    for listing in config.listings.values():
        if listing.type == type_codename:
            fields.add(listing.order.split()[0])
    return fields


TaggedIndex = dict[tuple[str, str], list[tuple[str, str, str]]]


def _patch_plan(
    plan: Any, store: Any, changed: set[tuple[str, str]], index: TaggedIndex | None
) -> tuple[Any, TaggedIndex]:
    """The previous plan with the new store and the changed items' new variants in the
    taxonomy lists (re-sorted: they are ordered by last modification). ``index`` maps an
    item variant to the taxonomy lists holding it (built on first use, then kept)."""
    from ..render.templating import sort_items

    if index is None:
        index = {}
        for key, raws in plan.tagged.items():
            for raw in raws:
                index.setdefault((raw["system"]["codename"], key[2]), []).append(key)
    tagged = dict(plan.tagged)
    hit = {key for item in changed for key in index.get(item, ())}
    for key in hit:
        fresh = [store.item(r["system"]["codename"], key[2]) or r for r in plan.tagged[key]]
        tagged[key] = sort_items(fresh, "system.last_modified desc")
    # Membership is unchanged (plan-neutral), so the index stays valid for the new lists.
    return replace(plan, store=store, tagged=tagged), index


class _Persister:
    """Saves the changed parts of the in-memory snapshot in the background.

    Rewriting a 10k-item language file takes most of a second: doing it after the pages are
    written, off the rebuild's path, keeps webhook latency low. A crash before it runs loses
    nothing that matters: the state's content fingerprints are what the output was built
    from, and the next (catch-up) build diffs against them.
    """

    def __init__(self, owner: IncrementalBuilder) -> None:
        self.owner = owner
        self.languages: set[str] = set()
        self.taxonomies = False
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None

    def request(self, languages: set[str], taxonomies: bool) -> None:
        with self.lock:
            self.languages |= languages
            self.taxonomies = self.taxonomies or taxonomies
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="kontent-ssg-persist", daemon=True
                )
                self.thread.start()
        self.wake.set()

    def cancel(self) -> None:
        with self.lock:
            self.languages.clear()
            self.taxonomies = False

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait()
            self.wake.clear()
            # Write once the rebuilds have paused for a second (or every 30 s at worst):
            # the write competes with the next rebuild for the interpreter.
            deadline = time.monotonic() + 30.0
            while not self.stopping and time.monotonic() < deadline and self.wake.wait(1.0):
                self.wake.clear()
            self.flush()

    def flush(self) -> None:
        with self.write_lock:  # one writer at a time, in request order
            self._flush()

    def _flush(self) -> None:
        with self.lock:
            languages, taxonomies = set(self.languages), self.taxonomies
            self.languages.clear()
            self.taxonomies = False
        if not languages and not taxonomies:
            return
        owner = self.owner
        with owner.lock:  # shallow copies: items are replaced, never edited in place
            snapshot = owner.snapshot
            if snapshot is None:
                return
            parts = {
                language: {
                    "items": list(snapshot.items[language].items),
                    "modular_content": dict(snapshot.items[language].modular_content),
                }
                for language in languages
                if language in snapshot.items
            }
            groups = list(snapshot.taxonomies)
            manifest = snapshot.manifest()
        folder = owner.snapshot_dir
        for language, data in sorted(parts.items()):
            _write_language(folder / "items" / f"{language}.json", data)
        if taxonomies:
            _write_json(folder / "taxonomies.json", groups)
        _write_json(folder / "manifest.json", manifest)

    def close(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(30)
        self.flush()


def _write_language(path: Path, data: JSON) -> None:
    """A language's items file, one item at a time (so other threads get the interpreter
    between items: one ``json.dumps`` of 10k items would hold it for most of a second)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    parts = ['{"items":[']
    parts.append(",".join(dumps(item) for item in data["items"]))
    parts.append('],"modular_content":{')
    parts.append(",".join(f"{dumps(k)}:{dumps(v)}" for k, v in data["modular_content"].items()))
    parts.append("}}")
    atomic_write_bytes(path, "".join(parts).encode("utf-8"))


def _write_json(path: Path, value: Any) -> None:
    """Compact JSON (the C encoder: several times faster than indented output)."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    atomic_write_bytes(path, data.encode("utf-8"))


def _id_index(snapshot: Snapshot) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang_items in snapshot.items.values():
        for raw in lang_items.items:
            out[raw["system"]["id"]] = raw["system"]["codename"]
    return out


def _languages_to_refetch(
    snapshot: Snapshot, codename: str, changed: set[str], languages: list[str]
) -> list[str]:
    """The changed languages, plus every language whose variant is (or may become) a fallback:
    only a language holding its own translation of the item is unaffected."""
    out = []
    for language in languages:
        if language in changed:
            out.append(language)
            continue
        current = _find(snapshot.items[language], codename)
        if current is None or current["system"].get("language") != language:
            out.append(language)
    return out


def _tagged_items(snapshot: Snapshot, groups: set[str]) -> set[tuple[str, str]]:
    """(codename, language) of every item variant with terms from one of ``groups``."""
    found: set[tuple[str, str]] = set()
    if not groups:
        return found
    for language, lang_items in snapshot.items.items():
        for raw in lang_items.items:
            for element in (raw.get("elements") or {}).values():
                if (
                    isinstance(element, dict)
                    and element.get("type") == "taxonomy"
                    and element.get("taxonomy_group") in groups
                    and element.get("value")
                ):
                    found.add((raw["system"]["codename"], language))
                    break
    return found


def _find(lang_items: LanguageItems, codename: str) -> JSON | None:
    for raw in lang_items.items:
        if raw["system"]["codename"] == codename:
            return raw
    return None


def _put_item(lang_items: LanguageItems, codename: str, raw: JSON | None) -> None:
    for index, existing in enumerate(lang_items.items):
        if existing["system"]["codename"] == codename:
            if raw is None:
                del lang_items.items[index]
            else:
                lang_items.items[index] = raw
            return
    if raw is not None:
        lang_items.items.append(raw)


def _fetch_all(
    client: Any, items: list[tuple[str, str]], taxonomies: list[str]
) -> dict[str, dict[Any, Any]]:
    """Refetch items (waiting for new content) and taxonomy groups, a few at a time.

    A 404 means the item (or group) is gone from this API: unpublished or deleted.
    """
    out: dict[str, dict[Any, Any]] = {"items": {}, "taxonomies": {}}
    if client is None:
        return out

    def item(key: tuple[str, str]) -> tuple[tuple[str, str], JSON | None]:
        try:
            return key, client.item(key[0], key[1], wait_for_new_content=True, depth=0)
        except NotFoundError:
            return key, None

    def group(codename: str) -> tuple[str, JSON | None]:
        try:
            return codename, client.taxonomy(codename)
        except NotFoundError:
            return codename, None

    jobs = len(items) + len(taxonomies)
    if jobs == 1:
        if items:
            k, v = item(items[0])
            out["items"][k] = v
        else:
            c, g = group(taxonomies[0])
            out["taxonomies"][c] = g
        return out
    with ThreadPoolExecutor(max_workers=min(8, max(1, jobs))) as pool:
        for k, v in pool.map(item, items):
            out["items"][k] = v
        for c, g in pool.map(group, taxonomies):
            out["taxonomies"][c] = g
    return out


def build_site(
    config: Config,
    options: BuildOptions,
    *,
    changes_file: Path | None = None,
    transport: Any = None,
    log: Log = _quiet,
) -> BuildReport:
    """What ``kontent-ssg build`` runs: incremental when possible, full otherwise.

    ``changes_file`` holds a webhook body (either format): only what it names is refetched
    and re-rendered — for CI jobs triggered by a webhook.
    """
    changes: list[Change] | None = None
    if changes_file is not None:
        try:
            body = Path(changes_file).read_bytes()
        except OSError as exc:
            raise UsageError(f"--changes {changes_file}: cannot read: {exc}") from None
        try:
            changes = parse_webhook(body)
        except WebhookError as exc:
            raise UsageError(f"--changes {changes_file}: {exc.message}") from None
    with IncrementalBuilder(config, options, transport=transport, log=log) as builder:
        return builder.build(changes=changes)
