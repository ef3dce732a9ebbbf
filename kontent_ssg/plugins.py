"""Site plugins: Python that extends a site where templates cannot (docs/PLUGINS.md).

A site declares its plugins in ``kontent.toml``::

    [plugins]
    modules = ["hooks"]

Each name is, in this order: a module in the site folder (``hooks.py``, or a package
``hooks/``), an entry point of the group ``kontent_ssg.plugins``, or an installed module. It
must offer ``register(plugin)`` (an entry point may name that function itself); ``plugin``
is a :class:`PluginAPI`, through which the module adds Jinja filters and globals, rich-text
post-processors, resolvers for component types, link resolvers and pages of its own.

What this module guarantees:

- **Exact dependencies.** Plugins read content through the same recording objects templates
  do: item views (:class:`~kontent_ssg.render.templating.ItemView`) and
  :class:`SiteContent` (``plugin.content``, and ``context.content`` in every hook). Every read
  records a dependency key of :mod:`kontent_ssg.incremental.keys` for the page being
  rendered, so an incremental build re-renders exactly the pages whose plugins read what
  changed. A plugin's own source is part of the build's fingerprint: editing it means a full
  build.
- **Forked render workers** inherit plugins: they are imported (and ``register`` run) in the
  build's process, before rendering forks.
- **Errors name the plugin and the page**: anything a plugin raises becomes a one-line
  :class:`~kontent_ssg.errors.PluginError` (exit status 1) saying which plugin, which hook,
  the exception, and the page (and template line) being rendered.
- **Sanitising**: what a plugin returns is the site's own markup, like a template's; what it
  receives from the CMS (rich text in a post-processor, item values) was sanitised first.
  A URL a link resolver returns must have a safe scheme (``http``, ``https``, ``mailto``,
  relative …) while ``[site] sanitize_html`` is on: it usually comes from content.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import ConfigError, KontentSSGError, PluginError, did_you_mean

if TYPE_CHECKING:
    from .render.richtext import PostProcessor
    from .render.templating import ItemView, Renderer

__all__ = [
    "ENTRY_POINT_GROUP",
    "ComponentContext",
    "HookContext",
    "PageContext",
    "PluginAPI",
    "PluginPage",
    "Plugins",
    "RichTextContext",
    "SiteContent",
    "load_plugins",
    "no_plugins",
    "plugin_fingerprint",
]

#: The entry point group installed packages register plugins under.
ENTRY_POINT_GROUP = "kontent_ssg.plugins"

_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")

# Names kontent-ssg gives templates itself: a plugin cannot take them over.
_OWN_FILTERS = frozenset({"markdown", "image_url", "date", "absolute", "srcset"})
_OWN_GLOBALS = frozenset({"site", "items", "url_for", "taxonomy"})


# ---------------------------------------------------------------------------------------------
# What plugins see


class SiteContent:
    """The site's content as a plugin reads it, recording what it read for the page being
    rendered (the same lookups templates' globals make). ``language`` defaults to the page's.

    Outside a render (at ``register`` time) there is nothing to read: the methods raise.
    """

    def __init__(self) -> None:
        self._renderer: Renderer | None = None

    def _r(self) -> Renderer:
        if self._renderer is None:
            raise PluginError(
                "plugin.content is read while pages render (in a filter, hook or page), "
                "not at register() time"
            )
        return self._renderer

    @property
    def language(self) -> str:
        """The language of the page being rendered."""
        r = self._r()
        return r.page_language or r.default_language

    @property
    def languages(self) -> list[str]:
        """The site's languages, the default first."""
        return list(self._r().languages)

    @property
    def default_language(self) -> str:
        return self._r().default_language

    def items(
        self,
        type: str | None = None,
        language: str | None = None,
        order: str | None = None,
        limit: int | None = None,
    ) -> list[ItemView]:
        """Items of a type (every type: None) translated into the language, as the
        ``items()`` global gives them (``order``: ``"elements.date desc"``)."""
        return self._r().query_items(type, language or self.language, order, limit)

    def item(self, codename: str, language: str | None = None) -> ItemView | None:
        """One item (or component) in the language (a fallback variant if that is what the
        language has); None when there is none (recorded: it may appear)."""
        return self._r().linked_view(codename, language or self.language)

    def url_for(
        self, target: Any, language: str | None = None, *, term: str | None = None, page: int = 1
    ) -> str | None:
        """What the ``url_for()`` global gives."""
        return self._r().url_for(target, language or self.language, term=term, page=page)

    def taxonomy(self, group: str, language: str | None = None) -> Any:
        """A taxonomy group (``name``, ``codename``, ``terms``), as ``taxonomy()`` gives it."""
        return self._r().taxonomy_view(group, language or self.language)


@dataclass(frozen=True)
class HookContext:
    """What every hook gets besides its value: the language being rendered and the content."""

    language: str
    content: SiteContent
    site: Mapping[str, Any]  # title, base_url, languages, default_language


@dataclass(frozen=True)
class RichTextContext(HookContext):
    """A post-processor's context: the item (a view) and the rich-text element's codename."""

    item: ItemView | None = None
    element: str = ""


@dataclass(frozen=True)
class ComponentContext(HookContext):
    """A component resolver's context: the item whose rich text holds the component, and
    ``rel`` (``component``, or ``link`` for an inline linked item)."""

    parent: ItemView | None = None
    rel: str = "component"


@dataclass(frozen=True)
class PageContext(HookContext):
    """A plugin page's context: its URL (site-relative)."""

    url: str = ""


@dataclass(frozen=True)
class PluginPage:
    """A page a plugin renders itself: ``render(context)`` returns text, bytes, or a
    dict/list (written as JSON)."""

    plugin: str
    name: str
    path: str
    render: Callable[[PageContext], Any]
    per_language: bool = False


# ---------------------------------------------------------------------------------------------
# Registration


class PluginAPI:
    """What ``register(plugin)`` gets: one per plugin module. Every ``add_*`` returns the
    function it was given, so each can be used as a decorator factory's body."""

    def __init__(self, name: str, plugins: Plugins, config: Config) -> None:
        self.name = name
        self.config = config
        self.site_dir = config.site_dir
        self._plugins = plugins

    @property
    def content(self) -> SiteContent:
        """The content, recording what is read for the page being rendered."""
        return self._plugins.content

    def add_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """A Jinja filter: ``{{ value|name(args) }}``."""
        self._plugins.add_callable("filter", self.name, name, function)
        return function

    def add_global(self, name: str, value: Any) -> Any:
        """A Jinja global: a function templates call, or a value."""
        self._plugins.add_callable("global", self.name, name, value)
        return value

    def add_post_processor(
        self, function: Callable[[Any, RichTextContext], Any]
    ) -> Callable[[Any, RichTextContext], Any]:
        """``function(fragment, context)``: gets each page item's resolved rich-text element
        as a BeautifulSoup fragment (components included); mutate it in place (return None)
        or return a replacement."""
        self._plugins.post_processors.append((self.name, function))
        return function

    def add_component_resolver(
        self, type_codename: str, function: Callable[[ItemView, ComponentContext], Any]
    ) -> Callable[[ItemView, ComponentContext], Any]:
        """``function(item, context)`` renders components and inline linked items of
        ``type_codename`` instead of ``components/<type>.html``: HTML (str or Markup), or
        None to fall back to the template."""
        taken = self._plugins.component_resolvers.get(type_codename)
        if taken is not None:
            raise ConfigError(
                f"plugin '{self.name}' and plugin '{taken[0]}' both resolve components of "
                f"type '{type_codename}'"
            )
        self._plugins.component_resolvers[type_codename] = (self.name, function)
        return function

    def add_link_resolver(
        self,
        function: Callable[[ItemView, HookContext], str | None],
        *,
        types: tuple[str, ...] | list[str] | None = None,
    ) -> Callable[[ItemView, HookContext], str | None]:
        """``function(item, context)`` gives the URL links to ``item`` point at (rich-text
        links, ``item.url``, ``url_for``), e.g. an external product page; None: its page.
        ``types`` limits it to items of those types. The item keeps its own page."""
        self._plugins.link_resolvers.append(
            (self.name, frozenset(types) if types is not None else None, function)
        )
        return function

    def add_page(
        self,
        name: str,
        path: str,
        function: Callable[[PageContext], Any],
        *,
        per_language: bool = False,
    ) -> Callable[[PageContext], Any]:
        """A page of the plugin's own at ``path`` (``/search.json``; a path ending in ``/``
        is written as ``index.html``), rendered by ``function(context)``; ``per_language``:
        one per language (other languages prefixed with ``/{language}``). ``url_for(name)``
        gives its URL."""
        if not path.startswith("/"):
            raise ConfigError(
                f"plugin '{self.name}': page '{name}' path must start with '/', got {path!r}"
            )
        if name in self._plugins.pages:
            raise ConfigError(
                f"plugin '{self.name}': a page named '{name}' exists already (plugin "
                f"'{self._plugins.pages[name].plugin}')"
            )
        self._plugins.pages[name] = PluginPage(self.name, name, path, function, per_language)
        return function


# ---------------------------------------------------------------------------------------------
# The loaded plugins


@dataclass
class Plugins:
    """Everything the site's plugins registered, ready for a renderer to install."""

    names: tuple[str, ...] = ()
    fingerprint: str = ""
    filters: dict[str, tuple[str, Callable[..., Any]]] = field(default_factory=dict)
    globals: dict[str, tuple[str, Any]] = field(default_factory=dict)
    post_processors: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    component_resolvers: dict[str, tuple[str, Callable[..., Any]]] = field(default_factory=dict)
    link_resolvers: list[tuple[str, frozenset[str] | None, Callable[..., Any]]] = field(
        default_factory=list
    )
    pages: dict[str, PluginPage] = field(default_factory=dict)
    content: SiteContent = field(default_factory=SiteContent)

    def __bool__(self) -> bool:
        return bool(self.names)

    def add_callable(self, kind: str, plugin: str, name: str, value: Any) -> None:
        table = self.filters if kind == "filter" else self.globals
        own = _OWN_FILTERS if kind == "filter" else _OWN_GLOBALS
        if not name.isidentifier():
            raise ConfigError(f"plugin '{plugin}': {kind} name {name!r} is not a Jinja name")
        if name in own or name in _jinja_defaults(kind):
            raise ConfigError(
                f"plugin '{plugin}' registers the {kind} '{name}', which templates already "
                "have; choose another name"
            )
        if name in table:
            raise ConfigError(
                f"plugins '{table[name][0]}' and '{plugin}' both register the {kind} '{name}'"
            )
        table[name] = (plugin, value)

    # -- installing into a renderer (once per render process) ------------------------------

    def install(self, renderer: Renderer) -> None:
        """Filters and globals into the renderer's Jinja environment; ``content`` reads
        through this renderer from now on."""
        self.content._renderer = renderer
        env = renderer.env
        for name, (plugin, function) in self.filters.items():
            env.filters[name] = _guarded(plugin, f"filter '{name}'", function)
        for name, (plugin, value) in self.globals.items():
            env.globals[name] = (
                _guarded(plugin, f"global '{name}'", value) if callable(value) else value
            )

    def context(self, renderer: Renderer, language: str | None = None) -> HookContext:
        return HookContext(
            language or renderer.page_language or renderer.default_language,
            self.content,
            renderer.site,
        )

    def rich_text_hooks(self, renderer: Renderer) -> list[PostProcessor]:
        """The post-processors as the rich-text resolver calls them (``hook(fragment)``),
        each told which item and element it is looking at."""
        return [self._hook(renderer, plugin, function) for plugin, function in self.post_processors]

    def _hook(self, renderer: Renderer, plugin: str, function: Callable[..., Any]) -> PostProcessor:
        def hook(fragment: Any) -> Any:
            item, element, language = renderer.rich_text_in_hand()
            context = RichTextContext(
                language, self.content, renderer.site, item=item, element=element
            )
            return call(plugin, "post-processor", function, fragment, context)

        return hook

    def resolve_component(
        self, renderer: Renderer, item: ItemView, parent: ItemView, rel: str, language: str
    ) -> str | None:
        found = self.component_resolvers.get(item.type)
        if found is None:
            return None
        plugin, function = found
        context = ComponentContext(language, self.content, renderer.site, parent=parent, rel=rel)
        html = call(plugin, f"component resolver for '{item.type}'", function, item, context)
        return None if html is None else str(html)

    def resolve_link(self, renderer: Renderer, item: ItemView, language: str) -> str | None:
        for plugin, types, function in self.link_resolvers:
            if types is not None and item.type not in types:
                continue
            url = call(plugin, "link resolver", function, item, self.context(renderer, language))
            if url is not None:
                return str(url)
        return None

    def render_page(self, renderer: Renderer, name: str, language: str, url: str) -> str | bytes:
        """A plugin page's text (HTML pages are link-checked as any) or bytes."""
        page = self.pages[name]
        context = PageContext(language, self.content, renderer.site, url=url)
        out = call(page.plugin, f"page '{name}'", page.render, context)
        if isinstance(out, (bytes, str)):
            return out
        if isinstance(out, (dict, list)):
            try:
                text = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError) as exc:
                raise _plugin_error(page.plugin, f"page '{name}' (as JSON)", exc) from exc
            return text
        raise PluginError(
            f"plugin '{page.plugin}': page '{name}' returned {type(out).__name__}; expected "
            "str, bytes, or a dict or list (written as JSON)"
        )


