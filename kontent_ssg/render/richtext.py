"""Rich text -> safe HTML: pipeline step 3, as a pure function.

Kontent.ai rich text arrives as HTML with API-only markup: ``<object
type="application/kenticocloud">`` placeholders for components and inline linked items,
``<figure data-image-id>`` images whose metadata sits beside the HTML, ``<a data-item-id>``
links that need a URL from the site's routing. :func:`resolve_rich_text` turns one such
element into HTML a page can embed as is, and reports what it touched so incremental builds
know which pages depend on which items.

Interface (the builder codes against this; docs/ARCHITECTURE.md has the summary)::

    resolve_rich_text(element, *, item, element_codename, language, env, stack=())
        -> ResolveResult(html, warnings, broken_links, deps)
    image_url(url, w=None, h=None, fit=None, fm=None, q=None, auto=None) -> str  # Jinja filter
    srcset_for(url, width, options) -> str
    render_default_embedded(item, rel, language, stack, env) -> ResolveResult

``env`` (:class:`RichTextEnv`, a dataclass of callables) supplies the lookups, the URL
function, the renderer for embedded items (templates), the image options and optional hooks;
:class:`SimpleEnv` builds one from a :class:`~kontent_ssg.snapshot.ContentStore` for tests and
template-less builds.

Why it looks like this:

- Speed. A build resolves every rich-text element of every language, so the resolver must
  manage thousands of elements per second (bench/richtext.py). BeautifulSoup costs
  milliseconds per element; lexbor (via selectolax) parses and serialises a 5 KB element in
  tens of microseconds. The tree is touched only at the special nodes (``a``, ``figure``,
  ``object``); embedded items and images are rendered as strings and spliced in after
  serialisation through random per-process placeholders, so their HTML is never re-parsed.
  Everything parser-specific sits behind :class:`_LexborBackend`. Per-element-independent
  work (image URLs,
  srcsets, the default ``<figure>``) is memoised.
- Nesting. ``stack`` holds the codenames being rendered (the page item first). A component's
  template calls back into the resolver for the component's own rich text with
  ``stack + (component_codename,)`` (``render_embedded`` receives the stack to extend). An
  embedded item already on the stack is a cycle: it becomes a link to its page when it has one,
  else it is left out, with a warning. Nesting deeper than :data:`MAX_NESTING` levels is
  dropped with a warning. Nothing loops.
- Dependencies. A result reports what this element touched, including everything the
  generic rendering of embedded items resolved on the way. What a *template* resolves when it
  calls back into the resolver is reported in that call's own result (the caller records it).
- Post-processing hooks (``env.post_processors``) get a BeautifulSoup fragment of the final
  HTML of a page item's own element (``stack`` empty or just the item), components included;
  BeautifulSoup is imported and paid for only when a hook is registered.
- Never raises for content: a missing item, an unknown object, an image without metadata or
  a link to an item without a page becomes a warning (and a :class:`BrokenLink`).

- Sanitising (``env.sanitize``, ``[site] sanitize_html``, on by default). The CMS is not
  trusted to send harmless HTML (a compromised endpoint, a preview of an untrusted draft), so
  each element's raw value goes through :func:`.sanitize.sanitize_rich_text` — an allowlist
  of exactly what the Delivery API emits — *before* it is parsed. That point, rather than
  the resolved output, because (1) the allowlist can then be the API's own language: the
  resolver still sees the ``<object>`` placeholders and the ``data-*`` attributes of ``a``,
  ``figure`` and ``img`` it needs, and these are on the list, while everything the resolver
  adds afterwards is the site's (URLs from routing, component templates,
  ``rich_text/image.html``, the default ``<figure>``) and is spliced in as strings after
  serialisation, so it is never stripped; (2) nesting needs nothing special: a component's
  rich text is resolved by its own call (from the generic rendering or a template calling
  back), which sanitises its own value. What the resolver writes from JSON rather than from
  the HTML is checked where it is written: image URLs from the ``images`` metadata and asset
  URLs in the generic rendering must have a safe scheme (:func:`.sanitize.safe_url`), else the
  image or link is left out with a warning; every text and attribute value is escaped. An
  ``<object>`` never survives (each is replaced), and an ``<a data-item-id>`` gets its
  ``href`` from routing or is unwrapped, whatever ``href`` it came with. Real API values
  take a fast path that costs a few per cent of the resolution (see the sanitize module).

The output is the HTML5 serialisation of the parsed fragment (no-quirks mode, as pages are),
so it is well formed, text is escaped exactly once and no ``<object>`` survives, whatever
the markup. One caveat: an embedded item's HTML is spliced in where its object was;
Kontent.ai's editor puts objects between blocks, but an object inside a paragraph gets block
HTML (the generic ``<div>``) inside that paragraph, which a browser would re-nest.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from ..config import ImageConfig
from .sanitize import safe_url, sanitize_rich_text

if TYPE_CHECKING:
    from ..content.snapshot import ContentStore

__all__ = [
    "MAX_NESTING",
    "BrokenLink",
    "ImageContext",
    "ResolveResult",
    "RichTextDeps",
    "RichTextEnv",
    "SimpleEnv",
    "image_url",
    "render_default_embedded",
    "resolve_rich_text",
    "srcset_for",
]

JSON = dict[str, Any]

#: Components (and inline linked items) nest at most this many levels below the page item.
MAX_NESTING = 6

KENTICO_OBJECT_TYPE = "application/kenticocloud"
EMPTY_VALUES = frozenset({"", "<p><br></p>", "<p><br/></p>", "<p><br /></p>", "<p></p>"})


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class BrokenLink:
    """A link to an item that has no page: the ``<a>`` was unwrapped, its text kept."""

    source_item: str
    element: str
    language: str
    target_id: str
    target_codename: str | None = None


@dataclass
class RichTextDeps:
    """What a resolution looked at, for the incremental-build dependency graph.

    ``items``: codenames of inline linked items looked up (rendered, cycled or missing: a
    missing one may appear later). ``components``: component codenames. ``link_targets``: item
    ids behind ``<a data-item-id>`` links and cycle links. ``assets``: asset ids of images and
    asset links.
    """

    items: set[str] = field(default_factory=set)
    components: set[str] = field(default_factory=set)
    link_targets: set[str] = field(default_factory=set)
    assets: set[str] = field(default_factory=set)

    def update(self, other: RichTextDeps) -> None:
        self.items |= other.items
        self.components |= other.components
        self.link_targets |= other.link_targets
        self.assets |= other.assets


@dataclass
class ResolveResult:
    """The resolved HTML (safe to embed unescaped) and what the build should know about it."""

    html: str
    warnings: list[str] = field(default_factory=list)
    broken_links: list[BrokenLink] = field(default_factory=list)
    deps: RichTextDeps = field(default_factory=RichTextDeps)


@dataclass(frozen=True)
class ImageContext:
    """What ``render_image`` (the ``rich_text/image.html`` template) gets for one figure.

    ``html`` is the default rendering, so a template can wrap it instead of rebuilding it.
    ``width``/``height``/``srcset``/``sizes`` are None/"" when the metadata is missing.
    """

    src: str
    alt: str
    width: int | None
    height: int | None
    srcset: str
    sizes: str
    url: str
    asset_id: str | None
    image_id: str | None
    description: str | None
    html: str
    item: JSON
    element_codename: str
    language: str


class PostProcessor(Protocol):
    """A plugin hook: gets the BeautifulSoup fragment of a resolved element.

    Mutate it in place and return None, or return a replacement soup.
    """

    def __call__(self, fragment: Any) -> Any: ...


def _no_template(
    item: JSON, parent: JSON, rel: str, language: str, stack: tuple[str, ...]
) -> str | None:
    return None


def _no_url(item_id: str, language: str) -> str | None:
    return None


def _nothing(codename: str, language: str) -> JSON | None:
    return None


@dataclass
class RichTextEnv:
    """Everything the resolver needs from the build, as plain callables (easy to fake).

    - ``linked_item(codename, language)``: the item variant (a fallback variant is fine).
    - ``component(codename, language)``: the component (from ``modular_content``).
    - ``url_for_id(item_id, language)``: the page URL in ``language``, else along its fallback
      chain, else None (no page: the link is broken).
    - ``render_embedded(item, parent, rel, language, stack)``: HTML for a component
      (``rel="component"``) or inline linked item (``rel="link"``) from the template
      ``components/<type>.html``; None -> the generic rendering and a warning. To resolve the
      embedded item's own rich text, call :func:`resolve_rich_text` with
      ``stack=stack + (item codename,)``.
    - ``image_options``: widths/format/quality for ``srcset`` (``[images]`` in kontent.toml).
    - ``render_image(ImageContext)``: optional override (``rich_text/image.html``); None ->
      the default ``<figure><img ...></figure>``.
    - ``asset_url(url, asset_id)``: optional; localises ``<a data-asset-id>`` URLs (and asset
      links of the generic rendering) when asset download is on.
    - ``local_image(url, image_options)``: optional; ``(src, srcset, width, height)`` of an
      image from its downloaded files when asset download is on (URLs as the site serves
      them), None to keep the CDN's.
    - ``site_url(url)``: optional; a site path (``/images/x.svg``, ``/about/``) as the site
      serves it, under the path of ``[site] base_url`` (None: no such path). Applied to
      images and to links an editor wrote or an asset has; item links come from
      ``url_for_id`` already served so.
    - ``post_processors``: optional BeautifulSoup hooks, run on a page item's own element
      (``stack`` empty or just that item), embedded items included; not on nested calls.
    - ``sanitize``: sanitise each value from the CMS against the Delivery API's allowlist
      (``[site] sanitize_html``); off only for a CMS whose every author is trusted.
    """

    linked_item: Callable[[str, str], JSON | None] = _nothing
    component: Callable[[str, str], JSON | None] = _nothing
    url_for_id: Callable[[str, str], str | None] = _no_url
    render_embedded: Callable[[JSON, JSON, str, str, tuple[str, ...]], str | None] = _no_template
    image_options: ImageConfig = field(default_factory=ImageConfig)
    render_image: Callable[[ImageContext], str | None] | None = None
    asset_url: Callable[[str, str], str] | None = None
    post_processors: Sequence[PostProcessor] = ()
    sanitize: bool = True
    site_url: Callable[[str], str] | None = None
    local_image: (
        Callable[[str, ImageConfig], tuple[str, str, int | None, int | None] | None] | None
    ) = None


class SimpleEnv(RichTextEnv):
    """A ready-made env over a :class:`ContentStore`: lookups from the store, no templates.

    ``url_for_id`` defaults to "no item has a page" (every item link is reported broken).
    """

    def __init__(
        self,
        store: ContentStore,
        url_for_id: Callable[[str, str], str | None] | None = None,
        *,
        image_options: ImageConfig | None = None,
        render_embedded: Callable[[JSON, JSON, str, str, tuple[str, ...]], str | None]
        | None = None,
        render_image: Callable[[ImageContext], str | None] | None = None,
        asset_url: Callable[[str, str], str] | None = None,
        post_processors: Sequence[PostProcessor] = (),
        sanitize: bool = True,
    ) -> None:
        super().__init__(
            linked_item=store.item,
            component=store.component,
            url_for_id=url_for_id or _no_url,
            render_embedded=render_embedded or _no_template,
            image_options=image_options or ImageConfig(),
            render_image=render_image,
            asset_url=asset_url,
            post_processors=post_processors,
            sanitize=sanitize,
        )
        self.store = store


def _text(value: str) -> str:
    """Escape text exactly as the HTML5 serialiser does, so output re-parses unchanged."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )


