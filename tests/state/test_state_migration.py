"""`mcpdeploy state push` / `state pull`: a team moving to shared storage keeps its history, and either command run
twice copies nothing the second time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpdeploy.state.journal import Journal
from tests.state.conftest import SharedState


def local_history(folder: Path) -> None:
    """Two runs and a secret-push record, as an older mcpdeploy left them in .mcpdeploy/."""
    journal = Journal(folder / ".mcpdeploy", None)
    for command in ("provision", "auth disable"):
        with journal.start(command, [command], None, {"worker": "usage-mcp"}) as run:
            run.change({"resource": "table t", "kind": "create_table", "action": "create", "outcome": "done"})
    record = folder / ".mcpdeploy" / "pushed-secrets" / "default.json"
    record.parent.mkdir()
    record.write_text('{"fingerprints": {}, "script": "usage-mcp"}\n')


def test_push_copies_the_local_history_once_and_every_machine_then_reads_it(
        cli, shared_state: SharedState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    local_history(laptop)
    before = [run.model_dump(mode="json") for run in Journal(laptop / ".mcpdeploy", None).runs()]

    pushed = cli("state", "push", "--json", "--project-dir", str(laptop))
    assert pushed.exit_code == 0, pushed.stderr
    assert len(json.loads(pushed.stdout)["runs_copied"]) == 2
    assert json.loads(pushed.stdout)["records_copied"] == ["pushed-secrets/default.json"]
    again = cli("state", "push", "--json", "--project-dir", str(laptop))
    assert json.loads(again.stdout)["runs_copied"] == [] and json.loads(again.stdout)["already_there"] == 3
    assert "Nothing to copy" in again.stderr

    ci = tmp_path / "ci"
    ci.mkdir()
    assert json.loads(cli("history", "--json", "--project-dir", str(ci)).stdout)["runs"] == before

    pulled = cli("state", "pull", "--project-dir", str(ci))
    assert pulled.exit_code == 0 and "Copied 2 run(s) and 1 record(s)" in pulled.stderr
    assert (ci / ".mcpdeploy" / "journal" / "default.jsonl").read_bytes() == \
        (laptop / ".mcpdeploy" / "journal" / "default.jsonl").read_bytes()
    assert "Nothing to copy" in cli("state", "pull", "--project-dir", str(ci)).stderr
    monkeypatch.setenv("MCPDEPLOY_STATE_BACKEND", "local")
    assert json.loads(cli("history", "--json", "--project-dir", str(ci)).stdout)["runs"] == before


def test_push_without_a_shared_backend_says_how_to_configure_one(cli, tmp_path: Path) -> None:
    result = cli("state", "push", "--project-dir", str(tmp_path))
    assert result.exit_code == 64 and "[state] backend" in result.stderr
