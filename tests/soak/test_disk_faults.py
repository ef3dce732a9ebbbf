"""Real disk faults in incremental builds: a full file system, a read-only mount.

The main suite injects the same faults (``OSError(ENOSPC)``, ``chattr +i``:
tests/test_failed_builds.py); here the kernel raises them. Both need root (to mount), and
are skipped without it, saying why; every mount is undone when the test ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kontent_ssg.config import Config
from kontent_ssg.content.snapshot import save_snapshot
from tests.support.sites import content_type, item, make_site, slug, snapshot, text, tree

PAGES = 400  # enough to fork a render worker: the worker meets the fault too

TYPES = [content_type("article", title="text", url="url_slug")]


def _content(version: str, count: int = PAGES):  # type: ignore[no-untyped-def]
    items = [
        item(
            f"p{i:04d}",
            "article",
            elements={"title": text(f"{i} {version}"), "url": slug(f"p{i:04d}")},
        )
        for i in range(count)
    ]
    return snapshot({"en-US": items}, types=TYPES)


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (mount {' '.join(args)}: {done.stderr.strip()})")


@contextmanager
def _mounted(*args: str, at: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a read-only bind mount needs root")
    at.mkdir(parents=True, exist_ok=True)
    _mount(*args, str(at))
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=True)


def _site(root: Path, output: Path) -> Config:
    return make_site(
        root,
        f'[site]\noutput = "{output}"\n[routes.article]\npath = "/a/{{url}}/"\n'
        'template = "a.html"\n',
        {"a.html": "<h1>{{ item.title }}</h1>" + "<p>padding</p>" * 20},
        _content("v1"),
    )


def _build(config: Config) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kontent_ssg", "build", str(config.site_dir), "--offline"],
        capture_output=True,
        text=True,
        check=False,
    )


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _staged(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".kontent-ssg-tmp")]


def test_a_full_file_system_fails_an_incremental_build_leaving_the_output(tmp_path: Path) -> None:
    with _mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", at=tmp_path / "disk") as disk:
        config = _site(tmp_path / "site", disk / "public")
        assert _build(config).returncode == 0
        before = tree(config.output_dir)
        save_snapshot(_content("v2"), config.snapshot_dir)
        # Fill the disk, leaving room for a few dozen pages of the 400 to rewrite.
        filler = disk / f"filler-{uuid.uuid4().hex}"
        with open(filler, "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - 30 * 4096))
        done = _build(config)
        assert done.returncode == 1
        assert "No space left on device" in _one_line_error(done.stderr)
        assert tree(config.output_dir) == before
        assert _staged(disk) == []
        filler.unlink()
        assert _build(config).returncode == 0
        assert (
            (config.output_dir / "a" / "p0000" / "index.html")
            .read_text()
            .startswith("<h1>0 v2</h1>")
        )


def test_a_read_only_mount_fails_an_incremental_build_leaving_the_output(tmp_path: Path) -> None:
    output = tmp_path / "public"
    config = _site(tmp_path / "site", output)
    assert _build(config).returncode == 0
    before = tree(output)
    save_snapshot(_content("v2", PAGES - 5), config.snapshot_dir)  # changes and deletions
    with _mounted("--bind", str(output), at=output):
        _mount("-o", "remount,ro,bind", str(output))
        done = _build(config)
        assert done.returncode == 1
        assert "Read-only file system" in _one_line_error(done.stderr)
        assert tree(output) == before
    assert _staged(output) == []
    assert _build(config).returncode == 0
    assert not (output / "a" / f"p{PAGES - 1:04d}").exists()