def _attr(value: str) -> str:
    """Escape a double-quoted attribute value as the HTML5 serialiser does."""
    return _text(value).replace('"', "&quot;")


# --------------------------------------------------------------------------- image URLs

_FITS = frozenset({"crop", "clip", "scale"})
_FORMATS = frozenset({"gif", "png", "png8", "jpg", "pjpg", "webp", "avif"})
_AUTOS = frozenset({"format"})
_UNQUOTED = frozenset({"fit", "fm", "auto"})


def _number(name: str, value: float) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"image_url: {name} must be a positive number, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        return repr(value)
    return str(int(value))


@functools.lru_cache(maxsize=4096)
def image_url(
    url: str,
    w: float | None = None,
    h: float | None = None,
    fit: str | None = None,
    fm: str | None = None,
    q: int | None = None,
    auto: str | None = None,
) -> str:
    """``url`` with Kontent.ai Image Transformation API parameters (the ``image_url`` filter).

    Parameters already in the URL are replaced, others kept; order is fixed (w, h, fit, fm,
    q, auto) so output is deterministic. ``w``/``h`` are pixels (or 0-1 fractions),
    ``fit`` crop|clip|scale, ``fm`` gif|png|png8|jpg|pjpg|webp|avif, ``q`` 1-100,
    ``auto`` "format" (WebP/AVIF where the browser accepts it). ValueError on anything else.
    """
    new: list[tuple[str, str]] = []
    if w is not None:
        new.append(("w", _number("w", w)))
    if h is not None:
        new.append(("h", _number("h", h)))
    if fit is not None:
        if fit not in _FITS:
            raise ValueError(f"image_url: fit must be one of crop, clip, scale; got {fit!r}")
        new.append(("fit", fit))
    if fm is not None:
        if fm not in _FORMATS:
            raise ValueError(
                f"image_url: fm must be one of {', '.join(sorted(_FORMATS))}; got {fm!r}"
            )
        new.append(("fm", fm))
    if q is not None:
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 100:
            raise ValueError(f"image_url: q must be an integer from 1 to 100, got {q!r}")
        new.append(("q", str(q)))
    if auto is not None:
        if auto not in _AUTOS:
            raise ValueError(f"image_url: auto must be 'format', got {auto!r}")
        new.append(("auto", auto))
    if not new:
        return url
    base, hash_, fragment = url.partition("#")
    path, _, query = base.partition("?")
    # fit, fm and auto are one of a few lower-case words checked above: nothing to quote.
    added = [f"{k}={v}" if k in _UNQUOTED else f"{k}={quote(v, safe='')}" for k, v in new]
    if not query:
        return f"{path}?{'&'.join(added)}{hash_}{fragment}"
    names = {k for k, _ in new}
    kept = [p for p in query.split("&") if p and p.partition("=")[0] not in names]
    kept += added
    return f"{path}?{'&'.join(kept)}{hash_}{fragment}"


