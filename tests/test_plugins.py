"""Site plugins: filters, globals, rich-text post-processors, component and link resolvers,
pages of their own; exact dependencies for what they read; errors naming plugin and page.

Built through the CLI against the Delivery API emulator (real HTTP), as a site would be.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.snapshot import LanguageItems, Snapshot
from tests.support.emulator import Emulator
from tests.support.fixtures import REPO
from tests.support.sites import content_type, item, linked, rich, slug, text, tree, uid

EN = "en-US"

# The example of docs/PLUGINS.md: the docs show what the tests build with.
_DOC = (REPO / "docs" / "PLUGINS.md").read_text(encoding="utf-8")
HOOKS = _DOC.split("<!-- example: hooks.py -->\n```python\n", 1)[1].split("```", 1)[0]

TOML = """
[plugins]
modules = ["hooks"]

[routes.article]
path = "/articles/{slug}/"
template = "article.html"

[routes.product]
path = "/products/{slug}/"
template = "product.html"
"""

TEMPLATES = {
    "article.html": "<h1>{{ item.title|shout }}</h1>{{ item.body }}"
    "<p>{{ year }} {{ url_for('search') }}</p>"
    '{% for p in item.products %}<a href="{{ p.url }}">{{ p.name }}</a>{% endfor %}',
    "product.html": "<h1>{{ item.name }}</h1>",
}


def _product(codename: str, external: str = "") -> dict:
    return item(
        codename,
        "product",
        elements={
            "name": text(codename.title()),
            "slug": slug(codename),
            "external_url": text(external),
        },
    )


def _article(codename: str, title: str, body: dict | None = None, **extra: dict) -> dict:
    elements = {"title": text(title), "slug": slug(codename), "body": body or rich("<p>x</p>")}
    elements.update(extra)
    return item(codename, "article", elements=elements)


def _linking_article() -> dict:
    body = f'<p>Buy <a data-item-id="{uid("p1")}" href="">this</a>.</p>'
    links = {uid("p1"): {"codename": "p1", "type": "product", "url_slug": "p1"}}
    return _article("a", "Alpha", rich(body, links=links), products=linked("p1"))


def _b_body(quote: str = "Wise words") -> tuple[dict, dict]:
    """Article b's body, which embeds the component q1, and the component."""
    body = (
        '<p>Hi</p><object type="application/kenticocloud" data-type="item" '
        'data-rel="component" data-codename="q1"></object>'
    )
    return rich(body, modular=["q1"]), {"q1": item("q1", "quote", elements={"q": text(quote)})}


def _snapshot() -> Snapshot:
    body, components = _b_body()
    return Snapshot(
        default_language=EN,
        languages=[{"system": {"id": uid(EN), "name": EN, "codename": EN}}],
        types=[
            content_type(
                "article",
                title="text",
                slug="url_slug",
                body="rich_text",
                products="modular_content",
            ),
            content_type("product", name="text", slug="url_slug", external_url="text"),
            content_type("quote", q="text"),
        ],
        items={
            EN: LanguageItems(
                items=[
                    _linking_article(),
                    _article("b", "Beta", body),
                    _product("p1", "https://shop.example/p1"),
                    _product("p2"),
                ],
                modular_content=components,
            )
        },
    )


def _site(folder: Path, emu: Emulator, hooks: str = HOOKS, toml: str = TOML) -> Path:
    folder.mkdir(parents=True)
    (folder / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"\n'
        + textwrap.dedent(toml)
    )
    (folder / "hooks.py").write_text(hooks)
    for name, source in TEMPLATES.items():
        (folder / "templates").mkdir(exist_ok=True)
        (folder / "templates" / name).write_text(source)
    return folder


