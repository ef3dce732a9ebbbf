"""The two long-running modes: the webhook receiver and the live-reload preview server.

Both are Starlette apps run by uvicorn (see docs/INCREMENTAL.md for why: measured, and it
gives graceful SIGTERM handling and a lifespan to start and stop the rebuild worker).

The receiver's promise is "202 means it will be applied": a notification is verified,
parsed and committed to the SQLite queue (:class:`~kontent_ssg.buildstate.BuildState`)
before the answer is sent. A single :class:`NotificationWorker` thread drains the queue: it
waits for a burst to go quiet (debounce), applies every pending notification in one
incremental rebuild, marks them done, then runs the deploy step. A rebuild that fails leaves
its notifications pending and is retried with backoff; a restart applies whatever is pending.
A notification that can never be applied (see :func:`failure_kind`) is found by applying the
failed batch one notification at a time and is moved to the dead letters, so it cannot block
the ones after it.

Both servers expect hostile clients (docs/SECURITY.md): bodies are limited while they are
read, and :class:`ServerLimits` adds what uvicorn lacks, a deadline for a request's headers
and for its body and a cap on open connections that sheds the slowest ones first.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import mimetypes
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Config
from .content.webhooks import SIGNATURE_HEADERS, Change, parse_webhook, verify_signature
from .errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    KontentSSGError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    UsageError,
    WebhookError,
)
from .incremental.state import BuildState, QueuedNotification
from .progress import printable
from .relay import RelayError

__all__ = [
    "DEFAULT_MAX_BODY",
    "LiveReload",
    "NotificationWorker",
    "ServerHandle",
    "ServerLimits",
    "allowed_hosts_for",
    "failure_kind",
    "preview_app",
    "run_deploy",
    "serve_in_thread",
    "webhook_app",
]

DEFAULT_MAX_BODY = 1024 * 1024
"""Largest webhook body accepted (bytes). Kontent.ai's bodies are a few kilobytes each."""
RELOAD_PATH = "/__kontent-ssg/reload"

Log = Callable[[str], None]
T = TypeVar("T")