def _format_params(options: ImageConfig) -> tuple[str | None, int | None, str | None]:
    return options.format, options.quality, "format" if options.auto_format else None


@functools.lru_cache(maxsize=4096)
def srcset_for(url: str, width: int | None, options: ImageConfig) -> str:
    """``srcset`` for an image ``width`` pixels wide: one candidate per configured width below
    the original, then the original itself (never upscaled). "" when the width is unknown."""
    if not width or width <= 0:
        return ""
    fm, q, auto = _format_params(options)
    original = image_url(url, fm=fm, q=q, auto=auto)
    if "?" in url or "#" in url:
        parts = [
            f"{image_url(url, w=w, fm=fm, q=q, auto=auto)} {w}w"
            for w in options.widths
            if w < width
        ]
    else:
        # A URL without query or fragment: ``image_url(url, w=w, ...)`` is the URL, ``w`` first,
        # then the same parameters as the original's (config widths are positive integers).
        rest = original[len(url) :].replace("?", "&", 1)
        parts = [
            f"{url}?w={w}{rest} {w}w"
            if type(w) is int and w > 0
            else f"{image_url(url, w=w, fm=fm, q=q, auto=auto)} {w}w"
            for w in options.widths
            if w < width
        ]
    parts.append(f"{original} {width}w")
    return ", ".join(parts)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value > 0:
        return int(value)
    return None


