"""`mcpdeploy secrets keygen|encrypt|decrypt`: the SERVICE_CREDENTIALS key and documents, by hand.

Plaintext credentials are read from a file or stdin, never from arguments (those end up in shell history and
process lists). Decrypted values are masked unless --show-values is given.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from mcpdeploy.cli.app import app
from mcpdeploy.cli.common import JSON, PROJECT_DIR
from mcpdeploy.cli.output import emit_json, make_console, write_text
from mcpdeploy.errors import InputFileError, UsageError

# mcpdeploy.project.secrets (cryptography), the settings (pydantic) and the .dev.vars reader are imported by the
# commands that use them: every start of the CLI imports this module to register its commands.

secrets_app = typer.Typer(
    help="Encrypted SERVICE_CREDENTIALS: make the key, encrypt credentials, look inside (masked).",
    no_args_is_help=True,
)
app.add_typer(secrets_app, name="secrets")

KEY_ENV = typer.Option(None, "--env", "-e", metavar="NAME",
                       help="Use the key of this environment. [env var: MCPDEPLOY_ENV]")
BIND_ENV = typer.Option(False, "--bind-env", help="Also bind the --env name into each value (the Worker must "
                                                  "then pass the same environment name to decrypt).")
STDIN = "-"


def _env_name(env: str | None) -> str | None:
    from mcpdeploy.project.settings import EnvVars

    return env or os.environ.get(EnvVars.ENV) or None


def _read_input(source: str) -> tuple[str, Path]:
    """The text of FILE or of stdin ("-"), and the path to name in errors."""
    if source == STDIN:
        try:
            return sys.stdin.read(), Path("<stdin>")
        except UnicodeDecodeError as exc:
            raise UsageError("--in -: the input is not UTF-8 text") from exc
    path = Path(source)
    try:
        return path.read_text("utf-8"), path
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--in {path}: cannot read it ({getattr(exc, 'strerror', None) or 'not UTF-8'})") from exc


def _require_key(project_dir: Path, env: str | None) -> str:
    from mcpdeploy.project.secrets import load_key
    from mcpdeploy.project.settings import EnvVars

    key = load_key(project_dir, env)
    if key is None:
        raise UsageError(
            f"no credentials key for {'environment ' + env if env else 'the default environment'}",
            hint=f"Make one with `mcpdeploy secrets keygen{' --env ' + env if env else ''}`, "
                 f"or set {EnvVars.CREDENTIALS_KEY}.",
        )
    return key


@secrets_app.command("keygen")
def keygen(
    project_dir: Path = PROJECT_DIR,
    env: str | None = KEY_ENV,
    force: bool = typer.Option(False, "--force", help="Replace an existing key (the old file is kept aside)."),
    json_output: bool = JSON,
) -> None:
    """Make a new AES-256 key in .mcpdeploy/keys/<env or default>.key (mode 0600). Prints its path and id only."""
    from mcpdeploy.project.secrets import create_key_file, key_id
    from mcpdeploy.project.settings import EnvVars

    env = _env_name(env)
    if not project_dir.is_dir():
        raise UsageError(f"--project-dir {project_dir}: no such folder")
    path, previous = create_key_file(project_dir.resolve(), env, force=force)
    new_id = key_id(path.read_text("ascii"))
    overridden = bool(os.environ.get(EnvVars.CREDENTIALS_KEY))
    if json_output:
        emit_json({"path": str(path), "key_id": new_id, "previous_key_moved_to": str(previous) if previous else None,
                   "overridden_by_environment": overridden}, "secrets-keygen")
        return
    console = make_console()
    console.print(f"Created key {new_id} at {path}", markup=False)
    if previous:
        console.print(f"The previous key was moved to {previous}; values encrypted with it need re-encrypting.",
                      markup=False)
    console.print("Keep a copy in your secret store (CI: the MCPDEPLOY_CREDENTIALS_KEY variable); without it the "
                  "encrypted credentials cannot be opened.", markup=False)
    if overridden:
        console.print(f"note: {EnvVars.CREDENTIALS_KEY} is set and wins over this file.", markup=False)


@secrets_app.command("encrypt")
def encrypt(
    source: str = typer.Option(..., "--in", metavar="FILE",
                               help="Plaintext credentials (JSON or TOML) from FILE, or - for stdin."),
    project_dir: Path = PROJECT_DIR,
    env: str | None = KEY_ENV,
    bind_env: bool = BIND_ENV,
) -> None:
    """Print SERVICE_CREDENTIALS (JSON, on stdout) with each service's credentials encrypted.

    Input: {"xano": {"auth_type": "api_key", "credentials": {"api_key": "...", "base_url": "..."}}}
    or the same as TOML ([xano] auth_type = ..., [xano.credentials] ...).
    """
    from mcpdeploy.project.secrets import build_service_credentials, key_id, parse_plaintext_credentials

    env = _env_name(env)
    if bind_env and env is None:
        raise UsageError("--bind-env needs --env NAME")
    text, path = _read_input(source)
    services = parse_plaintext_credentials(text, path)
    key = _require_key(project_dir.resolve(), env)
    document = build_service_credentials(key, services, environment=env if bind_env else None)
    write_text(document + "\n")
    make_console().print(f"Encrypted {len(services)} service(s) with key {key_id(key)}.", markup=False)


def _service_credentials_text(source: str | None, project_dir: Path, env: str | None) -> tuple[str, Path]:
    """SERVICE_CREDENTIALS from --in (JSON, or a .dev.vars-style file) or from the project's .dev.vars."""
    from mcpdeploy.files.devvars import decode_dev_vars, dev_vars_path, parse_dev_vars
    from mcpdeploy.files.edits import read_current
    from mcpdeploy.project.secrets import SERVICE_CREDENTIALS_VAR

    if source is None:
        path = dev_vars_path(project_dir, env)
        raw, _ = read_current(path)  # a folder, a link loop or an unreadable file: InputFileError naming it
        if raw is None:
            raise UsageError(f"no {path.name} in {project_dir}", hint="Pass the document with --in FILE or --in -.")
        text = decode_dev_vars(path, raw)
    else:
        text, path = _read_input(source)
    if text.lstrip().startswith("{"):
        return text, path
    for var in reversed(parse_dev_vars(text, path)):
        if var.key == SERVICE_CREDENTIALS_VAR:
            return var.value, path
    raise InputFileError(path, f"holds neither a JSON document nor a {SERVICE_CREDENTIALS_VAR}= line")


