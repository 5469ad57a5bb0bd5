"""`mcpdeploy sandbox deploy-worker`: each run is a new version at 100% in the project's own sandbox, reached
over real HTTP, so that rollback has deployments to choose from."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.sandbox.core import Sandbox


def deployments(project: Path, script: str = "mcp-server") -> list[dict[str, object]]:
    state = Sandbox(project / ".mcpdeploy" / "sandbox").state
    found: list[dict[str, object]] = state["cloudflare"]["scripts"][script]["deployments"]
    return list(reversed(found))  # newest first, as the API lists them


def test_two_runs_make_two_deployments_the_newest_at_100_percent(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = cli("sandbox", "deploy-worker", "--message", "first")
    second = cli("sandbox", "deploy-worker", "--json", "-m", "second")

    assert first.exit_code == 0, first.stderr
    assert "Deployed mcp-server version 1" in first.stderr and "at 100% in the sandbox" in first.stderr
    assert first.stdout == ""
    document = json.loads(second.stdout)
    assert document["script"] == "mcp-server" and document["version_number"] == 2
    newest, older = deployments(project)
    assert newest["versions"] == [{"version_id": document["version_id"], "percentage": 100}]
    assert newest["annotations"] == {"workers/message": "second", "workers/triggered_by": "deployment"}
    assert older["annotations"] == {"workers/message": "first", "workers/triggered_by": "deployment"}


def test_a_named_worker_and_a_script_file_are_uploaded(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "worker.mjs").write_text("export default { fetch() { return new Response('ok') } }\n")

    result = cli("sandbox", "deploy-worker", "--name", "other-worker", "--script", "worker.mjs")

    assert result.exit_code == 0, result.stderr
    assert len(deployments(project, "other-worker")) == 1


def test_a_missing_script_file_is_a_usage_error(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sandbox", "deploy-worker", "--script", "nope.mjs")
    assert result.exit_code == 64
    assert "nope.mjs" in result.stderr
