"""The Cloudflare side of `status`: the queue, its consumer's settings and its backlog right now (REST v4:
`GET …/queues?name=`, `GET …/queues/{id}/metrics` answering `{backlog_count, backlog_bytes,
oldest_message_timestamp_ms}`), then the Worker's and the queue's analytics over the window (GraphQL).

The REST reads need only the Queues permission the token already has for provisioning; the analytics need
Account Analytics: Read. Without it, the queue's current state still shows and the analytics are reported missing
with the permission named.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mcpdeploy.monitor.model import ConsumerInfo, QueueHealth, Source, WorkerHealth
from mcpdeploy.monitor.window import Window, from_ms, parse_time
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.cloudflare_errors import CloudflareApiError
from mcpdeploy.providers.cloudflare_graphql import Analytics, AnalyticsClient, AnalyticsPermissionMissing, Point

RECENT = timedelta(minutes=30)


class QueueReader(CloudflareClient):
    def queue_metrics(self, queue_id: str) -> dict[str, Any] | None:
        """The backlog right now; None where the API has no metrics endpoint for the queue."""
        try:
            result = self._result("GET", self._account(f"queues/{queue_id}/metrics"))
        except CloudflareApiError as exc:
            if exc.status in (404, 405):
                return None
            raise
        return result if isinstance(result, dict) else None


def read_queue(client: QueueReader, name: str, script: str, now: datetime) -> QueueHealth:
    queue = QueueHealth(name=name)
    found = client.find_queue(name)
    queue.exists = found is not None
    if found is None:
        return queue
    queue.queue_id = found.queue_id
    queue.delivery_paused = bool(found.settings.get("delivery_paused"))
    workers = [c for c in found.consumers if c.type == "worker"]
    mine = next((c for c in workers if c.worker == script), workers[0] if workers else None)
    if mine is not None:
        queue.consumer = ConsumerInfo(mine.worker, mine.settings.batch_size, mine.settings.max_wait_time_ms,
                                      mine.settings.max_retries, mine.dead_letter_queue or None)
    metrics = client.queue_metrics(found.queue_id)
    if metrics is not None:
        queue.backlog = _int(metrics.get("backlog_count"))
        queue.backlog_bytes = _int(metrics.get("backlog_bytes"))
        oldest = from_ms(metrics.get("oldest_message_timestamp_ms")) if metrics.get("oldest_message_timestamp_ms") \
            else None
        queue.oldest_age_s = max(0.0, (now - oldest).total_seconds()) if oldest and queue.backlog else None
    return queue


def read_analytics(client: AnalyticsClient, worker: WorkerHealth, queue: QueueHealth, window: Window,
                   now: datetime, source: Source) -> None:
    """Fill the Worker's and the queue's analytics in; a missing permission makes `source` partial."""
    try:
        analytics = client.status_analytics(worker.script, queue.queue_id, window.start, window.end,
                                            window.time_dimension)
    except AnalyticsPermissionMissing as exc:
        source.state = "partial"
        source.message = f"no Worker or queue analytics: {exc.detail}"
        source.hint = exc.hint
        return
    apply_analytics(analytics, worker, queue, window, now)


def apply_analytics(analytics: Analytics, worker: WorkerHealth, queue: QueueHealth, window: Window,
                    now: datetime) -> None:
    figures = analytics.worker
    worker.requests, worker.errors, worker.subrequests = figures.requests, figures.errors, figures.subrequests
    worker.cpu_p50_ms = figures.cpu_p50_us / 1000 if figures.cpu_p50_us is not None else None
    worker.cpu_p99_ms = figures.cpu_p99_us / 1000 if figures.cpu_p99_us is not None else None
    worker.statuses = dict(sorted(figures.statuses.items()))
    points = _points(figures.series, "requests")
    worker.requests_series = window.spread(points)
    # Intervals shorter than the stall window are counted whole; an hourly series counts its last hour.
    worker.requests_last_30m = int(sum(v for moment, v in points if moment >= now - RECENT - window_step(window)))
    if analytics.queue is not None:
        q = analytics.queue
        queue.written, queue.read, queue.acked = q.written, q.read, q.acked
        queue.dead_lettered, queue.failed = q.dead_lettered, q.failed
        queue.retries_avg, queue.lag_avg_ms, queue.backlog_avg = q.retries_avg, q.lag_avg_ms, q.backlog_avg
        queue.written_series = window.spread(_points(q.written_series, "messages"))
        queue.backlog_series = _levels(window, _points(q.backlog_series, "messages"))


def window_step(window: Window) -> timedelta:
    return timedelta(minutes=1) if window.time_dimension == "datetimeMinute" else timedelta(hours=1)


def _points(series: list[Point], key: str) -> list[tuple[datetime, float]]:
    out = []
    for point in series:
        moment = parse_time(point.start)
        if moment is not None:
            out.append((moment, point.values.get(key, 0.0)))
    return out


def _levels(window: Window, points: list[tuple[datetime, float]]) -> list[float]:
    """A level (the backlog) per interval: the highest sample in it, carried forward over empty intervals."""
    levels: list[float | None] = [None] * window.buckets
    for moment, value in points:
        index = window.bucket_of(moment)
        if index is not None:
            levels[index] = max(levels[index] or 0.0, value)
    out: list[float] = []
    last = 0.0
    for level in levels:
        last = level if level is not None else last
        out.append(last)
    return out


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
