"""The links of a written page: every ``href``, ``src`` and ``srcset``, checked against the site.

Templates hard-code links (a navigation bar, ``/css/site.css``, the 404 page's way home) that
no content lookup sees, and rich text may hold links an editor typed. After a page renders,
:func:`page_links` finds the URLs in its attributes, whoever wrote them; an internal one
(root-relative, relative, or under ``[site] base_url``) must name a page of the site or a
static file, else it is a broken link of that page. External URLs are never fetched.

Found with a regular expression over the rendered text rather than an HTML parser: lexbor
parsing cost ~180 µs a page against ~35 µs here (the example site's pages, about 6 KB each),
which at 10k pages is most of a second of a four-second build. Our pages are Jinja output
(autoescaped: no raw ``<`` or ``>`` inside text or attribute values) and lexbor-serialised rich
text (the same), so a match is an attribute when the nearest ``<`` before it is nearer than
the nearest ``>``; comments and ``<script>``/``<style>`` bodies are set aside first. Attribute
names are matched in lower case, as templates and the rich-text serialiser write them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Container, Iterator
from urllib.parse import unquote, urljoin, urlsplit

__all__ = ["internal_path", "page_links", "resolves"]

# An attribute holding URLs: whitespace, its name, "=", its value (quoted or not). Searched
# for by name, from the name on (a pattern that begins with a literal is searched for at C
# speed; one that begins with whitespace is tried at every space of the page, which made the
# search 3.4 µs a link, 1.3 s of a 10k real-shaped build), the whitespace before it checked
# after.
_VALUE = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))"""
_HREF = re.compile(r"(href)" + _VALUE)
_SRC = re.compile(r"(src(?:set)?)" + _VALUE)
# Markup that is not rendered as elements: comments, and the text of scripts and styles.
_OPAQUE = re.compile(r"<!--.*?-->|(<(script|style)\b[^>]*>).*?(</\2\s*>)", re.S | re.I)
# Where such markup may start: one search (5 µs on a 9 KB page) rather than three ``in``
# tests (16 µs), which every page paid though few have any.
_OPAQUE_START = re.compile(r"<(?:!--|script|style)")


def _keep_tags(match: re.Match[str]) -> str:
    """A comment goes; a script or style keeps its tags (``<script src>`` is a link)."""
    return match.group(1) + match.group(3) if match.group(1) else ""


def _attributes(text: str) -> Iterator[re.Match[str]]:
    """The URL attributes of ``text`` in order: what one left-to-right search for whitespace
    followed by an attribute finds (a match resumes the search after its value), made of
    two searches from each name."""
    href = _HREF.search(text)
    src = _SRC.search(text)
    while True:
        if href is not None and (src is None or href.start() < src.start()):
            match = href
        elif src is not None:
            match = src
        else:
            return
        start = match.start()
        if start > 0 and text[start - 1].isspace():
            yield match
            pos = match.end()
        else:
            pos = start + 1  # a name inside a longer word: look again after it
        if href is not None and href.start() < pos:
            href = _HREF.search(text, pos)
        if src is not None and src.start() < pos:
            src = _SRC.search(text, pos)


def page_links(text: str) -> Iterator[tuple[str, str]]:
    """``(attribute, URL)`` for every ``href``, ``src`` and every candidate of a ``srcset``
    in an HTML page, entities decoded, in page order."""
    if _OPAQUE_START.search(text) is not None:
        text = _OPAQUE.sub(_keep_tags, text)
    for match in _attributes(text):
        start = match.start() - 1  # the whitespace before the name
        if text.rfind(">", 0, start) > text.rfind("<", 0, start):
            continue  # in text, not inside a tag
        yield from _urls(*match.groups())


def _urls(name: str, quoted: str | None, single: str | None, bare: str) -> list[tuple[str, str]]:
    """``(attribute, URL)`` of one attribute, given its name and its value as the attribute
    patterns found it (double-quoted, single-quoted or bare): entities decoded, a ``srcset``
    split into its candidates' URLs."""
    value = quoted if quoted is not None else single if single is not None else bare
    if "&" in value:
        value = html.unescape(value)
    if name != "srcset":
        return [(name, value)]
    found = []
    for candidate in value.split(","):
        url = candidate.strip().split(None, 1)
        if url:
            found.append((name, url[0]))
    return found


def internal_path(url: str, page_url: str, base_url: str = "") -> str | None:
    """The site path a link points at (``/articles/x/``), resolved against the page's URL;
    None for external links (another host, ``mailto:``, ``data:``…) and for links to the page
    itself (``#top``, ``?q=1``, ``""``).

    Root-relative links, most of a page's, take a short path: ``urljoin`` for every link was
    half a second of a 10k-page build."""
    url = url.strip()
    if url.startswith("/"):
        if url.startswith("//"):
            return None  # another host
        path = url
    elif not url or url[0] in "#?":
        return None
    elif base_url and (url == base_url or url.startswith(base_url + "/")):
        path = url[len(base_url) :] or "/"
    else:
        colon = url.find(":")
        if colon != -1 and not ("/" in url[:colon] or "?" in url[:colon] or "#" in url[:colon]):
            return None  # a scheme: https:, mailto:, data:, javascript: …
        path = urljoin(page_url, url)
    for mark in ("#", "?"):
        cut = path.find(mark)
        if cut != -1:
            path = path[:cut]
    if "/." in path:
        path = urlsplit(urljoin(page_url, path)).path
    if "%" in path:
        path = unquote(path)
    return path if path.startswith("/") else None


def resolves(path: str, files: Container[str]) -> bool:
    """Whether a site path names a file of the output (paths relative to it, POSIX): a folder
    by its ``index.html``; ``/x`` also as ``/x/`` (hosts redirect one to the other)."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        return rel + "index.html" in files
    return rel in files or rel + "/index.html" in files
