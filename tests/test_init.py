"""``kontent-ssg init``: a working site from the content model.

Acceptance: ``init`` then ``build`` gives a complete site for the example site's model and for
the real Dancing Goat captures of the delivery SDKs (articles, coffees, cafés): no dangling
link in the output, no item without a page, every text element of every page's item (and of
the components in its rich text) on that page. Broken links the *content* holds (rich-text
links to items missing from a capture) may remain, reported.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.config import load_config
from kontent_ssg.content.snapshot import (
    ContentStore,
    LanguageItems,
    Snapshot,
    load_snapshot,
    save_snapshot,
)
from tests.support.emulator import Emulator
from tests.support.fixtures import EXAMPLE_SITE, load_real
from tests.support.site_check import dangling_links, missing_text
from tests.support.sites import tree

ENV = "5d3e8f7a-1b2c-4d5e-9f60-7a8b9c0d1e2f"
RUBY = "kontent-ai__delivery-sdk-ruby/lib__delivery__tests__"
NET = "kontent-ai__delivery-sdk-net/Kontent.Ai.Delivery.Tests__Fixtures__DeliveryClient__"


def _init(*args: str) -> int:
    return main(["init", *args, "-q"])


def _build(site: Path, *flags: str) -> dict:
    report = site.parent / f"{site.name}-report.json"
    code = main(["build", str(site), "-q", "--report", str(report), *flags])
    data = json.loads(report.read_text())
    assert code == 0, data
    return data


def _assert_complete(site: Path, report: dict, store: ContentStore) -> None:
    config = load_config(site, env={})
    assert report["pages_written"], report
    assert dangling_links(config.output_dir) == []
    assert [w for w in report["warnings"] if "has no page" in w] == []
    assert missing_text(config, store) == []
    # What remains broken is the content's own: rich-text links to items not in the set.
    for link in report["broken_links"]:
        assert link["element"] and store.codename_for_id(link["target_id"]) is None, link


# --- the example site's model (never skipped) --------------------------------------------------


def test_init_then_build_on_the_example_model(tmp_path: Path) -> None:
    snapshot = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    site = tmp_path / "roastery"
    assert _init(str(site), "--snapshot", str(snapshot), "--environment-id", ENV) == 0
    config = load_config(site, env={})
    assert sorted(config.routes) == ["article", "author", "cafe", "home"]
    assert config.routes["home"].path == "/"
    assert config.routes["article"].path == "/articles/{url}/"
    assert config.routes["author"].path == "/authors/{system.codename}/"  # no slug element
    assert config.listings["articles"].order == "elements.publish_date desc"
    assert list(config.taxonomies) == ["topics"]
    templates = config.templates_dir
    for name in ("callout", "quote", "code_sample", "video_embed", "gallery"):
        assert (templates / "components" / f"{name}.html").is_file()
        assert name not in config.routes  # only ever a component: no pages
    report = _build(site, "--offline")
    _assert_complete(site, report, ContentStore(load_snapshot(snapshot)))
    out = config.output_dir
    home = (out / "index.html").read_text()
    assert '<nav class="languages"' in home and 'href="/es-ES/"' in home  # language switcher
    article = (out / "articles" / "better-pour-over" / "index.html").read_text()
    assert "srcset=" in article and "<time datetime=" in article
    assert '<a href="/topics/' in article  # taxonomy terms link to their pages
    # Only the reminder that the site's public URL is not known yet.
    assert [w.split(" is not set")[0] for w in report["warnings"]] == ["[site] base_url"]
    assert report["broken_links"] == []


def test_init_leaves_a_complete_site_alone_and_fills_its_gaps(tmp_path: Path, capsys) -> None:
    site = tmp_path / "example"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("public", "build"))
    before = tree(site)
    assert main(["init", str(site), "--offline"]) == 0
    assert tree(site) == before  # every type has its template: nothing written
    assert "nothing to add" in capsys.readouterr().err
    # Without the article and quote templates: exactly those two come back (with the
    # macros they import); nothing else is touched.
    (site / "templates" / "article.html").unlink()
    (site / "templates" / "components" / "quote.html").unlink()
    assert main(["init", str(site), "--offline", "-q"]) == 0
    after = tree(site)
    added = sorted(set(after) - set(before))
    assert added == ["templates/macros/elements.html"]
    assert {k for k in before if after.get(k) != before[k]} == {
        "templates/article.html",
        "templates/components/quote.html",
    }
    assert "{{ item.body }}" in (site / "templates" / "article.html").read_text()
    report = _build(site, "--offline")
    assert report["warnings"] == []


def test_init_completes_a_kontent_toml_holding_only_kontent(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(EXAMPLE_SITE / ".kontent-ssg" / "snapshot", site / ".kontent-ssg" / "snapshot")
    own = f'# my own comment\n[kontent]\nenvironment_id = "{ENV}"  # kept\nlanguages = ["en-US"]\n'
    (site / "kontent.toml").write_text(own)
    assert _init(str(site), "--offline") == 0
    text = (site / "kontent.toml").read_text()
    assert text.startswith(own)  # the keys already there, untouched
    config = load_config(site, env={})
    assert config.kontent.languages == ("en-US",)
    assert "article" in config.routes and config.site.output == "public"
    report = _build(site, "--offline")
    assert not any(path.startswith("es-ES/") for path in report["pages_written"])


def test_init_never_overwrites_without_force(tmp_path: Path, capsys) -> None:
    snapshot = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "templates" / "article.html").write_text("mine")
    assert _init(str(site), "--snapshot", str(snapshot), "--environment-id", ENV) == 0
    assert (site / "templates" / "article.html").read_text() == "mine"
    # Again: kontent.toml is complete now; nothing changes.
    before = tree(site)
    assert main(["init", str(site), "--offline"]) == 0
    assert tree(site) == before
    capsys.readouterr()
    # --force regenerates everything but the [kontent] table.
    config = site / "kontent.toml"
    config.write_text(config.read_text().replace('title = "Site"', 'title = "Edited"'))
    assert main(["init", str(site), "--offline", "--force"]) == 0
    out = capsys.readouterr().out
    assert "replaced" in out and "templates/article.html" in out
    assert "{{ item.body }}" in (site / "templates" / "article.html").read_text()
    assert f'environment_id = "{ENV}"' in config.read_text()


def test_init_in_an_empty_folder_needs_the_environment(tmp_path: Path, capsys) -> None:
    site = tmp_path / "new"
    snapshot = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    assert main(["init", str(site), "--snapshot", str(snapshot)]) == 2
    err = capsys.readouterr().err
    assert "--environment-id" in err and "Traceback" not in err
    assert not site.exists()  # nothing written
    assert main(["init", str(tmp_path / "x"), "--offline", "--environment-id", ENV]) == 1
    assert "no content snapshot" in capsys.readouterr().err


def test_init_reads_the_model_from_the_delivery_api(tmp_path: Path) -> None:
    """Online: /languages, /types, /taxonomies and one items-feed page, through the
    Delivery API emulator; then an online build."""
    snapshot = load_snapshot(EXAMPLE_SITE / ".kontent-ssg" / "snapshot")
    with Emulator(snapshot, environment_id=ENV) as emu:
        site = tmp_path / "site"
        code = _init(str(site), "--environment-id", ENV, "--delivery-url", emu.url)
        assert code == 0
        paths = [r.path.split("?")[0].rsplit("/", 1)[-1] for r in emu.request_log]
        assert sorted(paths) == ["items-feed", "languages", "taxonomies", "types"]
        config = load_config(site, env={})
        assert config.kontent.delivery_url == emu.url
        # The example's assets have site-relative URLs (a real environment's are on its
        # CDN): the files come with the content.
        shutil.copytree(EXAMPLE_SITE / "static", site / "static")
        report = _build(site)
    _assert_complete(site, report, ContentStore(snapshot))


# --- the delivery SDKs' Dancing Goat captures --------------------------------------------------


def _ruby_snapshot() -> Snapshot:
    items = load_real(RUBY + "generic__items.json")
    codenames = {raw["system"]["codename"] for raw in items["items"]}
    components = {k: v for k, v in items["modular_content"].items() if k not in codenames}
    return Snapshot(
        default_language="en-US",
        languages=load_real(RUBY + "generic__languages.json")["languages"],
        types=load_real(RUBY + "generic__types.json")["types"],
        taxonomies=load_real(RUBY + "generic__taxonomies.json")["taxonomies"],
        items={"en-US": LanguageItems(items=items["items"], modular_content=components)},
    )


def _net_snapshot() -> Snapshot:
    items = (
        load_real(NET + "articles_feed.json")["items"]
        + load_real(NET + "allendale.json")["items"]
        + [load_real(NET + "brazil_natural_barra_grande.json")["item"]]
    )
    return Snapshot(
        default_language="en-US",
        languages=[
            {
                "system": {
                    "id": "00000000-0000-0000-0000-000000000000",
                    "name": "English (United States)",
                    "codename": "en-US",
                }
            }
        ],
        types=load_real(NET + "types_accessory.json")["types"],
        taxonomies=load_real(NET + "taxonomies_multiple.json")["taxonomies"],
        items={"en-US": LanguageItems(items=items)},
    )


def test_init_then_build_on_the_ruby_sdk_dancing_goat(tmp_path: Path, real_fixtures) -> None:
    """30 items of 11 types (articles, coffees, cafés, brewers …), components in rich text,
    cycles; the model read through the Delivery API emulator."""
    snapshot = _ruby_snapshot()
    with Emulator(snapshot, environment_id=ENV) as emu:
        site = tmp_path / "dancing-goat"
        assert _init(str(site), "--environment-id", ENV, "--delivery-url", emu.url) == 0
        config = load_config(site, env={})
        assert config.routes["coffee"].path == "/coffees/{url_pattern}/"
        assert config.routes["cafe"].path == "/cafes/{system.codename}/"  # cafés have no slug
        assert config.routes["home"].path == "/"
        assert "tweet" not in config.routes  # only ever a component
        assert (config.templates_dir / "components" / "tweet.html").is_file()
        report = _build(site)
    _assert_complete(site, report, ContentStore(snapshot))
    assert (config.output_dir / "cafes" / "allendale" / "index.html").is_file()
    assert (config.output_dir / "coffees" / "kenya-gakuyuni-aa" / "index.html").is_file()


def test_init_then_build_on_the_dotnet_sdk_captures(tmp_path: Path, real_fixtures) -> None:
    """Articles (captured without their URL slug element), six cafés and a coffee, from a
    snapshot assembled from the captures: the articles are routed by codename."""
    snapshot = _net_snapshot()
    folder = tmp_path / "snapshot"
    save_snapshot(snapshot, folder)
    site = tmp_path / "site"
    assert _init(str(site), "--snapshot", str(folder), "--environment-id", ENV) == 0
    config = load_config(site, env={})
    assert config.routes["article"].path == "/articles/{system.codename}/"
    assert config.routes["coffee"].path == "/coffees/{url_pattern}/"
    report = _build(site, "--offline")
    _assert_complete(site, report, ContentStore(snapshot))
    assert len([p for p in report["pages_written"] if p.startswith("cafes/")]) >= 6
    assert (config.output_dir / "coffees" / "brazil-natural-barra-grande" / "index.html").is_file()


@pytest.mark.parametrize("name", ["ruby", "dotnet"])
def test_init_output_builds_without_unknown_names(tmp_path: Path, real_fixtures, name) -> None:
    """``check`` agrees: the generated config and templates use only names the model has."""
    snapshot = _ruby_snapshot() if name == "ruby" else _net_snapshot()
    folder = tmp_path / "snapshot"
    save_snapshot(snapshot, folder)
    site = tmp_path / "site"
    assert _init(str(site), "--snapshot", str(folder), "--environment-id", ENV) == 0
    assert main(["check", str(site), "--offline", "-q"]) == 0


def test_ci_and_the_model_options_are_two_separate_runs(tmp_path: Path, capsys) -> None:
    """One ``init`` command: without --ci the site from its model, with --ci its CI files;
    the model options with --ci are a usage error, and --ci needs a kontent.toml."""
    site = tmp_path / "site"
    code = main(["init", str(site), "--ci", "github", "--environment-id", ENV])
    assert code == 2
    assert "init --ci writes only the CI and deploy files" in capsys.readouterr().err
    assert main(["init", str(site), "--ci", "github"]) == 2
    assert "kontent.toml not found" in capsys.readouterr().err
    snapshot = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    assert _init(str(site), "--snapshot", str(snapshot), "--environment-id", ENV) == 0
    assert _init(str(site), "--ci", "github") == 0
    assert (site / ".github" / "workflows" / "kontent-ssg.yml").is_file()