@functools.lru_cache(maxsize=4096)
def _image_html(
    url: str,
    alt: str,
    width: int | None,
    height: int | None,
    options: ImageConfig,
    transform: bool = True,
) -> tuple[str, str, str, str]:
    """The default ``<figure>`` (memoised: the same image recurs across pages and languages).

    ``transform`` False keeps ``url`` as it is (an image without metadata may not be an asset
    the Image Transformation API serves). Returns (html, src, srcset, sizes)."""
    fm, q, auto = _format_params(options)
    src = image_url(url, fm=fm, q=q, auto=auto) if url and transform else url
    srcset = srcset_for(url, width, options) if url and transform else ""
    sizes = options.sizes if srcset else ""
    return _figure_html(src, alt, width, height, srcset, sizes), src, srcset, sizes


def _figure_html(
    src: str, alt: str, width: int | None, height: int | None, srcset: str, sizes: str
) -> str:
    size = f' width="{width}"' if width else ""
    if height:
        size += f' height="{height}"'
    responsive = f' srcset="{_attr(srcset)}" sizes="{_attr(sizes)}"' if srcset else ""
    return (
        f'<figure><img src="{_attr(src)}" alt="{_attr(alt)}"{size}'
        f' loading="lazy" decoding="async"{responsive}></figure>'
    )


# --------------------------------------------------------------------------- the parser


