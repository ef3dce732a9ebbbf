"""Benchmark: what publishing through a journal, and the other checks a build now makes, cost.

Each piece is timed on its own (whole builds on this shared machine move by more than these
costs; see bench/RESULTS.md for the whole-build comparisons):

* the publish journal of a one-page build and of a 10k-file rewrite: the staging note, the
  journal written over it with its ``fsync``, its removal (wall time: the ``fsync`` waits);
* looking for an interrupted build when there is none, taking the build lock;
* the shape check of a 10k-item snapshot (CPU time), and ``PRAGMA quick_check`` of a 10k-page
  build state (full builds only).

Uses the 10k-item site bench/build.py generates (built once here if missing).

    .venv/bin/python bench/publish.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kontent_ssg.builder.journal import Journal, Publication, build_lock, recover  # noqa: E402
from kontent_ssg.content.snapshot import check_snapshot, load_snapshot  # noqa: E402
from kontent_ssg.incremental.state import BuildState, state_path  # noqa: E402

SITE = REPO / "bench" / ".work" / "publish" / "kontent-10000"


def timed(action: Callable[[], object], runs: int, clock: Callable[[], float]) -> str:
    times = []
    for _ in range(runs):
        started = clock()
        action()
        times.append(clock() - started)
    return f"{statistics.median(times) * 1000:.3f} ms (min {min(times) * 1000:.3f}, {runs} runs)"


def main() -> None:
    if not (SITE / ".kontent-ssg" / "build" / "state.sqlite").exists():
        from bench.build import write_kontent_site

        shutil.rmtree(SITE, ignore_errors=True)
        write_kontent_site(SITE, 10_000)
        build = [sys.executable, "-m", "kontent_ssg", "build", str(SITE), "--offline", "-q"]
        subprocess.run(build, check=True, cwd=REPO)
    scratch = Path(tempfile.mkdtemp(dir=SITE.parent))
    try:
        journal = Journal(scratch / "build" / "publish.json")
        manifest = scratch / "build" / "manifest.json"
        output = scratch / "public"

        def cycle(files: int) -> Callable[[], None]:
            replaced = [f"articles/article-{i}/index.html" for i in range(files)]
            publication = Publication(str(output), "b" * 32, str(manifest), [], replaced, [])

            def run() -> None:
                journal.staging(output, manifest)
                journal.publishing(publication)
                journal.done()

            return run

        wall = time.perf_counter
        print("journal, one-page build:", timed(cycle(1), 50, wall))
        print("journal, 10k-file rewrite:", timed(cycle(10_000), 30, wall))
        print("nothing to recover:", timed(lambda: recover(journal, print, output), 200, wall))

        def lock() -> None:
            with build_lock(scratch / "build" / "lock"):
                pass

        print("build lock:", timed(lock, 200, wall))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    snapshot = load_snapshot(SITE / ".kontent-ssg" / "snapshot")
    count = sum(len(items.items) for items in snapshot.items.values())
    cpu = time.process_time
    print(f"shape check, {count} items:", timed(lambda: check_snapshot(snapshot, str), 20, cpu))
    state = BuildState(state_path(SITE / ".kontent-ssg"))
    print(f"quick_check, {len(state.page_paths())} pages:", timed(state.check, 10, wall))
    state.close()


if __name__ == "__main__":
    main()
