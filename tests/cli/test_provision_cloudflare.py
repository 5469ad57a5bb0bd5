"""provision with Cloudflare configured: the queue, the Worker's wrangler.toml and .dev.vars, SERVICE_CREDENTIALS
and the Worker secrets, against the sandbox on loopback, configured through the variables a user would set."""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpdeploy.files.devvars import read_dev_vars
from mcpdeploy.project import secrets
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from tests.support.openapi_requests import OpenApiRequestValidator
from tests.support.served import cloudflare_client
from tests.support.trace_requests import requests_from_trace

CLOUDFLARE_SPECS = [Path(__file__).parents[1] / "reference" / "cloudflare" / name
                    for name in ("openapi-trimmed.json", "openapi-supplement.json")]
WORKER = "usage-mcp"
WRANGLER_TOML = """\
# The MCP server's Worker. Comments like this one must survive every provision.
name = "usage-mcp"
main = "src/index.ts"
compatibility_date = "2026-06-01"

[vars]
LOG_LEVEL = "info" # kept as written

# KV for rate limiting
[[kv_namespaces]]
binding = "RATE_LIMIT"
id = "0f2ac9d1"
"""
PLANTED_API_KEY = "xano-key-PLANTED-7c41e9b2"


@dataclass
class Env:
    sandbox: Sandbox
    project: Path

    def cloudflare(self) -> CloudflareClient:
        return cloudflare_client(self.sandbox)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path, served_cloudflare: Sandbox) -> Env:
    (project / "wrangler.toml").write_text(WRANGLER_TOML)
    creds = tmp_path / "service-credentials.toml"  # outside the project, as a user keeps it
    creds.write_text(f'[xano]\nauth_type = "api_key"\n\n[xano.credentials]\napi_key = "{PLANTED_API_KEY}"\n')
    monkeypatch.setenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE", str(creds))
    return Env(served_cloudflare, project)


def snapshot(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*"))
            if p.is_file() and not str(p.relative_to(project)).startswith((".mcpdeploy/journal", ".mcpdeploy/locks"))}


