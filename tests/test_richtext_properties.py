"""Property tests for the rich-text resolver (hypothesis).

Random rich text built from the constructs Kontent.ai produces (paragraphs, headings, nested
lists, tables with rich cells, figures, item/asset/external links, component and linked-item
objects) over a small pool of items whose own rich text embeds each other, so cycles,
self-references, deep nesting and missing references all occur. Properties: the resolver
never crashes or loops, never leaves an object, its output is what an HTML5 parser would
produce (so it parses back unchanged) and resolving the output again changes nothing; and
sanitising (on by default) changes nothing in such API-shaped content. Hostile content is
tests/test_sanitize.py's.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from kontent_ssg.render.richtext import RichTextEnv, resolve_rich_text

CODENAMES = ["c0", "c1", "c2", "c3", "missing"]  # c0..c3 exist, "missing" never does
IMAGE_IDS = ["img0", "img1", "nometa"]
ITEM_IDS = ["id-c0", "id-c1", "id-c2", "id-c3", "id-gone"]
URLS = {"id-c0": "/c0/", "id-c2": "/c2/?a=1&b=2"}  # c1, c3 have no page

SETTINGS = settings(
    max_examples=int(os.environ.get("RICHTEXT_EXAMPLES", "60")),  # more for a deep run
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

words = st.text(
    alphabet=st.sampled_from(list("abc xyz&<>\"'\u00e9\u00a0\u2013;#")),
    min_size=0,
    max_size=12,
).map(lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def inline(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(
        words,
        st.just("<br>"),
        st.sampled_from(ITEM_IDS).map(lambda i: f'<a data-item-id="{i}" href="">link {i}</a>'),
        st.just('<a data-asset-id="as1" href="https://assets.example/as1/f.pdf">file</a>'),
        st.just('<a href="https://example.org/?q=1&amp;r=2" data-new-window="true">web</a>'),
        st.just('<a data-email-address="a@b.c" href="mailto:a@b.c">mail</a>'),
    )
    if depth <= 0:
        return leaf
    return st.one_of(
        leaf,
        st.tuples(
            st.sampled_from(["strong", "em", "code", "sub", "sup"]),
            st.lists(inline(depth - 1), max_size=3),
        ).map(lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"),
        st.tuples(st.sampled_from(ITEM_IDS), st.lists(inline(depth - 1), max_size=2)).map(
            lambda t: f'<a data-item-id="{t[0]}" href="">{"".join(t[1])}</a>'
        ),
    )


def obj(codename: str, rel: str | None) -> str:
    rel_attr = f' data-rel="{rel}"' if rel else ""
    return (
        f'<object type="application/kenticocloud" data-type="item"{rel_attr} '
        f'data-codename="{codename}"></object>'
    )


def figure(image_id: str) -> str:
    return (
        f'<figure data-asset-id="{image_id}" data-image-id="{image_id}">'
        f'<img src="https://assets.example/{image_id}/p.jpg" data-asset-id="{image_id}" '
        f'data-image-id="{image_id}" alt=""></figure>'
    )


def block(depth: int) -> st.SearchStrategy[str]:
    paragraph = st.lists(inline(2), max_size=4).map(lambda xs: f"<p>{''.join(xs)}</p>")
    heading = st.tuples(st.integers(1, 6), st.lists(inline(1), max_size=3)).map(
        lambda t: f"<h{t[0]}>{''.join(t[1])}</h{t[0]}>"
    )
    objects = st.tuples(
        st.sampled_from(CODENAMES), st.sampled_from(["component", "link", None])
    ).map(lambda t: obj(*t))
    figures = st.sampled_from(IMAGE_IDS).map(figure)
    leaf = st.one_of(paragraph, heading, objects, figures, st.just("<p><br></p>"))
    if depth <= 0:
        return leaf
    flow = st.lists(block(depth - 1), max_size=3).map("".join)
    lists = st.tuples(st.sampled_from(["ul", "ol"]), st.lists(flow, min_size=1, max_size=3)).map(
        lambda t: f"<{t[0]}>" + "".join(f"<li>{x}</li>" for x in t[1]) + f"</{t[0]}>"
    )
    tables = st.lists(st.lists(flow, min_size=1, max_size=3), min_size=1, max_size=3).map(
        lambda rows: (
            "<table><tbody>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
            + "</tbody></table>"
        )
    )
    return st.one_of(leaf, lists, tables)


rich_text_values = st.lists(block(2), max_size=5).map("\n".join)

# Anything goes: stray end tags, objects inside paragraphs and links, odd objects, comments.
odd_fragments = st.sampled_from(
    [
        "</object>",
        "</p>",
        "<p>",
        "</a>",
        "<object>",
        '<object type="text/xml" data-type="item" data-codename="c1"></object>',
        '<object type="application/kenticocloud" data-type="noitem" data-codename="c1">',
        '<object type="application/kenticocloud" data-type="item" data-codename="c2">',
        "<figure data-image-id><img></figure>",
        '<figure data-image-id="img0">',
        "<a data-item-id>x",
        "<!-- comment -->",
        "<table><tr><td>x",
        "&amp;&lt;&#39;&nbsp;",
    ]
)
odd_values = st.lists(st.one_of(block(1), inline(1), odd_fragments), max_size=8).map("".join)


def element(value: str) -> dict[str, Any]:
    images = {
        "img0": {
            "image_id": "img0",
            "description": 'Zero "0" & <z>',
            "url": "https://assets.example/img0/p.jpg",
            "width": 700,
            "height": 400,
        },
        "img1": {
            "image_id": "img1",
            "description": None,
            "url": "https://assets.example/img1/p.jpg",
            "width": 2400,
            "height": 1600,
        },
    }
    links = {i: {"codename": i.removeprefix("id-"), "type": "t", "url_slug": ""} for i in ITEM_IDS}
    return {"type": "rich_text", "value": value, "images": images, "links": links}


def make_pool(bodies: list[str]) -> dict[str, dict[str, Any]]:
    pool = {}
    for n, body in enumerate(bodies):
        codename = f"c{n}"
        pool[codename] = {
            "system": {
                "id": f"id-{codename}",
                "name": f"Item {n}",
                "codename": codename,
                "type": f"type{n % 2}",
                "language": "en-US",
            },
            "elements": {
                "title": {"type": "text", "value": f"Title <{n}> & co"},
                "body": element(body),
            },
        }
    return pool


def make_env(
    pool: dict[str, dict[str, Any]], *, templates: bool, sanitize: bool = True
) -> RichTextEnv:
    env: RichTextEnv

    def render(item: dict, parent: dict, rel: str, language: str, stack: tuple) -> str | None:
        if item["system"]["type"] == "type1":
            return None  # no template for this type: the generic rendering
        inner = resolve_rich_text(
            item["elements"]["body"],
            item=item,
            element_codename="body",
            language=language,
            env=env,
            stack=(*stack, item["system"]["codename"]),
        )
        return f'<section class="{rel}">{inner.html}</section>'

    env = RichTextEnv(
        linked_item=lambda c, lang: pool.get(c),
        component=lambda c, lang: pool.get(c),
        url_for_id=lambda i, lang: URLS.get(i),
        render_embedded=render if templates else RichTextEnv.render_embedded,
        sanitize=sanitize,
    )
    return env


def canonical(html: str) -> str:
    return LexborHTMLParser(html, is_fragment=True).html or ""


def resolve(value: str, pool: dict[str, dict[str, Any]], env: RichTextEnv):
    page = pool["c0"]
    return resolve_rich_text(
        element(value), item=page, element_codename="body", language="en-US", env=env
    )


def check_clean(html: str) -> None:
    assert "application/kenticocloud" not in html
    assert "<object" not in html
    assert "data-item-id" not in html and "data-image-id" not in html
    assert "data-codename" not in html


@SETTINGS
@given(
    value=rich_text_values,
    bodies=st.lists(rich_text_values, min_size=4, max_size=4),
    templates=st.booleans(),
)
def test_resolves_to_canonical_html_without_objects(
    value: str, bodies: list[str], templates: bool
) -> None:
    pool = make_pool(bodies)
    env = make_env(pool, templates=templates)
    result = resolve(value, pool, env)
    html = result.html
    check_clean(html)
    assert canonical(html) == html
    # sanitising takes nothing from what the API sends
    assert resolve(value, pool, make_env(pool, templates=templates, sanitize=False)) == result
    # resolving the output again is stable: nothing API-specific is left in it (the output
    # holds the site's markup, the default <figure>'s srcset..., which is not the API's: the
    # second pass does not sanitise)
    trusting = make_env(pool, templates=templates, sanitize=False)
    again = resolve(html, pool, trusting)
    assert again.html == html
    assert again.broken_links == []
    # every broken link is one of the ids without a page
    assert {b.target_id for b in result.broken_links} <= set(ITEM_IDS) - set(URLS)
    # and the same input always gives the same output
    assert resolve(value, pool, env) == result


@SETTINGS
@given(
    value=odd_values,
    bodies=st.lists(odd_values, min_size=4, max_size=4),
    templates=st.booleans(),
)
def test_odd_markup_never_crashes_or_leaves_objects(
    value: str, bodies: list[str], templates: bool
) -> None:
    pool = make_pool(bodies)
    env = make_env(pool, templates=templates)
    result = resolve(value, pool, env)
    check_clean(result.html)
    # the output parses, and what is left after a second resolution is the same
    LexborHTMLParser(result.html, is_fragment=True)
    trusting = make_env(pool, templates=templates, sanitize=False)
    assert resolve(result.html, pool, trusting).html == canonical(result.html)


@SETTINGS
@given(chain=st.lists(st.sampled_from(CODENAMES[:4]), min_size=1, max_size=12))
def test_nesting_is_bounded_and_cycles_end(chain: list[str]) -> None:
    # every item embeds the next one of a random chain (repeats make cycles)
    bodies = ["<p>end</p>"] * 4
    for here, nxt in itertools.pairwise(chain):
        bodies[int(here[1])] = f"<p>{here}</p>{obj(nxt, 'component')}"
    pool = make_pool(bodies)
    env = make_env(pool, templates=False)
    result = resolve(obj(chain[0], "component"), pool, env)
    check_clean(result.html)
    assert result.html.count('<div class="kontent-component') <= 7
