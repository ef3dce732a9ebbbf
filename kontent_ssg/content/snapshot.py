"""The crawled content: the snapshot on disk and the in-memory store with lookups.

A snapshot is a folder (documented in docs/SNAPSHOT.md); it is what ``pull`` writes and what
``build --offline`` reads::

    manifest.json        {"format": 1, "default_language": "en-US",
                          "languages": ["en-US", "es-ES"]}      # other keys are ignored
    languages.json       [language objects, as /languages returns them]
    types.json           [content type objects, as /types returns them]
    taxonomies.json      [taxonomy groups, as /taxonomies returns them]
    items/<language>.json {"items": [...], "modular_content": {...}}
                         # the items-feed for that language, every page merged: items in feed
                         # order (fallback variants included, system.language tells), and the
                         # components (only components: the feed's modular_content)

Raw Delivery API JSON is kept as it came, so a snapshot can be served back byte-for-byte in
meaning. Secrets are never part of it.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
import pickle
import re
import signal
import sys
import tempfile
import threading
from array import array
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ..errors import SnapshotError
from ..forking import die_with_parent
from ..speed import gc_paused

_decode_json = msgspec.json.Decoder().decode


def loads_json(data: bytes) -> Any:
    """Parse a JSON document: with msgspec, about 2.4x faster than the ``json`` module on a
    snapshot's item files (the same values: dicts, lists, str, int, float, bool, None).
    msgspec refuses a few things ``json`` accepts (a UTF-8 byte order mark, unpaired
    surrogate escapes such as ``"\\ud800"``, ``NaN``, numbers beyond float range); those, and
    malformed JSON, go to ``json``, which parses them or raises its worded ``ValueError``.
    Unpaired surrogates become U+FFFD (no UTF-8 file could hold them), and JSON nested too
    deeply to parse is a ``ValueError`` too."""
    try:
        return _decode_json(data)
    except ValueError:  # msgspec.DecodeError is one
        pass
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return _without_lone_surrogates(value)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with unpaired surrogates in its strings replaced by U+FFFD (only the
    ``json`` fallback produces them: a rare, slower path)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


__all__ = [
    "CHANGE_LOG",
    "FORMAT_VERSION",
    "ByteArena",
    "Components",
    "ContentStore",
    "ItemList",
    "ItemSummary",
    "LanguageItems",
    "LoggedChange",
    "Snapshot",
    "VariantPool",
    "append_changes",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_item",
    "check_snapshot",
    "compact_changes",
    "load_snapshot",
    "put_item",
    "save_snapshot",
    "snapshot_files_digest",
    "summarize_item",
]

FORMAT_VERSION = 1

JSON = dict[str, Any]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: Path, chunks: Iterable[bytes]) -> None:
    """:func:`atomic_write_bytes` for data made piece by piece (never all in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        with _suppress_oserror():
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, value: Any) -> None:
    data = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False) + "\n"
    atomic_write_bytes(path, data.encode("utf-8"))


class _suppress_oserror:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        return isinstance(exc, OSError)


_encode_json = msgspec.json.Encoder().encode


def encode_component(value: Any) -> bytes:
    """A component as the compact JSON :class:`Components` keeps: a function of the value
    alone (msgspec's encoding, keys in their order), so equal components give equal bytes
    whether they were read from a snapshot file or fetched.

    Copied to a bytes object of its own size: msgspec returns its output buffer, which keeps
    up to half as much again unused (an item of 7 KB held 10.6 KB: 132 instead of 96 MB of
    item bytes at 10k real-shaped items)."""
    return bytes(memoryview(_encode_loose(value)))


#: Bytes an arena gathers in memory before writing them to its file at once.
SPILL_CHUNK = 4 << 20
#: Bytes :meth:`ByteArena.read_in_order` reads at once, and how many such blocks it keeps.
READ_BLOCK = 256 << 10
READ_BLOCKS = 4


class ByteArena:
    """Byte strings in one store, addressed by slot (append-only), kept in a file.

    A snapshot's items and components are read from here. A render process is a fork of the
    build, sharing its memory until either writes a page; CPython writes an object's
    reference count whenever it is read, so with a bytes object per item the render process
    wrote (and so copied) the first page of every item and component it read: up to 120 MB
    at 10k real-shaped items. One store has no per-slot header; its slots are plain offsets.

    Given a ``folder`` (or, while it does not exist, its nearest parent that does), the bytes
    go to a nameless file there (deleted when the arena is, or
    when the process ends) in chunks of :data:`SPILL_CHUNK`, and each read is one ``pread``:
    the content lives in the operating system's page cache, which it may drop and read back
    from disk, not in the memory of the build and each render process (163 MB at 10k
    real-shaped items, 1.6 GB at 100k). A folder that cannot take the file (read-only,
    full) keeps the rest in memory, as does an arena without one.
    """

    __slots__ = ("_ends", "_fd", "_file", "_pending", "_spilling", "_written")

    def __init__(self, folder: Path | None = None) -> None:
        self._ends = array("q", [0])
        self._pending = bytearray()  # the slots after the first _written bytes
        self._written = 0  # bytes in the file
        self._file: Any = None
        self._fd = -1
        self._spilling = False  # bytes go to the file
        if folder is not None:
            while not folder.is_dir() and folder.parent != folder:
                folder = folder.parent  # not made yet (a first crawl): the nearest that is
            try:
                # Open for as long as the arena lives: it holds the content.
                self._file = tempfile.TemporaryFile(dir=folder, prefix=".arena-")  # noqa: SIM115
            except OSError:
                pass
            else:
                self._fd = self._file.fileno()
                self._spilling = True

    def add(self, data: bytes) -> int:
        """Store ``data``; its slot."""
        self._pending += data
        self._ends.append(self._written + len(self._pending))
        if len(self._pending) >= SPILL_CHUNK and self._spilling:
            self._spill()
        return len(self._ends) - 2

    def seal(self) -> None:
        """Move what is still in memory to the file (the arena is complete)."""
        if self._pending and self._spilling:
            self._spill()

    def _spill(self) -> None:
        pending = memoryview(self._pending)
        done = 0
        try:
            while done < len(pending):
                done += os.pwrite(self._fd, pending[done:], self._written + done)
        except OSError:
            # The disk is full (or the file went): what it holds stays valid, the rest and
            # everything after stays in memory.
            with _suppress_oserror():
                os.ftruncate(self._fd, self._written)
            self._spilling = False
            return
        finally:
            pending.release()
        self._written += done
        self._pending = bytearray()

    def _read(self, slot: int) -> bytes | bytearray:
        ends = self._ends
        start, end = ends[slot], ends[slot + 1]
        written = self._written
        if start >= written:
            return self._pending[start - written : end - written]
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start:  # not from a regular file on a local disk
            data = self._read_fully(start, end)
        return data

    def _read_fully(self, start: int, end: int) -> bytes:
        parts = bytearray()
        while start + len(parts) < end:
            more = os.pread(self._fd, end - start - len(parts), start + len(parts))
            if not more:
                raise OSError(f"content store file ended at byte {start + len(parts)}")
            parts += more
        return bytes(parts)

    def get(self, slot: int) -> bytes:
        data = self._read(slot)
        return data if type(data) is bytes else bytes(data)

    def decode(self, slot: int) -> Any:
        return loads_json(self._read(slot))  # type: ignore[arg-type]

    def read_in_order(self, slots: Iterable[int]) -> Iterator[bytes]:
        """The bytes of each of ``slots``, read from the file a block of :data:`READ_BLOCK`
        bytes at a time rather than one ``pread`` per slot: a language's components lie
        one after another (60,000 of ~1 KB each per language at 10k real-shaped items,
        read for their fingerprints and when a snapshot is saved). The last
        :data:`READ_BLOCKS` blocks are kept, for the components one language shares with
        another's (stored where that language's are) between its own."""
        ends = self._ends
        blocks: list[tuple[int, bytes]] = []  # (file offset, bytes), the newest last
        for slot in slots:
            start, end = ends[slot], ends[slot + 1]
            for at, block in reversed(blocks):
                if at <= start and end <= at + len(block):
                    yield block[start - at : end - at]
                    break
            else:
                if end > self._written or end - start >= READ_BLOCK or self._fd < 0:
                    yield self.get(slot)
                    continue
                block = os.pread(self._fd, min(READ_BLOCK, self._written - start), start)
                if len(block) < end - start:  # a short read: slot by slot
                    yield self.get(slot)
                    continue
                if len(blocks) == READ_BLOCKS:
                    del blocks[0]
                blocks.append((start, block))
                yield block[: end - start]

    def equals(self, slot: int, data: bytes) -> bool:
        """Whether the slot holds ``data`` (read only when the lengths agree)."""
        ends = self._ends
        return ends[slot + 1] - ends[slot] == len(data) and self._read(slot) == data

    def layout(self) -> bytes | None:
        """Where each slot ends, for :meth:`absorb` in another process that shares this
        arena's file; None when some of the bytes are not in the file (no file, a full disk)."""
        self.seal()
        if self._fd < 0 or self._pending:
            return None
        return self._ends.tobytes()

    def absorb(self, other: ByteArena, layout: bytes) -> int:
        """Append the slots another process stored in ``other``'s file (``layout``: what its
        :meth:`layout` gave) after this arena's; the slot the first of them now has.

        The bytes are copied file to file by the kernel where it can
        (``os.copy_file_range``), else read whole slots at a time (a slot never lies partly
        in the file and partly in memory)."""
        ends = array("q")
        ends.frombytes(layout)
        first = len(self._ends) - 1
        size = ends[-1]
        self.seal()
        shift = self._written + len(self._pending)
        done = 0
        copy = getattr(os, "copy_file_range", None)
        if copy is not None and self._spilling and not self._pending:
            try:
                while done < size:
                    copied = copy(other._fd, self._fd, size - done, done, self._written + done)
                    if not copied:
                        break
                    done += copied
            except OSError:
                pass  # not between these files (or the disk is full): by slots, below
            done = ends[bisect.bisect_right(ends, done) - 1]  # the last whole slot copied
            self._written += done
        while done < size:
            end = ends[bisect.bisect_right(ends, done + SPILL_CHUNK) - 1]
            if end <= done:  # a slot larger than a chunk
                end = ends[bisect.bisect_right(ends, done)]
            self._pending += other._read_fully(done, end)
            done = end
            if len(self._pending) >= SPILL_CHUNK and self._spilling:
                self._spill()
        self._ends.extend(array("q", [end + shift for end in ends[1:]]))
        return first


