"""The journal: an append-only record of every mutating run, per environment, that `rollback` and `history` read.

Layout: in the state backend (mcpdeploy.state); locally `<project>/.mcpdeploy/journal/<environment or
"default">.jsonl` (folder 0700, file 0600), on S3 one object per run. Each line is one event; a run is the events
sharing a `run_id`:

    run_started     run_id, time, who, command, argv, plan_digest, target, started_ns
    change_applied  run_id, time, resource, kind, action, ids, before, outcome ("done" | "failed"), error
    run_finished    run_id, time, outcome (see OUTCOMES), counts, seconds, error

Each event is written whole (locally with a single `write()` on an O_APPEND descriptor, fsynced), so concurrent
writers never interleave and a crash loses at most the line being written. Readers skip such a cut-off line and
report it rather than refusing the whole history.

No secret value is ever written: every string goes through the run's `Redactor`, and any key named like a
secret (`redaction.SECRET_NAMES`) has its whole value masked, wherever it appears in `ids`, `before` or `target`.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets as random_source
import socket
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcpdeploy.errors import McpdeployError, UsageError
from mcpdeploy.redaction import MASK, SECRET_NAMES, Redactor
from mcpdeploy.state import StateBackend, as_backend

JOURNAL_DIR = "journal"
DEFAULT_ENVIRONMENT = "default"
# "inconsistent": every change was applied, but reading back showed a service keeps something else (see
# errors.InconsistentResult).
OUTCOMES = ("succeeded", "failed", "partial", "interrupted", "no_changes", "inconsistent")
UNFINISHED = "unfinished"  # no run_finished line: the process was killed hard, or is still running
CHANGE_OUTCOMES = ("done", "failed")
_ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_LATEST_IDS_SHOWN = 5


def environment_file_stem(environment: str | None) -> str:
    """The file name (without suffix) for an environment's journal and lock; the name must be usable as one."""
    if environment is None:
        return DEFAULT_ENVIRONMENT
    if not _ENV_NAME.match(environment):
        raise UsageError(
            f"environment name {environment!r} cannot be used as a file name for its journal and lock",
            hint="Use letters, digits, '.', '_' and '-' in [env.NAME] names.",
        )
    return environment


def who_am_i() -> str:
    """user@host, as recorded in the journal and the lock."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no USER variable
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def new_run_id(now: datetime) -> str:
    """Sorts by start time (to the second); the random tail keeps ids unique across machines."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{random_source.token_hex(3)}"


# --- what readers get --------------------------------------------------------------------------------------


class ChangeRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    time: datetime
    resource: str
    kind: str
    action: str
    outcome: str
    ids: dict[str, Any] = Field(default_factory=dict)
    before: dict[str, Any] | None = None
    error: str | None = None


class RunSummary(BaseModel):
    """One line of `history`. `outcome` is one of OUTCOMES, or "unfinished" when the run never wrote its end."""

    model_config = ConfigDict(extra="ignore")

    run_id: str
    time: datetime
    who: str
    command: str
    plan_digest: str | None = None
    outcome: str = UNFINISHED
    changed: int = 0  # changes applied ("done")
    failed: int = 0  # changes attempted that failed
    seconds: float | None = None


class RunDetail(RunSummary):
    argv: list[str] = Field(default_factory=list)
    target: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    changes: list[ChangeRecord] = Field(default_factory=list)  # in the order they were applied


@dataclass
class JournalReading:
    """Everything a read found: the runs (oldest first as written) and the lines it had to skip, with why."""

    path: Path | str  # the journal file, or where a shared backend keeps it
    details: list[RunDetail] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path:LINE: reason", ready to print

    def runs(self) -> list[RunSummary]:
        """Newest first. File order is the truth (the lock serialises runs), not the clocks of the machines."""
        return [RunSummary.model_validate(d.model_dump(include=set(RunSummary.model_fields))) for d in
                reversed(self.details)]

    def run(self, run_id: str, *, commands: Collection[str] | None = None) -> RunDetail:
        """One run by id, unique id prefix, or "last": the newest run that changed something (optionally only
        among `commands`), since undoing or inspecting a run that did nothing is never what someone means."""
        if run_id == "last":
            for detail in reversed(self.details):
                if detail.changed and (commands is None or detail.command in commands):
                    return detail
            which = f" by {'/'.join(sorted(commands))}" if commands else ""
            raise UsageError(f"no run{which} in {self.path} changed anything yet, so there is no `last` run.")
        matches = [d for d in self.details if d.run_id.startswith(run_id)] if run_id else []
        exact = [d for d in matches if d.run_id == run_id]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        latest = ", ".join(d.run_id for d in reversed(self.details[-_LATEST_IDS_SHOWN:])) or "none recorded yet"
        if matches:
            raise UsageError(f"run id {run_id!r} matches {len(matches)} runs; give more of it (latest: {latest}).")
        raise UsageError(f"no run {run_id!r} in {self.path} (latest: {latest}).",
                         hint="`mcpdeploy history` lists the runs; `last` means the newest run that changed something.")


