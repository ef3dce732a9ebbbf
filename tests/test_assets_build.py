"""``[site] download_assets``: whole builds against the emulator's asset CDN (real HTTP).

The site's content references CDN-style asset URLs (asset elements, rich-text images, an asset
link, ``image_url`` in a template); after a build no page references one, every local image
has the size its HTML claims, and every srcset candidate the width its descriptor says.
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from selectolax.lexbor import LexborHTMLParser

from kontent_ssg.assets.cache import AssetCache
from kontent_ssg.builder.pipeline import Builder, BuildOptions
from kontent_ssg.config import load_config
from kontent_ssg.content.snapshot import LanguageItems, Snapshot
from kontent_ssg.errors import AssetError, StrictError
from kontent_ssg.incremental import keys
from tests.support.assets import asset_bytes, asset_value, image_meta
from tests.support.emulator import DEFAULT_ENVIRONMENT_ID, Emulator, Faults
from tests.support.net import free_port
from tests.support.sites import tree

EN = "en-US"
ENV = DEFAULT_ENVIRONMENT_ID

TEMPLATES = {
    "article.html": """<!doctype html><html><body>
<h1>{{ item.title }}</h1>
{% for a in item.hero %}
<img class="hero" src="{{ a.url }}" width="{{ a.width }}" height="{{ a.height }}">
<img class="thumb" src="{{ a | image_url(w=300) }}">
<img class="square" src="{{ a | image_url(w=200, h=200, fit='crop', fm='webp') }}">
{%- set srcset = a|srcset %}
<img class="set" src="{{ a.url }}"{% if srcset %} srcset="{{ srcset }}"{% endif %}>{% endfor %}
{% for f in item.attachment %}<a class="attachment" href="{{ f.url }}">{{ f.name }}</a>{% endfor %}
<main>{{ item.body }}</main>
</body></html>
""",
    "404.html": "<h1>Not found</h1>",
}

CONFIG = """
[kontent]
environment_id = "{env}"
delivery_url = "{url}"
max_retries = 8

[site]
base_url = "https://example.org"
download_assets = true

[images]
widths = [320, 640, 960]

[assets]
keep_days = 30
{assets}

[routes.article]
path = "/articles/{{slug}}/"
template = "article.html"
"""

FILE_IDS = {
    name: f"0000{n:04d}-aaaa-4bbb-8ccc-{n:012d}"
    for n, name in enumerate(
        [
            "photo-1.jpg",
            "photo-2.jpg",
            "photo-3.png",
            "inline.png",
            "logo.svg",
            "anim.gif",
            "turned.jpg",
            "doc.pdf",
            "photo-1b.jpg",
        ],
        start=1,
    )
}
SIZES = {
    "photo-1.jpg": (1600, 1000),
    "photo-1b.jpg": (1500, 900),
    "photo-2.jpg": (900, 600),
    "photo-3.png": (400, 300),
    "inline.png": (1200, 800),
    "logo.svg": (200, 100),
    "anim.gif": (300, 200),
    "turned.jpg": (600, 400),
}
EXTRA = {"anim.gif": {"frames": 3}, "turned.jpg": {"orientation": 6, "exif_note": "secret"}}


class Cdn:
    """Asset URLs on the emulator, made before it starts (its port chosen up front)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/assets/{ENV}"

    def url(self, name: str) -> str:
        return f"{self.base}/{FILE_IDS[name]}/{name}"

    def value(self, name: str) -> dict:
        width, height = SIZES.get(name, (None, None))
        return asset_value(self.url(name), width, height, **EXTRA.get(name, {}))

    def figure(self, name: str) -> tuple[str, dict]:
        image_id = FILE_IDS[name]
        html = (
            f'<figure data-asset-id="{image_id}" data-image-id="{image_id}">'
            f'<img src="{self.url(name)}" data-asset-id="{image_id}" data-image-id="{image_id}" '
            f'alt=""></figure>'
        )
        return html, image_meta(image_id, self.url(name), *SIZES[name])


def _system(codename: str) -> dict:
    return {
        "id": f"11111111-0000-4000-8000-{sum(map(ord, codename)):012d}",
        "name": codename.title(),
        "codename": codename,
        "language": EN,
        "type": "article",
        "collection": "default",
        "sitemap_locations": [],
        "last_modified": "2024-01-01T00:00:00Z",
        "workflow": "default",
        "workflow_step": "published",
    }


