"""Unknown names are errors at build time: exit status 2, naming the file, the table or the
template line, the key and the closest valid name. An element a template reads that the type
lacks is a warning (an error with --strict). ``check`` finds the same with the same code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kontent_ssg.builder.check import CheckOptions, check_site
from kontent_ssg.cli import main
from tests.support.sites import (
    content_type,
    date,
    item,
    make_site,
    rich,
    slug,
    snapshot,
    taxonomy_group,
    terms,
    text,
)

TOML = """
[routes.article]
path = "/articles/{slug}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.publish_date desc"
page_size = 1

[taxonomies.topics]
path = "/topics/{term}/"
"""

TEMPLATES = {
    "article.html": "<h1>{{ item.title }}</h1>\n"
    "<a href=\"{{ url_for('articles') }}\">all</a>\n"
    "{{ item.body }}\n",
}


def _article(codename: str, day: int) -> dict:
    return item(
        codename,
        "article",
        elements={
            "title": text(codename.title()),
            "slug": slug(codename),
            "publish_date": date(f"2024-01-0{day}T00:00:00Z"),
            "topics": terms("topics", "brewing"),
            "body": rich("<p>Body</p>"),
        },
    )


def _site(tmp_path: Path, toml: str = TOML, templates: dict[str, str] | None = None) -> Path:
    snap = snapshot(
        {"en-US": [_article("one", 1), _article("two", 2)]},
        types=[
            content_type(
                "article",
                title="text",
                slug="url_slug",
                publish_date="date_time",
                topics="taxonomy",
                body="rich_text",
            ),
            content_type("author", name="text"),
        ],
        taxonomies=[taxonomy_group("topics", "brewing", "origins")],
    )
    make_site(tmp_path / "site", toml, templates or TEMPLATES, snap)
    return tmp_path / "site"


def _build(site: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["build", str(site), "--offline", "-q", *flags])
    return code, capsys.readouterr().err


def _fails_with(site: Path, capsys: pytest.CaptureFixture[str], *expected: str) -> str:
    code, err = _build(site, capsys)
    assert code == 2, err
    for text_ in expected:
        assert text_ in err, err
    assert "Traceback" not in err
    assert not (site / "public").exists()  # nothing written
    return err


def test_the_site_builds_and_url_for_knows_listing_names(tmp_path, capsys) -> None:
    template = (
        "{{ url_for('articles') }}|{{ url_for('articles', page=2) }}|"
        "{{ url_for('articles', page=9) }}|{{ url_for('topics', term='brewing') }}|"
        "{{ url_for('two') }}|{{ url_for('home') }}"
    )
    site = _site(tmp_path, templates={"article.html": template})
    code, err = _build(site, capsys)
    assert code == 0, err
    page = (site / "public/articles/one/index.html").read_text()
    # 'home': the page at the language's home URL (here the generated home page)
    assert page == "/articles/|/articles/page/2/|None|/topics/brewing/|/articles/two/|/"


def test_route_for_a_type_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace("[routes.article]", "[routes.artcle]"))
    _fails_with(
        site, capsys, "kontent.toml: [routes.artcle]: no content type 'artcle'", "'article'?"
    )


def test_route_placeholder_naming_an_element_the_type_lacks(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace("{slug}", "{slgu}"))
    _fails_with(
        site,
        capsys,
        "kontent.toml: [routes.article] path: {slgu}: content type 'article' has no element "
        "'slgu'; did you mean 'slug'?",
    )


def test_route_placeholder_naming_a_system_property_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace("{slug}", "{system.codenam}"))
    _fails_with(site, capsys, "[routes.article] path: {system.codenam}", "'codename'?")


def test_listing_type_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace('type = "article"', 'type = "articel"'))
    _fails_with(
        site,
        capsys,
        "kontent.toml: [listings.articles] type: no content type 'articel'; "
        "did you mean 'article'?",
    )


def test_listing_order_field_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace("elements.publish_date", "elements.publish_dat"))
    _fails_with(
        site,
        capsys,
        "kontent.toml: [listings.articles] order: elements.publish_dat: content type "
        "'article' has no element 'publish_dat'; did you mean 'publish_date'?",
    )
    site = _site(tmp_path / "b", TOML.replace("elements.publish_date", "system.last_modifed"))
    _fails_with(site, capsys, "order: system.last_modifed", "did you mean 'last_modified'?")


def test_taxonomy_group_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML.replace("[taxonomies.topics]", "[taxonomies.topcs]"))
    _fails_with(
        site,
        capsys,
        "kontent.toml: [taxonomies.topcs]: no taxonomy group 'topcs'; did you mean 'topics'?",
    )


def test_taxonomy_type_that_does_not_exist(tmp_path, capsys) -> None:
    site = _site(tmp_path, TOML + 'type = "artcle"\n')
    _fails_with(site, capsys, "[taxonomies.topics] type: no content type 'artcle'", "'article'?")


def test_url_for_an_unknown_name_names_the_template_and_line(tmp_path, capsys) -> None:
    templates = {"article.html": TEMPLATES["article.html"].replace("'articles'", "'articels'")}
    err = _fails_with(
        _site(tmp_path, templates=templates),
        capsys,
        "template article.html, line 2: url_for('articels'): no item, listing, taxonomy group "
        "or route named 'articels'; did you mean 'articles'?",
    )
    assert 'href="None"' not in err


def test_url_for_a_name_computed_while_rendering(tmp_path, capsys) -> None:
    """Not visible to the template scan: the global itself raises, and the message still
    names the template, the line and the page."""
    templates = {"article.html": "ok\n{{ url_for('art' ~ 'icels') }}\n"}
    _fails_with(
        _site(tmp_path, templates=templates),
        capsys,
        "template article.html, line 2: url_for('articels')",
        "did you mean 'articles'?",
        "while rendering item 'one' (en-US)",
    )


def test_url_for_a_taxonomy_group_needs_a_known_term(tmp_path, capsys) -> None:
    templates = {"article.html": "{{ url_for('topics', term='brewng') }}"}
    _fails_with(
        _site(tmp_path, templates=templates),
        capsys,
        "url_for('topics', term='brewng')",
        "did you mean 'brewing'?",
    )
    templates = {"article.html": "{{ url_for('topics') }}"}
    _fails_with(_site(tmp_path / "b", templates=templates), capsys, "has a page per term")


def test_items_and_taxonomy_globals_with_unknown_names(tmp_path, capsys) -> None:
    templates = {"article.html": "{{ items(type='articel')|length }}"}
    _fails_with(
        _site(tmp_path, templates=templates),
        capsys,
        "template article.html, line 1: items(type='articel'): no content type 'articel'; "
        "did you mean 'article'?",
    )
    templates = {"article.html": "\n{{ taxonomy('topic') }}"}
    _fails_with(
        _site(tmp_path / "b", templates=templates),
        capsys,
        "template article.html, line 2: taxonomy('topic'): no taxonomy group 'topic'; "
        "did you mean 'topics'?",
    )


def test_unknown_element_in_a_template_warns_and_fails_with_strict(tmp_path, capsys) -> None:
    templates = {"article.html": "{{ item.title }}\n{{ item.titel }}{{ item.system.name }}"}
    site = _site(tmp_path, templates=templates)
    report = tmp_path / "report.json"
    code, err = _build(site, capsys, "--report", str(report))
    assert code == 0, err
    warning = (
        "template article.html, line 2: item.titel: content type 'article' has no element "
        "'titel'; did you mean 'title'?"
    )
    assert warning in json.loads(report.read_text())["warnings"]
    # Kept by a build that re-renders nothing, and --strict fails on it.
    code, err = _build(site, capsys, "--strict")
    assert code == 1 and "item.titel" in err


def test_incremental_builds_check_the_templates_too(tmp_path, capsys) -> None:
    site = _site(tmp_path)
    assert _build(site, capsys)[0] == 0
    template = site / "templates" / "article.html"
    template.write_text(template.read_text() + "{{ url_for('artcle') }}\n")
    code, err = _build(site, capsys)
    assert code == 2
    assert "template article.html, line 4: url_for('artcle')" in err
    assert "did you mean 'article'?" in err  # the route's name
    template.write_text(TEMPLATES["article.html"])
    report = tmp_path / "r.json"
    code, err = _build(site, capsys, "--report", str(report))
    assert code == 0, err
    assert json.loads(report.read_text())["incremental"] is True


def test_check_reports_every_unknown_name(tmp_path) -> None:
    toml = TOML.replace("{slug}", "{slgu}").replace('type = "article"', 'type = "articel"')
    templates = {"article.html": "{{ url_for('articels') }}"}
    site = _site(tmp_path, toml, templates)
    from kontent_ssg.config import load_config

    result = check_site(load_config(site, env={}), CheckOptions(offline=True))
    joined = "\n".join(result.errors)
    assert "did you mean 'slug'?" in joined
    assert "did you mean 'article'?" in joined
    assert "did you mean 'articles'?" in joined
    assert main(["check", str(site), "--offline", "-q"]) == 1


def test_url_for_a_route_name(tmp_path, capsys) -> None:
    """A route whose path names no element has one page: its name is that page's URL; a
    route with a page per item cannot stand for one."""
    toml = TOML + '\n[routes.author]\npath = "/about/"\ntemplate = "author.html"\n'
    templates = {**TEMPLATES, "author.html": "x", "articles.html": "{{ url_for('author') }}"}
    site = _site(tmp_path, toml, templates)
    snap_items = site / ".kontent-ssg/snapshot/items/en-US.json"
    data = json.loads(snap_items.read_text())
    data["items"].append(item("jo", "author", elements={"name": text("Jo")}))
    snap_items.write_text(json.dumps(data))
    (site / "kontent.toml").write_text(
        (site / "kontent.toml")
        .read_text()
        .replace("page_size = 1", 'page_size = 1\ntemplate = "articles.html"')
    )
    code, err = _build(site, capsys)
    assert code == 0, err
    assert (site / "public/articles/index.html").read_text() == "/about/"
    (site / "templates/articles.html").write_text("{{ url_for('article') }}")
    code, err = _build(site, capsys)
    assert code == 2
    assert "route 'article' (/articles/{slug}/) has a page per item" in err
    assert (site / "public/articles/index.html").read_text() == "/about/"  # left as it was
