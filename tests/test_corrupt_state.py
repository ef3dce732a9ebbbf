"""A corrupt build state is moved aside with a warning, and the build is done afresh.

On 520e6a3 a garbage, truncated or partly overwritten ``state.sqlite`` gave a traceback on
every run, ``--full`` included. The state is a cache of the last build, so the cure is a
full build; only webhook notifications still queued in it are lost, and the warning says so.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.config import Config
from kontent_ssg.content.webhooks import Change
from kontent_ssg.incremental.state import BuildState, is_corrupt, state_path
from tests.support.sites import content_type, item, make_site, slug, snapshot, text, tree

TOML = '[site]\noutput = "public"\n[routes.article]\npath = "/a/{url}/"\ntemplate = "a.html"\n'


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(40_000))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def _page_overwritten(path: Path) -> None:
    """One b-tree page in the middle of the file replaced by noise: the file opens, and
    only a query that reads that page (or an integrity check) notices."""
    data = bytearray(path.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle : middle + page] = os.urandom(page)
    path.write_bytes(bytes(data))


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "garbage": _garbage,
    "truncated": _truncated,
    "header": _header,
    "page overwritten": _page_overwritten,
}


def _site(root: Path) -> Config:
    items = [
        item(
            f"p{i:03d}", "article", elements={"title": text(f"T{i}" * 50), "url": slug(f"p{i:03d}")}
        )
        for i in range(200)
    ]
    snap = snapshot({"en-US": items}, types=[content_type("article", title="text", url="url_slug")])
    return make_site(root, TOML, {"a.html": "{{ item.title }}"}, snap)


@pytest.fixture
def built(tmp_path: Path) -> Config:
    config = _site(tmp_path / "site")
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    state = BuildState(state_path(config.state_dir))
    state.enqueue([Change(kind="item", codename="p001", language="en-US")])
    state.close()
    for suffix in ("-wal", "-shm"):  # as after a clean exit: everything in the main file
        assert not Path(f"{state_path(config.state_dir)}{suffix}").exists()
    return config


@pytest.mark.parametrize("flags", [[], ["--full"]], ids=["incremental", "full"])
@pytest.mark.parametrize("corrupt", list(CORRUPTIONS))
def test_a_corrupt_state_is_moved_aside_and_the_site_rebuilt(
    built: Config, corrupt: str, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(built.output_dir)
    path = state_path(built.state_dir)
    CORRUPTIONS[corrupt](path)
    # A page of the output changes too, so the build has something to put right.
    (built.output_dir / "a" / "p005" / "index.html").unlink()
    capsys.readouterr()
    assert main(["build", str(built.site_dir), "--offline", *flags]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "the build state was corrupt" in err and "queued in it are lost" in err
    aside = list(path.parent.glob("state.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].name.startswith("state.sqlite.corrupt-2")
    assert tree(built.output_dir) == before
    # The new state works: the next build has nothing to do, and says nothing about it.
    assert main(["build", str(built.site_dir), "--offline"]) == 0
    err = capsys.readouterr().err
    assert "state was corrupt" not in err and "0 written" in err


def test_only_damage_counts_as_corruption(tmp_path: Path) -> None:
    """A locked or read-only database is not moved aside: the file itself is fine."""
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5  # type: ignore[attr-defined]
    assert not is_corrupt(locked)
    path = tmp_path / "x.sqlite"
    _garbage(path)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(path).execute("PRAGMA journal_mode=WAL")
    assert is_corrupt(caught.value)
