"""A build uses the configuration it was given, and its state says so.

The receiver (``kontent-ssg webhook``) loads kontent.toml once. The build state's fingerprint
used to hash the file as it was on disk at each build, so an edit under a running receiver
made its next rebuild a full build *with the old configuration*, and stored the new file's
fingerprint: after the restart meant to apply the edit, nothing looked changed and the site
kept the old configuration's pages.
"""

from __future__ import annotations

from pathlib import Path

from kontent_ssg.builder.pipeline import BuildOptions, build
from kontent_ssg.config import load_config
from tests.support.sites import make_site
from tests.test_build import TEMPLATES, TOML, three_articles

PAGE = Path("articles") / "one" / "index.html"


def test_an_edit_under_a_loaded_config_is_applied_by_the_next_load(tmp_path: Path) -> None:
    templates = {**TEMPLATES, "article.html": "<p>{{ site.title }}</p><h1>{{ item.title }}</h1>"}
    loaded = make_site(tmp_path / "site", TOML, templates, three_articles())
    first = build(loaded, BuildOptions(offline=True))
    assert first.pages_rendered and "<p>Blog</p>" in (loaded.output_dir / PAGE).read_text()

    config_file = loaded.site_dir / "kontent.toml"
    config_file.write_text(config_file.read_text().replace('title = "Blog"', 'title = "Notes"'))

    # The process that loaded the old text (a running receiver) keeps building with it:
    # nothing changed for it, so nothing is rendered again.
    again = build(loaded, BuildOptions(offline=True))
    assert again.pages_rendered == []
    assert "<p>Blog</p>" in (loaded.output_dir / PAGE).read_text()

    # The next process loads the edit, sees a new configuration and builds in full.
    edited = build(load_config(loaded.site_dir), BuildOptions(offline=True))
    assert len(edited.pages_rendered) == len(first.pages_rendered)
    assert "<p>Notes</p>" in (loaded.output_dir / PAGE).read_text()