def article(cdn: Cdn, codename: str, hero: str, figures: list[str], extra_html: str = "") -> dict:
    parts, images = [], {}
    for name in figures:
        html, meta = cdn.figure(name)
        parts.append(html)
        images[meta["image_id"]] = meta
    return {
        "system": _system(codename),
        "elements": {
            "title": {"type": "text", "name": "Title", "value": codename.title()},
            "slug": {"type": "url_slug", "name": "Slug", "value": codename},
            "hero": {"type": "asset", "name": "Hero", "value": [cdn.value(hero)]},
            "attachment": {"type": "asset", "name": "Attachment", "value": []},
            "body": {
                "type": "rich_text",
                "name": "Body",
                "value": "<p>Text.</p>" + "".join(parts) + extra_html,
                "images": images,
                "links": {},
                "modular_content": [],
            },
        },
    }


def make_snapshot(cdn: Cdn) -> Snapshot:
    pdf = FILE_IDS["doc.pdf"]
    first = article(
        cdn,
        "first",
        "photo-1.jpg",
        ["inline.png", "logo.svg", "anim.gif"],
        f'<p><a data-asset-id="{pdf}" href="{cdn.url("doc.pdf")}">the report</a></p>',
    )
    first["elements"]["attachment"]["value"] = [cdn.value("doc.pdf")]
    items = [
        first,
        article(cdn, "second", "photo-2.jpg", ["inline.png"]),
        article(cdn, "third", "photo-3.png", ["turned.jpg"]),
    ]
    return Snapshot(
        default_language=EN,
        languages=[
            {"system": {"id": "00000000-0000-0000-0000-000000000000", "name": EN, "codename": EN}}
        ],
        types=[
            {
                "system": {
                    "id": "22222222-0000-4000-8000-000000000001",
                    "name": "Article",
                    "codename": "article",
                },
                "elements": {},
            }
        ],
        taxonomies=[],
        items={EN: LanguageItems(items=items, modular_content={})},
    )


class Site:
    def __init__(self, folder: Path, emu: Emulator, assets: str = "", base: str = "") -> None:
        self.folder = folder
        self.emu = emu
        folder.mkdir(parents=True, exist_ok=True)
        config = CONFIG.format(env=ENV, url=emu.url, assets=assets)
        config = config.replace("https://example.org", f"https://example.org{base}")
        (folder / "kontent.toml").write_text(config, encoding="utf-8")
        for name, text in TEMPLATES.items():
            (folder / "templates").mkdir(exist_ok=True)
            (folder / "templates" / name).write_text(text, encoding="utf-8")
        self.config = load_config(folder, env={})

    def build(self, **options):  # type: ignore[no-untyped-def]
        options.setdefault("workers", 1)
        with Builder(self.config, BuildOptions(**options)) as builder:
            return builder.build()

    @property
    def out(self) -> Path:
        return self.folder / "public"

    def item(self, codename: str) -> dict:
        return copy.deepcopy(
            next(
                i for i in self.emu.snapshot.items[EN].items if i["system"]["codename"] == codename
            )
        )


@pytest.fixture
def cdn_emulator():  # type: ignore[no-untyped-def]
    port = free_port()
    cdn = Cdn(port)
    with Emulator(make_snapshot(cdn), port=port) as emu:
        emu.asset_files[f"/assets/{ENV}/{FILE_IDS['anim.gif']}/anim.gif"] = asset_bytes(
            "anim.gif", *SIZES["anim.gif"], frames=3
        )
        emu.asset_files[f"/assets/{ENV}/{FILE_IDS['turned.jpg']}/turned.jpg"] = asset_bytes(
            "turned.jpg", *SIZES["turned.jpg"], **EXTRA["turned.jpg"]
        )
        yield cdn, emu


@pytest.fixture
def site(tmp_path, cdn_emulator):  # type: ignore[no-untyped-def]
    _, emu = cdn_emulator
    return Site(tmp_path / "site", emu)


def pages(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")
    }


