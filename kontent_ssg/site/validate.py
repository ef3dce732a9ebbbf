"""Names in ``kontent.toml`` and in templates, checked against the content model.

Both ``build`` (at its planning step, once the content is known) and ``check`` run these
checks; a typo in a name gives a message naming the file, the table or template line, the
key and the closest valid name:

- errors (exit status 2): ``[routes.x]`` for a type that does not exist, a route placeholder
  naming an element the type does not have, a listing's ``type`` or ``order`` field that
  does not exist, ``[taxonomies.x]`` for a group that does not exist (or its ``type``), and in
  templates ``url_for('name')``, ``items(type='x')`` and ``taxonomy('x')`` with a literal name
  the site does not have (a name computed while rendering is checked then, by the globals);
- warnings (errors with ``--strict``): ``item.<name>`` in a route's template or in
  ``components/<type>.html`` when the type has no element ``<name>`` (``system``,
  ``elements``, ``url`` and the view's conveniences are always allowed).

Templates are read from their Jinja syntax tree (nothing is rendered). What a template uses
does not depend on the content, so :func:`scan_templates` takes the previous scan and parses
only the templates whose bytes changed: incremental builds pay a file read and a hash each.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..content.model import SYSTEM_PROPERTIES, ContentModel
from ..errors import TemplateError, did_you_mean

__all__ = [
    "VIEW_ATTRIBUTES",
    "TemplateUses",
    "Validation",
    "config_errors",
    "scan_templates",
    "template_types",
    "unknown_page_name",
    "url_for_names",
    "validate_site",
]

JSON = dict[str, Any]

#: Names an item view answers besides element codenames (``item.url`` …).
VIEW_ATTRIBUTES = frozenset(
    {"system", "elements", "url", "codename", "id", "type", "name", "language", "raw"}
    | {"is_component", "items", "keys", "values", "get"}
)

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass
class Validation:
    """What :func:`validate_site` found: ``errors`` stop a build (exit status 2),
    ``warnings`` are the site's (``--strict`` fails on them)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uses: dict[str, TemplateUses] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateUses:
    """The names one template uses, with their lines; ``digest`` is of its bytes."""

    digest: str
    item: tuple[tuple[str, int], ...] = ()  # item.<name>, item["name"]
    url_for: tuple[tuple[str, int], ...] = ()  # url_for('<literal>')
    types: tuple[tuple[str, int], ...] = ()  # items(type='<literal>')
    groups: tuple[tuple[str, int], ...] = ()  # taxonomy('<literal>')
    syntax_error: tuple[int, str] | None = None  # (line, message)

    def to_json(self) -> JSON:
        return {
            "digest": self.digest,
            "item": self.item,
            "url_for": self.url_for,
            "types": self.types,
            "groups": self.groups,
            "syntax_error": self.syntax_error,
        }

    @classmethod
    def from_json(cls, data: JSON) -> TemplateUses:
        def pairs(key: str) -> tuple[tuple[str, int], ...]:
            return tuple((str(a), int(b)) for a, b in data.get(key) or ())

        error = data.get("syntax_error")
        return cls(
            digest=str(data["digest"]),
            item=pairs("item"),
            url_for=pairs("url_for"),
            types=pairs("types"),
            groups=pairs("groups"),
            syntax_error=(int(error[0]), str(error[1])) if error else None,
        )


# ---------------------------------------------------------------------------------------------
# kontent.toml against the content model


def config_errors(config: Config, model: ContentModel) -> list[str]:
    """Every route, listing and taxonomy table naming a type, element, field or group the
    content model does not have."""
    errors: list[str] = []
    where = config.path

    # The lists of names are for the suggestions only: building them walks every item
    # (ContentModel's widening), which a site without unknown names never needs.
    def no_type(table: str, key: str, codename: str) -> str:
        return f"{where}: [{table}]{key}: no content type '{codename}'" + did_you_mean(
            codename, model.type_names(), listed="content types"
        )

    for type_codename, route in sorted(config.routes.items()):
        if not model.has_type(type_codename):
            errors.append(no_type(f"routes.{type_codename}", "", type_codename))
            continue
        for name in _PLACEHOLDER.findall(route.path):
            problem = _field_problem(model, type_codename, name, placeholder=True)
            if problem:
                errors.append(f"{where}: [routes.{type_codename}] path: {{{name}}}: {problem}")
    for name, listing in sorted(config.listings.items()):
        if not model.has_type(listing.type):
            errors.append(no_type(f"listings.{name}", " type", listing.type))
            continue
        order_field = listing.order.split()[0]
        problem = _field_problem(model, listing.type, order_field, placeholder=False)
        if problem:
            errors.append(f"{where}: [listings.{name}] order: {order_field}: {problem}")
    for group, tax in sorted(config.taxonomies.items()):
        if not model.has_group(group):
            errors.append(
                f"{where}: [taxonomies.{group}]: no taxonomy group '{group}'"
                + did_you_mean(group, model.group_names(), listed="taxonomy groups")
            )
        if tax.type is not None and not model.has_type(tax.type):
            errors.append(no_type(f"taxonomies.{group}", " type", tax.type))
    return errors


def _field_problem(model: ContentModel, type_codename: str, name: str, *, placeholder: bool) -> str:
    """Why ``name`` (a route placeholder, or a listing's ``system.x``/``elements.x`` order
    field) is not a field of the type, or ""."""
    if placeholder and name == "language":
        return ""
    if name.startswith("system."):
        prop = name[len("system.") :]
        if prop in SYSTEM_PROPERTIES:
            return ""
        return f"no system property '{prop}'" + did_you_mean(
            prop, SYSTEM_PROPERTIES, listed="system properties"
        )
    element = name if placeholder else name.removeprefix("elements.")
    if model.has_element(type_codename, element):
        return ""
    return f"content type '{type_codename}' has no element '{element}'" + did_you_mean(
        element, model.elements(type_codename), listed="its elements"
    )


