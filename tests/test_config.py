from __future__ import annotations

import dataclasses
import pickle
import tomllib
from pathlib import Path

import pytest

from kontent_ssg.config import ImageConfig, load_config, reference
from kontent_ssg.errors import ConfigError
from tests.support.docs import render_config as render_config_docs

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


# --- declared options: every key does something, or is refused --------------------------------


def test_download_assets_and_the_assets_table(tmp_path: Path) -> None:
    head = f'[kontent]\nenvironment_id = "{ENV_ID}"\n[site]\ndownload_assets = true\n'
    write(tmp_path, head)
    config = load_config(tmp_path, env={})
    assert config.site.download_assets is True
    assert config.assets.path == "/assets"
    assert config.assets.on_missing == "fail"
    assert config.assets.max_bytes == 50_000_000
    assert config.assets.keep_days == 30
    write(tmp_path, head + '[assets]\npath = "/media/files/"\non_missing = "link"\n')
    config = load_config(tmp_path, env={})
    assert (config.assets.path, config.assets.on_missing) == ("/media/files", "link")
    assert config.warnings == ()
    for bad, says in (
        ('on_missing = "ignore"', 'must be "fail" or "link"'),
        ('path = "/"', "must name a folder below the site root"),
        ('path = "/../x"', "'..'"),
        ("max_bytes = 0", "at least 1"),
    ):
        write(tmp_path, head + f"[assets]\n{bad}\n")
        with pytest.raises(ConfigError) as info:
            load_config(tmp_path, env={})
        assert "[assets]" in str(info.value) and says in str(info.value), str(info.value)
        assert info.value.exit_code == 2


def test_every_declared_option_is_read_by_the_package() -> None:
    """A key nobody reads would be silently accepted: each one is used outside config.py."""
    package = Path(__file__).resolve().parent.parent / "kontent_ssg"
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in package.rglob("*.py") if p.name != "config.py"
    )
    unread = [
        f"[{table.name}] {option.key}"
        for table in reference()
        for option in table.options
        if not option.secret
        and option.key != "netlify_build_hook_env"  # read by load_config itself
        and option.key != "preview_output"  # read by Config.preview_output_dir
        and f".{option.key}" not in sources
    ]
    assert unread == []


# --- environment -------------------------------------------------------------------------------


def test_environment_id_from_the_environment_wins_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, '[kontent]\nenvironment_id = "from-file"\n')
    config = load_config(tmp_path, env={"KONTENT_ENVIRONMENT_ID": ENV_ID})
    assert config.kontent.environment_id == ENV_ID
    assert len(config.warnings) == 1
    assert "KONTENT_ENVIRONMENT_ID overrides the value in kontent.toml" in config.warnings[0]
    assert "unknown key" not in config.warnings[0]
    # the same value in both places: nothing to say
    write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n')
    assert load_config(tmp_path, env={"KONTENT_ENVIRONMENT_ID": ENV_ID}).warnings == ()
    # only in the environment: nothing to say either
    write(tmp_path, "[site]\n")
    assert load_config(tmp_path, env={"KONTENT_ENVIRONMENT_ID": ENV_ID}).warnings == ()


def test_a_bad_environment_id_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path, "[site]\n")
    with pytest.raises(ConfigError, match=r"environment_id \(from KONTENT_ENVIRONMENT_ID\)"):
        load_config(tmp_path, env={"KONTENT_ENVIRONMENT_ID": "not an id"})