#: A stored value: its bytes, or its slot in the container's :class:`ByteArena`.
Stored = bytes | int


def _stored_bytes(arena: ByteArena | None, stored: Stored) -> bytes:
    """A stored value's JSON bytes (read from ``arena`` when it is a slot)."""
    if type(stored) is int:
        return arena.get(stored)  # type: ignore[union-attr]
    return stored  # type: ignore[return-value]


def _stored_in_order(arena: ByteArena | None, stored: Iterable[Stored]) -> Iterator[bytes]:
    """:func:`_stored_bytes` of each of ``stored``, the slots among them read from ``arena``
    a block at a time (:meth:`ByteArena.read_in_order`)."""
    values = stored if isinstance(stored, list) else list(stored)
    if arena is None:
        yield from values  # type: ignore[misc]
        return
    read = arena.read_in_order(s for s in values if type(s) is int)
    for value in values:
        yield next(read) if type(value) is int else value  # type: ignore[misc]


def _stored_value(arena: ByteArena | None, stored: Stored) -> Any:
    """A stored value, decoded (from ``arena`` when it is a slot)."""
    if type(stored) is int:
        return arena.decode(stored)  # type: ignore[union-attr]
    return loads_json(stored)  # type: ignore[arg-type]


def _encode_loose(value: Any) -> bytes:
    """:func:`encode_component`'s bytes, not copied to an object of their own size (for
    copying into a :class:`ByteArena`)."""
    try:
        return _encode_json(value)
    except (TypeError, OverflowError, msgspec.EncodeError):  # e.g. an int beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Components(MutableMapping[str, JSON]):
    """The components of one language (codename → component), kept as compact JSON bytes
    and decoded when read.

    Components are most of a snapshot's objects (on the real-shaped 10k benchmark 60,000 per
    language, 171 MB as Python objects per language, 47 MB as bytes) while a build reads each
    only when rendering the page that embeds it. Values read are fresh dicts: change a
    component by assigning it, never by editing what was read. :meth:`raw` gives the bytes
    (fingerprints hash them); equal bytes of two languages are one object.

    ``shapes`` widens the content model (see :mod:`kontent_ssg.content.model`) without
    decoding every component: type → element codename → element type, and the taxonomy
    groups their elements name, of every component ever stored here.
    """

    __slots__ = ("_arena", "_raw", "groups", "shapes")

    def __init__(self, values: Mapping[str, JSON] | None = None) -> None:
        # Loaded components are slots of the snapshot's arena; stored later, bytes.
        self._arena: ByteArena | None = None
        self._raw: dict[str, Stored] = {}
        self.shapes: dict[str, dict[str, str]] = {}
        self.groups: set[str] = set()
        if values:
            self.update(values)

    def __getitem__(self, codename: str) -> JSON:
        return _stored_value(self._arena, self._raw[codename])  # type: ignore[no-any-return]

    def __setitem__(self, codename: str, value: JSON) -> None:
        self.put(codename, encode_component(value), value)

    def put(self, codename: str, data: Stored, value: JSON | None) -> None:
        """Store ``value`` as ``data`` (its :func:`encode_component` bytes, or their slot in
        :meth:`use_arena`'s arena); ``value`` None: a copy of another language's component,
        whose shape that language knows (:meth:`widen`)."""
        self._raw[codename] = data
        if type(value) is not dict:
            return
        system = value.get("system")
        kind = str(system.get("type") or "") if type(system) is dict else ""
        shape = self.shapes.setdefault(kind, {}) if kind else None
        elements = value.get("elements")
        if type(elements) is dict:
            for name, element in elements.items():
                if type(element) is dict:
                    if shape is not None and name not in shape:
                        shape[name] = str(element.get("type") or "")
                    if element.get("taxonomy_group"):
                        self.groups.add(str(element["taxonomy_group"]))

    def __delitem__(self, codename: str) -> None:
        del self._raw[codename]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, codename: object) -> bool:
        return codename in self._raw

    def use_arena(self, arena: ByteArena) -> None:
        """Keep the slots :meth:`put` is given in ``arena`` (before anything is stored)."""
        self._arena = arena

    def widen(self, other: Components) -> None:
        """Add ``other``'s :attr:`shapes` and :attr:`groups` to these (components stored
        here without their value, shared with ``other``: the content model is one for
        every language)."""
        for kind, shape in other.shapes.items():
            mine = self.shapes.setdefault(kind, {})
            for name, element_type in shape.items():
                mine.setdefault(name, element_type)
        self.groups |= other.groups

    def stored(self, codename: str) -> Stored | None:
        """The component's bytes or arena slot, as stored (None when there is none)."""
        return self._raw.get(codename)

    def raw(self, codename: str) -> bytes | None:
        """The component's JSON bytes, not decoded (None when there is none)."""
        stored = self._raw.get(codename)
        return None if stored is None else _stored_bytes(self._arena, stored)

    def raw_items(self) -> Iterator[tuple[str, bytes]]:
        return zip(self._raw, _stored_in_order(self._arena, self._raw.values()), strict=True)

    def copy(self) -> Components:
        """A copy sharing the (immutable) bytes and arena."""
        other = Components()
        other._arena = self._arena
        other._raw = dict(self._raw)
        other.shapes = {k: dict(v) for k, v in self.shapes.items()}
        other.groups = set(self.groups)
        return other

    def __repr__(self) -> str:
        return f"<Components: {len(self._raw)}>"


#: Element types an item's summary keeps whole: values walks over all items read (route
#: slugs, listing order, taxonomy terms) and listing and term pages show (titles, dates,
#: summaries); the others (rich text, assets, linked items, custom) are only named in it,
#: with their type.
SUMMARY_ELEMENTS = frozenset(
    ("text", "url_slug", "date_time", "number", "taxonomy", "multiple_choice")
)

# Equal shapes (every element's name and type, the names left out) are one object.
_SHAPES: dict[tuple[Any, ...], tuple[tuple[tuple[str, str], ...], frozenset[str]]] = {}


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """What walks over every item read, without decoding it: ``light`` is the item with only
    its ``system`` object and its :data:`SUMMARY_ELEMENTS` elements (shaped like an item, so
    code that reads items reads it); ``shape`` names every element and its type, in order;
    ``dropped`` the elements ``light`` leaves out. A walk that needs one of those decodes the
    item (``ContentStore.walk``)."""

    light: JSON
    shape: tuple[tuple[str, str], ...]
    dropped: frozenset[str]

    def lacks(self, names: Iterable[str]) -> bool:
        """Whether one of the element ``names`` is left out of :attr:`light`."""
        dropped = self.dropped
        return bool(dropped) and any(name in dropped for name in names)


