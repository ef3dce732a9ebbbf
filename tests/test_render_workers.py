"""Render workers die with the build: SIGKILL of a real ``kontent-ssg build`` mid-render.

A forked worker used to hold its own result pipe's read end and the build's stdout: after
the main process was killed it blocked for ever writing its next result, and
``kontent-ssg build | cat`` never ended (fails on 520e6a3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from kontent_ssg.builder.parallel import PARALLEL_MIN_PAGES
from tests.support.processes import kill_session, start_build, wait_for_no_survivors
from tests.support.sites import content_type, item, make_site, slug, snapshot, text

PAGES = PARALLEL_MIN_PAGES + 100  # enough for the build to fork a render worker


def _slow_site(root: Path) -> Path:
    """A site whose pages take a few milliseconds each to render and each read every item:
    a worker's results (the dependency keys) soon fill its pipe when nobody reads it."""
    items = [
        item(f"a{i:04d}", "article", elements={"title": text(f"T{i}"), "url": slug(f"a{i:04d}")})
        for i in range(PAGES)
    ]
    snap = snapshot({"en-US": items}, types=[content_type("article", title="text", url="url_slug")])
    config = make_site(
        root,
        '[site]\noutput = "public"\n[routes.article]\npath = "/articles/{url}/"\n'
        'template = "article.html"\n',
        {
            "article.html": "{% for i in range(20000) %}{% endfor %}<h1>{{ item.title }}</h1>"
            "{% for other in items(type='article') %}{{ other.title }}{% endfor %}"
        },
        snap,
    )
    return config.site_dir


def test_killing_a_build_mid_render_leaves_no_worker_and_ends_the_pipe(tmp_path: Path) -> None:
    site = _slow_site(tmp_path / "site")
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    env = {**os.environ, "KONTENT_SSG_WORKERS": "2"}
    build = start_build(site, "--offline", stdout=cat.stdin, stderr=subprocess.DEVNULL, env=env)
    assert cat.stdin is not None
    cat.stdin.close()
    try:
        # Both processes are rendering once pages appear in the first build's stand-in folder.
        staged = site / ".public.kontent-ssg-tmp" / "articles"
        deadline = time.monotonic() + 120
        while len(list(staged.glob("*/index.html"))) < 20:
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the render never started"
            time.sleep(0.005)
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        assert wait_for_no_survivors(build.pid) == []
        assert cat.wait(timeout=30) == 0  # its input ended: nobody holds the pipe open
    finally:
        kill_session(build.pid)
        cat.kill()
        cat.wait()
