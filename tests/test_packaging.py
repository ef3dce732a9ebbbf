"""kontent-ssg as a package: ``python -m build`` gives an sdist and a wheel without warnings,
the wheel holds the default templates and the ``init --ci`` files but no test support, its
version is ``kontent_ssg.__version__``, and installed into a fresh virtual environment it
builds the example site exactly as the golden tree says.

(``make wheel-check``, run by ``.ci/run``, also installs the wheel's dependencies from the
package index into an empty environment; here they come from the test environment.)"""

from __future__ import annotations

import email
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from kontent_ssg import __version__
from tests.support.fixtures import EXAMPLE_SITE
from tests.support.golden import GOLDEN
from tests.support.packaging import build_dist, checkout, ci_python
from tests.support.sites import tree


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("packaging")
    done = build_dist(checkout(root / "src"), root / "dist", "sdist", "wheel")
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = (root / "dist").glob("kontent_ssg-*.whl")
    [sdist] = (root / "dist").glob("kontent_ssg-*.tar.gz")
    return wheel, sdist, done.stdout + done.stderr


def test_build_gives_no_setuptools_warnings(dist: tuple[Path, Path, str]) -> None:
    output = dist[2]
    for warning in ("would be ignored", "is deprecated", "BuildBackendWarning", "SetuptoolsWarn"):
        assert warning not in output, output


def test_wheel_contents_and_version(dist: tuple[Path, Path, str]) -> None:
    wheel, sdist, _ = dist
    assert wheel.name == f"kontent_ssg-{__version__}-py3-none-any.whl"
    assert sdist.name == f"kontent_ssg-{__version__}.tar.gz"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = email.message_from_bytes(
            zf.read(f"kontent_ssg-{__version__}.dist-info/METADATA")
        )
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "MIT"
    for template in ("base.html", "item.html", "404.html", "components/_generic.html"):
        assert f"kontent_ssg/default_templates/{template}" in names
    for ci_file in (
        "github-pages.yml",
        "netlify.toml",
        "requirements.txt",
        "netlify-plugin/index.js",
        "netlify-plugin/manifest.yml",
    ):
        assert f"kontent_ssg/scaffold/ci-files/{ci_file}" in names
    for site_file in ("base.html", "item.html", "component.html", "macros/elements.html"):
        assert f"kontent_ssg/scaffold/site-files/{site_file}" in names
    assert not [n for n in names if n.startswith("tests/") or "/support/" in n]
    assert not [n for n in names if "emulator" in n]
    with tarfile.open(sdist) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    assert "kontent_ssg/scaffold/ci-files/github-pages.yml" in members
    assert "templates/components/_generic.html" in members


def test_installed_wheel_builds_the_example_site(
    tmp_path: Path, dist: tuple[Path, Path, str]
) -> None:
    wheel = dist[0]
    bin_dir = ci_python(tmp_path / "venv")
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    site = tmp_path / "example-site"
    shutil.copytree(EXAMPLE_SITE, site, ignore=shutil.ignore_patterns("public", "build"))
    built = subprocess.run(
        [str(bin_dir / "kontent-ssg"), "-q", "build", str(site), "--offline"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: its kontent_ssg/ must not be importable
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import kontent_ssg; print(kontent_ssg.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(tmp_path / "venv") in where  # the installed wheel ran, not the checkout
    assert tree(site / "public") == tree(GOLDEN)
