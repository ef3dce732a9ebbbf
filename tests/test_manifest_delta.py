"""A rebuild that changes a few files records only them, in the manifest's delta.

The manifest lists every file of the output; rewriting it after each webhook rebuild cost
tens of milliseconds at 100k items. A small rebuild writes ``manifest.delta.json`` instead
(every change since the manifest was written); the two together are the record, through
kills and lost files alike (``kontent_ssg/builder/output.py``, ``journal.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from kontent_ssg.builder.journal import Journal, recover
from kontent_ssg.builder.output import DELTA_SHARE, load_manifest
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.config import Config
from kontent_ssg.content.snapshot import save_snapshot
from tests.support.sites import (
    ARTICLE_TOML,
    article_snapshot,
    make_site,
    tree,
)
from tests.test_publish_journal import Killed, _kill_publish_after

ARTICLES = 80  # files of the site: a delta holds at most 80 // DELTA_SHARE = 2 of them


def _content(titles: dict[int, str], count: int = ARTICLES):  # type: ignore[no-untyped-def]
    return article_snapshot({f"a{i:02d}": titles.get(i, f"title {i}") for i in range(count)})


@pytest.fixture
def site(tmp_path: Path) -> Config:
    config = make_site(
        tmp_path / "site", ARTICLE_TOML, {"article.html": "<h1>{{ item.title }}</h1>"}
    )
    save_snapshot(_content({}), config.snapshot_dir)
    assert not build(config, BuildOptions(offline=True)).incremental
    return config


def _retitle(config: Config, titles: dict[int, str]) -> None:
    save_snapshot(_content(titles), config.snapshot_dir)


def _files(config: Config) -> tuple[Path, Path]:
    folder = config.state_dir / "build"
    return folder / "manifest.json", folder / "manifest.delta.json"


def _assert_record_is_the_output(config: Config) -> dict:  # type: ignore[type-arg]
    """The manifest as read back (with its delta) describes every file exactly as it is."""
    manifest = load_manifest(config, config.output_dir, preview=False)
    assert manifest is not None
    on_disk = tree(config.output_dir)
    assert set(manifest["files"]) == set(on_disk)
    for rel, (size, mtime, digest) in manifest["files"].items():
        st = os.stat(config.output_dir / rel)
        assert (size, mtime) == (st.st_size, st.st_mtime_ns), rel
        assert digest == hashlib.sha256(on_disk[rel]).hexdigest()[:32], rel
    return manifest


def test_a_small_change_writes_a_delta_and_leaves_the_manifest_as_it_was(site: Config) -> None:
    assert ARTICLES // DELTA_SHARE == 2
    manifest, delta = _files(site)
    before = manifest.read_bytes()
    base = json.loads(before)["build"]
    _retitle(site, {0: "changed"})
    report = build(site, BuildOptions(offline=True))
    assert report.incremental and report.pages_written == ["articles/a00/index.html"]
    assert manifest.read_bytes() == before
    recorded = json.loads(delta.read_bytes())
    assert recorded["base"] == base and recorded["build"] != base
    assert list(recorded["files"]) == ["articles/a00/index.html"]
    assert _assert_record_is_the_output(site)["build"] == recorded["build"]
    # The state agrees with the record: nothing to do next time.
    again = build(site, BuildOptions(offline=True))
    assert again.incremental and again.pages_written == [] and not again.pages_deleted


def test_the_delta_holds_every_change_until_the_manifest_is_written_whole(site: Config) -> None:
    manifest, delta = _files(site)
    before = manifest.read_bytes()
    _retitle(site, {0: "one"})
    build(site, BuildOptions(offline=True))
    _retitle(site, {0: "one", 1: "two"})
    build(site, BuildOptions(offline=True))
    assert manifest.read_bytes() == before
    assert sorted(json.loads(delta.read_bytes())["files"]) == [
        "articles/a00/index.html",
        "articles/a01/index.html",
    ]
    _assert_record_is_the_output(site)
    # A third changed file is more than one in DELTA_SHARE: the manifest is written whole.
    _retitle(site, {0: "one", 1: "two", 2: "three"})
    report = build(site, BuildOptions(offline=True))
    assert report.pages_written == ["articles/a02/index.html"]
    assert manifest.read_bytes() != before and not delta.exists()
    assert _assert_record_is_the_output(site)["build"] == json.loads(manifest.read_bytes())["build"]
    # And a change after that starts a new delta on top of it.
    _retitle(site, {0: "one", 1: "two", 2: "three", 3: "four"})
    build(site, BuildOptions(offline=True))
    assert list(json.loads(delta.read_bytes())["files"]) == ["articles/a03/index.html"]
    _assert_record_is_the_output(site)


def test_a_page_that_goes_writes_the_manifest_whole(site: Config) -> None:
    manifest, delta = _files(site)
    _retitle(site, {0: "one"})
    build(site, BuildOptions(offline=True))
    assert delta.exists()
    save_snapshot(_content({0: "one"}, count=ARTICLES - 1), site.snapshot_dir)
    report = build(site, BuildOptions(offline=True))
    assert report.pages_deleted == [f"articles/a{ARTICLES - 1}/index.html"]
    assert not delta.exists()
    assert f"articles/a{ARTICLES - 1}/index.html" not in json.loads(manifest.read_bytes())["files"]
    _assert_record_is_the_output(site)


def test_a_delta_made_on_another_manifest_or_damaged_is_not_read(site: Config) -> None:
    _, delta = _files(site)
    base = load_manifest(site, site.output_dir, preview=False)
    assert base is not None
    foreign = {
        "format": 1,
        "output": str(site.output_dir),
        "build": "x" * 32,
        "base": "another build",
        "files": {"articles/a00/index.html": [1, 2, "f" * 32]},
    }
    delta.write_text(json.dumps(foreign))
    assert load_manifest(site, site.output_dir, preview=False) == base
    delta.write_text(json.dumps({**foreign, "base": base["build"]})[:-20])
    assert load_manifest(site, site.output_dir, preview=False) == base
    # A delta that does not read leaves the record at the manifest's build, which the state
    # does not know: the next build is a full one, and the output stays right.
    _retitle(site, {5: "five"})
    delta.write_text("{")
    build(site, BuildOptions(offline=True))
    _retitle(site, {5: "five", 6: "six"})
    delta.write_text("{")
    report = build(site, BuildOptions(offline=True))
    assert not report.incremental
    assert (site.output_dir / "articles" / "a06" / "index.html").read_text() == "<h1>six</h1>"
    _assert_record_is_the_output(site)


def _killed_before_the_first_rename(site: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build killed once its publish journal is written, before anything moved."""
    _kill_publish_after(monkeypatch, 0)
    with pytest.raises(Killed):
        build(site, BuildOptions(offline=True, workers=1))
    monkeypatch.undo()


