"""The sandbox's Cloudflare API spoken to over plain HTTP, as a client that knows nothing of mcpdeploy would:
v4 envelopes and error codes, queues with paging, one Worker consumer per queue, versions and deployments,
secrets readable by name only, 10215 and 10220 where the reference says the API refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare import ACCOUNT_TOKEN, CloudflareService, deployed_secret_value
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ACCOUNT = f"/client/v4/accounts/{credentials.CLOUDFLARE_ACCOUNT_ID}"
SCRIPT = f"{ACCOUNT}/workers/scripts/mcp-server"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "sandbox")


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {credentials.CLOUDFLARE_API_TOKEN}"}
    with httpx.Client(transport=SandboxTransport(sandbox), base_url="http://sandbox.test", headers=headers) as c:
        yield c


def errors(response: httpx.Response) -> list[int]:
    body = response.json()
    assert body["success"] is False and body["result"] is None
    return [e["code"] for e in body["errors"]]


def upload(http: httpx.Client, message: str = "upload", keep_secrets: bool = True) -> str:
    metadata = {"main_module": "worker.js", "compatibility_date": "2025-01-01",
                "annotations": {"workers/message": message},
                **({"keep_bindings": ["secret_text", "secret_key"]} if keep_secrets else {})}
    response = http.post(f"{SCRIPT}/versions", files={
        "metadata": (None, json.dumps(metadata), "application/json"),
        "worker.js": ("worker.js", b"export default {}", "application/javascript+module"),
    })
    assert response.status_code == 200, response.text
    version_id: str = response.json()["result"]["id"]
    return version_id


def deploy(http: httpx.Client, version_id: str, force: bool = False) -> httpx.Response:
    body = {"strategy": "percentage", "versions": [{"version_id": version_id, "percentage": 100}],
            "annotations": {"workers/message": "deploy"}}
    return http.post(f"{SCRIPT}/deployments", json=body, params={"force": "true"} if force else None)


def put_secrets(http: httpx.Client, values: dict[str, Any]) -> httpx.Response:
    patch = {"secrets": {n: ({"name": n, "text": v, "type": "secret_text"} if v is not None else None)
                         for n, v in values.items()}}
    return http.patch(f"{SCRIPT}/secrets-bulk", content=json.dumps(patch),
                      headers={"content-type": "application/merge-patch+json"})


def test_the_cloudflare_service_is_mounted_under_client_v4(sandbox: Sandbox) -> None:
    service = next(s for s in sandbox.services if isinstance(s, CloudflareService))
    assert service.claims("/client/v4/user/tokens/verify")
    assert not service.claims("/client/v40") and not service.claims("/api:meta/workspace")


def test_the_user_token_verifies_and_others_are_refused(http: httpx.Client) -> None:
    verified = http.get("/client/v4/user/tokens/verify")
    assert verified.json() == {"success": True, "errors": [], "messages": [],
                               "result": {"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}}
    wrong = http.get("/client/v4/user/tokens/verify", headers={"Authorization": "Bearer guessed"})
    assert (wrong.status_code, errors(wrong)) == (401, [10000])
    none = http.get(f"{ACCOUNT}/queues", headers={"Authorization": ""})
    assert errors(none) == [10000]


def test_an_account_token_gets_1000_from_the_user_verify_and_passes_the_account_verify(http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {ACCOUNT_TOKEN}"}
    assert errors(http.get("/client/v4/user/tokens/verify", headers=headers)) == [1000]
    account = http.get(f"{ACCOUNT}/tokens/verify", headers=headers)
    assert account.json()["result"]["status"] == "active"


def test_another_account_and_unknown_routes_answer_in_the_envelope(http: httpx.Client) -> None:
    other = http.get("/client/v4/accounts/0123456789abcdef0123456789abcdef/queues")
    assert (other.status_code, errors(other)) == (403, [9109])
    nowhere = http.get(f"{ACCOUNT}/nowhere")
    assert (nowhere.status_code, errors(nowhere)) == (404, [7003])


def test_queues_are_listed_by_name_a_page_at_a_time(http: httpx.Client) -> None:
    for n in range(25):
        assert http.post(f"{ACCOUNT}/queues", json={"queue_name": f"usage-queue-{n:02d}"}).status_code == 200
    http.post(f"{ACCOUNT}/queues", json={"queue_name": "other"})

    first = http.get(f"{ACCOUNT}/queues", params={"name": "usage-queue", "page": 1}).json()
    second = http.get(f"{ACCOUNT}/queues", params={"name": "usage-queue", "page": 2}).json()

    assert first["result_info"] == {"page": 1, "per_page": 20, "count": 20, "total_count": 25, "total_pages": 2}
    assert [q["queue_name"] for q in second["result"]] == [f"usage-queue-{n}" for n in range(20, 25)]
    assert set(first["result"][0]) >= {"queue_id", "queue_name", "created_on", "settings", "consumers",
                                       "consumers_total_count"}


def test_the_name_filter_is_not_an_exact_match(http: httpx.Client) -> None:
    for name in ("usage-queue", "usage-queue-staging", "old-usage-queue", "other"):
        http.post(f"{ACCOUNT}/queues", json={"queue_name": name})

    listed = http.get(f"{ACCOUNT}/queues", params={"name": "usage-queue"}).json()["result"]

    assert sorted(q["queue_name"] for q in listed) == ["old-usage-queue", "usage-queue", "usage-queue-staging"]


def test_a_duplicate_or_invalid_queue_name_is_refused_with_the_real_codes(http: httpx.Client) -> None:
    assert http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"}).json()["success"] is True
    duplicate = http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"})
    other_id = http.post(f"{ACCOUNT}/queues", json={"queue_name": "other"}).json()["result"]["queue_id"]
    renamed = http.put(f"{ACCOUNT}/queues/{other_id}", json={"queue_name": "usage-queue"})
    invalid = http.post(f"{ACCOUNT}/queues", json={"queue_name": "Usage_Queue"})

    assert (duplicate.status_code, errors(duplicate)) == (409, [11009])
    assert (renamed.status_code, errors(renamed)) == (409, [11009])
    assert (invalid.status_code, errors(invalid)) == (400, [11003])


def test_a_queue_is_found_by_id_not_by_name_and_can_be_deleted(http: httpx.Client) -> None:
    queue_id = http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"}).json()["result"]["queue_id"]
    by_name = http.get(f"{ACCOUNT}/queues/usage-queue")
    assert (by_name.status_code, errors(by_name)) == (404, [10004])  # a malformed id
    assert http.get(f"{ACCOUNT}/queues/{queue_id}").json()["result"]["queue_name"] == "usage-queue"
    assert http.delete(f"{ACCOUNT}/queues/{queue_id}").json()["success"] is True
    gone = http.get(f"{ACCOUNT}/queues/{queue_id}")
    assert (gone.status_code, errors(gone)) == (404, [11000])


def test_a_queue_has_one_worker_consumer_for_an_existing_worker(http: httpx.Client) -> None:
    queue_id = http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"}).json()["result"]["queue_id"]
    consumer = {"type": "worker", "script_name": "mcp-server", "settings": {"batch_size": 100,
                                                                              "max_wait_time_ms": 30000}}
    consumers = f"{ACCOUNT}/queues/{queue_id}/consumers"
    assert errors(http.post(consumers, json=consumer)) == [10007]  # the Worker must exist first
    upload(http)

    created = http.post(consumers, json=consumer).json()["result"]
    again = http.post(consumers, json={**consumer, "script_name": "mcp-server"})
    too_big = http.put(f"{consumers}/{created['consumer_id']}", json={**consumer, "settings": {"batch_size": 500}})

    assert created["settings"] == {"batch_size": 100, "max_wait_time_ms": 30000}
    assert errors(again) == [11004]
    assert errors(too_big) == [100127]
    assert http.get(consumers).json()["result"] == [created]


def test_a_consumer_names_its_dead_letter_queue_at_the_top_level(http: httpx.Client) -> None:
    queue_id = http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"}).json()["result"]["queue_id"]
    upload(http)
    consumers = f"{ACCOUNT}/queues/{queue_id}/consumers"
    settings = {"batch_size": 10, "max_retries": 3, "max_wait_time_ms": 5000, "max_concurrency": None,
                "retry_delay": 30}
    misplaced = http.post(consumers, json={"type": "worker", "script_name": "mcp-server",
                                           "settings": {**settings, "dead_letter_queue": "usage-dlq"}})
    by_id = http.post(consumers, json={"type": "worker", "script_name": "mcp-server", "settings": settings,
                                       "dead_letter_queue": {"queue_id": queue_id}})

    created = http.post(consumers, json={"type": "worker", "script_name": "mcp-server", "settings": settings,
                                         "dead_letter_queue": "usage-dlq"}).json()["result"]

    assert errors(misplaced) == [10207] and errors(by_id) == [10207]
    assert created["dead_letter_queue"] == "usage-dlq"
    assert created["settings"] == settings  # max_concurrency null: the platform's maximum
    assert (created["type"], created["script_name"]) == ("worker", "mcp-server")


def test_an_upload_is_a_version_and_traffic_moves_only_with_a_deployment(http: httpx.Client) -> None:
    assert errors(http.get(f"{SCRIPT}/deployments")) == [10007]
    first = upload(http, "first")
    assert http.get(f"{SCRIPT}/deployments").json()["result"] == {"deployments": []}
    deploy(http, first)
    second = upload(http, "second")
    deploy(http, second)

    versions = http.get(f"{SCRIPT}/versions").json()["result"]["items"]
    deployments = http.get(f"{SCRIPT}/deployments").json()["result"]["deployments"]

    assert [v["id"] for v in versions] == [second, first]
    assert [d["versions"] for d in deployments] == [[{"version_id": second, "percentage": 100}],
                                                     [{"version_id": first, "percentage": 100}]]
    assert deployments[0]["created_on"] > deployments[1]["created_on"]


def test_annotations_say_what_made_each_version_and_deployment_as_cloudflare_writes_them(http: httpx.Client) -> None:
    first = upload(http, "first")
    deploy(http, first)
    second = upload(http, "second")
    deploy(http, second)
    put_secrets(http, {"SERVICE_CREDENTIALS": "rotated"})
    deploy(http, first, force=True)  # a rollback, made the way wrangler and mcpdeploy make one

    versions = http.get(f"{SCRIPT}/versions").json()["result"]["items"]
    deployments = http.get(f"{SCRIPT}/deployments").json()["result"]["deployments"]

    assert [v["annotations"] for v in versions] == [
        {"workers/triggered_by": "secret"},
        {"workers/triggered_by": "version_upload", "workers/message": "second"},
        {"workers/triggered_by": "upload", "workers/message": "first"},
    ]
    assert [d["annotations"] for d in deployments] == [
        {"workers/triggered_by": "deployment", "workers/message": "deploy"},  # the rollback: no "rollback" value
        {"workers/triggered_by": "secret"},
        {"workers/triggered_by": "deployment", "workers/message": "deploy"},
        {"workers/triggered_by": "deployment", "workers/message": "deploy"},
    ]
    assert all(v["metadata"]["has_preview"] is False and "hasPreview" not in v["metadata"] for v in versions)


def test_messages_are_cut_at_1000_bytes_on_a_character_boundary(http: httpx.Client) -> None:
    long_version_message = "v" * 1200
    version = upload(http, long_version_message)  # longer than the 2024 spec's 50 characters: kept, not refused
    body = {"strategy": "percentage", "versions": [{"version_id": version, "percentage": 100}],
            "annotations": {"workers/message": "a" + "é" * 600}}  # 1201 bytes; byte 1000 is inside an "é"
    deployed = http.post(f"{SCRIPT}/deployments", json=body).json()["result"]

    kept_version = http.get(f"{SCRIPT}/versions/{version}").json()["result"]["annotations"]["workers/message"]
    kept_deployment = deployed["annotations"]["workers/message"]

    assert kept_version == "v" * 1000
    assert kept_deployment == "a" + "é" * 499 and len(kept_deployment.encode("utf-8")) == 999


def test_a_script_upload_deploys_at_once_as_wrangler_deploy_does(http: httpx.Client) -> None:
    metadata = {"main_module": "worker.js", "compatibility_date": "2025-01-01"}
    uploaded = http.put(SCRIPT, files={
        "metadata": (None, json.dumps(metadata), "application/json"),
        "worker.js": ("worker.js", b"export default {}", "application/javascript+module"),
    })
    assert uploaded.status_code == 200, uploaded.text

    version = http.get(f"{SCRIPT}/versions").json()["result"]["items"][0]
    deployments = http.get(f"{SCRIPT}/deployments").json()["result"]["deployments"]

    assert version["annotations"] == {"workers/triggered_by": "upload"}
    assert [(d["versions"], d["annotations"]) for d in deployments] == [(
        [{"version_id": version["id"], "percentage": 100}],
        {"workers/triggered_by": "upload", "workers/message": "Automatic deployment on upload."})]
    # wrangler deploy reads `deployment_id` as the new version's id.
    assert uploaded.json()["result"]["deployment_id"] == version["id"]


def test_a_deployment_must_split_100_percent_over_known_versions(http: httpx.Client) -> None:
    version = upload(http)
    half = {"strategy": "percentage", "versions": [{"version_id": version, "percentage": 50}]}
    assert errors(http.post(f"{SCRIPT}/deployments", json=half)) == [10207]
    assert deploy(http, "00000000-0000-0000-0000-000000000000").status_code == 404


def test_secrets_are_listed_by_name_and_never_by_value(http: httpx.Client) -> None:
    deploy(http, upload(http))
    assert put_secrets(http, {"SERVICE_CREDENTIALS": "value-PLANTED-1", "KEY": "value-PLANTED-2"}).status_code == 200

    listed = http.get(f"{SCRIPT}/secrets")
    single = http.get(f"{SCRIPT}/secrets/KEY", params={"url_encoded": "true"})
    version = http.get(f"{SCRIPT}/versions/{http.get(f'{SCRIPT}/versions').json()['result']['items'][0]['id']}")

    assert listed.json()["result"] == [{"name": "KEY", "type": "secret_text"},
                                       {"name": "SERVICE_CREDENTIALS", "type": "secret_text"}]
    assert single.json()["result"] == {"name": "KEY", "type": "secret_text"}
    for answer in (listed, single, version):
        assert "PLANTED" not in answer.text


def test_a_bulk_secret_push_is_one_new_version_deployed_at_100_percent(http: httpx.Client) -> None:
    deploy(http, upload(http))
    put_secrets(http, {"A": "value-a", "B": "value-b", "C": "value-c"})
    put_secrets(http, {"C": None})

    versions = http.get(f"{SCRIPT}/versions").json()["result"]["items"]
    live = http.get(f"{SCRIPT}/deployments").json()["result"]["deployments"][0]

    assert len(versions) == 3  # the upload, one per push
    assert versions[0]["annotations"]["workers/triggered_by"] == "secret"
    assert live["versions"] == [{"version_id": versions[0]["id"], "percentage": 100}]
    assert [s["name"] for s in http.get(f"{SCRIPT}/secrets").json()["result"]] == ["A", "B"]


def test_secret_edits_are_refused_while_the_latest_version_is_not_deployed(http: httpx.Client) -> None:
    deploy(http, upload(http))
    upload(http, "uploaded, not deployed")
    assert errors(put_secrets(http, {"A": "value-a"})) == [10215]
    single = http.put(f"{SCRIPT}/secrets", json={"name": "A", "text": "value-a", "type": "secret_text"})
    assert errors(single) == [10215]
    assert errors(http.delete(f"{SCRIPT}/secrets/MISSING", params={"url_encoded": "true"})) == [10056]


def test_rolling_back_to_a_version_with_other_secrets_needs_force(http: httpx.Client) -> None:
    older = upload(http, "v1")
    deploy(http, older)
    put_secrets(http, {"SERVICE_CREDENTIALS": "rotated"})

    refused = deploy(http, older)
    forced = deploy(http, older, force=True)

    assert errors(refused) == [10220]
    assert "SERVICE_CREDENTIALS" in refused.json()["errors"][0]["message"]
    assert forced.json()["result"]["versions"] == [{"version_id": older, "percentage": 100}]


def test_an_upload_without_keep_bindings_drops_the_secrets(http: httpx.Client) -> None:
    deploy(http, upload(http))
    put_secrets(http, {"A": "value-a"})
    deploy(http, upload(http, keep_secrets=False))
    assert http.get(f"{SCRIPT}/secrets").json()["result"] == []


def test_state_survives_a_restart_without_any_secret_value(tmp_path: Path, http: httpx.Client) -> None:
    deploy(http, upload(http))
    put_secrets(http, {"SERVICE_CREDENTIALS": "value-PLANTED-3", "MCP_AUTH_DISABLED_UNTIL": "2030-01-01T00:00:00Z"})

    restarted = Sandbox(tmp_path / "sandbox")
    state_text = (tmp_path / "sandbox" / "state.json").read_text()

    assert "PLANTED" not in state_text
    assert deployed_secret_value(restarted, "mcp-server", "MCP_AUTH_DISABLED_UNTIL") == "2030-01-01T00:00:00Z"
    with pytest.raises(ValueError):
        deployed_secret_value(restarted, "mcp-server", "SERVICE_CREDENTIALS")
    assert len(restarted.state["cloudflare"]["scripts"]["mcp-server"]["versions"]) == 2
