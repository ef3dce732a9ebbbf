"""The example site's whole output against the checked-in golden tree (Pelican-style).

Regenerate after an intended change with ``make golden`` (tests/support/golden.py) and
review the diff.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.golden import EXAMPLE_SITE, GOLDEN, build_example_site
from tests.support.sites import tree


def test_example_site_matches_golden_tree(tmp_path: Path) -> None:
    assert GOLDEN.is_dir(), f"the golden tree {GOLDEN} is missing: restore it from git"
    actual = tree(build_example_site(tmp_path))
    expected = tree(GOLDEN)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(p for p in set(actual) & set(expected) if actual[p] != expected[p])
    if missing or extra or changed:
        lines = [f"missing: {missing[:10]}", f"extra: {extra[:10]}", f"changed: {changed[:10]}"]
        for path in changed[:3]:
            diff = difflib.unified_diff(
                expected[path].decode("utf-8", "replace").splitlines(),
                actual[path].decode("utf-8", "replace").splitlines(),
                f"golden/{path}",
                f"built/{path}",
                lineterm="",
                n=1,
            )
            lines.extend(list(diff)[:30])
        pytest.fail(
            "example site output differs from tests/golden/example-site "
            "(if intended: `make golden`, review, commit)\n" + "\n".join(lines)
        )


def test_example_site_builds_twice_identically(tmp_path: Path) -> None:
    first = tree(build_example_site(tmp_path / "a"))
    second = tree(build_example_site(tmp_path / "b"))
    assert first == second


def test_example_snapshot_is_what_its_generator_writes(tmp_path: Path) -> None:
    """The committed snapshot is exactly what example-site/content/build_snapshot.py writes, so
    the generator keeps working and the content can be changed there."""
    generator = EXAMPLE_SITE / "content" / "build_snapshot.py"
    result = subprocess.run(
        [sys.executable, str(generator), "--output", str(tmp_path / "snapshot")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = tree(tmp_path / "snapshot")
    committed = tree(EXAMPLE_SITE / ".kontent-ssg" / "snapshot")
    differ = sorted(p for p in set(written) | set(committed) if written.get(p) != committed.get(p))
    assert differ == [], f"build_snapshot.py writes other files than the committed ones: {differ}"
