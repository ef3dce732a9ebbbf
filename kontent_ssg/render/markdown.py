"""Markdown -> HTML for the ``markdown`` filter: markdown-it-py's output, mostly at C speed.

The filter's contract is markdown-it-py's output (CommonMark plus tables; raw HTML escaped
unless ``[site] markdown_html``). markdown-it-py costs ~300-400 µs for a ten-line value,
which was ~15 % of the CPU of a real-shaped build (bench/realistic.py: one such value per
article page, every one different, so no cache can answer). cmark-gfm (C, via ``cmarkgfm``)
renders the same value in ~10 µs, and both follow the CommonMark spec, but their output
differs on some inputs: raw HTML and entities, markdown-it's link checks (``javascript:``),
URL encoding (punycode, ``%``), GFM tables, Unicode whitespace, emphasis next to non-ASCII
punctuation, strong nested in strong (cmark-gfm 0.29 drops the inner one), unclosed fences,
code spans and image descriptions across lines, markdown-it's nesting limit.

So :func:`render_markdown` takes the fast path only for values in a plain subset that
:func:`_plain` recognises — text, headings, lists, emphasis, code, fenced code, inline links
and images with simple URLs — where the two agree byte for byte, and gives everything else
to markdown-it-py. Like the sanitiser's fast path, the recogniser never changes output, it
only decides who computes it. tests/test_markdown.py checks that the filter's output equals
markdown-it-py's on every CommonMark spec example and on generated plain values, in both
modes, and that the benchmark's values take the fast path. Without ``cmarkgfm`` importable
every value goes to markdown-it-py.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["render_markdown"]


@functools.cache
def _markdown_it(html: bool) -> Any:
    """markdown-it-py, made on first use (importing it costs ~25 ms of start-up).

    ``html`` off (the default): raw HTML in the text is escaped, so a ``<script>`` typed into
    a text element shows as text. markdown-it refuses ``javascript:``, ``vbscript:``,
    ``file:`` and ``data:`` (but for a few image types) link targets either way.
    """
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": html}).enable("table")


@functools.cache
def _cmark() -> Any:
    """``text -> html`` through cmark-gfm's C function, or None where that cannot be had
    (no ``cmarkgfm`` wheel for the platform, no C library to load): markdown-it-py then
    renders everything.

    ``cmarkgfm.markdown_to_html`` never frees the string cmark returns (~2 KB per call,
    43 MB after 20,000 calls), so its binding (``cmarkgfm._cmark``, which that function
    wraps) is called here directly and the string freed with the C library's ``free``,
    which is what cmark's default allocator allocates with."""
    import ctypes

    try:
        from cmarkgfm import _cmark as binding

        lib, ffi = binding.lib, binding.ffi
        free = ctypes.CDLL(None).free
    except (ImportError, AttributeError, OSError, TypeError):  # pragma: no cover
        return None
    free.argtypes = [ctypes.c_void_p]
    free.restype = None
    # Raw HTML never reaches cmark (see _plain); UNSAFE only keeps cmark from rewriting
    # link targets it considers unsafe, which _plain has refused already.
    options = lib.CMARK_OPT_UNSAFE
    render = lib.cmark_markdown_to_html
    string, cast = ffi.string, ffi.cast

    def to_html(text: str) -> str:
        data = text.encode("utf-8")
        raw = render(data, len(data), options)
        try:
            return str(string(raw).decode("utf-8"))
        finally:
            free(int(cast("uintptr_t", raw)))

    return to_html


# What sends a value to markdown-it-py. Raw HTML and autolinks (<>), entities (&), tables
# (|), backslash escapes, tabs and control characters, Unicode whitespace (markdown-it
# strips it as Python's str.strip does), reference links and definitions (]: ][).
_ODD = re.compile(
    r"[<>&|\\\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
# An inline link whose target is not plain URL characters (a title, a space, parentheses,
# a % that is not an escape: the two encode those differently).
_LINK = re.compile(r"\]\((?!(?:[A-Za-z0-9._~:/?#@!$*+,;=-]|%[0-9A-Fa-f]{2})*\))")
# An image description with brackets or a line break.
_IMAGE = re.compile(r"!\[(?![^\[\]\n]*\])")
# Link targets markdown-it refuses (validateLink), wherever they appear.
_SCHEME = re.compile(r"(?:javascript|vbscript|file|data):")
# Runs of three emphasis delimiters (str.find beats a regular expression here, ~8x).
_TRIPLES = tuple(a + b + c for a in "*_" for b in "*_" for c in "*_")
# Lines (after a "\n") indented 12 or more (deep nesting: markdown-it stops at 20 levels),
# holding only spaces, or opening three list items at once.
_LINES = re.compile(
    r"\n(?: {12}| +(?:\n|$)| *(?:[-+*]|\d+[.)]) +(?:[-+*]|\d+[.)]) +(?:[-+*]|\d+[.)])(?: |$))"
)


def _plain(text: str) -> bool:
    """Whether ``text`` is in the subset where cmark-gfm writes what markdown-it-py writes."""
    if _ODD.search(text) or "]:" in text or "][" in text:
        return False
    if "](" in text and _LINK.search(text):
        return False
    if "![" in text and _IMAGE.search(text):
        return False
    if ":" in text and _SCHEME.search(text.lower()):
        return False
    if any(run in text for run in _TRIPLES):
        return False  # *** and the like: nesting rules differ
    if not text.isascii():  # flanking next to Unicode punctuation differs
        last = len(text) - 1
        for mark in "*_":
            at = text.find(mark)
            while at != -1:
                if (at and not text[at - 1].isascii()) or (
                    at < last and not text[at + 1].isascii()
                ):
                    return False
                at = text.find(mark, at + 1)
    if _LINES.search("\n" + text):
        return False
    if "`" in text and "\n " in text:
        return False  # a code span across lines: indentation kept differently
    return not (("```" in text or "~~~" in text) and not text.endswith("\n"))


def render_markdown(text: str, html: bool = False) -> str:
    """``text`` as markdown-it-py (CommonMark and tables) renders it; ``html`` keeps raw
    HTML instead of escaping it."""
    if _plain(text):
        fast = _cmark()
        if fast is not None:
            out: str = fast(text)
            # cmark-gfm drops a strong nested in a strong: every ** and __ must have made
            # half a <strong>, else markdown-it decides.
            if out.count("<strong>") * 2 == text.count("**") + text.count("__"):
                return out
    return str(_markdown_it(html).render(text))