class _LexborBackend:
    """The one boundary around the HTML parser (selectolax's lexbor binding): parse, find the
    special nodes (``a``, then ``figure``, then ``object`` elements, each in document order),
    edit, serialise. A replaced or unwrapped node is detached, not freed, so editing a node
    inside one that was already replaced is harmless (and invisible).

    Parsing goes into a reused document.
    Creating a lexbor document costs ~20 µs, more than parsing a small component's rich text,
    so each thread keeps one document per nesting depth and parses by assigning
    ``body.inner_html`` (the HTML5 fragment algorithm, context ``<body>``). lexbor keeps the
    memory of replaced nodes (~40 KB per 5 KB element) until the document is freed, so a
    document is replaced after :attr:`REUSE` parses: a few MB per thread and depth, and no
    slower than a larger limit. Mutation events are off (they only serve ``<selectedcontent>``,
    which rich text never has) for a few per cent more speed.
    """

    name = "selectolax"
    REUSE = 64

    def __init__(self) -> None:
        from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser

        self._parser = LexborHTMLParser
        self._options = int(LexborDocumentOptions.WO_EVENTS)
        self._local = threading.local()

    def parse(self, html: str) -> Any:
        local = self._local
        pool: list[list[Any]] | None = getattr(local, "pool", None)
        if pool is None:
            pool = local.pool = []
            local.depth = 0
        depth = local.depth
        if depth == len(pool):
            pool.append([None, self.REUSE])
        slot = pool[depth]
        if slot[1] >= self.REUSE:
            # no-quirks mode, as pages are (<!DOCTYPE html>)
            slot[0] = self._parser("<!DOCTYPE html>", options=self._options)
            slot[1] = 0
        slot[1] += 1
        doc = slot[0]
        doc.body.inner_html = html
        local.depth = depth + 1  # only once parsed: release() is not called after a failure
        return doc

    def release(self, doc: Any) -> None:
        self._local.depth -= 1

    def special_nodes(self, doc: Any) -> tuple[list[Any], list[Any], list[Any]]:
        return doc.tags("a"), doc.tags("figure"), doc.tags("object")

    def attributes(self, node: Any) -> dict[str, str | None]:
        return node.attributes  # type: ignore[no-any-return]

    def edit_attrs(self, node: Any, updates: dict[str, str], remove: list[str]) -> None:
        attrs = node.attrs
        for name, value in updates.items():
            attrs[name] = value
        for name in remove:
            del attrs[name]

    def first_img_attributes(self, node: Any) -> dict[str, str | None] | None:
        child = node.first_child
        if child is not None and child.tag == "img":
            return child.attributes  # type: ignore[no-any-return]
        img = node.css_first("img")
        return None if img is None else img.attributes

    def replace_with_text(self, node: Any, text: str) -> None:
        node.replace_with(text)

    def unwrap(self, node: Any) -> None:
        node.unwrap(delete_empty=True)  # an empty <a> would stay otherwise

    def serialize(self, doc: Any) -> str:
        return doc.body.inner_html or ""


@functools.cache
def _lexbor() -> _LexborBackend:
    return _LexborBackend()


@functools.cache
def _soup_formatter() -> Any:
    """BeautifulSoup output (post-processing hooks) like the HTML5 serialiser: ``<br>``,
    attributes in source order, and only ``&``, ``<``, ``>`` escaped in text (the default
    formatter sorts attributes and turns every non-ASCII letter into a named entity)."""
    from bs4.dammit import EntitySubstitution
    from bs4.formatter import HTMLFormatter

    class KeepOrder(HTMLFormatter):
        def attributes(self, tag: Any) -> Any:
            return list(tag.attrs.items()) if tag.attrs else []

    return KeepOrder(
        entity_substitution=EntitySubstitution.substitute_xml, void_element_close_prefix=""
    )


# --------------------------------------------------------------------------- resolution

# Embedded HTML is spliced in after serialisation: a node is replaced by a text node holding
# "<nonce>:<n>:", where the nonce is random per process, so real text cannot hold it by chance
# or design. ASCII keeps the serialised string compact (a non-Latin-1 marker would double the
# size of every string operation after it).
_MARK = f"kssg{os.urandom(8).hex()}:"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _splice(html: str, pieces: list[str]) -> str:
    chunks = html.split(_MARK)
    out = [chunks[0]]
    for chunk in chunks[1:]:
        number, sep, rest = chunk.partition(":")
        if sep and number.isdigit() and int(number) < len(pieces):
            out.append(pieces[int(number)])
            out.append(rest)
        else:  # not one of ours (cannot happen without knowing the nonce): leave it
            out.append(_MARK)
            out.append(chunk)
    return "".join(out)


class _Collector:
    __slots__ = ("broken", "deps", "warnings")

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.broken: list[BrokenLink] = []
        self.deps = RichTextDeps()


def resolve_rich_text(
    element: Mapping[str, Any],
    *,
    item: Mapping[str, Any],
    element_codename: str,
    language: str,
    env: RichTextEnv,
    stack: tuple[str, ...] = (),
) -> ResolveResult:
    """Resolve one rich-text element of ``item`` in ``language`` into safe HTML.

    Never raises for odd content: every problem becomes a warning (or a broken link) in the
    result.
    """
    collector = _Collector()
    resolution = _Resolution(
        element, item, element_codename, language, env, stack, _lexbor(), collector
    )
    html = resolution.run()
    if env.post_processors and html and len(resolution.chain) == 1:
        html = _post_process(html, env.post_processors)
    return ResolveResult(html, collector.warnings, collector.broken, collector.deps)


