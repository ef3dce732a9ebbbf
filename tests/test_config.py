from __future__ import annotations

from pathlib import Path

import pytest

from kontent_ssg.config import load_config
from kontent_ssg.errors import ConfigError

ENV_ID = "975bf280-fd91-488c-994c-2f04416e5ee3"


def write(site: Path, text: str) -> Path:
    (site / "kontent.toml").write_text(text, encoding="utf-8")
    return site


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n'), env={})
    assert config.kontent.environment_id == ENV_ID
    assert config.kontent.delivery_url == "https://deliver.kontent.ai"
    assert config.output_dir == tmp_path.resolve() / "public"
    assert config.webhook.path == "/webhook"
    assert config.warnings == ()


def test_full_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""
[kontent]
environment_id = "{ENV_ID}"
delivery_url = "http://127.0.0.1:9999/"
languages = ["en-US", "es-ES"]

[site]
base_url = "https://example.org/"
output = "dist"

[routes.article]
path = "/articles/{{url}}/"
template = "article.html"

[listings.articles]
path = "/articles/"
type = "article"
order = "elements.publish_date desc"
page_size = 5

[taxonomies.topics]
path = "/topics/{{term}}/"

[feed]
listing = "articles"
""",
    )
    config = load_config(tmp_path, env={})
    assert config.kontent.delivery_url == "http://127.0.0.1:9999"
    assert config.kontent.languages == ("en-US", "es-ES")
    assert config.site.base_url == "https://example.org"
    assert config.routes["article"].template == "article.html"
    assert config.listings["articles"].page_size == 5
    assert config.taxonomies["topics"].template == "taxonomy.html"
    assert config.feed is not None and config.feed.listing == "articles"


def test_environment_overrides_and_secrets(tmp_path: Path) -> None:
    write(tmp_path, '[kontent]\nenvironment_id = "from-file"\n')
    env = {
        "KONTENT_ENVIRONMENT_ID": ENV_ID,
        "KONTENT_DELIVERY_API_KEY": "sekrit-delivery",
        "KONTENT_PREVIEW_API_KEY": "sekrit-preview",
        "KONTENT_WEBHOOK_SECRET": "sekrit-hook",
    }
    config = load_config(tmp_path, env=env)
    assert config.kontent.environment_id == ENV_ID
    assert config.kontent.delivery_api_key == "sekrit-delivery"
    assert config.webhook.secret == "sekrit-hook"
    # secrets never show up in a repr (and so never in a log line built from one)
    assert "sekrit" not in repr(config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[kontent\nenvironment_id = 1", "invalid TOML"),
        ("[site]\noutput = 'x'\n", "environment_id is missing"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\nlanguages = "en-US"', "kontent] languages"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\ndelivery_url = "ftp://x"', "delivery_url"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\ndelivery_api_key = "k"', "environment"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\n[routes.article]\ntemplate = "a.html"', "path"),
        (
            f'[kontent]\nenvironment_id = "{ENV_ID}"\n[routes.article]\npath = "/../x/"',
            "must not contain '..'",
        ),
        (
            f'[kontent]\nenvironment_id = "{ENV_ID}"\n[listings.a]\npath = "/a/"\ntype = "a"\n'
            'order = "title"',
            "order",
        ),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\n[feed]\nlisting = "nope"', "no [listings.nope]"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\n[images]\nquality = 500', "quality"),
        (f'[kontent]\nenvironment_id = "{ENV_ID}"\n[kontent.x]\n', ""),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, text)
    if not expected:  # a sub-table where a value is expected is only an unknown key
        assert load_config(tmp_path, env={}).warnings
        return
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    message = str(info.value)
    assert "kontent.toml" in message
    assert expected in message
    assert info.value.exit_code == 2


def test_unknown_keys_are_warned(tmp_path: Path) -> None:
    write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\nlanguage = "en-US"\n[sitee]\n')
    warnings = load_config(tmp_path, env={}).warnings
    assert any("'language'" in w and "[kontent]" in w for w in warnings)
    assert any("'sitee'" in w for w in warnings)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"kontent\.toml: not found"):
        load_config(tmp_path, env={})
