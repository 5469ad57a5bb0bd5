"""SERVICE_CREDENTIALS: per-service credentials encrypted with AES-256-GCM, and the key that opens them.

The Worker receives one JSON document (a secret in production, a line of .dev.vars locally)::

    {"xano": {"service_name": "xano", "auth_type": "api_key", "credentials_encrypted": "v1:…"}}

Format of each `credentials_encrypted` value (version 1)::

    v1:<key id>:<nonce>:<ciphertext>

- key: 32 random bytes (AES-256), written as standard base64 with padding (44 characters); made by
  `mcpdeploy secrets keygen`, kept in `.mcpdeploy/keys/<env or default>.key` (mode 0600) or given in the
  MCPDEPLOY_CREDENTIALS_KEY environment variable, which wins.
- key id: the first 6 bytes of SHA-256("mcpdeploy-key-id:" + key bytes), as 12 lowercase hex digits. It names
  the key (so a wrong key is reported as such) without revealing it.
- nonce: 12 fresh random bytes per value, standard base64.
- ciphertext: AES-256-GCM output (encrypted bytes followed by the 16-byte tag), standard base64.
- plaintext: the credentials object as compact UTF-8 JSON with sorted keys.
- associated data: the UTF-8 bytes of "mcpdeploy-credentials/v1/<service>/<environment>", where <service> is the
  key of the entry in SERVICE_CREDENTIALS and <environment> is empty unless an environment name was bound.
  So a value copied to another service (or environment) fails to decrypt instead of being used there.
  Service and environment names, and auth types, are 1-64 characters of A-Z a-z 0-9 _ . - (no separator
  can be smuggled in, and the JSON never contains a quote that .dev.vars would need to escape).

The legacy form "encrypted:{json}" from the manual checklist holds the credentials in plain text; it is still
read, with a warning, and never written.

Secret values never appear in messages, reprs or exceptions here: errors name the service and key ids only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets as token_source
import stat
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcpdeploy.errors import InputFileError, McpdeployError, UsageError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.files.tomlread import line_of_key, tomllib, unreadable_data
from mcpdeploy.project.settings import STATE_DIR, EnvVars

VERSION = "v1"
LEGACY_PREFIX = "encrypted:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_DIR = "keys"
KEY_FILE_MODE = 0o600
KEY_DIR_MODE = 0o700
# The names the Worker reads (locally from .dev.vars, in production as secrets).
SERVICE_CREDENTIALS_VAR = "SERVICE_CREDENTIALS"
KEY_VAR = "SERVICE_CREDENTIALS_KEY"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CredentialsDecryptError(McpdeployError):
    """A credentials value could not be opened: wrong key, altered, or bound to another service/environment."""

    exit_code = ExitCode.INPUT_ERROR


class PlaintextCredentialsWarning(UserWarning):
    """SERVICE_CREDENTIALS holds the legacy `encrypted:{json}` form, which is not encrypted at all."""


class ServiceCredential(BaseModel):
    """One service's credentials in plain text, e.g. auth_type "api_key" with {"api_key", "base_url"}.

    The credentials stay out of repr() so a traceback or log line cannot show them.
    """

    model_config = ConfigDict(extra="forbid")

    auth_type: str
    credentials: dict[str, Any] = Field(repr=False)


# ------------------------------------------------------------------------------------------------ keys


def generate_key() -> str:
    """A new random 256-bit key, as standard base64."""
    return base64.b64encode(token_source.token_bytes(KEY_BYTES)).decode("ascii")


def _key_bytes(key_b64: str) -> bytes:
    try:
        raw = base64.b64decode(key_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise UsageError(
            "the credentials key is not 32 bytes of base64",
            hint=f"Make one with `mcpdeploy secrets keygen`, or check {EnvVars.CREDENTIALS_KEY}.",
        )
    return raw


def key_id(key_b64: str) -> str:
    """The short public name of a key (12 hex digits)."""
    return hashlib.sha256(b"mcpdeploy-key-id:" + _key_bytes(key_b64)).hexdigest()[:12]


def key_path(project_dir: Path, env: str | None) -> Path:
    """Where the key of an environment is kept: .mcpdeploy/keys/<env or default>.key."""
    name = env or "default"
    if not _NAME.match(name) or name in {".", ".."}:
        raise UsageError(f"environment name {name!r} cannot be used as a key file name")
    return project_dir / STATE_DIR / KEY_DIR / f"{name}.key"


def load_key(project_dir: Path, env: str | None, *, environ: Mapping[str, str] | None = None) -> str | None:
    """The key from MCPDEPLOY_CREDENTIALS_KEY, else from the environment's key file, else None.

    A key file readable by other users is refused (like ssh does), since it opens every credential.
    """
    environ = os.environ if environ is None else environ
    from_env = environ.get(EnvVars.CREDENTIALS_KEY, "").strip()
    if from_env:
        _key_bytes(from_env)
        return from_env
    path = key_path(project_dir, env)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        if path.is_symlink():  # a key made now would land at the link's target, wherever that is
            raise InputFileError(path, f"is a link to {os.readlink(path)}, which does not exist",
                                 hint="Point the link at the key file, or remove it.") from None
        return None
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "does not hold a key: a key file is one line of base64 text",
                             hint="Restore it from your secret store, or make a new one with "
                                  "`mcpdeploy secrets keygen --force` (old values then need re-encrypting).") from exc
    except OSError as exc:
        raise InputFileError(path, f"cannot read the credentials key: {exc.strerror}") from exc
    if mode & 0o077:
        raise InputFileError(path, f"the key file is readable by others (mode {mode:04o})",
                             hint=f"Run `chmod 600 {path}`.")
    try:
        _key_bytes(text)
    except UsageError as exc:
        raise InputFileError(path, "does not hold a 32-byte base64 key", line=1,
                             hint="Restore it from your secret store, or make a new one with "
                                  "`mcpdeploy secrets keygen --force` (old values then need re-encrypting).") from exc
    return text


def create_key_file(project_dir: Path, env: str | None, *, force: bool = False) -> tuple[Path, Path | None]:
    """Write a new key file (0600, folder 0700); return it and, with `force`, where the old key was moved.

    Without `force` an existing key is never replaced (UsageError). Creation is exclusive: two runs at once
    cannot end with different keys on disk.
    """
    path = key_path(project_dir, env)
    path.parent.mkdir(parents=True, exist_ok=True, mode=KEY_DIR_MODE)
    os.chmod(path.parent, KEY_DIR_MODE)
    previous: Path | None = None
    if path.exists():
        if not force:
            raise UsageError(f"a key already exists at {path}",
                             hint="Add --force to replace it (the old one is kept next to it).")
        previous = path.with_name(f"{path.name}.{os.urandom(3).hex()}.old")
        os.replace(path, previous)
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if another run created the key meanwhile: theirs stays
    except FileExistsError as exc:
        raise UsageError(f"a key was created at {path} by another run meanwhile; run again") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path, previous


def load_or_create_key(project_dir: Path, env: str | None, *, environ: Mapping[str, str] | None = None) -> str:
    """The key to use for `env` (see `load_key`), creating the key file on first use."""
    key = load_key(project_dir, env, environ=environ)
    if key is not None:
        return key
    with contextlib.suppress(UsageError):  # created by a concurrent run meanwhile: use that one
        create_key_file(project_dir, env)
    loaded = load_key(project_dir, env, environ=environ)
    assert loaded is not None
    return loaded


# ------------------------------------------------------------------------------------------ one value


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise UsageError(f"{kind} {name!r} must be 1-64 characters of letters, digits, '_', '.' or '-'")


def _associated_data(service: str, environment: str | None) -> bytes:
    _check_name("service name", service)
    if environment is not None:
        _check_name("environment name", environment)
    return f"mcpdeploy-credentials/{VERSION}/{service}/{environment or ''}".encode()


def encrypt_credentials(
    key_b64: str, service: str, credentials: Mapping[str, Any], *, environment: str | None = None
) -> str:
    """Encrypt one service's credentials object to `v1:<key id>:<nonce>:<ciphertext>` (fresh nonce each call)."""
    aad = _associated_data(service, environment)
    plaintext = json.dumps(dict(credentials), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    nonce = token_source.token_bytes(NONCE_BYTES)
    sealed = AESGCM(_key_bytes(key_b64)).encrypt(nonce, plaintext.encode("utf-8"), aad)
    return ":".join([VERSION, key_id(key_b64), _b64(nonce), _b64(sealed)])


def decrypt_credentials(
    key_b64: str, service: str, value: str, *, environment: str | None = None
) -> dict[str, Any]:
    """Open a `v1:` value made for `service` (and `environment`); CredentialsDecryptError when it cannot."""
    aad = _associated_data(service, environment)
    parts = value.split(":")
    if len(parts) != 4 or parts[0] != VERSION:
        version = parts[0] if len(parts) > 1 else "none"
        raise CredentialsDecryptError(
            f"credentials for service {service!r}: unknown format (version {version!r}, expected {VERSION})",
            hint="Re-encrypt them with `mcpdeploy secrets encrypt` or `mcpdeploy provision`.",
        )
    _, value_key_id, nonce_b64, sealed_b64 = parts
    current_id = key_id(key_b64)
    if value_key_id != current_id:
        raise CredentialsDecryptError(
            f"credentials for service {service!r} were encrypted with key {value_key_id}, "
            f"but the key in use is {current_id}",
            hint=f"Use the matching key file or {EnvVars.CREDENTIALS_KEY}, or re-encrypt with the current key.",
        )
    try:
        nonce, sealed = base64.b64decode(nonce_b64, validate=True), base64.b64decode(sealed_b64, validate=True)
        plaintext = AESGCM(_key_bytes(key_b64)).decrypt(nonce, sealed, aad)
        opened = json.loads(plaintext.decode("utf-8"))
    except (InvalidTag, ValueError, binascii.Error, RecursionError) as exc:
        raise CredentialsDecryptError(
            f"credentials for service {service!r} failed authentication: the value was altered, or it was "
            "made for another service or environment",
            hint="Re-encrypt them with `mcpdeploy secrets encrypt` or `mcpdeploy provision`.",
        ) from exc
    if not isinstance(opened, dict):
        raise CredentialsDecryptError(f"credentials for service {service!r} do not hold a JSON object")
    return opened


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------- the whole document


def build_service_credentials(
    key_b64: str, services: Mapping[str, ServiceCredential], *, environment: str | None = None
) -> str:
    """The SERVICE_CREDENTIALS JSON (compact) with every service's credentials encrypted."""
    document: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        _check_name("auth_type of " + name, service.auth_type)
        document[name] = {
            "service_name": name,
            "auth_type": service.auth_type,
            "credentials_encrypted": encrypt_credentials(key_b64, name, service.credentials,
                                                         environment=environment),
        }
    return json.dumps(document, separators=(",", ":"))


def decrypt_service_credentials(
    json_text: str,
    key_b64: str | None,
    *,
    environment: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Open a SERVICE_CREDENTIALS document: each entry gets `credentials` in place of `credentials_encrypted`.

    Legacy `encrypted:{json}` values are read and reported through `on_warning` (default: a
    PlaintextCredentialsWarning), since they were never encrypted. `key_b64` may be None only when no value
    is encrypted.
    """
    try:
        document = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise CredentialsDecryptError(f"SERVICE_CREDENTIALS is not JSON (line {exc.lineno}: {exc.msg})") from exc
    except (ValueError, RecursionError):  # a number over 4,300 digits, or nesting past the recursion limit
        raise CredentialsDecryptError("SERVICE_CREDENTIALS is not a JSON document mcpdeploy can read (a number "
                                      "too long or values nested too deeply)") from None
    if not isinstance(document, dict):
        raise CredentialsDecryptError("SERVICE_CREDENTIALS must be a JSON object of services")
    opened: dict[str, dict[str, Any]] = {}
    for name, entry in document.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("credentials_encrypted"), str):
            raise CredentialsDecryptError(f"SERVICE_CREDENTIALS[{name!r}] has no credentials_encrypted string")
        sealed = entry["credentials_encrypted"]
        result = {k: v for k, v in entry.items() if k != "credentials_encrypted"}
        if sealed.startswith(LEGACY_PREFIX):
            result["credentials"] = _read_legacy(name, sealed)
            _warn(on_warning, f"SERVICE_CREDENTIALS[{name!r}] uses the legacy 'encrypted:' form, which is NOT "
                              "encrypted: anyone who can read it has the credentials. Re-encrypt with "
                              "`mcpdeploy secrets encrypt` or `mcpdeploy provision`.")
        else:
            if key_b64 is None:
                raise UsageError(
                    "no credentials key: it is needed to decrypt SERVICE_CREDENTIALS",
                    hint=f"Set {EnvVars.CREDENTIALS_KEY} or keep the key file in .mcpdeploy/keys/.",
                )
            result["credentials"] = decrypt_credentials(key_b64, name, sealed, environment=environment)
        opened[name] = result
    return opened


def _read_legacy(name: str, sealed: str) -> dict[str, Any]:
    try:
        value = json.loads(sealed[len(LEGACY_PREFIX):])
    except (ValueError, RecursionError):
        raise CredentialsDecryptError(f"SERVICE_CREDENTIALS[{name!r}]: the legacy value is not JSON") from None
    if not isinstance(value, dict):
        raise CredentialsDecryptError(f"SERVICE_CREDENTIALS[{name!r}]: the legacy value is not a JSON object")
    return value


def _warn(on_warning: Callable[[str], None] | None, message: str) -> None:
    if on_warning is not None:
        on_warning(message)
    else:
        warnings.warn(message, PlaintextCredentialsWarning, stacklevel=3)


def same_plaintext(
    existing_json: str | None,
    key_b64: str,
    services: Mapping[str, ServiceCredential],
    *,
    environment: str | None = None,
) -> bool:
    """True when `existing_json` already holds exactly `services`, encrypted with this key.

    Encryption uses a fresh nonce, so re-encrypting unchanged credentials would change the bytes on every run;
    callers keep the existing document when this is True. Anything unreadable or legacy counts as different.
    """
    if not existing_json:
        return False
    try:
        opened = decrypt_service_credentials(existing_json, key_b64, environment=environment,
                                             on_warning=lambda _message: None)
        document = json.loads(existing_json)
    except McpdeployError:
        return False
    if set(opened) != set(services):
        return False
    current_id = key_id(key_b64)
    for name, service in services.items():
        entry = opened[name]
        if entry.get("service_name") != name or entry.get("auth_type") != service.auth_type:
            return False
        if entry["credentials"] != service.credentials:
            return False
        if not document[name]["credentials_encrypted"].startswith(f"{VERSION}:{current_id}:"):
            return False
    return True


# ---------------------------------------------------------------------------------------- fingerprints


def derive_fingerprint_key(key_b64: str) -> bytes:
    """A key for `fingerprint`, derived from the credentials key (so no second key has to be kept)."""
    return hmac.new(_key_bytes(key_b64), b"mcpdeploy-fingerprint-key/v1", hashlib.sha256).digest()


def fingerprint(fingerprint_key: bytes, value: str) -> str:
    """A keyed HMAC-SHA256 of `value`: tells "changed since the last push" without storing the value, and
    without letting someone who reads the journal test guesses unless they also hold the key."""
    return "hmac-sha256:" + hmac.new(fingerprint_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------------- plaintext input


def parse_plaintext_credentials(text: str, path: Path) -> dict[str, ServiceCredential]:
    """Plaintext credentials, JSON or TOML: {"<service>": {"auth_type": "...", "credentials": {...}}, ...}.

    Errors name the file, the line (TOML) and the problem, never a value: the values are secrets.
    """
    if path.suffix == ".json" or (path.suffix != ".toml" and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
        except (ValueError, RecursionError) as exc:
            raise unreadable_data(path, text, exc) from None
        toml_text = ""
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            raise InputFileError(path, "invalid TOML (expected JSON or TOML credentials)", line=line) from exc
        except (ValueError, RecursionError) as exc:
            raise unreadable_data(path, text, exc) from None
        toml_text = text
    if not isinstance(data, dict) or not data:
        raise InputFileError(path, 'expected {"<service>": {"auth_type": "...", "credentials": {...}}, ...}')
    services: dict[str, ServiceCredential] = {}
    for name, entry in data.items():
        line = line_of_key(toml_text, name) if toml_text else None
        try:
            services[name] = ServiceCredential.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or name}: {e['msg']}" for e in exc.errors())
            raise InputFileError(path, f"service {name!r}: {problems}", line=line) from None
        # Checked here, with the file's name, rather than when encrypting: by then a provision has already
        # changed Xano and Cloudflare.
        for kind, value in (("service name", name), ("auth_type", services[name].auth_type)):
            if not _NAME.match(value):
                raise InputFileError(path, f"{kind} {value!r} must be 1-64 characters of letters, digits, '_', '.' "
                                     "or '-'", line=line)
        _check_json_values(path, name, services[name].credentials, line)
    return services


def _check_json_values(path: Path, service: str, credentials: dict[str, Any], line: int | None) -> None:
    """The credentials become JSON for the Worker: a TOML date, NaN, infinity or broken Unicode cannot."""
    try:
        json.dumps(credentials, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        problem = ("hold a date or time, which JSON has no type for: write it as a quoted string"
                   if isinstance(exc, TypeError) else
                   "hold NaN or infinity, which JSON cannot carry" if "JSON compliant" in str(exc) else
                   "hold text that is not valid Unicode (a lone surrogate escape)")
        raise InputFileError(path, f"service {service!r}: credentials {problem}", line=line) from None
    except RecursionError:
        raise InputFileError(path, f"service {service!r}: credentials are nested too deeply", line=line) from None


def read_plaintext_credentials(path: Path) -> dict[str, ServiceCredential]:
    """`parse_plaintext_credentials` of a file (the `[secrets] credentials_file` provision reads)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"the credentials file {path} does not exist",
                         hint="Set [secrets] credentials_file or MCPDEPLOY_SERVICE_CREDENTIALS_FILE to a file "
                              "outside the repository.") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, "is not UTF-8 text", hint="Save it as UTF-8 (JSON or TOML).") from exc
    except OSError as exc:
        raise InputFileError(path, f"cannot read it: {exc.strerror}") from exc
    return parse_plaintext_credentials(text, path)