def check_local_images(out: Path, base: str = "") -> int:
    """Every <img> of every page is a local file of the size the HTML claims, and every
    srcset candidate a local file as wide as its descriptor; how many images were checked.
    ``base``: the path of base_url the site is served under."""
    checked = 0
    for rel, text in pages(out).items():
        doc = LexborHTMLParser(text)
        for img in doc.css("img"):
            src = img.attributes["src"] or ""
            assert src.startswith(f"{base}/assets/"), f"{rel}: {src}"
            src = src[len(base) :]
            path = out / src.lstrip("/")
            assert path.is_file(), f"{rel}: {src} does not exist"
            width, height = img.attributes.get("width"), img.attributes.get("height")
            if path.suffix != ".svg":
                with Image.open(path) as opened:  # as displayed: EXIF orientation applied
                    size = ImageOps.exif_transpose(opened).size
                if width is not None:
                    assert (int(width), int(height or 0)) == size, f"{rel}: {src} is {size}"
            srcset = img.attributes.get("srcset")
            for candidate in (srcset or "").split(","):
                if not candidate.strip():
                    continue
                url, descriptor = candidate.split()
                assert url.startswith(f"{base}/assets/")
                url = url[len(base) :]
                with Image.open(out / url.lstrip("/")) as opened:
                    width_shown = ImageOps.exif_transpose(opened).size[0]
                    assert f"{width_shown}w" == descriptor, f"{rel}: {candidate}"
            checked += 1
    return checked


# Any absolute URL but the site's own (base_url: canonical links)
REMOTE = re.compile(r"https?://(?!example\.org/)[^\s\"'<>]*")


def test_no_remote_asset_url_and_every_image_has_the_size_its_html_claims(site) -> None:
    report = site.build()
    assert report.assets_downloaded == 8  # 7 images and a PDF, each once
    assert report.assets_encoded > 0
    # the link check of written pages finds every local asset (they are published)
    assert report.broken_links == [] and report.warnings == []
    html = "\n".join(pages(site.out).values())
    assert REMOTE.findall(html) == []
    assert check_local_images(site.out) >= 12
    first = pages(site.out)["articles/first/index.html"]
    # the asset link and the attachment point at the local PDF, whose bytes are the CDN's
    pdf = f"/assets/{FILE_IDS['doc.pdf']}/doc.pdf"
    assert first.count(f'href="{pdf}"') == 2
    assert (site.out / pdf.lstrip("/")).read_bytes() == asset_bytes("doc.pdf")
    # SVG and animated GIF: the file itself, untouched, one candidate (no srcset)
    for name in ("logo.svg", "anim.gif"):
        local = f"/assets/{FILE_IDS[name]}/{name}"
        assert re.search(rf'<img src="{re.escape(local)}"[^>]*>', first)
        tag = re.search(rf'<img src="{re.escape(local)}"[^>]*>', first).group(0)
        assert "srcset" not in tag
        assert (site.out / local.lstrip("/")).read_bytes() == site.emu.asset_files.get(
            f"/assets/{ENV}/{FILE_IDS[name]}/{name}", asset_bytes(name, *SIZES[name])
        )
    # the srcset filter: local variants at the [images] widths below the original, then it
    hero_set = re.search(r'class="set" src="[^"]+" srcset="([^"]+)"', first).group(1)
    descriptors = [c.split()[1] for c in hero_set.split(", ")]
    assert descriptors[:3] == ["320w", "640w", "960w"] and len(descriptors) == 4
    # the hero's image_url variants: 300 wide, and a 200x200 WebP crop
    thumb = re.search(r'class="thumb" src="([^"]+)"', first).group(1)
    square = re.search(r'class="square" src="([^"]+)"', first).group(1)
    with Image.open(site.out / thumb.lstrip("/")) as img:
        assert img.size == (300, 188)
    with Image.open(site.out / square.lstrip("/")) as img:
        assert (img.format, img.size) == ("WEBP", (200, 200))
    # the report lists the published asset files
    assert sorted(report.assets_written) == sorted(
        p.relative_to(site.out).as_posix() for p in (site.out / "assets").rglob("*") if p.is_file()
    )


