"""XanoScript generated from the schemas: the reference documents for the shipped schemas, Xano's layout rules, a
field added to a schema file showing up, and the JSON shapes the planner compares with what Xano returns."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from mcpdeploy.providers import xanoscript
from mcpdeploy.providers.xanoscript import (
    field_json,
    field_matches,
    index_json,
    render_all,
    render_endpoint,
    render_table,
)
from mcpdeploy.spec.loader import default_schema_dir, load_spec
from mcpdeploy.spec.models import EndpointSpec, FieldSpec, IndexSpec, Spec, TableSpec

REFERENCE = Path(__file__).parent / "xanoscript_reference"
# Our file name -> the reference example's file name.
REFERENCE_NAMES = {
    "table_mcp_sessions.xs": "table_mcp_sessions.xs",
    "table_usage_logs.xs": "table_usage_logs.xs",
    "api_mcp_sessions_post.xs": "api_mcp_sessions_post.xs",
    "api_mcp_sessions_session_id_get.xs": "api_mcp_sessions_get.xs",
    "api_mcp_sessions_session_id_put.xs": "api_mcp_sessions_put.xs",
    "api_usage_logs_post.xs": "api_usage_logs_post.xs",
}
ACCEPTED_TYPES = {
    "int", "timestamp", "text", "uuid", "vector", "date", "bool", "decimal", "email", "password", "json", "image",
    "video", "audio", "attachment", "geo_point", "geo_multipoint", "geo_linestring", "geo_multilinestring",
    "geo_polygon", "geo_multipolygon", "file", "enum", "object", "dblink",
}
STRING = re.compile(r'"(?:\\.|[^"\\])*"')
# Where we deliberately part from the reference: an input with a fallback (`|first_notnull:`) is declared nullable,
# because Xano hands a left-out optional text input over as "" unless it is nullable, and "" is not null: with
# the reference's `text status?`, a PUT that sends only last_active would blank the session's status.
DEVIATIONS = {
    "api_mcp_sessions_session_id_put.xs": [("text status?", "text? status?"),
                                           ("timestamp last_active?", "timestamp? last_active?")],
    "api_usage_logs_post.xs": [("timestamp timestamp?", "timestamp? timestamp?"),
                               ("text ip_address?", "text? ip_address?")],
}


def reference_text(name: str) -> str:
    text = (REFERENCE / REFERENCE_NAMES[name]).read_text()
    for old, new in DEVIATIONS.get(name, []):
        assert old in text
        text = text.replace(old, new)
    return text


_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_SPACE_AROUND_PUNCTUATION = re.compile(r"\s*([{}\[\]():,=|?<>!&])\s*")


def tokens(document: str) -> str:
    """The document with layout squeezed out but every token kept: strings intact, a quoted or bare query name
    alike. Stricter than comparing by meaning: the generated documents must be the reference's, token for token."""
    text = re.sub(r'^(query|table)\s+"([a-zA-Z0-9_/{}]+)"', r"\1 \2", document.strip())
    out, position = [], 0
    for match in _STRING.finditer(text):
        out.append(_SPACE_AROUND_PUNCTUATION.sub(r"\1", re.sub(r"\s+", " ", text[position:match.start()])))
        out.append(match.group())
        position = match.end()
    out.append(_SPACE_AROUND_PUNCTUATION.sub(r"\1", re.sub(r"\s+", " ", text[position:])))
    return "".join(out).strip()


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return render_all(load_spec(default_schema_dir()))


def test_the_shipped_schemas_give_six_documents(documents: dict[str, str]) -> None:
    assert sorted(documents) == sorted(REFERENCE_NAMES)


@pytest.mark.parametrize("name", sorted(REFERENCE_NAMES))
def test_each_document_matches_the_reference_example_token_for_token(documents: dict[str, str], name: str) -> None:
    assert tokens(documents[name]) == tokens(reference_text(name))


