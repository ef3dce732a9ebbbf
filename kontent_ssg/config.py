"""``kontent.toml``: declared, typed and validated up front.

Every error names the file, the key and what is allowed. Unknown keys are warnings (a typo
should not silently do nothing). Secrets come only from the environment and are kept out of
``repr`` so they never reach a log.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "Config",
    "DeployConfig",
    "FeedConfig",
    "ImageConfig",
    "KontentConfig",
    "ListingConfig",
    "RouteConfig",
    "SiteConfig",
    "TaxonomyPageConfig",
    "WebhookConfig",
    "load_config",
]

CONFIG_FILE = "kontent.toml"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class KontentConfig:
    environment_id: str
    delivery_url: str = "https://deliver.kontent.ai"
    preview_url: str = "https://preview-deliver.kontent.ai"
    languages: tuple[str, ...] = ()
    timeout: float = 30.0
    max_retries: int = 6
    delivery_api_key: str | None = field(default=None, repr=False)
    preview_api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SiteConfig:
    base_url: str = ""
    output: str = "public"
    title: str = ""
    download_assets: bool = False


@dataclass(frozen=True)
class RouteConfig:
    type: str
    path: str
    template: str


@dataclass(frozen=True)
class ListingConfig:
    name: str
    path: str
    template: str
    type: str
    order: str = "system.last_modified desc"
    page_size: int = 10


@dataclass(frozen=True)
class TaxonomyPageConfig:
    group: str
    path: str
    template: str
    type: str | None = None


@dataclass(frozen=True)
class FeedConfig:
    listing: str
    path: str = "/feed.xml"
    title: str = ""


@dataclass(frozen=True)
class WebhookConfig:
    path: str = "/webhook"
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DeployConfig:
    command: str | None = None
    netlify_build_hook: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ImageConfig:
    widths: tuple[int, ...] = (320, 640, 960, 1280, 1920)
    format: str | None = None
    quality: int | None = None
    auto_format: bool = True
    sizes: str = "(max-width: 960px) 100vw, 960px"


@dataclass(frozen=True)
class Config:
    site_dir: Path
    path: Path
    kontent: KontentConfig
    site: SiteConfig = field(default_factory=SiteConfig)
    routes: Mapping[str, RouteConfig] = field(default_factory=dict)
    listings: Mapping[str, ListingConfig] = field(default_factory=dict)
    taxonomies: Mapping[str, TaxonomyPageConfig] = field(default_factory=dict)
    feed: FeedConfig | None = None
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)
    images: ImageConfig = field(default_factory=ImageConfig)
    warnings: tuple[str, ...] = ()

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
    def templates_dir(self) -> Path:
        return self.site_dir / "templates"

    @property
    def static_dir(self) -> Path:
        return self.site_dir / "static"


class _Reader:
    """Reads one table, checking types; remembers which keys were used."""

    def __init__(self, path: Path, table: Mapping[str, Any], where: str) -> None:
        self.path = path
        self.table = table
        self.where = where
        self.used: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: [{self.where}] {key}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(key, f"expected a number, got {value!r}")
        if not isinstance(value, kind):
            expected = _kind_name(kind)
            raise self.fail(key, f"expected {expected}, got {type(value).__name__} {value!r}")
        return value

    def require(self, key: str, kind: type, allowed: str) -> Any:
        value = self.get(key, kind)
        if value is None or value == "":
            raise self.fail(key, f"is required ({allowed})")
        return value

    def unknown(self) -> list[str]:
        return [
            f"{self.path}: unknown key '{k}' in [{self.where}] (ignored)"
            for k in self.table
            if k not in self.used
        ]


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _check_url(reader: _Reader, key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.fail(key, f"expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _check_path(reader: _Reader, key: str, value: str, allowed: set[str] | None = None) -> str:
    if not value.startswith("/"):
        raise reader.fail(key, f"must start with '/', got {value!r}")
    if ".." in value.split("/"):
        raise reader.fail(key, f"must not contain '..', got {value!r}")
    if allowed is not None:
        for name in _PLACEHOLDER.findall(value):
            if name not in allowed and not name.isidentifier():
                raise reader.fail(key, f"unknown placeholder {{{name}}} in {value!r}")
    return value


def load_config(site_dir: Path | str = ".", env: Mapping[str, str] | None = None) -> Config:
    """Load and validate ``SITE/kontent.toml``; raise :class:`ConfigError` naming the key."""
    env = os.environ if env is None else env
    site_dir = Path(site_dir).resolve()
    path = site_dir / CONFIG_FILE
    if not site_dir.is_dir():
        raise ConfigError(f"site folder {site_dir} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found",
            hint="SITE must be a folder holding kontent.toml (default: the current folder)",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None

    warnings: list[str] = []
    top = _Reader(path, raw, "")

    # [kontent]
    k = _Reader(path, top.get("kontent", dict, {}), "kontent")
    environment_id = env.get("KONTENT_ENVIRONMENT_ID") or k.get("environment_id", str)
    if not environment_id:
        raise ConfigError(
            f"{path}: [kontent] environment_id is missing",
            hint="set it in kontent.toml or in the environment variable KONTENT_ENVIRONMENT_ID",
        )
    if not re.fullmatch(r"[A-Za-z0-9-]+", environment_id):
        raise k.fail(
            "environment_id", f"expected an environment id (a GUID), got {environment_id!r}"
        )
    languages = k.get("languages", list, [])
    if not all(isinstance(x, str) and x for x in languages):
        raise k.fail("languages", "expected a list of language codenames")
    if len(set(languages)) != len(languages):
        raise k.fail("languages", "lists a language twice")
    max_retries = k.get("max_retries", int, 6)
    if not 0 <= max_retries <= 20:
        raise k.fail("max_retries", "must be between 0 and 20")
    timeout = float(k.get("timeout", (int, float), 30.0))
    if timeout <= 0:
        raise k.fail("timeout", "must be positive (seconds)")
    kontent = KontentConfig(
        environment_id=environment_id,
        delivery_url=_check_url(
            k, "delivery_url", k.get("delivery_url", str, "https://deliver.kontent.ai")
        ),
        preview_url=_check_url(
            k, "preview_url", k.get("preview_url", str, "https://preview-deliver.kontent.ai")
        ),
        languages=tuple(languages),
        timeout=timeout,
        max_retries=max_retries,
        delivery_api_key=env.get("KONTENT_DELIVERY_API_KEY") or None,
        preview_api_key=env.get("KONTENT_PREVIEW_API_KEY") or None,
    )
    for secret_key in ("delivery_api_key", "preview_api_key", "api_key", "secret"):
        if secret_key in k.table:
            raise k.fail(
                secret_key,
                "keys are read only from the environment (KONTENT_DELIVERY_API_KEY, "
                "KONTENT_PREVIEW_API_KEY); remove it from kontent.toml",
            )
    warnings += k.unknown()

    # [site]
    s = _Reader(path, top.get("site", dict, {}), "site")
    base_url = s.get("base_url", str, "")
    if base_url:
        base_url = _check_url(s, "base_url", base_url)
    output = s.get("output", str, "public")
    if not output.strip():
        raise s.fail("output", "must name a folder for the built site")
    site = SiteConfig(
        base_url=base_url,
        output=output,
        title=s.get("title", str, ""),
        download_assets=s.get("download_assets", bool, False),
    )
    warnings += s.unknown()

    # [routes.<type>]
    routes: dict[str, RouteConfig] = {}
    for type_name, table in top.get("routes", dict, {}).items():
        r = _Reader(path, _table(path, f"routes.{type_name}", table), f"routes.{type_name}")
        route_path = _check_path(
            r, "path", r.require("path", str, "a URL path like /articles/{url}/")
        )
        routes[type_name] = RouteConfig(
            type=type_name,
            path=route_path,
            template=r.get("template", str, f"{type_name}.html"),
        )
        warnings += r.unknown()

    # [listings.<name>]
    listings: dict[str, ListingConfig] = {}
    for name, table in top.get("listings", dict, {}).items():
        r = _Reader(path, _table(path, f"listings.{name}", table), f"listings.{name}")
        page_size = r.get("page_size", int, 10)
        if page_size < 1:
            raise r.fail("page_size", "must be at least 1")
        listings[name] = ListingConfig(
            name=name,
            path=_check_path(r, "path", r.require("path", str, "a URL path like /articles/")),
            template=r.get("template", str, "listing.html"),
            type=r.require("type", str, "the content type codename to list"),
            order=_check_order(r, r.get("order", str, "system.last_modified desc")),
            page_size=page_size,
        )
        warnings += r.unknown()

    # [taxonomies.<group>]
    taxonomies: dict[str, TaxonomyPageConfig] = {}
    for group, table in top.get("taxonomies", dict, {}).items():
        r = _Reader(path, _table(path, f"taxonomies.{group}", table), f"taxonomies.{group}")
        tpath = _check_path(r, "path", r.require("path", str, "a URL path like /topics/{term}/"))
        if "{term}" not in tpath:
            raise r.fail("path", f"must contain {{term}}, got {tpath!r}")
        taxonomies[group] = TaxonomyPageConfig(
            group=group,
            path=tpath,
            template=r.get("template", str, "taxonomy.html"),
            type=r.get("type", str),
        )
        warnings += r.unknown()

    # [feed]
    feed = None
    if "feed" in raw:
        f = _Reader(path, top.get("feed", dict, {}), "feed")
        listing = f.require("listing", str, "the name of a [listings.<name>] table")
        if listing not in listings:
            raise f.fail("listing", f"no [listings.{listing}] table (have: {sorted(listings)})")
        feed = FeedConfig(
            listing=listing,
            path=_check_path(f, "path", f.get("path", str, "/feed.xml")),
            title=f.get("title", str, ""),
        )
        warnings += f.unknown()

    # [webhook]
    w = _Reader(path, top.get("webhook", dict, {}), "webhook")
    webhook = WebhookConfig(
        path=_check_path(w, "path", w.get("path", str, "/webhook")),
        secret=env.get("KONTENT_WEBHOOK_SECRET") or None,
    )
    if "secret" in w.table:
        raise w.fail("secret", "the secret is read only from KONTENT_WEBHOOK_SECRET; remove it")
    warnings += w.unknown()

    # [deploy]
    d = _Reader(path, top.get("deploy", dict, {}), "deploy")
    hook_env = d.get("netlify_build_hook_env", str, "NETLIFY_BUILD_HOOK_URL")
    deploy = DeployConfig(
        command=d.get("command", str),
        netlify_build_hook=env.get(hook_env) or None,
    )
    warnings += d.unknown()

    # [images]
    i = _Reader(path, top.get("images", dict, {}), "images")
    widths = i.get("widths", list, list(ImageConfig.widths))
    if not widths or not all(
        isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in widths
    ):
        raise i.fail("widths", "expected a list of positive integers (pixels)")
    fmt = i.get("format", str)
    if fmt is not None and fmt not in ("webp", "avif", "jpg", "pjpg", "png", "png8", "gif"):
        raise i.fail(
            "format", f"expected one of webp, avif, jpg, pjpg, png, png8, gif; got {fmt!r}"
        )
    quality = i.get("quality", int)
    if quality is not None and not 1 <= quality <= 100:
        raise i.fail("quality", "must be between 1 and 100")
    images = ImageConfig(
        widths=tuple(sorted(set(widths))),
        format=fmt,
        quality=quality,
        auto_format=i.get("auto_format", bool, True),
        sizes=i.get("sizes", str, ImageConfig.sizes),
    )
    warnings += i.unknown()

    warnings += top.unknown()
    return Config(
        site_dir=site_dir,
        path=path,
        kontent=kontent,
        site=site,
        routes=routes,
        listings=listings,
        taxonomies=taxonomies,
        feed=feed,
        webhook=webhook,
        deploy=deploy,
        images=images,
        warnings=tuple(warnings),
    )


def _table(path: Path, where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{where}] must be a table, got {type(value).__name__}")
    return value


def _check_order(reader: _Reader, order: str) -> str:
    parts = order.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
        raise reader.fail(
            "order", f"expected '<system.prop|elements.codename> [asc|desc]', got {order!r}"
        )
    if not parts[0].startswith(("system.", "elements.")):
        raise reader.fail("order", f"must start with 'system.' or 'elements.', got {parts[0]!r}")
    return order
