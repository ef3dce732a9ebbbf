"""HTML from the CMS -> HTML that cannot run anything: the allowlists and the sanitiser.

kontent-ssg used to trust the CMS. But a compromised or misconfigured Delivery endpoint, a
man in the middle of a plain-HTTP ``delivery_url``, or a ``--preview`` build of a draft
written by someone untrusted can hand us ``<script>``, ``on*`` attributes or
``javascript:`` URLs, and a static site publishes them to every visitor. So every piece of
HTML that comes from the CMS is sanitised against an allowlist before it reaches a page:

- **Rich text** (:func:`sanitize_rich_text`): against exactly what the Delivery API emits
  (:data:`RICH_TEXT_TAGS`, :data:`RICH_TEXT_ATTRIBUTES`, :data:`URL_SCHEMES`; the sources
  are in docs/SECURITY.md). :mod:`.richtext` calls it on each element's raw value, before
  parsing — so on a component's own rich text too, each nested call sanitising its own
  value — and splices the site's markup (component templates, ``rich_text/image.html``, the
  default ``<figure>``) in afterwards: the site's own markup is never sanitised.
- **URLs taken from JSON** rather than from the HTML (image metadata, asset elements in
  the generic rendering and in templates): :func:`safe_url`, the same schemes.
- **Raw HTML in markdown**, when a site lets the ``markdown`` filter keep it
  (``[site] markdown_html = true``): :func:`sanitize_markdown_html`, a broader allowlist
  (ammonia's defaults plus what markdown-it itself writes). With ``markdown_html`` off, the
  default, markdown-it escapes raw HTML and refuses ``javascript:``-like link targets itself.

The sanitiser is nh3 (the binding of the Rust crate ammonia): it parses with html5ever, an
HTML5 parser, keeps what the allowlist names and serialises, so its output parses back to
what it checked. Elements outside the allowlist are unwrapped (their text kept), except
those in :data:`DROP_WITH_CONTENT` (scripts, styles, frames …), which go with everything
inside them; attributes outside the allowlist go; a URL whose scheme is not allowed goes.

**Fast path.** nh3 costs about as much as the whole rich-text resolver (~150-250 µs for
the 5 KB element of bench/richtext.py, whose resolution takes ~110-190 µs); on every value
of bench/build.py's 10k-article site, 7.7 % of the render. But what the Delivery API sends
is a small regular language — lowercase tags from the allowlist, each attribute from the
allowlist written ``name="value"``, URLs with an allowed scheme or none, text with every
``<`` escaped. :data:`_API_SHAPED` recognises exactly that language (Python's regular
expressions with possessive quantifiers: linear time, one C call), and an element it
accepts is passed on untouched: nh3 would keep every tag and attribute in it, and every URL
it can parse (it also drops a URL it cannot parse, ``https://exa mple.org``; such a URL is
inert, the fast path leaves it). Anything else — one attribute too many, a ``<`` in text, a
comment, upper case, an entity in a URL — goes through nh3. The recogniser never changes
HTML, it only proves nh3 has nothing to remove; tests/test_sanitize.py checks on generated
input that nh3 keeps whole whatever it accepts (every element, attribute and text), and
that every real Delivery API value in the fixtures and the example site takes the fast path.
Measured: ~3 µs for a 1.7 KB article body, 1.8 % of that site's render (bench/RESULTS.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DROP_WITH_CONTENT",
    "RICH_TEXT_ATTRIBUTES",
    "RICH_TEXT_TAGS",
    "URL_SCHEMES",
    "is_api_shaped",
    "safe_url",
    "sanitize_markdown_html",
    "sanitize_rich_text",
]

#: The elements the Delivery API writes in a rich-text value (docs/SECURITY.md has sources).
RICH_TEXT_TAGS = frozenset(
    {
        *("p", "h1", "h2", "h3", "h4", "h5", "h6", "br"),
        *("strong", "em", "sub", "sup", "code"),
        *("ul", "ol", "li"),
        *("table", "tbody", "tr", "td"),
        "a",
        *("figure", "img"),
        "object",
    }
)

#: The attributes it writes on them; every other element carries none.
RICH_TEXT_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset(
        {
            *("href", "title", "target", "rel"),
            *("data-item-id", "data-asset-id", "data-new-window"),
            *("data-email-address", "data-phone-number"),
        }
    ),
    "figure": frozenset({"data-asset-id", "data-image-id"}),
    "img": frozenset({"src", "alt", "data-asset-id", "data-image-id"}),
    "object": frozenset({"type", "data-type", "data-rel", "data-codename"}),
}

#: URL schemes allowed in ``href``/``src`` (web, e-mail and phone links); URLs without a
#: scheme (relative paths, ``#anchors``, ``?queries``, the API's ``href=""``) pass too.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

#: Elements removed with their content rather than unwrapped: their content is code,
#: metadata or a nested document, never prose (unwrapped, it would show as stray text).
DROP_WITH_CONTENT = frozenset(
    {
        *("script", "style", "template", "noscript"),
        *("iframe", "noembed", "noframes", "xmp", "textarea", "title"),
        *("svg", "math"),
    }
)


# --------------------------------------------------------------------------- rich text


def sanitize_rich_text(html: str) -> str:
    """``html`` (a rich-text value from the API) with everything outside the allowlist removed.

    Returns ``html`` itself when it is already within the allowlist (the usual case, found
    cheaply); raises UnicodeEncodeError on unpaired surrogates, as the parser does.
    """
    if _API_SHAPED.fullmatch(html) is not None:
        return html
    return str(_rich_text_cleaner().clean(html))


def is_api_shaped(html: str) -> bool:
    """Whether ``html`` is in the language the Delivery API writes (the fast path)."""
    return _API_SHAPED.fullmatch(html) is not None


@functools.cache
def _rich_text_cleaner() -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(RICH_TEXT_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in RICH_TEXT_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,  # rel is the API's (data-new-window links) or the resolver's to set
        strip_comments=True,
    )


def _api_shaped_pattern() -> re.Pattern[str]:
    """The regular language of Delivery API rich text, built from the allowlists above.

    Text: anything but ``<``. A tag: ``<name>`` or ``</name>`` for an allowed element;
    attributes (only on elements that have some) as ``name="value"`` separated by HTML white
    space; ``<br>`` and ``<img>`` may end in ``/>``. Attribute values: any text without
    ``"`` (the value is inert: ``title``, ``alt``, ``data-*``, ``target``, ``rel``,
    ``type``), except URLs: ``href``/``src`` must start with an allowed scheme in lower case
    (``https://``, ``mailto:`` …) or have no ``:`` before their first ``/``, ``?`` or ``#``
    (a relative URL), and may hold ``&`` only as ``&amp;`` (no entity can spell a scheme).
    """
    space = r"[ \t\n\f\r]"
    inert = r'[^"]*+'
    schemes = "|".join(sorted(f"{s}://" if s.startswith("http") else f"{s}:" for s in URL_SCHEMES))
    url = rf'(?:{schemes}|(?![^"/?#:]*+:))[^"&]*+(?:&amp;[^"&]*+)*+'
    url_attributes = {"href", "src"}
    void = {"br", "img"}  # may be written <br/> or <img .../>
    bare = sorted(RICH_TEXT_TAGS - set(RICH_TEXT_ATTRIBUTES) - void)
    alternatives = [f"(?:{'|'.join(bare)}){space}*+>", f"br{space}*+/?>"]
    for tag, names in sorted(RICH_TEXT_ATTRIBUTES.items()):
        one = f'(?:{"|".join(sorted(names - url_attributes))})="{inert}"'
        if names & url_attributes:
            one += f'|(?:{"|".join(sorted(names & url_attributes))})="{url}"'
        end = "/?>" if tag in void else ">"
        alternatives.append(f"{tag}(?:{space}++(?:{one}))*+{space}*+{end}")
    alternatives.append(f"/(?:{'|'.join(sorted(RICH_TEXT_TAGS - void))})>")
    tag = "<(?:" + "|".join(alternatives) + ")"
    return re.compile(f"(?:[^<]++|{tag})*+")


_API_SHAPED = _api_shaped_pattern()


# --------------------------------------------------------------------------- URLs

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_NOISE = str.maketrans("", "", "\t\n\r")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def safe_url(url: str) -> bool:
    """Whether ``url`` (taken from JSON, to be written into an attribute) is safe to link.

    Reads it as a browser does (leading/trailing C0 controls and spaces dropped, tabs and
    newlines removed anywhere): an allowed scheme, or none at all (a relative URL).
    """
    if url.startswith(("https://", "http://")):  # nearly every URL the API sends
        return True
    cleaned = url.strip(_C0_AND_SPACE).translate(_URL_NOISE)
    match = _SCHEME.match(cleaned)
    if match is not None:
        return match.group(1).lower() in URL_SCHEMES
    head = re.split(r"[/?#]", cleaned, maxsplit=1)[0]
    return ":" not in head


# --------------------------------------------------------------------------- markdown


def sanitize_markdown_html(html: str) -> str:
    """Output of the ``markdown`` filter with raw HTML kept, sanitised.

    The allowlist is ammonia's default (a broad set of formatting elements, no scripts,
    frames, forms or event handlers; safe URL schemes only) widened by what markdown-it
    itself writes (``class="language-…"`` on fenced code, ``title`` on links and images,
    ``start`` on lists, ``style="text-align:…"`` on aligned table cells), so markdown's own
    output is never stripped.
    """
    return str(_markdown_cleaner().clean(html))


@functools.cache
def _markdown_cleaner() -> Any:
    import nh3

    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, names in {
        "a": {"title"},
        "img": {"title"},
        "code": {"class"},
        "th": {"style"},
        "td": {"style"},
    }.items():
        attributes.setdefault(tag, set()).update(names)
    return nh3.Cleaner(
        tags=set(nh3.ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes=attributes,
        url_schemes=set(nh3.ALLOWED_URL_SCHEMES),
        link_rel=None,
        filter_style_properties={"text-align"},
    )
