"""Every request provision sends to Xano, as recorded in its --trace, is an operation Xano's own OpenAPI
document defines, with parameters and bodies that validate against it."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.sandbox.core import Sandbox
from tests.support.openapi_requests import OpenApiRequestValidator
from tests.support.served import xano_client
from tests.support.trace_requests import requests_from_trace

XANO_SPEC = Path(__file__).parents[1] / "reference" / "xano" / "openapi-from-docs.json"


def test_every_request_of_a_fresh_provision_and_a_rerun_is_a_documented_xano_operation(
    cli, served_sandbox: Sandbox, project: Path
) -> None:
    trace = project / "trace.jsonl"
    assert cli("provision", "--yes", "--trace", str(trace)).exit_code == 0
    assert cli("provision", "--yes", "--trace", str(trace)).exit_code == 0
    requests = requests_from_trace(trace, url_contains="/api:meta/")
    checked = OpenApiRequestValidator([XANO_SPEC]).assert_valid(requests)
    assert checked == len(requests) > 10
    assert {r.method for r in requests} == {"GET", "POST"}


def test_field_index_and_endpoint_updates_and_removals_are_documented_operations_too(
    cli, served_sandbox: Sandbox, project: Path
) -> None:
    assert cli("provision", "--yes").exit_code == 0
    client = xano_client(served_sandbox)
    logs = next(t for t in client.list_tables() if t["name"] == "usage_logs")
    sessions = next(t for t in client.list_tables() if t["name"] == "mcp_sessions")
    client.put_schema(logs["id"], [f for f in client.get_schema(logs["id"]) if f["name"] != "cost"]
                      + [{"name": "legacy", "type": "text", "nullable": True, "required": False}])
    client.put_schema(sessions["id"], client.get_schema(sessions["id"]))
    for index in client.get_indexes(sessions["id"]):
        if index["type"] in ("unique", "btree|unique"):
            client.send("DELETE", f"workspace/1/table/{sessions['id']}/index/{index['id']}")
    group = next(g for g in client.list_api_groups() if g["name"] == "mcp")
    api = next(a for a in client.list_apis(group["id"]) if a["verb"] == "PUT")
    client.update_api(group["id"], api["id"], 'query "mcp_sessions/{session_id}" verb=PUT {\n  input {\n'
                      '    text session_id\n  }\n\n  stack {\n  }\n\n  response = null\n}\n')
    trace = project / "trace.jsonl"
    result = cli("provision", "--yes", "--allow-destructive", "--json", "--trace", str(trace))
    assert result.exit_code == 0, result.stderr
    kinds = {c["kind"] for c in json.loads(result.stdout)["changes"]}
    assert kinds == {"add_field", "remove_field", "add_index", "update_endpoint"}
    requests = requests_from_trace(trace, url_contains="/api:meta/")
    OpenApiRequestValidator([XANO_SPEC]).assert_valid(requests)
    assert {(r.method, r.url.rsplit("/", 1)[-1].split("?")[0]) for r in requests if r.method != "GET"} >= {
        ("PUT", "schema"), ("POST", "unique"), ("PUT", str(api["id"]))
    }
