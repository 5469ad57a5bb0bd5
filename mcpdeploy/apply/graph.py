"""What must happen before what, from the changes alone: the one place the order of a plan's changes is decided.

A table's fields and indexes come after the table; an endpoint after its API group and every table change (its
XanoScript may name the tables); Cloudflare's queue and consumer stand beside Xano; the Worker's secrets come after
Xano (they carry the group's URL) and the queue; local files come last (they point at everything remote). The
benchmark computes the critical path from this graph; apply follows it in waves (`apply_plan` runs Cloudflare
beside Xano, `XanoExecutor` each table's changes beside the group, then the endpoints), so a new dependency
belongs both here and there.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcpdeploy.plan.models import Change

FIELD_KINDS = frozenset({"add_field", "update_field", "change_field_type", "remove_field"})
ENDPOINT_KINDS = frozenset({"create_endpoint", "update_endpoint", "remove_endpoint"})
TABLE_KINDS = frozenset({"create_table", "add_index"}) | FIELD_KINDS

# Calls one change makes when nothing goes wrong: a table's field changes share one fresh schema read and one PUT.
CALLS = {"update_field": 2, "add_field": 2, "change_field_type": 2, "remove_field": 2}


def prerequisites(changes: Sequence[Change]) -> list[set[int]]:
    """For each change (by position), the positions of the changes that must be done before it."""
    before: list[set[int]] = [set() for _ in changes]
    for i, change in enumerate(changes):
        for j, other in enumerate(changes):
            if i != j and _after(change, other):
                before[i].add(j)
    return before


def _after(change: Change, other: Change) -> bool:
    """Whether `change` must wait for `other`."""
    if change.provider == "file":
        return other.provider != "file"
    if change.provider == "secrets":
        return other.provider in ("xano", "cloudflare")
    if change.provider == "cloudflare":
        return other.provider == "cloudflare" and other.kind == "create_queue" and change.kind != "create_queue"
    if change.provider != "xano" or other.provider != "xano":
        return False
    table = change.params.get("table")
    if change.kind in FIELD_KINDS or change.kind == "add_index":
        if other.kind == "create_table" and other.params.get("table") == table:
            return True
        # One schema PUT per table: its indexes wait for it, so an index never names a column not there yet.
        return change.kind == "add_index" and other.kind in FIELD_KINDS and other.params.get("table") == table
    if change.kind in ENDPOINT_KINDS:
        return other.kind == "create_api_group" or other.kind in TABLE_KINDS
    return False


def critical_path_calls(changes: Sequence[Change]) -> int:
    """Calls on the longest chain of changes that must follow one another (a table's field changes count once)."""
    before = prerequisites(changes)
    depth: dict[int, int] = {}
    seen_batches: set[object] = set()

    def weight(i: int) -> int:
        change = changes[i]
        if change.kind in FIELD_KINDS:
            key = change.params.get("table")
            if key in seen_batches:
                return 0
            seen_batches.add(key)
        return CALLS.get(change.kind, 0 if change.provider == "file" else 1)

    weights = [weight(i) for i in range(len(changes))]

    def longest(i: int) -> int:
        if i not in depth:
            depth[i] = weights[i] + max((longest(j) for j in before[i]), default=0)
        return depth[i]

    return max((longest(i) for i in range(len(changes))), default=0)
