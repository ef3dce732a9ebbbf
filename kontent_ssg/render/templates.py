"""Where templates come from: the site's ``templates/`` folder over the package's defaults.

Kept apart from :mod:`.templating` (and Jinja) so that deciding whether a build may be
incremental — which hashes the templates — does not import the template engine.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGE_PREFIX", "PACKAGE_TEMPLATES", "TEMPLATE_SUFFIXES", "template_files"]


def _package_templates() -> Path:
    """The default templates: inside an installed wheel (pyproject maps the repository's
    top-level ``templates/`` to ``kontent_ssg/default_templates``), else the checkout's."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "default_templates"
    return installed if installed.is_dir() else here.parent / "templates"


PACKAGE_TEMPLATES = _package_templates()

#: ``kontent-ssg:home.html`` names the package's own ``home.html`` even when the site has one
#: (the generated home page uses it when the site's ``home.html`` renders item pages).
PACKAGE_PREFIX = "kontent-ssg:"


#: What a site's templates folder may hold besides assets: the names ``check`` parses.
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".j2")


def template_files(site_templates: Path | None, *, defaults: bool = True) -> dict[str, Path]:
    """Templates by name (``components/callout.html``), sorted: the site's folder overrides
    the package's defaults (left out with ``defaults=False``)."""
    found: dict[str, Path] = {}
    folders = [PACKAGE_TEMPLATES] if defaults else []
    if site_templates is not None:
        folders.append(site_templates)
    for folder in folders:
        if not folder.is_dir():
            continue
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                found[path.relative_to(folder).as_posix()] = path
    return dict(sorted(found.items()))
