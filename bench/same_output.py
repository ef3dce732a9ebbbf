"""Do two checkouts build the same site, byte for byte? (A speed change must not change output.)

Builds each site cold (no output, no build state, ``--offline``) with this checkout and with
``OTHER`` (its own ``.venv``), each from its own copy of the site, and compares the whole
output trees: the same files, the same bytes. Sites:

* ``example``: the example site (the golden tree's source);
* ``realistic``: bench/realistic.py's real-shaped site (``--items`` articles, two
  languages);
* ``build``: bench/build.py's synthetic site (``--items`` articles).

Both checkouts render with ``KONTENT_SSG_WORKERS`` as given (``--workers``, default 2), so the
parallel render is compared too. Exit status 1 and the differing files when they differ.

    .venv/bin/python bench/same_output.py OTHER_CHECKOUT [--items 1000] [--workers 2]
                                          [--sites example,realistic,build]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

WORK = REPO / "bench" / ".work" / "same-output"


def source_site(name: str, items: int) -> Path:
    """A fresh copy of site ``name``'s source (content, templates, snapshot), no output."""
    target = WORK / name / "source"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if name == "example":
        shutil.copytree(REPO / "example-site", target)
    elif name == "realistic":
        from realistic import Project, generate

        generate(Project(items), target, None)
    elif name == "build":
        from build import write_kontent_site

        write_kontent_site(target, items)
    else:
        raise SystemExit(f"unknown site {name!r}: example, realistic or build")
    for leftover in (target / "public", target / ".kontent-ssg" / "build"):
        if leftover.exists():
            shutil.rmtree(leftover)
    return target


def build(checkout: Path, source: Path, where: Path, workers: int) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(source, where)
    env = dict(os.environ, KONTENT_SSG_WORKERS=str(workers))
    python = checkout / ".venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "kontent_ssg", "build", str(where), "--offline", "-q"],
        check=True,
        cwd=checkout,
        env=env,
    )
    return where / "public"


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that are in one tree only or differ in content."""
    out: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        out.extend(f"{prefix}{n} (only in this checkout)" for n in cmp.left_only)
        out.extend(f"{prefix}{n} (only in the other)" for n in cmp.right_only)
        out.extend(f"{prefix}{n} (type differs)" for n in cmp.common_funny)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        out.extend(f"{prefix}{n}" for n in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b), "")
    return out


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout (with its own .venv)")
    parser.add_argument("--sites", default="example,realistic,build")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    failed = False
    for name in args.sites.split(","):
        source = source_site(name, args.items)
        ours = build(REPO, source, WORK / name / "this", args.workers)
        theirs = build(args.other.resolve(), source, WORK / name / "other", args.workers)
        diff = differences(ours, theirs)
        files = count_files(ours)
        if diff:
            failed = True
            print(f"{name}: {len(diff)} of {files} files differ:")
            for line in diff[:50]:
                print(f"  {line}")
        else:
            print(f"{name}: the same {files} files, byte for byte")
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
