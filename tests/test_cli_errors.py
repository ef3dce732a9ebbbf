"""Bad input through the real CLI: each case checks the exit status AND the message.

``kontent-ssg pull`` runs in-process (``cli.main``) against an emulator or a dead port; one
case runs the installed console entry in a subprocess to prove the API-down path ends cleanly
with no traceback. Exit statuses: 1 build/network, 2 usage/config.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.snapshot import LanguageItems, Snapshot, load_snapshot
from tests.support.emulator import Emulator, Faults

REPO = Path(__file__).resolve().parent.parent
ENV = "8e1a4b2c-3d5f-4a6b-9c7d-0e1f2a3b4c5d"
KEY = "k3y-that-must-never-leak-9f8e7d"

KONTENT_VARIABLES = (
    "KONTENT_ENVIRONMENT_ID",
    "KONTENT_DELIVERY_API_KEY",
    "KONTENT_PREVIEW_API_KEY",
    "KONTENT_WEBHOOK_SECRET",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own KONTENT_* variables must not leak into these tests."""
    for name in KONTENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def source() -> Snapshot:
    def item(n: int) -> dict[str, object]:
        return {
            "system": {
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "codename": f"post_{n}",
                "name": f"Post {n}",
                "language": "en-US",
                "type": "post",
            },
            "elements": {"title": {"type": "text", "name": "Title", "value": f"Post {n}"}},
        }

    return Snapshot(
        default_language="en-US",
        languages=[
            {
                "system": {
                    "id": "00000000-0000-0000-0000-000000000000",
                    "name": "English",
                    "codename": "en-US",
                }
            }
        ],
        types=[{"system": {"codename": "post", "name": "Post"}, "elements": {}}],
        items={"en-US": LanguageItems(items=[item(n) for n in range(5)])},
    )


