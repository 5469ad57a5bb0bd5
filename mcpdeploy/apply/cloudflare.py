"""Carry out Cloudflare changes: the queue first, then its consumer (which needs the queue's id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcpdeploy.apply import AppliedChange, Progress
from mcpdeploy.errors import McpdeployError
from mcpdeploy.plan.models import Change
from mcpdeploy.providers.cloudflare import CloudflareClient

KIND_ORDER = ("create_queue", "create_consumer", "update_consumer")


class CloudflareExecutor:
    def __init__(self, client: CloudflareClient) -> None:
        self.client = client

    def execute(self, changes: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None:
        for change in sorted(changes, key=lambda c: KIND_ORDER.index(c.kind)):
            p = change.params
            try:
                queue, created = self.client.ensure_queue(p["queue"])
                outputs["queue_id"] = queue.queue_id
                ids: dict[str, Any] = {"queue_id": queue.queue_id}
                if change.kind == "create_queue":
                    ids["created"] = created
                else:
                    consumer, _changed = self.client.ensure_consumer(
                        queue.queue_id, p["script"], int(p["batch_size"]), int(p["max_wait_time_ms"])
                    )
                    ids["consumer_id"] = consumer.consumer_id
            except McpdeployError as exc:
                record(AppliedChange(change, "failed", error=exc.message))
                raise
            record(AppliedChange(change, "done", ids))
