"""The deployed Worker's secrets: SERVICE_CREDENTIALS and its key, pushed in one bulk call (one new Worker
version) and only when they changed since the last push. What was pushed is remembered as keyed fingerprints
(`pushed-secrets/<env>.json` in the state backend, by default in `.mcpdeploy/`), never as values, so a no-op
provision makes no write, on any machine that shares the backend."""

from __future__ import annotations

from typing import Any

from mcpdeploy.plan.models import Change
from mcpdeploy.plan.service_credentials import CredentialsResolver
from mcpdeploy.project import secrets
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.state import StateBackend
from mcpdeploy.state.secret_pushes import plaintext_fingerprint, read_record, secrets_pushed_since

PROVIDER = "secrets"
XANO_URL_OUTPUT = "xano_api_base_url"
NAMES = (secrets.SERVICE_CREDENTIALS_VAR, secrets.KEY_VAR)


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