class _Resolution:
    """One element being resolved (state shared by the node handlers)."""

    __slots__ = (
        "backend",
        "chain",
        "codename",
        "collector",
        "element",
        "element_codename",
        "env",
        "item",
        "language",
        "pieces",
    )

    def __init__(
        self,
        element: Mapping[str, Any],
        item: Mapping[str, Any],
        element_codename: str,
        language: str,
        env: RichTextEnv,
        stack: tuple[str, ...],
        backend: _LexborBackend,
        collector: _Collector,
    ) -> None:
        self.element = element
        self.item = item
        system = item.get("system") or {}
        self.codename = str(system.get("codename") or "")
        self.element_codename = element_codename
        self.language = language
        self.env = env
        # The page item is the first entry; a template calling back passes the stack already
        # ending with this item.
        if stack and stack[-1] == self.codename:
            self.chain = tuple(stack)
        else:
            self.chain = (*stack, self.codename)
        self.backend = backend
        self.collector = collector
        self.pieces: list[str] = []

    def warn(self, message: str) -> None:
        self.collector.warnings.append(
            f"rich text {self.codename}.{self.element_codename} ({self.language}): {message}"
        )

    def mark(self, node: Any, html: str) -> None:
        """Replace ``node`` by a placeholder for ``html`` (spliced in after serialisation)."""
        self.backend.replace_with_text(node, f"{_MARK}{len(self.pieces)}:")
        self.pieces.append(html)

    def run(self) -> str:
        value = self.element.get("value")
        if not isinstance(value, str):
            if value is not None:
                self.warn(f"value is {type(value).__name__}, not a string; rendered empty")
            return ""
        if len(value) < 32 and value.strip() in EMPTY_VALUES:
            return ""
        backend = self.backend
        sanitize = self.env.sanitize
        try:
            doc = backend.parse(sanitize_rich_text(value) if sanitize else value)
        except UnicodeEncodeError:  # JSON may hold unpaired surrogates ("\ud800")
            self.warn("value holds unpaired surrogates; replaced with U+FFFD")
            value = _SURROGATE.sub("\ufffd", value)
            doc = backend.parse(sanitize_rich_text(value) if sanitize else value)
        try:
            links, figures, objects = backend.special_nodes(doc)
            link, figure, object_ = self.link, self.figure, self.object
            for node in links:
                link(node)
            for node in figures:
                figure(node)
            for node in objects:
                object_(node)
            html = backend.serialize(doc)
        finally:
            backend.release(doc)
        if self.pieces:
            html = _splice(html, self.pieces)
        if len(html) < 32 and html.strip() in EMPTY_VALUES:
            return ""
        return html

    # ---- <a>

    def link(self, node: Any) -> None:
        attrs = self.backend.attributes(node)
        data = [name for name in attrs if name[:5] == "data-"]
        site_url = self.env.site_url
        if not data:
            href = attrs.get("href") if site_url is not None else None
            if site_url is not None and href and href[:1] == "/" and href[1:2] != "/":
                self.backend.edit_attrs(node, {"href": site_url(href)}, [])
            return
        updates: dict[str, str] = {}
        if "data-item-id" in attrs:
            item_id = attrs["data-item-id"] or ""  # a valueless attribute reads as None
            self.collector.deps.link_targets.add(item_id)
            url = self.env.url_for_id(item_id, self.language) if item_id else None
            if url is None:
                self.broken_link(node, item_id)
                return
            updates["href"] = url
        if "data-asset-id" in attrs:
            asset_id = attrs["data-asset-id"]
            if asset_id:
                self.collector.deps.assets.add(asset_id)
                href = attrs.get("href")
                if href and self.env.asset_url is not None:
                    updates["href"] = href = self.env.asset_url(href, asset_id)
                if href and site_url is not None and href[:1] == "/" and href[1:2] != "/":
                    updates["href"] = site_url(href)
        if attrs.get("data-new-window") == "true":
            updates["target"] = "_blank"
            updates["rel"] = "noopener noreferrer"
        self.backend.edit_attrs(node, updates, data)

    def broken_link(self, node: Any, item_id: str) -> None:
        links = self.element.get("links")
        link = links.get(item_id) if isinstance(links, dict) else None
        target = link.get("codename") if isinstance(link, dict) else None
        self.collector.broken.append(
            BrokenLink(self.codename, self.element_codename, self.language, item_id, target)
        )
        self.warn(f"link to item {target or item_id!s} has no page; kept its text only")
        self.backend.unwrap(node)

    # ---- <figure>

    def figure(self, node: Any) -> None:
        backend = self.backend
        attrs = backend.attributes(node)
        if "data-image-id" not in attrs and "data-asset-id" not in attrs:
            return  # an ordinary figure
        image_id = attrs.get("data-image-id")
        asset_id = attrs.get("data-asset-id")
        img = backend.first_img_attributes(node) or {}
        image_id = image_id or img.get("data-image-id") or asset_id
        asset_id = asset_id or img.get("data-asset-id") or image_id
        if asset_id:
            self.collector.deps.assets.add(asset_id)
        images = self.element.get("images")
        meta = images.get(image_id or "") if isinstance(images, dict) else None
        if not isinstance(meta, dict):
            meta = None
        if meta is None:
            src = img.get("src") or ""
            if not src:
                self.warn(f"image {image_id} has no metadata and no src; left out")
                self.mark(node, "")
                return
            self.warn(f"image {image_id} has no metadata; kept as it is, without size or srcset")
            url, alt, width, height, description = src, img.get("alt") or "", None, None, None
            transform = False
        else:
            transform = True
            url = str(meta.get("url") or img.get("src") or "")
            if self.env.sanitize and not safe_url(url):
                self.warn(f"image {image_id} has a URL with an unsafe scheme; left out")
                self.mark(node, "")
                return
            description = meta.get("description")
            alt = description if isinstance(description, str) else (img.get("alt") or "")
            width = _int_or_none(meta.get("width"))
            height = _int_or_none(meta.get("height"))
        local = None
        if transform and self.env.local_image is not None:
            local = self.env.local_image(url, self.env.image_options)
        if local is not None:
            src, srcset, width, height = local
            sizes = self.env.image_options.sizes if srcset else ""
            html = _figure_html(src, alt, width, height, srcset, sizes)
        else:
            if self.env.site_url is not None and url[:1] == "/" and url[1:2] != "/":
                url = self.env.site_url(url)
            html, src, srcset, sizes = _image_html(
                url, alt, width, height, self.env.image_options, transform
            )
        if self.env.render_image is not None:
            custom = self.env.render_image(
                ImageContext(
                    src=src,
                    alt=alt,
                    width=width,
                    height=height,
                    srcset=srcset,
                    sizes=sizes,
                    url=url,
                    asset_id=asset_id,
                    image_id=image_id,
                    description=description if isinstance(description, str) else None,
                    html=html,
                    item=dict(self.item),
                    element_codename=self.element_codename,
                    language=self.language,
                )
            )
            if custom is not None:
                html = str(custom)
        self.mark(node, html)

    # ---- <object>

    def object(self, node: Any) -> None:
        attrs = self.backend.attributes(node)
        if attrs.get("type") != KENTICO_OBJECT_TYPE:
            self.warn(f"removed an unsupported <object type={attrs.get('type')!r}>")
            self.mark(node, "")
            return
        data_type = attrs.get("data-type")
        codename = attrs.get("data-codename") or ""
        if data_type != "item":
            self.warn(f"removed an object of unknown data-type {data_type!r} ({codename})")
            self.mark(node, "")
            return
        rel = attrs.get("data-rel") or "link"
        if rel not in ("component", "link"):
            self.warn(f"object {codename} has unknown data-rel {rel!r}; treated as a link")
            rel = "link"
        self.mark(node, self.embedded(codename, rel) if codename else self.no_codename())

    def no_codename(self) -> str:
        self.warn("removed an object without data-codename")
        return ""

    def embedded(self, codename: str, rel: str) -> str:
        env = self.env
        deps = self.collector.deps
        if rel == "component":
            deps.components.add(codename)
            found = env.component(codename, self.language) or env.linked_item(
                codename, self.language
            )
        else:
            deps.items.add(codename)
            found = env.linked_item(codename, self.language) or env.component(
                codename, self.language
            )
        what = "component" if rel == "component" else "linked item"
        if not isinstance(found, dict) or not isinstance(found.get("system"), dict):
            self.warn(f"{what} {codename} not found; removed")
            return ""
        if codename in self.chain:
            return self.cycle(found, codename, what)
        if len(self.chain) > MAX_NESTING:
            self.warn(
                f"{what} {codename} nests deeper than {MAX_NESTING} levels "
                f"({' > '.join(self.chain)}); removed"
            )
            return ""
        html = env.render_embedded(found, self.item, rel, self.language, self.chain)  # type: ignore[arg-type]
        if html is None:
            type_ = found["system"].get("type") or ""
            self.warn(f"no template components/{type_}.html; used the generic rendering")
            return _render_default_into(
                self.collector, self.backend, found, rel, self.language, self.chain, env
            )
        return str(html)

    def cycle(self, found: JSON, codename: str, what: str) -> str:
        item_id = found["system"].get("id")
        url = None
        if isinstance(item_id, str) and item_id:
            self.collector.deps.link_targets.add(item_id)
            url = self.env.url_for_id(item_id, self.language)
        path = " > ".join((*self.chain, codename))
        if url is None:
            self.warn(f"{what} {codename} embeds itself ({path}) and has no page; left out")
            return ""
        self.warn(f"{what} {codename} embeds itself ({path}); rendered as a link")
        name = found["system"].get("name") or codename
        return f'<a href="{_attr(url)}">{_text(str(name))}</a>'


