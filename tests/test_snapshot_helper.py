"""A snapshot's later languages read by a forked helper while the build reads the first
(docs/SNAPSHOT.md, "Reading the languages at once"): the same content, the same errors, and
no helper left behind."""

from __future__ import annotations

import copy
import json
import os
import weakref
from pathlib import Path
from typing import Any

import pytest

from kontent_ssg.content import snapshot as snapshot_module
from kontent_ssg.content.snapshot import (
    ByteArena,
    LanguageItems,
    Snapshot,
    load_snapshot,
    save_snapshot,
)
from kontent_ssg.errors import SnapshotError
from tests.support.golden import EXAMPLE_SITE, GOLDEN, build_example_site
from tests.support.sites import tree
from tests.test_snapshot import item

EN, ES, MX = "en-US", "es-ES", "es-MX"


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every load forks a helper whatever the files' size; the pids of those it forked."""
    monkeypatch.setattr(snapshot_module, "HELPER_MIN_BYTES", 0)
    started: list[int] = []
    start = snapshot_module._LaterLanguages.start.__func__  # type: ignore[attr-defined]

    def spy(cls: Any, *args: Any) -> Any:
        later = start(cls, *args)
        if later is not None:
            started.append(later._pid)
        return later

    monkeypatch.setattr(snapshot_module._LaterLanguages, "start", classmethod(spy))
    return started


def _gone(pid: int) -> bool:
    """Whether ``pid`` is no longer a child of this process (ended and waited for)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def three_languages() -> Snapshot:
    """en-US; es-ES translating "a" and falling back to en-US for "b"; es-MX falling back to
    es-ES (a chain of two), with components shared, translated and of its own."""
    callout = item("c1", EN, "callout")
    callout["elements"]["group"] = {"type": "taxonomy", "taxonomy_group": "topics", "value": []}
    quote_es = item("c2", ES, "quote")
    quote_es["elements"]["author"] = {"type": "text", "value": "Ana"}
    own_mx = item("c3", MX, "cta")
    return Snapshot(
        default_language=EN,
        languages=[{"system": {"id": str(n), "codename": c}} for n, c in enumerate((EN, ES, MX))],
        types=[{"system": {"codename": "article"}, "elements": {}}],
        taxonomies=[{"system": {"codename": "topics"}, "terms": []}],
        items={
            EN: LanguageItems(
                items=[item("a", EN), item("b", EN)],
                modular_content={"c1": callout, "c2": item("c2", EN, "quote")},
            ),
            ES: LanguageItems(
                items=[item("a", ES), item("b", EN)],
                modular_content={"c1": copy.deepcopy(callout), "c2": quote_es},
            ),
            MX: LanguageItems(
                items=[item("a", ES), item("b", EN), item("m", MX)],
                modular_content={"c2": copy.deepcopy(quote_es), "c3": own_mx},
            ),
        },
    )


def _layout(snapshot: Snapshot) -> list[Any]:
    """Everything a load decides besides the values: which stored slots the languages share,
    the summaries and the components' shapes and groups, in order."""
    first_seen: dict[Any, int] = {}
    out: list[Any] = []
    for language, lang in snapshot.items.items():
        items, components = lang.items, lang.modular_content
        for at in range(len(items)):
            out.append(first_seen.setdefault(items.stored(at), len(first_seen)))
            out.append(items.summary(at))
        for codename in components:
            out.append(first_seen.setdefault(components.stored(codename), len(first_seen)))
        out.append((language, [(k, list(v.items())) for k, v in components.shapes.items()]))
        out.append(sorted(components.groups))
    return out


