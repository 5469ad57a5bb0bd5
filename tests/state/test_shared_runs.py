"""Runs recorded on shared storage, seen from other machines: a provision on machine A is listed and rolled back
on machine B; a fresh runner's no-op provision pushes nothing; a run whose lease is taken over stops before its
next write; and when the storage cannot be used, the run stops before changing anything anywhere."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mcpdeploy.apply import AppliedChange
from mcpdeploy.errors import LockHeld
from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.run import run_provision
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.state import open_state
from mcpdeploy.state.lock import Lock
from tests.state.conftest import SharedState, use_keys
from tests.support.served import cloudflare_client, xano_client

WORKER = "usage-mcp"
WRANGLER = f'name = "{WORKER}"\nmain = "src/index.ts"\ncompatibility_date = "2026-06-01"\n'
KEY = "TflyfCUHd46ulqKMZ3DfgTxR36IIMqs7QuQLLeYnIx8="  # a fixed credentials key, as CI keeps it in a secret


def machine(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "wrangler.toml").write_text(WRANGLER)
    return folder


def test_a_provision_on_machine_a_is_listed_and_rolled_back_on_machine_b(
        cli, served_sandbox: Sandbox, shared_state: SharedState, tmp_path: Path) -> None:
    a, b = machine(tmp_path, "machine-a"), machine(tmp_path, "machine-b")
    assert cli("provision", "--yes", "--project-dir", str(a)).exit_code == 0
    assert not (a / ".mcpdeploy" / "journal").exists()  # recorded in the bucket, not on A's disk

    listed = cli("history", "--json", "--project-dir", str(b))
    assert listed.exit_code == 0, listed.stderr
    history = json.loads(listed.stdout)
    assert history["journal"] == f"s3://{shared_state.bucket}/usage-mcp/journal/default/"
    [run] = history["runs"]
    assert run["command"] == "provision" and run["outcome"] == "succeeded" and run["changed"] > 0

    undone = cli("rollback", "--run", "last", "--yes", "--allow-data-loss", "--project-dir", str(b))
    assert undone.exit_code == 0, undone.stderr
    groups = xano_client(served_sandbox).list_api_groups()
    assert "mcp" not in [g["name"] for g in groups]  # what A made is gone
    runs = json.loads(cli("history", "--json", "--project-dir", str(a)).stdout)["runs"]
    assert [r["command"] for r in runs] == ["rollback", "provision"]  # and A sees B's rollback
    assert all(key.startswith("usage-mcp/journal/default/") for key in shared_state.objects())


def test_a_fresh_runners_no_op_provision_pushes_no_secrets(
        cli, served_cloudflare: Sandbox, shared_state: SharedState, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "service-credentials.toml"
    creds.write_text('[xano]\nauth_type = "api_key"\n\n[xano.credentials]\napi_key = "xano-key-PLANTED"\n')
    monkeypatch.setenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("MCPDEPLOY_CREDENTIALS_KEY", KEY)
    cloudflare_client(served_cloudflare).upload_worker(WORKER, "export default {}", "first deploy")
    first = machine(tmp_path, "runner-1")
    assert cli("provision", "--yes", "--project-dir", str(first)).exit_code == 0
    versions = len(cloudflare_client(served_cloudflare).list_versions(WORKER))

    fresh = machine(tmp_path, "runner-2")  # a new CI job: no .mcpdeploy/, no .dev.vars
    result = cli("provision", "--yes", "--json", "--project-dir", str(fresh))
    assert result.exit_code == 0, result.stderr
    kinds = [c["kind"] for c in json.loads(result.stdout)["changes"]]
    assert "push_secrets" not in kinds
    assert len(cloudflare_client(served_cloudflare).list_versions(WORKER)) == versions
    record = shared_state.objects()["usage-mcp/pushed-secrets/default.json"]
    assert b"xano-key-PLANTED" not in record and KEY.encode() not in record  # fingerprints only
    again = cli("provision", "--yes", "--json", "--project-dir", str(fresh))  # and it stays that way
    assert "push_secrets" not in [c["kind"] for c in json.loads(again.stdout)["changes"]]


def test_a_run_whose_lease_is_taken_over_stops_before_its_next_write(
        served_sandbox: Sandbox, shared_state: SharedState, tmp_path: Path) -> None:
    a, b = machine(tmp_path, "slow-runner"), machine(tmp_path, "other-runner")
    applied: list[AppliedChange] = []
    sent_when_lost: list[int] = []

    def metadata_writes() -> int:
        return len([w for w in served_sandbox.writes() if "/api:meta/" in w.path])

    def steal_after_first(done: AppliedChange) -> None:
        applied.append(done)
        if len(applied) == 1:  # meanwhile, another runner whose clock says the lease expired takes it over
            later = datetime.now(timezone.utc) + timedelta(hours=1)
            Lock(open_state(load_settings(b)), None, command="provision", clock=lambda: later).acquire()
            sent_when_lost.append(metadata_writes())

    outcome = run_provision(load_settings(a), HttpOptions(), allow_destructive=False, argv=["provision"],
                            show_plan=lambda _: None, confirm=lambda: None, on_applied=steal_after_first,
                            on_warning=lambda _: None)
    assert outcome.result is not None
    assert isinstance(outcome.result.error, LockHeld) and "lost its lock" in outcome.result.error.message
    assert len(outcome.plan.changes) > 1 and len(applied) == 1
    # Nothing was sent after the lease was lost (what was already in flight beside the first change, when changes
    # go out several at a time, was sent before), and the endpoints, which come later, never were.
    assert metadata_writes() == sent_when_lost[0] < len([c for c in outcome.plan.changes if c.provider == "xano"])


def test_an_unreachable_backend_stops_the_run_before_any_change(
        cli, served_sandbox: Sandbox, shared_state: SharedState, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("MCPDEPLOY_STATE_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    result = cli("provision", "--yes", "--project-dir", str(machine(tmp_path, "offline")))
    assert result.exit_code == 7, result.stderr
    assert "state backend (S3)" in result.stderr and "could not be sent" in result.stderr
    assert served_sandbox.writes() == [] and shared_state.objects() == {}


def test_credentials_without_write_access_are_refused_before_any_change(
        cli, served_sandbox: Sandbox, shared_state_with_iam: SharedState, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    shared_state = shared_state_with_iam
    use_keys(monkeypatch, shared_state.server.reader)
    folder = machine(tmp_path, "read-only")
    result = cli("provision", "--yes", "--project-dir", str(folder))
    assert result.exit_code == 6, result.stderr
    assert "AccessDenied" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr
    assert shared_state.server.reader.secret_access_key not in result.stderr + result.stdout
    assert served_sandbox.writes() == [] and shared_state.objects() == {}


def test_unknown_credentials_are_refused_naming_the_variables(
        cli, shared_state_with_iam: SharedState, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY0000000")
    result = cli("unlock", "--project-dir", str(machine(tmp_path, "typo")))
    assert result.exit_code == 6 and "InvalidAccessKeyId" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr


def test_the_s3_backend_needs_a_bucket(cli, shared_state: SharedState, monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    monkeypatch.delenv("MCPDEPLOY_STATE_BUCKET")
    result = cli("history", "--project-dir", str(machine(tmp_path, "unset")))
    assert result.exit_code == 64 and "needs a bucket" in result.stderr
