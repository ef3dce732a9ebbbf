"""Golden tests for the rich-text resolver: one construct each, the exact expected HTML."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from kontent_ssg.config import ImageConfig
from kontent_ssg.content.snapshot import ContentStore, LanguageItems, Snapshot
from kontent_ssg.render.richtext import (
    MAX_NESTING,
    BrokenLink,
    ImageContext,
    ResolveResult,
    RichTextEnv,
    SimpleEnv,
    available_backends,
    image_url,
    render_default_embedded,
    resolve_rich_text,
    srcset_for,
)

ASSET = "https://assets-us-01.kc-usercontent.com/p1/a1/photo.jpg"
PAGE_ID = "00000000-0000-0000-0000-0000000000aa"
ONE_ID = "00000000-0000-0000-0000-000000000001"
NO_PAGE_ID = "00000000-0000-0000-0000-000000000002"


def obj(codename: str, rel: str | None = "component", type_: str = "item") -> str:
    rel_attr = f' data-rel="{rel}"' if rel else ""
    return (
        f'<object type="application/kenticocloud" data-type="{type_}"{rel_attr} '
        f'data-codename="{codename}"></object>'
    )


def item(codename: str, type_: str = "article", id_: str | None = None, **elements: Any) -> dict:
    return {
        "system": {
            "id": id_ or f"id-{codename}",
            "name": codename.replace("_", " ").title(),
            "codename": codename,
            "language": "en-US",
            "type": type_,
        },
        "elements": elements,
    }


def rt(value: str, *, images: dict | None = None, links: dict | None = None) -> dict:
    return {
        "type": "rich_text",
        "name": "Body",
        "value": value,
        "images": images or {},
        "links": links or {},
        "modular_content": [],
    }


def text(value: str) -> dict:
    return {"type": "text", "name": "Text", "value": value}


PAGE = item("page", id_=PAGE_ID)
URLS = {ONE_ID: "/articles/one/", PAGE_ID: "/articles/page/"}


def make_env(items: dict[str, dict] | None = None, **kwargs: Any) -> RichTextEnv:
    table = {"page": PAGE, **(items or {})}
    return RichTextEnv(
        linked_item=lambda c, lang: table.get(c),
        component=lambda c, lang: table.get(c),
        url_for_id=lambda i, lang: URLS.get(i),
        **kwargs,
    )


def resolve(
    value: str, env: RichTextEnv | None = None, page: dict = PAGE, **element: Any
) -> ResolveResult:
    return resolve_rich_text(
        rt(value, **element),
        item=page,
        element_codename="body",
        language="en-US",
        env=env or make_env(),
    )


# --------------------------------------------------------------------------- plain markup


@pytest.mark.parametrize("value", ["", "<p><br></p>", "  <p><br></p>\n", "<p></p>"])
def test_empty_rich_text_renders_empty(value: str) -> None:
    result = resolve(value)
    assert result.html == ""
    assert result.warnings == []


def test_null_value_renders_empty() -> None:
    element = {"type": "rich_text", "value": None}
    result = resolve_rich_text(
        element, item=PAGE, element_codename="body", language="en-US", env=make_env()
    )
    assert result.html == ""


@pytest.mark.parametrize(
    "html",
    [
        "<p>Plain, <strong>bold</strong>, <em>italic</em>, <code>code</code>, "
        "<sub>sub</sub>, <sup>sup</sup>.<br>Next line</p>",
        "<h1>One</h1><h2>Two</h2><h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6>",
        "<ul><li>a</li><li>b<ol><li>b1</li><li>b2<ul><li>deep</li></ul></li></ol></li></ul>",
        "<table><tbody><tr><td><h2>Head</h2><p>para</p><ul><li>item</li></ul></td>"
        "<td>plain</td></tr><tr><td>x</td><td><strong>y</strong></td></tr></tbody></table>",
        "<p>a &amp; b &lt;c&gt; \"quoted\" 'single'</p>",
    ],
)
def test_allowed_markup_is_preserved_exactly(html: str) -> None:
    assert resolve(html).html == html


def test_text_is_never_double_escaped() -> None:
    result = resolve("<p>Fish &amp; chips &lt;3 &amp;amp;</p>")
    assert result.html == "<p>Fish &amp; chips &lt;3 &amp;amp;</p>"


def test_unpaired_surrogates_nul_and_crlf_do_not_crash() -> None:
    result = resolve("<p>a\ud800b\x00c\r\nd</p>")
    assert result.html == "<p>a\ufffdbc\nd</p>"
    assert len(result.warnings) == 1 and "surrogates" in result.warnings[0]


def test_parsing_is_in_no_quirks_mode() -> None:
    # in quirks mode a <table> would stay inside the <p>; pages are <!DOCTYPE html>
    result = resolve("<p>x<table><tbody><tr><td>c</td></tr></tbody></table>")
    assert result.html == "<p>x</p><table><tbody><tr><td>c</td></tr></tbody></table>"


def test_misnested_markup_is_normalised() -> None:
    # the PHP SDK fixture nests <h1> and <p> inside <p>; HTML5 parsing closes the <p> first
    result = resolve("<p><h1>Title</h1><p>text</p></p>")
    assert result.html == "<p></p><h1>Title</h1><p>text</p><p></p>"


# --------------------------------------------------------------------------- links


def test_item_link_gets_the_page_url() -> None:
    result = resolve(f'<p>See <a data-item-id="{ONE_ID}" href="">one</a>.</p>')
    assert result.html == '<p>See <a href="/articles/one/">one</a>.</p>'
    assert result.broken_links == []
    assert result.deps.link_targets == {ONE_ID}


def test_link_to_item_without_page_is_unwrapped_and_reported() -> None:
    links = {NO_PAGE_ID: {"codename": "orphan", "type": "article", "url_slug": "orphan"}}
    result = resolve(
        f'<p>See <a data-item-id="{NO_PAGE_ID}" href="">the <em>orphan</em></a>.</p>',
        links=links,
    )
    assert result.html == "<p>See the <em>orphan</em>.</p>"
    assert result.broken_links == [BrokenLink("page", "body", "en-US", NO_PAGE_ID, "orphan")]
    assert result.deps.link_targets == {NO_PAGE_ID}
    assert len(result.warnings) == 1 and "orphan" in result.warnings[0]


def test_valueless_api_attributes() -> None:
    result = resolve(
        "<p><a data-item-id>x</a><a data-item-id></a></p><figure data-image-id><img></figure>"
    )
    assert result.html == "<p>x</p>"
    assert len(result.broken_links) == 2
    assert len(result.warnings) == 3


def test_link_to_unknown_id_has_no_target_codename() -> None:
    result = resolve('<p><a data-item-id="ffff" href="">x</a></p>')
    assert result.html == "<p>x</p>"
    assert result.broken_links == [BrokenLink("page", "body", "en-US", "ffff", None)]


def test_new_window_link() -> None:
    result = resolve(
        '<p><a href="https://kontent.ai/" data-new-window="true" target="_blank" '
        'rel="noopener noreferrer">web</a> <a href="https://example.org/" '
        'data-new-window="true">bare</a></p>'
    )
    assert result.html == (
        '<p><a href="https://kontent.ai/" target="_blank" rel="noopener noreferrer">web</a> '
        '<a href="https://example.org/" target="_blank" rel="noopener noreferrer">bare</a></p>'
    )


def test_item_link_in_new_window() -> None:
    result = resolve(f'<p><a data-item-id="{ONE_ID}" href="" data-new-window="true">x</a></p>')
    assert result.html == (
        '<p><a href="/articles/one/" target="_blank" rel="noopener noreferrer">x</a></p>'
    )


def test_email_phone_external_links_are_kept_without_api_attributes() -> None:
    result = resolve(
        '<p><a data-email-address="sales@kontent.ai" href="mailto:sales@kontent.ai">mail</a>, '
        '<a data-phone-number="+0123456789" href="tel:+0123456789">phone</a>, '
        '<a href="https://example.org/?a=1&amp;b=2" title="t">web</a></p>'
    )
    assert result.html == (
        '<p><a href="mailto:sales@kontent.ai">mail</a>, <a href="tel:+0123456789">phone</a>, '
        '<a href="https://example.org/?a=1&amp;b=2" title="t">web</a></p>'
    )


def test_asset_link_is_kept_and_recorded() -> None:
    result = resolve(f'<p><a data-asset-id="as1" href="{ASSET}">file</a></p>')
    assert result.html == f'<p><a href="{ASSET}">file</a></p>'
    assert result.deps.assets == {"as1"}


def test_asset_link_is_localised_when_asset_download_is_on() -> None:
    env = make_env(asset_url=lambda url, asset_id: f"/assets/{asset_id}/photo.jpg")
    result = resolve(f'<p><a data-asset-id="as1" href="{ASSET}">file</a></p>', env)
    assert result.html == '<p><a href="/assets/as1/photo.jpg">file</a></p>'


# --------------------------------------------------------------------------- images

FIGURE = (
    '<figure data-asset-id="img1" data-image-id="img1"><img src="{src}" '
    'data-asset-id="img1" data-image-id="img1" alt=""></figure>'
)
IMAGES = {
    "img1": {
        "image_id": "img1",
        "description": 'A "cup" & <saucer>',
        "url": ASSET,
        "width": 1000,
        "height": 500,
    }
}


def test_image_with_metadata() -> None:
    result = resolve(FIGURE.format(src=ASSET), images=IMAGES)
    assert result.html == (
        f'<figure><img src="{ASSET}?auto=format" alt="A &quot;cup&quot; &amp; &lt;saucer&gt;" '
        'width="1000" height="500" loading="lazy" decoding="async" '
        f'srcset="{ASSET}?w=320&amp;auto=format 320w, {ASSET}?w=640&amp;auto=format 640w, '
        f'{ASSET}?w=960&amp;auto=format 960w, {ASSET}?auto=format 1000w" '
        'sizes="(max-width: 960px) 100vw, 960px"></figure>'
    )
    assert result.deps.assets == {"img1"}
    assert result.warnings == []


def test_image_options_format_quality_no_auto() -> None:
    options = ImageConfig(widths=(100, 200), format="webp", quality=70, auto_format=False)
    images = {"img1": {**IMAGES["img1"], "description": None, "width": 150, "height": 90}}
    result = resolve(FIGURE.format(src=ASSET), make_env(image_options=options), images=images)
    assert result.html == (
        f'<figure><img src="{ASSET}?fm=webp&amp;q=70" alt="" width="150" height="90" '
        'loading="lazy" decoding="async" '
        f'srcset="{ASSET}?w=100&amp;fm=webp&amp;q=70 100w, {ASSET}?fm=webp&amp;q=70 150w" '
        'sizes="(max-width: 960px) 100vw, 960px"></figure>'
    )


def test_image_without_metadata_keeps_its_image_with_a_warning() -> None:
    result = resolve(FIGURE.format(src=ASSET).replace('alt=""', 'alt="old"'))
    assert result.html == (
        f'<figure><img src="{ASSET}" alt="old" loading="lazy" decoding="async"></figure>'
    )
    assert len(result.warnings) == 1 and "img1" in result.warnings[0]


def test_render_image_override() -> None:
    seen: list[ImageContext] = []

    def render_image(ctx: ImageContext) -> str:
        seen.append(ctx)
        return f'<picture data-w="{ctx.width}">{ctx.html}</picture>'

    result = resolve(FIGURE.format(src=ASSET), make_env(render_image=render_image), images=IMAGES)
    assert result.html.startswith('<picture data-w="1000"><figure><img src=')
    assert seen[0].alt == 'A "cup" & <saucer>'
    assert seen[0].image_id == "img1" and seen[0].item is not None


def test_render_image_returning_none_keeps_the_default() -> None:
    plain = resolve(FIGURE.format(src=ASSET), images=IMAGES).html
    result = resolve(
        FIGURE.format(src=ASSET), make_env(render_image=lambda ctx: None), images=IMAGES
    )
    assert result.html == plain


# --------------------------------------------------------------------------- image URLs


def test_image_url_parameters_in_fixed_order() -> None:
    url = image_url(ASSET, w=300, h=200, fit="crop", fm="webp", q=80, auto="format")
    assert url == f"{ASSET}?w=300&h=200&fit=crop&fm=webp&q=80&auto=format"


def test_image_url_keeps_other_parameters_and_replaces_its_own() -> None:
    assert image_url(f"{ASSET}?foo=1&w=10", w=20) == f"{ASSET}?foo=1&w=20"
    assert image_url(ASSET) == ASSET
    assert image_url(ASSET, w=0.5) == f"{ASSET}?w=0.5"
    assert image_url(ASSET, w=300.0) == f"{ASSET}?w=300"


@pytest.mark.parametrize(
    "kwargs",
    [{"w": 0}, {"w": -5}, {"fit": "stretch"}, {"fm": "bmp"}, {"q": 0}, {"q": 101}, {"auto": "x"}],
)
def test_image_url_rejects_bad_parameters(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="image_url"):
        image_url(ASSET, **kwargs)


def test_srcset_never_upscales() -> None:
    options = ImageConfig(widths=(320, 640))
    assert srcset_for(ASSET, 200, options) == f"{ASSET}?auto=format 200w"
    assert srcset_for(ASSET, 640, options) == (
        f"{ASSET}?w=320&auto=format 320w, {ASSET}?auto=format 640w"
    )
    assert srcset_for(ASSET, None, options) == ""


# --------------------------------------------------------------------------- objects

QUOTE = item("n_quote", "quote", text=text("Less is <more> & so on"))


def test_component_rendered_by_template() -> None:
    calls: list[tuple] = []

    def render(it: dict, parent: dict, rel: str, language: str, stack: tuple) -> str:
        calls.append((it["system"]["codename"], parent["system"]["codename"], rel, stack))
        return f'<blockquote class="{rel}">{it["system"]["name"]}</blockquote>'

    result = resolve(
        f"<p>Before</p>{obj('n_quote')}<p>After</p>",
        make_env({"n_quote": QUOTE}, render_embedded=render),
    )
    assert result.html == (
        '<p>Before</p><blockquote class="component">N Quote</blockquote><p>After</p>'
    )
    assert calls == [("n_quote", "page", "component", ("page",))]
    assert result.deps.components == {"n_quote"}
    assert result.warnings == []


def test_component_generic_rendering_warns_about_the_missing_template() -> None:
    result = resolve(obj("n_quote"), make_env({"n_quote": QUOTE}))
    assert result.html == (
        '<div class="kontent-component kontent-type-quote">'
        '<div class="kontent-element-text">Less is &lt;more&gt; &amp; so on</div></div>'
    )
    assert len(result.warnings) == 1
    assert "no template components/quote.html" in result.warnings[0]


def test_inline_linked_item_uses_the_item_lookup() -> None:
    linked = item("coffee", "product", text=text("Beans"))
    env = RichTextEnv(
        linked_item=lambda c, lang: linked if c == "coffee" else None,
        component=lambda c, lang: None,
        render_embedded=lambda it, parent, rel, lang, stack: f"<p>{rel}:{it['system']['name']}</p>",
    )
    result = resolve(obj("coffee", rel="link"), env)
    assert result.html == "<p>link:Coffee</p>"
    assert result.deps.items == {"coffee"}
    # an object without data-rel (older API responses) is an inline linked item
    assert resolve(obj("coffee", rel=None), env).html == "<p>link:Coffee</p>"


def test_missing_component_is_removed_with_a_warning() -> None:
    result = resolve(f"<p>a</p>{obj('n_gone')}<p>b</p>")
    assert result.html == "<p>a</p><p>b</p>"
    assert len(result.warnings) == 1 and "n_gone not found" in result.warnings[0]
    assert result.deps.components == {"n_gone"}


@pytest.mark.parametrize(
    "markup",
    [
        obj("n_quote", type_="noitem"),
        '<object type="text/xml" data-type="item" data-codename="n_quote"></object>',
        '<object type="application/kenticocloud"></object>',
        '<object type="application/kenticocloud" data-type="item"></object>',
    ],
)
def test_unknown_or_unsupported_objects_are_removed(markup: str) -> None:
    result = resolve(f"<p>a</p>{markup}<p>b</p>", make_env({"n_quote": QUOTE}))
    assert result.html == "<p>a</p><p>b</p>"
    assert len(result.warnings) == 1


def test_stray_closing_object_tag_is_harmless() -> None:
    result = resolve(
        f"<p>Component</p></object>{obj('n_quote')}</object><p>end</p>",
        make_env({"n_quote": QUOTE}),
    )
    assert result.html.startswith('<p>Component</p><div class="kontent-component')
    assert result.html.endswith("</div></div><p>end</p>")
    assert "object" not in result.html


def test_object_inside_a_paragraph() -> None:
    env = make_env({"n_quote": QUOTE}, render_embedded=lambda *a: "<span>Q</span>")
    result = resolve(f"<p>Hi <strong>{obj('n_quote')}</strong> there</p>", env)
    assert result.html == "<p>Hi <strong><span>Q</span></strong> there</p>"


# --------------------------------------------------------------------------- cycles, depth


def test_self_reference_becomes_a_link_to_the_page() -> None:
    result = resolve(f"<p>Me:</p>{obj('page', rel='link')}")
    assert result.html == '<p>Me:</p><a href="/articles/page/">Page</a>'
    assert any("embeds itself" in w for w in result.warnings)
    assert PAGE_ID in result.deps.link_targets


def test_cycle_without_a_page_is_left_out() -> None:
    a = item("item_a", "note", body=rt(obj("item_b", rel="link")))
    b = item("item_b", "note", body=rt(f"<p>b</p>{obj('item_a', rel='link')}"))
    env = make_env({"item_a": a, "item_b": b})
    result = resolve_rich_text(
        a["elements"]["body"], item=a, element_codename="body", language="en-US", env=env
    )
    assert result.html == (
        '<div class="kontent-linked-item kontent-type-note"><div class="kontent-element-body">'
        "<p>b</p></div></div>"
    )
    assert any("embeds itself (item_a > item_b > item_a)" in w for w in result.warnings)
    assert result.deps.items == {"item_a", "item_b"}


def test_template_calling_back_with_the_stack_never_loops() -> None:
    a = item("item_a", "note", body=rt(obj("item_b", rel="link")))
    b = item("item_b", "note", body=rt(obj("item_a", rel="link")))
    table = {"item_a": a, "item_b": b}
    env: RichTextEnv

    def render(it: dict, parent: dict, rel: str, language: str, stack: tuple) -> str:
        inner = resolve_rich_text(
            it["elements"]["body"],
            item=it,
            element_codename="body",
            language=language,
            env=env,
            stack=(*stack, it["system"]["codename"]),
        )
        return f"<section>{inner.html}</section>"

    env = make_env(table, render_embedded=render)
    result = resolve_rich_text(
        a["elements"]["body"], item=a, element_codename="body", language="en-US", env=env
    )
    assert result.html == "<section></section>"


def nested_components(depth: int) -> dict[str, dict]:
    table = {}
    for n in range(depth, 0, -1):
        body = obj(f"c{n + 1}") if n < depth else "<p>bottom</p>"
        table[f"c{n}"] = item(f"c{n}", "box", body=rt(f"<p>level {n}</p>{body}"))
    return table


def test_components_nest_six_levels_then_stop() -> None:
    table = nested_components(MAX_NESTING + 2)
    result = resolve(obj("c1"), make_env(table))
    for n in range(1, MAX_NESTING + 1):
        assert f"<p>level {n}</p>" in result.html
    assert f"<p>level {MAX_NESTING + 1}</p>" not in result.html
    deep = [w for w in result.warnings if "deeper than" in w]
    assert len(deep) == 1 and f"c{MAX_NESTING + 1}" in deep[0]


def test_nested_generic_rendering_reports_nested_dependencies() -> None:
    inner = item("n_inner", "fact", body=rt(f'<p><a data-item-id="{ONE_ID}" href="">x</a></p>'))
    outer = item("n_outer", "box", body=rt(obj("n_inner")))
    result = resolve(obj("n_outer"), make_env({"n_outer": outer, "n_inner": inner}))
    assert '<a href="/articles/one/">x</a>' in result.html
    assert result.deps.components == {"n_outer", "n_inner"}
    assert result.deps.link_targets == {ONE_ID}
    assert sum("no template" in w for w in result.warnings) == 2


# --------------------------------------------------------------------------- env, hooks


def test_simple_env_over_a_content_store() -> None:
    snapshot = Snapshot(
        default_language="en-US",
        items={
            "en-US": LanguageItems(
                items=[PAGE, item("one", id_=ONE_ID)],
                modular_content={"n_quote": QUOTE},
            )
        },
    )
    env = SimpleEnv(ContentStore(snapshot), url_for_id=lambda i, lang: URLS.get(i))
    result = resolve(f'<p><a data-item-id="{ONE_ID}" href="">one</a></p>{obj("n_quote")}', env)
    assert result.html.startswith('<p><a href="/articles/one/">one</a></p><div class=')
    assert "Less is &lt;more&gt;" in result.html


def test_post_processors_get_a_soup_of_the_page_element_only() -> None:
    seen: list[str] = []

    def heading_ids(soup: Any) -> None:
        seen.append(str(soup))
        for n, h in enumerate(soup.find_all(["h2", "h3"])):
            h["id"] = f"h{n}"

    inner = item("n_inner", "box", body=rt("<h3>Inner</h3>"))
    env = make_env({"n_inner": inner}, post_processors=[heading_ids])
    result = resolve(f"<h2>Top</h2>{obj('n_inner')}", env)
    assert result.html == (
        '<h2 id="h0">Top</h2><div class="kontent-component kontent-type-box">'
        '<div class="kontent-element-body"><h3 id="h1">Inner</h3></div></div>'
    )
    assert len(seen) == 1


def test_output_is_deterministic() -> None:
    value = f'<p><a data-item-id="{ONE_ID}" href="">x</a></p>{obj("n_quote")}' + FIGURE.format(
        src=ASSET
    )
    env = make_env({"n_quote": QUOTE})
    first = resolve(value, env, images=IMAGES)
    second = resolve(value, env, images=IMAGES)
    assert first == second


# --------------------------------------------------------------------------- backends


@pytest.mark.parametrize("backend", ["bs4+html.parser", "bs4+lxml"])
def test_benchmark_backends_agree_with_the_fast_one(backend: str) -> None:
    """bench/richtext.py compares parsers; the comparison is only fair if they agree."""
    problem = available_backends()[backend]
    assert problem is None, f"{backend} is a test dependency and must work: {problem}"
    value = (
        f'<h2>T&amp;C</h2><p>café <a data-item-id="{ONE_ID}" href="">one</a> '
        f'<a data-item-id="{NO_PAGE_ID}" href="">gone</a> '
        '<a href="https://x.org/" data-new-window="true">x</a></p>'
        f"{FIGURE.format(src=ASSET)}{obj('n_quote')}"
        "<table><tbody><tr><td><ul><li>a</li></ul></td></tr></tbody></table>"
    )
    env = make_env({"n_quote": QUOTE})
    fast = resolve(value, env, images=IMAGES)
    slow = resolve_rich_text(
        rt(value, images=IMAGES),
        item=PAGE,
        element_codename="body",
        language="en-US",
        env=env,
        backend=backend,
    )
    canonical = LexborHTMLParser(slow.html, is_fragment=True).html
    assert canonical == fast.html
    assert slow.warnings == fast.warnings
    assert slow.broken_links == fast.broken_links
    assert slow.deps == fast.deps


def test_render_default_embedded_reports_nested_warnings() -> None:
    box = item("n_box", "box", body=rt(obj("n_gone")), title=text("Box & co"))
    result = render_default_embedded(box, "component", "en-US", ("page",), make_env())
    assert result.html == (
        '<div class="kontent-component kontent-type-box">'
        '<div class="kontent-element-title">Box &amp; co</div></div>'
    )
    assert len(result.warnings) == 1 and "n_gone not found" in result.warnings[0]
    assert result.deps.components == {"n_gone"}


def test_threads_get_their_own_parser_documents() -> None:
    values = [
        f'<p>{n} <a data-item-id="{ONE_ID}" href="">one</a></p>{obj("n_quote")}'
        + "<ul><li>x</li></ul>" * n
        for n in range(40)
    ]
    env = make_env({"n_quote": QUOTE})
    serial = [resolve(v, env).html for v in values]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda v: resolve(v, env).html, values * 5))
    assert parallel == serial * 5


def test_reused_parser_documents_are_renewed_without_changing_output() -> None:
    value = f"<p>a</p>{obj('n_quote')}<table><tbody><tr><td>c</td></tr></tbody></table>"
    env = make_env({"n_quote": QUOTE})
    outputs = {resolve(value, env).html for _ in range(600)}  # several times the reuse limit
    assert len(outputs) == 1


def test_beautifulsoup_stays_off_the_hot_path() -> None:
    code = (
        "import sys\n"
        "from kontent_ssg.render.richtext import RichTextEnv, resolve_rich_text\n"
        "r = resolve_rich_text({'value': '<p><a data-item-id=\"x\" href=\"\">a</a></p>'},"
        " item={'system': {'codename': 'p'}}, element_codename='b', language='en',"
        " env=RichTextEnv())\n"
        "assert r.html == '<p>a</p>', r.html\n"
        "print('bs4' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
