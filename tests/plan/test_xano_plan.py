"""Diffing the spec against what a Xano workspace holds: one test per kind of change."""

from __future__ import annotations

from typing import Any

import pytest

from mcpdeploy.plan.xano import TableState, XanoState, diff_xano
from mcpdeploy.providers import xanoscript
from mcpdeploy.spec.models import EndpointSpec, FieldSpec, IndexSpec, Spec, TableSpec

SESSIONS = TableSpec(
    name="mcp_sessions",
    fields=(
        FieldSpec(name="id", type="int"),
        FieldSpec(name="session_id", type="text", required=True),
        FieldSpec(name="status", type="text", default="active"),
        FieldSpec(name="created_at", type="timestamp", default="now"),
    ),
    indexes=(IndexSpec(type="unique", fields=("session_id",)),),  # type: ignore[arg-type]
    endpoints=(
        EndpointSpec(verb="POST", path="mcp_sessions", operation="create", inputs=("session_id", "status")),
        EndpointSpec(verb="GET", path="mcp_sessions/{session_id}", operation="get", lookup="session_id"),
    ),
)
SPEC = Spec(tables=(SESSIONS,))


def deployed_state(**overrides: Any) -> XanoState:
    """A workspace where everything the spec declares already exists."""
    schema = [xanoscript.field_json(f) for f in SESSIONS.fields]
    indexes = [{"id": "a1", "type": "primary", "fields": [{"name": "id"}]},
               {"id": "b2", "type": "unique", "fields": [{"name": "session_id", "op": "asc"}]}]
    apis = [
        {"id": 10 + i, "name": e.path, "verb": e.verb,
         "xanoscript": {"status": "ok", "value": xanoscript.render_endpoint(e, SPEC)}}
        for i, e in enumerate(SPEC.endpoints)
    ]
    state = XanoState(
        tables={"mcp_sessions": TableState(id=7, name="mcp_sessions", schema=schema, indexes=indexes)},
        group={"id": 4, "name": "mcp", "canonical": "abc123de"},
        apis=apis,
    )
    for key, value in overrides.items():
        setattr(state, key, value)
    return state


def kinds(state: XanoState) -> list[tuple[str, str]]:
    return [(c.kind, c.resource) for c in diff_xano(SPEC, state, "mcp")]


def test_an_empty_workspace_gets_the_table_the_group_and_every_endpoint() -> None:
    changes = diff_xano(SPEC, XanoState(), "mcp")
    assert [(c.kind, c.resource) for c in changes] == [
        ("create_table", "table mcp_sessions"),
        ("create_api_group", "api group mcp"),
        ("create_endpoint", "endpoint POST /mcp_sessions"),
        ("create_endpoint", "endpoint GET /mcp_sessions/{session_id}"),
    ]
    assert all(not c.destructive for c in changes)
    assert changes[0].params["document"] == xanoscript.render_table(SESSIONS)


def test_a_workspace_that_matches_needs_no_change() -> None:
    assert kinds(deployed_state()) == []


def test_a_missing_field_is_added() -> None:
    state = deployed_state()
    state.tables["mcp_sessions"].schema = [f for f in state.tables["mcp_sessions"].schema if f["name"] != "status"]
    changes = diff_xano(SPEC, state, "mcp")
    assert [(c.kind, c.action, c.risk) for c in changes] == [("add_field", "create", "safe")]
    assert changes[0].params["field"]["name"] == "status"


def test_a_changed_type_is_destructive() -> None:
    state = deployed_state()
    for f in state.tables["mcp_sessions"].schema:
        if f["name"] == "status":
            f["type"] = "int"
    [change] = diff_xano(SPEC, state, "mcp")
    assert change.kind == "change_field_type"
    assert change.risk == "data_loss"
    assert "int -> text" in change.reason


def test_a_changed_attribute_is_a_safe_update() -> None:
    state = deployed_state()
    for f in state.tables["mcp_sessions"].schema:
        if f["name"] == "session_id":
            f["required"] = False
    [change] = diff_xano(SPEC, state, "mcp")
    assert (change.kind, change.risk) == ("update_field", "safe")


def test_a_field_the_schema_does_not_declare_is_removed_only_as_a_destructive_change() -> None:
    state = deployed_state()
    state.tables["mcp_sessions"].schema.append({"name": "legacy", "type": "text"})
    [change] = diff_xano(SPEC, state, "mcp")
    assert (change.kind, change.action, change.risk) == ("remove_field", "delete", "data_loss")


def test_a_missing_unique_index_is_added_and_either_spelling_counts_as_present() -> None:
    state = deployed_state()
    state.tables["mcp_sessions"].indexes = state.tables["mcp_sessions"].indexes[:1]
    [change] = diff_xano(SPEC, state, "mcp")
    assert change.kind == "add_index"
    assert change.params["index"]["fields"] == [{"name": "session_id", "op": "asc"}]
    spelled = deployed_state()
    spelled.tables["mcp_sessions"].indexes[1]["type"] = "btree|unique"
    assert kinds(spelled) == []


@pytest.mark.parametrize("live", [
    pytest.param({"status": "ok", "value": 'query "mcp_sessions" verb=POST {\n  input {\n  }\n  stack {\n  }\n'
                  '  response = null\n}\n'}, id="logic-differs"),
    pytest.param(None, id="json-shell-without-logic"),
])
def test_an_endpoint_whose_logic_differs_is_updated(live: Any) -> None:
    state = deployed_state()
    state.apis[0]["xanoscript"] = live
    [change] = diff_xano(SPEC, state, "mcp")
    assert (change.kind, change.resource) == ("update_endpoint", "endpoint POST /mcp_sessions")
    assert change.params["api_id"] == 10


def test_an_endpoint_reformatted_by_xano_is_not_a_change() -> None:
    state = deployed_state()
    value = state.apis[0]["xanoscript"]["value"]
    state.apis[0]["xanoscript"]["value"] = value.replace("\n", "\n\n").replace("  ", "    ")
    assert kinds(state) == []


def test_an_endpoint_in_the_group_but_not_in_the_schemas_is_a_destructive_removal() -> None:
    state = deployed_state()
    state.apis.append({"id": 99, "name": "debug", "verb": "GET", "xanoscript": None})
    [change] = diff_xano(SPEC, state, "mcp")
    assert (change.kind, change.risk, change.params["api_id"]) == ("remove_endpoint", "destructive", 99)


def test_a_copy_of_an_endpoint_made_by_two_runs_at_once_is_planned_for_removal_the_oldest_stays() -> None:
    state = deployed_state()
    copy = {**state.apis[0], "id": 99}
    state.apis = [copy, *state.apis]

    changes = diff_xano(SPEC, state, "mcp")

    assert [(c.kind, c.resource, c.risk) for c in changes] == [
        ("remove_endpoint", "endpoint POST /mcp_sessions (id 99)", "destructive")]
    assert changes[0].params["api_id"] == 99
    assert "second copy of endpoint id 10" in changes[0].reason


def test_more_than_one_group_of_the_name_is_reported_as_a_problem_naming_the_one_in_use() -> None:
    state = deployed_state(other_groups=[{"id": 9, "name": "mcp", "canonical": "zzz"}])

    assert kinds(state) == []
    [note] = state.notes("mcp")
    assert note.startswith("problem: 2 api groups are named 'mcp' (ids 4, 9)")
    assert "uses the oldest, id 4 (canonical abc123de)" in note
    assert deployed_state().notes("mcp") == []
