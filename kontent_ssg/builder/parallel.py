"""Rendering pages, on every core: forked render processes that write their own pages.

Rendering is CPU-bound Python, so from :data:`PARALLEL_MIN_PAGES` pages on it runs in forked
worker processes (they inherit the content store and the plan without copying them) plus
this process. Pages are dealt in chunks of :data:`CHUNK` from a shared counter, so the work
balances itself. Each process stages the pages it rendered itself (see
:class:`~kontent_ssg.builder.output.StagedWriter`) and sends back only paths, manifest
entries, dependency keys and problems; the result is the same, in the same order, as a
serial render. Writer threads were tried and dropped: they handed the interpreter lock back
and forth on every system call while the render was CPU-bound. The exception is a page of a
megabyte or more rendered in this process (a sitemap part of a large site, 10 MB at 100k
items, re-rendered by most webhook rebuilds): it is staged on a thread while the next pages
render, since hashing, reading back and writing it all release the lock.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..content.snapshot import ContentStore
from ..errors import BuildError, KontentSSGError
from ..forking import die_with_parent
from ..site.pages import PageRenderer
from ..site.plan import SitePlan
from ..site.routing import Page
from ..speed import FrozenHeap
from . import machine
from .output import REMEMBERED_SIZE, Staged, StagedWriter

__all__ = ["CHUNK", "PARALLEL_MIN_PAGES", "PageHook", "RenderedPage", "render_pages"]

JSON = dict[str, Any]


@dataclass
class RenderedPage:
    """One rendered page: its bytes (empty when a writer staged them), what it read and met."""

    page: Page
    data: bytes
    deps: tuple[str, ...] = ()  # sorted; one str object per distinct key across pages
    warnings: list[str] = field(default_factory=list)
    broken_links: list[JSON] = field(default_factory=list)
    extra: Any = None  # what the page hook returned (see render_pages)


#: Side work done for each page by the process that rendered it: ``hook(page, store)``
#: returns something picklable (None for nothing), kept as ``RenderedPage.extra``.
PageHook = Callable[[Page, ContentStore], Any]


# Below this many pages a second process costs more (fork, template compilation) than it
# saves. Measured (CLI cold builds, 2 cores): ~165 pages 0.24 s either way; ~430 pages
# 0.37 -> 0.33 s; ~1,060 pages 0.67 -> 0.53 s.
PARALLEL_MIN_PAGES = 300
# Pages per unit of work handed to a render process (each takes the next unit when done).
CHUNK = 100


def render_pages(
    config: Config,
    site: SitePlan,
    pages: Sequence[Page],
    *,
    workers: int | None = None,
    advance: Callable[[int], None] | None = None,
    writer: StagedWriter | None = None,
    page_hook: PageHook | None = None,
    env: Any = None,
    side_work: Callable[[], None] | None = None,
) -> list[RenderedPage]:
    """Render ``pages``, in order, each with the warnings and broken links it met.

    Without ``writer`` the pages' bytes are returned. With one, each page is staged
    (:meth:`StagedWriter.stage`) by the process that rendered it, as soon as it is rendered,
    and the returned pages have empty ``data``; prepare the writer for ``pages`` first.
    ``page_hook`` runs in the same process, right after each page; its results are the
    pages' ``extra``.

    A broken link names the page it is on (``page``: its URL). ``env``: the Jinja environment
    to render with in this process (its compiled templates kept by the caller between
    builds); render processes make their own.

    ``side_work`` is work of the build's own that needs no rendered page, run once in this
    process: before it takes its first pages when render processes were forked (they take
    more pages meanwhile, so it costs the build about its share of the CPUs instead of its
    whole time after the render), else after the last page.
    """
    count = _worker_count(workers, len(pages))
    rendered: list[RenderedPage] = [None] * len(pages)  # type: ignore[list-item]
    staged: dict[int, Staged] = {}
    # Every page names its keys with str objects of its own (made by its render, or by
    # unpickling a worker's chunk): kept until the build is recorded, they were ~24 MB at
    # 10k real-shaped pages for ~1 MB of distinct keys (an article's author, listing,
    # templates...). One object per distinct key instead.
    pool: dict[str, str] = {}
    same = pool.setdefault

    def collect(chunk: _Rendered) -> None:
        for index, data, deps, warnings, broken, extra in chunk:
            if writer is not None:
                staged[index] = data  # type: ignore[assignment]
                data = b""
            url = pages[index].url
            rendered[index] = RenderedPage(
                pages[index],
                data,  # type: ignore[arg-type]
                tuple([same(key, key) for key in deps]),
                warnings,
                [{**link, "page": url} for link in broken],
                extra,
            )

    chunks = [range(i, min(i + CHUNK, len(pages))) for i in range(0, len(pages), CHUNK)]
    if count > 1:
        _render_parallel(
            config, site, pages, chunks, count, advance, collect, writer, page_hook, side_work
        )
    else:
        renderer = PageRenderer(config, site, env=env)
        # Its thread starts with the first large page; leaving waits for what it was given,
        # so that nothing is written after a failed build cleaned up.
        with ThreadPoolExecutor(1, thread_name_prefix="kontent-ssg-stage") as background:
            for indices in chunks:
                collect(
                    _render_chunk(renderer, pages, indices, writer, page_hook, advance, background)
                )
            if side_work is not None:
                side_work()
            for index, value in staged.items():
                if isinstance(value, Future):
                    staged[index] = value.result()
    if writer is not None:
        for index in sorted(staged):
            writer.add(staged[index])
    return rendered


# (page index, bytes or what the writer staged (or, in this process, is staging on a thread),
# dependency keys (sorted), warnings, broken links, what the page hook returned)
_Rendered = list[
    tuple[int, "bytes | Staged | Future[Staged]", tuple[str, ...], list[str], list[JSON], Any]
]


def _worker_count(workers: int | None, pages: int) -> int:
    """Render processes for ``pages`` pages: ``workers`` or ``KONTENT_SSG_WORKERS`` when
    given, else one per usable CPU as memory allows (:mod:`.machine`)."""
    if workers is not None:
        return max(1, workers)
    env = os.environ.get("KONTENT_SSG_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    if pages < PARALLEL_MIN_PAGES:
        return 1
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return machine.render_processes(
        machine.usable_cpus(),
        machine.available_memory(),
        machine.resident_memory(),
        pages,
        PARALLEL_MIN_PAGES,
    )


def _render_chunk(
    renderer: PageRenderer,
    pages: Sequence[Page],
    indices: Iterable[int],
    writer: StagedWriter | None,
    page_hook: PageHook | None,
    advance: Callable[[int], None] | None = None,
    background: ThreadPoolExecutor | None = None,
) -> _Rendered:
    out: _Rendered = []
    store = renderer.site.store
    for index in indices:
        page = pages[index]
        text, rec = renderer.render(page)
        data: bytes | Staged | Future[Staged] = text
        if writer is not None:
            if background is not None and len(text) >= REMEMBERED_SIZE:
                data = background.submit(writer.stage, page.path, text)
            else:
                data = writer.stage(page.path, text)
        extra = page_hook(page, store) if page_hook is not None else None
        # Sorted here, in the process that rendered the page: the build state stores them so.
        deps = tuple(sorted(rec.deps))
        out.append((index, data, deps, rec.warnings, rec.broken_links, extra))
        if advance is not None:
            advance(1)
    return out


def _render_in_child(
    parent: int,
    inherited: list[Any],
    conn: Any,
    config: Config,
    site: SitePlan,
    pages: Sequence[Page],
    chunks: list[range],
    take: Callable[[], int],
    writer: StagedWriter | None,
    page_hook: PageHook | None,
) -> None:
    """Body of a forked render worker: take chunks until none is left, streaming each one's
    result to the parent as soon as it is done (nothing piles up in the worker).

    ``inherited`` are the pipe ends the fork copied that only the parent reads: closed
    first, so that when the parent dies nobody can read this worker's pipe and its next
    write fails instead of blocking."""
    import traceback

    die_with_parent(parent)
    for end in inherited:
        end.close()

    def send(payload: tuple[str, Any]) -> None:
        conn.send_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))

    try:
        renderer = PageRenderer(config, site)
        while (n := take()) < len(chunks):
            send(("ok", _render_chunk(renderer, pages, chunks[n], writer, page_hook)))
        send(("done", None))
    except KontentSSGError as exc:
        send(("error", (type(exc).__name__, exc.message, exc.hint)))
    except BaseException:
        send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def _render_parallel(
    config: Config,
    site: SitePlan,
    pages: Sequence[Page],
    chunks: list[range],
    count: int,
    advance: Callable[[int], None] | None,
    collect: Callable[[_Rendered], None],
    writer: StagedWriter | None,
    page_hook: PageHook | None,
    side_work: Callable[[], None] | None = None,
) -> None:
    """Render with ``count - 1`` forked children and this process as the last worker.

    Forked children inherit the store and routes without copying them. Every process takes
    the next chunk from a shared counter when it finishes one, so the work balances itself
    (this process also reads the children's results, and pages cost more or less to render).
    Children stream their results back chunk by chunk; a reader thread per child hands them
    to ``collect`` while this process renders.
    """
    import multiprocessing
    import threading

    from .. import errors

    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    failures: list[BaseException] = []

    def take() -> int:
        with counter.get_lock():
            n = int(counter.value)
            counter.value = n + 1
        return n

    def read(receiver: Any) -> None:
        try:
            while True:
                status, value = pickle.loads(receiver.recv_bytes())
                if status == "done":
                    return
                if status == "ok":
                    collect(value)
                    if advance is not None:
                        advance(len(value))
                elif status == "error":
                    name, message, hint = value
                    cls = getattr(errors, name, errors.BuildError)
                    failures.append(cls(message, hint=hint))
                    return
                else:
                    failures.append(RuntimeError(f"render worker failed:\n{value}"))
                    return
        except (EOFError, OSError):
            failures.append(
                BuildError(
                    "a render worker process died (out of memory?)",
                    hint="retry with KONTENT_SSG_WORKERS=1 to render in one process",
                )
            )

    # Objects frozen before the fork are not scanned by the children's collector, so their
    # memory pages stay shared instead of being copied.
    children: list[tuple[Any, Any, threading.Thread]] = []
    parent = os.getpid()
    with FrozenHeap():
        for _ in range(count - 1):
            receiver, sender = context.Pipe(duplex=False)
            inherited = [receiver, *(r for _, r, _ in children)]
            args = (sender, config, site, pages, chunks, take, writer, page_hook)
            process = context.Process(
                target=_render_in_child, args=(parent, inherited, *args), daemon=True
            )
            process.start()
            sender.close()
            reader = threading.Thread(target=read, args=(receiver,), daemon=True)
            reader.start()
            children.append((process, receiver, reader))
    try:
        if side_work is not None:
            side_work()
        renderer = PageRenderer(config, site)
        while not failures and (n := take()) < len(chunks):
            collect(_render_chunk(renderer, pages, chunks[n], writer, page_hook, advance))
        for _, _, reader in children:
            reader.join()
    finally:
        for process, receiver, reader in children:
            if process.is_alive() and failures:
                process.kill()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
            reader.join(timeout=10)
            receiver.close()
    if failures:
        raise failures[0]
