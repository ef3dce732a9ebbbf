"""The snapshot store: components kept as bytes, fallback variants read once, and the change
log that persists what a rebuild changed (docs/SNAPSHOT.md)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import Builder, BuildOptions
from kontent_ssg.config import load_config
from kontent_ssg.content import snapshot as snapshot_module
from kontent_ssg.content.snapshot import (
    CHANGE_LOG,
    ByteArena,
    Components,
    ContentStore,
    LoggedChange,
    append_changes,
    load_snapshot,
    save_snapshot,
)
from kontent_ssg.errors import SnapshotError
from kontent_ssg.incremental import engine
from tests.support.emulator import Emulator
from tests.test_incremental import (
    EN,
    Site,
    article,
    assert_same_as_full_build,
    make_snapshot,
    tree,
)
from tests.test_snapshot import item, sample

ES = "es-ES"


# -- components as bytes, variants read once ------------------------------------------------


def test_components_decode_to_what_was_stored() -> None:
    components = Components({"c1": item("c1", EN, "callout")})
    components["c2"] = item("c2", EN, "quote")
    assert components["c1"] == item("c1", EN, "callout")
    assert dict(components) == {"c1": item("c1", EN, "callout"), "c2": item("c2", EN, "quote")}
    assert "c2" in components and "c3" not in components and len(components) == 2
    assert components.shapes == {"callout": {"title": "text"}, "quote": {"title": "text"}}
    read = components["c1"]
    read["elements"]["title"]["value"] = "edited"  # a fresh dict: the store is unchanged
    assert components["c1"] == item("c1", EN, "callout")
    del components["c1"]
    assert list(components) == ["c2"]


def test_a_store_made_after_an_assignment_reads_what_was_assigned() -> None:
    snapshot = sample()
    store = ContentStore(snapshot)
    assert store.component("n1_comp", EN) is not None  # decoded and kept by that store
    new_b = item("b", EN)
    new_b["elements"]["title"]["value"] = "B, revised"
    snapshot.items[EN].items[1] = new_b
    snapshot.items[EN].modular_content["n1_comp"] = item("n1_comp", EN, "quote")
    # What a receiver's rebuild does: a store made afresh over the changed snapshot.
    updated = ContentStore(snapshot)
    assert updated.item("a", "es-ES") == item("a", "es-ES")
    assert updated.item("b", "es-ES") == item("b", EN)  # the fallback variant, unchanged
    # Items are kept as bytes: reads are fresh dicts, equal to what was assigned.
    assert updated.item("b", EN) == new_b
    assert updated.component("n1_comp", EN)["system"]["type"] == "quote"
    assert updated.item_by_id(new_b["system"]["id"], EN) == new_b


def test_a_fallback_variant_equal_to_the_default_language_one_is_one_object(
    tmp_path: Path,
) -> None:
    snapshot = sample()
    snapshot.items[ES].modular_content["n1_comp"] = item("n1_comp", EN, "callout")
    save_snapshot(snapshot, tmp_path / "snap")
    loaded = load_snapshot(tmp_path / "snap")
    assert loaded == snapshot
    en, es = loaded.items[EN], loaded.items[ES]
    # "b": the fallback variant, the same stored bytes (one slot of the snapshot's arena)
    # and summary
    assert type(es.items.stored(1)) is int and es.items.stored(1) == en.items.stored(1)
    assert es.items.summary(1) is en.items.summary(1)
    assert es.items.stored(0) != en.items.stored(0) and es.items[0]["system"]["language"] == ES
    assert es.modular_content.stored("n1_comp") == en.modular_content.stored("n1_comp")
    store = ContentStore(loaded)
    assert store.component("n1_comp", ES) == item("n1_comp", EN, "callout")


def test_a_component_with_the_bytes_of_an_earlier_languages_is_not_decoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = sample()
    en_comp = item("n1_comp", EN, "callout")
    snapshot.items[ES].modular_content["n1_comp"] = copy.deepcopy(en_comp)
    own = item("n2_comp", ES, "quote")
    snapshot.items[EN].modular_content["n2_comp"] = item("n2_comp", EN, "quote")
    snapshot.items[ES].modular_content["n2_comp"] = own
    save_snapshot(snapshot, tmp_path / "snap")
    checked: list[str] = []
    check = snapshot_module.check_item

    def counting(raw, where, *, component=False):  # type: ignore[no-untyped-def]
        if component:
            checked.append(f"{raw['system']['language']}:{raw['system']['codename']}")
        check(raw, where, component=component)

    monkeypatch.setattr(snapshot_module, "check_item", counting)
    loaded = load_snapshot(tmp_path / "snap")
    # es-ES's copy of n1_comp is en-US's bytes: shared, never decoded or checked again;
    # its own n2_comp is.
    assert sorted(checked) == ["en-US:n1_comp", "en-US:n2_comp", "es-ES:n2_comp"]
    en, es = loaded.items[EN].modular_content, loaded.items[ES].modular_content
    assert es.stored("n1_comp") == en.stored("n1_comp") and es["n1_comp"] == en_comp
    assert es["n2_comp"] == own and es.stored("n2_comp") != en.stored("n2_comp")
    # The model its shape widens is every language's.
    assert es.shapes == en.shapes and set(es.shapes) == {"callout", "quote"}
    assert loaded == snapshot
    # A copy that differs in any byte is decoded and checked like any other.
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "snap", broken)
    es_file = broken / "items" / "es-ES.json"
    data = json.loads(es_file.read_text())
    data["modular_content"]["n1_comp"]["system"]["codename"] = 5
    es_file.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=r"es-ES\.json \(modular_content\)"):
        load_snapshot(broken)


# -- the arena: items and components in a file with no name ----------------------------------


def _arena_values(count: int) -> list[bytes]:
    return [json.dumps({"n": n, "text": "x" * (n % 97)}).encode() for n in range(count)]


def test_an_arena_with_a_folder_keeps_its_bytes_in_a_nameless_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "SPILL_CHUNK", 1000)
    values = _arena_values(500)
    arena = ByteArena(tmp_path)
    slots = [arena.add(value) for value in values]
    assert 0 < arena._written < sum(map(len, values))  # some written, the last chunk not yet
    assert arena.get(slots[-1]) == values[-1] and arena.get(slots[0]) == values[0]
    arena.seal()
    assert not arena._pending and arena._written == sum(map(len, values))
    assert list(tmp_path.iterdir()) == []  # the file has no name
    assert [arena.get(slot) for slot in slots] == values
    assert arena.decode(slots[7]) == {"n": 7, "text": "x" * 7}
    assert arena.equals(slots[3], values[3]) and not arena.equals(slots[3], values[4])
    # A forked process (a render process) reads the same bytes through the same file.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        ok = all(arena.get(slot) == value for slot, value in zip(slots, values, strict=True))
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.waitpid(pid, 0)


def test_slots_read_in_order_are_the_bytes_read_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks and chunks, so that blocks end inside slots, a slot is larger than a
    # block, and the last slots are still in memory.
    monkeypatch.setattr(snapshot_module, "SPILL_CHUNK", 3000)
    monkeypatch.setattr(snapshot_module, "READ_BLOCK", 700)
    values = [*_arena_values(400), b"[" + b"1," * 600 + b"1]"]
    values.append(b'{"last":true}')
    arena = ByteArena(tmp_path)
    slots = [arena.add(value) for value in values]
    assert 0 < arena._written < sum(map(len, values))
    every = list(range(len(slots)))
    # In order; two regions taken in turn (a language's components and those it shares
    # with another, stored earlier); backwards; one slot again and again.
    for order in (
        every,
        [s for pair in zip(every[:200], every[200:400], strict=True) for s in pair],
        every[::-1],
        [5, 5, 5, 400, 5, 401, 0],
    ):
        assert list(arena.read_in_order(slots[i] for i in order)) == [values[i] for i in order]
    # Components read in order, as fingerprints and saves read them (items read so when a
    # loaded snapshot is saved: the change log's tests below).
    components = Components()
    components.use_arena(arena)
    for i, slot in enumerate(slots):
        components.put(f"c{i}", slot if i % 3 else values[i], None)
    assert list(components.raw_items()) == [(f"c{i}", v) for i, v in enumerate(values)]
    # An arena without a file (one that could not make it) reads each slot from memory.
    with monkeypatch.context() as patch:
        patch.setattr(snapshot_module.tempfile, "TemporaryFile", _no_file)
        memory = ByteArena(tmp_path)
    kept = [memory.add(value) for value in [b"", *values]]  # an empty slot first
    assert list(memory.read_in_order(kept)) == [b"", *values]


def _no_file(*args: object, **kwargs: object) -> None:
    raise PermissionError(13, "Permission denied")


def test_a_folder_that_cannot_take_the_file_keeps_the_arena_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "SPILL_CHUNK", 1000)
    values = _arena_values(300)
    with monkeypatch.context() as patch:
        patch.setattr(snapshot_module.tempfile, "TemporaryFile", _no_file)
        arena = ByteArena(tmp_path)
    slots = [arena.add(value) for value in values]
    arena.seal()
    assert arena._written == 0 and [arena.get(slot) for slot in slots] == values
    # A disk that fills up while the bytes are written: what the file holds stays, the rest
    # (and everything after) stays in memory.
    arena = ByteArena(tmp_path)
    first = [arena.add(value) for value in values[:150]]
    written = arena._written
    assert written > 0

    def full(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module.os, "pwrite", full)
    rest = [arena.add(value) for value in values[150:]]
    arena.seal()
    assert arena._written == written and not arena._spilling
    monkeypatch.undo()
    assert [arena.get(slot) for slot in first + rest] == values


def test_a_loaded_snapshot_keeps_its_items_in_the_snapshot_folders_file(tmp_path: Path) -> None:
    snapshot = sample()
    save_snapshot(snapshot, tmp_path / "snap")
    loaded = load_snapshot(tmp_path / "snap")
    arena = loaded.items[EN].items._arena
    assert arena is not None and arena._written > 0 and not arena._pending
    assert loaded == snapshot


def test_saved_language_files_are_the_indented_json_of_the_feed(tmp_path: Path) -> None:
    snapshot = sample()
    save_snapshot(snapshot, tmp_path / "snap")
    for language, lang_items in snapshot.items.items():
        text = (tmp_path / "snap" / "items" / f"{language}.json").read_text()
        assert text == json.dumps(lang_items.to_json(), ensure_ascii=False, indent=1) + "\n"


# -- the change log -------------------------------------------------------------------------


def _saved(tmp_path: Path) -> Path:
    folder = tmp_path / "snap"
    save_snapshot(sample(), folder)
    return folder


def test_the_log_replays_over_the_files_in_order(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    changed = item("a", EN)
    changed["elements"]["title"]["value"] = "A, changed"
    append_changes(
        folder,
        [
            LoggedChange(EN, "item", "a", changed),
            LoggedChange(EN, "item", "c", item("c", EN)),
            LoggedChange(EN, "item", "b", None),
            LoggedChange(EN, "component", "n1_comp", item("n1_comp", EN, "quote")),
        ],
    )
    append_changes(folder, [LoggedChange(EN, "item", "b", item("b", EN))])
    loaded = load_snapshot(folder)
    assert [i["system"]["codename"] for i in loaded.items[EN].items] == ["a", "c", "b"]
    assert loaded.items[EN].items[0] == changed
    assert loaded.items[EN].modular_content["n1_comp"] == item("n1_comp", EN, "quote")
    assert loaded.items[ES] == sample().items[ES]
    save_snapshot(loaded, folder)  # a crawl or pull: the log is part of the files now
    assert not (folder / CHANGE_LOG).exists()
    assert load_snapshot(folder) == loaded


def test_a_torn_last_line_is_ignored_and_cut_by_the_next_append(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    line = LoggedChange(EN, "item", "c", item("c", EN)).line()
    with open(folder / CHANGE_LOG, "ab") as fh:
        fh.write(line[: len(line) // 2])  # what a write killed halfway leaves
    assert load_snapshot(folder) == sample()
    append_changes(folder, [LoggedChange(EN, "item", "d", item("d", EN))])
    loaded = load_snapshot(folder)
    assert [i["system"]["codename"] for i in loaded.items[EN].items] == ["a", "b", "d"]
    assert (folder / CHANGE_LOG).read_bytes() == LoggedChange(EN, "item", "d", item("d", EN)).line()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json\n", "not a JSON object"),
        (b'{"language": "fr-FR", "item": "a", "value": null}\n', "not a change of a language"),
        (b'{"language": "en-US", "value": null}\n', "names no item or component"),
        (b'{"language": "en-US", "item": "a", "value": {"system": {}}}\n', "system"),
    ],
)
def test_a_bad_log_line_is_an_error_naming_the_file_and_line(
    tmp_path: Path, line: bytes, problem: str
) -> None:
    folder = _saved(tmp_path)
    append_changes(folder, [LoggedChange(EN, "item", "c", item("c", EN))])
    with open(folder / CHANGE_LOG, "ab") as fh:
        fh.write(line)
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(folder)
    assert f"{folder / CHANGE_LOG}, line 2" in str(caught.value)
    assert problem in str(caught.value)


def test_a_bad_log_is_a_one_line_error_of_an_offline_build(tmp_path: Path) -> None:
    with Emulator(make_snapshot()) as emu:
        site = Site(tmp_path / "site", emu)
        site.build()
    with open(site.config.snapshot_dir / CHANGE_LOG, "ab") as fh:
        fh.write(b"garbage\n")
    run = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(site.folder), "--offline"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"{CHANGE_LOG}, line 1: not a JSON object" in run.stderr


_APPENDER = """
import sys
from pathlib import Path
from kontent_ssg.content.snapshot import LoggedChange, append_changes
from tests.test_snapshot import item
folder = Path(sys.argv[1])
n = 0
while True:
    n += 1
    big = item("c", "en-US")
    big["elements"]["title"]["value"] = str(n) * 400_000
    append_changes(folder, [LoggedChange("en-US", "item", "c", big)])
    print(n, flush=True)
