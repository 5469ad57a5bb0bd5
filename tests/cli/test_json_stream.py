"""`--json-stream`: a CI system reads a long command's progress as JSON lines on stdout while it runs (as with
`terraform apply -json`), then a last line typed `result` that carries the command's JSON document exactly as
`--json` prints it."""

from __future__ import annotations

import json
from typing import Any

from mcpdeploy.sandbox.core import Fault, Sandbox


def lines_of(stdout: str) -> list[dict[str, Any]]:
    """Every line of stdout is one JSON object: nothing else is written there."""
    return [json.loads(line) for line in stdout.splitlines()]


def test_provision_streams_progress_the_plan_each_change_then_the_result(cli, served_sandbox: Sandbox) -> None:
    result = cli("provision", "--yes", "--json-stream")
    assert result.exit_code == 0, result.stderr
    events = lines_of(result.stdout)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "progress" and kinds[-1] == "result"
    assert kinds.index("plan") < kinds.index("applied")
    assert all(event["command"] == "provision" and event["schema_version"] == "1" and "time" in event
               for event in events)

    plan = next(event for event in events if event["type"] == "plan")
    applied = [event["change"] for event in events if event["type"] == "applied"]
    final = events[-1]["document"]
    assert final["ok"] is True and final["exit_code"] == 0
    # One event per change, as it was done, and the same changes as the final document lists.
    assert len(applied) == plan["summary"]["create"] == len(final["applied"])
    assert [change["resource"] for change in applied] == [change["resource"] for change in final["applied"]]


def test_a_retry_is_an_event_as_well_as_a_line_for_people(cli, served_sandbox: Sandbox) -> None:
    served_sandbox.add_fault(Fault(match=r"POST /api:meta/workspace/1/apigroup$", status=429, retry_after=0,
                                   times=1))
    result = cli("provision", "--yes", "--json-stream")
    assert result.exit_code == 0, result.stderr
    retries = [event for event in lines_of(result.stdout) if event["type"] == "retry"]
    assert len(retries) == 1 and "429" in retries[0]["message"]


def test_a_no_op_plan_streams_its_progress_and_the_plan_document(cli, served_sandbox: Sandbox) -> None:
    assert cli("provision", "--yes").exit_code == 0
    result = cli("plan", "--json-stream")
    assert result.exit_code == 0, result.stderr
    events = lines_of(result.stdout)
    assert [event["type"] for event in events] == ["progress", "result"]
    assert events[-1]["document"]["changes"] == [] and events[-1]["document"]["command"] == "plan"


def test_a_failed_run_still_ends_the_stream_with_its_result_and_error(cli, served_sandbox: Sandbox) -> None:
    served_sandbox.add_fault(Fault(match=r"POST /api:meta/workspace/1/apigroup$", status=403, times=1))
    result = cli("provision", "--yes", "--json-stream")
    assert result.exit_code == 6
    events = lines_of(result.stdout)
    assert events[-1]["type"] == "result"
    final = events[-1]["document"]
    assert final["ok"] is False and final["exit_code"] == 6 and final["error"]["exit_code"] == 6


def test_a_usage_error_is_a_result_line_too(cli, served_sandbox: Sandbox) -> None:
    result = cli("provision", "--yes", "--json-stream", "--timeout", "0")
    assert result.exit_code == 64
    [final] = lines_of(result.stdout)
    assert final["type"] == "result" and final["document"]["error"]["option"] == "--timeout"


def test_the_result_line_carries_the_document_its_published_schema_allows(cli, served_sandbox: Sandbox) -> None:
    import jsonschema

    from mcpdeploy.cli.documents.publish import document_schema

    result = cli("provision", "--yes", "--json-stream")
    document = lines_of(result.stdout)[-1]["document"]
    jsonschema.validate(document, document_schema("provision"))
