"""Assets, piece by piece: safe names, variant arithmetic, Pillow variants, the fetcher."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from kontent_ssg.assets.cache import AssetCache
from kontent_ssg.assets.fetch import AssetFetcher
from kontent_ssg.assets.images import (
    ImageFacts,
    encode_variant,
    open_oriented,
    probe,
    variant_size,
)
from kontent_ssg.assets.local import Localizer, Original, collect
from kontent_ssg.assets.naming import (
    VariantSpec,
    asset_id,
    original_path,
    parse_key,
    safe_file_name,
    variant_path,
)
from kontent_ssg.config import ImageConfig
from kontent_ssg.content.delivery import RetryPolicy
from kontent_ssg.errors import AssetError
from tests.support.assets import asset_bytes
from tests.support.emulator import Emulator, Faults
from tests.support.sites import snapshot

GUID = "3f1c2e0a-1111-4222-8333-444455556666"
CDN = f"https://assets-us-01.kc-usercontent.com/env-1/{GUID}"


# -- names -----------------------------------------------------------------------------------


def test_paths_come_from_the_file_id_and_a_sanitised_name() -> None:
    assert original_path("assets", f"{CDN}/Photo%20of%20k%C3%A1v%C3%A9.JPG") == (
        f"assets/{GUID}/Photo-of-kave.JPG"
    )
    assert asset_id("https://example.org/a/b/c.png?x=1") == "b"
    weird = asset_id("https://example.org/c.png")
    assert len(weird) == 16 and weird.isalnum()
    spec = VariantSpec(w=640, h=480, fit="crop", q=80, fm="webp")
    assert variant_path("assets", f"{CDN}/photo.jpg", spec) == (
        f"assets/{GUID}/w640-h480-crop-q80-webp/photo.webp"
    )
    assert VariantSpec.from_token(spec.token) == spec
    assert parse_key(f"asset:{CDN}/photo.jpg w640-webp") == (
        f"{CDN}/photo.jpg",
        VariantSpec(w=640, fm="webp"),
    )
    assert parse_key(f"asset:{CDN}/photo.jpg") == (f"{CDN}/photo.jpg", None)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("..%2F..%2Fetc%2Fpasswd", "etc-passwd"),
        ("../secret.png", "secret.png"),
        ("%2e%2e", "file"),
        (".htaccess", "htaccess"),
        ("a%00b%0a%1fc.png", "a-b-c.png"),
        ("a\\b.png", "a-b.png"),
        ("", "file"),
        ("x" * 300 + ".jpeg", "x" * 115 + ".jpeg"),
        ("a..b.tar.gz", "a-b.tar.gz"),
    ],
)
def test_file_names_are_sanitised(raw: str, safe: str) -> None:
    assert safe_file_name(raw) == safe


@given(st.text())
def test_any_name_is_one_safe_path_segment(raw: str) -> None:
    name = safe_file_name(raw)
    assert name and len(name) <= 120
    assert name not in (".", "..") and not name.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)


# -- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        (VariantSpec(w=400), (400, 250)),
        (VariantSpec(h=250), (400, 250)),
        (VariantSpec(w=4000), (1600, 1000)),  # never upscaled
        (VariantSpec(w=400, h=400), (400, 250)),  # clip: fits inside
        (VariantSpec(w=400, h=400, fit="crop"), (400, 400)),
        (VariantSpec(w=400, h=100, fit="scale"), (400, 100)),
        (VariantSpec(w=3200, h=1000, fit="crop"), (1600, 500)),  # scaled down to fit
    ],
)
def test_variant_sizes(spec: VariantSpec, size: tuple[int, int]) -> None:
    assert variant_size(1600, 1000, spec) == size


def _facts_and_image(data: bytes, tmp_path: Path, name: str) -> tuple[ImageFacts, Image.Image]:
    path = tmp_path / name
    path.write_bytes(data)
    return probe(path), open_oriented(path)


@pytest.mark.parametrize(
    "spec",
    [
        VariantSpec(w=320),
        VariantSpec(w=200, h=200, fit="crop", fm="webp", q=70),
        VariantSpec(w=300, h=100, fit="scale", fm="png8"),
        VariantSpec(w=100, fm="avif"),
        VariantSpec(w=100, fm="pjpg"),
        VariantSpec(w=100, fm="gif"),
    ],
)
def test_variants_have_the_size_and_format_asked(spec: VariantSpec, tmp_path: Path) -> None:
    facts, image = _facts_and_image(asset_bytes("p.png", 800, 500), tmp_path, "p.png")
    data = encode_variant(image, facts, spec)
    with Image.open(io.BytesIO(data)) as out:
        assert out.size == variant_size(800, 500, spec)
        expected = {"webp": "WEBP", "png8": "PNG", "avif": "AVIF", "pjpg": "JPEG", "gif": "GIF"}
        assert out.format == expected.get(spec.fm or "", "PNG")
    # the same input gives the same bytes (the output stays byte-identical across builds)
    assert encode_variant(image, facts, spec) == data


def test_animated_gif_and_svg_are_not_transformed(tmp_path: Path) -> None:
    gif, _ = _facts_and_image(asset_bytes("a.gif", 30, 20, frames=2), tmp_path, "a.gif")
    assert gif.animated and not gif.transformable
    still, _ = _facts_and_image(asset_bytes("s.gif", 30, 20), tmp_path, "s.gif")
    assert still.transformable
    svg = tmp_path / "l.svg"
    svg.write_bytes(asset_bytes("l.svg", 200, 100))
    assert probe(svg) == ImageFacts("SVG", 200, 100)
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(asset_bytes("d.pdf"))
    assert probe(pdf) == ImageFacts(None, None, None)
    localizer = Localizer(
        "assets", {f"{CDN}/a.gif": Original(f"{CDN}/a.gif", "assets/x/a.gif", gif)}
    )
    keys: list[str] = []
    assert localizer.image_url(f"{CDN}/a.gif", keys.append, w=10) == "/assets/x/a.gif"
    assert localizer.figure(f"{CDN}/a.gif", ImageConfig(), keys.append) == (
        "/assets/x/a.gif",
        "",
        30,
        20,
    )


def test_exif_orientation_applied_and_metadata_stripped(tmp_path: Path) -> None:
    data = asset_bytes("t.jpg", 60, 40, orientation=6, exif_note="secret")
    facts, image = _facts_and_image(data, tmp_path, "t.jpg")
    assert (facts.width, facts.height) == (60, 40)
    out = Image.open(io.BytesIO(encode_variant(image, facts, VariantSpec(w=30))))
    assert out.size == (30, 20)
    assert dict(out.getexif()) == {}
    assert out.convert("RGB").getpixel((1, 1))[0] > 200  # the mark is top left: upright


def test_localizer_sizes_and_keys() -> None:
    url = f"{CDN}/photo.jpg"
    found = Original(url, f"assets/{GUID}/photo.jpg", ImageFacts("JPEG", 1000, 500))
    localizer = Localizer("assets", {url: found})
    keys: list[str] = []
    src, srcset, width, height = localizer.figure(
        url, ImageConfig(widths=(320, 640, 1280), format="webp", quality=70), keys.append
    ) or ("", "", 0, 0)
    assert (width, height) == (1000, 500)
    assert src == f"/assets/{GUID}/q70-webp/photo.webp"
    assert srcset == (
        f"/assets/{GUID}/w320-q70-webp/photo.webp 320w, "
        f"/assets/{GUID}/w640-q70-webp/photo.webp 640w, {src} 1000w"
    )
    assert f"asset:{url}" in keys and f"asset:{url} w320-q70-webp" in keys
    # no transformation, or one that gives the original: the original itself
    assert localizer.image_url(url, keys.append) == found.local_url
    assert localizer.image_url(url, keys.append, w=2000, fm="jpg") == found.local_url
    # the local URL maps back (templates pass asset.url to image_url)
    assert localizer.image_url(found.local_url, keys.append, w=0.5) == (
        f"/assets/{GUID}/w500/photo.jpg"
    )
    files = localizer.files_for(keys)
    assert files[f"assets/{GUID}/w320-q70-webp/photo.webp"] == (
        found,
        VariantSpec(w=320, q=70, fm="webp"),
    )


def test_collect_finds_asset_elements_images_and_asset_links() -> None:
    item = {
        "system": {"codename": "a"},
        "elements": {
            "hero": {"type": "asset", "value": [{"url": f"{CDN}/h.jpg", "size": 10}]},
            "body": {
                "type": "rich_text",
                "value": f'<p><a data-asset-id="x" href="{CDN}/d.pdf?a=1&amp;b=2">d</a>'
                '<a href="https://example.org/">not an asset</a></p>',
                "images": {"i": {"url": f"{CDN}/i.png"}},
            },
            "bad": {"type": "asset", "value": [{"url": "javascript:alert(1)"}]},
        },
    }
    found = collect([("en-US", item)])
    assert set(found) == {f"{CDN}/h.jpg", f"{CDN}/d.pdf?a=1&b=2", f"{CDN}/i.png"}
    assert found[f"{CDN}/h.jpg"].size == 10
    assert found[f"{CDN}/i.png"].where == "a (en-US) element body"


# -- fetching and the cache ----------------------------------------------------------------


def _fetcher(**options: object) -> AssetFetcher:
    retry = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05)
    return AssetFetcher(retry=retry, **options)  # type: ignore[arg-type]


@pytest.fixture
def cdn():  # type: ignore[no-untyped-def]
    with Emulator(snapshot({"en-US": []})) as emu:
        emu.asset_files["/assets/x/1/photo.png"] = asset_bytes("photo.png", 64, 48)
        yield emu


def test_fetch_retries_429_503_and_dropped_connections(cdn, tmp_path: Path) -> None:
    url = f"{cdn.url}/assets/x/1/photo.png"
    data = cdn.asset_files["/assets/x/1/photo.png"]
    for faults in (
        Faults(rate_limit_every=1, retry_after=0),
        Faults(server_error_every=1),
        Faults(drop_every=1),
    ):
        cdn.asset_faults = faults
        fetcher = _fetcher(max_bytes=10**6)
        with pytest.raises(AssetError, match="gave up after 6 attempts"):
            fetcher.fetch(url, tmp_path, len(data))
        cdn.asset_faults = Faults(**{**faults.__dict__, **_every(faults, 2)})
        cdn.asset_log.clear()
        attempts = 0
        for _ in range(2):  # every other request fails: at least one is tried again
            fetched = _fetcher(max_bytes=10**6).fetch(url, tmp_path, len(data))
            assert fetched.tmp.read_bytes() == data
            attempts += fetched.attempts
        assert attempts == len(cdn.asset_log) >= 3
        assert [status for _, status in cdn.asset_log].count(200) == 2
        cdn.asset_faults = None
    # failed attempts leave nothing behind; each download is the caller's to move
    assert len(list(tmp_path.glob(".*.part"))) == 6


def _every(faults: Faults, n: int) -> dict[str, int]:
    return {
        k: n for k in ("rate_limit_every", "server_error_every", "drop_every") if getattr(faults, k)
    }


def test_fetch_refuses_what_is_over_max_bytes_or_of_the_wrong_size(cdn, tmp_path: Path) -> None:
    url = f"{cdn.url}/assets/x/1/photo.png"
    size = len(cdn.asset_files["/assets/x/1/photo.png"])
    with pytest.raises(AssetError, match=r"over \[assets\] max_bytes \(100\)"):
        _fetcher(max_bytes=100).fetch(url, tmp_path)
    with pytest.raises(AssetError, match="the API gives its size as"):
        _fetcher(max_bytes=10**6).fetch(url, tmp_path, size + 1)
    with pytest.raises(AssetError, match="HTTP 404"):
        _fetcher(max_bytes=10**6).fetch(f"{cdn.url}/assets/x/1/none.png", tmp_path)
    assert list(tmp_path.glob(".*.part")) == []


def test_cache_prunes_what_no_build_used(tmp_path: Path) -> None:
    cache = AssetCache(tmp_path / "assets")
    tmp = tmp_path / "download"
    tmp.write_bytes(b"data")
    cache.put("https://x/a", tmp, "ab" * 32, 4, ImageFacts(None, None, None))
    key = cache.variant_key("ab" * 32, VariantSpec(w=1), "png")
    cache.put_variant(key, "png", b"png")
    cache.save()
    again = AssetCache(tmp_path / "assets")
    assert again.get("https://x/a") is not None and again.has_variant(key, "png")
    assert again.prune(keep_days=1) == 0
    again._urls["https://x/a"]["used"] -= 2
    again._variants[key] -= 2
    assert again.prune(keep_days=1) == 2
    assert again.get("https://x/a") is None and not again.has_variant(key, "png")
