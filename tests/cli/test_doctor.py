"""`mcpdeploy doctor` says whether the project can run, and names each problem with its fix.

The services are the sandbox served on loopback (as `mcpdeploy sandbox serve` runs it), or respx at the transport
where an answer's shape is what is under test; nothing of mcpdeploy's own is patched. Node is the real one: a
machine without it fails these tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mcpdeploy.project.settings import load_settings
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare_graphql import NO_ANALYTICS_TOKEN
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.session import record_served, sandbox_dir
from tests.support.served import cloudflare_client

EVERY_CHECK = ["settings", "schemas", "credentials key", ".dev.vars", "wrangler config", "wrangler bindings",
               "xano token", "xano workspace", "xano scope: Database", "xano scope: API Groups", "xano api group",
               "cloudflare token", "cloudflare permission: Queues", "queue", "cloudflare permission: Workers Scripts",
               "worker", "cloudflare permission: Account Analytics", "provisioned", "clock", "node", "wrangler"]
FAKE_CLOUDFLARE = "https://cloudflare.test/client/v4"
ACCOUNT = credentials.CLOUDFLARE_ACCOUNT_ID


def checks(result: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for check in json.loads(result.stdout)["checks"]:
        found.setdefault(check["check"], []).append(check)
    return found


def only(result: Any, name: str) -> dict[str, Any]:
    (check,) = checks(result)[name]
    return check


@pytest.fixture
def box(project: Path) -> Iterator[Sandbox]:
    """The project's sandbox served on loopback: every `--sandbox` command of the test talks to this server, so the
    test sees each request doctor makes."""
    sandbox = Sandbox(sandbox_dir(load_settings(project)))
    with SandboxServer(sandbox) as server:
        record_served(load_settings(project), server.url)
        yield sandbox


def provisioned(cli: Any) -> None:
    """Provisioned, the Worker deployed once, provisioned again for its consumer: a project that can run."""
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    assert cli("sandbox", "deploy-worker").exit_code == 0
    assert cli("provision", "--sandbox", "--yes").exit_code == 0


def as_a_user(monkeypatch: pytest.MonkeyPatch, box: Sandbox, *, cloudflare_token: str,
              cloudflare_url: str | None = None) -> None:
    """The variables a user exports to point mcpdeploy at these services (no --sandbox)."""
    monkeypatch.setenv("XANO_INSTANCE_URL", str(box.url))
    monkeypatch.setenv("XANO_WORKSPACE_ID", str(credentials.XANO_WORKSPACE_ID))
    monkeypatch.setenv("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", cloudflare_url or f"{box.url}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", cloudflare_token)


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_no_secret(result: Any, *secrets: str) -> None:
    shown = result.stdout + result.stderr
    for secret in secrets:
        assert secret[:6] not in shown, f"a prefix of a token is in doctor's output: {secret[:6]!r}"


def test_doctor_passes_after_provision_and_a_first_deploy_and_changes_nothing(
        cli: Any, box: Sandbox, project: Path) -> None:
    provisioned(cli)
    before, requests_before = files_of(project), len(box.requests)

    result = cli("doctor", "--sandbox", "--json")

    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["command"] == "doctor" and document["ok"] is True and document["problems"] == 0
    found = checks(result)
    assert list(found) == EVERY_CHECK
    assert all(c["status"] == "ok" for name in EVERY_CHECK if name != "wrangler" for c in found[name][:1]), found
    assert found["node"][0]["detail"].count(" v") >= 1  # the real Node answered its version
    assert "within" in found["clock"][0]["detail"]
    # Read only: no file of the project changed, and nothing but reads went to the services (the analytics query
    # is a read sent as a POST).
    assert files_of(project) == before
    sent = box.requests[requests_before:]
    assert [r.path for r in sent if r.method != "GET"] == ["/client/v4/graphql"]
    human = cli("doctor", "--sandbox")
    assert human.exit_code == 0 and "OK       queue: usage-queue" in human.stdout
    assert "No problems found." in human.stderr


def test_doctor_passes_after_provision_and_names_the_worker_never_deployed(cli: Any, box: Sandbox) -> None:
    """Between `provision` and the first deploy the project can run: doctor passes, and says what comes next."""
    assert cli("provision", "--sandbox", "--yes").exit_code == 0

    result = cli("doctor", "--sandbox", "--json")

    worker = only(result, "worker")
    assert worker["status"] == "warning" and "never deployed" in worker["detail"]
    assert "mcpdeploy sandbox deploy-worker" in worker["fix"]
    assert result.exit_code == 0 and json.loads(result.stdout)["problems"] == 0


def test_doctor_names_a_missing_queue(cli: Any, box: Sandbox) -> None:
    provisioned(cli)
    with cloudflare_client(box) as client:
        queue = client.find_queue("usage-queue")
        assert queue is not None
        client.delete_queue(queue.queue_id)

    result = cli("doctor", "--sandbox", "--json")

    missing = only(result, "queue")
    assert missing["status"] == "problem" and "no queue 'usage-queue'" in missing["detail"]
    assert "mcpdeploy provision --sandbox" in missing["fix"] and result.exit_code == 5
    human = cli("doctor", "--sandbox")
    assert "PROBLEM  queue: no queue 'usage-queue'" in human.stdout and "1 problem(s)." in human.stderr


@pytest.mark.parametrize("spoil", ["readable by others", "not a file"])
def test_doctor_names_an_unreadable_key(cli: Any, project: Path, spoil: str) -> None:
    key = project / ".mcpdeploy" / "keys" / "default.key"
    if spoil == "readable by others":
        assert cli("secrets", "keygen").exit_code == 0
        key.chmod(0o644)
    else:
        key.mkdir(parents=True)

    result = cli("doctor", "--sandbox", "--json")

    problem = only(result, "credentials key")
    assert problem["status"] == "problem" and result.exit_code == problem["exit_code"] == 8
    assert key.name in problem["detail"] and "chmod 600" in problem["fix"]


def test_doctor_names_a_revoked_cloudflare_token(cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provisioned(cli)
    revoked = "cf-revoked-0123456789abcdef0123456789abcdef"
    as_a_user(monkeypatch, box, cloudflare_token=revoked)

    result = cli("doctor", "--json")

    token = only(result, "cloudflare token")
    assert token["status"] == "problem" and "revoked" in token["detail"] and result.exit_code == 6, result.stdout
    assert "CLOUDFLARE_API_TOKEN" in token["fix"] and "Workers Scripts: Edit" in token["fix"]
    assert only(result, "xano token")["status"] == "ok"
    assert_no_secret(result, revoked)
    assert_no_secret(cli("doctor"), revoked)


def test_doctor_names_a_revoked_xano_token(cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provisioned(cli)
    revoked = "xano-revoked-eyJhbGciOiJIUzI1NiJ9.payload.signature"
    as_a_user(monkeypatch, box, cloudflare_token=credentials.CLOUDFLARE_API_TOKEN)
    monkeypatch.setenv("XANO_METADATA_TOKEN", revoked)

    result = cli("doctor", "--json")

    token = only(result, "xano token")
    assert token["status"] == "problem" and "revoked" in token["detail"] and result.exit_code == 6, result.stdout
    assert "XANO_METADATA_TOKEN" in token["fix"]
    assert "xano workspace" not in checks(result)  # nothing more can be read with it
    assert_no_secret(result, revoked)
    assert_no_secret(cli("doctor"), revoked)


def test_doctor_names_a_missing_analytics_permission_as_a_warning(
        cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provisioned(cli)
    as_a_user(monkeypatch, box, cloudflare_token=NO_ANALYTICS_TOKEN)

    result = cli("doctor", "--json")

    analytics = only(result, "cloudflare permission: Account Analytics")
    assert analytics["status"] == "warning" and "Account Analytics: Read" in analytics["fix"]
    assert result.exit_code == 0, result.stdout


def _cloudflare(mock: respx.MockRouter, box: Sandbox, *, verify: httpx.Response, queues: httpx.Response,
                analytics: httpx.Response) -> None:
    """Cloudflare answered by respx, Xano by the served sandbox."""
    mock.route(host="127.0.0.1").pass_through()
    mock.get(f"{FAKE_CLOUDFLARE}/user/tokens/verify").mock(return_value=verify)
    # Code 1000 there sends the client on to the account-token verification, which a bad token fails too.
    mock.get(f"{FAKE_CLOUDFLARE}/accounts/{ACCOUNT}/tokens/verify").mock(return_value=verify)
    mock.get(url__startswith=f"{FAKE_CLOUDFLARE}/accounts/{ACCOUNT}/queues").mock(return_value=queues)
    mock.get(url__startswith=f"{FAKE_CLOUDFLARE}/accounts/{ACCOUNT}/workers/scripts/").mock(
        return_value=httpx.Response(200, json={"success": True, "errors": [], "messages": [], "result": {}}))
    mock.post(f"{FAKE_CLOUDFLARE}/graphql").mock(return_value=analytics)


def _envelope(result: Any = None, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"success": not errors, "errors": errors or [], "messages": [], "result": result}


ACTIVE = httpx.Response(200, json=_envelope({"id": "t1", "status": "active"}))
QUEUE = httpx.Response(200, json={**_envelope([{"queue_id": "q1", "queue_name": "usage-queue"}]),
                                  "result_info": {"page": 1, "per_page": 20, "total_count": 1}})
ANALYTICS = httpx.Response(200, json={"data": {"viewer": {"accounts": [{"totals": [], "series": []}]}},
                                      "errors": None})
NOT_AUTHORIZED = [{"message": "not authorized for that account", "path": ["viewer", "accounts"]}]
AUTH_ERROR = [{"code": 10000, "message": "Authentication error"}]


@pytest.mark.parametrize(("answers", "name", "status", "words"), [
    ({"verify": httpx.Response(200, json=_envelope({"id": "t1", "status": "disabled"}))},
     "cloudflare token", "problem", "disabled"),
    ({"verify": httpx.Response(200, json=_envelope({"id": "t1", "status": "expired",
                                                    "expires_on": "2000-01-01T00:00:00Z"}))},
     "cloudflare token", "problem", "expired"),
    ({"verify": httpx.Response(401, json=_envelope(errors=[{"code": 1000, "message": "Invalid API Token"}]))},
     "cloudflare token", "problem", "revoked"),
    ({"queues": httpx.Response(403, json=_envelope(errors=AUTH_ERROR))},
     "cloudflare permission: Queues", "problem", "Queues: Edit"),
    ({"queues": httpx.Response(200, json=_envelope(errors=AUTH_ERROR))},
     "cloudflare permission: Queues", "problem", "Queues: Edit"),
    ({"analytics": httpx.Response(403, json={"data": None, "errors": NOT_AUTHORIZED})},
     "cloudflare permission: Account Analytics", "warning", "Account Analytics: Read"),
    ({"analytics": httpx.Response(200, json={"data": None, "errors": NOT_AUTHORIZED})},
     "cloudflare permission: Account Analytics", "warning", "Account Analytics: Read"),
], ids=["disabled", "expired", "invalid", "queues-403", "queues-200-with-errors",
        "analytics-403", "analytics-200-with-errors"])
def test_doctor_reads_cloudflare_refusals_in_every_shape(
        cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch, answers: dict[str, httpx.Response], name: str,
        status: str, words: str) -> None:
    provisioned(cli)
    as_a_user(monkeypatch, box, cloudflare_token="cf-token-under-test", cloudflare_url=FAKE_CLOUDFLARE)
    with respx.mock(assert_all_called=False) as mock:
        _cloudflare(mock, box, **{"verify": ACTIVE, "queues": QUEUE, "analytics": ANALYTICS, **answers})
        result = cli("doctor", "--json")
    check = only(result, name)
    assert check["status"] == status, result.stdout
    assert words in (check["detail"] + " " + (check["fix"] or ""))
    assert (result.exit_code == 6) == (status == "problem"), result.stdout


def test_doctor_warns_of_a_token_about_to_expire(cli: Any, box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timedelta, timezone

    provisioned(cli)
    soon = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    as_a_user(monkeypatch, box, cloudflare_token="cf-token-under-test", cloudflare_url=FAKE_CLOUDFLARE)
    with respx.mock(assert_all_called=False) as mock:
        expiring = httpx.Response(200, json=_envelope({"id": "t1", "status": "active", "expires_on": soon}))
        _cloudflare(mock, box, verify=expiring, queues=QUEUE, analytics=ANALYTICS)
        result = cli("doctor", "--json")
    token = only(result, "cloudflare token")
    assert token["status"] == "warning" and soon in token["detail"] and result.exit_code == 0


@pytest.mark.parametrize(("offset", "status", "code"), [(-600, "problem", 64), (120, "warning", 0), (5, "ok", 0)])
def test_doctor_measures_the_clock_against_the_services(cli: Any, box: Sandbox, offset: int, status: str,
                                                        code: int) -> None:
    provisioned(cli)
    assert httpx.post(f"{box.url}/__sandbox/options", json={"clock_offset_seconds": offset}).status_code == 200

    result = cli("doctor", "--sandbox", "--json")

    clock = only(result, "clock")
    assert clock["status"] == status and result.exit_code == code, result.stdout
    if offset == -600:
        assert "10 min ahead of" in clock["detail"] and "network time" in clock["fix"]


def test_doctor_names_a_wrangler_config_that_disagrees(cli: Any, box: Sandbox, project: Path) -> None:
    provisioned(cli)
    config = project / "wrangler.toml"
    config.write_text(config.read_text().replace('queue = "usage-queue"\nbinding', 'queue = "other"\nbinding'))

    result = cli("doctor", "--sandbox", "--json")

    bindings = only(result, "wrangler bindings")
    assert bindings["status"] == "problem" and "sends to queue 'other', not 'usage-queue'" in bindings["detail"]
    assert "mcpdeploy provision --sandbox" in bindings["fix"] and result.exit_code == 8


def test_doctor_names_a_wrangler_config_above_the_project_that_wrangler_would_read(
        cli: Any, box: Sandbox, project: Path) -> None:
    provisioned(cli)
    (project.parent / "wrangler.json").write_text('{"name": "somebody-else"}')

    result = cli("doctor", "--sandbox", "--json")

    config = only(result, "wrangler config")
    assert config["status"] == "problem" and result.exit_code == 8
    assert str(project.parent / "wrangler.json") in config["detail"] and "wrangler.toml" in config["detail"]


def test_doctor_names_a_wrangler_config_ignored_next_to_the_one_read(cli: Any, box: Sandbox, project: Path) -> None:
    provisioned(cli)
    (project / "wrangler.jsonc").write_text('{\n  // made by create-cloudflare\n  "name": "mcp-server"\n}\n')

    result = cli("doctor", "--sandbox", "--json")

    assert only(result, "wrangler config")["detail"] == "wrangler reads wrangler.jsonc; wrangler.toml next to it is " \
                                                         "ignored"
    assert only(result, "wrangler bindings")["status"] == "problem"  # the bindings are in the ignored file


def test_doctor_names_the_redirect_wrangler_deploy_would_follow(cli: Any, box: Sandbox, project: Path) -> None:
    provisioned(cli)
    redirect = project / ".wrangler" / "deploy" / "config.json"
    redirect.parent.mkdir(parents=True)
    redirect.write_text('{"configPath": "../../dist/wrangler.json"}')

    result = cli("doctor", "--sandbox", "--json")

    config = only(result, "wrangler config")
    assert config["status"] == "warning" and str(project / "dist" / "wrangler.json") in config["detail"]
    assert result.exit_code == 0


@pytest.mark.parametrize(("pinned", "engines", "status"), [
    ("4.164.0", ">=22.0.0", "ok"), ("4.100.0", ">=22.0.0", "warning"), ("4.164.0", ">=99.0.0", "problem")])
def test_doctor_reads_the_project_wrangler_version(cli: Any, box: Sandbox, project: Path, pinned: str, engines: str,
                                                   status: str) -> None:
    provisioned(cli)
    installed = project / "node_modules" / "wrangler"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"name": "wrangler", "version": "4.164.0",
                                                        "engines": {"node": engines}}))
    (project / "package.json").write_text(json.dumps({"devDependencies": {"wrangler": pinned}}))

    result = cli("doctor", "--sandbox", "--json")

    wrangler = only(result, "wrangler")
    assert wrangler["status"] == status and "4.164.0" in wrangler["detail"], wrangler
    assert result.exit_code == (64 if status == "problem" else 0)
