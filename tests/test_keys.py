"""Dependency keys: every kind a page records is one a change produces, and the docs agree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import Builder, BuildOptions
from kontent_ssg.config import load_config
from kontent_ssg.incremental import keys
from kontent_ssg.incremental.fingerprints import Row
from kontent_ssg.incremental.keys import StructuralChange, keys_for_change
from kontent_ssg.speed import ascii_json
from tests.support.docs import keys_block

REPO = Path(__file__).resolve().parent.parent
EN = "en-US"


def _row(**fields: str) -> Row:
    return Row(
        hash="|".join(f"{k}={v}" for k, v in sorted(fields.items())),
        type="article",
        item_id="id-1",
        translated=True,
        fields=fields,
        taxonomy_fields=("elements.topics",),
    )


OLD = _row(**{"elements.title": "a", "elements.topics": "t1", "system.name": "n"})


def _changes(template_keys: set[str]) -> dict[str, tuple[str, set[str]]]:
    """For each key kind: one key of that kind, and the keys a change produces."""
    item_key = ("item", EN, "post")
    edited = _row(**{"elements.title": "b", "elements.topics": "t1", "system.name": "n"})
    retagged = _row(**{"elements.title": "a", "elements.topics": "t2", "system.name": "n"})
    return {
        "item": (keys.item("post", EN), keys_for_change(item_key, OLD, edited)),
        "component": (
            keys.component("c1"),
            keys_for_change(("component", EN, "c1"), Row("h1"), Row("h2")),
        ),
        "taxonomy": (
            keys.taxonomy("topics"),
            keys_for_change(("taxonomy", "", "topics"), Row("h1"), Row("h2")),
        ),
        "type": (keys.listing("article", EN), keys_for_change(item_key, OLD, retagged)),
        "order": (
            keys.order("article", EN, "elements.title"),
            keys_for_change(item_key, OLD, edited),
        ),
        "link": (keys.link("id-1"), keys_for_change(item_key, None, edited)),
        "template": (keys.template("article.html"), template_keys),
        # a term page going (its last item untagged) makes its path stale
        "url": (keys.url("/topics/tea/"), keys.urls_changed(["topics/tea/index.html"])),
        "asset": (keys.asset(ASSET_URL), _asset_now_downloaded()),
    }


ASSET_URL = "https://assets.example/env/3f1c2e0a-0000-4000-8000-000000000001/photo.png"


def _asset_now_downloaded() -> set[str]:
    """The last build could not download an asset (``on_missing = "link"``); this one did."""
    from kontent_ssg.assets.images import ImageFacts
    from kontent_ssg.assets.local import Localizer, Original
    from kontent_ssg.assets.stage import stale_keys

    found = Original(ASSET_URL, "assets/x/photo.png", ImageFacts("PNG", 10, 10))
    return stale_keys(f'["{ASSET_URL}"]', Localizer("assets", {ASSET_URL: found}))


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], set[str]]:
    """Build the example site, then edit a template: the keys its pages recorded, and the
    keys the edit makes stale."""
    site = tmp_path_factory.mktemp("keys") / "example-site"
    shutil.copytree(
        REPO / "example-site",
        site,
        ignore=shutil.ignore_patterns("public", "build", "__pycache__"),
    )
    config = load_config(site, env={})
    with Builder(config, BuildOptions(offline=True, workers=1)) as builder:
        builder.build()
        recorded = set()
        for path in builder.state.page_paths():
            recorded |= builder.state.deps_of(path)
        article = site / "templates" / "article.html"
        article.write_text(article.read_text() + "\n")
        return recorded, builder.content.template_keys()


def test_every_kind_has_a_change_that_produces_it(example_build) -> None:  # type: ignore[no-untyped-def]
    cases = _changes(example_build[1])
    assert set(cases) == {k.kind for k in keys.KINDS}
    for kind, (key, produced) in cases.items():
        assert keys.kind_of(key) == kind
        assert key in produced, f"no change produced {key!r} ({kind})"


def test_every_recorded_key_is_of_a_known_kind(example_build) -> None:  # type: ignore[no-untyped-def]
    # The example site records every kind, and nothing else; but for `asset:`, which needs
    # [site] download_assets (tests/test_assets_build.py shows a site recording it).
    kinds = {keys.kind_of(key) for key in example_build[0]}
    assert kinds == {k.kind for k in keys.KINDS} - {"asset"}


def test_listing_over_every_type_is_made_stale_by_any_item() -> None:
    produced = keys_for_change(("item", EN, "x"), None, _row(**{"system.name": "n"}))
    assert keys.listing(None, EN) in produced
    assert keys.listing(None, EN) == f"type:{keys.ANY_TYPE}:{EN}"


def test_url_keys_are_one_per_served_path() -> None:
    assert keys.url("/articles/") == keys.url("/articles") == keys.url("/articles/index.html")
    assert keys.url("/") == keys.url("/index.html") == "url:/"
    assert keys.urls_changed(["index.html", "css/site.css", "es-ES/articles/index.html"]) == {
        "url:/",
        "url:/css/site.css",
        "url:/es-ES/articles",
    }


def test_a_content_model_change_is_structural() -> None:
    with pytest.raises(StructuralChange):
        keys_for_change(("type", "", "article"), Row("a"), Row("b"))
    with pytest.raises(StructuralChange):
        keys_for_change(("language", "", EN), Row("a"), None)


def test_the_docs_table_is_the_one_the_code_declares() -> None:
    docs = (REPO / "docs" / "INCREMENTAL.md").read_text(encoding="utf-8")
    block = keys_block(docs)
    assert block is not None, "docs/INCREMENTAL.md needs the keys table between its markers"
    assert block == keys.markdown_table(), "docs/INCREMENTAL.md is out of date: run `make docs`"


@pytest.mark.parametrize(
    "row",
    [
        Row("0123456789abcdef"),  # a component's
        Row(""),
        Row('not "hex"'),  # not a digest: the encoder escapes it
        Row("0123456789abcdef", digest="fedcba9876543210"),
        Row("0123456789abcdef", taxonomy_fields=("elements.topics",)),
        OLD,
        # Written by msgspec where its text is json's (ASCII without DEL), else by json:
        # every character json escapes, in every string of a row.
        Row("h", "t", "i", True, {'elements.a"b\\c': "x\ny\x01\t/"}, ("e\x1f",)),
        Row("h", "artículo", "id\x7f", False, {"elements.t": "\u2028😀"}, ("e\x7f",)),
        Row("h", fields={"system.name": "é"}, digest="d\x00"),
    ],
)
def test_a_rows_json_is_the_encoders_and_reads_back(row: Row) -> None:
    text = row.to_json()
    assert json.loads(text)[:6] == [
        row.hash,
        row.type,
        row.item_id,
        row.translated,
        dict(row.fields),
        list(row.taxonomy_fields),
    ]
    assert text == json.dumps(json.loads(text), separators=(",", ":"))
    assert Row.from_json(text) == row


@pytest.mark.parametrize(
    "value",
    [
        ["item:en-US:a", "template:article.html", "url:/articles/a/"],
        ["url:/artículos/ñ/", "template:página.html"],  # json escapes them: json writes it
        ['q"uote', "back\\slash", "tab\tnew\nline\x01", "del\x7f", "\u2028", "😀"],
        {"elements.title": "0123456789abcdef", "system.name": "é"},
        [],
        "url:/a/",
        [True, False, None, 1, 2.5],
        [2**70],  # beyond msgspec's integers: json writes it
    ],
)
def test_ascii_json_is_the_text_json_writes(value: object) -> None:
    assert ascii_json(value) == json.dumps(value, separators=(",", ":"))
