"""``kontent-ssg init``: a working site from an environment's content model.

The model comes from the Delivery API (``/languages``, ``/types``, ``/taxonomies``, plus the
first page of the items-feed as a sample of the content) or from a saved snapshot
(``--offline``, ``--snapshot DIR``). From it ``init`` decides, type by type:

- **routes**: every type whose items stand on their own gets pages. A type with a URL slug
  element is routed by the slug (``/articles/{url}/``) when every item seen has one, else by
  codename (``/authors/{system.codename}/``), so that every item is reachable; a type called
  ``home`` (``homepage`` …) with at most one item is the home page, ``/``. A type seen only
  as rich-text components gets no pages, only a component template.
- **listings**: for routed types that look like posts (a date element), newest first.
- **taxonomy pages**: for the groups routed types' taxonomy elements use.
- **templates**: a base layout with a language switcher, a page template per routed type
  rendering every element with the right macro (rich text as is, assets as images with a
  ``srcset``, dates as ``<time>``, taxonomy terms and linked items as links), a component
  template per type that appears in rich text, one per listing and taxonomy group, and the
  404 page. The file templates are package data (``site-files/``); the per-element lines are
  written here.

What is already there is kept: a ``kontent.toml`` holding only ``[kontent]`` (no routes,
listings or taxonomy pages) is completed with the tables it lacks; with a complete one, only
templates the routed and embedded types lack are added. No existing file is replaced without
``--force`` (which regenerates everything but the ``[kontent]`` table). The generated config
is checked against the model (the build's own name checks) before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import CONFIG_FILE, Config, ImageConfig, config_from_text
from ..content.model import ContentModel
from ..content.snapshot import ContentStore, Snapshot, atomic_write_bytes, load_snapshot
from ..errors import BuildError, ConfigError, SnapshotError, UsageError
from .ci import Written

__all__ = ["ScaffoldPlan", "plan_scaffold", "scaffold_site"]

JSON = dict[str, Any]

SITE_FILES = Path(__file__).resolve().parent / "site-files"
MACROS = "macros/elements.html"

#: Type codenames taken for the home page (``/``) when the type has at most one item.
HOME_TYPES = ("home", "homepage", "home_page", "index", "landing_page", "start_page")
#: Text elements shown as a page's heading, in order of preference.
TITLE_ELEMENTS = ("title", "name", "headline", "heading", "product_name", "post_title")
#: Text elements shown as the lead paragraph (and in listings and cards).
SUMMARY_ELEMENTS = (
    "summary",
    "description",
    "short_description",
    "perex",
    "lead",
    "teaser",
    "intro",
    "excerpt",
    "subtitle",
)
_RESERVED = frozenset({"system", "elements", "url"})
_TOKEN = re.compile(r"%%([a-z_]+)%%")


# ---------------------------------------------------------------------------------------------
# The plan: what the site will have, decided from the model


@dataclass(frozen=True)
class ElementPlan:
    codename: str
    kind: str  # text, rich_text, asset, …
    label: str
    snippet: str = ""  # the content type snippet it comes from (``metadata__og_title``)

    @property
    def ref(self) -> str:
        """How a template reads it: ``item.body``, or ``item["url"]`` for reserved names."""
        if self.codename in _RESERVED or not self.codename.isidentifier():
            return f"item[{json.dumps(self.codename)}]"
        return f"item.{self.codename}"


@dataclass
class TypePlan:
    codename: str
    name: str
    elements: list[ElementPlan]
    title: str | None = None
    summary: str | None = None
    date: str | None = None
    route: str | None = None  # the route's path; None: no pages
    in_rich_text: bool = False  # appears in rich text: gets components/<type>.html
    template: str = ""

    def element(self, codename: str | None) -> ElementPlan | None:
        return next((e for e in self.elements if e.codename == codename), None)


@dataclass(frozen=True)
class ListingPlan:
    name: str
    type: str
    path: str
    order: str
    template: str


@dataclass(frozen=True)
class TaxonomyPlan:
    group: str
    name: str
    path: str
    template: str


@dataclass
class ScaffoldPlan:
    types: dict[str, TypePlan]
    listings: list[ListingPlan] = field(default_factory=list)
    taxonomies: list[TaxonomyPlan] = field(default_factory=list)
    home: str | None = None  # the type routed at /

    @property
    def routed(self) -> list[TypePlan]:
        return [t for t in self.types.values() if t.route is not None]


def plan_scaffold(store: ContentStore) -> ScaffoldPlan:
    """Decide routes, listings, taxonomy pages and templates from the model and the content
    (all of it, or a sample)."""
    model = ContentModel(store)
    usage = _usage(store)
    types: dict[str, TypePlan] = {}
    for codename in model.type_names():
        types[codename] = _type_plan(store, model, codename)
    taken: set[str] = set()
    home = None
    for plan in types.values():
        seen_as_item = plan.codename in usage.items
        if not seen_as_item and plan.codename in usage.components:
            plan.in_rich_text = True
            continue  # only ever a component: no pages of its own
        plan.in_rich_text = plan.codename in usage.in_rich_text
        plan.template = f"{plan.codename}.html"
        if plan.codename in HOME_TYPES and home is None and usage.counts.get(plan.codename, 0) <= 1:
            home = plan.codename
            plan.route = "/"
            continue
        segment = _unique(_segment(plan.codename), taken)
        slug = next((e.codename for e in plan.elements if e.kind == "url_slug"), None)
        if slug is not None and plan.codename not in usage.missing_slugs:
            plan.route = f"/{segment}/{{{slug}}}/"
        else:
            plan.route = f"/{segment}/{{system.codename}}/"
    listings = []
    for plan in types.values():
        if plan.route is None or plan.route == "/" or plan.date is None:
            continue
        name = _plural(plan.codename)
        if name in types:  # a listing name that is also a type reads ambiguously
            name = f"{plan.codename}_list"
        segment = plan.route.split("/")[1]
        listings.append(
            ListingPlan(
                name=name,
                type=plan.codename,
                path=f"/{segment}/",
                order=f"elements.{plan.date} desc",
                template=f"listings/{name}.html",
            )
        )
    used_groups: list[str] = []
    for plan in types.values():
        if plan.route is None:
            continue
        declared = (store.types.get(plan.codename) or {}).get("elements") or {}
        for element in declared.values():
            group = (element or {}).get("taxonomy_group")
            if group and group not in used_groups and model.has_group(group):
                used_groups.append(group)
    for raw in _all_items(store):
        for element in (raw.get("elements") or {}).values():
            group = element.get("taxonomy_group") if isinstance(element, dict) else None
            if group and group not in used_groups and model.has_group(group):
                used_groups.append(group)
    taxonomies = []
    for group in used_groups:
        if not model.term_codenames(group):
            continue
        segment = _unique(group.replace("_", "-"), taken)
        raw_group = store.taxonomies.get(group) or {}
        taxonomies.append(
            TaxonomyPlan(
                group=group,
                name=str((raw_group.get("system") or {}).get("name") or _human(group)),
                path=f"/{segment}/{{term}}/",
                template=f"terms/{group}.html",
            )
        )
    return ScaffoldPlan(types=types, listings=listings, taxonomies=taxonomies, home=home)


@dataclass
class _Usage:
    items: set[str] = field(default_factory=set)  # types of items (standalone)
    components: set[str] = field(default_factory=set)  # types of components
    in_rich_text: set[str] = field(default_factory=set)  # types embedded in rich text
    counts: dict[str, int] = field(default_factory=dict)  # items per type, default language
    missing_slugs: set[str] = field(default_factory=set)  # types with an item lacking a slug


def _usage(store: ContentStore) -> _Usage:
    usage = _Usage()
    default = store.default_language
    for language in store.languages:
        lang_items = store.snapshot.items.get(language)
        for raw in store.items(language):
            system = raw["system"]
            type_codename = str(system.get("type") or "")
            usage.items.add(type_codename)
            translated = system.get("language") == language
            if language == default and translated:
                usage.counts[type_codename] = usage.counts.get(type_codename, 0) + 1
            if translated and not _has_slug(store, raw):
                usage.missing_slugs.add(type_codename)
        components = lang_items.modular_content.values() if lang_items is not None else ()
        for raw in components:
            usage.components.add(str(raw["system"].get("type") or ""))
        for raw in [*store.items(language), *components]:
            for element in (raw.get("elements") or {}).values():
                if not isinstance(element, dict) or element.get("type") != "rich_text":
                    continue
                for codename in element.get("modular_content") or ():
                    found = store.item(codename, language) or store.component(codename, language)
                    if found is not None:
                        usage.in_rich_text.add(str(found["system"].get("type") or ""))
    usage.components -= usage.items
    return usage


def _has_slug(store: ContentStore, raw: JSON) -> bool:
    """Whether the item has a non-empty value for each URL slug element its type declares."""
    declared = (store.types.get(raw["system"]["type"]) or {}).get("elements") or {}
    elements = raw.get("elements") or {}
    for codename, element in declared.items():
        if (element or {}).get("type") == "url_slug":
            value = (elements.get(codename) or {}).get("value")
            if not isinstance(value, str) or not value.strip():
                return False
    return True


def _type_plan(store: ContentStore, model: ContentModel, codename: str) -> TypePlan:
    declared = (store.types.get(codename) or {}).get("elements") or {}
    elements = []
    for element_codename, kind in model.elements(codename).items():
        definition = declared.get(element_codename) or {}
        label = str(definition.get("name") or _human(element_codename))
        snippet = element_codename.split("__", 1)[0] if "__" in element_codename else ""
        elements.append(ElementPlan(element_codename, kind, label, snippet))
    own = [e for e in elements if not e.snippet]
    texts = {e.codename for e in own if e.kind == "text"}
    title = next((name for name in TITLE_ELEMENTS if name in texts), None)
    summary = next((name for name in SUMMARY_ELEMENTS if name in texts and name != title), None)
    dates = [e.codename for e in own if e.kind == "date_time"]
    date = next((d for d in dates if any(w in d for w in ("publish", "post", "date"))), None)
    system = (store.types.get(codename) or {}).get("system") or {}
    return TypePlan(
        codename=codename,
        name=str(system.get("name") or _human(codename)),
        elements=elements,
        title=title,
        summary=summary,
        date=date or (dates[0] if dates else None),
    )


def _all_items(store: ContentStore) -> list[JSON]:
    return [raw for language in store.languages for raw in store.items(language)]


def _plural(word: str) -> str:
    if word.endswith("s"):
        return word
    if word.endswith(("x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _segment(type_codename: str) -> str:
    return _plural(type_codename).replace("_", "-")


def _unique(segment: str, taken: set[str]) -> str:
    candidate, n = segment, 2
    while candidate in taken:
        candidate, n = f"{segment}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _human(codename: str) -> str:
    words = codename.replace("__", " ").replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) or codename


# ---------------------------------------------------------------------------------------------
# kontent.toml


def kontent_table(environment_id: str, delivery_url: str | None) -> str:
    lines = ["[kontent]", f"environment_id = {_toml(environment_id)}"]
    lines.append(f"delivery_url = {_toml(delivery_url or 'https://deliver.kontent.ai')}")
    return "\n".join(lines) + "\n"


def config_tables(plan: ScaffoldPlan, *, title: str, skip: Collection[str] = ()) -> str:
    """The tables after ``[kontent]``; ``skip``: top-level tables the file has already."""
    out: list[str] = []
    if "site" not in skip:
        out += [
            "[site]",
            f"title = {_toml(title)}",
            'output = "public"',
            '# base_url = "https://www.example.org"  # the sitemap, the feed and the `absolute`',
            "#                                        # filter need it",
            "",
        ]
    if "images" not in skip:
        defaults = ImageConfig()
        out += [
            "[images]  # responsive images: srcset widths (never above the original)",
            f"widths = [{', '.join(str(w) for w in defaults.widths)}]",
            "auto_format = true",
            "",
        ]
    if "routes" not in skip and plan.routed:
        out += [
            "# A page per item of each routed type: by its URL slug element where every item",
            "# has one, else by codename. Types left out appear only inside rich text.",
        ]
        for t in plan.routed:
            out += [f"[routes.{t.codename}]", f"path = {_toml(t.route or '')}"]
            out += [f"template = {_toml(t.template)}", ""]
    if "listings" not in skip and plan.listings:
        out.append("# Types with a date element: a listing, newest first, 10 items a page.")
        for listing in plan.listings:
            out += [
                f"[listings.{listing.name}]",
                f"path = {_toml(listing.path)}",
                f"type = {_toml(listing.type)}",
                f"order = {_toml(listing.order)}",
                "page_size = 10",
                f"template = {_toml(listing.template)}",
                "",
            ]
    if "taxonomies" not in skip and plan.taxonomies:
        out.append("# A page per term of the taxonomy groups the routed types use.")
        for tax in plan.taxonomies:
            out += [
                f"[taxonomies.{tax.group}]",
                f"path = {_toml(tax.path)}",
                f"template = {_toml(tax.template)}",
                "",
            ]
    components = sorted(t.codename for t in plan.types.values() if t.route is None)
    if components and "routes" not in skip:
        out.append(
            "# Only inside rich text (templates/components/<type>.html): " + ", ".join(components)
        )
    return "\n".join(out).rstrip("\n") + "\n"


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _kontent_section(text: str) -> str:
    """The ``[kontent]`` table of a kontent.toml, as written (comments and all)."""
    lines = text.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        header = re.match(r"\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$", line)
        if header:
            inside = header.group(1).strip() == "kontent"
        if inside:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# Templates


def _file(file_name: str, /, **values: str) -> str:
    """A file of ``site-files/`` with its ``%%token%%`` filled in."""
    text = (SITE_FILES / file_name).read_text(encoding="utf-8")
    return _TOKEN.sub(lambda m: values[m.group(1)], text)


def _title(t: TypePlan, var: str = "item") -> str:
    element = t.element(t.title)
    if element is None:
        return f"{var}.system.name"
    return f"{element.ref.replace('item', var, 1)} or {var}.system.name"


def _row(e: ElementPlan, indent: str) -> str:
    return f"{indent}{{{{ el.row({_toml(e.label)}, {e.ref}, {_toml(e.kind)}) }}}}"


def _body(t: TypePlan, indent: str, *, heading: bool) -> str:
    """Every element of the type: the flow (summary, rich text, assets) in the type's
    order, then the other elements as labelled rows, then each snippet's elements."""
    flow: list[str] = []
    details: list[str] = []
    snippets: dict[str, list[str]] = {}
    for e in t.elements:
        if e.codename == t.title and heading:
            continue
        if e.kind == "url_slug":
            flow.append(f"{indent}{{#- {e.codename}: the URL slug (the page's path) #}}")
            continue
        if e.snippet:
            snippets.setdefault(e.snippet, []).append(_row(e, indent + "  "))
        elif e.codename in (t.summary, t.title):
            tag = 'p class="summary"' if e.codename == t.summary else 'p class="title"'
            flow += [
                f"{indent}{{%- if {e.ref} %}}",
                f"{indent}<{tag}>{{{{ {e.ref} }}}}</p>",
                f"{indent}{{%- endif %}}",
            ]
        elif e.kind == "rich_text":
            flow += [
                f'{indent}<div class="rich-text" data-element="{e.codename}">',
                f"{indent}{{{{ {e.ref} }}}}",
                f"{indent}</div>",
            ]
        elif e.kind == "asset":
            flow.append(f"{indent}{{{{ el.assets({e.ref}) }}}}")
        else:
            details.append(_row(e, indent + "  "))
    out = list(flow)
    if details:
        out += [f'{indent}<dl class="details">', *details, f"{indent}</dl>"]
    for snippet, rows in snippets.items():
        out += [
            f'{indent}<details class="snippet snippet--{snippet}">',
            f"{indent}<summary>{_human(snippet)}</summary>",
            f"{indent}<dl>",
            *rows,
            f"{indent}</dl>",
            f"{indent}</details>",
        ]
    return "\n".join(out)


