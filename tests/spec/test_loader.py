"""Loading schema files: the shipped ones describe the checklist, and every mistake is named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.project.settings import Settings
from mcpdeploy.spec.loader import default_schema_dir, load_spec, resolve_schema_dir
from mcpdeploy.spec.models import Spec

# The deployment checklist, field by field: (type, required, nullable, default).
CHECKLIST = {
    "mcp_sessions": {
        "id": ("int", True, False, None),
        "session_id": ("text", True, False, None),
        "user_id": ("text", True, False, None),
        "client_info": ("json", False, False, None),
        "status": ("text", False, False, "active"),
        "last_active": ("timestamp", False, False, "now"),
        "created_at": ("timestamp", False, False, "now"),
        "updated_at": ("timestamp", False, False, "now"),
    },
    "usage_logs": {
        "id": ("int", True, False, None),
        "session_id": ("text", True, False, None),
        "user_id": ("text", True, False, None),
        "tool_name": ("text", True, False, None),
        "params": ("json", False, False, None),
        "result": ("json", False, False, None),
        "error": ("text", False, True, None),
        "duration": ("int", False, False, None),
        "timestamp": ("timestamp", False, False, "now"),
        "ip_address": ("text", False, False, None),
        "ai_model": ("text", False, False, None),
        "cost": ("decimal", False, False, None),
        "created_at": ("timestamp", False, False, "now"),
    },
}


@pytest.fixture(scope="module")
def shipped() -> Spec:
    return load_spec(default_schema_dir())


@pytest.mark.parametrize("table_name", sorted(CHECKLIST))
def test_the_shipped_schemas_hold_every_checklist_field_in_order(shipped: Spec, table_name: str) -> None:
    table = shipped.table(table_name)
    assert table is not None
    assert [c.name for c in table.columns] == list(CHECKLIST[table_name])
    for name, (kind, required, nullable, default) in CHECKLIST[table_name].items():
        field = table.field(name)
        assert field is not None, name
        assert (field.type, field.required, field.nullable, field.default) == (kind, required, nullable, default), name


def test_session_ids_are_unique_and_lookups_are_indexed(shipped: Spec) -> None:
    sessions, logs = shipped.table("mcp_sessions"), shipped.table("usage_logs")
    assert sessions is not None and logs is not None
    assert ("unique", (("session_id", "asc"),)) in [i.key for i in sessions.indexes]
    assert ("btree", (("created_at", "desc"),)) in [i.key for i in logs.indexes]


def test_the_shipped_schemas_declare_the_four_checklist_endpoints(shipped: Spec) -> None:
    routes = {(e.verb, e.path): e for e in shipped.endpoints}
    assert len(set(shipped.endpoints)) == 4  # endpoints can be kept in sets and dict keys
    assert set(routes) == {
        ("POST", "mcp_sessions"), ("GET", "mcp_sessions/{session_id}"),
        ("PUT", "mcp_sessions/{session_id}"), ("POST", "usage_logs"),
    }
    create = routes["POST", "mcp_sessions"]
    assert (create.operation, create.table, create.inputs) == (
        "create", "mcp_sessions", ("session_id", "user_id", "client_info", "status"))
    get = routes["GET", "mcp_sessions/{session_id}"]
    assert (get.operation, get.lookup, get.path_params) == ("get", "session_id", ("session_id",))
    update = routes["PUT", "mcp_sessions/{session_id}"]
    assert (update.operation, set(update.inputs), update.touch) == ("update", {"last_active", "status"},
                                                                     ("updated_at",))
    log = routes["POST", "usage_logs"]
    every_field = [name for name in CHECKLIST["usage_logs"] if name not in ("id", "created_at")]
    assert (log.operation, log.table, list(log.inputs)) == ("create", "usage_logs", every_field)


# --- bad schema files: each names the file, the line and the problem ---------------------------------------------

GOOD = """\
[table]
name = "things"

[[fields]]
name = "label"
type = "text"
required = true

