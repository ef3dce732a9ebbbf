"""Incremental builds: from "this changed" to the dependency keys it makes stale.

The build pipeline (:mod:`kontent_ssg.builder.pipeline`) asks :class:`ContentTracker` one
question per build — what is the content now, and how does it differ from what the current
output was built from? — and gets a :class:`Delta`. Everything else (planning, choosing the
pages, rendering, publishing, recording) is the pipeline's, the same for every build.

1. **Can it be incremental?** Only when build state exists, the previous output is there and
   nothing global changed (``kontent.toml``, kontent-ssg's code, the set of template names,
   the output folder). Otherwise: a full build, which records everything afresh.
2. **What changed?** One of: the webhook notifications (the receiver, ``--changes FILE``), the
   Sync API v2 deltas since the stored token, or a full crawl (or ``--offline`` snapshot)
   diffed against the stored content fingerprints. Items and taxonomy groups named by a
   notification or delta are refetched (``X-KC-Wait-For-Loading-New-Content: true``); content
   types, languages, assets and unknown objects mean a full re-crawl.
3. **Which dependency keys?** Comparing old and new fingerprints row by row
   (:func:`~kontent_ssg.incremental.keys.keys_for_change`), plus ``template:<name>`` for every
   changed template; a content-model change means a full build.

See docs/INCREMENTAL.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..content.snapshot import (
    LanguageItems,
    LoggedChange,
    Snapshot,
    append_changes,
    atomic_write_bytes,
    check_item,
    compact_changes,
    load_snapshot,
    put_item,
    snapshot_files_digest,
)
from ..content.webhooks import Change, changes_from_sync
from ..errors import DeliveryError, NetworkError, NotFoundError, UsageError, WebhookError
from ..progress import Progress
from ..site.plan import plan_fields
from . import keys
from .fingerprints import (
    ContentKey,
    Row,
    changed_rows,
    component_row,
    global_fingerprint,
    item_row,
    opaque_row,
    static_stamp,
    template_hashes,
)
from .keys import StructuralChange, keys_for_change
from .state import BuildState

__all__ = ["ContentTracker", "Delta"]

JSON = dict[str, Any]

# Object kinds whose change can reshape every page: a full re-crawl (then a diff decides).
RECRAWL_KINDS = frozenset({"type", "language", "asset", "unknown"})

Log = Callable[[str], None]

# Above this many items tagged from a changed taxonomy group, re-crawl instead of refetching.
MAX_TAGGED_REFETCH = 100


def _quiet(message: str) -> None:
    return None


@dataclass
class Delta:
    """What a build starts from: the content, and how it differs from the last build's.

    ``full`` says why every page must be rendered (None: only the dependants of ``keys``).
    ``content`` holds the fingerprint updates an incremental build records. ``patch`` names
    the (codename, language) item variants of a change that cannot alter the site plan, so
    the previous plan may be patched instead of recomputed. ``stamp`` is the saved snapshot's
    digest when ``snapshot`` is exactly what is on disk.
    """

    snapshot: Snapshot | None
    requests: int = 0
    full: str | None = None
    keys: set[str] = field(default_factory=set)
    content: dict[ContentKey, str | None] = field(default_factory=dict)
    sync_token: str | None = None
    stamp: str | None = None
    patch: set[tuple[str, str]] | None = None
    persist: tuple[list[tuple[str, str, str]], bool] | None = None

    @property
    def nothing(self) -> bool:
        """Nothing changed: no page to render, no file to touch."""
        return self.snapshot is None


class ContentTracker:
    """Knows the content the output was built from and finds what changed since.

    Keeps the content in memory between rebuilds, so a long-running receiver applies a
    webhook without re-reading the snapshot, and saves what changed back to the snapshot in
    the background. ``lock`` is the build's lock (the background saver takes it to copy
    consistent parts). ``transport`` lets tests swap the network.
    """

    def __init__(
        self,
        config: Config,
        state: BuildState,
        *,
        preview: bool = False,
        offline: bool = False,
        lock: threading.RLock | None = None,
        transport: Any = None,
        log: Log = _quiet,
        progress: Progress | None = None,
        readers: int = 1,
    ) -> None:
        self.config = config
        self.state = state
        self.preview = preview
        self.offline = offline
        self.slot = "preview" if preview else "published"
        self.lock = lock or threading.RLock()
        self.transport = transport
        self.log = log
        self.snapshot: Snapshot | None = None
        self.progress = progress or Progress()
        self.readers = readers  # processes that may read the snapshot's files (load_snapshot)
        self._client: Any = None
        self._dead_hosts: Any = None  # delivery.DeadHosts of this build (imported lazily)
        self._persister = _Persister(self)

    def close(self) -> None:
        self._persister.close()
        if self._client is not None:
            self._client.close()
            self._client = None

    def client(self) -> Any:
        if self.offline:
            raise UsageError(
                "this change needs the Delivery API, but the build is --offline",
                hint="run without --offline (or `kontent-ssg pull` first, then build offline)",
            )
        if self._client is None:
            from ..content.delivery import client_for

            self._client = client_for(self.config, preview=self.preview, **self._network())
        return self._client

    def network(self) -> dict[str, Any]:
        """The transport, retry notices and dead-host memory every client of this build
        shares (asset downloads too)."""
        return self._network()

    def _network(self) -> dict[str, Any]:
        """What every client of this build shares: the transport, the progress line that
        hears of each retry, and the hosts that proved dead during this build."""
        from ..content.delivery import DeadHosts

        if self._dead_hosts is None:
            self._dead_hosts = DeadHosts()
        return {
            "transport": self.transport,
            "on_retry": lambda notice: self.progress.waiting(str(notice)),
            "dead_hosts": self._dead_hosts,
        }

    def _crawl(self) -> tuple[Snapshot, int]:
        """A fresh crawl, its items per language on the progress line as they arrive."""
        from ..content.delivery import obtain_snapshot

        def feed(event: Any) -> None:
            self.progress.items(event.language, event.items, event.done)

        return obtain_snapshot(self.config, preview=self.preview, progress=feed, **self._network())

    @property
    def snapshot_dir(self) -> Path:
        # ``delivery.snapshot_dir_for``, without importing ``delivery`` (and httpx, ~0.1 s)
        # into an offline build that never crawls.
        if self.preview:
            return self.config.state_dir / "snapshot-preview"
        return self.config.snapshot_dir

    # -- the question ------------------------------------------------------------------------

    def delta(
        self,
        changes: list[Change] | None,
        *,
        full: str | None,
        poll: bool = True,
    ) -> Delta:
        """The content now and what changed since the last build.

        ``full`` is the caller's reason for a full build (``--full``, the output or the global
        fingerprints changed), or None to allow an incremental one. ``changes`` are webhook
        notifications to apply; without them, ``poll`` asks the Sync API (or crawls and
        diffs, or diffs the saved snapshot when offline).
        """
        if self._dead_hosts is not None:
            self._dead_hosts.clear()  # a host down during the last rebuild may be back
        reason = full or self._state_reason()
        if reason is not None:
            self.log(f"full build: {reason}")
            return self.full(reason)
        if changes is not None or not poll:
            return self._apply(changes or [])
        if self.offline:
            self._persister.flush()
            # The saved snapshot is exactly what the last build was made from, and no
            # template or static file changed: nothing to load, diff or plan.
            stamp = snapshot_files_digest(self.snapshot_dir)
            if (
                stamp is not None
                and stamp == self.state.get_meta("snapshot")
                and self.state.get_meta("static") == static_stamp(self.config)
                and not self.template_keys()
            ):
                return self._nothing(0, None)
            return self._diff_snapshot(load_snapshot(self.snapshot_dir), 0, stamp=stamp)
        token = self.state.sync_token
        if token:
            try:
                synced, new_token, requests = self._sync(token)
            except NetworkError:
                raise  # the API is unreachable: a crawl would not fare better
            except (DeliveryError, WebhookError) as exc:
                self.log(f"Sync API unavailable ({exc}); crawling and diffing instead")
            else:
                return self._apply(synced, sync_token=new_token, requests=requests)
        return self._crawl_and_diff()

    def _state_reason(self) -> str | None:
        if not (self.snapshot_dir / "manifest.json").is_file():
            return "no stored content snapshot"
        return None

    def full(
        self,
        reason: str,
        snapshot: Snapshot | None = None,
        requests: int = 0,
        stamp: str | None = None,
    ) -> Delta:
        """Everything: the saved snapshot (offline), a fresh crawl, or ``snapshot``."""
        token: str | None
        if snapshot is None:
            self._persister.flush()
            token = None
            if self.offline:
                # Hashing the files (a thread: hashlib and file reads let go of the
                # interpreter lock) overlaps with parsing them.
                with ThreadPoolExecutor(1) as pool:
                    digest = pool.submit(snapshot_files_digest, self.snapshot_dir)
                    snapshot = load_snapshot(self.snapshot_dir, readers=self.readers)
                    stamp = digest.result()
            else:
                token = self._sync_init()
                snapshot, requests = self._crawl()
                if token is not None:
                    requests += 1
        else:
            token = self.state.sync_token
        self._persister.cancel()
        self.snapshot = snapshot
        return Delta(snapshot, requests, full=reason, sync_token=token, stamp=stamp)

    def template_keys(self) -> set[str]:
        """``template:<name>`` of every template added, removed or edited since the last build."""
        old = json.loads(self.state.get_meta("templates") or "{}")
        new = template_hashes(self.config)
        return {
            keys.template(name) for name in set(old) | set(new) if old.get(name) != new.get(name)
        }

    def meta(self, delta: Delta, output_dir: Path) -> dict[str, str | None]:
        """The build state's meta entries after ``delta`` was built into ``output_dir``."""
        meta: dict[str, str | None] = {
            "global": global_fingerprint(self.config, output_dir, self.preview),
            "templates": json.dumps(template_hashes(self.config)),
            "static": static_stamp(self.config),
            "snapshot": delta.stamp,
            "last_build": "incremental" if delta.full is None else "full",
        }
        if delta.full is not None or delta.sync_token is not None:
            meta["sync_token"] = delta.sync_token
        return meta

    def global_changed(self, output_dir: Path) -> bool:
        """Config, code, template names or output folder differ from the last build's."""
        stored = self.state.get_meta("global")
        return stored != global_fingerprint(self.config, output_dir, self.preview)

    def built(self, delta: Delta) -> None:
        """The pipeline published and recorded ``delta``: save what changed in the background
        (the values are taken now, in the order they changed, so that the log replays to this
        very snapshot)."""
        if delta.persist is not None and self.snapshot is not None:
            touched, taxonomies = delta.persist
            snapshot = self.snapshot
            logged = [_logged(snapshot, *key) for key in touched]
            self._persister.request([c for c in logged if c is not None], taxonomies)

    # -- what changed ------------------------------------------------------------------------

    def _sync_init(self) -> str | None:
        """A Sync API token taken *before* the crawl (so nothing slips between), if any."""
        if self.offline:
            return None
        try:
            return str(self.client().sync_init())
        except NetworkError:
            raise  # the API is unreachable: a crawl would not fare better
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

    def _crawl_and_diff(self, sync_token: str | None = None) -> Delta:
        token = sync_token or self._sync_init()
        snapshot, requests = self._crawl()
        return self._diff_snapshot(snapshot, requests, sync_token=token)

    def _diff_snapshot(
        self,
        snapshot: Snapshot,
        requests: int,
        *,
        sync_token: str | None = None,
        stamp: str | None = None,
    ) -> Delta:
        """Diff a whole snapshot against the stored fingerprints: only content whose bytes
        are not those the stored fingerprint was made from is fingerprinted and compared."""
        new_rows, gone = changed_rows(snapshot, self.state.content_digests())
        keys = gone | new_rows.keys()
        old_rows = {k: Row.from_json(v) for k, v in self.state.content(keys).items()}
        try:
            stale, updates = diff_rows(old_rows, new_rows, keys)
        except StructuralChange as exc:
            self.log(f"full build: {exc}")
            delta = self.full(str(exc), snapshot, requests, stamp)
            if sync_token is not None:
                delta.sync_token = sync_token
            return delta
        self._persister.cancel()  # this snapshot is already on disk
        self.snapshot = snapshot
        return Delta(
            snapshot,
            requests,
            keys=stale | self.template_keys(),
            content=updates,
            sync_token=sync_token,
            stamp=stamp,
        )

    def warm(self) -> Snapshot | None:
        """The content the output was built from, read now (a long-running process, before
        its first rebuild); None when there is none yet."""
        if self._state_reason() is not None or self.state.is_empty:
            return None
        return self._current_snapshot()

    def _current_snapshot(self) -> Snapshot:
        if self.snapshot is None:
            self.snapshot = load_snapshot(self.snapshot_dir)
        return self.snapshot

    def _apply(
        self,
        changes: list[Change],
        *,
        sync_token: str | None = None,
        requests: int = 0,
    ) -> Delta:
        """Refetch what notifications (or Sync API deltas) name; diff it."""
        changes = [c for c in changes if c.slot == self.slot]
        template_keys = self.template_keys()
        if (
            not changes
            and not template_keys
            and self.state.get_meta("static") == static_stamp(self.config)
        ):
            return self._nothing(requests, sync_token)
        snapshot = self._current_snapshot()
        languages = list(snapshot.items)
        ids: dict[str, str] | None = None  # item id -> codename, for legacy bodies only
        if any(c.kind in RECRAWL_KINDS for c in changes):
            return self._crawl_and_diff(sync_token)
        items: dict[str, set[str]] = {}
        taxonomies: set[str] = set()
        for change in changes:
            if change.kind == "taxonomy" and change.codename:
                taxonomies.add(change.codename)
            elif change.kind == "item":
                codename = change.codename
                if not codename:
                    ids = ids if ids is not None else _id_index(snapshot)
                    codename = ids.get(change.item_id or "")
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
        # (kind, language, codename) to persist, in the order they were changed
        touched: list[tuple[str, str, str]] = []
        new_rows: dict[ContentKey, Row] = {}
        row_keys: set[ContentKey] = set()
        for (codename, language), answer in fetched["items"].items():
            lang_items = snapshot.items.setdefault(language, LanguageItems())
            raw = answer["item"] if answer is not None else None
            components = (answer or {}).get("modular_content") or {}
            filed = codename
            if raw is not None and raw["system"].get("codename") != codename:
                # Filed under the codename the API gives, never the notification's: what
                # was asked for is gone from this API as far as this build can tell.
                put_item(lang_items.items, codename, None)
                row_keys.add(("item", language, codename))
                touched.append(("item", language, codename))
                filed = str(raw["system"]["codename"])
            put_item(lang_items.items, filed, raw)
            lang_items.modular_content.update(components)
            touched.append(("item", language, filed))
            touched.extend(("component", language, cname) for cname in components)
            row_keys.add(("item", language, filed))
            if raw is not None:
                data = lang_items.items.raw_of(filed)
                new_rows[("item", language, filed)] = item_row(raw, language, data)
            for cname in components:
                data = lang_items.modular_content.raw(cname)
                assert data is not None
                row_keys.add(("component", language, cname))
                new_rows[("component", language, cname)] = component_row(data)
        for codename, group in fetched["taxonomies"].items():
            snapshot.taxonomies = [
                t for t in snapshot.taxonomies if t["system"]["codename"] != codename
            ]
            if group is not None:
                snapshot.taxonomies.append(group)
                new_rows[("taxonomy", "", codename)] = opaque_row(group)
            row_keys.add(("taxonomy", "", codename))
        old_rows = {k: Row.from_json(v) for k, v in self.state.content(row_keys).items()}
        stale, updates = diff_rows(old_rows, new_rows, row_keys)
        requests += (client.requests - before) if client is not None else 0
        neutral = all(self._plan_neutral(k, old_rows.get(k), new_rows.get(k)) for k in updates)
        return Delta(
            snapshot,
            requests,
            keys=stale | template_keys,
            content=updates,
            sync_token=sync_token,
            persist=(touched, bool(fetched["taxonomies"])),
            patch={(k[2], k[1]) for k in updates if k[0] == "item"} if neutral else None,
        )

    def current(self, requests: int = 0) -> Delta:
        """The content as it is, with nothing changed: for a build that has work of its own
        (assets the last build could not download)."""
        return Delta(self._current_snapshot(), requests)

    def _nothing(self, requests: int, sync_token: str | None) -> Delta:
        """Nothing changed: no snapshot to load, no page to render, no file to touch."""
        if sync_token is not None and sync_token != self.state.sync_token:
            self.state.sync_token = sync_token
        self.log("incremental: nothing changed")
        return Delta(None, requests)

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
        relevant = plan_fields(self.config, new.type)
        relevant |= set(old.taxonomy_fields) | set(new.taxonomy_fields)
        return not (changed & relevant)


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
# Keeping the saved snapshot in step, and refetching


