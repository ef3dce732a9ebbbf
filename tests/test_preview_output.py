"""``--preview`` builds (drafts from the Preview API) go to a folder of their own, so that a
deploy of ``public/`` can never ship them: ``build --preview`` writes ``public-preview/`` (or
``[site] preview_output``), ``--output`` still overrides, ``serve --preview`` serves it."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kontent_ssg.cli import main
from kontent_ssg.config import load_config
from kontent_ssg.errors import ConfigError
from tests.support.emulator import Emulator
from tests.support.fixtures import REPO
from tests.support.net import free_port, wait_for
from tests.support.sites import item, snapshot, text

ENV = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
KEY = "preview-key-for-tests"
TEMPLATES = {"post.html": "<h1>{{ item.title }}</h1>", "404.html": "<h1>Not found</h1>"}


def published():
    return snapshot({"en-US": [item("launch", "post", elements={"title": text("Launch")})]})


def drafts():
    snap = copy.deepcopy(published())
    snap.items["en-US"].items.append(
        item("secret_plan", "post", elements={"title": text("Draft: secret plan")})
    )
    return snap


def write_site(root: Path, emu: Emulator, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{emu.environment_id}"\n'
        f'delivery_url = "{emu.url}"\npreview_url = "{emu.preview_url}"\n'
        f'[site]\noutput = "public"\n{extra}\n'
        '[routes.post]\npath = "/posts/{system.codename}/"\n',
        encoding="utf-8",
    )
    for name, source in TEMPLATES.items():
        (root / "templates").mkdir(exist_ok=True)
        (root / "templates" / name).write_text(source, encoding="utf-8")
    return root


@pytest.fixture
def emu():
    with Emulator(
        published(), environment_id=ENV, preview_key=KEY, preview_snapshot=drafts()
    ) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def preview_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KONTENT_ENVIRONMENT_ID", "KONTENT_DELIVERY_API_KEY", "KONTENT_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KONTENT_PREVIEW_API_KEY", KEY)


def test_preview_build_never_writes_into_public(tmp_path: Path, emu: Emulator, capsys) -> None:
    site = write_site(tmp_path / "site", emu)
    assert main(["build", str(site), "-q"]) == 0
    public = site / "public"
    before = {p: p.read_bytes() for p in public.rglob("*") if p.is_file()}

    assert main(["build", str(site), "--preview", "-q"]) == 0, capsys.readouterr().err
    draft = site / "public-preview" / "posts" / "secret_plan" / "index.html"
    assert "Draft: secret plan" in draft.read_text()
    assert (site / "public-preview" / "posts" / "launch" / "index.html").is_file()
    # public/ is exactly the published build: no draft, nothing rewritten.
    assert {p: p.read_bytes() for p in public.rglob("*") if p.is_file()} == before
    assert not (public / "posts" / "secret_plan").exists()


def test_preview_output_is_configurable_and_output_flag_overrides(
    tmp_path: Path, emu: Emulator, capsys
) -> None:
    site = write_site(tmp_path / "site", emu, 'preview_output = "drafts"')
    assert main(["build", str(site), "--preview", "-q"]) == 0, capsys.readouterr().err
    assert (site / "drafts" / "posts" / "secret_plan" / "index.html").is_file()
    assert not (site / "public").exists() and not (site / "public-preview").exists()

    chosen = tmp_path / "elsewhere"
    assert main(["build", str(site), "--preview", "--output", str(chosen), "-q"]) == 0
    assert (chosen / "posts" / "secret_plan" / "index.html").is_file()


def test_preview_output_derives_from_output(tmp_path: Path, emu: Emulator) -> None:
    site = write_site(tmp_path / "site", emu)
    (site / "kontent.toml").write_text(
        (site / "kontent.toml").read_text().replace('output = "public"', 'output = "dist"')
    )
    config = load_config(site, env={})
    assert config.preview_output_dir == site.resolve() / "dist-preview"
    assert config.output_for(False) == site.resolve() / "dist"


@pytest.mark.parametrize("value", ["public", "public/preview", "."])
def test_preview_output_may_not_be_or_hold_the_output(
    tmp_path: Path, emu: Emulator, value: str
) -> None:
    site = write_site(tmp_path / "site", emu, f'preview_output = "{value}"')
    with pytest.raises(ConfigError, match=r"\[site\] preview_output: .* would ship drafts"):
        load_config(site, env={})


def test_serve_preview_serves_the_preview_folder(tmp_path: Path, emu: Emulator) -> None:
    site = write_site(tmp_path / "site", emu)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env.update(PYTHONPATH=str(REPO), KONTENT_PREVIEW_API_KEY=KEY)
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kontent_ssg", "serve", str(site), "--preview", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )

    def draft() -> httpx.Response | None:
        assert proc.poll() is None, log.read_text()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/posts/secret_plan/", timeout=5)
        except httpx.HTTPError:
            return None

    try:
        page = wait_for(draft, what="serve --preview up")
        assert page.status_code == 200 and "Draft: secret plan" in page.text
        assert f"serving {site.resolve() / 'public-preview'} at" in log.read_text()
        assert not (site / "public").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
