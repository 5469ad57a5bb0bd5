"""`state push --json` and `state pull --json` against a real S3-compatible server: each document is allowed by
its published schema (docs/json/state-push.schema.json, state-pull.schema.json). Their usage errors are checked
with every other command's in tests/cli/documents/."""

from __future__ import annotations

from pathlib import Path

from tests.state.conftest import SharedState
from tests.state.test_state_migration import local_history
from tests.support.documents import conforming


def test_push_and_pull_documents_are_allowed_by_their_schemas(cli, shared_state: SharedState,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    laptop, ci = tmp_path / "laptop", tmp_path / "ci"
    laptop.mkdir()
    ci.mkdir()
    local_history(laptop)
    pushed = cli("state", "push", "--json", "--project-dir", str(laptop))
    assert len(conforming("state-push", pushed.stdout, 0)["runs_copied"]) == 2
    pulled = cli("state", "pull", "--json", "--project-dir", str(ci))
    assert len(conforming("state-pull", pulled.stdout, 0)["runs_copied"]) == 2
