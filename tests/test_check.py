"""``kontent-ssg check``: config and templates against the content model; writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kontent_ssg.builder.check import CheckOptions, check_site
from kontent_ssg.cli import main
from tests.support.sites import content_type, item, make_site, rich, slug, snapshot, text, tree

TOML = """
[site]
base_url = "https://example.org"

[routes.article]
path = "/articles/{url}/"
template = "article.html"
"""

TYPES = [
    content_type("article", title="text", url="url_slug", body="rich_text"),
    content_type("quote", q="text"),
]


def _site(
    tmp_path: Path, toml: str = TOML, templates: dict[str, str] | None = None, body: str = ""
):  # type: ignore[no-untyped-def]
    body = body or "<p>ok</p>"
    components = {"en-US": {"q1": item("q1", "quote", elements={"q": text("Hi")})}}
    en = [
        item(
            "one",
            "article",
            elements={
                "title": text("One"),
                "url": slug("one"),
                "body": rich(body, modular=["q1"] if "q1" in body else []),
            },
        )
    ]
    snap = snapshot({"en-US": en}, types=TYPES, components=components)
    if templates is None:
        templates = {"article.html": "{{ item.title }}{{ item.body }}"}
    return make_site(tmp_path, toml, templates, snap)


def test_clean_site_passes_and_writes_nothing(tmp_path: Path) -> None:
    config = _site(tmp_path)
    before = tree(tmp_path)
    result = check_site(config, CheckOptions(offline=True))
    assert result.errors == [] and result.warnings == [] and result.broken_links == []
    assert result.pages > 0
    assert tree(tmp_path) == before
    assert main(["check", str(tmp_path), "--offline", "-q"]) == 0


def test_route_for_unknown_type_is_an_error(tmp_path: Path) -> None:
    toml = TOML + '\n[routes.podcast]\npath = "/p/{system.codename}/"\n'
    config = _site(tmp_path, toml)
    result = check_site(config, CheckOptions(offline=True))
    assert any("podcast" in e for e in result.errors)
    assert main(["check", str(tmp_path), "--offline", "-q"]) == 1


def test_routed_type_without_template_warns(tmp_path: Path) -> None:
    config = _site(tmp_path, templates={"other.html": "x"})
    result = check_site(config, CheckOptions(offline=True))
    assert any("article.html" in w for w in result.warnings)
    assert main(["check", str(tmp_path), "--offline", "-q"]) == 0
    assert main(["check", str(tmp_path), "--offline", "-q", "--strict"]) == 1


def test_component_type_without_template_warns(tmp_path: Path) -> None:
    body = (
        '<object type="application/kenticocloud" data-type="item" data-rel="component" '
        'data-codename="q1"></object>'
    )
    config = _site(tmp_path, body=body)
    result = check_site(config, CheckOptions(offline=True))
    assert any("components/quote.html" in w for w in result.warnings)


def test_unknown_element_codename_in_template_warns(tmp_path: Path) -> None:
    templates = {
        "article.html": "{{ item.title }}\n{{ item.subtitle }}\n"
        "{{ item.system.name }}{{ item.url }}",
        "components/quote.html": "{{ item['q'] }}{{ item.author }}",
    }
    config = _site(tmp_path, templates=templates)
    result = check_site(config, CheckOptions(offline=True))
    messages = "\n".join(result.warnings)
    assert "article.html, line 2: item.subtitle" in messages
    assert "components/quote.html, line 1: item.author" in messages
    assert "item.title" not in messages and "item.system" not in messages
    assert "item.url" not in messages


def test_template_syntax_and_runtime_errors(tmp_path: Path) -> None:
    config = _site(tmp_path, templates={"article.html": "ok\n{% for %}"})
    result = check_site(config, CheckOptions(offline=True))
    assert any("article.html, line 2" in e for e in result.errors)


def test_broken_links_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _site(tmp_path, body='<p><a data-item-id="nowhere" href="">x</a></p>')
    result = check_site(config, CheckOptions(offline=True))
    assert [b["target_id"] for b in result.broken_links] == ["nowhere"]
    assert main(["check", str(tmp_path), "--offline"]) == 0
    assert "broken link" in capsys.readouterr().err
    assert main(["check", str(tmp_path), "--offline", "--strict"]) == 1


def test_collisions_are_errors(tmp_path: Path) -> None:
    toml = TOML + '\n[listings.all]\npath = "/articles/one/"\ntype = "article"\n'
    config = _site(tmp_path, toml)
    result = check_site(config, CheckOptions(offline=True))
    assert any("two pages claim" in e for e in result.errors)
