"""A build killed at any moment leaves the old site or the new one, never a mix.

Publishing goes through a journal (``kontent_ssg/builder/journal.py``): a build interrupted
while publishing is completed by the next command that writes output, one interrupted while
rendering is undone; ``check`` only reports it. The kills here are simulated in-process (an
exception nothing catches, raised from a rename) or real (SIGKILL of a ``kontent-ssg
build``); tests/soak/test_kill_loop.py kills 2,000-page builds at random moments.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kontent_ssg.builder.journal import Journal, recover
from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.cli import main
from kontent_ssg.config import Config
from kontent_ssg.content.snapshot import save_snapshot
from tests.support.processes import kill_session, start_build, wait_for_no_survivors
from tests.support.sites import (
    ARTICLE_TOML,
    article_snapshot,
    make_site,
    tree,
)

TEMPLATE = "<h1>{{ item.title }}</h1>"


def _content(version: int):  # type: ignore[no-untyped-def]
    """Version 2 changes every title, adds ``new`` and drops ``a79``."""
    count = 80 if version == 1 else 79
    titles = {f"a{i:02d}": f"{i} v{version}" for i in range(count)}
    if version == 2:
        titles["new"] = "new"
    return article_snapshot(titles)


class Killed(BaseException):
    """Stands for SIGKILL: nothing in kontent-ssg catches it, so nothing cleans up."""


def _clean_build(tmp_path: Path, version: int) -> dict[str, bytes]:
    config = make_site(
        tmp_path / f"clean-{version}", ARTICLE_TOML, {"article.html": TEMPLATE}, _content(version)
    )
    build(config, BuildOptions(offline=True))
    return tree(config.output_dir)


def _staged_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".kontent-ssg-tmp")]


def _published(root: Path) -> dict[str, bytes]:
    """What a reader of the output sees: every file but those staged under hidden names."""
    return {
        path: data
        for path, data in tree(root).items()
        if not any(part.endswith(".kontent-ssg-tmp") for part in path.split("/"))
    }


@pytest.fixture
def site(tmp_path: Path) -> Config:
    config = make_site(tmp_path / "site", ARTICLE_TOML, {"article.html": TEMPLATE}, _content(1))
    build(config, BuildOptions(offline=True))
    save_snapshot(_content(2), config.snapshot_dir)
    return config


def _kill_publish_after(monkeypatch: pytest.MonkeyPatch, renames: int) -> None:
    """Make the publish step die after ``renames`` renames of staged files."""
    real = os.replace
    count = {"n": 0}

    def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(src).endswith(".kontent-ssg-tmp"):
            count["n"] += 1
            if count["n"] > renames:
                raise Killed
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_publish_killed_halfway_is_completed_by_the_next_build(
    site: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tree(site.output_dir)
    new = _clean_build(tmp_path, 2)
    _kill_publish_after(monkeypatch, 30)
    with pytest.raises(Killed):
        build(site, BuildOptions(offline=True, workers=1))
    monkeypatch.undo()
    mixed = tree(site.output_dir)
    assert mixed != old and mixed != new  # the kill did land halfway
    assert Journal.for_site(site.state_dir, preview=False).read() is not None
    # What every command that writes output does first:
    assert recover(Journal.for_site(site.state_dir, preview=False), lambda message: None)
    assert tree(site.output_dir) == new
    assert _staged_files(site.site_dir) == []
    # The state was recorded before the kill: the next build knows the output is current.
    report = build(site, BuildOptions(offline=True))
    assert report.incremental and report.pages_written == []
    assert tree(site.output_dir) == new


def test_the_next_build_itself_completes_it_and_says_so(
    site: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new = _clean_build(tmp_path, 2)
    _kill_publish_after(monkeypatch, 5)
    with pytest.raises(Killed):
        build(site, BuildOptions(offline=True, workers=1))
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["build", str(site.site_dir), "--offline"]) == 0
    assert "completed the publish an earlier build was interrupted in" in capsys.readouterr().err
    assert tree(site.output_dir) == new
    assert _staged_files(site.site_dir) == []


def test_check_reports_an_interrupted_publish_and_writes_nothing(
    site: Config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _kill_publish_after(monkeypatch, 5)
    with pytest.raises(Killed):
        build(site, BuildOptions(offline=True, workers=1))
    monkeypatch.undo()
    before = tree(site.site_dir)
    capsys.readouterr()
    assert main(["check", str(site.site_dir), "--offline"]) == 0
    err = capsys.readouterr().err
    assert "interrupted while publishing" in err and "partly updated" in err
    assert main(["check", str(site.site_dir), "--offline", "--strict"]) == 1
    assert tree(site.site_dir) == before


def test_a_lost_staged_manifest_makes_the_next_build_full_and_still_deletes_what_went(
    site: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a power cut the journal is on disk but the staged manifest may not be."""
    new = _clean_build(tmp_path, 2)
    _kill_publish_after(monkeypatch, 5)
    with pytest.raises(Killed):
        build(site, BuildOptions(offline=True, workers=1))
    monkeypatch.undo()
    Path(f"{site.state_dir}/build/manifest.json.next").unlink()
    messages: list[str] = []
    recover(Journal.for_site(site.state_dir, preview=False), messages.append)
    assert "this build is a full one" in messages[0]
    assert tree(site.output_dir) == new
    # A page that goes later is still known to be ours, and deleted.
    content = _content(2)
    content.items["en-US"].items = [
        i for i in content.items["en-US"].items if i["system"]["codename"] != "a00"
    ]
    save_snapshot(content, site.snapshot_dir)
    report = build(site, BuildOptions(offline=True))
    assert not report.incremental
    assert not (site.output_dir / "articles" / "a00").exists()


