"""``kontent-ssg init --ci github|netlify``: the files it writes, checked by the tools that
read them (actionlint with ShellCheck for the workflow, TOML for netlify.toml, Node for the
Netlify cache plugin), and what it refuses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from kontent_ssg.cli import main
from tests.support.fixtures import EXAMPLE_SITE

BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/kontent-ssg.yml"


def example_site(target: Path) -> Path:
    shutil.copytree(
        EXAMPLE_SITE, target, ignore=shutil.ignore_patterns("public", "public-preview", "build")
    )
    return target


def actionlint(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on one workflow, with ShellCheck checking its run: scripts."""
    return subprocess.run(
        [str(BIN / "actionlint"), f"-shellcheck={BIN / 'shellcheck'}", "-no-color", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflow(site: Path) -> dict[Any, Any]:
    data = yaml.safe_load((site / WORKFLOW).read_text())
    assert isinstance(data, dict)
    return data


def steps_named(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step.get("name") or step.get("uses", "").split("@")[0]: step for step in job["steps"]}


def test_github_workflow_for_the_example_site_passes_actionlint(tmp_path: Path) -> None:
    site = example_site(tmp_path / "site")
    assert main(["init", str(site), "--ci", "github"]) == 0
    result = actionlint(site / WORKFLOW, site)
    assert result.returncode == 0, result.stdout + result.stderr

    flow = workflow(site)
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "workflow_dispatch", "schedule", "repository_dispatch"}
    assert triggers["repository_dispatch"]["types"] == ["kontent-ssg"]
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["cancel-in-progress"] is False
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    uses = [s["uses"] for job in (build, deploy) for s in job["steps"] if "uses" in s]
    assert {u.split("@")[0] for u in uses} == {
        "actions/checkout",
        "actions/setup-python",
        "actions/cache",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    }
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+", u) for u in uses), uses  # major versions

    steps = steps_named(build)
    python = steps["actions/setup-python"]["with"]
    assert python["cache"] == "pip" and python["cache-dependency-path"] == "requirements.txt"
    cache = steps["Restore the build state and the output"]["with"]
    # The state AND the output: without the output the next build renders every page.
    assert cache["path"].split() == [".kontent-ssg", "public"]
    assert "github.ref_name" in cache["key"] and "hashFiles('kontent.toml')" in cache["key"]
    assert "kontent-ssg-${{ github.ref_name }}-" in cache["restore-keys"].splitlines()
    assert "kontent-ssg build --strict" in steps["Build"]["run"]
    assert "--changes" in steps["Build"]["run"]
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "public"
    # The payload reaches the script through the environment, never spliced into it.
    save = steps["Save the webhook notifications"]
    assert "${{" not in save["run"] and "client_payload" in save["env"]["PAYLOAD"]
    assert build["env"]["KONTENT_DELIVERY_API_KEY"] == "${{ secrets.KONTENT_DELIVERY_API_KEY }}"
    assert not any("${{ secrets" in (s.get("run") or "") for s in build["steps"])


def test_actionlint_catches_what_the_generated_workflow_avoids(tmp_path: Path) -> None:
    """The check can fail: an action on a retired runtime, an unquoted variable."""
    site = example_site(tmp_path / "site")
    main(["-q", "init", str(site), "--ci", "github"])
    path = site / WORKFLOW
    text = path.read_text()
    path.write_text(text.replace("actions/checkout@v5", "actions/checkout@v2"))
    result = actionlint(path, site)
    assert result.returncode == 1 and "actions/checkout@v2" in result.stdout
    path.write_text(text.replace('> "$RUNNER_TEMP/kontent-changes.json"', "> $RUNNER_TEMP/x"))
    result = actionlint(path, site)
    assert result.returncode == 1 and "SC2086" in result.stdout  # ShellCheck ran


def test_site_in_a_subfolder_of_its_repository(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    site = example_site(repo / "web" / "site")
    assert main(["init", str(site), "--ci", "github"]) == 0
    assert "GitHub reads workflows only from" in capsys.readouterr().err
    flow = workflow(site)
    build = flow["jobs"]["build"]
    assert build["defaults"]["run"]["working-directory"] == "web/site"
    steps = steps_named(build)
    cache = steps["Restore the build state and the output"]["with"]
    assert cache["path"].split() == ["web/site/.kontent-ssg", "web/site/public"]
    assert "hashFiles('web/site/kontent.toml')" in cache["key"]
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "web/site/public"
    assert steps["actions/setup-python"]["with"]["cache-dependency-path"] == (
        "web/site/requirements.txt"
    )
    # Where GitHub would read it, it passes actionlint as it is.
    target = repo / WORKFLOW
    target.parent.mkdir(parents=True)
    shutil.copy(site / WORKFLOW, target)
    result = actionlint(target, repo)
    assert result.returncode == 0, result.stdout + result.stderr


def test_existing_files_are_kept_unless_forced(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    site = example_site(tmp_path / "site")
    (site / "requirements.txt").write_text("kontent-ssg @ git+https://example.org/k@abc\n")
    path = site / WORKFLOW
    path.parent.mkdir(parents=True)
    path.write_text("# mine\n")
    assert main(["init", str(site), "--ci", "github"]) == 0
    out = capsys.readouterr()
    assert path.read_text() == "# mine\n"
    assert "kept" in out.out and "--force replaces them" in out.err
    assert "installs no kontent-ssg" not in out.err
    assert main(["init", str(site), "--ci", "github", "--force"]) == 0
    assert "actions/deploy-pages" in path.read_text()
    # requirements.txt is the site's own list: never replaced, not even with --force.
    assert (site / "requirements.txt").read_text().startswith("kontent-ssg @ git+")


def test_ci_needs_a_site_with_its_kontent_toml(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["init", str(tmp_path), "--ci", "github"]) == 2
    err = capsys.readouterr().err
    assert "kontent.toml not found" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    assert main(["init", str(tmp_path), "--ci", "gitlab"]) == 2


def test_netlify_toml_and_its_cache_plugin(tmp_path: Path) -> None:
    site = example_site(tmp_path / "site")
    assert main(["init", str(site), "--ci", "netlify"]) == 0
    config = tomllib.loads((site / "netlify.toml").read_text())
    assert config["build"]["command"] == "kontent-ssg build --strict"
    assert config["build"]["publish"] == "public"
    version = config["build"]["environment"]["PYTHON_VERSION"]
    assert re.fullmatch(r"3\.\d+", version) and int(version.split(".")[1]) >= 11
    preview = config["context"]["deploy-preview"]
    assert "--preview" in preview["command"] and preview["publish"] == "public-preview"
    [plugin] = config["plugins"]
    folder = site / plugin["package"]
    assert (folder / "manifest.yml").is_file() and (folder / "index.js").is_file()
    assert yaml.safe_load((folder / "manifest.yml").read_text())["name"] == "kontent-ssg-cache"
    assert plugin["inputs"]["paths"] == [".kontent-ssg", "public", "public-preview"]
    assert (site / "requirements.txt").is_file()


# Netlify's utils.cache, as documented: restore() copies a cached folder back unless it
# exists locally; save() copies a local folder into the cache unless it is missing.
_NODE_HARNESS = """
const fs = require("fs"), path = require("path");
const [plugin, cacheDir, hook, inputs] = process.argv.slice(1);
const cache = {
  async restore(p) {
    const from = path.join(cacheDir, p);
    if (fs.existsSync(p) || !fs.existsSync(from)) return false;
    fs.cpSync(from, p, { recursive: true });
    return true;
  },
  async save(p) {
    if (!fs.existsSync(p)) return false;
    fs.rmSync(path.join(cacheDir, p), { recursive: true, force: true });
    fs.cpSync(p, path.join(cacheDir, p), { recursive: true });
    return true;
  },
};
require(plugin)[hook]({ inputs: JSON.parse(inputs), utils: { cache } });
"""


def test_netlify_cache_plugin_keeps_state_and_output_between_builds(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "the Netlify plugin test needs Node.js on PATH: `make node` (run by `make test`)"
    site = example_site(tmp_path / "site")
    main(["-q", "init", str(site), "--ci", "netlify"])
    plugin = str(site / "netlify/plugins/kontent-ssg-cache/index.js")
    inputs = json.dumps(tomllib.loads((site / "netlify.toml").read_text())["plugins"][0]["inputs"])
    cache = tmp_path / "netlify-cache"
    cache.mkdir()

    def hook(name: str, cwd: Path) -> str:
        done = subprocess.run(
            [node, "-e", _NODE_HARNESS, plugin, str(cache), name, inputs],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = tmp_path / "build-1"
    first.mkdir()
    (first / ".kontent-ssg/build").mkdir(parents=True)
    (first / ".kontent-ssg/build/state.sqlite").write_text("state")
    (first / "public").mkdir()
    (first / "public/index.html").write_text("page")
    assert "nothing cached for public" in hook("onPreBuild", first)
    assert "saved public" in hook("onPostBuild", first)
    second = tmp_path / "build-2"  # the next build's fresh checkout
    second.mkdir()
    out = hook("onPreBuild", second)
    assert "restored .kontent-ssg" in out and "restored public" in out
    assert (second / ".kontent-ssg/build/state.sqlite").read_text() == "state"
    assert (second / "public/index.html").read_text() == "page"
