"""The state in `<project>/.mcpdeploy/`, as mcpdeploy has always kept it: the same files, modes and locking.

Read-decide-write on a lease runs under an flock on a side file (`locks/<env>.guard`), which the kernel releases
if the process dies, so the guard itself can never go stale; versions are digests of the file's bytes.

The journal is one file per environment, `journal/<env>.jsonl`. Each line is written with a single `write()` on
an O_APPEND descriptor and fsynced, so concurrent writers never interleave and a crash loses at most the line
being written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from mcpdeploy.errors import McpdeployError
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.state.backend import JOURNAL, Conflict, StateBackend, Stored


class LocalBackend(StateBackend):
    kind = "local"

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def path_of(self, name: str) -> Path:
        return self.state_dir.joinpath(*name.split("/"))

    def describe(self, name: str) -> str:
        return str(self.path_of(name))

    def read(self, name: str) -> Stored | None:
        path = self.path_of(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise McpdeployError(f"cannot read {path}: {exc.strerror}") from exc
        return Stored(data, _digest(data))

    def create(self, name: str, data: bytes) -> str:
        path = self.path_of(name)
        _private_folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise Conflict(name) from exc
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return _digest(data)

    def replace(self, name: str, data: bytes, version: str) -> str:
        current = self.read(name)
        if current is None or current.version != version:
            raise Conflict(name)
        write_atomic(self.path_of(name), data, mode=0o600)
        return _digest(data)

    def delete(self, name: str, version: str | None = None) -> None:
        if version is not None:
            current = self.read(name)
            if current is None or current.version != version:
                raise Conflict(name)
        self.path_of(name).unlink(missing_ok=True)

    def put(self, name: str, data: bytes) -> None:
        path = self.path_of(name)
        _private_folder(path.parent)
        write_atomic(path, data, mode=0o600)

    def step(self, name: str) -> contextlib.AbstractContextManager[None]:
        return _flock(self.path_of(name).with_suffix(".guard"))

    # --- the journal ---

    def journal_path(self, environment: str) -> Path:
        return self.state_dir / JOURNAL / f"{environment}.jsonl"

    def journal_location(self, environment: str) -> str:
        return str(self.journal_path(environment))

    def append_event(self, environment: str, run_id: str, line: bytes) -> None:
        path = self.journal_path(environment)
        data = line
        try:
            _private_folder(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            try:
                # O_APPEND alone keeps whole lines apart, but the newline check below reads the end of the file,
                # and another writer's line may be half-copied there; the flock makes check-and-write one step.
                _lock_exclusively(fd)
                size = os.fstat(fd).st_size
                if size == 0:
                    os.fchmod(fd, 0o600)
                    _fsync_folder(path.parent)
                # A crash mid-write can leave a last line without its newline; start on a fresh line so ours stays
                # whole (the cut-off one is skipped by readers).
                elif hasattr(os, "pread") and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                written = os.write(fd, data)
                if written != len(data):
                    raise McpdeployError(f"{path}: only {written} of {len(data)} bytes were written (disk full?)")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise McpdeployError(f"cannot write the journal {path}: {exc.strerror}",
                                 hint="Check the folder's permissions and free space.") from exc

    def journal_sources(self, environment: str) -> Iterator[tuple[str, bytes]]:
        path = self.journal_path(environment)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise McpdeployError(f"cannot read the journal {path}: {exc.strerror}") from exc
        yield str(path), raw


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _private_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


@contextlib.contextmanager
def _flock(guard_file: Path) -> Iterator[None]:
    """Serialise read-decide-write on a lease between processes of this host."""
    guard_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform == "win32":  # no flock; O_EXCL creation still stops two runs taking a free lock
        yield
        return
    import fcntl

    fd = os.open(guard_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the flock


def _lock_exclusively(fd: int) -> None:
    """Held until the descriptor is closed. Windows has no flock; there only the single write() protects lines."""
    if sys.platform != "win32":
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _fsync_folder(folder: Path) -> None:
    """Make a newly created file's name durable too (POSIX only; Windows cannot open folders)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
