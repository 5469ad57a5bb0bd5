"""`secrets keygen` and `secrets decrypt`: the credentials key, and what SERVICE_CREDENTIALS holds (masked)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from mcpdeploy.cli.documents.common import CommandDocument, Part


class SecretsKeygenDocument(CommandDocument):
    """`mcpdeploy secrets keygen --json`: the new key's file and id, never the key."""

    command: Literal["secrets keygen"]
    path: str
    key_id: str
    previous_key_moved_to: str | None
    overridden_by_environment: bool = Field(description="MCPDEPLOY_CREDENTIALS_KEY is set and wins over the file.")


class Service(Part):
    model_config = ConfigDict(extra="allow")

    auth_type: str
    credentials: dict[str, Any] = Field(description='Each value "***" unless --show-values.')


class SecretsDecryptDocument(CommandDocument):
    """`mcpdeploy secrets decrypt --json`: each service's credentials, values masked unless --show-values."""

    command: Literal["secrets decrypt"]
    key_id: str | None = Field(description="null when no key is needed (nothing encrypted) or none was found.")
    values_shown: bool
    services: dict[str, Service]
