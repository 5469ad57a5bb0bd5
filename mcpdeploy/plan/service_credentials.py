"""What SERVICE_CREDENTIALS should hold, and the value to write for it.

The plaintext comes from the credentials file (`[secrets] credentials_file` or MCPDEPLOY_SERVICE_CREDENTIALS_FILE,
the format `mcpdeploy secrets encrypt` reads); provision fills the Xano `base_url` itself from the API group it
found or created. Encryption uses a fresh nonce, so an unchanged plaintext keeps the existing value: otherwise
every run would rewrite .dev.vars and push a new Worker version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpdeploy import secrets
from mcpdeploy.config import Settings
from mcpdeploy.errors import UsageError
from mcpdeploy.files.devvars import dev_vars_path, read_dev_vars

XANO_SERVICE = "xano"


@dataclass
class CredentialsResolver:
    """Computes (once per run) the key and the SERVICE_CREDENTIALS value that .dev.vars and the Worker share."""

    settings: Settings
    plaintext: dict[str, secrets.ServiceCredential]
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
            creds.setdefault("base_url", xano_base_url)
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


def load_plaintext(settings: Settings) -> dict[str, secrets.ServiceCredential]:
    """The plaintext service credentials from the configured file, or none (then only Xano's base URL)."""
    name = settings.secrets.credentials_file
    if not name:
        return {}
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = settings.project_dir / path
    return secrets.read_plaintext_credentials(path)
