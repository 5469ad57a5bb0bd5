"""The sandbox's Xano echoes XanoScript the way Xano was recorded doing it: regenerated from what it stored, not the
text it was sent. The options switch to a verbatim echo, to a schema GET without `validators`, and to echoes that
carry a `guid`; a served sandbox takes them through `POST /__sandbox/options`."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpdeploy.providers.xanoscript import render_all
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox, SandboxOptions
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.spec.loader import default_schema_dir, load_spec
from mcpdeploy.xanoscript.reader import Grammar, QueryDocument, TableDocument, read_document
from tests.sandbox import API_MCP_SESSIONS_GET, TABLE_MCP_SESSIONS

BASE = "http://sandbox.test"
XS = {"Content-Type": "text/x-xanoscript"}
WS = "/api:meta/workspace/1"
ECHO = {"include_xanoscript": "true"}


def client_for(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=BASE,
                        headers={"Authorization": f"Bearer {credentials.XANO_METADATA_TOKEN}"})


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture
def meta(sandbox: Sandbox) -> httpx.Client:
    return client_for(sandbox)


def post(meta: httpx.Client, path: str, **kwargs: Any) -> dict[str, Any]:
    response = meta.post(path, **kwargs)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def echo_of(meta: httpx.Client, path: str) -> str:
    value: str = meta.get(path, params=ECHO).json()["xanoscript"]["value"]
    return value


def meaning(document: Any) -> Any:
    """A document without its text and line numbers, which say where it was read, not what it means."""
    copied = copy.deepcopy(document)

    def clear(value: Any) -> None:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                if item.name == "line":
                    value.line = 0
                elif item.name == "text" and isinstance(value.text, str):
                    value.text = ""
                else:
                    clear(getattr(value, item.name))
        elif isinstance(value, list | tuple):
            for element in value:
                clear(element)
        elif isinstance(value, dict):
            for element in value.values():
                clear(element)

    clear(copied)
    return copied


# ---- the recorded echo --------------------------------------------------------------------------------------------


def test_an_endpoint_made_from_json_echoes_an_empty_query_with_its_description_and_group() -> None:
    meta = client_for(Sandbox(None))
    group = post(meta, f"{WS}/apigroup", json={"name": "MCP sessions", "description": "", "swagger": True})
    api = post(meta, f"{WS}/apigroup/{group['id']}/api",
               json={"name": "mcp_sessions", "description": "Create a session", "verb": "POST"})

    assert echo_of(meta, f"{WS}/apigroup/{group['id']}/api/{api['id']}") == """\
// Create a session
query mcp_sessions verb=POST {
  api_group = "MCP sessions"

  input {
  }

  stack {
  }

  response = null
}"""


def test_the_echo_follows_what_changed_through_json_since_the_document_was_sent(meta: httpx.Client) -> None:
    post(meta, f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)
    group = post(meta, f"{WS}/apigroup", json={"name": "mcp", "description": "", "swagger": True})
    api = post(meta, f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS)
    path = f"{WS}/apigroup/{group['id']}/api/{api['id']}"

    meta.put(path, json={"name": "mcp_sessions/{session_id}", "verb": "GET", "description": "One session"})
    meta.put(f"{WS}/apigroup/{group['id']}", json={"name": "MCP", "description": "", "swagger": True})

    assert echo_of(meta, path).startswith('// One session\nquery "mcp_sessions/{session_id}" verb=GET {\n'
                                          '  api_group = "MCP"\n\n  input {\n')


def test_a_table_changed_through_json_echoes_its_columns_filters_and_indexes(meta: httpx.Client) -> None:
    table = post(meta, f"{WS}/table", json={"name": "keys", "description": "API keys"})
    path = f"{WS}/table/{table['id']}"
    post(meta, f"{path}/schema/type/text", json={"name": "key", "description": "The key itself", "required": True,
                                                  "filters": {"trim": True, "lower": True}})
    post(meta, f"{path}/schema/type/text", json={"name": "state", "default": "active"})
    post(meta, f"{path}/schema/type/text", json={"name": "note", "default": "not set", "nullable": True})
    post(meta, f"{path}/schema/type/int", json={"name": "tries", "default": "3"})
    post(meta, f"{path}/index/unique", json={"fields": [{"name": "key", "op": "asc"}]})

    assert echo_of(meta, path) == """\
