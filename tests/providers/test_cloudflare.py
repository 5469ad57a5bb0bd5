"""The Cloudflare client against the sandbox (and respx for answers the sandbox never gives): envelopes, paging,
idempotent queue and consumer set-up, rollback's 10220, secrets in one version, token fallback, retries, and
secret values kept out of traces and errors. Every request the client sends is checked against the reference
OpenAPI documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mcpdeploy.errors import ApiError, UsageError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.cloudflare import (
    CloudflareApiError,
    CloudflareClient,
    ConsumerConflict,
    ConsumerSettings,
    LatestVersionNotDeployed,
    SecretsChangedSinceVersion,
)
from mcpdeploy.providers.cloudflare_models import MAX_MESSAGE_BYTES
from mcpdeploy.providers.http import HttpOptions, TraceWriter
from mcpdeploy.redaction import Redactor
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.cloudflare import ACCOUNT_TOKEN
from mcpdeploy.sandbox.core import Fault, Sandbox, SandboxRequest
from mcpdeploy.sandbox.transport import SandboxTransport
from tests.support.openapi_requests import OpenApiRequestValidator, RecordedRequest, RecordingTransport
from tests.support.trace_requests import requests_from_trace

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "cloudflare"
BASE = "http://sandbox.test/client/v4"
ACCOUNT = credentials.CLOUDFLARE_ACCOUNT_ID
WORKER = "mcp-server"


@pytest.fixture(scope="module")
def validator() -> OpenApiRequestValidator:
    trimmed = json.loads((REFERENCE / "openapi-trimmed.json").read_text("utf-8"))
    return OpenApiRequestValidator([("openapi-trimmed.json", with_recorded_message_limit(trimmed)),
                                    REFERENCE / "openapi-supplement.json"])


def with_recorded_message_limit(spec: Any) -> Any:
    """The 2024 extract caps `workers/message` (versions and deployments) at 50 characters; the current API was
    recorded taking up to 1000 bytes and truncating the rest, and the client now sends up to that. Only that one
    limit is raised, to 1000 characters (which any 1000-byte text satisfies); everything else is checked as
    published, and the copy on disk is left byte for byte."""
    if isinstance(spec, dict):
        raised = {key: with_recorded_message_limit(value) for key, value in spec.items()}
        message = raised.get("workers/message")
        if isinstance(message, dict) and message.get("maxLength") == 50:
            raised["workers/message"] = {**message, "maxLength": MAX_MESSAGE_BYTES}
        return raised
    if isinstance(spec, list):
        return [with_recorded_message_limit(item) for item in spec]
    return spec


class Harness:
    """A client wired to a sandbox through a recording transport, with a trace file and no real sleeping."""

    def __init__(self, tmp_path: Path, token: str = credentials.CLOUDFLARE_API_TOKEN) -> None:
        self.sandbox = Sandbox(tmp_path / "sandbox")
        self.recorder = RecordingTransport(SandboxTransport(self.sandbox))
        self.waits: list[float] = []
        self.trace_path = tmp_path / "trace.jsonl"
        redactor = Redactor()
        self.options = HttpOptions(transport=self.recorder, sleep=self.waits.append, redactor=redactor,
                                   trace=TraceWriter(self.trace_path, redactor))
        self.client = CloudflareClient(BASE, token, ACCOUNT, self.options)

    def sent(self, method: str, path_part: str = "") -> list[RecordedRequest]:
        return [r for r in self.recorder.requests if r.method == method and path_part in r.url]

    def deploy(self, message: str = "deploy") -> str:
        version, _ = self.client.upload_worker(WORKER, "export default {}", message)
        return version.id


@pytest.fixture
def harness(tmp_path: Path, validator: OpenApiRequestValidator) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    # Whatever the test did, the client only ever sent documented requests.
    validator.assert_valid(h.recorder.requests)


def test_a_whole_session_sends_only_requests_the_reference_documents(
    harness: Harness, validator: OpenApiRequestValidator
) -> None:
    client = harness.client
    assert client.verify_token().active
    queue, _ = client.ensure_queue("usage-queue")
    assert client.script_exists(WORKER) is False
    first = harness.deploy("first")
    harness.deploy("a message far longer than the fifty characters the official spec allows")
    client.ensure_consumer(queue.queue_id, WORKER, 100, 30_000)
    client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": '{"a":1}', "CREDENTIALS_KEY": "k" * 44})
    client.delete_secret(WORKER, "CREDENTIALS_KEY")
    client.list_versions(WORKER)
    client.list_deployments(WORKER)
    client.create_deployment(WORKER, first, "rollback", force=True)
    client.ensure_consumer(queue.queue_id, WORKER, 10, 5_000)  # an update: PUT
    client.delete_queue(queue.queue_id)

    assert validator.assert_valid(harness.recorder.requests) >= 15
    assert {r.method for r in harness.recorder.requests} == {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_the_requests_in_a_trace_file_validate_too(harness: Harness, validator: OpenApiRequestValidator) -> None:
    queue, _ = harness.client.ensure_queue("usage-queue")
    harness.deploy()
    harness.client.ensure_consumer(queue.queue_id, WORKER, 100, 30_000)
    harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": '{"k":"v"}'})
    harness.options.trace.close()  # type: ignore[union-attr]

    traced = requests_from_trace(harness.trace_path, url_contains="/client/v4/")

    assert [r.method for r in traced] == [r.method for r in harness.recorder.requests]
    assert validator.assert_valid(traced) == len(harness.recorder.requests)


def test_success_false_on_http_200_is_an_error_with_code_and_hint() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/accounts/{ACCOUNT}/queues").respond(200, json={
            "success": False, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": [],
            "result": None})
        client = CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions())
        with pytest.raises(CloudflareApiError) as caught:
            client.find_queue("usage-queue")
    assert caught.value.status == 200
    assert caught.value.codes == [10000]
    assert "answered 200 10000: Authentication error [code 10000]" in caught.value.message
    assert caught.value.hint is not None and "CLOUDFLARE_API_TOKEN" in caught.value.hint
    assert caught.value.exit_code == ExitCode.API_REJECTED


def test_a_non_json_answer_is_reported_with_its_cf_ray() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get("/user/tokens/verify").respond(
            403, text="<html>Attention Required!</html>", headers={"content-type": "text/html", "cf-ray": "8c1-AMS"})
        client = CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions())
        with pytest.raises(ApiError) as caught:
            client.verify_token()
    assert "malformed response" in caught.value.message
    assert "cf-ray 8c1-AMS" in caught.value.message


def test_lists_are_read_page_by_page_to_the_end(harness: Harness) -> None:
    for n in range(45):
        harness.client.ensure_queue(f"usage-queue-{n:02d}")
    harness.client.ensure_queue("usage-queue")  # the 46th: on page 3 of the prefix-matching name filter
    harness.recorder.requests.clear()

    found = harness.client.find_queue("usage-queue")

    assert found is not None and found.queue_name == "usage-queue"
    pages = [httpx.URL(r.url).params.get("page") for r in harness.sent("GET", "/queues")]
    assert pages == ["1", "2", "3"]


def test_a_full_last_page_ends_the_list_without_another_request(harness: Harness) -> None:
    for n in range(40):
        harness.client.ensure_queue(f"usage-queue-{n:02d}")
    harness.recorder.requests.clear()

    assert harness.client.find_queue("usage-queue") is None
    assert len(harness.sent("GET", "/queues")) == 2  # 40 matches, 20 a page: total_count says stop


def test_ensure_queue_creates_once_and_then_only_reads(harness: Harness) -> None:
    created, was_created = harness.client.ensure_queue("usage-queue")
    harness.recorder.requests.clear()

    again, was_created_again = harness.client.ensure_queue("usage-queue")

    assert (was_created, was_created_again) == (True, False)
    assert again.queue_id == created.queue_id
    assert harness.sent("POST") == []


def test_a_queue_created_by_someone_else_meanwhile_is_found_not_failed(tmp_path: Path) -> None:
    h = Harness(tmp_path)

    class RivalCreatesFirst(httpx.BaseTransport):
        """Another run creates the queue between our look-up and our create."""

        def __init__(self, inner: httpx.BaseTransport) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("/queues"):
                rival = SandboxRequest("POST", request.url.path, {}, {
                    "authorization": f"Bearer {credentials.CLOUDFLARE_API_TOKEN}",
                    "content-type": "application/json"}, b'{"queue_name": "usage-queue"}')
                assert h.sandbox.handle(rival).status == 200
            return self.inner.handle_request(request)

    options = HttpOptions(transport=RivalCreatesFirst(h.recorder), sleep=lambda s: None)
    queue, created = CloudflareClient(BASE, credentials.CLOUDFLARE_API_TOKEN, ACCOUNT, options).ensure_queue(
        "usage-queue")

    assert created is False
    assert queue.queue_name == "usage-queue"
    assert [r.method for r in h.recorder.requests] == ["GET", "POST", "GET"]
    assert len(h.sandbox.state["cloudflare"]["queues"]) == 1


def test_queues_with_similar_names_are_not_taken_for_ours(harness: Harness) -> None:
    # The sandbox's ?name= matches any queue whose name contains the text, as an undocumented filter may.
    staging, _ = harness.client.ensure_queue("usage-queue-staging")
    old, _ = harness.client.ensure_queue("old-usage-queue")

    ours, created = harness.client.ensure_queue("usage-queue")

    assert created is True and ours.queue_name == "usage-queue"
    assert ours.queue_id not in (staging.queue_id, old.queue_id)
    assert harness.client.find_queue("usage-queue") == ours


QUEUE_ID = "6f0c2d3b8f8b4c0e9b1d2a3c4e5f6a7b"
QUEUE = {"queue_id": QUEUE_ID, "queue_name": "usage-queue", "created_on": "2026-11-20T09:00:00Z"}


def queue_list(queues: list[dict[str, object]]) -> dict[str, object]:
    return {"success": True, "errors": [], "messages": [], "result": queues,
            "result_info": {"page": 1, "per_page": 20, "count": len(queues), "total_count": len(queues)}}


DUPLICATE = {"success": False, "errors": [{"code": 11009, "message": "A queue with name 'usage-queue' already exists"}],
             "messages": [], "result": None}


def test_a_duplicate_name_answer_converges_on_the_existing_queue_even_when_the_filter_hides_it() -> None:
    def listed(request: httpx.Request) -> httpx.Response:
        # This name filter finds nothing; the whole list has the queue.
        return httpx.Response(200, json=queue_list([] if "name" in request.url.params else [QUEUE]))

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/accounts/{ACCOUNT}/queues").mock(side_effect=listed)
        mock.post(f"/accounts/{ACCOUNT}/queues").respond(409, json=DUPLICATE)
        queue, created = CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions()).ensure_queue("usage-queue")

    assert (queue.queue_id, queue.queue_name, created) == (QUEUE_ID, "usage-queue", False)


def test_a_duplicate_name_that_cannot_be_found_is_an_error_with_a_hint() -> None:
    with respx.mock(base_url=BASE) as mock:
        lists = mock.get(f"/accounts/{ACCOUNT}/queues").respond(200, json=queue_list([]))
        mock.post(f"/accounts/{ACCOUNT}/queues").respond(409, json=DUPLICATE)
        with pytest.raises(CloudflareApiError) as caught:
            CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions()).ensure_queue("usage-queue")

    assert (caught.value.status, caught.value.codes) == (409, [11009])
    assert caught.value.hint is not None and "already exists on the account" in caught.value.hint
    assert [dict(c.request.url.params).get("name") for c in lists.calls] == ["usage-queue", "usage-queue", None]


def test_an_unknown_queue_gets_a_hint() -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/accounts/{ACCOUNT}/queues/{QUEUE_ID}").respond(404, json={
            "success": False, "errors": [{"code": 11000, "message": "Queue not found"}], "messages": [],
            "result": None})
        with pytest.raises(CloudflareApiError) as caught:
            CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions()).get_queue(QUEUE_ID)

    assert (caught.value.status, caught.value.codes) == (404, [11000])
    assert caught.value.hint is not None and "does not exist on this account" in caught.value.hint


def test_a_consumer_without_a_dead_letter_queue_is_read_and_one_with_it_keeps_it_on_update() -> None:
    consumers = f"/accounts/{ACCOUNT}/queues/{QUEUE_ID}/consumers"
    settings = {"batch_size": 100, "max_retries": 3, "max_wait_time_ms": 30000, "max_concurrency": None,
                "retry_delay": 10}
    plain = {"consumer_id": "c1", "type": "worker", "script_name": WORKER, "dead_letter_queue": None,
             "settings": settings}
    with respx.mock(base_url=BASE) as mock:
        mock.get(consumers).respond(200, json={"success": True, "errors": [], "messages": [], "result": [plain]})
        consumer, changed = CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions()).ensure_consumer(
            QUEUE_ID, WORKER, 100, 30_000)
    assert changed is False and consumer.dead_letter_queue is None

    with_dlq = {**plain, "dead_letter_queue": "usage-dlq"}
    with respx.mock(base_url=BASE) as mock:
        mock.get(consumers).respond(200, json={"success": True, "errors": [], "messages": [], "result": [with_dlq]})
        update = mock.put(f"{consumers}/c1").respond(200, json={"success": True, "errors": [], "messages": [],
                                                                 "result": with_dlq})
        CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions()).ensure_consumer(QUEUE_ID, WORKER, 10, 5_000)

    sent = json.loads(update.calls.last.request.content)
    assert sent == {"type": "worker", "script_name": WORKER, "dead_letter_queue": "usage-dlq",
                    "settings": {"batch_size": 10, "max_wait_time_ms": 5000, "max_retries": 3, "retry_delay": 10}}


def test_an_invalid_queue_name_is_refused_before_any_call(harness: Harness) -> None:
    with pytest.raises(UsageError) as caught:
        harness.client.ensure_queue("Usage_Queue")
    assert "lowercase letters, digits and dashes" in str(caught.value.hint)
    assert harness.recorder.requests == []


def test_consumer_timeout_in_seconds_is_sent_in_milliseconds_and_set_once(harness: Harness) -> None:
    queue, _ = harness.client.ensure_queue("usage-queue")
    harness.deploy()
    settings = ConsumerSettings.from_wrangler(max_batch_size=100, max_batch_timeout=30)

    consumer, changed = harness.client.ensure_consumer(queue.queue_id, WORKER, settings.batch_size or 0,
                                                       settings.max_wait_time_ms or 0)
    _, changed_again = harness.client.ensure_consumer(queue.queue_id, WORKER, 100, 30_000)

    assert (changed, changed_again) == (True, False)
    sent = json.loads(harness.sent("POST", "/consumers")[0].body)
    assert sent == {"type": "worker", "script_name": WORKER, "settings": {"batch_size": 100, "max_wait_time_ms": 30000}}
    assert consumer.settings.max_wait_time_ms == 30_000
    assert ConsumerSettings.from_wrangler(10, 0.5).max_wait_time_ms == 500


def test_changed_consumer_settings_are_updated_in_place(harness: Harness) -> None:
    queue, _ = harness.client.ensure_queue("usage-queue")
    harness.deploy()
    harness.client.ensure_consumer(queue.queue_id, WORKER, 100, 30_000)

    consumer, changed = harness.client.ensure_consumer(queue.queue_id, WORKER, 50, 10_000)

    assert changed and consumer.settings.batch_size == 50
    assert len(harness.sent("PUT", "/consumers/")) == 1
    assert len(harness.client.list_consumers(queue.queue_id)) == 1


def test_wrangler_ranges_are_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match=r"max_batch_size must be 1\.\.100, got 500"):
        ConsumerSettings.from_wrangler(500, 30)
    with pytest.raises(ValueError, match=r"max_batch_timeout must be 0\.\.60 seconds, got 90"):
        ConsumerSettings.from_wrangler(100, 90)


def test_a_queue_consumed_by_another_worker_gets_a_clear_message(harness: Harness) -> None:
    queue, _ = harness.client.ensure_queue("usage-queue")
    harness.client.upload_worker("mcp-server-staging", "export default {}", "staging")
    harness.client.ensure_consumer(queue.queue_id, "mcp-server-staging", 100, 30_000)
    harness.deploy()

    with pytest.raises(ConsumerConflict) as caught:
        harness.client.ensure_consumer(queue.queue_id, WORKER, 100, 30_000)

    assert "already consumed by the Worker 'mcp-server-staging'" in caught.value.message
    assert "its own queue" in str(caught.value.hint)
    assert caught.value.codes == [11004]


def test_the_apis_11004_becomes_the_same_clear_message() -> None:
    consumers = f"/accounts/{ACCOUNT}/queues/6f0c2d3b8f8b4c0e9b1d2a3c4e5f6a7b/consumers"
    with respx.mock(base_url=BASE) as mock:
        mock.get(consumers).respond(200, json={"success": True, "errors": [], "messages": [], "result": []})
        mock.post(consumers).respond(400, json={"success": False, "messages": [], "result": None, "errors": [
            {"code": 11004, "message": "workers.api.error.consumer_exists"}]})
        client = CloudflareClient(BASE, "some-token", ACCOUNT, HttpOptions())
        with pytest.raises(ConsumerConflict) as caught:
            client.ensure_consumer("6f0c2d3b8f8b4c0e9b1d2a3c4e5f6a7b", WORKER, 100, 30_000)
    assert "already consumed by another Worker" in caught.value.message
    assert "usage-queue-staging" in str(caught.value.hint)


def test_rolling_back_past_a_secrets_change_needs_force(harness: Harness) -> None:
    older = harness.deploy("v1")
    harness.deploy("v2")
    harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "rotated-value"})

    with pytest.raises(SecretsChangedSinceVersion) as caught:
        harness.client.create_deployment(WORKER, older, "rollback to v1")
    assert "SERVICE_CREDENTIALS" in caught.value.message
    assert "--force" in str(caught.value.hint)
    assert harness.client.list_deployments(WORKER)[0].sole_version_id != older

    deployment = harness.client.create_deployment(WORKER, older, "rollback to v1", force=True)

    assert harness.client.list_deployments(WORKER)[0].id == deployment.id
    assert deployment.sole_version_id == older
    forced = [httpx.URL(r.url).params.get("force") for r in harness.sent("POST", "/deployments")]
    assert forced[-2:] == [None, "true"]  # ?force=true only on the forced call


def test_rolling_back_without_a_secrets_change_needs_no_force(harness: Harness) -> None:
    older = harness.deploy("v1")
    harness.deploy("v2")

    deployment = harness.client.create_deployment(WORKER, older, "rollback")

    assert deployment.sole_version_id == older
    assert deployment.message == "rollback"


def test_a_deployment_message_is_sent_whole_up_to_1000_bytes_and_cut_between_characters_past_it(
        harness: Harness) -> None:
    older = harness.deploy("older")
    harness.deploy("newer")
    sixty = "rolled back: the newer build drops every MCP session at once"

    kept = harness.client.create_deployment(WORKER, older, sixty)
    cut = harness.client.create_deployment(WORKER, older, "ü" * 700)  # 1400 bytes

    assert kept.message == sixty
    assert cut.message == "ü" * 498 + "…" and len(cut.message.encode("utf-8")) == 999
    sent = [json.loads(r.body)["annotations"]["workers/message"] for r in harness.sent("POST", "/deployments")]
    assert sent[-2:] == [sixty, "ü" * 498 + "…"]


def test_deployments_are_listed_newest_first(harness: Harness) -> None:
    first, second = harness.deploy("one"), harness.deploy("two")
    deployments = harness.client.list_deployments(WORKER)
    assert [d.sole_version_id for d in deployments] == [second, first]
    assert [v.id for v in harness.client.list_versions(WORKER)] == [second, first]


def test_several_secrets_are_pushed_as_one_new_version(harness: Harness) -> None:
    harness.deploy()
    versions_before = len(harness.client.list_versions(WORKER))

    harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "{}", "CREDENTIALS_KEY": "key-material"})

    assert len(harness.client.list_versions(WORKER)) == versions_before + 1
    assert len(harness.sent("PATCH", "/secrets-bulk")) == 1
    assert harness.client.list_secret_names(WORKER) == ["CREDENTIALS_KEY", "SERVICE_CREDENTIALS"]
    assert harness.client.list_deployments(WORKER)[0].sole_version_id == harness.client.list_versions(WORKER)[0].id


def test_secrets_cannot_be_pushed_while_the_latest_version_is_not_deployed(harness: Harness) -> None:
    older = harness.deploy("v1")
    harness.deploy("v2")
    harness.client.create_deployment(WORKER, older, "rollback")

    with pytest.raises(LatestVersionNotDeployed) as caught:
        harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "value"})
    assert caught.value.codes == [10215]
    assert "Deploy the latest version first" in str(caught.value.hint)


def test_a_secret_is_deleted_by_its_url_encoded_name(harness: Harness) -> None:
    harness.deploy()
    harness.client.put_secrets_bulk(WORKER, {"OLD_TOKEN": "old-value", "KEEP": "kept-value"})

    harness.client.delete_secret(WORKER, "OLD_TOKEN")

    assert harness.client.list_secret_names(WORKER) == ["KEEP"]
    assert harness.sent("DELETE", "/secrets/OLD_TOKEN?url_encoded=true")


def test_script_exists_only_after_an_upload(harness: Harness) -> None:
    assert harness.client.script_exists(WORKER) is False
    harness.deploy()
    assert harness.client.script_exists(WORKER) is True


def test_an_account_token_is_verified_on_the_account_after_code_1000(tmp_path: Path) -> None:
    h = Harness(tmp_path, token=ACCOUNT_TOKEN)

    status = h.client.verify_token()

    assert status.active and status.owner == "account"
    assert [httpx.URL(r.url).path for r in h.recorder.requests] == [
        "/client/v4/user/tokens/verify", f"/client/v4/accounts/{ACCOUNT}/tokens/verify"]


def test_a_bad_token_is_an_authentication_error_without_the_account_fallback(tmp_path: Path) -> None:
    h = Harness(tmp_path, token="not-a-valid-token")
    with pytest.raises(CloudflareApiError) as caught:
        h.client.verify_token()
    assert caught.value.codes == [10000]
    assert len(h.recorder.requests) == 1


def test_a_429_is_retried_after_retry_after(harness: Harness) -> None:
    harness.sandbox.add_fault(Fault(match=r"GET /client/v4/accounts/.*/queues$", status=429, retry_after=7))

    assert harness.client.find_queue("usage-queue") is None

    assert harness.waits == [7.0]
    assert len(harness.sent("GET", "/queues")) == 2


def test_a_planted_secret_value_is_in_no_trace_error_or_sandbox_file(harness: Harness, tmp_path: Path) -> None:
    planted = '{"api_key":"sk-PLANTED-7f3e9a","note":"it\'s \\"quoted\\""}'
    older = harness.deploy("v1")
    harness.deploy("v2")
    harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": planted, "CREDENTIALS_KEY": "PLANTED-key-42"})
    harness.client.create_deployment(WORKER, older, "rollback", force=True)  # makes the next push fail
    with pytest.raises(LatestVersionNotDeployed) as caught:
        harness.client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": planted})
    harness.options.trace.close()  # type: ignore[union-attr]

    trace = harness.trace_path.read_text()
    assert len(trace.splitlines()) >= 5
    assert "secrets-bulk" in trace
    everything = [trace, caught.value.message, str(caught.value.hint)]
    everything += [p.read_text() for p in (tmp_path / "sandbox").rglob("*") if p.is_file()]
    for text in everything:
        assert "PLANTED" not in text


def test_updating_the_consumer_keeps_the_dead_letter_queue_and_retries_someone_else_set(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    queue, _ = h.client.ensure_queue("usage-queue")
    h.client.upload_worker("mcp-server", "export default {}", "deploy")
    h.client._result("POST", f"accounts/{ACCOUNT}/queues/{queue.queue_id}/consumers", json_body={
        "type": "worker", "script_name": "mcp-server", "dead_letter_queue": "usage-dlq",
        "settings": {"batch_size": 10, "max_wait_time_ms": 5000, "max_retries": 7}})
    consumer, changed = h.client.ensure_consumer(queue.queue_id, "mcp-server", 100, 30000)
    assert changed
    assert (consumer.settings.batch_size, consumer.settings.max_wait_time_ms) == (100, 30000)
    [live] = h.client.list_consumers(queue.queue_id)
    assert live.dead_letter_queue == "usage-dlq"
    assert live.settings.max_retries == 7


def test_a_queue_whose_create_answer_was_lost_counts_as_created_by_us(tmp_path: Path) -> None:
    h = Harness(tmp_path)

    class AnswerLost(httpx.BaseTransport):
        """The create reaches the API, then the connection drops before the answer comes back."""

        def __init__(self, inner: httpx.BaseTransport) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            if request.method == "POST" and request.url.path.endswith("/queues"):
                raise httpx.RemoteProtocolError("connection dropped", request=request)
            return response

    options = HttpOptions(transport=AnswerLost(h.recorder), sleep=lambda s: None)
    queue, created = CloudflareClient(BASE, credentials.CLOUDFLARE_API_TOKEN, ACCOUNT, options).ensure_queue(
        "usage-queue")
    assert created is True  # so `rollback --run` can offer to remove it
    assert queue.queue_name == "usage-queue"
    assert [r.method for r in h.recorder.requests] == ["GET", "POST", "GET"]  # the POST was not sent twice
