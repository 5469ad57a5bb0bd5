"""Sessions and usage from the Xano tables, through the Metadata API's content search
(`POST /workspace/{w}/table/{t}/content/search`, body `{page, per_page, search, sort}`; answers
`{items, itemsReceived, curPage, nextPage, itemsTotal, ...}` with timestamps in epoch milliseconds, as Xano's
"Content" docs show them).

Every read is bounded: counts come from `itemsTotal` of a one-row page, and the usage rows of the window are read
newest first, at most `max_rows` of them, so a busy table never means an unbounded read.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from mcpdeploy.errors import ApiError
from mcpdeploy.monitor.model import SessionsHealth, UsageHealth
from mcpdeploy.monitor.window import Window, from_ms
from mcpdeploy.providers.http import decode_json
from mcpdeploy.providers.xano import XanoClient

SESSIONS_TABLE = "mcp_sessions"
USAGE_TABLE = "usage_logs"
PAGE = 100
DEFAULT_MAX_ROWS = 5_000
STALL_WINDOW = timedelta(minutes=30)
TOP = 5


class TableMissing(LookupError):
    pass


def read_xano(client: XanoClient, window: Window, now: datetime,
              max_rows: int = DEFAULT_MAX_ROWS) -> tuple[SessionsHealth, UsageHealth]:
    tables = {t.get("name"): t.get("id") for t in client.list_tables()}
    missing = [name for name in (SESSIONS_TABLE, USAGE_TABLE) if tables.get(name) is None]
    if missing:
        raise TableMissing(f"the table {missing[0]} does not exist in the workspace")
    sessions = SessionsHealth(
        active_15m=_count(client, tables[SESSIONS_TABLE], "last_active", now - timedelta(minutes=15)),
        active_24h=_count(client, tables[SESSIONS_TABLE], "last_active", now - timedelta(hours=24)))
    rows, total = _newest(client, tables[USAGE_TABLE], "created_at", window.start, max_rows)
    newest = rows[0] if rows else _first(client, tables[USAGE_TABLE])
    usage = summarize_usage(rows, total, window, now, newest)
    if usage.capped or window.end - window.start < STALL_WINDOW:
        usage.rows_last_30m = _count(client, tables[USAGE_TABLE], "created_at", now - STALL_WINDOW)
    return sessions, usage


def _search(client: XanoClient, table_id: Any, body: dict[str, Any]) -> dict[str, Any]:
    path = f"workspace/{client.workspace_id}/table/{table_id}/content/search"
    answer = decode_json(client.send("POST", path, json_body=body, headers={"x-data-source": "live"}),
                         client.service, client.options.redactor)
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], dict):
        answer = answer[0]
    if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
        raise ApiError(service=client.service, method="POST", url=client.url(path), status=200, code=None,
                       detail="expected a content page {items, itemsTotal, nextPage}")
    return answer


def _count(client: XanoClient, table_id: Any, column: str, since: datetime) -> int:
    page = _search(client, table_id, {"page": 1, "per_page": 1, "search": {f"{column}|>=": _ms(since)}})
    return total_of(page)


def total_of(page: dict[str, Any]) -> int:
    """`itemsTotal` of a content page; a page without it counts what it holds and says whether more follow."""
    total = page.get("itemsTotal")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return len(page.get("items") or [])


def _newest(client: XanoClient, table_id: Any, column: str, since: datetime,
            max_rows: int) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    total = 0
    for page_number in range(1, max(1, math.ceil(max_rows / PAGE)) + 1):
        page = _search(client, table_id, {"page": page_number, "per_page": PAGE, "sort": {column: "desc"},
                                          "search": {f"{column}|>=": _ms(since)}})
        rows.extend(r for r in page["items"] if isinstance(r, dict))
        total = max(total_of(page), len(rows))
        if page.get("nextPage") in (None, 0, False) or not page["items"]:
            break
    return rows[:max_rows], total


def _first(client: XanoClient, table_id: Any) -> dict[str, Any] | None:
    page = _search(client, table_id, {"page": 1, "per_page": 1, "sort": {"created_at": "desc"}})
    items = [r for r in page["items"] if isinstance(r, dict)]
    return items[0] if items else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def summarize_usage(rows: list[dict[str, Any]], total: int, window: Window, now: datetime,
                    newest: dict[str, Any] | None = None) -> UsageHealth:
    """The usage figures of the rows read (newest first). Rows written by hand or by older Workers may lack any
    field or hold another type: such a value is left out of the figure it would spoil, never a crash."""
    usage = UsageHealth(events=max(total, len(rows)), rows_read=len(rows), capped=total > len(rows))
    durations = sorted(float(r["duration"]) for r in rows if _is_number(r.get("duration")))
    usage.duration_p50_ms = percentile(durations, 0.50)
    usage.duration_p95_ms = percentile(durations, 0.95)
    usage.errors = sum(1 for r in rows if r.get("error") not in (None, ""))
    usage.cost = round(sum(float(r["cost"]) for r in rows if _is_number(r.get("cost"))), 6)
    for attribute, column in (("top_tools", "tool_name"), ("top_models", "ai_model"), ("top_users", "user_id")):
        counted = Counter(str(r[column]) for r in rows if r.get(column) not in (None, ""))
        setattr(usage, attribute, sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:TOP])
    created = [(moment, 1.0) for moment in (from_ms(r.get("created_at")) for r in rows) if moment is not None]
    usage.series = window.spread(created)
    if not usage.capped and window.end - window.start >= STALL_WINDOW:
        usage.rows_last_30m = sum(1 for moment, _ in created if moment >= now - STALL_WINDOW)
    newest_at = from_ms((newest or {}).get("created_at"))
    usage.newest_age_s = max(0.0, (now - newest_at).total_seconds()) if newest_at else None
    return usage


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of values sorted ascending; None for no values."""
    if not sorted_values:
        return None
    index = max(0, math.ceil(fraction * len(sorted_values)) - 1)
    return sorted_values[min(index, len(sorted_values) - 1)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
