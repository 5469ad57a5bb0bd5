"""Run a plan: hand each provider's changes to its executor, in dependency order, and record what happened.

Every step is idempotent on its own (it re-reads before it writes where that matters), so a run that stops
halfway, on a 429 or a dropped connection, converges when it is run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcpdeploy.errors import McpdeployError
from mcpdeploy.plan.models import Change, Plan

# Remote resources first (the files point at them), local files last.
PROVIDER_ORDER = ("xano", "cloudflare", "secrets", "file")


@dataclass
class AppliedChange:
    change: Change
    outcome: str  # "done" or "failed"
    ids: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.change.resource, "kind": self.change.kind,
                               "action": self.change.action, "outcome": self.outcome, "ids": self.ids}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class ApplyResult:
    applied: list[AppliedChange] = field(default_factory=list)
    error: McpdeployError | None = None
    outputs: dict[str, Any] = field(default_factory=dict)  # e.g. the API group's canonical and URL

    @property
    def ok(self) -> bool:
        return self.error is None


Progress = Callable[[AppliedChange], None]


class ChangeExecutor(Protocol):
    def execute(self, changes: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None: ...


def apply_plan(
    plan: Plan,
    executors: dict[str, ChangeExecutor],
    progress: Progress | None = None,
    outputs: dict[str, Any] | None = None,
) -> ApplyResult:
    """`outputs` starts with what planning learned (e.g. an existing API group's URL); executors add to it."""
    result = ApplyResult(outputs=dict(outputs or {}))

    def record(done: AppliedChange) -> None:
        result.applied.append(done)
        if progress is not None:
            progress(done)

    for provider in sorted({c.provider for c in plan.changes}, key=_provider_rank):
        changes = [c for c in plan.changes if c.provider == provider]
        executor = executors.get(provider)
        if executor is None:
            raise McpdeployError(f"no executor for {provider} changes")
        try:
            executor.execute(changes, record, result.outputs)
        except McpdeployError as exc:
            result.error = exc
            return result
    return result


def _provider_rank(provider: str) -> int:
    return PROVIDER_ORDER.index(provider) if provider in PROVIDER_ORDER else len(PROVIDER_ORDER)