def _summary(t: TypePlan, indent: str, var: str = "item") -> str:
    """The summary element as a paragraph (with its newline), or ""."""
    element = t.element(t.summary)
    if element is None:
        return ""
    ref = element.ref.replace("item", var, 1)
    return (
        f'{indent}{{%- if {ref} %}}\n{indent}<p class="summary">{{{{ {ref} }}}}</p>\n'
        f"{indent}{{%- endif %}}\n"
    )


def item_template(t: TypePlan) -> str:
    return _file(
        "item.html",
        type=t.codename,
        type_name=t.name,
        title=_title(t),
        body=_body(t, "  ", heading=True),
    )


def component_template(t: TypePlan) -> str:
    """Components render every element; an inline linked item of a routed type is a card
    linking to its page."""
    full = _file(
        "component.html", type=t.codename, type_name=t.name, body=_body(t, "  ", heading=False)
    )
    if t.route is None:
        return full
    card = _file(
        "card.html", type=t.codename, type_name=t.name, title=_title(t), summary=_summary(t, "  ")
    )
    head, _, rest = full.partition("-#}\n")
    return (
        f"{head}-#}}\n{{%- if item.url and not item.is_component %}}\n"
        + card.split("-#}\n", 1)[1]
        + "{%- else %}\n"
        + rest
        + "{%- endif %}\n"
    )