def _stderr(message: str) -> None:
    print(printable(message, newlines=True), file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ServerLimits:
    """What one client may hold of a server, and for how long.

    uvicorn enforces none of the first three: it waits for a request's headers forever, so
    1,100 connections each sending a byte now and then (slowloris) used up a 1,024 file
    limit and real webhooks could no longer connect. Its own ``limit_concurrency`` counts
    idle connections too, so under such a flood it would refuse (503) exactly the
    legitimate request; it is not used, the connection cap below replaces it.

    * ``max_connections``: open connections at most. One more arriving closes first an idle
      keep-alive connection, else the oldest one still sending its request; only requests
      being answered are never cut. A request arriving with every slot answering is closed.
      Buffered bodies are bounded by ``max_connections`` times the body limit.
    * ``header_timeout``: seconds from a connection's first byte (or its opening) to the end
      of the request's headers, however slowly the bytes come.
    * ``body_timeout``: seconds from the end of the headers to the end of the body.
    * ``keep_alive``: seconds an idle keep-alive connection stays open (uvicorn enforces it).
    * ``accept_batch``: connections asyncio accepts in one go, before the cap above sees
      any of them. uvicorn makes it its backlog, 2,048, which took a process over a 1,024
      file limit in one burst (asyncio then stops accepting for a second). Open files stay
      under about ``max_connections + 2 * accept_batch``. Keep it well below
      ``max_connections``: a new client is safe from being shed only until about
      ``max_connections`` newer ones arrived, and two batches arrive before its request is
      read.
    * ``backlog``: connections the kernel queues until they are accepted (no file is open
      for them yet). A full queue drops new connections' SYNs, and a client tries again
      only a second later: under a flood a legitimate webhook waited that second.
    """

    max_connections: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive: int = 5
    accept_batch: int = 16
    backlog: int = 1024


@dataclass
class WorkerStats:
    rebuilds: int = 0
    notifications_applied: int = 0
    changes_applied: int = 0
    failures: int = 0
    dead_letters: int = 0
    last_error: str | None = None
    last_rebuild: float | None = None
    busy: bool = False


def failure_kind(exc: BaseException) -> str:
    """What a failed rebuild says about the notifications it applied.

    * ``"environment"``: the network, the API, the key or the configuration failed; any
      notification would have failed now and may succeed later (the whole queue waits);
    * ``"permanent"``: the request a notification made is wrong (a 4xx other than
      401/403/404/408/429, a body that is no webhook); retrying cannot fix it;
    * ``"unknown"``: anything else (a template or route error, a bug); retried a few times
      before the notification is given up.

    A 404 for an item or a taxonomy group is no failure at all (it was deleted: the engine
    removes its pages); a 404 that escapes is the environment's.
    """
    if isinstance(exc, (NetworkError, AuthError, NotFoundError, ConfigError, UsageError)):
        return "environment"
    if isinstance(exc, RelayError):  # GitHub refused a dispatch: see DeliveryError below
        if exc.status is None or exc.status in (401, 403, 404, 408, 429) or exc.status >= 500:
            return "environment"
        return "permanent"
    if isinstance(exc, WebhookError):
        return "permanent"
    if isinstance(exc, DeliveryError) and not isinstance(exc, MalformedResponseError):
        if exc.status is None:
            return "unknown"
        if 400 <= exc.status < 500 and exc.status not in (401, 403, 404, 408, 429):
            return "permanent"
        return "environment"
    return "unknown"


def _describe(notification: QueuedNotification) -> str:
    """A short, printable summary of what a notification names (for logs and /health)."""
    names = [
        f"{c.kind} {c.codename or c.item_id or '?'}" + (f" ({c.language})" if c.language else "")
        for c in notification.changes[:3]
    ]
    more = f" and {len(notification.changes) - 3} more" if len(notification.changes) > 3 else ""
    return printable(", ".join(names) + more)


class NotificationWorker:
    """Drains the durable queue: debounce a burst, apply it in one rebuild, deploy.

    ``apply(changes)`` does the incremental rebuild and raises on failure; ``after()`` is the
    deploy step, run only after a successful rebuild; ``idle()`` runs when nothing is pending
    for a second (work that would otherwise delay the next rebuild). Only notifications of
    ``slot`` are taken: a published-site receiver never rebuilds for preview changes.

    When a rebuild fails, :func:`failure_kind` decides. An ``environment`` failure backs the
    whole queue off (``retry_base`` doubling up to ``retry_max`` seconds). Otherwise a batch of
    several notifications is split and each applied alone; a notification failing alone is
    moved to the dead letters at once when the failure is ``permanent``, after
    ``max_attempts`` failed attempts when it is ``unknown``, and meanwhile waits its own
    backoff while later notifications go ahead.
    """

    def __init__(
        self,
        state: BuildState,
        apply: Callable[[list[Change]], Any],
        *,
        slot: str = "published",
        debounce: float = 0.3,
        quick: float = 0.02,
        max_wait: float = 3.0,
        after: Callable[[], Any] | None = None,
        idle: Callable[[], Any] | None = None,
        log: Log = _stderr,
        max_attempts: int = 5,
        retry_base: float = 0.5,
        retry_max: float = 60.0,
    ) -> None:
        self.state = state
        self.apply = apply
        self.slot = slot
        self.debounce = debounce
        self.quick = min(quick, debounce)
        self.max_wait = max_wait
        self.after = after
        self.idle = idle
        self.log = log
        self.max_attempts = max(1, max_attempts)
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.stats = WorkerStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_batch = float("-inf")
        # Notifications under suspicion (id -> failed attempts alone) are applied one at a
        # time; one that failed waits until its retry time (id -> monotonic time).
        self._suspects: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}

    def start(self) -> None:
        self._wake.set()  # apply whatever a previous process left pending
        self._thread = threading.Thread(target=self._run, name="kontent-ssg-worker", daemon=True)
        self._thread.start()

    def interrupted(self) -> bool:
        """Whether work is waiting (a notification arrived, or the worker is stopping): idle
        work in progress should stop."""
        return self._wake.is_set() or self._stop.is_set()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the rebuild in progress (if any) has finished; never interrupt one."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _backoff(self, failures: int) -> float:
        return float(min(self.retry_max, self.retry_base * 2**failures))

    def _ready(self, pending: list[QueuedNotification]) -> list[QueuedNotification]:
        """The pending notifications not waiting for their retry time."""
        now = time.monotonic()
        ids = {n.id for n in pending}
        for table in (self._suspects, self._retry_at):
            for gone in [i for i in table if i not in ids]:  # applied, or dead-lettered
                del table[gone]
        return [n for n in pending if self._retry_at.get(n.id, 0.0) <= now]

    def _idle_wait(self) -> float:
        if not self._retry_at:
            return 1.0
        return max(0.01, min(1.0, min(self._retry_at.values()) - time.monotonic()))

    def _run(self) -> None:
        outage = 0  # consecutive environment failures
        while not self._stop.is_set():
            woken = self._wake.wait(timeout=self._idle_wait())
            if not woken and not self._ready(self.state.pending(self.slot)):
                if self.idle is not None:
                    try:
                        self.idle()
                    except Exception as exc:  # never stop serving over it
                        self.log(f"idle work failed: {exc}")
                continue
            self._wake.clear()
            self._settle()
            if self._stop.is_set():
                return
            ready = self._ready(self.state.pending(self.slot))
            if not ready:
                continue
            # Notifications never suspected go first, together: a failing one does not hold
            # them back. Suspects follow, one rebuild each.
            fresh = [n for n in ready if n.id not in self._suspects]
            batch = fresh or ready[:1]
            error = self._apply(batch)
            if error is None:
                outage = 0
                continue
            if failure_kind(error) == "environment":
                outage += 1
                self.log(f"rebuild failed (will retry): {error}")
                self._stop.wait(self._backoff(outage))
                self._wake.set()
                continue
            outage = 0
            if len(batch) > 1:
                for n in batch:
                    self._suspects.setdefault(n.id, 0)
                self.log(
                    f"rebuild of {len(batch)} notifications failed ({error}); "
                    "applying them one at a time"
                )
            else:
                self._failed_alone(batch[0], error)
            self._wake.set()

    def _apply(self, batch: list[QueuedNotification]) -> BaseException | None:
        """One rebuild for ``batch``; the exception when it failed (the batch stays queued)."""
        changes = [c for n in batch for c in n.changes]
        self.stats.busy = True
        try:
            self.apply(changes)
        except Exception as exc:  # keep serving; the notifications stay queued
            self._last_batch = time.monotonic()
            self.stats.failures += 1
            self.stats.last_error = str(exc)
            self.stats.busy = False
            return exc
        self._last_batch = time.monotonic()
        self.state.mark_done(n.id for n in batch)
        for n in batch:
            self._suspects.pop(n.id, None)
            self._retry_at.pop(n.id, None)
        self.stats.rebuilds += 1
        self.stats.notifications_applied += len(batch)
        self.stats.changes_applied += len(changes)
        self.stats.last_rebuild = time.time()
        self.stats.last_error = None
        self.stats.busy = False
        if self.after is not None:
            try:
                self.after()
            except Exception as exc:
                self.stats.last_error = f"deploy failed: {exc}"
                self.log(f"deploy failed: {exc}")
        return None

    def _failed_alone(self, notification: QueuedNotification, error: BaseException) -> None:
        """Count a failure of ``notification`` applied on its own; dead-letter it if final."""
        attempts = self._suspects.get(notification.id, 0) + 1
        permanent = failure_kind(error) == "permanent"
        if permanent or attempts >= self.max_attempts:
            why = "cannot succeed" if permanent else f"failed {attempts} times"
            reason = f"{why}: {error}"[:1000]
            if self.state.dead_letter(notification.id, reason, attempts):
                self.stats.dead_letters += 1
            self._suspects.pop(notification.id, None)
            self._retry_at.pop(notification.id, None)
            self.log(
                f"notification {notification.id} ({_describe(notification)}) moved to the "
                f"dead letters: {reason}"
            )
            return
        self._suspects[notification.id] = attempts
        delay = self._backoff(attempts)
        self._retry_at[notification.id] = time.monotonic() + delay
        self.log(
            f"rebuild failed for notification {notification.id} ({_describe(notification)}; "
            f"attempt {attempts} of {self.max_attempts}, next in {delay:.1f} s): {error}"
        )

    def _settle(self) -> None:
        """Coalesce a burst: a lone notification after a quiet spell waits only ``quick``
        seconds (latency); once a second one arrives, or when one arrives soon after the
        last rebuild, the worker waits for ``debounce`` seconds of silence (at most
        ``max_wait``), so a burst becomes a few rebuilds, not one per notification."""
        now = time.monotonic()
        deadline = now + self.max_wait
        # Right after a rebuild more notifications are likely (a burst): wait them out.
        window = self.debounce if now - self._last_batch < self.debounce else self.quick
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or not self._wake.wait(min(window, left)):
                return
            self._wake.clear()
            window = self.debounce


