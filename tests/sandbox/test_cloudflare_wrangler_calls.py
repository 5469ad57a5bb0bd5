"""The calls `wrangler deploy` makes besides uploading, answered as the Cloudflare API answers them (wrangler
4.164.0 reads these exact fields): the Worker as a service, the account's workers.dev subdomain, the Worker in
the newer Workers API, its workers.dev route, its settings, bindings it inherits, and queue consumers it finds by
Worker name. tests/deploy/ runs real wrangler against the same sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ACCOUNT = f"/client/v4/accounts/{credentials.CLOUDFLARE_ACCOUNT_ID}"
SCRIPT = f"{ACCOUNT}/workers/scripts/mcp-server"
WRANGLER_AGENT = "wrangler/4.164.0"


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {credentials.CLOUDFLARE_API_TOKEN}"}
    with httpx.Client(transport=SandboxTransport(Sandbox(tmp_path / "sandbox")), base_url="http://sandbox.test",
                      headers=headers) as client:
        yield client


def script_upload(http: httpx.Client, bindings: list[dict[str, Any]] | None = None, *, first: bool = True,
                  agent: str = WRANGLER_AGENT) -> httpx.Response:
    """A script as wrangler deploy uploads it: `PUT …/scripts/{name}` for a new Worker, `POST …/versions` after."""
    metadata = {"main_module": "index.js", "compatibility_date": "2026-11-01", "bindings": bindings or [],
                "keep_bindings": ["secret_text", "secret_key"]}
    files = {"metadata": (None, json.dumps(metadata), "application/json"),
             "index.js": ("index.js", b"export default {}", "application/javascript+module")}
    params = {"bindings_inherit": "strict", **({"excludeScript": "true"} if first else {})}
    url = SCRIPT if first else f"{SCRIPT}/versions"
    response = (http.put if first else http.post)(url, files=files, params=params, headers={"User-Agent": agent})
    assert response.status_code == 200, response.text
    return response


def result(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200 and body["success"] is True, response.text
    return body["result"]


def test_a_worker_that_does_not_exist_is_10007_as_a_service_and_as_a_worker(http: httpx.Client) -> None:
    for url in (f"{ACCOUNT}/workers/services/mcp-server", f"{ACCOUNT}/workers/workers/mcp-server"):
        answer = http.get(url)
        assert answer.status_code == 404 and [e["code"] for e in answer.json()["errors"]] == [10007]


def test_the_service_names_the_worker_its_tag_and_who_deployed_it_last(http: httpx.Client) -> None:
    script_upload(http)
    service = result(http.get(f"{ACCOUNT}/workers/services/mcp-server"))
    again = result(http.get(f"{ACCOUNT}/workers/services/mcp-server"))
    script = service["default_environment"]["script"]

    assert service["id"] == "mcp-server" and service["default_environment"]["environment"] == "production"
    assert len(script["tag"]) == 32 and again["default_environment"]["script"]["tag"] == script["tag"]
    assert script["last_deployed_from"] == "wrangler"

    script_upload(http, first=False, agent="python-httpx/0.28")
    later = result(http.get(f"{ACCOUNT}/workers/services/mcp-server"))["default_environment"]["script"]
    assert later["last_deployed_from"] == "api" and later["tag"] == script["tag"]


def test_the_workers_dev_route_is_off_until_wrangler_turns_it_on(http: httpx.Client) -> None:
    assert result(http.get(f"{ACCOUNT}/workers/subdomain")) == {"subdomain": "sandbox"}
    script_upload(http)
    before = result(http.get(f"{ACCOUNT}/workers/workers/mcp-server"))["subdomain"]

    after = result(http.post(f"{SCRIPT}/subdomain", content=json.dumps({"enabled": True, "previews_enabled": False}),
                             headers={"Content-Type": "application/json"}))

    assert before == {"enabled": False, "previews_enabled": False}
    assert after == {"enabled": True, "previews_enabled": False}
    assert result(http.get(f"{ACCOUNT}/workers/workers/mcp-server"))["subdomain"] == after
    refused = http.post(f"{SCRIPT}/subdomain", json={"enabled": "yes"})
    assert refused.status_code == 400


def test_a_script_upload_answers_the_new_version_as_deployment_id(http: httpx.Client) -> None:
    uploaded = result(script_upload(http))
    versions = result(http.get(f"{SCRIPT}/versions"))["items"]
    assert uploaded["deployment_id"] == versions[0]["id"]


def test_bindings_are_kept_per_version_and_inherit_takes_the_previous_ones(http: httpx.Client) -> None:
    queue = {"type": "queue", "name": "USAGE_QUEUE", "queue_name": "usage-queue"}
    script_upload(http, [queue, {"type": "plain_text", "name": "MODE", "text": "sandbox"}])
    inherited = result(script_upload(http, [{"type": "inherit", "name": "USAGE_QUEUE"}], first=False))

    settings = result(http.get(f"{SCRIPT}/settings"))
    version = result(http.get(f"{SCRIPT}/versions/{inherited['id']}"))

    assert settings["bindings"] == [queue] and settings["compatibility_date"] == "2026-11-01"
    assert version["resources"]["bindings"] == [queue]
    metadata = {"main_module": "index.js", "bindings": [{"type": "inherit", "name": "MISSING"}]}
    refused = http.post(f"{SCRIPT}/versions", files={
        "metadata": (None, json.dumps(metadata), "application/json"),
        "index.js": ("index.js", b"export default {}", "application/javascript+module")})
    assert refused.status_code == 400


def test_a_consumer_names_its_worker_as_script_and_takes_json_sent_as_text(http: httpx.Client) -> None:
    script_upload(http)
    queue = result(http.post(f"{ACCOUNT}/queues", json={"queue_name": "usage-queue"}))
    body = {"type": "worker", "script_name": "mcp-server", "settings": {"batch_size": 100, "max_wait_time_ms": 30000}}

    # wrangler sends this body without a Content-Type; fetch() labels a string body text/plain.
    created = result(http.post(f"{ACCOUNT}/queues/{queue['queue_id']}/consumers", content=json.dumps(body),
                               headers={"Content-Type": "text/plain;charset=UTF-8"}))
    listed = result(http.get(f"{ACCOUNT}/queues", params={"name": "usage-queue"}))

    assert created["script"] == created["script_name"] == "mcp-server"
    assert [c["script"] for c in listed[0]["consumers"]] == ["mcp-server"]