@secrets_app.command("decrypt")
def decrypt(
    source: str | None = typer.Option(
        None, "--in", metavar="FILE", help="SERVICE_CREDENTIALS JSON (or a .dev.vars file) from FILE or - for stdin. "
                           "Default: the project's .dev.vars (.dev.vars.<env> with --env)."),
    show_values: bool = typer.Option(False, "--show-values", help="Print the credential values (masked otherwise)."),
    project_dir: Path = PROJECT_DIR,
    env: str | None = KEY_ENV,
    bind_env: bool = BIND_ENV,
    json_output: bool = JSON,
) -> None:
    """Show what SERVICE_CREDENTIALS holds, values masked unless --show-values."""
    from mcpdeploy.project.secrets import CredentialsDecryptError, decrypt_service_credentials, key_id, load_key
    from mcpdeploy.redaction import MASK

    env = _env_name(env)
    if bind_env and env is None:
        raise UsageError("--bind-env needs --env NAME")
    project_dir = project_dir.resolve()
    console = make_console()
    text, path = _service_credentials_text(source, project_dir, env)
    warnings: list[str] = []
    key = load_key(project_dir, env)
    try:
        opened = decrypt_service_credentials(text, key, environment=env if bind_env else None,
                                             on_warning=warnings.append)
    except CredentialsDecryptError as exc:  # say which file holds the value that cannot be opened
        raise InputFileError(path, exc.message, hint=exc.hint) from exc
    shown = {
        name: {**entry, "credentials": {k: (v if show_values else MASK) for k, v in entry["credentials"].items()}}
        for name, entry in opened.items()
    }
    for message in warnings:
        console.print(f"warning: {message}", markup=False)
    if json_output:
        emit_json({"key_id": key_id(key) if key else None, "values_shown": show_values, "services": shown},
                  "secrets-decrypt")
        return
    data = make_console(data=True)
    for name, entry in shown.items():
        data.print(f"{name} (auth_type {entry.get('auth_type')})", markup=False)
        for field, value in entry["credentials"].items():
            data.print(f"  {field}: {value if isinstance(value, str) else json.dumps(value)}", markup=False)
    if not show_values:
        console.print("Values are masked; add --show-values to print them.", markup=False)
