"""The JSON Schema editors use: generated from the models, committed next to the schemas, and it accepts them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from mcpdeploy.spec.json_schema import FILE_NAME, bundled_schema_format_path, schema_format, schema_format_text
from mcpdeploy.spec.loader import default_schema_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHIPPED = sorted(default_schema_dir().glob("*.toml"))


def test_the_committed_json_schema_is_what_the_models_generate() -> None:
    committed = bundled_schema_format_path().read_text()
    assert committed == schema_format_text(), (
        "schemas/schema-format.json is stale: run `mcpdeploy schema json-schema --out schemas/schema-format.json`"
    )


def test_the_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema_format())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_each_shipped_schema_points_editors_at_it_and_passes_it(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == f"#:schema ./{FILE_NAME}"
    jsonschema.validate(tomllib.loads(text), json.loads(bundled_schema_format_path().read_text()))


def test_editors_flag_an_unknown_type_and_an_unknown_key() -> None:
    document = tomllib.loads(SHIPPED[0].read_text())
    validator = jsonschema.Draft202012Validator(schema_format())
    document["fields"][0]["type"] = "strng"
    document["fields"][1]["colour"] = "red"
    problems = {tuple(e.absolute_path) for e in validator.iter_errors(document)}
    assert problems == {("fields", 0, "type"), ("fields", 1)}
