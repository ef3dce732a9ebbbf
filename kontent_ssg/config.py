"""``kontent.toml``: every option declared once, loaded by one generic walk.

Each option is a field of a frozen dataclass below: the annotation is its type, the field's
default its default, and :func:`_option` adds the one-line doc and the check (range, allowed
values, URL, URL path and its placeholders, order syntax …). The tables are the fields of
:class:`Config`. :func:`load_config` walks those declarations: it converts and checks what the
TOML holds, reads secrets from the environment, and warns about keys nobody declared (naming
the closest declared one). :func:`reference` hands the same declarations to the docs
(``docs/CONFIG.md`` is generated from them and a test keeps it, and the README, in step).

Why not ``msgspec.convert`` into ``msgspec.Struct`` types (msgspec is already a dependency):
tried on these tables, its errors lose what a user needs to fix the file. A table's key is
reported as ``$.routes[...].path`` (which route?), types in JSON words (``Expected `array`,
got `str```), constraints without the value written (``Expected `int` <= 20``), and unknown
keys can only be ignored or refused, not warned about with a suggestion. Mending all three
around it costs more than this small layer, whose errors read ``kontent.toml: [routes.article]
path: must start with '/', got 'articles/'``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from .errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "AssetsConfig",
    "Config",
    "DeployConfig",
    "FeedConfig",
    "ImageConfig",
    "KontentConfig",
    "ListingConfig",
    "OptionDoc",
    "PluginsConfig",
    "RouteConfig",
    "SiteConfig",
    "TableDoc",
    "TaxonomyPageConfig",
    "WebhookConfig",
    "config_from_text",
    "load_config",
    "reference",
]

CONFIG_FILE = "kontent.toml"

# ---------------------------------------------------------------------------------------------
# The declaration layer: checks and option metadata


@dataclass(frozen=True)
class _Check:
    """A constraint on one option. ``allowed`` says it in words (errors, docs); ``apply``
    returns the value to keep or raises :class:`ValueError` saying what is wrong."""

    allowed: str
    apply: Callable[[Any], Any]


@dataclass(frozen=True)
class _Option:
    doc: str
    check: _Check | None = None
    env: str | None = None  # environment variable that wins over the file (or is the source)
    env_named_by: str | None = None  # ... or the option naming that variable
    secret: bool = False  # only from the environment; refused in the file, kept out of repr
    also_refused: tuple[str, ...] = ()  # other names a secret is refused under
    from_key: bool = False  # the name of the table ([routes.<type>] gives ``type``)
    default_from_key: str | None = None  # a default built from that name ("{}.html")


_META = "kontent_ssg.option"


def _option(
    default: Any = MISSING,
    doc: str = "",
    *,
    check: _Check | None = None,
    env: str | None = None,
    default_from_key: str | None = None,
) -> Any:
    """Declare one ``kontent.toml`` key: default (none: required), doc, check, overriding
    environment variable."""
    meta = _Option(doc, check, env=env, default_from_key=default_from_key)
    return field(default=default, metadata={_META: meta})


def _secret(
    doc: str,
    *,
    env: str | None = None,
    env_named_by: str | None = None,
    also_refused: tuple[str, ...] = (),
) -> Any:
    meta = _Option(doc, env=env, env_named_by=env_named_by, secret=True, also_refused=also_refused)
    return field(default=None, repr=False, metadata={_META: meta})


def _table_key(doc: str) -> Any:
    return field(metadata={_META: _Option(doc, from_key=True)})


def _doc(text: str) -> dict[str, _Option]:
    """The ``metadata`` of a :class:`Config` field that is a table."""
    return {_META: _Option(text)}


# ---------------------------------------------------------------------------------------------
# Checks


def _rule(
    allowed: str, test: Callable[[Any], object], then: Callable[[Any], Any] | None = None
) -> _Check:
    """A check that says "must be <allowed>, got <value>"; ``then`` normalises a good value."""

    def apply(value: Any) -> Any:
        if not test(value):
            raise ValueError(f"must be {allowed}, got {_toml(value)}")
        return value if then is None else then(value)

    return _Check(allowed, apply)


def _url(empty_ok: bool = False) -> _Check:
    def apply(value: str) -> str:
        if empty_ok and value == "":
            return value
        try:
            parts = urlsplit(value)
            credentials = parts.username is not None or parts.password is not None
        except ValueError:
            parts, credentials = None, False
        if credentials or (parts is None and "@" in value):
            # Not echoed: the value holds a password or token.
            raise ValueError(
                "must not contain credentials (user:password@host); kontent.toml holds no "
                "secrets: API keys come from KONTENT_DELIVERY_API_KEY / KONTENT_PREVIEW_API_KEY"
            )
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            shown = "(not shown: it contains '@')" if "@" in value else _toml(value)
            raise ValueError(f"expected an http(s) URL, got {shown}")
        return value.rstrip("/")

    allowed = "an http(s) URL without user:password@"
    return _Check(f'"" or {allowed}' if empty_ok else allowed, apply)


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._~-]*")


def _url_path(*names: str, elements: bool = False, required: str | None = None) -> _Check:
    """A site URL path: starts with '/', static segments safe as file names, only the
    placeholders the page kind fills (``elements``: an item's ``{element}``/``{system.prop}``)."""
    listed = ([] if not elements else ["{<element>}", "{system.<property>}"]) + [
        f"{{{n}}}" for n in names
    ]

    def known(name: str) -> bool:
        if name in names:
            return True
        prop = name.removeprefix("system.")
        return elements and prop.isidentifier()

    def apply(value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must start with '/', got {_toml(value)}")
        for name in _PLACEHOLDER.findall(value):
            if not known(name):
                can = f"placeholders: {', '.join(listed)}" if listed else "no placeholders"
                raise ValueError(f"unknown placeholder {{{name}}} in {_toml(value)} ({can})")
        if required is not None and f"{{{required}}}" not in value:
            raise ValueError(f"must contain {{{required}}}, got {_toml(value)}")
        segments = _PLACEHOLDER.sub("x", value).split("/")[1:]
        if ".." in segments or "." in segments:
            raise ValueError(f"must not contain '..' or '.' segments, got {_toml(value)}")
        if "" in segments[:-1]:
            raise ValueError(f"must not contain '//', got {_toml(value)}")
        for segment in segments:
            if not _SAFE_SEGMENT.fullmatch(segment):
                raise ValueError(
                    f"segment {_toml(segment)} of {_toml(value)} may hold only A-Z a-z 0-9 . _ ~ - "
                    "and placeholders"
                )
        return value

    allowed = "a URL path starting with '/'"
    if required is not None:
        allowed += f", containing {{{required}}}"
    allowed += f"; placeholders {', '.join(listed)}" if listed else "; no placeholders"
    return _Check(allowed, apply)


_ORDER = re.compile(r"\s*(system|elements)\.\S+(\s+(asc|desc))?\s*")
_FORMATS = ("webp", "avif", "jpg", "pjpg", "png", "png8", "gif")


# ---------------------------------------------------------------------------------------------
# The declarations


@dataclass(frozen=True, kw_only=True)
class KontentConfig:
    environment_id: str = _option(
        doc="the Kontent.ai environment to read",
        check=_rule("a GUID of letters, digits and '-'", re.compile(r"[A-Za-z0-9-]+").fullmatch),
        env="KONTENT_ENVIRONMENT_ID",
    )
    delivery_url: str = _option(
        "https://deliver.kontent.ai",
        "Delivery API base; requests go to {delivery_url}/{environment_id}/…",
        check=_url(),
    )
    preview_url: str = _option(
        "https://preview-deliver.kontent.ai",
        "Preview API base, for `--preview` builds",
        check=_url(),
    )
    languages: tuple[str, ...] = _option(
        (),
        "languages to build, the default first; empty: every language of the environment",
        check=_rule("language codenames, each once", lambda v: all(v) and len(set(v)) == len(v)),
    )
    timeout: float = _option(
        30.0, "seconds per request", check=_rule("more than 0", lambda v: v > 0)
    )
    max_retries: int = _option(
        6,
        "retries on 408/429/5xx and dropped connections",
        check=_rule("between 0 and 20", lambda v: 0 <= v <= 20),
    )
    delivery_api_key: str | None = _secret(
        "secure access to the Delivery API (Bearer)",
        env="KONTENT_DELIVERY_API_KEY",
        also_refused=("api_key", "secret"),
    )
    preview_api_key: str | None = _secret(
        "the Preview API, for `--preview` builds (Bearer)", env="KONTENT_PREVIEW_API_KEY"
    )
    management_url: str = _option(
        "https://manage.kontent.ai/v2",
        "Management API base, for `webhooks` and `import`; requests go to "
        "{management_url}/projects/{environment_id}/…",
        check=_url(),
        env="KONTENT_MANAGEMENT_URL",
    )
    management_api_key: str | None = _secret(
        "the Management API, for `webhooks` and `import` (Bearer)",
        env="KONTENT_MANAGEMENT_API_KEY",
    )


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    base_url: str = _option(
        "",
        "absolute URL of the site (sitemap, robots.txt, feed, the `absolute` filter); builds "
        "warn while it is unset. With a path (`https://user.github.io/repo/`) every URL the "
        "site writes is under that path (templates: the `url` filter, `site.base_path`)",
        check=_url(True),
    )
    output: str = _option(
        "public",
        "folder the site is written to, relative to the site folder",
        check=_rule("a folder name or path", str.strip),
    )
    preview_output: str = _option(
        "",
        "folder `--preview` builds (drafts) are written to, relative to the site folder; never "
        "`output` nor inside it, so a deploy of `output` cannot ship drafts; empty: `output` "
        "with `-preview` appended (`public-preview`)",
        check=_rule('"" or a folder name or path', lambda v: v == "" or v.strip()),
    )
    title: str = _option("", "the site's title (templates get it as `site.title`)")
    empty_pages: bool = _option(
        False,
        "also write listing and taxonomy term pages that have no items in a language (left "
        "out by default, and so are their sitemap entries and alternates)",
    )
    download_assets: bool = _option(
        False,
        "download every asset the content references into the output ([assets]) and make "
        "image variants locally, so the site never links the asset CDN (docs/ASSETS.md)",
    )
    sanitize_html: bool = _option(
        True,
        "sanitise what the CMS sends (rich text, asset URLs, raw HTML the `markdown` filter "
        "keeps) against an allowlist: no scripts, event handlers or `javascript:` URLs; the "
        "site's own templates are never touched (docs/SECURITY.md)",
    )
    markdown_html: bool = _option(
        False,
        "the `markdown` filter keeps raw HTML in the text (sanitised unless `sanitize_html` "
        "is off); off: raw HTML is escaped and shows as text",
    )


@dataclass(frozen=True, kw_only=True)
class RouteConfig:
    type: str = _table_key("the content type codename whose items get pages")
    path: str = _option(doc="URL of each item's page", check=_url_path("language", elements=True))
    template: str = _option(doc="template of the item pages", default_from_key="{}.html")


@dataclass(frozen=True, kw_only=True)
class ListingConfig:
    name: str = _table_key("the listing's name (a feed refers to it)")
    path: str = _option(
        doc="URL of page 1; page N is at {path}page/N/", check=_url_path("language")
    )
    type: str = _option(doc="the content type codename to list")
    template: str = _option("listing.html", "template of the listing pages")
    order: str = _option(
        "system.last_modified desc",
        "sort order",
        check=_rule("'<system.prop|elements.codename> [asc|desc]'", _ORDER.fullmatch),
    )
    page_size: int = _option(10, "items per page", check=_rule("at least 1", lambda v: v >= 1))


@dataclass(frozen=True, kw_only=True)
class TaxonomyPageConfig:
    group: str = _table_key("the taxonomy group codename whose terms get pages")
    path: str = _option(
        doc="URL of each term's page", check=_url_path("term", "language", required="term")
    )
    template: str = _option("taxonomy.html", "template of the term pages")
    type: str | None = _option(
        None, "term pages list only items of this content type (default: every type)"
    )


@dataclass(frozen=True, kw_only=True)
class FeedConfig:
    listing: str = _option(
        doc="the name of the [listings.<name>] table whose newest items it shows"
    )
    path: str = _option("/feed.xml", "URL of the feed", check=_url_path())
    title: str = _option("", "feed title (default: [site] title, else the listing's name)")


@dataclass(frozen=True, kw_only=True)
class WebhookConfig:
    path: str = _option("/webhook", "URL the receiver accepts webhooks on", check=_url_path())
    secret: str | None = _secret("verifies webhook signatures", env="KONTENT_WEBHOOK_SECRET")
    name: str = _option(
        "",
        "name of the environment's webhook `webhooks register` manages (default: "
        '"kontent-ssg <[site] base_url>")',
    )
    relay: str = _option(
        "",
        "forward webhooks instead of rebuilding: `github` sends them to the repository's "
        "`repository_dispatch` (the workflow of `init --ci github` builds them); "
        "`kontent-ssg webhook --relay github` does the same",
        check=_rule('"" or "github"', ("", "github").__contains__),
    )
    github_repository: str = _option(
        "",
        "the repository (owner/name) the relay dispatches to",
        check=_rule('"" or owner/name', re.compile(r"|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+").fullmatch),
        env="GITHUB_REPOSITORY",
    )
    github_api_url: str = _option(
        "https://api.github.com",
        "GitHub's REST API base (GitHub Enterprise Server: https://HOST/api/v3)",
        check=_url(),
        env="GITHUB_API_URL",
    )
    github_token: str | None = _secret(
        "the token the relay dispatches with (Bearer; fine-grained: Contents read and write)",
        env="GITHUB_DISPATCH_TOKEN",
    )


@dataclass(frozen=True, kw_only=True)
class DeployConfig:
    command: str | None = _option(None, "shell command run after a successful webhook rebuild")
    netlify_build_hook_env: str = _option(
        "NETLIFY_BUILD_HOOK_URL",
        "the environment variable holding a Netlify build hook URL, posted after a rebuild",
        check=_rule("an environment variable name", re.compile(r"[A-Za-z_]\w*").fullmatch),
    )
    netlify_build_hook: str | None = _secret(
        "Netlify build hook URL", env_named_by="netlify_build_hook_env"
    )


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    widths: tuple[int, ...] = _option(
        (320, 640, 960, 1280, 1920),
        "widths (pixels) offered in rich-text images' srcset; never above the original",
        check=_rule(
            "positive integers", lambda v: v and min(v) > 0, lambda v: tuple(sorted(set(v)))
        ),
    )
    format: str | None = _option(
        None,
        "image format (`fm=`) asked of the image CDN",
        check=_rule(f"one of {', '.join(_FORMATS)}", _FORMATS.__contains__),
    )
    quality: int | None = _option(
        None,
        "quality (`q=`) asked of the image CDN",
        check=_rule("between 1 and 100", lambda v: 1 <= v <= 100),
    )
    auto_format: bool = _option(
        True, "add `auto=format`: the CDN picks a format the browser supports"
    )
    sizes: str = _option("(max-width: 960px) 100vw, 960px", "the `sizes` attribute with a srcset")


def _assets_path(value: str) -> str:
    _url_path().apply(value)
    trimmed = value.rstrip("/")
    if not trimmed:
        raise ValueError(f"must name a folder below the site root, got {_toml(value)}")
    return trimmed


@dataclass(frozen=True, kw_only=True)
class AssetsConfig:
    path: str = _option(
        "/assets",
        "URL path downloaded assets are published under: `{path}/<id>/<file name>`, image "
        "variants in a folder per transformation below it",
        check=_Check("a URL path below '/' (A-Z a-z 0-9 . _ ~ - segments)", _assets_path),
    )
    on_missing: str = _option(
        "fail",
        'an asset that cannot be downloaded (after retries) or is too large: "fail" the '
        'build, or "link" the CDN URL with a warning naming the page (an error with `--strict`)',
        check=_rule('"fail" or "link"', ("fail", "link").__contains__),
    )
    max_bytes: int = _option(
        50_000_000,
        "largest asset downloaded, in bytes; a larger one is refused",
        check=_rule("at least 1", lambda v: v >= 1),
    )
    keep_days: int = _option(
        30,
        "days a downloaded asset or image variant no build uses stays in the cache "
        "(`.kontent-ssg/assets/`) before a build prunes it",
        check=_rule("0 or more", lambda v: v >= 0),
    )
    concurrency: int = _option(
        8,
        "downloads at once",
        check=_rule("between 1 and 64", lambda v: 1 <= v <= 64),
    )


@dataclass(frozen=True, kw_only=True)
class PluginsConfig:
    modules: tuple[str, ...] = _option(
        (),
        "the site's plugins, each a module with `register(plugin)`: a module in the site "
        "folder (`hooks` is `hooks.py`), an entry point of the group `kontent_ssg.plugins`, "
        "or an installed module (docs/PLUGINS.md)",
        check=_rule(
            "Python module names, each once",
            lambda v: (
                all(re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", m) for m in v)
                and len(set(v)) == len(v)
            ),
        ),
    )


@dataclass(frozen=True, kw_only=True)
class Config:
    """A loaded ``kontent.toml``: one field per table (declared with its doc), plus where it
    came from and the warnings loading it gave."""

    site_dir: Path
    path: Path
    kontent: KontentConfig = field(metadata=_doc("where the content comes from"))
    site: SiteConfig = field(default_factory=SiteConfig, metadata=_doc("the site as a whole"))
    routes: Mapping[str, RouteConfig] = field(
        default_factory=dict, metadata=_doc("one table per routed content type: a page per item")
    )
    listings: Mapping[str, ListingConfig] = field(
        default_factory=dict, metadata=_doc("paginated listings of one content type")
    )
    taxonomies: Mapping[str, TaxonomyPageConfig] = field(
        default_factory=dict, metadata=_doc("one page per term of a taxonomy group")
    )
    feed: FeedConfig | None = field(
        default=None, metadata=_doc("an Atom feed of a listing (optional)")
    )
    webhook: WebhookConfig = field(
        default_factory=WebhookConfig, metadata=_doc("the webhook receiver")
    )
    deploy: DeployConfig = field(
        default_factory=DeployConfig,
        metadata=_doc("what `kontent-ssg webhook` does after a rebuild"),
    )
    images: ImageConfig = field(
        default_factory=ImageConfig, metadata=_doc("responsive rich-text images")
    )
    assets: AssetsConfig = field(
        default_factory=AssetsConfig,
        metadata=_doc("downloaded assets, when `[site] download_assets` is on"),
    )
    plugins: PluginsConfig = field(
        default_factory=PluginsConfig,
        metadata=_doc("Python plugins: filters, hooks, resolvers and pages (docs/PLUGINS.md)"),
    )
    warnings: tuple[str, ...] = ()
    # The text this configuration was loaded from: what the build state's fingerprint hashes,
    # so that a long-running receiver whose kontent.toml is edited under it keeps building with
    # the configuration it holds, and the next process (which loads the edit) builds in full.
    source: str = field(default="", repr=False, compare=False)

    @property
    def state_dir(self) -> Path:
        return self.site_dir / ".kontent-ssg"

    @property
    def snapshot_dir(self) -> Path:
        return self.state_dir / "snapshot"

    @property
    def output_dir(self) -> Path:
        out = Path(self.site.output)
        return out if out.is_absolute() else self.site_dir / out

    @property
    def preview_output_dir(self) -> Path:
        """Where ``--preview`` builds go: apart from :attr:`output_dir`, so that publishing
        the output folder can never publish drafts."""
        if self.site.preview_output:
            out = Path(self.site.preview_output)
        else:
            out = Path(f"{Path(self.site.output)}-preview")
        return out if out.is_absolute() else self.site_dir / out

    def output_for(self, preview: bool) -> Path:
        """The output folder of a published or a preview build."""
        return self.preview_output_dir if preview else self.output_dir

    @property
    def templates_dir(self) -> Path:
        return self.site_dir / "templates"

    @property
    def static_dir(self) -> Path:
        return self.site_dir / "static"


# ---------------------------------------------------------------------------------------------
# Reading the declarations


def _options(cls: type) -> Iterator[tuple[str, type, Any, _Option]]:
    """(name, type, default, option) of each declared field of ``cls``."""
    hints = get_type_hints(cls)
    for f in fields(cls):
        if _META in f.metadata:
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            yield f.name, hints[f.name], default, f.metadata[_META]


def _table_shape(tp: Any) -> tuple[str, type]:
    """``("one" | "optional" | "named", table class)`` of a :class:`Config` field type."""
    if get_origin(tp) is Mapping:
        return "named", get_args(tp)[1]
    if get_origin(tp) in (Union, types.UnionType):
        return "optional", _unwrap(tp)
    return "one", tp


def _unwrap(tp: Any) -> Any:
    """``X | None`` → ``X`` (TOML has no null, so None is only ever the default)."""
    if get_origin(tp) in (Union, types.UnionType):
        return next(a for a in get_args(tp) if a is not type(None))
    return tp


_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "list"}


def _type_name(tp: Any) -> str:
    tp = _unwrap(tp)
    if get_origin(tp) is tuple:
        return f"list of {_TYPE_NAMES[get_args(tp)[0]]}s"
    return _TYPE_NAMES[tp]


def _toml(value: Any) -> str:
    """``value`` as TOML would write it, for messages and docs."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return repr(value)


def _shown(value: Any) -> str:
    """A parsed TOML value as the user wrote it: ``integer 5``, ``boolean true``."""
    if isinstance(value, dict):
        return "a table"
    kind = "date/time" if isinstance(value, (datetime, date, time)) else _TYPE_NAMES[type(value)]
    return f"{kind} {_toml(value)}"


def _convert(value: Any, tp: Any) -> Any:
    """``value`` as ``tp`` (TOML arrays become tuples); :class:`ValueError` when it is not."""
    tp = _unwrap(tp)
    if get_origin(tp) is tuple:
        item = get_args(tp)[0]
        if isinstance(value, list) and all(_is(v, item) for v in value):
            return tuple(value)
    elif _is(value, tp):
        return float(value) if tp is float else value
    name = _type_name(tp)
    article = "an" if name[0] in "aeiou" else "a"
    expected = "true or false" if tp is bool else f"{article} {name}"
    raise ValueError(f"expected {expected}, got {_shown(value)}")


def _is(value: Any, tp: type) -> bool:
    if isinstance(value, bool):
        return tp is bool
    if tp is float:
        return isinstance(value, (int, float))
    return isinstance(value, tp)


# ---------------------------------------------------------------------------------------------
# Loading


class _Loader:
    """Walks the declarations over the parsed TOML of one file, collecting warnings."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.warnings: list[str] = []

    def fail(self, where: str, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: [{where}] {key}: {message}")

    def as_table(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: [{where}] must be a table, got {_shown(value)}")
        return value

    def warn_unknown(self, where: str, raw: Mapping[str, Any], known: list[str]) -> None:
        for key in raw:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
            if where:
                warning = f"unknown key '{key}' in [{where}] (ignored)"
                if close:
                    warning += f"; did you mean '{close[0]}'?"
            else:
                kind = "table" if isinstance(raw[key], dict) else "key"
                warning = f"unknown top-level {kind} '{key}' (ignored)"
                if close:
                    warning += f"; did you mean [{close[0]}]?"
            self.warnings.append(f"{self.path}: {warning}")

    def config(self, raw: Mapping[str, Any], site_dir: Path) -> Config:
        tables: dict[str, Any] = {}
        for name, tp, _default, _ in _options(Config):
            shape, cls = _table_shape(tp)
            if name not in raw:
                if shape != "optional":
                    tables[name] = {} if shape == "named" else self.table(name, cls, {})
                continue
            if shape == "named":
                tables[name] = {
                    key: self.table(f"{name}.{key}", cls, sub, key)
                    for key, sub in self.as_table(name, raw[name]).items()
                }
            else:
                tables[name] = self.table(name, cls, raw[name])
        self.warn_unknown("", raw, list(tables))
        feed, listings = tables.get("feed"), tables["listings"]
        if feed is not None and feed.listing not in listings:
            have = ", ".join(sorted(listings)) or "none"
            raise self.fail("feed", "listing", f"no [listings.{feed.listing}] table (have: {have})")
        config = Config(site_dir=site_dir, path=self.path, warnings=tuple(self.warnings), **tables)
        published, preview = config.output_dir.resolve(), config.preview_output_dir.resolve()
        if published == preview or published in preview.parents or preview in published.parents:
            raise self.fail(
                "site",
                "preview_output",
                f"{preview} must be apart from the output folder {published} (neither inside "
                "the other): a deploy of the output folder would ship drafts",
            )
        return config

    def table(self, where: str, cls: type, value: Any, key: str | None = None) -> Any:
        raw = self.as_table(where, value)
        declared = list(_options(cls))
        secrets = [(name, opt) for name, _, _, opt in declared if opt.secret]
        refused = {name for name, _ in secrets} | {
            a for _, opt in secrets for a in opt.also_refused
        }
        for name in raw:
            if name in refused:
                sources = ", ".join(
                    opt.env or f"the variable named by {opt.env_named_by}" for _, opt in secrets
                )
                raise self.fail(
                    where,
                    name,
                    f"secrets are read only from the environment ({sources}); "
                    "remove it from kontent.toml",
                )
        values: dict[str, Any] = {}
        for name, tp, default, opt in declared:
            if opt.from_key:
                values[name] = key
            elif not opt.secret:
                values[name] = self.value(where, name, tp, default, opt, raw, key)
        for name, opt in secrets:
            variable = opt.env or values[opt.env_named_by or ""]
            values[name] = self.env.get(variable) or None
        self.warn_unknown(where, raw, [n for n, _, _, o in declared if not o.from_key])
        return cls(**values)

    def value(
        self,
        where: str,
        name: str,
        tp: Any,
        default: Any,
        opt: _Option,
        raw: Mapping[str, Any],
        key: str | None,
    ) -> Any:
        """One option: the file's value, or the environment's when set, else the default;
        then checked."""
        value: Any = MISSING
        source = ""
        if name in raw:
            try:
                value = _convert(raw[name], tp)
            except ValueError as exc:
                raise self.fail(where, name, str(exc)) from None
        overriding = self.env.get(opt.env) if opt.env else None
        if overriding:
            if value is not MISSING and value != overriding:
                self.warnings.append(
                    f"{self.path}: [{where}] {name}: {opt.env} overrides the value in {CONFIG_FILE}"
                )
            value, source = overriding, f" (from {opt.env})"
        if value is MISSING:
            if default is not MISSING:
                return default
            if opt.default_from_key is not None:
                return opt.default_from_key.format(key)
            hint = f"add {name} = … to [{where}]"
            if opt.env:
                hint = f"set it in {CONFIG_FILE} or in the environment variable {opt.env}"
            what = opt.check.allowed if opt.check else opt.doc
            raise ConfigError(f"{self.path}: [{where}] {name} is missing ({what})", hint=hint)
        if opt.check is not None:
            try:
                value = opt.check.apply(value)
            except ValueError as exc:
                raise self.fail(where, name + source, str(exc)) from None
        return value


def load_config(site_dir: Path | str = ".", env: Mapping[str, str] | None = None) -> Config:
    """Load and validate ``SITE/kontent.toml``; raise :class:`ConfigError` naming the key."""
    site_dir = Path(site_dir).resolve()
    path = site_dir / CONFIG_FILE
    if not site_dir.is_dir():
        raise ConfigError(f"site folder {site_dir} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found",
            hint="SITE must be a folder holding kontent.toml (default: the current folder)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return config_from_text(text, site_dir, env)


def config_from_text(
    text: str, site_dir: Path | str, env: Mapping[str, str] | None = None
) -> Config:
    """A ``kontent.toml`` not (yet) on disk, loaded and validated as :func:`load_config`
    would (``init`` checks what it is about to write)."""
    env = os.environ if env is None else env
    site_dir = Path(site_dir).resolve()
    path = site_dir / CONFIG_FILE
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return replace(_Loader(path, env).config(raw, site_dir), source=text)


# ---------------------------------------------------------------------------------------------
# The declarations, for docs


@dataclass(frozen=True)
class OptionDoc:
    """One declared option, in words: what ``docs/CONFIG.md`` lists."""

    key: str
    type: str
    default: str  # as TOML; "" when there is none
    required: bool
    allowed: str
    doc: str
    env: str  # the environment variable that overrides it (or, for a secret, holds it)
    env_named_by: str  # ... or the option naming that variable
    secret: bool  # read only from the environment


@dataclass(frozen=True)
class TableDoc:
    name: str  # "kontent", "routes.<type>"
    doc: str
    options: tuple[OptionDoc, ...]


def reference() -> list[TableDoc]:
    """Every table and option as declared, in declaration order."""
    tables = []
    for name, tp, _default, opt in _options(Config):
        shape, cls = _table_shape(tp)
        docs = []
        for key, otp, default, o in _options(cls):
            if o.from_key:
                continue
            if o.default_from_key is not None:
                shown = f'"{o.default_from_key.format("<" + _key_of(cls) + ">")}"'
            else:
                shown = "" if default in (MISSING, None) or o.secret else _toml(default)
            allowed = o.check.allowed if o.check else ""
            docs.append(
                OptionDoc(
                    key=key,
                    type=_type_name(otp),
                    default=shown,
                    required=default is MISSING and o.default_from_key is None,
                    allowed=allowed,
                    doc=o.doc,
                    env=o.env or "",
                    env_named_by=o.env_named_by or "",
                    secret=o.secret,
                )
            )
        table = f"{name}.<{_key_of(cls)}>" if shape == "named" else name
        tables.append(TableDoc(table, opt.doc, tuple(docs)))
    return tables


def _key_of(cls: type) -> str:
    return next(name for name, _, _, opt in _options(cls) if opt.from_key)