def listing_template(listing: ListingPlan, t: TypePlan) -> str:
    extra = []
    date = t.element(t.date)
    if date is not None:
        extra.append(f"    {{{{ el.date({date.ref.replace('item', 'entry', 1)}) }}}}")
    summary = _summary(t, "    ", var="entry")
    if summary:
        extra.append(summary.rstrip("\n"))
    order = "newest first" if listing.order.endswith("desc") else "oldest first"
    return _file(
        "listing.html",
        name=listing.name,
        type_name=t.name,
        order=f"{order} by {t.date}",
        heading=_human(listing.name),
        entry_title=_title(t, "entry"),
        entry_extra="\n".join(extra),
    )


def base_template(plan: ScaffoldPlan) -> str:
    """The layout: the site's title linking home (``url_for('home')``: the page at the
    language's home URL, the home type's item or the generated home page), a link to each
    listing that has a page in the language, the language switcher."""
    brand = (
        '{%- set home_url = url_for("home") %}\n'
        '  {% if home_url %}<a class="site-title" href="{{ home_url }}">{{ site.title }}</a>'
        '{% else %}<span class="site-title">{{ site.title }}</span>{% endif %}'
    )
    nav = []
    for listing in plan.listings:
        nav.append(
            f"      {{%- set url = url_for({_toml(listing.name)}) %}}\n"
            f'      {{%- if url %}}<li><a href="{{{{ url }}}}">{_human(listing.name)}</a></li>'
            "{% endif %}"
        )
    return _file("base.html", brand=brand, nav="\n".join(nav))


