"""The document a command holds is checked against its model when it is written: the tests fail on a difference
(they set MCPDEPLOY_STRICT_JSON), a user still gets the document, and a warning that names the bug."""

from __future__ import annotations

import json

import pytest

from mcpdeploy.cli.output import DocumentMismatch, emit_json, write_json

VALIDATED = {"command": "schema validate", "valid": True, "schema_dir": "schemas", "tables": 2, "fields": 22,
             "endpoints": 4}


def test_a_document_its_model_allows_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json(VALIDATED, "schema-validate")
    write_json(command="schema validate", exit_code=0, wanted=True)
    out, err = capsys.readouterr()
    assert json.loads(out)["tables"] == 2 and err == ""


def test_under_the_tests_a_document_its_model_does_not_allow_stops_the_run() -> None:
    emit_json({**VALIDATED, "tables": "2"}, "schema-validate")
    with pytest.raises(DocumentMismatch, match=r"schema-validate\.schema\.json: tables"):
        write_json(command="schema validate", exit_code=0, wanted=True)


def test_a_user_gets_the_document_and_a_warning(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCPDEPLOY_STRICT_JSON")
    emit_json({**VALIDATED, "table_count": 2}, "schema-validate")
    write_json(command="schema validate", exit_code=0, wanted=True)
    out, err = capsys.readouterr()
    assert json.loads(out)["table_count"] == 2
    assert "warning: the --json document does not match docs/json/schema-validate.schema.json" in err
    assert "bug" in err
