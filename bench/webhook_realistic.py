"""Benchmark: webhook → page on real-shaped content, through the running receiver.

bench/incremental.py measures webhook latency on bench/build.py's simple articles. This one
uses the real-shaped project of bench/realistic.py (imported, not copied: components nested
three deep, an author card, item links, a table, a figure, a markdown element, a third of the
articles translated into es-ES; ~14,360 pages at 10k articles). For N articles (``--sizes``,
default 1k and 10k) it:

1. generates the project (``realistic.generate``) and serves its snapshot from the emulator
   (``tests/support/emulator.py``: a real HTTP Delivery API, in this process), then runs a
   cold full build that crawls it (``kontent-ssg build``, a separate process);
2. starts the receiver (``kontent-ssg -v webhook``, a separate process) and waits until it
   is idle;
3. makes ``--changes`` isolated one-item changes (default 20), taking turns: the title of an
   untranslated article (en-US; the es-ES feed's fallback variant follows it), the en-US
   title of a translated article, and the es-ES title of a translated article. Each change
   is published in the emulator (the title, and ``last_modified`` as a real publish moves
   it), then the signed webhook Kontent.ai would send is POSTed (a kept-alive client): the
   **latency is from just before that POST until the changed language's article page on disk
   holds the new title** (the 202, the queue, the refetch, the rebuild and the write are all
   in it). Between changes the benchmark waits until the receiver is idle (``/health``) and
   then ``--gap`` seconds more (default 1.5 s: isolated changes, not a burst; what the
   receiver does after a rebuild, such as saving the snapshot, may overlap the next change
   when the gap is shorter: ``--gap 0`` shows it).

The emulator rebuilds its own per-language index after each change before the POST (a cost of
the emulator, not of the receiver or of Kontent.ai). Reported per size: the cold build, the
latencies (p50, p95, max and every one), the receiver's own line per rebuild (pages rendered
and written, its time; with ``-v`` the receiver also logs each stage's time and the rebuild
thread's CPU time, collected into the table), the receiver's CPU time per change (all its
threads: rebuilds, saving the snapshot, idle work; from ``/proc``, so robust to other load on
a shared machine, unlike the latencies) and its peak RSS (``VmHWM``).

    .venv/bin/python bench/webhook_realistic.py [--sizes 1000,10000] [--changes 20]
        [--gap 1.5] [--compare CHECKOUT [--rounds 2]] [--append]
    make bench-webhook BENCH_ARGS="--sizes 10000"

``--compare CHECKOUT`` measures another kontent-ssg checkout (its own ``.venv``) too, the two
taking turns ``--rounds`` times. 100k articles (``--sizes 100000``) work but are slow and
large: generating takes ~2 minutes and 2.5 GB of disk, the emulator holds the whole snapshot
in this process (several GB; it does not pre-serialise the feed at that size) and the
receiver its own copy.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
import realistic  # noqa: E402
from common import machine  # noqa: E402
from incremental import (  # noqa: E402
    Tool,
    changes_parser,
    free_port,
    percentile,
    report,
    sizes_in_turns,
    wait_until,
)

from kontent_ssg.content.snapshot import load_snapshot  # noqa: E402
from kontent_ssg.content.webhooks import sign_webhook  # noqa: E402
from tests.support.emulator import Emulator, WebhookChange, build_webhook_body  # noqa: E402

WORK = REPO / "bench" / ".work" / "webhook-realistic"
SECRET = "bench-secret"
EN, ES = realistic.EN, realistic.ES
KINDS = ("untranslated en-US", "translated en-US", "translated es-ES")
REBUILD_LINE = re.compile(
    r"incremental build: (\d+) pages rendered, (\d+) written, (\d+) deleted in ([\d.]+) s"
)
STAGE_LINE = re.compile(r"^\s*rebuild stages: (.*)$")
CPU = re.compile(r"; cpu (\d+) ms")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _targets(project: realistic.Project, changes: int) -> list[tuple[int, str]]:
    """(article, language) per change, the kinds taking turns, spread over the site."""
    out: list[tuple[int, str]] = []
    for k in range(changes):
        kind = k % 3
        i = (k * 7919 + 13) % project.n
        while project.article_translated(i) != (kind > 0):
            i = (i + 1) % project.n
        out.append((i, ES if kind == 2 else EN))
    return out


def measure(n: int, changes: int, gap: float, tool: Tool) -> dict[str, Any]:
    folder = WORK / f"site-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    project = realistic.Project(n)
    realistic.generate(project, folder, None)
    snapshot = load_snapshot(folder / ".kontent-ssg" / "snapshot")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["KONTENT_WEBHOOK_SECRET"] = SECRET
    out: dict[str, Any] = {}
    emu = Emulator(snapshot, webhook_secret=SECRET, page_size=2000, preserialise=n < 100_000)
    with emu:
        toml = (folder / "kontent.toml").read_text()
        toml = re.sub(
            r'environment_id = ".*"',
            f'environment_id = "{emu.environment_id}"\ndelivery_url = "{emu.url}"',
            toml,
        )
        (folder / "kontent.toml").write_text(toml)
        out["cold"] = tool.timed(env, "build", str(folder), "-q")
        manifest = json.loads((folder / ".kontent-ssg" / "build" / "manifest.json").read_text())
        pages = set(manifest["pages"])
        own = {
            lang: {
                i["system"]["codename"]: i
                for i in snapshot.items[lang].items
                if i["system"]["language"] == lang
            }
            for lang in (EN, ES)
        }
        del snapshot
        content = emu._slots["published"]  # the emulator's own index, rebuilt before a POST

        def publish(k: int, article: int, language: str) -> tuple[Path, str]:
            variant = copy.deepcopy(own[language][f"post_{article}"])
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(2e9 + k))
            variant["system"]["last_modified"] = f"{stamp}Z"
            title = f"Bench title {n}-{k} ({language})"
            variant["elements"]["title"]["value"] = title
            own[language][variant["system"]["codename"]] = variant
            emu.upsert_item(variant)  # the content changes (no webhook: sent below)
            for lang in (EN, ES):
                content.effective(lang)
            notes.append(WebhookChange("content_item", "published", dict(variant["system"])))
            slug = variant["elements"]["url"]["value"]
            rel = next(p for p in pages if p.endswith(f"articles/{slug}/index.html"))
            return folder / "public" / rel, title

        notes: list[WebhookChange] = []
        sender = httpx.Client(timeout=30)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = folder / "receiver.log"
        log = log_path.open("wb")
        receiver = subprocess.Popen(
            tool.cli("-v", "webhook", str(folder), "--port", str(port)),
            env=env,
            cwd=tool.checkout,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )

        def health() -> dict[str, Any]:
            try:
                answer = httpx.get(f"{url}/health", timeout=5)
            except httpx.HTTPError:
                return {}
            return dict(answer.json()) if answer.status_code == 200 else {}

        def idle() -> bool:
            found = health()
            return bool(found) and found.get("pending") == 0 and not found.get("busy")

        try:
            wait_until(idle, timeout=600)
            time.sleep(gap)
            cpu_before = _cpu_seconds(receiver.pid)
            latencies: list[float] = []
            kinds: list[str] = []
            for k, (article, language) in enumerate(_targets(project, changes)):
                page, title = publish(k, article, language)
                body = build_webhook_body([notes.pop()], environment_id=emu.environment_id)
                headers = {"X-Kontent-ai-Signature": sign_webhook(body, SECRET)}
                # The server closes a kept-alive connection idle for 5 s: open it again
                # before the clock starts (Kontent.ai's own connection is not ours to time).
                sender.get(f"{url}/health")
                started = time.perf_counter()
                answer = sender.post(f"{url}/webhook", content=body, headers=headers)
                assert answer.status_code == 202, answer.text
                wait_until(lambda page=page, title=title: title in _read(page))
                latencies.append(time.perf_counter() - started)
                kinds.append(KINDS[k % 3])
                wait_until(idle)
                time.sleep(gap)
            # Everything the receiver did for the changes (rebuilds, saving the snapshot, idle
            # checks, HTTP), per change: robust to other load, unlike wall time.
            out["cpu_per_change"] = (_cpu_seconds(receiver.pid) - cpu_before) / changes
            out["peak_rss_mb"] = _peak_rss_mb(receiver.pid)
        finally:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=120)
            log.close()
            sender.close()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    out["rebuilds"] = [(int(m[1]), int(m[2]), float(m[4])) for m in REBUILD_LINE.finditer(text)][
        -changes:
    ]
    out["stages"] = [m[1] for line in text.splitlines() if (m := STAGE_LINE.match(line))][-changes:]
    out["latencies"] = latencies
    out["kinds"] = kinds
    out["p50"] = statistics.median(latencies)
    out["p95"] = percentile(latencies, 0.95)
    out["max"] = max(latencies)
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def table(rows: list[tuple[int, str, dict[str, Any]]]) -> str:
    lines = [
        "| articles | code | cold full build | webhook→page p50 | p95 | max | receiver's rebuild "
        "time p50 (its log) | its CPU time p50 | receiver CPU per change (all threads) "
        "| pages rendered per rebuild | receiver peak RSS |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, label, r in rows:
        rebuilds = r["rebuilds"]
        own = statistics.median(t for _, _, t in rebuilds) if rebuilds else float("nan")
        rendered = sorted({p for p, _, _ in rebuilds})
        cpus = [int(m[1]) for line in r["stages"] if (m := CPU.search(line))]
        cpu = f"{statistics.median(cpus):.0f} ms" if cpus else "-"
        lines.append(
            f"| {n:,} | {label} | {r['cold']:.1f} s | {_ms(r['p50'])} ms | {_ms(r['p95'])} ms "
            f"| {_ms(r['max'])} ms | {_ms(own)} ms | {cpu} | {_ms(r['cpu_per_change'])} ms "
            f"| {', '.join(map(str, rendered))} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def every_run(rows: list[tuple[int, str, dict[str, Any]]]) -> str:
    lines = []
    for n, label, r in rows:
        lines.append(f"\n{n:,} articles, {label}: every change (latency; the receiver's log)\n")
        stages = r["stages"] + [""] * (len(r["latencies"]) - len(r["stages"]))
        rebuilds = r["rebuilds"] + [None] * (len(r["latencies"]) - len(r["rebuilds"]))
        for k, (latency, kind, rebuild, stage) in enumerate(
            zip(r["latencies"], r["kinds"], rebuilds, stages, strict=True)
        ):
            own = (
                f"{rebuild[0]} rendered, {rebuild[1]} written in {_ms(rebuild[2])} ms"
                if rebuild
                else "no rebuild line"
            )
            lines.append(
                f"- {k + 1}. {kind}: {_ms(latency)} ms; {own}" + (f"; {stage}" if stage else "")
            )
    return "\n".join(lines)


def main() -> None:
    parser = changes_parser(__doc__.splitlines()[0], 20)
    parser.add_argument(
        "--gap", type=float, default=1.5, help="seconds between a rebuild and the next change"
    )
    args = parser.parse_args()
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for n, number, label, tool in sizes_in_turns(args):
        result = measure(n, args.changes, args.gap, tool)
        name = f"{label} (round {number})" if args.compare else label
        rows.append((n, name, result))
        print(
            f"{n} {name}: p50 {_ms(result['p50'])} ms, p95 {_ms(result['p95'])} ms, "
            f"max {_ms(result['max'])} ms, receiver CPU per change "
            f"{_ms(result['cpu_per_change'])} ms",
            file=sys.stderr,
            flush=True,
        )
    compare = f" --compare {args.compare} --rounds {args.rounds}" if args.compare else ""
    text = (
        "\n## Webhook → page on real-shaped content (bench/webhook_realistic.py)\n\n"
        f"Machine: {machine()}. Load average {os.getloadavg()[0]:.1f} at the end. "
        f"Command: `.venv/bin/python bench/webhook_realistic.py --sizes {args.sizes} "
        f"--changes {args.changes} --gap {args.gap}{compare}`. Emulator in the benchmark "
        "process, builder and receiver in their own processes; latency = the signed webhook "
        "is POSTed (after the emulator's content changed) → the changed language's article "
        f"page on disk holds the new title; {args.changes} isolated one-item title changes "
        "per size (untranslated en-US, translated en-US, translated es-ES, taking turns).\n\n"
        + table(rows)
        + "\n"
        + every_run(rows)
        + "\n"
    )
    report(text, args.append)


if __name__ == "__main__":
    main()
