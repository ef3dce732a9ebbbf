"""Templating: the Jinja environment, friendly item wrappers, filters and globals.

Templates see items through :class:`ItemView`: ``item.system.<prop>``, ``item.elements`` (raw)
and ``item.<codename>`` (a friendly value: str, number, datetime, resolved rich text, lists of
items, assets, terms). Values are computed lazily and cached per (item, language), because one
item is typically read by many pages (its own, listings, pages linking to it).

While a page renders, a :class:`Recorder` notes everything the page read — items, components,
taxonomies, link targets, templates (found or missing), listing queries — together with the
warnings and broken links met on the way. Cached values keep the record of what computing them
read and replay it into every later page that reads them, so the record stays complete (no
false negatives) even though the work is done once. The incremental build stores these records.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from .. import speed
from ..config import Config, ImageConfig
from ..content.model import ContentModel
from ..content.snapshot import ContentStore
from ..errors import KontentSSGError, PluginError, TemplateError, UnknownNameError, did_you_mean
from ..incremental import keys
from ..plugins import Plugins, no_plugins
from ..site.ordering import order_names, sort_items
from ..site.routing import listing_url, term_url, with_language
from .markdown import render_markdown
from .sanitize import safe_url
from .templates import PACKAGE_PREFIX, PACKAGE_TEMPLATES

if TYPE_CHECKING:
    from ..assets.local import Localizer

__all__ = [
    "PACKAGE_TEMPLATES",
    "Asset",
    "ItemView",
    "Pagination",
    "Recorder",
    "Renderer",
    "Term",
    "image_url",
    "make_environment",
]

JSON = dict[str, Any]


# Last-resort templates, used only when neither the site nor the package folder has one.
_BUILTIN = {
    "item.html": '<!doctype html>\n<html lang="{{ language }}"><head><meta charset="utf-8">'
    "<title>{{ item.system.name }}</title></head>\n<body><h1>{{ item.system.name }}</h1>\n"
    "{% for codename, element in item.elements.items() %}"
    '<section class="element-{{ codename }}">{{ item[codename] }}</section>\n'
    "{% endfor %}</body></html>\n",
    "listing.html": '<!doctype html>\n<html lang="{{ language }}"><head><meta charset="utf-8">'
    "<title>{{ listing }}</title></head>\n<body><ul>{% for i in page.items %}"
    '<li><a href="{{ i.url }}">{{ i.system.name }}</a></li>{% endfor %}</ul></body></html>\n',
    "taxonomy.html": '<!doctype html>\n<html lang="{{ language }}"><head><meta charset="utf-8">'
    "<title>{{ term.name }}</title></head>\n<body><h1>{{ term.name }}</h1><ul>"
    '{% for i in term_items %}<li><a href="{{ i.url }}">{{ i.system.name }}</a></li>'
    "{% endfor %}"
    "</ul></body></html>\n",
    "404.html": '<!doctype html>\n<html><head><meta charset="utf-8"><title>Not found</title>'
    "</head><body><h1>Not found</h1></body></html>\n",
    "home.html": '<!doctype html>\n<html lang="{{ language }}"><head><meta charset="utf-8">'
    "<title>{{ site.title }}</title></head>\n<body>{% for s in sections %}<h2>{{ s.title }}</h2>"
    '<ul>{% for i in s.items %}<li><a href="{{ i.url }}">{{ i.system.name }}</a></li>'
    "{% endfor %}</ul>{% endfor %}</body></html>\n",
}


# ---------------------------------------------------------------------------------------------
# Recording what a page reads


@dataclass
class Recorder:
    """What rendering read and met: dependencies, warnings, broken links.

    ``deps`` holds dependency keys made by :mod:`kontent_ssg.incremental.keys`.
    """

    deps: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    broken_links: list[JSON] = field(default_factory=list)

    def merge(self, other: Recorder) -> None:
        self.deps |= other.deps
        self.warnings.extend(other.warnings)
        self.broken_links.extend(other.broken_links)


# ---------------------------------------------------------------------------------------------
# Friendly values


class _Attrs(Mapping[str, Any]):
    """A read-only dict with attribute access (``item.system.codename``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class Term:
    """A taxonomy term or multiple-choice option; ``url`` is its term page, when it has one."""

    name: str
    codename: str
    terms: tuple[Term, ...] = ()
    url: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Asset:
    url: str
    name: str = ""
    description: str | None = None
    width: int | None = None
    height: int | None = None
    type: str = ""
    size: int | None = None

    def __str__(self) -> str:
        return self.url


def parse_datetime(value: Any) -> datetime | None:
    """Delivery API date-times (``2024-01-02T03:04:05Z``) as aware UTC datetimes."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def image_url(value: Any, **params: Any) -> str:
    """The ``image_url`` filter: an asset (or URL) with Image Transformation API parameters
    (``w``, ``h``, ``fit``, ``fm``, ``q``, ``auto``: see :func:`.richtext.image_url`)."""
    from .richtext import image_url as transform

    url = value.url if isinstance(value, Asset) else value
    if isinstance(url, Mapping):
        url = url.get("url")
    if not url:
        return ""
    return str(transform(str(url), **params))


class ItemView:
    """An item (or component) as templates see it, in one language.

    A view made from an item's summary (``Renderer.light_view``: listing and term pages)
    decodes the item only when a template reads an element the summary leaves out
    (``dropped``), or the whole ``raw`` item."""

    __slots__ = (
        "_cache",
        "_dep",
        "_dropped",
        "_light",
        "_loaded",
        "_raw",
        "_renderer",
        "is_component",
        "language",
    )

    def __init__(
        self,
        renderer: Renderer,
        raw: JSON,
        language: str,
        is_component: bool = False,
        dropped: frozenset[str] = frozenset(),
        light: bool = False,
    ) -> None:
        self._renderer = renderer
        self._raw = raw
        self._dropped = dropped
        # Made from the store's summary of this very variant (Renderer.light_view): its
        # ``system`` is what a lookup of the item would find, the item is decoded when read.
        self._light = light
        self._loaded = not light
        self.language = language
        self.is_component = is_component
        self._cache: dict[str, tuple[Any, Recorder | None]] = {}
        # The dependency key reading this view records.
        codename = raw["system"]["codename"]
        self._dep = keys.component(codename) if is_component else keys.item(codename, language)

    @property
    def raw(self) -> JSON:
        """The item (decoded now when this view was made from its summary)."""
        if not self._loaded:
            self._loaded = True
            found = self._renderer.store.item(self._raw["system"]["codename"], self.language)
            self._raw = found or self._raw
        return self._raw

    def _has(self, name: str) -> bool:
        """Whether the item has element ``name`` (decoding it only if the summary left
        ``name`` out)."""
        elements = self._raw.get("elements")
        if elements and name in elements:
            return True
        if self._loaded or name not in self._dropped:
            return False
        return name in (self.raw.get("elements") or {})

    def _element(self, name: str) -> JSON:
        elements = self._raw.get("elements")
        if elements and name in elements:
            return elements[name]  # type: ignore[no-any-return]
        return self.raw["elements"][name]  # type: ignore[no-any-return]

    @property
    def system(self) -> _Attrs:
        return _Attrs(self._raw["system"])

    @property
    def elements(self) -> _Attrs:
        return _Attrs(self.raw.get("elements") or {})

    @property
    def codename(self) -> str:
        return str(self._raw["system"]["codename"])

    @property
    def id(self) -> str:
        return str(self._raw["system"]["id"])

    @property
    def type(self) -> str:
        return str(self._raw["system"]["type"])

    @property
    def name(self) -> str:
        return str(self._raw["system"].get("name", ""))

    @property
    def url(self) -> str | None:
        """This item's page in the current language, else its fallback's; None: no page."""
        return self._renderer.url_for_codename(
            self._raw["system"]["codename"], self.language, self._raw if self._light else None
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not self._has(name):
            raise AttributeError(name)
        return self._value(name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._has(name)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ItemView)
            and other.codename == self.codename
            and other.language == self.language
        )

    def __hash__(self) -> int:
        return hash((self.codename, self.language))

    def __repr__(self) -> str:
        return f"<ItemView {self.codename} ({self.language})>"

    def __str__(self) -> str:
        return self.name

    def _value(self, codename: str) -> Any:
        renderer = self._renderer
        cached = self._cache.get(codename)
        if cached is not None:
            if cached[1] is not None:
                renderer.replay(cached[1])
            return cached[0]
        kind = self._element(codename).get("type")
        if kind not in _RECORDING_KINDS:
            # Plain values read nothing beyond this item (already recorded): no recorder.
            value = renderer.friendly_value(self, codename)
            self._cache[codename] = (value, None)
            return value
        if kind == "rich_text":
            return renderer.cached_rich_text(self, codename)
        if not renderer.cacheable():
            return renderer.friendly_value(self, codename)
        with renderer.recording() as rec:
            value = renderer.friendly_value(self, codename)
        if renderer.cacheable():
            self._cache[codename] = (value, rec)
        return value


_PATH_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# ``item.<name>`` that never means an element, whatever the content type calls its elements.
_RESERVED_VIEW_ATTRIBUTES = frozenset({"system", "elements", "url"})

# Element types whose friendly value reads other things (items, taxonomies, links; asset
# elements record the downloaded files they use, with ``[site] download_assets``).
_RECORDING_KINDS = frozenset({"rich_text", "modular_content", "taxonomy", "asset"})

# Resolved rich text kept for re-use (a listing showing bodies, an item embedded on many
# pages). Bounded: most rich text is read by one page, and a 10k-item site would otherwise
# keep every body twice (cache and page).
RICH_TEXT_CACHE = 512
# Item views kept (then the renderer starts afresh): each holds its item and the values
# computed from it, so keeping every view of a build kept a decoded copy of every component
# (+450 MB at 10k real-shaped items). Views are equal by codename and language, so a fresh
# one for the same item is interchangeable with the old.
VIEW_CACHE = 2048


# (group, language) -> (the group, the term URLs and the config it was made from, the view,
# what making it read): see Renderer.taxonomy_view. The group is the store's object, replaced
# when the group changes; the term URLs are the plan's, kept by a patched plan.
_taxonomy_memo: dict[tuple[str, str], tuple[Any, Any, Any, Any, Recorder]] = {}


# ---------------------------------------------------------------------------------------------
# The Jinja environment


class _Environment(jinja2.Environment):
    """Records every template a page loads (found or not) into the current recorder."""

    renderer: Renderer | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[Any, tuple[jinja2.Template, str]] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        # In templates an element wins over the wrapper's conveniences (``name``,
        # ``language``, ``type``, ``id``, ``codename``): types often have a ``name`` element.
        # Only ``system``, ``elements`` and ``url`` are reserved, as PRODUCT.md says.
        if type(obj) is ItemView:
            if attribute not in _RESERVED_VIEW_ATTRIBUTES:
                if obj._has(attribute):
                    return obj._value(attribute)
            elif attribute == "url":  # every entry of a listing or term page reads it
                return obj.url
        return super().getattr(obj, attribute)

    def _load_template(self, name: Any, globals: Any) -> jinja2.Template:
        renderer = self.renderer
        if not globals:
            # Jinja's own cache would return the same template (never reloaded, never
            # evicted: ``auto_reload`` off, unbounded), at a higher cost per lookup.
            loaded = self._loaded.get(name)
            if loaded is not None:
                if renderer is not None:
                    renderer.record(loaded[1])
                return loaded[0]
        try:
            template = super()._load_template(name, globals)
        except jinja2.TemplateNotFound:
            if renderer is not None:
                renderer.record(keys.template(name))
            raise
        key = keys.template(name)
        if not globals and not self.auto_reload and self.cache is not None:
            self._loaded[name] = (template, key)
        if renderer is not None:
            renderer.record(key)
        return template


def make_environment(templates_dir: Path | None) -> jinja2.Environment:
    """Site templates override the package's defaults; built-ins are the last resort.
    ``kontent-ssg:<name>`` always names the package's own template."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None and templates_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    package = jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))
    if PACKAGE_TEMPLATES.is_dir():
        loaders.append(package)
    loaders.append(jinja2.DictLoader(_BUILTIN))
    if PACKAGE_TEMPLATES.is_dir():
        prefix, delimiter = PACKAGE_PREFIX[:-1], PACKAGE_PREFIX[-1]
        loaders.append(jinja2.PrefixLoader({prefix: package}, delimiter=delimiter))
    env = _Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg"), default_for_string=True
        ),
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["markdown"] = _markdown_filter
    env.filters["image_url"] = image_url
    env.filters["date"] = _date_filter
    return env