@functools.cache
def _jinja_defaults(kind: str) -> frozenset[str]:
    from jinja2 import defaults

    return frozenset(defaults.DEFAULT_FILTERS if kind == "filter" else defaults.DEFAULT_NAMESPACE)


def call(plugin: str, what: str, function: Callable[..., Any], *args: Any) -> Any:
    """Call a plugin's function; whatever it raises becomes a :class:`PluginError` naming the
    plugin and the hook (the renderer adds the page and the template line)."""
    try:
        return function(*args)
    except KontentSSGError:
        raise
    except Exception as exc:
        raise _plugin_error(plugin, what, exc) from exc


def _plugin_error(plugin: str, what: str, exc: BaseException) -> PluginError:
    detail = str(exc).strip().splitlines()
    shown = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    return PluginError(
        f"plugin '{plugin}': {what} raised {shown}",
        hint="fix the plugin (docs/PLUGINS.md); the previous output is left as it was",
    )


def _guarded(plugin: str, what: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its errors named (Jinja's ``pass_context`` marks are kept)."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except KontentSSGError:
            raise
        except Exception as exc:
            raise _plugin_error(plugin, what, exc) from exc

    return guarded


# ---------------------------------------------------------------------------------------------
# Loading


_NONE = Plugins()
# (site folder, module names) -> the plugins loaded for it, reused while their sources stay
# the same (``serve`` makes a new builder per kontent.toml edit).
_LOADED: dict[tuple[str, tuple[str, ...]], Plugins] = {}


def no_plugins() -> Plugins:
    """A site without plugins."""
    return _NONE


def load_plugins(config: Config) -> Plugins:
    """Import the site's plugins and run their ``register``; :class:`ConfigError` (exit 2)
    for a name that is no plugin, :class:`PluginError` (exit 1) for one that raises."""
    modules = config.plugins.modules
    if not modules:
        return _NONE
    key = (str(config.site_dir), tuple(modules))
    fingerprint = plugin_fingerprint(config)
    cached = _LOADED.get(key)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    plugins = Plugins(names=tuple(modules), fingerprint=fingerprint)
    for name in modules:
        register = _register_function(config, name, reload=cached is not None)
        try:
            register(PluginAPI(name, plugins, config))
        except KontentSSGError:
            raise
        except Exception as exc:
            raise _plugin_error(name, "register()", exc) from exc
    _LOADED[key] = plugins
    return plugins


def _register_function(config: Config, name: str, *, reload: bool) -> Callable[..., Any]:
    where = f"{config.path}: [plugins] modules"
    if not _MODULE_NAME.fullmatch(name):
        raise ConfigError(f"{where}: {name!r} is not a Python module name")
    local = _site_module_path(config.site_dir, name)
    origin: str
    if local is not None:
        module: Any = _import_site_module(config.site_dir, name, local, reload=reload)
        origin = str(local)
    else:
        entry = _entry_point(name)
        try:
            if entry is not None:
                module = entry.load()
                origin = f"entry point {ENTRY_POINT_GROUP}:{name}"
            elif importlib.util.find_spec(name) is not None:
                module = importlib.import_module(name)
                origin = f"module {name}"
            else:
                module = None
        except KontentSSGError:
            raise
        except ModuleNotFoundError as exc:
            if exc.name != name.split(".")[0]:
                raise _plugin_error(name, "import", exc) from exc
            module = None
        except Exception as exc:
            raise _plugin_error(name, "import", exc) from exc
        if module is None:
            candidates = [p.stem for p in config.site_dir.glob("*.py")] + _entry_point_names()
            raise ConfigError(
                f"{where}: no plugin '{name}': not {config.site_dir / (name + '.py')}, not an "
                f"entry point of {ENTRY_POINT_GROUP}, not an installed module"
                + did_you_mean(name, candidates),
                hint=f"put {name}.py (with a register(plugin) function) in the site folder",
            )
    register = module if callable(module) else getattr(module, "register", None)
    if not callable(register):
        raise ConfigError(
            f"{where}: plugin '{name}' ({origin}) has no register(plugin) function",
            hint="define def register(plugin): ... in it (docs/PLUGINS.md)",
        )
    return register  # type: ignore[no-any-return]


def _site_module_path(site_dir: Path, name: str) -> Path | None:
    """``SITE/<name>.py`` or ``SITE/<name>/__init__.py``."""
    if "." in name:
        return None
    for path in (site_dir / f"{name}.py", site_dir / name / "__init__.py"):
        if path.is_file():
            return path
    return None


def _import_site_module(site_dir: Path, name: str, path: Path, *, reload: bool) -> Any:
    """Import a site folder's module under a name of its own (two sites may both have a
    ``hooks.py``); the site folder goes on ``sys.path`` so it can import its neighbours."""
    unique = f"_kontent_site_{hashlib.blake2b(str(site_dir).encode(), digest_size=4).hexdigest()}"
    module_name = f"{unique}_{name}"
    if module_name in sys.modules and not reload:
        return sys.modules[module_name]
    if str(site_dir) not in sys.path:
        sys.path.append(str(site_dir))
    package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=[str(path.parent)] if package else None
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        error = _plugin_error(name, f"import of {path}", exc)
        if isinstance(exc, SyntaxError) and exc.lineno:
            error.message += f" (line {exc.lineno})"
        raise error from exc
    return module


def _entry_point(name: str) -> Any:
    from importlib.metadata import entry_points

    found = list(entry_points(group=ENTRY_POINT_GROUP, name=name))
    return found[0] if found else None


def _entry_point_names() -> list[str]:
    from importlib.metadata import entry_points

    return [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)]


def plugin_fingerprint(config: Config) -> str:
    """A hash of the site's plugin sources (found without importing them): an edit to a
    plugin changes what pages hold, so the next build is a full one."""
    modules = config.plugins.modules
    if not modules:
        return ""
    h = hashlib.blake2b(digest_size=16)
    for name in modules:
        h.update(f"\0{name}\0".encode())
        for path in _sources(config.site_dir, name):
            try:
                h.update(path.read_bytes())
            except OSError:
                h.update(b"?")
    return h.hexdigest()


def _sources(site_dir: Path, name: str) -> Iterator[Path]:
    local = _site_module_path(site_dir, name) if _MODULE_NAME.fullmatch(name) else None
    if local is not None:
        yield from _module_files(local)
        return
    try:
        entry = _entry_point(name)
        module = entry.module if entry is not None else name
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return
    if spec is not None and spec.origin and spec.origin not in ("built-in", "frozen"):
        yield from _module_files(Path(spec.origin))


def _module_files(path: Path) -> Iterator[Path]:
    """A module's file; for a package, every ``.py`` file under it."""
    if path.name != "__init__.py":
        yield path
        return
    yield from sorted(path.parent.rglob("*.py"))