# ---------------------------------------------------------------------------------------------
# Templates


def scan_templates(
    env: Any, names: Iterable[str], previous: Mapping[str, TemplateUses] | None = None
) -> dict[str, TemplateUses]:
    """What each template uses; a template whose bytes hash as in ``previous`` is not parsed
    again. ``env`` is the site's Jinja environment (its loader finds the templates)."""
    import jinja2

    previous = previous or {}
    found: dict[str, TemplateUses] = {}
    for name in names:
        try:
            source = env.loader.get_source(env, name)[0]
        except jinja2.TemplateNotFound:
            continue
        except UnicodeDecodeError as exc:
            raise TemplateError(
                f"template {name!r} is not UTF-8 text (byte {exc.start}: {exc.reason})",
                hint="save the template as UTF-8",
            ) from None
        digest = hashlib.blake2b(source.encode("utf-8"), digest_size=8).hexdigest()
        old = previous.get(name)
        if old is not None and old.digest == digest:
            found[name] = old
            continue
        try:
            ast = env.parse(source, name=name)
        except jinja2.TemplateSyntaxError as exc:
            found[name] = TemplateUses(digest, syntax_error=(exc.lineno, exc.message or ""))
            continue
        found[name] = _uses(ast, digest)
    return found


def _uses(ast: Any, digest: str) -> TemplateUses:
    from jinja2 import nodes

    item: list[tuple[str, int]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "item"):
            continue
        if isinstance(node, nodes.Getattr):
            item.append((node.attr, node.lineno))
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            item.append((node.arg.value, node.lineno))
    calls: dict[str, list[tuple[str, int]]] = {"url_for": [], "items": [], "taxonomy": []}
    for call in ast.find_all(nodes.Call):
        if not isinstance(call.node, nodes.Name) or call.node.name not in calls:
            continue
        argument: Any = call.args[0] if call.args else None
        if call.node.name == "items":
            argument = next((k.value for k in call.kwargs if k.key == "type"), argument)
        if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
            calls[call.node.name].append((argument.value, call.lineno))
    return TemplateUses(
        digest,
        item=tuple(item),
        url_for=tuple(calls["url_for"]),
        types=tuple(calls["items"]),
        groups=tuple(calls["taxonomy"]),
    )


def template_types(config: Config, names: Iterable[str]) -> dict[str, str]:
    """Template name → the content type whose items it renders: the routes' templates, and
    ``components/<type>.html``."""
    found = {route.template: route.type for route in config.routes.values()}
    for name in names:
        if name.startswith("components/") and name.count("/") == 1 and name.endswith(".html"):
            found.setdefault(name, name[len("components/") : -len(".html")])
    return found


def url_for_names(config: Config, extra: Iterable[str] = ()) -> list[str]:
    """The names ``url_for`` knows besides item codenames: listings, taxonomy groups,
    routes, ``home`` (the page at a language's home URL) and ``extra`` (plugin pages)."""
    return sorted({*config.listings, *config.taxonomies, *config.routes, "home", *extra})


def unknown_page_name(target: str, names: list[str], codenames: Iterable[str]) -> str:
    """The message for a ``url_for`` name nothing answers to: the closest name (item
    codenames included), else the site's own names (there may be thousands of items)."""
    message = f"no item, listing, taxonomy group or route named '{target}'"
    hint = did_you_mean(target, [*names, *codenames])
    if not hint:
        hint = did_you_mean(target, names, listed="listings, taxonomy groups and routes")
    return message + hint


def validate_site(
    config: Config,
    model: ContentModel,
    uses: Mapping[str, TemplateUses],
    *,
    page_names: Iterable[str] = (),
) -> Validation:
    """The config and the site's templates (``uses``, from :func:`scan_templates`) against
    the content model. ``page_names``: more names ``url_for`` knows (plugin pages)."""
    result = Validation(errors=config_errors(config, model), uses=dict(uses))
    names = url_for_names(config, page_names)
    store = model.store
    mapped = template_types(config, uses)
    for name in sorted(uses):
        found = uses[name]
        if found.syntax_error is not None:
            continue  # check reports it; a build meets it when a page renders the template
        for target, line in found.url_for:
            if target in names or any(store.item(target, lang) for lang in store.languages):
                continue
            result.errors.append(
                f"template {name}, line {line}: url_for('{target}'): "
                + unknown_page_name(target, names, _codenames(store))
            )
        for target, line in found.types:
            if not model.has_type(target):
                result.errors.append(
                    f"template {name}, line {line}: items(type='{target}'): no content type "
                    f"'{target}'" + did_you_mean(target, model.type_names(), listed="content types")
                )
        for target, line in found.groups:
            if not model.has_group(target):
                result.errors.append(
                    f"template {name}, line {line}: taxonomy('{target}'): no taxonomy group "
                    f"'{target}'"
                    + did_you_mean(target, model.group_names(), listed="taxonomy groups")
                )
        type_codename = mapped.get(name)
        if type_codename is None or not model.has_type(type_codename):
            continue
        for attr, line in found.item:
            if attr in VIEW_ATTRIBUTES or model.has_element(type_codename, attr):
                continue
            result.warnings.append(
                f"template {name}, line {line}: item.{attr}: content type '{type_codename}' "
                f"has no element '{attr}'" + did_you_mean(attr, model.elements(type_codename))
            )
    return result


def _codenames(store: Any) -> set[str]:
    found: set[str] = set()
    for language in store.languages:
        found.update(raw["system"]["codename"] for raw in store.summaries(language))
    return found
