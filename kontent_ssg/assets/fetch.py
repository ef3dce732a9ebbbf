"""Downloading asset files: the crawl's retry policy, verified sizes, atomic writes.

One :class:`AssetFetcher` per build, shared by its download threads (one ``httpx.Client``:
one connection pool). Each download is retried like a Delivery API request
(:class:`~kontent_ssg.content.delivery.RetryPolicy`: 408/429/5xx and dropped connections,
``Retry-After`` first, else exponential backoff with full jitter, bounded), shares the
build's dead-host memory (a host that gave up is not tried again in the same build), and
tells the progress line about every retry. The body is streamed into a temporary file beside
the cache while its SHA-256 is computed, checked against the size the API gave (asset
elements carry one) or else ``Content-Length``, and against ``[assets] max_bytes`` as it
arrives; the caller moves the file into place. No API key is ever sent: asset URLs are
public, and the key must not travel to another host.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ..content.delivery import (
    _RETRYABLE_EXCEPTIONS,
    RETRY_STATUSES,
    USER_AGENT,
    DeadHosts,
    RetryNotice,
    RetryPolicy,
    _is_loopback,
    _refused,
    parse_retry_after,
)
from ..errors import AssetError

__all__ = ["AssetFetcher", "Fetched"]

CHUNK = 1 << 16


@dataclass(frozen=True)
class Fetched:
    """A downloaded file, still at its temporary path."""

    url: str
    tmp: Path
    sha256: str
    size: int
    attempts: int


class _Retry(Exception):
    """A failed attempt worth another: ``why`` for the message, ``wait`` the server's
    Retry-After (None: back off)."""

    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait


class AssetFetcher:
    """Downloads asset files for one build (thread-safe); see the module docstring."""

    def __init__(
        self,
        *,
        max_bytes: int,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        dead_hosts: DeadHosts | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.dead_hosts = dead_hosts or DeadHosts()
        self.requests = 0
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=True,
            trust_env=True,
        )

    def close(self) -> None:
        self._http.close()

    def cancel(self) -> None:
        """Stop: requests still waiting to retry give up at once."""
        self._cancelled.set()

    def fetch(self, url: str, folder: Path, expected_size: int | None = None) -> Fetched:
        """Download ``url`` into a temporary file in ``folder``; :class:`AssetError` when it
        cannot be had (after retries), is too large, or is not the size it should be."""
        policy = self.retry
        host = urlsplit(url).netloc
        started = policy.clock()
        attempt = 0
        while True:
            if self._cancelled.is_set():
                raise AssetError(f"asset {url}: download cancelled (the build stopped)")
            dead = self.dead_hosts.why(host)
            if dead is not None:
                raise AssetError(
                    f"asset {url}: not tried: its host already failed in this build ({dead})",
                    hint='check your network, or set [assets] on_missing = "link"',
                )
            attempt += 1
            with self._lock:
                self.requests += 1
            try:
                tmp, sha256, size = self._attempt(url, folder, expected_size)
            except _Retry as failure:
                why, wait = failure.why, failure.wait
            else:
                return Fetched(url, tmp, sha256, size, attempt)
            delay = wait if wait is not None else policy.backoff(attempt - 1)
            elapsed = policy.clock() - started
            if attempt >= policy.max_attempts or elapsed + delay > policy.max_total:
                self.dead_hosts.mark(host, f"GET {url}: {why}")
                tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
                raise AssetError(
                    f"asset {url}: download failed: {why} (gave up after {tries} in "
                    f"{elapsed:.1f} s)",
                    hint="check the asset and your network, try again later, or set [assets] "
                    'on_missing = "link" to keep the CDN URL for now',
                )
            if self.on_retry is not None:
                self.on_retry(
                    RetryNotice(
                        f"asset {url.rsplit('/', 1)[-1]}",
                        f"GET {url}",
                        why,
                        attempt,
                        policy.max_attempts,
                        delay,
                        wait is not None,
                    )
                )
            if policy.sleep is None:
                self._cancelled.wait(delay)
            else:
                policy.sleep(delay)

    def _attempt(self, url: str, folder: Path, expected: int | None) -> tuple[Path, str, int]:
        """One GET; the temporary file, its SHA-256 and size. Raises :class:`_Retry` for what
        may pass, :class:`AssetError` for what will not."""
        if expected is not None and expected > self.max_bytes:
            raise self._too_large(url, expected, "the API gives its size as")
        try:
            with self._http.stream("GET", url) as response:
                status = response.status_code
                if status in RETRY_STATUSES:
                    response.read()
                    raise _Retry(
                        f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After"))
                    )
                if status != 200:
                    raise AssetError(
                        f"asset {url}: HTTP {status}"
                        + (" (not found)" if status == 404 else "")
                        + f"; GET {url}",
                        hint="the content names an asset the CDN does not serve: check the "
                        'asset in Kontent.ai, or set [assets] on_missing = "link"',
                    )
                announced = _int(response.headers.get("Content-Length"))
                if announced is not None and announced > self.max_bytes:
                    raise self._too_large(url, announced, "the server announces")
                return self._save(url, folder, response, expected, announced)
        except _RETRYABLE_EXCEPTIONS as exc:
            if isinstance(exc, httpx.ConnectError) and _refused(exc):
                host = urlsplit(url).hostname or ""
                if _is_loopback(host):
                    self.dead_hosts.mark(urlsplit(url).netloc, f"GET {url}: connection refused")
                    raise AssetError(
                        f"asset {url}: connection refused (nothing listens on "
                        f"{urlsplit(url).netloc}; not retried)"
                    ) from None
            text = str(exc).strip()
            raise _Retry(f"{type(exc).__name__}: {text}" if text else type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise AssetError(f"asset {url}: GET failed: {type(exc).__name__}: {exc}") from None

    def _save(
        self,
        url: str,
        folder: Path,
        response: httpx.Response,
        expected: int | None,
        announced: int | None,
    ) -> tuple[Path, str, int]:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as fh:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large(url, size, "more than")
                    digest.update(chunk)
                    fh.write(chunk)
            if expected is not None and size != expected:
                problem = f"the CDN serves {size} bytes, the API gives its size as {expected}"
                if announced == size:  # a whole answer: trying again gives the same
                    raise AssetError(
                        f"asset {url}: {problem}",
                        hint="the asset changed under its URL, or a proxy alters it: check "
                        'the asset in Kontent.ai, or set [assets] on_missing = "link"',
                    )
                raise _Retry(problem)
            if announced is not None and size != announced:
                raise _Retry(f"got {size} bytes, Content-Length says {announced}")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, digest.hexdigest(), size

    def _too_large(self, url: str, size: int, how: str) -> AssetError:
        return AssetError(
            f"asset {url}: refused: {how} {size} bytes, over [assets] max_bytes ({self.max_bytes})",
            hint="raise [assets] max_bytes in kontent.toml, or replace the asset with a smaller "
            "file",
        )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