def run_deploy(config: Config, log: Log = _stderr) -> None:
    """The deploy step: ``[deploy] command`` (a shell command in SITE), then the build hook.

    The Netlify hook URL is a secret (anyone holding it can trigger builds): never logged.
    """
    if config.deploy.command:
        log(f"deploy: running {config.deploy.command!r}")
        done = subprocess.run(
            config.deploy.command, shell=True, cwd=config.site_dir, timeout=1800, check=False
        )
        if done.returncode != 0:
            raise KontentSSGError(
                f"[deploy] command exited with status {done.returncode}",
                hint=f"run it by hand in {config.site_dir} to see why",
            )
    if config.deploy.netlify_build_hook:
        import httpx

        response = httpx.post(config.deploy.netlify_build_hook, content=b"{}", timeout=30.0)
        if response.status_code >= 400:
            raise KontentSSGError(f"Netlify build hook answered {response.status_code}")
        log("deploy: Netlify build hook triggered")


def _signature(request: Request) -> str | None:
    for name in SIGNATURE_HEADERS:
        value = request.headers.get(name)
        if value:
            return value
    return None


def _too_large(limit: int) -> Response:
    # "Connection: close": uvicorn then drops the connection instead of reading (and
    # discarding) the rest of a body that may be a gigabyte long.
    return JSONResponse(
        {"error": f"body larger than {limit} bytes"},
        status_code=413,
        headers={"Connection": "close"},
    )


