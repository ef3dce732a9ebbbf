"""A CI cache brings the output back with other mtimes (a fresh checkout, a tar or a copy
that rounds them): the next build must still be incremental, and still notice an edit."""

from __future__ import annotations

import os
from pathlib import Path

from kontent_ssg.builder.pipeline import BuildOptions, build
from tests.support.sites import make_site
from tests.test_build import TEMPLATES, TOML, three_articles


def _shift_mtimes(folder: Path, seconds: int) -> int:
    """Every file's mtime moved, rounded to the millisecond (as JavaScript copies do)."""
    count = 0
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            mtime = (st.st_mtime_ns // 1_000_000 + seconds * 1000) * 1_000_000
            os.utime(path, ns=(st.st_atime_ns, mtime))
            count += 1
    return count


def test_output_restored_with_new_mtimes_stays_incremental(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", TOML, TEMPLATES, three_articles(), {"style.css": "b{}"})
    build(site, BuildOptions(offline=True))
    assert _shift_mtimes(site.output_dir, 3600) > 10
    _shift_mtimes(site.static_dir, 3600)  # a fresh checkout: new mtimes for the sources too
    again = build(site, BuildOptions(offline=True))
    assert again.incremental  # not "the output folder changed since the last build"
    assert again.pages_written == [] and again.static_written == []
    # The manifest took the new mtimes: the build after needs no reading at all.
    third = build(site, BuildOptions(offline=True))
    assert third.skipped and third.pages_written == []


def test_an_edited_output_file_still_means_a_full_build(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", TOML, TEMPLATES, three_articles())
    build(site, BuildOptions(offline=True))
    page = site.output_dir / "articles/one/index.html"
    original = page.read_bytes()
    page.write_bytes(original.upper())  # same size, other bytes
    again = build(site, BuildOptions(offline=True))
    assert not again.incremental
    assert again.pages_written == ["articles/one/index.html"]
    assert page.read_bytes() == original
