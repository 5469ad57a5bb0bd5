"""The deployed Worker's secrets: SERVICE_CREDENTIALS and its key, pushed in one bulk call (one new Worker
version) and only when they changed since the last push. What was pushed is remembered as keyed fingerprints
(`.mcpdeploy/pushed-secrets/<env>.json`), never as values, so a no-op provision makes no write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpdeploy import secrets
from mcpdeploy.config import Settings
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.plan.models import Change
from mcpdeploy.plan.service_credentials import CredentialsResolver
from mcpdeploy.providers.cloudflare import CloudflareClient

PROVIDER = "secrets"
XANO_URL_OUTPUT = "xano_api_base_url"
NAMES = (secrets.SERVICE_CREDENTIALS_VAR, secrets.KEY_VAR)


def record_path(settings: Settings) -> Path:
    return _record_file(settings.state_dir, settings.env_name)


def _record_file(state_dir: Path, environment: str | None) -> Path:
    return state_dir / "pushed-secrets" / f"{environment or 'default'}.json"


def forget_pushed_secrets(state_dir: Path, environment: str | None, script: str) -> bool:
    """After a rollback the live version carries the secrets it had then, not the last ones pushed: forget the
    push record so the next provision pushes the current ones again. True when there was one to forget."""
    path = _record_file(state_dir, environment)
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("script") != script:
        return False
    path.unlink(missing_ok=True)
    return True


def read_record(settings: Settings) -> dict[str, Any]:
    try:
        data = json.loads(record_path(settings).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_record(settings: Settings, script: str, values: dict[str, str], key: str) -> None:
    """Remember what was pushed, as keyed fingerprints."""
    _write(settings, _fingerprinted(script, values, key))


def write_intent(settings: Settings, script: str, values: dict[str, str], key: str, version_before: str | None) -> None:
    """Written before a push, with the newest Worker version before it (None: a Worker without versions): if the
    answer is lost or the process dies, the next run tells from the Worker's versions whether the push happened,
    instead of pushing again."""
    _write(settings, {**_fingerprinted(script, values, key), "pending_after_version": version_before})


def _fingerprinted(script: str, values: dict[str, str], key: str) -> dict[str, Any]:
    fp_key = secrets.derive_fingerprint_key(key)
    return {"script": script, "fingerprints": {n: secrets.fingerprint(fp_key, v) for n, v in values.items()}}


def _write(settings: Settings, record: dict[str, Any]) -> None:
    write_atomic(record_path(settings), json.dumps(record, indent=2, sort_keys=True) + "\n", mode=0o600)


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
                        outputs: dict[str, Any]) -> list[Change]:
    script = str(settings.cloudflare.worker_name)
    resource = f"worker secrets {script}"
    params = {"script": script}
    key = secrets.load_key(settings.project_dir, settings.env_name)
    url = outputs.get(XANO_URL_OUTPUT)
    if key is None or url is None or not resolver.up_to_date(url):
        why = "new key" if key is None else "value known after apply" if url is None else "credentials changed"
        return [Change(provider=PROVIDER, kind="push_secrets", action="update", resource=resource,
                       reason=f"push {', '.join(NAMES)} in one version ({why})",
                       details=tuple(f"{n}: changed" for n in NAMES), params=params)]
    value = resolver.existing_value() or ""
    fp_key = secrets.derive_fingerprint_key(key)
    wanted = {secrets.SERVICE_CREDENTIALS_VAR: secrets.fingerprint(fp_key, value),
              secrets.KEY_VAR: secrets.fingerprint(fp_key, key)}
    record = read_record(settings)
    pushed = record.get("fingerprints", {}) if record.get("script") == script else {}
    if pushed and "pending_after_version" in record:
        # A push whose answer never came: it counts only if the Worker shows the version it made.
        before = record["pending_after_version"]
        if not secrets_pushed_since(client, script, before if isinstance(before, str) else None):
            pushed = {}
    remote = set(client.list_secret_names(script))
    details = []
    for name in NAMES:
        if name not in remote:
            details.append(f"{name}: missing on the Worker")
        elif pushed.get(name) != wanted[name]:
            details.append(f"{name}: changed")
        else:
            details.append(f"{name}: unchanged")
    if all(d.endswith("unchanged") for d in details):
        return []
    return [Change(provider=PROVIDER, kind="push_secrets", action="update", resource=resource,
                   reason=f"push {', '.join(NAMES)} in one version", details=tuple(details), params=params)]