"""


def test_a_process_killed_while_appending_leaves_a_loadable_snapshot(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    root = Path(__file__).resolve().parent.parent
    for kill in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(folder)],
            cwd=root,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        assert proc.stdout is not None
        for _ in range(3 + kill):
            assert proc.stdout.readline(), "the appender died on its own"
        time.sleep(0.01 * kill)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        loaded = load_snapshot(folder)
        c = loaded.items[EN].items[-1]
        assert c["system"]["codename"] == "c"
        value = c["elements"]["title"]["value"]  # one whole value some append wrote
        assert value == value[: len(value) // 400_000] * 400_000 and value.isdigit()


# -- the log written by rebuilds ------------------------------------------------------------


@pytest.fixture
def site(tmp_path):
    with Emulator(make_snapshot()) as emu:
        s = Site(tmp_path / "site", emu)
        assert s.build().pages_written
        yield s


def _change_everything(site: Site) -> None:
    gamma = site.item("gamma")
    gamma["elements"]["title"]["value"] = "Gamma, changed"
    site.emu.upsert_item(gamma)
    beta = site.item("beta")
    callout = copy.deepcopy(site.emu.snapshot.items[EN].modular_content["c_beta"])
    callout["elements"]["text"]["value"] = "Callout v2"
    site.emu.upsert_item(beta, components={"c_beta": callout})
    site.emu.upsert_item(article("epsilon", "Epsilon", topics=["coffee"]))
    site.emu.delete_item("delta", EN)


def _clean_offline_build(site: Site, tmp_path: Path) -> Path:
    """A full ``--offline`` build of a copy of the site with its saved snapshot only."""
    folder = tmp_path / "offline"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(site.folder, folder, ignore=shutil.ignore_patterns("public", "build*"))
    with Builder(load_config(folder, env={}), BuildOptions(offline=True, full=True)) as b:
        b.build()
    return folder / "public"


def test_rebuilds_append_what_changed_and_the_snapshot_builds_the_same_site(site, tmp_path):
    items_file = site.config.snapshot_dir / "items" / f"{EN}.json"
    before = items_file.read_bytes()
    _change_everything(site)
    for _ in range(2):  # one change per build, as webhooks come
        report = site.build()
        assert report.incremental
    site.emu.upsert_item(article("zeta", "Zeta"))
    assert site.build().incremental
    assert items_file.read_bytes() == before  # the 10k-item file is not rewritten
    log = (site.config.snapshot_dir / CHANGE_LOG).read_text().splitlines()
    named = [(json.loads(line).get("item") or json.loads(line)["component"]) for line in log]
    assert {"gamma", "beta", "c_beta", "epsilon", "delta", "zeta"} <= set(named)
    # The saved snapshot holds what a fresh crawl finds.
    assert_same_as_full_build(site, tmp_path)
    saved = load_snapshot(site.config.snapshot_dir).items[EN]
    crawled = load_snapshot(tmp_path / "clean" / ".kontent-ssg" / "snapshot").items[EN]
    assert {i["system"]["codename"]: i for i in saved.items} == {
        i["system"]["codename"]: i for i in crawled.items
    }
    assert dict(saved.modular_content) == dict(crawled.modular_content)
    # What the site was built from is what is saved: an offline build of it is the same site.
    assert tree(_clean_offline_build(site, tmp_path)) == tree(site.out)


def test_a_grown_log_is_folded_into_the_language_files(site, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "COMPACT_RATIO", 0.0)
    monkeypatch.setattr(engine, "COMPACT_MIN", 0)
    items_file = site.config.snapshot_dir / "items" / f"{EN}.json"
    before = items_file.read_bytes()
    _change_everything(site)
    site.build()
    assert not (site.config.snapshot_dir / CHANGE_LOG).exists()
    assert items_file.read_bytes() != before
    assert "Gamma, changed" in items_file.read_text()
    assert tree(_clean_offline_build(site, tmp_path)) == tree(site.out)


def test_a_crawl_holds_a_fallback_variant_once(tmp_path: Path) -> None:
    from kontent_ssg.content.delivery import DeliveryClient, crawl

    snapshot = sample()
    snapshot.languages.append({"system": {"id": "1", "name": "Spanish", "codename": ES}})
    snapshot.items[ES].items = [item("a", ES)]  # "b" comes as its en-US fallback variant
    with Emulator(snapshot) as emu, DeliveryClient(emu.url, emu.environment_id) as client:
        crawled = crawl(client)
    en, es = crawled.items[EN], crawled.items[ES]
    assert [i["system"]["language"] for i in es.items] == [ES, EN]
    # One stored value (a slot of the crawl's arena) for the variant both languages hold.
    assert es.items.stored(1) == en.items.stored(1)
    assert es.items.stored(0) != en.items.stored(0)
    assert es.items.summary(1) is en.items.summary(1)
    assert es.items[1] == item("b", EN)
    save_snapshot(crawled, tmp_path / "snap")
    assert load_snapshot(tmp_path / "snap") == crawled


def test_an_item_list_names_the_items_replaced_since_a_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(snapshot_module, "REPLACED_LOG", 4)
    snapshot = sample()
    items = snapshot.items[EN].items
    start = items.version
    assert items.replaced_since(start) == []
    first = items[0]
    items[0] = first
    after_one = items.version
    assert after_one != start and items.replaced_since(start) == [first["system"]["codename"]]
    assert items.replaced_since(after_one) == []
    # A copy shares the history up to now and goes its own way from there.
    twin = copy.deepcopy(items)
    twin[1] = twin[1]
    assert items.replaced_since(after_one) == []
    assert twin.replaced_since(after_one) == [twin[1]["system"]["codename"]]
    # Older than the bounded record: unknown.
    for _ in range(5):
        items[0] = first
    assert items.replaced_since(start) is None
    recent = items.version
    items[1] = items[1]
    assert items.replaced_since(recent) == [items[1]["system"]["codename"]]
    # An item added: what changed since before it is unknown; since after it, known again.
    items.append(item("zeta", EN))
    assert items.replaced_since(recent) is None
    assert items.replaced_since(items.version) == []
    store = ContentStore(snapshot)
    versions = store.versions()
    items[0] = first
    assert store.replaced_since(versions) == {EN: [first["system"]["codename"]]}
