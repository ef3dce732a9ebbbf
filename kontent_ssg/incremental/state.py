"""The build state: which pages exist, what each one read, and what is still to do.

Stored in SQLite (stdlib ``sqlite3``, WAL mode) at ``SITE/.kontent-ssg/build/state.sqlite``
(``state-preview.sqlite`` for preview builds) so that it survives between runs and between a
crash and a restart:

* ``pages``: every written output file (path relative to the output folder, its URL, a hash of
  its bytes) with the dependency keys it recorded, as one sorted JSON list per page. "This
  changed, which pages must be re-rendered?" scans that column (about 30 ms at 10k pages),
  which is cheaper over a build's life than maintaining a reverse index: a 10k-page site has
  ~140k page-key pairs, and writing them as indexed rows cost a cold build 0.5 s, a third of
  the whole build-state write. A long-running process (receiver, ``serve``) keeps a reverse
  index in memory instead, from its second lookup on;
* ``meta``: the Sync API continuation token, the config and template fingerprints;
* ``content``: a fingerprint of every item variant, component, taxonomy group, type and
  language the current output was built from (``engine.py`` diffs a new crawl, an
  offline snapshot or a refetched item against it, field by field);
* ``problems``: the warnings and broken links each page met when it was last rendered (only
  pages that met some), and in ``meta`` those of the site plan (items without a page), so
  that every build reports, and ``--strict`` judges, the whole site, not only the pages it
  re-rendered;
* ``queue``: webhook notifications accepted (202) but not yet applied. A row is inserted and
  committed (``synchronous=FULL``) before the receiver answers, and marked done only after the
  rebuild it triggered succeeded, so a crash in between loses nothing.
* ``dead_letters``: queued notifications that failed for good (the receiver's worker decides,
  see ``server.NotificationWorker``), moved out of the queue so that they stop blocking it,
  with why; kept for ``/health`` and for a person to look at.

The dependency keys themselves are defined, with what makes each stale, in
:mod:`kontent_ssg.incremental.keys` (docs/INCREMENTAL.md shows the table).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..content.webhooks import Change, changes_from_json, changes_to_json
from ..errors import BuildError
from ..speed import ascii_json
from .fingerprints import ContentKey

__all__ = [
    "BuildState",
    "DeadLetter",
    "PageRecord",
    "Problems",
    "QueuedNotification",
    "is_corrupt",
    "state_path",
]

JSON = dict[str, Any]

SCHEMA_VERSION = "5"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    path TEXT PRIMARY KEY,
    url TEXT,
    hash TEXT NOT NULL,
    deps TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received REAL NOT NULL,
    slot TEXT NOT NULL,
    changes TEXT NOT NULL,
    done REAL
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (done, id);
CREATE TABLE IF NOT EXISTS problems (
    path TEXT PRIMARY KEY,
    warnings TEXT NOT NULL,
    broken_links TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS content (
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    codename TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (kind, language, codename)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Problems:
    """Warnings and broken links (the ``--report`` shapes) of a page or of the whole site."""

    warnings: tuple[str, ...] = ()
    broken_links: tuple[JSON, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.warnings or self.broken_links)


# Kept apart from _SCHEMA and outside SCHEMA_VERSION: like the queue, dead letters survive a
# change of the cache's layout, and an older state file simply gains the table.
_DEAD_LETTER_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received REAL NOT NULL,
    failed REAL NOT NULL,
    slot TEXT NOT NULL,
    changes TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""


def is_corrupt(exc: BaseException) -> bool:
    """``exc`` says the database file is damaged or not a database at all (not: locked, full,
    read-only — those are the disk's or another process's, and moving the file would not help)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and code is not None and code & 0xFF in (11, 26)


def state_path(state_dir: Path, *, preview: bool = False) -> Path:
    """Where the state of a site lives; preview builds keep their own."""
    name = "state-preview.sqlite" if preview else "state.sqlite"
    return Path(state_dir) / "build" / name


@dataclass(frozen=True)
class PageRecord:
    """One written output file."""

    path: str
    url: str | None
    hash: str


@dataclass(frozen=True)
class QueuedNotification:
    id: int
    received: float
    slot: str
    changes: list[Change]


@dataclass(frozen=True)
class DeadLetter:
    """A notification taken out of the queue because applying it failed for good."""

    id: int
    received: float
    failed: float
    slot: str
    changes: list[Change]
    attempts: int
    reason: str


