"""Pages: each kind of page (item, listing, taxonomy term, home, 404, robots, sitemap, feed)
rendered to bytes from the site plan, recording what it read.

:class:`PageRenderer` is made once per render process (:mod:`kontent_ssg.builder.parallel`);
``render(page)`` gives the page's bytes and its :class:`~kontent_ssg.render.templating.Recorder`
(dependency keys, warnings, broken links). Every link of an HTML page is checked against the
site's pages and static files as it renders (:mod:`.links`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..config import Config
from ..errors import PluginError
from ..incremental import keys
from ..render.templating import Pagination, Recorder, Renderer
from . import routing
from .links import internal_path, page_links, resolves
from .ordering import sort_items
from .plan import SitePlan
from .routing import Page, listing_url, output_path_for, with_language

__all__ = ["HOME_ITEMS", "HomeSection", "PageRenderer", "xml_text"]

JSON = dict[str, Any]

#: Items per section of the generated home page.
HOME_ITEMS = 5


@dataclass(frozen=True)
class HomeSection:
    """One section of the generated home page (``sections`` in ``home.html``)."""

    name: str  # the listing's name, or the routed type's codename
    title: str
    url: str | None  # the listing's first page (None for a routed type)
    items: list[Any]


# What XML 1.0 forbids anywhere in a document (its ``Char`` production): C0 controls other
# than tab, line feed and carriage return, lone surrogates, U+FFFE and U+FFFF. A title with
# one of them (a stray U+0008 pasted from a word processor) made the whole feed unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# A value holding none of these is written as it is (the sitemap has ~150k values at 10k
# items: the plain ones, nearly all of them, skip saxutils' replacements, ~3x faster).
_NOT_PLAIN = re.compile(f"[&<>\"'\t\n\r]|{_NOT_XML.pattern}")


def xml_text(value: str) -> str:
    """``value`` escaped for XML text, without the characters XML 1.0 does not allow."""
    if not _NOT_PLAIN.search(value):
        return value
    return escape(_NOT_XML.sub("", value))


def xml_attr(value: str) -> str:
    """``value`` as a quoted XML attribute value, without the characters XML 1.0 forbids."""
    if not _NOT_PLAIN.search(value):
        return f'"{value}"'
    return quoteattr(_NOT_XML.sub("", value))


@dataclass
class _SitemapMemo:
    """The last sitemap this process wrote, entry by entry, and what it was made from.

    A long-running builder (the webhook receiver) rewrites the sitemap after nearly every
    change (a publish moves ``last_modified``); making its ~14k entries afresh was ~50-80 ms of
    a ~200 ms rebuild at 10k real-shaped items. An entry is a function of its page's URL,
    alternates and lastmod: while the plan's routes and alternates are the same objects (a
    patched plan keeps them) and the base URL is the same, only entries whose lastmod moved
    are made again; while the items are the same (``ContentStore.versions``: the parts of a
    sitemap above 50,000 URLs are rendered one after the other), none is looked at again,
    and after a few were replaced (a webhook rebuild) only theirs are."""

    routes: Any
    alternates: Any
    base: str
    count: int  # len(routes.pages) when made
    pages: list[Page]  # the sitemap's pages, in URL order
    raws: list[JSON | None]  # the item variant of each (None: not an item page)
    lastmods: list[str | None]
    entries: list[str]
    versions: tuple[int, ...]  # of the items the entries were made from
    urls: list[str] | None = None  # the pages' URLs (sorted), made when first needed
    # The files made of the entries: part number -> its bytes (0: a single sitemap.xml).
    # A part none of whose entries changed is the very same bytes object again, which the
    # staging writer does not hash again (10 MB a part at 100k items; see
    # ``builder.output.page_digest``).
    files: dict[int, bytes] = field(default_factory=dict)
    # The UTF-8 length of each entry of a part in ``files``, once an entry of it changed: the
    # next change is spliced into the part's bytes (a copy of 10 MB at 100k items, instead of
    # joining and encoding its 50,000 entries again).
    lengths: dict[int, list[int]] = field(default_factory=dict)

    def replace(self, index: int, entry: str) -> None:
        """Entry ``index`` is now ``entry``: in the entries and in the files made of them."""
        size = routing.SITEMAP_URLS
        for part, first in ((0, 0), (index // size + 1, index // size * size)):
            data = self.files.get(part)
            if data is None:
                continue
            lengths = self.lengths.get(part)
            if lengths is None:
                chosen = self.entries[first : first + size] if part else self.entries
                lengths = self.lengths[part] = [len(e.encode("utf-8")) for e in chosen]
            at = index - first
            start = _SITEMAP_HEAD + sum(lengths[:at]) + at  # each entry ends with a newline
            new = entry.encode("utf-8")
            view = memoryview(data)
            self.files[part] = b"".join((view[:start], new, view[start + lengths[at] :]))
            lengths[at] = len(new)
        self.entries[index] = entry


_SITEMAP_HEAD_LINES = (
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
)
# Bytes before a sitemap file's first entry (its lines, each ending with a newline).
_SITEMAP_HEAD = sum(len(line.encode("utf-8")) + 1 for line in _SITEMAP_HEAD_LINES)

_sitemap_memo: _SitemapMemo | None = None
# (the plan's routes and static files; the link targets resolved against them)
_link_memo: tuple[Any, Any, dict[str, tuple[str, bool]]] | None = None


class PageRenderer:
    """Renders one :class:`Page` of any kind to bytes, recording what it read."""

    def __init__(self, config: Config, site: SitePlan, env: Any = None) -> None:
        listing_urls = {
            (page.key, page.language, page.number): page.url
            for page in site.routes.of_kind("listing")
        }
        default = site.languages[0] if site.languages else site.store.default_language
        home_urls = {}
        for language in site.languages:
            home = site.routes.by_path.get(output_path_for(with_language("/", language, default)))
            if home is not None:
                home_urls[language] = home.url
        self.r = Renderer(
            config,
            site.store,
            site.routes.item_urls,
            site.languages,
            term_urls=site.term_urls,
            assets=site.assets,
            listing_urls=listing_urls,
            home_urls=home_urls,
            plugins=site.plugins,
            plugin_page_urls={
                (page.key, page.language): page.url for page in site.routes.of_kind("plugin")
            },
            env=env,
        )
        self.site = site
        self.config = site.config
        self._link_paths: dict[str, str] = {}
        # path -> (its key, whether it names a file): kept from one renderer to the next
        # while the pages and static files are the same objects (a webhook rebuild's
        # patched plan), so that a term page's thousand links are not resolved again. Not
        # with downloaded assets: which of their files exist grows as pages are rendered.
        global _link_memo
        memo = _link_memo
        if site.assets is not None:
            self._link_targets: dict[str, tuple[str, bool]] = {}
        else:
            if memo is None or memo[0] is not site.routes or memo[1] is not site.static:
                memo = _link_memo = (site.routes, site.static, {})
            self._link_targets = memo[2]

    def render(self, page: Page) -> tuple[bytes, Recorder]:
        """The page's bytes, and what rendering it read and met. A plugin error is told
        which page it happened on."""
        self.r.page_language = page.language
        try:
            with self.r.recording() as rec:
                out = getattr(self, f"_{page.kind}")(page)
        except PluginError as exc:
            if exc.located:
                raise
            located = PluginError(f"{exc.message} (while rendering {page.label})", hint=exc.hint)
            located.located = True
            raise located from exc.__cause__
        if isinstance(out, str) and page.path.endswith((".html", ".htm")):
            self._check_links(page, out, rec)
        if self.site.assets is not None:  # assets it links on the CDN, named per page
            rec.warnings.extend(self.site.assets.page_warnings(page.url, rec.deps))
        return (out if isinstance(out, bytes) else out.encode("utf-8")), rec

    def _plugin(self, page: Page) -> str | bytes:
        """A plugin's own page (``plugin.add_page``): what its function returns."""
        return self.r.plugins.render_page(self.r, page.key, page.language, page.url)

    def _check_links(self, page: Page, text: str, rec: Recorder) -> None:
        """Every ``href``/``src``/``srcset`` of the page that points inside the site must name
        a page or a static file; the page depends on each path it points at (found or not),
        so it is judged again when a page or file appears or goes there."""
        by_path = self.site.routes.by_path
        static = self.site.static
        base_url = self.config.site.base_url
        base_path = self.r.base_path
        page_url = self.r.public(page.url)
        known = self._link_targets  # path -> (its key, whether it names a file)
        paths = self._link_paths  # root-relative URL -> the path it names
        seen: set[str] = set()
        for attribute, url in page_links(text):
            if base_path:
                # Served under base_url's path: a link is internal when it is under that
                # path (root-relative, relative or absolute); a root-relative one outside it
                # misses the site (a template that wrote "/css/x.css" without `|url`).
                if url == base_url or url.startswith(base_url + "/"):
                    url = base_path + (url[len(base_url) :] or "/")
                served = internal_path(url, page_url)
                if served is None or served in seen:
                    continue
                seen.add(served)
                if served != base_path and not served.startswith(base_path + "/"):
                    rec.broken_links.append({"attribute": attribute, "target": url})
                    continue
                path = served[len(base_path) :] or "/"
            else:
                found_path = paths.get(url)
                if found_path is None:
                    found_path = internal_path(url, page.url, base_url)
                    if url[:1] == "/" and found_path is not None:
                        paths[url] = found_path  # root-relative: the same on every page
                if found_path is None or found_path in seen:
                    continue
                seen.add(found_path)
                path = found_path
            target = known.get(path)
            if target is None:
                found = (
                    resolves(path, by_path)
                    or resolves(path, static)
                    or (self.site.assets is not None and self.site.assets.publishes(path))
                )
                target = known[path] = (keys.url(path), found)
            rec.deps.add(target[0])
            if not target[1]:
                rec.broken_links.append({"attribute": attribute, "target": url})

    def _alternates(self, page: Page) -> list[JSON]:
        """The page in every language it exists in, this one included (``is_current``), as
        hreflang annotations and language switchers list it."""
        found = self.site.alternates.get((page.kind, page.key, page.number), ())
        # The other languages' URLs are part of this page (incremental builds), and so is
        # whether the page exists there at all: it may appear or go in any language.
        default = self.site.languages[0]
        for language in self.site.languages:
            if page.kind == "item":
                self.r.record(keys.item(page.key, language))
            elif page.kind == "listing":
                listing = self.config.listings[page.key]
                self.r.record(keys.url(listing_url(listing, language, default, page.number)))
            elif page.kind == "taxonomy":
                group, _, term = page.key.partition("/")
                self.r.term_page_url(group, term, language)
            elif page.kind == "home":
                self.r.record(keys.url(with_language("/", language, default)))
        return [
            {
                "language": language,
                "url": self.r.public(url),
                "is_current": language == page.language,
            }
            for language, url in found
        ]

    def _base(self, page: Page) -> JSON:
        return {
            "site": self.r.site,
            "language": page.language,
            "alternates": self._alternates(page),
            "page_url": self.r.public(page.url),
        }

    def _template_for(self, wanted: str | None, fallback: str, what: str) -> str:
        name = wanted or fallback
        if self.r.has_template(name):
            return name
        self.r.warn(f"template {name!r} for {what} not found; used the default {fallback!r}")
        return fallback

    def _item(self, page: Page) -> str:
        raw = self.site.store.item(page.key, page.language)
        assert raw is not None
        item = self.r.view(raw, page.language)
        template = self._template_for(
            page.template, "item.html", f"content type '{raw['system']['type']}'"
        )
        context = self._base(page)
        context["item"] = item
        return str(self.r.render_template(template, context, what=page.label))

    def _listing(self, page: Page) -> str:
        listing = self.config.listings[page.key]
        codenames = self.site.listing_items[(page.key, page.language)]
        self.r.record(keys.listing(listing.type, page.language))
        self.r.record(keys.order(listing.type, page.language, listing.order.split()[0]))
        size = listing.page_size
        total = max(1, -(-len(codenames) // size))
        chunk = codenames[(page.number - 1) * size : page.number * size]
        views = (self.r.light_view(codename, page.language) for codename in chunk)
        items = [view for view in views if view is not None]
        urls = self._listing_urls(page)
        context = self._base(page)
        context.update(
            listing=page.key,
            page=Pagination(
                items=items,
                number=page.number,
                total_pages=total,
                prev_url=self.r.public(urls.get(page.number - 1)),
                next_url=self.r.public(urls.get(page.number + 1)),
                url=self.r.public(page.url),
            ),
        )
        template = self._template_for(page.template, "listing.html", f"listing '{page.key}'")
        return str(self.r.render_template(template, context, what=page.label))

    def _listing_urls(self, page: Page) -> dict[int, str]:
        return {p.number: p.url for p in self._listing_pages(page.key, page.language)}

    def _listing_pages(self, name: str, language: str) -> list[Page]:
        cache = self.__dict__.setdefault("_lp", {})
        key = (name, language)
        if key not in cache:
            cache[key] = [
                p
                for p in self.site.routes.of_kind("listing")
                if p.key == name and p.language == language
            ]
        return list(cache[key])

    def _taxonomy(self, page: Page) -> str:
        group, _, term_codename = page.key.partition("/")
        group_view = self.r.taxonomy_view(group, page.language)
        term = self.r.find_term(group, term_codename, page.language, group_view)
        for type_codename in self.site.term_types[group]:
            self.r.record(keys.listing(type_codename, page.language))
        context = self._base(page)
        context.update(
            group={"name": group_view["name"], "codename": group} if group_view else None,
            term=term,
            term_items=[
                view
                for raw in self._term_items(group, term_codename, term, page.language)
                if (view := self.r.light_view(raw["system"]["codename"], page.language)) is not None
            ],
        )
        template = self._template_for(page.template, "taxonomy.html", f"taxonomy '{group}'")
        return str(self.r.render_template(template, context, what=page.label))

    def _term_items(self, group: str, codename: str, term: Any, language: str) -> list[JSON]:
        """Items tagged with the term or any narrower one (a page for "Brewing" lists the
        espresso articles too), newest first. Term pages already depend on every item of
        the tagging types, so the narrower terms need no dependency of their own."""
        pending = list(getattr(term, "terms", None) or [])
        if not pending:  # the plan lists an item once per term (a shared list: read only)
            return self.site.tagged.get((group, codename, language), [])
        codenames = [codename]
        while pending:
            narrower = pending.pop(0)
            codenames.append(narrower.codename)
            pending.extend(narrower.terms or [])
        seen: set[str] = set()
        raws: list[JSON] = []
        for term_codename in codenames:
            for raw in self.site.tagged.get((group, term_codename, language), []):
                if raw["system"]["codename"] not in seen:
                    seen.add(raw["system"]["codename"])
                    raws.append(raw)
        if len(codenames) == 1:
            return raws
        return sort_items(raws, "system.last_modified desc")

    def _home(self, page: Page) -> str:
        """The generated home page: the newest items of each listing, then of each routed
        type no listing shows (newest by last modification)."""
        language = page.language
        # An item appearing may claim this URL (a route whose path is "/").
        self.r.record(keys.listing(None, language))
        sections: list[HomeSection] = []
        listed = set()
        for name, listing in self.config.listings.items():
            listed.add(listing.type)
            items = self._newest(name, language)
            if items:
                first = self._listing_pages(name, language)
                title = name.replace("_", " ").capitalize()
                sections.append(
                    HomeSection(name, title, self.r.public(first[0].url) if first else None, items)
                )
        for type_codename in self.config.routes:
            if type_codename in listed:
                continue
            items = self.r.query_items(
                type_codename, language, "system.last_modified desc", HOME_ITEMS
            )
            if items:
                type_json = self.site.store.types.get(type_codename) or {}
                title = (type_json.get("system") or {}).get("name") or type_codename
                sections.append(HomeSection(type_codename, title, None, items))
        context = self._base(page)
        context["sections"] = sections
        template = self._template_for(page.template, "home.html", "the home page")
        return str(self.r.render_template(template, context, what=page.label))

    def _newest(self, name: str, language: str) -> list[Any]:
        """The first items of listing ``name`` for the home page: what ``items(type,
        order)`` gives, taken from the plan (sorted there once per build) rather than by
        sorting every item of the type again, and recording what the listing's own pages
        record (the listing, its order field, the items shown) rather than every item of
        the type: a webhook changing an item outside the first few no longer re-renders
        the home pages (at 10k real-shaped items: 40 + 20 ms of CPU per rebuild)."""
        listing = self.config.listings[name]
        codenames = self.site.listing_items.get((name, language))
        if codenames is None:
            return self.r.query_items(listing.type, language, listing.order, HOME_ITEMS)
        self.r.record(keys.listing(listing.type, language))
        self.r.record(keys.order(listing.type, language, listing.order.split()[0]))
        items = []
        for codename in codenames:
            view = self.r.light_view(codename, language)
            if view is not None:
                items.append(view)
                if len(items) == HOME_ITEMS:
                    break
        return items

    def _notfound(self, page: Page) -> str:
        context = self._base(page)
        template = self._template_for("404.html", "404.html", "the 404 page")
        return str(self.r.render_template(template, context, what="the 404 page"))

    def _robots(self, page: Page) -> str:
        sitemap = self.r.absolute_url("/sitemap.xml")
        return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap}\n"

    def _sitemap(self, page: Page) -> str | bytes:
        global _sitemap_memo
        site = self.site
        item = site.store.light  # system only: the item's summary, never decoded
        # What the entries read: each item page's variant's last_modified (a change of it is
        # an ``order:…:system.last_modified`` key of the type), which pages exist and their
        # alternates (pages appearing or going re-render the sitemap; see Builder._choose;
        # an item becoming (un)translated is a ``type:`` key).
        for language in site.languages:
            for routed in sorted(self.config.routes):
                self.r.record(keys.listing(routed, language))
                self.r.record(keys.order(routed, language, "system.last_modified"))

        if page.key == "index":  # sitemap.xml of a site above SITEMAP_URLS: the parts
            # (no entry read here: the parts read them)
            parts = [
                f"  <sitemap><loc>{xml_text(self.r.absolute_url(f'/sitemap-{n}.xml'))}</loc>"
                "</sitemap>"
                for n in range(1, page.number + 1)
            ]
            return "\n".join(
                [
                    '<?xml version="1.0" encoding="UTF-8"?>',
                    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                    *parts,
                    "</sitemapindex>\n",
                ]
            )

        def lastmod_of(raw: JSON | None) -> str | None:
            return raw.get("system", {}).get("last_modified") if raw is not None else None

        base = self.config.site.base_url
        memo = _sitemap_memo
        routes, alternates_of = site.routes, site.alternates
        if (
            memo is None
            or memo.routes is not routes
            or memo.alternates is not alternates_of
            or memo.base != base
            or memo.count != len(routes.pages)
        ):
            pages = sorted(
                (p for p in routes.pages if p.kind in routing.SITEMAP_KINDS),
                key=lambda p: p.url,
            )
            raws = [item(p.key, p.language) if p.kind == "item" else None for p in pages]
            lastmods = [lastmod_of(raw) for raw in raws]
            entries = [
                self._sitemap_entry(
                    p.url, lastmod, alternates_of.get((p.kind, p.key, p.number), ())
                )
                for p, lastmod in zip(pages, lastmods, strict=True)
            ]
            memo = _SitemapMemo(
                routes,
                alternates_of,
                base,
                len(routes.pages),
                pages,
                raws,
                lastmods,
                entries,
                site.store.versions(),
            )
            _sitemap_memo = memo
        elif memo.versions != site.store.versions():
            raws, lastmods, entries = memo.raws, memo.lastmods, memo.entries
            for index in self._sitemap_stale(memo):
                p = memo.pages[index]
                if p.kind != "item":
                    continue
                raw = item(p.key, p.language)
                if raw is raws[index]:
                    continue  # the very variant the entry was made from
                raws[index] = raw
                lastmod = lastmod_of(raw)
                if lastmod != lastmods[index]:
                    lastmods[index] = lastmod
                    memo.replace(
                        index,
                        self._sitemap_entry(
                            p.url, lastmod, alternates_of.get((p.kind, p.key, p.number), ())
                        ),
                    )
            memo.versions = site.store.versions()
        part = 0 if page.path == "sitemap.xml" else page.number  # sitemap-<number>.xml
        data = memo.files.get(part)
        if data is None:
            chosen = memo.entries
            if part:
                size = routing.SITEMAP_URLS
                chosen = chosen[(part - 1) * size : part * size]
            data = memo.files[part] = "\n".join(
                [*_SITEMAP_HEAD_LINES, *chosen, "</urlset>\n"]
            ).encode("utf-8")
            memo.lengths.pop(part, None)
        return data

    def _sitemap_stale(self, memo: _SitemapMemo) -> Iterable[int]:
        """The positions in ``memo`` of the pages whose item may have changed since it was
        made: those of the items replaced since (``ContentStore.replaced_since``; a webhook
        rebuild replaces a few), else every page (~140 ms at 100k items)."""
        replaced = self.site.store.replaced_since(memo.versions)
        if replaced is None:
            return range(len(memo.pages))
        urls = memo.urls
        if urls is None:
            urls = memo.urls = [p.url for p in memo.pages]
        item_urls = self.site.routes.item_urls
        found = set()
        for language, codenames in replaced.items():
            for codename in codenames:
                url = item_urls.get((codename, language))
                if url is not None:
                    at = bisect.bisect_left(urls, url)
                    if at < len(urls) and urls[at] == url:
                        found.add(at)
        return sorted(found)

    def _sitemap_entry(
        self, url: str, lastmod: str | None, alternates: Sequence[tuple[str, str]]
    ) -> str:
        lines = ["  <url>", f"    <loc>{xml_text(self.r.absolute_url(url))}</loc>"]
        if lastmod:
            lines.append(f"    <lastmod>{xml_text(lastmod)}</lastmod>")
        if len(alternates) > 1:
            for language, href in alternates:
                lines.append(
                    f'    <xhtml:link rel="alternate" hreflang={xml_attr(language)} '
                    f"href={xml_attr(self.r.absolute_url(href))}/>"
                )
        lines.append("  </url>")
        return "\n".join(lines)

    def _feed(self, page: Page) -> str:
        feed = self.config.feed
        assert feed is not None
        listing = self.config.listings[feed.listing]
        language = self.site.languages[0]
        self.r.record(keys.listing(listing.type, language))
        self.r.record(keys.order(listing.type, language, listing.order.split()[0]))
        codenames = self.site.listing_items.get((feed.listing, language), [])
        entries = []
        updated = "1970-01-01T00:00:00Z"
        for codename in codenames[: max(listing.page_size, 20)]:
            raw = self.site.store.item(codename, language)
            if raw is None:
                continue
            view = self.r.view(raw, language)
            system = raw["system"]
            modified = system.get("last_modified") or updated
            updated = max(updated, modified)
            url = self.r.absolute_public(view.url) if view.url else ""
            title = _feed_title(raw)
            entry = [
                "  <entry>",
                f"    <title>{xml_text(title)}</title>",
                f"    <id>urn:uuid:{xml_text(system['id'])}</id>",
                f"    <updated>{xml_text(modified)}</updated>",
            ]
            if url:
                entry.append(f"    <link href={xml_attr(url)}/>")
            summary = _feed_summary(raw)
            if summary:
                entry.append(f"    <summary>{xml_text(summary)}</summary>")
            entry.append("  </entry>")
            entries.extend(entry)
        title = feed.title or self.config.site.title or feed.listing
        self_url = self.r.absolute_url(page.url)
        listing_url = self.r.absolute_url(listing.path.replace("{language}", language))
        head = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom">',
            f"  <title>{xml_text(title)}</title>",
            f"  <id>{xml_text(self_url)}</id>",
            f'  <link rel="self" href={xml_attr(self_url)}/>',
            f"  <link href={xml_attr(listing_url)}/>",
            f"  <updated>{xml_text(updated)}</updated>",
        ]
        return "\n".join([*head, *entries, "</feed>"]) + "\n"


def _feed_title(raw: JSON) -> str:
    elements = raw.get("elements") or {}
    title = elements.get("title") or {}
    if title.get("type") == "text" and title.get("value"):
        return str(title["value"])
    return str(raw["system"].get("name", ""))


def _feed_summary(raw: JSON) -> str:
    elements = raw.get("elements") or {}
    for name in ("summary", "description", "perex", "excerpt", "lead"):
        element = elements.get(name) or {}
        if element.get("type") == "text" and element.get("value"):
            return str(element["value"])
    return ""
