"""The ``markdown`` filter writes exactly what markdown-it-py writes, on its fast path too.

render/markdown.py hands values in a plain subset to cmark-gfm (C) and the rest to
markdown-it-py. These tests hold it to markdown-it-py's output byte for byte: on every
CommonMark spec example (0.31.2, tests/data), on GFM tables, and on thousands of generated
values in and around the plain subset, in both modes of the filter (raw HTML escaped, and
kept with ``[site] markdown_html``).
"""

from __future__ import annotations

import json
import random
import resource
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from kontent_ssg.render import markdown as md
from kontent_ssg.render.templating import markdown_filter

SPEC = Path(__file__).parent / "data" / "commonmark-spec-0.31.2.json"


def reference(text: str, html: bool) -> str:
    return str(MarkdownIt("commonmark", {"html": html}).enable("table").render(text))


def spec_examples() -> list[dict[str, object]]:
    return list(json.loads(SPEC.read_text(encoding="utf-8")))


@pytest.mark.parametrize("html", [False, True])
def test_every_commonmark_spec_example_renders_as_markdown_it_py_does(html: bool) -> None:
    examples = spec_examples()
    assert len(examples) == 652
    differ = [
        e["example"]
        for e in examples
        if md.render_markdown(str(e["markdown"]), html) != reference(str(e["markdown"]), html)
    ]
    assert differ == []
    # ... and the fast path answered for a good part of them (else this proves nothing).
    plain = [e for e in examples if md._plain(str(e["markdown"]))]
    assert len(plain) > 250


GFM_TABLES = [
    "| foo | bar |\n| --- | --- |\n| baz | bim |\n",
    "| abc | defghi |\n:-: | -----------:\nbar | baz\n",
    "| f\\|oo  |\n| ------ |\n| b `\\|` az |\n| b **\\|** im |\n",
    "| abc | def |\n| --- | --- |\n| bar | baz |\n> bar\n",
    "| abc | def |\n| --- | --- |\n| bar | baz |\nbar\n\nbar\n",
    "| abc | def |\n| --- |\n| bar |\n",
    "| abc | def |\n| --- | --- |\n| bar |\n| bar | baz | boo |\n",
    "| abc | def |\n| --- | --- |\n",
    "Name | Value\n:--- | ---:\n*a* | `1`\n**b** | [x](https://example.org/)\n",
    "| a |\n|---|\n| <b>x</b> |\n",
]


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("text", GFM_TABLES)
def test_gfm_tables_render_as_markdown_it_py_does(text: str, html: bool) -> None:
    assert md.render_markdown(text, html) == reference(text, html)
    assert not md._plain(text)  # tables are markdown-it's


# Pieces of markdown, mixed at random: inline syntax, line prefixes, non-ASCII letters and
# punctuation, URLs. The plain subset is a small corner of this space; both sides of its
# border are compared.
_INLINE = [
    *("word", "año", "über", "café", "ß", "é", "\u2019", "€", "¿", "😀", "1", "42"),
    *(" ", " ", " ", "  ", "*", "**", "_", "__", "`", "``", "[", "]", "](", ")", "("),
    *("![", "https://kontent.ai/x", "/a/b", "http://ex.com/ä", "%41", "%", ":", "."),
    *(",", "!", "?", "'", '"', "=", "-", "+", "#", "$", "{", "}", "\xa0", "<b>", "&amp;"),
]
_PREFIX = [
    *("", "", "", "- ", "* ", "+ ", "1. ", "2) ", "10. ", "# ", "### ", "####### "),
    *("  ", "   ", "    ", "      - ", "  - ", "    - ", "   1. ", "```", "```python"),
    *("~~~", "---", "***", "===", "- - ", "1. - ", "        ", "          - ", "> ", "| a |"),
]


def generated(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        lines = [
            rng.choice(_PREFIX) + "".join(rng.choice(_INLINE) for _ in range(rng.randint(0, 12)))
            for _ in range(rng.randint(1, 10))
        ]
        out.append("\n".join(lines) + ("\n" if rng.random() < 0.5 else ""))
    return out


@pytest.mark.parametrize("html", [False, True])
def test_generated_values_render_as_markdown_it_py_does(html: bool) -> None:
    values = generated(20261130 + html, 6000)
    plain = [v for v in values if md._plain(v)]
    assert len(plain) > 300
    differ = [v for v in plain if md.render_markdown(v, html) != reference(v, html)]
    assert differ == []
    others = values[:300]
    assert [v for v in others if md.render_markdown(v, html) != reference(v, html)] == []


# The shape of the benchmark's notes element (bench/realistic.py), in both languages.
EN_NOTES = """### Key points 7

- **Decision overview** With reference explains navigation delivery partner editor.
- *Example draft* with `render_7()`
- [Region editor](https://kontent.ai/learn/notes/7/)

Between schedule serves publish overview reference form workflow. _platform paragraph_ `article_7`.

1. About partner serves index heading channel detail table so story although module.
2. Every journey moves structure their our pipeline design practice with structure."""

ES_NOTES = """### Puntos clave 3

- **Navegación párrafo** Para idioma explica referencia caché boletín campaña cliente.
- *Temporada autora* con `render_3()`
- [Modelo modelo](https://kontent.ai/learn/notes/3/)

Sin lector guía referencia decisión vista formulario cliente vista. _caché editor_ `artículo_3`.

1. Porque módulo mejora evento con contexto formulario cada detalle.
2. Cada boletín conecta componente región esta para patrón boletín así lanzamiento."""


@pytest.mark.parametrize("text", [EN_NOTES, ES_NOTES])
def test_real_shaped_values_take_the_fast_path(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = reference(text, False)
    assert md._plain(text)

    def refuse(html: bool) -> None:
        raise AssertionError("markdown-it-py was asked")

    monkeypatch.setattr(md, "_markdown_it", refuse)
    assert md.render_markdown(text) == expected
    assert str(markdown_filter()(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b>",
        "a &amp; b",
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](/a b)",
        '[x](/a "title")',
        "[x]\n\n[x]: /url",
        "**a **b****",
        "***a***",
        "*€*a",
        "a\xa0b",
        "```\ncode",
        "| a |\n|---|\n| b |",
        "> quote",
        "- - - deep",
        "![a\nb](/x.png)",
    ],
)
def test_values_outside_the_plain_subset_go_to_markdown_it_py(text: str) -> None:
    assert not md._plain(text)
    for html in (False, True):
        assert md.render_markdown(text, html) == reference(text, html)


def test_the_fast_path_frees_what_cmark_returns() -> None:
    text = "# heading\n\n" + "- **item** with `code` and [a link](https://example.org/)\n" * 40
    assert md._plain(text)
    md.render_markdown(text)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20_000):  # ~3 KB of HTML each: 60 MB if never freed
        md.render_markdown(text)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 20_000


def test_without_cmark_everything_goes_to_markdown_it_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(md, "_cmark", lambda: None)
    for text in (EN_NOTES, ES_NOTES, "<b>x</b>"):
        assert md.render_markdown(text) == reference(text, False)
