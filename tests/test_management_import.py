"""``kontent-ssg import``: the example snapshot into the Management API emulator and back.

The round trip: import ``example-site/.kontent-ssg/snapshot`` (the command, over HTTP) into
the MAPI emulator; the Delivery emulator serves what the environment now holds
(:meth:`ManagementEmulator.delivery_snapshot`); a build of the example site against it equals
the bundled golden tree once what an environment assigns itself is put back: publish times
(``last_modified``) and asset URLs. Ids are left as the environment assigned them: the output
must not depend on them.

Then resuming after a failure, lost answers, 429s and refusals.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.cli import main
from kontent_ssg.config import load_config
from kontent_ssg.content.delivery import RetryPolicy
from kontent_ssg.content.snapshot import LanguageItems, Snapshot, load_snapshot
from kontent_ssg.errors import ManagementError
from kontent_ssg.management.client import ManagementClient
from kontent_ssg.management.convert import external_id
from kontent_ssg.management.importer import ImportReport, import_snapshot, manifest_fallbacks
from tests.support.emulator import Emulator
from tests.support.fixtures import EXAMPLE_SITE
from tests.support.golden import GOLDEN
from tests.support.mapi_emulator import PUBLISHED_STEP_ID, ManagementEmulator, MapiFaults
from tests.support.sites import tree

SNAPSHOT_DIR = EXAMPLE_SITE / ".kontent-ssg" / "snapshot"
KEY = "mapi-test-key-7f3a"


@pytest.fixture
def mapi() -> Iterator[ManagementEmulator]:
    with ManagementEmulator(api_key=KEY, page_size=4) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the example site without its build state or output."""
    copy = tmp_path / "example-site"
    shutil.copytree(
        EXAMPLE_SITE,
        copy,
        ignore=lambda folder, names: [
            n for n in names if n in ("public", "build", "__pycache__") or n.endswith(".db")
        ],
    )
    return copy


def _client(emu: ManagementEmulator, **policy: object) -> ManagementClient:
    retry = RetryPolicy(sleep=lambda seconds: None, **policy)  # type: ignore[arg-type]
    return ManagementClient(emu.url, emu.environment_id, emu.api_key, retry=retry)


def _import(emu: ManagementEmulator, **policy: object) -> ImportReport:
    with _client(emu, **policy) as client:
        return import_snapshot(
            client,
            load_snapshot(SNAPSHOT_DIR),
            static_dir=EXAMPLE_SITE / "static",
            fallbacks=manifest_fallbacks(SNAPSHOT_DIR),
        )


def _normalised(imported: Snapshot, original: Snapshot, emu: ManagementEmulator) -> Snapshot:
    """``imported`` with what an environment assigns put back as the original has it: item ids
    (the feed's entry ids show them), publish times (``last_modified``) and asset URLs.
    Everything else is as the emulator serves it."""
    text = json.dumps(
        {
            "types": imported.types,
            "taxonomies": imported.taxonomies,
            "items": {k: v.to_json() for k, v in imported.items.items()},
        }
    )
    original_text = json.dumps({k: v.to_json() for k, v in original.items.items()})
    urls = set(re.findall(r'"url": "([^"]+)"', original_text))
    urls |= set(re.findall(r'data-asset-id=\\"[^"\\]+\\" href=\\"([^"\\]+)', original_text))
    by_ext = {a["external_id"]: a["url"] for a in emu.env.assets}
    assert len(urls) == len(by_ext) == 35
    for url in urls:
        text = text.replace(json.dumps(by_ext[external_id("asset", url)])[1:-1], url)
    ids = {
        item["system"]["codename"]: item["system"]["id"]
        for language in original.language_codenames
        for item in original.items[language].items
    }
    for item in emu.env.items:
        text = text.replace(item["id"], ids[item["codename"]])
    data = json.loads(text)
    stamps = {
        (entity["system"]["codename"], language): entity["system"]["last_modified"]
        for language in original.language_codenames
        for entity in [
            *original.items[language].items,
            *original.items[language].modular_content.values(),
        ]
        if entity["system"]["language"] == language
    }
    model_stamps = {
        t["system"]["codename"]: t["system"]["last_modified"]
        for t in [*original.types, *original.taxonomies]
    }
    for entity in [*data["types"], *data["taxonomies"]]:
        entity["system"]["last_modified"] = model_stamps[entity["system"]["codename"]]
    items = {}
    for language, table in data["items"].items():
        for entity in [*table["items"], *table["modular_content"].values()]:
            system = entity["system"]
            system["last_modified"] = stamps[(system["codename"], system["language"])]
        items[language] = LanguageItems(table["items"], table["modular_content"])
    return Snapshot(
        default_language=imported.default_language,
        languages=imported.languages,
        types=data["types"],
        taxonomies=data["taxonomies"],
        items=items,
    )