def _build(site: Path, tmp_path: Path, *flags: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    code = main(["build", str(site), "-q", "--report", str(report), *flags])
    return code, json.loads(report.read_text())


def test_a_plugin_extends_the_site_and_rebuilds_stay_exact(tmp_path: Path) -> None:
    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu)
        code, first = _build(site, tmp_path)
        assert code == 0, first
        out = site / "public"
        a = (out / "articles/a/index.html").read_text()
        # the filter and the global
        assert "<h1>ALPHA!</h1>" in a and "<p>2024 /search.json</p>" in a
        # the link resolver: rich-text links and item.url both go to the shop
        assert '<a href="https://shop.example/p1" rel="external">this</a>' in a
        assert '<a href="https://shop.example/p1">P1</a>' in a
        # the post-processor saw the item and the element
        assert "[a.body]" in a
        # the component resolver (and its context)
        b = (out / "articles/b/index.html").read_text()
        assert "<blockquote>Wise words</blockquote><!-- in b -->" in b
        # the plugin's page
        assert json.loads((out / "search.json").read_text()) == [
            {"title": "Alpha", "url": "/articles/a/"},
            {"title": "Beta", "url": "/articles/b/"},
        ]
        # the product keeps its own page
        assert (out / "products/p1/index.html").is_file()

        # A change to the product the link resolver read: the product's page and the page
        # linking to it (and the generated home page, which lists every routed type's items;
        # not the sitemap: no last_modified moved); nothing else: the search page read only
        # articles.
        emu.upsert_item(_product("p1", "https://shop.example/p1-new"))
        code, second = _build(site, tmp_path)
        assert code == 0 and second["incremental"]
        assert second["pages_rendered"] == [
            "articles/a/index.html",
            "index.html",
            "products/p1/index.html",
        ]
        assert 'href="https://shop.example/p1-new"' in (out / "articles/a/index.html").read_text()

        # A title the search page read: that article's page and the search page.
        emu.upsert_item(_article("b", "Beta two", _b_body()[0]), components=_b_body()[1])
        code, third = _build(site, tmp_path)
        assert code == 0 and third["incremental"]
        assert third["pages_rendered"] == [
            "articles/b/index.html",
            "index.html",
            "search.json",
        ]
        assert "Beta two" in (out / "search.json").read_text()

        # The component the resolver rendered: only the page embedding it.
        body, components = _b_body("Wiser words")
        emu.upsert_item(_article("b", "Beta two", body), components=components)
        code, fourth = _build(site, tmp_path)
        assert code == 0
        assert "articles/b/index.html" in fourth["pages_rendered"]
        assert "articles/a/index.html" not in fourth["pages_rendered"]
        assert "Wiser words" in (out / "articles/b/index.html").read_text()


def test_forked_render_workers_run_the_plugins(tmp_path: Path) -> None:
    with Emulator(_snapshot()) as emu:
        one = _site(tmp_path / "one", emu)
        two = _site(tmp_path / "two", emu)
        assert main(["build", str(one), "-q"]) == 0
        import os

        os.environ["KONTENT_SSG_WORKERS"] = "2"
        try:
            assert main(["build", str(two), "-q"]) == 0
        finally:
            del os.environ["KONTENT_SSG_WORKERS"]
    assert tree(one / "public") == tree(two / "public")


def test_editing_a_plugin_rebuilds_everything(tmp_path: Path) -> None:
    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu)
        assert _build(site, tmp_path)[0] == 0
        code, again = _build(site, tmp_path)
        assert code == 0 and again["nothing_changed"]
        hooks = site / "hooks.py"
        hooks.write_text(hooks.read_text().replace('+ "!"', '+ "!!"'))
        code, edited = _build(site, tmp_path)
        assert code == 0 and not edited["incremental"]
        assert "<h1>ALPHA!!</h1>" in (site / "public/articles/a/index.html").read_text()


@pytest.mark.parametrize(
    ("broken", "what"),
    [
        ('lambda value: str(value).upper() + "!"', "filter 'shout' raised ZeroDivisionError"),
        ("def shop_url(item, context):\n        return 1 / 0", "link resolver raised"),
        ("def search_index(context):\n        1 / 0", "page 'search' raised"),
        ("def external_links(fragment, context):\n        1 / 0", "post-processor raised"),
    ],
)
def test_a_plugin_that_raises_names_the_plugin_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str, what: str
) -> None:
    original = {
        "filter": 'lambda value: str(value).upper() + "!"',
        "link": "def shop_url(item, context):",
        "page": "def search_index(context):",
        "post": "def external_links(fragment, context):",
    }
    hooks = HOOKS
    if broken.startswith("lambda"):
        hooks = hooks.replace(original["filter"], "lambda value: 1 / 0")
    else:
        head = broken.split("\n")[0]
        hooks = hooks.replace(head, broken)
    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu, hooks=hooks)
        capsys.readouterr()
        code = main(["build", str(site)])
    err = capsys.readouterr().err
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "plugin 'hooks'" in lines[0] and what in lines[0], err
    assert "while rendering" in lines[0], err
    assert "Traceback" not in err
    assert not (site / "public").exists()