# --------------------------------------------------------------------------- generic rendering


@functools.lru_cache(maxsize=1024)
def _css_token(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value)


def render_default_embedded(
    item: Mapping[str, Any],
    rel: str,
    language: str,
    stack: tuple[str, ...],
    env: RichTextEnv,
) -> ResolveResult:
    """The generic rendering of a component or inline linked item when no template exists.

    A ``<div>`` per item with one ``<div>`` per non-empty element (text escaped, rich text
    resolved recursively with ``stack`` extended, choices and terms by name, assets as links).
    Plain and predictable, so a site author sees the content and knows a template is missing.
    ``stack`` is the stack of the rich text that embeds ``item``. The result carries what the
    nested rich text reported.
    """
    collector = _Collector()
    html = _render_default_into(collector, _lexbor(), item, rel, language, stack, env)
    return ResolveResult(html, collector.warnings, collector.broken, collector.deps)


def _render_default_into(
    collector: _Collector,
    backend: _LexborBackend,
    item: Mapping[str, Any],
    rel: str,
    language: str,
    stack: tuple[str, ...],
    env: RichTextEnv,
) -> str:
    system = item.get("system") or {}
    codename = str(system.get("codename") or "")
    type_ = str(system.get("type") or "")
    css = "kontent-component" if rel == "component" else "kontent-linked-item"
    out = [f'<div class="{css} kontent-type-{_css_token(type_)}">']
    elements = item.get("elements") or {}
    for name, el in elements.items():
        if not isinstance(el, dict):
            continue
        kind = el.get("type")
        if kind == "rich_text":
            inner_stack = (*stack, codename)
            body = _Resolution(el, item, name, language, env, inner_stack, backend, collector).run()
        else:
            body, unsafe = _element_html(
                kind, el.get("value"), env.sanitize, env.asset_url, env.site_url
            )
            if unsafe:
                collector.warnings.append(
                    f"{codename}.{name} ({language}): left out {unsafe} asset URL(s) with an "
                    "unsafe scheme"
                )
        if body:
            out.append(f'<div class="kontent-element-{_css_token(name)}">{body}</div>')
    out.append("</div>")
    return "".join(out)


