"""The journal of runs: what `history` lists and `rollback --run` reads. Append-only, crash-tolerant, secret-free."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcpdeploy.errors import UsageError
from mcpdeploy.redaction import Redactor
from mcpdeploy.state.journal import Journal

CREATE_TABLE = {"resource": "table:mcp_sessions", "kind": "create_table", "action": "create", "outcome": "done",
                "ids": {"table_id": 41}}
UPDATE_ENDPOINT = {"resource": "endpoint:POST /sessions", "kind": "update_endpoint", "action": "update",
                   "outcome": "done", "ids": {"api_id": 7, "endpoint_id": 93}}
FAILED_ENDPOINT = {"resource": "endpoint:GET /usage", "kind": "create_endpoint", "action": "create",
                   "outcome": "failed", "error": "Xano answered 500"}


@pytest.fixture
def state_dir(project: Path) -> Path:
    return project / ".mcpdeploy"


def record_provision(journal: Journal, *changes: dict[str, object]) -> str:
    with journal.start("provision", ["provision", "--yes"], "d1g3st", {"workspace_id": 10}) as run:
        for change in changes:
            run.change(change)
    return run.run_id


def test_a_run_reads_back_with_its_changes_ids_and_what_was_there_before(state_dir: Path) -> None:
    journal = Journal(state_dir, "staging")
    previous_endpoint = {"name": "sessions", "verb": "POST", "description": "v1"}
    with journal.start("provision", ["provision", "--env", "staging"], "d1g3st", {"workspace_id": 20}) as run:
        run.change(CREATE_TABLE)
        run.change(UPDATE_ENDPOINT, before={"endpoint": previous_endpoint})

    assert journal.path == state_dir / "journal" / "staging.jsonl"
    [summary] = journal.runs()
    assert (summary.run_id, summary.command, summary.outcome, summary.changed) == (
        run.run_id, "provision", "succeeded", 2)
    assert "@" in summary.who
    detail = journal.run(run.run_id)
    assert detail.argv == ["provision", "--env", "staging"]
    assert detail.plan_digest == "d1g3st"
    assert detail.target == {"workspace_id": 20}
    assert [c.resource for c in detail.changes] == ["table:mcp_sessions", "endpoint:POST /sessions"]
    assert detail.changes[0].before is None
    assert detail.changes[1].ids == {"api_id": 7, "endpoint_id": 93}
    assert detail.changes[1].before == {"endpoint": previous_endpoint}
    assert detail.counts == {"done": 2, "failed": 0}


def test_journal_folder_and_file_are_private_to_the_user(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    record_provision(journal, CREATE_TABLE)
    assert journal.path.name == "default.jsonl"
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_every_event_is_one_whole_json_line(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    record_provision(journal, CREATE_TABLE, UPDATE_ENDPOINT)
    lines = journal.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == [
        "run_started", "change_applied", "change_applied", "run_finished"]


def test_runs_are_listed_newest_first(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    first = record_provision(journal, CREATE_TABLE)
    second = record_provision(journal)
    third = record_provision(journal, UPDATE_ENDPOINT)
    assert [r.run_id for r in journal.runs()] == [third, second, first]
    assert [r.outcome for r in journal.runs()] == ["succeeded", "no_changes", "succeeded"]


def test_outcome_records_partial_failure_exceptions_and_ctrl_c(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    partial = record_provision(journal, CREATE_TABLE, FAILED_ENDPOINT)
    with pytest.raises(RuntimeError), journal.start("provision", [], None, {}) as crashed:
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), journal.start("provision", [], None, {}) as crashed_midway:
        crashed_midway.change(CREATE_TABLE)
        raise RuntimeError("boom")
    with pytest.raises(KeyboardInterrupt), journal.start("provision", [], None, {}) as interrupted:
        raise KeyboardInterrupt

    outcomes = {r.run_id: r.outcome for r in journal.runs()}
    assert outcomes[partial] == "partial"
    assert outcomes[crashed.run_id] == "failed"
    assert outcomes[crashed_midway.run_id] == "partial"  # its table exists: rollback has something to undo
    assert outcomes[interrupted.run_id] == "interrupted"
    assert journal.run(partial).failed == 1


def test_an_explicit_finish_keeps_its_outcome_and_counts(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    with journal.start("rollback", [], None, {}) as run:
        run.change(CREATE_TABLE)
        run.finish("failed", error="smoke test failed afterwards", http_requests=12)
    detail = journal.run(run.run_id)
    assert (detail.outcome, detail.error) == ("failed", "smoke test failed afterwards")
    assert detail.counts == {"done": 1, "failed": 0, "http_requests": 12}


def test_a_run_killed_before_its_end_shows_as_unfinished(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    run = journal.start("provision", [], None, {})
    run.change(CREATE_TABLE)
    [summary] = journal.runs()
    assert summary.outcome == "unfinished"


def test_last_means_the_newest_run_that_changed_something(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    provision = record_provision(journal, CREATE_TABLE)
    record_provision(journal)  # a no-op run afterwards
    assert journal.run("last").run_id == provision
    with journal.start("rollback", [], None, {}) as rollback:
        rollback.change({**CREATE_TABLE, "action": "delete"})
    assert journal.run("last").run_id == rollback.run_id
    assert journal.run("last", commands={"provision"}).run_id == provision


def test_a_unique_prefix_finds_a_run_and_an_unknown_id_lists_the_latest(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    run_id = record_provision(journal, CREATE_TABLE)
    assert journal.run(run_id[:-2]).run_id == run_id
    with pytest.raises(UsageError) as raised:
        journal.run("20000101T000000Z-ffffff")
    assert raised.value.exit_code == 64
    assert run_id in raised.value.message


def test_last_in_an_empty_journal_is_a_usage_error(state_dir: Path) -> None:
    with pytest.raises(UsageError, match="no run"):
        Journal(state_dir, None).run("last")


def test_a_cut_off_last_line_is_skipped_and_reported_and_appending_resumes_cleanly(state_dir: Path) -> None:
    journal = Journal(state_dir, None)
    kept = record_provision(journal, CREATE_TABLE)
    with journal.path.open("ab") as f:  # what a crash in the middle of a write leaves behind
        f.write(b'{"event":"run_started","run_id":"2026')

    reading = journal.read()
    assert [r.run_id for r in reading.runs()] == [kept]
    [problem] = reading.skipped
    assert problem.startswith(f"{journal.path}:4: cut off")

    after = record_provision(journal, UPDATE_ENDPOINT)
    reading = journal.read()
    assert [r.run_id for r in reading.runs()] == [after, kept]
    assert len(reading.skipped) == 1 and ":4: not valid JSON" in reading.skipped[0]


def test_an_environment_name_that_is_not_a_file_name_is_refused(state_dir: Path) -> None:
    with pytest.raises(UsageError, match="cannot be used as a file name"):
        Journal(state_dir, "../prod")


def test_no_secret_reaches_the_journal_file(state_dir: Path) -> None:
    planted = "pl4nted-Secret-Value-93f1"
    other = "named-like-a-secret-77aa"
    journal = Journal(state_dir, "production", redactor=Redactor([planted]))
    with pytest.raises(RuntimeError), journal.start(
        "secrets push", ["secrets", "push", f"--note={planted}"], "d1g3st",
        {"worker": "mcp-server", "note": f"copied from {planted}", "cloudflare": {"api_token": other}},
    ) as run:
        run.change({**UPDATE_ENDPOINT, "ids": {"endpoint_id": 93, "api_key": other},
                    "error": f"Xano said: invalid key {planted}"},
                   before={"document": {"body": f"Bearer {planted}"}, "password": other, "nested": [planted]})
        run.change({**FAILED_ENDPOINT, "outcome": "failed", "error": f"refused {planted}"})
        raise RuntimeError(f"the service echoed {planted}")

    text = journal.path.read_text()
    assert planted not in text
    assert other not in text
    detail = journal.run(run.run_id)
    assert detail.changes[0].ids == {"endpoint_id": 93, "api_key": "***"}
    assert detail.changes[0].before == {"document": {"body": "Bearer ***"}, "password": "***", "nested": ["***"]}
    assert detail.argv == ["secrets", "push", "--note=***"]
    assert detail.target["cloudflare"] == {"api_token": "***"}


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mcpdeploy.state.journal import Journal

    journal = Journal(Path(sys.argv[1]), None)
    sys.stdin.readline()  # start together, so the appends really overlap
    with journal.start("provision", [sys.argv[2]], None, {}) as run:
        for n in range(int(sys.argv[3])):
            run.change({"resource": f"r{n}", "kind": "k", "action": "create", "outcome": "done", "ids": {"n": n}},
                       before={"payload": sys.argv[2] * 20000})
""")


def test_two_processes_appending_at_once_leave_only_whole_lines(state_dir: Path) -> None:
    changes_each = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(state_dir), name, str(changes_each)],
                         stdin=subprocess.PIPE, text=True)
        for name in ("A", "B")
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]

    journal = Journal(state_dir, None)
    lines = journal.path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    events = [json.loads(line) for line in lines[:-1]]  # every line parses: none was interleaved or cut
    assert len(events) == 2 * (changes_each + 2)
    reading = journal.read()
    assert reading.skipped == []
    assert sorted((r.changed, r.outcome) for r in reading.runs()) == [(changes_each, "succeeded")] * 2