def _shared(value: Any) -> Any:
    """``value`` with its strings interned, lists and dicts rebuilt: summaries of many items
    repeat the same few strings (language, type, workflow step, term names and codenames),
    which decoding made once per item."""
    kind = type(value)
    if kind is str:
        return sys.intern(value)
    if kind is dict:
        return {k: _shared(v) for k, v in value.items()}
    if kind is list:
        return [_shared(v) for v in value]
    return value


def summarize_item(value: JSON) -> ItemSummary:
    """The :class:`ItemSummary` of a decoded (checked) item."""
    elements = value.get("elements")
    light: JSON = {"system": _shared(value["system"])}
    if type(elements) is not dict:
        return ItemSummary(light, (), frozenset())
    kept: JSON = {}
    shape: list[tuple[str, str]] = []
    dropped: list[str] = []
    for name, element in elements.items():
        if type(element) is not dict:
            dropped.append(name)
            continue
        shape.append((name, str(element.get("type") or "")))
        if element.get("type") in SUMMARY_ELEMENTS or "taxonomy_group" in element:
            kept[name] = _shared(element)
        else:
            dropped.append(name)
    light["elements"] = kept
    key = (*shape, None, *dropped)
    interned = _SHAPES.get(key)
    if interned is None:
        interned = _SHAPES[key] = (tuple(shape), frozenset(dropped))
    return ItemSummary(light, *interned)


_list_versions = itertools.count()
#: Replacements an :class:`ItemList` remembers (see ``ItemList.replaced_since``).
REPLACED_LOG = 10_000


class ItemList(MutableSequence[JSON]):
    """The item variants of one language in feed order, kept as compact JSON bytes (decoded
    when read) beside an :class:`ItemSummary` each.

    Items are most of a snapshot's memory after components (on the real-shaped 10k
    benchmark 130 MB of Python objects per language, 72 MB as bytes), and a forked render
    process that reads an object writes its reference count, gradually owning a copy of
    every item it touches; bytes are touched in their header only. Values read are fresh
    dicts: change an item by assigning it, never by editing what was read. Equal variants of
    two languages (fallback variants) share their bytes and summary.
    """

    __slots__ = (
        "_arena",
        "_ids",
        "_log_floor",
        "_positions",
        "_raw",
        "_replaced",
        "_structural",
        "_summaries",
        "version",
    )

    def __init__(self, values: Iterable[JSON] = ()) -> None:
        # Loaded items are slots of the snapshot's arena; items stored later, bytes.
        self._arena: ByteArena | None = None
        #: Changes whenever the list does; never the same for two lists (or two states of
        #: one): what a reader that kept something made from the items compares.
        self.version = next(_list_versions)
        # What changed since a version (see replaced_since): the items replaced, by the
        # version their replacement made, complete from _log_floor on; and the version of the
        # last change that added, removed or moved an item.
        self._replaced: list[tuple[int, str]] = []
        self._log_floor = self._structural = self.version
        self._raw: list[Stored] = []
        self._summaries: list[ItemSummary] = []
        # codename → position and item id → codename (the last variant wins, as in the
        # store's lookups): built on first use, kept up to date, rebuilt after a removal.
        self._positions: dict[str, int] | None = None
        self._ids: dict[str, str] | None = None
        self.extend(values)

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._decode(stored) for stored in self._raw[index]]
        return self._decode(self._raw[index])

    def __iter__(self) -> Iterator[JSON]:
        for stored in self._raw:
            yield self._decode(stored)

    def _decode(self, stored: Stored) -> Any:
        return _stored_value(self._arena, stored)

    def decode(self, index: int) -> JSON:
        """The item at ``index``, decoded (what ``self[index]`` gives)."""
        return self._decode(self._raw[index])  # type: ignore[no-any-return]

    def use_arena(self, arena: ByteArena) -> None:
        """Keep the slots :meth:`append_encoded` is given in ``arena``."""
        self._arena = arena

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("ItemList does not take slice assignment")
        self.put(index, encode_component(value), summarize_item(value))

    def __delitem__(self, index: Any) -> None:
        del self._raw[index]
        del self._summaries[index]
        self._positions = self._ids = None
        self.version = self._structural = next(_list_versions)

    def insert(self, index: int, value: JSON) -> None:
        self._raw.insert(index, encode_component(value))
        self._summaries.insert(index, summarize_item(value))
        self._positions = self._ids = None
        self.version = self._structural = next(_list_versions)

    def append(self, value: JSON) -> None:
        self.append_encoded(encode_component(value), summarize_item(value))

    def append_encoded(self, data: Stored, summary: ItemSummary) -> None:
        """Add an item given as its :func:`encode_component` bytes (or their slot in
        :meth:`use_arena`'s arena) and summary."""
        system = summary.light["system"]
        if self._positions is not None:
            self._positions[system["codename"]] = len(self._raw)
        if self._ids is not None:
            self._ids[system["id"]] = system["codename"]
        self._raw.append(data)
        self._summaries.append(summary)
        self.version = self._structural = next(_list_versions)

    def put(self, index: int, data: bytes, summary: ItemSummary) -> None:
        """Replace the item at ``index`` (its bytes and summary)."""
        old = self._summaries[index].light["system"]
        new = summary.light["system"]
        self._raw[index] = data
        self._summaries[index] = summary
        self.version = next(_list_versions)
        replaced = self._replaced
        replaced.append((self.version, new["codename"]))
        if new["codename"] != old["codename"]:
            replaced.append((self.version, old["codename"]))
            self._positions = self._ids = None
        elif new["id"] != old["id"]:
            self._ids = None
        if len(replaced) > REPLACED_LOG:
            half = len(replaced) // 2
            self._log_floor = replaced[half - 1][0]
            del replaced[:half]

    def replaced_since(self, version: int) -> list[str] | None:
        """The codenames of the items replaced since the list was at ``version`` (a value
        of :attr:`version`), or None when it changed otherwise since (an item added, removed
        or moved) or its record of replacements does not reach back that far."""
        if version == self.version:
            return []
        if version < self._structural or version < self._log_floor:
            return None
        return [codename for at, codename in self._replaced if at > version]

    def raw(self, index: int) -> bytes:
        return _stored_bytes(self._arena, self._raw[index])

    def raw_of(self, codename: str) -> bytes | None:
        """The bytes of the variant ``codename`` (None when there is none)."""
        at = self.find(codename)
        return None if at is None else self.raw(at)

    def stored(self, index: int) -> Stored:
        """The item's bytes or arena slot, as stored."""
        return self._raw[index]

    def summary(self, index: int) -> ItemSummary:
        return self._summaries[index]

    def raws(self) -> Iterator[bytes]:
        return _stored_in_order(self._arena, self._raw)

    def summaries(self) -> list[ItemSummary]:
        return self._summaries

    def find(self, codename: str) -> int | None:
        """The position of the variant ``codename`` (the last, should the feed repeat one)."""
        positions = self._positions
        if positions is None:
            positions = {}
            for at, summary in enumerate(self._summaries):
                positions[summary.light["system"]["codename"]] = at
            self._positions = positions
        return positions.get(codename)

    def ids(self) -> dict[str, str]:
        """Item id → codename of the variants here."""
        ids = self._ids
        if ids is None:
            ids = {}
            for summary in self._summaries:
                system = summary.light["system"]
                ids[system["id"]] = system["codename"]
            self._ids = ids
        return ids

    def copy(self) -> ItemList:
        """A copy sharing the (immutable) bytes and summaries."""
        other = ItemList()
        other._arena = self._arena
        other._raw = list(self._raw)
        other._summaries = list(self._summaries)
        return other

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ItemList):
            return list(self.raws()) == list(other.raws()) or list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<ItemList: {len(self._raw)}>"


