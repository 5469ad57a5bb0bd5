"""The models refuse an inconsistent spec when it is built in code too, not only when loaded from files."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcpdeploy.spec.models import EndpointSpec, FieldSpec, IndexSpec, Spec, TableSpec


def table(*fields: FieldSpec, endpoints: tuple[EndpointSpec, ...] = (), name: str = "things") -> TableSpec:
    return TableSpec(name=name, fields=fields or (FieldSpec(name="label", type="text"),), endpoints=endpoints)


def test_id_and_created_at_are_the_columns_xano_adds() -> None:
    things = table(FieldSpec(name="label", type="text"))
    assert [(c.name, c.type, c.default) for c in things.columns] == [
        ("id", "int", None), ("created_at", "timestamp", "now"), ("label", "text", None)]
    assert things.field("id") is not None
    assert [f.name for f in things.fields] == ["label"]


def test_an_explicit_uuid_id_stays_first() -> None:
    things = table(FieldSpec(name="id", type="uuid"), FieldSpec(name="label", type="text"))
    assert [(c.name, c.type) for c in things.columns][:2] == [("id", "uuid"), ("created_at", "timestamp")]


def test_index_fields_accept_plain_names() -> None:
    index = IndexSpec.model_validate({"type": "btree", "fields": ["label", {"name": "created_at", "op": "desc"}]})
    assert index.key == ("btree", (("label", "asc"), ("created_at", "desc")))


@pytest.mark.parametrize(("build", "message"), [
    pytest.param(lambda: FieldSpec(name="n", type="json", default="{}"), "a json field cannot have a default",
                 id="json-default"),
    pytest.param(lambda: FieldSpec(name="n", type="int", filters=("trim",)), "filters apply to text and email",
                 id="filters-on-int"),
    pytest.param(lambda: FieldSpec(name="t", type="timestamp", default="yesterday"), 'can only be "now"',
                 id="timestamp-default"),
    pytest.param(lambda: table(FieldSpec(name="a", type="text"), FieldSpec(name="a", type="int")),
                 "'a' is declared twice", id="duplicate-field"),
    pytest.param(lambda: EndpointSpec(verb="GET", path="things/{label}", operation="get"), "needs `lookup`",
                 id="get-without-lookup"),
    pytest.param(lambda: EndpointSpec(verb="POST", path="things/{label}", operation="create"),
                 "takes no path parameter", id="create-with-path-parameter"),
    pytest.param(lambda: Spec(tables=(table(endpoints=(EndpointSpec(
        verb="POST", path="things", operation="create", inputs=("nope",)),)),)), "has no field 'nope'",
                 id="unknown-input"),
    pytest.param(lambda: Spec(tables=(table(), table())), "table 'things' is declared twice", id="duplicate-table"),
])
def test_inconsistent_specs_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()  # type: ignore[operator]
