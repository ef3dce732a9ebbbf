"""The README's quick start and walk-through work as written, from ``make demo`` on.

Both run in a scratch copy of the repository (the example site copied; ``.venv`` and
``tests`` linked), as real processes: ``make demo``, the emulator, ``kontent-ssg build`` and
``serve``. The walk-through's steps are read from the README itself, from the code blocks
marked with ``<!-- walk-through: … -->`` comments:

- ``run``: a shell block, run with ``bash -e``; it must succeed;
- ``file PATH``: the block is the content of PATH;
- ``background URL``: a long-running command (emulator, ``serve``), started and left running
  until the end; the next step waits until URL answers.

The README's fixed ports (8000, 8010) are swapped for free ones, so that parallel test runs
on one machine do not collide.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.fixtures import REPO
from tests.support.net import free_port, wait_for

README = REPO / "README.md"
MARKER = re.compile(r"<!-- (walk-through|quick-start): ([^>]*?) -->\s*\n```[^\n]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class Step:
    kind: str  # run | file | background
    arg: str  # the file's path, the URL to wait for
    text: str


def steps(readme: str, section: str) -> list[Step]:
    out = []
    for match in MARKER.finditer(readme):
        if match.group(1) != section:
            continue
        kind, _, arg = match.group(2).strip().partition(" ")
        out.append(Step(kind, arg.strip(), match.group(3)))
    return out


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A fresh-clone look-alike after ``make demo``: the folder and what make printed."""
    venv = REPO / ".venv"
    if not (venv / "bin" / "kontent-ssg").exists():
        pytest.fail("no .venv in the repository: run the tests through `make test`")
    root = tmp_path_factory.mktemp("clone")
    for name in (".venv", "tests", "kontent_ssg", "templates"):
        (root / name).symlink_to(REPO / name)
    shutil.copy2(REPO / "Makefile", root / "Makefile")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(
        REPO / "example-site",
        root / "example-site",
        ignore=shutil.ignore_patterns("public", "public-preview", "build", "__pycache__"),
    )
    # `make demo` as the README says; -o: the linked .venv counts as installed, never
    # reinstalled from this scratch copy (that would point it here).
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "demo"],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    yield root, result.stdout


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}


class Background:
    """Long-running commands of a test, stopped (by their own process ids) at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, command: str, cwd: Path) -> subprocess.Popen[bytes]:
        log = self.logs / f"background-{len(self.procs)}.log"
        proc = subprocess.Popen(
            ["bash", "-ec", f"exec {command.strip()}"],
            cwd=cwd,
            env=_env(),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((proc, log))
        return proc

    def wait_answering(self, url: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
        def answer() -> httpx.Response | None:
            assert proc.poll() is None, self.log_of(proc)
            try:
                return httpx.get(url, timeout=5)
            except httpx.HTTPError:
                return None

        return wait_for(answer, timeout=120, what=f"{url} to answer")

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return next(log.read_text() for p, log in self.procs if p is proc)

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Background]:
    procs = Background(tmp_path)
    yield procs
    procs.stop()


def test_make_demo_prints_the_serve_command_the_quick_start_gives(
    clone: tuple[Path, str], background: Background
) -> None:
    root, printed = clone
    readme = README.read_text(encoding="utf-8")
    assert "Open its `index.html`" not in readme  # file:// cannot follow site-root links
    (serve,) = steps(readme, "quick-start")
    command = serve.text.split("#")[0].strip()
    assert command == ".venv/bin/kontent-ssg serve example-site --offline"
    assert f"  {command}\n" in printed  # `make demo` ends by saying the same
    assert "http://127.0.0.1:8000/" in printed and "http://127.0.0.1:8000/" in serve.text
    assert (root / "example-site" / "public" / "index.html").is_file()

    port = free_port()
    proc = background.start(f"{command} --port {port}", root)
    home = background.wait_answering(f"http://127.0.0.1:{port}/", proc)
    assert home.status_code == 200 and "Larkspur Coffee Roasters" in home.text
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', home.text)
    assert stylesheets, "the home page links no stylesheet"
    for href in stylesheets:
        assert href.startswith("/")  # site-root: why the README says serve, not file://
        css = httpx.get(f"http://127.0.0.1:{port}{href}", timeout=5)
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_the_walk_through_works_as_written(clone: tuple[Path, str], background: Background) -> None:
    root, _ = clone
    readme = README.read_text(encoding="utf-8")
    ports = {"8010": str(free_port()), "8000": str(free_port())}

    def local(text: str) -> str:
        for fixed, free in ports.items():
            text = text.replace(f"127.0.0.1:{fixed}", f"127.0.0.1:{free}")
            text = text.replace(f"--port {fixed}", f"--port {free}")
        return text

    walk = steps(readme, "walk-through")
    kinds = [step.kind for step in walk]
    assert kinds == ["background", "file", "file", "run", "run", "background"], kinds
    outputs = []
    for step in walk:
        if step.kind == "file":
            path = root / step.arg
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(local(step.text), encoding="utf-8")
        elif step.kind == "run":
            result = subprocess.run(
                ["bash", "-ec", local(step.text)],
                cwd=root,
                env=_env(),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, f"{step.text}\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stderr
            outputs.append(result.stdout + result.stderr)
        elif step.kind == "background":
            proc = background.start(local(step.text), root)
            background.wait_answering(local(step.arg), proc)
        else:
            pytest.fail(f"unknown walk-through step {step.kind!r}")

    emulator_log = background.log_of(background.procs[0][0])
    assert f"delivery_url = 'http://127.0.0.1:{ports['8010']}'" in emulator_log
    env_id = re.search(r"environment_id = '([^']+)'", emulator_log)
    assert env_id and f'environment_id = "{env_id.group(1)}"' in readme  # what it printed

    first_builds, adopted = outputs
    assert "content: crawled en-US 18, es-ES 18 items" in first_builds
    second = first_builds.split("content: crawled", 1)[1]  # the second build's lines
    assert re.search(r"\n0 written, [1-9]\d* unchanged, 0 deleted;", second), second
    assert "no template components/callout.html" in first_builds
    assert "no template components/" not in adopted
    site = root / "mysite" / "public"
    assert (site / "articles" / "dialing-in-espresso" / "index.html").is_file()

    base = f"http://127.0.0.1:{ports['8000']}"
    listing = httpx.get(f"{base}/articles/", timeout=10)
    assert listing.status_code == 200
    assert "Dialing in espresso without wasting a bag" in listing.text
    page = httpx.get(f"{base}/articles/dialing-in-espresso/", timeout=10)
    assert page.status_code == 200
    assert "<title>Dialing in espresso without wasting a bag · My coffee notes</title>" in page.text
    assert 'class="callout' in page.text  # the adopted component template rendered
    assert httpx.get(f"{base}/es-ES/articles/", timeout=10).status_code == 200
