"""Regenerate ``docs/CONFIG.md`` from the option declarations in ``kontent_ssg/config.py``.

Run ``.venv/bin/python tests/regenerate_config_docs.py`` after declaring, removing or
rewording an option; ``tests/test_config.py`` fails while the file and the declarations differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG_MD = REPO / "docs" / "CONFIG.md"

HEADER = """\
# `kontent.toml` options

<!-- Generated from kontent_ssg/config.py by tests/regenerate_config_docs.py; do not edit. -->

Every option `kontent.toml` accepts, as declared in `kontent_ssg/config.py`. A key nobody
declared is warned about (with the closest declared name), never silently used; a wrong value
stops every command with exit status 2 and a message naming the file, the table and the key.
Secrets are never read from this file: they come only from the environment."""


def _cell(text: str) -> str:
    """Table-cell safe: ``|`` escaped, and ``<`` outside code spans (``{<element>}``)."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def render() -> str:
    """The whole of ``docs/CONFIG.md``."""
    sys.path.insert(0, str(REPO))
    from kontent_ssg.config import reference

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


if __name__ == "__main__":
    CONFIG_MD.write_text(render(), encoding="utf-8")
    print(f"wrote {CONFIG_MD.relative_to(REPO)}")
