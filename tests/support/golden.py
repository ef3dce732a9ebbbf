"""The golden output tree of the example site; ``make golden`` regenerates it.

``python -m tests.support.golden`` (what ``make golden`` runs, from the repository root)
builds ``example-site/`` offline from its checked-in snapshot into a scratch folder (the
site's own ``public/`` and build state are left alone) and replaces
``tests/golden/example-site/`` with the result. Review the diff (``git diff --stat
tests/golden``) before committing: every changed file is a change users will see.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.config import load_config
from tests.support.fixtures import EXAMPLE_SITE, REPO

GOLDEN = REPO / "tests" / "golden" / "example-site"


def build_example_site(scratch: Path, *, workers: int = 1) -> Path:
    """Copy the example site (without output or build state) to ``scratch`` and build it
    (``workers``: its processes; one makes the build the same on every machine)."""
    site = scratch / "example-site"
    shutil.copytree(
        EXAMPLE_SITE,
        site,
        ignore=lambda folder, names: [
            n
            for n in names
            if (Path(folder) == EXAMPLE_SITE and n == "public")
            or (Path(folder).name == ".kontent-ssg" and n == "build")
            or n == "__pycache__"
        ],
    )
    config = load_config(site, env={})
    build(config, BuildOptions(offline=True, full=True, workers=workers))
    return config.output_dir


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        output = build_example_site(Path(tmp))
        if GOLDEN.exists():
            shutil.rmtree(GOLDEN)
        shutil.copytree(output, GOLDEN)
    count = sum(1 for p in GOLDEN.rglob("*") if p.is_file())
    print(f"wrote {count} files to {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