def test_a_publish_of_a_delta_killed_halfway_is_completed(
    site: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, delta = _files(site)
    _retitle(site, {0: "one"})
    _killed_before_the_first_rename(site, monkeypatch)
    assert not delta.exists() and Path(f"{delta}.next").exists()
    assert recover(Journal.for_site(site.state_dir, preview=False), lambda message: None)
    assert (site.output_dir / "articles" / "a00" / "index.html").read_text() == "<h1>one</h1>"
    assert delta.exists() and not Path(f"{delta}.next").exists()
    _assert_record_is_the_output(site)
    report = build(site, BuildOptions(offline=True))
    assert report.incremental and report.pages_written == []


def test_a_lost_staged_delta_makes_the_next_build_full(
    site: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a power cut the journal is on disk but the staged delta may not be."""
    manifest, delta = _files(site)
    _retitle(site, {0: "one"})
    build(site, BuildOptions(offline=True))  # a delta is in place
    _retitle(site, {0: "one", 1: "two"})
    _killed_before_the_first_rename(site, monkeypatch)
    Path(f"{delta}.next").unlink()
    messages: list[str] = []
    recover(Journal.for_site(site.state_dir, preview=False), messages.append)
    assert "this build is a full one" in messages[0]
    assert not delta.exists()
    recovered = json.loads(manifest.read_bytes())
    assert recovered["build"].startswith("recovered-")
    assert set(recovered["files"]) == set(tree(site.output_dir))
    report = build(site, BuildOptions(offline=True))
    assert not report.incremental
    assert (site.output_dir / "articles" / "a01" / "index.html").read_text() == "<h1>two</h1>"
    _assert_record_is_the_output(site)


def test_a_builder_whose_build_failed_after_staging_reads_the_published_record_again(
    site: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-running builder (the receiver) keeps the manifest in memory and updates its
    entries in place while publishing; a build failing after that must not leave them."""
    from kontent_ssg.builder.journal import Journal as JournalClass
    from kontent_ssg.builder.pipeline import Builder
    from kontent_ssg.errors import BuildError

    gone = site.output_dir / "articles" / f"a{ARTICLES - 1}" / "index.html"
    with Builder(site, BuildOptions(offline=True, workers=1)) as builder:
        builder.build()
        save_snapshot(_content({0: "one"}, count=ARTICLES - 1), site.snapshot_dir)
        real = JournalClass.publishing

        def full_disk(self, publication):  # type: ignore[no-untyped-def]
            raise BuildError("cannot write the publish journal: No space left on device")

        monkeypatch.setattr(JournalClass, "publishing", full_disk)
        with pytest.raises(BuildError, match="No space left"):
            builder.build()
        assert gone.exists()  # nothing was published
        monkeypatch.setattr(JournalClass, "publishing", real)
        report = builder.build()
        assert report.pages_deleted == [f"articles/a{ARTICLES - 1}/index.html"]
        assert not gone.exists()
        assert (site.output_dir / "articles" / "a00" / "index.html").read_text() == "<h1>one</h1>"
    _assert_record_is_the_output(site)
