"""`mcpdeploy state push` / `state pull`: copy an environment's journal and secret-push record between the local
`.mcpdeploy/` and the configured shared backend, so a team can move to it without losing its history.

Both directions only add what the other side lacks, so running either twice changes nothing the second time:
a run is copied when its id is missing there; a record when there is none there. A run or record present on both
sides with different content is left as it is and reported. The lease is never copied: it belongs to a running
process. Keys, backups and the sandbox never leave the machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mcpdeploy.errors import UsageError
from mcpdeploy.state import JOURNAL, Conflict, pushed_secrets_name
from mcpdeploy.state.local import LocalBackend
from mcpdeploy.state.s3 import S3Backend, journal_run_name, started


@dataclass
class Copied:
    runs: list[str] = field(default_factory=list)  # run ids copied
    kept: list[str] = field(default_factory=list)  # run ids or records on both sides with different content
    records: list[str] = field(default_factory=list)  # records copied
    present: int = 0  # runs and records already there, identical


def runs_in(content: bytes) -> dict[str, bytes]:
    """The lines of each run, in the order the runs appear, each line ending in a newline. A line that is not
    a journal event (a cut-off line) stays out: readers skip it anyway."""
    runs: dict[str, bytes] = {}
    for line in content.split(b"\n"):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("run_id"), str):
            runs[event["run_id"]] = runs.get(event["run_id"], b"") + line + b"\n"
    return runs


def push(local: LocalBackend, remote: S3Backend, environment: str) -> Copied:
    done = Copied()
    local_runs: dict[str, bytes] = {}
    for _, content in local.journal_sources(environment):
        local_runs.update(runs_in(content))
    for run_id, lines in local_runs.items():
        name = journal_run_name(environment, run_id)
        try:
            remote.create(name, lines)
            done.runs.append(run_id)
        except Conflict:
            there = remote.read(name)
            if there is not None and there.data == lines:
                done.present += 1
            else:
                done.kept.append(run_id)
    _copy_record(local, remote, environment, done)
    return done


def pull(remote: S3Backend, local: LocalBackend, environment: str) -> Copied:
    done = Copied()
    local_content = b"".join(content for _, content in local.journal_sources(environment))
    local_runs = runs_in(local_content)
    remote_runs: dict[str, bytes] = {}
    for _, content in remote.journal_sources(environment):
        remote_runs.update(runs_in(content))
    missing = {run_id: lines for run_id, lines in remote_runs.items() if run_id not in local_runs}
    for run_id, lines in remote_runs.items():
        if run_id in local_runs:
            if local_runs[run_id] == lines:
                done.present += 1
            else:
                done.kept.append(run_id)
    if missing:
        # Runs in the order they started (stable: runs that tie keep the local file's order, then the remote's).
        merged = sorted([*local_runs.items(), *missing.items()], key=lambda run: started(run[1]))
        local.put(f"{JOURNAL}/{environment}.jsonl", b"".join(lines for _, lines in merged))
        done.runs = list(missing)
    _copy_record(remote, local, environment, done)
    return done


def _copy_record(source: LocalBackend | S3Backend, target: LocalBackend | S3Backend, environment: str,
                 done: Copied) -> None:
    name = pushed_secrets_name(environment)
    record = source.read(name)
    if record is None:
        return
    try:
        target.create(name, record.data)
        done.records.append(name)
    except Conflict:
        there = target.read(name)
        if there is not None and there.data == record.data:
            done.present += 1
        else:
            done.kept.append(name)


def require_shared(backend: object) -> S3Backend:
    if not isinstance(backend, S3Backend):
        raise UsageError("state push and state pull copy between .mcpdeploy/ and a shared backend, and none is "
                         "configured.",
                         hint='Set [state] backend = "s3" and bucket in mcpdeploy.toml (or MCPDEPLOY_STATE_BACKEND '
                              "and MCPDEPLOY_STATE_BUCKET) first.")
    return backend

