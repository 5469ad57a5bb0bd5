"""What waits for what: the graph apply follows and the benchmark's critical path comes from."""

from __future__ import annotations

from typing import Any

from mcpdeploy.apply.graph import critical_path_calls, prerequisites
from mcpdeploy.plan.models import Change


def change(provider: str, kind: str, resource: str, **params: Any) -> Change:
    return Change(provider=provider, kind=kind, action="create", resource=resource, reason="test", params=params)


FRESH = [
    change("xano", "create_table", "table a", table="a"),
    change("xano", "create_table", "table b", table="b"),
    change("xano", "create_api_group", "api group mcp", name="mcp"),
    change("xano", "create_endpoint", "endpoint POST /a"),
    change("xano", "create_endpoint", "endpoint GET /a"),
    change("cloudflare", "create_queue", "queue q", queue="q"),
    change("file", "edit_file", "file .dev.vars"),
]


def test_endpoints_wait_for_the_group_and_the_tables_and_cloudflare_waits_for_nothing_of_xanos() -> None:
    before = prerequisites(FRESH)
    assert before[0] == before[1] == before[2] == set()
    assert before[3] == before[4] == {0, 1, 2}
    assert before[5] == set()
    assert before[6] == {0, 1, 2, 3, 4, 5}


def test_a_fresh_provision_is_two_calls_deep() -> None:
    assert critical_path_calls(FRESH) == 2
    assert critical_path_calls([]) == 0


def test_a_tables_field_changes_are_one_read_and_one_put_and_its_indexes_come_after() -> None:
    changes = [
        change("xano", "add_field", "field a.x", table="a", table_id=1),
        change("xano", "update_field", "field a.y", table="a", table_id=1),
        change("xano", "add_index", "index a(x)", table="a", table_id=1),
        change("xano", "add_field", "field b.x", table="b", table_id=2),
    ]
    assert prerequisites(changes)[2] == {0, 1}
    assert critical_path_calls(changes) == 3
