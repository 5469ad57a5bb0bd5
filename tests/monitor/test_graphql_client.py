"""The GraphQL Analytics client against answers shaped as Cloudflare documents them.

Sources: the answer of "Querying Workers Metrics with GraphQL" (developers.cloudflare.com/analytics/graphql-api/
tutorials/querying-workers-metrics: groups of `dimensions {datetime scriptName status}`, `quantiles {cpuTimeP50
cpuTimeP99}`, `sum {errors requests subrequests}`, `"errors": null`), the "Error responses" page (errors with
`message`, `path`, `extensions.timestamp`; "not authorized for that account" 403 for a token without Account
Analytics Read), and the Queues "Metrics" page (`queueMessageOperationsAdaptiveGroups` with `count` and the
actionType/outcome dimensions; `queueBacklogAdaptiveGroups` with `avg {messages}`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from mcpdeploy.providers.cloudflare_graphql import (
    AnalyticsClient,
    AnalyticsError,
    AnalyticsPermissionMissing,
    build_query,
    parse_answer,
    read_analytics,
)
from mcpdeploy.providers.http import HttpOptions

BASE = "https://api.cloudflare.com/client/v4"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
START = datetime(2020, 5, 4, 18, 0, tzinfo=timezone.utc)
END = datetime(2020, 5, 4, 19, 0, tzinfo=timezone.utc)

# The tutorial's answer, under the aliases `status` asks for.
DOCS_SERIES = [
    {"dimensions": {"datetimeMinute": "2020-05-04T18:10:00Z", "status": "success"},
     "sum": {"errors": 0, "requests": 1}},
    {"dimensions": {"datetimeMinute": "2020-05-04T18:10:00Z", "status": "scriptThrewException"},
     "sum": {"errors": 1, "requests": 1}},
    {"dimensions": {"datetimeMinute": "2020-05-04T18:49:00Z", "status": "success"},
     "sum": {"errors": 0, "requests": 4}},
]
DOCS_TOTALS = [{"quantiles": {"cpuTimeP50": 212.5, "cpuTimeP99": 261.19},
                "sum": {"errors": 1, "requests": 6, "subrequests": 0}}]
DOCS_OPERATIONS = [
    {"count": 7, "avg": {"retryCount": 0, "lagTime": 0}, "dimensions": {"actionType": "WriteMessage", "outcome": "",
                                                                        "datetimeMinute": "2020-05-04T18:10:00Z"}},
    {"count": 9, "avg": {"retryCount": 1, "lagTime": 20}, "dimensions": {"actionType": "ReadMessage", "outcome": "",
                                                                         "datetimeMinute": "2020-05-04T18:11:00Z"}},
    {"count": 5, "avg": {"retryCount": 0, "lagTime": 40}, "dimensions": {"actionType": "DeleteMessage",
                                                                         "outcome": "success",
                                                                         "datetimeMinute": "2020-05-04T18:11:00Z"}},
    {"count": 2, "avg": {"retryCount": 3, "lagTime": 90}, "dimensions": {"actionType": "DeleteMessage",
                                                                         "outcome": "dlq",
                                                                         "datetimeMinute": "2020-05-04T18:12:00Z"}},
]
DOCS_BACKLOG = [{"avg": {"messages": 2}, "dimensions": {"datetimeMinute": "2020-05-04T18:10:00Z"}},
                {"avg": {"messages": 4}, "dimensions": {"datetimeMinute": "2020-05-04T18:12:00Z"}}]


def _answer(account: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"viewer": {"accounts": [account]}}, "errors": None}


def _client() -> AnalyticsClient:
    return AnalyticsClient(BASE, "cf-token-123456", ACCOUNT, HttpOptions(sleep=lambda s: None))


def test_the_documented_answer_reads_as_worker_and_queue_figures() -> None:
    body = _answer({"totals": DOCS_TOTALS, "series": DOCS_SERIES, "backlog": DOCS_BACKLOG,
                    "operations": DOCS_OPERATIONS})
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/graphql").mock(return_value=httpx.Response(200, json=body))
        figures = _client().status_analytics("worker-subrequest-test-client", "q" * 32, START, END, "datetimeMinute")
    sent = json.loads(route.calls[0].request.content)
    assert sent["variables"] == {"accountTag": ACCOUNT, "scriptName": "worker-subrequest-test-client",
                                 "start": "2020-05-04T18:00:00Z", "end": "2020-05-04T19:00:00Z", "queueId": "q" * 32}
    assert route.calls[0].request.headers["authorization"] == "Bearer cf-token-123456"
    worker = figures.worker
    assert (worker.requests, worker.errors, worker.cpu_p50_us, worker.cpu_p99_us) == (6, 1, 212.5, 261.19)
    assert worker.statuses == {"success": 5, "scriptThrewException": 1}
    assert [(p.start, p.values["requests"]) for p in worker.series] == [("2020-05-04T18:10:00Z", 2),
                                                                         ("2020-05-04T18:49:00Z", 4)]
    queue = figures.queue
    assert queue is not None
    assert (queue.written, queue.read, queue.acked, queue.dead_lettered, queue.failed) == (7, 9, 5, 2, 0)
    assert queue.backlog_avg == 3
    assert queue.lag_avg_ms == pytest.approx((40 * 5 + 90 * 2) / 7)


def test_the_query_names_the_documented_datasets_and_fields() -> None:
    query = build_query(with_queue=True, time_dimension="datetimeHour")
    for name in ("workersInvocationsAdaptive", "queueBacklogAdaptiveGroups", "queueMessageOperationsAdaptiveGroups",
                 "cpuTimeP50", "cpuTimeP99", "actionType", "outcome", "retryCount", "accountTag", "datetime_geq"):
        assert name in query
    assert "queue" not in build_query(with_queue=False, time_dimension="datetimeHour").lower().replace(
        "queueid", "")


@pytest.mark.parametrize("status", [200, 403])
def test_a_token_without_analytics_permission_is_named(status: int) -> None:
    body = {"data": None, "errors": [{"message": "not authorized for that account",
                                      "path": ["viewer", "accounts", "0"],
                                      "extensions": {"timestamp": "2019-12-09T21:27:19.195060142Z"}}]}
    with respx.mock(base_url=BASE) as mock:
        mock.post("/graphql").mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(AnalyticsPermissionMissing) as caught:
            _client().status_analytics("w", None, START, END, "datetimeHour")
    assert "Account Analytics: Read" in caught.value.message
    assert "Account Analytics" in (caught.value.hint or "")
    assert "cf-token-123456" not in caught.value.message


def test_other_documented_errors_are_errors_not_empty_figures() -> None:
    body = {"data": None, "errors": [{"message": "cannot request data older than 2678400s",
                                      "path": ["viewer", "accounts", "0", "workersInvocationsAdaptive"]}]}
    with pytest.raises(AnalyticsError, match="cannot request data older") as caught:
        parse_answer(body, 200, BASE + "/graphql")
    assert not isinstance(caught.value, AnalyticsPermissionMissing)


def test_an_account_with_no_traffic_reads_as_zero() -> None:
    figures = read_analytics(_answer({"totals": [], "series": []})["data"], "datetimeHour", with_queue=False)
    assert (figures.worker.requests, figures.worker.cpu_p50_us, figures.queue) == (0, None, None)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                  max_size=4), max_leaves=20)
_group = st.fixed_dictionaries({}, optional={
    "count": _json, "sum": st.dictionaries(st.sampled_from(["requests", "errors", "subrequests"]), _json),
    "avg": st.dictionaries(st.sampled_from(["messages", "retryCount", "lagTime"]), _json),
    "quantiles": st.dictionaries(st.sampled_from(["cpuTimeP50", "cpuTimeP99"]), _json),
    "dimensions": st.dictionaries(st.sampled_from(["status", "actionType", "outcome", "datetimeHour"]), _json)})


@given(st.fixed_dictionaries({}, optional={key: st.lists(_group, max_size=4) | _json
                                           for key in ("totals", "series", "backlog", "operations")}))
def test_any_answer_shape_reads_or_fails_as_value_error(account: dict[str, Any]) -> None:
    try:
        figures = read_analytics(_answer(account)["data"], "datetimeHour", with_queue=True)
    except ValueError:
        return
    assert isinstance(figures.worker.requests, int) and figures.queue is not None


@given(_json, st.sampled_from([200, 400, 401, 403]))
def test_any_body_is_data_or_an_analytics_error(body: Any, status: int) -> None:
    try:
        data = parse_answer(body, status, BASE + "/graphql")
    except AnalyticsError:
        return
    assert isinstance(data, dict)
