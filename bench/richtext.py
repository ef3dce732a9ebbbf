"""Benchmark: rich-text elements resolved per second, beside BeautifulSoup parsing alone.

The element is what a real article body looks like (~5 KB): headings, paragraphs with
inline formatting, nested lists, a table with rich cells, 2 images, 5 item links (one to an
item without a page), an external and an e-mail link, and 3 components, one of which holds a
component of its own (nested two deep). Components render with the generic default renderer,
so their rich text is resolved too. One thread (one core), median of several runs; the
wall-clock rate is the headline, the rate per CPU-second of this process is printed beside it
because the machines are shared (other processes inflate wall time, not CPU time). For
scale, the same element is also only parsed and serialised by BeautifulSoup (``html.parser``
and ``lxml``): a lower bound for any resolver built on it (the resolver used to have
BeautifulSoup backends; the numbers they gave are in bench/RESULTS.md).

Sanitising (on by default) is measured beside it: the resolver with it off, the sanitiser
alone on the element (the fast path real API content takes) and nh3 alone with the same
allowlist (what every element would cost without the fast path). ``--render N`` adds what
it costs a whole render: the pages of bench/build.py's N-article site rendered in this
process (one core), with ``[site] sanitize_html`` on and off taking turns (CPU time),
and the sanitiser alone over every rich-text value of that site.

    .venv/bin/python bench/richtext.py [--seconds 1.0] [--runs 7] [--render 10000]
                                       [--append-results]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

from kontent_ssg.render.richtext import RichTextEnv, resolve_rich_text  # noqa: E402
from kontent_ssg.render.sanitize import (  # noqa: E402
    DROP_WITH_CONTENT,
    RICH_TEXT_ATTRIBUTES,
    RICH_TEXT_TAGS,
    URL_SCHEMES,
    is_api_shaped,
    sanitize_rich_text,
)

ASSET = "https://assets-us-01.kc-usercontent.com/0f6f4a6e-7ab5-4b2b-8f6a-6b5b1b5a2d3c"
IDS = [f"6c3ab2b8-29d7-4c3e-9a4d-3f1b6a5c7d{n:02d}" for n in range(8)]


def _rt(
    value: str,
    *,
    links: dict | None = None,
    images: dict | None = None,
    modular: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "name": "Body",
        "value": value,
        "images": images or {},
        "links": links or {},
        "modular_content": modular or [],
    }


def _component(codename: str, type_: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "system": {
            "id": f"{codename}-id",
            "name": codename,
            "codename": codename,
            "language": "en-US",
            "type": type_,
            "collection": "default",
            "last_modified": "2024-01-01T00:00:00Z",
        },
        "elements": body,
    }


def build_case() -> tuple[dict[str, Any], dict[str, Any], RichTextEnv]:
    """(item, element, env) for the realistic element."""
    para = (
        "<p>Coffee is one of the most <strong>popular</strong> drinks in the world, and "
        "<em>how</em> you brew it matters: grind size, water temperature &amp; contact time "
        'all change the cup. See <a data-item-id="{id}" href="">our guide</a> for '
        'details, or read the <a href="https://example.org/brewing?x=1&amp;y=2">external '
        "notes</a>.</p>\n"
    )
    images = {
        f"img-{n}": {
            "image_id": f"img-{n}",
            "description": f"Photo {n} of the roastery",
            "url": f"{ASSET}/img-{n}/photo-{n}.jpg",
            "width": 1600 + n,
            "height": 900,
        }
        for n in range(2)
    }
    figure = (
        '<figure data-asset-id="img-{n}" data-image-id="img-{n}"><img src="'
        + ASSET
        + '/img-{n}/photo-{n}.jpg" data-asset-id="img-{n}" '
        'data-image-id="img-{n}" alt=""></figure>\n'
    )
    obj = (
        '<object type="application/kenticocloud" data-type="item" '
        'data-rel="component" data-codename="{c}"></object>\n'
    )
    parts = [
        "<h2>Brewing at home</h2>\n",
        para.format(id=IDS[0]),
        obj.format(c="n_quote"),
        "<p>Roasting turns green beans brown and brittle; the sugars caramelise and the "
        "aromas develop. A <strong>light roast</strong> keeps the acidity and the origin "
        "flavours, a <strong>dark roast</strong> brings body, bitterness and notes of "
        "chocolate. Most speciality roasters sell light to medium roasts for filter brewing "
        "and slightly darker ones for espresso, because the pressure and short contact time "
        "of an espresso extract acids faster than sugars. Whatever you buy, buy it whole and "
        "grind it just before brewing: ground coffee loses much of its aroma within "
        "<em>minutes</em>, whole beans keep it for weeks when stored cool, dry and away "
        "from light.</p>\n",
        "<h3>What you need</h3>\n<ul>\n  <li>A grinder</li>\n  <li>Scales<ul>\n"
        "    <li>0.1 g precision</li>\n    <li>with a timer</li>\n  </ul></li>\n"
        '  <li>Fresh beans, see <a data-item-id="' + IDS[1] + '" href="">beans</a></li>\n'
        "</ul>\n",
        figure.format(n=0),
        para.format(id=IDS[2]),
        "<table><tbody>\n"
        "  <tr><td><p><strong>Method</strong></p></td><td><p><strong>Grind</strong></p></td>"
        "<td><p><strong>Time</strong></p></td></tr>\n"
        "  <tr><td><p>Espresso</p></td><td><p>Fine</p></td><td><p>25&nbsp;s</p></td></tr>\n"
        '  <tr><td><p>AeroPress, see <a data-item-id="' + IDS[3] + '" href="">this</a>'
        "</p></td><td><ul><li>Medium</li><li>Fine</li></ul></td><td><p>2 min</p></td></tr>\n"
        "  <tr><td><p>Chemex</p></td><td><p>Coarse</p></td><td><p>4 min</p></td></tr>\n"
        "</tbody></table>\n",
        obj.format(c="n_callout"),
        "<h3>Step by step</h3>\n<ol>\n  <li>Heat water to 93&nbsp;°C.</li>\n"
        "  <li>Grind 15 g of coffee.</li>\n  <li>Bloom for 30 s, then pour.</li>\n"
        '  <li>Mail <a data-email-address="hi@example.org" href="mailto:hi@example.org">'
        "us</a> your results.</li>\n</ol>\n",
        figure.format(n=1),
        para.format(id=IDS[4]),
        "<p>Water is 98% of the cup: use filtered water with H<sub>2</sub>O hardness around "
        "50&ndash;100 ppm, never distilled. E = mc<sup>2</sup> does not apply. "
        "<code>ratio = 1:16</code> is a good start.<br>Enjoy.</p>\n",
        "<p>The grind matters more than most people think. Too fine and the water cannot "
        "pass, the extraction runs long and the cup turns bitter and astringent; too coarse "
        "and the water runs through, the extraction is short and the cup tastes sour and "
        "thin. Burr grinders give an even particle size, blade grinders do not, which is why "
        "a decent burr grinder is the single best upgrade for a home brewer. Adjust one "
        "variable at a time, taste, write it down, and repeat until the cup is balanced: "
        "sweet, clear and with a pleasant finish.</p>\n",
        "<h3>Storage</h3>\n",
        "<p>Storage is the last variable. Keep beans in an airtight, opaque container at room "
        "temperature; the fridge adds moisture and smells, the freezer only helps for beans "
        "you will not open for a month. Buy <em>little and often</em>: a bag that lasts two "
        "weeks is ideal. Roast dates beat best-before dates, and a one-way valve on the bag "
        "means the roaster cared about <strong>freshness</strong>. If your coffee suddenly "
        "tastes flat, try a fresh bag before you change your recipe. And clean the grinder "
        "once a month: old oils turn rancid and spoil even the best beans.</p>\n",
        obj.format(c="n_video"),
        '<p>More in <a href="https://example.org/" data-new-window="true" '
        'target="_blank" rel="noopener noreferrer">the archive</a>.</p>',
    ]
    value = "".join(parts)
    links = {
        i: {"codename": f"article_{n}", "type": "article", "url_slug": f"article-{n}"}
        for n, i in enumerate(IDS)
    }
    element = _rt(value, links=links, images=images, modular=["n_quote", "n_callout", "n_video"])
    inner = _component(
        "n_inner",
        "fact",
        {
            "text": {"type": "text", "name": "Text", "value": "Arabica is 60% of production."},
        },
    )
    components = {
        "n_quote": _component(
            "n_quote",
            "quote",
            {
                "quote": {
                    "type": "text",
                    "name": "Quote",
                    "value": "Life is too short for bad coffee.",
                },
                "author": {"type": "text", "name": "Author", "value": "Anonymous"},
            },
        ),
        "n_callout": _component(
            "n_callout",
            "callout",
            {
                "body": _rt(
                    '<p>Did you know?</p>\n<object type="application/kenticocloud" '
                    'data-type="item" data-rel="component" data-codename="n_inner">'
                    "</object>",
                    modular=["n_inner"],
                ),
                "style": {
                    "type": "multiple_choice",
                    "name": "Style",
                    "value": [{"name": "Info", "codename": "info"}],
                },
            },
        ),
        "n_inner": inner,
        "n_video": _component(
            "n_video",
            "video",
            {
                "video_id": {"type": "text", "name": "Video", "value": "dQw4w9WgXcQ"},
                "host": {
                    "type": "multiple_choice",
                    "name": "Host",
                    "value": [{"name": "YouTube", "codename": "youtube"}],
                },
            },
        ),
    }
    urls = {i: f"/articles/article-{n}/" for n, i in enumerate(IDS) if n != 4}
    env = RichTextEnv(
        linked_item=lambda c, lang: None,
        component=lambda c, lang: components.get(c),
        url_for_id=lambda i, lang: urls.get(i),
    )
    item = _component("brewing_at_home", "article", {"body": element})
    return item, element, env


@dataclass
class Measurement:
    wall: list[float]  # elements per wall-clock second, one per run
    cpu: list[float]  # elements per CPU second of this process (robust to other load)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def candidates() -> dict[str, Any]:
    """Name -> a function doing the work once (None when its parser is not installed)."""
    item, element, env = build_case()

    def ours() -> None:
        resolve_rich_text(element, item=item, element_codename="body", language="en-US", env=env)

    trusting = dataclasses.replace(env, sanitize=False)

    def ours_unsanitised() -> None:
        resolve_rich_text(
            element, item=item, element_codename="body", language="en-US", env=trusting
        )

    value = element["value"]
    assert is_api_shaped(value)
    cleaner = nh3_cleaner()

    out: dict[str, Any] = {
        "kontent-ssg resolver (lexbor), sanitising on (default)": ours,
        "kontent-ssg resolver (lexbor), sanitising off": ours_unsanitised,
        "sanitiser alone: the fast path (API-shaped input)": lambda: sanitize_rich_text(value),
        "sanitiser alone: nh3 with the same allowlist": lambda: cleaner.clean(value),
    }
    for features in ("html.parser", "lxml"):
        try:
            import bs4

            bs4.BeautifulSoup("", features)
        except Exception:  # an optional parser that is not installed
            out[f"bs4+{features}, parse and serialise only"] = None
            continue

        def soup(features: str = features) -> None:
            bs4.BeautifulSoup(element["value"], features).decode()

        out[f"bs4+{features}, parse and serialise only"] = soup
    return out


def nh3_cleaner() -> Any:
    """nh3 configured with the resolver's allowlist, as kontent_ssg.render.sanitize does."""
    import nh3

    return nh3.Cleaner(
        tags=set(RICH_TEXT_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in RICH_TEXT_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
    )


def render_share(n: int, runs: int) -> list[str]:
    """Render bench/build.py's ``n``-article site in this process with sanitising on and off
    (alternating, CPU time), and time the sanitiser alone over every rich-text value."""
    from kontent_ssg.builder.parallel import render_pages
    from kontent_ssg.config import load_config
    from kontent_ssg.content.snapshot import ContentStore, load_snapshot
    from kontent_ssg.site.plan import plan_site

    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "bench" / "build.py")
    assert spec is not None and spec.loader is not None
    bench_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_build)
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        bench_build.write_kontent_site(site_dir, n)
        config = load_config(site_dir, env={})
        snapshot = load_snapshot(config.snapshot_dir)
    store = ContentStore(snapshot)
    plan = plan_site(config, store)
    pages = plan.routes.pages
    values = [
        el["value"]
        for lang in snapshot.items.values()
        for it in [*lang.items, *lang.modular_content.values()]
        for el in it["elements"].values()
        if el.get("type") == "rich_text" and isinstance(el.get("value"), str)
    ]
    configs = {
        on: dataclasses.replace(config, site=dataclasses.replace(config.site, sanitize_html=on))
        for on in (True, False)
    }
    times: dict[bool, list[float]] = {True: [], False: []}
    # On and off take turns chunk by chunk (500 pages), so that the load of a shared machine
    # falls on both alike; each run is the sum over the chunks.
    chunks = [pages[i : i + 500] for i in range(0, len(pages), 500)]
    for on in (True, False):  # warm-up: imports, memoised image URLs, template compilation
        render_pages(configs[on], plan, chunks[0], workers=1)
    for run in range(runs):
        total = {True: 0.0, False: 0.0}
        for number, chunk in enumerate(chunks):
            for on in (True, False) if (run + number) % 2 == 0 else (False, True):
                gc.collect()
                started = time.process_time()
                render_pages(configs[on], plan, chunk, workers=1)
                total[on] += time.process_time() - started
        for on, seconds in total.items():
            times[on].append(seconds)
    cleaner = nh3_cleaner()
    alone: dict[str, list[float]] = {"fast path": [], "nh3": []}
    for _ in range(runs):
        started = time.process_time()
        for value in values:
            sanitize_rich_text(value)
        alone["fast path"].append(time.process_time() - started)
        started = time.process_time()
        for value in values:
            cleaner.clean(value)
        alone["nh3"].append(time.process_time() - started)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    paired = statistics.median(a - b for a, b in zip(times[True], times[False], strict=True))
    fast, slow = statistics.median(alone["fast path"]), statistics.median(alone["nh3"])
    per_page = 1000 / len(pages)
    return [
        f"- render: bench/build.py's site of {n:,} articles, {len(pages):,} pages, "
        f"{len(values):,} rich-text values ({sum(map(len, values)) / len(values):,.0f} "
        "characters on average), rendered in this process (`render_pages(..., workers=1)`), "
        f"{runs} runs each way, on and off taking turns every 500 pages; CPU seconds",
        "",
        "| what | median | per page | relative to the render with sanitising off | runs |",
        "|---|---|---|---|---|",
        f"| render, sanitising on (default) | {on:.2f} s | {on * per_page:.3f} ms | "
        f"{on / off:.1%} | {', '.join(f'{t:.2f}' for t in times[True])} |",
        f"| render, sanitising off | {off:.2f} s | {off * per_page:.3f} ms | 100% | "
        f"{', '.join(f'{t:.2f}' for t in times[False])} |",
        f"| difference on - off, paired run by run | {paired:+.2f} s | "
        f"{paired * per_page:+.3f} ms | {paired / off:+.1%} | "
        f"{', '.join(f'{a - b:+.2f}' for a, b in zip(times[True], times[False], strict=True))} |",
        f"| sanitiser alone over every value: fast path | {fast:.3f} s | "
        f"{fast * per_page:.4f} ms | {fast / off:.1%} | "
        f"{', '.join(f'{t:.3f}' for t in alone['fast path'])} |",
        f"| nh3 alone over every value (no fast path) | {slow:.3f} s | "
        f"{slow * per_page:.4f} ms | {slow / off:.1%} | "
        f"{', '.join(f'{t:.3f}' for t in alone['nh3'])} |",
    ]


