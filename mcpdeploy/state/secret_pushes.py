"""What was pushed as the deployed Worker's secrets, remembered as keyed fingerprints, never as values
(`pushed-secrets/<env>.json` in the state backend), and how to tell after a lost answer whether a push happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpdeploy.project import secrets
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.state import StateBackend, as_backend, pushed_secrets_name
from mcpdeploy.state.journal import environment_file_stem

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
