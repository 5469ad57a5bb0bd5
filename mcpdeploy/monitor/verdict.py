"""The verdict: findings that cross the sources, each with its likely cause and the next command to run.

The failure that matters most is the quiet one: the Worker serves requests but usage stops reaching `usage_logs`
(a paused or broken consumer, a full queue, a revoked Xano key), so costs go unrecorded. Verdicts:
`unreachable` when a source could not be read at all (nothing can be judged from half the picture), otherwise
`degraded` when a critical or warning finding stands, otherwise `healthy`.
"""

from __future__ import annotations

import itertools

from mcpdeploy.monitor.model import Finding, Health

STALL_AFTER_S = 5 * 60  # a message older than this in the backlog means the consumer is not keeping up
WORKER_ERROR_WARN = 0.05
USAGE_ERROR_WARN = 0.10
BACKLOG_GROWING_MIN = 10


def judge(health: Health, env: str = "") -> None:
    """`env` completes the commands the findings suggest (" --env staging", " --sandbox")."""
    health.findings = findings(health, env)
    if any(s.state == "unavailable" for s in health.sources):
        health.verdict = "unreachable"
    elif any(f.severity in ("critical", "warning") for f in health.findings):
        health.verdict = "degraded"
    else:
        health.verdict = "healthy"


def findings(health: Health, env: str = "") -> list[Finding]:
    out: list[Finding] = []
    worker, queue, usage = health.worker, health.queue, health.usage
    served = f" while the Worker served {worker.requests_last_30m:,} requests" \
        if worker.requests_last_30m else ""
    no_rows = f"0 rows in usage_logs in the last 30 min{served}; " if usage.rows_last_30m == 0 else ""
    if queue.exists is False:
        out.append(Finding("queue_missing", "critical", f"the queue {queue.name} does not exist",
                           "usage events have nowhere to go", f"mcpdeploy provision{env}"))
    elif queue.exists and queue.consumer is None:
        out.append(Finding(
            "consumer_missing", "critical",
            f"usage logging stalled: {no_rows}the queue {queue.name} has no Worker consumer"
            f"{_waiting(queue.backlog)}",
            "the consumer was never created (the Worker was deployed after provisioning) or was removed",
            f"mcpdeploy provision{env}"))
    elif queue.delivery_paused:
        out.append(Finding(
            "usage_stalled", "critical",
            f"usage logging stalled: {no_rows}delivery of {queue.name} is paused{_waiting(queue.backlog)}",
            "someone paused delivery (`wrangler queues pause-delivery`)",
            f"wrangler queues resume-delivery {queue.name}"))
    elif queue.backlog and queue.oldest_age_s is not None and queue.oldest_age_s >= STALL_AFTER_S:
        out.append(Finding(
            "usage_stalled", "critical",
            f"usage logging stalled: {no_rows}{queue.backlog:,} messages wait in {queue.name}, the oldest for "
            f"{_age(queue.oldest_age_s)}",
            "the consumer fails on every batch (a revoked Xano key, Xano down, an exception in queue())",
            f"mcpdeploy logs{env} --errors"))
    elif (queue.written or 0) > 0 and usage.events == 0:
        out.append(Finding(
            "usage_not_recorded", "critical",
            f"usage logging broken: {queue.written:,} usage events were queued in the last {health.window.since} "
            "and none reached usage_logs",
            "the consumer reads the messages but cannot write them (Xano refuses: key, schema or endpoint)",
            f"mcpdeploy logs{env} --errors"))
    if (queue.dead_lettered or 0) + (queue.failed or 0) > 0:
        lost = (queue.dead_lettered or 0) + (queue.failed or 0)
        where = f"moved to {queue.consumer.dead_letter_queue}" if queue.consumer and \
            queue.consumer.dead_letter_queue and queue.dead_lettered else "dropped after their last retry"
        out.append(Finding("usage_lost", "warning", f"{lost:,} usage events {where}",
                           "the consumer failed on them max_retries times", f"mcpdeploy logs{env} --errors"))
    if _growing(queue.backlog_series):
        out.append(Finding("backlog_growing", "warning", f"queue backlog growing: {queue.backlog or 0:,} waiting",
                           "messages arrive faster than the consumer acknowledges them",
                           f"mcpdeploy logs{env} --errors"))
    rate = worker.error_rate
    if rate is not None and rate >= WORKER_ERROR_WARN:
        out.append(Finding("worker_errors", "warning", f"error rate {rate:.0%} ({worker.errors:,} of "
                           f"{worker.requests:,} requests)", "the Worker throws or exceeds its limits",
                           f"mcpdeploy logs{env} --errors"))
    usage_rate = usage.error_rate
    if usage_rate is not None and usage_rate >= USAGE_ERROR_WARN:
        out.append(Finding("tool_errors", "warning", f"tool error rate {usage_rate:.0%} ({usage.errors:,} of "
                           f"{usage.rows_read:,} calls)", "tools fail (see usage_logs.error)",
                           f"mcpdeploy logs{env} --errors"))
    for source in health.sources:
        if source.state == "partial" and source.message:
            out.append(Finding(f"{source.name}_partial", "info", source.message, source.hint or "",
                               f"mcpdeploy status{env}"))
    return out


def _waiting(backlog: int | None) -> str:
    return f"; {backlog:,} messages waiting" if backlog else ""


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _growing(series: list[float]) -> bool:
    """The backlog rose in each of the last three intervals and is now past a handful of messages."""
    tail = series[-4:]
    return len(tail) == 4 and tail[-1] >= BACKLOG_GROWING_MIN and all(b > a for a, b in itertools.pairwise(tail))
