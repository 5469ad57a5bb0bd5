"""Where the lock, the journal and the secret-push records live: one interface, two backends.

`LocalBackend` keeps them in `<project>/.mcpdeploy/` exactly as before; `S3Backend` keeps them in a bucket of the
team's S3-compatible storage (Cloudflare R2, AWS S3, MinIO...), so every machine that runs mcpdeploy for one
environment shares one lock, one journal and one record of what was pushed.

Everything is addressed by a name relative to the state root, the same on both backends:

    locks/<env>.lock              the lease (see mcpdeploy.lock)
    journal/...                   the runs (see `append_event` / `journal_sources`)
    pushed-secrets/<env>.json     keyed fingerprints of what was pushed (see mcpdeploy.plan.worker_secrets)

The lease needs compare-and-swap, which both backends give: `create` fails when the name exists (S3:
`If-None-Match: *`), `replace` and `delete` fail when the object is no longer the version the caller read or
wrote (S3: `If-Match: <etag>`; local: a digest of the file, checked under a per-name flock). So two runs can
never both believe they hold a lease, whether they share a disk or only a bucket.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpdeploy.config import Settings

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


def open_state(settings: Settings) -> StateBackend:
    """The backend `[state]` chooses. The S3 client is imported only here, when it is used."""
    state = settings.state
    if state.backend == "s3":
        from mcpdeploy.state.s3 import S3Backend, S3Location

        return S3Backend(S3Location.from_settings(state))
    from mcpdeploy.state.local import LocalBackend

    return LocalBackend(settings.state_dir)


def as_backend(state: Path | StateBackend) -> StateBackend:
    """Callers that know only a `.mcpdeploy/` folder (tests, older call sites) get the local backend on it."""
    if isinstance(state, StateBackend):
        return state
    from mcpdeploy.state.local import LocalBackend

    return LocalBackend(state)


def lock_name(stem: str) -> str:
    return f"{LOCKS}/{stem}.lock"


def pushed_secrets_name(stem: str) -> str:
    return f"{PUSHED_SECRETS}/{stem}.json"