def write_site(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kontent.toml").write_text(body, encoding="utf-8")
    return folder


def site_for(folder: Path, url: str, *, environment_id: str = ENV, extra: str = "") -> Path:
    return write_site(
        folder,
        "[kontent]\n"
        f'environment_id = "{environment_id}"\n'
        f'delivery_url = "{url}"\n'
        f'preview_url = "{url}/preview"\n'
        "max_retries = 2\n" + extra,
    )


def pull(site: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    status = main(["pull", str(site), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(source(), environment_id=ENV, page_size=2) as emu:
        yield emu


@pytest.fixture
def secure_emulator() -> Iterator[Emulator]:
    with Emulator(source(), environment_id=ENV, page_size=2, secure_key=KEY) as emu:
        yield emu


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- success, for contrast -------------------------------------------------------------------


def test_pull_saves_the_snapshot_and_prints_a_summary(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_for(tmp_path, emulator.url)
    status, out, err = pull(site, capsys)
    assert status == 0
    assert "items en-US 5" in out and "1 types" in out and "0 taxonomies" in out
    assert "requests" in out
    assert "en-US: 5 items (3 pages)" in err
    assert load_snapshot(site / ".kontent-ssg" / "snapshot") == source()


def test_pull_quiet_prints_nothing(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = pull(site_for(tmp_path, emulator.url), capsys, "--quiet")
    assert (status, out, err) == (0, "", "")


# -- configuration (exit 2) ------------------------------------------------------------------


def test_bad_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, '[kontent\nenvironment_id = "x"\n')
    status, _, err = pull(site, capsys)
    assert status == 2
    assert "invalid TOML" in err and "kontent.toml" in err


def test_missing_environment_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, '[kontent]\ndelivery_url = "http://127.0.0.1:9"\n')
    status, _, err = pull(site, capsys)
    assert status == 2
    assert "environment_id is missing" in err and "KONTENT_ENVIRONMENT_ID" in err


def test_unknown_key_is_a_warning_naming_the_key(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_for(tmp_path, emulator.url, extra="colour = 'blue'\n")
    status, _, err = pull(site, capsys)
    assert status == 0
    assert "warning:" in err and "unknown key 'colour'" in err and "[kontent]" in err


def test_preview_without_preview_key(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = pull(site_for(tmp_path, emulator.url), capsys, "--preview")
    assert status == 2
    assert "KONTENT_PREVIEW_API_KEY" in err


def test_configured_language_the_environment_lacks(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_for(tmp_path, emulator.url, extra='languages = ["en-US", "xx-XX"]\n')
    status, _, err = pull(site, capsys)
    assert status == 2
    assert "'xx-XX' is not a language" in err and "en-US" in err


# -- the API says no (exit 1) ----------------------------------------------------------------


def test_missing_key_for_secure_access(
    tmp_path: Path, secure_emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = pull(site_for(tmp_path, secure_emulator.url), capsys)
    assert status == 1
    assert "requires secure access" in err and "KONTENT_DELIVERY_API_KEY" in err
    assert "401" in err


def test_wrong_key_for_secure_access(
    tmp_path: Path,
    secure_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTENT_DELIVERY_API_KEY", "not-" + KEY)
    status, out, err = pull(site_for(tmp_path, secure_emulator.url), capsys)
    assert status == 1
    assert "rejected the key in KONTENT_DELIVERY_API_KEY" in err and "401" in err
    assert KEY not in out + err


def test_wrong_preview_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KONTENT_PREVIEW_API_KEY", "wrong-preview-key")
    with Emulator(source(), environment_id=ENV, preview_key="right") as emu:
        status, out, err = pull(site_for(tmp_path, emu.url), capsys, "--preview")
    assert status == 1
    assert "KONTENT_PREVIEW_API_KEY" in err and "Preview API" in err
    assert "wrong-preview-key" not in out + err


def test_unknown_environment(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    status, _, err = pull(site_for(tmp_path, emulator.url, environment_id=other), capsys)
    assert status == 1
    assert f"unknown environment {other}" in err and "404" in err
    assert "environment_id" in err  # the hint says what to fix


def test_malformed_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faults = Faults(malformed_json="items-feed")
    with Emulator(source(), environment_id=ENV, faults=faults) as emu:
        status, _, err = pull(site_for(tmp_path, emu.url), capsys)
        url = f"{emu.url}/{ENV}/items-feed?language=en-US"
    assert status == 1
    assert "not valid JSON" in err and f"GET {url}" in err


def test_malformed_continuation_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faults = Faults(garbage_continuation=True)
    with Emulator(source(), environment_id=ENV, page_size=2, faults=faults) as emu:
        status, _, err = pull(site_for(tmp_path, emu.url), capsys)
    assert status == 1
    assert "items-feed for language 'en-US' (page 2)" in err
    assert "rejected the continuation token" in err
    assert not (tmp_path / ".kontent-ssg" / "snapshot" / "manifest.json").exists()


def test_api_down_ends_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{dead_port()}"
    status, _, err = pull(site_for(tmp_path, url), capsys)
    assert status == 1
    assert "cannot reach the Delivery API" in err and url in err
    # Nothing listens on that port of this machine: said at once, not after retries.
    assert "connection refused" in err and "not retried" in err and "waiting" not in err
    assert "start the server [kontent] delivery_url points at" in err
    assert not (tmp_path / ".kontent-ssg").exists()


def test_api_refusing_every_connection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Emulator(source(), environment_id=ENV, faults=Faults(down=True)) as emu:
        status, _, err = pull(site_for(tmp_path, emu.url), capsys)
    assert status == 1
    assert "/languages" in err and "gave up after 3 attempts" in err


def test_api_down_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    site = site_for(tmp_path, f"http://127.0.0.1:{dead_port()}")
    env = {k: v for k, v in os.environ.items() if k not in KONTENT_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "pull", str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "cannot reach the Delivery API" in result.stderr
    assert "Traceback" not in result.stderr


def test_offline_build_input_missing_says_to_pull(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kontent_ssg.config import load_config
    from kontent_ssg.content.delivery import obtain_snapshot
    from kontent_ssg.errors import SnapshotError

    config = load_config(site_for(tmp_path, "http://127.0.0.1:9"), env={})
    with pytest.raises(SnapshotError) as caught:
        obtain_snapshot(config, offline=True)
    assert caught.value.exit_code == 1
    assert "kontent-ssg pull" in str(caught.value)


# -- secrets ---------------------------------------------------------------------------------


def test_key_never_reaches_output_or_snapshot(
    tmp_path: Path,
    secure_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTENT_DELIVERY_API_KEY", KEY)
    site = site_for(tmp_path, secure_emulator.url)
    status, out, err = pull(site, capsys, "--verbose")
    assert status == 0
    assert KEY not in out + err
    files = [p for p in (site / ".kontent-ssg").rglob("*") if p.is_file()]
    assert any(p.name == "manifest.json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    # The key was really used (the emulator demands it), just never written anywhere.
    assert all(
        r.headers.get("authorization") == f"Bearer {KEY}" for r in secure_emulator.request_log
    )
    manifest = json.loads((site / ".kontent-ssg" / "snapshot" / "manifest.json").read_text())
    assert manifest["languages"] == ["en-US"]


def test_command_exits_quickly_with_its_output_flushed(tmp_path: Path) -> None:
    # `python -m kontent_ssg` ends with os._exit (no interpreter teardown): the summary
    # (stderr, like all progress) must still arrive through a pipe, with the status.
    site = tmp_path / "site"
    shutil.copytree(REPO / "example-site", site, ignore=shutil.ignore_patterns("public", "build"))
    result = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(site), "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "written" in result.stderr and f"output: {site / 'public'}" in result.stderr
    assert (site / "public" / "index.html").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(tmp_path / "missing"), "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ")
