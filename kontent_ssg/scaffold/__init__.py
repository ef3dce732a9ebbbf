"""``kontent-ssg init``: the files a site starts from.

Each part of the scaffold is a module here; :func:`init` dispatches on the command's flags:

- without ``--ci``: the site itself from the environment's content model, ``kontent.toml``
  and templates (:mod:`.model`);
- ``--ci github|netlify``: the CI and deploy files of a site that has its ``kontent.toml``
  (:mod:`.ci`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config import CONFIG_FILE, load_config
from ..errors import UsageError
from .ci import Written, repository_root, write_ci
from .model import scaffold_site

__all__ = ["InitResult", "Written", "init"]


@dataclass(frozen=True)
class InitResult:
    """What ``init`` did: each file considered, and notes for the user (what to do next)."""

    files: list[Written]
    notes: list[str]


def init(
    site: Path,
    *,
    ci: str | None = None,
    environment_id: str | None = None,
    delivery_url: str | None = None,
    offline: bool = False,
    snapshot: Path | None = None,
    force: bool = False,
    env: Mapping[str, str] | None = None,
) -> InitResult:
    """Scaffold ``site`` from its content model (see :func:`.model.scaffold_site`); with
    ``ci``, write its CI files instead (it must have its kontent.toml)."""
    site = Path(site)
    if ci is None:
        files, notes = scaffold_site(
            site,
            environment_id=environment_id,
            delivery_url=delivery_url,
            offline=offline,
            snapshot=snapshot,
            force=force,
            env=env,
        )
        return InitResult(files, notes)
    if environment_id or delivery_url or offline or snapshot is not None:
        raise UsageError(
            "init --ci writes only the CI and deploy files; the content-model options are for "
            "the site itself",
            hint="run `kontent-ssg init SITE ...` first, then `kontent-ssg init SITE --ci ...`",
        )
    if not (site / CONFIG_FILE).is_file():
        raise UsageError(
            f"init --ci: {site / CONFIG_FILE} not found; --ci writes CI files into a site "
            f"that already has its {CONFIG_FILE}",
            hint="scaffold the site first (`kontent-ssg init SITE --environment-id ID`), "
            "or give the site's folder: kontent-ssg init SITE --ci ...",
        )
    config = load_config(site)
    files = write_ci(config, ci, force=force)
    return InitResult(files, _notes(config.site_dir, ci, files))


def _notes(site_dir: Path, ci: str, files: list[Written]) -> list[str]:
    notes = []
    kept = [f for f in files if f.action == "kept" and f.path.name != "requirements.txt"]
    if kept:
        notes.append("existing files were kept; --force replaces them")
    requirements = site_dir / "requirements.txt"
    text = requirements.read_text(encoding="utf-8", errors="replace")
    active = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if not any("kontent" in line.lower() for line in active):
        notes.append(
            f"{requirements.name} installs no kontent-ssg yet: add a pinned git URL or a "
            "committed wheel (its comments show both)"
        )
    root = repository_root(site_dir)
    if ci == "github" and root is not None and root.resolve() != site_dir.resolve():
        inside = site_dir.resolve().relative_to(root.resolve()).as_posix()
        notes.append(
            f"the site is the subfolder {inside} of the repository {root}: GitHub reads "
            f"workflows only from {root / '.github' / 'workflows'}; move "
            f".github/workflows/kontent-ssg.yml there (it already works in {inside})"
        )
    if ci == "github":
        notes.append(
            "in the repository's settings: Pages > Source: GitHub Actions; secrets as the "
            "workflow's comments say; docs/DEPLOY.md has the webhook relay"
        )
    else:
        notes.append(
            "on Netlify: set the environment variables netlify.toml names; docs/DEPLOY.md "
            "has the Kontent.ai webhook -> build hook recipe"
        )
    return notes
