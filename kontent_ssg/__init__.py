"""kontent-ssg: a static site generator for the Kontent.ai headless CMS.

The Python API (docs/PYTHON.md): :func:`build` a site, :func:`load_config`, and read its
content with :func:`load_content` (a :class:`ContentStore`). Names are imported on first use,
so ``import kontent_ssg`` (which every command does) costs nothing more than this file.
"""

from __future__ import annotations

import importlib
from os import PathLike

# Not ``typing.TYPE_CHECKING``: importing ``typing`` would be this file's largest cost.
TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = [
    "BuildOptions",
    "BuildReport",
    "Config",
    "ContentStore",
    "KontentSSGError",
    "PluginAPI",
    "Snapshot",
    "__version__",
    "build",
    "load_config",
    "load_content",
    "load_snapshot",
]

# Public name -> the module that defines it (imported when the name is first used).
_LAZY = {
    "BuildOptions": "kontent_ssg.builder.pipeline",
    "BuildReport": "kontent_ssg.builder.report",
    "Config": "kontent_ssg.config",
    "ContentStore": "kontent_ssg.content.snapshot",
    "KontentSSGError": "kontent_ssg.errors",
    "PluginAPI": "kontent_ssg.plugins",
    "Snapshot": "kontent_ssg.content.snapshot",
    "load_config": "kontent_ssg.config",
    "load_snapshot": "kontent_ssg.content.snapshot",
}

if TYPE_CHECKING:
    from typing import Any

    from .builder.pipeline import BuildOptions
    from .builder.report import BuildReport
    from .config import Config, load_config
    from .content.snapshot import ContentStore, Snapshot, load_snapshot
    from .errors import KontentSSGError
    from .plugins import PluginAPI


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kontent_ssg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _config(site: str | PathLike[str] | Config) -> Config:
    from pathlib import Path

    from .config import Config, load_config

    return site if isinstance(site, Config) else load_config(Path(site))


def build(site: str | PathLike[str] | Config = ".", **options: Any) -> BuildReport:
    """Build a site, as ``kontent-ssg build`` does: incremental when its build state allows.

    ``site`` is the folder holding ``kontent.toml`` or a loaded :class:`Config`; ``options``
    are the fields of :class:`BuildOptions` (``output``, ``preview``, ``offline``, ``strict``,
    ``report``, ``full``, ``workers``, ``progress``). Returns the :class:`BuildReport`; raises
    a :class:`KontentSSGError` (its ``exit_code`` is the command's) when the build fails, the
    previous output left as it was.
    """
    from dataclasses import fields
    from pathlib import Path

    from .builder.pipeline import BuildOptions
    from .builder.pipeline import build as run_build
    from .errors import did_you_mean

    known = [f.name for f in fields(BuildOptions)]
    for name in options:
        if name not in known:
            raise TypeError(
                f"build() got an unexpected option {name!r}"
                + did_you_mean(name, known, listed="options")
            )
    for name in ("output", "report"):
        if options.get(name) is not None:
            options[name] = Path(options[name])
    return run_build(_config(site), BuildOptions(**options))


def load_content(
    site: str | PathLike[str] | Config = ".", *, offline: bool = True, preview: bool = False
) -> ContentStore:
    """The site's content as a :class:`ContentStore`: the saved snapshot (``offline``, the
    default), or crawled from the Delivery API (then saved, as ``kontent-ssg pull`` does)."""
    from .content.delivery import obtain_snapshot
    from .content.snapshot import ContentStore

    snapshot, _ = obtain_snapshot(_config(site), preview=preview, offline=offline)
    return ContentStore(snapshot)
