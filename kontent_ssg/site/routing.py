"""Routing: which pages exist, at which URL, written to which file.

Every URL is planned before anything renders, so rich-text links, ``url_for`` and language
switchers can point at any page. The functions here are pure: an item and a route give a URL;
a URL gives an output path relative to the output folder, or a :class:`RouteError` when it
would escape that folder. Two pages claiming one URL is an error naming both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import Config, ListingConfig, RouteConfig, TaxonomyPageConfig
from ..content.snapshot import ContentStore
from ..errors import RouteError
from ..plugins import PluginPage
from ..render.templates import PACKAGE_PREFIX

__all__ = [
    "MAX_SEGMENT_BYTES",
    "Page",
    "RoutePlan",
    "item_url",
    "listing_page_url",
    "listing_url",
    "output_path_for",
    "plan_routes",
    "slugify",
    "term_url",
    "text_slug",
    "with_language",
]

JSON = dict[str, Any]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Element types whose values are free text (a title), not slugs: slugified with text_slug.
_TEXT_ELEMENTS = frozenset({"text", "custom"})

#: The longest path segment (file or folder name) a URL may have. File systems allow 255
#: bytes per name (Linux, macOS; Windows 255 UTF-16 units), and the writer stages a file or
#: folder under a hidden name 17 bytes longer (``.{name}.kontent-ssg-tmp``, see
#: :class:`~kontent_ssg.builder.output.StagedWriter`). Segments are ASCII (``_SAFE_SEGMENT``),
#: so bytes and characters agree.
MAX_SEGMENT_BYTES = 255 - len(".") - len(".kontent-ssg-tmp")


#: The kinds of page the sitemap lists.
SITEMAP_KINDS = ("item", "listing", "taxonomy", "home")
#: URLs per sitemap file (the sitemaps protocol's limit); above it, ``sitemap.xml`` is a
#: sitemap index of ``sitemap-1.xml``, ``sitemap-2.xml``, …
SITEMAP_URLS = 50_000


@dataclass(frozen=True)
class Page:
    """One output file: what renders it and where it goes.

    ``kind`` is ``item``, ``listing``, ``taxonomy``, ``home`` (generated where nothing else
    claims a language's home URL), ``notfound``, ``sitemap``, ``feed``, ``robots`` or
    ``plugin`` (a plugin's own page); ``key`` identifies the source (item codename, listing
    name, ``group/term``, plugin page name) and ``number`` the listing page. ``url`` is
    site-relative (``/articles/x/``) and ``path`` the file relative to the output folder
    (``articles/x/index.html``).
    """

    kind: str
    key: str
    language: str
    url: str
    path: str
    template: str | None = None
    number: int = 1

    @property
    def label(self) -> str:
        """Human name for messages: ``article 'my_post' (en-US)``."""
        if self.kind == "listing":
            return f"listing '{self.key}' page {self.number} ({self.language})"
        if self.kind == "home":
            return f"the home page ({self.language})"
        if self.kind == "plugin":
            return f"plugin page '{self.key}' ({self.language})"
        if self.kind == "sitemap":
            return self.url.lstrip("/")
        return f"{self.kind} '{self.key}' ({self.language})"


@dataclass
class RoutePlan:
    """Every page of the site and the URL index links resolve against."""

    pages: list[Page] = field(default_factory=list)
    # (codename, language) -> URL of the item's own page in that language
    item_urls: dict[tuple[str, str], str] = field(default_factory=dict)
    # item codename -> languages it has a page in, default language first
    item_languages: dict[str, list[str]] = field(default_factory=dict)
    # Items that could not be routed: (codename, language, reason); reported, never written
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    by_path: dict[str, Page] = field(default_factory=dict)
    _sorted_paths: list[str] | None = field(default=None, init=False, repr=False, compare=False)
    _kinds: dict[str, list[Page]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def sorted_paths(self) -> list[str]:
        """Every page's output path, sorted: made once per plan (a patched plan keeps its
        routes, so a webhook rebuild does not sort 142k paths at 100k items). The list is
        shared: never change it."""
        if self._sorted_paths is None:
            self._sorted_paths = sorted(self.by_path)
        return self._sorted_paths

    def of_kind(self, kind: str) -> list[Page]:
        """The pages of ``kind``, in plan order: indexed once per plan, so that what looks for
        the few listing or sitemap pages does not walk 142k item pages at 100k items on
        every webhook rebuild. The list is shared: never change it."""
        if self._kinds is None:
            kinds: dict[str, list[Page]] = {}
            for page in self.pages:
                kinds.setdefault(page.kind, []).append(page)
            self._kinds = kinds
        return self._kinds.get(kind, [])

    def add(self, page: Page) -> None:
        """Add ``page``; two pages writing one file is a :class:`RouteError` naming both."""
        other = self.by_path.get(page.path)
        if other is not None:
            raise RouteError(
                f"two pages claim the URL {page.url}: {other.label} and {page.label}",
                hint="give one of them a different slug, or change the route's path in "
                "kontent.toml",
            )
        self.by_path[page.path] = page
        self.pages.append(page)
        self._sorted_paths = self._kinds = None
        if page.kind == "item":
            self.item_urls[(page.key, page.language)] = page.url
            self.item_languages.setdefault(page.key, []).append(page.language)


def slugify(value: str) -> str:
    """Make one path segment from a slug value: ASCII letters, digits and ``.-_~`` only.

    Accents are folded (``artículo`` → ``articulo``); any other run of odd characters becomes
    ``-``. Returns ``""`` when nothing usable is left, which callers reject.
    """
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", folded).strip("-")
    if slug in ("", ".", "..") or slug.startswith("."):
        return ""
    return slug


def text_slug(value: str) -> str:
    """Make one path segment from free text (a title, an item's name): transliterated to
    ASCII (``Straße`` → ``strasse``, ``Ærø`` → ``aero``, ``北京`` → ``beijing``), lower case,
    every run of other characters ``-``: ``Coffee: Beverages Explained`` →
    ``coffee-beverages-explained``. Returns ``""`` when nothing is left."""
    from anyascii import anyascii

    return _NOT_ALNUM.sub("-", anyascii(value).lower()).strip("-")


def _placeholder_value(name: str, item: JSON, language: str) -> tuple[str, bool]:
    """The raw value of a route placeholder, and whether it is free text (slugified with
    :func:`text_slug`) rather than a slug or identifier (kept as written, checked)."""
    system = item["system"]
    if name == "language":
        return language, False
    if name.startswith("system."):
        value = system.get(name[len("system.") :])
        if value is None or isinstance(value, (dict, list)):
            raise ValueError(f"{{{name}}}: system property is missing or not a value")
        return str(value), name == "system.name"
    element = (item.get("elements") or {}).get(name)
    if element is None:
        raise ValueError(f"{{{name}}}: the item has no element '{name}'")
    value = element.get("value")
    if isinstance(value, list):
        # taxonomy / multiple choice: the first term's codename; linked items: first codename
        value = value[0].get("codename") if value and isinstance(value[0], dict) else None
    if value is None or value == "":
        raise ValueError(f"{{{name}}}: element '{name}' is empty")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value), element.get("type") in _TEXT_ELEMENTS


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _unsafe_reason(raw: str) -> str | None:
    """Why a placeholder value must not become a path segment (``None`` when it may)."""
    if raw.strip() in (".", ".."):
        return f"the value {raw!r} would name a parent folder"
    if "/" in raw or "\\" in raw:
        return f"the value {raw!r} contains a path separator"
    if _CONTROL.search(raw):
        return f"the value {raw!r} contains control characters"
    if ".." in raw:
        return f"the value {raw!r} contains '..'"
    return None


def with_language(path: str, language: str, default_language: str) -> str:
    """Prefix a default-language path with ``/{language}`` for the other languages."""
    if language == default_language or "{language}" in path:
        return path
    return f"/{language}{path}"


def item_url(route: RouteConfig, item: JSON, language: str, default_language: str) -> str:
    """The URL of ``item``'s page in ``language``; :class:`ValueError` says why there is none."""
    path = with_language(route.path, language, default_language)

    def substitute(match: re.Match[str]) -> str:
        raw, is_text = _placeholder_value(match.group(1), item, language)
        if is_text:
            # Free text: every odd character becomes '-', so nothing unsafe survives.
            slug = text_slug(raw)
            if not slug:
                raise ValueError(f"{{{match.group(1)}}}: the value {raw!r} leaves no usable slug")
            return slug
        reason = _unsafe_reason(raw)
        if reason:
            raise ValueError(f"{{{match.group(1)}}}: {reason}")
        slug = slugify(raw)
        if not slug:
            raise ValueError(f"{{{match.group(1)}}}: the value {raw!r} leaves no usable slug")
        return slug

    return filled_url(path, _PLACEHOLDER.sub(substitute, path))


def filled_url(pattern: str, url: str) -> str:
    """``url``, made from the route ``pattern`` by filling its placeholders, as a page URL.

    A page's file extension comes from the route, never from content: when the last segment
    of ``pattern`` ends with a placeholder (``/articles/{url}``), the page is a folder index
    whatever the value holds (a slug ``evil.js`` gives ``/articles/evil.js/``, not a
    JavaScript file); ``/articles/{url}.html`` keeps the route's ``.html``. A pattern ending in
    ``/`` or in a literal name is a folder or that file, as :func:`normalise_url` says.
    """
    last = pattern.rsplit("/", 1)[-1]
    placeholders = list(_PLACEHOLDER.finditer(last))
    if placeholders and "." not in last[placeholders[-1].end() :] and not url.endswith("/"):
        return url + "/"
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """A path without an extension is a folder: ``/about`` → ``/about/`` (served as index)."""
    last = url.rsplit("/", 1)[-1]
    if last and "." not in last:
        return url + "/"
    return url


def output_path_for(url: str) -> str:
    """The file (relative, POSIX) a site URL is written to; :class:`ValueError` if unsafe.

    ``/a/b/`` → ``a/b/index.html``; ``/feed.xml`` → ``feed.xml``. Every segment must be a safe
    name, so nothing can escape the output folder.
    """
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError(f"URL {url!r} must start with a single '/'")
    segments = [s for s in url.split("/")[1:-1]]
    last = url.rsplit("/", 1)[-1]
    for segment in [*segments, last] if last else segments:
        if segment in ("", ".", "..") or not _SAFE_SEGMENT.fullmatch(segment):
            raise ValueError(f"URL {url!r} has an unsafe or empty segment {segment!r}")
        if len(segment) > MAX_SEGMENT_BYTES:
            raise ValueError(
                f"the URL segment {segment[:24]}… is {len(segment)} bytes long; a file or "
                f"folder name may have at most {MAX_SEGMENT_BYTES}"
            )
    if not last:
        return "/".join([*segments, "index.html"])
    return "/".join([*segments, last])


def listing_page_url(path: str, number: int) -> str:
    """Page 1 of a listing lives at ``path``, page N at ``{path}page/N/``."""
    if number == 1:
        return path
    base = path if path.endswith("/") else path + "/"
    return f"{base}page/{number}/"


def listing_url(listing: ListingConfig, language: str, default: str, number: int = 1) -> str:
    """The URL of page ``number`` of a listing in ``language`` (whether it has one or not)."""
    url = normalise_url(listing_page_url(with_language(listing.path, language, default), number))
    return url.replace("{language}", language)


def term_url(tax: TaxonomyPageConfig, term: str, language: str, default: str) -> str | None:
    """The URL of a term's page in ``language`` (whether it has one or not); None when the
    term's codename leaves no usable slug."""
    slug = slugify(term)
    if not slug:
        return None
    pattern = with_language(tax.path, language, default)
    return filled_url(pattern, pattern.replace("{term}", slug).replace("{language}", language))


def routed_languages(config: Config, store: ContentStore) -> list[str]:
    """The languages to build, default first: ``[kontent] languages`` or all crawled."""
    crawled = store.languages
    if config.kontent.languages:
        return [lang for lang in config.kontent.languages if lang in crawled] or crawled
    return crawled


def plan_routes(
    config: Config,
    store: ContentStore,
    languages: Iterable[str],
    listing_counts: Mapping[tuple[str, str], int] | None = None,
    taxonomy_terms: Mapping[str, list[str]] | None = None,
    term_counts: Mapping[tuple[str, str, str], int] | None = None,
    static: Collection[str] = (),
    plugin_pages: Iterable[PluginPage] = (),
) -> RoutePlan:
    """Plan every page: item pages, listing pages, taxonomy term pages and the site files.

    ``listing_counts[(name, language)]`` is how many items each listing has (for pagination);
    ``taxonomy_terms[group]`` the term codenames that get a page, ``term_counts[(group, term,
    language)]`` how many items each term page lists. A listing or term page with no items in
    a language gets no page there, unless ``[site] empty_pages`` (or the counts are not given).
    Items whose URL is unsafe are recorded in ``plan.rejected`` and get no page. Where no page
    and no ``static`` file (paths relative to the output) claims a language's home URL
    (``/``, ``/{language}/``), a home page is generated: always in the default language (the
    404 page links there), in another language when it has pages of its own.
    """
    languages = list(languages)
    keep_empty = config.site.empty_pages
    default = languages[0] if languages else store.default_language
    plan = RoutePlan()
    # Walks the items' summaries; an item is decoded only where a route path names an
    # element its summary leaves out (free text: {title}).
    names = {
        name
        for route in config.routes.values()
        for name in _PLACEHOLDER.findall(route.path)
        if name != "language" and not name.startswith("system.")
    }
    for language in languages:
        for item in store.walk(language, names, config.routes, translated_only=True):
            system = item["system"]
            route = config.routes[system["type"]]
            try:
                url = item_url(route, item, language, default)
                path = output_path_for(url)
            except ValueError as exc:
                plan.rejected.append((system["codename"], language, str(exc)))
                continue
            plan.add(Page("item", system["codename"], language, url, path, route.template))
    for language in languages:
        for name, listing in config.listings.items():
            count = (listing_counts or {}).get((name, language), 0)
            if count == 0 and listing_counts is not None and not keep_empty:
                continue
            total = max(1, -(-count // listing.page_size))
            for number in range(1, total + 1):
                url = listing_url(listing, language, default, number)
                try:
                    path = output_path_for(url)
                except ValueError as exc:
                    raise RouteError(
                        f"listing '{name}' page {number} ({language}): {exc}",
                        hint="a language codename must be a safe URL segment",
                    ) from None
                plan.add(Page("listing", name, language, url, path, listing.template, number))
        for group, tax in config.taxonomies.items():
            for term in (taxonomy_terms or {}).get(group, []):
                counted = term_counts is not None and not keep_empty
                if counted and not (term_counts or {}).get((group, term, language)):
                    continue
                found = term_url(tax, term, language, default)
                if found is None:
                    plan.rejected.append((f"{group}/{term}", language, "term has no usable slug"))
                    continue
                try:
                    path = output_path_for(found)
                except ValueError as exc:
                    plan.rejected.append((f"{group}/{term}", language, str(exc)))
                    continue
                plan.add(Page("taxonomy", f"{group}/{term}", language, found, path, tax.template))
    for extra in plugin_pages:
        for language in languages if extra.per_language else [default]:
            url = with_language(extra.path, language, default).replace("{language}", language)
            url = normalise_url(url)
            try:
                path = output_path_for(url)
            except ValueError as exc:
                raise RouteError(
                    f"plugin '{extra.plugin}': page '{extra.name}': {exc}",
                    hint="give add_page() a path of safe segments, starting with '/'",
                ) from None
            plan.add(Page("plugin", extra.name, language, url, path))
    home_template = "home.html"
    templates = {r.template for r in config.routes.values()}
    templates |= {listing.template for listing in config.listings.values()}
    templates |= {tax.template for tax in config.taxonomies.values()}
    if home_template in templates:
        # The site's home.html renders other pages (its home item, say): not this one.
        home_template = PACKAGE_PREFIX + home_template
    with_pages = {p.language for p in plan.pages}
    for language in languages:
        url = with_language("/", language, default)
        path = output_path_for(url)
        if path in plan.by_path or path in static:
            continue
        if language == default or language in with_pages or keep_empty:
            plan.add(Page("home", "home", language, url, path, home_template))
    plan.add(Page("notfound", "404", default, "/404.html", "404.html", "404.html"))
    plan.add(Page("robots", "robots", default, "/robots.txt", "robots.txt"))
    listed = sum(1 for p in plan.pages if p.kind in SITEMAP_KINDS)
    parts = -(-listed // SITEMAP_URLS)
    if parts <= 1:
        plan.add(Page("sitemap", "sitemap", default, "/sitemap.xml", "sitemap.xml"))
    else:
        # The sitemaps protocol allows 50,000 URLs a file: sitemap.xml becomes the index.
        plan.add(Page("sitemap", "index", default, "/sitemap.xml", "sitemap.xml", number=parts))
        for number in range(1, parts + 1):
            url = f"/sitemap-{number}.xml"
            plan.add(Page("sitemap", "sitemap", default, url, url[1:], number=number))
    if config.feed is not None:
        url = config.feed.path
        plan.add(Page("feed", config.feed.listing, default, url, output_path_for(url)))
    return plan