def test_a_helper_reads_the_later_languages_as_this_process_would(
    tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_snapshot(three_languages(), tmp_path / "snap")
    alone = load_snapshot(tmp_path / "snap")
    assert helpers == []  # one reader: no helper
    checked: list[str] = []
    check = snapshot_module.check_item

    def counting(raw: Any, where: str, *, component: bool = False) -> None:
        checked.append(Path(where.split(" ")[0]).name)
        check(raw, where, component=component)

    monkeypatch.setattr(snapshot_module, "check_item", counting)
    together = load_snapshot(tmp_path / "snap", readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    # The helper checked the later languages in its own process: this one only en-US's.
    assert set(checked) == {"en-US.json"}
    assert together == alone == three_languages()
    assert _layout(together) == _layout(alone)
    mx, es, en = (together.items[lang] for lang in (MX, ES, EN))
    # es-MX's "a" is es-ES's bytes, its "b" en-US's: one stored value each.
    assert mx.items.stored(0) == es.items.stored(0) != en.items.stored(0)
    assert mx.items.stored(1) == en.items.stored(1) and mx.items.summary(1) is en.items.summary(1)
    assert mx.modular_content.stored("c2") == es.modular_content.stored("c2")
    assert mx.modular_content["c3"]["system"]["type"] == "cta"
    assert mx.modular_content.shapes["callout"] == {"title": "text", "group": "taxonomy"}
    assert mx.modular_content.groups == {"topics"}


def test_the_example_snapshot_and_site_are_the_same_with_a_helper(
    tmp_path: Path, helpers: list[int]
) -> None:
    folder = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    alone = load_snapshot(folder)
    together = load_snapshot(folder, readers=2)
    assert len(helpers) == 1
    assert together == alone and _layout(together) == _layout(alone)
    assert tree(build_example_site(tmp_path, workers=2)) == tree(GOLDEN)
    assert len(helpers) == 2 and all(_gone(pid) for pid in helpers)


def _broken(tmp_path: Path, language: str, edit: Any) -> Path:
    folder = tmp_path / f"snap-{len(list(tmp_path.iterdir()))}"
    save_snapshot(three_languages(), folder)
    path = folder / "items" / f"{language}.json"
    path.write_bytes(edit(path.read_bytes()))
    return folder


def _bad_codename(data: bytes) -> bytes:
    feed = json.loads(data)
    feed["items"][-1]["system"]["codename"] = 5
    return json.dumps(feed).encode()


@pytest.mark.parametrize(
    ("language", "edit"),
    [
        (ES, _bad_codename),
        (MX, _bad_codename),
        (ES, lambda data: data[: len(data) // 2]),  # cut short
        (MX, lambda data: json.dumps({"items": 5}).encode()),
    ],
    ids=["es-item", "mx-item", "truncated", "not-a-list"],
)
def test_a_later_language_in_error_gets_the_error_it_gets_without_a_helper(
    tmp_path: Path, helpers: list[int], language: str, edit: Any
) -> None:
    folder = _broken(tmp_path, language, edit)
    with pytest.raises(SnapshotError) as alone:
        load_snapshot(folder)
    with pytest.raises(SnapshotError) as together:
        load_snapshot(folder, readers=2)
    assert str(together.value) == str(alone.value) and f"{language}.json" in str(alone.value)
    assert together.value.hint == alone.value.hint
    assert len(helpers) == 1 and _gone(helpers[0])


def test_a_missing_later_file_and_an_error_in_the_first_end_the_helper(
    tmp_path: Path, helpers: list[int]
) -> None:
    missing = tmp_path / "missing"
    save_snapshot(three_languages(), missing)
    (missing / "items" / "es-MX.json").unlink()
    with pytest.raises(SnapshotError, match=r"es-MX\.json: missing from the snapshot"):
        load_snapshot(missing, readers=2)
    assert helpers == []  # its size unknown: read here, which says what is missing
    first = _broken(tmp_path, EN, _bad_codename)
    with pytest.raises(SnapshotError, match=r"en-US\.json"):
        load_snapshot(first, readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])  # killed, not left reading


def test_a_helper_that_dies_leaves_the_reading_to_this_process(
    tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_snapshot(three_languages(), tmp_path / "snap")

    def dying(*args: Any) -> Any:
        os._exit(3)

    monkeypatch.setattr(snapshot_module, "_read_later", dying)
    loaded = load_snapshot(tmp_path / "snap", readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    assert loaded == three_languages()
    assert _layout(loaded) == _layout(load_snapshot(tmp_path / "snap"))


def test_a_file_the_helper_cannot_split_is_read_here_with_those_after_it(
    tmp_path: Path, helpers: list[int]
) -> None:
    # A byte order mark: msgspec cannot split the file, the whole-file reading takes it.
    folder = _broken(tmp_path, ES, lambda data: b"\xef\xbb\xbf" + data)
    loaded = load_snapshot(folder, readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    assert loaded == three_languages()
    assert _layout(loaded) == _layout(load_snapshot(folder))


def test_a_helper_that_stops_partway_hands_over_what_it_read(
    tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    save_snapshot(three_languages(), tmp_path / "snap")
    read_later = snapshot_module._read_later

    def first_only(folder: Path, languages: list[str], *args: Any) -> Any:
        return read_later(folder, languages[:1], *args)  # es-ES, then it stops

    monkeypatch.setattr(snapshot_module, "_read_later", first_only)
    loaded = load_snapshot(tmp_path / "snap", readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    assert loaded == three_languages()
    assert _layout(loaded) == _layout(load_snapshot(tmp_path / "snap"))


def _values_and_summaries(snapshot: Snapshot) -> list[Any]:
    """What a load must give whoever reads it: every value and summary, the content model."""
    out: list[Any] = []
    for language, lang in snapshot.items.items():
        out.append((language, list(lang.items.raws()), lang.items.summaries()))
        out.append(list(lang.modular_content.raw_items()))
    # The content model sums up the components of every language (ContentModel): so may
    # the per-language shapes and groups differ, whose sums it takes.
    shapes: dict[str, dict[str, str]] = {}
    groups: set[str] = set()
    for lang in snapshot.items.values():
        for kind, shape in lang.modular_content.shapes.items():
            for name, element_type in shape.items():
                shapes.setdefault(kind, {}).setdefault(name, element_type)
        groups |= lang.modular_content.groups
    out.append([(kind, list(shape.items())) for kind, shape in shapes.items()])
    out.append(groups)
    return out


def test_layouts_pull_does_not_write_load_the_same_values(
    tmp_path: Path, helpers: list[int]
) -> None:
    """Files formatted differently from each other, a codename repeated in a later feed, a
    third language falling back past a second that translated the item: which equal values
    share a stored copy may differ, the values may not."""
    snapshot = three_languages()
    snapshot.items[MX].items.append(item("b", EN))  # "b" twice in es-MX's feed
    snapshot.items[MX].items[0] = item("a", EN)  # past es-ES's own "a", to en-US's
    folder = tmp_path / "snap"
    save_snapshot(snapshot, folder)
    es = folder / "items" / "es-ES.json"
    es.write_bytes(json.dumps(json.loads(es.read_bytes())).encode())  # compact, not indented
    alone = load_snapshot(folder)
    together = load_snapshot(folder, readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    assert together == alone and together.items[MX].items[0] == item("a", EN)
    assert _values_and_summaries(together) == _values_and_summaries(alone)


def test_a_language_listed_twice_loads_as_without_a_helper(
    tmp_path: Path, helpers: list[int]
) -> None:
    folder = tmp_path / "snap"
    save_snapshot(three_languages(), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["languages"].insert(2, ES)  # en-US, es-ES, es-ES, es-MX
    (folder / "manifest.json").write_text(json.dumps(manifest))
    alone = load_snapshot(folder)
    together = load_snapshot(folder, readers=2)
    assert len(helpers) == 1 and _gone(helpers[0])
    assert together == alone == three_languages()
    assert _layout(together) == _layout(alone)


@pytest.mark.parametrize("readers", [1, 2])
def test_one_language_files_bytes_at_a_time(
    tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch, readers: int
) -> None:
    """A split file's spans hold all its bytes (124 MB a language at 10k real-shaped
    items): the build lets go of each before it splits the next (a load that kept the
    first file's while reading the second peaked ~100 MB higher)."""
    save_snapshot(three_languages(), tmp_path / "snap")
    split = snapshot_module._split_language
    alive: list[list[str]] = []
    feeds: list[tuple[str, weakref.ref[Any]]] = []

    def watched(path: Path) -> Any:
        alive.append([name for name, feed in feeds if feed() is not None])
        feed = split(path)
        feeds.append((path.name, weakref.ref(feed)))
        return feed

    monkeypatch.setattr(snapshot_module, "_split_language", watched)
    assert load_snapshot(tmp_path / "snap", readers=readers) == three_languages()
    # The helper splits the later languages in its own process: here only en-US.
    assert len(alive) == (3 if readers == 1 else 1)
    assert alive == [[]] * len(alive)
    assert all(feed() is None for _, feed in feeds)


# -- absorbing another process's arena --------------------------------------------------------


def _values(count: int, salt: str) -> list[bytes]:
    return [json.dumps({"n": n, "s": salt * (n % 50)}).encode() for n in range(count)]


def _copy_failing_partway(monkeypatch: pytest.MonkeyPatch) -> None:
    """``os.copy_file_range`` copying all but the last 40 bytes (the middle of a slot),
    then failing."""
    copy = os.copy_file_range
    calls: list[int] = []

    def failing(src: int, dst: int, count: int, offset_src: int, offset_dst: int) -> int:
        calls.append(count)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return copy(src, dst, count - 40, offset_src, offset_dst)

    monkeypatch.setattr(os, "copy_file_range", failing)


def _counting_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    copy = os.copy_file_range
    calls: list[int] = []

    def counting(*args: int) -> int:
        calls.append(args[2])
        return copy(*args)

    monkeypatch.setattr(os, "copy_file_range", counting)
    return calls


def _spill_failing(monkeypatch: pytest.MonkeyPatch, arena: ByteArena) -> None:
    """``arena``'s file taking one more write, then full."""
    pwrite = os.pwrite
    writes: list[int] = []

    def failing(fd: int, data: Any, offset: int) -> int:
        if fd == arena._fd:
            writes.append(len(data))
            if len(writes) > 1:
                raise OSError(28, "No space left on device")
        return pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", failing)


@pytest.mark.parametrize("copying", ["kernel", "chunks", "kernel-fails", "spill-fails"])
@pytest.mark.parametrize("target_file", [True, False], ids=["file", "memory"])
def test_an_arena_absorbs_the_slots_another_process_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copying: str, target_file: bool
) -> None:
    monkeypatch.setattr(snapshot_module, "SPILL_CHUNK", 1000)
    copies: list[int] = []
    if copying in ("chunks", "spill-fails"):
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    elif copying == "kernel-fails":
        _copy_failing_partway(monkeypatch)
    else:
        copies = _counting_copies(monkeypatch)
    mine, theirs = _values(300, "a"), _values(400, "b")
    theirs[200] = json.dumps("x" * 3000).encode()  # a slot larger than a chunk
    arena = ByteArena(tmp_path if target_file else None)
    slots = [arena.add(value) for value in mine]
    other = ByteArena(tmp_path)
    pid = os.fork()
    if pid == 0:  # another process fills the shared file, as the helper does
        try:
            for value in theirs:
                other.add(value)
            layout = other.layout()
            assert layout is not None
            (tmp_path / "layout").write_bytes(layout)
        finally:
            os._exit(0 if (tmp_path / "layout").exists() else 1)
    assert os.waitpid(pid, 0)[1] == 0
    if copying == "spill-fails":
        _spill_failing(monkeypatch, arena)
    first = arena.absorb(other, (tmp_path / "layout").read_bytes())
    if copying == "kernel" and target_file:
        assert copies and sum(copies) >= len(b"".join(theirs))  # copied by the kernel
    if copying == "spill-fails" and target_file:
        assert not arena._spilling and arena._pending  # the rest stayed in memory
    assert first == len(mine)
    more = arena.add(b'"after"')
    assert [arena.get(slot) for slot in slots] == mine
    assert [arena.get(first + n) for n in range(len(theirs))] == theirs
    assert arena.get(more) == b'"after"'
    assert list(arena.read_in_order(range(more + 1))) == [*mine, *theirs, b'"after"']
    assert ByteArena(None).layout() is None  # no file another process could fill