def measure(once: Any, seconds: float, runs: int) -> Measurement:
    """``runs`` runs of about ``seconds`` each, after a warm-up; single thread, so one core."""
    for _ in range(20):
        once()
    result = Measurement([], [])
    for _ in range(runs):
        n = 0
        start, cpu_start = time.perf_counter(), time.process_time()
        deadline = start + seconds
        while True:
            for _ in range(20):
                once()
            n += 20
            now = time.perf_counter()
            if now >= deadline:
                break
        result.wall.append(n / (now - start))
        result.cpu.append(n / max(time.process_time() - cpu_start, 1e-9))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--render",
        type=int,
        default=0,
        metavar="N",
        help="also render bench/build.py's N-article site with sanitising on and off",
    )
    ap.add_argument(
        "--append-results", action="store_true", help="append a section to bench/RESULTS.md"
    )
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    item, element, env = build_case()
    res = resolve_rich_text(element, item=item, element_codename="body", language="en-US", env=env)
    lines = [
        f"- element: {len(element['value'].encode())} bytes of rich text, "
        f"3 components (one nested two deep), 5 item links, 2 images, a table; "
        f"output {len(res.html.encode())} bytes",
        f"- machine: {machine()}",
    ]
    rows = []
    for name, once in candidates().items():
        if once is None:
            rows.append(f"| {name} | not installed | | | |")
            continue
        m = measure(once, args.seconds, args.runs)
        rows.append(
            f"| {name} | {m.median:,.0f} | {1e6 / m.median:,.0f} µs | {m.cpu_median:,.0f} | "
            f"{', '.join(f'{r:,.0f}' for r in m.wall)} |"
        )
        print(f"{name}: {m.median:,.0f} elements/s", flush=True)
    table = [
        "| what | elements/s (median, wall) | per element | elements/CPU-s (median) "
        "| runs (wall) |",
        "|---|---|---|---|---|",
        *rows,
    ]
    lines.append(f"- load average (1 min) at the start: {load:.2f} (shared machine)")
    text = "\n".join([*lines, "", *table])
    if args.render:
        print(f"rendering {args.render} articles…", flush=True)
        text += "\n\n" + "\n".join(render_share(args.render, max(3, args.runs // 2)))
    print(text)
    if args.append_results:
        cmd = "`.venv/bin/python bench/richtext.py " + " ".join(sys.argv[1:]) + "`"
        try:
            rev = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        except OSError:
            rev = ""
        section = (
            f"\n## Rich-text resolution (bench/richtext.py)\n\n"
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f"{f', working tree on commit {rev}' if rev else ''}; command: {cmd}\n\n{text}\n"
        )
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(section)


if __name__ == "__main__":
    main()