def test_a_journal_cut_off_while_written_is_rolled_back(site: Config) -> None:
    """Killed while writing the journal: nothing was renamed, so the staged files go."""
    old = tree(site.output_dir)
    staged = site.output_dir / "articles" / "a01" / ".index.html.kontent-ssg-tmp"
    staged.write_text("half a build")
    stand_in = site.output_dir / "articles" / ".new.kontent-ssg-tmp"
    stand_in.mkdir()
    (stand_in / "index.html").write_text("new")
    journal = Journal.for_site(site.state_dir, preview=False)
    journal.path.write_text('{"format": 1, "phase": "publishing", "output": "/x", "repl')
    # An unparsable journal names no output: the build sweeps its own output folder.
    messages: list[str] = []
    assert recover(journal, messages.append, site.output_dir)
    assert "removed 2 temporary files and folders" in messages[0]
    assert _staged_files(site.site_dir) == []
    assert tree(site.output_dir) == old
    assert main(["build", str(site.site_dir), "--offline", "-q"]) == 0
    assert (site.output_dir / "articles" / "new" / "index.html").read_text() == "<h1>new</h1>"
    assert not journal.path.exists()


def _template_site(root: Path, pages: int) -> Config:
    """A site whose pages take a few milliseconds each to render."""
    return make_site(
        root,
        ARTICLE_TOML,
        {"article.html": "{% for i in range(20000) %}{% endfor %}" + TEMPLATE},
        article_snapshot({f"a{i:04d}": f"T{i}" for i in range(pages)}),
    )


def test_a_build_killed_while_rendering_is_undone_by_the_next_command(tmp_path: Path) -> None:
    """A real SIGKILL of ``kontent-ssg build`` while it stages pages beside the live ones."""
    config = _template_site(tmp_path / "site", 400)
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    old = tree(config.output_dir)
    template = config.templates_dir / "article.html"
    template.write_text(template.read_text() + "<footer>v2</footer>")
    env = {**os.environ, "KONTENT_SSG_WORKERS": "2"}
    process = start_build(config.site_dir, "--offline", "-q", env=env)
    try:
        deadline = time.monotonic() + 120
        while len(_staged_files(config.output_dir)) < 20:
            assert process.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert wait_for_no_survivors(process.pid) == []
    finally:
        kill_session(process.pid)
    assert _staged_files(config.output_dir)
    assert _published(config.output_dir) == old
    messages: list[str] = []
    assert recover(Journal.for_site(config.state_dir, preview=False), messages.append)
    assert "interrupted before publishing" in messages[0]
    assert _staged_files(config.site_dir) == []
    assert tree(config.output_dir) == old
    assert main(["build", str(config.site_dir), "--offline", "-q"]) == 0
    assert all(
        data.endswith(b"<footer>v2</footer>")
        for path, data in tree(config.output_dir).items()
        if path.startswith("articles/")
    )


def test_check_says_when_a_build_is_running(
    site: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal whose build still holds the lock is not an interrupted one."""
    journal = Journal.for_site(site.state_dir, preview=False)
    journal.staging(site.output_dir, site.state_dir / "build" / "manifest.json")
    lock = site.state_dir / "build" / "lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(lock)!r}, os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        capsys.readouterr()
        main(["check", str(site.site_dir), "--offline"])
        assert "a build of this site is running right now" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    main(["check", str(site.site_dir), "--offline"])
    assert "interrupted before publishing" in capsys.readouterr().err


def test_a_second_build_waits_for_the_one_holding_the_lock(site: Config) -> None:
    """Two builds never publish into one output at once: the second says it waits."""
    lock = site.state_dir / "build" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({str(lock)!r}, os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    build = None
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        build = subprocess.Popen(
            [sys.executable, "-m", "kontent_ssg", "build", str(site.site_dir), "--offline"],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert build.stderr is not None
        first = build.stderr.readline()
        assert "waiting: another kontent-ssg process is building this site" in first
        assert build.poll() is None
        assert (site.output_dir / "articles" / "a00" / "index.html").read_text() == "<h1>0 v1</h1>"
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert build.wait(timeout=120) == 0
        assert (site.output_dir / "articles" / "a00" / "index.html").read_text() == "<h1>0 v2</h1>"
    finally:
        holder.kill()
        holder.wait()
        if build is not None and build.poll() is None:
            build.kill()
            build.wait()