# --- writing -----------------------------------------------------------------------------------------------


class Journal:
    """The journal of one environment. `state` is a StateBackend, or a `.mcpdeploy/` folder for the local one."""

    def __init__(self, state: Path | StateBackend, environment: str | None, *,
                 redactor: Redactor | None = None) -> None:
        self.environment = environment
        self.backend = as_backend(state)
        self._stem = environment_file_stem(environment)
        journal_path = getattr(self.backend, "journal_path", None)
        self.path: Path | str = journal_path(self._stem) if journal_path else self.backend.journal_location(self._stem)
        self._redactor = redactor or Redactor()

    def start(self, command: str, argv: list[str], plan_digest: str | None, target: Mapping[str, Any]) -> RunHandle:
        """Record the start of a run. `argv` must already be free of secrets; it is redacted again anyway."""
        now = _utc_now()
        run_id = new_run_id(now)
        self.append({
            "event": "run_started", "run_id": run_id, "time": now.isoformat(), "who": who_am_i(),
            "command": command, "argv": list(argv), "plan_digest": plan_digest, "target": dict(target),
            # `time` has whole seconds (people read it); this orders runs started within one second, where the
            # journal is kept as one object per run rather than one file in order.
            "started_ns": time.time_ns(),
        })
        return RunHandle(self, run_id)

    def append(self, event: Mapping[str, Any]) -> None:
        """Write one event as one whole line. Raises McpdeployError naming where when it cannot."""
        line = json.dumps(self._scrub(event), ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        self.backend.append_event(self._stem, str(event["run_id"]), line.encode("utf-8"))

    def read(self) -> JournalReading:
        return read_journal_sources(self.path, self.backend.journal_sources(self._stem))

    def runs(self) -> list[RunSummary]:
        return self.read().runs()

    def run(self, run_id: str, *, commands: Collection[str] | None = None) -> RunDetail:
        return self.read().run(run_id, commands=commands)

    def _scrub(self, value: Any, key: str | None = None) -> Any:
        if key is not None and SECRET_NAMES.search(key):
            return MASK
        if isinstance(value, Mapping):
            return {str(k): self._scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._scrub(v) for v in value]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self._redactor.redact(str(value))


class RunHandle:
    """A run in progress. Use as a context manager so an exception or Ctrl-C still records how the run ended."""

    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal = journal
        self.run_id = run_id
        self.done = 0
        self.failed = 0
        self.finished_outcome: str | None = None
        self._started = time.monotonic()

    def change(self, applied: Mapping[str, Any], before: Mapping[str, Any] | None = None) -> None:
        """Record one applied change: `applied` has resource, kind, action, outcome ("done"/"failed") and
        optionally ids and error (the shape of `AppliedChange.to_json()`); `before` is what undoing it needs."""
        if self.finished_outcome is not None:
            raise RuntimeError(f"run {self.run_id} already finished")
        missing = [k for k in ("resource", "kind", "action", "outcome") if k not in applied]
        if missing:
            raise ValueError(f"a journal change needs {', '.join(missing)}")
        outcome = applied["outcome"]
        if outcome not in CHANGE_OUTCOMES:
            raise ValueError(f"change outcome must be one of {CHANGE_OUTCOMES}, not {outcome!r}")
        self.journal.append({
            "event": "change_applied", "run_id": self.run_id, "time": _utc_now().isoformat(),
            "resource": applied["resource"], "kind": applied["kind"], "action": applied["action"],
            "ids": dict(applied.get("ids") or {}), "before": dict(before) if before is not None else None,
            "outcome": outcome, "error": applied.get("error"),
        })
        if outcome == "done":
            self.done += 1
        else:
            self.failed += 1

    def finish(self, outcome: str, *, error: str | None = None, **counts: int) -> None:
        """Record the end. `counts` are extra numbers worth keeping (e.g. http_requests=12)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"run outcome must be one of {OUTCOMES}, not {outcome!r}")
        if self.finished_outcome is not None:
            raise RuntimeError(f"run {self.run_id} already finished as {self.finished_outcome}")
        self.journal.append({
            "event": "run_finished", "run_id": self.run_id, "time": _utc_now().isoformat(), "outcome": outcome,
            "counts": {"done": self.done, "failed": self.failed, **counts},
            "seconds": round(time.monotonic() - self._started, 3), "error": error,
        })
        self.finished_outcome = outcome

    def settled_outcome(self) -> str:
        """The outcome the changes recorded so far imply, for a run that ended normally."""
        if self.failed:
            return "partial" if self.done else "failed"
        return "succeeded" if self.done else "no_changes"

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.finished_outcome is not None:
            return
        if exc is None:
            self.finish(self.settled_outcome())
        elif isinstance(exc, Exception):
            # Changes that were applied before the error are still there: that is a partial run, which
            # `rollback --run` can undo, not a failed one that left nothing behind.
            message = exc.message if isinstance(exc, McpdeployError) else type(exc).__name__
            self.finish("partial" if self.done else "failed", error=message)
        else:  # KeyboardInterrupt (Ctrl-C, or SIGTERM through the lock's handler), SystemExit
            self.finish("interrupted", error=type(exc).__name__)


# --- reading -----------------------------------------------------------------------------------------------


def read_journal(path: Path) -> JournalReading:
    """Parse a journal file; a missing file is an empty journal. Bad lines are skipped and listed, never fatal."""
    from mcpdeploy.state.local import LocalBackend

    backend = LocalBackend(path.parent.parent)
    return read_journal_sources(path, backend.journal_sources(path.stem))


def read_journal_sources(where: Path | str, sources: Iterable[tuple[str, bytes]]) -> JournalReading:
    """Parse a journal kept as pieces (one file, or one object per run), in order. Bad lines are skipped and
    listed as "piece:LINE: reason", never fatal."""
    reading = JournalReading(where)
    by_id: dict[str, RunDetail] = {}
    for source, raw in sources:
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            is_last_unterminated = number == len(lines)  # after the final "\n" split() leaves b"", so this had none
            problem = _apply_event(line, by_id, reading)
            if problem:
                if is_last_unterminated:
                    problem = "cut off before its end (a run stopped while writing it); skipped"
                reading.skipped.append(f"{source}:{number}: {problem}")
    return reading


def _apply_event(line: bytes, by_id: dict[str, RunDetail], reading: JournalReading) -> str | None:
    try:
        event = json.loads(line)
    except ValueError:
        return "not valid JSON; skipped"
    if not isinstance(event, dict) or "run_id" not in event:
        return "not a journal event; skipped"
    kind = event.get("event")
    run = by_id.get(str(event["run_id"]))
    try:
        if kind == "run_started":
            detail = RunDetail.model_validate(event)
            by_id[detail.run_id] = detail
            reading.details.append(detail)
        elif kind == "change_applied":
            if run is None:
                return f"change for unknown run {event['run_id']}; skipped"
            record = ChangeRecord.model_validate(event)
            run.changes.append(record)
            run.changed += int(record.outcome == "done")
            run.failed += int(record.outcome == "failed")
        elif kind == "run_finished":
            if run is None:
                return f"end of unknown run {event['run_id']}; skipped"
            run.outcome = str(event.get("outcome", UNFINISHED))
            run.seconds = event.get("seconds")
            run.counts = {str(k): int(v) for k, v in (event.get("counts") or {}).items()}
            run.error = event.get("error")
        else:
            return f"unknown event {kind!r} (written by a newer mcpdeploy?); skipped"
    except (ValidationError, TypeError, ValueError) as exc:
        return f"malformed {kind} event ({type(exc).__name__}); skipped"
    return None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