class VariantPool:
    """Makes equal item variants and components of several languages one stored value while
    their feeds are crawled (concurrently): a fallback variant is the variant of the language
    it falls back to, and two thirds of a partly translated language are such copies. Values
    go to :attr:`arena` (see :class:`ByteArena`: in a file when given a ``folder``)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self.arena = ByteArena(folder)
        self._items: dict[tuple[str, str], tuple[int, ItemSummary]] = {}
        self._components: dict[str, int] = {}

    def item(self, raw: JSON) -> tuple[Stored, ItemSummary]:
        """``raw``'s slot and summary: those of the equal variant seen before (the same
        codename and language) when there is one."""
        data = _encode_loose(raw)  # copied into the arena
        system = raw["system"]
        language = system.get("language")
        if type(language) is not str:  # not an item's shape: the checks after the crawl say so
            return encode_component(raw), summarize_item(raw)
        key = (system["codename"], language)
        with self._lock:
            known = self._items.get(key)
            if known is not None and self.arena.equals(known[0], data):
                return known
            entry = self._items[key] = (self.arena.add(data), summarize_item(raw))
            return entry

    def component(self, codename: str, value: JSON) -> int:
        """The slot of ``value``'s bytes, or of the equal bytes seen before for component
        ``codename``."""
        data = _encode_loose(value)  # copied into the arena
        with self._lock:
            known = self._components.get(codename)
            if known is not None and self.arena.equals(known, data):
                return known
            slot = self._components[codename] = self.arena.add(data)
            return slot

    def done(self) -> None:
        """Every feed is in: the arena's last bytes go to its file, the lookups go."""
        with self._lock:
            self.arena.seal()
            self._items.clear()
            self._components.clear()


@dataclass
class LanguageItems:
    """The items-feed of one language: items in feed order and the components."""

    items: ItemList = field(default_factory=ItemList)
    modular_content: Components = field(default_factory=Components)

    def __setattr__(self, name: str, value: Any) -> None:
        # Plain lists and dicts (tests, hand-made snapshots) become the compact forms.
        if name == "items" and not isinstance(value, ItemList):
            value = ItemList(value)
        elif name == "modular_content" and not isinstance(value, Components):
            value = Components(value)
        object.__setattr__(self, name, value)

    def to_json(self) -> JSON:
        return {"items": list(self.items), "modular_content": dict(self.modular_content)}


@dataclass
class Snapshot:
    """Everything crawled from one environment."""

    default_language: str
    languages: list[JSON] = field(default_factory=list)
    types: list[JSON] = field(default_factory=list)
    taxonomies: list[JSON] = field(default_factory=list)
    items: dict[str, LanguageItems] = field(default_factory=dict)

    @property
    def language_codenames(self) -> list[str]:
        """Languages with crawled items, default first."""
        names = list(self.items)
        if self.default_language in names:
            names.remove(self.default_language)
            names.insert(0, self.default_language)
        return names

    def manifest(self) -> JSON:
        return {
            "format": FORMAT_VERSION,
            "default_language": self.default_language,
            "languages": self.language_codenames,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return (
            self.default_language == other.default_language
            and self.languages == other.languages
            and self.types == other.types
            and self.taxonomies == other.taxonomies
            and {k: v.to_json() for k, v in self.items.items()}
            == {k: v.to_json() for k, v in other.items.items()}
        )


# -- the shape of the content -----------------------------------------------------------------
#
# Everything downstream reads raw Delivery API JSON (``item["system"]["type"]``, a taxonomy
# element's terms as dicts, …). Content from a saved snapshot or from the API is checked for
# the shape that code relies on when it is loaded or crawled, so that an item without
# ``system.type`` is a SnapshotError naming the file (or request) and the item, not a
# KeyError from deep inside a build. Only what kontent-ssg reads is checked: unknown keys and
# unknown element types pass. About 35 ms of CPU at 10k items (loading them takes ~250 ms).

_ITEM_SYSTEM = ("id", "codename", "type", "language")
_OPTIONAL_SYSTEM = ("name", "last_modified")
_SCALAR_ELEMENTS: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "url_slug": (str,),
    "rich_text": (str,),
    "custom": (str,),
    "date_time": (str,),
    "number": (int, float),
}
_TERM_ELEMENTS = ("taxonomy", "multiple_choice")
# Value types that need no closer look, by element type (rich text has more than its value).
_PLAIN_VALUES: dict[Any, frozenset[type]] = {
    kind: frozenset((*types, type(None))) for kind, types in _SCALAR_ELEMENTS.items()
}
del _PLAIN_VALUES["rich_text"]


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def check_item(raw: Any, where: str, *, component: bool = False) -> None:
    """Raise :class:`SnapshotError` (naming ``where`` and the item) unless ``raw`` has the
    shape of a Delivery API item (``component``: of a rich-text component).

    One pass of cheap tests for the common case; only an item that fails one of them is
    looked at closely (:func:`_explain`), to say what is wrong."""
    system = raw.get("system") if type(raw) is dict else None
    if (
        type(system) is dict
        and type(system.get("codename")) is str
        and type(system.get("type")) is str
        and type(system.get("language")) is str
        and (component or type(system.get("id")) is str)
        and type(system.get("name")) in _OPTIONAL_STRING
        and type(system.get("last_modified")) in _OPTIONAL_STRING
        and system["codename"]
    ):
        elements = raw.get("elements")
        if elements is None:
            return
        if type(elements) is dict:
            plain = _PLAIN_VALUES
            for element in elements.values():
                if type(element) is not dict:
                    break
                kind = element.get("type")
                value_type = type(element.get("value"))
                if value_type in plain.get(kind, ()):
                    continue
                if (
                    kind == "rich_text"
                    and value_type in _OPTIONAL_STRING
                    and type(element.get("images")) in _OPTIONAL_DICT
                    and type(element.get("links")) in _OPTIONAL_DICT
                    and type(element.get("modular_content")) in _OPTIONAL_LIST
                ):
                    continue
                if _element_problem(element) is not None:
                    break
            else:
                return
    _explain(raw, where, component)


_OPTIONAL_STRING = frozenset((str, type(None)))
_OPTIONAL_DICT = frozenset((dict, type(None)))
_OPTIONAL_LIST = frozenset((list, type(None)))


def _explain(raw: Any, where: str, component: bool) -> None:
    """Raise the :class:`SnapshotError` that says what is wrong with ``raw``."""
    what = "component" if component else "item"
    if type(raw) is not dict:
        raise SnapshotError(f"{where}: a {what} is {_kind(raw)}, not an object")
    system = raw.get("system")
    if type(system) is not dict:
        raise SnapshotError(f"{where}: a {what} has no 'system' object")
    codename = system.get("codename")
    if type(codename) is not str or not codename:
        raise SnapshotError(f"{where}: a {what} has no system.codename")
    name = f"{where}: {what} {codename!r}"
    for key in _ITEM_SYSTEM[2:] if component else _ITEM_SYSTEM:
        if type(system.get(key)) is not str:
            got = "missing" if key not in system else _kind(system[key])
            raise SnapshotError(f"{name}: system.{key} is {got}, not a string")
    for key in _OPTIONAL_SYSTEM:
        value = system.get(key)
        if value is not None and type(value) is not str:
            raise SnapshotError(f"{name}: system.{key} is {_kind(value)}, not a string")
    elements = raw.get("elements")
    if type(elements) is not dict:
        raise SnapshotError(f"{name}: 'elements' is {_kind(elements)}, not an object")
    for element_name, element in elements.items():
        if type(element) is not dict:
            raise SnapshotError(f"{name}: element {element_name!r} is not an object")
        problem = _element_problem(element)
        if problem:
            raise SnapshotError(f"{name}: element {element_name!r}: {problem}")


def _element_problem(element: JSON) -> str | None:
    kind = element.get("type")
    value = element.get("value")
    scalar = _SCALAR_ELEMENTS.get(kind)  # type: ignore[arg-type]
    if scalar is not None:
        if value is not None and (not isinstance(value, scalar) or type(value) is bool):
            return f"a {kind} value is {_kind(value)}"
        if kind == "rich_text":
            for key, shape in (("images", dict), ("links", dict), ("modular_content", list)):
                if element.get(key) is not None and type(element[key]) is not shape:
                    return f"rich text '{key}' is {_kind(element[key])}"
        return None
    if kind in _TERM_ELEMENTS or kind == "asset":
        if value is None:
            return None
        if type(value) is not list or not all(type(v) is dict for v in value):
            return f"{kind} values must be a list of objects"
        if kind != "asset" and not all(type(v.get("codename")) is str for v in value):
            return f"a {kind} value has a term without a codename"
    elif kind == "modular_content":
        linked = value if value is not None else []
        if type(linked) is not list or not all(type(v) is str for v in linked):
            return "linked items must be a list of codenames"
    return None


