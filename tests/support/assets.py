"""Asset files for tests: deterministic images of a given size, an SVG and a PDF.

The emulator serves these at asset URLs (``Emulator.asset_url``): the bytes follow from the
file's type, size and name alone, so a test can compute the size the Delivery API reports
for an asset element (``asset_value``) before any server runs, and every run of the emulator
serves the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image, ImageDraw

__all__ = ["asset_bytes", "asset_value", "image_meta", "mime_of"]

JSON = dict[str, Any]

_MIMES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}


def mime_of(name: str) -> str:
    return _MIMES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _colour(name: str, salt: int = 0) -> tuple[int, int, int]:
    digest = hashlib.sha256(f"{name}|{salt}".encode()).digest()
    return digest[0], digest[1], digest[2]


def _picture(name: str, width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A two-colour picture with a diagonal and a corner mark (so orientation shows)."""
    img = Image.new(mode, (width, height), _colour(name))
    draw = ImageDraw.Draw(img)
    draw.line((0, 0, width - 1, height - 1), fill=_colour(name, 1), width=max(1, width // 40))
    draw.rectangle((0, 0, max(1, width // 5), max(1, height // 5)), fill=(250, 20, 20))
    return img


def asset_bytes(
    name: str, width: int | None = None, height: int | None = None, **extra: Any
) -> bytes:
    """The bytes of ``name`` (its extension picks the format) at ``width`` x ``height``.

    ``extra``: ``frames`` (GIF: more than 1 makes it animated), ``orientation`` (JPEG: an EXIF
    orientation tag, 3, 6 or 8; the pixels are stored turned so the displayed image is
    width x height and upright),
    ``exif_note`` (JPEG: a text to store in EXIF, to see it stripped)."""
    kind = name.rsplit(".", 1)[-1].lower()
    if kind == "pdf":
        return _pdf(name)
    if kind == "svg":
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" '
            f'fill="#{bytes(_colour(name)).hex()}"/></svg>\n'
        ).encode()
    assert width and height, "an image needs a size"
    out = io.BytesIO()
    if kind == "gif":
        frames = [
            _picture(f"{name}#{n}", width, height).convert("P")
            for n in range(extra.get("frames", 1))
        ]
        frames[0].save(
            out, "GIF", save_all=len(frames) > 1, append_images=frames[1:], duration=100, loop=0
        )
        return out.getvalue()
    if kind in ("jpg", "jpeg"):
        orientation = int(extra.get("orientation", 1))
        # Stored turned, so that applying the orientation shows the picture upright.
        img = _picture(name, width, height)
        if orientation in _STORED:
            img = img.transpose(_STORED[orientation])
        exif = Image.Exif()
        if orientation != 1:
            exif[0x0112] = orientation
        if extra.get("exif_note"):
            exif[0x010E] = str(extra["exif_note"])  # ImageDescription
        img.save(out, "JPEG", quality=90, exif=exif.tobytes())
        return out.getvalue()
    if kind == "webp":
        _picture(name, width, height).save(out, "WEBP", quality=90)
        return out.getvalue()
    _picture(name, width, height, "RGBA").save(out, "PNG")
    return out.getvalue()


# EXIF orientation -> how the upright picture is stored (the inverse of what viewers apply).
_STORED = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def _pdf(name: str) -> bytes:
    text = f"kontent-ssg test file {name}".encode()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% "
        + text
        + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def asset_value(
    url: str, width: int | None = None, height: int | None = None, **extra: Any
) -> JSON:
    """One value of an asset element, as the Delivery API gives it (size from the bytes)."""
    name = url.rsplit("/", 1)[-1]
    data = asset_bytes(name, width, height, **extra)
    image = mime_of(name).startswith("image/")
    return {
        "name": name,
        "description": f"About {name}",
        "type": mime_of(name),
        "size": len(data),
        "url": url,
        "width": width if image else None,
        "height": height if image else None,
        "renditions": {},
    }


def image_meta(image_id: str, url: str, width: int, height: int) -> JSON:
    """The ``images`` metadata of a rich-text image."""
    return {
        "image_id": image_id,
        "description": f"Image {url.rsplit('/', 1)[-1]}",
        "url": url,
        "width": width,
        "height": height,
    }