def _declarations(document: str, block: str) -> list[str]:
    """The member lines of the first `block {` ... `}` of a document (columns or inputs)."""
    lines = document.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{block} {{")
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "}")
    return [line.strip() for line in lines[start + 1 : end]]


@pytest.mark.parametrize("name", sorted(REFERENCE_NAMES))
def test_columns_inputs_and_statements_are_those_of_the_reference(documents: dict[str, str], name: str) -> None:
    """The same comparison, spelled out: what a reader of a failing diff needs to see."""
    ours, reference = documents[name], reference_text(name)
    block = "schema" if name.startswith("table_") else "input"
    assert _declarations(ours, block) == _declarations(reference, block)
    statements = re.compile(r"^\s*(db\.\w+ \w+|precondition .*\{|\w+\s*:.*|response = .*|\{type: .*)$", re.M)
    assert [m.strip() for m in statements.findall(ours)] == [m.strip() for m in statements.findall(reference)]


# --- Xano's parser rules, checked on every document ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFERENCE_NAMES))
def test_documents_follow_the_rules_of_xanos_parser(documents: dict[str, str], name: str) -> None:
    document = documents[name]
    code_lines = [STRING.sub('""', line) for line in document.splitlines()]
    for line in code_lines:
        stripped = line.strip()
        if "{" in stripped and stripped.count("{") != stripped.count("}"):
            assert stripped.endswith("{"), f"a block must open at the end of its line: {line!r}"
        assert "//" not in stripped, "comments are only allowed inside stack, and we need none"
        for block in ("input", "stack", "schema"):
            assert not re.match(rf"{block}\s*\{{\s*\S", stripped), f"one-line {block} block: {line!r}"
    assert "api_group" not in document
    assert not document.startswith(" ") and document.endswith("}\n")
    if name.startswith("api_"):
        for member in ("input {", "stack {", "response = "):
            assert sum(1 for line in document.splitlines() if line.startswith("  " + member)) == 1, member
    block = "schema" if name.startswith("table_") else "input"
    for declaration in _declarations(document, block):
        assert declaration.split()[0].rstrip("?") in ACCEPTED_TYPES, declaration


@pytest.mark.parametrize("name", ["api_mcp_sessions_session_id_get.xs", "api_mcp_sessions_session_id_put.xs"])
def test_a_missing_session_is_a_404_through_a_notfound_precondition(documents: dict[str, str], name: str) -> None:
    document = documents[name]
    found = re.search(r"db\.get mcp_sessions \{.*?\} as \$(\w+)\s*precondition \(\$(\w+) != null\) \{\s*"
                      r'error_type = "notfound"\s*error = "Session not found"\s*\}', document, re.S)
    assert found is not None and found.group(1) == found.group(2)


def test_the_update_edits_with_a_literal_data_object(documents: dict[str, str]) -> None:
    document = documents["api_mcp_sessions_session_id_put.xs"]
    edit = re.search(r"db\.edit mcp_sessions \{\n(.*?)\n    \} as \$session", document, re.S)
    assert edit is not None
    assert re.search(r"^\s*data = \{$", edit.group(1), re.M), "db.edit needs `data = {` (an object literal)"
    assert "$input.status|first_notnull:$existing.status" in edit.group(1)


def test_every_document_sent_is_valid_under_both_of_xanos_grammars(documents: dict[str, str]) -> None:
    from mcpdeploy.xanoscript.reader import Grammar, read_document

    for document in documents.values():
        for grammar in (Grammar.OCT_2025, Grammar.DEC_2025):
            read_document(document, grammar)  # raises XanoScriptSyntaxError naming the line otherwise


# --- generated, not templated ---------------------------------------------------------------------------------------


def test_a_field_added_to_a_schema_file_appears_in_the_table_and_its_create_endpoint(tmp_path: Path) -> None:
    schemas = Path(shutil.copytree(default_schema_dir(), tmp_path / "schemas"))
    logs = schemas / "usage_logs.toml"
    logs.write_text(logs.read_text().replace(
        "[[indexes]]", '[[fields]]\nname = "region"\ntype = "text"\ndefault = "eu"\nfilters = ["trim", "lower"]\n\n'
        "[[indexes]]", 1))
    documents = render_all(load_spec(schemas))
    assert 'text region?="eu" filters=trim|lower' in _declarations(documents["table_usage_logs.xs"], "schema")
    create = documents["api_usage_logs_post.xs"]
    assert 'text region?="eu" filters=trim|lower' in _declarations(create, "input")
    assert re.search(r"^\s*region\s*: \$input\.region$", create, re.M)


def _spec(*fields: FieldSpec, endpoints: tuple[EndpointSpec, ...] = (), description: str = "") -> Spec:
    return Spec(tables=(TableSpec(name="notes", description=description, fields=fields, endpoints=endpoints),))


def test_strings_are_escaped() -> None:
    tricky = 'say "hi" \\ then\nnewline'
    spec = _spec(FieldSpec(name="body", type="text", description=tricky, default='a "quoted" \\ default'),
                 description=tricky)
    table = render_table(spec.tables[0])
    assert 'description = "say \\"hi\\" \\\\ then\\nnewline"' in table
    assert 'text body?="a \\"quoted\\" \\\\ default"' in table


def test_a_field_description_is_a_metadata_block_on_its_own_lines() -> None:
    table = render_table(_spec(FieldSpec(name="body", type="text", description="What was said")).tables[0])
    assert '    text body? {\n      description = "What was said"\n    }\n' in table


def test_indexes_spell_unique_as_xano_does_and_op_only_when_descending() -> None:
    table = TableSpec(name="notes", fields=(FieldSpec(name="a", type="text"), FieldSpec(name="b", type="int")),
                      indexes=(IndexSpec.model_validate({"type": "unique", "fields": ["a", "b"]}),
                               IndexSpec.model_validate({"type": "btree", "fields": [{"name": "b", "op": "desc"}]})))
    document = render_table(table)
    assert '{type: "primary", field: [{name: "id"}]}' in document
    assert '{type: "btree|unique", field: [{name: "a"}, {name: "b"}]}' in document
    assert '{type: "btree", field: [{name: "b", op: "desc"}]}' in document


def test_an_endpoint_built_in_code_works_on_the_table_that_declares_it() -> None:
    endpoint = EndpointSpec(verb="GET", path="notes/{slug}", operation="get", lookup="slug")
    spec = _spec(FieldSpec(name="slug", type="text"), endpoints=(endpoint,))
    document = render_endpoint(endpoint, spec)
    assert "db.get notes {" in document
    assert 'error = "Record not found"' in document
    assert xanoscript.endpoint_file_name(endpoint) == "api_notes_slug_get.xs"


# --- Metadata API JSON and comparing with what Xano returns ---------------------------------------------------------


def test_field_json_has_the_shape_of_the_schema_puts_column_json() -> None:
    status = FieldSpec(name="status", type="text", default="active", filters=("trim",))
    assert field_json(status) == {
        "name": "status", "type": "text", "description": "", "nullable": False, "required": False,
        "access": "public", "sensitive": False, "style": "single", "default": "active",
        "validators": {"trim": True, "lower": False},  # the PUT's name for text filters
    }
    # The PUT types `default` as a string for every column type.
    assert field_json(FieldSpec(name="n", type="int", default=3))["default"] == "3"
    assert field_json(FieldSpec(name="n", type="int"))["default"] == ""
    assert "default" not in field_json(FieldSpec(name="j", type="json"))
    assert field_json(FieldSpec(name="t", type="timestamp", default="now"))["default"] == "now"


def test_index_json_names_every_field_with_its_order() -> None:
    index = IndexSpec.model_validate({"type": "unique", "fields": ["session_id"]})
    assert index_json(index) == {"type": "unique", "fields": [{"name": "session_id", "op": "asc"}]}


def test_a_column_as_xano_returns_it_matches_its_field() -> None:
    status = FieldSpec(name="status", type="text", default="active", filters=("trim",))
    returned = {"name": "status", "type": "text", "description": "", "nullable": False, "default": "active",
                "required": False, "access": "private", "sensitive": True, "style": "single",
                "validators": {"trim": True, "lower": False}}
    assert field_matches(status, returned) == []  # access and sensitive are Xano's to keep, not ours
    assert field_matches(status, {**returned, "validators": None}) == ["filters [] -> ['trim']"]
    assert field_matches(FieldSpec(name="n", type="int", default=5), {"type": "int", "default": "5"}) == []
    assert field_matches(FieldSpec(name="n", type="int"), {"type": "int", "default": ""}) == []


def test_differences_read_as_what_it_is_then_what_the_schema_wants() -> None:
    status = FieldSpec(name="status", type="text", nullable=True, default="active")
    returned = {"name": "status", "type": "int", "nullable": False, "required": False, "default": ""}
    assert field_matches(status, returned) == ["type int -> text", "nullable false -> true",
                                               "default '' -> 'active'"]
