"""`mcpdeploy history` and `mcpdeploy unlock`, as a person at a terminal and a CI job would use them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock, lock_path

CREATE_TABLE = {"resource": "table:mcp_sessions", "kind": "create_table", "action": "create", "outcome": "done",
                "ids": {"table_id": 41}}
UPDATE_ENDPOINT = {"resource": "endpoint:POST /sessions", "kind": "update_endpoint", "action": "update",
                   "outcome": "done", "ids": {"endpoint_id": 93}}


def record(project: Path, env: str | None, command: str, *changes: dict[str, object]) -> str:
    with Journal(project / ".mcpdeploy", env).start(command, [command, "--yes"], "d1g3st", {}) as run:
        for change in changes:
            run.change(change, before={"backup": ".mcpdeploy/backups/x"} if change["action"] == "update" else None)
    return run.run_id


def test_history_json_lists_runs_newest_first(project: Path, cli) -> None:
    first = record(project, None, "provision", CREATE_TABLE)
    second = record(project, None, "provision")
    third = record(project, None, "rollback", UPDATE_ENDPOINT)

    result = cli("history", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["schema_version"] == "1"
    assert [r["run_id"] for r in document["runs"]] == [third, second, first]
    assert [(r["command"], r["outcome"], r["changed"]) for r in document["runs"]] == [
        ("rollback", "succeeded", 1), ("provision", "no_changes", 0), ("provision", "succeeded", 1)]
    assert document["total"] == 3


def test_history_prints_its_table_on_stdout_and_messages_on_stderr(project: Path, cli) -> None:
    run_id = record(project, None, "provision", CREATE_TABLE)
    result = cli("history")
    assert result.exit_code == 0
    assert result.stderr.startswith("Runs on environment default") and run_id not in result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["RUN", "ID", "TIME", "(UTC)", "WHO", "COMMAND", "OUTCOME", "CHANGES"]
    assert row.startswith(run_id) and row.split()[-3:] == ["provision", "succeeded", "1"]


def test_history_limit_keeps_the_newest(project: Path, cli) -> None:
    ids = [record(project, None, "provision", CREATE_TABLE) for _ in range(3)]
    document = json.loads(cli("history", "--json", "--limit", "2").stdout)
    assert [r["run_id"] for r in document["runs"]] == ids[:0:-1]
    assert "1 older run(s) not shown" in cli("history", "--limit", "2").stderr


def test_history_with_no_runs_says_so(project: Path, cli) -> None:
    result = cli("history")
    assert result.exit_code == 0
    assert "No runs recorded for environment default yet" in result.stderr
    assert json.loads(cli("history", "--json").stdout)["runs"] == []


def test_each_environment_has_its_own_history(project: Path, cli) -> None:
    (project / "mcpdeploy.toml").write_text("[env.staging]\n[env.production]\n")
    staging = record(project, "staging", "provision", CREATE_TABLE)
    record(project, "production", "provision", CREATE_TABLE)

    document = json.loads(cli("history", "--env", "staging", "--json").stdout)
    assert document["environment"] == "staging"
    assert [r["run_id"] for r in document["runs"]] == [staging]


def test_history_show_last_gives_the_changes_of_the_newest_run_that_changed_something(project: Path, cli) -> None:
    run_id = record(project, None, "provision", CREATE_TABLE, UPDATE_ENDPOINT)
    record(project, None, "provision")  # nothing changed: not what `last` means

    document = json.loads(cli("history", "show", "last", "--json").stdout)
    assert document["run"]["run_id"] == run_id
    assert [(c["resource"], c["ids"]) for c in document["run"]["changes"]] == [
        ("table:mcp_sessions", {"table_id": 41}), ("endpoint:POST /sessions", {"endpoint_id": 93})]
    assert document["run"]["changes"][1]["before"] == {"backup": ".mcpdeploy/backups/x"}

    human = cli("history", "show", run_id)
    assert human.exit_code == 0 and human.stderr == ""
    assert f"Run {run_id}: mcpdeploy provision" in human.stdout
    assert "endpoint:POST /sessions" in human.stdout and "backup=.mcpdeploy/backups/x" in human.stdout


def test_history_show_of_an_unknown_run_exits_64_listing_the_latest_ids(project: Path, cli) -> None:
    run_id = record(project, None, "provision", CREATE_TABLE)
    result = cli("history", "show", "20000101T000000Z-ffffff")
    assert result.exit_code == 64
    assert run_id in result.stderr


def test_history_env_given_before_show_is_used(project: Path, cli) -> None:
    (project / "mcpdeploy.toml").write_text("[env.staging]\n")
    run_id = record(project, "staging", "provision", CREATE_TABLE)
    document = json.loads(cli("history", "--env", "staging", "show", "last", "--json").stdout)
    assert document["run"]["run_id"] == run_id


def test_history_warns_about_a_cut_off_line_and_still_lists(project: Path, cli) -> None:
    run_id = record(project, None, "provision", CREATE_TABLE)
    with (project / ".mcpdeploy" / "journal" / "default.jsonl").open("ab") as f:
        f.write(b'{"event":"change_appl')
    result = cli("history", "--json")
    assert result.exit_code == 0
    assert "default.jsonl:4: cut off" in result.stderr
    assert [r["run_id"] for r in json.loads(result.stdout)["runs"]] == [run_id]


def test_unlock_without_force_names_the_holder_and_exits_64(project: Path, cli) -> None:
    with Lock(project / ".mcpdeploy", None, command="provision"):
        result = cli("unlock")
        assert result.exit_code == 64
        assert f"pid {os.getpid()}" in result.stderr and "`mcpdeploy provision`" in result.stderr
        assert "--force" in result.stderr
        assert lock_path(project / ".mcpdeploy", None).exists()


def test_unlock_force_removes_the_lock_after_saying_whose_it_was(project: Path, cli) -> None:
    (project / "mcpdeploy.toml").write_text("[env.production]\n")
    Lock(project / ".mcpdeploy", "production", command="provision").acquire()
    result = cli("unlock", "--force", "--env", "production")
    assert result.exit_code == 0
    assert "locked by" in result.stderr and "`mcpdeploy provision`" in result.stderr
    assert "still running on this host" in result.stderr  # it is this very test process
    assert "Removed the lock on environment 'production'" in result.stderr
    assert not lock_path(project / ".mcpdeploy", "production").exists()
    assert cli("unlock", "--force", "--env", "production").stderr.startswith("Environment 'production' is not locked")


def test_unlock_force_removes_an_unreadable_lock_file(project: Path, cli) -> None:
    path = lock_path(project / ".mcpdeploy", None)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert cli("unlock").exit_code == 64
    result = cli("unlock", "--force")
    assert result.exit_code == 0
    assert not path.exists()
