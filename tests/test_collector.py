"""The cyclic collector during a build: what the render leaves is frozen, not walked again
by the collections after it (kontent_ssg.speed)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from kontent_ssg.builder import parallel
from kontent_ssg.builder.pipeline import Builder, BuildOptions
from kontent_ssg.config import load_config
from tests.support.sites import content_type, item, make_site, slug, snapshot, text


def _site(root: Path) -> Path:
    items = [
        item(f"a{i:02d}", "article", elements={"title": text(f"T{i}"), "url": slug(f"a{i:02d}")})
        for i in range(30)
    ]
    snap = snapshot({"en-US": items}, types=[content_type("article", title="text", url="url_slug")])
    config = make_site(
        root,
        '[site]\noutput = "public"\n[routes.article]\npath = "/articles/{url}/"\n'
        'template = "article.html"\n',
        {"article.html": "<h1>{{ item.title }}</h1>"},
        snap,
    )
    return config.site_dir


def test_the_renders_results_are_frozen_before_the_build_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    record = Builder._record
    render_pages = parallel.render_pages

    def rendering(*args: object, **kwargs: object) -> object:
        seen["threshold"] = gc.get_threshold()[0]
        return render_pages(*args, **kwargs)  # type: ignore[arg-type]

    def recording(self: Builder, delta, site, rendered, *args: object) -> None:  # type: ignore[no-untyped-def]
        # Objects the collector walks: none of the rendered pages' results.
        walked = {id(o) for o in gc.get_objects() if type(o) is parallel.RenderedPage}
        seen["pages"] = len(rendered)
        seen["walked"] = sum(id(page) in walked for page in rendered)
        record(self, delta, site, rendered, *args)

    monkeypatch.setattr(parallel, "render_pages", rendering)
    monkeypatch.setattr(Builder, "_record", recording)
    config = load_config(_site(tmp_path / "site"))
    before = gc.get_freeze_count()
    with Builder(config, BuildOptions(offline=True, workers=1), log=lambda _: None) as builder:
        builder.build()
    assert seen["pages"] and seen["pages"] >= 30
    assert seen["walked"] == 0
    assert seen["threshold"] == 200_000  # young collections rarer while rendering
    assert gc.get_freeze_count() == before  # the build's freeze is undone when it ends
