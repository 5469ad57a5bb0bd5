"""The lease lock: one run per environment, a message that says who holds it, and no stale locks after Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcpdeploy.errors import LockHeld
from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock, LockInfo, force_unlock, lock_path, read_lock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def state_dir(project: Path) -> Path:
    return project / ".mcpdeploy"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_second_run_on_the_same_environment_is_refused_with_exit_code_4(state_dir: Path) -> None:
    with Lock(state_dir, "staging", command="provision") as first:
        with pytest.raises(LockHeld) as raised:
            Lock(state_dir, "staging", command="rollback").acquire()
        assert first.info is not None
        error = raised.value
        assert error.exit_code == 4
        assert f"locked by {first.info.owner} (pid {os.getpid()} on {socket.gethostname()})" in error.message
        assert "running `mcpdeploy provision`" in error.message
        assert "since " in error.message
        assert error.hint is not None and error.hint.endswith("mcpdeploy unlock --force --env staging")
    assert not lock_path(state_dir, "staging").exists()


def test_environments_are_locked_separately(state_dir: Path) -> None:
    with Lock(state_dir, "staging", command="provision"), Lock(state_dir, None, command="provision") as default:
        assert default.path == state_dir / "locks" / "default.lock"


def test_the_unlock_command_names_the_project_when_run_from_elsewhere(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Lock(state_dir, None, command="provision"), pytest.raises(LockHeld) as raised:
        Lock(state_dir, None).acquire()
    assert raised.value.hint is not None
    assert raised.value.hint.endswith(f"mcpdeploy unlock --force --project-dir {state_dir.parent}")


def test_the_lease_file_says_who_holds_it_and_until_when(state_dir: Path) -> None:
    with Lock(state_dir, None, ttl_seconds=600, command="provision", clock=Clock()) as lock:
        stored = json.loads(lock.path.read_text())
        assert stored["pid"] == os.getpid()
        assert stored["host"] == socket.gethostname()
        assert stored["command"] == "provision"
        assert stored["owner"].endswith("@" + socket.gethostname())
        info = read_lock(state_dir, None)
        assert info is not None
        assert (info.acquired_at, info.expires_at) == (T0, T0 + timedelta(minutes=10))
        assert oct(lock.path.stat().st_mode & 0o777) == oct(0o600)


def test_an_expired_lease_is_taken_over_and_the_takeover_is_reported(state_dir: Path) -> None:
    clock = Clock()
    stale = Lock(state_dir, None, ttl_seconds=900, command="provision", clock=clock)
    stale.acquire()
    clock.now = T0 + timedelta(minutes=14)
    with pytest.raises(LockHeld):
        Lock(state_dir, None, clock=clock).acquire()

    clock.now = T0 + timedelta(minutes=16)
    messages: list[str] = []
    fresh = Lock(state_dir, None, command="rollback", clock=clock, on_takeover=messages.append)
    taken = fresh.acquire()
    assert taken is not None and taken.reason == "expired"
    assert messages == [taken.message()]
    assert "its lease expired" in messages[0] and "`mcpdeploy provision`" in messages[0]

    assert stale.release() is False  # no longer ours: the new holder's lease stays
    current = read_lock(state_dir, None)
    assert current is not None and current.command == "rollback"
    assert fresh.release() is True


def test_renew_keeps_a_long_run_s_lease_and_notices_when_it_was_lost(state_dir: Path) -> None:
    clock = Clock()
    long_run = Lock(state_dir, None, ttl_seconds=900, clock=clock)
    long_run.acquire()
    clock.now = T0 + timedelta(minutes=10)
    assert long_run.renew().expires_at == T0 + timedelta(minutes=25)
    clock.now = T0 + timedelta(minutes=20)
    with pytest.raises(LockHeld):
        Lock(state_dir, None, clock=clock).acquire()

    force_unlock(state_dir, None)
    with pytest.raises(LockHeld, match="lost its lock"):
        long_run.renew()
    assert not long_run.held


def test_a_lease_from_another_host_is_honoured_until_it_expires(state_dir: Path) -> None:
    clock = Clock()
    lock = Lock(state_dir, None, clock=clock)
    lock.acquire()
    elsewhere = LockInfo.model_validate_json(lock.path.read_text()).model_copy(
        update={"host": "ci-runner-7", "pid": 1_999_999, "owner": "ci@ci-runner-7"})
    lock.path.write_text(elsewhere.model_dump_json())
    with pytest.raises(LockHeld, match="ci@ci-runner-7"):
        Lock(state_dir, None, clock=clock).acquire()
    clock.now = T0 + timedelta(hours=1)
    taken = Lock(state_dir, None, clock=clock).acquire()
    assert taken is not None and taken.reason == "expired"


def test_an_unreadable_lease_file_is_taken_over(state_dir: Path) -> None:
    path = lock_path(state_dir, None)
    path.parent.mkdir(parents=True)
    path.write_text("")  # what a writer killed between create and write leaves
    taken = Lock(state_dir, None).acquire()
    assert taken is not None and taken.reason == "unreadable"


def test_force_unlock_removes_any_holder_and_returns_it(state_dir: Path) -> None:
    assert force_unlock(state_dir, None) is None
    holder = Lock(state_dir, None, command="provision")
    holder.acquire()
    removed = force_unlock(state_dir, None)
    assert removed is not None and removed.command == "provision" and removed.pid == os.getpid()
    assert read_lock(state_dir, None) is None
    assert holder.release() is False


def test_ctrl_c_in_this_process_releases_the_lock_and_restores_the_handler(state_dir: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), Lock(state_dir, None) as lock:
        assert signal.getsignal(signal.SIGINT) != before
        os.kill(os.getpid(), signal.SIGINT)
    assert not lock.path.exists()
    assert signal.getsignal(signal.SIGINT) == before


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mcpdeploy.state.journal import Journal
    from mcpdeploy.state.lock import Lock

    state_dir = Path(sys.argv[1])
    with Lock(state_dir, None, command="provision"), \\
            Journal(state_dir, None).start("provision", [], None, {}) as run:
        run.change({"resource": "table:t", "kind": "create_table", "action": "create", "outcome": "done"})
        print("locked", flush=True)
        sys.stdin.readline()  # hold the lock until told (or signalled)
""")


@pytest.fixture
def holder(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process that took the environment's lock and waits."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(state_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "locked\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_a_lock_held_by_another_process_refuses_then_heals_once_that_process_is_killed(
    state_dir: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(LockHeld) as raised:
        Lock(state_dir, None, command="provision").acquire()
    assert f"(pid {holder.pid} on {socket.gethostname()})" in raised.value.message

    holder.kill()  # SIGKILL: no handler runs, the lease stays behind
    holder.wait(timeout=30)
    assert lock_path(state_dir, None).exists()

    messages: list[str] = []
    taken = Lock(state_dir, None, on_takeover=messages.append).acquire()
    assert taken is not None and taken.reason == "process_gone"
    assert f"process {holder.pid} no longer runs" in messages[0]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_no_lock_and_records_the_interruption(
    state_dir: Path, holder: subprocess.Popen[str], signum: int
) -> None:
    holder.send_signal(signum)
    holder.wait(timeout=30)
    assert holder.returncode != 0
    assert not lock_path(state_dir, None).exists()
    [run] = Journal(state_dir, None).runs()
    assert (run.outcome, run.changed) == ("interrupted", 1)
