"""Cloudflare: the usage queue, and its consumer once the Worker exists (before that, `wrangler deploy` creates
the consumer itself from wrangler.toml, and fails if the queue is missing: which is why the queue comes first)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from mcpdeploy.plan.models import Change
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.cloudflare_models import Queue
from mcpdeploy.providers.parallel import run_all

PROVIDER = "cloudflare"


@dataclass
class CloudflareState:
    queue: Queue | None
    worker_exists: bool
    notes: list[str] = field(default_factory=list)


def read_cloudflare_state(client: CloudflareClient, settings: Settings, workers: int = 1) -> CloudflareState:
    """The token check, the queue and the Worker, read `workers` at a time (none of them needs another's answer;
    a bad token fails all three, and the token check, first in order, is the failure raised)."""
    worker = settings.cloudflare.worker_name

    def worker_exists() -> bool:
        return bool(worker) and client.script_exists(str(worker))

    calls: list[Callable[[], object]] = [client.verify_token, lambda: client.find_queue(settings.cloudflare.queue),
                                         worker_exists]
    _, queue, exists = run_all(calls, workers)
    return CloudflareState(queue=cast("Queue | None", queue), worker_exists=bool(exists))


def diff_cloudflare(
    client: CloudflareClient, settings: Settings, state: CloudflareState
) -> tuple[list[Change], list[str]]:
    cf = settings.cloudflare
    changes: list[Change] = []
    notes: list[str] = []
    if state.queue is None:
        changes.append(Change(provider=PROVIDER, kind="create_queue", action="create", resource=f"queue {cf.queue}",
                              reason="not in the account", params={"queue": cf.queue}))
    if not state.worker_exists:
        notes.append(f"Worker {cf.worker_name or '(no worker_name set)'} is not deployed yet: `wrangler deploy` "
                     "creates the queue consumer from wrangler.toml; run provision again afterwards for the secrets.")
        return changes, notes
    wait_ms = cf.max_batch_timeout * 1000
    params = {"queue": cf.queue, "script": cf.worker_name, "batch_size": cf.max_batch_size, "max_wait_time_ms": wait_ms}
    consumers = client.list_consumers(state.queue.queue_id) if state.queue is not None else []
    mine = next((c for c in consumers if c.type == "worker" and c.worker == cf.worker_name), None)
    if mine is None:
        holder = next((c.worker for c in consumers if c.type == "worker"), None)
        reason = f"queue is consumed by {holder!r}: this will fail (code 11004)" if holder else "missing"
        changes.append(Change(provider=PROVIDER, kind="create_consumer", action="create",
                              resource=f"consumer {cf.worker_name} of queue {cf.queue}", reason=reason, params=params))
    elif not mine.has_settings(cf.max_batch_size, wait_ms):
        changes.append(Change(
            provider=PROVIDER, kind="update_consumer", action="update",
            resource=f"consumer {cf.worker_name} of queue {cf.queue}",
            reason=f"settings differ (batch {mine.settings.batch_size} -> {cf.max_batch_size}, "
                   f"wait {mine.settings.max_wait_time_ms} -> {wait_ms} ms)",
            params=params,
        ))
    return changes, notes
