"""A build that fails changes nothing visible, and says why in one line.

Regression tests for incremental builds that failed halfway (an overlong slug, a read-only
folder, a full disk) after replacing some pages, and for file-system errors that printed a
traceback. Each drives the CLI (``kontent_ssg.cli.main``) on a small site: a first build,
a content change, then the build under test, whose output must be byte-identical to the
first one's.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from kontent_ssg.builder import output
from kontent_ssg.cli import main
from kontent_ssg.content.snapshot import save_snapshot
from tests.support.faults import read_only
from tests.support.sites import content_type, item, make_site, slug, snapshot, text, tree

TOML = """
[site]
output = "public"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[routes.note]
path = "/notes/{url}/"
template = "article.html"
"""
TEMPLATES = {"article.html": "<h1>{{ item.title }}</h1>"}
TYPES = [content_type(t, title="text", url="url_slug") for t in ("article", "note")]


def _snapshot(version: str, extra: list[dict] | None = None, *, notes: int = 3):  # type: ignore[no-untyped-def]
    items = [
        item(
            f"a{i:02d}",
            "article",
            elements={"title": text(f"A{i} {version}"), "url": slug(f"a{i:02d}")},
        )
        for i in range(8)
    ] + [
        item(f"n{i}", "note", elements={"title": text(f"N{i} {version}"), "url": slug(f"n{i}")})
        for i in range(notes)
    ]
    return snapshot({"en-US": items + (extra or [])}, types=TYPES)


@pytest.fixture
def built(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A site built once (state, manifest, output), then its content changed: every page's
    title differs, so an incremental build rewrites all of them."""
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snapshot("v1"))
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    save_snapshot(_snapshot("v2"), config.snapshot_dir)
    return config


def _build(config, *flags: str) -> int:  # type: ignore[no-untyped-def]
    return main(["build", str(config.site_dir), "--offline", *flags])


def _one_error(err: str) -> str:
    """The error the CLI printed: one ``error:`` line (and its hint), no traceback."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def _no_staged_files(root: Path) -> None:
    assert [p for p in root.rglob("*") if p.name.endswith(".kontent-ssg-tmp")] == []


def test_an_overlong_slug_is_reported_and_the_rest_builds(built, capsys) -> None:  # type: ignore[no-untyped-def]
    long = item("long_one", "article", elements={"title": text("L"), "url": slug("x" * 300)})
    save_snapshot(_snapshot("v2", [long]), built.snapshot_dir)
    assert _build(built) == 0
    err = capsys.readouterr().err
    assert "long_one (en-US) has no page" in err and "at most 238" in err
    assert "Traceback" not in err
    assert (built.output_dir / "articles/a00/index.html").read_text() == "<h1>A0 v2</h1>"


def test_an_overlong_slug_fails_a_strict_incremental_build_leaving_the_output(
    built,  # type: ignore[no-untyped-def]
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """On 520e6a3 the pages before the long slug were replaced, then a traceback."""
    before = tree(built.output_dir)
    # Sorted after every other page, so a build that writes as it goes has written them all.
    long = item("zz", "article", elements={"title": text("Z"), "url": slug("z" * 300)})
    save_snapshot(_snapshot("v2", [long]), built.snapshot_dir)
    assert _build(built, "--strict") == 1
    err = capsys.readouterr().err
    assert "--strict" in _one_error(err) and "zz (en-US) has no page" in err
    assert tree(built.output_dir) == before
    _no_staged_files(built.site_dir)
    assert _build(built) == 0  # without --strict the rest is published
    assert (built.output_dir / "articles/a00/index.html").read_text() == "<h1>A0 v2</h1>"


def test_a_read_only_subfolder_fails_an_incremental_build_leaving_the_output(
    built,  # type: ignore[no-untyped-def]
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """The articles are written first (in path order), then ``notes/`` is read-only."""
    before = tree(built.output_dir)
    with read_only(built.output_dir / "notes" / "n1"):
        assert _build(built) == 1
    err = capsys.readouterr().err
    assert "notes/n1/index.html: " in _one_error(err)
    assert "the previous output is unchanged" in err
    assert tree(built.output_dir) == before
    _no_staged_files(built.site_dir)
    assert _build(built) == 0
    assert (built.output_dir / "notes/n1/index.html").read_text() == "<h1>N1 v2</h1>"


def test_a_page_that_went_from_a_read_only_folder_fails_before_publishing(
    built,  # type: ignore[no-untyped-def]
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """Deleting is part of publishing: a folder a page cannot be deleted from is found
    before anything is moved into place."""
    before = tree(built.output_dir)
    save_snapshot(_snapshot("v2", notes=2), built.snapshot_dir)  # n2 goes
    with read_only(built.output_dir / "notes" / "n2"):
        assert _build(built) == 1
    error = _one_error(capsys.readouterr().err)
    assert "cannot delete the pages that went from" in error and "notes/n2" in error
    assert tree(built.output_dir) == before
    _no_staged_files(built.site_dir)
    assert _build(built) == 0
    assert not (built.output_dir / "notes" / "n2").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_fails_an_incremental_build_leaving_the_output(
    built,  # type: ignore[no-untyped-def]
    capsys,  # type: ignore[no-untyped-def]
    monkeypatch,  # type: ignore[no-untyped-def]
    workers: int,
) -> None:
    """The disk fills up after a few pages were staged (injected ENOSPC; tests/soak has the
    same with a real full tmpfs). With two render processes the worker reports it too."""
    before = tree(built.output_dir)
    real = output._write_new
    calls = {"n": 0}

    def filling(path: str, data: bytes, digest: str) -> list:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real(path, data, digest)

    monkeypatch.setattr(output, "_write_new", filling)
    monkeypatch.setenv("KONTENT_SSG_WORKERS", str(workers))
    assert _build(built) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in _one_error(err) and "free some disk space" in err
    assert tree(built.output_dir) == before
    _no_staged_files(built.site_dir)


def test_a_read_only_output_folder_is_one_line_not_a_traceback(built, capsys) -> None:  # type: ignore[no-untyped-def]
    before = tree(built.output_dir)
    with read_only(built.output_dir, tree=True):
        assert _build(built, "--full") == 1
    assert _one_error(capsys.readouterr().err).startswith("error: cannot write ")
    assert tree(built.output_dir) == before


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snapshot("v1"))
    locked = tmp_path / "locked"
    locked.mkdir()
    with read_only(locked):
        code = main(
            ["build", str(config.site_dir), "--offline", "--output", str(locked / "out" / "x")]
        )
    assert code == 1
    assert _one_error(capsys.readouterr().err).startswith("error: cannot write ")
    assert list(locked.iterdir()) == []