async def _read_body(request: Request, limit: int) -> bytes | Response:
    """The request body, read while it arrives and never past ``limit`` bytes.

    A ``Content-Length`` over the limit is refused before anything is read; a body that
    grows past it (chunked, or a lying length) is refused as soon as it does.
    """
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > limit:
        return _too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _too_large(limit)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to read it
    return bytes(body)


def _webhook_endpoint(
    state: BuildState,
    worker: NotificationWorker,
    secret: str | None,
    *,
    preview: bool,
    max_body: int = DEFAULT_MAX_BODY,
) -> Callable[[Request], Any]:
    def dropped(reason: str) -> None:
        worker.log(f"webhook: ignored a notification: {reason}")

    async def receive(request: Request) -> Response:
        body = await _read_body(request, max_body)
        if isinstance(body, Response):
            return body
        # The signature first: nothing of an unsigned body is parsed.
        if secret is not None and not verify_signature(body, _signature(request), secret):
            return JSONResponse({"error": "missing or invalid signature"}, status_code=401)
        try:
            changes = parse_webhook(body, on_invalid=dropped)
        except WebhookError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        wanted = "preview" if preview else "published"
        mine = [c for c in changes if c.slot == wanted]
        ignored = len(changes) - len(mine)
        if not mine:
            return JSONResponse({"queued": None, "ignored": ignored}, status_code=200)
        queued = await run_in_threadpool(state.enqueue, mine, wanted)
        worker.notify()
        return JSONResponse({"queued": queued, "ignored": ignored}, status_code=202)

    return receive


def _health_endpoint(state: BuildState, worker: NotificationWorker) -> Callable[[Request], Any]:
    def read() -> tuple[dict[str, int], int, list[Any]]:
        return state.queue_counts(), state.dead_letter_count(), state.dead_letters(limit=5)

    async def health(request: Request) -> Response:
        counts, dead, recent = await run_in_threadpool(read)
        s = worker.stats
        return JSONResponse(
            {
                "status": "ok",
                "pending": counts["pending"],
                "rebuilds": s.rebuilds,
                "notifications_applied": s.notifications_applied,
                "changes_applied": s.changes_applied,
                "failures": s.failures,
                "busy": s.busy,
                "last_rebuild": s.last_rebuild,
                "last_error": s.last_error,
                "dead_letters": dead,
                "last_dead_letters": [
                    {
                        "id": d.id,
                        "failed": d.failed,
                        "attempts": d.attempts,
                        "reason": d.reason,
                        "changes": [
                            {"kind": c.kind, "codename": c.codename, "language": c.language}
                            for c in d.changes[:5]
                        ],
                    }
                    for d in recent
                ],
            }
        )

    return health