def test_import_round_trips_to_the_bundled_build(
    mapi: ManagementEmulator, site: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_MANAGEMENT_API_KEY", KEY)
    monkeypatch.setenv("KONTENT_MANAGEMENT_URL", mapi.url)
    monkeypatch.setenv("KONTENT_ENVIRONMENT_ID", mapi.environment_id)
    # The command as the README gives it: the site is the one holding the snapshot.
    assert main(["import", str(site / ".kontent-ssg" / "snapshot")]) == 0
    out, err = capsys.readouterr()
    assert "18 items" in out and "30 variants" in out and "35 assets" in out
    assert "import: languages: default language 'default' renamed to 'en-US'" in err
    assert KEY not in out + err

    # Everything is there, once, published.
    env = mapi.env
    assert len(env.items) == 18 and len(env.types) == 9 and len(env.taxonomies) == 1
    assert len(env.assets) == 35 and len(env.variants) == 30
    assert all(v["_step"] == PUBLISHED_STEP_ID for v in env.variants.values())
    assert [lang["codename"] for lang in env.languages] == ["en-US", "es-ES"]

    original = load_snapshot(SNAPSHOT_DIR)
    served = _normalised(mapi.delivery_snapshot(), original, mapi)
    # The content itself came back: element values, components, languages' variants.
    for language in original.language_codenames:
        before = {i["system"]["codename"]: i for i in original.items[language].items}
        after = {i["system"]["codename"]: i for i in served.items[language].items}
        translated = {c for c, i in before.items() if i["system"]["language"] == language}
        assert set(after) == translated
        for codename in translated:
            for name, element in before[codename]["elements"].items():
                if element["type"] not in ("rich_text",):
                    assert after[codename]["elements"][name] == element, (codename, name)
        assert set(served.items[language].modular_content) <= set(
            original.items[language].modular_content
        )

    shutil.rmtree(site / ".kontent-ssg")
    with Emulator(
        served, environment_id=mapi.environment_id, fallbacks=mapi.delivery_fallbacks()
    ) as delivery:
        toml = site / "kontent.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8").replace(
                "[kontent]\n", f'[kontent]\ndelivery_url = "{delivery.url}"\n', 1
            ),
            encoding="utf-8",
        )
        config = load_config(site, env={"KONTENT_ENVIRONMENT_ID": mapi.environment_id})
        build(config, BuildOptions(full=True, workers=1))
        assert delivery.request_count > 0
    built, golden = tree(config.output_dir), tree(GOLDEN)
    assert sorted(built) == sorted(golden)
    changed = sorted(p for p in golden if built[p] != golden[p])
    assert changed == [], f"differs from tests/golden/example-site: {changed[:10]}"


def test_a_rerun_after_a_failure_completes_without_duplicates(mapi: ManagementEmulator) -> None:
    mapi.faults = MapiFaults(fail_from=90)  # the API starts failing half-way through
    with pytest.raises(ManagementError, match="kept failing"):
        _import(mapi, max_attempts=2)
    assert 0 < len(mapi.env.items) + len(mapi.env.assets) < 18 + 35  # stopped part-way
    mapi.faults = None
    report = _import(mapi)
    assert sum(report.skipped.values()) > 0  # what the first run made was found, not redone
    external_ids = [
        e["external_id"] for kind in ("items", "assets", "types") for e in getattr(mapi.env, kind)
    ]
    assert len(external_ids) == len(set(external_ids)) == 18 + 35 + 9
    assert len(mapi.env.variants) == 30
    assert all(v["_step"] == PUBLISHED_STEP_ID for v in mapi.env.variants.values())
    # A third run finds everything done (reading every listing to its end) and writes nothing.
    before, seen = len(mapi.writes()), len(mapi.request_log)
    again = _import(mapi)
    assert again.written == {"published": 0}
    assert len(mapi.writes()) == before
    pages = [r.path for r in mapi.request_log[seen:] if r.method == "GET"]
    assert pages.count("items") == 5 and pages.count("assets") == 9  # 4 a page: x-continuation


def _numbers_of(log: list, method: str, prefix: str) -> list[int]:
    return [r.number for r in log if r.method == method and r.path.startswith(prefix)]


