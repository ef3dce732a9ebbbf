"""The asset steps of a build (``[site] download_assets``), as the pipeline calls them.

Before rendering, :meth:`AssetStage.prepare` downloads what the content references and is
not cached yet (concurrently, with the crawl's retry policy) and returns the
:class:`~.local.Localizer` the render processes use. After rendering,
:meth:`AssetStage.files` turns the ``asset:`` keys of every page of the site into files,
making the image variants not cached yet (in this process, on threads: Pillow lets go of the
interpreter lock while it decodes, resizes and encodes), and the pipeline stages them with the
pages. Why download before and encode after: a page must state the real size of each image,
which needs the downloaded file, while which variants exist is only known once the templates
ran (``image_url``); a variant's size follows from the original's without making it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import AssetError
from .cache import AssetCache, CachedAsset
from .images import encode_variant, open_oriented, probe
from .local import AssetRef, Localizer, Original, collect
from .naming import VariantSpec, asset_key, original_path

__all__ = ["ENCODE_THREADS", "AssetStage", "stale_keys"]

JSON = dict[str, Any]
#: Threads making variants (Pillow releases the interpreter lock in its C loops).
ENCODE_THREADS = 4


class AssetStage:
    """One build's assets. ``downloaded`` and ``encoded`` count this build's work."""

    def __init__(
        self,
        config: Config,
        *,
        offline: bool = False,
        transport: Any = None,
        on_retry: Callable[[Any], None] | None = None,
        dead_hosts: Any = None,
        progress: Any = None,
    ) -> None:
        self.config = config
        self.offline = offline
        self.transport = transport
        self.on_retry = on_retry
        self.dead_hosts = dead_hosts
        self.progress = progress
        self.prefix = config.assets.path.lstrip("/")
        self.cache = AssetCache(config.state_dir / "assets")
        self.downloaded = 0
        self.encoded = 0
        self.localizer: Localizer | None = None

    # -- before rendering --------------------------------------------------------------------

    def prepare(self, items: Iterable[tuple[str, JSON]]) -> Localizer:
        """Download what ``items`` reference and the cache lacks; the render's localizer.

        A download that fails (after retries) or is refused fails the build with
        ``[assets] on_missing = "fail"``; with ``"link"`` the asset stays on the CDN."""
        refs = collect(items)
        originals: dict[str, Original] = {}
        todo: list[AssetRef] = []
        for url, ref in refs.items():
            cached = self.cache.get(url)
            if cached is not None and (ref.size is None or ref.size == cached.size):
                originals[url] = self._original(cached)
            else:
                todo.append(ref)
        missing: dict[str, str] = {}
        if todo:
            if self.offline:
                failures = {
                    ref.url: AssetError(
                        f"asset {ref.url} (used by {ref.where}) is not in the asset cache, and "
                        "the build is --offline",
                        hint="build once without --offline to download it",
                    )
                    for ref in todo
                }
            else:
                fetched, failures = self._download(todo)
                originals.update(fetched)
            for url, error in sorted(failures.items()):
                if self.config.assets.on_missing != "link":
                    ref = refs[url]
                    message = error.message
                    if "(used by" not in message:
                        message = f"{message} (used by {ref.where})"
                    raise AssetError(message, hint=error.hint)
                missing[url] = error.message.removeprefix(f"asset {url}").lstrip(": ")
        self.cache.touch(set(originals), set())
        self.localizer = Localizer(self.prefix, originals, missing)
        return self.localizer

    def _original(self, cached: CachedAsset) -> Original:
        return Original(cached.url, original_path(self.prefix, cached.url), cached.facts)

    def _download(self, refs: list[AssetRef]) -> tuple[dict[str, Original], dict[str, AssetError]]:
        from ..content.delivery import RetryPolicy
        from .fetch import AssetFetcher

        settings = self.config.assets
        kontent = self.config.kontent
        fetcher = AssetFetcher(
            max_bytes=settings.max_bytes,
            retry=RetryPolicy(max_attempts=kontent.max_retries + 1),
            timeout=kontent.timeout,
            transport=self.transport,
            on_retry=self.on_retry,
            dead_hosts=self.dead_hosts,
        )
        folder = self.cache.objects
        lock = threading.Lock()
        got: dict[str, Original] = {}
        failures: dict[str, AssetError] = {}
        if self.progress is not None:
            self.progress.stage("assets", len(refs))

        def one(ref: AssetRef) -> None:
            try:
                fetched = fetcher.fetch(ref.url, folder, ref.size)
                facts = probe(fetched.tmp)
                with lock:
                    cached = self.cache.put(
                        ref.url, fetched.tmp, fetched.sha256, fetched.size, facts
                    )
                    got[ref.url] = self._original(cached)
                    self.downloaded += 1
            except AssetError as exc:
                with lock:
                    failures[ref.url] = exc
                if self.config.assets.on_missing != "link":
                    fetcher.cancel()
            finally:
                if self.progress is not None:
                    self.progress.advance(1)

        try:
            workers = min(settings.concurrency, len(refs))
            with ThreadPoolExecutor(workers, thread_name_prefix="asset") as pool:
                list(pool.map(one, refs))
        finally:
            fetcher.close()
            self.cache.save()
        cancelled = [u for u, e in failures.items() if "download cancelled" in e.message]
        if len(cancelled) < len(failures):
            for url in cancelled:  # the real failure is the one to report
                del failures[url]
        return got, failures

    # -- after rendering ---------------------------------------------------------------------

    def files(self, keys: Iterable[str]) -> dict[str, Path]:
        """Output path -> cached file of everything the ``asset:`` ``keys`` name, variants made
        where the cache lacks them."""
        assert self.localizer is not None
        wanted = self.localizer.files_for(k for k in keys if k.startswith("asset:"))
        out: dict[str, Path] = {}
        todo: dict[str, list[tuple[str, VariantSpec, str, str]]] = {}
        used_variants: set[str] = set()
        for path, (found, spec) in wanted.items():
            cached = self.cache.get(found.url)
            if cached is None:
                raise AssetError(f"asset {found.url} went from the asset cache during the build")
            if spec is None:
                out[path] = self.cache.object_path(cached.sha256)
                continue
            fm = spec.fm or found.facts.fm or "png"
            key = self.cache.variant_key(cached.sha256, spec, fm)
            used_variants.add(key)
            out[path] = self.cache.variant_path(key, fm)
            if not self.cache.has_variant(key, fm):
                todo.setdefault(found.url, []).append((path, spec, key, fm))
        if todo:
            self._encode(todo)
        self.cache.touch({found.url for found, _ in wanted.values()}, used_variants)
        return out

    def _encode(self, todo: dict[str, list[tuple[str, VariantSpec, str, str]]]) -> None:
        assert self.localizer is not None
        lock = threading.Lock()
        originals = self.localizer.originals
        if self.progress is not None:
            self.progress.stage("images", sum(len(v) for v in todo.values()))

        def one(url: str) -> None:
            found = originals[url]
            cached = self.cache.get(url)
            assert cached is not None
            try:
                image = open_oriented(self.cache.object_path(cached.sha256))
                made = [
                    (key, fm, encode_variant(image, found.facts, spec))
                    for _, spec, key, fm in todo[url]
                ]
            except Exception as exc:  # a file Pillow read the header of but cannot decode
                raise AssetError(
                    f"asset {url}: cannot make image variants: {type(exc).__name__}: {exc}",
                    hint="replace the image in Kontent.ai, or check that it opens",
                ) from None
            with lock:
                for key, fm, data in made:
                    self.cache.put_variant(key, fm, data)
                    self.encoded += 1
            if self.progress is not None:
                self.progress.advance(len(made))

        try:
            with ThreadPoolExecutor(min(ENCODE_THREADS, len(todo))) as pool:
                list(pool.map(one, sorted(todo)))
        finally:
            self.cache.save()

    def finish(self) -> None:
        """Prune what no build used for ``[assets] keep_days``; save the cache's index.

        After publishing: a cache that cannot be tidied (a full disk) is said on the progress
        line, not a failed build; the next build tries again."""
        try:
            self.cache.prune(self.config.assets.keep_days)
            self.cache.save()
        except OSError as exc:
            if self.progress is not None:
                self.progress.warning(f"asset cache {self.cache.folder}: not tidied: {exc}")

    def missing_json(self) -> str | None:
        """The URLs not downloaded this build (the next build retries them)."""
        if self.localizer is None or not self.localizer.missing:
            return None
        return json.dumps(sorted(self.localizer.missing))


def stale_keys(previously_missing: str | None, localizer: Localizer) -> set[str]:
    """``asset:<url>`` of every asset the last build could not download and this one has:
    its pages, which link to the CDN, now get the local file."""
    if not previously_missing:
        return set()
    return {asset_key(url) for url in json.loads(previously_missing) if url in localizer.originals}