class BuildState:
    """One site's build state. Safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        # A long-running process (the receiver, serve) asks dependants() again and again:
        # from the second lookup on it keeps the reverse index in memory (page -> keys and
        # key -> pages), updated by its own record() and dropped when another connection
        # writes (PRAGMA data_version changes).
        self._lookups = 0
        self._page_keys: dict[str, frozenset[str]] | None = None
        self._key_pages: dict[str, set[str]] = {}
        self._index_version = -1
        # Where a corrupt state file was moved (SQLITE_CORRUPT / SQLITE_NOTADB on opening it,
        # or on any later query: the builder then calls move_aside and builds afresh).
        self.moved_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if not is_corrupt(exc):
                    raise
                self.move_aside()
        except (OSError, sqlite3.Error) as exc:
            raise BuildError(
                f"cannot open the build state {self.path}: {exc}",
                hint="make .kontent-ssg/build writable for this user (or remove what is in "
                "the way): it holds the build state",
            ) from None

    def _open(self) -> None:
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        # 8 KiB pages for a new file (an existing one keeps its size): a page's dependency
        # list (1.6 KB on average, the sitemap's 400 KB) spills into fewer overflow pages.
        # Measured on the real-shaped 10k site's state: 100 -> 63 MB, and a full build's
        # write 0.75 -> 0.49 s of CPU.
        self._db.execute("PRAGMA page_size=8192")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.executescript(_DEAD_LETTER_SCHEMA)
        schema = self.get_meta("schema")
        if schema is not None and schema != SCHEMA_VERSION:
            # The state is a cache of the last build: an old layout is dropped, and the next
            # build is a full one. Pending notifications are kept.
            with self._tx() as db:
                for table in ("deps", "keys", "pages", "problems", "content", "meta"):
                    db.execute(f"DROP TABLE IF EXISTS {table}")
            self._db.executescript(_SCHEMA)
            schema = None
        if schema is None:
            self.set_meta("schema", SCHEMA_VERSION)

    def move_aside(self) -> Path:
        """Move a corrupt state file (and its WAL) to ``<name>.corrupt-<time>``; start empty.

        The state is a cache of the last build, so the next build is simply a full one; only
        the notifications still queued in it are lost."""
        with self._lock:
            db = getattr(self, "_db", None)
            if db is not None:
                db.close()
            stamp = time.strftime("%Y%m%dT%H%M%S")
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            n = 1
            while os.path.lexists(target):
                n += 1
                target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            for suffix in ("", "-wal", "-shm"):
                if os.path.lexists(f"{self.path}{suffix}"):
                    os.replace(f"{self.path}{suffix}", f"{target}{suffix}")
            self._lookups = 0
            self._page_keys = None
            self._open()
            self.moved_aside = target
        return target

    def check(self) -> None:
        """Read every page of the file (``PRAGMA quick_check``: ~30 ms at 10k pages, so only
        before a full build replaces the state); a damaged one raises SQLITE_CORRUPT."""
        with self._lock:
            rows = self._db.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            exc = sqlite3.DatabaseError(f"database disk image is malformed: {rows[0][0]}")
            exc.sqlite_errorcode = 11  # type: ignore[attr-defined]
            raise exc

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none.

        ``durable`` transactions (the notification queue) are on disk when they return,
        even across a power cut (``synchronous=FULL``); the rest of the state is a cache of
        the output and may lose its last transaction then (``NORMAL``: still atomic, never
        corrupt), which only costs a larger rebuild.
        """
        with self._lock:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> BuildState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._tx() as db:
            _write_meta(db, key, value)

    @property
    def sync_token(self) -> str | None:
        """The Sync API v2 continuation token of the last successful build."""
        return self.get_meta("sync_token")

    @sync_token.setter
    def sync_token(self, token: str | None) -> None:
        self.set_meta("sync_token", token)

    # -- pages and dependencies -----------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True before the first successful build (no pages recorded)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM pages LIMIT 1").fetchone() is None

    def pages(self) -> dict[str, PageRecord]:
        with self._lock:
            rows = self._db.execute("SELECT path, url, hash FROM pages").fetchall()
        return {r[0]: PageRecord(r[0], r[1], r[2]) for r in rows}

    def page_paths(self) -> set[str]:
        """Every recorded output path (cheaper than :meth:`pages`)."""
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT path FROM pages").fetchall()}

    def page(self, path: str) -> PageRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT path, url, hash FROM pages WHERE path = ?", (path,)
            ).fetchone()
        return PageRecord(*row) if row else None

    def deps_of(self, page: str) -> set[str]:
        with self._lock:
            row = self._db.execute("SELECT deps FROM pages WHERE path = ?", (page,)).fetchone()
        return set(json.loads(row[0])) if row else set()

    def keys_of_kind(self, kind: str) -> dict[str, set[str]]:
        """Page path -> its recorded keys of ``kind`` (pages that recorded some), in one read."""
        needle = f'"{kind}:'
        prefix = f"{kind}:"
        with self._lock:
            rows = self._db.execute("SELECT path, deps FROM pages").fetchall()
        out: dict[str, set[str]] = {}
        for path, deps in rows:
            if needle in deps:
                out[path] = {k for k in json.loads(deps) if k.startswith(prefix)}
        return out

    def record(
        self,
        pages: Iterable[tuple[PageRecord, Iterable[str]]],
        *,
        deleted: Iterable[str] = (),
        meta: dict[str, str | None] | None = None,
        content: dict[ContentKey, str | None] | None = None,
        problems: Mapping[str, Problems] | None = None,
        replace: bool = False,
    ) -> None:
        """Store rendered pages with their dependencies, forget deleted ones, in one step.

        A page's previous dependencies and problems are replaced, not merged: what it reads
        (and meets) now is what it depends on now. ``problems`` holds those of the recorded
        pages that met some. ``content`` upserts (or, for None, deletes) content
        fingerprints; ``replace`` first forgets every page and fingerprint (a full build).
        """
        content = content or {}
        problems = problems or {}
        deleted = list(deleted)
        recorded = {rec.path: (rec, tuple(keys)) for rec, keys in pages}
        with self._lock:
            # A page whose keys the in-memory index holds already (and that no other
            # connection changed since) keeps its stored ones: a term page re-rendered after a
            # title change reads what it read before, 3,000 keys at 100k items, which cost
            # sorting, encoding and writing again on every webhook rebuild.
            index = self._page_keys
            if index is not None and (
                replace
                or self._db.execute("PRAGMA data_version").fetchone()[0] != self._index_version
            ):
                index = None
            went = set(deleted)
            same = {
                path: (rec.url, rec.hash, path)
                for path, (rec, keys) in recorded.items()
                if index is not None and path not in went and index.get(path) == frozenset(keys)
            }
            rows = {
                path: (path, rec.url, rec.hash, ascii_json(sorted(keys)))
                for path, (rec, keys) in recorded.items()
                if path not in same
            }
            with self._tx() as db:
                if replace:
                    db.execute("DELETE FROM pages")
                    db.execute("DELETE FROM problems")
                    db.execute("DELETE FROM content")
                else:
                    db.executemany(
                        "DELETE FROM problems WHERE path = ?",
                        ((path,) for path in [*deleted, *recorded] if not problems.get(path)),
                    )
                db.executemany(
                    "DELETE FROM content WHERE kind = ? AND language = ? AND codename = ?",
                    (ckey for ckey, row in content.items() if row is None),
                )
                # In key order, like the pages: inserts append to the table's B-tree instead
                # of splitting pages all over it (a full build's 140k rows at 10k items).
                # Sorted by one string per key (the parts never hold NUL, so the order is
                # the tuples'): a third of the time of comparing the tuples part by part.
                db.executemany(
                    "INSERT INTO content (kind, language, codename, row) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(kind, language, codename) DO UPDATE SET row = excluded.row",
                    (
                        (*ckey, content[ckey])
                        for ckey in sorted(content, key="\0".join)
                        if content[ckey] is not None
                    ),
                )
                db.executemany("DELETE FROM pages WHERE path = ?", ((path,) for path in deleted))
                # In key order: a full build appends to the table's B-tree.
                db.executemany(
                    "INSERT INTO pages (path, url, hash, deps) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET "
                    "url = excluded.url, hash = excluded.hash, deps = excluded.deps",
                    (rows[path] for path in sorted(rows)),
                )
                db.executemany(
                    "UPDATE pages SET url = ?, hash = ? WHERE path = ?",
                    (same[path] for path in sorted(same)),
                )
                db.executemany(
                    "INSERT INTO problems (path, warnings, broken_links) VALUES (?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET "
                    "warnings = excluded.warnings, broken_links = excluded.broken_links",
                    (
                        (path, _compact(list(p.warnings)), _compact(list(p.broken_links)))
                        for path, p in sorted(problems.items())
                        if p
                    ),
                )
                for key, value in (meta or {}).items():
                    _write_meta(db, key, value)
            self._update_index(
                {path: keys for path, (_, keys) in recorded.items()}, deleted, replace
            )

    def _update_index(
        self, recorded: dict[str, tuple[str, ...]], deleted: list[str], replace: bool
    ) -> None:
        """Keep the in-memory reverse index (if any) in step with what was just committed."""
        if self._page_keys is None:
            return
        if replace:
            self._page_keys = None
            return
        for path in deleted:
            self._unindex(path)
        for path, given in recorded.items():
            keys = frozenset(given)
            if self._page_keys.get(path) == keys:
                continue  # the usual case (the sitemap's ~14k keys at 10k items, every rebuild)
            self._unindex(path)
            self._index(path, keys)

    def content(self, keys: Iterable[ContentKey] | None = None) -> dict[ContentKey, str]:
        """Stored content fingerprints: all of them, or those of ``keys`` that exist."""
        with self._lock:
            wanted = None if keys is None else set(keys)
            if wanted is None or len(wanted) > 2000:  # one query, not one per key
                rows = self._db.execute("SELECT kind, language, codename, row FROM content")
                every = {(r[0], r[1], r[2]): r[3] for r in rows.fetchall()}
                if wanted is None:
                    return every
                return {key: every[key] for key in wanted if key in every}
            out: dict[ContentKey, str] = {}
            for key in wanted:
                row = self._db.execute(
                    "SELECT row FROM content WHERE kind = ? AND language = ? AND codename = ?",
                    key,
                ).fetchone()
                if row is not None:
                    out[key] = row[0]
            return out

    def content_digests(self) -> dict[ContentKey, str]:
        """The digest of the bytes each stored item variant and component fingerprint was
        made from (see ``fingerprints.changed_rows``), read without decoding a row: a
        component's is its hash, the first value of its row; an item's the last, when the
        row has one ("" when not: never a digest, so that item is fingerprinted again).
        Every stored item and component is named; other content is not."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, language, codename, "
                "CASE WHEN kind = 'component' THEN substr(row, 3, 16) "
                "WHEN row LIKE '%\"]' THEN substr(row, -18, 16) ELSE '' END "
                "FROM content WHERE kind IN ('item', 'component')"
            ).fetchall()
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    def problems(self) -> dict[str, Problems]:
        """Every page's recorded problems (pages that met none are absent), by path."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, warnings, broken_links FROM problems ORDER BY path"
            ).fetchall()
        return {path: Problems(tuple(json.loads(w)), tuple(json.loads(b))) for path, w, b in rows}

    def reset(self) -> None:
        """Forget every page and dependency (before a full build replaces them)."""
        with self._tx() as db:
            db.execute("DELETE FROM pages")
            db.execute("DELETE FROM problems")
            db.execute("DELETE FROM content")
            self._page_keys = None

    def dependants(self, keys: Iterable[str]) -> set[str]:
        """Every page that recorded one of ``keys``."""
        wanted = set(keys)
        if not wanted:
            return set()
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if self._page_keys is not None and version != self._index_version:
                self._page_keys = None  # another connection changed the pages
            self._lookups += 1
            if self._page_keys is None and self._lookups > 1:
                self._load_index(version)
            if self._page_keys is not None:
                found: set[str] = set()
                for key in wanted:
                    found |= self._key_pages.get(key, set())
                return found
            rows = self._db.execute("SELECT path, deps FROM pages").fetchall()
        # One lookup (a command-line build): reading the column beats building an index.
        loads = json.loads
        if len(wanted) <= 8:
            # A key's JSON string in the page's JSON list is a cheap necessary condition
            # (json.loads then drops the rare match of one key inside another).
            needles = [ascii_json(key) for key in wanted]
            rows = [(path, deps) for path, deps in rows if any(n in deps for n in needles)]
        return {path for path, deps in rows if not wanted.isdisjoint(loads(deps))}

    def keep_index(self) -> None:
        """Build the reverse index now and keep it (a long-running process, before its first
        lookup: about a second at 10k real-shaped pages, better spent before the first webhook
        than after it)."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if self._page_keys is None or version != self._index_version:
                self._load_index(version)
            self._lookups = max(self._lookups, 1)

    def _load_index(self, version: int) -> None:
        self._page_keys, self._key_pages = {}, {}
        for path, deps in self._db.execute("SELECT path, deps FROM pages"):
            self._index(path, frozenset(json.loads(deps)))
        self._index_version = version

    def _index(self, path: str, keys: frozenset[str]) -> None:
        assert self._page_keys is not None
        self._page_keys[path] = keys
        for key in keys:
            pages = self._key_pages.get(key)
            if pages is None:
                self._key_pages[key] = {path}
            else:
                pages.add(path)

    def _unindex(self, path: str) -> None:
        assert self._page_keys is not None
        for key in self._page_keys.pop(path, ()):
            pages = self._key_pages.get(key)
            if pages is not None:
                pages.discard(path)
                if not pages:
                    del self._key_pages[key]

    # -- the notification queue ----------------------------------------------------------

    def enqueue(self, changes: list[Change], slot: str = "published") -> int:
        """Durably queue one accepted notification; returns its id. Commit happens here."""
        with self._tx(durable=True) as db:
            cur = db.execute(
                "INSERT INTO queue (received, slot, changes) VALUES (?, ?, ?)",
                (time.time(), slot, changes_to_json(changes)),
            )
            return int(cur.lastrowid or 0)

    def pending(self, slot: str | None = None) -> list[QueuedNotification]:
        """Notifications not yet applied, oldest first."""
        sql = "SELECT id, received, slot, changes FROM queue WHERE done IS NULL"
        args: tuple[str, ...] = ()
        if slot is not None:
            sql += " AND slot = ?"
            args = (slot,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [QueuedNotification(r[0], r[1], r[2], changes_from_json(r[3])) for r in rows]

    def mark_done(self, ids: Iterable[int]) -> None:
        """Mark notifications applied (after their rebuild succeeded); prune old done rows."""
        now = time.time()
        with self._tx(durable=True) as db:
            db.executemany("UPDATE queue SET done = ? WHERE id = ?", ((now, i) for i in ids))
            db.execute("DELETE FROM queue WHERE done IS NOT NULL AND done < ?", (now - 86400,))

    def queue_counts(self) -> dict[str, int]:
        with self._lock:
            pending = self._db.execute("SELECT COUNT(*) FROM queue WHERE done IS NULL")
            done = self._db.execute("SELECT COUNT(*) FROM queue WHERE done IS NOT NULL")
            return {"pending": pending.fetchone()[0], "done": done.fetchone()[0]}

    # -- dead letters ---------------------------------------------------------------------

    def dead_letter(self, notification_id: int, reason: str, attempts: int) -> bool:
        """Move a pending notification to the dead letters, durably; False if not pending."""
        with self._tx(durable=True) as db:
            row = db.execute(
                "SELECT received, slot, changes FROM queue WHERE id = ? AND done IS NULL",
                (notification_id,),
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "INSERT OR REPLACE INTO dead_letters "
                "(id, received, failed, slot, changes, attempts, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (notification_id, row[0], time.time(), row[1], row[2], attempts, reason),
            )
            db.execute("DELETE FROM queue WHERE id = ?", (notification_id,))
            return True

    def dead_letters(self, limit: int | None = None) -> list[DeadLetter]:
        """Dead letters, the most recent first (at most ``limit``)."""
        sql = (
            "SELECT id, received, failed, slot, changes, attempts, reason FROM dead_letters "
            "ORDER BY failed DESC, id DESC"
        )
        with self._lock:
            if limit is None:
                rows = self._db.execute(sql).fetchall()
            else:
                rows = self._db.execute(sql + " LIMIT ?", (limit,)).fetchall()
        return [
            DeadLetter(r[0], r[1], r[2], r[3], changes_from_json(r[4]), r[5], r[6]) for r in rows
        ]

    def dead_letter_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])


def _write_meta(db: sqlite3.Connection, key: str, value: str | None) -> None:
    """Set one meta entry inside the caller's transaction; None removes it."""
    if value is None:
        db.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
