"""Client for Cloudflare's GraphQL Analytics API (`POST /client/v4/graphql`), for `mcpdeploy status`.

Datasets and fields as Cloudflare's docs give them: "Querying Workers Metrics with GraphQL"
(`workersInvocationsAdaptive`: sum requests/errors/subrequests, quantiles cpuTimeP50/cpuTimeP99 in microseconds,
dimensions datetime…/scriptName/status) and the Queues "Metrics" page (`queueBacklogAdaptiveGroups`: avg
messages/bytes; `queueMessageOperationsAdaptiveGroups`: count, avg retryCount/lagTime, dimensions actionType
WriteMessage|ReadMessage|DeleteMessage and outcome success|dlq|fail), all under
`viewer { accounts(filter: {accountTag}) }`. (That page's tables spell the backlog dataset
`queuesBacklogAdaptiveGroups`; its own example queries, what the API answers to, use `queueBacklogAdaptiveGroups`.)

Answers are `{"data", "errors"}`: a 200 can carry errors (the GraphQL way), and an authorization error means the
token lacks the **Account Analytics: Read** permission, which is raised as `AnalyticsPermissionMissing` so a caller
can show everything else. One query asks for every dataset at once (aliases), to stay far inside the API's
cost-based rate limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mcpdeploy.errors import ApiError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import HttpOptions, ServiceClient

SERVICE = "cloudflare graphql"
PERMISSION = "Account Analytics: Read"
# Messages Cloudflare documents for a token that may not read the account's analytics (Errors page).
_AUTHZ = re.compile(r"not authorized|does not have access|unauthorized|permission", re.I)
_LIMIT = 10_000


class AnalyticsError(ApiError):
    """The GraphQL API answered with errors (not a permission problem)."""


class AnalyticsPermissionMissing(AnalyticsError):
    exit_code = ExitCode.API_REJECTED


@dataclass(frozen=True)
class Point:
    """One interval of a series: its start (ISO 8601, UTC) and the values in it."""

    start: str
    values: dict[str, float]


@dataclass
class WorkerAnalytics:
    requests: int = 0
    errors: int = 0
    subrequests: int = 0
    cpu_p50_us: float | None = None
    cpu_p99_us: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    series: list[Point] = field(default_factory=list)  # requests and errors per interval


@dataclass
class QueueAnalytics:
    backlog_avg: float | None = None  # messages, averaged over the window
    written: int = 0
    read: int = 0
    acked: int = 0  # DeleteMessage with outcome success
    dead_lettered: int = 0  # outcome dlq
    failed: int = 0  # outcome fail: dropped after the last retry, with no dead-letter queue
    retries_avg: float | None = None
    lag_avg_ms: float | None = None
    backlog_series: list[Point] = field(default_factory=list)
    written_series: list[Point] = field(default_factory=list)


@dataclass
class Analytics:
    worker: WorkerAnalytics
    queue: QueueAnalytics | None


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_query(*, with_queue: bool, time_dimension: str) -> str:
    """The one query `status` sends: Worker totals and series, and the queue's backlog and operations."""
    queue = f"""
      backlog: queueBacklogAdaptiveGroups(limit: {_LIMIT}, filter: {{queueId: $queueId, datetime_geq: $start,
          datetime_leq: $end}}) {{ avg {{ messages }} dimensions {{ {time_dimension} }} }}
      operations: queueMessageOperationsAdaptiveGroups(limit: {_LIMIT}, filter: {{queueId: $queueId,
          datetime_geq: $start, datetime_leq: $end}}) {{
        count avg {{ retryCount lagTime }} dimensions {{ actionType outcome {time_dimension} }} }}""" \
        if with_queue else ""
    variables = "$accountTag: string!, $scriptName: string!, $start: Time!, $end: Time!" + \
        (", $queueId: string!" if with_queue else "")
    return f"""query McpdeployStatus({variables}) {{
  viewer {{
    accounts(filter: {{accountTag: $accountTag}}) {{
      totals: workersInvocationsAdaptive(limit: 1, filter: {{scriptName: $scriptName, datetime_geq: $start,
          datetime_leq: $end}}) {{ sum {{ requests errors subrequests }} quantiles {{ cpuTimeP50 cpuTimeP99 }} }}
      series: workersInvocationsAdaptive(limit: {_LIMIT}, filter: {{scriptName: $scriptName, datetime_geq: $start,
          datetime_leq: $end}}) {{ sum {{ requests errors }} dimensions {{ status {time_dimension} }} }}{queue}
    }}
  }}
}}"""


