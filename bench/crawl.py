"""Benchmark: crawl throughput, peak memory and where the time goes, through the emulator.

Synthetic environments of 10k and 50k items (realistic elements, 2-5 KB of JSON each: rich
text with links, an image and sometimes a component, assets, taxonomy, linked items, ...)
are served by the project's emulator on loopback and crawled with the real client.

The emulator runs in its own process (one per size) and the crawls in another (one per size
and server latency), so the two do not share a GIL and the client's peak RSS is its own. Each
client: one warm-up crawl (the emulator serialises a feed page the first time it is asked and
caches it), then ``--runs`` rounds of three variants, interleaved; medians are reported. With
``--delay 0`` a warm server answers as fast as loopback allows, which makes the share of time
spent in our own code an upper bound; ``--delay 0.1`` adds 100 ms before every answer, closer
to the real API's time to first byte.

Reported per crawl:

- items/s over the wall time of ``crawl()`` (all languages, types, taxonomies);
- ``json.loads``: CPU time decoding response bodies (the C decoder of the standard library),
  summed over threads, as a share of wall time;
- ``checks+merge``: CPU time in our own Python code per response (shape checks, merging pages
  and components), as a share of wall time;
- ``client CPU``: CPU time of the whole client process (httpx, h11, json, ours) / wall time;
- peak RSS of the client process over its first crawl (``ru_maxrss``), and its growth over
  the baseline before it (the snapshot itself must be held in memory: it is the result).

The variants: the normal crawl, the same without the one-page read-ahead in the feed
(``no read-ahead``: a subclass of the client that reads page after page), and with languages
crawled one after another (``sequential langs``), to show what each buys. What pausing the
garbage collector buys was measured when it was added (bench/RESULTS.md). Default run: about
3 minutes on 2 CPUs.

    .venv/bin/python bench/crawl.py [--sizes 10000 50000] [--runs 3] [--languages 2]
                                    [--page-size 2000] [--delay 0 0.1]
                                    [--append-results]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

from kontent_ssg.content.delivery import (  # noqa: E402
    DEFAULT_LANGUAGE_ID,
    DeliveryClient,
    RetryPolicy,
    crawl,
)
from kontent_ssg.content.snapshot import LanguageItems, Snapshot  # noqa: E402

ENV = "b3c4d5e6-0000-4000-8000-00000000be4c"
ASSETS = "https://assets-us-01.kc-usercontent.com/" + ENV
WORDS = [
    "coffee",
    "roast",
    "bean",
    "origin",
    "brew",
    "espresso",
    "filter",
    "grind",
    "aroma",
    "acidity",
    "body",
    "crema",
    "barista",
    "arabica",
    "robusta",
    "washed",
    "natural",
    "honey",
    "altitude",
    "harvest",
    "cup",
    "tasting",
    "notes",
    "cherry",
    "citrus",
    "chocolate",
    "caramel",
    "floral",
    "sweet",
    "bright",
    "balanced",
    "water",
    "temperature",
    "ratio",
    "bloom",
    "pour",
    "kettle",
]
LANGUAGES = ["en-US", "es-ES"]


# -- synthetic content -----------------------------------------------------------------------


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _system(codename: str, n: int, language: str, type_: str) -> dict[str, Any]:
    return {
        "id": f"{n:08x}-1d2e-4f30-8a4b-{n * 7919 % 16**12:012x}",
        "name": codename.replace("_", " ").title(),
        "codename": codename,
        "language": language,
        "type": type_,
        "collection": "default",
        "sitemap_locations": [],
        "last_modified": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T08:{n % 60:02d}:00.1234567Z",
        "workflow": "default",
        "workflow_step": "published",
    }


def _rich_text(rng: random.Random, n: int, total: int, component: str | None) -> dict[str, Any]:
    target = rng.randint(300, 2000)
    parts: list[str] = [f"<h2>{_sentence(rng, 5)}</h2>"]
    links: dict[str, Any] = {}
    images: dict[str, Any] = {}
    while sum(map(len, parts)) < target:
        kind = rng.random()
        if kind < 0.15:
            other = rng.randrange(total)
            link_id = f"{other:08x}-1d2e-4f30-8a4b-{other * 7919 % 16**12:012x}"
            links[link_id] = {"codename": f"article_{other}", "type": "article", "url_slug": ""}
            parts.append(
                f'<p>{_sentence(rng, 8)} <a data-item-id="{link_id}" href="">'
                f"{_sentence(rng, 3)}</a> {_sentence(rng, 6)}</p>"
            )
        elif kind < 0.2 and not images:
            image_id = f"{n:08x}-aaaa-4bbb-8ccc-{n:012x}"
            url = f"{ASSETS}/{image_id}/photo-{n}.jpg"
            images[image_id] = {
                "image_id": image_id,
                "description": _sentence(rng, 6),
                "url": url,
                "width": 1600,
                "height": 900,
            }
            parts.append(
                f'<figure data-asset-id="{image_id}" data-image-id="{image_id}">'
                f'<img src="{url}" data-asset-id="{image_id}" data-image-id="{image_id}" '
                f'alt=""></figure>'
            )
        elif kind < 0.3:
            items = "".join(f"<li>{_sentence(rng, 5)}</li>" for _ in range(rng.randint(2, 5)))
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_sentence(rng, rng.randint(20, 45))}</p>")
    modular: list[str] = []
    if component:
        parts.insert(
            2,
            '<object type="application/kenticocloud" data-type="item" data-rel="component" '
            f'data-codename="{component}"></object>',
        )
        modular.append(component)
    return {
        "type": "rich_text",
        "name": "Body",
        "images": images,
        "links": links,
        "modular_content": modular,
        "value": "".join(parts),
    }


def _article(n: int, total: int, language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = random.Random(n * 31 + len(language))
    codename = f"article_{n}"
    components: dict[str, Any] = {}
    component = None
    if n % 4 == 0:
        component = f"n{n:08x}_c0de_4a1b_8c2d_{language.replace('-', '').lower()}"
        components[component] = {
            "system": _system(component, n, language, "callout"),
            "elements": {
                "text": {
                    "type": "rich_text",
                    "name": "Text",
                    "images": {},
                    "links": {},
                    "modular_content": [],
                    "value": f"<p>{_sentence(rng, 25)}</p>",
                },
                "tone": {
                    "type": "multiple_choice",
                    "name": "Tone",
                    "value": [{"name": "Info", "codename": "info"}],
                },
            },
        }
    asset_id = f"{n:08x}-bbbb-4ccc-8ddd-{n:012x}"
    item = {
        "system": _system(codename, n, language, "article"),
        "elements": {
            "title": {"type": "text", "name": "Title", "value": _sentence(rng, 6)},
            "summary": {"type": "text", "name": "Summary", "value": _sentence(rng, 30)},
            "body": _rich_text(rng, n, total, component),
            "published": {
                "type": "date_time",
                "name": "Published",
                "value": f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}T00:00:00Z",
                "display_timezone": "Europe/Prague",
            },
            "reading_time": {"type": "number", "name": "Reading time", "value": 3 + n % 9},
            "teaser": {
                "type": "asset",
                "name": "Teaser",
                "value": [
                    {
                        "name": f"teaser-{n}.jpg",
                        "description": _sentence(rng, 5),
                        "type": "image/jpeg",
                        "size": 120_000 + n,
                        "url": f"{ASSETS}/{asset_id}/teaser-{n}.jpg",
                        "width": 1200,
                        "height": 800,
                        "renditions": {},
                    }
                ],
            },
            "topics": {
                "type": "taxonomy",
                "name": "Topics",
                "taxonomy_group": "topics",
                "value": [{"name": w.title(), "codename": w} for w in rng.sample(WORDS, 2)],
            },
            "format": {
                "type": "multiple_choice",
                "name": "Format",
                "value": [{"name": "Long read", "codename": "long_read"}],
            },
            "author": {
                "type": "modular_content",
                "name": "Author",
                "value": [f"article_{(n * 7) % total}"],
            },
            "related": {
                "type": "modular_content",
                "name": "Related",
                "value": [f"article_{(n + k) % total}" for k in (1, 2, 3)],
            },
            "url": {"type": "url_slug", "name": "URL", "value": f"article-{n}"},
            "rating": {"type": "custom", "name": "Rating", "value": json.dumps({"stars": n % 5})},
        },
    }
    return item, components


def synthetic_snapshot(total: int, languages: int) -> Snapshot:
    """``total`` articles in each of ``languages`` languages (the second translates 3 in 4)."""
    names = LANGUAGES[:languages]
    feeds = {name: LanguageItems() for name in names}
    for n in range(total):
        default_item, default_components = _article(n, total, names[0])
        feeds[names[0]].items.append(default_item)
        feeds[names[0]].modular_content.update(default_components)
        for name in names[1:]:
            if n % 4 == 3:  # untranslated: the fallback variant
                item, components = default_item, default_components
            else:
                item, components = _article(n, total, name)
            feeds[name].items.append(item)
            feeds[name].modular_content.update(components)
    return Snapshot(
        default_language=names[0],
        languages=[
            {
                "system": {
                    "id": DEFAULT_LANGUAGE_ID if i == 0 else f"{i:08d}-aaaa-4bbb-8ccc-{i:012d}",
                    "name": name,
                    "codename": name,
                }
            }
            for i, name in enumerate(names)
        ],
        types=[
            {
                "system": {"id": "t-article", "name": "Article", "codename": "article",
                           "last_modified": "2024-01-01T00:00:00Z"},
                "elements": {"title": {"type": "text", "name": "Title"}},
            }
        ],
        taxonomies=[
            {
                "system": {"id": "x-topics", "name": "Topics", "codename": "topics",
                           "last_modified": "2024-01-01T00:00:00Z"},
                "terms": [{"name": w.title(), "codename": w, "terms": []} for w in WORDS],
            }
        ],
        items=feeds,
    )  # fmt: skip


# -- the two processes -----------------------------------------------------------------------


def serve(total: int, languages: int, page_size: int) -> int:
    """Server process: build the content, serve it, print the URL; then obey stdin lines
    (``delay <seconds>`` sets the latency of every answer) until stdin closes."""
    from tests.support.emulator import Emulator, Faults

    snapshot = synthetic_snapshot(total, languages)
    json_bytes = sum(
        len(json.dumps(i, separators=(",", ":"))) for f in snapshot.items.values() for i in f.items
    )
    with Emulator(snapshot, environment_id=ENV, page_size=page_size) as emu:
        print(json.dumps({"url": emu.url, "item_json_bytes": json_bytes}), flush=True)
        for line in sys.stdin:
            command, _, value = line.partition(" ")
            if command == "delay":
                emu.faults = Faults(delay=float(value)) if float(value) > 0 else None
                print("ok", flush=True)
    return 0


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _NoReadAheadClient(DeliveryClient):
    """The feed read page after page, without requesting the next page while reading one:
    what the read-ahead buys is the difference."""

    def _feed_bodies(self, language: str) -> Iterator[tuple[int, bytes, bool]]:
        token: str | None = None
        page = 1
        while True:
            response = self._feed_page(language, token, page)
            next_token = response.headers.get("X-Continuation") or None
            yield page, self._read_feed_body(response, language, token, page), next_token is None
            if next_token is None:
                return
            token, page = next_token, page + 1


def _crawl_once(url: str, *, pipeline: bool = True, sequential: bool = False) -> dict[str, Any]:
    cls = DeliveryClient if pipeline else _NoReadAheadClient
    client = cls(url, ENV, retry=RetryPolicy(max_attempts=3), timeout=120.0)
    cpu = time.process_time()
    started = time.perf_counter()
    snapshot = crawl(client, max_workers=1 if sequential else 8)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    client.close()
    items = sum(len(f.items) for f in snapshot.items.values())
    del snapshot
    return {
        "wall": wall,
        "items": items,
        "items_per_s": items / wall,
        "requests": client.requests,
        "parse": client.stats.parse_seconds,
        "decode": client.stats.decode_seconds,
        "wait": client.stats.wait_seconds,
        "cpu": cpu,
        "mb": client.stats.bytes_received / 1e6,
    }


def client_main(url: str, runs: int) -> int:
    """Client process: a warm-up crawl, then ``runs`` rounds of the three variants, interleaved
    so that drift on the machine affects them alike; JSON on stdout."""
    baseline = _rss_kib()
    _crawl_once(url)  # warm-up: the emulator serialises and caches every page
    # Peak of one crawl: later crawls in this process would add allocator fragmentation left
    # by the previous ones, which says nothing about a real (single-crawl) run.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    measured, no_pipeline, sequential = [], [], []
    for _ in range(runs):
        measured.append(_crawl_once(url))
        no_pipeline.append(_crawl_once(url, pipeline=False))
        sequential.append(_crawl_once(url, sequential=True))
    out = {
        "runs": measured,
        "baseline_rss_kib": baseline,
        "peak_rss_kib": peak,
        "no_pipeline": no_pipeline,
        "sequential": sequential,
    }
    print(json.dumps(out), flush=True)
    return 0


def bench_size(
    total: int, languages: int, page_size: int, runs: int, delays: list[float]
) -> dict[float, dict[str, Any]]:
    """One emulator process for this size; one client process per server latency."""
    me = [sys.executable, str(Path(__file__).resolve())]
    server = subprocess.Popen(
        [*me, "--serve", str(total), "--languages", str(languages), "--page-size", str(page_size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[float, dict[str, Any]] = {}
    try:
        assert server.stdout is not None and server.stdin is not None
        info = json.loads(server.stdout.readline())
        for delay in delays:
            server.stdin.write(f"delay {delay}\n")
            server.stdin.flush()
            assert server.stdout.readline().strip() == "ok"
            result = subprocess.run(
                [*me, "--client", info["url"], "--runs", str(runs)],
                capture_output=True,
                text=True,
                check=True,
            )
            data = json.loads(result.stdout)
            data["item_json_mb"] = info["item_json_bytes"] / 1e6
            results[delay] = data
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=60)
    return results


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(
    total: int, languages: int, page_size: int, delay: float, data: dict[str, Any]
) -> list[str]:
    runs = data["runs"]
    wall = _median(runs, "wall")
    lines = [
        f"| {total:,} | {languages} | {page_size} | {delay * 1000:.0f} | {runs[0]['items']:,} | "
        f"{_median(runs, 'items_per_s'):,.0f} | {wall:.2f} | "
        f"{_median(runs, 'decode') / wall:.0%} | "
        f"{(_median(runs, 'parse') - _median(runs, 'decode')) / wall:.1%} | "
        f"{_median(runs, 'cpu') / wall:.0%} | "
        f"{data['peak_rss_kib'] / 1024:,.0f} | "
        f"{(data['peak_rss_kib'] - data['baseline_rss_kib']) / 1024:,.0f} | "
        f"{data['item_json_mb']:.0f} | {runs[0]['requests']} | "
        f"{_median(data['no_pipeline'], 'items_per_s'):,.0f} | "
        f"{_median(data['sequential'], 'items_per_s'):,.0f} |"
    ]
    return lines


HEADER = [
    "| items/lang | langs | page | latency ms | items crawled | items/s | wall s | "
    "json.loads | checks+merge (ours) | "
    "client CPU | peak RSS MiB | RSS growth MiB | item JSON MB | requests | "
    "items/s, no read-ahead | items/s, sequential langs |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--languages", type=int, default=2, choices=(1, 2))
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--delay",
        type=float,
        nargs="+",
        default=[0.0, 0.1],
        help="server latency per response in seconds (0: raw loopback)",
    )
    parser.add_argument("--append-results", action="store_true", help="append to RESULTS.md")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve, args.languages, args.page_size)
    if args.client:
        return client_main(args.client, args.runs)

    command = "python bench/crawl.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = list(HEADER)
    started = time.perf_counter()
    for total in args.sizes:
        by_delay = bench_size(total, args.languages, args.page_size, args.runs, args.delay)
        for delay, data in by_delay.items():
            row = report(total, args.languages, args.page_size, delay, data)
            lines += row
            print(row[0], flush=True)
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    text = "\n".join(lines)
    print(text)
    if args.append_results:
        results = Path(__file__).with_name("RESULTS.md")
        section = (
            f"\n## Crawl ({time.strftime('%Y-%m-%d')})\n\n"
            f"Machine: {machine()}.\n\n"
            f"Command: `{command.strip()}` (median of {args.runs} runs after a warm-up; "
            "emulator and crawler in separate processes on loopback).\n\n"
            f"{text}\n"
        )
        with results.open("a", encoding="utf-8") as fh:
            fh.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
