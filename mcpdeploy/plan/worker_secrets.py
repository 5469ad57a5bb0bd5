"""The deployed Worker's secrets: SERVICE_CREDENTIALS and its key, pushed in one bulk call (one new Worker
version) and only when they changed since the last push. What was pushed is remembered as keyed fingerprints
(`pushed-secrets/<env>.json` in the state backend, by default in `.mcpdeploy/`), never as values, so a no-op
provision makes no write, on any machine that shares the backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpdeploy import secrets
from mcpdeploy.config import Settings
from mcpdeploy.journal import environment_file_stem
from mcpdeploy.plan.models import Change
from mcpdeploy.plan.service_credentials import CredentialsResolver
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.state import StateBackend, as_backend, pushed_secrets_name

PROVIDER = "secrets"
XANO_URL_OUTPUT = "xano_api_base_url"
NAMES = (secrets.SERVICE_CREDENTIALS_VAR, secrets.KEY_VAR)
Plaintext = dict[str, secrets.ServiceCredential]


def _record_name(environment: str | None) -> str:
    return pushed_secrets_name(environment_file_stem(environment))


def forget_pushed_secrets(state: Path | StateBackend, environment: str | None, script: str) -> bool:
    """After a rollback the live version carries the secrets it had then, not the last ones pushed: forget the
    push record so the next provision pushes the current ones again. True when there was one to forget."""
    backend = as_backend(state)
    name = _record_name(environment)
    stored = backend.read(name)
    record = _decode(stored.data) if stored is not None else {}
    if record.get("script") != script:
        return False
    backend.delete(name)
    return True


def read_record(state: StateBackend, environment: str | None) -> dict[str, Any]:
    stored = state.read(_record_name(environment))
    return _decode(stored.data) if stored is not None else {}


def write_record(state: StateBackend, environment: str | None, script: str, values: dict[str, str],
                 key: str, plaintext: Plaintext) -> None:
    """Remember what was pushed, as keyed fingerprints."""
    _write(state, environment, _fingerprinted(script, values, key, plaintext))


def write_intent(state: StateBackend, environment: str | None, script: str, values: dict[str, str], key: str,
                 plaintext: Plaintext, version_before: str | None) -> None:
    """Written before a push, with the newest Worker version before it (None: a Worker without versions): if the
    answer is lost or the process dies, the next run tells from the Worker's versions whether the push happened,
    instead of pushing again."""
    _write(state, environment, {**_fingerprinted(script, values, key, plaintext),
                                "pending_after_version": version_before})


def _fingerprinted(script: str, values: dict[str, str], key: str, plaintext: Plaintext) -> dict[str, Any]:
    fp_key = secrets.derive_fingerprint_key(key)
    return {"script": script, "fingerprints": {n: secrets.fingerprint(fp_key, v) for n, v in values.items()},
            "plaintext": plaintext_fingerprint(fp_key, plaintext)}


def plaintext_fingerprint(fp_key: bytes, plaintext: Plaintext) -> str:
    """Of what SERVICE_CREDENTIALS decrypts to. Its ciphertext changes with every encryption (fresh nonces), so a
    runner without the .dev.vars that was pushed can tell an unchanged push only by this."""
    document = {name: entry.model_dump(mode="json") for name, entry in plaintext.items()}
    return secrets.fingerprint(fp_key, json.dumps(document, sort_keys=True, separators=(",", ":")))


def _write(state: StateBackend, environment: str | None, record: dict[str, Any]) -> None:
    state.put(_record_name(environment), (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _decode(data: bytes) -> dict[str, Any]:
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError:  # a damaged record is no record: the next push writes a good one
        return {}
    return record if isinstance(record, dict) else {}


def newest_version(client: CloudflareClient, script: str) -> str | None:
    versions = client.list_versions(script)
    return versions[0].id if versions else None


def secrets_pushed_since(client: CloudflareClient, script: str, version_before: str | None) -> bool:
    """Whether the Worker has a version made by a secrets change newer than `version_before` (Cloudflare marks
    them `workers/triggered_by: secret`); versions are listed newest first."""
    for version in client.list_versions(script):
        if version.id == version_before:
            return False
        if version.annotations.get("workers/triggered_by") == "secret":
            return True
    return False


def plan_worker_secrets(client: CloudflareClient, settings: Settings, resolver: CredentialsResolver,
                        outputs: dict[str, Any], state: StateBackend) -> list[Change]:
    script = str(settings.cloudflare.worker_name)
    resource = f"worker secrets {script}"
    params = {"script": script}
    key = secrets.load_key(settings.project_dir, settings.env_name)
    url = outputs.get(XANO_URL_OUTPUT)
    if key is None or url is None:
        why = "new key" if key is None else "value known after apply"
        return [Change(provider=PROVIDER, kind="push_secrets", action="update", resource=resource,
                       reason=f"push {', '.join(NAMES)} in one version ({why})",
                       details=tuple(f"{n}: changed" for n in NAMES), params=params)]
    fp_key = secrets.derive_fingerprint_key(key)
    record = read_record(state, settings.env_name)
    if record.get("script") != script:
        record = {}
    if record and "pending_after_version" in record:
        # A push whose answer never came: it counts only if the Worker shows the version it made.
        before = record["pending_after_version"]
        if not secrets_pushed_since(client, script, before if isinstance(before, str) else None):
            record = {}
    pushed = record.get("fingerprints", {})
    same_plaintext = record.get("plaintext") == plaintext_fingerprint(fp_key, resolver.desired(url))
    if not same_plaintext and not resolver.up_to_date(url):
        return [Change(provider=PROVIDER, kind="push_secrets", action="update", resource=resource,
                       reason=f"push {', '.join(NAMES)} in one version (credentials changed)",
                       details=tuple(f"{n}: changed" for n in NAMES), params=params)]
    value = resolver.existing_value() or ""
    wanted = {secrets.SERVICE_CREDENTIALS_VAR: secrets.fingerprint(fp_key, value),
              secrets.KEY_VAR: secrets.fingerprint(fp_key, key)}
    remote = set(client.list_secret_names(script))
    details = []
    for name in NAMES:
        if name not in remote:
            details.append(f"{name}: missing on the Worker")
        elif pushed.get(name) == wanted[name] or (name == secrets.SERVICE_CREDENTIALS_VAR and same_plaintext
                                                  and name in pushed):
            details.append(f"{name}: unchanged")
        else:
            details.append(f"{name}: changed")
    if all(d.endswith("unchanged") for d in details):
        return []
    return [Change(provider=PROVIDER, kind="push_secrets", action="update", resource=resource,
                   reason=f"push {', '.join(NAMES)} in one version", details=tuple(details), params=params)]
