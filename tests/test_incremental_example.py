"""The example site (two languages, fallbacks, components, listings, taxonomy, feed) under a
series of content changes: after every incremental build the output must equal a clean
full build of the same content — byte for byte, file for file."""

from __future__ import annotations

import copy
import os
import re
import shutil
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import Builder as IncrementalBuilder
from kontent_ssg.builder.pipeline import BuildOptions
from kontent_ssg.config import load_config
from kontent_ssg.content.snapshot import load_snapshot
from tests.support.emulator import Emulator
from tests.support.fixtures import EXAMPLE_SITE

EN, ES = "en-US", "es-ES"


def tree(folder: Path) -> dict[str, bytes]:
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def copy_site(target: Path, emu: Emulator) -> Path:
    shutil.copytree(
        EXAMPLE_SITE,
        target,
        ignore=shutil.ignore_patterns("public", "build", "snapshot", "expected"),
    )
    toml = (target / "kontent.toml").read_text()
    toml = re.sub(
        r'environment_id = ".*"',
        f'environment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"',
        toml,
    )
    (target / "kontent.toml").write_text(toml)
    return target


def build(folder: Path, **options):
    with IncrementalBuilder(load_config(folder, env={}), BuildOptions(**options)) as b:
        return b.build()


def variant(emu: Emulator, codename: str, language: str) -> dict:
    for raw in emu.snapshot.items[language].items:
        if raw["system"]["codename"] == codename:
            return copy.deepcopy(raw)
    raise KeyError(codename)


def _retitle_fallback_source(emu):  # es-ES falls back to this en-US variant
    v = variant(emu, "sugarcane_decaf", EN)
    v["elements"]["title"]["value"] = "Sugarcane decaf, retitled"
    emu.upsert_item(v)


def _retitle_spanish_only(emu):
    v = variant(emu, "dialing_in_espresso", ES)
    v["elements"]["title"]["value"] = "Calibrar el espresso (nuevo)"
    emu.upsert_item(v)


def _move_slug(emu):
    v = variant(emu, "water_for_coffee", EN)
    v["elements"]["url"]["value"] = "water-chemistry"
    emu.upsert_item(v)


def _change_author(emu):  # embedded via linked items in every article by her
    v = variant(emu, "theo_lindqvist", EN)
    v["elements"]["name"]["value"] = "Theo L."
    emu.upsert_item(v)


def _unpublish_english(emu):
    emu.delete_item("roast_levels_explained", EN)


def _new_spanish_article(emu):
    v = variant(emu, "cold_brew_at_home", EN)
    v["system"].update(
        codename="cafe_de_olla",
        id="0b6f8a38-1d2c-4c8e-9d1e-7a6b5c4d3e2f",
        language=ES,
        name="Café de olla",
    )
    v["elements"]["title"]["value"] = "Café de olla"
    v["elements"]["url"]["value"] = "cafe-de-olla"
    emu.upsert_item(v)


def _withdraw_the_spanish_article(emu):
    # the only Spanish cold-brew article: /es-ES/topics/cold_brew/ goes again, and with it
    # the links to it (alternates, language switcher, the topic trees of the Spanish pages)
    emu.delete_item("cafe_de_olla", ES)


def _new_date_reorders_listing(emu):
    v = variant(emu, "storing_coffee_beans", EN)
    v["elements"]["publish_date"]["value"] = "2030-01-01T00:00:00Z"
    emu.upsert_item(v)


def _republish_bumps_last_modified(emu):  # reorders taxonomy pages, plan stays the same
    v = variant(emu, "harvest_notes_sidama", EN)
    v["system"]["last_modified"] = "2031-05-05T05:05:05Z"
    v["elements"]["summary"]["value"] = "Fresh notes from the Sidama harvest."
    emu.upsert_item(v)


STEPS = [
    _republish_bumps_last_modified,
    _retitle_fallback_source,
    _retitle_spanish_only,
    _move_slug,
    _change_author,
    _unpublish_english,
    _new_spanish_article,  # tagged cold brew: /es-ES/topics/cold_brew/ appears
    _withdraw_the_spanish_article,
    _new_date_reorders_listing,
]


@pytest.fixture
def example(tmp_path):
    snapshot_dir = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
    with Emulator.from_folder(snapshot_dir) as emu:
        site = copy_site(tmp_path / "site", emu)
        first = build(site)
        assert first.pages_written
        yield emu, site, tmp_path


def test_every_change_matches_a_clean_full_build(example):
    emu, site, tmp_path = example
    total = len(tree(site / "public"))
    for n, step in enumerate(STEPS):
        step(emu)
        report = build(site)
        assert len(report.page_deps) < total, f"{step.__name__} re-rendered everything"
        clean = copy_site(tmp_path / f"clean{n}", emu)
        build(clean)
        ours, theirs = tree(site / "public"), tree(clean / "public")
        assert sorted(ours) == sorted(theirs), step.__name__
        differing = [p for p in ours if ours[p] != theirs[p]]
        assert differing == [], f"{step.__name__}: stale {differing}"
    assert build(site).page_deps == {}  # and then nothing left to do


def test_one_long_lived_builder_matches_clean_builds(example):
    """As in the webhook receiver: one builder, its plan patched between changes."""
    emu, site, tmp_path = example
    with IncrementalBuilder(load_config(site, env={}), BuildOptions()) as builder:
        for n, step in enumerate(STEPS):
            step(emu)
            builder.build()
            clean = copy_site(tmp_path / f"clean{n}", emu)
            build(clean)
            ours, theirs = tree(site / "public"), tree(clean / "public")
            assert sorted(ours) == sorted(theirs), step.__name__
            differing = [p for p in ours if ours[p] != theirs[p]]
            assert differing == [], f"{step.__name__}: stale {differing}"
    # the background snapshot writer saved what the notifications changed
    saved = load_snapshot(site / ".kontent-ssg" / "snapshot")
    titles = {i["system"]["codename"]: i for i in saved.items[EN].items}
    assert titles["sugarcane_decaf"]["elements"]["title"]["value"] == "Sugarcane decaf, retitled"
    assert build(site, offline=True).page_deps == {}