class AnalyticsClient(ServiceClient):
    service = SERVICE

    def __init__(self, base_url: str, token: str, account_id: str, options: HttpOptions | None = None) -> None:
        super().__init__(base_url, token, options)
        self.account_id = account_id

    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of a query; the errors it carries raised (AnalyticsPermissionMissing for authorization)."""
        response = self.send("POST", "graphql", json_body={"query": document, "variables": variables},
                             ok_statuses=(400, 401, 403))
        try:
            body = response.json()
        except ValueError:
            body = None
        return parse_answer(body, response.status_code, self._safe(str(response.request.url)), self.excerpt)

    def status_analytics(self, script: str, queue_id: str | None, start: datetime, end: datetime,
                         time_dimension: str) -> Analytics:
        variables: dict[str, Any] = {"accountTag": self.account_id, "scriptName": script,
                                     "start": iso(start), "end": iso(end)}
        if queue_id:
            variables["queueId"] = queue_id
        data = self.query(build_query(with_queue=queue_id is not None, time_dimension=time_dimension), variables)
        try:
            return read_analytics(data, time_dimension, with_queue=queue_id is not None)
        except ValueError as exc:
            raise AnalyticsError(service=SERVICE, method="POST", url=self._safe(self.url("graphql")), status=200,
                                 code=None, detail=f"unexpected answer: {exc}") from exc


def parse_answer(body: Any, status: int, url: str, excerpt: Any = lambda text, limit=None: text) -> dict[str, Any]:
    """`data` of a GraphQL answer, or the error it holds. Any shape that is not `{"data", "errors"}` is an error
    naming what came back, never an empty result: an empty result would read as "no traffic"."""
    if not isinstance(body, dict):
        raise AnalyticsError(service=SERVICE, method="POST", url=url, status=status, code=None,
                             detail="the answer is not a GraphQL response (a JSON object with data and errors)")
    errors = body.get("errors")
    if errors:
        items = errors if isinstance(errors, list) else [errors]
        messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in items]
        text = excerpt("; ".join(messages), 300)
        if status in (401, 403) or any(_AUTHZ.search(m) for m in messages):
            raise AnalyticsPermissionMissing(
                service=SERVICE, method="POST", url=url, status=status, code=None,
                detail=f"{text}: the token lacks the {PERMISSION} permission",
                hint=f"Give the API token (CLOUDFLARE_API_TOKEN) the permission Account > Account Analytics > Read "
                     f"({PERMISSION}); Worker and queue analytics need it.")
        raise AnalyticsError(service=SERVICE, method="POST", url=url, status=status, code=None, detail=text)
    data = body.get("data")
    if status >= 400 or not isinstance(data, dict):
        raise AnalyticsError(service=SERVICE, method="POST", url=url, status=status, code=None,
                             detail="the answer holds no data and no error")
    return data


def _account(data: dict[str, Any]) -> dict[str, Any]:
    viewer = data.get("viewer")
    accounts = viewer.get("accounts") if isinstance(viewer, dict) else None
    if not isinstance(accounts, list):
        raise ValueError("no viewer.accounts in the answer")
    if not accounts:
        return {}
    first = accounts[0]
    if not isinstance(first, dict):
        raise ValueError("viewer.accounts[0] is not an object")
    return first


def _groups(account: dict[str, Any], key: str) -> list[dict[str, Any]]:
    groups = account.get(key) or []
    if not isinstance(groups, list):
        raise ValueError(f"{key} is not a list")
    return [g for g in groups if isinstance(g, dict)]


def _number(group: dict[str, Any], block: str, name: str) -> float | None:
    values = group.get(block)
    value = values.get(name) if isinstance(values, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _dimension(group: dict[str, Any], name: str) -> str:
    dimensions = group.get("dimensions")
    value = dimensions.get(name) if isinstance(dimensions, dict) else None
    return "" if value is None else str(value)


def read_analytics(data: dict[str, Any], time_dimension: str, *, with_queue: bool) -> Analytics:
    """The typed figures of a `build_query` answer. Raises ValueError on a shape it cannot read."""
    account = _account(data)
    worker = WorkerAnalytics()
    totals = _groups(account, "totals")
    if totals:
        worker.requests = int(_number(totals[0], "sum", "requests") or 0)
        worker.errors = int(_number(totals[0], "sum", "errors") or 0)
        worker.subrequests = int(_number(totals[0], "sum", "subrequests") or 0)
        worker.cpu_p50_us = _number(totals[0], "quantiles", "cpuTimeP50")
        worker.cpu_p99_us = _number(totals[0], "quantiles", "cpuTimeP99")
    per_interval: dict[str, dict[str, float]] = {}
    for group in _groups(account, "series"):
        requests, errors = _number(group, "sum", "requests") or 0, _number(group, "sum", "errors") or 0
        status = _dimension(group, "status") or "unknown"
        worker.statuses[status] = worker.statuses.get(status, 0) + int(requests)
        point = per_interval.setdefault(_dimension(group, time_dimension), {"requests": 0.0, "errors": 0.0})
        point["requests"] += requests
        point["errors"] += errors
    worker.series = [Point(start, values) for start, values in sorted(per_interval.items())]
    if not with_queue:
        return Analytics(worker, None)
    return Analytics(worker, _queue(account, time_dimension))


def _queue(account: dict[str, Any], time_dimension: str) -> QueueAnalytics:
    queue = QueueAnalytics()
    backlog = [(g, _number(g, "avg", "messages")) for g in _groups(account, "backlog")]
    known = [(g, v) for g, v in backlog if v is not None]
    if known:
        queue.backlog_avg = sum(v for _, v in known) / len(known)
    queue.backlog_series = sorted((Point(_dimension(g, time_dimension), {"messages": v}) for g, v in known),
                                  key=lambda p: p.start)
    written: dict[str, float] = {}
    retries: list[tuple[float, float]] = []
    lags: list[tuple[float, float]] = []
    for group in _groups(account, "operations"):
        count = group.get("count")
        count = int(count) if isinstance(count, (int, float)) and not isinstance(count, bool) else 0
        action, outcome = _dimension(group, "actionType"), _dimension(group, "outcome")
        if action == "WriteMessage":
            queue.written += count
            start = _dimension(group, time_dimension)
            written[start] = written.get(start, 0) + count
        elif action == "ReadMessage":
            queue.read += count
            retry = _number(group, "avg", "retryCount")
            if retry is not None:
                retries.append((retry, count))
        elif action == "DeleteMessage":
            if outcome == "dlq":
                queue.dead_lettered += count
            elif outcome == "fail":
                queue.failed += count
            else:
                queue.acked += count
            lag = _number(group, "avg", "lagTime")
            if lag is not None:
                lags.append((lag, count))
    queue.retries_avg = _weighted(retries)
    queue.lag_avg_ms = _weighted(lags)
    queue.written_series = [Point(start, {"messages": n}) for start, n in sorted(written.items())]
    return queue


def _weighted(pairs: list[tuple[float, float]]) -> float | None:
    weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / weight if weight else None
