"""`mcpdeploy doctor` says whether the project can run, and names each problem with its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def checks(result) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    found: dict[str, list[dict]] = {}
    for check in json.loads(result.stdout)["checks"]:
        found.setdefault(check["check"], []).append(check)
    return found


def test_doctor_passes_after_provision(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    result = cli("doctor", "--sandbox", "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["command"] == "doctor" and document["ok"] is True and document["problems"] == 0
    human = cli("doctor", "--sandbox")
    assert human.exit_code == 0 and "OK       services" in human.stdout and "No problems found." in human.stderr


def test_doctor_names_a_worker_never_deployed(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    notes = [c["detail"] for c in checks(cli("doctor", "--sandbox", "--json"))["services"]]
    assert any("not deployed yet" in note and "mcpdeploy sandbox deploy-worker" in note for note in notes), notes


def test_doctor_names_an_unreadable_key(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("secrets", "keygen").exit_code == 0
    key = project / ".mcpdeploy" / "keys" / "default.key"
    key.chmod(0o644)
    result = cli("doctor", "--sandbox", "--json")
    problem = checks(result)["credentials key"][0]
    assert problem["status"] == "problem" and result.exit_code == problem["exit_code"] != 0
    assert str(key.name) in problem["detail"]


def test_doctor_names_a_refused_token(cli, served_sandbox, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XANO_METADATA_TOKEN", "revoked-token")
    result = cli("doctor", "--json")
    problem = checks(result)["services"][0]
    assert problem["status"] == "problem" and result.exit_code == 6, result.stdout
