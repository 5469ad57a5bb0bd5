"""The request validator the provider tests rely on: it must accept documented calls and reject the rest,
or "every request validates" would prove nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.openapi_requests import OpenApiRequestValidator, RecordedRequest

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "cloudflare"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
SANDBOX_BASE = f"http://127.0.0.1:8787/client/v4/accounts/{ACCOUNT}"
AUTH = {"authorization": "Bearer a-token"}


@pytest.fixture(scope="module")
def validator() -> OpenApiRequestValidator:
    return OpenApiRequestValidator([REFERENCE / "openapi-trimmed.json", REFERENCE / "openapi-supplement.json"])


def post_json(url: str, body: object, content_type: str = "application/json") -> RecordedRequest:
    return RecordedRequest("POST", url, {**AUTH, "content-type": content_type}, json.dumps(body).encode())


def test_a_documented_queue_create_on_any_host_is_accepted(validator: OpenApiRequestValidator) -> None:
    assert validator.errors(post_json(f"{SANDBOX_BASE}/queues", {"queue_name": "usage-queue"})) == []


def test_a_body_missing_a_required_field_is_rejected(validator: OpenApiRequestValidator) -> None:
    errors = validator.errors(post_json(f"{SANDBOX_BASE}/queues", {"name": "usage-queue"}))
    assert any("'queue_name' is a required property" in e for e in errors), errors


def test_a_wrong_content_type_is_rejected(validator: OpenApiRequestValidator) -> None:
    errors = validator.errors(post_json(f"{SANDBOX_BASE}/queues", {"queue_name": "q"}, content_type="text/plain"))
    assert any("text/plain" in e for e in errors), errors


def test_a_value_out_of_the_documented_range_is_rejected(validator: OpenApiRequestValidator) -> None:
    body = {"type": "worker", "script_name": "mcp-server", "settings": {"batch_size": 500}}
    errors = validator.errors(post_json(f"{SANDBOX_BASE}/queues/6f0c2d3b8f8b4c0e9b1d2a3c4e5f6a7b/consumers", body))
    assert any("500" in e for e in errors), errors


def test_an_undocumented_path_is_rejected(validator: OpenApiRequestValidator) -> None:
    request = RecordedRequest("GET", f"{SANDBOX_BASE}/queues-by-name/usage-queue", AUTH)
    assert validator.errors(request) == [
        "GET /client/v4/accounts/023e105f4ecef8ad9ca31a8372d0c353/queues-by-name/usage-queue: no operation in "
        "openapi-trimmed.json, openapi-supplement.json matches this method and path"
    ]


def test_a_request_outside_the_server_base_path_is_rejected(validator: OpenApiRequestValidator) -> None:
    request = RecordedRequest("GET", f"http://127.0.0.1:8787/accounts/{ACCOUNT}/queues", AUTH)
    assert validator.errors(request) != []


def test_a_request_without_credentials_is_rejected(validator: OpenApiRequestValidator) -> None:
    request = RecordedRequest("GET", "https://api.cloudflare.com/client/v4/user/tokens/verify", {})
    assert any("security schemes" in e for e in validator.errors(request))


def test_merge_patch_bodies_are_read_as_json(validator: OpenApiRequestValidator) -> None:
    url = f"{SANDBOX_BASE}/workers/scripts/mcp-server/secrets-bulk"
    good = {"secrets": {"A": {"name": "A", "text": "value", "type": "secret_text"}}}
    bad = {"secrets": {"A": {"name": "A", "text": "value", "type": "plain_text"}}}
    request = RecordedRequest("PATCH", url, {**AUTH, "content-type": "application/merge-patch+json"},
                              json.dumps(good).encode())
    assert validator.errors(request) == []
    bad_request = RecordedRequest("PATCH", url, request.headers, json.dumps(bad).encode())
    assert validator.errors(bad_request) != []


def test_assert_valid_names_each_bad_request(validator: OpenApiRequestValidator) -> None:
    good = post_json(f"{SANDBOX_BASE}/queues", {"queue_name": "usage-queue"})
    bad = post_json(f"{SANDBOX_BASE}/queues", {})
    with pytest.raises(AssertionError) as caught:
        validator.assert_valid([good, bad])
    assert str(bad) in str(caught.value)
    assert validator.assert_valid([good, good]) == 2
