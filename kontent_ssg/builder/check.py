"""``kontent-ssg check``: config and templates against the content model, links, no writes.

Renders every page in memory, exactly as a build would, so that template errors and broken
links are found as a build would meet them; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..content.snapshot import ContentStore, Snapshot
from ..errors import KontentSSGError, RouteError
from ..site.plan import plan_site
from .output import list_static_files
from .parallel import render_pages
from .report import unique_links

__all__ = ["CheckOptions", "CheckResult", "check_site"]

JSON = dict[str, Any]


@dataclass
class CheckOptions:
    offline: bool = False
    preview: bool = False


@dataclass
class CheckResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    broken_links: list[JSON] = field(default_factory=list)
    pages: int = 0
    templates: int = 0


# Names an ItemView answers besides element codenames.
_VIEW_ATTRIBUTES = frozenset(
    {"system", "elements", "url", "codename", "id", "type", "name", "language", "raw"}
    | {"is_component", "items", "keys", "values", "get"}
)


def check_site(config: Config, options: CheckOptions | None = None) -> CheckResult:
    """Validate config and templates against the content model and find broken links.

    Renders every page in memory (so template errors and broken links are found exactly as a
    build would meet them) and writes nothing.
    """
    import jinja2

    from ..render.templates import TEMPLATE_SUFFIXES, template_files
    from ..render.templating import make_environment, template_exists

    options = options or CheckOptions()
    result = CheckResult()
    snapshot = _snapshot_for_check(config, options)
    store = ContentStore(snapshot)
    env = make_environment(config.templates_dir)

    # Config against the content model.
    for type_codename, route in sorted(config.routes.items()):
        if type_codename not in store.types:
            result.errors.append(
                f"{config.path}: [routes.{type_codename}]: no content type '{type_codename}' "
                f"(types: {', '.join(sorted(store.types)) or 'none'})"
            )
        elif not template_exists(env, route.template):
            result.warnings.append(
                f"[routes.{type_codename}] template {route.template!r} not found in "
                f"{config.templates_dir}; pages would use the default item.html"
            )
    for name, listing in sorted(config.listings.items()):
        if listing.type not in store.types:
            result.errors.append(
                f"{config.path}: [listings.{name}] type: no content type '{listing.type}'"
            )
        if not template_exists(env, listing.template):
            result.warnings.append(f"[listings.{name}] template {listing.template!r} not found")
    for group, tax in sorted(config.taxonomies.items()):
        if group not in store.taxonomies:
            result.errors.append(
                f"{config.path}: [taxonomies.{group}]: no taxonomy group '{group}' "
                f"(groups: {', '.join(sorted(store.taxonomies)) or 'none'})"
            )
        if tax.type is not None and tax.type not in store.types:
            result.errors.append(
                f"{config.path}: [taxonomies.{group}] type: no content type '{tax.type}'"
            )
        if not template_exists(env, tax.template):
            result.warnings.append(f"[taxonomies.{group}] template {tax.template!r} not found")

    # Templates: syntax, and item.<codename> against the content type's elements.
    site_templates = [
        name
        for name in template_files(config.templates_dir, defaults=False)
        if name.endswith(TEMPLATE_SUFFIXES)
    ]
    result.templates = len(site_templates)
    element_sets = {
        codename: set((t.get("elements") or {}).keys()) for codename, t in store.types.items()
    }
    template_types: dict[str, str] = {r.template: r.type for r in config.routes.values()}
    for name in site_templates:
        if name.startswith("components/") and name.count("/") == 1:
            template_types.setdefault(name, name[len("components/") : -len(".html")])
    for name in site_templates:
        try:
            source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
            ast = env.parse(source, name=name)
        except jinja2.TemplateSyntaxError as exc:
            result.errors.append(f"template {name}, line {exc.lineno}: {exc.message}")
            continue
        template_type = template_types.get(name)
        if template_type is None or template_type not in element_sets:
            continue
        known = element_sets[template_type]
        for attr, line in _item_attributes(ast):
            if attr not in known and attr not in _VIEW_ATTRIBUTES:
                result.warnings.append(
                    f"template {name}, line {line}: item.{attr}: content type "
                    f"'{template_type}' has no element '{attr}'"
                )

    # Components used in rich text without a template.
    missing: dict[str, str] = {}
    for language in store.languages:
        for raw in store.items(language):
            for element in (raw.get("elements") or {}).values():
                if element.get("type") != "rich_text":
                    continue
                for codename in element.get("modular_content") or []:
                    embedded = store.item(codename, language) or store.component(codename, language)
                    if embedded is None:
                        continue
                    type_codename = embedded["system"]["type"]
                    template = f"components/{type_codename}.html"
                    if type_codename not in missing and not template_exists(env, template):
                        missing[type_codename] = raw["system"]["codename"]
    for type_codename, example in sorted(missing.items()):
        result.warnings.append(
            f"rich text embeds '{type_codename}' items (e.g. in {example}) but there is no "
            f"template components/{type_codename}.html; they would render generically"
        )

    # Routes and a full render in memory: collisions, unsafe URLs, template errors, links.
    try:
        site = plan_site(config, store, list_static_files(config.static_dir))
    except RouteError as exc:
        result.errors.append(str(exc))
        return result
    result.warnings.extend(site.warnings)
    result.pages = len(site.routes.pages)
    try:
        rendered = render_pages(config, site, site.routes.pages)
    except KontentSSGError as exc:
        result.errors.append(str(exc))
        return result
    warnings = [w for page in rendered for w in page.warnings]
    result.broken_links = unique_links(link for page in rendered for link in page.broken_links)
    result.warnings = list(dict.fromkeys(result.warnings + warnings))
    return result


def _snapshot_for_check(config: Config, options: CheckOptions) -> Snapshot:
    from ..content.delivery import client_for, crawl, obtain_snapshot

    if options.offline:
        snapshot, _ = obtain_snapshot(config, preview=options.preview, offline=True)
        return snapshot
    with client_for(config, preview=options.preview) as client:
        return crawl(client, config.kontent.languages or None)


def _item_attributes(ast: Any) -> list[tuple[str, int]]:
    """``item.<name>`` and ``item["name"]`` uses in a template (where statically visible)."""
    from jinja2 import nodes

    found: list[tuple[str, int]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "item"):
            continue
        if isinstance(node, nodes.Getattr):
            found.append((node.attr, node.lineno))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.append((node.arg.value, node.lineno))
    return found
