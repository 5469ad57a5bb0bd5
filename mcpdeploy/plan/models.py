"""A plan: the typed changes that take what exists to what the schemas and settings declare. Pure data.

Each change says what it touches (`resource`), what it does (`action`), why (`reason`), how risky it is
(`risk`), and carries what `apply` needs (`params`). No change ever holds a secret value.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["create", "update", "delete"]
Risk = Literal["safe", "destructive", "data_loss"]

class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str  # "xano", "cloudflare", "file", "secrets"
    kind: str
    action: Action
    resource: str
    reason: str
    risk: Risk = "safe"
    details: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def destructive(self) -> bool:
        return self.risk != "safe"

    @property
    def subject(self) -> str:
        """The object a change writes to: a table for its fields and indexes too, otherwise the resource."""
        table = self.params.get("table")
        if self.provider == "xano" and isinstance(table, str) and self.kind in TABLE_KINDS:
            return f"table {table}"
        return self.resource


# Xano changes that write into one table: reading the table back checks them all.
TABLE_KINDS = frozenset({"create_table", "add_field", "update_field", "change_field_type", "remove_field",
                         "add_index"})


class Plan(BaseModel):
    changes: tuple[Change, ...] = ()
    # What was read to build the plan, for the report's context.
    target: dict[str, Any] = Field(default_factory=dict)
    # Parts that were skipped or deferred, and why (e.g. "Cloudflare not configured").
    notes: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def destructive_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "destructive": 0}
        for change in self.changes:
            counts[change.action] += 1
            counts["destructive"] += int(change.destructive)
        return counts

    def digest(self) -> str:
        """A stable hash of the changes, recorded in the journal and shown to people confirming."""
        canonical = json.dumps([c.model_dump(mode="json") for c in self.changes], sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "changes": [
                {k: v for k, v in c.model_dump(mode="json").items() if k != "params"}
                | {"destructive": c.destructive}
                for c in self.changes
            ],
            "notes": list(self.notes),
            "summary": self.summary(),
            "digest": self.digest(),
        }
