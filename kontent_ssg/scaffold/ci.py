"""``kontent-ssg init --ci github|netlify``: CI and deploy files for a site that has its
``kontent.toml``.

The files are templates shipped with the package (``ci-files/``), filled in from the site's
config: its folder inside the repository, its output folders, the Python to run. Nothing
else in the site is touched, and an existing file is never replaced without ``--force``
(``requirements.txt``, the site's own dependency list, never: it is only written when
missing). docs/DEPLOY.md explains every choice the files make.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..config import Config
from ..errors import UsageError

__all__ = ["CI_KINDS", "PYTHON_VERSION", "Written", "ci_files", "requirement_line", "write_ci"]

CI_KINDS = ("github", "netlify")

#: The Python the generated builds run (the oldest kontent-ssg supports is 3.11).
PYTHON_VERSION = "3.12"

_FILES = Path(__file__).resolve().parent / "ci-files"
_TOKEN = re.compile(r"%%([a-z_]+)%%")


@dataclass(frozen=True)
class Written:
    """One file ``init`` considered: where, and what happened (``written``, ``replaced``,
    ``completed``: a kontent.toml given the tables it lacked, ``kept``: it existed and
    ``--force`` was not given)."""

    path: Path
    action: str


def _fill(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]  # a KeyError here is a bug in the templates

    return _TOKEN.sub(value, template)


def repository_root(site_dir: Path) -> Path | None:
    """The git work tree holding ``site_dir`` (the folder with ``.git``), if any."""
    for folder in [site_dir, *site_dir.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _relative_folder(path: Path, site_dir: Path) -> str:
    """A site folder (output, state) as a path relative to the site, POSIX-style."""
    try:
        return path.resolve().relative_to(site_dir.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{path} is outside the site folder {site_dir}: a CI cache cannot keep it",
            hint="set [site] output (and preview_output) to folders inside the site",
        ) from None


def requirement_line(version: str = __version__) -> str:
    """The line of ``requirements.txt`` that installs the kontent-ssg running now, when the
    way it was installed can be repeated elsewhere (a git URL at a commit, an archive URL);
    else a comment saying what to write (a checkout or a local wheel cannot be reached from
    CI). PEP 610's ``direct_url.json`` says how it was installed."""
    try:
        raw = metadata.distribution("kontent-ssg").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        raw = None
    if raw is None:
        return f"kontent-ssg=={version}"  # installed from an index
    try:
        direct = json.loads(raw)
    except ValueError:
        direct = {}
    url = str(direct.get("url") or "")
    vcs = direct.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id") and not url.startswith("file:"):
        return f"kontent-ssg @ git+{url}@{vcs['commit_id']}"
    if direct.get("archive_info") is not None and url.startswith("https://"):
        return f"kontent-ssg @ {url}"
    return (
        "# TODO: this kontent-ssg was installed from a local folder or file, which a CI build\n"
        "# cannot reach: uncomment one of the lines above."
    )


def ci_files(config: Config, kind: str) -> dict[str, str]:
    """What ``init --ci KIND`` writes: path relative to the site → text."""
    if kind not in CI_KINDS:
        raise UsageError(f"--ci {kind!r}: expected one of {', '.join(CI_KINDS)}")
    site_dir = config.site_dir
    root = repository_root(site_dir)
    inside = "."
    if root is not None and root.resolve() != site_dir.resolve():
        inside = site_dir.resolve().relative_to(root.resolve()).as_posix()

    def in_repo(name: str) -> str:
        return name if inside == "." else f"{inside}/{name}"

    output = _relative_folder(config.output_dir, site_dir)
    preview_output = _relative_folder(config.preview_output_dir, site_dir)
    values = {
        "version": __version__,
        "python": PYTHON_VERSION,
        "site_dir": inside,
        "site_dir_note": "the repository root" if inside == "." else inside,
        "branch": "main",
        "output": output,
        "preview_output": preview_output,
        "output_path": in_repo(output),
        "state_path": in_repo(".kontent-ssg"),
        "config_path": in_repo("kontent.toml"),
        "requirements": in_repo("requirements.txt"),
        "requirement": requirement_line(),
    }
    out = {"requirements.txt": _fill((_FILES / "requirements.txt").read_text(), values)}
    if kind == "github":
        workflow = _fill((_FILES / "github-pages.yml").read_text(), values)
        out[".github/workflows/kontent-ssg.yml"] = workflow
    else:
        out["netlify.toml"] = _fill((_FILES / "netlify.toml").read_text(), values)
        plugin = "netlify/plugins/kontent-ssg-cache"
        for name in ("manifest.yml", "index.js"):
            text = (_FILES / "netlify-plugin" / name).read_text()
            out[f"{plugin}/{name}"] = _fill(text, values)
    return out


def write_ci(config: Config, kind: str, *, force: bool = False) -> list[Written]:
    """Write the files of ``init --ci KIND`` into the site; existing ones only with
    ``force`` (``requirements.txt`` never: it is the site's own)."""
    written = []
    for rel, text in ci_files(config, kind).items():
        path = config.site_dir / rel
        exists = path.exists()
        if exists and (not force or rel == "requirements.txt"):
            written.append(Written(path, "kept"))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(Written(path, "replaced" if exists else "written"))
    return written
