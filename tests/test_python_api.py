"""The Python API: ``kontent_ssg.__all__`` is honest (every name importable and documented
in docs/PYTHON.md), the documented example runs, and ``import kontent_ssg`` stays cheap."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kontent_ssg
from tests.support.fixtures import EXAMPLE_SITE, REPO

DOC = (REPO / "docs" / "PYTHON.md").read_text(encoding="utf-8")


def _example_site(folder: Path) -> Path:
    """A copy of the example site without its build state or output."""
    site = folder / "example-site"
    shutil.copytree(
        EXAMPLE_SITE,
        site,
        ignore=shutil.ignore_patterns("public", "public-preview", "build", "__pycache__"),
    )
    return site


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_every_public_name_is_importable_and_documented() -> None:
    assert "__version__" in kontent_ssg.__all__
    assert kontent_ssg.__all__ == sorted(kontent_ssg.__all__, key=lambda n: (n[0].islower(), n))
    documented = set(re.findall(r"^### `([A-Za-z_]+)", DOC, re.M))
    documented |= {
        name
        for line in re.findall(r"^### (.+)$", DOC, re.M)
        for name in re.findall(r"`(\w+)", line)
    }
    for name in kontent_ssg.__all__:
        assert getattr(kontent_ssg, name) is not None, name
        assert name in documented, f"{name} is not documented in docs/PYTHON.md"
    namespace: dict[str, object] = {}
    exec("from kontent_ssg import *", namespace)
    assert set(kontent_ssg.__all__) <= set(namespace)
    # Nothing lazily importable that is not public.
    assert set(kontent_ssg._LAZY) <= set(kontent_ssg.__all__)
    with pytest.raises(AttributeError):
        kontent_ssg.no_such_name  # noqa: B018


def test_import_kontent_ssg_is_cheap() -> None:
    """The CLI imports the package on every command (a no-change build included)."""
    result = _run(
        "import sys\n"
        "before = 'typing' in sys.modules\n"
        "import kontent_ssg\n"
        "heavy = [m for m in ('jinja2', 'httpx', 'msgspec', 'kontent_ssg.builder', "
        "'kontent_ssg.config') if m in sys.modules]\n"
        "heavy += ['typing'] if 'typing' in sys.modules and not before else []\n"
        "print(heavy)",
        REPO,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_documented_example_runs(tmp_path: Path) -> None:
    code = DOC.split("<!-- example: python-api -->\n```python\n", 1)[1].split("```", 1)[0]
    _example_site(tmp_path)
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Larkspur Coffee Roasters ['article', 'author', 'cafe', 'home']"
    assert re.fullmatch(r"\d+ pages written to .+", lines[1]), lines[1]
    assert "build() got an unexpected option 'strictt'; did you mean 'strict'?" in lines
    assert any(line.startswith("2 site folder ") for line in lines), lines


def test_build_takes_a_path_or_a_config_and_reports(tmp_path: Path) -> None:
    site = _example_site(tmp_path)
    report = kontent_ssg.build(site, offline=True, report=tmp_path / "r.json")
    assert not report.incremental and report.pages_written
    assert (tmp_path / "r.json").is_file()
    config = kontent_ssg.load_config(site)
    again = kontent_ssg.build(config, offline=True)
    assert again.skipped and again.pages_written == []
    with pytest.raises(kontent_ssg.KontentSSGError) as info:
        kontent_ssg.build(tmp_path / "nowhere")
    assert info.value.exit_code == 2
