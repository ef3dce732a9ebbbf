"""Headless Chromium loads the built example site: screenshots, CSS and images, no errors.

The site is built offline into a scratch folder and served by a small local HTTP server that
records every request, so "images and CSS load" is checked from both ends: the server saw the
requests and answered 200, and Chromium logged no console message (a failed load or a script
error would be one). Chromium comes from ``tests/support/browser.py``.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.browser import screenshot as load
from tests.support.golden import build_example_site


class _Server:
    def __init__(self, root: Path) -> None:
        self.requests: list[tuple[str, int]] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                server.requests.append((self.path, int(code) if str(code).isdigit() else 0))

            def log_message(self, format: str, *args: object) -> None:
                pass

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_Server, Path]]:
    output = build_example_site(tmp_path_factory.mktemp("site"))
    server = _Server(output)
    server.thread.start()
    try:
        yield server, output
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def _first_article(output: Path) -> str:
    articles = sorted(
        p.parent.relative_to(output).as_posix()
        for p in (output / "articles").glob("*/index.html")
        if p.parent.name != "page"
    )
    assert articles, "the example site has no article pages"
    return f"/{articles[0]}/"


@pytest.mark.parametrize("which", ["home", "article"])
def test_page_loads_with_css_and_images(
    which: str, served: tuple[_Server, Path], tmp_path: Path
) -> None:
    server, output = served
    path = "/" if which == "home" else _first_article(output)
    server.requests.clear()
    screenshot = tmp_path / f"{which}.png"
    log = load(server.url + path, screenshot, tmp_path / "profile")

    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, "blank screenshot"
    artifacts = os.environ.get("KONTENT_SSG_SCREENSHOTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(artifacts) / screenshot.name)

    failed = [(p, code) for p, code in server.requests if code >= 400]
    assert failed == [], f"requests that failed: {failed}"
    requested = [p.split("?")[0] for p, _ in server.requests]
    assert path in requested
    assert any(p.endswith(".css") for p in requested), f"no stylesheet requested: {requested}"
    assert any(p.endswith((".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif")) for p in requested), (
        f"no image requested: {requested}"
    )
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == [], "console messages:\n" + "\n".join(console)
