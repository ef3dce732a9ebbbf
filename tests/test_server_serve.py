"""`kontent-ssg serve` end to end: live reload, rebuilds on template changes, survives a
broken template, accepts content webhooks."""

from __future__ import annotations

import json

import httpx

from tests.support.emulator import Emulator, WebhookChange, build_webhook_body
from tests.support.net import wait_for
from tests.support.serve_process import ServeProcess
from tests.test_incremental import article, make_snapshot, write_site


def test_serve_reloads_rebuilds_and_survives_errors(tmp_path):
    with Emulator(make_snapshot()) as emu:
        site = write_site(tmp_path / "site", emu)
        serve = ServeProcess(site, log=tmp_path / "serve.log")
        base, get = serve.base, serve.get

        def generation() -> dict:
            response = get("/__kontent-ssg/reload")
            assert response is not None
            return response.json()

        try:
            page = wait_for(lambda: get("/articles/gamma/"), what="serve up")
            assert page.status_code == 200
            assert b"__kontent-ssg/reload" in page.content  # injected into the response
            written = (site / "public" / "articles" / "gamma" / "index.html").read_bytes()
            assert b"__kontent-ssg/reload" not in written  # never into the file
            g0 = generation()["generation"]

            template = site / "templates" / "article.html"
            template.write_text(template.read_text().replace("<h1>", '<h1 class="v2">'))
            wait_for(lambda: generation()["generation"] > g0, what="rebuild after edit")
            assert b'<h1 class="v2">' in get("/articles/gamma/").content

            g1 = generation()["generation"]
            template.write_text("{% for %}broken")
            wait_for(
                lambda: generation()["generation"] > g1 and generation()["error"],
                what="failed rebuild reported",
            )
            shown = get("/articles/gamma/")
            assert shown.status_code == 200 and b"build failed" in shown.content
            template.write_text('<h1 class="v3">{{ item.title }}</h1>{{ item.body }}')
            wait_for(lambda: generation()["error"] is None, what="fixed")
            assert b'<h1 class="v3">' in get("/articles/gamma/").content

            emu.upsert_item(article("gamma", "Gamma live", topics=["tea"]))
            body = build_webhook_body(
                [WebhookChange("content_item", "published", {"codename": "gamma", "id": "x"})]
            )
            answer = httpx.post(
                f"{base}/webhook",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
            wait_for(
                lambda: b"Gamma live" in get("/articles/gamma/").content, what="webhook applied"
            )
            missing = get("/nope/")
            assert missing is not None and missing.status_code == 404
            nul = get("/articles/%00/")
            assert nul is not None and nul.status_code == 404
            # DNS rebinding: another name for 127.0.0.1 is not this server's.
            rebound = httpx.get(f"{base}/articles/gamma/", headers={"Host": "evil.test"})
            assert rebound.status_code == 400
            # A cross-origin form post (no CORS preflight) queues nothing.
            form = httpx.post(
                f"{base}/webhook", content=body, headers={"Content-Type": "text/plain"}
            )
            assert form.status_code == 415
            assert json.loads(get("/health").content)["status"] == "ok"
        finally:
            serve.stop()
