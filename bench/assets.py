"""Benchmark: ``[site] download_assets`` — downloads and image variants at 10k items.

A synthetic site of N articles (default 10,000) referencing D distinct JPEG images (default
2,000, 1200x800, ~20-40 KB each): each article has a hero image (an asset element, shown
through ``image_url(w=400)``) and a rich-text figure (a ``srcset`` of 320/640/960 plus the
original); the first half of the images are heroes, the second half figures, so a build
makes D/2 x 1 + D/2 x 3 variants. The emulator (a real HTTP server, in this process) serves
the content and the image bytes. Each build is ``kontent-ssg build`` in a separate process
(start-up counts), timed in three parts: the whole command, the downloads (``prepare``) and
the variants (``files``), plus the peak RSS of the build process:

1. cold: no output, no build state, an empty asset cache;
2. no change: the same command again (``nothing_changed``: nothing is even planned);
3. ``--full``: every page rendered again, the cache warm: no download, no encode.

    .venv/bin/python bench/assets.py [--items 10000] [--images 2000] [--runs 3] [--append]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine  # noqa: E402

from kontent_ssg.content.snapshot import LanguageItems, Snapshot  # noqa: E402
from tests.support.assets import asset_bytes, image_meta  # noqa: E402
from tests.support.emulator import DEFAULT_ENVIRONMENT_ID, Emulator  # noqa: E402
from tests.support.net import free_port  # noqa: E402

WORK = REPO / "bench" / ".work" / "assets"
EN = "en-US"
SIZE = (1200, 800)

# Runs the build in a child process with the two asset steps timed (public methods wrapped
# from outside; nothing inside kontent-ssg is switched).
RUNNER = """
import json, resource, sys, time
from kontent_ssg.assets.stage import AssetStage
times = {"prepare": 0.0, "files": 0.0}
def timed(name, method):
    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            times[name] += time.perf_counter() - started
    return run