// API keys
table keys {
  auth = false

  schema {
    int id
    timestamp created_at?=now
    // The key itself
    text key filters=trim|lower

    text state?=active
    text? note?="not set"
    int tries?=3
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {type: "btree", field: [{name: "created_at", op: "desc"}]}
    {type: "btree|unique", field: [{name: "key", op: "asc"}]}
  ]
}"""


def test_every_document_mcpdeploy_sends_echoes_back_meaning_the_same(meta: httpx.Client) -> None:
    group = post(meta, f"{WS}/apigroup", json={"name": "mcp", "description": "", "swagger": True})
    for name, document in render_all(load_spec(default_schema_dir())).items():
        sent = read_document(document)
        if isinstance(sent, TableDocument):
            made = post(meta, f"{WS}/table", content=document, headers=XS)
            echoed = read_document(echo_of(meta, f"{WS}/table/{made['id']}"), Grammar.ECHO)
            for index in sent.indexes:
                index.type = "btree|unique" if index.type == "unique" else index.type
        else:
            made = post(meta, f"{WS}/apigroup/{group['id']}/api", content=document, headers=XS)
            echoed = read_document(echo_of(meta, f"{WS}/apigroup/{group['id']}/api/{made['id']}"), Grammar.ECHO)
            assert isinstance(echoed, QueryDocument) and echoed.api_group == "mcp", name
            echoed.api_group = None
        assert meaning(echoed) == meaning(sent), name


# ---- options ------------------------------------------------------------------------------------------------------


def test_the_verbatim_echo_answers_the_text_as_it_was_sent(tmp_path: Path) -> None:
    meta = client_for(Sandbox(tmp_path, SandboxOptions(xano_echo="verbatim")))
    table = post(meta, f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)
    group = post(meta, f"{WS}/apigroup", json={"name": "mcp", "description": "", "swagger": True})
    api = post(meta, f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS)

    assert echo_of(meta, f"{WS}/table/{table['id']}") == TABLE_MCP_SESSIONS
    assert echo_of(meta, f"{WS}/apigroup/{group['id']}/api/{api['id']}") == API_MCP_SESSIONS_GET


def test_without_schema_validators_the_schema_has_none_but_the_echo_keeps_the_filters(tmp_path: Path) -> None:
    meta = client_for(Sandbox(tmp_path, SandboxOptions(schema_validators=False)))
    table = post(meta, f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)
    path = f"{WS}/table/{table['id']}"

    schema = meta.get(f"{path}/schema").json()

    assert not any("validators" in column for column in schema)
    assert "validators" not in meta.get(f"{path}/schema/session_id").json()
    assert "    text session_id filters=trim\n" in echo_of(meta, path)


def test_with_guid_on_save_each_echo_carries_the_objects_guid_last(tmp_path: Path) -> None:
    meta = client_for(Sandbox(tmp_path, SandboxOptions(guid_on_save=True)))
    table = post(meta, f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)
    group = post(meta, f"{WS}/apigroup", json={"name": "mcp", "description": "", "swagger": True})
    api = post(meta, f"{WS}/apigroup/{group['id']}/api", content=API_MCP_SESSIONS_GET, headers=XS)

    assert echo_of(meta, f"{WS}/table/{table['id']}").endswith(f'  ]\n  guid = "{table["guid"]}"\n}}')
    assert echo_of(meta, f"{WS}/apigroup/{group['id']}/api/{api['id']}").endswith(
        f'  response = $session\n  guid = "{api["guid"]}"\n}}')


def test_a_served_sandbox_switches_its_options_through_the_control_route(sandbox: Sandbox) -> None:
    meta = client_for(sandbox)
    table = post(meta, f"{WS}/table", content=TABLE_MCP_SESSIONS, headers=XS)

    switched = meta.post("/__sandbox/options", json={"xano_echo": "verbatim", "schema_validators": False})
    unknown = meta.post("/__sandbox/options", json={"echo": "verbatim"})
    wrong = meta.post("/__sandbox/options", json={"xano_echo": "loud"})

    assert switched.status_code == 200
    assert switched.json() == {"xano_echo": "verbatim", "schema_validators": False, "guid_on_save": False,
                                "clock_offset_seconds": 0.0}
    assert echo_of(meta, f"{WS}/table/{table['id']}") == TABLE_MCP_SESSIONS
    assert (unknown.status_code, wrong.status_code) == (400, 400)
    assert "xano_echo" in wrong.json()["message"]
    assert sandbox.options == SandboxOptions(xano_echo="verbatim", schema_validators=False)
