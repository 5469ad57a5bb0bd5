"""Column filters are read from the schema's `validators`, or from the table's XanoScript when the schema answer
carries none; a schema PUT keeps the filters the schema files do not name."""

from __future__ import annotations

from pathlib import Path

import httpx

from mcpdeploy.apply import AppliedChange
from mcpdeploy.apply.xano import XanoExecutor
from mcpdeploy.plan.models import Change
from mcpdeploy.providers import xanoscript
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.providers.xano_columns import read_columns
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.spec.models import FieldSpec
from tests.sandbox import TABLE_MCP_SESSIONS


class SchemaWithoutValidators(httpx.BaseTransport):
    """A Xano whose `GET …/schema` answers without `validators` (whether the real one does is not known)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.inner = SandboxTransport(sandbox)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "GET" and request.url.path.endswith("/schema"):
            columns = [{k: v for k, v in column.items() if k != "validators"} for column in response.json()]
            return httpx.Response(response.status_code, json=columns, request=request)
        return response


def client(transport: httpx.BaseTransport) -> XanoClient:
    return XanoClient("http://sandbox.test", credentials.XANO_METADATA_TOKEN, credentials.XANO_WORKSPACE_ID,
                      options=HttpOptions(transport=transport))


def test_filters_come_from_the_tables_xanoscript_when_the_schema_answer_has_none(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    table_id = int(client(SandboxTransport(sandbox)).create_table(TABLE_MCP_SESSIONS)["id"])

    columns = {c["name"]: c for c in read_columns(client(SchemaWithoutValidators(sandbox)), table_id)}

    assert columns["session_id"]["validators"] == {"trim": True}
    assert columns["client_info"].get("validators") is None  # json columns have no filters
    assert columns["id"]["type"] == "int"


def test_a_schema_put_keeps_a_filter_the_schemas_do_not_name(tmp_path: Path) -> None:
    xano = client(SandboxTransport(Sandbox(tmp_path)))
    table_id = int(xano.create_table(TABLE_MCP_SESSIONS)["id"])
    schema = xano.get_schema(table_id)
    for column in schema:
        if column["name"] == "status":
            column["validators"] = {"trim": True, "lower": False, "max": 50}  # set in Xano's UI
    xano.put_schema(table_id, schema)
    wanted = FieldSpec(name="status", type="text", default="active", filters=("trim", "lower"))
    change = Change(provider="xano", kind="update_field", action="update", resource="field mcp_sessions.status",
                    reason="differs from the schema", params={"table": "mcp_sessions", "table_id": table_id,
                                                              "field": xanoscript.field_json(wanted)})
    done: list[AppliedChange] = []

    XanoExecutor(xano, tmp_path / "backups").execute([change], done.append, {})

    status = next(c for c in xano.get_schema(table_id) if c["name"] == "status")
    assert status["validators"] == {"trim": True, "lower": True, "max": 50}
    assert [d.outcome for d in done] == ["done"]