def test_a_plugin_that_raises_at_register(tmp_path, capsys) -> None:
    with Emulator(_snapshot()) as emu:
        site = _site(
            tmp_path / "site", emu, hooks="def register(plugin):\n    raise KeyError('x')\n"
        )
        capsys.readouterr()
        assert main(["build", str(site)]) == 1
    err = capsys.readouterr().err
    assert "plugin 'hooks': register() raised KeyError: 'x'" in err


def test_an_unknown_plugin_is_a_config_error(tmp_path: Path, capsys) -> None:
    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu, toml=TOML.replace('"hooks"', '"hoks"'))
        capsys.readouterr()
        assert main(["build", str(site)]) == 2
    err = capsys.readouterr().err
    assert "[plugins] modules: no plugin 'hoks'" in err and "did you mean 'hooks'?" in err


def test_a_plugin_cannot_take_over_a_builtin_name(tmp_path: Path, capsys) -> None:
    hooks = "def register(plugin):\n    plugin.add_filter('date', str)\n"
    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu, hooks=hooks)
        capsys.readouterr()
        assert main(["build", str(site)]) == 2
    assert "registers the filter 'date', which templates already have" in capsys.readouterr().err


SHOUT = "def register(plugin):\n    plugin.add_filter('shout', lambda v: str(v).upper() + '!')\n"


def test_an_installed_module_and_an_entry_point(tmp_path: Path, monkeypatch) -> None:
    """Not only the site folder: an importable module, and an entry point of the group
    kontent_ssg.plugins (found through its distribution's metadata on sys.path)."""
    packages = tmp_path / "site-packages"
    packages.mkdir()
    (packages / "shout_module.py").write_text(SHOUT)
    (packages / "shoutplugin.py").write_text(SHOUT.replace("def register", "def setup"))
    dist = packages / "shoutplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shoutplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[kontent_ssg.plugins]\nshouting = shoutplugin:setup\n")
    monkeypatch.syspath_prepend(str(packages))
    for name in ("shout_module", "shouting"):
        with Emulator(_snapshot()) as emu:
            site = _site(
                tmp_path / name,
                emu,
                hooks="",
                toml=TOML.replace('"hooks"', f'"{name}"').replace("[routes.product]", "[x]"),
            )
            (site / "kontent.toml").write_text((site / "kontent.toml").read_text().split("[x]")[0])
            (site / "templates" / "article.html").write_text("{{ item.title|shout }}")
            assert main(["build", str(site), "-q"]) == 0
        assert (site / "public/articles/a/index.html").read_text() == "ALPHA!"


def test_serve_reloads_an_edited_plugin(tmp_path: Path) -> None:
    """A real ``serve`` process: saving hooks.py re-imports it and rebuilds."""
    from tests.support.net import wait_for
    from tests.support.serve_process import ServeProcess

    with Emulator(_snapshot()) as emu:
        site = _site(tmp_path / "site", emu)
        serve = ServeProcess(site, log=tmp_path / "serve.log")

        def page() -> str:
            response = serve.get("/articles/a/")
            return response.text if response is not None and response.status_code == 200 else ""

        try:
            wait_for(lambda: "<h1>ALPHA!</h1>" in page(), what="serve up")
            hooks = site / "hooks.py"
            hooks.write_text(hooks.read_text().replace('+ "!"', '+ "?"'))
            wait_for(lambda: "<h1>ALPHA?</h1>" in page(), what="the plugin edit")
        finally:
            serve.stop()


def test_a_link_resolver_url_with_an_unsafe_scheme_is_refused(tmp_path: Path) -> None:
    with Emulator(_snapshot()) as emu:
        emu.upsert_item(_product("p1", "javascript:alert(1)"))
        site = _site(tmp_path / "site", emu)
        code, report = _build(site, tmp_path)
    assert code == 0
    page = (site / "public/articles/a/index.html").read_text()
    assert "javascript:" not in page
    assert '<a href="/products/p1/">P1</a>' in page
    unsafe = "link resolver's URL for p1 (en-US) has an unsafe scheme"
    assert any(unsafe in warning for warning in report["warnings"])
