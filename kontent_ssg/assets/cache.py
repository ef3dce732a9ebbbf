"""The asset cache: ``SITE/.kontent-ssg/assets/``, shared by every build of the site.

::

    objects/<sha256[:2]>/<sha256>              downloaded files, by content
    variants/<key[:2]>/<key>.<ext>             image variants; key = hash(original sha256,
                                               transformation, RECIPE)
    index.json                                 URL -> (sha256, size, format, width, height,
                                               animated, day last used); variant -> day last used

A file is written to a temporary name and renamed into place, so a crash leaves either no
file or a whole one; the index is rewritten (atomically) only when it changed. An entry no
build used for ``[assets] keep_days`` is pruned with its file (an object only once no URL
uses it). Changing :data:`RECIPE` (how variants are encoded) makes every variant new.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..content.snapshot import atomic_write_bytes
from .images import ImageFacts
from .naming import FORMAT_EXTENSIONS, VariantSpec

__all__ = ["RECIPE", "AssetCache", "CachedAsset"]

INDEX_FORMAT = 1
#: Bump when :func:`~.images.encode_variant` changes what it writes.
RECIPE = "pillow-1"


def today() -> int:
    return int(time.time() // 86400)


@dataclass(frozen=True)
class CachedAsset:
    """A downloaded file and what it is."""

    url: str
    sha256: str
    size: int
    format: str | None
    width: int | None
    height: int | None
    animated: bool = False

    @property
    def facts(self) -> ImageFacts:
        return ImageFacts(self.format, self.width, self.height, self.animated)


class AssetCache:
    """The cache folder of one site (used by the building process only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.objects = folder / "objects"
        self.variants = folder / "variants"
        self._index_path = folder / "index.json"
        self._urls: dict[str, dict[str, Any]] = {}
        self._variants: dict[str, int] = {}
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self._index_path.read_bytes())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            return
        self._urls = dict(data.get("urls") or {})
        self._variants = dict(data.get("variants") or {})

    def save(self) -> None:
        if not self._dirty:
            return
        data = {"format": INDEX_FORMAT, "urls": self._urls, "variants": self._variants}
        atomic_write_bytes(self._index_path, json.dumps(data, sort_keys=True).encode("utf-8"))
        self._dirty = False

    # -- originals --------------------------------------------------------------------------

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def get(self, url: str) -> CachedAsset | None:
        """The cached file of ``url`` (None when never downloaded, or its file went)."""
        entry = self._urls.get(url)
        if entry is None:
            return None
        found = CachedAsset(
            url,
            entry["sha256"],
            entry["size"],
            entry.get("format"),
            entry.get("width"),
            entry.get("height"),
            bool(entry.get("animated")),
        )
        try:
            if os.stat(self.object_path(found.sha256)).st_size != found.size:
                return None
        except OSError:
            return None
        return found

    def put(self, url: str, tmp: Path, sha256: str, size: int, facts: ImageFacts) -> CachedAsset:
        """Move a downloaded file into place and index it."""
        path = self.object_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
        entry = CachedAsset(
            url, sha256, size, facts.format, facts.width, facts.height, facts.animated
        )
        record = asdict(entry)
        del record["url"]
        record["used"] = today()
        self._urls[url] = record
        self._dirty = True
        return entry

    def touch(self, urls: set[str], variant_keys: set[str]) -> None:
        """Note that this build used these URLs and variants (for :meth:`prune`)."""
        day = today()
        for url in urls:
            entry = self._urls.get(url)
            if entry is not None and entry.get("used") != day:
                entry["used"] = day
                self._dirty = True
        for key in variant_keys:
            if key in self._variants and self._variants[key] != day:
                self._variants[key] = day
                self._dirty = True

    # -- variants ---------------------------------------------------------------------------

    def variant_key(self, sha256: str, spec: VariantSpec, fm: str) -> str:
        text = f"{sha256}|{spec.token}|{fm}|{RECIPE}"
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def variant_path(self, key: str, fm: str) -> Path:
        return self.variants / key[:2] / f"{key}.{FORMAT_EXTENSIONS[fm]}"

    def has_variant(self, key: str, fm: str) -> bool:
        return key in self._variants and self.variant_path(key, fm).is_file()

    def put_variant(self, key: str, fm: str, data: bytes) -> Path:
        path = self.variant_path(key, fm)
        atomic_write_bytes(path, data)
        self._variants[key] = today()
        self._dirty = True
        return path

    # -- pruning ----------------------------------------------------------------------------

    def prune(self, keep_days: int) -> int:
        """Remove what no build used for more than ``keep_days`` days; how many files went."""
        oldest = today() - keep_days
        removed = 0
        gone = [url for url, e in self._urls.items() if int(e.get("used") or 0) < oldest]
        for url in gone:
            del self._urls[url]
        if gone:
            self._dirty = True
            still = {e["sha256"] for e in self._urls.values()}
            for url_sha in {sha for sha in self._objects_on_disk() if sha not in still}:
                self.object_path(url_sha).unlink(missing_ok=True)
                removed += 1
        stale = [k for k, day in self._variants.items() if int(day) < oldest]
        for key in stale:
            del self._variants[key]
            for path in (self.variants / key[:2]).glob(f"{key}.*"):
                path.unlink(missing_ok=True)
                removed += 1
        if stale:
            self._dirty = True
        # downloads a killed build left behind
        if self.objects.is_dir():
            for part in self.objects.glob(".*.part"):
                try:
                    if part.stat().st_mtime < time.time() - 86400:
                        part.unlink()
                except OSError:
                    pass
        return removed

    def _objects_on_disk(self) -> list[str]:
        if not self.objects.is_dir():
            return []
        return [p.name for p in self.objects.glob("*/*") if not p.name.startswith(".")]