@pytest.mark.parametrize(
    ("method", "prefix"),
    [("POST", "types"), ("POST", "taxonomies"), ("POST", "files/"), ("PUT", "items/external-id")],
)
def test_a_lost_answer_is_retried_without_a_duplicate(method: str, prefix: str) -> None:
    """The request went through but its answer was lost: the retry must not make a second
    object (a create finds the first through its external id; a publish finds it published)."""
    with ManagementEmulator(page_size=100) as clean:
        _import(clean)
        numbers = _numbers_of(clean.request_log, method, prefix)
    with ManagementEmulator(page_size=100) as emu:
        emu.faults = MapiFaults(drop_on=frozenset({numbers[0], numbers[-1]}))
        _import(emu)
        assert emu.internal_errors == []
        assert len(emu.env.types) == 9 and len(emu.env.taxonomies) == 1
        assert len(emu.env.items) == 18 and len(emu.env.assets) == 35
        assert all(v["_step"] == PUBLISHED_STEP_ID for v in emu.env.variants.values())


def test_a_lost_publish_answer_is_taken_as_published() -> None:
    with ManagementEmulator(page_size=100) as clean:
        _import(clean)
        publishes = [r.number for r in clean.request_log if r.path.endswith("/publish")]
    with ManagementEmulator(page_size=100) as emu:
        emu.faults = MapiFaults(drop_on=frozenset({publishes[3]}))
        report = _import(emu)
        assert report.written["published"] == 30
        statuses = [r.status for r in emu.request_log if r.path.endswith("/publish")]
        assert statuses.count(400) == 1  # the retry: "already published", then checked


def test_rate_limits_are_waited_out_as_retry_after_says(mapi: ManagementEmulator) -> None:
    waited: list[float] = []
    mapi.faults = MapiFaults(rate_limit_every=9, retry_after=3)
    with ManagementClient(
        mapi.url, mapi.environment_id, KEY, retry=RetryPolicy(sleep=waited.append)
    ) as client:
        report = import_snapshot(
            client, load_snapshot(SNAPSHOT_DIR), static_dir=EXAMPLE_SITE / "static"
        )
    limited = [r for r in mapi.request_log if r.status == 429]
    assert len(limited) >= 10
    assert waited == [3.0] * len(limited)
    assert report.retries == len(limited)
    assert len(mapi.env.variants) == 30 and len(mapi.env.items) == 18


def test_a_non_empty_environment_is_refused_before_anything_is_written(
    mapi: ManagementEmulator,
) -> None:
    with _client(mapi) as client:
        client.post(
            "types",
            {"name": "Landing page", "codename": "landing_page", "elements": []},
            what="someone else's type",
        )
    before = len(mapi.writes())
    with pytest.raises(ManagementError, match="is not empty: it holds 1 content types") as info:
        _import(mapi)
    assert "empty environment" in (info.value.hint or "")
    assert len(mapi.writes()) == before


def test_a_wrong_key_is_a_clear_error_that_never_shows_the_key(
    mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    wrong = "wrong-key-5d1c9e"
    monkeypatch.setenv("KONTENT_MANAGEMENT_API_KEY", wrong)
    monkeypatch.setenv("KONTENT_MANAGEMENT_URL", mapi.url)
    args = ["import", str(SNAPSHOT_DIR), "--environment-id", mapi.environment_id]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "refused the key in KONTENT_MANAGEMENT_API_KEY (HTTP 401" in err
    assert "hint: create a Management API key" in err
    assert wrong not in out + err and "Traceback" not in err
    assert mapi.writes() == []


def test_a_missing_key_and_a_missing_environment_exit_2(
    mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("KONTENT_MANAGEMENT_API_KEY", raising=False)
    monkeypatch.delenv("KONTENT_ENVIRONMENT_ID", raising=False)
    args = ["import", str(SNAPSHOT_DIR), "--environment-id", mapi.environment_id]
    assert main(args) == 2
    assert "KONTENT_MANAGEMENT_API_KEY is not set" in capsys.readouterr().err
    monkeypatch.setenv("KONTENT_MANAGEMENT_API_KEY", KEY)
    # a snapshot outside any site, no --environment-id, no variable
    assert main(["import", str(SNAPSHOT_DIR), "--site", str(EXAMPLE_SITE / "static")]) == 2
    assert main(["import", str(EXAMPLE_SITE)]) == 2
    assert "is not a snapshot folder" in capsys.readouterr().err
    assert mapi.request_count == 0


def test_relative_asset_urls_need_a_site(mapi: ManagementEmulator, tmp_path: Path) -> None:
    loose = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT_DIR, loose)
    with _client(mapi) as client, pytest.raises(Exception, match="pass --site SITE"):
        import_snapshot(client, load_snapshot(loose))
    assert mapi.env.assets == []