def webhook_app(
    state: BuildState,
    worker: NotificationWorker,
    *,
    path: str = "/webhook",
    secret: str | None,
    preview: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
) -> Starlette:
    """The always-on receiver: ``POST path`` and ``GET /health``.

    ``secret=None`` accepts unsigned bodies (``--insecure`` only). Bodies over ``max_body``
    bytes are refused (413) while they are read. The worker is started and stopped with the
    app, so uvicorn's graceful shutdown waits for the rebuild in progress. No ``Host`` check:
    the receiver usually sits behind a proxy that names it differently.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    endpoint = _webhook_endpoint(state, worker, secret, preview=preview, max_body=max_body)
    return Starlette(
        routes=[
            Route(path, endpoint, methods=["POST"]),
            Route("/health", _health_endpoint(state, worker), methods=["GET"]),
        ],
        lifespan=lifespan,
    )


# -- live-reload preview server ------------------------------------------------------------

_RELOAD_SCRIPT = (
    "<script>(function(){var g=null;function p(){fetch(%s,{cache:'no-store'})"
    ".then(function(r){return r.json()}).then(function(d){"
    "if(g!==null&&d.generation!==g){location.reload();return}g=d.generation;"
    "setTimeout(p,500)}).catch(function(){setTimeout(p,1000)})}p()})();</script>"
)


@dataclass
class LiveReload:
    """What the pages poll: a generation that changes after every successful rebuild."""

    generation: int = 0
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rebuilt(self) -> None:
        with self.lock:
            self.generation += 1
            self.error = None

    def failed(self, message: str) -> None:
        with self.lock:
            self.error = message
            self.generation += 1


def inject_reload(page: bytes, reload: LiveReload) -> bytes:
    """Add the polling script (and the last build error, if any) to an HTML response.

    Only responses are changed; the files in the output folder stay exactly as built.
    """
    snippet = _RELOAD_SCRIPT % json.dumps(RELOAD_PATH)
    if reload.error:
        snippet = (
            '<div style="position:fixed;inset:auto 0 0 0;z-index:99999;max-height:50vh;'
            "overflow:auto;background:#300;color:#fdd;font:13px monospace;padding:1em;"
            'white-space:pre-wrap">kontent-ssg: build failed\n'
            + html.escape(reload.error)
            + "</div>"
            + snippet
        )
    data = snippet.encode("utf-8")
    lower = page.lower()
    at = lower.rfind(b"</body>")
    if at < 0:
        return page + data
    return page[:at] + data + page[at:]


def _file_for(output_dir: Path, url_path: str) -> tuple[Path | None, bool]:
    """The file a URL path maps to inside ``output_dir`` (never outside it), and whether
    the URL names a folder without its trailing slash (redirect).

    A path no file can have (a NUL, ``%00``; a name too long for the file system) maps to
    nothing, a 404, not an exception.
    """
    if "\x00" in url_path:
        return None, False
    try:
        root = output_dir.resolve()
        relative = url_path.lstrip("/")
        candidate = (root / relative).resolve()
        if candidate != root and root not in candidate.parents:
            return None, False
        if candidate.is_dir():
            if url_path and not url_path.endswith("/"):
                return candidate, True
            candidate = candidate / "index.html"
        if candidate.is_file():
            return candidate, False
    except (OSError, ValueError):
        pass
    return None, False


_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "[::]"})


def allowed_hosts_for(bind_host: str) -> frozenset[str] | None:
    """The ``Host`` header names ``serve`` answers when it listens on ``bind_host``.

    A web page elsewhere can make the browser send requests to 127.0.0.1 under a name of its
    own that resolves there (DNS rebinding) and read the answers; only the loopback names
    and the ``--host`` given are accepted. None (any name) when ``--host`` is a wildcard
    address: the server was meant to be reached under names it cannot know.
    """
    host = bind_host.strip().lower()
    if host in _ANY_ADDRESS:
        return None
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address, as a Host header writes it
    return _LOCAL_NAMES | {host}


def _host_name(header: str) -> str:
    """``Host`` header value without its port, lower-cased (``[::1]:8000`` -> ``[::1]``)."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end >= 0 else value
    name, colon, port = value.rpartition(":")
    return name if colon and port.isdigit() else value


