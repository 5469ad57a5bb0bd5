"""What the Cloudflare API answers, as pydantic models (shapes from Cloudflare's API documentation and the
supplement's schemas). Unknown fields are ignored: the API adds fields over time and we must not break on them."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Platform limits: the API rejects values outside them with 100127.
MAX_BATCH_SIZE = 100
MAX_BATCH_TIMEOUT_SECONDS = 60
# The current API keeps the first 1000 bytes of a deployment's or a version's workers/message (the 2024 spec said
# 50 characters; the API was seen truncating at 1000 bytes instead).
MAX_MESSAGE_BYTES = 1000
_ELLIPSIS = "…"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ConsumerSettings(_Answer):
    batch_size: int | None = None  # messages
    max_wait_time_ms: int | None = None
    max_retries: int | None = None
    max_concurrency: int | None = None  # null: the platform's maximum
    retry_delay: int | None = None  # seconds

    @classmethod
    def from_wrangler(cls, max_batch_size: int, max_batch_timeout: float) -> ConsumerSettings:
        """The API settings for a `[[queues.consumers]]` entry: wrangler.toml's timeout is in seconds, the API's
        `max_wait_time_ms` in milliseconds (wrangler multiplies by 1000)."""
        if not 1 <= max_batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"max_batch_size must be 1..{MAX_BATCH_SIZE}, got {max_batch_size}")
        if not (math.isfinite(max_batch_timeout) and 0 <= max_batch_timeout <= MAX_BATCH_TIMEOUT_SECONDS):
            raise ValueError(
                f"max_batch_timeout must be 0..{MAX_BATCH_TIMEOUT_SECONDS} seconds, got {max_batch_timeout}"
            )
        return cls(batch_size=max_batch_size, max_wait_time_ms=round(max_batch_timeout * 1000))


class Consumer(_Answer):
    consumer_id: str = ""
    queue_name: str | None = None
    type: str = "worker"
    script_name: str | None = None
    # Older answers name the Worker `script` or `service`.
    script: str | None = None
    service: str | None = None
    dead_letter_queue: str | None = None  # a queue's name, at the top level; absent or null without one
    created_on: str | None = None
    settings: ConsumerSettings = Field(default_factory=ConsumerSettings)

    @property
    def worker(self) -> str | None:
        return self.script_name or self.script or self.service

    def has_settings(self, batch_size: int, max_wait_time_ms: int) -> bool:
        return self.settings.batch_size == batch_size and self.settings.max_wait_time_ms == max_wait_time_ms


class Queue(_Answer):
    queue_id: str
    queue_name: str
    created_on: str | None = None
    modified_on: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    consumers: list[Consumer] = Field(default_factory=list)
    consumers_total_count: int | None = None


class WorkerVersion(_Answer):
    id: str
    number: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @property
    def created_on(self) -> str | None:
        value = self.metadata.get("created_on")
        return str(value) if value is not None else None

    @property
    def message(self) -> str | None:
        return self.annotations.get("workers/message")


class DeploymentVersion(_Answer):
    version_id: str
    percentage: float


class Deployment(_Answer):
    id: str
    created_on: str
    source: str = ""
    author_email: str | None = None
    strategy: str = "percentage"
    versions: list[DeploymentVersion]
    annotations: dict[str, str] = Field(default_factory=dict)

    @property
    def message(self) -> str | None:
        return self.annotations.get("workers/message")

    @property
    def sole_version_id(self) -> str | None:
        """The version serving all traffic, or None during a gradual (two-version) deployment."""
        full = [v.version_id for v in self.versions if v.percentage >= 100]
        return full[0] if len(self.versions) == 1 and full else None


class TokenStatus(_Answer):
    id: str
    status: Literal["active", "disabled", "expired"] | str
    expires_on: str | None = None
    not_before: str | None = None
    # Which verify call answered: "user" (/user/tokens/verify) or "account" (/accounts/{id}/tokens/verify).
    owner: Literal["user", "account"] = "user"

    @property
    def active(self) -> bool:
        return self.status == "active"


def annotation_message(text: str) -> str:
    """A message that fits the API's annotation limit: whitespace runs made one space, and past MAX_MESSAGE_BYTES
    of UTF-8 cut between two characters with an ellipsis, so that we know it was cut and say so, rather than
    letting the API drop the end silently (or cut a character in half)."""
    text = " ".join(text.split())
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return text
    room = MAX_MESSAGE_BYTES - len(_ELLIPSIS.encode("utf-8"))
    return encoded[:room].decode("utf-8", errors="ignore").rstrip() + _ELLIPSIS
