"""`provision` as a plain function: under the environment's lock, plan, guard, confirm, apply, and journal the run.

The lock is taken before planning, so the plan cannot go stale under a concurrent run. Every run is journaled
(a no-op one too, as `no_changes`: CI audits want to see it ran), each applied change with what undoing it needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpdeploy.apply import AppliedChange, ApplyResult
from mcpdeploy.errors import DestructiveChangeBlocked, InconsistentResult
from mcpdeploy.plan.models import Change, Plan
from mcpdeploy.plan.saved import check_still_current
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.pipeline import open_pipeline
from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock

# Keys of Change.params that hold what the resource was before the change (see plan/xano.py).
BEFORE_KEYS = ("before", "before_document", "field", "table", "group", "name", "queue", "script")


@dataclass
class ProvisionOutcome:
    plan: Plan
    result: ApplyResult | None  # None: nothing to apply
    outputs: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None


def undo_facts(change: Change) -> dict[str, Any]:
    """What `rollback --run` needs besides the ids: the previous field or document, and names."""
    return {k: change.params[k] for k in BEFORE_KEYS if k in change.params}


def inconsistency(still_planned: list[Change]) -> InconsistentResult | None:
    if not still_planned:
        return None
    lines = []
    for change in still_planned:
        lines.append(f"{change.resource}: {change.reason}")
        lines += [f"    {detail}" for detail in change.details]
    services = sorted({change.provider for change in still_planned})
    return InconsistentResult(
        f"after apply, {' and '.join(services)} holds something other than what was sent "
        f"({len(still_planned)} object(s)):\n  " + "\n  ".join(lines),
        hint=("Every write was accepted; reading the objects back shows the service stores them differently. That "
              "is the service's behaviour, not a mistake in your schemas: running provision again would send the "
              "same change every time. Check the object in the service's dashboard and report the difference "
              "above to mcpdeploy's maintainers."),
    )


def run_provision(
    settings: Settings,
    http: HttpOptions,
    *,
    allow_destructive: bool,
    argv: list[str],
    show_plan: Callable[[Plan], None],
    confirm: Callable[[], None],
    on_applied: Callable[[AppliedChange], None],
    on_warning: Callable[[str], None],
    expected: tuple[Path, str] | None = None,
    only: Collection[str] | None = None,
) -> ProvisionOutcome:
    """`expected` is a saved plan (its file and digest): the run stops, changing nothing, unless planning again
    gives the same changes. `only`: plan and apply just these providers (`provision --deploy` holds the secrets
    back until the Worker is deployed)."""
    pipeline = open_pipeline(settings, http)  # local inputs checked before the lock and any request
    journal = Journal(pipeline.state, settings.env_name, redactor=http.redactor)
    with contextlib.closing(pipeline.state), \
            Lock(pipeline.state, settings.env_name, command="provision", on_takeover=on_warning) as lock:
        try:
            plan = pipeline.plan(only)
            show_plan(plan)
            if expected is not None:
                check_still_current(plan, *expected)
            if not plan.has_changes:
                with journal.start("provision", argv, plan.digest(), plan.target) as run:
                    pass
                return ProvisionOutcome(plan, None, dict(pipeline.outputs), run.run_id)
            blocked = plan.destructive_changes
            if blocked and not allow_destructive:
                raise DestructiveChangeBlocked(
                    f"the plan holds {len(blocked)} destructive change(s): " + "; ".join(c.resource for c in blocked),
                    hint="Nothing was changed. Review the plan, then run again with --allow-destructive.",
                )
            confirm()
            with journal.start("provision", argv, plan.digest(), plan.target) as run:

                def progress(done: AppliedChange) -> None:
                    on_applied(done)
                    run.change(done.to_json(), before=undo_facts(done.change))
                    lock.renew()

                result = pipeline.apply(plan, progress=progress)
                if result.error is None:
                    result.error = inconsistency(pipeline.verify(result))
                    if result.error is not None:
                        run.finish("inconsistent", error=result.error.message, http_requests=http.counts["requests"])
                if result.error is not None and run.finished_outcome is None:
                    run.finish(run.settled_outcome(), error=result.error.message,
                               http_requests=http.counts["requests"])
            return ProvisionOutcome(plan, result, dict(result.outputs), run.run_id)
        finally:
            pipeline.close()