def not_found_template() -> str:
    link = (
        '{%- set home_url = url_for("home", site.default_language) %}\n'
        '{%- if home_url %}<p><a href="{{ home_url }}">Go to the home page</a></p>{% endif %}'
    )
    return _file("404.html", home_link=link)


def site_templates(plan: ScaffoldPlan) -> dict[str, str]:
    """Every template of a new site, by name."""
    files = {
        "base.html": base_template(plan),
        "404.html": not_found_template(),
        MACROS: (SITE_FILES / MACROS).read_text(encoding="utf-8"),
    }
    for t in plan.routed:
        files[t.template] = item_template(t)
    for t in plan.types.values():
        if t.in_rich_text:
            files[f"components/{t.codename}.html"] = component_template(t)
    for listing in plan.listings:
        files[listing.template] = listing_template(listing, plan.types[listing.type])
    for tax in plan.taxonomies:
        files[tax.template] = _file("term.html", group=tax.group)
    return files


def missing_type_templates(config: Config, plan: ScaffoldPlan) -> dict[str, str]:
    """A complete site's gaps: templates its routes name that do not exist, and component
    templates for types that appear in rich text; the macros they import, if missing."""
    files: dict[str, str] = {}
    folder = config.templates_dir
    for type_codename, route in sorted(config.routes.items()):
        t = plan.types.get(type_codename)
        if t is None or (folder / route.template).exists():
            continue
        t.route = route.path
        files[route.template] = item_template(t)
    for t in plan.types.values():
        t.route = config.routes[t.codename].path if t.codename in config.routes else None
        name = f"components/{t.codename}.html"
        if t.in_rich_text and not (folder / name).exists():
            files[name] = component_template(t)
    if files and not (folder / MACROS).exists():
        files[MACROS] = (SITE_FILES / MACROS).read_text(encoding="utf-8")
    return files