AssetStage.prepare = timed("prepare", AssetStage.prepare)
AssetStage.files = timed("files", AssetStage.files)
from kontent_ssg.cli import main
code = main(sys.argv[1:])
times["rss_kb"] = max(
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
)
print("BENCH " + json.dumps(times), file=sys.stderr)
sys.exit(code)
"""

TEMPLATE = """<!doctype html><html><body><h1>{{ item.title }}</h1>
{% for a in item.hero %}<img src="{{ a | image_url(w=400) }}" alt="">{% endfor %}
{{ item.body }}
</body></html>
"""


def file_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def make_content(port: int, items: int, images: int) -> tuple[Snapshot, dict[str, bytes]]:
    base = f"http://127.0.0.1:{port}/assets/{DEFAULT_ENVIRONMENT_ID}"
    files: dict[str, bytes] = {}
    sizes: dict[int, int] = {}
    for n in range(images):
        data = asset_bytes(f"image-{n}.jpg", *SIZE)
        files[f"/assets/{DEFAULT_ENVIRONMENT_ID}/{file_id(n)}/image-{n}.jpg"] = data
        sizes[n] = len(data)
    half = images // 2
    raws = []
    for i in range(items):
        hero, figure = i % half, half + i % (images - half)
        hero_url = f"{base}/{file_id(hero)}/image-{hero}.jpg"
        figure_url = f"{base}/{file_id(figure)}/image-{figure}.jpg"
        fid = file_id(figure)
        raws.append(
            {
                "system": {
                    "id": f"11111111-0000-4000-8000-{i:012d}",
                    "name": f"Article {i}",
                    "codename": f"article_{i}",
                    "language": EN,
                    "type": "article",
                    "collection": "default",
                    "sitemap_locations": [],
                    "last_modified": "2024-01-01T00:00:00Z",
                    "workflow": "default",
                    "workflow_step": "published",
                },
                "elements": {
                    "title": {"type": "text", "name": "Title", "value": f"Article {i}"},
                    "slug": {"type": "url_slug", "name": "Slug", "value": f"article-{i}"},
                    "hero": {
                        "type": "asset",
                        "name": "Hero",
                        "value": [
                            {
                                "name": f"image-{hero}.jpg",
                                "description": None,
                                "type": "image/jpeg",
                                "size": sizes[hero],
                                "url": hero_url,
                                "width": SIZE[0],
                                "height": SIZE[1],
                            }
                        ],
                    },
                    "body": {
                        "type": "rich_text",
                        "name": "Body",
                        "value": f'<p>Article {i}.</p><figure data-asset-id="{fid}" '
                        f'data-image-id="{fid}"><img src="{figure_url}" data-asset-id="{fid}" '
                        f'data-image-id="{fid}" alt=""></figure>',
                        "images": {fid: image_meta(fid, figure_url, *SIZE)},
                        "links": {},
                        "modular_content": [],
                    },
                },
            }
        )
    snapshot = Snapshot(
        default_language=EN,
        languages=[
            {"system": {"id": "00000000-0000-0000-0000-000000000000", "name": EN, "codename": EN}}
        ],
        types=[{"system": {"id": "t", "name": "Article", "codename": "article"}, "elements": {}}],
        taxonomies=[],
        items={EN: LanguageItems(items=raws, modular_content={})},
    )
    return snapshot, files


def write_site(folder: Path, url: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "article.html").write_text(TEMPLATE)
    (folder / "kontent.toml").write_text(
        f'[kontent]\nenvironment_id = "{DEFAULT_ENVIRONMENT_ID}"\ndelivery_url = "{url}"\n\n'
        "[site]\ndownload_assets = true\n\n[images]\nwidths = [320, 640, 960]\n\n"
        '[routes.article]\npath = "/articles/{slug}/"\ntemplate = "article.html"\n'
    )


def run_build(folder: Path, *extra: str) -> dict[str, Any]:
    report = folder / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTENT_")}
    env["PYTHONPATH"] = str(REPO)
    env["CI"] = "true"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "build", str(folder), "--report", str(report), *extra],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(report.read_text())
    times = {"prepare": 0.0, "files": 0.0, "rss_kb": 0}
    for line in proc.stderr.splitlines():
        if line.startswith("BENCH "):
            times = json.loads(line[6:])
    return {
        "seconds": seconds,
        "downloads": times["prepare"],
        "encodes": times["files"],
        # the build process or its largest render worker, whichever peaked higher
        "rss_mb": times["rss_kb"] / 1024,
        "downloaded": data.get("assets_downloaded", 0),
        "encoded": data.get("assets_encoded", 0),
        "pages": len(data["pages_written"]),
        "nothing": data.get("nothing_changed"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    port = free_port()
    snapshot, files = make_content(port, args.items, args.images)
    runs: dict[str, list[dict[str, Any]]] = {"cold": [], "no change": [], "--full": []}
    with Emulator(snapshot, port=port, page_size=2000) as emu:
        emu.asset_files.update(files)
        for _ in range(args.runs):
            folder = WORK / "site"
            write_site(folder, emu.url)
            runs["cold"].append(run_build(folder))
            runs["no change"].append(run_build(folder))
            runs["--full"].append(run_build(folder, "--full"))
    lines = [
        f"### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.items:,} items, "
        f"{args.images:,} distinct images",
        "",
        f"Machine: {machine()}.",
        f"Command: `.venv/bin/python bench/assets.py --items {args.items} --images "
        f"{args.images} --runs {args.runs}` (each build `kontent-ssg build` in its own process).",
        "",
        "| build | wall s (median) | downloads s | variants s | downloaded | encoded | "
        "peak RSS MB | every run (wall s) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, results in runs.items():

        def med(key: str, results: list[dict[str, Any]] = results) -> float:
            return statistics.median(r[key] for r in results)

        every = ", ".join(f"{r['seconds']:.2f}" for r in results)
        lines.append(
            f"| {name} | {med('seconds'):.2f} | {med('downloads'):.2f} | {med('encodes'):.2f} | "
            f"{results[0]['downloaded']} | {results[0]['encoded']} | {med('rss_mb'):.0f} | "
            f"{every} |"
        )
    lines.append("")
    lines.append(
        "Every run, (wall, downloads, variants) s: "
        + "; ".join(
            f"{name}: "
            + ", ".join(
                f"({r['seconds']:.2f}, {r['downloads']:.2f}, {r['encodes']:.2f})" for r in results
            )
            for name, results in runs.items()
        )
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.append:
        with (REPO / "bench" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
