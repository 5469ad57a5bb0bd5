"""The lease lock: one mutating run per environment at a time, and a lock that heals instead of lingering.

The lease is a small JSON file, `<project>/.mcpdeploy/locks/<environment or "default">.lock`, holding who took it,
from which process on which host, for what command, and until when. A lease is honoured while it has not
expired and (on the host that wrote it) its process is alive; otherwise the next run takes it over and says so.
Ctrl-C and SIGTERM release it before the run unwinds, and `mcpdeploy unlock --force` handles the rest.

Reading a lease and deciding to replace it must be one step, or two runs could both decide a stale lease is
theirs; on POSIX that step runs under an flock on a side file (`<env>.guard`), which the kernel releases if the
process dies, so the guard itself can never go stale.
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
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.journal import environment_file_stem, who_am_i

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
    return state_dir / LOCKS_DIR / f"{environment_file_stem(environment)}.lock"


def unlock_command(state_dir: Path, environment: str | None) -> str:
    """The exact command that removes this lock, as the person reading the message would type it."""
    parts = ["mcpdeploy", "unlock", "--force"]
    project = state_dir.parent
    with contextlib.suppress(OSError):
        if project.resolve() != Path.cwd().resolve():
            parts += ["--project-dir", str(project)]
    if environment is not None:
        parts += ["--env", environment]
    return shlex.join(parts)


class Lock:
    """`with Lock(settings.state_dir, settings.env_name, command="provision"):` ... Raises LockHeld (exit 4)."""

    def __init__(
        self,
        state_dir: Path,
        environment: str | None,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        *,
        command: str = "",
        on_takeover: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.environment = environment
        self.path = lock_path(state_dir, environment)
        self.ttl = timedelta(seconds=ttl_seconds)
        self.command = command
        self.info: LockInfo | None = None  # ours, while held
        self.taken_over: TakenOver | None = None
        self._on_takeover = on_takeover
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._previous_handlers: dict[int, SignalHandler] = {}

    @property
    def held(self) -> bool:
        return self.info is not None

    def acquire(self) -> TakenOver | None:
        """Take the lease, or raise LockHeld naming the holder. Returns what was taken over, if anything."""
        if self.info is not None:
            raise RuntimeError(f"{self.path} is already held by this Lock")
        with self._guard():
            existing = _read_lease(self.path)
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
                              f"{unlock_command(self.state_dir, self.environment)}"),
                    )
                takeover = TakenOver(previous=existing, reason=reason)
            if takeover is not None:
                self.path.unlink(missing_ok=True)
            info = LockInfo(
                lease_id=random_source.token_hex(8), owner=who_am_i(), pid=os.getpid(), host=socket.gethostname(),
                command=self.command, environment=self.environment, acquired_at=now, expires_at=now + self.ttl,
            )
            self._create(info)
            self.info = info
        self.taken_over = takeover
        self._install_signal_handlers()
        if takeover is not None and self._on_takeover is not None:
            self._on_takeover(takeover.message())
        return takeover

    def renew(self) -> LockInfo:
        """Push the expiry a full TTL ahead; call it between steps of a long run. Raises LockHeld if the lease
        was lost (it expired and another run took it over, or someone ran `unlock --force`)."""
        if self.info is None:
            raise RuntimeError("renew() before acquire()")
        with self._guard():
            current = _read_lease(self.path)
            if not isinstance(current, LockInfo) or current.lease_id != self.info.lease_id:
                holder = current.describe() if isinstance(current, LockInfo) else "nobody"
                self._forget()
                raise LockHeld(f"this run lost its lock on {self.path} (now held by {holder}).",
                               hint="Another run may be changing the same environment: check `mcpdeploy history`.")
            renewed = self.info.model_copy(update={"expires_at": self._clock() + self.ttl})
            write_atomic(self.path, renewed.model_dump_json(indent=2) + "\n", mode=0o600)
            self.info = renewed
        return renewed

    def release(self) -> bool:
        """Remove the lease if it is still ours; True if it was removed. Safe to call more than once."""
        if self.info is None:
            return False
        removed = False
        with self._guard():
            current = _read_lease(self.path)
            if isinstance(current, LockInfo) and current.lease_id == self.info.lease_id:
                self.path.unlink(missing_ok=True)
                removed = True
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

    def _create(self, info: LockInfo) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = (info.model_dump_json(indent=2) + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:  # only without a guard (Windows): another run got there first
            raise LockHeld(f"{self.path} was taken by another run a moment ago.",
                           hint="Wait for that run to finish; `mcpdeploy history` shows it.") from exc
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _forget(self) -> None:
        self.info = None
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
        if self.path in _guards_held:
            # Releasing now would wait on the guard this very process holds; let the guard's owner finish its
            # step, then it releases us and raises.
            _deferred_releases.append(self)
            return
        self.release()
        raise KeyboardInterrupt

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return guard(self.path)


# Guards this process holds right now, and leases whose signal arrived while one was held (see _on_signal).
_guards_held: set[Path] = set()
_deferred_releases: list[Lock] = []


@contextlib.contextmanager
def guard(path: Path) -> Iterator[None]:
    """Serialise read-decide-write on a lease between processes of this host."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform == "win32":  # no flock; O_EXCL creation still stops two runs taking a free lock
        yield
        return
    import fcntl

    fd = os.open(path.with_suffix(".guard"), os.O_RDWR | os.O_CREAT, 0o600)
    _guards_held.add(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the flock
        _guards_held.discard(path)
    if _deferred_releases and not _guards_held:
        pending = list(_deferred_releases)
        _deferred_releases.clear()
        for lock in pending:
            lock.release()
        raise KeyboardInterrupt


class _Unreadable:
    pass


_UNREADABLE = _Unreadable()


def _read_lease(path: Path) -> LockInfo | _Unreadable | None:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise McpdeployError(f"cannot read the lock {path}: {exc.strerror}") from exc
    try:
        return LockInfo.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        return _UNREADABLE


def read_lock(state_dir: Path, environment: str | None) -> LockInfo | None:
    """The current lease, or None. An unreadable lease file raises McpdeployError naming it."""
    path = lock_path(state_dir, environment)
    lease = _read_lease(path)
    if isinstance(lease, _Unreadable):
        raise McpdeployError(f"{path} is not a readable lock file.",
                             hint=f"Remove it with: {unlock_command(state_dir, environment)}")
    return lease


def force_unlock(state_dir: Path, environment: str | None) -> LockInfo | None:
    """Remove the lease whoever holds it. Returns what it held (None if there was no lock, or it was unreadable)."""
    path = lock_path(state_dir, environment)
    if not path.parent.is_dir():
        return None
    with guard(path):
        lease = _read_lease(path)
        path.unlink(missing_ok=True)
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
