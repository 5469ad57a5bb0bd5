"""One JSON contract: every `--json` document, of a success or of an error, starts with `schema_version`,
`command`, `ok`, `exit_code` and `outputs`, whichever command wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mcpdeploy.cli.documents.publish import head_schema, published

CONTRACT = ["schema_version", "command", "ok", "exit_code", "outputs"]
PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "json-output.schema.json"


def test_the_published_schema_is_what_the_models_generate() -> None:
    assert PUBLISHED.read_text("utf-8") == published()[Path("docs") / "json-output.schema.json"], (
        "docs/json-output.schema.json is stale: run `python -m mcpdeploy.cli.documents.publish`")
    jsonschema.Draft202012Validator.check_schema(head_schema())


def contract_of(result) -> dict:  # type: ignore[no-untyped-def]
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(PUBLISHED.read_text("utf-8")))
    assert list(document)[:len(CONTRACT)] == CONTRACT, document
    assert document["schema_version"] == "1" and isinstance(document["outputs"], dict)
    assert document["exit_code"] == result.exit_code
    return document  # type: ignore[no-any-return]


@pytest.mark.parametrize(("words", "command"), [
    (["init", "made"], "init"),
    (["plan", "--sandbox"], "plan"),
    (["provision", "--sandbox", "--yes"], "provision"),
    (["history"], "history"),
    (["history", "show", "last"], "history show"),
    (["schema", "validate"], "schema validate"),
    (["xanoscript"], "xanoscript"),
    (["secrets", "keygen"], "secrets keygen"),
])
def test_each_success_document_keeps_the_contract(cli, project: Path, words: list[str], command: str) -> None:  # type: ignore[no-untyped-def]
    if command.startswith("history"):
        assert cli("provision", "--sandbox", "--yes").exit_code == 0
    result = cli(*words, "--json")
    assert result.exit_code == 0, result.stderr
    document = contract_of(result)
    assert (document["command"], document["ok"]) == (command, True)


def test_provision_outputs_are_in_the_contract(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    document = contract_of(cli("provision", "--sandbox", "--yes", "--json"))
    assert document["outputs"], document


def test_plan_with_changes_is_ok_with_exit_2(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    document = contract_of(cli("plan", "--sandbox", "--detailed-exitcode", "--json"))
    assert (document["exit_code"], document["ok"]) == (2, True)


def test_history_json_given_before_show_prints_the_document(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("provision", "--sandbox", "--yes").exit_code == 0
    document = contract_of(cli("history", "--json", "show", "last"))
    assert document["command"] == "history show" and document["run"]["command"] == "provision"


@pytest.mark.parametrize(("words", "option"), [
    (["plan", "--json", "--bogus"], "--bogus"),
    (["history", "--json", "--limit", "many"], "--limit"),
    (["provision", "--sandbox", "--json", "--timeout", "0"], "--timeout"),
])
def test_a_usage_error_names_its_option(cli, project: Path, words: list[str], option: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(*words)
    assert result.exit_code == 64
    document = contract_of(result)
    assert document["ok"] is False and document["error"]["option"] == option
    assert option in document["error"]["message"]
    assert document["command"] == words[0]


def test_an_error_after_the_command_started_keeps_the_contract(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("provision", "--sandbox", "--json")  # no terminal, no --yes
    assert result.exit_code == 64
    document = contract_of(result)
    assert (document["command"], document["ok"]) == ("provision", False)
    assert "--yes" in document["error"]["hint"]
