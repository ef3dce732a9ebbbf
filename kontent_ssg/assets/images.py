"""Image facts and image variants, with Pillow.

:func:`probe` reads what the HTML needs from a downloaded file (format, width and height as
displayed, i.e. after EXIF orientation, and whether it is animated) without decoding pixels.
:func:`variant_size` is the Image Transformation API's arithmetic for ``w``/``h``/``fit``, so a
page can state a variant's size before the variant exists; :func:`make_variants` then makes
them. Rules:

- never larger than the original: a target above it is scaled down to fit, keeping the
  target's aspect ratio (the CDN would upscale; a static site would only ship bigger files);
- ``fit=clip`` (the default) fits inside ``w`` x ``h``; ``scale`` stretches to exactly that;
  ``crop`` covers it and cuts the centre out;
- only JPEG, PNG, WebP, still GIF and AVIF are transformed (what the CDN transforms, plus
  AVIF); SVGs, animated images and other files are published as they are;
- EXIF orientation is applied and metadata is not carried over (EXIF, XMP, text chunks); the
  ICC colour profile is kept, since dropping it changes colours;
- ``fm`` picks the output format where Pillow can write it (:data:`WRITABLE`), else the
  original's is kept; ``q`` defaults to :data:`DEFAULT_QUALITY` for lossy formats.

Each variant is made from the fully decoded original (no JPEG draft mode): the bytes of a
variant then do not depend on which other variants were made alongside it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .naming import VariantSpec

__all__ = [
    "DEFAULT_QUALITY",
    "WRITABLE",
    "ImageFacts",
    "encode_variant",
    "probe",
    "variant_size",
]

DEFAULT_QUALITY = 85
#: Source formats made into variants; anything else is published as it is.
TRANSFORMABLE = frozenset({"JPEG", "PNG", "WEBP", "GIF", "AVIF"})
_PIL_FORMATS = {
    "jpg": "JPEG",
    "pjpg": "JPEG",
    "png": "PNG",
    "png8": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "avif": "AVIF",
}
_FM_OF = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "AVIF": "avif"}


def _writable() -> frozenset[str]:
    from PIL import features

    found = {"jpg", "pjpg", "png", "png8", "gif"}
    if features.check("webp"):
        found.add("webp")
    if features.check("avif"):
        found.add("avif")
    return frozenset(found)


#: ``fm`` values this machine's Pillow can write.
WRITABLE = _writable()


@dataclass(frozen=True)
class ImageFacts:
    """What a downloaded file is: ``format`` a Pillow format name ("SVG" for SVG, None for a
    file that is no image), its displayed size, and whether variants can be made of it."""

    format: str | None
    width: int | None
    height: int | None
    animated: bool = False

    @property
    def transformable(self) -> bool:
        return (
            self.format in TRANSFORMABLE
            and not self.animated
            and bool(self.width)
            and bool(self.height)
        )

    @property
    def fm(self) -> str | None:
        """The original's format as an ``fm`` value (None when it is not one)."""
        return _FM_OF.get(self.format or "")


_SVG_SIZE = re.compile(rb"<svg\b[^>]*>", re.S)
_ATTR = re.compile(rb'\b(width|height|viewBox)\s*=\s*["\']([^"\']*)["\']')


def _svg_facts(head: bytes) -> ImageFacts | None:
    tag = _SVG_SIZE.search(head)
    if tag is None:
        return None
    attrs = {k.decode(): v.decode("ascii", "replace") for k, v in _ATTR.findall(tag.group(0))}

    def px(value: str | None) -> int | None:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*", value or "")
        return round(float(match.group(1))) if match else None

    width, height = px(attrs.get("width")), px(attrs.get("height"))
    if (width is None or height is None) and attrs.get("viewBox"):
        box = attrs["viewBox"].replace(",", " ").split()
        if len(box) == 4:
            try:
                width, height = round(float(box[2])), round(float(box[3]))
            except ValueError:
                pass
    return ImageFacts("SVG", width or None, height or None)


def probe(path: Path) -> ImageFacts:
    """Format, displayed size and animation of the file at ``path`` (headers only)."""
    from PIL import Image, UnidentifiedImageError

    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"<svg" in head and head.lstrip()[:1] == b"<":
        return _svg_facts(head) or ImageFacts("SVG", None, None)
    try:
        with Image.open(path) as img:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            animated = bool(getattr(img, "is_animated", False))
            return ImageFacts(img.format, width, height, animated)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return ImageFacts(None, None, None)


def variant_size(width: int, height: int, spec: VariantSpec) -> tuple[int, int]:
    """The size of ``spec`` made from a ``width`` x ``height`` original (see the module doc)."""
    w, h = spec.w, spec.h
    if w and h:
        if spec.fit in ("crop", "scale"):
            over = max(w / width, h / height, 1.0)
            return max(1, round(w / over)), max(1, round(h / over))
        scale = min(w / width, h / height, 1.0)
        return max(1, round(width * scale)), max(1, round(height * scale))
    if w:
        w = min(w, width)
        return w, max(1, round(height * w / width))
    if h:
        h = min(h, height)
        return max(1, round(width * h / height)), h
    return width, height


def target_fm(facts: ImageFacts, fm: str | None) -> str | None:
    """The ``fm`` a variant is written in: the one asked for when this machine can write it,
    else None (the original's format)."""
    if fm is None or fm not in WRITABLE:
        return None
    return fm


def encode_variant(source: Any, facts: ImageFacts, spec: VariantSpec) -> bytes:
    """``spec`` made from ``source`` (a decoded, EXIF-oriented Pillow image of the original)."""
    from PIL import Image, ImageOps

    assert facts.width and facts.height
    size = variant_size(facts.width, facts.height, spec)
    fm = spec.fm or facts.fm or "png"
    fmt = _PIL_FORMATS[fm]
    img = source
    if img.mode in ("P", "1", "I;16", "I", "F") or (img.mode == "LA" and fmt == "JPEG"):
        img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    if size != img.size:
        if spec.fit == "crop" and spec.w and spec.h:
            img = ImageOps.fit(img, size, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        else:
            img = img.resize(size, Image.Resampling.LANCZOS)
    quality = spec.q or DEFAULT_QUALITY
    options: dict[str, Any] = {}
    icc = source.info.get("icc_profile")
    if icc and fmt in ("JPEG", "PNG", "WEBP", "AVIF"):
        options["icc_profile"] = icc
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = _flatten(img)
        options.update(quality=quality, progressive=fm == "pjpg")
    elif fmt == "WEBP" or fmt == "AVIF":
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if _has_alpha(img) else "RGB")
        options.update(quality=quality)
    elif fmt == "GIF" or fm == "png8":
        img = img.convert("RGBA").quantize(256, method=Image.Quantize.FASTOCTREE)
    elif fmt == "PNG" and img.mode == "CMYK":
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def open_oriented(path: Path) -> Any:
    """The original decoded and turned upright (EXIF orientation applied)."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img.load()
        upright = ImageOps.exif_transpose(img)
        if upright is None or upright is img:
            upright = img.copy()
    upright.info.pop("exif", None)
    return upright


def _has_alpha(img: Any) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def _flatten(img: Any) -> Any:
    from PIL import Image

    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