def _check_system_list(values: Any, where: str, what: str) -> None:
    if type(values) is not list:
        raise SnapshotError(f"{where}: expected a JSON list of {what}s")
    for value in values:
        system = value.get("system") if type(value) is dict else None
        if type(system) is not dict or type(system.get("codename")) is not str:
            raise SnapshotError(f"{where}: a {what} has no system.codename")


def _check_terms(terms: Any, where: str) -> None:
    if terms is None:
        return
    if type(terms) is not list:
        raise SnapshotError(f"{where}: 'terms' is {_kind(terms)}, not a list")
    for term in terms:
        if type(term) is not dict or type(term.get("codename")) is not str:
            raise SnapshotError(f"{where}: a term has no codename")
        _check_terms(term.get("terms"), f"{where} > {term['codename']}")


def check_snapshot(snapshot: Snapshot, where: Callable[[str], str]) -> None:
    """Check every part of ``snapshot``; ``where(part)`` names it in messages (``part`` is
    ``languages``, ``types``, ``taxonomies`` or a language codename)."""
    _check_system_list(snapshot.languages, where("languages"), "language")
    _check_system_list(snapshot.types, where("types"), "content type")
    for content_type in snapshot.types:
        if type(content_type.get("elements", {})) is not dict:
            codename = content_type["system"]["codename"]
            raise SnapshotError(f"{where('types')}: type {codename!r}: 'elements' is not an object")
    _check_system_list(snapshot.taxonomies, where("taxonomies"), "taxonomy group")
    for group in snapshot.taxonomies:
        _check_terms(
            group.get("terms"), f"{where('taxonomies')}: group {group['system']['codename']!r}"
        )
    for language, lang_items in snapshot.items.items():
        place = where(language)
        for raw in lang_items.items:
            check_item(raw, place)
        for component in lang_items.modular_content.values():
            check_item(component, f"{place} (modular_content)", component=True)


def save_snapshot(snapshot: Snapshot, folder: Path) -> None:
    """Write ``snapshot`` to ``folder``; every file atomically, the manifest last."""
    folder = Path(folder)
    (folder / "items").mkdir(parents=True, exist_ok=True)
    # First: the changes logged since the last save are older than this snapshot, and
    # replayed over it they would bring old content back.
    with _suppress_oserror():
        os.unlink(folder / CHANGE_LOG)
    atomic_write_json(folder / "languages.json", snapshot.languages)
    atomic_write_json(folder / "types.json", snapshot.types)
    atomic_write_json(folder / "taxonomies.json", snapshot.taxonomies)
    wanted = set()
    for language, lang_items in snapshot.items.items():
        name = _language_file(language)
        wanted.add(name)
        atomic_write_chunks(folder / "items" / name, _indented_language(lang_items))
    for stale in (folder / "items").glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    atomic_write_json(folder / "manifest.json", snapshot.manifest())


def _indented_language(lang_items: LanguageItems) -> Iterator[bytes]:
    """``json.dumps(lang_items.to_json(), indent=1)`` plus a newline, the same bytes, made
    item by item (a snapshot folder written by ``pull`` is meant to be read by people)."""

    def nested(value: Any) -> bytes:
        text = json.dumps(value, ensure_ascii=False, indent=1)
        return text.replace("\n", "\n  ").encode("utf-8")

    components = lang_items.modular_content
    if lang_items.items:
        yield b'{\n "items": ['
        for index, item in enumerate(lang_items.items):
            yield (b"\n  " if index == 0 else b",\n  ") + nested(item)
        yield b"\n ],\n"
    else:
        yield b'{\n "items": [],\n'
    if len(components):
        yield b' "modular_content": {'
        for index, codename in enumerate(components):
            key = json.dumps(codename, ensure_ascii=False).encode("utf-8")
            yield (b"\n  " if index == 0 else b",\n  ") + key + b": " + nested(components[codename])
        yield b"\n }\n}\n"
    else:
        yield b' "modular_content": {}\n}\n'


def write_language_file(path: Path, items: Iterable[JSON], components: Components) -> None:
    """``items/<language>.json``, compact, written item by item (atomically): never the
    whole file in memory, and other threads get the interpreter between items."""
    encode = encode_component

    def chunks() -> Iterator[bytes]:
        yield b'{"items":['
        first = True
        encoded = items.raws() if isinstance(items, ItemList) else (encode(i) for i in items)
        for data in encoded:
            yield data if first else b"," + data
            first = False
        yield b'],"modular_content":{'
        first = True
        for codename, data in components.raw_items():
            yield (b"" if first else b",") + encode(codename) + b":" + data
            first = False
        yield b"}}\n"

    atomic_write_chunks(path, chunks())


def load_snapshot(folder: Path, *, readers: int = 1) -> Snapshot:
    """Read a snapshot folder; :class:`SnapshotError` names the file that is wrong.

    ``readers``: processes that may read language files at once, this one included (from 2,
    a forked process reads the later languages while this one reads the first: see
    :class:`_LaterLanguages`)."""
    with gc_paused():
        return _load_snapshot(Path(folder), readers)


def _load_snapshot(folder: Path, readers: int) -> Snapshot:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise SnapshotError(
            f"no content snapshot at {folder}",
            hint="run `kontent-ssg pull` (or a build without --offline) first",
        )
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise SnapshotError(
            f"{manifest_path}: unknown snapshot format {manifest.get('format')!r}"
            if isinstance(manifest, dict)
            else f"{manifest_path}: not a snapshot manifest",
            hint=f"this kontent-ssg reads format {FORMAT_VERSION}; run `kontent-ssg pull` again",
        )
    languages = manifest.get("languages") or []
    if type(languages) is not list or not all(type(v) is str and v for v in languages):
        raise SnapshotError(f"{manifest_path}: 'languages' must be a list of language codenames")
    default = manifest.get("default_language") or (languages[0] if languages else None)
    if not default or type(default) is not str:
        raise SnapshotError(f"{manifest_path}: 'default_language' is missing")
    snapshot = Snapshot(
        default_language=default,
        languages=_read_list(folder / "languages.json"),
        types=_read_list(folder / "types.json"),
        taxonomies=_read_list(folder / "taxonomies.json"),
    )
    files = {"languages": "languages.json", "types": "types.json", "taxonomies": "taxonomies.json"}
    check_snapshot(snapshot, lambda part: str(folder / files[part]))
    # Variants equal in two languages (fallback variants: two thirds of a language on the
    # real-shaped benchmark) share their bytes and summary: the variants by codename of the
    # languages read so far.
    seen: dict[str, tuple[int, ItemSummary]] = {}
    arena = ByteArena(folder)  # every language's items and components
    later: _LaterLanguages | None = None
    earlier: list[LanguageItems] = []  # by position in the manifest's list
    try:
        for position, language in enumerate(languages):
            read = later.result(position, arena) if later is not None else None
            if read is not None:
                lang_items = read.adopt(earlier, seen, arena)
            else:
                path = folder / "items" / _language_file(language)
                feed = _split_language(path)
                if position == 0 and feed is not None and readers > 1:
                    later = _LaterLanguages.start(folder, languages[1:], feed)
                lang_items = _read_language(path, feed, earlier, seen, arena)
                # Its spans hold the whole file (124 MB at 10k real-shaped items): gone
                # before the next language's is read.
                del feed
            snapshot.items[language] = lang_items
            earlier.append(lang_items)
    finally:
        if later is not None:
            later.close()
    arena.seal()
    _replay_changes(snapshot, folder / CHANGE_LOG)
    return snapshot


# -- the change log ----------------------------------------------------------------------------
#
# A rebuild from webhooks (or ``build --changes``, or Sync API deltas) changes a few items; it
# appends them to ``changes.jsonl`` instead of rewriting the language files (124 MB each at
# 10k real-shaped items). Loading replays the log over the files; ``save_snapshot`` (a crawl,
# ``pull``) removes it, and the receiver folds it into the files when it has grown
# (:func:`compact_changes`). See docs/SNAPSHOT.md.

#: The change log's file name, in the snapshot folder.
CHANGE_LOG = "changes.jsonl"


