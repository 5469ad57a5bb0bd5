"""The environment's lock on S3-compatible storage: two machines (here two processes with two project folders and
two `.mcpdeploy/`) never both hold it, a lease taken over after its expiry stops its old holder at its next
renewal, and `unlock --force` works from any machine."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcpdeploy.errors import LockHeld
from mcpdeploy.project.settings import load_settings
from mcpdeploy.state import open_state
from mcpdeploy.state.lock import Lock, read_lock
from tests.state.conftest import SharedState

ROUNDS = 3
RACER = """
import json, sys, time
from pathlib import Path
from mcpdeploy.project.settings import load_settings
from mcpdeploy.errors import LockHeld
from mcpdeploy.state.lock import Lock
from mcpdeploy.state import open_state

folder, start = Path(sys.argv[1]), float(sys.argv[2])
state = open_state(load_settings(folder))
results = []
for round in range({rounds}):
    time.sleep(max(0.0, start + round * 0.6 - time.time()))  # both processes try at the same instant
    lock = Lock(state, None, command="provision")
    try:
        lock.acquire()
    except LockHeld as exc:
        results.append("refused: " + exc.message)
        continue
    results.append("held")
    time.sleep(0.3)
    lock.release()
print(json.dumps(results))
"""


def machine(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_two_machines_racing_for_the_lock_never_both_hold_it(shared_state: SharedState, tmp_path: Path) -> None:
    folders = [machine(tmp_path, "runner-a"), machine(tmp_path, "runner-b")]
    start = time.time() + 2.0  # past both interpreters' start-up
    racers = [subprocess.Popen([sys.executable, "-c", RACER.format(rounds=ROUNDS), str(f), str(start)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in folders]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        outcomes.append(json.loads(out))
    for a, b in zip(*outcomes, strict=True):
        assert sorted(x == "held" for x in (a, b)) == [False, True], (a, b)  # exactly one winner every round
        refused = a if a != "held" else b
        assert "locked by" in refused or "taken by another run" in refused
    assert all(not (f / ".mcpdeploy" / "locks").exists() for f in folders)  # the lease lives in the bucket only
    assert shared_state.objects() == {}  # and every winner released it


def test_a_lease_taken_over_after_expiry_stops_its_holder_at_the_next_renewal(
        shared_state: SharedState, tmp_path: Path) -> None:
    holder = Lock(open_state(load_settings(machine(tmp_path, "laptop"))), None, command="provision")
    holder.acquire()
    # Another runner, for which the holder's lease has expired (its clock is past the expiry).
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    warnings: list[str] = []
    thief = Lock(open_state(load_settings(machine(tmp_path, "ci"))), None, command="provision",
                 clock=lambda: later, on_takeover=warnings.append)
    taken = thief.acquire()
    assert taken is not None and taken.reason == "expired"
    assert "its lease expired" in warnings[0]

    with pytest.raises(LockHeld, match="lost its lock"):
        holder.renew()
    assert holder.release() is False  # the old holder cannot remove the new holder's lease
    current = read_lock(thief.backend, None)
    assert current is not None and thief.info is not None and current.lease_id == thief.info.lease_id
    assert thief.release() is True
    assert read_lock(thief.backend, None) is None


def test_a_live_lease_held_elsewhere_is_refused_with_its_holder_named(
        cli, shared_state: SharedState, tmp_path: Path) -> None:
    holder = Lock(open_state(load_settings(machine(tmp_path, "laptop"))), None, command="provision")
    holder.acquire()
    other = Lock(open_state(load_settings(machine(tmp_path, "ci"))), None, command="rollback")
    with pytest.raises(LockHeld, match=r"locked by .* running `mcpdeploy provision`") as refused:
        other.acquire()
    assert refused.value.hint is not None and "mcpdeploy unlock --force" in refused.value.hint
    # From a third folder: the lock is the bucket's, so unlock sees and removes it.
    third = machine(tmp_path, "ops")
    result = cli("unlock", "--force", "--project-dir", str(third))
    assert result.exit_code == 0, result.stderr
    assert "Removed the lock" in result.stderr
    assert read_lock(holder.backend, None) is None
    with pytest.raises(LockHeld):
        holder.renew()
