"""The Xano Metadata API client against respx routes shaped like the reference's answers."""

from __future__ import annotations

import httpx
import pytest
import respx

from mcpdeploy.errors import ApiError
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.xano import XanoClient

META = "https://x8ki-letl-twmt.n7.xano.io/api:meta"


def xano() -> XanoClient:
    return XanoClient("https://x8ki-letl-twmt.n7.xano.io", "meta-token", 1, options=HttpOptions(sleep=lambda s: None))


def page(items: list[dict[str, object]], cur: int, nxt: int | None) -> httpx.Response:
    return httpx.Response(200, json={"curPage": cur, "nextPage": nxt, "prevPage": cur - 1 or None, "items": items})


@respx.mock
def test_tables_are_read_through_every_page() -> None:
    route = respx.get(f"{META}/workspace/1/table").mock(side_effect=[
        page([{"id": i, "name": f"t{i}"} for i in range(50)], 1, 2),
        page([{"id": i, "name": f"t{i}"} for i in range(50, 100)], 2, 3),
        page([{"id": 100, "name": "mcp_sessions"}], 3, None),
    ])
    tables = xano().list_tables()
    assert len(tables) == 101
    assert tables[-1]["name"] == "mcp_sessions"
    assert [dict(c.request.url.params)["page"] for c in route.calls] == ["1", "2", "3"]


@respx.mock
def test_a_list_typed_as_an_array_of_envelopes_is_unwrapped() -> None:
    respx.get(f"{META}/workspace/1/apigroup").mock(
        return_value=httpx.Response(200, json=[{"curPage": 1, "nextPage": None, "items": [{"id": 4, "name": "mcp"}]}])
    )
    assert xano().list_api_groups() == [{"id": 4, "name": "mcp"}]


@respx.mock
def test_paging_that_does_not_advance_is_an_error_not_a_loop() -> None:
    respx.get(f"{META}/workspace/1/table").mock(return_value=page([{"id": 1}], 1, 1))
    with pytest.raises(ApiError, match="paging does not advance"):
        xano().list_tables()


@respx.mock
def test_tables_and_endpoints_are_sent_as_xanoscript_not_json() -> None:
    table = respx.post(f"{META}/workspace/1/table").mock(return_value=httpx.Response(200, json={"id": 9}))
    api = respx.post(f"{META}/workspace/1/apigroup/4/api").mock(return_value=httpx.Response(200, json={"id": 3}))
    client = xano()
    client.create_table("table t {\n  schema {\n    int id\n  }\n}\n")
    client.create_api(4, 'query "t" verb=GET {\n  input {\n  }\n  stack {\n  }\n  response = null\n}\n')
    for route in (table, api):
        assert route.calls.last.request.headers["content-type"] == "text/x-xanoscript"
    assert table.calls.last.request.content.startswith(b"table t {")


@respx.mock
def test_a_schema_put_sends_the_primary_key_first() -> None:
    route = respx.put(f"{META}/workspace/1/table/9/schema").mock(return_value=httpx.Response(200, json={}))
    xano().put_schema(9, [{"name": "status", "type": "text"}, {"name": "id", "type": "int"}])
    sent = route.calls.last.request
    assert [f["name"] for f in __import__("json").loads(sent.content)["schema"]] == ["id", "status"]


@respx.mock
def test_xanos_error_envelope_becomes_a_clear_error_with_a_hint() -> None:
    respx.get(f"{META}/workspace/1/table").mock(return_value=httpx.Response(
        401, json={"code": "ERROR_CODE_UNAUTHORIZED", "message": "Unauthorized - Authentication Required"}
    ))
    with pytest.raises(ApiError) as caught:
        xano().list_tables()
    err = caught.value
    assert err.status == 401 and err.code == "ERROR_CODE_UNAUTHORIZED"
    assert "GET https://x8ki-letl-twmt.n7.xano.io/api:meta/workspace/1/table" in err.message
    assert "Unauthorized - Authentication Required" in err.message
    assert err.hint and "XANO_METADATA_TOKEN" in err.hint


def test_the_runtime_url_keeps_the_api_group_and_the_branch() -> None:
    assert xano().runtime_base_url("e6emygx3") == "https://x8ki-letl-twmt.n7.xano.io/api:e6emygx3"
    dev = XanoClient("https://h.xano.io", "t", 1, branch="dev")
    assert dev.runtime_base_url("e6emygx3") == "https://h.xano.io/api:e6emygx3:dev"


@respx.mock
def test_a_schema_answer_of_an_unknown_shape_is_an_error_not_an_empty_table() -> None:
    respx.get(f"{META}/workspace/1/table/9/schema").mock(return_value=httpx.Response(200, json={"fields": []}))
    with pytest.raises(ApiError, match="unexpected answer"):
        xano().get_schema(9)
