"""Is this HTML inert? What a browser would run in it, found by parsing it as a page body.

The sanitising tests assert that output holds nothing executable unless the site's own
templates put it there: such markup carries a ``data-site`` attribute and is not reported.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# Elements that run code, load a document or change how the page resolves URLs or styles.
EXECUTABLE_TAGS = frozenset(
    {
        *("script", "style", "template", "noscript"),
        *("iframe", "frame", "frameset", "object", "embed", "applet", "portal"),
        *("base", "meta", "link", "form", "svg", "math"),
    }
)
URL_ATTRIBUTES = frozenset(
    {
        *("href", "src", "srcset", "action", "formaction", "data", "poster", "background"),
        *("xlink:href", "cite", "ping", "lowsrc", "dynsrc", "codebase", "imagesrcset"),
    }
)
_BAD_SCHEME = re.compile(r"(?:javascript|vbscript|data):", re.IGNORECASE)
_CONTROL = "".join(map(chr, range(0x21)))


def _bad_url(value: str) -> bool:
    """A URL a browser would run: leading controls/spaces and inner tabs/newlines ignored."""
    cleaned = value.strip(_CONTROL).replace("\t", "").replace("\n", "").replace("\r", "")
    return _BAD_SCHEME.match(cleaned) is not None


def executable(html: str) -> list[str]:
    """Every executable construct in ``html`` (parsed as a page's body): script-like elements,
    ``on*`` handlers, ``style`` attributes, ``javascript:``/``vbscript:``/``data:`` URLs.
    Elements with a ``data-site`` attribute (the site's templates) are exempt."""
    doc = LexborHTMLParser(f"<!DOCTYPE html><html><body>{html}</body></html>")
    found: list[str] = []
    body = doc.body
    if body is None:
        return found
    for node in body.traverse(include_text=False):
        tag = node.tag or ""
        if tag.startswith("-"):  # lexbor's pseudo nodes (comments, text)
            continue
        attrs = node.attributes
        if "data-site" in attrs:
            continue
        if tag in EXECUTABLE_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                found.append(f"<{tag} {name}>")
            elif lowered == "style":
                found.append(f"<{tag} style>")
            elif lowered in URL_ATTRIBUTES and value:
                urls = [c.strip().split(" ")[0] for c in value.split(",")]
                if lowered not in ("srcset", "imagesrcset"):
                    urls = [value]
                if any(_bad_url(u) for u in urls):
                    found.append(f"<{tag} {name}={value!r}>")
    return found
