"""The health model `status` builds from its reads: pure data, rendered as a dashboard or as JSON.

Durations are seconds or milliseconds as their names say; counts are whole numbers; a figure that could not be
read is None (never 0, which would read as "nothing happened")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SourceState = Literal["ok", "partial", "unavailable", "not_configured"]
Severity = Literal["critical", "warning", "info"]
Verdict = Literal["healthy", "degraded", "unreachable"]


@dataclass
class Source:
    """How one read went: `partial` when some of it could not be read (e.g. analytics without permission)."""

    name: str
    state: SourceState = "ok"
    message: str | None = None
    hint: str | None = None
    calls: int = 0


@dataclass
class WorkerHealth:
    script: str
    requests: int | None = None
    errors: int | None = None
    subrequests: int | None = None
    cpu_p50_ms: float | None = None
    cpu_p99_ms: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    requests_series: list[float] = field(default_factory=list)
    requests_last_30m: int | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests and self.errors is not None else None


@dataclass
class ConsumerInfo:
    script: str | None
    batch_size: int | None
    max_wait_time_ms: int | None
    max_retries: int | None
    dead_letter_queue: str | None


@dataclass
class QueueHealth:
    name: str
    queue_id: str | None = None
    exists: bool | None = None
    consumer: ConsumerInfo | None = None
    delivery_paused: bool = False
    backlog: int | None = None
    backlog_bytes: int | None = None
    oldest_age_s: float | None = None
    written: int | None = None
    read: int | None = None
    acked: int | None = None
    dead_lettered: int | None = None
    failed: int | None = None
    retries_avg: float | None = None
    lag_avg_ms: float | None = None
    backlog_avg: float | None = None
    backlog_series: list[float] = field(default_factory=list)
    written_series: list[float] = field(default_factory=list)


@dataclass
class SessionsHealth:
    active_15m: int | None = None
    active_24h: int | None = None


@dataclass
class UsageHealth:
    events: int | None = None  # rows created in the window (the table's own count, not only those read)
    rows_read: int = 0
    capped: bool = False  # more rows than --max-rows: the figures below cover the newest rows read
    errors: int = 0
    duration_p50_ms: float | None = None
    duration_p95_ms: float | None = None
    cost: float = 0.0
    top_tools: list[tuple[str, int]] = field(default_factory=list)
    top_models: list[tuple[str, int]] = field(default_factory=list)
    top_users: list[tuple[str, int]] = field(default_factory=list)
    newest_age_s: float | None = None
    rows_last_30m: int | None = None
    series: list[float] = field(default_factory=list)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.rows_read if self.rows_read else None


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    cause: str
    next_command: str


@dataclass
class WindowInfo:
    since: str
    start: str
    end: str
    interval_s: int


@dataclass
class Health:
    window: WindowInfo
    worker: WorkerHealth
    queue: QueueHealth
    sessions: SessionsHealth
    usage: UsageHealth
    sources: list[Source]
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict = "healthy"
    seconds: float = 0.0

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        """The versioned document of `status --json` (the CLI adds `schema_version`)."""
        worker = asdict(self.worker)
        worker["error_rate"] = _rate(self.worker.error_rate)
        usage = asdict(self.usage)
        usage["error_rate"] = _rate(self.usage.error_rate)
        for key in ("top_tools", "top_models", "top_users"):
            usage[key] = [{"name": name, "count": count} for name, count in usage[key]]
        return {
            "ok": self.verdict == "healthy",
            "verdict": self.verdict,
            "window": asdict(self.window),
            "worker": worker,
            "queue": asdict(self.queue),
            "sessions": asdict(self.sessions),
            "usage": usage,
            "findings": [asdict(f) for f in self.findings],
            "sources": [asdict(s) for s in self.sources],
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
        }


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
