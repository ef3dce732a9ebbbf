"""The generated GitHub workflow, run: its own ``run:`` steps, taken from the YAML, twice.

Each run is what a runner does: a fresh checkout of the site's repository, a Python without
kontent-ssg (the workflow's install step installs the wheel its requirements.txt names),
the cache restored as ``actions/cache`` restores it (a ``tar --posix`` of the step's paths,
saved after the previous successful run), then the build steps against the Delivery API
emulator. The first run (a push) renders every page; the second (a ``repository_dispatch``
from the relay, after one article changed) writes exactly the pages whose bytes changed,
and its output equals a clean full build of the same content.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kontent_ssg.cli import main
from kontent_ssg.content.webhooks import Change
from kontent_ssg.relay import client_payload
from tests.support.ci_runner import Runner, rendered
from tests.support.emulator import Emulator
from tests.support.fixtures import EXAMPLE_SITE
from tests.support.packaging import build_dist, checkout
from tests.support.sites import tree


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    done = build_dist(checkout(root / "src"), root / "out", "wheel")
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = (root / "out").glob("kontent_ssg-*.whl")
    return built


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator.from_folder(EXAMPLE_SITE / ".kontent-ssg" / "snapshot") as emu:
        yield emu


def make_repository(repo: Path, emu: Emulator, wheel: Path) -> None:
    """The site's repository: the example site against the emulator, `init --ci github`,
    and a requirements.txt naming the wheel (as a site pins kontent-ssg)."""
    shutil.copytree(
        EXAMPLE_SITE,
        repo,
        ignore=shutil.ignore_patterns("public", "public-preview", "build", "snapshot"),
    )
    (repo / ".git").mkdir()
    toml = (repo / "kontent.toml").read_text()
    toml = re.sub(
        r'environment_id = ".*"',
        f'environment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"',
        toml,
    )
    (repo / "kontent.toml").write_text(toml)
    (repo / "requirements.txt").write_text(f"{wheel}\n")
    assert main(["-q", "init", str(repo), "--ci", "github"]) == 0


def test_second_ci_run_writes_only_the_changed_pages(
    tmp_path: Path, emulator: Emulator, wheel: Path
) -> None:
    repository = tmp_path / "repository"
    make_repository(repository, emulator, wheel)
    runner = Runner(tmp_path / "runner", repository)

    first = runner.run(1, "push")
    assert "kontent-ssg 0." in first["log"]  # the install step's version check
    pages = {rel for rel in first["files"] if rel.endswith((".html", ".xml", ".txt"))}
    assert len(pages) > 40 and pages <= first["written"]
    before = {rel: p.read_bytes() for rel, p in first["files"].items()}

    # An editor retitles one article; the relay turns the webhook into a dispatch.
    article = next(
        raw
        for raw in emulator.snapshot.items["en-US"].items
        if raw["system"]["type"] == "article" and raw["system"]["language"] == "en-US"
    )
    edited = json.loads(json.dumps(article))
    edited["elements"]["title"]["value"] += " (revised)"
    emulator.upsert_item(edited)
    system = edited["system"]
    payload = client_payload(
        [Change("item", "publish", system["codename"], system["id"], "en-US", system["type"])]
    )
    assert payload["notifications"]
    second = runner.run(2, "repository_dispatch", payload)

    after = {rel: p.read_bytes() for rel, p in second["files"].items()}
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert changed, "the retitled article changed no page"
    # Exactly the pages whose bytes changed were written, a small part of the site.
    assert second["written"] == changed
    assert len(changed) < len(pages) / 3
    assert f"articles/{edited['elements']['url']['value']}/index.html" in changed
    # ... and only the changed article's dependants were rendered (a full build would render
    # every page and still write only these): the builds' own count, "render: N/N pages".
    assert rendered(first["log"]) == [len(pages)]
    renders = rendered(second["log"])
    assert len(renders) == 2  # --changes, then the Sync API catch-up
    assert 0 < renders[0] < len(pages) / 2 and renders[1] == 0, second["log"]
    # The job summary says so too (GitHub annotations mode: GITHUB_ACTIONS=true).
    assert "### kontent-ssg: full build" in first["summary"]
    assert second["summary"].count("### kontent-ssg: incremental") == 2

    # The same content built from scratch gives the same site.
    clean = tmp_path / "clean"
    shutil.copytree(repository, clean, ignore=shutil.ignore_patterns(".git", ".github"))
    assert main(["-q", "build", str(clean)]) == 0
    assert tree(clean / "public") == tree(second["output"])
