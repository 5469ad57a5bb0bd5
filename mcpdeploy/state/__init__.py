"""Where the lock, the journal and the secret-push records live: one interface, two backends.

`LocalBackend` keeps them in `<project>/.mcpdeploy/` exactly as before; `S3Backend` keeps them in a bucket of the
team's S3-compatible storage (Cloudflare R2, AWS S3, MinIO...), so every machine that runs mcpdeploy for one
environment shares one lock, one journal and one record of what was pushed.

Everything is addressed by a name relative to the state root, the same on both backends:

    locks/<env>.lock              the lease (see mcpdeploy.state.lock)
    journal/...                   the runs (see `append_event` / `journal_sources`)
    pushed-secrets/<env>.json     keyed fingerprints of what was pushed (see mcpdeploy.state.secret_pushes)

The lease needs compare-and-swap, which both backends give: `create` fails when the name exists (S3:
`If-None-Match: *`), `replace` and `delete` fail when the object is no longer the version the caller read or
wrote (S3: `If-Match: <etag>`; local: a digest of the file, checked under a per-name flock). So two runs can
never both believe they hold a lease, whether they share a disk or only a bucket.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mcpdeploy.state.backend import (
    JOURNAL,
    LOCKS,
    PUSHED_SECRETS,
    Conflict,
    StateBackend,
    Stored,
    lock_name,
    pushed_secrets_name,
)

if TYPE_CHECKING:
    from mcpdeploy.project.settings import Settings

# The interface is re-exported: callers name the backend's types from the package.
__all__ = ["JOURNAL", "LOCKS", "PUSHED_SECRETS", "Conflict", "StateBackend", "Stored", "as_backend", "lock_name",
           "open_state", "pushed_secrets_name"]

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