@pytest.mark.parametrize("key", ["delivery_url", "preview_url"])
@pytest.mark.parametrize(
    "url",
    ["https://user:hunter2@deliver.example", "https://tok3n@deliver.example", "https//u:hunter2@x"],
)
def test_credentials_in_api_urls_are_refused_without_echoing_them(
    tmp_path: Path, key: str, url: str
) -> None:
    write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n{key} = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    message = str(info.value)
    assert f"[kontent] {key}" in message
    assert "hunter2" not in message and "tok3n" not in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("table", "key", "variable"),
    [
        ("kontent", "delivery_api_key", "KONTENT_DELIVERY_API_KEY"),
        ("kontent", "preview_api_key", "KONTENT_PREVIEW_API_KEY"),
        ("kontent", "api_key", "KONTENT_DELIVERY_API_KEY"),
        ("kontent", "secret", "KONTENT_DELIVERY_API_KEY"),
        ("webhook", "secret", "KONTENT_WEBHOOK_SECRET"),
        ("deploy", "netlify_build_hook", "netlify_build_hook_env"),
    ],
)
def test_secrets_in_the_file_are_refused(
    tmp_path: Path, table: str, key: str, variable: str
) -> None:
    head = f'[kontent]\nenvironment_id = "{ENV_ID}"\n'
    body = f'{key} = "sekrit"\n' if table == "kontent" else f'[{table}]\n{key} = "sekrit"\n'
    write(tmp_path, head + body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    message = str(info.value)
    assert f"[{table}] {key}" in message
    assert variable in message
    assert "sekrit" not in message


def test_netlify_build_hook_comes_from_the_variable_named_in_the_file(tmp_path: Path) -> None:
    hook = "https://api.netlify.com/build_hooks/sekrit"
    write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n')
    assert load_config(tmp_path, env={"NETLIFY_BUILD_HOOK_URL": hook}).deploy.netlify_build_hook
    write(
        tmp_path,
        f'[kontent]\nenvironment_id = "{ENV_ID}"\n[deploy]\nnetlify_build_hook_env = "MY_HOOK"\n',
    )
    config = load_config(tmp_path, env={"MY_HOOK": hook, "NETLIFY_BUILD_HOOK_URL": "other"})
    assert config.deploy.netlify_build_hook == hook
    assert "sekrit" not in repr(config)


# --- messages ----------------------------------------------------------------------------------

HEAD = f'[kontent]\nenvironment_id = "{ENV_ID}"\n'
LISTING = '[listings.a]\npath = "/a/"\ntype = "a"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEAD + "max_retries = true",
            "[kontent] max_retries: expected an integer, got boolean true",
        ),
        (HEAD + "max_retries = 50", "[kontent] max_retries: must be between 0 and 20, got 50"),
        (HEAD + "timeout = 0", "[kontent] timeout: must be more than 0"),
        (HEAD + 'languages = ["en", "en"]', "[kontent] languages: must be language codenames"),
        (HEAD + "[site]\ntitle = 1979-05-27", "[site] title: expected a string, got date/time"),
        ("site = 3\n" + HEAD, "[site] must be a table, got integer 3"),
        (HEAD + "[routes]\narticle = 3", "[routes.article] must be a table"),
        (
            HEAD + '[routes.article]\npath = "articles/"',
            "[routes.article] path: must start with '/'",
        ),
        (HEAD + '[routes.article]\npath = "/a/{x.y}/"', "path: unknown placeholder {x.y}"),
        (HEAD + '[routes.article]\npath = "/a b/{url}/"', 'path: segment "a b"'),
        (HEAD + '[routes.article]\npath = "/a//{url}/"', "path: must not contain '//'"),
        (
            HEAD + '[listings.a]\npath = "/{url}/"\ntype = "a"',
            "[listings.a] path: unknown placeholder",
        ),
        (HEAD + '[listings.a]\npath = "/a/"', "[listings.a] type is missing"),
        (HEAD + '[taxonomies.t]\npath = "/t/"', "[taxonomies.t] path: must contain {term}"),
        (
            HEAD + LISTING + '[feed]\nlisting = "a"\npath = "/{language}.xml"',
            "[feed] path: unknown",
        ),
        (HEAD + '[webhook]\npath = "hook"', "[webhook] path: must start with '/'"),
        (HEAD + '[deploy]\nnetlify_build_hook_env = "1X"', "must be an environment variable name"),
        (HEAD + '[images]\nformat = "bmp"', "[images] format: must be one of webp"),
        (HEAD + "[images]\nwidths = [0, 10]", "[images] widths: must be positive integers"),
    ],
)
def test_errors_name_file_table_key_and_what_is_allowed(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert str(info.value).startswith(f"{tmp_path.resolve() / 'kontent.toml'}: ")
    assert expected in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_keys_suggest_the_closest_declared_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        f'[kontent]\nenvironment_id = "{ENV_ID}"\n[listings.a]\npath = "/a/"\ntype = "a"\n'
        "pagesize = 5\nflavour = 1\n[sitee]\n",
    )
    warnings = load_config(tmp_path, env={}).warnings
    assert any(
        "unknown key 'pagesize' in [listings.a] (ignored); did you mean 'page_size'?" in w
        for w in warnings
    )
    assert any("'flavour'" in w and "did you mean" not in w for w in warnings)
    assert any("'sitee'" in w and "did you mean [site]?" in w for w in warnings)


