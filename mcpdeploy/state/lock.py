"""The lease lock: one mutating run per environment at a time, and a lock that heals instead of lingering.

The lease is a small JSON object, `locks/<environment or "default">.lock` in the state backend (by default the
file `<project>/.mcpdeploy/locks/...`, see mcpdeploy.state), holding who took it, from which process on which
host, for what command, and until when. A lease is honoured while it has not expired and (on the host that wrote
it) its process is alive; otherwise the next run takes it over and says so. Ctrl-C and SIGTERM release it before
the run unwinds, and `mcpdeploy unlock --force` handles the rest.

Two runs must never both decide a stale lease is theirs, so every write is conditional on the version read or
written before it: taking a free lease creates it only if absent, a takeover and a renewal replace only the
version they saw, a release deletes only its own. The loser of a race gets LockHeld; a holder whose lease was
taken over finds out at its next renewal, before its next write.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as random_source
import shlex
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from pydantic import BaseModel, ValidationError

from mcpdeploy.errors import LockHeld, McpdeployError
from mcpdeploy.state import Conflict, StateBackend, Stored, as_backend, lock_name
from mcpdeploy.state.journal import environment_file_stem, who_am_i

LOCKS_DIR = "locks"
DEFAULT_TTL_SECONDS = 900
_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)

Clock = Callable[[], datetime]
SignalHandler = Any  # what signal.getsignal returns: a callable, SIG_DFL/SIG_IGN, or None


class LockInfo(BaseModel):
    lease_id: str  # tells our lease from a later one that took its place
    owner: str  # user@host
    pid: int
    host: str
    command: str
    environment: str | None = None
    acquired_at: datetime
    expires_at: datetime

    def running_here(self) -> bool:
        """True when the holder's process is alive on this very host (elsewhere it cannot be known)."""
        return self.host == socket.gethostname() and process_alive(self.pid)

    def describe(self) -> str:
        return (f"{self.owner} (pid {self.pid} on {self.host}) running `mcpdeploy {self.command}` "
                f"since {_human_time(self.acquired_at)}; the lease expires at {_human_time(self.expires_at)}")


class TakenOver(BaseModel):
    """A stale lease this run replaced, and why it was judged stale."""

    previous: LockInfo | None  # None when the old file was unreadable
    reason: str  # "expired" | "process_gone" | "unreadable"

    def message(self) -> str:
        if self.previous is None:
            return "took over an unreadable lock file (its writer died while writing it)"
        why = {"expired": "its lease expired", "process_gone": f"process {self.previous.pid} no longer runs"}
        return (f"took over the lock left by {self.previous.owner} (`mcpdeploy {self.previous.command}`, "
                f"since {_human_time(self.previous.acquired_at)}): {why.get(self.reason, self.reason)}")


def lock_path(state_dir: Path, environment: str | None) -> Path:
    """Where the local backend keeps the lease."""
    return state_dir / LOCKS_DIR / f"{environment_file_stem(environment)}.lock"


def unlock_command(state: Path | StateBackend, environment: str | None) -> str:
    """The exact command that removes this lock, as the person reading the message would type it."""
    parts = ["mcpdeploy", "unlock", "--force"]
    state_dir = getattr(as_backend(state), "state_dir", None)
    if isinstance(state_dir, Path):  # a shared backend is the same from every folder of the project
        project = state_dir.parent
        with contextlib.suppress(OSError):
            if project.resolve() != Path.cwd().resolve():
                parts += ["--project-dir", str(project)]
    if environment is not None:
        parts += ["--env", environment]
    return shlex.join(parts)


