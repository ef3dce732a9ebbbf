"""Docs generated from the code's own declarations: ``make docs`` rewrites them.

- ``docs/CONFIG.md``: every ``kontent.toml`` option, from ``kontent_ssg/config.py``;
- the dependency-key table of ``docs/INCREMENTAL.md`` (between its ``keys`` markers), from
  ``kontent_ssg/incremental/keys.py``.

Tests fail while a generated file and its source differ (``tests/test_config.py``,
``tests/test_keys.py``). Run ``python -m tests.support.docs`` from the repository root.
"""

from __future__ import annotations

import re

from kontent_ssg.config import reference
from kontent_ssg.incremental import keys
from tests.support.fixtures import REPO

CONFIG_MD = REPO / "docs" / "CONFIG.md"
INCREMENTAL_MD = REPO / "docs" / "INCREMENTAL.md"
_KEYS_BLOCK = re.compile(r"(<!-- keys:begin -->\n)(.*?)(\n<!-- keys:end -->)", re.S)

HEADER = """\
# `kontent.toml` options

<!-- Generated from kontent_ssg/config.py by `make docs`; do not edit. -->

Every option `kontent.toml` accepts, as declared in `kontent_ssg/config.py`. A key nobody
declared is warned about (with the closest declared name), never silently used; a wrong value
stops every command with exit status 2 and a message naming the file, the table and the key.
Secrets are never read from this file: they come only from the environment."""


def _cell(text: str) -> str:
    """Table-cell safe: ``|`` escaped, and ``<`` outside code spans (``{<element>}``)."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def render_config() -> str:
    """The whole of ``docs/CONFIG.md``."""
    lines = [HEADER]
    for table in reference():
        lines += ["", f"## `[{table.name}]`", "", table.doc[0].upper() + table.doc[1:] + ".", ""]
        options = [o for o in table.options if not o.secret]
        lines += ["| key | type | default | allowed | what it does |", "|---|---|---|---|---|"]
        for o in options:
            default = f"`{o.default}`" if o.default else "required" if o.required else "unset"
            if o.required and o.env:
                default = f"required (or `{o.env}`)"
            doc = o.doc + (f"; `{o.env}` overrides it" if o.env else "")
            cells = [f"`{o.key}`", o.type, default, o.allowed, doc]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        secrets = [o for o in table.options if o.secret]
        if secrets:
            held = "; ".join(
                f"`{o.env}`: {o.doc}"
                if o.env
                else f"the variable named by `{o.env_named_by}`: {o.doc}"
                for o in secrets
            )
            lines += ["", f"From the environment only (refused in `kontent.toml`): {held}."]
    return "\n".join(lines) + "\n"


def keys_block(text: str) -> str | None:
    """The generated key table inside ``docs/INCREMENTAL.md``'s markers (None: no markers)."""
    found = _KEYS_BLOCK.search(text)
    return found.group(2).strip() if found else None


def render_incremental(text: str) -> str:
    """``docs/INCREMENTAL.md`` with its key table regenerated from ``keys.KINDS``."""
    return _KEYS_BLOCK.sub(lambda m: m.group(1) + keys.markdown_table() + m.group(3), text)


def main() -> int:
    CONFIG_MD.write_text(render_config(), encoding="utf-8")
    text = INCREMENTAL_MD.read_text(encoding="utf-8")
    INCREMENTAL_MD.write_text(render_incremental(text), encoding="utf-8")
    print("wrote docs/CONFIG.md and the key table of docs/INCREMENTAL.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
