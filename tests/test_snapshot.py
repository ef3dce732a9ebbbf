from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontent_ssg.content.snapshot import (
    ContentStore,
    LanguageItems,
    Snapshot,
    load_snapshot,
    loads_json,
    save_snapshot,
)
from kontent_ssg.errors import SnapshotError


def item(codename: str, language: str, type_: str = "article", id_: str | None = None) -> dict:
    return {
        "system": {
            "id": id_ or f"id-{codename}",
            "name": codename.title(),
            "codename": codename,
            "language": language,
            "type": type_,
            "last_modified": "2026-01-01T00:00:00Z",
        },
        "elements": {"title": {"type": "text", "name": "Title", "value": codename}},
    }


def sample() -> Snapshot:
    return Snapshot(
        default_language="en-US",
        languages=[{"system": {"id": "0", "name": "English", "codename": "en-US"}}],
        types=[{"system": {"codename": "article"}, "elements": {}}],
        taxonomies=[{"system": {"codename": "topics"}, "terms": []}],
        items={
            "en-US": LanguageItems(
                items=[item("a", "en-US"), item("b", "en-US")],
                modular_content={"n1_comp": item("n1_comp", "en-US", "callout")},
            ),
            "es-ES": LanguageItems(items=[item("a", "es-ES"), item("b", "en-US")]),
        },
    )


def test_round_trip(tmp_path: Path) -> None:
    save_snapshot(sample(), tmp_path / "snap")
    loaded = load_snapshot(tmp_path / "snap")
    assert loaded == sample()
    assert loaded.language_codenames == ["en-US", "es-ES"]
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest == {"format": 1, "default_language": "en-US", "languages": ["en-US", "es-ES"]}


def test_unknown_manifest_keys_are_ignored(tmp_path: Path) -> None:
    """A hand-made snapshot (the example site's) may carry the emulator's ``fallbacks``."""
    folder = tmp_path / "snap"
    save_snapshot(sample(), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["fallbacks"] = {"es-ES": "en-US"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert load_snapshot(folder) == sample()


def test_save_is_deterministic_and_removes_stale_languages(tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    save_snapshot(sample(), folder)
    first = {p.name: p.read_bytes() for p in folder.rglob("*.json")}
    smaller = sample()
    del smaller.items["es-ES"]
    save_snapshot(smaller, folder)
    assert not (folder / "items" / "es-ES.json").exists()
    save_snapshot(sample(), folder)
    assert {p.name: p.read_bytes() for p in folder.rglob("*.json")} == first


def test_missing_and_bad_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="kontent-ssg pull"):
        load_snapshot(tmp_path / "none")
    save_snapshot(sample(), tmp_path / "snap")
    (tmp_path / "snap" / "items" / "es-ES.json").write_text("{not json")
    with pytest.raises(SnapshotError, match=r"es-ES\.json"):
        load_snapshot(tmp_path / "snap")
    (tmp_path / "snap" / "manifest.json").write_text('{"format": 99}')
    with pytest.raises(SnapshotError, match="unknown snapshot format"):
        load_snapshot(tmp_path / "snap")


def test_unsafe_language_codename_cannot_name_a_file(tmp_path: Path) -> None:
    snap = sample()
    snap.items["../evil"] = LanguageItems()
    with pytest.raises(SnapshotError, match="cannot name a snapshot file"):
        save_snapshot(snap, tmp_path / "snap")


def test_store_lookups() -> None:
    store = ContentStore(sample())
    assert store.languages == ["en-US", "es-ES"]
    assert store.item("a", "es-ES")["system"]["language"] == "es-ES"
    fallback = store.item("b", "es-ES")
    assert fallback is not None and not store.is_translated(fallback, "es-ES")
    assert store.item_by_id("id-a", "en-US")["system"]["codename"] == "a"
    assert store.item("missing", "en-US") is None
    assert store.component("n1_comp", "es-ES")["system"]["type"] == "callout"
    assert [i["system"]["codename"] for i in store.items_of_type("article", "en-US")] == ["a", "b"]
    assert "topics" in store.taxonomies


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": [1, 2.5, -3e5, true, false, null, "x\\u00e9\\n"], "b": {}}',
        b'{"a": 1, "a": 2}',  # the last duplicate wins, as in json
        b"\xef\xbb\xbf[1]",  # a byte order mark: json accepts it
        b"[NaN, Infinity, 1e400]",
        b"[12345678901234567890123]",
    ],
)
def test_loads_json_gives_what_the_json_module_gives(text: bytes) -> None:
    expected = json.loads(text)
    got = loads_json(text)
    assert json.dumps(got) == json.dumps(expected)
    assert type(got) is type(expected)


def test_unpaired_surrogates_become_replacement_characters() -> None:
    """No UTF-8 file can hold them: a title with one made every write of its page fail."""
    got = loads_json(b'{"v\\udc00": ["\\ud800 unpaired", "\\ud83d\\ude00 paired"]}')
    assert got == {"v\ufffd": ["\ufffd unpaired", "\U0001f600 paired"]}


def test_json_nested_too_deeply_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_json(b"[" * 100_000 + b"]" * 100_000)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
def test_loads_json_round_trips_like_json(value: object) -> None:
    data = json.dumps(value).encode()
    assert loads_json(data) == json.loads(data)


@pytest.mark.parametrize("text", [b"", b"[1,", b'{"a" 1}', b"[1] x", b'"\xff"'])
def test_loads_json_raises_value_error_for_malformed_json(text: bytes) -> None:
    with pytest.raises(ValueError):
        loads_json(text)
