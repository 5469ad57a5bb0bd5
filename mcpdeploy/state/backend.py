"""The state backend's interface: the operations mcpdeploy's state needs, and the names objects live under. The
backends (`local`, `s3`) implement it; the package chooses one (`open_state`)."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

LOCKS = "locks"
JOURNAL = "journal"
PUSHED_SECRETS = "pushed-secrets"


class Conflict(Exception):
    """A conditional write or delete found another version than the one it was conditioned on."""


@dataclass(frozen=True)
class Stored:
    data: bytes
    version: str  # what `replace` and `delete` are conditioned on: an ETag (S3) or a digest (local)


class StateBackend(abc.ABC):
    """The operations mcpdeploy's state needs, and nothing more (no listing of arbitrary folders, no renames)."""

    kind: str  # "local" | "s3"

    @abc.abstractmethod
    def describe(self, name: str) -> str:
        """Where `name` lives, for people: a path, or an s3:// URL."""

    # --- small objects: the lease and the records ---

    @abc.abstractmethod
    def read(self, name: str) -> Stored | None:
        """The object and its version, or None when there is none."""

    @abc.abstractmethod
    def create(self, name: str, data: bytes) -> str:
        """Write `name` only if it does not exist (else Conflict); returns the new version."""

    @abc.abstractmethod
    def replace(self, name: str, data: bytes, version: str) -> str:
        """Overwrite `name` only if it still is `version` (else Conflict); returns the new version."""

    @abc.abstractmethod
    def delete(self, name: str, version: str | None = None) -> None:
        """Remove `name` (absent is fine); with `version`, only if it still is that version, else Conflict (also
        when it is gone)."""

    @abc.abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Write `name` whatever it holds (records that only this environment's lock holder writes)."""

    def step(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Around a read-decide-write on `name`. Conditional writes make it unnecessary on S3; locally it is an
        flock that also keeps older mcpdeploy versions (which rely on it) out of the same step."""
        return contextlib.nullcontext()

    # --- the journal ---

    @abc.abstractmethod
    def append_event(self, environment: str, run_id: str, line: bytes) -> None:
        """Add one journal line (ending in a newline) to the run `run_id` of `environment`."""

    @abc.abstractmethod
    def journal_sources(self, environment: str) -> Iterator[tuple[str, bytes]]:
        """The journal of `environment` as (where, content) pieces, in the order the runs happened."""

    @abc.abstractmethod
    def journal_location(self, environment: str) -> str:
        """Where the journal of `environment` is, for people."""

    def close(self) -> None:  # noqa: B027 (only the S3 backend has something to close)
        """Release connections."""


def lock_name(stem: str) -> str:
    return f"{LOCKS}/{stem}.lock"


def pushed_secrets_name(stem: str) -> str:
    return f"{PUSHED_SECRETS}/{stem}.json"
