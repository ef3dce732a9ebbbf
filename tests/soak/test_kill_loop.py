"""Kill a real 2,000-page build at random moments; the site is never left half-published.

Each round changes the content (a few items, or a template: every page; sometimes with
``--full``), starts ``kontent-ssg build`` (two render processes) and SIGKILLs its main process
at a random moment of the render or of the publish step. Then:

* no process of the killed build is left (render workers die with it);
* what the next command does first (:func:`~kontent_ssg.builder.journal.recover`) leaves the
  output wholly the old site or wholly the new one, with no temporary file anywhere;
* the next command (``build``, or ``serve --offline`` in some rounds) ends with an output
  byte-identical to a clean build of the new content.

Outcomes only: how long anything took is never asserted. Run by ``make soak``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kontent_ssg.builder.journal import Journal, recover
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.config import Config
from kontent_ssg.content.snapshot import Snapshot, save_snapshot
from tests.support.net import free_port
from tests.support.processes import kill_session, start_build, wait_for_no_survivors
from tests.support.sites import content_type, item, make_site, slug, snapshot, text, tree

PAGES = 2000
KILLS = 20
TOML = """
[site]
output = "public"

[routes.article]
path = "/articles/{url}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "system.codename asc"
page_size = 50
template = "listing.html"
"""
LISTING = "{% for i in page.items %}<a href='{{ i.url }}'>{{ i.title }}</a>{% endfor %}"


def _content(titles: dict[int, str], gone: set[int]) -> Snapshot:
    items = [
        item(
            f"p{i:04d}",
            "article",
            elements={"title": text(titles.get(i, f"T{i}")), "url": slug(f"p{i:04d}")},
        )
        for i in range(PAGES + 20)
        if i not in gone
    ]
    return snapshot({"en-US": items}, types=[content_type("article", title="text", url="url_slug")])


class Version:
    """The content and templates of one round, and a clean build of them."""

    def __init__(self, rng: random.Random, previous: Version | None) -> None:
        self.titles = dict(previous.titles) if previous else {}
        self.gone = set(previous.gone) if previous else set(range(PAGES, PAGES + 20))
        self.template = previous.template if previous else "<h1>{{ item.title }}</h1>"
        self.round = previous.round + 1 if previous else 0
        self.kind = "first"
        if previous is not None:
            self.kind = rng.choice(["items", "template", "full"])
            if self.kind == "items":
                for i in rng.sample(range(PAGES), 40):
                    self.titles[i] = f"T{i} r{self.round}"
                # One page appears, one goes (a folder appears, a file is deleted).
                self.gone ^= {rng.randrange(PAGES + 20), rng.randrange(PAGES + 20)}
            else:
                self.template = f"<h1>{{{{ item.title }}}}</h1><p>round {self.round}</p>"

    def write(self, config: Config) -> None:
        save_snapshot(_content(self.titles, self.gone), config.snapshot_dir)
        (config.templates_dir / "article.html").write_text(self.template)

    def clean_build(self, root: Path) -> dict[str, bytes]:
        config = make_site(
            root / f"clean-{self.round}",
            TOML,
            {"article.html": self.template, "listing.html": LISTING},
            _content(self.titles, self.gone),
        )
        build(config, BuildOptions(offline=True))
        return tree(config.output_dir)


def _staged(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.name.endswith(".kontent-ssg-tmp")]


def _published(root: Path) -> dict[str, bytes]:
    return {
        path: data
        for path, data in tree(root).items()
        if not any(part.endswith(".kontent-ssg-tmp") for part in path.split("/"))
    }


def _phase(journal: Path) -> str | None:
    try:
        return str(json.loads(journal.read_bytes()).get("phase"))
    except (OSError, ValueError):
        return None


def _kill_during(
    process: subprocess.Popen[bytes], journal: Path, phase: str, rng: random.Random
) -> str | None:
    """SIGKILL ``process`` at a random moment of ``phase`` (render: staging; publish); the
    phase it was in when it died (None: it finished first)."""
    while _phase(journal) != ("staging" if phase == "render" else "publishing"):
        if process.poll() is not None:
            return None
        time.sleep(0.0005)
    # The publish step of a 2,000-page rewrite (state, then renames) lasts a few tenths of
    # a second at most here: kills that come after it are not counted, and retried.
    time.sleep(rng.uniform(0.0, 0.3 if phase == "render" else 0.15))
    if process.poll() is not None:
        return None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return {"staging": "render", "publishing": "publish"}.get(_phase(journal) or "")


def _serve_once(site: Path) -> None:
    """``kontent-ssg serve --offline``: its first build done, stop it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kontent_ssg", "serve", str(site), "--offline", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if line.startswith("serving "):
                break
        else:
            raise AssertionError(f"serve ended without serving (exit {server.wait()})")
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.timeout(540)
def test_builds_killed_at_random_moments_never_leave_a_mixed_site(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("KONTENT_SSG_SOAK_SEED", "20240610")))
    version = Version(rng, None)
    config = make_site(
        tmp_path / "site",
        TOML,
        {"article.html": version.template, "listing.html": LISTING},
        _content(version.titles, version.gone),
    )
    assert (
        subprocess.run(
            [sys.executable, "-m", "kontent_ssg", "build", str(config.site_dir), "--offline", "-q"]
        ).returncode
        == 0
    )
    journal = Journal.for_site(config.state_dir, preview=False)
    landed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    attempts = 0
    while sum(landed.values()) < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, f"only {dict(landed)} kills landed in {attempts} builds"
        old = tree(config.output_dir)
        version = Version(rng, version)
        version.write(config)
        new = version.clean_build(tmp_path)
        # Alternate the phases, so both get their share of the kills.
        phase = "render" if landed["render"] <= landed["publish"] else "publish"
        flags = ["--full"] if version.kind == "full" else []
        process = start_build(config.site_dir, "--offline", "-q", *flags, stderr=subprocess.DEVNULL)
        try:
            killed = _kill_during(process, journal.path, phase, rng)
            assert wait_for_no_survivors(process.pid) == [], "a render worker outlived the build"
        finally:
            kill_session(process.pid)
        if killed:
            landed[killed] += 1
            before = _published(config.output_dir)
            outcomes["mixed before recovery" if before not in (old, new) else "whole"] += 1
            # What build, serve and webhook do first:
            recover(journal, lambda message: None)
            after = tree(config.output_dir)
            assert _staged(config.site_dir) == [], f"round {version.round}: temporary files left"
            assert after in (old, new), f"round {version.round}: killed in {killed}, output mixed"
            outcomes["old" if after == old else "new"] += 1
        if rng.random() < 0.25:
            _serve_once(config.site_dir)
        else:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "kontent_ssg",
                    "build",
                    str(config.site_dir),
                    "--offline",
                    "-q",
                ],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
        assert tree(config.output_dir) == new, f"round {version.round}: differs from a clean build"
        assert _staged(config.site_dir) == []
        assert not journal.path.exists()
    print(f"kills: {dict(landed)} in {attempts} builds; outcomes: {dict(outcomes)}")
    assert landed["render"] >= KILLS // 4 and landed["publish"] >= KILLS // 4
