"""The sandbox's GraphQL Analytics API (`POST /client/v4/graphql`), answered from what the sandbox saw.

Datasets, fields and dimensions as Cloudflare's docs give them ("Querying Workers Metrics with GraphQL", the
Queues "Metrics" page): `workersInvocationsAdaptive` (sum requests/errors/subrequests, quantiles of CPU time in
microseconds and of wall time, dimensions datetime*, scriptName, status), `queueBacklogAdaptiveGroups` (avg
messages/bytes) and `queueMessageOperationsAdaptiveGroups` (count, sum billableOperations/bytes, avg
lagTime/retryCount, max messageSize; dimensions actionType, consumerType, outcome), under
`viewer { accounts(filter: {accountTag}) { ... } }`, with `limit`, `filter` (equality, and `_geq`, `_leq`, `_gt`,
`_lt`, `_in` suffixes) and `orderBy` ([`field_ASC`|`field_DESC`]). An unknown field is refused by name, as the
real API refuses it ("unknown field"); answers are `{"data", "errors"}` with `errors` null on success.

A token without the Account Analytics permission (`NO_ANALYTICS_TOKEN`, which the v4 REST API accepts) gets the
authorization error Cloudflare documents for it, with `data` null.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.analytics_store import analytics
from mcpdeploy.sandbox.graphql_document import Field, GraphQLSyntaxError, parse, resolve
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse
from mcpdeploy.sandbox.queue_delivery import catch_up

PATH = "/client/v4/graphql"
NO_ANALYTICS_TOKEN = "sandbox-cloudflare-token-without-analytics"
KNOWN_TOKENS = (credentials.CLOUDFLARE_API_TOKEN, "sandbox-cloudflare-account-token", NO_ANALYTICS_TOKEN)
MAX_LIMIT = 10_000

_TIME_DIMENSIONS: dict[str, Callable[[datetime], str]] = {
    "datetime": lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "datetimeMinute": lambda d: d.strftime("%Y-%m-%dT%H:%M:00Z"),
    "datetimeFiveMinutes": lambda d: d.replace(minute=d.minute - d.minute % 5).strftime("%Y-%m-%dT%H:%M:00Z"),
    "datetimeFifteenMinutes": lambda d: d.replace(minute=d.minute - d.minute % 15).strftime("%Y-%m-%dT%H:%M:00Z"),
    "datetimeHour": lambda d: d.strftime("%Y-%m-%dT%H:00:00Z"),
    "date": lambda d: d.strftime("%Y-%m-%d"),
}


def _quantile(fraction: float, key: str) -> Callable[[list[dict[str, Any]]], float]:
    def pick(records: list[dict[str, Any]]) -> float:
        values = sorted(r[key] for r in records)
        return float(values[max(0, math.ceil(fraction * len(values)) - 1)]) if values else 0.0
    return pick


def _total(key: str) -> Callable[[list[dict[str, Any]]], float]:
    return lambda records: sum(r[key] for r in records)


def _mean(key: str) -> Callable[[list[dict[str, Any]]], float]:
    return lambda records: sum(r[key] for r in records) / len(records) if records else 0.0


_PERCENTILES = {"P25": 0.25, "P50": 0.5, "P75": 0.75, "P90": 0.9, "P99": 0.99, "P999": 0.999}

# dataset -> (records kind, {block -> {field -> aggregate}}, {dimension -> record key or time dimension})
_DATASETS: dict[str, tuple[str, dict[str, dict[str, Callable[[list[dict[str, Any]]], float]]], dict[str, str]]] = {
    "workersInvocationsAdaptive": ("invocations", {
        "sum": {"requests": len, "errors": _total("errors"), "subrequests": _total("subrequests"),
                "cpuTimeUs": _total("cpu_us"), "wallTime": _total("wall_us")},
        "quantiles": {**{f"cpuTime{p}": _quantile(f, "cpu_us") for p, f in _PERCENTILES.items()},
                      **{f"wallTime{p}": _quantile(f, "wall_us") for p, f in _PERCENTILES.items()},
                      **{f"duration{p}": _quantile(f, "wall_us") for p, f in _PERCENTILES.items()}},
        "avg": {"sampleInterval": lambda records: 1.0},
    }, {"scriptName": "script", "status": "status"}),
    "queueBacklogAdaptiveGroups": ("backlog_samples", {
        "avg": {"messages": _mean("messages"), "bytes": _mean("bytes"), "sampleInterval": lambda records: 1.0},
    }, {"queueId": "queue_id"}),
    "queueMessageOperationsAdaptiveGroups": ("queue_operations", {
        "sum": {"billableOperations": len, "bytes": _total("bytes")},
        "avg": {"lagTime": _mean("lag_ms"), "retryCount": _mean("retries"), "sampleInterval": lambda records: 1.0},
        "max": {"messageSize": lambda records: max((r["bytes"] for r in records), default=0),
                "lagTime": lambda records: max((r["lag_ms"] for r in records), default=0)},
    }, {"queueId": "queue_id", "actionType": "action", "consumerType": "consumer", "outcome": "outcome"}),
}


class _QueryError(Exception):
    def __init__(self, message: str, path: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class GraphQLService:
    prefix = PATH

    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox

    def claims(self, path: str) -> bool:
        return path == PATH

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.method != "POST":
            return SandboxResponse.json(405, _errors("method not allowed: send the query with POST", []))
        token = request.bearer()
        if token not in KNOWN_TOKENS:
            return SandboxResponse.json(401, _errors("Unauthorized", []))
        try:
            body = request.json()
        except ValueError:
            return SandboxResponse.json(400, _errors("request body is not valid JSON", []))
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return SandboxResponse.json(400, _errors("the body must be {\"query\": ..., \"variables\": {...}}", []))
        variables = body.get("variables") or {}
        try:
            operation = parse(body["query"])
            values = {name: variables.get(name, default) for name, default in operation.variables.items()}
            with self.sandbox.lock:
                catch_up(self.sandbox)
                data = {f.key: self._root(f, values, token == NO_ANALYTICS_TOKEN) for f in operation.selections}
        except GraphQLSyntaxError as exc:
            return SandboxResponse.json(400, _errors(f"error parsing args: {exc}", []))
        except _QueryError as exc:
            return SandboxResponse.json(200, {"data": None, "errors": [_error(exc.message, exc.path)]})
        return SandboxResponse.json(200, {"data": data, "errors": None})

    def _root(self, field: Field, values: dict[str, Any], no_analytics: bool) -> Any:
        if field.name != "viewer":
            raise _QueryError(f"unknown field \"{field.name}\"", [field.key])
        out: dict[str, Any] = {}
        for child in field.selections:
            if child.name != "accounts":
                raise _QueryError(f"unknown field \"{child.name}\"", ["viewer", child.key])
            tag = (resolve(child.arguments.get("filter", {}), values) or {}).get("accountTag")
            if no_analytics or tag != credentials.CLOUDFLARE_ACCOUNT_ID:
                # What Cloudflare documents for a token that lacks Account Analytics Read on the account.
                raise _QueryError("not authorized for that account", ["viewer", child.key, "0"])
            out[child.key] = [{node.key: self._dataset(node, values) for node in child.selections}]
        return out

    def _dataset(self, node: Field, values: dict[str, Any]) -> list[dict[str, Any]]:
        if node.name not in _DATASETS:
            raise _QueryError(f"unknown field \"{node.name}\"", ["viewer", "accounts", "0", node.key])
        kind, blocks, dimensions = _DATASETS[node.name]
        arguments = {k: resolve(v, values) for k, v in node.arguments.items()}
        limit = arguments.get("limit")
        if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            raise _QueryError(f"limit must be positive number and not greater than {MAX_LIMIT}",
                              ["viewer", "accounts", "0", node.key])
        _check_fields(node, blocks, dimensions)
        records = [r for r in analytics(self.sandbox)[kind] if _matches(r, arguments.get("filter") or {}, dimensions)]
        groups = _group(records, node, blocks, dimensions)
        for order in reversed(arguments.get("orderBy") or []):
            name, _, direction = str(order).rpartition("_")
            groups.sort(key=functools.partial(_dimension_text, name), reverse=direction == "DESC")
        return groups[:limit]


def _check_fields(node: Field, blocks: dict[str, dict[str, Any]], dimensions: dict[str, str]) -> None:
    """Every field asked for exists in the dataset, whether or not there is data: Cloudflare checks the query."""
    path = ["viewer", "accounts", "0", node.key]
    for selection in node.selections:
        if selection.name == "count":
            continue
        known = (set(dimensions) | set(_TIME_DIMENSIONS)) if selection.name == "dimensions" else \
            set(blocks.get(selection.name, {}))
        if selection.name != "dimensions" and selection.name not in blocks:
            raise _QueryError(f"unknown field \"{selection.name}\"", path)
        for child in selection.selections:
            if child.name not in known:
                raise _QueryError(f"unknown field \"{child.name}\"", [*path, selection.key])


def _dimension_text(name: str, group: dict[str, Any]) -> str:
    return str(group.get("dimensions", {}).get(name, ""))


def _group(records: list[dict[str, Any]], node: Field, blocks: dict[str, dict[str, Any]],
           dimensions: dict[str, str]) -> list[dict[str, Any]]:
    wanted = next((f for f in node.selections if f.name == "dimensions"), None)
    names = [f.name for f in wanted.selections] if wanted else []
    for name in names:
        if name not in dimensions and name not in _TIME_DIMENSIONS:
            raise _QueryError(f"unknown field \"{name}\"", ["viewer", "accounts", "0", node.key, "dimensions"])
    buckets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        buckets.setdefault(tuple(_dimension(record, n, dimensions) for n in names), []).append(record)
    out: list[dict[str, Any]] = []
    for key, members in buckets.items():
        group: dict[str, Any] = {}
        for selection in node.selections:
            if selection.name == "count":
                group[selection.key] = len(members)
            elif selection.name == "dimensions":
                group[selection.key] = {f.key: key[names.index(f.name)] for f in selection.selections}
            elif selection.name in blocks:
                group[selection.key] = {f.key: _aggregate(blocks[selection.name], f, members, node)
                                        for f in selection.selections}
            else:
                raise _QueryError(f"unknown field \"{selection.name}\"", ["viewer", "accounts", "0", node.key])
        out.append(group)
    return out


def _aggregate(block: dict[str, Any], field: Field, members: list[dict[str, Any]], node: Field) -> float | int:
    if field.name not in block:
        raise _QueryError(f"unknown field \"{field.name}\"", ["viewer", "accounts", "0", node.key])
    value = block[field.name](members)
    return int(value) if float(value).is_integer() else round(float(value), 3)


def _dimension(record: dict[str, Any], name: str, dimensions: dict[str, str]) -> Any:
    if name in _TIME_DIMENSIONS:
        return _TIME_DIMENSIONS[name](datetime.fromtimestamp(record["t"] / 1000, timezone.utc))
    return record.get(dimensions[name])


def _matches(record: dict[str, Any], conditions: dict[str, Any], dimensions: dict[str, str]) -> bool:
    for key, wanted in conditions.items():
        if key in ("AND", "OR"):
            parts = [_matches(record, c, dimensions) for c in wanted or [] if isinstance(c, dict)]
            if not (all(parts) if key == "AND" else any(parts)):
                return False
            continue
        name, _, operator = key.partition("_")
        if name in _TIME_DIMENSIONS:
            value: Any = datetime.fromtimestamp(record["t"] / 1000, timezone.utc)
            wanted = [_time(w) for w in wanted] if operator == "in" else _time(wanted)
        elif name in dimensions:
            value = record.get(dimensions[name])
        else:
            raise _QueryError(f"unknown filter field \"{key}\"", ["viewer", "accounts", "0"])
        if not _compare(value, operator, wanted):
            return False
    return True


def _compare(value: Any, operator: str, wanted: Any) -> bool:
    if operator == "":
        return bool(value == wanted)
    if operator == "in":
        return value in wanted
    if operator == "neq":
        return bool(value != wanted)
    if value is None:
        return False
    checks = {"geq": value >= wanted, "leq": value <= wanted, "gt": value > wanted, "lt": value < wanted}
    if operator not in checks:
        raise _QueryError(f"unknown filter operator \"_{operator}\"", ["viewer", "accounts", "0"])
    return bool(checks[operator])


def _time(raw: Any) -> datetime:
    try:
        text = str(raw)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else \
            datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise GraphQLSyntaxError(f"{raw!r} is not a Time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _error(message: str, path: list[str]) -> dict[str, Any]:
    return {"message": message, "path": path,
            "extensions": {"timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}


def _errors(message: str, path: list[str]) -> dict[str, Any]:
    return {"data": None, "errors": [_error(message, path)]}


def mount(sandbox: SandboxHost) -> GraphQLService:
    return GraphQLService(sandbox)