def test_provision_creates_the_queue_and_edits_wrangler_toml_keeping_every_comment(cli, env: Env) -> None:
    result = cli("provision", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert env.cloudflare().find_queue("usage-queue") is not None
    text = (env.project / "wrangler.toml").read_text()
    assert text.startswith(WRANGLER_TOML)  # everything the user wrote, byte for byte, then our blocks
    assert '[[queues.producers]]\nqueue = "usage-queue"\nbinding = "USAGE_QUEUE"' in text
    assert "max_batch_size = 100" in text and "max_batch_timeout = 30" in text
    report = json.loads(result.stdout)
    assert {c["resource"] for c in report["changes"]} >= {"queue usage-queue", "file wrangler.toml",
                                                         "file .dev.vars", "file .gitignore"}
    assert any("not deployed yet" in note for note in report["notes"])


def test_dev_vars_holds_encrypted_credentials_with_the_xano_url_and_is_private(cli, env: Env) -> None:
    report = json.loads(cli("provision", "--yes", "--json").stdout)
    dev_vars = env.project / ".dev.vars"
    assert stat.S_IMODE(dev_vars.stat().st_mode) == 0o600
    values = read_dev_vars(dev_vars)
    opened = secrets.decrypt_service_credentials(values["SERVICE_CREDENTIALS"], values["SERVICE_CREDENTIALS_KEY"])
    assert opened["xano"]["credentials"] == {"api_key": PLANTED_API_KEY,
                                             "base_url": report["outputs"]["xano_api_base_url"]}
    assert PLANTED_API_KEY not in dev_vars.read_text()  # encrypted, not the checklist's plaintext form
    assert ".dev.vars*" in (env.project / ".gitignore").read_text()


def test_a_second_provision_changes_no_byte_and_makes_no_write_call(cli, env: Env) -> None:
    assert cli("provision", "--yes").exit_code == 0
    before_files, before_writes = snapshot(env.project), len(env.sandbox.writes())
    again = cli("provision", "--yes")
    assert again.exit_code == 0
    assert "No changes" in again.stderr
    assert snapshot(env.project) == before_files
    assert len(env.sandbox.writes()) == before_writes


def test_once_the_worker_exists_the_consumer_and_secrets_are_pushed_in_one_version(cli, env: Env) -> None:
    assert cli("provision", "--yes").exit_code == 0
    cf = env.cloudflare()
    cf.upload_worker(WORKER, "export default {}", "first deploy")
    versions_before = len(cf.list_versions(WORKER))
    result = cli("provision", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    kinds = [c["kind"] for c in json.loads(result.stdout)["changes"]]
    assert sorted(kinds) == ["create_consumer", "push_secrets"]
    queue = cf.find_queue("usage-queue")
    assert queue is not None
    [consumer] = cf.list_consumers(queue.queue_id)
    assert (consumer.worker, consumer.settings.batch_size, consumer.settings.max_wait_time_ms) == (WORKER, 100, 30000)
    assert set(cf.list_secret_names(WORKER)) == {"SERVICE_CREDENTIALS", "SERVICE_CREDENTIALS_KEY"}
    assert len(cf.list_versions(WORKER)) == versions_before + 1  # both secrets in one new version
    writes = len(env.sandbox.writes())
    assert cli("provision", "--yes").exit_code == 0
    assert len(env.sandbox.writes()) == writes  # nothing changed: no secret pushed again


def test_every_cloudflare_request_in_the_trace_is_a_documented_operation(cli, env: Env) -> None:
    trace = env.project / "trace.jsonl"
    assert cli("provision", "--yes", "--trace", str(trace)).exit_code == 0
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    assert cli("provision", "--yes", "--trace", str(trace)).exit_code == 0
    requests = requests_from_trace(trace, url_contains="/client/v4/")
    assert OpenApiRequestValidator(CLOUDFLARE_SPECS).assert_valid(requests) == len(requests) > 5
    assert {r.method for r in requests} >= {"GET", "POST", "PATCH"}


def test_no_secret_reaches_output_trace_journal_or_any_file_but_dev_vars(cli, env: Env) -> None:
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    trace = env.project / "trace.jsonl"
    first = cli("provision", "--yes", "--json", "--trace", str(trace))
    second = cli("provision", "--yes", "--json", "--trace", str(trace))
    history = cli("history", "--json")
    key = read_dev_vars(env.project / ".dev.vars")["SERVICE_CREDENTIALS_KEY"]
    planted = [PLANTED_API_KEY, key, credentials.XANO_METADATA_TOKEN, credentials.CLOUDFLARE_API_TOKEN]
    printed = first.stdout + first.stderr + second.stdout + second.stderr + history.stdout + history.stderr
    for value in planted:
        assert value not in printed
    allowed = {".dev.vars", ".mcpdeploy/keys/default.key"}
    for path in env.project.rglob("*"):
        if path.is_file() and str(path.relative_to(env.project)) not in allowed \
                and not str(path.relative_to(env.project)).startswith(".mcpdeploy/backups/.dev.vars"):
            content = path.read_text(errors="replace")
            for value in planted:
                assert value not in content, f"{value[:6]}... found in {path}"
    state = (env.sandbox.state_dir / "state.json").read_text()  # type: ignore[operator]
    assert PLANTED_API_KEY not in state


def test_out_of_range_consumer_settings_are_refused_before_anything_is_sent(cli, env: Env) -> None:
    (env.project / "mcpdeploy.toml").write_text("[cloudflare]\nmax_batch_size = 500\n")
    before = snapshot(env.project)
    result = cli("provision", "--yes")
    assert result.exit_code == 8
    assert "mcpdeploy.toml:2: cloudflare.max_batch_size" in result.stderr and "100" in result.stderr
    assert snapshot(env.project) == before
    assert env.sandbox.requests == []


def test_after_a_forced_rollback_provision_pushes_the_current_secrets_again(
    cli, env: Env, tmp_path: Path
) -> None:
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    assert cli("provision", "--yes").exit_code == 0  # pushes the secrets: a new live version
    with_first_secrets = str(env.cloudflare().list_deployments(WORKER)[0].sole_version_id)
    creds = tmp_path / "service-credentials.toml"
    creds.write_text(creds.read_text().replace(PLANTED_API_KEY, PLANTED_API_KEY + "-rotated"))
    assert cli("provision", "--yes").exit_code == 0  # pushes the rotated key: another version
    # Only --to goes back to a version that differs from the live one in secrets alone.
    rolled = cli("rollback", "--yes", "--force", "--to", with_first_secrets)
    assert rolled.exit_code == 0, rolled.stderr
    assert "secrets that version had" in rolled.stderr
    # The plan sees that the live secrets are not the current ones; Cloudflare refuses secret edits until the
    # latest version is deployed again (10215), and provision says what to do.
    refused = cli("provision", "--yes", "--json")
    assert [c["kind"] for c in json.loads(refused.stdout)["changes"]] == ["push_secrets"]
    assert refused.exit_code == 6 and "Deploy the latest version first" in refused.stderr
    env.cloudflare().upload_worker(WORKER, "export default {}", "redeploy")  # what `wrangler deploy` does
    result = cli("provision", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert [c["kind"] for c in json.loads(result.stdout)["changes"]] == ["push_secrets"]
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_run_without_the_credentials_file_keeps_the_credentials_it_has(
    cli, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    assert cli("provision", "--yes").exit_code == 0
    before, writes = snapshot(env.project), len(env.sandbox.writes())
    monkeypatch.delenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE")  # a shell or CI job without the variable
    result = cli("provision", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "No changes" in result.stderr
    assert snapshot(env.project) == before and len(env.sandbox.writes()) == writes


def test_with_no_credentials_anywhere_the_workers_secrets_are_left_alone(
    cli, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE")
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    report = json.loads(cli("provision", "--yes", "--json").stdout)
    assert "push_secrets" not in [c["kind"] for c in report["changes"]]
    assert any("secrets are left as they are" in note for note in report["notes"])
    assert env.cloudflare().list_secret_names(WORKER) == []


def test_a_malformed_dev_vars_stops_the_run_before_any_request(cli, env: Env) -> None:
    (env.project / ".dev.vars").write_text("FOO=bar\nthis is not dotenv\n")
    before = snapshot(env.project)
    result = cli("provision", "--yes")
    assert result.exit_code == 8
    assert ".dev.vars:2" in result.stderr
    assert snapshot(env.project) == before and env.sandbox.requests == []


def test_after_a_new_key_the_credentials_are_encrypted_again_without_the_file(
    cli, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("provision", "--yes").exit_code == 0
    monkeypatch.delenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE")
    assert cli("secrets", "keygen", "--force").exit_code == 0
    result = cli("provision", "--yes")
    assert result.exit_code == 0, result.stderr
    values = read_dev_vars(env.project / ".dev.vars")
    new_key = (env.project / ".mcpdeploy" / "keys" / "default.key").read_text().strip()
    assert values["SERVICE_CREDENTIALS_KEY"] == new_key
    opened = secrets.decrypt_service_credentials(values["SERVICE_CREDENTIALS"], new_key)
    assert opened["xano"]["credentials"]["api_key"] == PLANTED_API_KEY  # kept, under the new key


def test_credentials_no_known_key_opens_stop_the_run_and_say_how_to_recover(
    cli, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("provision", "--yes").exit_code == 0
    monkeypatch.delenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE")
    dev_vars = env.project / ".dev.vars"
    stray = secrets.generate_key()
    text = dev_vars.read_text()
    old = read_dev_vars(dev_vars)["SERVICE_CREDENTIALS_KEY"]
    dev_vars.write_text(text.replace(old, stray))  # the key beside it is not the one it was made with
    assert cli("secrets", "keygen", "--force").exit_code == 0
    before = snapshot(env.project)
    result = cli("provision", "--yes")
    assert result.exit_code == 8
    assert ".dev.vars: SERVICE_CREDENTIALS cannot be opened" in result.stderr
    assert "credentials_file" in result.stderr
    assert snapshot(env.project) == before


def test_a_url_only_document_made_without_credentials_is_never_pushed_later(
    cli, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE")
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    assert cli("provision", "--yes").exit_code == 0  # .dev.vars gets the Xano URL alone
    second = json.loads(cli("provision", "--yes", "--json").stdout)
    assert "push_secrets" not in [c["kind"] for c in second["changes"]]
    assert env.cloudflare().list_secret_names(WORKER) == []


def test_a_secrets_push_whose_answer_was_lost_is_not_pushed_again(cli, env: Env) -> None:
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    env.sandbox.add_fault(Fault(match=r"^PATCH /client/v4/.*/secrets-bulk$", drop_after=True))

    first = cli("provision", "--yes", "--json")

    assert env.sandbox.faults[-1].times == 0, "the push should have met the fault"
    assert first.exit_code == 0, first.stderr  # the Worker shows the secrets version the push made
    versions = [v for v in env.cloudflare().list_versions(WORKER)
                if v.annotations.get("workers/triggered_by") == "secret"]
    assert len(versions) == 1
    again = cli("provision", "--yes", "--json")
    assert again.exit_code == 0 and "No changes" in again.stderr
    assert len([v for v in env.cloudflare().list_versions(WORKER)
                if v.annotations.get("workers/triggered_by") == "secret"]) == 1


def test_a_push_recorded_as_intended_but_never_made_is_made_by_the_next_run(cli, env: Env) -> None:
    env.cloudflare().upload_worker(WORKER, "export default {}", "first deploy")
    env.sandbox.add_fault(Fault(match=r"^PATCH /client/v4/.*/secrets-bulk$", drop=True))

    failed = cli("provision", "--yes")  # the push never reaches Cloudflare; its intent is on disk

    assert failed.exit_code == 7, failed.stderr
    again = cli("provision", "--yes", "--json")
    assert again.exit_code == 0, again.stderr
    assert any(a["kind"] == "push_secrets" for a in json.loads(again.stdout)["applied"])


def test_every_run_reports_the_queue_id_in_its_outputs_not_only_the_one_that_made_it(cli, env: Env) -> None:
    first = json.loads(cli("provision", "--yes", "--json").stdout)
    queue = env.cloudflare().find_queue("usage-queue")
    assert queue is not None and first["outputs"]["queue_id"] == queue.queue_id
    again = json.loads(cli("provision", "--yes", "--json").stdout)
    assert again["changed"] is False and again["outputs"]["queue_id"] == queue.queue_id
    planned = json.loads(cli("plan", "--json").stdout)
    assert planned["outputs"]["queue_id"] == queue.queue_id
