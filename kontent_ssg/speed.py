"""The performance tricks, in one place: each is measured (bench/RESULTS.md) and explained.

Nothing here changes what a build produces; each function only changes how fast (or with how
much memory) the interpreter gets there. Domain modules call these by name, so a reader meets
``speed.gc_paused()`` rather than raw ``gc`` calls, and a benchmark that wants to know what a
trick buys compares commits, not switches.

- :func:`gc_paused`: no cyclic collection while decoding JSON (loading a snapshot, a crawl).
- :class:`FrozenHeap`: move the content out of the collector's sight for a whole build.
- :func:`keep_for_good`: a long-running process moves what it keeps out of the collector's
  sight once, after loading it.
- :func:`young_gc_threshold`: collect the youngest generation less often while rendering.
- :func:`render_template`: Jinja's ``Template.render`` without its per-call ``ChainMap``.
- :func:`ascii_json`: ``json.dumps``'s compact text, written by msgspec where that is the same.
- :func:`quick_exit`: end a command without the interpreter's teardown of the content store.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections import ChainMap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import msgspec

__all__ = [
    "FrozenHeap",
    "ascii_json",
    "gc_paused",
    "keep_for_good",
    "quick_exit",
    "render_template",
    "thaw",
    "young_gc_threshold",
]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building (acyclic) JSON trees.

    Decoding tens of megabytes allocates millions of containers; every few thousand the
    collector walks the ever-growing heap of already-decoded items, none of which can be
    garbage. Reference counting still frees everything that is dropped. Measured at 10k
    items: loading a saved snapshot 0.26 s -> 0.16 s; a crawl's decoding 2.5-3x faster.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class FrozenHeap:
    """Keeps what is alive out of the cyclic collector's sight during one build.

    The content never becomes garbage during a build. Frozen objects (``gc.freeze``) are not
    walked by collections — 80 ms in one jinja2 import alone at 10k items, about 10% of the
    render — and, frozen before a fork, their memory pages stay shared with render workers
    instead of being copied when a child's collector touches them. :meth:`again` freezes what
    was allocated since (the snapshot once read, the plan); leaving the block unfreezes,
    unless an enclosing block froze first or the process keeps its heap frozen
    (:func:`keep_for_good`). Whether the heap is frozen is a flag of this module, not
    ``gc.get_freeze_count()``: that walks every frozen object (0.25 s per build in the
    receiver at 10k real-shaped items).
    """

    def __init__(self) -> None:
        self.owner = False

    def __enter__(self) -> FrozenHeap:
        global _frozen
        if not _frozen:
            gc.freeze()
            _frozen = True
            self.owner = True
        return self

    def again(self) -> None:
        if self.owner:
            gc.freeze()

    def __exit__(self, *exc: object) -> None:
        global _frozen
        if self.owner:
            gc.unfreeze()
            _frozen = False
            self.owner = False


# True while the heap is frozen: by an open FrozenHeap block, or for good.
_frozen = False


def keep_for_good() -> None:
    """Move everything alive now out of the cyclic collector's sight, for good.

    For the webhook receiver, once it holds the content store, the site plan and the
    reverse dependency index: millions of objects that stay until the process ends (or are
    replaced, and then freed by reference counting; JSON trees have no cycles). Without it
    every full collection, whichever thread's allocations trigger it, walks all of them.
    Garbage is collected first, so none is kept. Builds then leave the heap frozen
    (:class:`FrozenHeap` unfreezes only what it froze itself). Call it between builds.
    """
    global _frozen
    gc.collect()
    gc.freeze()
    _frozen = True


def thaw() -> None:
    """Undo :func:`keep_for_good` (tests that share one process with a receiver's builder)."""
    global _frozen
    gc.unfreeze()
    _frozen = False


@contextmanager
def young_gc_threshold(allocations: int = 200_000) -> Iterator[None]:
    """Collect the youngest generation at most every ``allocations`` allocations.

    Rendering makes little cyclic garbage: a cold build of 14k real-shaped pages freed ~550
    objects by collection in all. Collecting every 20,000 allocations instead of every 700
    saved about 7% of render time; every 200,000 instead of 20,000, the collector's time in
    a one-process cold build of those pages fell from 0.77-0.87 s to 0.26-0.28 s (most of a
    young collection's cost is walking what survives it: the caches and the pages' results).
    The garbage a collection would have found waits at most that many allocations longer.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], allocations), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def render_template(template: Any, context: Mapping[str, Any]) -> str:
    """``template.render(context)`` without its per-call cost of reading the template's
    globals through a ``ChainMap`` (twice): they are merged into one dict first, with the
    same keys, order and values. Uses Jinja's documented runtime pieces
    (``environment.context_class``, ``root_render_func``, ``handle_exception``)."""
    env = template.environment
    if env.is_async:
        return str(template.render(context))
    chain = template.globals
    if isinstance(chain, ChainMap):
        flat: dict[str, Any] = {}
        for mapping in reversed(chain.maps):
            flat.update(mapping)
    else:
        flat = dict(chain)
    ctx = env.context_class(env, {**flat, **context}, template.name, template.blocks, globals=flat)
    try:
        return str(env.concat(template.root_render_func(ctx)))
    except Exception:
        env.handle_exception()
        raise  # handle_exception always raises; this line is for type checkers


_json_text = json.JSONEncoder(separators=(",", ":")).encode
_msgspec_json = msgspec.json.Encoder().encode


def ascii_json(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))``: the same text, ~5x faster.

    msgspec writes what ``json`` writes wherever that is ASCII without DEL (``json``'s
    ``ensure_ascii`` escapes the rest, and ``json`` words the errors): build-state rows (a
    page's dependency list, a content fingerprint) are stored as this text and compared with
    it, so it must not change. Measured on a 10k real-shaped build: the 14,357 pages'
    dependency lists 0.10 -> 0.02 s, the 20,200 item fingerprints 0.11 -> 0.02 s."""
    try:
        text = _msgspec_json(value).decode("utf-8")
    except (TypeError, ValueError, msgspec.EncodeError):
        return _json_text(value)  # type: ignore[no-any-return]
    if text.isascii() and "\x7f" not in text:
        return text
    return _json_text(value)  # type: ignore[no-any-return]


def quick_exit(code: int) -> None:
    """Flush the standard streams and end the process without the interpreter's teardown.

    A build leaves its content store to the interpreter's exit, which walks and frees
    millions of objects (about 0.3 s at 10k items, 8% of a cold build). Everything a command
    wrote is closed by the time it returns, so nothing is lost. Only ``kontent-ssg`` and
    ``python -m kontent_ssg`` call this; tests and library users call ``cli.main``.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(code)