[[fields]]
name = "count"
type = "int"

[[fields]]
name = "note"
type = "text"
"""


def write(folder: Path, text: str, name: str = "things.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def load_error(folder: Path) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        load_spec(folder)
    assert caught.value.exit_code == ExitCode.INPUT_ERROR
    return caught.value


def line_number(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `fragment`, so tests say which line they mean."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return hits[occurrence - 1]


def test_a_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    spec = load_spec(tmp_path)
    things = spec.table("things")
    assert things is not None
    assert [c.name for c in things.columns] == ["id", "created_at", "label", "count", "note"]


def test_an_unknown_type_names_its_line_and_the_allowed_types(tmp_path: Path) -> None:
    text = GOOD.replace('name = "note"\ntype = "text"', 'name = "note"\ntype = "strng"')
    path = write(tmp_path, text)
    error = load_error(tmp_path)
    assert (error.path, error.line) == (path, line_number(text, 'type = "strng"'))
    assert "unknown type 'strng'" in error.problem
    for allowed in ("text", "int", "json", "timestamp", "decimal"):
        assert f"'{allowed}'" in error.problem
    assert str(error).startswith(f"{path}:{error.line}: fields[3].type: unknown type")


def test_a_field_declared_twice_points_at_the_second_and_names_the_first(tmp_path: Path) -> None:
    text = GOOD.replace('name = "note"', 'name = "label"')
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, 'name = "label"', occurrence=2)
    first = line_number(text, 'name = "label"')
    assert f"field 'label' is declared twice (first at things.toml:{first})" in error.problem


def test_a_missing_key_points_at_its_entry(tmp_path: Path) -> None:
    text = GOOD.replace('name = "count"\ntype = "int"\n', 'name = "count"\n')
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, "[[fields]]", occurrence=2)
    assert error.problem == "fields[2]: missing key `type`"


def test_an_unknown_key_is_refused_with_the_keys_that_are_allowed(tmp_path: Path) -> None:
    text = GOOD.replace('type = "int"', 'type = "int"\ncolour = "red"')
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, "colour")
    assert "unknown key `colour`" in error.problem
    assert "allowed: name, type, required, nullable, default, filters, description" in error.problem


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    text = GOOD.replace('type = "int"', "type = int")
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, "type = int")
    assert error.problem.startswith("invalid TOML")


def test_a_table_declared_in_two_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    second = write(tmp_path, GOOD, "b.toml")
    error = load_error(tmp_path)
    assert (error.path, error.line) == (second, 2)
    assert "table 'things' is declared twice (first at a.toml:2)" in error.problem


def test_an_index_on_a_field_that_does_not_exist(tmp_path: Path) -> None:
    text = GOOD + '\n[[indexes]]\ntype = "btree"\nfields = [\n  "label",\n  "lable",\n]\n'
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, '"lable"')
    assert "index on unknown field 'lable'" in error.problem


@pytest.mark.parametrize(("endpoint", "offending", "problem"), [
    pytest.param('verb = "POST"\npath = "things"\noperation = "create"\ninputs = ["label", "colour"]',
                 "inputs", "table things has no field 'colour'", id="unknown-input"),
    pytest.param('verb = "GET"\npath = "things/{label}"\noperation = "get"\nlookup = "note"',
                 "lookup", "lookup 'note' must be the path's one parameter", id="lookup-not-a-path-parameter"),
    pytest.param('verb = "POST"\npath = "things"\noperation = "create"\ntable = "stuff"',
                 "table =", "works on table 'stuff', which no schema file declares", id="unknown-table"),
    pytest.param('verb = "POST"\npath = "things"\noperation = "create"\ninputs = ["count"]',
                 "inputs", "required field 'label' is not among the inputs", id="create-misses-a-required-field"),
    pytest.param('verb = "PUT"\npath = "things/{label}"\noperation = "update"\nlookup = "label"\n'
                 'touch = ["count"]', "touch", "only timestamp and date fields can be touched", id="touch-not-a-time"),
])
def test_endpoint_mistakes_point_at_the_offending_key(
    tmp_path: Path, endpoint: str, offending: str, problem: str
) -> None:
    text = GOOD + "\n[[endpoints]]\n" + endpoint + "\n"
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, offending)
    assert problem in error.problem


def test_a_route_declared_twice_names_both_places(tmp_path: Path) -> None:
    endpoint = '\n[[endpoints]]\nverb = "POST"\npath = "things"\noperation = "create"\n'
    text = GOOD + endpoint + endpoint
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, 'path = "things"', occurrence=2)
    first = line_number(text, 'path = "things"')
    assert f"endpoint POST /things is declared twice (first at things.toml:{first})" in error.problem


@pytest.mark.parametrize(("change", "fragment", "problem"), [
    pytest.param(('type = "int"', 'type = "int"\ndefault = "many"'), "default", "an int default must be a whole number",
                 id="default-of-the-wrong-type"),
    pytest.param(('type = "text"\nrequired = true', 'type = "text"\nrequired = "yes"'), "required",
                 "input should be a valid boolean", id="required-not-a-boolean"),
    pytest.param(('name = "count"', 'name = "Count-2"'), "Count-2", "lower-case letters, digits and underscores",
                 id="bad-field-name"),
    pytest.param(('name = "count"\ntype = "int"', 'name = "id"\ntype = "int"'), 'name = "id"',
                 "`id` must be the first field", id="id-not-first"),
])
def test_field_mistakes_point_at_the_offending_key(
    tmp_path: Path, change: tuple[str, str], fragment: str, problem: str
) -> None:
    text = GOOD.replace(*change)
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, fragment)
    assert problem in error.problem


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    text = GOOD.replace('type = "int"', 'type = "integer"').replace('name = "note"\ntype = "text"', 'name = "note"')
    write(tmp_path, text)
    error = load_error(tmp_path)
    assert error.line == line_number(text, 'type = "integer"')
    assert error.problem.endswith("(and 1 more problem in this file)")


def test_a_folder_without_schema_files_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert error.path == tmp_path
    assert "no *.toml schema files" in error.problem


# --- where the schemas come from -----------------------------------------------------------------------------------


def test_without_schemas_of_its_own_a_project_uses_the_bundled_ones(project: Path) -> None:
    assert resolve_schema_dir(Settings(project_dir=project)) == default_schema_dir()
    (project / "schemas").mkdir()  # an empty folder is not an override
    assert resolve_schema_dir(Settings(project_dir=project)) == default_schema_dir()


def test_a_project_schemas_folder_overrides_the_bundled_ones(project: Path) -> None:
    (project / "schemas").mkdir()
    write(project / "schemas", GOOD)
    assert resolve_schema_dir(Settings(project_dir=project)) == project / "schemas"


def test_the_schemas_setting_overrides_the_project_folder(project: Path) -> None:
    for folder in ("schemas", "db/schemas"):
        (project / folder).mkdir(parents=True)
        write(project / folder, GOOD)
    settings = Settings(project_dir=project, schemas="db/schemas")
    assert resolve_schema_dir(settings) == (project / "db" / "schemas").resolve()


def test_a_schemas_setting_naming_no_folder_points_at_mcpdeploy_toml(project: Path) -> None:
    (project / "mcpdeploy.toml").write_text('# project settings\nschemas = "db/schemas"\n')
    with pytest.raises(InputFileError) as caught:
        resolve_schema_dir(Settings(project_dir=project, schemas="db/schemas"))
    assert (caught.value.path, caught.value.line) == (project / "mcpdeploy.toml", 2)


def test_the_bundled_schemas_ship_inside_the_package() -> None:
    folder = default_schema_dir()
    assert folder.parent.name == "bundled"
    assert {p.name for p in folder.glob("*.toml")} == {"mcp_sessions.toml", "usage_logs.toml"}
