"""What the sandbox saw, kept for its analytics answers: one record per Worker invocation (its `/mcp`), one per
queue message operation, a backlog sample after every change of a queue's backlog, and the Worker's tail events.

State section "analytics" (persisted with the rest, so `status --sandbox` in a later command sees what an
earlier `smoke-test --sandbox` did):

    {"invocations": [{"t": ms, "script", "status", "errors": 0|1, "cpu_us", "wall_us", "subrequests"}],
     "queue_operations": [{"t": ms, "queue_id", "action", "consumer", "outcome", "bytes", "lag_ms", "retries"}],
     "backlog_samples": [{"t": ms, "queue_id", "messages", "bytes"}],
     "tail": [a `wrangler tail --format json` event]}

Each list keeps its newest entries only (the caps below), as Cloudflare's own retention is bounded.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpdeploy.sandbox.messages import SandboxHost

SECTION = "analytics"
CAPS = {"invocations": 50_000, "queue_operations": 50_000, "backlog_samples": 20_000, "tail": 2_000}


def now_ms() -> int:
    return int(time.time() * 1000)


def analytics(sandbox: SandboxHost) -> dict[str, Any]:
    section = sandbox.section(SECTION, lambda: {name: [] for name in CAPS})
    for name in CAPS:
        section.setdefault(name, [])
    return section


def append(sandbox: SandboxHost, kind: str, record: dict[str, Any]) -> None:
    with sandbox.lock:
        records: list[dict[str, Any]] = analytics(sandbox)[kind]
        records.append(record)
        if len(records) > CAPS[kind]:
            del records[: len(records) - CAPS[kind]]
