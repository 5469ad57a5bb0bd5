"""The schemas `mcpdeploy init` writes are the bundled ones, plus usage_logs.event_id and its unique index (which
make the reference Worker's queue consumer safe to retry): nothing else may drift apart."""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.spec.loader import default_schema_dir, load_spec

TEMPLATE_SCHEMAS = Path(__file__).resolve().parents[2] / "templates" / "worker" / "schemas"


def test_the_project_schemas_are_the_bundled_ones_plus_event_id() -> None:
    bundled, project = load_spec(default_schema_dir()), load_spec(TEMPLATE_SCHEMAS)

    assert project.table("mcp_sessions") == bundled.table("mcp_sessions")
    ours, theirs = project.table("usage_logs"), bundled.table("usage_logs")
    assert ours is not None and theirs is not None
    assert [f for f in ours.fields if f.name != "event_id"] == list(theirs.fields)
    event_id = ours.field("event_id")
    assert event_id is not None and (event_id.type, event_id.nullable) == ("text", True)
    assert [i for i in ours.indexes if i.key != ("unique", (("event_id", "asc"),))] == list(theirs.indexes)
    assert len(ours.indexes) == len(theirs.indexes) + 1
    # The create endpoint takes every field, so it takes event_id too: the consumer's value reaches the row.
    (create,) = ours.endpoints
    assert create.inputs == (*theirs.endpoints[0].inputs, "event_id")
    assert create.model_copy(update={"inputs": theirs.endpoints[0].inputs}) == theirs.endpoints[0]
