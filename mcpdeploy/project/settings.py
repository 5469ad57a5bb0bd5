"""Settings: flags > environment variables > mcpdeploy.toml (environment section, then top level) > defaults.

This module names every environment variable mcpdeploy reads. Secrets (tokens, keys) come from the
environment or from a file named in the configuration, never from a flag value or from mcpdeploy.toml itself.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files.tomlread import line_of_key, read_toml

CONFIG_FILE = "mcpdeploy.toml"
STATE_DIR = ".mcpdeploy"
DEFAULT_CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"


class EnvVars:
    """Every environment variable, in one place (the names wrangler and Xano's tools use where they exist)."""

    ENV = "MCPDEPLOY_ENV"
    XANO_INSTANCE_URL = "XANO_INSTANCE_URL"
    XANO_WORKSPACE_ID = "XANO_WORKSPACE_ID"
    XANO_BRANCH = "XANO_BRANCH"
    XANO_METADATA_TOKEN = "XANO_METADATA_TOKEN"
    XANO_METADATA_TOKEN_FILE = "XANO_METADATA_TOKEN_FILE"
    XANO_API_GROUP = "XANO_API_GROUP"
    CLOUDFLARE_API_BASE_URL = "CLOUDFLARE_API_BASE_URL"
    CLOUDFLARE_API_TOKEN = "CLOUDFLARE_API_TOKEN"
    CLOUDFLARE_API_TOKEN_FILE = "CLOUDFLARE_API_TOKEN_FILE"
    CLOUDFLARE_ACCOUNT_ID = "CLOUDFLARE_ACCOUNT_ID"
    CREDENTIALS_KEY = "MCPDEPLOY_CREDENTIALS_KEY"  # base64 AES-256 key for SERVICE_CREDENTIALS; wins over the key file
    WORKER_NAME = "MCPDEPLOY_WORKER_NAME"
    SERVICE_CREDENTIALS_FILE = "MCPDEPLOY_SERVICE_CREDENTIALS_FILE"
    QUEUE_NAME = "MCPDEPLOY_QUEUE_NAME"
    MCP_URL = "MCP_URL"
    MCP_API_KEY = "MCP_API_KEY"
    XANO_AUTH_URL = "XANO_AUTH_URL"
    DEBUG = "MCPDEPLOY_DEBUG"
    # Where the lock, journal and secret-push records live ([state]); the S3 backend's credentials are boto3's
    # own variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE), read by boto3.
    STATE_BACKEND = "MCPDEPLOY_STATE_BACKEND"
    STATE_BUCKET = "MCPDEPLOY_STATE_BUCKET"
    STATE_PREFIX = "MCPDEPLOY_STATE_PREFIX"
    STATE_ENDPOINT_URL = "MCPDEPLOY_STATE_ENDPOINT_URL"
    STATE_REGION = "MCPDEPLOY_STATE_REGION"
    HTTP_TIMEOUT = "MCPDEPLOY_HTTP_TIMEOUT"  # seconds one HTTP exchange may take, like --timeout
    HTTP_DEADLINE = "MCPDEPLOY_HTTP_DEADLINE"  # seconds a whole command may spend on HTTP, like --deadline
    HTTP_MAX_RESPONSE_MB = "MCPDEPLOY_HTTP_MAX_RESPONSE_MB"  # the cap on one answer's decoded size
    HTTP_TRACE_BODY_KB = "MCPDEPLOY_HTTP_TRACE_BODY_KB"  # how much of each body --trace keeps
    HTTP_CONCURRENCY = "MCPDEPLOY_HTTP_CONCURRENCY"  # requests in flight at once per service (1: one at a time)
    HTTP_XANO_RATE = "MCPDEPLOY_HTTP_XANO_RATE"  # requests/seconds Xano is paced to, e.g. 10/20s (the free plan)
    HTTP_CLOUDFLARE_RATE = "MCPDEPLOY_HTTP_CLOUDFLARE_RATE"  # requests/seconds for Cloudflare's API, e.g. 1200/300s


def _not_a_bool(value: Any) -> Any:
    # pydantic reads `true` as 1 where a number is wanted: `max_batch_size = true` would quietly become 1.
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


Number = Annotated[int, BeforeValidator(_not_a_bool)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Names, URLs and paths never hold one; a NUL in a path even makes the file calls themselves fail.
        if isinstance(value, str) and any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("holds a control character (a line break or NUL)")
        return value


class XanoSettings(_Section):
    instance_url: str | None = None
    workspace_id: Number | None = None
    branch: str = ""
    api_group: str = "mcp"
    metadata_token_file: str | None = None
    metadata_token: SecretStr | None = None  # only ever from the environment or the token file


class CloudflareSettings(_Section):
    api_base_url: str = DEFAULT_CLOUDFLARE_API
    account_id: str | None = None
    worker_name: str | None = None
    queue: str = "usage-queue"
    binding: str = "USAGE_QUEUE"  # the Worker's producer binding for the queue
    # The queue consumer's settings, written to wrangler.toml and sent to the API, within the API's limits
    # (wrangler itself accepts 500 and 90, which the API then refuses).
    max_batch_size: Number = Field(default=100, ge=1, le=100)
    max_batch_timeout: Number = Field(default=30, ge=0, le=60)  # seconds
    api_token_file: str | None = None
    api_token: SecretStr | None = None


class SecretsSettings(_Section):
    credentials_file: str | None = None  # plaintext service credentials (see `mcpdeploy secrets encrypt`)


class SmokeSettings(_Section):
    mcp_url: str | None = None
    xano_auth_url: str | None = None
    api_key_file: str | None = None  # a file holding the MCP API key; the key itself never goes in the toml


Seconds = Annotated[float, BeforeValidator(_not_a_bool), Field(gt=0, le=86_400)]
# "requests/seconds", both above zero: "10/20s", "1200/300".
_RATE = r"^\s*[1-9][0-9]{0,5}\s*/\s*([1-9][0-9]{0,4}(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)\s*s?\s*$"
Rate = Annotated[str, Field(pattern=_RATE)]


class HttpSettings(_Section):
    """How long requests may take and how large answers may be; `--timeout` and `--deadline` win over these.
    Unset, each command uses its own default (smoke-test allows each request less time than provisioning)."""

    timeout: Seconds | None = None  # per exchange, from sending to the last byte of the answer
    deadline: Seconds | None = None  # the whole command, retries and their waits included
    max_response_mb: Annotated[float, BeforeValidator(_not_a_bool), Field(gt=0, le=4096)] = 32
    trace_body_kb: Annotated[int, BeforeValidator(_not_a_bool), Field(ge=1, le=1_000_000)] = 64
    # Independent reads and changes of one service go out this many at a time; 1 runs everything in order.
    concurrency: Annotated[int, BeforeValidator(_not_a_bool), Field(ge=1, le=16)] = 4
    # At most this many requests in any this many seconds ("10/20s"): the services' published limits, the free
    # plan's for Xano; a paid plan raises it here rather than meeting 429s.
    xano_rate: Rate = "10/20s"
    cloudflare_rate: Rate = "1200/300s"


class AuthSettings(_Section):
    # The longest `mcpdeploy auth disable --for` accepts, as a duration ("1h", "30m"); see
    # mcpdeploy.rollback.auth_switch.
    max_disable: str = "1h"


class StateSettings(_Section):
    """Where the lock, the journal and the secret-push records live (mcpdeploy.state). There is no credential
    here on purpose: the S3 backend takes them from the environment, as every S3 tool does."""

    backend: Literal["local", "s3"] = "local"
    bucket: str | None = None
    prefix: str = ""  # e.g. "usage-mcp": several projects can share a bucket
    endpoint_url: str | None = None  # R2: https://<account id>.r2.cloudflarestorage.com; unset: AWS
    region: str | None = None  # R2: "auto"


class DeploySettings(_Section):
    """`mcpdeploy deploy`: the project's deploy command, a shell-style string or a list of words (default
    `npx wrangler deploy`). It must run `wrangler deploy`, whose output file says which version it made."""

    command: str | list[str] | None = None


class Settings(_Section):
    project_dir: Path
    env_name: str | None = None
    schemas: str | None = None  # a folder, relative to the project
    xano: XanoSettings = XanoSettings()
    cloudflare: CloudflareSettings = CloudflareSettings()
    secrets: SecretsSettings = SecretsSettings()
    smoke: SmokeSettings = SmokeSettings()
    auth: AuthSettings = AuthSettings()
    http: HttpSettings = HttpSettings()
    state: StateSettings = StateSettings()
    deploy: DeploySettings = DeploySettings()

    @property
    def state_dir(self) -> Path:
        return self.project_dir / STATE_DIR

    def require_xano(self) -> tuple[str, int, str]:
        """The instance URL, workspace id and token, or a usage error saying how to set each missing one."""
        x = self.xano
        missing = []
        if not x.instance_url:
            missing.append(f"{EnvVars.XANO_INSTANCE_URL} (or [xano] instance_url in {CONFIG_FILE})")
        if x.workspace_id is None:
            missing.append(f"{EnvVars.XANO_WORKSPACE_ID} (or [xano] workspace_id)")
        if x.metadata_token is None:
            missing.append(f"{EnvVars.XANO_METADATA_TOKEN} (or {EnvVars.XANO_METADATA_TOKEN_FILE})")
        if missing:
            raise UsageError(
                "Xano is not configured: set " + ", ".join(missing) + ".",
                hint="Or try everything locally first with --sandbox.",
            )
        assert x.instance_url is not None and x.workspace_id is not None and x.metadata_token is not None
        return x.instance_url, x.workspace_id, x.metadata_token.get_secret_value()


# (section, key) <- environment variable
_ENV_MAP: dict[tuple[str, str], str] = {
    ("xano", "instance_url"): EnvVars.XANO_INSTANCE_URL,
    ("xano", "workspace_id"): EnvVars.XANO_WORKSPACE_ID,
    ("xano", "branch"): EnvVars.XANO_BRANCH,
    ("xano", "api_group"): EnvVars.XANO_API_GROUP,
    ("xano", "metadata_token_file"): EnvVars.XANO_METADATA_TOKEN_FILE,
    ("cloudflare", "api_base_url"): EnvVars.CLOUDFLARE_API_BASE_URL,
    ("cloudflare", "account_id"): EnvVars.CLOUDFLARE_ACCOUNT_ID,
    ("cloudflare", "worker_name"): EnvVars.WORKER_NAME,
    ("cloudflare", "queue"): EnvVars.QUEUE_NAME,
    ("cloudflare", "api_token_file"): EnvVars.CLOUDFLARE_API_TOKEN_FILE,
    ("secrets", "credentials_file"): EnvVars.SERVICE_CREDENTIALS_FILE,
    ("smoke", "mcp_url"): EnvVars.MCP_URL,
    ("smoke", "xano_auth_url"): EnvVars.XANO_AUTH_URL,
    ("http", "timeout"): EnvVars.HTTP_TIMEOUT,
    ("http", "deadline"): EnvVars.HTTP_DEADLINE,
    ("http", "max_response_mb"): EnvVars.HTTP_MAX_RESPONSE_MB,
    ("http", "trace_body_kb"): EnvVars.HTTP_TRACE_BODY_KB,
    ("http", "concurrency"): EnvVars.HTTP_CONCURRENCY,
    ("http", "xano_rate"): EnvVars.HTTP_XANO_RATE,
    ("http", "cloudflare_rate"): EnvVars.HTTP_CLOUDFLARE_RATE,
    ("state", "backend"): EnvVars.STATE_BACKEND,
    ("state", "bucket"): EnvVars.STATE_BUCKET,
    ("state", "prefix"): EnvVars.STATE_PREFIX,
    ("state", "endpoint_url"): EnvVars.STATE_ENDPOINT_URL,
    ("state", "region"): EnvVars.STATE_REGION,
}
_SECRET_FILES = {
    ("xano", "metadata_token"): ("metadata_token_file", EnvVars.XANO_METADATA_TOKEN),
    ("cloudflare", "api_token"): ("api_token_file", EnvVars.CLOUDFLARE_API_TOKEN),
}


def load_settings(
    project_dir: Path,
    *,
    env_name: str | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers. `flags` keys are "section.key" (e.g. "xano.workspace_id"); None values are unset."""
    environ = os.environ if environ is None else environ
    env_name = env_name or environ.get(EnvVars.ENV) or None
    config_path = project_dir / CONFIG_FILE
    data: dict[str, Any] = {}
    text = ""
    # lexists: a folder, a dangling link or a link loop by that name is reported, not taken for no file at all.
    if os.path.lexists(config_path):
        raw, text = read_toml(config_path)
        data = _select_environment(raw, env_name, config_path, text)
    elif env_name and not _wrangler_defines(project_dir, env_name):
        raise UsageError(f"--env {env_name}: neither {CONFIG_FILE} nor the Worker's wrangler config in {project_dir} "
                         f"defines it.", hint=f"Add [env.{env_name}] to one of them (a typo here would otherwise "
                                               "create a new environment).")

    merged: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for (section, key), var in _ENV_MAP.items():
        if environ.get(var):
            merged.setdefault(section, {})[key] = environ[var]
    for dotted, value in (flags or {}).items():
        if value is not None:
            section, key = dotted.split(".", 1)
            merged.setdefault(section, {})[key] = value
    for (section, key), (file_key, var) in _SECRET_FILES.items():
        from_env = checked_secret(environ[var], var) if environ.get(var) else None
        secret = from_env or _read_secret_file(merged.get(section, {}).get(file_key), project_dir,
                                               f"[{section}] {file_key} or {_ENV_MAP[(section, file_key)]}")
        if secret:
            merged.setdefault(section, {})[key] = secret
    try:
        return Settings(project_dir=project_dir, env_name=env_name, **merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        where = config_path if text else Path("<environment>")
        problem = err["msg"].removeprefix("Value error, ")
        raise InputFileError(
            where, f"{'.'.join(loc)}: {problem}", line=_line_of(text, env_name, loc) if text else None
        ) from exc


_SECTIONS = ("xano", "cloudflare", "secrets", "smoke", "auth", "http", "state", "deploy")
_NOT_SETTINGS = ("project_dir", "env_name")  # set by mcpdeploy itself, never by the file


def _check_shape(data: dict[str, Any], path: Path, text: str, *where: str) -> None:
    """Every section a table, before anything indexes into one: `xano = "x"` must name its line, not crash."""
    for key in _NOT_SETTINGS:
        if key in data:
            loc = [*where, key]
            raise InputFileError(path, f"`{'.'.join(loc)}` is not a setting of {CONFIG_FILE}",
                                 line=_line_of(text, None, loc), hint="Remove it: mcpdeploy sets it itself.")
    for section in _SECTIONS:
        if section in data and not isinstance(data[section], dict):
            loc = [*where, section]
            raise InputFileError(
                path, f"`{'.'.join(loc)}` must be a table of settings, not {type(data[section]).__name__}",
                line=_line_of(text, None, loc),
                hint=f"Write it as a [{'.'.join(loc)}] section, with one `key = value` line per setting below it.",
            )


def _select_environment(raw: dict[str, Any], env_name: str | None, path: Path, text: str) -> dict[str, Any]:
    envs = raw.pop("env", {})
    if not isinstance(envs, dict):
        raise InputFileError(path, "`env` must be a table of environments", line=line_of_key(text, "env"))
    _check_shape(raw, path, text)
    for name, section in envs.items():
        if not isinstance(section, dict):
            raise InputFileError(path, f"`env.{name}` must be a table of settings ([env.{name}])",
                                 line=_line_of(text, None, ["env", name]))
        _check_shape(section, path, text, "env", name)
    for key in ("xano_metadata_token", "metadata_token", "api_token"):
        for section in ("xano", "cloudflare"):
            if key in raw.get(section, {}):
                raise InputFileError(
                    path, f"[{section}] {key}: secrets do not belong in {CONFIG_FILE}",
                    line=line_of_key(text, section, key),
                    hint="Use the environment variable, or a *_file key naming a file outside the repository.",
                )
    if env_name is None:
        return raw
    if env_name not in envs:
        if _wrangler_defines(path.parent, env_name):
            return raw  # an environment of the Worker's that needs no settings of its own
        known = ", ".join(sorted(envs)) or "none"
        raise UsageError(f"--env {env_name}: no [env.{env_name}] in {path} or in the wrangler config "
                         f"(defined: {known}).")
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for key, value in envs[env_name].items():
        if isinstance(value, dict) and isinstance(merged.get(key, {}), dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
    return merged


def _line_of(text: str, env_name: str | None, loc: list[str]) -> int | None:
    """The line of a setting: in the environment's section when it is set there, else at the top level."""
    from mcpdeploy.files.toml_lines import key_lines

    lines = key_lines(text)
    if env_name is not None:
        in_env: tuple[str, ...] = ("env", env_name, *loc)
        if in_env in lines:
            return lines[in_env]
    exact = lines.get(tuple(loc))
    return exact if exact is not None else line_of_key(text, *loc)


def _wrangler_defines(project_dir: Path, env_name: str) -> bool:
    from mcpdeploy.files.wrangler import defines_environment

    return defines_environment(project_dir, env_name)


def checked_secret(value: str, where: str) -> str:
    """A token or key without surrounding blanks. One with a control character inside (a pasted line break) is
    refused here, naming where it came from: sent on, it would end up printed inside an HTTP library's error.
    So is one with a non-ASCII character: it goes in an HTTP header, which carries ASCII only."""
    value = value.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UsageError(f"{where} holds a control character (a line break pasted with it?)",
                         hint="Set it again without the extra characters.")
    if not value.isascii():
        raise UsageError(f"{where} holds a non-ASCII character (a typographic quote or a space pasted with it?)",
                         hint="Tokens and keys are plain ASCII: set it again, copied from its source.")
    return value


def _read_secret_file(name: Any, project_dir: Path, setting: str) -> str | None:
    """The token in the file `name` (the value of `setting`). A file others may read is refused, as a credentials
    key file is (`secrets.load_key`): the token opens the whole account. A name that names no file may be the
    token itself, pasted where its file belongs: it is then never printed."""
    if not isinstance(name, str) or not name or any(ord(c) < 0x20 for c in name):
        return None  # not a usable file name: the settings' validation reports it next, with its line
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = project_dir / path
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        raw = path.read_bytes()
    except OSError as exc:
        # A path has a folder part that exists; a token has none (or only one that does not exist).
        looks_like_a_path = ("/" in name or os.sep in name or name.startswith("~")) and path.parent.is_dir()
        shown = f"the token file {path}" if looks_like_a_path else \
            f"the token file named by {setting} (the name is not shown: it may be the token itself)"
        raise UsageError(f"cannot read {shown}: {exc.strerror}",
                         hint=f"{setting} names a file that holds the token; put the token itself in that file, "
                         "never in the setting.") from exc
    if mode & 0o077:
        raise InputFileError(path, f"the token file is readable by others (mode {mode:04o})",
                             hint=f"Run `chmod 600 {path}`.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not text (not valid UTF-8): a token file holds the token alone, on one line",
                             hint="Write the token into it again, e.g. with `printf %s \"$TOKEN\" > FILE`.") from exc
    return checked_secret(text, f"the token file {path}") or None
