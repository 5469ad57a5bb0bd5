"""`history` and `history show`: the runs recorded in an environment's journal."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument, Part

OUTCOME = ('"succeeded", "failed", "partial", "interrupted", "no_changes", "inconsistent", or "unfinished" (the '
           "process was killed, or is still running).")


class Run(Part):
    run_id: str
    time: str = Field(description="When the run started (UTC, ISO 8601).")
    who: str
    command: str = Field(description='e.g. "provision", "rollback", "deploy", "auth disable".')
    plan_digest: str | None
    outcome: str = Field(description=OUTCOME)
    changed: int = Field(description="Changes applied.")
    failed: int = Field(description="Changes attempted that failed.")
    seconds: float | None


class ChangeRecord(Part):
    time: str
    resource: str
    kind: str
    action: str
    outcome: str = Field(description='"done" or "failed".')
    ids: dict[str, Any]
    before: dict[str, Any] | None = Field(description="What undoing the change needs; null when it created the "
                                                      "resource.")
    error: str | None


class RunDetail(Run):
    argv: list[str]
    target: dict[str, Any]
    counts: dict[str, int]
    error: str | None
    changes: list[ChangeRecord] = Field(description="In the order they were applied.")


class HistoryDocument(CommandDocument):
    """`mcpdeploy history --json`: the runs of an environment, newest first (at most --limit)."""

    command: Literal["history"]
    environment: str | None = Field(description="null for the default environment.")
    journal: str = Field(description="The journal file, or where a shared backend keeps it.")
    runs: list[Run]
    total: int = Field(description="Runs recorded, shown or not.")
    skipped_lines: list[str] = Field(description="Journal lines that could not be read, as path:LINE: reason.")


class HistoryShowDocument(CommandDocument):
    """`mcpdeploy history show RUN_ID --json`: one run and each change it applied."""

    command: Literal["history show"]
    environment: str | None
    journal: str
    run: RunDetail
