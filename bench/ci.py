"""Benchmark: what a CI build costs, with the workflow ``kontent-ssg init --ci github`` writes.

For N in (1k, 10k) articles (bench/build.py's synthetic site) it runs the workflow's own
build job three times, as tests/test_ci_workflow_run.py does (tests/support/ci_runner.py: a
fresh checkout, the wheel installed by the install step, the cache restored from the last
run's ``tar``), against the Delivery API emulator serving the site's content:

1. push, cold: no cache, the whole site crawled and rendered;
2. ``repository_dispatch`` from the relay after one article was retitled: ``build --changes``
   and the Sync API catch-up;
3. push with nothing changed.

Printed as a Markdown table; ``--append`` adds it to bench/RESULTS.md.

    .venv/bin/python bench/ci.py [--sizes 1000,10000] [--append]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.build import ENV_ID, make_snapshot, write_kontent_site  # noqa: E402
from kontent_ssg.cli import main as cli  # noqa: E402
from kontent_ssg.content.webhooks import Change  # noqa: E402
from kontent_ssg.relay import client_payload  # noqa: E402
from tests.support.ci_runner import Runner, rendered  # noqa: E402
from tests.support.emulator import Emulator  # noqa: E402
from tests.support.packaging import build_dist, checkout  # noqa: E402

WORK = REPO / "bench" / ".work" / "ci"


def measure(n: int, wheel: Path) -> dict[str, Any]:
    root = WORK / f"n{n}"
    shutil.rmtree(root, ignore_errors=True)
    repo = root / "repository"
    write_kontent_site(repo, n)
    shutil.rmtree(repo / ".kontent-ssg")  # the content comes from the API, as in CI
    (repo / ".git").mkdir()
    (repo / "requirements.txt").write_text(f"{wheel}\n")
    with Emulator(make_snapshot(n), environment_id=ENV_ID) as emu:
        toml = (repo / "kontent.toml").read_text()
        toml = toml.replace(
            f'environment_id = "{ENV_ID}"',
            f'environment_id = "{ENV_ID}"\ndelivery_url = "{emu.url}"',
        )
        (repo / "kontent.toml").write_text(toml)
        assert cli(["-q", "init", str(repo), "--ci", "github"]) == 0
        runner = Runner(root / "runner", repo)
        cold = runner.run(1, "push")
        article = next(
            raw for raw in emu.snapshot.items["en-US"].items if raw["system"]["type"] == "article"
        )
        edited = json.loads(json.dumps(article))
        edited["elements"]["title"]["value"] += " (revised)"
        emu.upsert_item(edited)
        system = edited["system"]
        payload = client_payload(
            [Change("item", "publish", system["codename"], system["id"], "en-US", "article")]
        )
        dispatch = runner.run(2, "repository_dispatch", payload)
        quiet = runner.run(3, "push")
    pages = len([p for p in cold["files"] if p.endswith(".html")])
    return {
        "n": n,
        "pages": pages,
        "cache_mb": quiet["cache_bytes"] / 1e6,
        "runs": [
            {
                "what": what,
                "build": run["seconds"]["Build"],
                "restore": run["seconds"]["Restore the build state and the output"],
                "save": run["seconds"]["save the cache"],
                "rendered": sum(rendered(run["log"])),
                "written": len(run["written"]),
            }
            for what, run in (
                ("cold (push, no cache)", cold),
                ("one article changed (dispatch)", dispatch),
                ("nothing changed (push)", quiet),
            )
        ],
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| items | pages | run | Build step | pages rendered | pages written | cache restore "
        "| cache save | cache size |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for run in result["runs"]:
            lines.append(
                f"| {result['n']:,} | {result['pages']:,} | {run['what']} | {run['build']:.1f} s "
                f"| {run['rendered']:,} | {run['written']:,} | {run['restore']:.1f} s "
                f"| {run['save']:.1f} s | {result['cache_mb']:.0f} MB |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    done = build_dist(checkout(WORK / "src"), WORK / "dist", "wheel")
    assert done.returncode == 0, done.stderr
    [wheel] = (WORK / "dist").glob("kontent_ssg-*.whl")
    results = [measure(int(size), wheel) for size in args.sizes.split(",")]
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    text = (
        f"### CI builds (bench/ci.py, {time.strftime('%Y-%m-%d')}, {cpus} cores, "
        f"Python {platform.python_version()})\n\n{table(results)}\n"
    )
    print(text)
    if args.append:
        with (REPO / "bench" / "RESULTS.md").open("a") as fh:
            fh.write("\n" + re.sub(r"\n{3,}", "\n\n", text))


if __name__ == "__main__":
    main()
