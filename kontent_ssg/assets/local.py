"""Local assets at render time: the URL of a downloaded file or variant, and what a page used.

:func:`collect` lists every asset URL the content references (asset elements, rich-text
images, rich-text asset links); the build downloads them before rendering, so every page knows
the real size of every image it shows. :class:`Localizer` is what rendering asks (read-only,
inherited by forked render processes): the local URL of an original or of a variant (whose
size follows from the original's by :func:`~.images.variant_size`, before it exists), and it
records an ``asset:`` dependency key for each file a page uses. After rendering, the build
turns those keys back into files (:meth:`Localizer.files_for`): variants are made then, in
the building process, and every file is staged with the pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..config import ImageConfig
from .images import ImageFacts, target_fm, variant_size
from .naming import VariantSpec, asset_key, parse_key, variant_path

__all__ = ["AssetRef", "Localizer", "Original", "collect"]

JSON = dict[str, Any]
Record = Callable[[str], None]

_ASSET_LINK = re.compile(r"<a\b[^>]*\bdata-asset-id\b[^>]*>", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_BAD = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True)
class AssetRef:
    """An asset URL the content references: the size the API gives (asset elements only) and
    the first place that uses it (for messages)."""

    url: str
    size: int | None
    where: str


def downloadable(url: Any) -> bool:
    """An http(s) URL with no spaces or control characters (anything else is left alone)."""
    return (
        isinstance(url, str)
        and url.startswith(("https://", "http://"))
        and _BAD.search(url) is None
    )


def collect(items: Iterable[tuple[str, JSON]]) -> dict[str, AssetRef]:
    """Every asset URL in ``items`` ((language, item or component) pairs), first use first."""
    found: dict[str, AssetRef] = {}

    def add(url: Any, size: Any, where: Callable[[], str]) -> None:
        if not downloadable(url):
            return
        ref = found.get(url)
        if ref is None or (ref.size is None and isinstance(size, int)):
            found[url] = AssetRef(
                url, size if isinstance(size, int) and size >= 0 else None, where()
            )

    for language, raw in items:
        elements = raw.get("elements")
        if not isinstance(elements, dict):
            continue
        codename = (raw.get("system") or {}).get("codename", "?")
        for name, element in elements.items():
            if not isinstance(element, dict):
                continue
            kind = element.get("type")

            def where(name: str = name, codename: str = codename, language: str = language) -> str:
                return f"{codename} ({language}) element {name}"

            if kind == "asset":
                for value in element.get("value") or ():
                    if isinstance(value, dict):
                        add(value.get("url"), value.get("size"), where)
            elif kind == "rich_text":
                images = element.get("images")
                if isinstance(images, dict):
                    for meta in images.values():
                        if isinstance(meta, dict):
                            add(meta.get("url"), None, where)
                value = element.get("value")
                if isinstance(value, str) and "data-asset-id" in value:
                    for tag in _ASSET_LINK.findall(value):
                        href = _HREF.search(tag)
                        if href is not None:
                            add(html.unescape(href.group(1) or href.group(2) or ""), None, where)
    return found


@dataclass(frozen=True)
class Original:
    """A downloaded asset: its output path (relative to the output folder), its URL on the
    site, and what the file is."""

    url: str
    path: str
    facts: ImageFacts

    @property
    def local_url(self) -> str:
        return "/" + self.path


class Localizer:
    """Local URLs of downloaded assets and their variants, for one build's rendering.

    ``originals``: the downloaded assets by URL; ``missing``: URLs that could not be had, with
    why (``[assets] on_missing = "link"``: pages keep the CDN URL). Methods take ``record``,
    which notes a dependency key of the page being rendered.
    """

    def __init__(
        self,
        prefix: str,
        originals: dict[str, Original],
        missing: dict[str, str] | None = None,
    ) -> None:
        self.prefix = prefix
        self.originals = originals
        self.missing = dict(missing or {})
        self._by_local = {o.local_url: url for url, o in originals.items()}
        self._handed: set[str] = set()  # local URLs given to pages in this process
        # (url, options) -> figure and its keys: the same image recurs across pages
        self._figures: dict[
            tuple[str, ImageConfig], tuple[tuple[str, str, int | None, int | None], tuple[str, ...]]
        ] = {}

    def publishes(self, path: str) -> bool:
        """Whether ``path`` (a site path) is a file this process handed out to a page, which
        the build publishes (the link check of written pages asks)."""
        return path in self._handed

    def remote(self, url: str) -> str:
        """The asset URL behind a local one (templates may pass ``asset.url`` back in)."""
        return self._by_local.get(url, url)

    def original(self, url: str, record: Record) -> Original | None:
        """The downloaded asset at ``url`` (None: not downloaded, the caller keeps ``url``)."""
        url = self.remote(url)
        if not downloadable(url):
            return None
        record(asset_key(url))
        found = self.originals.get(url)
        if found is not None:
            self._handed.add(found.local_url)
        return found

    def link(self, url: str, record: Record) -> str:
        """``url`` made local when it is a downloaded asset (links, asset element values)."""
        found = self.original(url, record)
        return found.local_url if found is not None else url

    def figure(
        self, url: str, options: ImageConfig, record: Record
    ) -> tuple[str, str, int | None, int | None] | None:
        """(src, srcset, width, height) of a rich-text image from its local files, or None
        (not downloaded: the caller renders the CDN's). An image that is not made into
        variants (SVG, animated) is its own single candidate: no srcset."""
        found = self.original(url, record)
        if found is None:
            return None
        made = self._figures.get((found.url, options))
        if made is None:
            made = self._figures[(found.url, options)] = self._figure(found.url, options)
            src, srcset = made[0][0], made[0][1]
            self._handed.add(src)
            self._handed.update(c.split()[0] for c in srcset.split(", ") if c)
        result, keys = made
        for key in keys:
            record(key)
        return result

    def _figure(
        self, url: str, options: ImageConfig
    ) -> tuple[tuple[str, str, int | None, int | None], tuple[str, ...]]:
        found = self.originals[url]
        facts = found.facts
        if not facts.transformable:
            return (found.local_url, "", facts.width, facts.height), ()
        assert facts.width and facts.height
        fm = target_fm(facts, options.format)
        keys: list[str] = []
        src = self._variant(found, VariantSpec(fm=fm, q=options.quality), keys.append)
        parts = [
            f"{self._variant(found, VariantSpec(w=w, fm=fm, q=options.quality), keys.append)} {w}w"
            for w in options.widths
            if w < facts.width
        ]
        parts.append(f"{src} {facts.width}w")
        return (src, ", ".join(parts), facts.width, facts.height), tuple(keys)

    def image_url(
        self,
        url: str,
        record: Record,
        w: float | None = None,
        h: float | None = None,
        fit: str | None = None,
        fm: str | None = None,
        q: int | None = None,
    ) -> str | None:
        """The ``image_url`` filter on a downloaded asset (parameters already checked); None
        when ``url`` was not downloaded."""
        found = self.original(url, record)
        if found is None:
            return None
        facts = found.facts
        if not facts.transformable:
            return found.local_url
        assert facts.width and facts.height
        spec = VariantSpec(
            w=_pixels(w, facts.width),
            h=_pixels(h, facts.height),
            fit=fit if w and h else None,
            fm=target_fm(facts, fm),
            q=q,
        )
        return self._variant(found, spec, record)

    def _variant(self, found: Original, spec: VariantSpec, record: Record) -> str:
        """The local URL of ``spec`` made from ``found`` (the original itself when the
        transformation changes nothing), its key recorded."""
        facts = found.facts
        assert facts.width and facts.height
        made = _normalised(facts, spec)
        if made is None:
            return found.local_url
        record(asset_key(found.url, made))
        local = "/" + variant_path(self.prefix, found.url, made)
        self._handed.add(local)
        return local

    # -- after rendering ---------------------------------------------------------------------

    def files_for(self, keys: Iterable[str]) -> dict[str, tuple[Original, VariantSpec | None]]:
        """Output path -> (original, variant or None) of every file the ``asset:`` keys name
        (keys of assets that were not downloaded name none)."""
        out: dict[str, tuple[Original, VariantSpec | None]] = {}
        for key in keys:
            url, spec = parse_key(key)
            found = self.originals.get(url)
            if found is None:
                continue
            if spec is None:
                out[found.path] = (found, None)
            else:
                out[variant_path(self.prefix, url, spec)] = (found, spec)
        return out

    def page_warnings(self, page_url: str, keys: Iterable[str]) -> list[str]:
        """What a page should be told about the assets it used that are not local."""
        warnings = []
        for key in sorted(keys):
            if not key.startswith("asset:") or " " in key:
                continue
            url = key[len("asset:") :]
            if url in self.originals:
                continue
            why = self.missing.get(url)
            if why is not None:
                warnings.append(
                    f"page {page_url}: asset {url} could not be downloaded ({why}); the page "
                    "links to the CDN"
                )
            else:
                warnings.append(
                    f"page {page_url}: {url} is not an asset the content references, so it "
                    "was not downloaded; the page links to it"
                )
        return warnings


def _pixels(value: float | None, full: int) -> int | None:
    """A ``w``/``h`` in pixels: fractions below 1 are of the original's size."""
    if value is None:
        return None
    if isinstance(value, float) and 0 < value < 1:
        return max(1, round(full * value))
    return max(1, round(value))


def _normalised(facts: ImageFacts, spec: VariantSpec) -> VariantSpec | None:
    """``spec`` in the pixels and format it comes out in, so equal outputs share one file;
    None when the result would be the original itself."""
    assert facts.width and facts.height
    width, height = variant_size(facts.width, facts.height, spec)
    fm = spec.fm if spec.fm != facts.fm else None
    resized = (width, height) != (facts.width, facts.height)
    if not resized and fm is None and spec.q is None:
        return None
    if not resized:
        return VariantSpec(fm=fm, q=spec.q)
    if spec.w and spec.h and spec.fit in ("crop", "scale"):
        return VariantSpec(w=width, h=height, fit=spec.fit, fm=fm, q=spec.q)
    if spec.h and (not spec.w or spec.h / facts.height < spec.w / facts.width):
        return VariantSpec(h=height, fm=fm, q=spec.q)
    return VariantSpec(w=width, fm=fm, q=spec.q)