def markdown_filter(*, html: bool = False, sanitize: bool = True) -> Callable[[Any], Markup]:
    """The ``markdown`` filter: ``[site] markdown_html`` lets raw HTML through, and then
    ``[site] sanitize_html`` sanitises it (the text comes from the CMS)."""
    clean = html and sanitize

    def markdown(value: Any) -> Markup:
        if value is None:
            return Markup("")
        out = render_markdown(str(value), html)
        if clean:
            from .sanitize import sanitize_markdown_html

            out = sanitize_markdown_html(out)
        return Markup(out)

    return markdown


_markdown_filter = markdown_filter()


def _date_filter(value: Any, format: str = "%Y-%m-%d") -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return ""
    try:
        return _strftime(value, format)
    except TypeError:  # not hashable: a date-like object of the template's own
        return str(value.strftime(format))


@functools.lru_cache(maxsize=8192)
def _strftime(value: Any, format: str) -> str:
    """Memoised: ``strftime`` was 4% of a page's render, and a site's dates repeat (a
    listing shows the same days on many pages, many items share a publication day)."""
    return str(value.strftime(format))


def template_exists(env: jinja2.Environment, name: str) -> bool:
    try:
        env.loader.get_source(env, name)  # type: ignore[union-attr]
    except jinja2.TemplateNotFound:
        return False
    except UnicodeDecodeError as exc:
        raise TemplateError(
            f"template {name!r} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            hint="save the template as UTF-8",
        ) from None
    return True


