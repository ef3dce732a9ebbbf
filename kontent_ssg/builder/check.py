"""``kontent-ssg check``: config and templates against the content model, links, no writes.

Renders every page in memory, exactly as a build would, so that template errors and broken
links are found as a build would meet them; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..content.snapshot import ContentStore, Snapshot
from ..errors import KontentSSGError, RouteError, UnknownNameError
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


def check_site(config: Config, options: CheckOptions | None = None) -> CheckResult:
    """Validate config and templates against the content model and find broken links.

    Renders every page in memory (so template errors and broken links are found exactly as a
    build would meet them) and writes nothing.
    """
    from ..content.model import ContentModel
    from ..plugins import load_plugins
    from ..render.templates import TEMPLATE_SUFFIXES, template_files
    from ..render.templating import make_environment, template_exists
    from ..site.validate import scan_templates, validate_site

    options = options or CheckOptions()
    result = CheckResult()
    snapshot = _snapshot_for_check(config, options)
    store = ContentStore(snapshot)
    env = make_environment(config.templates_dir)

    # Names in the config and the templates against the content model (as a build does).
    site_templates = [
        name
        for name in template_files(config.templates_dir, defaults=False)
        if name.endswith(TEMPLATE_SUFFIXES)
    ]
    result.templates = len(site_templates)
    uses = scan_templates(env, site_templates)
    for name, found in uses.items():
        if found.syntax_error is not None:
            line, message = found.syntax_error
            result.errors.append(f"template {name}, line {line}: {message}")
    plugins = load_plugins(config)
    model = ContentModel(store)
    names = validate_site(config, model, uses, page_names=plugins.pages)
    result.errors.extend(names.errors)
    result.warnings.extend(names.warnings)

    # Templates the config names that the site does not have.
    for type_codename, route in sorted(config.routes.items()):
        if model.has_type(type_codename) and not template_exists(env, route.template):
            result.warnings.append(
                f"[routes.{type_codename}] template {route.template!r} not found in "
                f"{config.templates_dir}; pages would use the default item.html"
            )
    for name, listing in sorted(config.listings.items()):
        if not template_exists(env, listing.template):
            result.warnings.append(f"[listings.{name}] template {listing.template!r} not found")
    for group, tax in sorted(config.taxonomies.items()):
        if not template_exists(env, tax.template):
            result.warnings.append(f"[taxonomies.{group}] template {tax.template!r} not found")

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
        site = plan_site(config, store, list_static_files(config.static_dir), plugins)
    except RouteError as exc:
        result.errors.append(str(exc))
        return result
    result.warnings.extend(site.warnings)
    result.pages = len(site.routes.pages)
    try:
        rendered = render_pages(config, site, site.routes.pages)
    except KontentSSGError as exc:
        if not (isinstance(exc, UnknownNameError) and names.errors):  # else: said above
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
