"""Where each setting comes from: flag > environment > mcpdeploy.toml (env section, then top) > default."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpdeploy.errors import InputFileError, McpdeployError, UsageError
from mcpdeploy.project.secrets import create_key_file, load_key
from mcpdeploy.project.settings import load_settings

CONFIG = """\
# shared by every environment
[xano]
instance_url = "https://file.xano.io"
workspace_id = 10
api_group = "mcp"

[env.staging.xano]
workspace_id = 20
branch = "staging"
"""


def write_config(project: Path, text: str = CONFIG) -> None:
    (project / "mcpdeploy.toml").write_text(text)


def test_defaults_apply_when_nothing_is_set(project: Path) -> None:
    settings = load_settings(project, environ={})
    assert settings.xano.instance_url is None
    assert settings.xano.api_group == "mcp"
    assert settings.cloudflare.queue == "usage-queue"
    assert settings.cloudflare.api_base_url == "https://api.cloudflare.com/client/v4"


def test_file_beats_default_and_env_section_beats_top_level(project: Path) -> None:
    write_config(project)
    assert load_settings(project, environ={}).xano.workspace_id == 10
    staging = load_settings(project, env_name="staging", environ={})
    assert staging.xano.workspace_id == 20
    assert staging.xano.branch == "staging"
    assert staging.xano.instance_url == "https://file.xano.io"  # inherited from the top level


def test_environment_variable_beats_file_and_flag_beats_both(project: Path) -> None:
    write_config(project)
    environ = {"XANO_WORKSPACE_ID": "30", "XANO_INSTANCE_URL": "https://env.xano.io"}
    from_env = load_settings(project, env_name="staging", environ=environ)
    assert from_env.xano.workspace_id == 30
    assert from_env.xano.instance_url == "https://env.xano.io"
    from_flag = load_settings(project, env_name="staging", environ=environ, flags={"xano.workspace_id": 40})
    assert from_flag.xano.workspace_id == 40


def test_mcpdeploy_env_variable_picks_the_environment(project: Path) -> None:
    write_config(project)
    assert load_settings(project, environ={"MCPDEPLOY_ENV": "staging"}).xano.workspace_id == 20


def test_cloudflare_base_url_can_be_pointed_elsewhere_by_wranglers_variable(project: Path) -> None:
    settings = load_settings(project, environ={"CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:8787/client/v4"})
    assert settings.cloudflare.api_base_url == "http://127.0.0.1:8787/client/v4"


def test_tokens_come_from_the_environment_or_a_file_and_stay_secret(project: Path) -> None:
    (project / "token.txt").write_text("from-file-token\n")
    (project / "token.txt").chmod(0o600)
    write_config(project, CONFIG.replace('api_group = "mcp"', 'metadata_token_file = "token.txt"'))
    from_file = load_settings(project, environ={})
    assert from_file.xano.metadata_token is not None
    assert from_file.xano.metadata_token.get_secret_value() == "from-file-token"
    assert "from-file-token" not in repr(from_file)
    from_env = load_settings(project, environ={"XANO_METADATA_TOKEN": "from-env-token"})
    assert from_env.xano.metadata_token is not None
    assert from_env.xano.metadata_token.get_secret_value() == "from-env-token"


def test_a_token_written_into_the_config_file_is_refused_with_its_line(project: Path) -> None:
    write_config(project, '[xano]\ninstance_url = "https://h"\nmetadata_token = "oops"\n')
    with pytest.raises(InputFileError) as caught:
        load_settings(project, environ={})
    assert caught.value.line == 3
    assert "oops" not in caught.value.message


def test_an_unknown_key_is_reported_with_file_and_line(project: Path) -> None:
    write_config(project, '[xano]\ninstance_url = "https://h"\nworkspce_id = 3\n')
    with pytest.raises(InputFileError) as caught:
        load_settings(project, environ={})
    assert caught.value.path.name == "mcpdeploy.toml"
    assert caught.value.line == 3
    assert "workspce_id" in caught.value.message


def test_an_unknown_environment_lists_the_known_ones(project: Path) -> None:
    write_config(project)
    with pytest.raises(UsageError, match="defined: staging"):
        load_settings(project, env_name="prod", environ={})


def test_missing_xano_settings_say_what_to_set(project: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings(project, environ={}).require_xano()
    assert "XANO_INSTANCE_URL" in caught.value.message and "XANO_METADATA_TOKEN" in caught.value.message
    assert caught.value.hint and "--sandbox" in caught.value.hint


def test_a_token_with_a_pasted_line_break_is_refused_without_showing_it(project: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_settings(project, environ={"XANO_METADATA_TOKEN": "LEAKTOKEN-abc\nmore"})
    assert "XANO_METADATA_TOKEN" in caught.value.message
    assert "LEAKTOKEN" not in caught.value.message + (caught.value.hint or "")


def test_a_trailing_newline_on_a_token_is_just_trimmed(project: Path) -> None:
    settings = load_settings(project, environ={"XANO_METADATA_TOKEN": "tok-123\n"})
    assert settings.xano.metadata_token is not None
    assert settings.xano.metadata_token.get_secret_value() == "tok-123"


def test_an_environment_defined_only_by_the_workers_wrangler_config_is_accepted(project: Path) -> None:
    (project / "wrangler.toml").write_text('name = "w"\n\n[env.staging]\nname = "w-staging"\n')
    assert load_settings(project, env_name="staging", environ={}).env_name == "staging"
    with pytest.raises(UsageError, match=r"neither mcpdeploy\.toml nor the Worker's wrangler config"):
        load_settings(project, env_name="stagign", environ={})


def test_out_of_range_consumer_settings_in_the_file_name_the_line(project: Path) -> None:
    write_config(project, "[cloudflare]\nqueue = \"q\"\nmax_batch_timeout = 90\n")
    with pytest.raises(InputFileError) as caught:
        load_settings(project, environ={})
    assert caught.value.line == 3 and "max_batch_timeout" in caught.value.message


def test_a_bad_value_in_an_environment_section_is_reported_at_its_own_line(project: Path) -> None:
    write_config(project, "[cloudflare]\nmax_batch_size = 50\n\n[env.staging.cloudflare]\nmax_batch_size = 500\n")
    with pytest.raises(InputFileError) as caught:
        load_settings(project, env_name="staging", environ={})
    assert caught.value.line == 5


# --- token files: private like the key file, and never printed when they are the token itself --------------------

FILE_SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FILE_SETTINGS
@given(mode=st.integers(min_value=0o400, max_value=0o777), service=st.sampled_from(["xano", "cloudflare"]))
def test_a_token_file_others_may_read_is_refused_exactly_when_a_key_file_would_be(
    project: Path, mode: int, service: str,
) -> None:
    """Every mode the owner can read: the token file and the credentials key file get the same verdict and the
    same kind of message."""
    token_file, key_file = project / "token", project / ".mcpdeploy" / "keys" / "default.key"
    token_file.write_text("a-token-of-the-right-shape\n")
    if not key_file.exists():
        create_key_file(project, None)
    token_file.chmod(mode)
    key_file.chmod(mode)
    variable = "XANO_METADATA_TOKEN_FILE" if service == "xano" else "CLOUDFLARE_API_TOKEN_FILE"
    verdicts = []
    for read in (lambda: load_settings(project, environ={variable: str(token_file)}),
                 lambda: load_key(project, None, environ={})):
        try:
            read()
            verdicts.append("accepted")
        except InputFileError as exc:
            assert "readable by others" in exc.problem and exc.hint == f"Run `chmod 600 {exc.path}`."
            verdicts.append("refused")
    assert verdicts[0] == verdicts[1] == ("refused" if mode & 0o077 else "accepted"), oct(mode)


@FILE_SETTINGS
@given(token=st.text(alphabet=string.ascii_letters + string.digits + "-._~/+=", min_size=12, max_size=60)
       .map(lambda s: "Zq~" + s),
       where=st.sampled_from(["XANO_METADATA_TOKEN_FILE", "CLOUDFLARE_API_TOKEN_FILE", "[xano]", "[cloudflare]"]))
def test_a_token_given_where_its_file_belongs_is_never_printed(project: Path, token: str, where: str) -> None:
    environ = {}
    if where.startswith("["):
        key = "metadata_token_file" if where == "[xano]" else "api_token_file"
        write_config(project, f'{where}\n{key} = "{token}"\n')
    else:
        environ[where] = token
    with pytest.raises(McpdeployError) as caught:
        load_settings(project, environ=environ)
    shown = f"{caught.value.message}\n{caught.value.hint}"
    assert "cannot read the token file" in shown
    assert not [token[:n] for n in range(4, len(token) + 1) if token[:n] in shown], shown
