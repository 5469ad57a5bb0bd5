"""`plan --out FILE`, then `provision --plan FILE`: what was reviewed is what gets applied, or nothing is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpdeploy.sandbox.core import Sandbox
from tests.support.served import xano_client


@pytest.fixture
def sandbox(served_sandbox: Sandbox) -> Sandbox:
    return served_sandbox


def test_a_saved_plan_is_applied_without_a_prompt_when_nothing_changed_since(
    cli, sandbox: Sandbox, project: Path
) -> None:
    saved = project / "reviewed.plan.json"
    planned = cli("plan", "--out", str(saved), "--json")
    assert planned.exit_code == 0
    assert json.loads(saved.read_text())["digest"] == json.loads(planned.stdout)["digest"]
    assert saved.stat().st_mode & 0o777 == 0o600
    result = cli("provision", "--plan", str(saved))  # no --yes and no terminal: the saved plan is the approval
    assert result.exit_code == 0, result.stderr
    assert "Applied 10 change(s)" in result.stderr


def test_a_saved_plan_that_no_longer_matches_is_refused_and_nothing_changes(
    cli, sandbox: Sandbox, project: Path
) -> None:
    assert cli("provision", "--yes").exit_code == 0
    client = xano_client(sandbox)
    logs = next(t for t in client.list_tables() if t["name"] == "usage_logs")
    client.put_schema(logs["id"], [c for c in client.get_schema(logs["id"]) if c["name"] != "cost"])
    saved = project / "reviewed.plan.json"
    assert cli("plan", "--out", str(saved)).exit_code == 0  # plans: add usage_logs.cost
    client.put_schema(logs["id"], [c for c in client.get_schema(logs["id"]) if c["name"] != "ai_model"])
    writes = len(sandbox.writes())
    result = cli("provision", "--plan", str(saved))
    assert result.exit_code == 10
    assert "no longer matches what exists" in result.stderr and "plan --out" in result.stderr
    assert len(sandbox.writes()) == writes


def test_a_file_that_is_not_a_saved_plan_is_an_input_error(cli, sandbox: Sandbox, project: Path) -> None:
    (project / "notes.json").write_text('{"hello": 1}')
    result = cli("provision", "--plan", str(project / "notes.json"))
    assert result.exit_code == 8
    assert "is not a saved plan" in result.stderr
    assert sandbox.requests == []