class _Persister:
    """Saves what rebuilds changed in the in-memory snapshot, in the background.

    The changed item variants and components are appended to the snapshot's change log
    (:func:`~kontent_ssg.content.snapshot.append_changes`: a few kB, not the 124 MB language
    files of a 10k real-shaped site); once the log outgrows a quarter of the language files
    it is folded into them. Writing after the pages are written, off the rebuild's path, keeps
    webhook latency low. A crash before it runs loses nothing that matters: the state's
    content fingerprints are what the output was built from, and the next (catch-up) build
    diffs against them.
    """

    def __init__(self, owner: ContentTracker) -> None:
        self.owner = owner
        self.changed: list[LoggedChange] = []
        self.taxonomies = False
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = False
        self.thread: threading.Thread | None = None

    def request(self, changed: list[LoggedChange], taxonomies: bool) -> None:
        with self.lock:
            self.changed.extend(changed)
            self.taxonomies = self.taxonomies or taxonomies
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="kontent-ssg-persist", daemon=True
                )
                self.thread.start()
        self.wake.set()

    def cancel(self) -> None:
        with self.lock:
            self.changed.clear()
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
            changed, taxonomies = self.changed, self.taxonomies
            self.changed = []
            self.taxonomies = False
        if not changed and not taxonomies:
            return
        owner = self.owner
        folder = owner.snapshot_dir
        if taxonomies:
            with owner.lock:
                if owner.snapshot is None:
                    return
                groups = list(owner.snapshot.taxonomies)
            _write_json(folder / "taxonomies.json", groups)
        size = append_changes(folder, changed)
        files = sum(path.stat().st_size for path in (folder / "items").glob("*.json"))
        if size > max(COMPACT_MIN, COMPACT_RATIO * files):
            with owner.lock:  # shallow copies, written outside the lock
                snapshot = owner.snapshot
                if snapshot is None:
                    return
                copy = Snapshot(
                    snapshot.default_language,
                    items={
                        language: LanguageItems(
                            lang_items.items.copy(), lang_items.modular_content.copy()
                        )
                        for language, lang_items in snapshot.items.items()
                    },
                )
            compact_changes(copy, folder)

    def close(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(30)
        self.flush()


# The change log is folded into the language files once it is this share of their size
# (and at least COMPACT_MIN bytes): replaying it then costs a fraction of reading the files.
COMPACT_RATIO = 0.25
COMPACT_MIN = 4 << 20


def _logged(snapshot: Snapshot, kind: str, language: str, codename: str) -> LoggedChange | None:
    """The change-log line for what ``snapshot`` holds now under ``(kind, language, codename)``."""
    lang_items = snapshot.items.get(language)
    if lang_items is None:
        return None
    if kind == "component":
        data = lang_items.modular_content.raw(codename)
        if data is None:
            return None
        return LoggedChange(language, "component", codename, data)
    return LoggedChange(language, "item", codename, lang_items.items.raw_of(codename))


def _write_json(path: Path, value: Any) -> None:
    """Compact JSON (the C encoder: several times faster than indented output)."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    atomic_write_bytes(path, data.encode("utf-8"))


def _id_index(snapshot: Snapshot) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang_items in snapshot.items.values():
        for summary in lang_items.items.summaries():
            system = summary.light["system"]
            out[system["id"]] = system["codename"]
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
        items = snapshot.items[language].items
        at = items.find(codename)
        current = items.summary(at).light if at is not None else None
        if current is None or current["system"].get("language") != language:
            out.append(language)
    return out


def _tagged_items(snapshot: Snapshot, groups: set[str]) -> set[tuple[str, str]]:
    """(codename, language) of every item variant with terms from one of ``groups``."""
    found: set[tuple[str, str]] = set()
    if not groups:
        return found
    for language, lang_items in snapshot.items.items():
        for summary in lang_items.items.summaries():  # they keep the taxonomy elements
            raw = summary.light
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
            answer = client.item(key[0], key[1], wait_for_new_content=True, depth=0)
        except NotFoundError:
            return key, None
        where = f"GET items/{key[0]}?language={key[1]}"
        check_item(answer["item"], where)
        for component in (answer.get("modular_content") or {}).values():
            check_item(component, f"{where} (modular_content)", component=True)
        return key, answer

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
