"""Hostile or broken input gets the documented one-line error, never a Python traceback.

Content that does not have the Delivery API's shape (from a saved snapshot or from the API
itself), an API that redirects, unpaired surrogates, a template that is not UTF-8, an
unwritable ``--report`` file or state folder, damaged files of our own (manifest, publish
journal). On 520e6a3 each of these printed a traceback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kontent_ssg.cli import main
from kontent_ssg.config import Config
from tests.support.emulator import Emulator
from tests.support.faults import read_only
from tests.support.sites import (
    ENV_ID,
    content_type,
    item,
    make_site,
    slug,
    snapshot,
    taxonomy_group,
    terms,
    text,
    tree,
)

TOML = """
[site]
output = "public"

[routes.article]
path = "/articles/{url}/"
template = "article.html"
"""
TEMPLATES = {"article.html": "<h1>{{ item.title }}</h1>"}


def _articles() -> list[dict[str, Any]]:
    return [
        item(
            name,
            "article",
            elements={
                "title": text(name.title()),
                "url": slug(name),
                "topics": terms("topics", "coffee"),
            },
        )
        for name in ("first", "second")
    ]


def _snap(items: list[dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    return snapshot(
        {"en-US": items if items is not None else _articles()},
        types=[content_type("article", title="text", url="url_slug", topics="taxonomy")],
        taxonomies=[taxonomy_group("topics", "coffee")],
    )


def _one_error(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def _edit(path: Path, change: Callable[[Any], Any]) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def _second(data: dict[str, Any]) -> dict[str, Any]:
    return next(i for i in data["items"] if i["system"]["codename"] == "second")


def _without_type(data: dict[str, Any]) -> dict[str, Any]:
    del _second(data)["system"]["type"]
    return data


def _elements_list(data: dict[str, Any]) -> dict[str, Any]:
    _second(data)["elements"] = []
    return data


def _terms_string(data: dict[str, Any]) -> dict[str, Any]:
    _second(data)["elements"]["topics"]["value"] = "coffee"
    return data


def _component_without_system(data: dict[str, Any]) -> dict[str, Any]:
    data["modular_content"] = {"n1": {"elements": {}}}
    return data


SNAPSHOT_DAMAGE = {
    "an item without system.type": (
        "items/en-US.json",
        _without_type,
        "item 'second': system.type is missing",
    ),
    "elements that are a list": (
        "items/en-US.json",
        _elements_list,
        "item 'second': 'elements' is a list",
    ),
    "taxonomy terms that are a string": (
        "items/en-US.json",
        _terms_string,
        "item 'second': element 'topics'",
    ),
    "a component without system": (
        "items/en-US.json",
        _component_without_system,
        "(modular_content): a component has no 'system' object",
    ),
    "a content type without system": (
        "types.json",
        lambda types: [*types, {"elements": {}}],
        "types.json: a content type has no system.codename",
    ),
    "manifest languages that are numbers": (
        "manifest.json",
        lambda manifest: {**manifest, "languages": [1]},
        "manifest.json: 'languages' must be a list",
    ),
}


@pytest.mark.parametrize("damage", list(SNAPSHOT_DAMAGE))
def test_a_snapshot_of_the_wrong_shape_is_one_line_naming_file_and_item(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    name, change, expected = SNAPSHOT_DAMAGE[damage]
    _edit(config.snapshot_dir / name, change)
    assert main(["build", str(config.site_dir), "--offline"]) == 1
    error = _one_error(capsys.readouterr().err)
    assert str(config.snapshot_dir / name.split("/")[0]) in error
    assert expected in error


def test_content_of_the_wrong_shape_from_the_api_is_one_line_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = _articles()
    del articles[1]["system"]["type"]
    with Emulator(_snap(articles), environment_id=ENV_ID) as emu:
        config = make_site(
            tmp_path / "site",
            f'delivery_url = "{emu.url}"\n' + TOML,
            TEMPLATES,
        )
        assert main(["build", str(config.site_dir)]) == 1
    error = _one_error(capsys.readouterr().err)
    assert f"{emu.url}/{ENV_ID}/items-feed (en-US)" in error
    assert "item 'second': system.type is missing" in error
    assert not (config.snapshot_dir / "manifest.json").exists()


class _Redirecting(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(301)
        self.send_header("Location", f"https://elsewhere.example{self.path}")
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>Moved</html>")

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def redirecting() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_from_the_api_says_where_it_pointed(
    tmp_path: Path, redirecting: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", f'delivery_url = "{redirecting}"\n' + TOML, TEMPLATES)
    assert main(["pull", str(config.site_dir)]) == 1
    error = _one_error(capsys.readouterr().err)
    assert "with a redirect (HTTP 301) to https://elsewhere.example/" in error
    assert "not valid JSON" not in error


def test_unpaired_surrogates_in_content_become_replacement_characters(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    items = config.snapshot_dir / "items" / "en-US.json"
    items.write_text(items.read_text().replace('"First"', '"Fir\\ud800st"'))
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    page = (config.output_dir / "articles" / "first" / "index.html").read_text("utf-8")
    assert page == "<h1>Fir\ufffdst</h1>"


def test_a_template_that_is_not_utf8_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    (config.templates_dir / "article.html").write_bytes(b"\xff\xfe<h1>{{ item.title }}</h1>")
    assert main(["build", str(config.site_dir), "--offline"]) == 1
    assert "template 'article.html' is not UTF-8 text" in _one_error(capsys.readouterr().err)


def test_an_unwritable_report_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    (tmp_path / "a-file").write_text("not a folder")
    report = tmp_path / "a-file" / "report.json"
    assert main(["build", str(config.site_dir), "--offline", "--report", str(report)]) == 2
    assert f"--report {report}: cannot write it" in _one_error(capsys.readouterr().err)


def test_an_unwritable_state_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    folder = config.state_dir / "build"
    folder.mkdir(parents=True)
    with read_only(folder):
        assert main(["build", str(config.site_dir), "--offline"]) == 1
    assert "cannot open the build state" in _one_error(capsys.readouterr().err)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: {**m, "files": [1, 2], "pages": 5},
        lambda m: {**m, "files": dict.fromkeys(m["files"], "x")},
        lambda m: "not even an object",
    ],
    ids=["wrong types", "bad entries", "not an object"],
)
def test_a_damaged_manifest_means_a_full_build(
    tmp_path: Path, damage: Callable[[Any], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    before = tree(config.output_dir)
    _edit(config.state_dir / "build" / "manifest.json", damage)
    assert main(["build", str(config.site_dir), "--offline"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert tree(config.output_dir) == before


def test_a_journal_that_reaches_outside_the_output_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config: Config = make_site(tmp_path / "site", TOML, TEMPLATES, _snap())
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    journal = {
        "format": 1,
        "phase": "publishing",
        "output": str(config.output_dir),
        "build": "x",
        "manifest": str(config.state_dir / "build" / "manifest.json"),
        "shadows": [],
        "replaced": [],
        "deleted": ["../kontent.toml"],
    }
    (config.state_dir / "build" / "publish.json").write_text(json.dumps(journal))
    assert main(["build", str(config.site_dir), "--offline"]) == 1
    assert "is not a path inside the output folder" in _one_error(capsys.readouterr().err)
    assert (config.site_dir / "kontent.toml").exists()
