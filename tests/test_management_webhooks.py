"""``kontent-ssg webhooks register|list|remove`` against the Management API emulator."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.delivery import RetryPolicy
from kontent_ssg.management.client import ManagementClient
from kontent_ssg.management.webhooks import (
    ITEM_ACTIONS,
    TAXONOMY_ACTIONS,
    desired_webhook,
    register,
)
from tests.support.mapi_emulator import ManagementEmulator, MapiFaults

KEY = "mapi-key-for-webhooks-42"
SECRET = "s3cret-from-the-environment-0123456789"
URL = "https://build.roastery.example/webhook"
NAME = "kontent-ssg https://roastery.example"


@pytest.fixture
def mapi() -> Iterator[ManagementEmulator]:
    with ManagementEmulator(api_key=KEY) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture
def site(tmp_path: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{mapi.environment_id}"\n'
        f'management_url = "{mapi.url}"\nmax_retries = 2\n\n'
        '[site]\nbase_url = "https://roastery.example"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KONTENT_MANAGEMENT_API_KEY", KEY)
    monkeypatch.delenv("KONTENT_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("KONTENT_ENVIRONMENT_ID", raising=False)
    monkeypatch.delenv("KONTENT_MANAGEMENT_URL", raising=False)
    return folder


def _register(site: Path, *extra: str, url: str = URL) -> int:
    return main(["webhooks", "register", str(site), "--url", url, *extra])


def test_register_twice_leaves_one_webhook(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    assert _register(site) == 0
    assert f"webhook '{NAME}' created -> {URL}" in capsys.readouterr().out
    assert _register(site) == 0
    out, err = capsys.readouterr()
    assert f"webhook '{NAME}' unchanged" in out
    assert SECRET not in out + err and KEY not in out + err

    [webhook] = mapi.env.webhooks
    assert (webhook["name"], webhook["url"], webhook["secret"]) == (NAME, URL, SECRET)
    triggers = webhook["delivery_triggers"]
    assert (triggers["slot"], triggers["events"]) == ("published", "specific")
    assert [a["action"] for a in triggers["content_item"]["actions"]] == list(ITEM_ACTIONS)
    assert [a["action"] for a in triggers["taxonomy"]["actions"]] == list(TAXONOMY_ACTIONS)
    assert {"published", "unpublished"} <= set(ITEM_ACTIONS)
    assert {"term_changed", "term_created", "term_deleted"} <= set(TAXONOMY_ACTIONS)
    assert [r.method for r in mapi.writes()] == ["POST"]  # the second run wrote nothing


def test_a_changed_url_replaces_the_webhook_and_a_disabled_one_is_enabled(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    assert _register(site) == 0
    first = mapi.env.webhooks[0]["id"]
    assert _register(site, url="https://other.example/hook") == 0
    assert "replaced" in capsys.readouterr().out
    [webhook] = mapi.env.webhooks
    assert webhook["id"] != first and webhook["url"] == "https://other.example/hook"
    # created before the old one was deleted: notifications never stop
    writes = [(r.method, r.path.split("/")[0]) for r in mapi.writes()]
    assert writes[1:] == [("POST", "webhooks-vnext"), ("DELETE", "webhooks-vnext")]

    webhook["enabled"] = False  # someone disabled it in Kontent.ai
    assert _register(site, url="https://other.example/hook") == 0
    assert "enabled" in capsys.readouterr().out
    assert [w["enabled"] for w in mapi.env.webhooks] == [True]


def test_duplicates_by_name_are_reduced_to_one_and_others_are_left_alone(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    with ManagementClient(mapi.url, mapi.environment_id, KEY) as client:
        for name in (NAME, NAME, "someone else's"):
            client.post("webhooks-vnext", desired_webhook(name, URL, SECRET), what="seed")
    assert _register(site) == 0
    assert sorted(w["name"] for w in mapi.env.webhooks) == sorted([NAME, "someone else's"])


def test_a_create_whose_answer_was_lost_leaves_one_webhook(mapi: ManagementEmulator) -> None:
    # request 1 lists, request 2 creates (done, answer dropped), 3 creates again
    mapi.faults = MapiFaults(drop_on=frozenset({2}))
    retry = RetryPolicy(sleep=lambda seconds: None)
    with ManagementClient(mapi.url, mapi.environment_id, KEY, retry=retry) as client:
        result = register(client, NAME, URL, SECRET)
    assert result.action == "created" and result.removed == 1
    assert [w["id"] for w in mapi.env.webhooks] == [result.webhook["id"]]


def test_remove_deletes_the_sites_webhook_only(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    with ManagementClient(mapi.url, mapi.environment_id, KEY) as client:
        client.post("webhooks-vnext", desired_webhook("other", URL, SECRET), what="seed")
    assert _register(site) == 0
    assert main(["webhooks", "remove", str(site)]) == 0
    assert f"removed 1 webhook named '{NAME}'" in capsys.readouterr().out
    assert [w["name"] for w in mapi.env.webhooks] == ["other"]
    assert main(["webhooks", "remove", str(site)]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_the_name_comes_from_the_config_when_set(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    toml = site / "kontent.toml"
    toml.write_text(toml.read_text() + '\n[webhook]\nname = "roastery builds"\n')
    assert _register(site) == 0
    assert [w["name"] for w in mapi.env.webhooks] == ["roastery builds"]


def test_a_generated_secret_goes_to_a_0600_file_and_never_to_the_output(
    site: Path, mapi: ManagementEmulator, tmp_path: Path, capsys
) -> None:
    secret_file = tmp_path / "private" / "webhook-secret"
    assert _register(site, "--secret-file", str(secret_file)) == 0
    out, err = capsys.readouterr()
    secret = secret_file.read_text(encoding="utf-8").strip()
    assert len(secret) >= 40
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert [w["secret"] for w in mapi.env.webhooks] == [secret]
    assert secret not in out + err
    assert "secret generated and written to" in out and "KONTENT_WEBHOOK_SECRET" in out
    # The file is reused: registering again changes nothing.
    assert _register(site, "--secret-file", str(secret_file)) == 0
    out, err = capsys.readouterr()
    assert "unchanged" in out and "secret read from" in out and secret not in out + err
    assert len(mapi.env.webhooks) == 1 and len(mapi.writes()) == 1


def test_a_secret_is_required_and_given_once(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    assert _register(site) == 2
    assert "no webhook secret" in capsys.readouterr().err
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    assert _register(site, "--secret-file", str(tmp_path / "s")) == 2
    assert "both KONTENT_WEBHOOK_SECRET and --secret-file" in capsys.readouterr().err
    assert _register(site, url="ftp://nope") == 2
    assert mapi.request_count == 0 and not (tmp_path / "s").exists()


def test_list_shows_names_and_triggers_but_no_secret(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_WEBHOOK_SECRET", SECRET)
    with ManagementClient(mapi.url, mapi.environment_id, KEY) as client:
        client.post("webhooks-vnext", desired_webhook("other", URL, "x" * 30), what="seed")
    assert _register(site) == 0
    capsys.readouterr()
    assert main(["webhooks", "list", str(site)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"* {NAME}  {URL}  enabled  published")
    assert "content_item: published, unpublished" in lines[1]
    assert lines[0].startswith("  other")
    assert SECRET not in out + err and "x" * 30 not in out + err


def test_a_wrong_key_names_the_variable_not_the_key(
    site: Path, mapi: ManagementEmulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("KONTENT_MANAGEMENT_API_KEY", "not-the-key-9931")
    assert main(["webhooks", "list", str(site)]) == 1
    err = capsys.readouterr().err
    assert "refused the key in KONTENT_MANAGEMENT_API_KEY (HTTP 401" in err
    assert "not-the-key-9931" not in err
    monkeypatch.delenv("KONTENT_MANAGEMENT_API_KEY")
    assert main(["webhooks", "list", str(site)]) == 2
    assert "KONTENT_MANAGEMENT_API_KEY is not set" in capsys.readouterr().err


def test_the_key_is_refused_in_kontent_toml(site: Path, capsys) -> None:
    toml = site / "kontent.toml"
    toml.write_text(
        toml.read_text().replace("[kontent]\n", '[kontent]\nmanagement_api_key = "k"\n', 1)
    )
    assert main(["webhooks", "list", str(site)]) == 2
    assert "secrets are read only from the environment" in capsys.readouterr().err


def test_webhooks_needs_an_action(site: Path, capsys) -> None:
    assert main(["webhooks", str(site)]) == 2
    assert main(["webhooks"]) == 2
    assert "register" in capsys.readouterr().err
