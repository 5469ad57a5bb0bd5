"""`status`: the Worker's traffic, the usage queue, the Xano tables, and a verdict.

A figure that could not be read is null, never 0 (which would read as "nothing happened")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument, Part


class Window(Part):
    since: str = Field(description='"1h", "24h" or "7d".')
    start: str
    end: str
    interval_s: int = Field(description="The width of one bucket of the series.")


class WorkerHealth(Part):
    script: str
    requests: int | None
    errors: int | None
    subrequests: int | None
    cpu_p50_ms: float | None
    cpu_p99_ms: float | None
    statuses: dict[str, int] = Field(description="Requests per HTTP status.")
    requests_series: list[float]
    requests_last_30m: int | None
    error_rate: float | None


class Consumer(Part):
    script: str | None
    batch_size: int | None
    max_wait_time_ms: int | None
    max_retries: int | None
    dead_letter_queue: str | None


class QueueHealth(Part):
    name: str
    queue_id: str | None
    exists: bool | None
    consumer: Consumer | None
    delivery_paused: bool
    backlog: int | None
    backlog_bytes: int | None
    oldest_age_s: float | None
    written: int | None
    read: int | None
    acked: int | None
    dead_lettered: int | None
    failed: int | None
    retries_avg: float | None
    lag_avg_ms: float | None
    backlog_avg: float | None
    backlog_series: list[float]
    written_series: list[float]


class Sessions(Part):
    active_15m: int | None
    active_24h: int | None


class Count(Part):
    name: str
    count: int


class Usage(Part):
    events: int | None = Field(description="Rows created in the window (the table's own count).")
    rows_read: int
    capped: bool = Field(description="More rows than --max-rows: the figures cover the newest rows read.")
    errors: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    cost: float
    top_tools: list[Count]
    top_models: list[Count]
    top_users: list[Count]
    newest_age_s: float | None
    rows_last_30m: int | None
    series: list[float]
    error_rate: float | None


class Finding(Part):
    code: str = Field(description='Stable, e.g. "consumer_missing".')
    severity: Literal["critical", "warning", "info"]
    message: str
    cause: str
    next_command: str


class Source(Part):
    name: str
    state: Literal["ok", "partial", "unavailable", "not_configured"]
    message: str | None
    hint: str | None
    calls: int


class StatusDocument(CommandDocument):
    """`mcpdeploy status --json`: exit 0 healthy, 12 degraded, 7 a source could not be read."""

    command: Literal["status"]
    verdict: Literal["healthy", "degraded", "unreachable"]
    window: Window
    worker: WorkerHealth
    queue: QueueHealth
    sessions: Sessions
    usage: Usage
    findings: list[Finding]
    sources: list[Source]
    calls: int = Field(description="HTTP requests made.")
    seconds: float
