"""Benchmark: incremental rebuilds — webhook-to-page-written latency and Sync API builds.

For N in (1k, 10k) articles (the synthetic site of bench/build.py: rich text with a component,
an item link and an image per article, a paginated listing, a taxonomy) it:

1. serves the content from the emulator (a real HTTP Delivery API, in this process) and runs
   a cold full build (``kontent-ssg build``, a separate process);
2. starts the receiver (``kontent-ssg webhook``, a separate process) and, one at a time,
   publishes a one-item change in the emulator (an article's body, and its last_modified as
   a real publish does), then POSTs the signed webhook Kontent.ai would send (a kept-alive
   client): the latency is from just before that POST until the article's page on disk holds
   the new text (the 202, the queue, the refetch, the rebuild and the write are all in it);
3. publishes a burst of 100 changes and counts the rebuilds it took;
4. with the receiver stopped, publishes one change and runs ``kontent-ssg build``: the Sync
   API names the change, the build refetches and re-renders its dependants (wall time of the
   whole command, start-up included), and a no-change build.

    .venv/bin/python bench/incremental.py [--sizes 1000,10000] [--changes 30] [--append]
                                          [--compare CHECKOUT [--rounds 2]]

With ``--compare CHECKOUT`` the kontent-ssg checkout at CHECKOUT (run with its own ``.venv``)
is measured too, the two taking turns ``--rounds`` times (before/after comparisons in one
session); the table gives every round.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
from common import in_turns, machine  # noqa: E402

from kontent_ssg.content.snapshot import load_snapshot  # noqa: E402
from kontent_ssg.content.webhooks import sign_webhook  # noqa: E402
from tests.support.emulator import Emulator, WebhookChange, build_webhook_body  # noqa: E402

WORK = REPO / "bench" / ".work" / "incremental"
SECRET = "bench-secret"


def _bench_build() -> Any:
    spec = importlib.util.spec_from_file_location("bench_build", REPO / "bench" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Tool:
    """A kontent-ssg checkout to run: its own interpreter, started in its own folder (so
    ``-m kontent_ssg`` imports that checkout's code)."""

    def __init__(self, checkout: Path) -> None:
        self.checkout = checkout
        self.python = sys.executable if checkout == REPO else str(checkout / ".venv/bin/python")

    def cli(self, *args: str) -> list[str]:
        return [self.python, "-m", "kontent_ssg", *args]

    def timed(self, env: dict[str, str], *args: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            self.cli(*args), check=True, env=env, cwd=self.checkout, stdout=subprocess.DEVNULL
        )
        return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def wait_until(predicate: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")
        time.sleep(0.001)


def measure(n: int, changes: int, tool: Tool) -> dict[str, float]:
    bench_build = _bench_build()
    folder = WORK / f"site-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    bench_build.write_kontent_site(folder, n)
    snapshot = load_snapshot(folder / ".kontent-ssg" / "snapshot")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["KONTENT_WEBHOOK_SECRET"] = SECRET
    out: dict[str, float] = {}
    with Emulator(snapshot, webhook_secret=SECRET, page_size=2000) as emu:
        toml = (folder / "kontent.toml").read_text()
        toml = re.sub(
            r'environment_id = ".*"',
            f'environment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"',
            toml,
        )
        (folder / "kontent.toml").write_text(toml)
        out["cold"] = tool.timed(env, "build", str(folder), "-q")

        items = {i["system"]["codename"]: i for i in snapshot.items["en-US"].items}

        def publish(number: int, marker: str) -> Path:
            codename = f"post_{(number * 7919) % n}"
            variant = copy.deepcopy(items[codename])
            # A real publish moves last_modified (re-sorts term pages, rewrites the sitemap).
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(2e9 + number))
            variant["system"]["last_modified"] = f"{stamp}Z"
            body = variant["elements"]["body"]
            body["value"] = re.sub(r"<h2>[^<]*</h2>", f"<h2>{marker}</h2>", body["value"], count=1)
            items[codename] = variant
            emu.upsert_item(variant)  # the content changes (no webhook: sent below)
            notes.append(WebhookChange("content_item", "published", dict(variant["system"])))
            slug = variant["elements"]["url"]["value"]
            return folder / "public" / "articles" / slug / "index.html"

        notes: list[WebhookChange] = []
        sender = httpx.Client(timeout=30)

        def send() -> None:
            """POST the signed webhook for the last change, as Kontent.ai would."""
            body = build_webhook_body([notes.pop()], environment_id=emu.environment_id)
            headers = {"X-Kontent-ai-Signature": sign_webhook(body, SECRET)}
            answer = sender.post(f"{url}/webhook", content=body, headers=headers)
            assert answer.status_code == 202, answer.text

        # -- the receiver: webhook -> page written
        port = free_port()
        log = (folder / "receiver.log").open("wb")
        receiver = subprocess.Popen(
            tool.cli("webhook", str(folder), "--port", str(port)),
            env=env,
            cwd=tool.checkout,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up)
        latencies = []
        for k in range(changes):
            marker = f"bench-change-{n}-{k}"
            page = publish(k, marker)
            started = time.perf_counter()
            send()
            wait_until(lambda page=page, marker=marker: marker in _read(page))
            latencies.append(time.perf_counter() - started)
            time.sleep(0.6)  # let the receiver go idle: isolated changes, not a burst
        out["p50"] = statistics.median(latencies)
        out["p95"] = percentile(latencies, 0.95)

        before = httpx.get(f"{url}/health", timeout=5).json()
        started = time.perf_counter()
        pages = []
        for k in range(100):
            pages.append(publish(1000 + k, f"burst-{n}-{k}"))
            send()
        wait_until(lambda: all(f"burst-{n}-{k}" in _read(p) for k, p in enumerate(pages)))
        out["burst_seconds"] = time.perf_counter() - started
        wait_until(lambda: httpx.get(f"{url}/health", timeout=5).json()["pending"] == 0)
        after = httpx.get(f"{url}/health", timeout=5).json()
        out["burst_rebuilds"] = after["rebuilds"] - before["rebuilds"]
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=120)
        log.close()

        sender.close()

        # -- Sync API incremental builds (no receiver: the build asks the Sync API)
        sync_times, none_times = [], []
        for k in range(5):
            page = publish(5000 + k, f"sync-{n}-{k}")
            sync_times.append(tool.timed(env, "build", str(folder), "-q"))
            assert f"sync-{n}-{k}" in _read(page)
            none_times.append(tool.timed(env, "build", str(folder), "-q"))
        out["sync_build"] = statistics.median(sync_times)
        out["nochange_build"] = statistics.median(none_times)
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def table(rows: list[tuple[int, str, dict[str, float]]]) -> str:
    lines = [
        "| articles | code | cold full build | webhook→page p50 | p95 | burst of 100: rebuilds, "
        "time | Sync API incremental build | no-change build |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, label, r in rows:
        lines.append(
            f"| {n:,} | {label} | {r['cold']:.2f} s | {r['p50'] * 1000:.0f} ms "
            f"| {r['p95'] * 1000:.0f} ms | {int(r['burst_rebuilds'])}, {r['burst_seconds']:.2f} s "
            f"| {r['sync_build']:.2f} s | {r['nochange_build']:.2f} s |"
        )
    return "\n".join(lines)


def compared_tools(compare: Path | None) -> list[tuple[str, Tool]]:
    """This checkout, and with ``--compare`` the other one (run with its own ``.venv``)."""
    tools = [("this checkout", Tool(REPO))]
    if compare:
        tools.append((f"at {compare.resolve().name}", Tool(compare.resolve())))
    return tools


def changes_parser(description: str, changes: int) -> argparse.ArgumentParser:
    """The options of the two webhook benchmarks (this one, webhook_realistic.py):
    ``--sizes``, ``--changes``, ``--append``, ``--compare``, ``--rounds``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--changes", type=int, default=changes, help="isolated changes per size")
    parser.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument(
        "--compare", type=Path, metavar="CHECKOUT", help="also measure this checkout, alternating"
    )
    parser.add_argument("--rounds", type=int, default=2, help="turns each with --compare")
    return parser


def sizes_in_turns(args: argparse.Namespace) -> Iterator[tuple[int, int, str, Tool]]:
    """(size, round, label, tool) for every size of ``--sizes``, the tools of ``--compare``
    taking turns ``--rounds`` times."""
    tools = compared_tools(args.compare)
    rounds = args.rounds if args.compare else 1
    for n in (int(s) for s in args.sizes.split(",")):
        for number, label, tool in in_turns(tools, rounds):
            yield n, number, label, tool


def report(text: str, append: bool) -> None:
    """Print a benchmark's section; with ``--append`` add it to bench/RESULTS.md too."""
    print(text)
    if append:
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write(text)


def main() -> None:
    args = changes_parser(__doc__.splitlines()[0], 30).parse_args()
    rows: list[tuple[int, str, dict[str, float]]] = []
    for n, number, label, tool in sizes_in_turns(args):
        result = measure(n, args.changes, tool)
        rows.append((n, f"{label} (round {number})", result))
        print(f"{n} {label}: {result}", file=sys.stderr, flush=True)
    compare = f" --compare {args.compare} --rounds {args.rounds}" if args.compare else ""
    text = (
        "\n## Incremental rebuilds (bench/incremental.py)\n\n"
        f"Machine: {machine()}. Command: `.venv/bin/python bench/incremental.py "
        f"--sizes {args.sizes} --changes {args.changes}{compare}`. Emulator in the benchmark "
        "process, builder and receiver in their own processes; latency = the signed webhook is "
        "POSTed (after the emulator's content changed) → the article's page on disk holds the "
        f"change; {args.changes} isolated one-item changes per size; build times are whole "
        "commands (start-up included), medians of 5.\n\n" + table(rows) + "\n"
    )
    report(text, args.append)


if __name__ == "__main__":
    main()