class Lock:
    """`with Lock(state, settings.env_name, command="provision"):` ... Raises LockHeld (exit 4). `state` is a
    StateBackend, or a `.mcpdeploy/` folder for the local one."""

    def __init__(
        self,
        state: Path | StateBackend,
        environment: str | None,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        *,
        command: str = "",
        on_takeover: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.backend = as_backend(state)
        self.environment = environment
        self.name = lock_name(environment_file_stem(environment))
        self.location = self.backend.describe(self.name)
        self.path = Path(self.location)  # meaningful for the local backend only
        self.ttl = timedelta(seconds=ttl_seconds)
        self.command = command
        self.info: LockInfo | None = None  # ours, while held
        self.taken_over: TakenOver | None = None
        self._on_takeover = on_takeover
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._previous_handlers: dict[int, SignalHandler] = {}
        self._version: str | None = None  # of the lease object we wrote last

    @property
    def held(self) -> bool:
        return self.info is not None

    def acquire(self) -> TakenOver | None:
        """Take the lease, or raise LockHeld naming the holder. Returns what was taken over, if anything."""
        if self.info is not None:
            raise RuntimeError(f"{self.location} is already held by this Lock")
        with self._guard():
            stored = self.backend.read(self.name)
            existing = _parse(stored)
            now = self._clock()
            takeover: TakenOver | None = None
            if existing is _UNREADABLE:
                takeover = TakenOver(previous=None, reason="unreadable")
            elif isinstance(existing, LockInfo):
                reason = self._stale_reason(existing, now)
                if reason is None:
                    raise LockHeld(
                        f"environment {environment_file_stem(self.environment)!r} is locked by {existing.describe()}.",
                        hint=(f"Wait for that run to finish. If it is not running any more, remove the lock with: "
                              f"{unlock_command(self.backend, self.environment)}"),
                    )
                takeover = TakenOver(previous=existing, reason=reason)
            info = LockInfo(
                lease_id=random_source.token_hex(8), owner=who_am_i(), pid=os.getpid(), host=socket.gethostname(),
                command=self.command, environment=self.environment, acquired_at=now, expires_at=now + self.ttl,
            )
            self._version = self._write(info, stored.version if stored is not None else None)
            self.info = info
        self.taken_over = takeover
        self._install_signal_handlers()
        if takeover is not None and self._on_takeover is not None:
            self._on_takeover(takeover.message())
        return takeover

    def renew(self) -> LockInfo:
        """Push the expiry a full TTL ahead; call it between steps of a long run. Raises LockHeld if the lease
        was lost (it expired and another run took it over, or someone ran `unlock --force`): one conditional
        write, which fails if the lease is not the very one this run wrote last."""
        if self.info is None or self._version is None:
            raise RuntimeError("renew() before acquire()")
        renewed = self.info.model_copy(update={"expires_at": self._clock() + self.ttl})
        with self._guard():
            try:
                self._version = self.backend.replace(self.name, _encode(renewed), self._version)
            except Conflict:
                current = _parse(self.backend.read(self.name))
                if not (isinstance(current, LockInfo) and current == renewed):  # else: our write landed after all
                    holder = current.describe() if isinstance(current, LockInfo) else "nobody"
                    self._forget()
                    raise LockHeld(f"this run lost its lock on {self.location} (now held by {holder}).",
                                   hint="Another run may be changing the same environment: check `mcpdeploy "
                                        "history`.") from None
            self.info = renewed
        return renewed

    def release(self) -> bool:
        """Remove the lease if it is still ours; True if it was removed. Safe to call more than once."""
        if self.info is None:
            return False
        removed = False
        with self._guard():
            try:
                self.backend.delete(self.name, self._version)
                removed = True
            except Conflict:
                pass  # taken over since: it is someone else's now
            finally:
                self._forget()
        return removed

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    # --- internals ---

    def _stale_reason(self, lease: LockInfo, now: datetime) -> str | None:
        if now >= lease.expires_at:
            return "expired"
        if lease.host == socket.gethostname() and not lease.running_here():
            return "process_gone"
        return None  # on another host its process cannot be checked from here: only expiry frees it

    def _write(self, info: LockInfo, replacing: str | None) -> str:
        """Create the lease, or replace the stale one seen (its version `replacing`); the new version."""
        data = _encode(info)
        try:
            if replacing is None:
                return self.backend.create(self.name, data)
            return self.backend.replace(self.name, data, replacing)
        except Conflict:
            # A write whose answer was lost and was sent again finds itself: that lease is ours.
            current = self.backend.read(self.name)
            if current is not None and _parse(current) == info:
                return current.version
            raise LockHeld(f"{self.location} was taken by another run a moment ago.",
                           hint="Wait for that run to finish; `mcpdeploy history` shows it.") from None

    def _forget(self) -> None:
        self.info = None
        self._version = None
        self._restore_signal_handlers()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python only lets the main thread set handlers; the `with` block still releases
        for signum in _SIGNALS:
            self._previous_handlers[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._step_key() in _guards_held:
            # Releasing now would wait on the guard this very process holds; let the guard's owner finish its
            # step, then it releases us and raises.
            _deferred_releases.append(self)
            return
        self.release()
        raise KeyboardInterrupt

    def _step_key(self) -> str:
        return self.location

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return guard(self.backend, self.name)


# Steps this process is inside right now, and leases whose signal arrived meanwhile (see _on_signal).
_guards_held: set[str] = set()
_deferred_releases: list[Lock] = []


@contextlib.contextmanager
def guard(backend: StateBackend, name: str) -> Iterator[None]:
    """One read-decide-write step on the lease `name`. A signal that arrives inside it is acted on at its end:
    releasing from the handler would wait on the local flock this very process holds."""
    key = backend.describe(name)
    with backend.step(name):
        _guards_held.add(key)
        try:
            yield
        finally:
            _guards_held.discard(key)
    if _deferred_releases and not _guards_held:
        pending = list(_deferred_releases)
        _deferred_releases.clear()
        for lock in pending:
            lock.release()
        raise KeyboardInterrupt


class _Unreadable:
    pass


_UNREADABLE = _Unreadable()


def _encode(info: LockInfo) -> bytes:
    return (info.model_dump_json(indent=2) + "\n").encode("utf-8")


def _parse(stored: Stored | None) -> LockInfo | _Unreadable | None:
    if stored is None:
        return None
    try:
        return LockInfo.model_validate(json.loads(stored.data.decode("utf-8")))
    except (ValueError, ValidationError):
        return _UNREADABLE


def read_lock(state: Path | StateBackend, environment: str | None) -> LockInfo | None:
    """The current lease, or None. An unreadable lease raises McpdeployError naming it."""
    backend = as_backend(state)
    name = lock_name(environment_file_stem(environment))
    lease = _parse(backend.read(name))
    if isinstance(lease, _Unreadable):
        raise McpdeployError(f"{backend.describe(name)} is not a readable lock file.",
                             hint=f"Remove it with: {unlock_command(backend, environment)}")
    return lease


def force_unlock(state: Path | StateBackend, environment: str | None) -> LockInfo | None:
    """Remove the lease whoever holds it. Returns what it held (None if there was no lock, or it was unreadable)."""
    backend = as_backend(state)
    name = lock_name(environment_file_stem(environment))
    if backend.read(name) is None:  # nothing to remove (and no guard file to leave behind)
        return None
    with guard(backend, name):
        lease = _parse(backend.read(name))
        backend.delete(name)
    return lease if isinstance(lease, LockInfo) else None


def process_alive(pid: int) -> bool:
    """Whether `pid` runs on this host. Errs on "alive" when it cannot tell (a live run must never be robbed)."""
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT there; leave it to the lease's expiry
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, run by another user
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that exited but was not yet reaped still answers kill(0); on Linux /proc tells them apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def _human_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