def _template_frame(
    exc: BaseException, folders: tuple[Path, ...] = ()
) -> tuple[str | None, int | None]:
    """The innermost template and line in ``exc``'s traceback (Jinja rewrites the frames of
    template code so that they carry the template's file name and line)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.name or exc.filename, exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:
            filename = frame.f_code.co_filename
            name: str | None = None if filename == "<template>" else filename
            for folder in folders:
                try:
                    name = Path(filename).relative_to(folder).as_posix()
                    break
                except ValueError:
                    continue
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found


@dataclass(frozen=True)
class Pagination:
    """``page`` in listing templates."""

    items: list[Any]
    number: int
    total_pages: int
    prev_url: str | None
    next_url: str | None
    url: str


# ---------------------------------------------------------------------------------------------
# The renderer


class Renderer:
    """Renders templates for one build: owns the Jinja environment, views and recorders.

    ``urls`` maps ``(codename, language)`` to page URLs (planned before rendering), so links
    can point at any page. Not thread-safe: one renderer per process.
    """

    def __init__(
        self,
        config: Config,
        store: ContentStore,
        urls: Mapping[tuple[str, str], str],
        languages: list[str],
        env: jinja2.Environment | None = None,
        term_urls: Mapping[tuple[str, str, str], str] | None = None,
        assets: Localizer | None = None,
        listing_urls: Mapping[tuple[str, str, int], str] | None = None,
        home_urls: Mapping[str, str] | None = None,
        plugins: Plugins | None = None,
        plugin_page_urls: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.config = config
        # Downloaded assets (``[site] download_assets``): local URLs instead of the CDN's.
        self.assets = assets
        self.store = store
        self.urls = urls
        self.languages = languages
        self.default_language = languages[0] if languages else store.default_language
        self.term_urls = term_urls or {}
        self._term_keys: dict[tuple[str, str, str], str | None] = {}
        # (listing name, language, page number) -> URL: ``url_for('<listing>')``
        self.listing_urls = listing_urls or {}
        # language -> URL of the page at its home (``/``, ``/{language}/``): ``url_for('home')``
        self.home_urls = home_urls or {}
        self.model = ContentModel(store)
        self.env = env or make_environment(config.templates_dir)
        if isinstance(self.env, _Environment):
            self.env.renderer = self
        # A base_url with a path (a GitHub Pages project site: https://user.github.io/repo)
        # serves the site under that path: every URL a page gets is prefixed with it, while
        # pages are still planned and written at their site URLs (``/articles/x/``).
        split = urlsplit(config.site.base_url)
        self.base_path = split.path.rstrip("/")
        self.origin = f"{split.scheme}://{split.netloc}" if split.netloc else ""
        self.site = {
            "title": config.site.title,
            "base_url": config.site.base_url,
            "base_path": self.base_path,
            "languages": list(languages),
            "default_language": self.default_language,
        }
        self.env.globals.update(
            site=self.site,
            items=self._items_global,
            url_for=self._url_for_global,
            taxonomy=self._taxonomy_global,
        )
        self.env.filters["absolute"] = self.absolute_public
        self.env.filters["url"] = self.public
        if assets is not None:
            self.env.filters["image_url"] = self._local_image_url
        self.env.filters["markdown"] = markdown_filter(
            html=config.site.markdown_html, sanitize=config.site.sanitize_html
        )
        self.env.filters["srcset"] = self._srcset_filter
        # The language of the page being rendered (set by the page renderer; plugins read it).
        self.page_language: str | None = None
        self.plugins = plugins if plugins is not None else no_plugins()
        # (plugin page name, language) -> URL: ``url_for('<plugin page>')``
        self.plugin_page_urls = plugin_page_urls or {}
        # The rich-text elements being resolved, innermost last: (view, element, language).
        self._rich_in_hand: list[tuple[ItemView, str, str]] = []
        self._links: dict[tuple[str, str], tuple[str | None, Recorder]] = {}
        if self.plugins:
            self.plugins.install(self)
        self._views: dict[tuple[str, str, bool], ItemView] = {}
        self._frames: list[Recorder] = []
        self._stack: tuple[str, ...] = ()
        self._template_exists: dict[str, bool] = {}
        self._richtext_env: Any = None
        self._resolve_rich_text: Callable[..., Any] = _unset_resolver
        self._rich_cache: OrderedDict[tuple[str, str, bool, str], tuple[Markup, Recorder]] = (
            OrderedDict()
        )

    # -- recording -------------------------------------------------------------------------

    def record(self, key: str) -> None:
        """Note a dependency key of the page being rendered."""
        if self._frames:
            self._frames[-1].deps.add(key)

    def warn(self, message: str) -> None:
        if self._frames:
            self._frames[-1].warnings.append(message)

    def replay(self, rec: Recorder) -> None:
        if self._frames:
            self._frames[-1].merge(rec)

    def recording(self) -> _Frame:
        """A nested recorder; on exit its contents also go to the enclosing one."""
        return _Frame(self)

    def cacheable(self) -> bool:
        """Values computed inside an embedding are cut by cycle checks: never cache those."""
        return not self._stack

    # -- lookups ---------------------------------------------------------------------------

    def view(self, raw: JSON, language: str, is_component: bool = False) -> ItemView:
        key = (raw["system"]["codename"], language, is_component)
        view = self._views.get(key)
        if view is None:
            if len(self._views) >= VIEW_CACHE:
                self._views.clear()
            view = self._views[key] = ItemView(self, raw, language, is_component)
        frames = self._frames
        if frames:
            frames[-1].deps.add(view._dep)
        return view

    def light_view(self, codename: str, language: str) -> ItemView | None:
        """:meth:`view` of an item, made from its summary when there is no view of it yet:
        listing and term pages show many items and read a few small elements of each; the
        item is decoded only if a template reads more (see :class:`ItemView`)."""
        key = (codename, language, False)
        view = self._views.get(key)
        if view is None:
            summary = self.store.summary(codename, language)
            if summary is None:
                return None
            if len(self._views) >= VIEW_CACHE:
                self._views.clear()
            view = self._views[key] = ItemView(
                self, summary.light, language, False, summary.dropped, light=True
            )
        frames = self._frames
        if frames:
            frames[-1].deps.add(view._dep)
        return view

    def linked_view(self, codename: str, language: str) -> ItemView | None:
        raw = self.store.item(codename, language)
        if raw is not None:
            return self.view(raw, language)
        raw = self.store.component(codename, language)
        if raw is not None:
            return self.view(raw, language, is_component=True)
        self.record(keys.item(codename, language))
        return None

    def url_for_codename(
        self, codename: str, language: str, light: JSON | None = None
    ) -> str | None:
        """The page URL in ``language``, else in the language its fallback variant is in,
        else in the default language; records the link either way (a missing page may appear).
        Only ``system`` is read (from the item's summary, or ``light``: the one a view holds)
        unless a plugin resolves links."""
        resolvers = self.plugins.link_resolvers
        if resolvers:
            raw = self.store.item(codename, language)
        else:
            raw = light if light is not None else self.store.light(codename, language)
        frames = self._frames
        if frames:
            deps = frames[-1].deps
            deps.add(keys.item(codename, language))
            if raw is not None:
                deps.add(keys.link(raw["system"]["id"]))
        if raw is not None and resolvers:
            resolved = self._resolved_link(raw, language)
            if resolved is not None:
                return str(self.public(resolved))
        url = self.urls.get((codename, language))
        if url is None and raw is not None:
            fallback = raw["system"].get("language")
            if fallback and fallback != language:
                url = self.urls.get((codename, fallback))
        if url is None:
            url = self.urls.get((codename, self.default_language))
        if url is not None and self.base_path:
            return self.base_path + url
        return url

    def _resolved_link(self, raw: JSON, language: str) -> str | None:
        """A plugin's URL for links to this item (None: its page), kept per item and language
        with what the resolver read, which later pages linking to it replay."""
        key = (raw["system"]["codename"], language)
        hit = self._links.get(key)
        if hit is not None:
            self.replay(hit[1])
            return hit[0]
        with self.recording() as rec:
            url = self.plugins.resolve_link(self, self.view(raw, language), language)
            if url is not None and self.config.site.sanitize_html and not safe_url(url):
                self.warn(
                    f"a link resolver's URL for {key[0]} ({language}) has an unsafe scheme: "
                    "links go to its page instead"
                )
                url = None
        if self.cacheable():
            self._links[key] = (url, rec)
        return url

    def url_for_id(self, item_id: str, language: str) -> str | None:
        codename = self.store.codename_for_id(item_id)
        if codename is None:
            self.record(keys.link(item_id))
            return None
        return self.url_for_codename(codename, language)

    def absolute_url(self, url: str | None) -> str:
        """A site URL (``/articles/x/``, as planned) as an absolute URL under ``base_url``."""
        if not url:
            return ""
        if "://" in url:
            return url
        return self.config.site.base_url + url

    def public(self, url: Any) -> Any:
        """The ``url`` filter: a site path (``/css/site.css``, as written in ``static/`` or a
        route) as the site serves it, under ``base_url``'s path. Anything else (an absolute
        or relative URL, ``//host``, ``#top``, None) is returned as it is. URLs the build
        gives templates (``item.url``, ``url_for``, ``page_url``, alternates, pagination,
        terms, assets) already are; pass only paths you write yourself."""
        if self.base_path and isinstance(url, str) and url[:1] == "/" and url[1:2] != "/":
            return self.base_path + url
        return url

    def absolute_public(self, url: str | None) -> str:
        """The ``absolute`` filter: a URL as pages hold it (what ``url`` and ``item.url``
        give) made absolute, for canonical links, hreflang alternates and feeds."""
        if not url:
            return ""
        if "://" in url or not url.startswith("/"):
            return url
        return (self.origin if self.base_path else self.config.site.base_url) + url

    def _srcset_filter(self, value: Any) -> str:
        """The ``srcset`` filter: an asset's ``srcset`` from ``[images]`` (a candidate per
        width below the original, then the original), as rich-text images get it; with
        downloaded assets, of local variants. "" for an asset of unknown width."""
        from .richtext import srcset_for

        if not isinstance(value, Asset) or not value.url or not value.width:
            return ""
        options = self.config.images
        if self.assets is None:
            return srcset_for(value.url, value.width, options)
        params = {k: v for k, v in (("fm", options.format), ("q", options.quality)) if v}
        candidates = [
            (self._local_image_url(value, w=w, **params), w)
            for w in options.widths
            if w < value.width
        ]
        candidates.append((self._local_image_url(value, **params), value.width))
        # An image that is not resized (an SVG, an animated GIF): one file, no srcset.
        if len({url for url, _ in candidates}) < len(candidates):
            return ""
        return ", ".join(f"{url} {w}w" for url, w in candidates)

    def has_template(self, name: str) -> bool:
        found = self._template_exists.get(name)
        if found is None:
            found = self._template_exists[name] = template_exists(self.env, name)
        if not found:
            self.record(keys.template(name))
        return found

    def query_items(
        self,
        type: str | None,
        language: str,
        order: str | None = None,
        limit: int | None = None,
        translated_only: bool = True,
    ) -> list[ItemView]:
        """Items of ``type`` in ``language`` (a listing query: recorded as a type dependency).
        A type the content model does not have is an :class:`UnknownNameError`."""
        if type is not None and not self.model.has_type(type):
            raise UnknownNameError(
                f"items(type='{type}'): no content type '{type}'"
                + did_you_mean(type, self.model.type_names(), listed="content types")
            )
        self.record(keys.listing(type, language))
        if order:
            self.record(keys.order(type, language, order.split()[0]))
        # Sorted on the items' summaries; the views decode an item only if a template
        # reads an element its summary leaves out.
        selected = self.store.walk(
            language, order_names(order), {type} if type else None, translated_only
        )
        ordered = sort_items(list(selected), order)
        if limit is not None:
            ordered = ordered[:limit]
        views = (self.light_view(r["system"]["codename"], language) for r in ordered)
        return [view for view in views if view is not None]

    def term_page_url(self, group: str, term: str, language: str) -> str | None:
        """The URL of a term's page, None when it has none. A term page exists only while
        the term has items in the language (unless ``[site] empty_pages``): the page asking
        records the URL it has or would have, so that its appearing or going reaches it."""
        cache_key = (group, term, language)
        if cache_key not in self._term_keys:
            tax = self.config.taxonomies.get(group)
            slot = None
            if tax is not None and not self.config.site.empty_pages:
                slot = term_url(tax, term, language, self.default_language)
            self._term_keys[cache_key] = keys.url(slot) if slot else None
        key = self._term_keys[cache_key]
        if key is not None:
            self.record(key)
        return self.public(self.term_urls.get(cache_key))

    def taxonomy_view(self, codename: str, language: str) -> _Attrs | None:
        """The taxonomy group with its terms (each with its page's URL), kept with what
        making it read for the next renderer of the same plan and group: a term page of a
        200-term group made it again for every page, ~2 ms at 100k items."""
        group = self.store.taxonomies.get(codename)
        memo = _taxonomy_memo.get((codename, language))
        if (
            memo is not None
            and memo[0] is group
            and memo[1] is self.term_urls
            and memo[2] is self.config
        ):
            self.replay(memo[4])
            return memo[3]
        with self.recording() as rec:
            view = self._taxonomy_view(codename, language, group)
        if len(_taxonomy_memo) >= 64:
            _taxonomy_memo.clear()
        _taxonomy_memo[(codename, language)] = (group, self.term_urls, self.config, view, rec)
        return view

    def _taxonomy_view(self, codename: str, language: str, group: JSON | None) -> _Attrs | None:
        self.record(keys.taxonomy(codename))
        if group is None:
            return None

        def terms(raw_terms: list[JSON]) -> tuple[Term, ...]:
            return tuple(
                Term(
                    name=t.get("name", ""),
                    codename=t.get("codename", ""),
                    terms=terms(t.get("terms") or []),
                    url=self.term_page_url(codename, t.get("codename", ""), language),
                )
                for t in raw_terms
            )

        return _Attrs(
            {
                "name": group["system"].get("name", codename),
                "codename": codename,
                "terms": terms(group.get("terms") or []),
            }
        )

    def find_term(
        self, group: str, term: str, language: str, view: _Attrs | None = None
    ) -> Term | None:
        """The term of ``group`` named ``term``, at any depth; ``view``: the group's
        :meth:`taxonomy_view` when the caller has it (made again otherwise)."""
        if view is None:
            view = self.taxonomy_view(group, language)
        if view is None:
            return None
        todo = list(view["terms"])
        while todo:
            t = todo.pop(0)
            if t.codename == term:
                return t
            todo.extend(t.terms)
        return None

    # -- friendly values -------------------------------------------------------------------

    def friendly_value(self, view: ItemView, codename: str) -> Any:
        element = view._element(codename)
        kind = element.get("type")
        value = element.get("value")
        language = view.language
        if kind in ("text", "url_slug", "custom"):
            return "" if value is None else str(value)
        if kind == "number":
            return value
        if kind == "date_time":
            return parse_datetime(value)
        if kind == "rich_text":
            return self.rich_text(view, codename, element)
        if kind == "modular_content":
            out = []
            for linked in value or []:
                found = self.linked_view(linked, language)
                if found is not None:
                    out.append(found)
            return out
        if kind == "asset":
            sanitize = self.config.site.sanitize_html
            assets = []
            for a in value or []:
                raw = str(a.get("url") or "")
                url = self.asset_url(view, codename, a) if sanitize else self.public(raw)
                width, height = a.get("width"), a.get("height")
                local = self.assets.original(raw, self.record) if self.assets and url else None
                if local is not None:  # the downloaded file: its URL and real size
                    url = self.public(local.local_url)
                    width, height = local.facts.width, local.facts.height
                assets.append(
                    Asset(
                        url=url,
                        name=a.get("name", ""),
                        description=a.get("description"),
                        width=width,
                        height=height,
                        type=a.get("type", ""),
                        size=a.get("size"),
                    )
                )
            return assets
        if kind == "taxonomy":
            group = element.get("taxonomy_group", "")
            self.record(keys.taxonomy(group))
            return [
                Term(
                    name=t.get("name", ""),
                    codename=t.get("codename", ""),
                    url=self.term_page_url(group, t.get("codename", ""), language),
                )
                for t in value or []
            ]
        if kind == "multiple_choice":
            return [
                Term(name=t.get("name", ""), codename=t.get("codename", "")) for t in value or []
            ]
        return value

    def asset_url(self, view: ItemView, codename: str, asset: JSON) -> str:
        """An asset's URL, or "" (and a warning) when its scheme is not a safe one: templates
        put it into ``href``/``src``, where Jinja's escaping does not stop ``javascript:``.
        A site-relative one (``/images/x.svg``) is prefixed like every URL of the site."""
        url = str(asset.get("url") or "")
        if safe_url(url):
            return str(self.public(url))
        self.warn(
            f"asset element {view.codename}.{codename} ({view.language}): URL with an unsafe "
            "scheme left empty"
        )
        return ""

    def _local_image_url(self, value: Any, **params: Any) -> str:
        """The ``image_url`` filter with downloaded assets: the local variant's URL (made
        after rendering); an URL that was not downloaded keeps the CDN's."""
        cdn = image_url(value, **params)  # checks the parameters, raises on bad ones
        if not cdn:
            return cdn
        url = value.url if isinstance(value, Asset) else value
        if isinstance(url, Mapping):
            url = url.get("url")
        assert self.assets is not None
        url = str(url)
        if self.base_path and url.startswith(self.base_path + "/"):
            url = url[len(self.base_path) :]  # a local URL a page was given: its site path
        local = self.assets.image_url(
            url,
            self.record,
            **{k: v for k, v in params.items() if k in ("w", "h", "fit", "fm", "q")},
        )
        if local is not None:
            return str(self.public(local))
        remote = self.assets.remote(url)
        return cdn if remote == url else image_url(remote, **params)

    def cached_rich_text(self, view: ItemView, codename: str) -> Markup:
        """Resolved rich text from the bounded cache, its record replayed; else resolve it."""
        key = (view.codename, view.language, view.is_component, codename)
        cache = self._rich_cache
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            self.replay(hit[1])
            return hit[0]
        if not self.cacheable():
            # Not kept: what it reads goes straight to the enclosing record.
            return self.rich_text(view, codename, view.raw["elements"][codename])
        with self.recording() as rec:
            value = self.rich_text(view, codename, view.raw["elements"][codename])
        if self.cacheable():
            cache[key] = (value, rec)
            if len(cache) > RICH_TEXT_CACHE:
                cache.popitem(last=False)
        return value

    def rich_text(self, view: ItemView, codename: str, element: JSON) -> Markup:
        if self._richtext_env is None:
            from .richtext import resolve_rich_text

            self._richtext_env = _richtext_env(self)
            self._resolve_rich_text = resolve_rich_text
        language = view.language
        self._rich_in_hand.append((view, codename, language))
        try:
            result = self._resolve_rich_text(
                element,
                item=view.raw,
                element_codename=codename,
                language=language,
                env=self._richtext_env,
                stack=self._stack,
            )
        finally:
            self._rich_in_hand.pop()
        for warning in result.warnings:
            self.warn(str(warning))
        if self._frames:
            for link in result.broken_links:
                self._frames[-1].broken_links.append(
                    {
                        "item": link.source_item,
                        "element": link.element,
                        "language": link.language,
                        "target_id": link.target_id,
                        "target_codename": link.target_codename,
                    }
                )
        frames = self._frames
        if frames:
            add = frames[-1].deps.add
            deps = result.deps
            for linked in deps.items:
                add(keys.item(linked, language))
            for comp in deps.components:
                add(keys.component(comp))
            for target in deps.link_targets:
                add(keys.link(target))
        return Markup(result.html)

    def rich_text_in_hand(self) -> tuple[ItemView | None, str, str]:
        """The rich-text element being resolved now: (item view, element, language)."""
        if self._rich_in_hand:
            return self._rich_in_hand[-1]
        return None, "", self.page_language or self.default_language

    def render_embedded(
        self, raw: JSON, parent: JSON, rel: str, language: str, stack: tuple[str, ...]
    ) -> str | None:
        """Render a component or inline linked item: a plugin's resolver for its type, else
        ``components/<type>.html``.

        ``None`` when the type has no template (the resolver then renders it generically
        and warns); the lookup of the missing name is recorded (adding it later re-renders).
        """
        is_component = rel == "component"
        if raw["system"]["type"] in self.plugins.component_resolvers:
            html = self._plugin_component(raw, parent, rel, language, stack)
            if html is not None:
                return html
        name = f"components/{raw['system']['type']}.html"
        if not self.has_template(name):
            return None
        item = self.view(raw, language, is_component=is_component)
        parent_view = self.view(parent, language, is_component=False)
        saved = self._stack
        self._stack = (*stack, item.codename)
        try:
            return self.render_template(
                name,
                {"item": item, "parent": parent_view, "language": language, "rel": rel},
                what=f"{'component' if is_component else 'linked item'} "
                f"'{item.codename}' ({language})",
            )
        finally:
            self._stack = saved

    def _plugin_component(
        self, raw: JSON, parent: JSON, rel: str, language: str, stack: tuple[str, ...]
    ) -> str | None:
        item = self.view(raw, language, is_component=rel == "component")
        parent_view = self.view(parent, language, is_component=False)
        saved = self._stack
        self._stack = (*stack, item.codename)  # its own rich text nests, as in a template
        try:
            return self.plugins.resolve_component(self, item, parent_view, rel, language)
        finally:
            self._stack = saved

    # -- templates -------------------------------------------------------------------------

    def render_template(self, name: str, context: Mapping[str, Any], *, what: str) -> str:
        """Render ``name``; a failure becomes a :class:`TemplateError` naming template, line
        and ``what`` is being rendered."""
        try:
            template = self.env.get_template(name)
            return speed.render_template(template, context)
        except (UnknownNameError, PluginError) as exc:
            # Raised by a global or a plugin: say where the template called it.
            if exc.located:
                raise
            folders = (self.config.templates_dir.resolve(), PACKAGE_TEMPLATES)
            template_name, line = _template_frame(exc, folders)
            where = template_name or name
            if line is not None:
                where = f"{where}, line {line}"
            located = type(exc)(
                f"template {where}: {exc.message} (while rendering {what})", hint=exc.hint
            )
            located.located = True
            raise located from None
        except KontentSSGError:
            raise
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(
                f"template {exc.name!r} not found (while rendering {what})",
                hint=f"add it to {self.config.templates_dir}",
            ) from None
        except Exception as exc:
            folders = (self.config.templates_dir.resolve(), PACKAGE_TEMPLATES)
            template_name, line = _template_frame(exc, folders)
            where = template_name or name
            if line is not None:
                where = f"{where}, line {line}"
            detail = getattr(exc, "message", None) or str(exc)
            raise TemplateError(
                f"template error in {where} while rendering {what}: {type(exc).__name__}: {detail}",
                hint="fix the template; the previous output is left as it was",
            ) from exc

    # -- globals ---------------------------------------------------------------------------

    @jinja2.pass_context
    def _items_global(
        self,
        context: jinja2.runtime.Context,
        type: str | None = None,
        language: str | None = None,
        order: str | None = None,
        limit: int | None = None,
    ) -> list[ItemView]:
        lang = language or context.get("language") or self.default_language
        return self.query_items(type, lang, order, limit)

    @jinja2.pass_context
    def _url_for_global(
        self,
        context: jinja2.runtime.Context,
        target: Any,
        language: str | None = None,
        *,
        term: str | None = None,
        page: int = 1,
    ) -> str | None:
        lang = language or context.get("language") or self.default_language
        return self.url_for(target, lang, term=term, page=page)

    def url_for(
        self, target: Any, language: str, *, term: str | None = None, page: int = 1
    ) -> str | None:
        """``url_for()``: the URL of an item (a view or its codename), a term, a listing's
        page (``page``), a taxonomy term page (``term``) or a route's only page; None when
        it names something that has no page in ``language``. A name the site does not have
        is an :class:`UnknownNameError` (exit status 2) with the closest name."""
        if target is None:
            return None
        if isinstance(target, ItemView):
            return self.url_for_codename(target.codename, language)
        if isinstance(target, Term):
            return target.url
        if not isinstance(target, str):
            raise UnknownNameError(
                f"url_for({target!r}): takes an item, a term, or the name of an item, listing, "
                "taxonomy group or route"
            )
        config = self.config
        listing = config.listings.get(target)
        if listing is not None:
            # Page N exists while the listing has enough items (page 1: any, unless
            # ``[site] empty_pages``): the asking page records the URL it would have.
            slot = listing_url(listing, language, self.default_language, page)
            self.record(keys.url(slot))
            return self.public(self.listing_urls.get((target, language, page)))
        if target in config.taxonomies:
            return self._term_url(target, term, language)
        if target in self.plugins.pages:
            urls = self.plugin_page_urls
            found = urls.get((target, language)) or urls.get((target, self.default_language))
            return self.public(found)
        if any(self.store.has_item(target, lang) for lang in self.store.languages):
            return self.url_for_codename(target, language)
        route = config.routes.get(target)
        if route is not None:
            return self._route_url(target, route.path, language)
        if target == "home":  # the language's home page, whatever page is there
            self.record(keys.url(with_language("/", language, self.default_language)))
            return self.public(self.home_urls.get(language))
        from ..site.validate import unknown_page_name, url_for_names

        codenames = {raw["system"]["codename"] for raw in self.store.summaries(language)}
        self.record(keys.item(target, language))  # it may appear
        raise UnknownNameError(
            f"url_for('{target}'): "
            + unknown_page_name(target, url_for_names(config, self.plugins.pages), codenames)
        )

    def _term_url(self, group: str, term: str | None, language: str) -> str | None:
        if term is None:
            raise UnknownNameError(
                f"url_for('{group}'): taxonomy group '{group}' has a page per term",
                hint=f"name the term: url_for('{group}', term='<term codename>'), or use a "
                "term's own .url",
            )
        view = self.taxonomy_view(group, language)  # records the group
        known = self.model.term_codenames(group)
        if view is not None and term not in known:
            raise UnknownNameError(
                f"url_for('{group}', term='{term}'): taxonomy group '{group}' has no term "
                f"'{term}'" + did_you_mean(term, known, listed="its terms")
            )
        return self.term_page_url(group, term, language)

    def _route_url(self, type_codename: str, path: str, language: str) -> str | None:
        """A route's only page: its path names no element, so at most one item has it."""
        if any(name != "language" for name in _PATH_PLACEHOLDER.findall(path)):
            raise UnknownNameError(
                f"url_for('{type_codename}'): route '{type_codename}' ({path}) has a page per item",
                hint="pass the item (url_for(item)) or its codename",
            )
        self.record(keys.listing(type_codename, language))
        for raw in self.store.walk(language, (), {type_codename}):
            return self.url_for_codename(raw["system"]["codename"], language)
        return None

    @jinja2.pass_context
    def _taxonomy_global(self, context: jinja2.runtime.Context, codename: str) -> _Attrs | None:
        lang = context.get("language") or self.default_language
        view = self.taxonomy_view(codename, lang)
        if view is None and not self.model.has_group(codename):
            raise UnknownNameError(
                f"taxonomy('{codename}'): no taxonomy group '{codename}'"
                + did_you_mean(codename, self.model.group_names(), listed="taxonomy groups")
            )
        return view


