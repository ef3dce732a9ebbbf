"""The two long-running modes: the webhook receiver and the live-reload preview server.

Both are Starlette apps run by uvicorn (see docs/INCREMENTAL.md for why: measured, and it
gives graceful SIGTERM handling and a lifespan to start and stop the rebuild worker).

The receiver's promise is "202 means it will be applied": a notification is verified,
parsed and committed to the SQLite queue (:class:`~kontent_ssg.buildstate.BuildState`)
before the answer is sent. A single :class:`NotificationWorker` thread drains the queue: it
waits for a burst to go quiet (debounce), applies every pending notification in one
incremental rebuild, marks them done, then runs the deploy step. A rebuild that fails leaves
its notifications pending and is retried with backoff; a restart applies whatever is pending.
"""

from __future__ import annotations

import html
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
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .config import Config
from .content.webhooks import SIGNATURE_HEADERS, Change, parse_webhook, verify_signature
from .errors import KontentSSGError, WebhookError
from .incremental.state import BuildState
from .progress import printable

__all__ = [
    "LiveReload",
    "NotificationWorker",
    "ServerHandle",
    "preview_app",
    "run_deploy",
    "serve_in_thread",
    "webhook_app",
]

MAX_BODY = 5 * 1024 * 1024
RELOAD_PATH = "/__kontent-ssg/reload"

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(printable(message, newlines=True), file=sys.stderr, flush=True)


@dataclass
class WorkerStats:
    rebuilds: int = 0
    notifications_applied: int = 0
    changes_applied: int = 0
    failures: int = 0
    last_error: str | None = None
    last_rebuild: float | None = None
    busy: bool = False


class NotificationWorker:
    """Drains the durable queue: debounce a burst, apply it in one rebuild, deploy.

    ``apply(changes)`` does the incremental rebuild and raises on failure; ``after()`` is the
    deploy step, run only after a successful rebuild. Only notifications of ``slot`` are taken:
    a published-site receiver never rebuilds for preview changes.
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
        log: Log = _stderr,
    ) -> None:
        self.state = state
        self.apply = apply
        self.slot = slot
        self.debounce = debounce
        self.quick = min(quick, debounce)
        self.max_wait = max_wait
        self.after = after
        self.log = log
        self.stats = WorkerStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_batch = float("-inf")

    def start(self) -> None:
        self._wake.set()  # apply whatever a previous process left pending
        self._thread = threading.Thread(target=self._run, name="kontent-ssg-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the rebuild in progress (if any) has finished; never interrupt one."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not self._wake.wait(timeout=1.0) and not self.state.pending(self.slot):
                continue
            self._wake.clear()
            self._settle()
            if self._stop.is_set():
                return
            batch = self.state.pending(self.slot)
            if not batch:
                continue
            changes = [c for n in batch for c in n.changes]
            self.stats.busy = True
            try:
                self.apply(changes)
            except Exception as exc:  # keep serving; the notifications stay queued
                self._last_batch = time.monotonic()
                failures += 1
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                self.log(f"rebuild failed (will retry): {exc}")
                self.stats.busy = False
                self._stop.wait(min(60.0, 0.5 * 2**failures))
                self._wake.set()
                continue
            failures = 0
            self._last_batch = time.monotonic()
            self.state.mark_done(n.id for n in batch)
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


def _webhook_endpoint(
    state: BuildState, worker: NotificationWorker, secret: str | None, *, preview: bool
) -> Callable[[Request], Any]:
    async def receive(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if secret is not None and not verify_signature(body, _signature(request), secret):
            return JSONResponse({"error": "missing or invalid signature"}, status_code=401)
        try:
            changes = parse_webhook(body)
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
    async def health(request: Request) -> Response:
        counts = await run_in_threadpool(state.queue_counts)
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
) -> Starlette:
    """The always-on receiver: ``POST path`` and ``GET /health``.

    ``secret=None`` accepts unsigned bodies (``--insecure`` only). The worker is started and
    stopped with the app, so uvicorn's graceful shutdown waits for the rebuild in progress.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    return Starlette(
        routes=[
            Route(
                path, _webhook_endpoint(state, worker, secret, preview=preview), methods=["POST"]
            ),
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
    the URL names a folder without its trailing slash (redirect)."""
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
    return None, False


def preview_app(
    output_dir: Path,
    reload: LiveReload,
    *,
    webhook: tuple[str, BuildState, NotificationWorker, str | None] | None = None,
    on_startup: Callable[[], Any] | None = None,
    on_shutdown: Callable[[], Any] | None = None,
) -> Starlette:
    """Serve the built site with live reload; optionally also receive content webhooks."""

    async def reload_state(request: Request) -> Response:
        return JSONResponse(
            {"generation": reload.generation, "error": reload.error},
            headers={"Cache-Control": "no-store"},
        )

    async def static(request: Request) -> Response:
        url_path = request.url.path
        path, redirect = _file_for(output_dir, url_path)
        if redirect:
            return RedirectResponse(url_path + "/", status_code=301)
        status = 200
        if path is None:
            path, _ = _file_for(output_dir, "/404.html")
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
        path, state, worker, secret = webhook
        routes.append(
            Route(path, _webhook_endpoint(state, worker, secret, preview=False), methods=["POST"])
        )
        routes.append(Route("/health", _health_endpoint(state, worker), methods=["GET"]))
    routes.append(Route("/{path:path}", static, methods=["GET", "HEAD"]))

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await run_in_threadpool(on_shutdown)

    return Starlette(routes=routes, lifespan=lifespan)


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


def _uvicorn_config(app: Starlette, host: str, port: int, graceful: float | None) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=None if graceful is None else max(1, round(graceful)),
    )


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
        raise KontentSSGError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (or stop what is using it)",
        ) from None
    sock.listen(128)
    return sock


def serve_forever(app: Starlette, host: str, port: int, *, graceful: float | None = None) -> None:
    """Run ``app`` in the foreground; SIGINT/SIGTERM shut it down gracefully."""
    import uvicorn

    sock = listening_socket(host, port)
    uvicorn.Server(_uvicorn_config(app, host, port, graceful)).run(sockets=[sock])


def serve_in_thread(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Start ``app`` on an (ephemeral) port in a thread; returns once it accepts requests."""
    import uvicorn

    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_uvicorn_config(app, host, bound, 5.0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise KontentSSGError(f"the server on port {bound} did not start")
        time.sleep(0.01)
    return ServerHandle(server, thread, bound)


def watch_and_rebuild(
    paths: Iterable[Path],
    rebuild: Callable[[set[Path]], Any],
    stop: threading.Event,
    *,
    debounce_ms: int = 300,
) -> threading.Thread:
    """Watch templates, static files and kontent.toml; call ``rebuild(changed)`` per burst."""
    import watchfiles

    existing = [str(p) for p in paths if p.exists()]

    def run() -> None:
        if not existing:
            return
        for batch in watchfiles.watch(
            *existing, debounce=debounce_ms, stop_event=stop, raise_interrupt=False
        ):
            rebuild({Path(p) for _, p in batch})

    thread = threading.Thread(target=run, name="kontent-ssg-watch", daemon=True)
    thread.start()
    return thread