class _HostGuard:
    """ASGI middleware: refuse (400) HTTP requests whose ``Host`` is not an allowed name."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                    break
            if _host_name(host) not in self.allowed:
                shown = ", ".join(sorted(self.allowed))
                response = PlainTextResponse(
                    f"kontent-ssg serve answers only to {shown} (see --host)\n",
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _local_json_only(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """An unsigned webhook endpoint that takes only JSON from this machine.

    Without a secret anyone who can reach the port could queue rebuilds, including any web
    page the developer opens: a cross-origin ``text/plain`` POST needs no CORS preflight.
    Requiring ``Content-Type: application/json`` forces the preflight (which this server
    never grants), and a client on another machine is refused outright.
    """

    async def guarded(request: Request) -> Response:
        if not _is_loopback(request):
            return JSONResponse(
                {"error": "unsigned webhooks are accepted only from this machine"},
                status_code=403,
            )
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return JSONResponse(
                {"error": "unsigned webhooks must be sent as Content-Type: application/json"},
                status_code=415,
            )
        response: Response = await endpoint(request)
        return response

    return guarded


def _now(value: T | Callable[[], T]) -> T:
    """A value, or the current value of a getter (``serve`` follows config edits)."""
    return value() if callable(value) else value


def preview_app(
    output_dir: Path | Callable[[], Path],
    reload: LiveReload,
    *,
    webhook: tuple[str | Callable[[], str], BuildState, NotificationWorker, str | None]
    | None = None,
    preview: bool = False,
    on_startup: Callable[[], Any] | None = None,
    on_shutdown: Callable[[], Any] | None = None,
    allowed_hosts: frozenset[str] | None = None,
    base_path: str | Callable[[], str] = "",
) -> Starlette:
    """Serve the built site with live reload; optionally also receive content webhooks.

    ``base_path`` (``/repo`` for a ``base_url`` of ``https://user.github.io/repo/``) mounts
    the output under that path, as the host will serve it: ``/`` redirects there, other
    paths outside it are 404s. The reload and webhook endpoints stay where they are.

    ``output_dir`` and the webhook path may be getters: ``serve`` replaces its builder when
    kontent.toml changes (``[site] output`` or ``[webhook] path`` may have moved), and every
    request asks for the current value. ``preview``: the webhooks taken are the preview
    slot's (``serve --preview``).

    ``allowed_hosts`` (see :func:`allowed_hosts_for`) are the ``Host`` names answered; None
    answers any. Without a webhook secret, webhooks are taken only as JSON from loopback.
    """

    async def reload_state(request: Request) -> Response:
        return JSONResponse(
            {"generation": reload.generation, "error": reload.error},
            headers={"Cache-Control": "no-store"},
        )

    receive: Callable[[Request], Any] | None = None
    if webhook is not None:
        hook_path, state, worker, secret = webhook
        receive = _webhook_endpoint(state, worker, secret, preview=preview)
        if secret is None:
            receive = _local_json_only(receive)

    async def post(request: Request) -> Response:
        if receive is not None and webhook is not None and request.url.path == _now(hook_path):
            response: Response = await receive(request)
            return response
        return JSONResponse({"error": "method not allowed"}, status_code=405)

    async def static(request: Request) -> Response:
        url_path: str | None = request.url.path
        prefix = _now(base_path)
        if prefix and url_path is not None:
            if url_path in ("/", prefix):
                return RedirectResponse(prefix + "/", status_code=302)
            url_path = url_path[len(prefix) :] if url_path.startswith(prefix + "/") else None
        path, redirect = (
            (None, False) if url_path is None else _file_for(_now(output_dir), url_path)
        )
        if redirect:
            return RedirectResponse(request.url.path + "/", status_code=301)
        status = 200
        if path is None:
            path, _ = _file_for(_now(output_dir), "/404.html")
            status = 404
            if path is None:
                body = b"<!doctype html><title>Not found</title><h1>Not found</h1>"
                return Response(inject_reload(body, reload), 404, media_type="text/html")
        data = await run_in_threadpool(path.read_bytes)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media == "text/html":
            data = inject_reload(data, reload)
        return Response(data, status, media_type=media, headers={"Cache-Control": "no-store"})

    routes = [Route(RELOAD_PATH, reload_state, methods=["GET"])]
    if webhook is not None:
        routes.append(Route("/health", _health_endpoint(state, worker), methods=["GET"]))
    routes.append(Route("/{path:path}", static, methods=["GET", "HEAD"]))
    # The webhook path is matched per request (it may change with kontent.toml).
    routes.append(Route("/{path:path}", post, methods=["POST"]))

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await run_in_threadpool(on_shutdown)

    middleware = [] if allowed_hosts is None else [Middleware(_HostGuard, allowed=allowed_hosts)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


# -- running ---------------------------------------------------------------------------------


class ServerHandle:
    """A uvicorn server running in a background thread (tests, benchmarks)."""

    def __init__(self, server: Any, thread: threading.Thread, port: int) -> None:
        self.server = server
        self.thread = thread
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def _guarded_protocol(limits: ServerLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol plus :class:`ServerLimits`' deadlines and connection cap.

    The request's progress is read from h11's own state machine (``their_state``): IDLE
    while the headers are awaited, SEND_BODY while the body is, DONE once the request is
    in. A deadline runs per phase from its start, so sending a byte now and then does not
    extend it.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _phase: str | None = None  # "headers", "body", "idle" (keep-alive), None (answering)
        _since = 0.0
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            room = _make_room(self.connections, limits.max_connections)
            super().connection_made(transport)  # type: ignore[arg-type]
            if not room:
                self.transport.close()  # every slot is answering a request
                return
            self._enter("headers", limits.header_timeout)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._track()

        def connection_lost(self, exc: Exception | None) -> None:
            self._enter(None, None)
            super().connection_lost(exc)

        def _track(self) -> None:
            state = self.conn.their_state
            if state is h11.SEND_BODY:
                self._enter("body", limits.body_timeout)
            elif state is h11.IDLE:
                # After a response, uvicorn's keep-alive timer watches the silence; a byte
                # of a next request (buffered, not yet a request) starts its header phase.
                waiting = bool(self.conn.trailing_data[0]) or self._phase == "headers"
                if waiting:
                    self._enter("headers", limits.header_timeout)
                else:
                    self._enter("idle", None)
            else:
                self._enter(None, None)

        def _enter(self, phase: str | None, timeout: float | None) -> None:
            if phase == self._phase and phase is not None:
                return  # the deadline runs from the start of the phase
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = phase
            self._since = self.loop.time()
            if timeout is not None:
                self._deadline = self.loop.call_later(timeout, self._expired)

        def _expired(self) -> None:
            self._deadline = None
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def _make_room(connections: Iterable[Any], limit: int) -> bool:
    """Below ``limit`` open connections, or close one that is not being answered.

    An idle keep-alive connection goes first, then the one that has been sending its
    request the longest: a slow sender loses its slot to a new client, which gets in. False
    when every open connection is being answered.
    """
    open_ = [c for c in connections if c.transport is not None and not c.transport.is_closing()]
    if len(open_) < limit:
        return True
    victims = [c for c in open_ if getattr(c, "_phase", None) is not None]
    if not victims:
        return False
    victim = min(victims, key=lambda c: (c._phase != "idle", c._since))
    victim.transport.close()
    return True


def _uvicorn_config(
    app: Starlette,
    host: str,
    port: int,
    graceful: float | None,
    limits: ServerLimits | None = None,
) -> Any:
    import uvicorn

    limits = limits or ServerLimits()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_guarded_protocol(limits),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=limits.keep_alive,
        backlog=limits.accept_batch,
        timeout_graceful_shutdown=None if graceful is None else max(1, round(graceful)),
    )


def _uvicorn_server(
    app: Starlette,
    host: str,
    port: int,
    graceful: float | None,
    limits: ServerLimits | None = None,
) -> Any:
    """A ``uvicorn.Server`` whose listening sockets queue ``limits.backlog`` connections.

    uvicorn passes one number as both the kernel's queue (``listen``) and asyncio's accept
    batch; after its startup the queue is set again, on its own.
    """
    import uvicorn

    backlog = (limits or ServerLimits()).backlog

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            for sock in sockets or ():
                sock.listen(backlog)

    return Server(_uvicorn_config(app, host, port, graceful, limits))


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP listening socket created with ``IPPROTO_TCP``.

    Why: asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on sockets whose
    ``proto`` says TCP; a socket made with the default ``proto=0`` (as uvicorn makes its own)
    keeps Nagle on, and every response written in two parts then waits for the client's
    delayed ACK — measured here: 44 ms per webhook instead of 0.3 ms.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (or stop what is using it)",
        ) from None
    sock.listen(128)
    return sock


def serve_forever(
    app: Starlette,
    host: str,
    port: int,
    *,
    graceful: float | None = None,
    limits: ServerLimits | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Run ``app`` in the foreground; SIGINT/SIGTERM shut it down gracefully.

    ``sock`` is a socket the command bound already (:func:`listening_socket`): commands bind
    before they build and announce, so that a busy port is the first and only thing said.
    """
    if sock is None:
        sock = listening_socket(host, port)
    _uvicorn_server(app, host, port, graceful, limits).run(sockets=[sock])


def serve_in_thread(
    app: Starlette,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    limits: ServerLimits | None = None,
) -> ServerHandle:
    """Start ``app`` on an (ephemeral) port in a thread; returns once it accepts requests."""
    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    server = _uvicorn_server(app, host, bound, 5.0, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise KontentSSGError(f"the server on port {bound} did not start")
        time.sleep(0.01)
    return ServerHandle(server, thread, bound)


class _Either:
    """Set when either event is (``watchfiles`` takes one stop event)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


def watch_site(
    site_dir: Path,
    rebuild: Callable[[set[Path]], Any],
    stop: threading.Event,
    *,
    config_name: str = "kontent.toml",
    folders: tuple[str, ...] = ("templates", "static"),
    debounce_ms: int = 300,
    files: tuple[str, ...] = (),
) -> list[threading.Thread]:
    """Call ``rebuild(changed)`` per burst of changes to kontent.toml, templates/ and static/
    (and ``files``: more top-level files, such as the site's plugin modules).

    The site folder itself is watched (not recursively), not the config file: an editor
    that saves by writing a new file and renaming it over the old one (``sed -i``, vim, most
    IDEs) replaces the file a file watch was following, and later edits went unseen. The
    output and state folders are not watched (a build would trigger itself). ``templates/``
    and ``static/`` are watched recursively, and watched afresh when they appear or go.
    """
    import watchfiles

    site_dir = Path(site_dir).resolve()
    names = {config_name, *folders, *files}
    rearm = threading.Event()

    def top_level(change: Any, path: str) -> bool:
        p = Path(path)
        return p.parent == site_dir and p.name in names

    def present() -> set[str]:
        return {name for name in folders if (site_dir / name).is_dir()}

    def watch_top() -> None:
        folders_now = present()
        for batch in watchfiles.watch(
            site_dir,
            watch_filter=top_level,
            debounce=debounce_ms,
            stop_event=stop,
            raise_interrupt=False,
            recursive=False,
        ):
            changed = {Path(p) for _, p in batch}
            if present() != folders_now:  # a folder came or went: watch the new set
                folders_now = present()
                rearm.set()
            elif not any(p.name == config_name or p.name in files for p in changed):
                continue  # a folder's own metadata; its watcher reports what changed inside
            rebuild(changed)

    def watch_folders() -> None:
        while not stop.is_set():
            rearm.clear()
            existing = [site_dir / name for name in folders if (site_dir / name).is_dir()]
            if not existing:  # nothing to watch until one appears
                rearm.wait(0.5)
                continue
            for batch in watchfiles.watch(
                *existing,
                debounce=debounce_ms,
                stop_event=_Either(stop, rearm),
                raise_interrupt=False,
            ):
                rebuild({Path(p) for _, p in batch})

    threads = [
        threading.Thread(target=watch_top, name="kontent-ssg-watch-site", daemon=True),
        threading.Thread(target=watch_folders, name="kontent-ssg-watch-files", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads
