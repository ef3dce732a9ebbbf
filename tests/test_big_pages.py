"""A page of a megabyte or more (a sitemap part of a large site) is staged on a thread while
the next pages render: the result and the failure paths are those of any page."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from kontent_ssg.builder import output
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.errors import BuildError
from tests.support.sites import (
    ARTICLE_TOML,
    article_snapshot,
    make_site,
    tree,
)

# ``big`` renders 1.1 MB, the others a line.
TEMPLATE = (
    "<h1>{{ item.title }}</h1>"
    "{% if item.codename == 'big' %}{% for i in range(110000) %}0123456789{% endfor %}{% endif %}"
)


def _site(root: Path, title: str = "v1"):  # type: ignore[no-untyped-def]
    snap = article_snapshot({name: f"{name} {title}" for name in ("a", "big", "c")})
    return make_site(root, ARTICLE_TOML, {"article.html": TEMPLATE}, snap)


def test_a_big_page_is_staged_on_a_thread_and_published_like_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, str] = {}
    real = output.StagedWriter.stage

    def stage(self, path, data):  # type: ignore[no-untyped-def]
        threads[path] = threading.current_thread().name
        return real(self, path, data)

    monkeypatch.setattr(output.StagedWriter, "stage", stage)
    config = _site(tmp_path / "site")
    report = build(config, BuildOptions(offline=True, workers=1))
    assert {"articles/a/index.html", "articles/big/index.html", "articles/c/index.html"} <= set(
        report.pages_written
    )
    assert threads["articles/big/index.html"].startswith("kontent-ssg-stage")
    assert threads["articles/c/index.html"] == threading.current_thread().name
    page = (config.output_dir / "articles" / "big" / "index.html").read_bytes()
    assert len(page) >= output.REMEMBERED_SIZE and page.startswith(b"<h1>big v1</h1>0123")
    # Unchanged next time, whichever thread looked.
    again = build(config, BuildOptions(offline=True, workers=1, full=True))
    assert again.pages_written == []


def test_a_big_page_that_cannot_be_written_fails_the_build_and_leaves_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _site(tmp_path / "site")
    build(config, BuildOptions(offline=True, workers=1))
    before = tree(config.output_dir)
    changed = _site(tmp_path / "site", "v2")
    real = output._write_new

    def write_new(path, data, digest):  # type: ignore[no-untyped-def]
        if len(data) >= output.REMEMBERED_SIZE:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real(path, data, digest)

    monkeypatch.setattr(output, "_write_new", write_new)
    with pytest.raises(BuildError, match=r"cannot write .*articles/big/index.html: No space left"):
        build(changed, BuildOptions(offline=True, workers=1))
    assert tree(config.output_dir) == before  # no staged file left, nothing published
