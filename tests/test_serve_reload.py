"""`kontent-ssg serve` keeps working across kontent.toml edits.

Editing the config replaces serve's builder; the webhook route and the rebuild worker used to
keep the first builder's (closed) build state: "Cannot operate on a closed database" in the
worker, then 500s from ``POST /webhook`` and ``GET /health``, and later edits ignored. Editors
that save by replacing the file (``sed -i``, vim, IDEs) were not followed at all.

A real ``serve`` process; the config is edited three ways (in place, replaced by a rename,
``sed -i``), each edit moving something serve must follow (the title, the output folder, the
webhook path); then a content webhook, and the page loaded in headless Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.browser import dump_dom
from tests.support.emulator import Emulator, WebhookChange, build_webhook_body
from tests.support.net import wait_for
from tests.support.serve_process import ServeProcess
from tests.test_incremental import article, make_snapshot

CONFIG = """\
[kontent]
environment_id = "{env}"
delivery_url = "{url}"

[site]
title = "Site v0"
output = "public"

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"
"""

ARTICLE = (
    "<!doctype html><html><head><title>{{ site.title }}</title></head><body>"
    '<h1>{{ item.title }}</h1><p class="site">{{ site.title }}</p></body></html>'
)


def _write_site(folder: Path, emu: Emulator) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "article.html").write_text(ARTICLE)
    (folder / "templates" / "404.html").write_text("<h1>Not found</h1>")
    (folder / "kontent.toml").write_text(CONFIG.format(env=emu.environment_id, url=emu.url))
    return folder


def test_serve_follows_three_config_edits_then_takes_a_webhook(tmp_path: Path) -> None:
    sed = shutil.which("sed")
    if sed is None:
        pytest.fail("this test edits the config with `sed -i`, and there is no sed on PATH")
    with Emulator(make_snapshot()) as emu:
        site = _write_site(tmp_path / "site", emu)
        config = site / "kontent.toml"
        serve = ServeProcess(site, log=tmp_path / "serve.log")
        base = serve.base
        page_url = f"{base}/articles/gamma/"

        def page() -> str:
            response = serve.get("/articles/gamma/")
            return response.text if response is not None and response.status_code == 200 else ""

        def shows(title: str) -> bool:
            return f'<p class="site">{title}</p>' in page()

        try:
            wait_for(lambda: shows("Site v0"), what="serve up")

            # 1. In place: the same file, truncated and rewritten.
            config.write_text(config.read_text().replace("Site v0", "Site v1"))
            wait_for(lambda: shows("Site v1"), what="the in-place edit")

            # 2. Replaced: a new file renamed over the old one; the output folder moves.
            fresh = site / "kontent.toml.new"
            fresh.write_text(
                config.read_text()
                .replace("Site v1", "Site v2")
                .replace('output = "public"', 'output = "www"')
            )
            os.replace(fresh, config)
            wait_for(lambda: shows("Site v2"), what="the edit by replacement")
            assert (site / "www" / "articles" / "gamma" / "index.html").is_file()

            # 3. `sed -i` (writes a temporary file, renames it over kontent.toml); the
            # webhook path moves.
            subprocess.run(
                [
                    sed,
                    "-i",
                    "-e",
                    "s/Site v2/Site v3/",
                    "-e",
                    '$a [webhook]\\npath = "/hooks/cms"',
                    str(config),
                ],
                check=True,
            )
            assert '[webhook]\npath = "/hooks/cms"' in config.read_text()
            wait_for(lambda: shows("Site v3"), what="the sed -i edit")

            health = httpx.get(f"{base}/health", timeout=5)
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok"

            emu.upsert_item(article("gamma", "Gamma after the edits", topics=["tea"]))
            body = build_webhook_body(
                [WebhookChange("content_item", "published", {"codename": "gamma", "id": "x"})]
            )
            as_json = {"Content-Type": "application/json"}
            answer = httpx.post(f"{base}/hooks/cms", content=body, headers=as_json, timeout=10)
            assert answer.status_code == 202, answer.text
            old_path = httpx.post(f"{base}/webhook", content=body, headers=as_json, timeout=10)
            assert old_path.status_code == 405  # the old path no longer takes webhooks
            wait_for(lambda: "<h1>Gamma after the edits</h1>" in page(), what="webhook applied")

            def settled() -> dict[str, int] | None:
                # The page is on disk before the worker marks its notification done.
                health = httpx.get(f"{base}/health", timeout=5)
                assert health.status_code == 200, health.text
                stats: dict[str, int] = health.json()
                return stats if stats["pending"] == 0 and stats["rebuilds"] >= 1 else None

            stats = wait_for(settled, what="the queue to drain")
            assert stats["failures"] == 0

            dom, browser_log = dump_dom(page_url, tmp_path / "profile")
            assert "<title>Site v3</title>" in dom
            assert "<h1>Gamma after the edits</h1>" in dom
            assert '<p class="site">Site v3</p>' in dom
            assert "__kontent-ssg/reload" in dom  # the live-reload script is on the page
            console = [line for line in browser_log.splitlines() if ":CONSOLE" in line]
            assert console == [], "console messages:\n" + "\n".join(console)
        finally:
            serve.stop()
        output = serve.log_text()
        assert "Traceback" not in output and "closed database" not in output, output
