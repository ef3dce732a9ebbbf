"""Sanitising what the CMS sends: hostile rich text comes out inert, real content untouched.

The allowlist and the fast path are kontent_ssg/render/sanitize.py; where the resolver
applies them, kontent_ssg/render/richtext.py. Build-level tests (config switch, markdown
filter, the site's markup kept) are in tests/test_templating.py.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from kontent_ssg.render.richtext import ImageContext, RichTextEnv, resolve_rich_text
from kontent_ssg.render.sanitize import (
    RICH_TEXT_ATTRIBUTES,
    RICH_TEXT_TAGS,
    _rich_text_cleaner,
    is_api_shaped,
    safe_url,
    sanitize_markdown_html,
    sanitize_rich_text,
)
from kontent_ssg.render.templating import markdown_filter
from tests.support.golden import EXAMPLE_SITE
from tests.support.inert import executable

SETTINGS = settings(
    max_examples=int(os.environ.get("SANITIZE_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def canonical(html: str) -> str:
    return LexborHTMLParser(html, is_fragment=True).html or ""


# --------------------------------------------------------------------------- hostile input

# (hostile rich text, what must survive of it)
HOSTILE = [
    ("<p>a</p><script>alert(1)</script><p>b</p>", "<p>a</p><p>b</p>"),
    ("<style>body{display:none}</style><p>x</p>", "<p>x</p>"),
    ('<iframe src="https://evil.example/"></iframe><p>x</p>', "<p>x</p>"),
    ('<p onclick="alert(1)" onmouseover="alert(2)">x</p>', "<p>x</p>"),
    ("<img src=x onerror=alert(1)>", '<img src="x">'),
    ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "<a>x</a>"),
    ('<a href=" javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="java\tscript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="javascript&colon;alert(1)">x</a>', "<a>x</a>"),
    ('<a href="vbscript:msgbox(1)">x</a>', "<a>x</a>"),
    ('<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>', "<a>x</a>"),
    ('<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">', "<img>"),
    ('<svg onload="alert(1)"><circle r="1"></circle></svg><p>x</p>', "<p>x</p>"),
    ("<math><mtext><script>alert(1)</script></mtext></math>", ""),
    ("<p>unclosed <strong>bold <em>and <script>alert(1)", "<p>unclosed <strong>bold <em>and "),
    ("<p>x<img src=x onerror=alert(1)", "<p>x</p>"),
    ('<div style="background:url(javascript:alert(1))">x</div>', "x"),
    # read as a browser with scripts on does: the noscript ends inside the attribute
    (
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>',
        '<img src="x">"&gt;<p></p>',
    ),
    ("<template><script>alert(1)</script></template><p>x</p>", "<p>x</p>"),
    ("<!-- <script>alert(1)</script> --><p>x</p>", "<p>x</p>"),
    (
        '<form action="https://evil.example/"><button formaction="javascript:x">b</button></form>',
        "b",
    ),
    (
        '<p><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=x"></p>',
        "<p></p>",
    ),
    (
        '<table><tbody><tr><td background="javascript:x" onclick="x">c</td></tr></tbody></table>',
        "<table><tbody><tr><td>c</td></tr></tbody></table>",
    ),
]


@pytest.mark.parametrize("hostile, kept", HOSTILE)
def test_hostile_rich_text_comes_out_inert(hostile: str, kept: str) -> None:
    assert not is_api_shaped(hostile)
    clean = sanitize_rich_text(hostile)
    assert executable(clean) == []
    assert canonical(clean) == canonical(kept)


def _resolve(value: str, **element: Any) -> Any:
    item = {"system": {"codename": "page", "id": "id-page", "type": "t"}, "elements": {}}
    env = RichTextEnv(
        component=lambda c, lang: COMPONENTS.get(c),
        url_for_id=lambda i, lang: {"id-ok": "/ok/"}.get(i),
    )
    rich = {"type": "rich_text", "value": value, "images": {}, "links": {}, **element}
    return resolve_rich_text(rich, item=item, element_codename="body", language="en", env=env)


COMPONENTS = {
    "evil": {
        "system": {"codename": "evil", "id": "id-evil", "type": "box"},
        "elements": {
            "body": {
                "type": "rich_text",
                "value": '<p onclick="alert(1)">inner</p><script>alert(2)</script>'
                '<object type="application/kenticocloud" data-type="item" data-rel="component" '
                'data-codename="evil2"></object>',
            },
            "file": {
                "type": "asset",
                "value": [
                    {"url": "javascript:alert(3)", "name": "bad"},
                    {"url": "https://assets.example/good.pdf", "name": "good"},
                ],
            },
        },
    },
    "evil2": {
        "system": {"codename": "evil2", "id": "id-evil2", "type": "box"},
        "elements": {
            "body": {"type": "rich_text", "value": "<svg onload=alert(4)></svg><p>deep</p>"}
        },
    },
}


def test_links_to_items_take_their_href_from_routing_whatever_they_came_with() -> None:
    result = _resolve(
        '<p><a href="javascript:alert(1)" data-item-id="id-ok" onclick="x">ok</a> '
        '<a href="javascript:alert(2)" data-item-id="id-gone">gone</a></p>'
    )
    assert result.html == '<p><a href="/ok/">ok</a> gone</p>'


def test_attributes_on_objects_do_not_survive() -> None:
    result = _resolve(
        '<object type="application/x-shockwave-flash" data="https://evil.example/x.swf" '
        'onload="alert(1)"></object><object type="application/kenticocloud" data-type="item" '
        'data-rel="component" data-codename="missing" onerror="alert(2)" '
        'data="javascript:alert(3)"><embed src="javascript:alert(4)"></object><p>x</p>'
    )
    assert result.html == "<p>x</p>"


def test_nested_components_are_sanitised_at_every_level() -> None:
    result = _resolve(
        '<object type="application/kenticocloud" data-type="item" data-rel="component" '
        'data-codename="evil"></object>'
    )
    assert executable(result.html) == []
    assert "inner" in result.html and "deep" in result.html
    assert "good.pdf" in result.html and "bad" not in result.html
    assert any("evil.file (en): left out 1 asset URL(s)" in w for w in result.warnings)


def test_image_metadata_with_an_unsafe_url_is_left_out() -> None:
    figure = (
        '<figure data-asset-id="i1" data-image-id="i1"><img src="https://a.example/i1.jpg" '
        'data-asset-id="i1" data-image-id="i1" alt=""></figure><p>after</p>'
    )
    images = {"i1": {"url": "javascript:alert(1)", "width": 10, "height": 10}}
    result = _resolve(figure, images=images)
    assert result.html == "<p>after</p>"
    assert any("unsafe scheme" in w for w in result.warnings)


def test_sanitising_can_be_switched_off() -> None:
    env = RichTextEnv(sanitize=False)
    rich = {"type": "rich_text", "value": '<p onclick="x()">x</p><script>y()</script>'}
    item = {"system": {"codename": "page"}, "elements": {}}
    html = resolve_rich_text(rich, item=item, element_codename="b", language="en", env=env).html
    assert html == '<p onclick="x()">x</p><script>y()</script>'


def test_unpaired_surrogates_are_replaced_before_sanitising() -> None:
    result = _resolve("<p>a\ud800b</p><script>x</script>")
    assert result.html == "<p>a\ufffdb</p>"
    assert any("surrogates" in w for w in result.warnings)


@pytest.mark.parametrize(
    "url, safe",
    [
        ("https://assets.example/a.jpg", True),
        ("HTTP://x.example/", True),
        ("mailto:a@b.c", True),
        ("tel:+123", True),
        ("/relative/path", True),
        ("#anchor", True),
        ("?q=1", True),
        ("", True),
        ("a/b:c", True),
        ("javascript:alert(1)", False),
        (" \x01javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("vbscript:x", False),
        ("ftp://x.example/", False),
        ("c:\\windows", False),
    ],
)
def test_safe_url(url: str, safe: bool) -> None:
    assert safe_url(url) is safe


# --------------------------------------------------------------------------- real content


def _example_values() -> list[str]:
    values: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "rich_text" and isinstance(node.get("value"), str):
                values.append(node["value"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((EXAMPLE_SITE / ".kontent-ssg" / "snapshot").rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return values


def test_the_example_sites_rich_text_is_api_shaped_and_kept_by_the_sanitiser() -> None:
    values = _example_values()
    assert len(values) > 20
    for value in values:
        assert is_api_shaped(value), value[:200]
        assert canonical(_rich_text_cleaner().clean(value)) == canonical(value), value[:200]


# --------------------------------------------------------------------------- the fast path

ATTRIBUTE_VALUES = [
    "",
    "x",
    "a b",
    "application/kenticocloud",
    "item",
    "component",
    "_blank",
    "noopener noreferrer",
    'x" onerror="alert(1)',
    "<script>alert(1)</script>",
    "&amp;&lt;&quot;",
    "caf\u00e9",
]
URL_VALUES = [
    "",
    "https://example.org/a?b=1&amp;c=2#d",
    "http://example.org",
    "mailto:a@example.org",
    "tel:+420123",
    "/rel/path",
    "rel/x:y",
    "#top",
    "?q=1",
    "//cdn.example/x.png",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html,x",
    "vbscript:x",
    "https:&#47;&#47;x",
    "ftp://example.org/",
]
OTHER_TAGS = ["script", "style", "iframe", "svg", "div", "span", "pre", "b", "th", "P", "A"]
OTHER_ATTRIBUTES = ["onclick", "onerror", "style", "class", "id", "data-x", "srcset", "HREF"]

spaces = st.sampled_from([" ", " ", "\n", "\t", "  "])
words = st.text(alphabet=st.sampled_from(list("ab \u00e9&;<>\"'=/")), max_size=8).map(
    lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)


@st.composite
def start_tag(draw: st.DrawFn, near: bool) -> str:
    """An allowed tag with allowed attributes, or (``near``) one small step away from that."""
    tag = draw(st.sampled_from(sorted(RICH_TEXT_TAGS) + (OTHER_TAGS if near else [])))
    names = sorted(RICH_TEXT_ATTRIBUTES.get(tag, frozenset()))
    if near:
        names += OTHER_ATTRIBUTES
    attrs = []
    for name in draw(st.lists(st.sampled_from(names), max_size=4)) if names else []:
        url = name.lower() in ("href", "src", "srcset")
        value = draw(st.sampled_from(URL_VALUES if url else ATTRIBUTE_VALUES))
        if not near:
            value = value.replace('"', "&quot;")
        quote = draw(st.sampled_from(['"', "'", ""])) if near else '"'
        attrs.append(f"{draw(spaces)}{name}={quote}{value}{quote}")
    end = draw(st.sampled_from([">", "/>", " >"])) if tag in ("br", "img") else ">"
    return f"<{tag}{''.join(attrs)}{end}"


def fragments(near: bool) -> st.SearchStrategy[str]:
    pieces = [
        words,
        start_tag(near),
        st.sampled_from([f"</{t}>" for t in sorted(RICH_TEXT_TAGS - {"br", "img"})]),
    ]
    if near:
        pieces.append(st.sampled_from(["<", "<!-- c -->", "</p x>", "<![CDATA[x]]>", "</>"]))
    return st.lists(st.one_of(*pieces), max_size=12).map("".join)


@SETTINGS
@given(value=fragments(near=False))
def test_what_the_api_writes_takes_the_fast_path(value: str) -> None:
    hostile_url = any(
        f'="{u}"' in value
        for u in URL_VALUES
        if u and not u.startswith(("https://", "http://", "mailto:", "tel:", "/", "#", "?", "rel"))
    )
    assert is_api_shaped(value) is not hostile_url


@SETTINGS
@given(value=st.one_of(fragments(near=False), fragments(near=True)))
def test_the_fast_path_accepts_only_what_the_sanitiser_keeps_whole(value: str) -> None:
    """Whatever the recogniser accepts, nh3 would keep whole (every element, attribute and
    text), so skipping nh3 for it changes nothing; whatever it rejects, nh3 cleans, and the
    result is inert. (Whole, though not always in the same tree: mis-nested markup such as
    ``<h1><table><h1>`` or ``<a><code><table><a>`` parses to a tree whose serialisation
    parses differently — nesting moved, a formatting element cloned — a property of HTML that
    any parse-and-serialise sanitiser shows. No tag, attribute or text is added or lost.)"""
    clean = sanitize_rich_text(value)
    if is_api_shaped(value):
        assert clean is value
        assert _contents(_rich_text_cleaner().clean(value)) == _contents(value)
    # <object> is on the allowlist: the resolver replaces every one (tested above)
    assert [e for e in executable(clean) if e != "<object>"] == []


def _contents(html: str) -> tuple[set[tuple[str, tuple[tuple[str, str | None], ...]]], str]:
    """The distinct elements of parsed ``html`` (tag with attributes) and its text."""
    body = LexborHTMLParser(f"<!DOCTYPE html><body>{html}").body
    assert body is not None
    elements = {
        (node.tag or "", tuple(sorted(node.attributes.items())))
        for node in body.traverse(include_text=False)
        if node.tag and not node.tag.startswith("-") and node.tag != "body"
    }
    return elements, body.text(deep=True)


# --------------------------------------------------------------------------- the resolver

HOSTILE_TAGS = [
    *("script", "style", "iframe", "svg", "math", "img", "a", "object", "figure", "p", "div"),
    *("noscript", "template", "textarea", "title", "embed", "base", "meta", "link", "form"),
    *("button", "video", "source", "table", "td", "select", "xmp", "body", "frameset", "li"),
]
HOSTILE_ATTRIBUTES = [
    *("onload", "onerror", "onclick", "ONmouseover", "href", "src", "srcset", "action"),
    *("formaction", "data", "xlink:href", "style", "background", "poster", "type"),
    *("data-item-id", "data-image-id", "data-asset-id", "data-type", "data-rel"),
    *("data-codename", "data-new-window"),
]
HOSTILE_VALUES = [
    *URL_VALUES,
    "application/kenticocloud",
    "item",
    "component",
    "link",
    "true",
    "c0",
    "c1",
    "img0",
    "id-c0",
    "id-none",
    "alert(1)",
    "expression(alert(1))",
]


@st.composite
def hostile_tag(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(HOSTILE_TAGS))
    attrs = ""
    for name in draw(st.lists(st.sampled_from(HOSTILE_ATTRIBUTES), max_size=4)):
        value = draw(st.sampled_from(HOSTILE_VALUES))
        quote = draw(st.sampled_from(['"', "'", ""]))
        attrs += f"{draw(spaces)}{name}={quote}{value}{quote}"
    return f"<{tag}{attrs}{draw(st.sampled_from(['>', '/>', '']))}"


hostile_values = st.lists(
    st.one_of(
        hostile_tag(),
        st.sampled_from([f"</{t}>" for t in HOSTILE_TAGS]),
        st.sampled_from(["<", ">", '"', "'", "&", "<!--", "-->", "<![CDATA[", "</", "\x00"]),
        st.text(max_size=6),
        fragments(near=False),
    ),
    max_size=10,
).map("".join)


def _site_env(pool: dict[str, dict[str, Any]], templates: bool) -> RichTextEnv:
    """An env whose templates (the site's) emit executable markup of their own, marked."""
    env: RichTextEnv

    def render(item: dict, parent: dict, rel: str, language: str, stack: tuple) -> str | None:
        if not templates:
            return None
        inner = resolve_rich_text(
            item["elements"]["body"],
            item=item,
            element_codename="body",
            language=language,
            env=env,
            stack=(*stack, item["system"]["codename"]),
        )
        return (
            f'<section data-site onclick="site()">{inner.html}'
            f"<script data-site>site()</script></section>"
        )

    def image(ctx: ImageContext) -> str:
        return f'<picture data-site onmouseover="site()">{ctx.html}</picture>'

    env = RichTextEnv(
        linked_item=lambda c, lang: pool.get(c),
        component=lambda c, lang: pool.get(c),
        url_for_id=lambda i, lang: {"id-c0": "/c0/", "id-c1": "/c1/?a=1&b=2"}.get(i),
        render_embedded=render if templates else RichTextEnv.render_embedded,
        render_image=image if templates else None,
    )
    return env


def _element(value: str, image_url: str, asset_url: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "value": value,
        "images": {
            "img0": {"url": image_url, "description": '"><script>alert(1)</script>', "width": 9}
        },
        "links": {"id-c0": {"codename": "c0"}},
    }


@SETTINGS
@given(
    value=hostile_values,
    bodies=st.lists(hostile_values, min_size=2, max_size=2),
    image_url=st.sampled_from(URL_VALUES),
    asset_url=st.sampled_from(URL_VALUES),
    templates=st.booleans(),
)
def test_nothing_executable_comes_out_of_the_resolver_unless_the_site_wrote_it(
    value: str, bodies: list[str], image_url: str, asset_url: str, templates: bool
) -> None:
    pool = {
        f"c{n}": {
            "system": {"codename": f"c{n}", "id": f"id-c{n}", "type": "t", "name": "<b>"},
            "elements": {
                "body": _element(body, image_url, asset_url),
                "title": {"type": "text", "value": "<script>alert(1)</script>"},
                "file": {"type": "asset", "value": [{"url": asset_url, "name": "f"}]},
            },
        }
        for n, body in enumerate(bodies)
    }
    env = _site_env(pool, templates)
    result = resolve_rich_text(
        _element(value, image_url, asset_url),
        item=pool["c0"],
        element_codename="body",
        language="en",
        env=env,
    )
    assert executable(result.html) == []


# --------------------------------------------------------------------------- markdown

MARKDOWN_KITCHEN_SINK = """\
# Title *em* **strong** `code`

1. one
2. two

3) three

- [link](https://example.org/ "a title") and <https://example.org/auto>
- ![image](https://example.org/i.png "t") and ![rel](i.png)

> quote
> ---

```python
print("hi")
```

| left | centre | right |
|:-----|:------:|------:|
| a    | b      | c     |

***

line\\
break &amp; &copy;
"""


def test_markdown_keeps_its_own_output_when_raw_html_is_sanitised() -> None:
    rendered = str(markdown_filter(html=True, sanitize=False)(MARKDOWN_KITCHEN_SINK))
    for construct in (
        'class="language-python"',
        'style="text-align:center"',
        'title="t"',
        'title="a title"',
        '<ol start="3">',
        "<blockquote>",
        "<hr",
        "<br",
    ):
        assert construct in rendered
    assert canonical(sanitize_markdown_html(rendered)) == canonical(rendered)


def test_markdown_escapes_raw_html_unless_told_otherwise() -> None:
    text = '<img src=x onerror="alert(1)"> <b>b</b> [x](javascript:alert(1)) <javascript:alert(2)>'
    escaped = str(markdown_filter()(text))
    assert "&lt;img src=x" in escaped and "&lt;b&gt;" in escaped
    assert executable(escaped) == [] and "<a" not in escaped
    kept = str(markdown_filter(html=True)(text + "<script>alert(3)</script>"))
    assert "<b>b</b>" in kept and '<img src="x">' in kept
    assert executable(kept) == []
    raw = str(markdown_filter(html=True, sanitize=False)(text))
    assert 'onerror="alert(1)"' in raw


@SETTINGS
@given(
    text=st.lists(
        st.one_of(
            hostile_tag(),
            st.text(max_size=8),
            st.sampled_from(
                ["[x](", ")", "![i](", "<", ">", "javascript:alert(1)", "\n\n", "```", "|", "*"]
            ),
        ),
        max_size=10,
    ).map("".join)
)
def test_nothing_executable_comes_out_of_the_markdown_filter(text: str) -> None:
    assert executable(str(markdown_filter()(text))) == []
    assert executable(str(markdown_filter(html=True)(text))) == []