# ---------------------------------------------------------------------------------------------
# Reading the model


def read_online(config: Config) -> Snapshot:
    """``/languages``, ``/types``, ``/taxonomies`` and the first items-feed page of the
    default language (a sample of the content), as a snapshot."""
    from ..content.delivery import DEFAULT_LANGUAGE_ID, client_for

    with client_for(config) as client:
        listed = client.languages()
        codenames = [str(lang["system"]["codename"]) for lang in listed]
        if config.kontent.languages:
            default = config.kontent.languages[0]
        else:
            by_id = [
                str(lang["system"]["codename"])
                for lang in listed
                if lang["system"].get("id") == DEFAULT_LANGUAGE_ID
            ]
            default = by_id[0] if by_id else (codenames[0] if codenames else "")
        if not default:
            raise ConfigError(
                f"environment {config.kontent.environment_id} lists no languages",
                hint="check the environment id, or use --offline --snapshot DIR",
            )
        snapshot = Snapshot(
            default_language=default,
            languages=listed,
            types=client.types(),
            taxonomies=client.taxonomies(),
        )
        snapshot.items[default] = client.items_feed_sample(default)
    return snapshot


# ---------------------------------------------------------------------------------------------
# The command


def scaffold_site(
    site: Path,
    *,
    environment_id: str | None = None,
    delivery_url: str | None = None,
    offline: bool = False,
    snapshot: Path | None = None,
    force: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[list[Written], list[str]]:
    """Scaffold or complete the site in ``site`` (created if missing); see the module
    docstring. Nothing is written until the model is read and the new config checks out.
    Returns each file considered and notes for the user."""
    env = os.environ if env is None else env
    site_dir = site.resolve()
    config_path = site_dir / CONFIG_FILE
    existing = config_path.read_text(encoding="utf-8") if config_path.is_file() else None
    notes: list[str] = []
    if existing is not None:
        if environment_id or delivery_url:
            raise UsageError(
                f"{config_path} exists: its [kontent] table says where the content is",
                hint="drop --environment-id/--delivery-url, or edit [kontent] in kontent.toml",
            )
        try:
            raw = tomllib.loads(existing)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: invalid TOML: {exc}") from None
        config = config_from_text(existing, site_dir, env)
        complete = any(raw.get(table) for table in ("routes", "listings", "taxonomies"))
        mode = "regenerate" if force else ("templates" if complete else "complete")
    else:
        environment_id = environment_id or env.get("KONTENT_ENVIRONMENT_ID")
        if not environment_id:
            raise UsageError(
                f"init needs the environment whose content model to read ({site_dir} has no "
                f"{CONFIG_FILE} yet)",
                hint="pass --environment-id ID (or set KONTENT_ENVIRONMENT_ID); with "
                "--offline --snapshot DIR too, as the new kontent.toml names it",
            )
        raw = {}
        config = config_from_text(kontent_table(environment_id, delivery_url), site_dir, env)
        mode = "new"

    source: Path | None = None
    if snapshot is not None or offline:
        source = (snapshot or config.snapshot_dir).resolve()
        try:
            content = load_snapshot(source)
        except SnapshotError as exc:
            raise SnapshotError(
                f"init --offline: {exc.message}",
                hint="give a snapshot folder (--snapshot DIR, as `kontent-ssg pull` writes "
                "it), or read the model from the Delivery API (without --offline)",
            ) from None
        what = f"the snapshot {source}"
    else:
        content = read_online(config)
        what = f"environment {config.kontent.environment_id}"
    store = ContentStore(content)
    plan = plan_scaffold(store)
    sample = sum(len(lang.items) for lang in content.items.values())
    notes.append(
        f"content model of {what}: {_count(len(store.types), 'content type')}, "
        f"{_count(len(store.taxonomies), 'taxonomy group')}, languages "
        f"{', '.join(store.languages)}"
        + (f" (a sample of {sample} items)" if source is None else "")
    )

    files: dict[str, str]
    config_text: str | None = None
    if mode == "templates":
        files = missing_type_templates(config, plan)
    else:
        if mode == "new":
            origin = "a snapshot" if source else f"environment {config.kontent.environment_id}"
            head = (
                f"# Written by `kontent-ssg init` from the content model of {origin}.\n"
                "# Yours to edit: every option is in docs/CONFIG.md.\n\n"
                + kontent_table(config.kontent.environment_id, config.kontent.delivery_url)
            )
            skip: set[str] = set()
        elif mode == "complete":
            head = existing or ""
            skip = {table for table in ("site", "images") if table in raw}
        else:  # regenerate (--force): everything but the [kontent] table
            head = _kontent_section(existing or "")
            skip = set()
        title = _human(site_dir.name.replace("-", " ")) or "My site"
        config_text = head.rstrip("\n") + "\n\n" + config_tables(plan, title=title, skip=skip)
        new_config = config_from_text(config_text, site_dir, env)
        _self_check(new_config, store)
        files = site_templates(plan)
        config = new_config
    _check_templates(files)

    written: list[Written] = []
    site_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        written.append(_write(config.templates_dir / name, text, force))
    if source is not None and source != config.snapshot_dir.resolve():
        written.append(_copy_snapshot(source, config.snapshot_dir, force))
        copied = _copy_local_assets(content, source, config.static_dir, force)
        if copied is not None:
            written.append(copied[0])
            notes.append(copied[1])
    if config_text is not None:
        action = (
            "written" if existing is None else ("replaced" if mode == "regenerate" else "completed")
        )
        atomic_write_bytes(config_path, config_text.encode("utf-8"))
        written.append(Written(config_path, action))
    if not files and config_text is None:
        notes.append("every routed and embedded type has its template: nothing to add")
    if any(w.action == "kept" for w in written):
        notes.append("existing files were kept; --force replaces them")
    if config_text is not None and not config.site.base_url:
        notes.append(
            "set [site] base_url to the site's public URL (the sitemap, robots.txt and feeds "
            "need it; builds warn until it is set)"
        )
    offline_flag = " --offline" if source is not None else ""
    notes.append(f"next: kontent-ssg build {_shown(site_dir)}{offline_flag}")
    return written, notes


def _self_check(config: Config, store: ContentStore) -> None:
    """The build's own name checks on what init is about to write (a failure is a bug)."""
    from ..site.validate import config_errors

    errors = config_errors(config, ContentModel(store))
    if errors:
        raise BuildError(
            "init: the configuration it generated does not fit the content model (a bug in "
            "kontent-ssg):\n  " + "\n  ".join(errors)
        )


def _check_templates(files: Mapping[str, str]) -> None:
    import jinja2

    from ..render.templating import make_environment

    env = make_environment(None)
    for name, text in files.items():
        try:
            env.parse(text, name=name)
        except jinja2.TemplateSyntaxError as exc:
            raise BuildError(
                f"init: the template {name} it generated does not parse (a bug in "
                f"kontent-ssg): line {exc.lineno}: {exc.message}"
            ) from None


def _write(path: Path, text: str, force: bool) -> Written:
    existed = path.exists()
    if existed and not force:
        return Written(path, "kept")
    atomic_write_bytes(path, text.encode("utf-8"))
    return Written(path, "replaced" if existed else "written")


def _copy_snapshot(source: Path, target: Path, force: bool) -> Written:
    """The snapshot the model came from becomes the site's saved content (``build
    --offline`` reads it)."""
    existed = (target / "manifest.json").exists()
    if existed and not force:
        return Written(target, "kept")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return Written(target, "replaced" if existed else "written")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _copy_local_assets(
    content: Snapshot, source: Path, static_dir: Path, force: bool
) -> tuple[Written, str] | None:
    """Assets the content names by a site-relative URL (``/images/x.svg``, as the example
    site's) are files of the static folder of the site the snapshot comes from
    (``<site>/.kontent-ssg/snapshot``): copied into this site's, so its pages show them."""
    from ..management.convert import collect_assets

    if source.parent.name != ".kontent-ssg":
        return None
    origin = (source.parent.parent / "static").resolve()
    copied = 0
    for url in collect_assets(content):
        path = url.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("/") or path.startswith("//"):
            continue
        found = (origin / path.lstrip("/")).resolve()
        target = static_dir / path.lstrip("/")
        if not found.is_relative_to(origin) or not found.is_file():
            continue
        if target.exists() and not force:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, target)
        copied += 1
    if not copied:
        return None
    return Written(static_dir, "written"), (
        f"copied {_count(copied, 'asset file')} the content names by site-relative URL from "
        f"{origin} into {static_dir}"
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)