@dataclass(frozen=True)
class LoggedChange:
    """One line of the change log: an item variant (``value`` None: gone from the language)
    or a component of ``language`` now equal to ``value``."""

    language: str
    kind: str  # "item" or "component"
    codename: str
    value: JSON | bytes | None  # bytes: the value's JSON already (a component's)

    def line(self) -> bytes:
        value = self.value
        record: JSON = {"language": self.language, self.kind: self.codename, "value": None}
        if not isinstance(value, bytes):
            record["value"] = value
            return encode_component(record) + b"\n"
        head = encode_component(record)
        return head[: -len(b"null}")] + value + b"}\n"


def append_changes(folder: Path, changes: Iterable[LoggedChange]) -> int:
    """Append ``changes`` to the snapshot's change log (one write); the log's size after.

    A process killed mid-write leaves a last line without its newline: loading ignores it
    (what it held is missing from the snapshot, as if the write had not started; the next
    build diffs the snapshot against the build state and renders what differs)."""
    data = b"".join(change.line() for change in changes)
    path = Path(folder) / CHANGE_LOG
    with open(path, "ab") as fh:
        if fh.tell():
            _cut_torn_line(path)
        fh.write(data)
        fh.flush()
        return fh.tell()


def _cut_torn_line(path: Path) -> None:
    """Remove what follows the log's last newline (a line a killed write left unfinished)."""
    with open(path, "r+b") as fh:
        end = fh.seek(0, os.SEEK_END)
        cut = end
        while cut > 0:
            start = max(0, cut - 65536)
            fh.seek(start)
            chunk = fh.read(cut - start)
            if cut == end and chunk.endswith(b"\n"):
                return
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                break
            cut = start
        fh.truncate(cut)


def compact_changes(snapshot: Snapshot, folder: Path) -> None:
    """Fold the change log into the language files: rewrite them from ``snapshot`` (which
    the log's changes are part of), then remove the log. Killed in between, the log is
    replayed over files that already hold its changes: the same snapshot."""
    folder = Path(folder)
    for language, lang_items in snapshot.items.items():
        write_language_file(
            folder / "items" / _language_file(language),
            lang_items.items,
            lang_items.modular_content,
        )
    with _suppress_oserror():
        os.unlink(folder / CHANGE_LOG)


_REPAIR_LOG = "run `kontent-ssg pull` (or a build without --offline) to crawl the content afresh"