def test_exif_orientation_is_applied_and_metadata_stripped(site) -> None:
    site.build()
    third = pages(site.out)["articles/third/index.html"]
    tag = re.search(r'<img src="(/assets/[^"]*turned[^"]*)"[^>]*>', third)
    assert tag is not None
    assert 'width="600" height="400"' in tag.group(0)  # displayed size, not stored (400x600)
    smallest = tag.group(0).split('srcset="')[1].split(",")[0].split()[0]
    with Image.open(site.out / smallest.lstrip("/")) as img:
        assert img.size == (320, 213)
        assert 0x0112 not in img.getexif() and 0x010E not in img.getexif()
        # upright: the red corner mark is at the top left
        assert img.convert("RGB").getpixel((5, 5))[0] > 200


def test_rebuild_with_nothing_changed_downloads_and_encodes_nothing(site) -> None:
    first = site.build()
    assert first.assets_downloaded and first.assets_encoded
    before = tree(site.out)
    requests = len(site.emu.asset_log)
    again = site.build()
    assert (again.assets_downloaded, again.assets_encoded) == (0, 0)
    full = site.build(full=True)
    assert (full.assets_downloaded, full.assets_encoded) == (0, 0)
    assert full.pages_written == [] and full.assets_written == []
    assert len(site.emu.asset_log) == requests
    assert tree(site.out) == before
    # the --report file carries the counts
    report_file = site.folder / "report.json"
    site.build(full=True, report=report_file)
    data = json.loads(report_file.read_text())
    assert (data["assets_downloaded"], data["assets_encoded"]) == (0, 0)


def test_changing_one_assets_url_rerenders_exactly_its_pages_and_fetches_one_file(
    site, cdn_emulator, tmp_path
) -> None:
    cdn, emu = cdn_emulator
    site.build()
    with Builder(site.config, BuildOptions()) as builder:
        # its pages: those that show the item holding it (its own page, the sitemap with the
        # item's last-modified date, the home page listing it)
        its_pages = builder.state.dependants({keys.item("first", EN)})
    assert "articles/first/index.html" in its_pages
    assert "articles/second/index.html" not in its_pages
    old = site.out / "assets" / FILE_IDS["photo-1.jpg"] / "photo-1.jpg"
    assert old.is_file()
    emu.asset_log.clear()
    changed = site.item("first")
    changed["elements"]["hero"]["value"] = [cdn.value("photo-1b.jpg")]
    emu.upsert_item(changed)
    report = site.build()
    assert report.incremental
    assert report.pages_rendered == sorted(its_pages)
    assert [path for path, status in emu.asset_log] == [
        f"/assets/{ENV}/{FILE_IDS['photo-1b.jpg']}/photo-1b.jpg"
    ]
    assert report.assets_downloaded == 1
    assert not old.exists() and not (site.out / "assets" / FILE_IDS["photo-1.jpg"]).exists()
    # ... but kept in the cache ([assets] keep_days = 30)
    assert AssetCache(site.config.state_dir / "assets").get(cdn.url("photo-1.jpg")) is not None
    first = pages(site.out)["articles/first/index.html"]
    assert "photo-1b.jpg" in first and "photo-1.jpg" not in first
    check_local_images(site.out)
    # the same as a clean full build of the new content
    clean = tmp_path / "clean"
    shutil.copytree(site.folder, clean, ignore=shutil.ignore_patterns("public", ".kontent-ssg"))
    with Builder(load_config(clean, env={}), BuildOptions(workers=1)) as builder:
        builder.build()
    assert tree(site.out) == tree(clean / "public")


def test_fault_injection_on_asset_requests_ends_byte_identical(cdn_emulator, tmp_path) -> None:
    _, emu = cdn_emulator
    clean = Site(tmp_path / "clean", emu)
    clean.build()
    for n, faults in enumerate(
        (
            Faults(rate_limit_every=2, retry_after=0),
            Faults(server_error_every=2),
            Faults(drop_every=3),
        )
    ):
        emu.asset_faults = faults
        faulty = Site(tmp_path / f"faulty-{n}", emu)
        faulty.build()
        assert tree(faulty.out) == tree(clean.out)
        assert any(status != 200 for _, status in emu.asset_log)
        emu.asset_faults = None
        emu.asset_log.clear()


