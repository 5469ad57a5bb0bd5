"""Run a plan: hand each provider's changes to its executor, in dependency order, and record what happened.

Every step is idempotent on its own (it re-reads before it writes where that matters), so a run that stops
halfway, on a 429 or a dropped connection, converges when it is run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from mcpdeploy.errors import McpdeployError
from mcpdeploy.plan.models import Change, Plan
from mcpdeploy.providers.parallel import run_all

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
    workers: int = 1,
) -> ApplyResult:
    """`outputs` starts with what planning learned (e.g. an existing API group's URL); executors add to it.
    `workers` above 1 lets independent providers' changes run at once."""
    result = ApplyResult(outputs=dict(outputs or {}))

    def record(done: AppliedChange) -> None:
        result.applied.append(done)
        if progress is not None:
            progress(done)

    providers = sorted({c.provider for c in plan.changes}, key=_provider_rank)
    for provider in providers:
        if provider not in executors:
            raise McpdeployError(f"no executor for {provider} changes")
    if workers > 1 and "xano" in providers and "cloudflare" in providers:
        # Neither needs the other: Cloudflare's changes run beside Xano's and are recorded after them, as a
        # serial run records them.
        later: list[AppliedChange] = []

        def run(provider: str, into: Progress) -> McpdeployError | None:
            try:
                executors[provider].execute([c for c in plan.changes if c.provider == provider], into,
                                            result.outputs)
            except McpdeployError as exc:
                return exc
            return None

        failures = run_all([partial(run, "xano", record), partial(run, "cloudflare", later.append)], 2)
        for done in later:
            record(done)
        result.error = next((failure for failure in failures if failure is not None), None)
        if result.error is not None:
            return result
        providers = [p for p in providers if p not in ("xano", "cloudflare")]
    for provider in providers:
        changes = [c for c in plan.changes if c.provider == provider]
        try:
            executors[provider].execute(changes, record, result.outputs)
        except McpdeployError as exc:
            result.error = exc
            return result
    return result


def _provider_rank(provider: str) -> int:
    return PROVIDER_ORDER.index(provider) if provider in PROVIDER_ORDER else len(PROVIDER_ORDER)