def _replay_changes(snapshot: Snapshot, path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot file ({exc})") from None
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: empty, or a line a killed write left unfinished
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        where = f"{path}, line {number}"
        try:
            record = loads_json(line)
        except ValueError as exc:
            raise SnapshotError(f"{where}: not a JSON object ({exc})", hint=_REPAIR_LOG) from None
        language = record.get("language") if type(record) is dict else None
        lang_items = snapshot.items.get(language) if type(language) is str else None
        if lang_items is None or type(language) is not str:
            raise SnapshotError(
                f"{where}: not a change of a language of the snapshot", hint=_REPAIR_LOG
            )
        value = record.get("value")
        if type(record.get("component")) is str:
            check_item(value, where, component=True)
            lang_items.modular_content[record["component"]] = value
        elif type(record.get("item")) is str:
            if value is not None:
                check_item(value, where)
            put_item(lang_items.items, record["item"], value)
        else:
            raise SnapshotError(f"{where}: names no item or component", hint=_REPAIR_LOG)


def put_item(items: ItemList, codename: str, value: JSON | None) -> None:
    """Put an item variant where the items-feed had it (a new one last); None removes it."""
    at = items.find(codename)
    if value is not None:
        if at is None:
            items.append(value)
        else:
            items[at] = value
    elif at is not None:
        del items[at]


class _RawFeed(msgspec.Struct, weakref=True):
    """A language file, its items and components left undecoded (spans of the file, which
    keep the whole file's bytes: a weak reference says when they went)."""

    items: list[msgspec.Raw]
    modular_content: dict[str, msgspec.Raw] | None = None


_decode_feed = msgspec.json.Decoder(_RawFeed).decode


def _split_language(path: Path) -> _RawFeed | None:
    """``items/<language>.json`` split into items and components (msgspec.Raw: spans of the
    file, no objects); None when msgspec cannot split it (a byte order mark, a malformed
    file): :func:`_read_language` then reads it whole, which words the error."""
    try:
        with open(path, "rb") as fh:
            body = fh.read()
    except FileNotFoundError:
        raise SnapshotError(f"{path}: missing from the snapshot") from None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot file ({exc})") from None
    try:
        return _decode_feed(body)  # the Raw spans keep the body until the language is read
    except (ValueError, RecursionError):
        return None


def _read_language(
    path: Path,
    feed: _RawFeed | None,
    earlier: list[LanguageItems],
    seen: dict[str, tuple[int, ItemSummary]],
    arena: ByteArena,
) -> LanguageItems:
    """One ``items/<language>.json`` (``feed``: its :func:`_split_language`), checked item
    by item, its components kept as bytes.

    Each item and component is decoded on its own, so the file and its decoded form are
    never both whole in memory."""
    place = str(path)
    if feed is None:
        data = _read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise SnapshotError(f"{path}: expected an object with an 'items' list") from None
        components = data.get("modular_content") or {}
        if type(components) is not dict:
            raise SnapshotError(f"{place}: 'modular_content' is not an object") from None
        for raw in data["items"]:
            check_item(raw, place)
        result = LanguageItems(items=data["items"])
        for codename, component in components.items():
            check_item(component, f"{place} (modular_content)", component=True)
            result.modular_content[codename] = component
        return result
    others = [lang.modular_content for lang in earlier]
    result = LanguageItems()
    items = result.items
    items.use_arena(arena)
    for span in feed.items:
        data, value = _checked_item(span, place)
        codename = value["system"]["codename"]
        known = seen.get(codename)
        if known is None or not arena.equals(known[0], data):
            known = seen[codename] = (arena.add(data), summarize_item(value))
        items.append_encoded(*known)
    components = result.modular_content
    components.use_arena(arena)
    where = f"{place} (modular_content)"
    shared = False
    for codename, span in (feed.modular_content or {}).items():
        tried = None  # the bytes already looked up among the earlier languages' copies
        if others:
            # The same bytes as an earlier language's copy (a fallback variant embeds the
            # default language's components): that copy was decoded and checked, so this
            # one is shared without decoding it (40k of es-ES's 60k at 10k real-shaped
            # items, ~0.15 s of a 1.7 s load). Bytes written otherwise than encode_component
            # writes them never match here and take the path below.
            data = bytes(span)
            if b"\n" in data:
                data = _minify(data)
            slot = _slot_of(others, codename, data, arena)
            if slot is not None:
                components.put(codename, slot, None)
                shared = True
                continue
            tried = data
        data, value = _checked_component(span, where)
        # Written by encode_component (as snapshots are), these are the bytes looked up above.
        slot = None if data == tried else _slot_of(others, codename, data, arena)
        components.put(codename, arena.add(data) if slot is None else slot, value)
    if shared:  # their types' elements, as the earlier languages recorded them
        for other in others:
            components.widen(other)
    return result


def _checked_item(span: msgspec.Raw, place: str) -> tuple[bytes, JSON]:
    """An item of a language file: the bytes to store and the value, checked.

    The bytes are its span of the file, not encoded again (item fingerprints hash decoded
    values, so any JSON of the value will do): without whitespace, which only an indented
    file (``pull`` writes them for people to read) has outside strings."""
    data = bytes(span)
    value = _decode_part(data, place)
    check_item(value, place)
    if b"\n" in data:
        data = _minify(data)
    return data, value


def _checked_component(span: msgspec.Raw, where: str) -> tuple[bytes, JSON]:
    """A component of a language file: its :func:`encode_component` bytes and its value,
    checked."""
    value = _decode_part(span, where)
    check_item(value, where, component=True)
    return _encode_loose(value), value


def _slot_of(
    languages: list[Components], codename: str, data: bytes, arena: ByteArena
) -> int | None:
    """The arena slot of a component of ``languages`` stored as ``data``, if there is one."""
    for other in languages:
        same = other.stored(codename)
        if type(same) is int and arena.equals(same, data):
            return same
    return None


# -- the later languages, read by a helper process -------------------------------------------
#
# Reading a language file is CPU-bound (decoding and checking each item and component): at 10k
# real-shaped items 0.8 s for en-US, then 0.6 s for es-ES, while a second core idles. Given
# two readers, a forked process reads the languages after the first while this one reads the
# first. It stores what it reads in an arena file of its own and sends back, per item and
# component, its slot there or which earlier language holds the same bytes, with the items'
# summaries and the components' shapes. This process then copies the helper's file after its
# own arena's (in the kernel) and builds those languages from that. Equal variants are found
# by their bytes in the files (see docs/SNAPSHOT.md).

#: Bytes of the later languages' files below which they are read here (a fork and the
#: hand-over cost more than reading a few megabytes).
HELPER_MIN_BYTES = 8 << 20


class _HeadSystem(msgspec.Struct):
    codename: str


class _Head(msgspec.Struct):
    """An item's codename, the rest of the item skipped, not decoded."""

    system: _HeadSystem


_decode_head = msgspec.json.Decoder(_Head).decode


@dataclass
class _ReadLater:
    """One later language as the helper read it; its slots are the helper arena's, from
    ``first`` on in this process's once that has absorbed it (``_LaterLanguages._receive``)."""

    #: Per feed item: ``(slot, summary)`` of a variant of its own, or ``(position, index)``
    #: of the equal variant of the language at ``position`` (an int in second place).
    items: list[tuple[int, Any]]
    #: Per component: ``(codename, slot, False)``, or ``(codename, position, True)`` when
    #: the language at ``position`` has the same bytes.
    components: list[tuple[str, int, bool]]
    shapes: dict[str, dict[str, str]]
    groups: set[str]
    first: int = 0

    def adopt(
        self,
        earlier: list[LanguageItems],
        seen: dict[str, tuple[int, ItemSummary]],
        arena: ByteArena,
    ) -> LanguageItems:
        """The language, its slots in ``arena`` (which has absorbed the helper's)."""
        result = LanguageItems()
        items = result.items
        items.use_arena(arena)
        for at, what in self.items:
            if type(what) is int:
                other = earlier[at].items
                known = (other.stored(what), other.summary(what))
            else:
                known = (self.first + at, what)
            seen[known[1].light["system"]["codename"]] = known  # type: ignore[assignment]
            items.append_encoded(*known)
        components = result.modular_content
        components.use_arena(arena)
        shared = False
        for codename, at, same in self.components:
            if same:
                components.put(codename, earlier[at].modular_content.stored(codename), None)  # type: ignore[arg-type]
                shared = True
            else:
                components.put(codename, self.first + at, None)
        components.shapes = self.shapes
        components.groups = self.groups
        if shared:  # their types' elements, as the earlier languages recorded them
            for other_language in earlier:
                components.widen(other_language.modular_content)
        return result


class _LaterLanguages:
    """The helper process reading the languages after the first (see above)."""

    def __init__(self, folder: Path, pid: int, pipe: int, arena: ByteArena) -> None:
        self._folder = folder
        self._pid = pid
        self._pipe = pipe
        self._arena: ByteArena | None = arena
        self._done: list[_ReadLater] | None = None

    @classmethod
    def start(cls, folder: Path, languages: list[str], first: _RawFeed) -> _LaterLanguages | None:
        """Fork the helper (None when it would not pay, or cannot be): ``first`` is the first
        language's feed, which it shares with this process."""
        if not languages or not hasattr(os, "fork"):
            return None
        size = 0
        for language in languages:
            try:
                size += (folder / "items" / _language_file(language)).stat().st_size
            except (OSError, SnapshotError):
                return None  # read here, which says what is wrong
        if size < HELPER_MIN_BYTES:
            return None
        arena = ByteArena(folder)
        if arena.layout() is None:  # no file to share
            return None
        parent = os.getpid()
        read_end, write_end = os.pipe()
        try:
            # The build may be hashing the snapshot's files on a thread meanwhile
            # (ContentTracker.full): the helper takes none of the locks that thread holds
            # (file objects of its own, msgspec, pickle, pwrite), so a fork is safe here.
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the helper: whatever happens, it ends here
            try:
                os.close(read_end)
                die_with_parent(parent)
                done = _read_later(folder, languages, first, arena)
                message = pickle.dumps((arena.layout(), done), protocol=pickle.HIGHEST_PROTOCOL)
                with open(write_end, "wb") as pipe:
                    pipe.write(message)
            finally:
                os._exit(0)
        os.close(write_end)
        return cls(folder, pid, read_end, arena)

    def result(self, position: int, arena: ByteArena) -> _ReadLater | None:
        """The language at ``position`` as the helper read it (its bytes now in ``arena``), or
        None when it did not: from the first language it stopped at (a file it cannot
        split or finds wrong, a crash), this process reads them again."""
        if self._done is None:
            self._done = self._receive(arena)
        return self._done[position - 1] if 0 < position <= len(self._done) else None

    def _receive(self, arena: ByteArena) -> list[_ReadLater]:
        pipe, self._pipe = self._pipe, -1  # closed by the file object, whatever happens
        with open(pipe, "rb") as reader:
            message = reader.read()
        self.close()
        helper, self._arena = self._arena, None
        try:
            layout, done = pickle.loads(message)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return []  # the helper did not finish
        if layout is None or not done or helper is None:
            return []
        try:
            first = arena.absorb(helper, layout)
        except OSError as exc:  # the arena is not used again: the load fails
            raise SnapshotError(f"{self._folder}: cannot read the content store ({exc})") from None
        for read in done:
            read.first = first
        return done  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the helper (done or not) and wait for it."""
        try:
            if self._pipe >= 0:
                pipe, self._pipe = self._pipe, -1
                with _suppress_oserror():
                    os.close(pipe)
        finally:
            if self._pid:
                pid, self._pid = self._pid, 0
                with _suppress_oserror():
                    os.kill(pid, signal.SIGKILL)
                with _suppress_oserror():
                    os.waitpid(pid, 0)


def _read_later(
    folder: Path, languages: list[str], first: _RawFeed, arena: ByteArena
) -> list[_ReadLater]:
    """The helper's work: ``languages`` in order, until one it cannot read. Variants are
    compared with the first language's and the previous one's (a fallback chain of two)."""
    done: list[_ReadLater] = []
    earlier = [(0, first, _codenames(first))]
    for position, language in enumerate(languages, start=1):
        try:
            path = folder / "items" / _language_file(language)
            feed = _split_language(path)
            if feed is None:
                break
            done.append(_read_later_language(path, feed, earlier, arena))
        except SnapshotError:
            break
        earlier = [(position, feed, _codenames(feed)), earlier[-1]]
    return done


def _codenames(feed: _RawFeed) -> dict[str, int]:
    """Codename → position of each item of ``feed`` (the last, should it repeat one)."""
    index: dict[str, int] = {}
    for at, span in enumerate(feed.items):
        try:
            index[_decode_head(span).system.codename] = at
        except (ValueError, RecursionError):
            continue  # its own reading says what is wrong
    return index


def _read_later_language(
    path: Path,
    feed: _RawFeed,
    earlier: list[tuple[int, _RawFeed, dict[str, int]]],
    arena: ByteArena,
) -> _ReadLater:
    """One later language, in the helper: what :func:`_read_language` does, but a variant or
    component with the same bytes in an earlier language's file is not decoded or checked
    (that language's reading checks it), only named."""
    place = str(path)
    items: list[tuple[int, Any]] = []
    for span in feed.items:
        same = _same_item(span, earlier)
        if same is not None:
            items.append(same)
            continue
        data, value = _checked_item(span, place)
        items.append((arena.add(data), summarize_item(value)))
    components = Components()  # only for the shapes and groups
    entries: list[tuple[str, int, bool]] = []
    where = f"{place} (modular_content)"
    twins = [(position, other.modular_content or {}) for position, other, _ in earlier]
    for codename, span in (feed.modular_content or {}).items():
        view = memoryview(span)
        for position, others in twins:
            twin = others.get(codename)
            if twin is not None and memoryview(twin) == view:
                entries.append((codename, position, True))
                break
        else:
            data, value = _checked_component(span, where)
            slot = arena.add(data)
            components.put(codename, slot, value)
            entries.append((codename, slot, False))
    return _ReadLater(items, entries, components.shapes, components.groups)


def _same_item(
    span: msgspec.Raw, earlier: list[tuple[int, _RawFeed, dict[str, int]]]
) -> tuple[int, int] | None:
    """``(position, index)`` of an earlier language's variant with ``span``'s bytes."""
    try:
        codename = _decode_head(span).system.codename
    except (ValueError, RecursionError):
        return None
    view = memoryview(span)
    for position, other, index in earlier:
        at = index.get(codename)
        if at is not None and memoryview(other.items[at]) == view:
            return position, at
    return None


def _decode_part(span: msgspec.Raw | bytes, where: str) -> Any:
    try:
        return loads_json(span if type(span) is bytes else bytes(span))
    except ValueError as exc:
        raise SnapshotError(f"{where}: cannot read snapshot file ({exc})") from None


def _minify(data: bytes) -> bytes:
    """JSON without whitespace outside strings (msgspec's ``format``; the value unchanged)."""
    return msgspec.json.format(data, indent=-1)


def _language_file(language: str) -> str:
    if not language or "/" in language or "\\" in language or language.startswith("."):
        raise SnapshotError(f"language codename {language!r} cannot name a snapshot file")
    return f"{language}.json"


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            return loads_json(fh.read())
    except FileNotFoundError:
        raise SnapshotError(f"{path}: missing from the snapshot") from None
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: cannot read snapshot file ({exc})") from None


def _read_list(path: Path) -> list[JSON]:
    if not path.exists():
        return []
    value = _read_json(path)
    if not isinstance(value, list):
        raise SnapshotError(f"{path}: expected a JSON list")
    return value


#: Decoded components a :class:`ContentStore` keeps (then it starts afresh): a page's own
#: components are read a few times each while it renders; more would only hold memory.
COMPONENT_CACHE = 512

#: Decoded items a :class:`ContentStore` keeps (then it starts afresh): a page reads its
#: item, its linked items and the items a listing shows, some several times.
ITEM_CACHE = 512


class ContentStore:
    """Lookups over a snapshot: items by (codename | id, language), components, types, terms.

    ``item(codename, language)`` returns the variant the items-feed gave for that language,
    which may be a fallback variant (its ``system.language`` differs). ``is_translated`` tells.
    Items are decoded from their bytes when read (the last few hundred stay decoded); walks
    over every item read their summaries (:meth:`summaries`, :meth:`walk`).
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.default_language = snapshot.default_language
        # The lookups are the item lists' own indexes (kept up to date as items change), so
        # a store costs next to nothing to make: a long-running receiver makes one per
        # rebuild, and that cost must not grow with the site.
        self._lists: dict[str, ItemList] = {
            language: lang_items.items for language, lang_items in snapshot.items.items()
        }
        self._components: dict[str, Components] = {
            language: lang_items.modular_content for language, lang_items in snapshot.items.items()
        }
        self._decoded: dict[tuple[str, str], JSON] = {}
        self._items: dict[tuple[str, str], JSON] = {}
        self.types: dict[str, JSON] = {t["system"]["codename"]: t for t in snapshot.types}
        self.taxonomies: dict[str, JSON] = {t["system"]["codename"]: t for t in snapshot.taxonomies}

    @property
    def languages(self) -> list[str]:
        return self.snapshot.language_codenames

    def _at(self, codename: str, language: str) -> tuple[ItemList, int] | None:
        items = self._lists.get(language)
        if items is None:
            return None
        at = items.find(codename)
        return (items, at) if at is not None else None

    def item(self, codename: str, language: str) -> JSON | None:
        """The variant, decoded (a page reads its items several times: the last few
        hundred stay decoded)."""
        key = (codename, language)
        found = self._items.get(key)
        if found is not None:
            return found
        where = self._at(codename, language)
        if where is None:
            return None
        found = where[0].decode(where[1])
        if len(self._items) >= ITEM_CACHE:
            self._items.clear()
        self._items[key] = found
        return found

    def versions(self) -> tuple[int, ...]:
        """The :attr:`ItemList.version` of every language's items: equal tuples, the same
        items (what a reader that kept something made from them compares)."""
        return tuple(items.version for items in self._lists.values())

    def replaced_since(self, versions: tuple[int, ...]) -> dict[str, list[str]] | None:
        """The codenames of the items replaced, by language, since :meth:`versions` gave
        ``versions``; None when the items changed otherwise (see ``ItemList.replaced_since``)."""
        if len(versions) != len(self._lists):
            return None
        out: dict[str, list[str]] = {}
        for (language, items), version in zip(self._lists.items(), versions, strict=True):
            replaced = items.replaced_since(version)
            if replaced is None:
                return None
            if replaced:
                out[language] = replaced
        return out

    def item_bytes(self, codename: str, language: str) -> bytes | None:
        """The variant's JSON bytes, as stored (not decoded)."""
        items = self._lists.get(language)
        return items.raw_of(codename) if items is not None else None

    def has_item(self, codename: str, language: str) -> bool:
        return self._at(codename, language) is not None

    def light(self, codename: str, language: str) -> JSON | None:
        """The variant's summary as an item (``system`` and the summary's elements only):
        for reads of ``system`` that need not decode the item."""
        where = self._at(codename, language)
        return where[0].summary(where[1]).light if where is not None else None

    def summary(self, codename: str, language: str) -> ItemSummary | None:
        where = self._at(codename, language)
        return where[0].summary(where[1]) if where is not None else None

    def item_by_id(self, item_id: str, language: str) -> JSON | None:
        codename = self.codename_for_id(item_id)
        return self.item(codename, language) if codename else None

    def codename_for_id(self, item_id: str) -> str | None:
        """The codename of the item with this id (the last language's variant wins)."""
        for items in reversed(self._lists.values()):
            codename = items.ids().get(item_id)
            if codename is not None:
                return codename
        return None

    def component(self, codename: str, language: str) -> JSON | None:
        """The component (decoded from its bytes; the last few hundred stay decoded, as a
        page reads its components several times)."""
        key = (codename, language)
        found = self._decoded.get(key)
        if found is not None:
            return found
        table = self._components.get(language)
        if table is None or codename not in table:
            table = next((t for t in self._components.values() if codename in t), None)
            if table is None:
                return None
        found = table[codename]
        if len(self._decoded) >= COMPONENT_CACHE:
            self._decoded.clear()
        self._decoded[key] = found
        return found

    def items(self, language: str) -> Iterator[JSON]:
        """Every item variant of ``language`` in feed order (fallback variants included),
        decoded: for walks that read everything; others use :meth:`summaries` or
        :meth:`walk`."""
        return iter(self.snapshot.items.get(language, LanguageItems()).items)

    def summaries(self, language: str) -> Iterator[JSON]:
        """Every item variant of ``language`` in feed order as its summary's light item:
        ``system`` and the :data:`SUMMARY_ELEMENTS` elements only, nothing decoded."""
        lang_items = self.snapshot.items.get(language)
        if lang_items is None:
            return iter(())
        return (summary.light for summary in lang_items.items.summaries())

    def walk(
        self,
        language: str,
        names: Iterable[str] = (),
        types: Collection[str] | None = None,
        translated_only: bool = False,
    ) -> Iterator[JSON]:
        """Every item variant of ``language`` (of ``types`` when given; only its own
        translations when ``translated_only``) holding at least ``system`` and the elements
        ``names``: the light item of its summary where that has them, else the item decoded
        (not kept). For walks over every item; a page's reads use :meth:`item`."""
        lang_items = self.snapshot.items.get(language)
        if lang_items is None:
            return
        wanted = tuple(names)
        items = lang_items.items
        for at, summary in enumerate(items.summaries()):
            system = summary.light["system"]
            if types is not None and system["type"] not in types:
                continue
            if translated_only and system.get("language") != language:
                continue
            yield items.decode(at) if wanted and summary.lacks(wanted) else summary.light

    def items_of_type(self, type_codename: str, language: str) -> Iterable[JSON]:
        """Every item variant of the type, decoded (only those of the type are)."""
        lang_items = self.snapshot.items.get(language)
        if lang_items is None:
            return
        items = lang_items.items
        for at, summary in enumerate(items.summaries()):
            if summary.light["system"]["type"] == type_codename:
                yield items.decode(at)

    def is_translated(self, item: JSON, language: str) -> bool:
        return bool(item["system"].get("language") == language)


def snapshot_files_digest(folder: Path) -> str | None:
    """A hash of a saved snapshot's files (names and bytes), or None when there is none.

    SHA-256 (hardware-accelerated here: ~0.04 s for a 10k-item snapshot, half of BLAKE2b).
    """
    if not (folder / "manifest.json").is_file():
        return None
    h = hashlib.sha256()
    paths = [*folder.rglob("*.json"), *folder.glob(CHANGE_LOG)]
    for path in sorted(paths):
        h.update(f"{path.relative_to(folder).as_posix()}\0".encode())
        try:
            with open(path, "rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
        except OSError:
            return None
    return h.hexdigest()
