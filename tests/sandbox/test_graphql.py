"""The sandbox's GraphQL Analytics endpoint: it parses the query (the documented example queries, from the
Queues "Metrics" page and "Querying Workers Metrics with GraphQL"), refuses unknown fields by name as Cloudflare
does, and answers from what it recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.analytics_store import append, now_ms
from mcpdeploy.sandbox.cloudflare_graphql import NO_ANALYTICS_TOKEN
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.graphql_document import GraphQLSyntaxError, parse
from mcpdeploy.sandbox.transport import SandboxTransport

DOCS_BACKLOG_QUERY = """query QueueBacklog($accountTag: string!, $queueId: string!, $datetimeStart: Time!,
  $datetimeEnd: Time!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      queueBacklogAdaptiveGroups(
        limit: 10000
        filter: {
          queueId: $queueId
          datetime_geq: $datetimeStart
          datetime_leq: $datetimeEnd
        }
      ) {
        avg {
          messages
          bytes
        }
      }
    }
  }
}"""

DOCS_WORKERS_QUERY = """query GetWorkersAnalytics($accountTag: string, $datetimeStart: string, $datetimeEnd: string,
  $scriptName: string) { viewer { accounts(filter: {accountTag: $accountTag}) { workersInvocationsAdaptive(limit: 100,
  filter: { scriptName: $scriptName, datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd }) { sum { subrequests
  requests errors } quantiles { cpuTimeP50 cpuTimeP99 } dimensions{ datetime scriptName status } } } } }"""


def _post(box: Sandbox, query: str, variables: dict[str, Any], token: str = credentials.CLOUDFLARE_API_TOKEN,
          ) -> httpx.Response:
    with httpx.Client(transport=SandboxTransport(box)) as client:
        return client.post("http://sandbox/client/v4/graphql", json={"query": query, "variables": variables},
                           headers={"authorization": f"Bearer {token}"})


def _window() -> dict[str, str]:
    return {"datetimeStart": "2000-01-01T00:00:00Z", "datetimeEnd": "2100-01-01T00:00:00Z",
            "accountTag": credentials.CLOUDFLARE_ACCOUNT_ID}


def test_the_documented_queries_are_answered_from_the_records() -> None:
    box = Sandbox()
    for cpu in (100, 300, 200):
        append(box, "invocations", {"t": now_ms(), "script": "w", "status": "success", "errors": 0, "cpu_us": cpu,
                                    "wall_us": cpu, "subrequests": 1})
    append(box, "invocations", {"t": now_ms(), "script": "other", "status": "success", "errors": 0, "cpu_us": 9,
                                "wall_us": 9, "subrequests": 0})
    append(box, "backlog_samples", {"t": now_ms(), "queue_id": "q1", "messages": 4, "bytes": 40})
    append(box, "backlog_samples", {"t": now_ms(), "queue_id": "q1", "messages": 2, "bytes": 20})
    workers = _post(box, DOCS_WORKERS_QUERY, {**_window(), "scriptName": "w"}).json()
    assert workers["errors"] is None
    (group,) = workers["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"]
    assert group["sum"] == {"subrequests": 3, "requests": 3, "errors": 0}
    assert group["quantiles"] == {"cpuTimeP50": 200, "cpuTimeP99": 300}
    assert group["dimensions"]["scriptName"] == "w" and group["dimensions"]["status"] == "success"
    backlog = _post(box, DOCS_BACKLOG_QUERY, {**_window(), "queueId": "q1"}).json()
    assert backlog["data"]["viewer"]["accounts"][0]["queueBacklogAdaptiveGroups"] == [
        {"avg": {"messages": 3, "bytes": 30}}]


def test_unknown_fields_and_missing_permission_are_refused_by_name() -> None:
    box = Sandbox()
    unknown = _post(box, "{ viewer { accounts(filter: {accountTag: $a}) { workersInvocations(limit: 1) { count } } } }",
                    {"a": credentials.CLOUDFLARE_ACCOUNT_ID})
    assert unknown.status_code == 400 or "unknown field" in unknown.json()["errors"][0]["message"]
    fields = _post(box, "query($a: string!) { viewer { accounts(filter: {accountTag: $a}) { "
                        "workersInvocationsAdaptive(limit: 1) { sum { bogus } } } } }",
                   {"a": credentials.CLOUDFLARE_ACCOUNT_ID}).json()
    assert fields["data"] is None and fields["errors"][0]["message"] == 'unknown field "bogus"'
    refused = _post(box, DOCS_BACKLOG_QUERY, {**_window(), "queueId": "q1"}, token=NO_ANALYTICS_TOKEN).json()
    assert refused["data"] is None and refused["errors"][0]["message"] == "not authorized for that account"
    assert _post(box, DOCS_BACKLOG_QUERY, {}, token="nope").status_code == 401


@pytest.mark.parametrize("text", ["{", "query { viewer { ... on X { a } } }", "mutation { a }", "{ a(b: ) }",
                                  "{ }", '{ a(b: "unterminated) }'])
def test_malformed_queries_are_syntax_errors(text: str) -> None:
    with pytest.raises(GraphQLSyntaxError):
        parse(text)


@given(st.text(alphabet='{}()[]:$!,"#abc_ 09-.\n', max_size=60))
def test_any_text_parses_or_is_a_syntax_error(text: str) -> None:
    try:
        operation = parse(text)
    except GraphQLSyntaxError:
        return
    assert operation.selections


def test_a_query_on_a_fresh_sandbox_leaves_its_state_file_as_it_was(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    answer = _post(box, DOCS_BACKLOG_QUERY, {**_window(), "queueId": "q1"})
    assert answer.json()["errors"] is None
    assert not (tmp_path / "state.json").exists()  # a read sent as a POST writes nothing