def test_route_template_defaults_to_the_type_name(tmp_path: Path) -> None:
    write(
        tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n[routes.cafe]\npath = "/c/{{url}}/"\n'
    )
    assert load_config(tmp_path, env={}).routes["cafe"].template == "cafe.html"


def test_config_objects_are_immutable_and_survive_pickling(tmp_path: Path) -> None:
    write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n[images]\nwidths = [640, 320, 640]\n')
    config = load_config(tmp_path, env={"KONTENT_DELIVERY_API_KEY": "sekrit"})
    assert config.images.widths == (320, 640)
    assert pickle.loads(pickle.dumps(config)) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.kontent.timeout = 1.0  # type: ignore[misc]
    # ImageConfig is built directly (rich-text tests) and used as a cache key
    assert hash(ImageConfig()) == hash(ImageConfig())
    assert ImageConfig(widths=(100,), quality=70).quality == 70


# --- the declarations, the docs and the README ------------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `kontent.toml`", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def test_readme_example_uses_only_declared_keys_with_valid_values(tmp_path: Path) -> None:
    write(tmp_path, _readme_example())
    config = load_config(tmp_path, env={"KONTENT_ENVIRONMENT_ID": ENV_ID})
    # the example's environment_id is a placeholder the environment overrides; nothing else
    assert [w.split(": ", 1)[1] for w in config.warnings] == [
        "[kontent] environment_id: KONTENT_ENVIRONMENT_ID overrides the value in kontent.toml"
    ]


def test_docs_config_md_is_generated_from_the_declarations() -> None:
    assert (REPO / "docs" / "CONFIG.md").read_text(encoding="utf-8") == render_config_docs(), (
        "docs/CONFIG.md is out of date: run `make docs`"
    )


def test_every_declared_key_is_in_the_readme_or_docs_config_md() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/CONFIG.md" in readme.split("### `kontent.toml`", 1)[1].split("\n## ", 1)[0]
    example = tomllib.loads(_readme_example())
    config_md = (REPO / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    for table in reference():
        section = config_md.split(f"## `[{table.name}]`", 1)[1].split("\n## ", 1)[0]
        name, _, each = table.name.partition(".")
        in_example = example.get(name, {})
        if each:  # [routes.<type>]: the keys of any one of the example's tables
            in_example = {k: v for sub in in_example.values() for k, v in sub.items()}
        for option in table.options:
            if option.secret:
                assert f"`{option.env or option.env_named_by}`" in section
            else:
                assert option.key in in_example or f"| `{option.key}` |" in section


def test_declared_defaults_written_out_load_to_the_defaults(tmp_path: Path) -> None:
    """The defaults the docs show are valid TOML that every check accepts."""
    plain = load_config(write(tmp_path, f'[kontent]\nenvironment_id = "{ENV_ID}"\n'), env={})
    lines = []
    for table in reference():
        if "." in table.name or table.name == "feed":
            continue
        lines.append(f"[{table.name}]")
        if table.name == "kontent":
            lines.append(f'environment_id = "{ENV_ID}"')
        lines += [f"{o.key} = {o.default}" for o in table.options if o.default and not o.secret]
    config = load_config(write(tmp_path, "\n".join(lines) + "\n"), env={})
    assert config == plain
    assert config.warnings == ()