def _element_html(
    kind: Any,
    value: Any,
    sanitize: bool = True,
    asset_url: Callable[[str, str], str] | None = None,
    site_url: Callable[[str], str] | None = None,
) -> tuple[str, int]:
    """A non-rich-text element's value, for the generic rendering, and how many assets were
    left out for a URL with an unsafe scheme (when sanitising); ``asset_url`` localises,
    ``site_url`` serves a site path under the base path."""
    if value is None or value == "" or value == []:
        return "", 0
    if kind in ("multiple_choice", "taxonomy") and isinstance(value, list):
        names = (_text(str(v.get("name", ""))) for v in value if isinstance(v, dict))
        return ", ".join(names), 0
    if kind == "asset" and isinstance(value, list):
        links = []
        unsafe = 0
        for asset in value:
            if isinstance(asset, dict) and asset.get("url"):
                if sanitize and not safe_url(str(asset["url"])):
                    unsafe += 1
                    continue
                label = asset.get("description") or asset.get("name") or asset["url"]
                href = str(asset["url"])
                if asset_url is not None:
                    href = asset_url(href, "")
                if site_url is not None and href[:1] == "/" and href[1:2] != "/":
                    href = site_url(href)
                links.append(f'<a href="{_attr(href)}">{_text(str(label))}</a>')
        return " ".join(links), unsafe
    if kind == "modular_content" or isinstance(value, list | dict):
        return "", 0
    return _text(str(value)), 0


# --------------------------------------------------------------------------- post-processing


def _post_process(html: str, hooks: Sequence[PostProcessor]) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for hook in hooks:
        replaced = hook(soup)
        if replaced is not None:
            soup = replaced
    return str(soup.decode(formatter=_soup_formatter()))