def test_a_failed_download_fails_the_build_and_leaves_the_output(site, cdn_emulator) -> None:
    cdn, emu = cdn_emulator
    site.build()
    before = tree(site.out)
    changed = site.item("second")
    missing = cdn.value("photo-2.jpg")
    missing["url"] = missing["url"].replace("photo-2.jpg", "gone.jpg")
    changed["elements"]["hero"]["value"] = [missing]
    emu.upsert_item(changed)
    emu.asset_files[f"/assets/{ENV}/{FILE_IDS['photo-2.jpg']}/gone.jpg"] = None
    with pytest.raises(AssetError) as info:
        site.build()
    assert "gone.jpg" in info.value.message and "HTTP 404" in info.value.message
    assert "second (en-US) element hero" in info.value.message
    assert info.value.exit_code == 1
    assert tree(site.out) == before


def test_on_missing_link_keeps_the_cdn_url_with_a_warning_then_recovers(
    tmp_path, cdn_emulator
) -> None:
    cdn, emu = cdn_emulator
    site = Site(tmp_path / "site", emu, assets='on_missing = "link"')
    path = f"/assets/{ENV}/{FILE_IDS['photo-2.jpg']}/photo-2.jpg"
    emu.asset_files[path] = b"x"  # the API says otherwise: a size mismatch, every time
    report = site.build()
    second = pages(site.out)["articles/second/index.html"]
    assert cdn.url("photo-2.jpg") in second
    assert any(
        "page /articles/second/" in w and "photo-2.jpg" in w and "links to the CDN" in w
        for w in report.warnings
    ), report.warnings
    with pytest.raises(StrictError):
        site.build(strict=True)
    del emu.asset_files[path]
    fixed = site.build()  # nothing changed in the content: the asset is retried
    assert fixed.pages_rendered == ["articles/second/index.html"]
    assert fixed.assets_downloaded == 1 and fixed.warnings == []
    assert cdn.url("photo-2.jpg") not in pages(site.out)["articles/second/index.html"]


def test_an_asset_over_max_bytes_is_refused(tmp_path, cdn_emulator) -> None:
    _, emu = cdn_emulator
    site = Site(tmp_path / "site", emu, assets="max_bytes = 20000")
    with pytest.raises(AssetError) as info:
        site.build()
    assert "over [assets] max_bytes (20000)" in info.value.message
    assert "max_bytes" in (info.value.hint or "")
    assert not site.out.exists()


def test_offline_build_uses_the_cache(site) -> None:
    site.build()
    before = tree(site.out)
    shutil.rmtree(site.out)
    report = site.build(offline=True, full=True)
    assert (report.assets_downloaded, report.assets_encoded) == (0, 0)
    assert tree(site.out) == before


def test_pages_record_asset_keys(site) -> None:
    site.build()
    with Builder(site.config, BuildOptions()) as builder:
        keys = builder.state.deps_of("articles/first/index.html")
    assert f"asset:{site.emu.url}/assets/{ENV}/{FILE_IDS['photo-1.jpg']}/photo-1.jpg" in keys
    assert any(k.startswith("asset:") and k.endswith(" w300") for k in keys)


def test_serve_shows_local_images(site) -> None:
    """`kontent-ssg serve` (a real process) builds with the assets and serves them."""
    from tests.support.net import wait_for
    from tests.support.serve_process import ServeProcess

    serve = ServeProcess(site.folder, log=site.folder / "serve.log")
    get = serve.get
    try:
        page = wait_for(lambda: get("/articles/second/"), what="serve up")
        assert page.status_code == 200
        srcs = re.findall(r'<img[^>]* src="([^"]+)"', page.text)
        assert srcs and all(src.startswith("/assets/") for src in srcs)
        for src in srcs:
            image = get(src)
            assert image is not None and image.status_code == 200, src
            assert image.headers["content-type"].startswith("image/")
            with Image.open(io.BytesIO(image.content)) as img:
                img.verify()
    finally:
        serve.stop()


def test_under_a_base_path_every_asset_url_is_served_there(tmp_path, cdn_emulator) -> None:
    """base_url with a path (a GitHub Pages project site): asset URLs are under it too, and
    the link check of written pages finds them."""
    _, emu = cdn_emulator
    site = Site(tmp_path / "site", emu, base="/docs")
    report = site.build()
    assert report.broken_links == [] and report.warnings == []
    assert check_local_images(site.out, base="/docs") >= 12
    first = pages(site.out)["articles/first/index.html"]
    assert f'href="/docs/assets/{FILE_IDS["doc.pdf"]}/doc.pdf"' in first
    assert REMOTE.findall("\n".join(pages(site.out).values())) == []