def _unset_resolver(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the rich-text resolver is set with the rich-text environment")


class _Frame:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.recorder = Recorder()

    def __enter__(self) -> Recorder:
        self.renderer._frames.append(self.recorder)
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        frames = self.renderer._frames
        frames.pop()
        if frames:
            frames[-1].merge(self.recorder)


def _richtext_env(renderer: Renderer) -> Any:
    """What the rich-text resolver needs from the build: lookups, URLs and embedding."""
    from .richtext import ImageContext, RichTextEnv

    def linked_item(codename: str, language: str) -> JSON | None:
        renderer.record(keys.item(codename, language))
        return renderer.store.item(codename, language)

    def component(codename: str, language: str) -> JSON | None:
        renderer.record(keys.component(codename))
        return renderer.store.component(codename, language)

    def render_image(image: ImageContext) -> str | None:
        context = {k: getattr(image, k) for k in image.__dataclass_fields__}
        context["image"] = image
        return renderer.render_template(
            "rich_text/image.html",
            context,
            what=f"an image in {image.item.get('system', {}).get('codename')} ({image.language})",
        )

    assets = renderer.assets

    def asset_url(url: str, asset_id: str) -> str:
        assert assets is not None
        return assets.link(url, renderer.record)

    def local_image(
        url: str, options: ImageConfig
    ) -> tuple[str, str, int | None, int | None] | None:
        assert assets is not None
        found = assets.figure(url, options, renderer.record)
        if found is None or not renderer.base_path:
            return found
        src, srcset, width, height = found
        public = renderer.public
        srcset = ", ".join(
            f"{public(c.split(' ', 1)[0])} {c.split(' ', 1)[1]}" for c in srcset.split(", ") if c
        )
        return str(public(src)), srcset, width, height

    return RichTextEnv(
        linked_item=linked_item,
        component=component,
        url_for_id=renderer.url_for_id,
        render_embedded=renderer.render_embedded,
        image_options=renderer.config.images,
        site_url=renderer.public if renderer.base_path else None,
        render_image=render_image if renderer.has_template("rich_text/image.html") else None,
        post_processors=renderer.plugins.rich_text_hooks(renderer),
        sanitize=renderer.config.site.sanitize_html,
        asset_url=asset_url if assets is not None else None,
        local_image=local_image if assets is not None else None,
    )
