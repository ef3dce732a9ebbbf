"""kontent-ssg as users get it: a wheel built from the repository's files, installed into a
Python of its own.

``checkout`` copies what a clone holds (the files git tracks, plus new ones it does not
ignore), so a build from it cannot pick up ``.venv``, ``build/`` or ``*.egg-info``.
``build_dist`` runs ``python -m build`` on that copy without build isolation (the test
extras hold the backend, so no download). ``ci_python`` makes a fresh virtual environment
that sees the test environment's packages as its dependencies (offline) but has no
kontent-ssg: installing one is what the CI steps under test do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from tests.support.fixtures import REPO

__all__ = ["build_dist", "checkout", "ci_python"]


def checkout(dest: Path) -> Path:
    """A copy of the repository's files as a clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        rel = raw.decode()
        source = REPO / rel
        if not source.is_file():  # deleted in the work tree, not yet in the index
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


def build_dist(source: Path, out: Path, *kinds: str) -> subprocess.CompletedProcess[str]:
    """``python -m build`` (``--wheel``, ``--sdist`` or both) of ``source`` into ``out``."""
    flags = [f"--{kind}" for kind in kinds]
    return subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *flags, "--outdir", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ci_python(folder: Path) -> Path:
    """A fresh virtual environment (its ``bin``) whose dependencies come from this test
    environment through a ``.pth`` file; kontent-ssg itself is not installed in it."""
    venv.EnvBuilder(with_pip=True, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "kontent-ssg-test-dependencies.pth").write_text(
        "".join(f"{path}\n" for path in sorted(ours))
    )
    assert os.access(python, os.X_OK)
    return folder / "bin"
