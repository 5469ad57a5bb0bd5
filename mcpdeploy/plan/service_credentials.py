"""What SERVICE_CREDENTIALS should hold, and the value to write for it.

The plaintext comes, in this order, from the credentials file (`[secrets] credentials_file` or
MCPDEPLOY_SERVICE_CREDENTIALS_FILE, the format `mcpdeploy secrets encrypt` reads), else from what .dev.vars
already holds (so a run without the file, say a shell that lacks the variable, changes nothing but the Xano URL),
else from nothing (then only the Xano `base_url`, and the Worker's secrets are left alone: an empty document
must never replace real credentials there). Provision fills in the Xano `base_url` from the API group it found
or created. Encryption uses a fresh nonce, so an unchanged plaintext keeps the existing value: otherwise every
run would rewrite .dev.vars and push a new Worker version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcpdeploy.errors import InputFileError, McpdeployError, UsageError
from mcpdeploy.files.devvars import dev_vars_path, read_dev_vars
from mcpdeploy.project import secrets
from mcpdeploy.project.settings import Settings

XANO_SERVICE = "xano"


Source = Literal["file", "dev_vars", "none"]


@dataclass
class CredentialsResolver:
    """Computes (once per run) the key and the SERVICE_CREDENTIALS value that .dev.vars and the Worker share."""

    settings: Settings
    plaintext: dict[str, secrets.ServiceCredential]
    source: Source = "file"
    _resolved: tuple[str, str] | None = field(default=None, init=False, repr=False)

    @property
    def project_dir(self) -> Path:
        return self.settings.project_dir

    @property
    def env(self) -> str | None:
        return self.settings.env_name

    def desired(self, xano_base_url: str | None) -> dict[str, secrets.ServiceCredential]:
        services = dict(self.plaintext)
        xano = services.get(XANO_SERVICE)
        if xano_base_url is not None:
            creds: dict[str, Any] = dict(xano.credentials) if xano else {}
            # A base_url given by hand (in the file, and so in .dev.vars after it) wins; one that provision
            # filled in (on this Xano instance) follows the API group.
            given = creds.get("base_url")
            instance = (self.settings.xano.instance_url or "").rstrip("/")
            if given is None or (self.source != "file" and instance and str(given).startswith(instance + "/")):
                creds["base_url"] = xano_base_url
            services[XANO_SERVICE] = secrets.ServiceCredential(
                auth_type=xano.auth_type if xano else "none", credentials=creds
            )
        return services

    def existing_value(self) -> str | None:
        path = dev_vars_path(self.project_dir, self.env)
        if not path.exists():
            return None
        return read_dev_vars(path).get(secrets.SERVICE_CREDENTIALS_VAR)

    def up_to_date(self, xano_base_url: str | None) -> bool | None:
        """Whether the current .dev.vars value already holds the desired plaintext; None when not knowable yet
        (no key yet, or the Xano base URL comes from an API group this run creates)."""
        key = secrets.load_key(self.project_dir, self.env)
        if key is None or xano_base_url is None:
            return None
        return secrets.same_plaintext(self.existing_value(), key, self.desired(xano_base_url))

    def resolve(self, xano_base_url: str | None) -> tuple[str, str]:
        """(key, SERVICE_CREDENTIALS value), creating the key file on first use. Only apply calls this."""
        if self._resolved is None:
            if xano_base_url is None:
                raise UsageError("the Xano API group's URL is unknown: provision Xano first")
            key = secrets.load_or_create_key(self.project_dir, self.env)
            desired = self.desired(xano_base_url)
            existing = self.existing_value()
            if existing is not None and secrets.same_plaintext(existing, key, desired):
                value = existing
            else:
                value = secrets.build_service_credentials(key, desired)
            self._resolved = (key, value)
        return self._resolved


def credentials_resolver(settings: Settings) -> CredentialsResolver:
    """Where this run's plaintext credentials come from (see the module docstring), checked before any request:
    a malformed .dev.vars or credentials file stops the run here."""
    resolver = CredentialsResolver(settings, {}, "none")
    existing = resolver.existing_value()  # parses .dev.vars: errors name its line
    name = settings.secrets.credentials_file
    if name:
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = settings.project_dir / path
        return CredentialsResolver(settings, secrets.read_plaintext_credentials(path), "file")
    if not existing:
        return resolver
    opened = _open_existing(settings, existing)
    resolver.plaintext = {
        name: secrets.ServiceCredential(auth_type=entry["auth_type"], credentials=entry["credentials"])
        for name, entry in opened.items()
    }
    # A document mcpdeploy made from nothing (the Xano URL alone) is not credentials: it must never be pushed
    # over the Worker's real ones.
    if not _only_a_url(resolver.plaintext):
        resolver.source = "dev_vars"
    return resolver


def _open_existing(settings: Settings, existing: str) -> dict[str, Any]:
    """Open what .dev.vars holds with the current key, else with the key .dev.vars itself holds (the one it was
    made with, e.g. before `secrets keygen --force`; provision then encrypts it again with the current key)."""
    path = dev_vars_path(settings.project_dir, settings.env_name)
    candidates = [secrets.load_key(settings.project_dir, settings.env_name),
                  read_dev_vars(path).get(secrets.KEY_VAR)]
    failure: secrets.CredentialsDecryptError | None = None
    for key in dict.fromkeys(k for k in candidates if k):
        try:
            return secrets.decrypt_service_credentials(existing, key, on_warning=lambda _message: None)
        except secrets.CredentialsDecryptError as exc:
            failure = exc
        except UsageError as exc:  # not a usable key at all
            failure = secrets.CredentialsDecryptError(exc.message)
    if failure is None:  # no key anywhere: only the legacy plaintext form opens without one
        try:
            return secrets.decrypt_service_credentials(existing, None, on_warning=lambda _message: None)
        except McpdeployError as exc:
            failure = secrets.CredentialsDecryptError(exc.message)
    raise InputFileError(
        path, f"{secrets.SERVICE_CREDENTIALS_VAR} cannot be opened: {failure.message}",
        hint="Use the key it was made with (`secrets keygen --force` keeps the previous one as "
             ".mcpdeploy/keys/*.old), or set [secrets] credentials_file so provision encrypts the "
             "credentials again from plaintext.",
    )


def _only_a_url(services: dict[str, secrets.ServiceCredential]) -> bool:
    return set(services) <= {XANO_SERVICE} and all(
        s.auth_type == "none" and set(s.credentials) <= {"base_url"} for s in services.values())
